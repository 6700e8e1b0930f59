"""factory-boy factories for every model; they flush into the test's session."""

from datetime import timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory
from werkzeug.security import generate_password_hash

from referral_hub.accounts.models import AccountLink, LinkPurpose, Member
from referral_hub.chapters.models import Chapter, Invitation, Membership, MembershipStatus, Role
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.introductions.models import (
    Consent, CreditNote, Introduction, IntroState, Outcome, OutcomeKind,
)
from referral_hub.introductions.notes import fingerprint
from referral_hub.mail.models import OutboxMessage
from referral_hub.needs.models import Need
from referral_hub.tokens import digest

PASSWORD = "correct horse battery"
PASSWORD_HASH = generate_password_hash(PASSWORD)  # once: scrypt is slow by design


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class MemberFactory(BaseFactory):
    class Meta:
        model = Member

    display_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"member{n}@example.org")
    email_key = factory.LazyAttribute(lambda o: o.email.lower())
    password_hash = PASSWORD_HASH
    email_verified_at = factory.LazyFunction(utcnow)
    headline = factory.Faker("catch_phrase")
    expertise = "bookkeeping, payroll"

    class Params:
        unverified = factory.Trait(email_verified_at=None)


class ChapterFactory(BaseFactory):
    class Meta:
        model = Chapter

    name = factory.Sequence(lambda n: f"Chapter {n}")
    slug = factory.Sequence(lambda n: f"chapter-{n}")


class MembershipFactory(BaseFactory):
    class Meta:
        model = Membership

    chapter = factory.SubFactory(ChapterFactory)
    member = factory.SubFactory(MemberFactory)
    role = Role.MEMBER
    status = MembershipStatus.ACTIVE
    requested_at = factory.LazyFunction(utcnow)
    joined_at = factory.LazyFunction(utcnow)

    class Params:
        organizer = factory.Trait(role=Role.ORGANIZER)
        pending = factory.Trait(status=MembershipStatus.PENDING, joined_at=None)


class InvitationFactory(BaseFactory):
    class Meta:
        model = Invitation
        exclude = ("secret",)

    secret = factory.Sequence(lambda n: f"invitation-secret-{n}")
    chapter = factory.SubFactory(ChapterFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    invited_by = factory.SubFactory(MemberFactory)
    token_hash = factory.LazyAttribute(lambda o: digest(o.secret))
    created_at = factory.LazyFunction(utcnow)
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=14))


class AccountLinkFactory(BaseFactory):
    class Meta:
        model = AccountLink
        exclude = ("secret",)

    secret = factory.Sequence(lambda n: f"account-link-secret-{n}")
    member = factory.SubFactory(MemberFactory)
    purpose = LinkPurpose.VERIFY_EMAIL
    token_hash = factory.LazyAttribute(lambda o: digest(o.secret))
    created_at = factory.LazyFunction(utcnow)
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=3))


class OutboxMessageFactory(BaseFactory):
    class Meta:
        model = OutboxMessage

    template = "verify_email"
    to_address = factory.Sequence(lambda n: f"recipient{n}@example.org")
    subject = "Hello"
    body_text = "Hello in text"
    body_html = "<p>Hello in HTML</p>"
    message_id = factory.Sequence(lambda n: f"<test-{n}@referral-hub.local>")


class NeedFactory(BaseFactory):
    class Meta:
        model = Need

    chapter = factory.SubFactory(ChapterFactory)
    asker = factory.SubFactory(MemberFactory)
    title = factory.Sequence(lambda n: f"Looking for help number {n}")
    details = "Someone who knows restaurant accounting and can start next month."
    created_at = factory.LazyFunction(utcnow)
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=30))


class IntroductionFactory(BaseFactory):
    class Meta:
        model = Introduction

    chapter = factory.SubFactory(ChapterFactory)
    introducer = factory.SubFactory(MemberFactory)
    first = factory.SubFactory(MemberFactory)
    second = factory.SubFactory(MemberFactory)
    pair_low_id = factory.LazyAttribute(lambda o: min(o.first.id, o.second.id))
    pair_high_id = factory.LazyAttribute(lambda o: max(o.first.id, o.second.id))
    note = factory.Sequence(lambda n: f"You both work with family restaurants and should compare notes, {n}.")
    note_fingerprint = factory.LazyAttribute(lambda o: fingerprint(o.note))
    created_at = factory.LazyFunction(utcnow)
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=14))

    class Params:
        completed = factory.Trait(state=IntroState.COMPLETED, completed_at=factory.LazyFunction(utcnow),
                                  credit_note=CreditNote.CREDITED)


class ConsentFactory(BaseFactory):
    class Meta:
        model = Consent
        exclude = ("secret",)

    secret = factory.Sequence(lambda n: f"consent-secret-{n}")
    introduction = factory.SubFactory(IntroductionFactory)
    member = factory.LazyAttribute(lambda o: o.introduction.first)
    token_hash = factory.LazyAttribute(lambda o: digest(o.secret))


class OutcomeFactory(BaseFactory):
    class Meta:
        model = Outcome

    introduction = factory.SubFactory(IntroductionFactory, completed=True)
    reported_by = factory.LazyAttribute(lambda o: o.introduction.first)
    kind = OutcomeKind.MET
