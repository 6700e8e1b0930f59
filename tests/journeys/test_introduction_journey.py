"""The heart of the product, end to end over real HTTP and real SMTP: give first, then ask."""

import re

from referral_hub.chapters import services as chapters
from referral_hub.cli.ledger import verify_command
from referral_hub.extensions import db
from referral_hub.mail.services import drain
from tests.factories import PASSWORD, MemberFactory, MembershipFactory

NOTE_1 = "Dana keeps the books for four cafés; Eli is opening his first café and keeps receipts in a shoebox."
NOTE_2 = "Olga needs a bookkeeper for her new florist shop and Dana is the most careful bookkeeper I know."


def deliver(live_app):
    with live_app.app.app_context():
        report = drain()
        assert report.retrying == 0 and report.dead == 0


def link_from(inbox, address, path):
    body = inbox.to(address)[-1].get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"\S+)", body)
    assert match, body
    return match.group(1)


def accept_from_email(live_app, inbox, address):
    """A party follows the link in their email, anonymously, and presses Accept."""
    party = live_app.client()
    link = link_from(inbox, address, "/i/")
    status, _, page = party.get(link)
    assert status == 200 and "Accept the introduction" in page
    status, _, page = party.submit(link, {"decision": "accept"})
    assert status == 200, page
    return page


def balance_on_ledger_page(client, slug) -> int:
    _, _, page = client.get("/ledger")
    return int(re.search(rf'data-chapter="{slug}" data-balance="(-?\d+)"', page).group(1))


def test_giving_first_then_asking(live_app, smtp_inbox):
    with live_app.app.app_context():
        organizer = MemberFactory(email="olga@example.org", display_name="Olga")
        db.session.flush()
        chapter = chapters.create_chapter("Harbour Forum", organizer_email=organizer.email)
        people = {
            name: MembershipFactory(
                chapter=chapter,
                member=MemberFactory(
                    email=f"{name.lower()}@example.org", display_name=name, headline=f"{name}'s trade"
                ),
            ).member
            for name in ("Dana", "Eli")
        }
        ids = {name: m.id for name, m in people.items()}
        slug, organizer_id = chapter.slug, organizer.id
        db.session.commit()

    olga = live_app.client()
    status, _, _ = olga.submit("/login", {"email": "olga@example.org", "password": PASSWORD})
    assert status == 200
    assert balance_on_ledger_page(olga, slug) == 0

    # Asking first is refused, with the way to earn credits.
    status, _, page = olga.submit(
        f"/chapters/{slug}/needs/new", {"title": "A bookkeeper", "details": "For my shop."}
    )
    assert status == 422 and "introduc" in page

    # Give first: introduce Dana and Eli.
    status, url, page = olga.submit(
        "/introductions/new", {"first_id": ids["Dana"], "second_id": ids["Eli"], "note": NOTE_1}
    )
    assert status == 200 and "/introductions/" in url, page
    deliver(live_app)
    assert "would like to introduce you" in smtp_inbox.to("dana@example.org")[-1]["Subject"]
    accept_from_email(live_app, smtp_inbox, "dana@example.org")
    page = accept_from_email(live_app, smtp_inbox, "eli@example.org")
    assert "You both accepted" in page
    deliver(live_app)
    contact = smtp_inbox.to("dana@example.org")[-1].get_body(preferencelist=("plain",)).get_content()
    assert "eli@example.org" in contact and NOTE_1 in contact
    reward = balance_on_ledger_page(olga, slug)
    assert reward == 3

    # Then ask: post a need, and Eli answers it by introducing Olga to Dana.
    status, url, page = olga.submit(
        f"/chapters/{slug}/needs/new", {"title": "A bookkeeper", "details": "My new florist shop needs one."}
    )
    assert status == 200 and "/needs/" in url, page
    need_id = int(url.rstrip("/").rsplit("/", 1)[1])
    assert balance_on_ledger_page(olga, slug) == reward - 2

    eli = live_app.client()
    assert eli.submit("/login", {"email": "eli@example.org", "password": PASSWORD})[0] == 200
    _, _, form_page = eli.get(f"/introductions/new?need={need_id}")
    assert f'<option selected value="{organizer_id}">' in form_page, "the asker is pre-filled"
    status, url, page = eli.submit(
        f"/introductions/new?need={need_id}",
        {"first_id": organizer_id, "second_id": ids["Dana"], "note": NOTE_2, "need_id": need_id},
    )
    assert status == 200 and "/introductions/" in url, page
    deliver(live_app)
    accept_from_email(live_app, smtp_inbox, "olga@example.org")
    accept_from_email(live_app, smtp_inbox, "dana@example.org")
    deliver(live_app)
    assert balance_on_ledger_page(eli, slug) == 3
    _, _, need_page = olga.get(f"/needs/{need_id}")
    assert "1 introduction made" in need_page

    with live_app.app.app_context():
        result = live_app.app.test_cli_runner().invoke(verify_command, [])
    assert result.exit_code == 0, result.output
