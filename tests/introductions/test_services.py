"""Introduction rules: who may be introduced, personal notes, consent links, completion and credits."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referral_hub.chapters import services as chapters
from referral_hub.chapters.policy import policy_for, update_policy
from referral_hub.clock import utcnow
from referral_hub.errors import Conflict, Forbidden
from referral_hub.extensions import db
from referral_hub.introductions import answering, errors, making, outcomes, queries
from referral_hub.introductions.models import (
    Consent,
    CreditNote,
    Decision,
    Introduction,
    IntroState,
    OutcomeKind,
)
from referral_hub.introductions.notes import NoteRefused
from referral_hub.ledger import verify
from referral_hub.ledger.models import Kind, LedgerTransaction
from referral_hub.ledger.queries import balance
from referral_hub.mail.models import OutboxMessage
from referral_hub.needs.services import need_for
from referral_hub.tokens import LinkExpired, LinkUnknown, LinkUsed
from tests.conftest import mail_to
from tests.factories import ChapterFactory, IntroductionFactory, MemberFactory, MembershipFactory, NeedFactory

NOTE = "Ann runs payroll for three bakeries and Bob just opened his second bakery: they should talk."


@pytest.fixture
def chapter():
    return ChapterFactory()


def member_of(chapter, **kwargs):
    return MembershipFactory(chapter=chapter, member=MemberFactory(**kwargs)).member


@pytest.fixture
def people(chapter):
    return member_of(chapter), member_of(chapter), member_of(chapter)


def secret_of(party) -> str:
    """The secret in the party's latest introduction email."""
    body = [m for m in mail_to(party.email) if m.template == "intro_request"][-1].body_text
    return body.split("/i/")[1].split()[0]


def test_introduction_emails_each_party_the_note_the_other_and_a_personal_link(people):
    introducer, first, second = people
    intro = making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE)
    assert intro.state is IntroState.PENDING
    for party, other in ((first, second), (second, first)):
        (message,) = mail_to(party.email)
        assert NOTE in message.body_text
        assert other.display_name in message.body_text and other.headline in message.body_text
        assert other.email not in message.body_text, "contact details pass only after both accept"
    assert secret_of(first) != secret_of(second)
    stored = db.session.scalars(select(Consent.token_hash)).all()
    assert secret_of(first) not in stored, "only a hash of the link's secret is stored"
    assert len(secret_of(first)) >= 22  # >= 128 bits in URL-safe base64


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("self", "cannot introduce yourself"),
        ("same", "two different members"),
        ("outsider", "not a member"),
        ("unverified", "has not verified"),
    ],
)
def test_refused_introductions_say_why_and_write_nothing(people, chapter, case, message):
    introducer, first, second = people
    first_id, second_id = first.id, second.id
    if case == "self":
        first_id = introducer.id
    elif case == "same":
        second_id = first_id
    elif case == "outsider":
        second_id = MembershipFactory().member_id  # a member of another chapter
    elif case == "unverified":
        second_id = member_of(chapter, unverified=True).id
    with pytest.raises(errors.IntroRefused, match=message):
        making.introduce(introducer, first_id=first_id, second_id=second_id, note=NOTE)
    assert db.session.scalar(select(func.count()).select_from(Introduction)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_pair_with_a_pending_introduction_cannot_be_introduced_again(people, chapter):
    introducer, first, second = people
    making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE)
    other_introducer = member_of(chapter)
    with pytest.raises(errors.IntroRefused, match="already have an introduction waiting"):
        making.introduce(other_introducer, first_id=second.id, second_id=first.id, note=NOTE + " Really.")


@pytest.mark.parametrize(
    "note",
    [
        "Too short to mean anything.",
        "I'd like to add you to my professional network.",
        "Hi! I would like to add you to my professional network. Hope you are well!",
    ],
)
def test_short_or_canned_notes_are_refused_with_why_a_personal_note_matters(people, note):
    introducer, first, second = people
    with pytest.raises(NoteRefused, match="own words"):
        making.introduce(introducer, first_id=first.id, second_id=second.id, note=note)


