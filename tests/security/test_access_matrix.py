"""The access-control matrix: every route × five roles, the answer each gets, what it writes and sees."""

# Two chapters: Riverbend (HOME, whose data the rows name) and Farfield (FAR). The roles are a visitor,
# Otto (a member of Farfield only), Mia (a member of Riverbend), Fred (Farfield's organizer) and Olga
# (Riverbend's organizer). Every name, need, note and memo of a chapter carries its MARK, and every
# person has a private email address and phone number: each cell checks that its answer shows no other
# chapter's marker and no contact detail the role may not see there.

import io
import re
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for
from PIL import Image
from sqlalchemy import event, select

from referral_hub.accounts import photos, sessions
from referral_hub.accounts.models import LinkPurpose
from referral_hub.chapters.models import POLICY_SETTINGS
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.introductions import guests
from referral_hub.introductions.models import Decision
from referral_hub.relationships.digest import unsubscribe_token
from referral_hub.reports.models import TOKEN_PREFIX
from tests.conftest import csrf_from
from tests.factories import (
    PASSWORD,
    AccountLinkFactory,
    ApiTokenFactory,
    ChapterFactory,
    ConsentFactory,
    InteractionFactory,
    IntroductionFactory,
    IntroRequestFactory,
    InvitationFactory,
    LedgerTransactionFactory,
    MemberFactory,
    MembershipFactory,
    NeedFactory,
)


class Role(Enum):
    ANONYMOUS = "anonymous"
    OUTSIDER = "outsider"  # a member of another chapter
    MEMBER = "member"  # a member of the chapter the data belongs to
    FOREIGN_ORGANIZER = "foreign-organizer"  # the organizer of another chapter
    ORGANIZER = "organizer"  # the organizer of the chapter the data belongs to


ANONYMOUS, OUTSIDER, MEMBER, FOREIGN_ORGANIZER, ORGANIZER = Role

# The person each logged-in role is.
PERSON_OF = {OUTSIDER: "otto", MEMBER: "mia", FOREIGN_ORGANIZER: "fred", ORGANIZER: "olga"}

# Who is in the world: key → (chapter, standing). Names carry their chapter's marker.
PEOPLE = {
    "olga": ("home", "organizer"),
    "mia": ("home", "member"),
    "pia": ("home", "member"),
    "quinn": ("home", "member"),
    "sam": ("home", "member"),
    "rex": ("home", "pending"),
    "fred": ("far", "organizer"),
    "otto": ("far", "member"),
    "fay": ("far", "member"),
    "uma": (None, "unverified"),
}
MARK = {"home": "HOMEONLY", "far": "FARONLY"}
# Riverbend's members and the address it invited: the emails its organizer sees on organizer pages.
HOME_ADDRESSES = tuple(f"email:{key}" for key, (chapter, _) in PEOPLE.items() if chapter == "home") + (
    "email:newcomer",
)
# Markers a role must never see: those of every chapter it is not a member of.
FOREIGN_MARKS = {
    ANONYMOUS: (MARK["home"], MARK["far"]),
    OUTSIDER: (MARK["home"],),
    FOREIGN_ORGANIZER: (MARK["home"],),
    MEMBER: (MARK["far"],),
    ORGANIZER: (MARK["far"],),
}

# An expected answer: a status code, or LOGIN for a redirect to the login page that comes back here.
LOGIN = "login"


@dataclass(frozen=True)
class World:
    """Plain values (no ORM objects: each cell rolls its writes back) that the matrix's rows read."""

    ids: Mapping[str, int]
    secrets: Mapping[str, str]
    text: Mapping[str, str]  # every string whose appearance a cell checks, by key
    login_ids: Mapping[Role, str]  # Flask-Login's user id of each logged-in role
    api_tokens: Mapping[Role, str]


@dataclass(frozen=True)
class Route:
    """One row: a request, the answer each role gets, the roles whose request changes the database,
    and what beyond its own data each role may see (keys of World.text)."""

    endpoint: str
    method: str
    expect: Mapping[Role, int | str]
    values: Callable[[World], dict] = lambda _world: {}
    form: Callable[[World], dict] | None = None
    writes: frozenset[Role] = frozenset()
    reveals: Mapping[Role, tuple[str, ...]] = field(default_factory=dict)
    organizer_page: bool = False
    case: str = ""

    @property
    def name(self) -> str:
        return f"{self.method} {self.endpoint}" + (f" [{self.case}]" if self.case else "")


def answers(anonymous, outsider, member, foreign_organizer, organizer) -> dict[Role, int | str]:
    return dict(zip(Role, (anonymous, outsider, member, foreign_organizer, organizer), strict=True))


def to_everyone(*keys: str) -> dict[Role, tuple[str, ...]]:
    """What a bearer link shows to whoever holds it."""
    return dict.fromkeys(Role, keys)


EVERYONE = answers(200, 200, 200, 200, 200)
LOGGED_IN = answers(LOGIN, 200, 200, 200, 200)
CHAPTER_MEMBERS = answers(LOGIN, 404, 200, 404, 200)
CHAPTER_ORGANIZERS = answers(LOGIN, 404, 403, 404, 200)
API_READ = answers(401, 401, 401, 404, 200)

EVERY_ROLE = frozenset(Role)
LOGGED_IN_ROLES = frozenset(PERSON_OF)
HOME_ROLES = frozenset({MEMBER, ORGANIZER})
THE_ORGANIZER = frozenset({ORGANIZER})

HOME = "riverbend"
FAR = "farfield"
NEW_PASSWORD = "a brand new passphrase"


