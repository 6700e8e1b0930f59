"""factory-boy factories for every model; they flush into the test's session."""

import hashlib
from datetime import UTC, datetime, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory
from werkzeug.security import generate_password_hash

from referral_hub.accounts.models import (
    AccountLink,
    LinkPurpose,
    Member,
    MemberPhoto,
    MemberSession,
    RecoveryCode,
    TwoFactor,
    email_key_of,
)
from referral_hub.chapters.models import (
    Chapter,
    ChapterPolicy,
    ChapterSettingChange,
    Invitation,
    Membership,
    MembershipStatus,
    PolicyChange,
    Role,
)
from referral_hub.chapters.policy import update_policy
from referral_hub.chapters.settings import change_settings
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.introductions.guests import address_keys
from referral_hub.introductions.models import (
    Consent,
    CreditNote,
    GuestSuppression,
    Introduction,
    IntroState,
    Outcome,
    OutcomeKind,
)
from referral_hub.introductions.notes import fingerprint
from referral_hub.jobs.models import JobRun, RunOutcome
from referral_hub.ledger import posting
from referral_hub.ledger.models import (
    Kind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
)
from referral_hub.mail.models import OutboxAttachment, OutboxMessage
from referral_hub.needs.models import Need
from referral_hub.relationships.digest import iso_week as week_of
from referral_hub.relationships.models import (
    DigestDelivery,
    Interaction,
    InteractionKind,
    IntroRequest,
    NudgeResponse,
    Relationship,
    RequestState,
)
from referral_hub.relationships.nudges import NUDGE_AFTER, SNOOZE
from referral_hub.relationships.strength import record
from referral_hub.reports.models import (
    TOKEN_PREFIX,
    ApiToken,
    ChapterDay,
    CompletionDuration,
    CompletionHours,
    MemberFigures,
    TransactionDay,
)
from referral_hub.tokens import digest, new_secret

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
    email_key = factory.LazyAttribute(lambda o: email_key_of(o.email))
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
    display_name = factory.SelfAttribute("member.display_name")
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


class MemberSessionFactory(BaseFactory):
    """A signed-in session (its secret is not kept: sign in through `sessions.start` to get one)."""

    class Meta:
        model = MemberSession

    id = factory.LazyFunction(lambda: new_secret()[1])
    member = factory.SubFactory(MemberFactory)
    user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
    address = "198.51.100.7"


class TwoFactorFactory(BaseFactory):
    """A two-factor set-up waiting for its first code (tests turn it on with `two_factor` services)."""

    class Meta:
        model = TwoFactor

    member_id = factory.LazyFunction(lambda: MemberFactory().id)
    secret_encrypted = b"set up by two_factor.begin_setup in tests that need a real secret"


class RecoveryCodeFactory(BaseFactory):
    class Meta:
        model = RecoveryCode

    member_id = factory.LazyFunction(lambda: MemberFactory().id)
    code_hash = factory.LazyFunction(lambda: new_secret()[1])


class MemberPhotoFactory(BaseFactory):
    """One stored size of a photo (real photos come from `accounts.photos.set_photo`)."""

    class Meta:
        model = MemberPhoto

    member_id = factory.LazyFunction(lambda: MemberFactory().id)
    size = 96
    content_type = "image/webp"
    data = b"RIFF\x00\x00\x00\x00WEBP"
    content_hash = factory.LazyAttribute(lambda o: hashlib.sha256(o.data).hexdigest())


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


class OutboxAttachmentFactory(BaseFactory):
    """An inline image of a message (real ones come from `accounts.photos.in_email`)."""

    class Meta:
        model = OutboxAttachment

    message_id = factory.LazyFunction(lambda: OutboxMessageFactory().id)
    content_id = factory.Sequence(lambda n: f"photo-{n}@referral-hub.local")
    content_type = "image/webp"
    data = b"RIFF\x00\x00\x00\x00WEBP"


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
        completed = factory.Trait(
            state=IntroState.COMPLETED,
            completed_at=factory.LazyFunction(utcnow),
            credit_note=CreditNote.CREDITED,
        )


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


# Ledger: balances are a cache of entries, so ledger rows are posted by the ledger's own service.