def test_the_same_note_cannot_be_used_twice_by_one_introducer(people, chapter):
    introducer, first, second = people
    making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE)
    third = member_of(chapter)
    with pytest.raises(NoteRefused, match="used this note before"):
        making.introduce(introducer, first_id=first.id, second_id=third.id, note=NOTE.upper() + "!!")


def test_both_accepting_completes_pays_the_introducer_and_shares_contacts(people, chapter):
    introducer, first, second = people
    intro = making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE)
    first_secret, second_secret = secret_of(first), secret_of(second)
    answering.answer(answering.consent_for_link(first_secret), Decision.ACCEPT)
    assert intro.state is IntroState.PENDING
    assert balance(chapter, introducer) == 0
    answering.answer(answering.consent_for_link(second_secret), Decision.ACCEPT)
    assert intro.state is IntroState.COMPLETED and intro.credit_note is CreditNote.CREDITED
    assert balance(chapter, introducer) == policy_for(chapter).intro_reward
    contact_to_first = mail_to(first.email)[-1]
    assert second.email in contact_to_first.body_text and NOTE in contact_to_first.body_text
    assert first.email in mail_to(second.email)[-1].body_text


def test_a_used_link_says_so_and_credits_once(people, chapter):
    introducer, first, second = people
    making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE)
    first_secret = secret_of(first)
    answering.answer(answering.consent_for_link(first_secret), Decision.ACCEPT)
    with pytest.raises(LinkUsed):
        answering.consent_for_link(first_secret)
    with pytest.raises(LinkUnknown):
        answering.consent_for_link(first_secret + "x")


def test_a_decline_closes_quietly(people):
    introducer, first, second = people
    intro = making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE)
    answering.answer(answering.consent_for_link(secret_of(first)), Decision.DECLINE)
    assert intro.state is IntroState.DECLINED
    told = mail_to(second.email)[-1]
    assert "did not go ahead" in told.body_text
    assert "declin" not in told.body_text.lower() and first.display_name not in told.body_text
    with pytest.raises(errors.LinkClosed):
        answering.consent_for_link(secret_of(second))


def test_the_other_partys_link_is_refused_to_a_logged_in_party(people):
    introducer, first, second = people
    making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE)
    with pytest.raises(errors.LinkNotYours):
        answering.consent_for_link(secret_of(second), viewer=first)


def test_unanswered_introductions_expire_and_their_links_say_so(people):
    introducer, first, second = people
    intro = making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE)
    later = intro.expires_at + timedelta(seconds=1)
    with pytest.raises(LinkExpired):
        answering.consent_for_link(secret_of(first), now=later)
    assert answering.expire_introductions(now=later) == 1
    db.session.refresh(intro)
    assert intro.state is IntroState.EXPIRED
    with pytest.raises(LinkExpired):
        answering.consent_for_link(secret_of(first))


def _complete(introducer, first, second, note):
    intro = making.introduce(introducer, first_id=first.id, second_id=second.id, note=note)
    for party in (first, second):
        answering.answer(answering.consent_for_link(secret_of(party)), Decision.ACCEPT)
    return intro


def test_introducing_the_same_pair_again_soon_earns_nothing_and_says_why(people, chapter):
    introducer, first, second = people
    _complete(introducer, first, second, NOTE)
    again = _complete(
        introducer, second, first, "Second time: Bob's new shop needs Ann's payroll help again now."
    )
    assert again.credit_note is CreditNote.REPEAT_PAIR
    assert balance(chapter, introducer) == policy_for(chapter).intro_reward
    assert "earns no credits" in mail_to(introducer.email)[-1].body_text


def test_the_daily_cap_limits_credited_introductions(chapter):
    introducer = member_of(chapter)
    policy = policy_for(chapter)
    intros = []
    for n in range(policy.daily_credited_intros + 1):
        first, second = member_of(chapter), member_of(chapter)
        intros.append(_complete(introducer, first, second, f"{NOTE} Pair number {n} should meet this week."))
    assert [i.credit_note for i in intros][-1] is CreditNote.DAILY_CAP
    assert balance(chapter, introducer) == policy.intro_reward * policy.daily_credited_intros


