"""Demo data: a chapter of people with distinct professions and a history of introductions, outcomes,
one-to-ones, thanks and needs, all made through the services. Deterministic; idempotent by email address."""

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ..accounts.models import Member, email_key_of
from ..chapters.models import Chapter, Membership, MembershipStatus, Role
from ..clock import utcnow
from ..extensions import db
from ..introductions import answering, making, outcomes
from ..introductions.models import Decision, Introduction, OutcomeKind
from ..needs import services as needs
from ..relationships import interactions
from .demo_people import CITIES, FIRST_NAMES, LAST_NAMES, PASTIMES, PROFESSIONS, Profession, Specialty

CHAPTER_NAME = "Demo Chapter"
CHAPTER_SLUG = "demo"
ORGANIZER_EMAIL = "organizer@demo.referral-hub.local"
PASSWORD = "demo-password"  # noqa: S105 - printed for the newcomer; demo data only
SEED = 16  # the random choices (names, who meets whom) are the same on every run

# A chapter's history grows with its size up to this many introductions and one-to-ones: each
# goes through the services (emails, ledger, relationship strength), and seeding stays fast.
MAX_INTRODUCTIONS = 40

# Pairs of professions that send each other work: whom a member introduces to whom.
NEIGHBOURS = {
    "accountant": ("banker", "restaurateur", "financial_planner", "hr_consultant"),
    "architect": ("interior_designer", "electrician", "gardener", "plumber"),
    "lawyer": ("accountant", "financial_planner", "translator", "hr_consultant"),
    "web_developer": ("photographer", "copywriter", "marketer", "graphic_designer"),
    "insurance_broker": ("electrician", "plumber", "security_installer", "banker"),
    "photographer": ("web_developer", "videographer", "florist", "event_planner"),
    "printer": ("graphic_designer", "event_planner", "copywriter", "restaurateur"),
    "financial_planner": ("solicitor", "mortgage_broker", "accountant", "lawyer"),
    "estate_agent": ("mortgage_broker", "solicitor", "cleaner", "plumber"),
    "it_support": ("security_installer", "web_developer", "insurance_broker", "hr_consultant"),
    "caterer": ("event_planner", "florist", "restaurateur", "photographer"),
    "recruiter": ("hr_consultant", "coach", "translator", "accountant"),
    "graphic_designer": ("printer", "web_developer", "copywriter", "photographer"),
    "electrician": ("architect", "security_installer", "plumber", "insurance_broker"),
    "physiotherapist": ("hr_consultant", "coach", "event_planner", "caterer"),
    "banker": ("accountant", "mortgage_broker", "lawyer", "insurance_broker"),
    "marketer": ("copywriter", "videographer", "web_developer", "graphic_designer"),
    "plumber": ("estate_agent", "electrician", "architect", "restaurateur"),
    "interior_designer": ("architect", "restaurateur", "florist", "electrician"),
    "hr_consultant": ("recruiter", "lawyer", "physiotherapist", "coach"),
    "solicitor": ("estate_agent", "mortgage_broker", "financial_planner", "accountant"),
    "mortgage_broker": ("estate_agent", "solicitor", "financial_planner", "banker"),
    "translator": ("lawyer", "copywriter", "recruiter", "event_planner"),
    "videographer": ("marketer", "event_planner", "photographer", "web_developer"),
    "cleaner": ("estate_agent", "restaurateur", "gardener", "security_installer"),
    "coach": ("hr_consultant", "accountant", "recruiter", "financial_planner"),
    "event_planner": ("caterer", "florist", "videographer", "printer"),
    "gardener": ("architect", "estate_agent", "cleaner", "florist"),
    "florist": ("event_planner", "caterer", "restaurateur", "photographer"),
    "copywriter": ("marketer", "web_developer", "graphic_designer", "translator"),
    "restaurateur": ("caterer", "interior_designer", "florist", "accountant"),
    "security_installer": ("electrician", "it_support", "insurance_broker", "cleaner"),
}

# Needs the demo's members post, each with the profession that answers it.
NEEDS = (
    (
        "A bookkeeper for my growing firm",
        "Our receipts live in a shoebox and the VAT return is due next month. "
        "Who keeps books for small firms?",
        "accountant",
    ),
    (
        "Product photos for a new range",
        "We launch twelve new products in spring and need clean product photography for the shop.",
        "photographer",
    ),
    (
        "A lawyer to check a commercial lease",
        "We are about to sign a ten-year lease on a unit and would like someone to read it first.",
        "lawyer",
    ),
    (
        "Better cover for our vans",
        "Our fleet insurance renewal went up by a third. Who knows van insurance for tradespeople?",
        "insurance_broker",
    ),
    (
        "Rewiring an old workshop",
        "The workshop we bought needs rewiring and LED lighting before we move in.",
        "electrician",
    ),
    (
        "A caterer for our summer party",
        "Eighty staff and their families in a marquee in July: a buffet that copes with allergies.",
        "caterer",
    ),
    (
        "A recruiter for two technicians",
        "We cannot find maintenance technicians for the night shift. Who recruits engineers?",
        "recruiter",
    ),
    (
        "Somebody to sort out our IT",
        "Fifteen laptops, no backups and a shared password on a sticky note. We need proper IT support.",
        "it_support",
    ),
)