class LedgerAccountFactory(BaseFactory):
    """A member's account in a chapter they belong to (its composite key names the membership); pass
    `membership=` to choose whose. `credits=` grants credits through the ledger, so the cached balance
    always equals the entries; `pool=True` makes the chapter's pool instead."""

    class Meta:
        model = LedgerAccount
        exclude = ("membership",)

    membership = factory.SubFactory(MembershipFactory)
    chapter = factory.SelfAttribute("membership.chapter")
    member = factory.SelfAttribute("membership.member")
    balance = 0
    created_at = factory.LazyFunction(utcnow)

    class Params:
        pool = factory.Trait(membership=None, chapter=factory.SubFactory(ChapterFactory), member=None)

    @factory.post_generation
    def credits(account, create, amount, **_kwargs):  # noqa: N805 - factory-boy passes the object
        if create and amount:
            posting.post(
                account.chapter,
                key=f"factory:credits:{account.id}",
                kind=Kind.GRANT,
                memo="Credits to start with",
                caused_by=None,
                entries=[(posting.POOL, -amount), (account.member, amount)],
            )


class LedgerTransactionFactory(BaseFactory):
    """A transaction posted by `posting.post`: an organizer's grant of `amount` credits from the pool to
    a new member of the chapter. `reversal=True` posts a grant and then the reversal that mirrors it."""

    class Meta:
        model = LedgerTransaction
        exclude = ("membership",)

    chapter = factory.SubFactory(ChapterFactory)
    membership = factory.SubFactory(MembershipFactory, chapter=factory.SelfAttribute("..chapter"))
    kind = Kind.GRANT
    idempotency_key = factory.Sequence(lambda n: f"factory:{n}")
    memo = "Thanks for hosting the breakfast"
    caused_by = None
    entries = factory.LazyAttribute(lambda o: [(posting.POOL, -o.amount), (o.membership.member, o.amount)])

    class Params:
        amount = 5
        reversal = factory.Trait(
            reverses=factory.SubFactory("tests.factories.LedgerTransactionFactory"),
            chapter=factory.SelfAttribute("reverses.chapter"),
            membership=None,
            kind=Kind.REVERSAL,
            memo="Granted by mistake",
            entries=factory.LazyAttribute(
                lambda o: [(entry.account.member, -entry.amount) for entry in o.reverses.entries]
            ),
        )

    @classmethod
    def _create(cls, model_class, *, chapter, idempotency_key, **details):
        return posting.post(chapter, key=idempotency_key, **details)


class LedgerEntryFactory(BaseFactory):
    """The member's leg of a posted transaction: an entry never exists without the legs that balance it."""

    class Meta:
        model = LedgerEntry

    transaction = factory.SubFactory(LedgerTransactionFactory, amount=factory.SelfAttribute("..amount"))

    class Params:
        amount = 5

    @classmethod
    def _create(cls, model_class, *, transaction):
        return next(entry for entry in transaction.entries if entry.account.member_id is not None)


class ChapterPolicyFactory(BaseFactory):
    """A chapter's stored policy: DESIGN.md's defaults except the settings given (`need_cost=0`)."""

    class Meta:
        model = ChapterPolicy
        exclude = ("chapter",)

    chapter = factory.SubFactory(ChapterFactory)
    chapter_id = factory.SelfAttribute("chapter.id")
    updated_at = factory.LazyFunction(utcnow)

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        return {**ChapterPolicy.defaults(kwargs["chapter_id"]).settings(), **kwargs}


class PolicyChangeFactory(BaseFactory):
    """One setting changed by an organizer through `update_policy`, so the chapter's policy
    row holds the new value the history records (and `old_value` is what it really was)."""

    class Meta:
        model = PolicyChange
        exclude = ("chapter", "organizer")

    chapter = factory.SubFactory(ChapterFactory)
    organizer = factory.SubFactory(
        MembershipFactory, chapter=factory.SelfAttribute("..chapter"), organizer=True
    )
    chapter_id = factory.SelfAttribute("chapter.id")
    changed_by = factory.SelfAttribute("organizer.member")
    setting = "need_cost"
    # Never the default (2), and a different value each time: every call is a change.
    new_value = factory.Sequence(lambda n: 3 + n % 98)

    @classmethod
    def _create(cls, model_class, *, chapter_id, setting, new_value, changed_by):
        [change] = update_policy(
            db.session.get(Chapter, chapter_id), changed_by=changed_by, settings={setting: new_value}
        )
        return change


class ChapterSettingChangeFactory(BaseFactory):
    """A chapter's currency set by an organizer through `change_settings`, so the chapter row holds
    the value the history records."""

    class Meta:
        model = ChapterSettingChange
        exclude = ("chapter", "organizer")

    chapter = factory.SubFactory(ChapterFactory)
    organizer = factory.SubFactory(
        MembershipFactory, chapter=factory.SelfAttribute("..chapter"), organizer=True
    )
    chapter_id = factory.SelfAttribute("chapter.id")
    changed_by = factory.SelfAttribute("organizer.member")
    new_value = factory.Iterator(["EUR", "USD", "GBP", "JPY", "MXN"])

    @classmethod
    def _create(cls, model_class, *, chapter_id, new_value, changed_by):
        chapter = db.session.get(Chapter, chapter_id)
        [change] = change_settings(chapter, changed_by=changed_by, currency=new_value)
        return change