def home(**values):
    """Route values for the home chapter, plus the ids each row reads from the world."""
    return lambda world: {"slug": HOME, **{name: world.ids[key] for name, key in values.items()}}


def ids(**values):
    """Route values (or query parameters) that name records of the world."""
    return lambda world: {name: world.ids[key] for name, key in values.items()}


def secret(name: str, key: str):
    """The route value that carries one of the world's link secrets."""
    return lambda world: {name: world.secrets[key]}


def fixed(**fields):
    """Values that do not depend on the world."""
    return lambda _world: fields


POLICY_DEFAULTS = {name: str(default) for name, (default, *_) in POLICY_SETTINGS.items()}
ROSTER_CSV = "name,email,headline,expertise\nRecruit,recruit@contact.example,,\n"


def a_photo() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (120, 90), (30, 90, 160)).save(output, format="PNG")
    return output.getvalue()


ROUTES: list[Route] = [
    # Cross-cutting --------------------------------------------------------------------------------
    Route("http.healthz", "GET", EVERYONE),
    # Only a scraper holding METRICS_TOKEN (unset here) gets an answer: to everyone else an unknown URL.
    Route("metrics.scrape", "GET", answers(404, 404, 404, 404, 404)),
    # Accounts ---------------------------------------------------------------------------------------
    Route("accounts.home", "GET", answers(200, 302, 302, 302, 302)),
    Route("accounts.register", "GET", EVERYONE),
    Route(
        "accounts.register",
        "POST",
        EVERYONE,  # "check your email", whether or not the address has an account
        form=fixed(display_name="Registrant", email="registrant@contact.example", password=NEW_PASSWORD),
        writes=EVERY_ROLE,
    ),
    Route("accounts.login", "GET", EVERYONE),
    Route(
        "accounts.login",
        "POST",
        answers(302, 302, 302, 302, 302),  # logging in writes its session's row
        form=lambda world: {"email": world.text["email:mia"], "password": PASSWORD},
        writes=EVERY_ROLE,
    ),
    # The code step answers only a fresh "password right" marker: without one, back to the login page.
    Route("accounts.login_code", "GET", answers(302, 302, 302, 302, 302)),
    Route("accounts.login_code", "POST", answers(302, 302, 302, 302, 302), form=fixed(code="123456")),
    Route("accounts.two_factor_settings", "GET", LOGGED_IN),
    Route(
        "accounts.begin_two_factor",
        "POST",
        answers(LOGIN, 302, 302, 302, 302),
        form=fixed(),
        writes=LOGGED_IN_ROLES,
    ),
    # Nothing set up yet: a code confirms nothing, and turns nothing off.
    Route(
        "accounts.confirm_two_factor", "POST", answers(LOGIN, 422, 422, 422, 422), form=fixed(code="123456")
    ),
    Route(
        "accounts.turn_off_two_factor", "POST", answers(LOGIN, 409, 409, 409, 409), form=fixed(code="123456")
    ),
    Route("accounts.session_list", "GET", LOGGED_IN),
    Route(
        "accounts.end_other_sessions",
        "POST",
        answers(LOGIN, 302, 302, 302, 302),
        form=fixed(),
        writes=THE_ORGANIZER,  # Olga's second session ends; the others have none
    ),
    Route(
        "accounts.end_session",
        "POST",
        answers(LOGIN, 404, 404, 404, 302),  # only Olga's own session: another's is not found
        values=secret("session_id", "olga_other_session"),
        form=fixed(),
        writes=THE_ORGANIZER,
    ),
    Route(
        "accounts.logout", "POST", answers(LOGIN, 302, 302, 302, 302), form=fixed(), writes=LOGGED_IN_ROLES
    ),
    # An email link acts for whoever holds it, logged in or not, and shows only what it is about.
    Route(
        "accounts.verify_email",
        "GET",
        EVERYONE,
        values=secret("token", "verify"),
        reveals=to_everyone("email:uma"),
    ),
    Route(
        "accounts.verify_email",
        "POST",
        answers(302, 302, 302, 302, 302),
        values=secret("token", "verify"),
        form=fixed(),
        writes=EVERY_ROLE,
    ),
    # Every role is verified already: told so, nothing sent.
    Route("accounts.resend_verification", "POST", answers(LOGIN, 302, 302, 302, 302), form=fixed()),
    Route("accounts.forgot_password", "GET", EVERYONE),
    Route(
        "accounts.forgot_password",
        "POST",
        EVERYONE,
        form=lambda world: {"email": world.text["email:uma"]},
        writes=EVERY_ROLE,
        reveals=to_everyone("email:uma"),  # the page repeats the address the visitor typed
    ),
    Route("accounts.ask_for_sign_in_link", "GET", EVERYONE),
    Route(
        "accounts.ask_for_sign_in_link",
        "POST",
        EVERYONE,
        form=lambda world: {"email": world.text["email:uma"]},
        writes=EVERY_ROLE,
        reveals=to_everyone("email:uma"),  # the page repeats the address the visitor typed
    ),
    Route(
        "accounts.sign_in_with_link",
        "GET",
        EVERYONE,
        values=secret("token", "sign_in"),
        reveals=to_everyone("email:uma"),
    ),
    Route(
        "accounts.sign_in_with_link",
        "POST",
        answers(302, 302, 302, 302, 302),
        values=secret("token", "sign_in"),
        form=fixed(),
        writes=EVERY_ROLE,
    ),
    Route("accounts.reset_password", "GET", EVERYONE, values=secret("token", "reset")),
    Route(
        "accounts.reset_password",
        "POST",
        answers(302, 302, 302, 302, 302),
        values=secret("token", "reset"),
        form=fixed(password=NEW_PASSWORD),
        writes=EVERY_ROLE,
    ),
    Route("accounts.change_password", "GET", LOGGED_IN),
    Route(
        "accounts.change_password",
        "POST",
        answers(LOGIN, 302, 302, 302, 302),
        form=fixed(current_password=PASSWORD, new_password=NEW_PASSWORD),
        writes=LOGGED_IN_ROLES,
    ),
    Route("accounts.profile", "GET", LOGGED_IN),
    Route(
        "accounts.profile",
        "POST",
        answers(LOGIN, 302, 302, 302, 302),
        form=fixed(display_name="Renamed by the matrix"),
        writes=LOGGED_IN_ROLES,
    ),
    # The member's own data: the address, the export, the account itself.
    Route("accounts.change_email", "GET", LOGGED_IN),
    Route(
        "accounts.change_email",
        "POST",
        answers(LOGIN, 200, 200, 200, 200),  # "check your new mailbox": a link sent, nothing changed yet
        form=fixed(email="moved@contact.example", password=PASSWORD),
        writes=LOGGED_IN_ROLES,
    ),
    Route("accounts.confirm_email_change", "GET", EVERYONE, values=secret("token", "change_email")),
    Route(
        "accounts.confirm_email_change",
        "POST",
        answers(302, 302, 302, 302, 302),
        values=secret("token", "change_email"),
        form=fixed(),
        writes=EVERY_ROLE,
    ),
    Route("accounts.undo_email_change", "GET", EVERYONE, values=secret("token", "undo_email_change")),
    Route(
        "accounts.undo_email_change",
        "POST",
        answers(302, 302, 302, 302, 302),
        values=secret("token", "undo_email_change"),
        form=fixed(),
        writes=EVERY_ROLE,
    ),
    Route("accounts.export_data", "GET", LOGGED_IN),
    Route(
        "accounts.export_data",
        "POST",
        answers(LOGIN, 200, 200, 200, 200),
        form=fixed(),
        reveals={MEMBER: ("email:pia", "phone:pia")},  # Mia and Pia both accepted their introduction
    ),
    Route("accounts.delete_account", "GET", LOGGED_IN),
    Route(
        "accounts.delete_account",
        "POST",
        answers(LOGIN, 200, 200, 422, 422),  # each chapter's only organizer must hand over first
        form=fixed(password=PASSWORD, confirm="yes"),
        writes=frozenset({OUTSIDER, MEMBER}),
    ),
    Route(
        "accounts.upload_photo",
        "POST",
        answers(LOGIN, 302, 302, 302, 302),
        form=lambda _world: {"photo": (io.BytesIO(a_photo()), "me.png")},
        writes=LOGGED_IN_ROLES,
    ),
    # Only Pia has a photo: each role removes its own, which it does not have.
    Route("accounts.remove_photo", "POST", answers(LOGIN, 302, 302, 302, 302), form=fixed()),
    # Chapters ---------------------------------------------------------------------------------------
    # The dashboard lists the people you were introduced to with their contact details.
    Route("chapters.dashboard", "GET", LOGGED_IN, reveals={MEMBER: ("email:pia", "phone:pia")}),
    Route("chapters.members", "GET", CHAPTER_MEMBERS, values=home()),
    Route("chapters.member_profile", "GET", CHAPTER_MEMBERS, values=ids(member_id="pia")),
    Route(
        "chapters.member_photo",
        "GET",
        CHAPTER_MEMBERS,
        values=lambda world: {"member_id": world.ids["pia"], "size": 96},
    ),
    Route(
        "chapters.request_to_join",
        "POST",
        answers(LOGIN, 302, 302, 302, 302),
        form=fixed(slug=HOME),
        writes=frozenset({OUTSIDER, FOREIGN_ORGANIZER}),  # Riverbend's own members are told they are in
    ),
    Route(
        "chapters.join",
        "GET",
        EVERYONE,
        values=secret("token", "invitation"),
        reveals=to_everyone("chapter:home", "name:olga"),
    ),
    Route(
        "chapters.join",
        "POST",
        answers(LOGIN, 403, 403, 403, 403),
        values=secret("token", "invitation"),
        form=fixed(),
        # Only the invited address joins: none of the roles is the newcomer it was sent to.
    ),
    Route(
        "chapters.leave",
        "POST",
        answers(LOGIN, 404, 302, 404, 302),  # the chapter's only organizer is told she cannot leave
        values=home(),
        form=fixed(confirm="yes"),
        writes=frozenset({MEMBER}),
    ),
    Route("chapters.organize", "GET", CHAPTER_ORGANIZERS, values=home(), organizer_page=True),
    Route("chapters.organize_members", "GET", CHAPTER_ORGANIZERS, values=home(), organizer_page=True),
    Route("chapters.organize_invitations", "GET", CHAPTER_ORGANIZERS, values=home(), organizer_page=True),
    Route("chapters.organize_settings", "GET", CHAPTER_ORGANIZERS, values=home(), organizer_page=True),
    Route(
        "chapters.organize_settings",
        "POST",
        answers(LOGIN, 404, 403, 404, 302),
        values=home(),
        form=fixed(timezone="Europe/Madrid", language="en", currency="EUR"),
        writes=THE_ORGANIZER,
        organizer_page=True,
    ),
    *(
        Route(
            f"chapters.{action}_invitation",
            "POST",
            answers(LOGIN, 404, 403, 404, 302),
            values=home(invitation_id="invitation"),
            form=fixed(**confirmation),
            writes=THE_ORGANIZER,
        )
        for action, confirmation in (("resend", {}), ("cancel", {"confirm": "yes"}))
    ),
    Route(
        "chapters.invite",
        "POST",
        answers(LOGIN, 404, 403, 404, 302),
        values=home(),
        form=fixed(email="invitee@contact.example"),
        writes=THE_ORGANIZER,
        organizer_page=True,
    ),
    Route(
        "chapters.membership_action",
        "POST",
        answers(LOGIN, 404, 403, 404, 302),
        values=lambda world: {"slug": HOME, "member_id": world.ids["rex"], "action": "approve"},
        form=fixed(),
        writes=THE_ORGANIZER,
    ),
    Route(
        "chapters.membership_action",
        "POST",
        answers(LOGIN, 404, 403, 404, 404),
        values=lambda world: {"slug": HOME, "member_id": world.ids["fay"], "action": "promote"},
        form=fixed(),
        case="a member of another chapter",
    ),
    # Needs ------------------------------------------------------------------------------------------
    Route("needs.board", "GET", CHAPTER_MEMBERS, values=home()),
    Route("needs.new", "GET", CHAPTER_MEMBERS, values=home()),
    Route(
        "needs.new",
        "POST",
        answers(LOGIN, 404, 302, 404, 302),
        values=home(),
        form=fixed(title="A printer for the spring fair", details="Two hundred flyers by next Friday."),
        writes=HOME_ROLES,
    ),
    Route("needs.detail", "GET", CHAPTER_MEMBERS, values=ids(need_id="need")),
    Route(
        "needs.finish",
        "POST",
        answers(LOGIN, 404, 302, 404, 302),  # Mia asked; the organizer is told only the asker closes it
        values=lambda world: {"need_id": world.ids["need"], "action": "close"},
        form=fixed(confirm="yes"),
        writes=frozenset({MEMBER}),
    ),
    # Introductions ----------------------------------------------------------------------------------
    Route("introductions.new", "GET", LOGGED_IN),
    Route("introductions.new", "GET", CHAPTER_MEMBERS, values=ids(need="need"), case="for a need"),
    Route(
        "introductions.new",
        "POST",
        answers(LOGIN, 422, 302, 422, 302),  # outsiders neither introduce Riverbend's members nor see names
        form=lambda world: {
            "first_id": world.ids["pia"],
            "second_id": world.ids["quinn"],
            "note": "Pia and Quinn both run family bakeries and should compare flour suppliers.",
        },
        writes=HOME_ROLES,
    ),
    Route(
        "introductions.new",
        "POST",
        answers(LOGIN, 404, 422, 404, 302),  # the need's asker cannot introduce herself
        values=ids(need="need"),
        form=lambda world: {
            "first_id": world.ids["mia"],
            "second_id": world.ids["quinn"],
            "note": "Quinn caters weddings and can handle the sixty guests of the spring fair.",
        },
        writes=THE_ORGANIZER,
        case="for a need",
    ),
    Route(
        "introductions.new",
        "POST",
        answers(LOGIN, 404, 422, 404, 422),
        values=ids(need="need"),
        form=lambda world: {
            "first_id": world.ids["quinn"],
            "second_id": world.ids["fay"],
            "note": "Quinn and Fay would both like to cater the spring fair together.",
        },
        case="for a need, a party from another chapter",
    ),
    Route(
        "introductions.new",
        "GET",
        LOGGED_IN,
        values=lambda world: {"first": world.ids["pia"], "second": world.ids["fay"]},
        case="pre-filled with anyone's ids",
    ),
    Route("introductions.index", "GET", LOGGED_IN),
    Route("introductions.detail", "GET", CHAPTER_MEMBERS, values=ids(intro_id="pending"), case="pending"),
    Route(
        "introductions.detail",
        "GET",
        CHAPTER_MEMBERS,
        values=ids(intro_id="completed"),
        reveals={MEMBER: ("email:pia", "phone:pia")},  # Mia and Pia both accepted
        case="completed",
    ),
    Route(
        "introductions.answer_logged_in",
        "POST",
        answers(LOGIN, 404, 302, 404, 302),  # the introducer is told only the parties answer
        values=ids(intro_id="pending"),
        form=fixed(decision="accept"),
        writes=frozenset({MEMBER}),
    ),
    Route(
        "introductions.outcome",
        "POST",
        answers(LOGIN, 404, 302, 404, 302),  # the introducer is told only the parties report
        values=ids(intro_id="completed"),
        form=fixed(kind="met"),
        writes=frozenset({MEMBER}),
    ),
    Route(
        "introductions.answer_link",
        "GET",
        answers(200, 200, 403, 200, 200),  # Sam's link: Mia, the other party, is told it is not hers
        values=secret("token", "sam_consent"),
        reveals=to_everyone("chapter:home", "name:olga", "name:mia", "name:sam", "note:pending"),
    ),
    Route(
        "introductions.answer_link",
        "POST",
        answers(302, 302, 403, 302, 302),
        values=secret("token", "sam_consent"),
        form=fixed(decision="accept"),
        writes=EVERY_ROLE - {MEMBER},
    ),
    Route("introductions.answered", "GET", EVERYONE),
    # A guest introduction: Olga introduced Mia to Gus, who is in no chapter.
    Route(
        "introductions.new",
        "POST",
        answers(LOGIN, 422, 302, 422, 302),
        form=lambda world: {
            "first_id": world.ids["pia"],
            "guest_name": "Gwen",
            "guest_email": "gwen.private@contact.example",
            "note": "Pia bakes wedding cakes and Gwen plans weddings for half the county.",
        },
        writes=HOME_ROLES,
        case="to a guest",
    ),
    Route(
        "introductions.detail",
        "GET",
        CHAPTER_MEMBERS,
        values=ids(intro_id="guest_pending"),
        reveals={ORGANIZER: ("email:guest",)},  # only the introducer sees the address before completion
        case="to a guest, pending",
    ),
    Route(
        "introductions.answer_link",
        "GET",
        answers(200, 200, 403, 200, 200),  # Mia, the other party, is told it is not hers
        values=secret("token", "guest_consent"),
        reveals=to_everyone("chapter:home", "name:olga", "name:mia", "note:guest"),
        case="the guest's link",
    ),
    Route(
        "introductions.answer_link",
        "POST",
        answers(302, 302, 403, 302, 302),
        values=secret("token", "guest_consent"),
        form=fixed(decision="accept", phone="555 0100", company="Gus & Co"),
        writes=EVERY_ROLE - {MEMBER},
        case="the guest's link",
    ),
    Route("introductions.never", "GET", EVERYONE, values=secret("token", "guest_never")),
    Route(
        "introductions.never",
        "POST",
        EVERYONE,
        values=secret("token", "guest_never"),
        form=fixed(),
        writes=EVERY_ROLE,
    ),
    # Ledger -----------------------------------------------------------------------------------------
    Route("ledger.mine", "GET", LOGGED_IN),
    Route("ledger.chapter_ledger", "GET", CHAPTER_ORGANIZERS, values=home(), organizer_page=True),
    Route("ledger.check", "GET", CHAPTER_ORGANIZERS, values=home(), organizer_page=True),
    Route(
        "ledger.grant",
        "POST",
        answers(LOGIN, 404, 403, 404, 302),
        values=home(),
        form=lambda world: {"member_id": world.ids["mia"], "amount": "3", "memo": "Ran the breakfast"},
        writes=THE_ORGANIZER,
        organizer_page=True,
    ),
    Route(
        "ledger.transaction",
        "GET",
        CHAPTER_ORGANIZERS,
        values=home(transaction_id="transaction"),
        organizer_page=True,
    ),
    Route(
        "ledger.transaction",
        "GET",
        answers(LOGIN, 403, 404, 404, 404),
        values=lambda world: {"slug": FAR, "transaction_id": world.ids["transaction"]},
        case="through another chapter's slug",
    ),
    Route(
        "ledger.reversal",
        "POST",
        answers(LOGIN, 404, 403, 404, 302),
        values=home(transaction_id="transaction"),
        form=fixed(memo="Granted by mistake", confirm="yes"),
        writes=THE_ORGANIZER,
        organizer_page=True,
    ),
    Route(
        "ledger.reversal",
        "POST",
        answers(LOGIN, 403, 404, 404, 404),
        values=lambda world: {"slug": FAR, "transaction_id": world.ids["transaction"]},
        form=fixed(memo="Granted by mistake", confirm="yes"),
        case="through another chapter's slug",
    ),
    Route("ledger.policy", "GET", CHAPTER_ORGANIZERS, values=home(), organizer_page=True),
    Route(
        "ledger.policy",
        "POST",
        answers(LOGIN, 404, 403, 404, 302),
        values=home(),
        form=fixed(**(POLICY_DEFAULTS | {"need_cost": "4"})),
        writes=THE_ORGANIZER,
        organizer_page=True,
    ),
    # Development mail viewer: not served outside development ----------------------------------------
    Route("mail.index", "GET", answers(404, 404, 404, 404, 404)),
    Route("mail.show", "GET", answers(404, 404, 404, 404, 404), values=fixed(name="anything")),
    Route(
        "mail.inline_image",
        "GET",
        answers(404, 404, 404, 404, 404),
        values=fixed(name="anything", content_id="photo-1-0123456789abcdef@referral-hub.local"),
    ),
    # Relationships ----------------------------------------------------------------------------------
    Route(
        "relationships.log_one_to_one",
        "POST",
        answers(LOGIN, 404, 302, 404, 302),
        values=ids(member_id="pia"),
        form=lambda _world: {"met_on": utcnow().date().isoformat(), "meeting_note": "Coffee on Main St"},
        writes=HOME_ROLES,
    ),
    Route(
        "relationships.thank",
        "POST",
        answers(LOGIN, 404, 302, 404, 302),
        values=ids(member_id="pia"),
        form=fixed(thanks_note="Thank you for the lead on the bakery."),
        writes=HOME_ROLES,
    ),
    Route(
        "relationships.ask",
        "POST",
        answers(LOGIN, 404, 302, 404, 302),
        values=ids(member_id="quinn"),
        form=lambda world: {
            "connector_id": world.ids["pia"],
            "ask_note": "You know Quinn well: could you introduce us about catering?",
        },
        writes=HOME_ROLES,
    ),
    Route(
        "relationships.ask",
        "POST",
        answers(LOGIN, 404, 422, 404, 422),
        values=ids(member_id="quinn"),
        form=lambda world: {
            "connector_id": world.ids["fay"],
            "ask_note": "You know Quinn well: could you introduce us about catering?",
        },
        case="a connector from another chapter",
    ),
    Route(
        "relationships.respond_to_nudge",
        "POST",
        answers(LOGIN, 404, 302, 404, 302),
        values=lambda world: {"member_id": world.ids["pia"], "action": "snooze"},
        form=fixed(),
        writes=HOME_ROLES,
    ),
    Route("relationships.intro_requests", "GET", LOGGED_IN),
    Route(
        "relationships.intro_request",
        "GET",
        answers(LOGIN, 404, 200, 404, 404),  # Pia asked Mia: only the two of them see it
        values=ids(request_id="request"),
    ),
    Route(
        "relationships.decline_request",
        "POST",
        answers(LOGIN, 404, 302, 404, 404),
        values=ids(request_id="request"),
        form=fixed(),
        writes=frozenset({MEMBER}),
    ),
    Route(
        "relationships.unsubscribe",
        "GET",
        EVERYONE,
        values=secret("token", "unsubscribe"),
        reveals=to_everyone("name:pia"),
    ),
    Route(
        "relationships.unsubscribe",
        "POST",
        EVERYONE,
        values=secret("token", "unsubscribe"),
        form=fixed(),
        writes=EVERY_ROLE,
        reveals=to_everyone("name:pia"),
    ),
    # The reports API: a Bearer token of the chapter, never a session cookie ---------------------------
    Route("api.chapters_list", "GET", answers(401, 401, 401, 200, 200)),
    *(
        Route(f"api.{report}", "GET", API_READ, values=home())
        for report in ("summary", "members", "introductions", "needs", "ledger", "activity")
    ),
    *(
        Route(
            f"api.{report}",
            "GET",
            answers(401, 401, 401, 200, 404),
            values=fixed(slug=FAR),
            case="the other chapter",
        )
        for report in ("summary", "members", "introductions", "needs", "ledger", "activity")
    ),
    Route("api_docs.openapi_document", "GET", EVERYONE),
    Route("api_docs.docs_page", "GET", EVERYONE),
    Route("api_docs.docs_asset", "GET", EVERYONE, values=fixed(filename="swagger-ui.css")),
    # API tokens and roster import -------------------------------------------------------------------
    Route("reports.tokens", "GET", LOGGED_IN),
    Route(
        "reports.create_token",
        "POST",
        answers(LOGIN, 422, 422, 422, 200),
        form=fixed(name="Board spreadsheet", chapter=HOME),
        writes=THE_ORGANIZER,
    ),
    Route(
        "reports.revoke_token",
        "POST",
        answers(LOGIN, 404, 404, 404, 302),
        values=ids(token_id="token"),
        form=fixed(confirm="yes"),
        writes=THE_ORGANIZER,
    ),
    Route("chapters.roster_import", "GET", CHAPTER_ORGANIZERS, values=home(), organizer_page=True),
    Route(
        "chapters.roster_preview",
        "POST",
        CHAPTER_ORGANIZERS,
        values=home(),
        form=lambda _world: {"roster": (io.BytesIO(ROSTER_CSV.encode()), "roster.csv")},
        organizer_page=True,
    ),
    Route(
        "chapters.roster_confirm",
        "POST",
        answers(LOGIN, 404, 403, 404, 302),
        values=home(),
        form=fixed(rows=ROSTER_CSV),
        writes=THE_ORGANIZER,
    ),
]

