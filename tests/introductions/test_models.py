"""The introduction's state machine: pending moves once, forward; expiry reads the same in Python and SQL."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from referral_hub.chapters.models import Chapter
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.introductions.errors import AlreadyAnswered, IntroClosed, IntroExpired
from referral_hub.introductions.models import Consent, CreditNote, Decision, Introduction, IntroState
from tests.factories import IntroductionFactory

NOW = utcnow()


def pending(expires_in=timedelta(days=1), state=IntroState.PENDING) -> Introduction:
    return Introduction(state=state, expires_at=NOW + expires_in, chapter=Chapter(name="Riverside"))


def test_a_pending_introduction_past_its_expiry_is_expired_before_the_job_closes_it():
    lapsed = pending(expires_in=-timedelta(seconds=1))
    assert lapsed.is_expired(NOW) and lapsed.lapsed(NOW) and not lapsed.awaiting_answers(NOW)
    waiting = pending()
    assert not waiting.is_expired(NOW) and not waiting.lapsed(NOW) and waiting.awaiting_answers(NOW)
    closed = pending(expires_in=-timedelta(days=1), state=IntroState.EXPIRED)
    assert closed.is_expired(NOW) and not closed.lapsed(NOW)
    assert not pending(expires_in=-timedelta(days=1), state=IntroState.COMPLETED).is_expired(NOW)


def test_an_answer_is_recorded_once_and_only_while_the_introduction_waits():
    intro, consent = pending(), Consent()
    intro.answer(consent, Decision.ACCEPT, NOW, in_chapter=True)
    assert (consent.decision, consent.answered_at) == (Decision.ACCEPT, NOW)
    with pytest.raises(AlreadyAnswered):
        intro.answer(consent, Decision.DECLINE, NOW, in_chapter=True)
    with pytest.raises(IntroExpired):
        pending(expires_in=-timedelta(seconds=1)).answer(Consent(), Decision.ACCEPT, NOW, in_chapter=True)
    with pytest.raises(IntroClosed, match="This introduction is no longer waiting"):
        pending(state=IntroState.DECLINED).answer(Consent(), Decision.ACCEPT, NOW, in_chapter=True)
    with pytest.raises(IntroClosed, match="no longer a member of Riverside"):
        pending().answer(Consent(), Decision.ACCEPT, NOW, in_chapter=False)


def test_completing_declining_and_cancelling_close_a_pending_introduction_once():
    completed = pending()
    completed.complete(NOW, CreditNote.REPEAT_PAIR)
    assert completed.state is IntroState.COMPLETED and completed.completed_at == NOW
    assert completed.credit_note is CreditNote.REPEAT_PAIR and completed.closed_at is None
    closings = ((Introduction.decline, IntroState.DECLINED), (Introduction.cancel, IntroState.CANCELLED))
    for close, state in closings:
        intro = pending()
        close(intro, NOW)
        assert intro.state is state and intro.closed_at == NOW and intro.completed_at is None
    # States only move forward.
    for move in (Introduction.decline, Introduction.cancel):
        with pytest.raises(IntroClosed):
            move(completed, NOW)
    with pytest.raises(IntroClosed):
        completed.complete(NOW, CreditNote.CREDITED)
    with pytest.raises(IntroExpired):
        pending(expires_in=-timedelta(seconds=1)).decline(NOW)


def test_the_expiry_job_closes_exactly_what_the_model_calls_lapsed():
    intros = [
        IntroductionFactory(expires_at=NOW - timedelta(seconds=1)),
        IntroductionFactory(expires_at=NOW + timedelta(seconds=1)),
        IntroductionFactory(expires_at=NOW - timedelta(days=1), completed=True),
    ]
    in_python = {i.id for i in intros if i.lapsed(NOW)}
    in_sql = set(db.session.scalars(select(Introduction.id).where(Introduction.lapsed(NOW))))
    assert in_python == in_sql == {intros[0].id}
    assert db.session.execute(Introduction.expire_lapsed(NOW)).rowcount == 1
    db.session.refresh(intros[0])
    assert intros[0].state is IntroState.EXPIRED and intros[0].closed_at == NOW