class GuestSuppressionFactory(BaseFactory):
    """An address on the "never send me introductions" list, as its keyed hash."""

    class Meta:
        model = GuestSuppression

    key = factory.Sequence(lambda n: address_keys(f"never{n}@example.org")[0])


# Reports


class ApiTokenFactory(BaseFactory):
    """A token of an organizer of its chapter; pass `secret=` to know the bearer token it hashes."""

    class Meta:
        model = ApiToken
        exclude = ("secret", "organizer")

    secret = factory.Sequence(lambda n: f"{TOKEN_PREFIX}factory-secret-{n}")
    organizer = factory.SubFactory(MembershipFactory, organizer=True)
    chapter = factory.SelfAttribute("organizer.chapter")
    member = factory.SelfAttribute("organizer.member")
    name = factory.Sequence(lambda n: f"Spreadsheet {n}")
    token_hash = factory.LazyAttribute(lambda o: digest(o.secret))
    created_at = factory.LazyFunction(utcnow)

    class Params:
        revoked = factory.Trait(revoked_at=factory.LazyAttribute(lambda o: o.created_at))


# The reports' kept figures: the services keep them; these rows stand alone (reports verify would
# call them different from the source tables unless the sources say the same).


class ChapterDayFactory(BaseFactory):
    class Meta:
        model = ChapterDay

    chapter_id = factory.LazyFunction(lambda: ChapterFactory().id)
    day = factory.LazyFunction(lambda: utcnow().date())


class MemberFiguresFactory(BaseFactory):
    class Meta:
        model = MemberFigures

    chapter_id = factory.LazyFunction(lambda: ChapterFactory().id)
    member_id = factory.LazyFunction(lambda: MemberFactory().id)


class CompletionDurationFactory(BaseFactory):
    class Meta:
        model = CompletionDuration
        exclude = ("introduction",)

    introduction = factory.SubFactory(IntroductionFactory, completed=True)
    introduction_id = factory.SelfAttribute("introduction.id")
    chapter_id = factory.SelfAttribute("introduction.chapter_id")
    completed_at = factory.SelfAttribute("introduction.completed_at")
    hours = 0.0
    whole_hours = 0


class CompletionHoursFactory(BaseFactory):
    class Meta:
        model = CompletionHours

    chapter_id = factory.LazyFunction(lambda: ChapterFactory().id)
    day = factory.LazyFunction(lambda: utcnow().date())
    whole_hours = 0
    completions = 1


class TransactionDayFactory(BaseFactory):
    class Meta:
        model = TransactionDay

    chapter_id = factory.LazyFunction(lambda: ChapterFactory().id)
    day = factory.LazyFunction(lambda: utcnow().date())
    transactions = 1


# Relationships: a pair's strength is a cache of its interactions, so interactions are recorded by
# the relationships service, which folds each into the pair's row.


class InteractionFactory(BaseFactory):
    """A one-to-one between two members, today, recorded through `relationships.record`."""

    class Meta:
        model = Interaction
        exclude = ("first", "second")

    first = factory.SubFactory(MemberFactory)
    second = factory.SubFactory(MemberFactory)
    pair_low_id = factory.LazyAttribute(lambda o: min(o.first.id, o.second.id))
    pair_high_id = factory.LazyAttribute(lambda o: max(o.first.id, o.second.id))
    kind = InteractionKind.ONE_TO_ONE
    occurred_at = factory.LazyFunction(utcnow)
    event_key = factory.Sequence(lambda n: f"factory:{n}")

    class Params:
        # Quiet for longer than keep-in-touch waits before it nudges.
        lapsed = factory.Trait(
            occurred_at=factory.LazyFunction(lambda: utcnow() - NUDGE_AFTER - timedelta(days=1))
        )

    @classmethod
    def _create(cls, model_class, *, pair_low_id, pair_high_id, kind, **details):
        return db.session.get(model_class, record(pair_low_id, pair_high_id, kind, **details))