# Flask's own file server for `referral_hub/static` (the stylesheet and the docs page's script):
# public files with no data behind them, served the same to everyone by design.
UNGUARDED = {"static"}


# The world ---------------------------------------------------------------------------------------


@pytest.fixture
def world() -> World:
    home_mark, far_mark = MARK["home"], MARK["far"]
    secrets = {
        "verify": "verify-secret",
        "reset": "reset-secret",
        "sign_in": "sign-in-secret",
        "invitation": "invitation-secret",
        "sam_consent": "sam-consent-secret",
        "change_email": "change-email-secret",
        "undo_email_change": "undo-email-change-secret",
        "guest_consent": "guest-consent-secret",
    }
    api_tokens = {
        FOREIGN_ORGANIZER: f"{TOKEN_PREFIX}farfield-organizer-0123456789",
        ORGANIZER: f"{TOKEN_PREFIX}riverbend-organizer-0123456789",
    }
    chapters = {
        "home": ChapterFactory(name=f"Riverbend {home_mark}", slug=HOME),
        "far": ChapterFactory(name=f"Farfield {far_mark}", slug=FAR),
    }
    text = {"chapter:home": chapters["home"].name, "email:newcomer": "newcomer.private@contact.example"}
    people, memberships = {}, {}
    for index, (key, (chapter, standing)) in enumerate(PEOPLE.items()):
        text[f"name:{key}"] = f"{key.title()} {MARK[chapter]}" if chapter else key.title()
        text[f"email:{key}"] = f"{key}.private@contact.example"
        text[f"phone:{key}"] = f"+44 20 7946 0{index:03d}"
        people[key] = MemberFactory(
            display_name=text[f"name:{key}"],
            email=text[f"email:{key}"],
            phone=text[f"phone:{key}"],
            headline="",
            unverified=standing == "unverified",
        )
        if chapter:
            memberships[key] = MembershipFactory(
                chapter=chapters[chapter],
                member=people[key],
                organizer=standing == "organizer",
                pending=standing == "pending",
            )
    home, olga, mia, pia, sam = chapters["home"], people["olga"], people["mia"], people["pia"], people["sam"]

    grant = LedgerTransactionFactory(
        chapter=home, membership=memberships["mia"], amount=10, memo=f"{home_mark} memo: hosted the breakfast"
    )
    LedgerTransactionFactory(chapter=home, membership=memberships["olga"], amount=10)
    LedgerTransactionFactory(
        chapter=chapters["far"], membership=memberships["otto"], amount=10, memo=f"{far_mark} memo: a raffle"
    )
    need = NeedFactory(
        chapter=home,
        asker=mia,
        title=f"{home_mark} need: a caterer for the spring fair",
        details=f"{home_mark} details: sixty guests, half of them vegetarian.",
    )
    NeedFactory(
        chapter=chapters["far"],
        asker=people["otto"],
        title=f"{far_mark} need: a sign maker",
        details=f"{far_mark} details: a shop front, by May.",
    )

    text["note:pending"] = f"{home_mark} note: Mia and Sam both supply cafes on the high street."
    pending = IntroductionFactory(
        chapter=home, introducer=olga, first=mia, second=sam, note=text["note:pending"]
    )
    ConsentFactory(introduction=pending, member=mia)
    ConsentFactory(introduction=pending, member=sam, secret=secrets["sam_consent"])
    completed = IntroductionFactory(
        chapter=home,
        introducer=olga,
        first=mia,
        second=pia,
        completed=True,
        note=f"{home_mark} note: Mia and Pia both cater weddings.",
    )
    for party in (mia, pia):
        ConsentFactory(introduction=completed, member=party, decision=Decision.ACCEPT, answered_at=utcnow())
    text["email:guest"] = "gus.private@contact.example"
    text["note:guest"] = f"{home_mark} note: Gus needs a caterer and Mia caters."
    guest_pending = IntroductionFactory(
        chapter=home,
        introducer=olga,
        first=mia,
        second=None,
        pair_low_id=None,
        pair_high_id=None,
        guest_key=guests.address_keys(text["email:guest"])[0],
        guest_name="Gus",
        guest_email=text["email:guest"],
        note=text["note:guest"],
    )
    ConsentFactory(introduction=guest_pending, member=mia)
    ConsentFactory(introduction=guest_pending, member=None, secret=secrets["guest_consent"])
    far_intro = IntroductionFactory(
        chapter=chapters["far"],
        introducer=people["fred"],
        first=people["otto"],
        second=people["fay"],
        note=f"{far_mark} note: Otto and Fay both print signs.",
    )
    ConsentFactory(introduction=far_intro, member=people["otto"])

    # Pia knows Mia, Olga and Quinn: either can ask her for an introduction to Quinn, and snooze a nudge.
    for other in ("mia", "olga", "quinn"):
        InteractionFactory(first=pia, second=people[other])
    intro_request = IntroRequestFactory(
        chapter=home,
        asker_membership=memberships["pia"],
        connector_membership=memberships["mia"],
        target_membership=memberships["quinn"],
        note=f"{home_mark} ask: Pia would like to meet Quinn about wedding cakes.",
    )
    token = ApiTokenFactory(organizer=memberships["olga"], secret=api_tokens[ORGANIZER])
    ApiTokenFactory(organizer=memberships["fred"], secret=api_tokens[FOREIGN_ORGANIZER])
    invitation = InvitationFactory(
        chapter=home, invited_by=olga, email=text["email:newcomer"], secret=secrets["invitation"]
    )
    photos.set_photo(pia, a_photo())
    AccountLinkFactory(member=people["uma"], secret=secrets["verify"])
    AccountLinkFactory(member=people["uma"], purpose=LinkPurpose.RESET_PASSWORD, secret=secrets["reset"])
    AccountLinkFactory(member=people["uma"], purpose=LinkPurpose.SIGN_IN, secret=secrets["sign_in"])
    olga_elsewhere = sessions.start(olga, user_agent="", address="")  # Olga is signed in on a second device
    for purpose, address in (
        (LinkPurpose.CHANGE_EMAIL, "uma.new@contact.example"),
        (LinkPurpose.UNDO_EMAIL_CHANGE, "uma.old@contact.example"),
    ):
        AccountLinkFactory(
            member=people["uma"], purpose=purpose, email=address, secret=secrets[purpose.value]
        )

    return World(
        ids={
            **{key: person.id for key, person in people.items()},
            "need": need.id,
            "pending": pending.id,
            "completed": completed.id,
            "guest_pending": guest_pending.id,
            "transaction": grant.id,
            "request": intro_request.id,
            "token": token.id,
            "invitation": invitation.id,
        },
        secrets={
            **secrets,
            "unsubscribe": unsubscribe_token(pia),
            "olga_other_session": olga_elsewhere.id,
            "guest_never": guests.never_token(guest_pending),
        },
        text=text,
        login_ids={role: signed_in(people[key]) for role, key in PERSON_OF.items()},
        api_tokens=api_tokens,
    )


