"""What a member follows through: introductions waiting for their answer, made, completed; one query."""

from datetime import timedelta

from referral_hub.clock import utcnow
from referral_hub.introductions.queries import follow_through
from tests.factories import (
    ChapterFactory,
    ConsentFactory,
    IntroductionFactory,
    MemberFactory,
    OutcomeFactory,
)


def test_each_list_keeps_its_own_order_and_limit_in_one_query(app, count_queries):
    chapter, ann = ChapterFactory(), MemberFactory()
    now = utcnow()

    def intro(hours_ago: int, **fields):
        return IntroductionFactory(chapter=chapter, created_at=now - timedelta(hours=hours_ago), **fields)

    waiting = [intro(5, first=ann), intro(3, first=ann)]  # oldest first
    for pending in waiting:
        ConsentFactory(introduction=pending, member=ann)
    ConsentFactory(introduction=intro(4, first=ann), member=ann, decision="accept", answered_at=now)
    made = [intro(1, introducer=ann), intro(2, introducer=ann), intro(6, introducer=ann)]  # newest first
    reported, older, newer = (
        intro(30 + n, second=ann, completed=True, completed_at=now - timedelta(days=3 - n)) for n in range(3)
    )
    OutcomeFactory(introduction=reported, reported_by=ann)  # reported: after the two that await hers
    intro(7, completed=True)  # not hers

    with count_queries() as log:
        found = follow_through(ann, made=2, completed=5)
    assert log.count == 1
    assert [i.id for i in found.waiting] == [i.id for i in waiting]
    assert [i.id for i in found.made] == [made[0].id, made[1].id]
    assert [(c.introduction.id, c.awaits_outcome) for c in found.completed] == [
        (newer.id, True),
        (older.id, True),
        (reported.id, False),
    ]
    capped = follow_through(ann, made=0, completed=1)
    assert (capped.made, [c.introduction.id for c in capped.completed]) == ([], [newer.id])
    assert [i.id for i in capped.waiting] == [i.id for i in waiting]
