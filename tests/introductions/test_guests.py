"""Guest introductions: a member introduced to someone outside the chapter, by address."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referral_hub.chapters.policy import update_policy
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.introductions import answering, guests, making, outcomes, reminders
from referral_hub.introductions.errors import IntroRefused
from referral_hub.introductions.guests import GuestDetails
from referral_hub.introductions.models import (
    Consent,
    CreditNote,
    Decision,
    GuestSuppression,
    Introduction,
    IntroState,
    OutcomeKind,
)
from referral_hub.ledger import verify
from referral_hub.ledger.models import LedgerTransaction
from referral_hub.ledger.queries import balance
from referral_hub.mail.models import OutboxMessage
from referral_hub.mail.services import as_email
from referral_hub.reports.counting import differences
from referral_hub.reports.periods import Period
from referral_hub.reports.summary import summary
from referral_hub.tokens import LinkUnknown
from tests.conftest import Browser, mail_to
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory, NeedFactory

NOTE = "Carla needs someone who services industrial ovens, and Dan has kept mine running for ten years."
GUEST = GuestDetails(name="Dan Oven", email="Dan.Oven@Example.com", about="Industrial oven servicing")


@pytest.fixture
def chapter():
    return ChapterFactory()


@pytest.fixture
def pair(chapter):
    """The introducer and the member party."""
    return [MembershipFactory(chapter=chapter, member=MemberFactory()).member for _ in range(2)]


def introduce_guest(introducer, member, guest=GUEST, note=NOTE, **kwargs):
    return making.introduce(introducer, first_id=member.id, guest=guest, note=note, **kwargs)


def secret_in(message: OutboxMessage) -> str:
    return re.search(r"/i/([A-Za-z0-9_-]{20,})", message.body_text).group(1)


def guest_mail(template=None):
    return [m for m in mail_to(GUEST.email) if template is None or m.template == template]


def credits_paid(intro) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(LedgerTransaction)
        .where(LedgerTransaction.idempotency_key == f"intro:{intro.id}:completed")
    )


def summary_of(chapter) -> dict:
    return summary(chapter.id, Period.of(zone="UTC"))


def accept_both(intro, member):
    (member_request,) = [m for m in mail_to(member.email) if m.template == "intro_request"]
    answering.answer(answering.consent_for_link(secret_in(member_request)), Decision.ACCEPT)
    (guest_request,) = guest_mail("intro_request_guest")
    answering.answer(
        answering.consent_for_link(secret_in(guest_request)),
        Decision.ACCEPT,
        shared=answering.GuestShares(phone="+34 600 000 000", company="Oven Care SL"),
    )
    db.session.refresh(intro)


def test_the_guest_gets_the_note_the_member_and_a_personal_link_with_list_unsubscribe(pair):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    assert intro.second_id is None and intro.is_guest and intro.state is IntroState.PENDING
    (message,) = guest_mail()
    assert message.template == "intro_request_guest"
    assert NOTE in message.body_text
    assert member.display_name in message.body_text and member.headline in message.body_text
    assert introducer.display_name in message.body_text and intro.chapter.name in message.body_text
    assert member.email not in message.body_text, "contact details pass only after both accept"
    email = as_email(message)
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<http://localhost/i/never/\S+>", email["List-Unsubscribe"])
    (member_request,) = mail_to(member.email)
    assert GUEST.name in member_request.body_text and GUEST.about in member_request.body_text
    assert GUEST.email not in member_request.body_text, "only the introducer sees the address before"


def test_a_guest_introduction_answers_a_need(pair, chapter):
    introducer, member = pair
    need = NeedFactory(chapter=chapter, asker=member)
    intro = introduce_guest(introducer, member, need_id=need.id)
    assert intro.need_id == need.id and intro.chapter_id == chapter.id


def test_both_accept_one_contact_email_each_and_no_credit_until_the_member_reports_met(pair):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    accept_both(intro, member)
    assert intro.state is IntroState.COMPLETED
    assert intro.credit_note is CreditNote.AWAITING_OUTCOME
    assert credits_paid(intro) == 0 and balance(intro.chapter, introducer) == 0
    (member_contact,) = [m for m in mail_to(member.email) if m.template == "intro_completed"]
    assert GUEST.email in member_contact.body_text and "Oven Care SL" in member_contact.body_text
    (guest_contact,) = guest_mail("intro_completed_guest")
    assert member.email in guest_contact.body_text and NOTE in guest_contact.body_text
    assert "/register" in guest_contact.body_text, "the guest is told how to join"
    assert as_email(guest_contact)["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    outcomes.report_outcome(intro, member, OutcomeKind.MET)
    assert intro.credit_note is CreditNote.CREDITED
    assert credits_paid(intro) == 1 and balance(intro.chapter, introducer) == 2
    # Moving forward to business pays the bonus once, never the guest credit again.
    outcomes.report_outcome(intro, member, OutcomeKind.BUSINESS_CLOSED, 900)
    assert credits_paid(intro) == 1 and balance(intro.chapter, introducer) == 4
    assert verify.verify(intro.chapter).ok
    assert differences(db.session.connection()) == []
    counted = summary_of(intro.chapter)["introductions"]
    assert (counted["made"], counted["guest_made"], counted["guest_completed"]) == (1, 1, 1)


def test_not_a_fit_pays_nothing(pair):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    accept_both(intro, member)
    outcomes.report_outcome(intro, member, OutcomeKind.NOT_A_FIT)
    assert credits_paid(intro) == 0 and intro.credit_note is CreditNote.AWAITING_OUTCOME


def test_a_guest_decline_is_silent_to_the_member(pair):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    (guest_request,) = guest_mail()
    answering.answer(answering.consent_for_link(secret_in(guest_request)), Decision.DECLINE)
    assert intro.state is IntroState.DECLINED
    told = [m for m in mail_to(member.email) if m.template == "intro_not_ahead"]
    assert len(told) == 1 and GUEST.name not in told[0].body_text.split("\n", 2)[2]
    assert "declin" not in told[0].body_text.lower()
    assert guest_mail("intro_not_ahead") == []


def test_a_member_decline_sends_the_guest_nothing(pair):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    (member_request,) = mail_to(member.email)
    answering.answer(answering.consent_for_link(secret_in(member_request)), Decision.DECLINE)
    assert intro.state is IntroState.DECLINED
    assert len(guest_mail()) == 1


def test_a_suppressed_address_is_refused_and_kept_only_as_a_hash(pair):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    answering.never_send(intro)
    assert intro.state is IntroState.DECLINED, "the waiting introduction is declined quietly"
    (key,) = db.session.scalars(select(GuestSuppression.key)).all()
    assert GUEST.email.lower() not in key and len(key) == 64
    sent = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    shouted = GuestDetails(name="Dan", email="  DAN.OVEN@example.COM ")
    with pytest.raises(IntroRefused, match="does not accept introductions through Referral Hub"):
        introduce_guest(introducer, member, guest=shouted, note=NOTE + " Again.")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == sent


@pytest.mark.parametrize(
    ("guest", "message"),
    [
        (GuestDetails(name="", email="x@example.com"), "guest's name"),
        (GuestDetails(name="X", email="not an address"), "valid email address"),
        (GuestDetails(name="X", email="x@example.com", about="y" * 201), "too long"),
    ],
)
def test_bad_guest_details_are_refused(pair, guest, message):
    introducer, member = pair
    with pytest.raises(IntroRefused, match=message):
        introduce_guest(introducer, member, guest=guest)
    assert db.session.scalar(select(func.count()).select_from(Introduction)) == 0


def test_the_guest_cannot_be_the_introducer_or_the_member(pair):
    introducer, member = pair
    for address in (introducer.email, member.email.upper()):
        with pytest.raises(IntroRefused, match="someone else's"):
            introduce_guest(introducer, member, guest=GuestDetails(name="Me", email=address))


def test_the_daily_guest_limit(pair, chapter):
    introducer, member = pair
    update_policy(chapter, changed_by=introducer, settings={"daily_guest_intros": 2})
    for n in range(2):
        introduce_guest(
            introducer,
            member,
            guest=GuestDetails(name=f"G{n}", email=f"g{n}@example.com"),
            note=f"{NOTE} {n}",
        )
    with pytest.raises(IntroRefused, match="limit of 2 introductions to guests"):
        introduce_guest(introducer, member, guest=GuestDetails(name="G", email="g@example.com"), note=NOTE)


def test_repeat_pair_for_one_guest_address_earns_once(pair):
    introducer, member = pair
    first = introduce_guest(introducer, member)
    accept_both(first, member)
    outcomes.report_outcome(first, member, OutcomeKind.MET)
    again = GuestDetails(name="Dan O.", email="dan.oven@example.com")
    second = introduce_guest(introducer, member, guest=again, note=NOTE + " Once more, for the new site.")
    (request,) = [m for m in mail_to(member.email) if m.template == "intro_request"][1:]
    answering.answer(answering.consent_for_link(secret_in(request)), Decision.ACCEPT)
    (guest_request,) = mail_to(again.email)
    answering.answer(answering.consent_for_link(secret_in(guest_request)), Decision.ACCEPT)
    outcomes.report_outcome(second, member, OutcomeKind.MET)
    assert second.credit_note is CreditNote.REPEAT_PAIR
    assert credits_paid(second) == 0 and balance(second.chapter, introducer) == 2


def test_one_pending_introduction_per_member_and_guest(pair):
    introducer, member = pair
    introduce_guest(introducer, member)
    with pytest.raises(IntroRefused, match="already have an introduction waiting"):
        introduce_guest(introducer, member, note=NOTE + " Really.")


def test_retention_erases_the_guest_and_keeps_counts_and_ledger(pair, chapter):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    accept_both(intro, member)
    outcomes.report_outcome(intro, member, OutcomeKind.MET)
    db.session.flush()
    summary_before = summary_of(chapter)
    assert guests.erase_expired_guests(utcnow() + timedelta(days=364)) == 0
    assert guests.erase_expired_guests(utcnow() + timedelta(days=366)) == 1
    db.session.refresh(intro)
    assert (intro.guest_name, intro.guest_email, intro.guest_phone, intro.guest_company) == (None,) * 4
    assert intro.guest_key and intro.guest_erased_at is not None
    assert intro.second_name == "a guest"
    assert balance(chapter, introducer) == 2
    assert verify.verify(chapter).ok
    assert differences(db.session.connection()) == []
    assert summary_of(chapter) == summary_before
    assert guests.erase_expired_guests(utcnow() + timedelta(days=400)) == 0


def test_a_pending_guest_introduction_is_not_erased(pair):
    introducer, member = pair
    introduce_guest(introducer, member)
    assert guests.erase_expired_guests(utcnow() + timedelta(days=4000)) == 0


def test_reminders_go_once_to_each_party_who_has_not_answered_at_half_the_expiry(pair):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    (member_request,) = mail_to(member.email)
    answering.answer(answering.consent_for_link(secret_in(member_request)), Decision.ACCEPT)
    assert reminders.send_reminders(utcnow() + timedelta(days=6)) == 0
    assert reminders.send_reminders(utcnow() + timedelta(days=7, minutes=1)) == 1
    assert reminders.send_reminders(utcnow() + timedelta(days=8)) == 0
    (reminder,) = guest_mail("intro_reminder")
    assert as_email(reminder)["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The reminder's link replaces the first one.
    with pytest.raises(LinkUnknown):
        answering.consent_for_link(secret_in(guest_mail("intro_request_guest")[0]))
    consent = answering.consent_for_link(secret_in(reminder))
    assert consent.is_guest and consent.introduction_id == intro.id
    assert [m for m in mail_to(member.email) if m.template == "intro_reminder"] == []


def test_a_member_who_has_not_answered_is_reminded_too(pair):
    introducer, member = pair
    introduce_guest(introducer, member)
    assert reminders.send_reminders(utcnow() + timedelta(days=8)) == 2
    assert len([m for m in mail_to(member.email) if m.template == "intro_reminder"]) == 1


# Pages -------------------------------------------------------------------------------------------


def test_the_form_makes_a_guest_introduction(client, pair):
    introducer, member = pair
    browser = Browser(client)
    browser.login(introducer.email)
    form = {"first_id": member.id, "guest_name": GUEST.name, "guest_email": GUEST.email, "note": NOTE}
    response = browser.post("/introductions/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    intro = db.session.scalar(select(Introduction))
    assert intro.guest_email == GUEST.email
    page = client.get(response.location).get_data(as_text=True)
    assert GUEST.email in page, "the introducer sees the guest's address"


def test_the_form_wants_a_member_or_a_guest_not_both_nor_neither(client, pair, chapter):
    introducer, member = pair
    other = MembershipFactory(chapter=chapter, member=MemberFactory()).member
    browser = Browser(client)
    browser.login(introducer.email)
    for extra in ({}, {"second_id": other.id, "guest_name": "X", "guest_email": "x@example.com"}):
        response = browser.post("/introductions/new", {"first_id": member.id, "note": NOTE, **extra})
        assert response.status_code == 422
        assert "enter a guest" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Introduction)) == 0


def test_a_suppressed_address_on_the_form_says_so(client, pair):
    introducer, member = pair
    db.session.add(GuestSuppression(key=guests.address_keys(GUEST.email)[0]))
    db.session.flush()
    browser = Browser(client)
    browser.login(introducer.email)
    form = {"first_id": member.id, "guest_name": GUEST.name, "guest_email": GUEST.email, "note": NOTE}
    response = browser.post("/introductions/new", form)
    assert response.status_code == 422
    assert "does not accept introductions through Referral Hub" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Introduction)) == 0


def test_the_guest_link_get_and_head_change_nothing_and_post_accepts_with_shared_details(client, pair):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    path = f"/i/{secret_in(guest_mail()[0])}"
    for _ in range(2):
        assert client.get(path).status_code == 200
        assert client.head(path).status_code == 200
    consent = db.session.scalar(select(Consent).where(Consent.member_id.is_(None)))
    assert consent.decision is None
    page = client.get(path).get_data(as_text=True)
    assert "Never send me introductions" in page and "phone" in page.lower()
    browser = Browser(client)
    response = browser.post(path, {"decision": "accept", "phone": "555 0101", "company": "Oven Care"})
    assert response.status_code == 302
    db.session.refresh(intro)
    assert (intro.guest_phone, intro.guest_company) == ("555 0101", "Oven Care")


def test_the_one_click_post_needs_no_csrf_token_or_cookie(app, pair):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    header = as_email(guest_mail()[0])["List-Unsubscribe"]
    path = header.strip("<>").removeprefix("http://localhost")
    fresh = app.test_client()
    assert fresh.get(path).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(GuestSuppression)) == 0
    response = fresh.post(path, data="List-Unsubscribe=One-Click")
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(GuestSuppression)) == 1
    assert fresh.post(path).status_code == 200, "twice is once"
    assert db.session.scalar(select(func.count()).select_from(GuestSuppression)) == 1
    db.session.refresh(intro)
    assert intro.state is IntroState.DECLINED
    assert fresh.post("/i/never/forged-token").status_code == 404


def test_the_dashboard_names_the_guest_of_an_introduction_made(client, pair):
    introducer, member = pair
    introduce_guest(introducer, member)
    browser = Browser(client)
    browser.login(introducer.email)
    html = browser.get("/dashboard").get_data(as_text=True)
    assert f"{member.display_name} and {GUEST.name}</a>" in html


def test_the_thank_you_note_for_a_guest_introduction_names_the_guest(client, pair):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    accept_both(intro, member)
    browser = Browser(client)
    browser.login(member.email)
    page = f"/introductions/{intro.id}"
    fields = {"thanks_note": "Dan fixed our oven in a day, thank you.", "introduction_id": intro.id}
    response = browser.post(f"/members/{introducer.id}/thanks", fields, form_page=page)
    assert response.status_code == 302, response.get_data(as_text=True)
    (note,) = [m for m in mail_to(introducer.email) if m.template == "thanks_note"]
    assert f"for the introduction of {member.display_name} and {GUEST.name}:" in note.body_text
    assert f"{member.display_name} and {GUEST.name}:" in note.body_html


def test_a_refused_introduction_says_why_in_spanish(client, pair):
    introducer, member = pair
    browser = Browser(client)
    browser.login(introducer.email)
    form = {"first_id": member.id, "guest_name": GUEST.name, "guest_email": GUEST.email, "note": "Hola"}
    response = browser.post("/introductions/new", form, headers={"Accept-Language": "es"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Escribe al menos 40 caracteres. Una nota personal es lo que hace" in html
    english = browser.post("/introductions/new", form, headers={"Accept-Language": "en"})
    assert "Write at least 40 characters. A personal note is what makes" in english.get_data(as_text=True)


def test_the_state_badge_and_filter_are_translated(client, pair):
    introducer, member = pair
    intro = introduce_guest(introducer, member)
    browser = Browser(client)
    browser.login(introducer.email)
    spanish = {"headers": {"Accept-Language": "es"}}
    assert '<span class="badge">pendiente</span>' in browser.get("/introductions", **spanish).text
    assert '<option value="pending">pendiente</option>' in browser.get("/introductions", **spanish).text
    assert '<span class="badge">pendiente</span>' in browser.get(f"/introductions/{intro.id}", **spanish).text
    assert '<span class="badge">pending</span>' in browser.get("/introductions").text