def signed_in(member) -> str:
    """Flask-Login's user id of a new session of the member."""
    sessions.start(member, user_agent="", address="")
    return member.get_id()


# Checking one cell -------------------------------------------------------------------------------

# Bookkeeping that every authenticated API read updates: not a change of anything a role can see.
BOOKKEEPING_COLUMNS = {("api_tokens", "last_used_at")}


def database_state() -> dict[str, list[tuple]]:
    """Every row of every table, read on the test's connection."""
    connection = db.session.get_bind()
    state = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if (table.name, c.name) not in BOOKKEEPING_COLUMNS]
        state[table.name] = connection.execute(select(*columns).order_by(*table.primary_key.columns)).all()
    return state


READ_ONLY = re.compile(r"\s*(SELECT|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|BEGIN|PRAGMA)\b", re.I)


@contextmanager
def statements_that_may_write():
    """The statements sent meanwhile that are not known to be read-only."""
    statements = []

    def record(_connection, _cursor, statement, *_args):
        if not READ_ONLY.match(statement):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def client_as(app, world: World, role: Role):
    client = app.test_client()
    if role in world.login_ids:
        with client.session_transaction() as session:
            session["_user_id"] = world.login_ids[role]
            session["_fresh"] = True
    return client


def path_of(app, world: World, route: Route) -> str:
    with app.test_request_context():
        return url_for(route.endpoint, **route.values(world))


