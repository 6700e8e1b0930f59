"""The command line: `flask chapters create` and `flask demo seed`."""

import pytest
from sqlalchemy import func, select

from referral_hub.accounts.models import Member
from referral_hub.chapters.models import Chapter, Membership, Role
from referral_hub.cli import demo
from referral_hub.extensions import db
from tests.factories import ChapterFactory, MemberFactory


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def chapter_named(slug: str) -> Chapter | None:
    return db.session.scalar(select(Chapter).where(Chapter.slug == slug))


def test_chapters_create_makes_the_chapter_with_its_organizer_and_prints_the_slug(flask):
    founder = MemberFactory(email="founder@example.org")
    result = flask("chapters", "create", "North Side Professionals", "--organizer", "Founder@Example.org")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "north-side-professionals"
    chapter = chapter_named("north-side-professionals")
    assert chapter.name == "North Side Professionals"
    [membership] = db.session.scalars(select(Membership).where(Membership.chapter_id == chapter.id))
    assert (membership.member_id, membership.role) == (founder.id, Role.ORGANIZER)


def test_chapters_create_takes_a_slug(flask):
    MemberFactory(email="founder@example.org")
    result = flask(
        "chapters", "create", "North Side", "--organizer", "founder@example.org", "--slug", "NSP 1"
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "nsp-1"
    assert chapter_named("nsp-1").name == "North Side"


def test_chapters_create_with_an_unknown_organizer_fails_clearly_and_creates_nothing(flask):
    result = flask("chapters", "create", "North Side", "--organizer", "nobody@example.org")
    assert result.exit_code != 0
    assert "No account has the address nobody@example.org; register it first." in result.output
    assert count(Chapter) == 0


def test_chapters_create_with_a_taken_slug_fails_clearly(flask):
    MemberFactory(email="founder@example.org")
    ChapterFactory(slug="north-side", name="The first one")
    db.session.commit()  # the command rolls back its own work on failure, not what came before
    result = flask("chapters", "create", "North Side", "--organizer", "founder@example.org")
    assert result.exit_code != 0
    assert "A chapter with the slug 'north-side' already exists." in result.output
    assert chapter_named("north-side").name == "The first one" and count(Membership) == 0


def test_chapters_create_refuses_a_name_without_letters_or_digits(flask):
    MemberFactory(email="founder@example.org")
    result = flask("chapters", "create", "!!!", "--organizer", "founder@example.org")
    assert result.exit_code != 0 and "at least one letter or digit" in result.output
    assert count(Chapter) == 0


def test_chapters_create_requires_an_organizer(flask):
    result = flask("chapters", "create", "North Side")
    assert result.exit_code != 0 and "--organizer" in result.output


def test_demo_seed_creates_a_chapter_of_varied_members(flask):
    result = flask("demo", "seed", "--members", "6")
    assert result.exit_code == 0, result.output
    assert "5 new members" in result.output and demo.ORGANIZER_EMAIL in result.output
    chapter = chapter_named(demo.CHAPTER_SLUG)
    members = list(
        db.session.scalars(select(Member).join(Membership).where(Membership.chapter_id == chapter.id))
    )
    assert len(members) == 6 and all(member.is_verified for member in members)
    assert len({member.headline for member in members}) == 6


def test_demo_seed_twice_changes_nothing_the_second_time(flask):
    assert flask("demo", "seed", "--members", "8").exit_code == 0

    def snapshot():
        db.session.expire_all()
        return (
            count(Chapter),
            sorted(
                db.session.execute(
                    select(Member.id, Member.email, Member.password_hash, Member.headline)
                ).all()
            ),
            sorted(db.session.execute(select(Membership.id, Membership.status, Membership.joined_at)).all()),
        )

    before = snapshot()
    again = flask("demo", "seed", "--members", "8")
    assert again.exit_code == 0, again.output
    assert "0 new members" in again.output
    assert snapshot() == before


def test_demo_seed_with_more_members_adds_only_the_missing_ones(flask):
    flask("demo", "seed", "--members", "3")
    result = flask("demo", "seed", "--members", "5")
    assert "2 new members" in result.output
    assert count(Member) == 5 and count(Membership) == 5
