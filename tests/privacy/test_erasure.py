"""Deleting an account: the member is erased everywhere a name or address shows, the history others
share stays (the books balance, the organizer's totals hold), and the last organizer must hand over."""

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from referral_hub.accounts import photos, two_factor
from referral_hub.accounts import services as accounts
from referral_hub.accounts.models import (
    AccountLink,
    Member,
    MemberPhoto,
    MemberSession,
    RecoveryCode,
    TwoFactor,
)
from referral_hub.chapters.models import Membership, MembershipStatus
from referral_hub.extensions import db
from referral_hub.introductions import making
from referral_hub.introductions.models import Introduction, IntroState
from referral_hub.ledger.verify import verify
from referral_hub.mail.models import OutboxMessage
from referral_hub.needs.models import Need, NeedStatus
from referral_hub.privacy import erasure
from referral_hub.privacy.export import export
from referral_hub.relationships.models import IntroRequest, RequestState
from referral_hub.reports import counting
from referral_hub.reports.models import ApiToken
from tests.accounts.test_photos import picture
from tests.accounts.test_two_factor import code_now, turn_on
from tests.conftest import ON_POSTGRESQL, Browser
from tests.factories import PASSWORD, MemberFactory, MembershipFactory

from .conftest import ANN_EMAIL, ANN_NAME, ANN_PHONE, OLGA_TOKEN

REPORTS = ("summary", "members", "introductions", "needs", "ledger", "activity")


def api(client, report: str) -> dict:
    response = client.get(
        f"/api/v1/chapters/riverside/{report}", headers={"Authorization": f"Bearer {OLGA_TOKEN}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def delete_account(client, email=ANN_EMAIL, password=PASSWORD, confirm="yes"):
    browser = Browser(client)
    browser.login(email)
    return browser, browser.post("/settings/delete", {"password": password, "confirm": confirm})


def carries_ann(text: str) -> list[str]:
    return [value for value in (ANN_NAME, ANN_EMAIL, ANN_PHONE, "Zedwick") if value in text]


def test_deletion_erases_the_account_and_keeps_the_shared_history(app, client, world):
    summary_before = api(client, "summary")
    members_before = {row["member_id"]: row for row in api(client, "members")["items"]}
    newest_mail = db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))
    ann_id = world.ann.id

    _browser, response = delete_account(client)
    assert response.status_code == 200
    assert "Your account is deleted" in response.get_data(as_text=True)
    db.session.expire_all()

    ann = db.session.get(Member, ann_id)
    assert ann.is_erased and ann.display_name == erasure.FORMER_MEMBER
    assert (ann.email, ann.password_hash, ann.phone, ann.headline, ann.company, ann.bio) == ("",) * 6
    assert ann.email_key == f"erased:{ann_id}"
    assert db.session.scalars(select(AccountLink).where(AccountLink.member_id == ann_id)).all() == []
    memberships = db.session.scalars(select(Membership).where(Membership.member_id == ann_id))
    assert {m.status for m in memberships} == {MembershipStatus.LEFT}
    # The history stays; what waited on her is closed, telling nobody.
    assert db.session.get(Introduction, world.made.id).state is IntroState.COMPLETED
    assert db.session.get(Introduction, world.received.id).state is IntroState.COMPLETED
    assert db.session.get(Introduction, world.waiting.id).state is IntroState.CANCELLED
    assert {n.status for n in db.session.scalars(select(Need).where(Need.asker_id == ann_id))} == {
        NeedStatus.CLOSED
    }
    asks = db.session.scalars(select(IntroRequest).where(IntroRequest.asker_id == ann_id))
    assert {r.state for r in asks} == {RequestState.EXPIRED}
    assert all(t.is_revoked for t in db.session.scalars(select(ApiToken).where(ApiToken.member_id == ann_id)))
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.id > newest_mail)).all() == []

    # The books balance, and the organizer's totals hold: she no longer counts as a current member.
    report = verify()
    assert report.ok, [check.violations for check in report.checks]
    assert counting.differences(db.session.connection()) == [], "the kept figures saw every change"
    summary_after = api(client, "summary")
    for section in ("business_closed", "credits"):
        assert summary_after[section] == summary_before[section], section
    for figure in ("made", "completed", "declined", "expired", "acceptance_rate", "median_hours_to_complete"):
        assert summary_after["introductions"][figure] == summary_before["introductions"][figure], figure
    assert summary_after["introductions"]["pending"] == summary_before["introductions"]["pending"] - 1
    assert summary_after["needs"]["posted"] == summary_before["needs"]["posted"]
    assert summary_after["needs"]["open"] == summary_before["needs"]["open"] - 1
    assert summary_after["members"]["total"] == summary_before["members"]["total"] - 1
    members_after = {row["member_id"]: row for row in api(client, "members")["items"]}
    assert set(members_after) == set(members_before) - {ann_id}
    for member_id, row in members_after.items():
        assert {k: v for k, v in row.items() if k != "last_active_at"} == {
            k: v for k, v in members_before[member_id].items() if k != "last_active_at"
        }


