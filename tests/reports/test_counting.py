"""The kept report figures follow the services' events exactly, and `flask reports verify` says so."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from referral_hub.chapters import services as chapters
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.introductions import answering, making, outcomes
from referral_hub.introductions.models import Decision, OutcomeKind
from referral_hub.ledger import organizing, posting
from referral_hub.ledger.models import Kind
from referral_hub.needs import services as needs
from referral_hub.reports.counting import differences
from referral_hub.reports.members import member_rows
from referral_hub.reports.models import ChapterDay, MemberFigures
from referral_hub.reports.periods import Period
from referral_hub.reports.summary import summary
from tests.factories import ChapterFactory, MembershipFactory


def note(number: int) -> str:
    return f"You two should talk about the harbour project, number {number}: you both build boats."


@pytest.fixture
def lakeside():
    """A chapter where everything happens through the services: needs posted, fulfilled and expired;
    introductions completed, declined and expired; business reported; a member leaving."""
    chapter = ChapterFactory(slug="lakeside")
    olga, ann, bob, cat, dan = (
        MembershipFactory(chapter=chapter, organizer=index == 0, member__display_name=name).member
        for index, name in enumerate(("Olga", "Ann", "Bob", "Cat", "Dan"))
    )
    for number, member in enumerate((ann, bob)):
        posting.post(
            chapter,
            key=f"test-grant:{number}",
            kind=Kind.GRANT,
            memo="Starting credits",
            caused_by=olga,
            entries=[(posting.POOL, -10), (member, 10)],
        )
    fulfilled = needs.post_need(chapter, ann, title="A bookkeeper", details="For a small shop.")
    needs.post_need(chapter, bob, title="A printer", details="Two hundred flyers.")
    needs.mark_fulfilled(fulfilled, ann)

    completed = making.introduce(olga, first_id=ann.id, second_id=bob.id, note=note(1))
    answering.answer(completed.consents[0], Decision.ACCEPT)
    answering.answer(completed.consents[1], Decision.ACCEPT)
    outcomes.report_outcome(completed, bob, OutcomeKind.MET)
    outcomes.report_outcome(completed, bob, OutcomeKind.BUSINESS_CLOSED, 300)  # the meeting turned into it
    outcomes.report_outcome(completed, ann, OutcomeKind.MET)

    declined = making.introduce(ann, first_id=cat.id, second_id=dan.id, note=note(2))
    answering.answer(declined.consents[0], Decision.DECLINE)
    making.introduce(bob, first_id=cat.id, second_id=olga.id, note=note(3))
    later = utcnow() + timedelta(days=40)
    assert answering.expire_introductions(now=later) == 1
    assert needs.expire_needs(now=later) == 1
    chapters.leave(chapters.membership_of(dan, "lakeside"))
    db.session.flush()
    return chapter, {"olga": olga, "ann": ann, "bob": bob, "cat": cat, "dan": dan}, later


def test_the_kept_figures_match_a_recount_after_every_kind_of_event(lakeside):
    assert differences(db.session.connection()) == []


def test_the_summary_reads_the_events_on_their_days(lakeside):
    chapter, _people, later = lakeside
    today = summary(chapter.id, Period.of(zone="UTC"))
    assert today["needs"] == {"posted": 2, "open": 1, "fulfilled": 1, "expired": 0}
    assert today["introductions"] | {"median_hours_to_complete": None} == {
        "made": 3,
        "completed": 1,
        "declined": 1,
        "expired": 0,
        "pending": 1,
        "acceptance_rate": 0.5,
        "median_hours_to_complete": None,
        "guest_made": 0,
        "guest_completed": 0,
    }
    assert today["business_closed"] == {"count": 1, "amount": 300}
    # Dan left: four current members, all active today.
    assert today["members"] == {"total": 4, "new": 4, "active": 4, "dormant": 0}
    # Ann spent 2 of her 10 on the need, Bob 2 of his; Olga earned the introduction's reward.
    assert today["credits"]["issued"] - today["credits"]["spent"] == today["credits"]["balance_sum"]
    # A range that crosses into the day of the expiries counts them there, and only there.
    ahead = summary(chapter.id, Period.of(utcnow().date() + timedelta(days=1), later.date(), zone="UTC"))
    assert (ahead["introductions"]["expired"], ahead["needs"]["expired"]) == (1, 1)
    assert (ahead["introductions"]["made"], ahead["introductions"]["pending"]) == (0, 0)
    assert ahead["needs"]["open"] == 0


def test_member_rows_read_the_kept_figures(lakeside):
    chapter, people, _later = lakeside
    rows, total = member_rows(chapter.id, zone="UTC")
    assert total == 4  # Dan left
    by_name = {row.display_name: row for row in rows}
    assert (by_name["Olga"].intros_made, by_name["Olga"].intros_completed) == (1, 1)
    assert by_name["Olga"].business_given_amount == 300 and by_name["Bob"].business_received_amount == 300
    assert (by_name["Cat"].intros_received, by_name["Ann"].needs_posted) == (2, 1)
    assert by_name["Olga"].status == "green" and by_name["Cat"].status == "amber"


def test_a_rolled_back_need_leaves_no_count(lakeside):
    chapter, people, _later = lakeside
    with pytest.raises(posting.InsufficientCredits):
        needs.post_need(chapter, people["cat"], title="A lawyer", details="Cat has no credits.")
    assert differences(db.session.connection()) == []


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_verify_says_the_figures_match(flask, lakeside):
    result = flask("reports", "verify")
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("Figures match")


def test_verify_fails_on_a_corrupted_counter_and_names_it(flask, lakeside):
    chapter, people, _later = lakeside
    db.session.execute(
        update(MemberFigures)
        .where(MemberFigures.chapter_id == chapter.id, MemberFigures.member_id == people["ann"].id)
        .values(intros_made=MemberFigures.intros_made + 1)
    )
    db.session.execute(
        update(ChapterDay).where(ChapterDay.chapter_id == chapter.id).values(business_amount=7)
    )
    result = flask("reports", "verify")
    assert result.exit_code == 1
    assert f"member_id {people['ann'].id}): intros_made is 2, the sources say 1" in result.output
    assert "business_amount is 7" in result.output
    assert "Figures match" not in result.output


def test_a_reversal_takes_the_credits_back_out_of_the_kept_figures(lakeside):
    chapter, people, _later = lakeside
    before = summary(chapter.id, Period.of(zone="UTC"))["credits"]
    transaction = posting.post(
        chapter,
        key="test-grant:reversed",
        kind=Kind.GRANT,
        memo="A grant given by mistake",
        caused_by=people["olga"],
        entries=[(posting.POOL, -4), (people["cat"], 4)],
    )
    organizing.reverse(transaction, memo="Given by mistake", caused_by=people["olga"])
    after = summary(chapter.id, Period.of(zone="UTC"))["credits"]
    assert after["issued"] == before["issued"] + 4 and after["spent"] == before["spent"] + 4
    assert after["balance_sum"] == before["balance_sum"]
    assert differences(db.session.connection()) == []
