"""Importing a member roster from CSV: a preview with each row's problem, invitations for the good rows."""

import html
import io
import re

import pytest
from sqlalchemy import func, select

from referral_hub.chapters import roster
from referral_hub.chapters.models import Invitation
from referral_hub.extensions import db
from tests.conftest import mail_to
from tests.factories import InvitationFactory

IMPORT = "/chapters/riverside/roster-import"

ROSTER = """Name,Email,Headline,Expertise
Uma Lee,uma@example.org,I sell widgets to hospitals,"widgets, hospitals"
Vic Moss,not-an-address,Plumber,pipes
Ann Again,ANN@example.org,Already here,
Wes Invited,wes@example.org,,
,,,
Uma Twice,Uma@Example.org,,
Xena Nomail,,Writer,words
Yan Long,yan@example.org,{long},
Zed Poe,zed@example.org,Poet,rhymes
""".format(long="h" * 121)


def invitations() -> list[str]:
    return sorted(db.session.scalars(select(Invitation.email)))


@pytest.fixture
def wes_invited(riverside):
    InvitationFactory(chapter=riverside.chapter, email="wes@example.org", invited_by=riverside.olga)


def test_each_row_gets_its_problem(riverside, wes_invited):
    preview = roster.preview(riverside.chapter, ROSTER.encode())
    problems = {row.line: " ".join(row.problems) for row in preview.rows}
    assert problems == {
        2: "",
        3: "“not-an-address” is not a valid email address.",
        4: "Already a member of Riverside.",
        5: "Already invited; that invitation is still open.",
        7: "The same address as line 2.",
        8: "No email address.",
        9: "The headline is longer than 120 characters.",
        10: "",
    }
    assert [row.email for row in preview.good] == ["uma@example.org", "zed@example.org"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The first line must name the columns"),
        (b"name,headline\nUma,Widgets\n", "The first line must name the columns"),
        (b"email\n\n", "The file has no rows"),
        ("email\numa@example.org\n".encode("utf-16"), "UTF-8"),
        (b"email\n" + b"a@example.org\n" * (roster.MAX_ROWS + 1), f"{roster.MAX_ROWS} rows at most"),
    ],
)
def test_a_file_that_is_not_a_roster_is_refused_with_a_reason(riverside, content, message):
    with pytest.raises(roster.RosterRefused, match=message):
        roster.preview(riverside.chapter, content)


def upload(browser, content: str, *, name="roster.csv"):
    return browser.post(IMPORT, {"roster": (io.BytesIO(content.encode()), name)})


def test_the_preview_shows_problems_and_invites_nobody_yet(browser, riverside, wes_invited):
    browser.login("olga@example.org")
    response = upload(browser, ROSTER)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2 of 8 rows can be invited" in page
    assert "“not-an-address” is not a valid email address." in page
    assert page.count('class="row-problem"') == 6
    assert invitations() == ["wes@example.org"]


def test_confirming_invites_the_good_rows_through_the_invitation_rule(browser, riverside, wes_invited):
    browser.login("olga@example.org")
    preview = upload(browser, ROSTER).get_data(as_text=True)
    rows = re.search(r'name="rows" type="hidden" value="([^"]*)"', preview)
    assert rows
    response = browser.post(f"{IMPORT}/confirm", {"rows": html.unescape(rows.group(1))}, form_page=IMPORT)
    assert (
        response.status_code == 302
        and response.headers["Location"] == "/chapters/riverside/organize/invitations"
    )
    assert invitations() == ["uma@example.org", "wes@example.org", "zed@example.org"]
    assert "/join/" in mail_to("uma@example.org")[0].body_text
    assert "Invited 2 people to Riverside." in browser.get(
        "/chapters/riverside/organize/invitations"
    ).get_data(as_text=True)


def test_confirming_checks_the_rows_again(browser, riverside):
    browser.login("olga@example.org")
    tampered = "name,email\nAnn,ann@example.org\nBad,not-an-address\nNew,new@example.org\n"
    browser.post(f"{IMPORT}/confirm", {"rows": tampered}, form_page=IMPORT)
    assert invitations() == ["new@example.org"]


def test_a_bad_upload_re_renders_with_its_message(browser, riverside):
    browser.login("olga@example.org")
    response = upload(browser, "name,headline\nUma,Widgets\n")
    assert response.status_code == 422
    assert "The first line must name the columns" in response.get_data(as_text=True)
    response = browser.post(IMPORT, {})
    assert response.status_code == 422 and "Choose a CSV file." in response.get_data(as_text=True)


def test_member_typed_text_in_the_roster_is_escaped(browser, riverside):
    browser.login("olga@example.org")
    page = upload(browser, "name,email\n<script>alert(1)</script>,s@example.org\n").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_only_organizers_import(browser, riverside):
    browser.login("ann@example.org")
    assert browser.get(IMPORT).status_code == 403
    response = browser.post(
        IMPORT, {"roster": (io.BytesIO(b"email\nx@example.org\n"), "r.csv")}, form_page="/profile"
    )
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


# The command line --------------------------------------------------------------------------------------


def test_the_import_command_invites_good_rows_with_a_progress_bar(app, riverside, wes_invited, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    result = app.test_cli_runner().invoke(
        args=["chapters", "import", str(path), "--chapter", "riverside", "--organizer", "olga@example.org"]
    )
    assert result.exit_code == 0, result.output
    assert "Inviting" in result.output
    assert "line 3: not-an-address: “not-an-address” is not a valid email address." in result.output
    assert "Invited 2 people to Riverside; 6 rows skipped." in result.output
    assert invitations() == ["uma@example.org", "wes@example.org", "zed@example.org"]


def test_the_import_command_dry_run_invites_nobody(app, riverside, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    result = app.test_cli_runner().invoke(
        args=[
            "chapters",
            "import",
            str(path),
            "--chapter",
            "riverside",
            "--organizer",
            "olga@example.org",
            "--dry-run",
        ]
    )
    assert result.exit_code == 0 and "3 rows would be invited, 5 have problems." in result.output
    assert invitations() == []


@pytest.mark.parametrize(
    ("organizer", "content", "message"),
    [
        (
            "ann@example.org",
            "email\nx@example.org\n",
            "ann@example.org does not organize a chapter with the slug 'riverside'",
        ),
        ("nobody@example.org", "email\nx@example.org\n", "does not organize"),
        ("olga@example.org", "name\nUma\n", "The first line must name the columns"),
    ],
)
def test_the_import_command_refuses_with_a_reason(app, riverside, tmp_path, organizer, content, message):
    path = tmp_path / "roster.csv"
    path.write_text(content)
    result = app.test_cli_runner().invoke(
        args=["chapters", "import", str(path), "--chapter", "riverside", "--organizer", organizer]
    )
    assert result.exit_code != 0 and message in result.output
    assert invitations() == []