def test_no_page_mail_export_or_api_answer_carries_the_deleted_members_name_or_address(app, client, world):
    made, received, waiting, need_id = (
        world.made.id,
        world.received.id,
        world.waiting.id,
        db.session.scalar(select(Need.id).where(Need.asker_id == world.ann.id)),
    )
    ann_id, bob_email, olga_email = world.ann.id, world.bob.email, world.olga.email
    delete_account(client)
    db.session.expire_all()  # the requests wrote through their own sessions
    newest_mail = db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0
    # Something for this week's digests to say: Bob and Olga each have an introduction waiting.
    making.introduce(
        world.dan,
        first_id=world.bob.id,
        second_id=world.olga.id,
        note="Olga runs the chapter breakfasts and Bob could bake for them every second Tuesday.",
    )

    seen = {}
    for email, paths in (
        (
            bob_email,
            [
                "/dashboard",
                "/chapters/riverside/",
                "/chapters/riverside/members",
                "/chapters/riverside/members?q=Annabel",
                f"/members/{ann_id}",
                f"/needs/{need_id}",
                "/chapters/riverside/?status=closed",
                "/introductions",
                f"/introductions/{made}",
                f"/introductions/{received}",
                "/ledger",
                "/intro-requests",
            ],
        ),
        (
            olga_email,
            [
                "/dashboard",
                "/chapters/riverside/organize",
                "/chapters/riverside/ledger",
                f"/introductions/{waiting}",
                "/intro-requests",
            ],
        ),
    ):
        reader = app.test_client()
        Browser(reader).login(email)
        for path in paths:
            response = reader.get(path)
            assert response.status_code in (200, 404), path
            seen[f"{email} {path}"] = response.get_data(as_text=True)
    for report in REPORTS:
        seen[f"api {report}"] = json.dumps(api(client, report))
    for member in (world.bob, world.cleo, world.dan, world.olga):
        seen[f"export of {member.display_name}"] = json.dumps(export(member))
    seen[f"export of {ANN_NAME}"] = json.dumps(export(db.session.get(Member, ann_id)))

    assert app.test_cli_runner().invoke(args=["digest", "send"]).exit_code == 0
    later = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id > newest_mail)).all()
    assert later, "the digest went out to the others"
    for message in later:
        seen[f"mail {message.template} to {message.to_address}"] = (
            message.to_address + message.subject + message.body_text + message.body_html
        )

    assert {where: carries_ann(text) for where, text in seen.items() if carries_ann(text)} == {}
    assert erasure.FORMER_MEMBER in seen[f"{bob_email} /introductions/{made}"]
    assert erasure.FORMER_MEMBER in seen[f"{olga_email} /chapters/riverside/ledger"]


def test_the_address_can_register_again_as_a_new_account_and_the_old_one_cannot_sign_in(client, world):
    ann_id = world.ann.id
    browser, _ = delete_account(client)
    assert browser.get("/profile").status_code == 302, "signed out"
    assert Browser(client).post("/login", {"email": ANN_EMAIL, "password": PASSWORD}).status_code == 401
    newcomer = accounts.register(display_name="Annabel again", email=ANN_EMAIL, password="a new passphrase")
    assert newcomer is not None and newcomer.id != ann_id
    assert accounts.find_by_email(ANN_EMAIL.upper()) == newcomer