_ACRONYM_OR_NAME = str.isupper


@dataclass(frozen=True)
class Person:
    """Who a demo member is: the name, the trade and how they practise it."""

    first_name: str
    last_name: str
    profession: Profession
    specialty: Specialty
    city: str
    pastime: str

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def people(count: int) -> list[Person]:
    """`count` people with distinct names; the professions take turns and each turn round the list
    moves to the profession's next specialty."""
    rng = random.Random(SEED)  # noqa: S311 - demo data, no secret
    names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(names)
    result = []
    for index in range(count):
        profession = PROFESSIONS[index % len(PROFESSIONS)]
        specialty = profession.specialties[(index // len(PROFESSIONS)) % len(profession.specialties)]
        first, last = names[index]
        result.append(
            Person(
                first, last, profession, specialty, CITIES[rng.randrange(len(CITIES))], rng.choice(PASTIMES)
            )
        )
    return result


def _in_sentence(text: str) -> str:
    """`text` to follow other words: "Restaurant owners" becomes "restaurant owners", "IT" stays."""
    first_word = text.split()[0]
    return text if _ACRONYM_OR_NAME(first_word[:2]) else text[0].lower() + text[1:]


def _member(email: str, person: Person, password_hash: str) -> tuple[Member, bool]:
    member = db.session.scalar(select(Member).where(Member.email_key == email_key_of(email)))
    if member is not None:
        return member, False
    founded = 1995 + (sum(map(ord, person.display_name)) % 28)
    member = Member(
        email=email,
        email_key=email_key_of(email),
        display_name=person.display_name,
        password_hash=password_hash,
        email_verified_at=utcnow(),
        headline=person.specialty.headline,
        expertise=person.specialty.expertise,
        ideal_referral=person.specialty.ideal_referral,
        company=f"{person.last_name} {person.profession.firm}",
        city=person.city,
        bio=(
            f"{person.first_name} set up {person.last_name} {person.profession.firm} in {person.city} "
            f"in {founded}. {person.pastime.format(first=person.first_name)}"
        ),
    )
    db.session.add(member)
    return member, True


def _join(chapter: Chapter, member: Member, role: Role) -> None:
    exists = db.session.scalar(
        select(Membership.id).where(Membership.chapter_id == chapter.id, Membership.member_id == member.id)
    )
    if exists is None:
        now = utcnow()
        db.session.add(
            Membership(
                chapter=chapter,
                member=member,
                display_name=member.display_name,
                role=role,
                status=MembershipStatus.ACTIVE,
                requested_at=now,
                joined_at=now,
            )
        )


def seed(member_count: int) -> Iterator[int]:
    """Yield 1 for each member created, 0 for each that already existed (for a progress bar)."""
    password_hash = generate_password_hash(PASSWORD)  # hashed once: scrypt is slow by design
    chapter = db.session.scalar(select(Chapter).where(Chapter.slug == CHAPTER_SLUG))
    if chapter is None:
        chapter = Chapter(name=CHAPTER_NAME, slug=CHAPTER_SLUG)
        db.session.add(chapter)
    cast = people(member_count)
    members = []
    for index, person in enumerate(cast):
        email = ORGANIZER_EMAIL if index == 0 else f"member{index}@demo.referral-hub.local"
        member, created = _member(email, person, password_hash)
        db.session.flush()
        _join(chapter, member, Role.ORGANIZER if index == 0 else Role.MEMBER)
        members.append(member)
        if index:
            yield int(created)
    db.session.flush()
    _History(chapter, list(zip(members, cast, strict=True))).write()
    yield 0


class _History:
    """What the chapter has done so far: introductions completed, declined and waiting, what came of
    them, thanks, one-to-ones, and needs open and fulfilled. Written once per chapter."""

    def __init__(self, chapter: Chapter, cast: list[tuple[Member, Person]]):
        self.chapter = chapter
        self.members = [member for member, _person in cast]
        self.person = {member.id: person for member, person in cast}
        self.rng = random.Random(SEED + 1)  # noqa: S311 - demo data, no secret
        self.today = utcnow().date()
        self.introduced: set[tuple[int, int]] = set()
        self.introducers = iter(self.members[1:] * 3 + self.members[:1] * 3)

    def write(self) -> None:
        if len(self.members) < 5 or db.session.scalar(
            select(func.count()).select_from(Introduction).where(Introduction.chapter_id == self.chapter.id)
        ):
            return
        completed = self._introductions()
        self._outcomes(completed)
        self._one_to_ones()
        self._needs(completed)

    def _pairs(self) -> Iterator[tuple[Member, Member]]:
        """Members whose trades send each other work first, then anyone, in a seeded order."""
        neighbours, others = [], []
        for i, one in enumerate(self.members):
            for other in self.members[i + 1 :]:
                keys = self.person[one.id].profession.key, self.person[other.id].profession.key
                related = keys[1] in NEIGHBOURS[keys[0]] or keys[0] in NEIGHBOURS[keys[1]]
                (neighbours if related else others).append((one, other))
        self.rng.shuffle(neighbours)
        self.rng.shuffle(others)
        yield from neighbours
        yield from others

    def _note(self, first: Member, second: Member) -> str:
        one, other = self.person[first.id], self.person[second.id]
        return (
            f"{one.first_name}, meet {other.first_name}: {other.first_name} is the "
            f"{_in_sentence(other.profession.title)} I send my own clients to. {other.first_name}, "
            f"{one.first_name}'s best clients are {_in_sentence(one.specialty.ideal_referral)}. "
            "You could send each other work; have a coffee and see."
        )

    def _introduce(self, first: Member, second: Member, need_id: int | None = None) -> Introduction:
        introducer = next(m for m in self.introducers if m.id not in (first.id, second.id))
        self.introduced.add((min(first.id, second.id), max(first.id, second.id)))
        return making.introduce(
            introducer,
            first_id=first.id,
            second_id=second.id,
            note=self._note(first, second),
            need_id=need_id,
        )

    def _introductions(self) -> list[Introduction]:
        """Most are accepted by both; one in five declined by the second party; one in seven waits
        for the second answer; and one waits for the organizer, so the dashboard has something to do."""
        organizer, people = self.members[0], self.members[1:]
        count = min(MAX_INTRODUCTIONS, max(4, len(self.members) // 2))
        completed = []
        pairs = (pair for pair in self._pairs() if organizer not in pair)
        for n, (first, second) in zip(range(count), pairs, strict=False):
            intro = self._introduce(first, second)
            first_consent, second_consent = sorted(intro.consents, key=lambda c: c.member_id != first.id)
            answering.answer(first_consent, Decision.ACCEPT)
            if n % 7 == 6:
                continue
            answering.answer(second_consent, Decision.DECLINE if n % 5 == 4 else Decision.ACCEPT)
            if n % 5 != 4:
                completed.append(intro)
        self._introduce(organizer, people[-1])
        return completed

    def _outcomes(self, completed: list[Introduction]) -> None:
        """Business closed (and the receiver thanks the introducer), a meeting, not a fit, or not yet told."""
        for n, intro in enumerate(completed):
            if n % 4 == 0:
                amount = self.rng.choice((450, 800, 1_200, 2_500, 4_000, 9_500))
                outcomes.report_outcome(intro, intro.first, OutcomeKind.BUSINESS_CLOSED, amount)
                outcomes.report_outcome(intro, intro.second, OutcomeKind.MET)
                interactions.send_thanks(
                    intro.first,
                    intro.introducer_id,
                    note=f"Thank you for introducing me to {intro.second.display_name}: "
                    f"our first job together came to {amount:,}.",
                    introduction_id=intro.id,
                )
            elif n % 4 == 1:
                for party in (intro.first, intro.second):
                    outcomes.report_outcome(intro, party, OutcomeKind.MET)
            elif n % 8 == 2:
                outcomes.report_outcome(intro, intro.second, OutcomeKind.NOT_A_FIT)

    def _one_to_ones(self) -> None:
        """Members meeting the trades near theirs over the last year, some long enough ago to fade."""
        count = min(MAX_INTRODUCTIONS, len(self.members))
        for (one, other), _ in zip(self._pairs(), range(count), strict=False):
            met_on = self.today - timedelta(days=self.rng.randrange(0, 330))
            interactions.log_one_to_one(
                one,
                other.id,
                met_on=met_on,
                note=f"Coffee in {self.person[one.id].city}: talked about "
                f"{_in_sentence(self.person[other.id].specialty.ideal_referral)}.",
            )

    def _needs(self, completed: list[Introduction]) -> None:
        """Introducers spend what they earned on needs; half of them get an answer that closes business."""
        by_profession = defaultdict(list)
        for member in self.members:
            by_profession[self.person[member.id].profession.key].append(member)
        askers = list(dict.fromkeys(intro.introducer for intro in completed))
        for n, (asker, (title, details, wanted)) in enumerate(zip(askers, NEEDS, strict=False)):
            need = needs.post_need(self.chapter, asker, title=title, details=details, category="referral")
            helpers = [m for m in by_profession[wanted] if m.id != asker.id]
            if n % 2 or not helpers:
                continue
            helper = helpers[0]
            if (min(asker.id, helper.id), max(asker.id, helper.id)) in self.introduced:
                continue
            intro = self._introduce(asker, helper, need_id=need.id)
            for consent in intro.consents:
                answering.answer(consent, Decision.ACCEPT)
            amount = self.rng.choice((600, 1_500, 3_000))
            outcomes.report_outcome(intro, helper, OutcomeKind.BUSINESS_CLOSED, amount)
            needs.mark_fulfilled(need, asker)
