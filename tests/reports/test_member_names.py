"""Each membership, and each member's figures row, keeps its member's display name, so the members table
can page by name, or by a figure and then name, from an index: every way a membership is made and every
rename keep it, and `flask reports verify` checks it."""

import pytest
from sqlalchemy import delete, event, select, update

from referral_hub.accounts.services import update_profile
from referral_hub.chapters import services as chapters
from referral_hub.chapters.models import Membership
from referral_hub.extensions import db
from referral_hub.privacy import erasure
from referral_hub.privacy.erasure import FORMER_MEMBER
from referral_hub.reports.members import MEMBER_SORTS, MemberQuery, differences, member_rows
from referral_hub.reports.models import MemberFigures
from tests.factories import PASSWORD, ChapterFactory, MemberFactory, MembershipFactory


def kept_names(member) -> set:
    return set(db.session.scalars(select(Membership.display_name).where(Membership.member_id == member.id)))


def figures_names_by_chapter(member) -> dict:
    rows = db.session.execute(
        select(MemberFigures.chapter_id, MemberFigures.display_name).where(
            MemberFigures.member_id == member.id
        )
    )
    return dict(rows.all())


def kept_names_by_chapter(member) -> dict:
    rows = db.session.execute(
        select(Membership.chapter_id, Membership.display_name).where(Membership.member_id == member.id)
    )
    return dict(rows.all())


@pytest.fixture
def harbour():
    """A chapter of three members, one of whom also belongs to a second chapter."""
    chapter = ChapterFactory(slug="harbour")
    zoe, yan, xia = (
        MembershipFactory(chapter=chapter, organizer=index == 0, member__display_name=name).member
        for index, name in enumerate(("Zoe", "Yan", "Xia"))
    )
    MembershipFactory(chapter=ChapterFactory(slug="quay"), member=yan)
    return chapter, zoe, yan, xia


def names_in_order(chapter, sort="display_name") -> list[str]:
    rows, _total = member_rows(chapter.id, MemberQuery(sort=sort), zone="UTC")
    return [row.display_name for row in rows]


def test_a_rename_moves_the_member_among_those_of_equal_figures(harbour):
    """Nobody has given or asked: sorted by a figure, all tie and are listed by name."""
    chapter, _zoe, yan, _xia = harbour
    assert names_in_order(chapter, "intros_made") == ["Xia", "Yan", "Zoe"]
    update_profile(yan, display_name="Aaron")
    assert figures_names_by_chapter(yan) == dict.fromkeys(kept_names_by_chapter(yan), "Aaron")
    assert names_in_order(chapter, "intros_made") == ["Aaron", "Xia", "Zoe"]
    assert names_in_order(chapter, "last_active_at") == ["Aaron", "Xia", "Zoe"]
    assert differences(db.session.connection()) == []


def test_a_rename_in_the_profile_moves_the_member_in_every_chapter_s_table(harbour):
    chapter, zoe, yan, _xia = harbour
    assert names_in_order(chapter) == ["Xia", "Yan", "Zoe"]
    update_profile(yan, display_name="  Aaron ")
    assert kept_names(yan) == {"Aaron"}
    assert names_in_order(chapter) == ["Aaron", "Xia", "Zoe"]
    assert differences(db.session.connection()) == []


def test_a_profile_edit_that_keeps_the_name_writes_no_membership(harbour):
    _chapter, zoe, _yan, _xia = harbour
    statements = []
    db.session.flush()

    def counted(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        update_profile(zoe, display_name="Zoe", headline="Boats")
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    assert not [statement for statement in statements if "memberships" in statement]


def test_memberships_made_by_the_services_carry_the_name(harbour):
    _chapter, zoe, _yan, _xia = harbour
    newcomer = MemberFactory(display_name="Wen")
    membership = chapters.request_to_join("harbour", newcomer)
    assert membership.display_name == "Wen"
    chapters.create_chapter("Pier", organizer_email=zoe.email)
    assert [name for name in kept_names_by_chapter(zoe).values()] == ["Zoe", "Zoe"]
    assert figures_names_by_chapter(newcomer) == {membership.chapter_id: "Wen"}
    assert figures_names_by_chapter(zoe) == kept_names_by_chapter(zoe)
    assert differences(db.session.connection()) == []


def test_an_erased_member_is_listed_by_the_erased_name(harbour):
    chapter, _zoe, _yan, xia = harbour
    erasure.erase(xia, password=PASSWORD)
    assert kept_names(xia) == {FORMER_MEMBER}
    assert figures_names_by_chapter(xia) == {chapter.id: FORMER_MEMBER}
    assert differences(db.session.connection()) == []


def test_verify_names_a_membership_whose_kept_name_differs(app, harbour):
    chapter, _zoe, yan, _xia = harbour
    db.session.execute(
        update(Membership)
        .where(Membership.chapter_id == chapter.id, Membership.member_id == yan.id)
        .values(display_name="Someone else")
    )
    result = app.test_cli_runner().invoke(args=["reports", "verify"])
    assert result.exit_code == 1
    assert f"member_id {yan.id}): display_name is 'Someone else', the member's is 'Yan'" in result.output


def test_verify_names_figures_whose_kept_name_differs_and_a_membership_without_figures(app, harbour):
    chapter, zoe, yan, _xia = harbour
    db.session.execute(
        update(MemberFigures)
        .where(MemberFigures.chapter_id == chapter.id, MemberFigures.member_id == yan.id)
        .values(display_name="Someone else")
    )
    db.session.execute(
        delete(MemberFigures).where(MemberFigures.chapter_id == chapter.id, MemberFigures.member_id == zoe.id)
    )
    result = app.test_cli_runner().invoke(args=["reports", "verify"])
    assert result.exit_code == 1
    assert (
        f"report_member_figures (chapter_id {chapter.id}, member_id {yan.id}): "
        "display_name is 'Someone else', the member's is 'Yan'"
    ) in result.output
    assert f"memberships (chapter_id {chapter.id}, member_id {zoe.id}): no report_member_figures row" in (
        result.output
    )


@pytest.mark.parametrize("sort", MEMBER_SORTS)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pages_by_each_sort_are_slices_of_the_whole_order(riverside, sort, order):
    """A page sorted by status is read status by status from the name index, and one sorted by a
    figure from the figures' indexes: every page size and offset gives the same rows as the whole
    list cut into pages."""
    whole, total = member_rows(riverside.chapter.id, MemberQuery(sort=sort, order=order), zone="UTC")
    assert total == len(whole) == 5
    assert {row.status for row in whole} == {"red", "amber", "green"}
    for per_page in (1, 2, 3):
        pages = [
            member_rows(
                riverside.chapter.id,
                MemberQuery(sort=sort, order=order, page=page, per_page=per_page),
                zone="UTC",
            )
            for page in range(1, 6)
        ]
        assert [row.member_id for rows, _ in pages for row in rows] == [row.member_id for row in whole]
        assert {count for _, count in pages} == {5}