def test_the_last_organizer_is_asked_to_hand_over_first_and_nothing_changes(client, world):
    for membership in db.session.scalars(select(Membership).where(Membership.member_id == world.ann.id)):
        membership.role = membership.role.MEMBER  # Olga is now the only organizer
    db.session.flush()
    _browser, response = delete_account(client, email="olga@example.org")
    assert response.status_code == 422
    assert "You are the last organizer of Riverside" in response.get_data(as_text=True)
    db.session.expire_all()
    olga = db.session.get(Member, world.olga.id)
    assert not olga.is_erased and olga.display_name == "Olga Organizer"
    assert all(
        m.status is MembershipStatus.ACTIVE
        for m in db.session.scalars(select(Membership).where(Membership.member_id == olga.id))
    )


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [("not my password", "yes", "Your current password is not correct."), (PASSWORD, "", "to confirm")],
)
def test_a_wrong_password_or_no_confirmation_deletes_nothing(client, world, password, confirm, message):
    _browser, response = delete_account(client, password=password, confirm=confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(Member, world.ann.id).is_erased


def test_an_erased_member_is_never_asked_again_for_their_password(world):
    """A second erasure of the same account finds nothing to check the password against."""
    erasure.erase(world.ann, password=PASSWORD)
    with pytest.raises(accounts.WrongPassword):
        erasure.erase(world.ann, password=PASSWORD)


def test_a_member_of_several_chapters_leaves_each(world):
    other = MembershipFactory(member=world.ann)
    erasure.erase(world.ann, password=PASSWORD)
    assert other.status is MembershipStatus.LEFT and other.ended_at is not None
    assert MemberFactory(email=ANN_EMAIL).email_key == ANN_EMAIL


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the append-only trigger exists on PostgreSQL only")
@pytest.mark.parametrize(
    ("erasing", "statement", "allowed"),
    [
        ("on", "UPDATE ledger_transactions SET memo = 'Introduced Former member'", True),
        ("off", "UPDATE ledger_transactions SET memo = 'Introduced Former member'", False),
        ("on", "UPDATE ledger_transactions SET memo = 'x', kind = 'grant'", False),
        ("on", "UPDATE ledger_entries SET amount = amount + 1", False),
        ("on", "DELETE FROM ledger_transactions", False),
    ],
)
def test_the_ledger_lets_an_erasure_change_memos_and_nothing_else(world, erasing, statement, allowed):
    db.session.execute(text(f"SELECT set_config('referral_hub.erasing', '{erasing}', true)"))
    if allowed:
        with db.session.begin_nested():
            db.session.execute(text(statement))
    else:
        with pytest.raises(DBAPIError, match="the ledger is append-only"), db.session.begin_nested():
            db.session.execute(text(statement))
    assert verify().ok


def test_deletion_removes_the_members_photo(world):
    photos.set_photo(world.ann, picture())
    assert db.session.scalars(select(MemberPhoto).where(MemberPhoto.member_id == world.ann.id)).all()

    erasure.erase(world.ann, password=PASSWORD)

    assert not world.ann.has_photo
    assert not db.session.scalars(select(MemberPhoto).where(MemberPhoto.member_id == world.ann.id)).all()


def test_with_two_factor_on_deletion_takes_a_current_code_and_forgets_the_secret(world):
    secret, _codes = turn_on(world.ann)
    with pytest.raises(two_factor.WrongCode):
        erasure.erase(world.ann, password=PASSWORD, code="", address="192.0.2.1")
    assert not world.ann.is_erased

    erasure.erase(world.ann, password=PASSWORD, code=code_now(secret), address="192.0.2.1")
    assert world.ann.is_erased
    assert db.session.get(TwoFactor, world.ann.id) is None
    assert not db.session.scalars(select(RecoveryCode).where(RecoveryCode.member_id == world.ann.id)).all()
    assert not db.session.scalars(select(MemberSession).where(MemberSession.member_id == world.ann.id)).all()
