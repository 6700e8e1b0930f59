"""The export: everything held about the member, compared field by field with what it was made from."""

import base64
import json

from sqlalchemy import select

from referral_hub.accounts import photos, sessions
from referral_hub.accounts.models import MemberPhoto
from referral_hub.extensions import db
from referral_hub.introductions.models import Outcome
from referral_hub.ledger.models import LedgerAccount, LedgerEntry
from referral_hub.needs.models import Need
from referral_hub.privacy.export import export
from referral_hub.relationships.models import Interaction, IntroRequest
from referral_hub.reports.models import ApiToken
from tests.accounts.test_photos import picture
from tests.accounts.test_two_factor import turn_on
from tests.conftest import Browser

from .conftest import ANN_EMAIL, OLGA_TOKEN


def stamp(moment) -> str | None:
    return None if moment is None else moment.isoformat()


def person(member) -> dict:
    return {"member_id": member.id, "display_name": member.display_name}


def test_the_export_holds_every_field_of_what_it_was_made_from(world):
    ann = world.ann
    document = json.loads(json.dumps(export(ann)))  # what the file holds: plain JSON

    assert document["profile"] == {
        "member_id": ann.id,
        "display_name": ann.display_name,
        "email": ann.email,
        "email_verified_at": stamp(ann.email_verified_at),
        "created_at": stamp(ann.created_at),
        "headline": ann.headline,
        "expertise": ann.expertise,
        "ideal_referral": ann.ideal_referral,
        "company": ann.company,
        "city": ann.city,
        "website": ann.website,
        "phone": ann.phone,
        "bio": ann.bio,
        "weekly_digest": True,
    }
    [membership] = document["memberships"]
    assert membership == {
        "chapter": "riverside",
        "chapter_name": "Riverside",
        "role": "organizer",
        "status": "active",
        "requested_at": membership["requested_at"],
        "joined_at": membership["joined_at"],
        "ended_at": None,
    }
    [need] = db.session.scalars(select(Need).where(Need.asker_id == ann.id)).all()
    assert document["needs"] == [
        {
            "need_id": need.id,
            "chapter": "riverside",
            "title": need.title,
            "details": need.details,
            "category": need.category,
            "status": "open",
            "created_at": stamp(need.created_at),
            "expires_at": stamp(need.expires_at),
            "closed_at": None,
        }
    ]

    made, received, waiting = (world.made, world.received, world.waiting)
    [business] = db.session.scalars(select(Outcome).where(Outcome.introduction_id == made.id)).all()

    def intro(record, part, answer, contact, outcomes=()):
        return {
            "introduction_id": record.id,
            "chapter": "riverside",
            "your_part": part,
            "state": record.state.value,
            "introducer": person(record.introducer),
            "first": person(record.first),
            "second": person(record.second),
            "note": record.note,
            "your_answer": answer,
            "other_party_contact": contact,
            "need_id": None,
            "created_at": stamp(record.created_at),
            "expires_at": stamp(record.expires_at),
            "completed_at": stamp(record.completed_at),
            "closed_at": stamp(record.closed_at),
            "outcomes": list(outcomes),
        }

    assert document["introductions"] == [
        intro(
            made,
            "introducer",
            None,
            None,
            [
                {
                    "kind": "business_closed",
                    "amount": 1200,
                    "reported_by": person(world.cleo),
                    "created_at": stamp(business.created_at),
                }
            ],
        ),
        # Completed: Bob's contact details are Annabel's to keep; pending: Cleo's are not shared.
        intro(received, "party", "accept", {"email": "bob@example.org", "phone": world.bob.phone}),
        intro(waiting, "party", None, None),
    ]

    entries = db.session.scalars(
        select(LedgerEntry)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.member_id == ann.id)
        .order_by(LedgerEntry.id)
    ).all()
    assert len(entries) == 4  # introduction credit, business bonus, grant, need's cost
    assert document["ledger_entries"] == [
        {
            "transaction_id": entry.transaction.id,
            "chapter": "riverside",
            "kind": entry.transaction.kind.value,
            "memo": entry.transaction.memo,
            "amount": entry.amount,
            "created_at": stamp(entry.transaction.created_at),
        }
        for entry in entries
    ]
    assert sum(row["amount"] for row in document["ledger_entries"]) == 3 + 2 + 5 - 2

    done = db.session.scalars(
        select(Interaction)
        .where((Interaction.pair_low_id == ann.id) | (Interaction.pair_high_id == ann.id))
        .order_by(Interaction.occurred_at, Interaction.id)
    ).all()
    people = {m.id: m for m in (world.bob, world.cleo, world.dan, world.olga)}
    expected = [
        {
            "kind": row.kind.value,
            "with_member": person(people[row.pair_high_id if row.pair_low_id == ann.id else row.pair_low_id]),
            "occurred_at": stamp(row.occurred_at),
            "weight": row.weight,
            "recorded_by_you": row.recorded_by_id == ann.id,
            "note": row.note if row.recorded_by_id == ann.id else None,
            "introduction_id": row.introduction_id,
        }
        for row in done
    ]
    assert document["interactions"] == expected
    assert any(row["note"] is None and not row["recorded_by_you"] for row in expected), "Dan's note is his"
    assert document["notes_sent"] == [
        {
            "to": person(world.bob),
            "kind": "thanks",
            "note": "Thank you for the flour, from Annabel Zedwick.",
            "at": row["occurred_at"],
        }
        for row in expected
        if row["kind"] == "thanks"
    ]

    [ask] = db.session.scalars(select(IntroRequest).where(IntroRequest.asker_id == ann.id)).all()
    assert document["connector_asks"] == [
        {
            "request_id": ask.id,
            "chapter": "riverside",
            "your_part": "asker",
            "asker": person(ann),
            "connector": person(world.olga),
            "target": person(world.dan),
            "note": ask.note,
            "cost": 0,
            "state": "open",
            "created_at": stamp(ask.created_at),
            "expires_at": stamp(ask.expires_at),
            "closed_at": None,
            "introduction_id": None,
        }
    ]
    [token] = db.session.scalars(select(ApiToken).where(ApiToken.member_id == ann.id)).all()
    assert document["api_tokens"] == [
        {
            "name": "Annabel's spreadsheet",
            "chapter": "riverside",
            "created_at": stamp(token.created_at),
            "last_used_at": None,
            "revoked_at": None,
        }
    ]
    assert token.token_hash not in json.dumps(document)
    assert document["photo"] is None and document["two_factor_on"] is False and document["sessions"] == []
    assert set(document) == {
        "format_version",
        "exported_at",
        "profile",
        "photo",
        "two_factor_on",
        "sessions",
        "memberships",
        "needs",
        "introductions",
        "ledger_entries",
        "interactions",
        "notes_sent",
        "connector_asks",
        "api_tokens",
    }