class RelationshipFactory(BaseFactory):
    """The pair row that recording `interaction` (an InteractionFactory) folded its weight into.
    `lapsed=True`: a pair strong enough to be worth keeping in touch with, quiet long enough to nudge."""

    class Meta:
        model = Relationship
        exclude = ("interaction",)

    interaction = factory.SubFactory(InteractionFactory)
    pair_low_id = factory.SelfAttribute("interaction.pair_low_id")
    pair_high_id = factory.SelfAttribute("interaction.pair_high_id")

    class Params:
        # A whole SubFactory: a trait's `interaction__kind` would drop the kind when the trait is off.
        lapsed = factory.Trait(
            interaction=factory.SubFactory(
                InteractionFactory, kind=InteractionKind.BUSINESS_CLOSED, lapsed=True
            )
        )

    @classmethod
    def _create(cls, model_class, *, pair_low_id, pair_high_id):
        # The service wrote the row with an upsert the session has not seen.
        return db.session.get(model_class, (pair_low_id, pair_high_id), populate_existing=True)


class NudgeResponseFactory(BaseFactory):
    """A member snoozed the nudge about the other member of a lapsed relationship; `dismissed=True`
    dismisses it for that lapse instead."""

    class Meta:
        model = NudgeResponse
        exclude = ("relationship",)

    relationship = factory.SubFactory(RelationshipFactory, lapsed=True)
    member_id = factory.SelfAttribute("relationship.pair_low_id")
    other_id = factory.SelfAttribute("relationship.pair_high_id")
    snoozed_until = factory.LazyFunction(lambda: utcnow() + SNOOZE)
    updated_at = factory.LazyFunction(utcnow)

    class Params:
        dismissed = factory.Trait(
            snoozed_until=None, dismissed_lapse_at=factory.SelfAttribute("relationship.last_interaction_at")
        )


class IntroRequestFactory(BaseFactory):
    """An open request from a member to a connector for an introduction to a target, all three in the
    chapter. Free (cost 0), so no ledger charge has to match it: `connectors.ask` makes a paid one."""

    class Meta:
        model = IntroRequest
        exclude = ("asker_membership", "connector_membership", "target_membership")

    chapter = factory.SubFactory(ChapterFactory)
    asker_membership = factory.SubFactory(MembershipFactory, chapter=factory.SelfAttribute("..chapter"))
    connector_membership = factory.SubFactory(MembershipFactory, chapter=factory.SelfAttribute("..chapter"))
    target_membership = factory.SubFactory(MembershipFactory, chapter=factory.SelfAttribute("..chapter"))
    asker = factory.SelfAttribute("asker_membership.member")
    connector = factory.SelfAttribute("connector_membership.member")
    target = factory.SelfAttribute("target_membership.member")
    note = "You know us both: could you introduce me to the caterer you mentioned at breakfast?"
    cost = 0
    created_at = factory.LazyFunction(utcnow)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(days=14))

    class Params:
        declined = factory.Trait(state=RequestState.DECLINED, closed_at=factory.LazyFunction(utcnow))
        expired = factory.Trait(
            state=RequestState.EXPIRED,
            created_at=factory.LazyFunction(lambda: utcnow() - timedelta(days=15)),
            closed_at=factory.SelfAttribute("expires_at"),
        )


class DigestDeliveryFactory(BaseFactory):
    """This week's digest, sent to a member; `last_week=True`: the one before, so this week's is due."""

    class Meta:
        model = DigestDelivery
        exclude = ("member",)

    member = factory.SubFactory(MemberFactory)
    member_id = factory.SelfAttribute("member.id")
    sent_at = factory.LazyFunction(utcnow)
    iso_week = factory.LazyAttribute(lambda o: week_of(o.sent_at))

    class Params:
        last_week = factory.Trait(sent_at=factory.LazyFunction(lambda: utcnow() - timedelta(weeks=1)))


# Jobs

FIRST_HOUR = datetime(2026, 1, 1, tzinfo=UTC)


class JobRunFactory(BaseFactory):
    """A successful hourly run of the expiry job; `running=True`: still running under its lease,
    `failed=True`: a run that raised."""

    class Meta:
        model = JobRun

    job = "expire"
    # One hour after another: 2026-01-01T00, 2026-01-01T01, ...
    period = factory.Sequence(lambda n: f"{FIRST_HOUR + timedelta(hours=n):%Y-%m-%dT%H}")
    outcome = RunOutcome.SUCCEEDED
    started_at = factory.LazyFunction(utcnow)
    finished_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(seconds=1))
    lease_until = factory.LazyAttribute(lambda o: o.started_at + timedelta(minutes=15))
    holder = "worker-host:1234"
    counts = factory.LazyFunction(lambda: {"introductions": 0})

    class Params:
        running = factory.Trait(outcome=RunOutcome.RUNNING, finished_at=None, counts=None)
        failed = factory.Trait(outcome=RunOutcome.FAILED, counts=None, error="RuntimeError: it broke")
