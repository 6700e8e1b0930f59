"""The export: everything the product holds about one member, as JSON built by marshmallow schemas.

Other people appear by id and name; a party's email and phone appear only in a completed
introduction the member was the other party of (as the product itself shares them). API tokens
appear by name and dates, never their secret (only its hash is stored anyway).
"""

import base64

from marshmallow import Schema, fields
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts import two_factor
from ..accounts.models import Member, MemberPhoto, MemberSession
from ..chapters.models import Membership
from ..clock import utcnow
from ..extensions import db
from ..introductions.models import Introduction, IntroState, Outcome
from ..ledger.models import LedgerAccount, LedgerEntry
from ..needs.models import Need
from ..relationships.models import Interaction, IntroRequest
from ..reports.models import ApiToken

FORMAT_VERSION = 1


class Person(fields.Field):
    """Another member as the export names them: id and display name."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else {"member_id": value.id, "display_name": value.display_name}


def _value(name: str) -> fields.Function:
    """An enum attribute as its value."""
    return fields.Function(lambda obj: getattr(obj, name) and getattr(obj, name).value)


class ProfileSchema(Schema):
    member_id = fields.Integer(attribute="id")
    display_name = fields.String()
    email = fields.String()
    email_verified_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    headline = fields.String()
    expertise = fields.String()
    ideal_referral = fields.String()
    company = fields.String()
    city = fields.String()
    website = fields.String()
    phone = fields.String()
    bio = fields.String()
    weekly_digest = fields.Boolean()


class MembershipSchema(Schema):
    chapter = fields.String(attribute="chapter.slug")
    chapter_name = fields.String(attribute="chapter.name")
    role = _value("role")
    status = _value("status")
    requested_at = fields.AwareDateTime()
    joined_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime()


class NeedSchema(Schema):
    need_id = fields.Integer(attribute="id")
    chapter = fields.String(attribute="chapter.slug")
    title = fields.String()
    details = fields.String()
    category = fields.String()
    status = _value("status")
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime()


class OutcomeSchema(Schema):
    kind = _value("kind")
    amount = fields.Integer(allow_none=True)
    reported_by = Person()
    created_at = fields.AwareDateTime()


class IntroductionSchema(Schema):
    """One introduction seen by `member`: their part in it and what they may know of the others."""

    def __init__(self, member: Member, outcomes: dict[int, list[Outcome]], **kwargs):
        super().__init__(**kwargs)
        self.member, self.outcomes = member, outcomes

    introduction_id = fields.Integer(attribute="id")
    chapter = fields.String(attribute="chapter.slug")
    your_part = fields.Method("part")
    state = _value("state")
    introducer = Person()
    first = Person()
    second = Person()
    note = fields.String()
    your_answer = fields.Method("answer")
    other_party_contact = fields.Method("contact")
    need_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime()
    outcomes = fields.Method("outcomes_of")

    def part(self, intro: Introduction) -> str:
        return "introducer" if intro.introducer_id == self.member.id else "party"

    def answer(self, intro: Introduction) -> str | None:
        consent = next((c for c in intro.consents if c.member_id == self.member.id), None)
        return consent.decision.value if consent and consent.decision else None

    def contact(self, intro: Introduction) -> dict | None:
        if intro.state is not IntroState.COMPLETED or intro.introducer_id == self.member.id:
            return None
        other = intro.other_party(self.member.id)
        if other is None:  # a guest erased after their retention
            return None
        return {"email": other.email, "phone": other.phone}

    def outcomes_of(self, intro: Introduction) -> list[dict]:
        return OutcomeSchema(many=True).dump(self.outcomes.get(intro.id, []))


class LedgerEntrySchema(Schema):
    transaction_id = fields.Integer(attribute="transaction.id")
    chapter = fields.String(attribute="account.chapter.slug")
    kind = fields.Function(lambda entry: entry.transaction.kind.value)
    memo = fields.String(attribute="transaction.memo")
    amount = fields.Integer()
    created_at = fields.AwareDateTime(attribute="transaction.created_at")


class InteractionSchema(Schema):
    """One thing the member did with another member; the note only when the member wrote it."""

    def __init__(self, member: Member, people: dict[int, Member], **kwargs):
        super().__init__(**kwargs)
        self.member, self.people = member, people

    kind = _value("kind")
    with_member = fields.Method("other")
    occurred_at = fields.AwareDateTime()
    weight = fields.Integer()
    recorded_by_you = fields.Method("recorded")
    note = fields.Method("own_note")
    introduction_id = fields.Integer(allow_none=True)

    def other(self, interaction: Interaction) -> dict:
        other_id = (
            interaction.pair_high_id if interaction.pair_low_id == self.member.id else interaction.pair_low_id
        )
        return Person().serialize("other", {"other": self.people[other_id]})

    def recorded(self, interaction: Interaction) -> bool:
        return interaction.recorded_by_id == self.member.id

    def own_note(self, interaction: Interaction) -> str | None:
        return interaction.note if self.recorded(interaction) else None


class ConnectorAskSchema(Schema):
    def __init__(self, member: Member, **kwargs):
        super().__init__(**kwargs)
        self.member = member

    request_id = fields.Integer(attribute="id")
    chapter = fields.String(attribute="chapter.slug")
    your_part = fields.Method("part")
    asker = Person()
    connector = Person()
    target = Person()
    note = fields.String()
    cost = fields.Integer()
    state = _value("state")
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime()
    introduction_id = fields.Integer(allow_none=True)

    def part(self, request: IntroRequest) -> str:
        return "asker" if request.asker_id == self.member.id else "connector"


class ApiTokenSchema(Schema):
    name = fields.String()
    chapter = fields.String(attribute="chapter.slug")
    created_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime()


class SessionSchema(Schema):
    """Where the member signed in: the browser and address the product kept (never the cookie's secret)."""

    created_at = fields.AwareDateTime()
    last_seen_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime()
    user_agent = fields.String()
    address = fields.String()


class PhotoSchema(Schema):
    """The largest stored size of the photo, as a data URL."""

    updated_at = fields.AwareDateTime()
    data_url = fields.Function(
        lambda photo: f"data:{photo.content_type};base64,{base64.b64encode(photo.data).decode()}"
    )


def export(member: Member) -> dict:
    """Everything about the member, in sections, oldest first within each."""
    memberships = db.session.scalars(
        select(Membership)
        .where(Membership.member_id == member.id)
        .options(joinedload(Membership.chapter))
        .order_by(Membership.id)
    ).all()
    needs = db.session.scalars(
        select(Need).where(Need.asker_id == member.id).options(joinedload(Need.chapter)).order_by(Need.id)
    ).all()
    intros = db.session.scalars(
        select(Introduction)
        .where(Introduction.involving(member.id))
        .options(
            joinedload(Introduction.chapter),
            joinedload(Introduction.introducer),
            joinedload(Introduction.first),
            joinedload(Introduction.second),
            selectinload(Introduction.consents),
        )
        .order_by(Introduction.id)
    ).all()
    outcomes: dict[int, list[Outcome]] = {}
    for outcome in db.session.scalars(
        select(Outcome)
        .where(Outcome.introduction_id.in_([intro.id for intro in intros]))
        .options(joinedload(Outcome.reported_by))
        .order_by(Outcome.id)
    ):
        outcomes.setdefault(outcome.introduction_id, []).append(outcome)
    entries = db.session.scalars(
        select(LedgerEntry)
        .join(LedgerEntry.account)
        .where(LedgerAccount.member_id == member.id)
        .options(
            joinedload(LedgerEntry.transaction),
            joinedload(LedgerEntry.account).joinedload(LedgerAccount.chapter),
        )
        .order_by(LedgerEntry.id)
    ).all()
    interactions = db.session.scalars(
        select(Interaction)
        .where(or_(Interaction.pair_low_id == member.id, Interaction.pair_high_id == member.id))
        .order_by(Interaction.occurred_at, Interaction.id)
    ).all()
    others = {i.pair_low_id for i in interactions} | {i.pair_high_id for i in interactions}
    people = {p.id: p for p in db.session.scalars(select(Member).where(Member.id.in_(others)))}
    asks = db.session.scalars(
        select(IntroRequest)
        .where(or_(IntroRequest.asker_id == member.id, IntroRequest.connector_id == member.id))
        .options(
            joinedload(IntroRequest.chapter),
            joinedload(IntroRequest.asker),
            joinedload(IntroRequest.connector),
            joinedload(IntroRequest.target),
        )
        .order_by(IntroRequest.id)
    ).all()
    tokens = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.member_id == member.id)
        .options(joinedload(ApiToken.chapter))
        .order_by(ApiToken.id)
    ).all()
    sessions = db.session.scalars(
        select(MemberSession).where(MemberSession.member_id == member.id).order_by(MemberSession.created_at)
    ).all()
    photo = db.session.scalars(
        select(MemberPhoto).where(MemberPhoto.member_id == member.id).order_by(MemberPhoto.size.desc())
    ).first()
    done_together = InteractionSchema(member, people, many=True).dump(interactions)
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": fields.AwareDateTime().serialize("now", {"now": utcnow()}),
        "profile": ProfileSchema().dump(member),
        "photo": PhotoSchema().dump(photo) if photo else None,
        "two_factor_on": two_factor.is_on(member),
        "sessions": SessionSchema(many=True).dump(sessions),
        "memberships": MembershipSchema(many=True).dump(memberships),
        "needs": NeedSchema(many=True).dump(needs),
        "introductions": IntroductionSchema(member, outcomes, many=True).dump(intros),
        "ledger_entries": LedgerEntrySchema(many=True).dump(entries),
        "interactions": done_together,
        # The notes the member wrote: thank-you notes, and the lines they logged with a one-to-one.
        "notes_sent": [
            {"to": row["with_member"], "kind": row["kind"], "note": row["note"], "at": row["occurred_at"]}
            for row in done_together
            if row["recorded_by_you"] and row["note"]
        ],
        "connector_asks": ConnectorAskSchema(member, many=True).dump(asks),
        "api_tokens": ApiTokenSchema(many=True).dump(tokens),
    }