def test_the_page_shows_a_button_and_its_post_downloads_the_file(client, world):
    browser = Browser(client)
    browser.login(ANN_EMAIL)
    page = client.get("/settings/export")
    assert page.status_code == 200 and "Content-Disposition" not in page.headers
    response = browser.post("/settings/export", {})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.mimetype == "application/json"
    assert response.get_json()["profile"]["email"] == ANN_EMAIL
    assert OLGA_TOKEN not in response.get_data(as_text=True)


def test_a_post_without_the_form_token_downloads_nothing(client, world):
    Browser(client).login(ANN_EMAIL)
    response = client.post("/settings/export", data={})
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers


def test_the_export_holds_the_photo_the_two_factor_state_and_the_sessions(world):
    ann = world.ann
    photos.set_photo(ann, picture())
    turn_on(ann)
    signed_in = sessions.start(
        ann, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", address="192.0.2.7"
    )

    document = json.loads(json.dumps(export(ann)))

    largest = db.session.get(MemberPhoto, (ann.id, 320))
    assert (
        document["photo"]["data_url"] == "data:image/webp;base64," + base64.b64encode(largest.data).decode()
    )
    assert document["two_factor_on"] is True
    [session] = document["sessions"]
    assert session["user_agent"].endswith("Firefox/120.0") and session["address"] == "192.0.2.7"
    assert session["created_at"] == stamp(signed_in.created_at) and session["ended_at"] is None
    assert signed_in.id not in json.dumps(document)