@dataclass(frozen=True)
class Answer:
    status: int | str  # the status code, or LOGIN
    body: str


def send(client, world: World, route: Route, role: Role, path: str) -> Answer:
    headers = {}
    if route.endpoint.startswith("api.") and role in world.api_tokens:
        headers["Authorization"] = f"Bearer {world.api_tokens[role]}"
    if route.method == "GET":
        response = client.get(path, headers=headers)
    else:
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post(path, data={**route.form(world), "csrf_token": token}, headers=headers)
    with response:  # a file sent from disk (the docs' assets) is closed here
        status = LOGIN if comes_back_after_login(response, path) else response.status_code
        # A photo's bytes are read as text too: an image can carry no marker or address either.
        return Answer(status, response.get_data().decode("utf-8", "replace"))


def comes_back_after_login(response, path: str) -> bool:
    """A redirect to the login page whose `next` is the page asked for."""
    if response.status_code != 302:
        return False
    location = urlsplit(response.headers["Location"])
    return location.path == "/login" and parse_qs(location.query).get("next") == [path]


def leaks(world: World, route: Route, role: Role, body: str) -> list[str]:
    """Contact details and other chapters' markers in the body that this role may not see here."""
    allowed = [world.text[key] for key in route.reveals.get(role, ())]
    if role in PERSON_OF:
        allowed += [world.text[f"{kind}:{PERSON_OF[role]}"] for kind in ("email", "phone")]
    if route.organizer_page and role is ORGANIZER:
        allowed += [world.text[key] for key in HOME_ADDRESSES]
    found = [
        value
        for key, value in world.text.items()
        if key.startswith(("email:", "phone:")) and value not in allowed and value in body
    ]
    for value in allowed:
        body = body.replace(value, "")
    return found + [mark for mark in FOREIGN_MARKS[role] if mark in body]


