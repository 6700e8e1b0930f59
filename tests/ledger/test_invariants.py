"""A Hypothesis state machine drives grants, asks, rewards, refunds and reversals in any order and
checks every invariant of the books after every step, against a model of the expected balances."""

import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from referral_hub.extensions import db
from referral_hub.ledger import organizing, posting, queries, verify
from referral_hub.ledger.models import Kind, LedgerTransaction
from tests.factories import ChapterFactory, MembershipFactory

MEMBERS = 3
who = st.integers(0, MEMBERS - 1)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example starts from an empty chapter and leaves nothing behind.
        self.savepoint = db.session.begin_nested()
        self.chapter = ChapterFactory()
        self.organizer = MembershipFactory(chapter=self.chapter, organizer=True).member
        self.members = [MembershipFactory(chapter=self.chapter).member for _ in range(MEMBERS)]
        self.expected = {member.id: 0 for member in self.members}
        self.pool = 0
        self.reversible: dict[int, dict[int | None, int]] = {}  # transaction id -> its legs
        self.reversals: list[int] = []
        self.open_asks: dict[int, tuple[int, int]] = {}  # connector ask id -> (member index, cost)
        self.numbers = itertools.count()

    def teardown(self):
        self.savepoint.rollback()

    def _apply(self, legs: dict[int | None, int]) -> None:
        for holder, amount in legs.items():
            if holder is None:
                self.pool += amount
            else:
                self.expected[holder] += amount

    def _post(self, kind, member_index: int, amount: int, key: str):
        """Pool → member for a positive amount, member → pool for a negative one."""
        member = self.members[member_index]
        return posting.post(
            self.chapter,
            key=key,
            kind=kind,
            memo=f"{kind.label} in the state machine",
            caused_by=member,
            entries=[(posting.POOL, -amount), (member, amount)],
        )

    @rule(index=who, amount=st.integers(-30, 30).filter(bool))
    def grant(self, index, amount):
        member = self.members[index]
        can = self.expected[member.id] + amount >= 0
        try:
            transaction = organizing.grant(
                self.chapter,
                member_id=member.id,
                amount=amount,
                memo="machine grant",
                granted_by=self.organizer,
            )
        except organizing.CannotTakeBack:
            assert not can
            return
        assert can
        legs = {None: -amount, member.id: amount}
        self._apply(legs)
        self.reversible[transaction.id] = legs

    @rule(index=who, cost=st.integers(1, 5), connector=st.booleans())
    def ask(self, index, cost, connector):
        member = self.members[index]
        kind = Kind.ASK_CONNECTOR if connector else Kind.ASK_NEED
        can = self.expected[member.id] >= cost
        try:
            transaction = self._post(kind, index, -cost, f"ask:{next(self.numbers)}")
        except posting.InsufficientCredits as refused:
            assert not can and refused.balance == self.expected[member.id]
            return
        assert can
        legs = {member.id: -cost, None: cost}
        self._apply(legs)
        self.reversible[transaction.id] = legs
        if connector:
            self.open_asks[transaction.id] = (index, cost)

    @rule(index=who, reward=st.integers(1, 5), bonus=st.booleans())
    def reward(self, index, reward, bonus):
        kind = Kind.BUSINESS_CLOSED if bonus else Kind.INTRO_COMPLETED
        transaction = self._post(kind, index, reward, f"intro:{next(self.numbers)}:completed")
        legs = {None: -reward, self.members[index].id: reward}
        self._apply(legs)
        self.reversible[transaction.id] = legs

    @precondition(lambda self: self.open_asks)
    @rule(data=st.data())
    def refund(self, data):
        ask_id = data.draw(st.sampled_from(sorted(self.open_asks)))
        index, cost = self.open_asks.pop(ask_id)
        key = f"intro-request:{ask_id}:refund"
        first = self._post(Kind.REFUND, index, cost, key)
        # A refund repeated (a double click, a retried job) is the same refund.
        assert self._post(Kind.REFUND, index, cost, key).id == first.id
        self.reversible.pop(ask_id, None)
        self._apply({None: -cost, self.members[index].id: cost})

    @precondition(lambda self: self.reversible)
    @rule(data=st.data())
    def reverse(self, data):
        original_id = data.draw(st.sampled_from(sorted(self.reversible)))
        legs = self.reversible[original_id]
        original = db.session.get(LedgerTransaction, original_id)
        can = all(holder is None or self.expected[holder] - amount >= 0 for holder, amount in legs.items())
        try:
            reversal = organizing.reverse(original, memo="machine reversal", caused_by=self.organizer)
        except organizing.CannotReverse:
            assert not can
            return
        assert can
        del self.reversible[original_id]
        self.open_asks.pop(original_id, None)
        self.reversals.append(reversal.id)
        self._apply({holder: -amount for holder, amount in legs.items()})
        try:
            organizing.reverse(original, memo="again", caused_by=self.organizer)
            raise AssertionError("reversed twice")
        except organizing.AlreadyReversed:
            pass

    @precondition(lambda self: self.reversals)
    @rule(data=st.data())
    def reverse_a_reversal(self, data):
        reversal = db.session.get(LedgerTransaction, data.draw(st.sampled_from(self.reversals)))
        try:
            organizing.reverse(reversal, memo="undo the undo", caused_by=self.organizer)
            raise AssertionError("reversed a reversal")
        except organizing.CannotReverse:
            pass

    @invariant()
    def the_books_verify(self):
        report = verify.verify(self.chapter)
        assert report.ok, [violation for check in report.checks for violation in check.violations]

    @invariant()
    def balances_match_the_model_and_no_member_is_below_zero(self):
        balances = {row.member.id: row.balance for row in queries.member_balances(self.chapter).items}
        assert balances == {self.organizer.id: 0, **self.expected}
        assert all(balance >= 0 for balance in balances.values())
        assert queries.pool_balance(self.chapter) == self.pool == -sum(self.expected.values())


def test_every_invariant_holds_after_every_step_of_any_sequence(app, db_session):
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
