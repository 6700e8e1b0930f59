"""The weekly digest: what it holds, once per member per ISO week, opt-out and the unsubscribe link."""

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from referral_hub.accounts.models import Member
from referral_hub.extensions import db
from referral_hub.introductions import making
from referral_hub.mail.models import OutboxMessage
from referral_hub.mail.services import as_email
from referral_hub.relationships import digest
from referral_hub.relationships.models import DigestDelivery, InteractionKind
from tests.conftest import Browser, link_in, mail_to
from tests.factories import NeedFactory

from .conftest import NOW, days_after, interact

INTRO_NOTE = "Ann caters weddings and Bob runs three harbour restaurants: they should plan a tasting."


def digests_to(member) -> list[OutboxMessage]:
    return [m for m in mail_to(member.email) if m.template == "digest"]


@pytest.fixture
def ann(chapter, member_of):
    """Ann has something for each part of the digest."""
    ann = member_of("Ann", headline="Wedding catering", expertise="catering, weddings")
    bob, cleo, dan = member_of("Bob"), member_of("Cleo"), member_of("Dan")
    interact(ann, bob, InteractionKind.BUSINESS_CLOSED, at=days_after(-61))  # to refresh
    NeedFactory(chapter=chapter, asker=cleo, title="Catering for 80 wedding guests", details="In August.")
    NeedFactory(chapter=chapter, asker=cleo, title="A plumber", details="Leaking tap.")
    making.introduce(dan, first_id=ann.id, second_id=cleo.id, note=INTRO_NOTE)  # waiting for Ann
    return ann


def test_the_digest_holds_relationships_to_refresh_matching_needs_and_what_waits(ann):
    assert digest.send_digest(ann, now=NOW)
    [message] = digests_to(ann)
    body = message.body_text
    assert "Bob, last business closed on Apr 2, 2025" in body
    assert "Catering for 80 wedding guests" in body and "A plumber" not in body
    assert "Dan would like to introduce you to Cleo" in body
    assert "1 waiting for you" in message.subject
    assert link_in(message, "/digest/unsubscribe/")


def test_the_digest_goes_once_per_member_per_week_however_often_it_runs(app, ann):
    flask = app.test_cli_runner()
    for _ in range(2):
        result = flask.invoke(args=["digest", "send"])
        assert result.exit_code == 0, result.output
    assert "queued 0 digests" in result.output
    assert len(digests_to(ann)) == 1
    assert not digest.send_digest(ann), "the unique (member, week) row refuses a second one"
    assert len(digests_to(ann)) == 1


def test_a_new_iso_week_brings_a_new_digest(ann):
    sunday, monday = NOW + timedelta(days=6), NOW + timedelta(days=7)  # NOW is a Monday
    assert digest.iso_week(NOW) == digest.iso_week(sunday) == "2025-W23" != digest.iso_week(monday)
    assert digest.send_digest(ann, now=NOW)
    assert not digest.send_digest(ann, now=sunday)
    assert digest.send_digest(ann, now=monday)
    assert len(digests_to(ann)) == 2


def test_members_who_opted_out_or_have_nothing_to_hear_get_no_digest(ann, member_of):
    quiet = member_of("Quinn", headline="", expertise="", ideal_referral="")
    assert not digest.send_digest(quiet, now=NOW)
    assert digests_to(quiet) == []
    ann.weekly_digest = False
    assert not digest.send_digest(ann, now=NOW)
    assert ann.id not in digest.recipients(now=NOW)
    [week] = db.session.scalars(select(DigestDelivery)).all()
    assert (week.member_id, week.empty) == (quiet.id, True), "only the empty week is recorded"


def test_an_empty_week_is_decided_once_and_the_next_monday_brings_news(chapter, member_of):
    """The quarter-hourly job does not compute an empty digest again that week; news that comes later
    waits for the next Monday 08:00, as every digest does."""
    quiet = member_of("Quinn", headline="Wedding catering", expertise="catering, weddings")
    assert quiet.id in digest.recipients(now=NOW, due_only=True)
    assert not digest.send_digest(quiet, now=NOW)
    assert quiet.id not in digest.recipients(now=NOW + timedelta(minutes=15), due_only=True)

    NeedFactory(chapter=chapter, asker=member_of("Cleo"), title="Catering for 80 wedding guests")
    assert quiet.id not in digest.recipients(now=NOW + timedelta(days=2), due_only=True)
    assert digests_to(quiet) == []
    monday = NOW + timedelta(days=7)
    assert quiet.id in digest.recipients(now=monday, due_only=True)
    assert digest.send_digest(quiet, now=monday)
    [message] = digests_to(quiet)
    assert "Catering for 80 wedding guests" in message.body_text


def test_the_unsubscribe_link_needs_no_login_and_acts_only_on_post(client, ann):
    digest.send_digest(ann, now=NOW)
    path = link_in(digests_to(ann)[0], "/digest/unsubscribe/")
    page = client.get(path)
    assert page.status_code == 200 and "Unsubscribe from the weekly digest</button>" in page.get_data(
        as_text=True
    )
    assert client.head(path).status_code == 200
    assert db.session.get(Member, ann.id).weekly_digest is True
    response = Browser(client).post(path)
    assert response.status_code == 200 and "will not get the weekly digest" in response.get_data(as_text=True)
    db.session.refresh(ann)
    assert ann.weekly_digest is False


def test_the_digest_offers_one_click_unsubscribe_to_mail_clients(client, ann):
    """RFC 8058: List-Unsubscribe names the link, and a POST to it with no cookie or CSRF token acts."""
    digest.send_digest(ann, now=NOW)
    message = digests_to(ann)[0]
    path = link_in(message, "/digest/unsubscribe/")
    email = as_email(message)
    assert email["List-Unsubscribe"] == f"<{current_app.config['BASE_URL']}{path}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.refresh(ann)
    assert ann.weekly_digest is False


@pytest.mark.parametrize("token", ["nonsense", "MQ.forged-signature"])
def test_an_unknown_unsubscribe_link_gets_a_clear_page(client, token):
    response = client.get(f"/digest/unsubscribe/{token}")
    assert response.status_code == 404 and "do not recognise this link" in response.get_data(as_text=True)


def test_the_profile_turns_the_digest_off_and_on_and_a_form_without_it_changes_nothing(client, member_of):
    nina = member_of("Nina")
    browser = Browser(client)
    browser.login(nina.email)
    assert 'name="weekly_digest"' in browser.get("/profile").get_data(as_text=True)
    for posted, expected in [("False", False), (None, False), ("True", True)]:
        fields = {"display_name": "Nina", "headline": "Florist"}
        if posted is not None:
            fields["weekly_digest"] = posted
        assert browser.post("/profile", fields).status_code == 302
        db.session.refresh(nina)
        assert nina.weekly_digest is expected, (posted, expected)