def test_business_closed_pays_the_introducer_the_bonus_once(people, chapter):
    introducer, first, second = people
    intro = _complete(introducer, first, second, NOTE)
    before = balance(chapter, introducer)
    outcomes.report_outcome(intro, first, OutcomeKind.BUSINESS_CLOSED, 1200)
    outcomes.report_outcome(intro, second, OutcomeKind.BUSINESS_CLOSED, 800)
    assert balance(chapter, introducer) == before + policy_for(chapter).business_bonus


def test_only_parties_report_outcomes_and_business_needs_an_amount(people):
    introducer, first, second = people
    intro = _complete(introducer, first, second, NOTE)
    with pytest.raises(Forbidden):
        outcomes.report_outcome(intro, introducer, OutcomeKind.MET)
    with pytest.raises(errors.IntroRefused, match="amount"):
        outcomes.report_outcome(intro, first, OutcomeKind.BUSINESS_CLOSED, None)


def test_introductions_of_a_need_are_counted(people, chapter):
    introducer, first, second = people
    need = NeedFactory(chapter=chapter, asker=first, expires_at=utcnow() + timedelta(days=3))
    making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE, need_id=need.id)
    assert queries.made_for(need_for(first, need.id)) == 1


def test_notes_in_any_script_count_as_personal_and_stay_distinct(people, chapter):
    introducer, first, second = people
    russian = "Анна ведёт бухгалтерию трёх пекарен, а Борис только что открыл вторую пекарню."
    greek = "Η Άννα κρατά τα βιβλία τριών φούρνων και ο Μπόρις μόλις άνοιξε τον δεύτερο φούρνο του."
    making.introduce(introducer, first_id=first.id, second_id=second.id, note=russian)
    third = member_of(chapter)
    making.introduce(introducer, first_id=first.id, second_id=third.id, note=greek)


def test_a_party_who_left_the_chapter_cannot_answer(people, chapter):
    introducer, first, second = people
    making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE)
    consent = answering.consent_for_link(secret_of(first))
    chapters.leave(chapters.membership_of(first, chapter.slug))
    with pytest.raises(errors.IntroClosed, match="no longer a member"):
        answering.answer(consent, Decision.ACCEPT)


def test_an_introducer_who_left_earns_nothing_and_is_told_why(people, chapter):
    introducer, first, second = people
    intro = making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE)
    answering.answer(answering.consent_for_link(secret_of(first)), Decision.ACCEPT)
    chapters.leave(chapters.membership_of(introducer, chapter.slug))
    answering.answer(answering.consent_for_link(secret_of(second)), Decision.ACCEPT)
    assert intro.credit_note is CreditNote.INTRODUCER_LEFT
    assert balance(chapter, introducer) == 0


def test_an_outcome_moves_forward_to_business_but_never_multiplies(people, chapter):
    introducer, first, second = people
    intro = _complete(introducer, first, second, NOTE)
    outcomes.report_outcome(intro, first, OutcomeKind.MET)
    with pytest.raises(Conflict, match="already told us"):
        outcomes.report_outcome(intro, first, OutcomeKind.NOT_A_FIT)
    outcome = outcomes.report_outcome(intro, first, OutcomeKind.BUSINESS_CLOSED, 500)
    assert outcome.kind is OutcomeKind.BUSINESS_CLOSED and outcome.amount == 500
    assert len(queries.outcomes_of(intro)) == 1


def test_a_lapsed_introduction_of_a_pair_does_not_block_a_new_one(people, chapter):
    introducer, first, second = people
    old = making.introduce(introducer, first_id=first.id, second_id=second.id, note=NOTE)
    old.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    fresh = making.introduce(
        introducer, first_id=first.id, second_id=second.id, note=NOTE + " Again, really."
    )
    db.session.refresh(old)
    assert old.state is IntroState.EXPIRED and fresh.state is IntroState.PENDING


def bonuses() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(LedgerTransaction)
        .where(LedgerTransaction.kind == Kind.BUSINESS_CLOSED)
    )


def test_a_business_closed_farming_loop_mints_the_bonus_once_per_pair(chapter):
    """Three members introduce each other round and round and report business of 1 each time."""
    ann, bob, cy = (member_of(chapter) for _ in range(3))
    policy = policy_for(chapter)
    for loop in range(3):
        for introducer, first, second in ((ann, bob, cy), (bob, cy, ann), (cy, ann, bob)):
            intro = _complete(introducer, first, second, f"{NOTE} Round {loop}: they should meet again.")
            outcomes.report_outcome(intro, second, OutcomeKind.BUSINESS_CLOSED, 1)
    assert bonuses() == 3
    for member in (ann, bob, cy):
        assert balance(chapter, member) == policy.intro_reward + policy.business_bonus
    assert verify.verify(chapter).ok