def problems_of(app, world: World, route: Route, before: dict) -> list[str]:
    """Every way the five cells of one row differ from the matrix."""
    path = path_of(app, world, route)
    endpoint, _args = app.url_map.bind("localhost").match(path.partition("?")[0], method=route.method)
    problems = [] if endpoint == route.endpoint else [f"{path} is served by {endpoint}"]
    for role in Role:
        client = client_as(app, world, role)
        cell = db.session.get_bind().begin_nested()  # each role meets the same world
        try:
            with statements_that_may_write() as statements:
                answer = send(client, world, route, role, path)
            # Reading every table is the proof; a cell that sent no writing statement skips it.
            wrote = bool(statements) and database_state() != before
        finally:
            cell.rollback()
        where = f"{route.name} {path} as {role.value}"
        if answer.status != route.expect[role]:
            problems.append(f"{where}: answered {answer.status}, expected {route.expect[role]}")
        if wrote != (role in route.writes):
            problems.append(f"{where}: {'wrote' if wrote else 'wrote nothing'}, expected the opposite")
        if found := leaks(world, route, role, answer.body):
            problems.append(f"{where}: the answer shows {found}")
    return problems


# One test per blueprint: the world is built once for all of its rows (each cell rolls back).
BLUEPRINTS = sorted({route.endpoint.partition(".")[0] for route in ROUTES})


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_each_role_gets_its_answer_writes_only_what_it_may_and_sees_nothing_else(app, world, blueprint):
    before = database_state()
    problems = [
        problem
        for route in ROUTES
        if route.endpoint.partition(".")[0] == blueprint
        for problem in problems_of(app, world, route, before)
    ]
    assert not problems, "\n".join(problems)


