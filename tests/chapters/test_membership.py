"""Membership rules: invitations, requests to join, promotion, removal, leaving, several chapters."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from referral_hub.chapters import services
from referral_hub.chapters.models import Invitation, Membership, MembershipStatus, Role
from referral_hub.chapters.sharing import shares_chapter
from referral_hub.clock import utcnow
from referral_hub.errors import Conflict, Forbidden, NotFound
from referral_hub.extensions import db
from referral_hub.tokens import LinkExpired, LinkUnknown, LinkUsed
from tests.conftest import link_in, mail_to
from tests.factories import ChapterFactory, InvitationFactory, MemberFactory, MembershipFactory

ACTIVE, PENDING = MembershipStatus.ACTIVE, MembershipStatus.PENDING


def membership(chapter, member) -> Membership | None:
    return db.session.scalar(select(Membership).filter_by(chapter_id=chapter.id, member_id=member.id))


@pytest.fixture
def chapter():
    return ChapterFactory(name="Riverside", slug="riverside")


@pytest.fixture
def organizer(chapter):
    return MembershipFactory(chapter=chapter, organizer=True).member


# Invitations ---------------------------------------------------------------------------------


def test_an_invitation_mails_a_join_link_that_expires_in_two_weeks(chapter, organizer):
    invitation = services.invite(chapter, email=" guest@example.org ", invited_by=organizer)
    assert invitation.email == "guest@example.org"
    assert timedelta(days=13) < invitation.expires_at - utcnow() <= timedelta(days=14)
    [message] = mail_to("guest@example.org")
    assert message.template == "invitation" and "Riverside" in message.body_text
    secret = link_in(message, "/join/").removeprefix("/join/")
    assert invitation.token_hash != secret and len(secret) >= 32
    assert services.open_invitation(secret) == invitation


def test_accepting_an_invitation_makes_an_active_member_and_uses_the_link(chapter, organizer):
    guest = MemberFactory()
    invitation = InvitationFactory(chapter=chapter, invited_by=organizer, secret="join-us", email=guest.email)
    joined = services.accept_invitation("join-us", guest)
    assert (joined.status, joined.role) == (ACTIVE, Role.MEMBER) and joined.joined_at is not None
    assert invitation.accepted_by_id == guest.id and invitation.accepted_at is not None
    with pytest.raises(LinkUsed):
        services.accept_invitation("join-us", MemberFactory())


def test_an_invitation_works_once_even_for_the_same_member(chapter, organizer):
    guest = MemberFactory()
    InvitationFactory(chapter=chapter, invited_by=organizer, secret="join-us", email=guest.email)
    services.accept_invitation("join-us", guest)
    with pytest.raises(LinkUsed):
        services.accept_invitation("join-us", guest)


def test_an_expired_invitation_cannot_be_accepted(chapter, organizer):
    InvitationFactory(chapter=chapter, secret="too-late", expires_at=utcnow() - timedelta(minutes=1))
    guest = MemberFactory()
    with pytest.raises(LinkExpired):
        services.accept_invitation("too-late", guest)
    assert membership(chapter, guest) is None


def test_an_unknown_invitation_is_refused():
    with pytest.raises(LinkUnknown):
        services.open_invitation("nothing-like-this")


def test_an_unverified_member_cannot_accept_an_invitation_and_it_stays_usable(chapter, organizer):
    guest = MemberFactory(unverified=True)
    invitation = InvitationFactory(chapter=chapter, secret="join-us", email=guest.email)
    with pytest.raises(services.NotVerified, match="Verify your email address first"):
        services.accept_invitation("join-us", guest)
    assert membership(chapter, guest) is None and invitation.accepted_at is None
    guest.email_verified_at = utcnow()
    assert services.accept_invitation("join-us", guest).status is ACTIVE


def test_inviting_a_current_member_is_refused(chapter, organizer):
    member = MembershipFactory(chapter=chapter).member
    with pytest.raises(services.AlreadyMember):
        services.invite(chapter, email=member.email.upper(), invited_by=organizer)
    assert db.session.scalar(select(Invitation).filter_by(chapter_id=chapter.id)) is None


def test_open_invitations_leave_out_accepted_and_expired_ones(chapter, organizer):
    waiting = InvitationFactory(chapter=chapter)
    InvitationFactory(chapter=chapter, expires_at=utcnow() - timedelta(days=1))
    InvitationFactory(chapter=chapter, accepted_at=utcnow(), accepted_by_id=organizer.id)
    InvitationFactory()
    assert services.open_invitations(chapter) == [waiting]


# Requests to join ----------------------------------------------------------------------------


def test_a_request_to_join_waits_for_an_organizer(chapter):
    member = MemberFactory()
    request = services.request_to_join("Riverside", member)
    assert request.status is PENDING and request.joined_at is None
    with pytest.raises(NotFound):
        services.membership_of(member, "riverside")


def test_an_unverified_member_cannot_ask_to_join(chapter):
    member = MemberFactory(unverified=True)
    with pytest.raises(services.NotVerified):
        services.request_to_join("riverside", member)
    assert membership(chapter, member) is None


def test_asking_to_join_an_unknown_chapter_says_so():
    with pytest.raises(NotFound, match="No chapter has the code"):
        services.request_to_join("nowhere", MemberFactory())


def test_a_current_member_cannot_ask_again(chapter):
    member = MembershipFactory(chapter=chapter).member
    with pytest.raises(services.AlreadyMember):
        services.request_to_join("riverside", member)


def test_an_organizer_approves_a_request(chapter):
    request = MembershipFactory(chapter=chapter, pending=True)
    services.approve(request)
    assert request.status is ACTIVE and request.joined_at is not None
    assert services.membership_of(request.member, "riverside") == request


def test_an_organizer_declines_a_request_and_the_member_may_ask_again(chapter):
    request = MembershipFactory(chapter=chapter, pending=True)
    services.decline(request)
    assert request.status is MembershipStatus.DECLINED and request.ended_at is not None
    assert services.request_to_join("riverside", request.member).status is PENDING


@pytest.mark.parametrize("act", [services.approve, services.decline])
def test_only_a_pending_request_can_be_approved_or_declined(chapter, act):
    active = MembershipFactory(chapter=chapter)
    with pytest.raises(Conflict):
        act(active)
    assert active.status is ACTIVE


# Roles, removal, leaving ---------------------------------------------------------------------


def test_an_organizer_promotes_a_member_to_organizer(chapter):
    member = MembershipFactory(chapter=chapter)
    services.promote(member)
    assert member.is_organizer
    assert services.organizer_of(member.member, "riverside") == member


def test_a_pending_request_cannot_be_promoted(chapter):
    with pytest.raises(Conflict):
        services.promote(MembershipFactory(chapter=chapter, pending=True))


def test_a_plain_member_is_not_an_organizer(chapter):
    member = MembershipFactory(chapter=chapter).member
    with pytest.raises(Forbidden):
        services.organizer_of(member, "riverside")


def test_removing_a_member_keeps_the_row_as_history(chapter, organizer):
    removed = MembershipFactory(chapter=chapter)
    services.remove(removed)
    db.session.expire_all()
    row = membership(chapter, removed.member)
    assert row.status is MembershipStatus.REMOVED and row.joined_at is not None and row.ended_at is not None
    with pytest.raises(NotFound):
        services.membership_of(removed.member, "riverside")


def test_a_removed_member_cannot_ask_to_join_again_but_can_be_invited_back(chapter, organizer):
    removed = MembershipFactory(chapter=chapter)
    services.remove(removed)
    with pytest.raises(Forbidden, match="removed you"):
        services.request_to_join("riverside", removed.member)
    InvitationFactory(chapter=chapter, secret="come-back", email=removed.member.email)
    assert services.accept_invitation("come-back", removed.member).status is ACTIVE


def test_a_member_leaves_and_may_ask_to_rejoin(chapter, organizer):
    leaver = MembershipFactory(chapter=chapter)
    services.leave(leaver)
    assert leaver.status is MembershipStatus.LEFT and leaver.ended_at is not None
    services.request_to_join("riverside", leaver.member)
    services.approve(leaver)
    assert leaver.status is ACTIVE and leaver.ended_at is None


def test_an_organizer_who_leaves_is_no_longer_an_organizer(chapter, organizer):
    second = MembershipFactory(chapter=chapter, organizer=True)
    services.leave(second)
    assert second.role is Role.MEMBER and not second.is_organizer


@pytest.mark.parametrize("end", [services.leave, services.remove])
def test_the_last_organizer_can_neither_leave_nor_be_removed(chapter, organizer, end):
    last = membership(chapter, organizer)
    with pytest.raises(services.LastOrganizer, match="promote someone else first"):
        end(last)
    assert last.is_organizer


def test_an_organizer_may_leave_once_another_is_promoted(chapter, organizer):
    services.promote(MembershipFactory(chapter=chapter))
    services.leave(membership(chapter, organizer))
    assert not membership(chapter, organizer).is_organizer


# Several chapters ----------------------------------------------------------------------------


def test_a_member_belongs_to_several_chapters_independently(chapter):
    other = ChapterFactory(name="Hillside", slug="hillside")
    member = MemberFactory()
    MembershipFactory(chapter=chapter, member=member)
    MembershipFactory(chapter=other, member=member, organizer=True)
    MembershipFactory(chapter=other, organizer=True)
    assert services.membership_of(member, "hillside").is_organizer
    assert not services.membership_of(member, "riverside").is_organizer
    assert services.organizer_of(member, "hillside").chapter == other
    with pytest.raises(Forbidden):
        services.organizer_of(member, "riverside")
    services.leave(services.membership_of(member, "hillside"))
    assert services.membership_of(member, "riverside").status is ACTIVE
    with pytest.raises(NotFound):
        services.membership_of(member, "hillside")


def test_shares_chapter_only_counts_active_memberships_in_a_common_chapter(chapter):
    me, neighbour, stranger, former = (MemberFactory() for _ in range(4))
    for member in (me, neighbour):
        MembershipFactory(chapter=chapter, member=member)
    MembershipFactory(member=stranger)
    MembershipFactory(chapter=chapter, member=former, status=MembershipStatus.REMOVED)
    assert shares_chapter(me, neighbour.id)
    assert not shares_chapter(me, stranger.id)
    assert not shares_chapter(me, former.id)


# Creating chapters ---------------------------------------------------------------------------


def test_creating_a_chapter_makes_its_first_organizer():
    founder = MemberFactory(email="founder@example.org")
    chapter = services.create_chapter("North Side Pros!", organizer_email="FOUNDER@example.org")
    assert chapter.slug == "north-side-pros"
    assert services.organizer_of(founder, "north-side-pros").chapter == chapter


def test_a_chapter_slug_is_unique():
    MemberFactory(email="founder@example.org")
    services.create_chapter("Riverside", organizer_email="founder@example.org")
    with pytest.raises(services.ChapterExists, match="'riverside' already exists"):
        services.create_chapter("Other", organizer_email="founder@example.org", slug="Riverside")