def test_the_business_bonus_is_paid_only_on_an_introduction_that_earned_its_credit(people, chapter):
    introducer, first, second = people
    update_policy(chapter, changed_by=introducer, settings={"intro_reward": 0})
    intro = _complete(introducer, first, second, NOTE)
    assert intro.credit_note is CreditNote.NO_REWARD
    outcomes.report_outcome(intro, first, OutcomeKind.BUSINESS_CLOSED, 5000)
    assert bonuses() == 0 and balance(chapter, introducer) == 0
    assert queries.outcomes_of(intro)[0].amount == 5000, "the outcome is still recorded"


def test_the_business_bonus_is_paid_once_per_pair_within_the_repeat_window(people, chapter):
    introducer, first, second = people
    long_ago = utcnow() - timedelta(days=policy_for(chapter).repeat_pair_days + 20)
    earlier = IntroductionFactory(
        chapter=chapter,
        introducer=introducer,
        first=first,
        second=second,
        completed=True,
        completed_at=long_ago,
    )
    outcomes.report_outcome(earlier, first, OutcomeKind.BUSINESS_CLOSED, 100)
    again = _complete(
        introducer, second, first, "Bob has a third bakery now, and Ann could run its payroll too."
    )
    assert again.credit_note is CreditNote.CREDITED, "the earlier completion is outside the window"
    outcomes.report_outcome(again, second, OutcomeKind.BUSINESS_CLOSED, 100)
    assert bonuses() == 1


def test_business_bonuses_count_toward_the_daily_cap(chapter):
    introducer = member_of(chapter)
    update_policy(chapter, changed_by=introducer, settings={"daily_credited_intros": 2})
    pairs = [(member_of(chapter), member_of(chapter)) for _ in range(3)]
    first = _complete(introducer, *pairs[0], f"{NOTE} The first pair of the day.")
    outcomes.report_outcome(first, pairs[0][0], OutcomeKind.BUSINESS_CLOSED, 10)
    second = _complete(introducer, *pairs[1], f"{NOTE} The second pair of the day.")
    assert second.credit_note is CreditNote.DAILY_CAP, "one credited introduction and one bonus: the cap of 2"
    third = IntroductionFactory(
        chapter=chapter, introducer=introducer, first=pairs[2][0], second=pairs[2][1], completed=True
    )
    outcomes.report_outcome(third, pairs[2][0], OutcomeKind.BUSINESS_CLOSED, 10)
    assert bonuses() == 1
    policy = policy_for(chapter)
    assert balance(chapter, introducer) == policy.intro_reward + policy.business_bonus


def test_each_member_pages_through_their_own_introductions_without_a_count(count_queries):
    chapter = ChapterFactory()
    ann, bob, cat, dan = (MembershipFactory(chapter=chapter).member for _ in range(4))
    made = [
        IntroductionFactory(
            chapter=chapter,
            introducer=ann,
            first=bob,
            second=MembershipFactory(chapter=chapter).member,
            created_at=utcnow() - timedelta(minutes=n),
        )
        for n in range(queries.LIST_PAGE_SIZE)
    ]
    dans = IntroductionFactory(chapter=chapter, introducer=dan, first=ann, second=cat, completed=True)
    with count_queries() as log:
        as_introducer = queries.introductions_of(ann, role="introducer")
    assert log.count == 1
    assert [i.id for i in as_introducer.items] == [i.id for i in made] and not as_introducer.has_next
    assert as_introducer.total is None
    assert [i.id for i in queries.introductions_of(ann, role="party").items] == [dans.id]
    assert queries.introductions_of(ann).has_next and queries.introductions_of(ann, page=2).has_prev
    assert [i.id for i in queries.introductions_of(dan).items] == [dans.id]
    assert [i.id for i in queries.introductions_of(cat, state="completed").items] == [dans.id]
    assert queries.introductions_of(dan, role="party").items == []