def test_every_route_of_the_app_has_a_row(app):
    served = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in UNGUARDED
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(route.endpoint, route.method) for route in ROUTES}
    assert sorted(served - covered) == [], "routes with no row in the access matrix"
    assert sorted(covered - served) == [], "rows for routes the app does not serve"


# The checks themselves can fail: each finds what a page really shows once its allowance is taken away.

ROUTE_NAMED = {route.name: route for route in ROUTES}


def body_of(app, world: World, route_name: str, role: Role) -> str:
    route = ROUTE_NAMED[route_name]
    answer = send(client_as(app, world, role), world, route, role, path_of(app, world, route))
    assert answer.status == 200
    return answer.body


def test_the_contact_check_finds_what_a_completed_introduction_shares(app, world):
    body = body_of(app, world, "GET introductions.detail [completed]", MEMBER)
    shared = [world.text["email:pia"], world.text["phone:pia"]]
    assert all(value in body for value in shared)
    # The same page judged as the pending introduction's, which shares nothing, is a leak.
    assert leaks(world, ROUTE_NAMED["GET introductions.detail [pending]"], MEMBER, body) == shared


def test_the_contact_check_finds_the_addresses_an_organizer_page_shows(app, world):
    body = body_of(app, world, "GET chapters.organize_members", ORGANIZER)
    # The same page judged as the directory, which never shows an address, is a leak.
    leaked = leaks(world, ROUTE_NAMED["GET chapters.members"], ORGANIZER, body)
    assert {world.text["email:mia"], world.text["email:pia"]} <= set(leaked)


def test_the_marker_check_finds_a_chapters_needs_on_its_board(app, world):
    body = body_of(app, world, "GET needs.board", MEMBER)
    assert leaks(world, ROUTE_NAMED["GET needs.board"], OUTSIDER, body) == [MARK["home"]]
