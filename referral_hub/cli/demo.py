"""Demo data: a chapter whose members cover varied professions. Idempotent by email address."""

from collections.abc import Iterator

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ..accounts.models import Member, email_key_of
from ..chapters.models import Chapter, Membership, MembershipStatus, Role
from ..clock import utcnow
from ..extensions import db
from ..introductions import answering, making
from ..introductions.models import Decision, Introduction
from ..needs import services as needs

CHAPTER_NAME = "Demo Chapter"
CHAPTER_SLUG = "demo"
ORGANIZER_EMAIL = "organizer@demo.referral-hub.local"
PASSWORD = "demo-password"  # noqa: S105 - printed for the newcomer; demo data only

PROFESSIONS = [
    (
        "Accountant",
        "I keep small businesses' books straight and their tax bills low",
        "bookkeeping, small business tax, payroll",
        "Owners of shops with 5 to 50 staff",
    ),
    (
        "Architect",
        "I design homes and small offices that age well",
        "residential design, renovations, planning permission",
        "Families planning an extension",
    ),
    (
        "Commercial lawyer",
        "I draft contracts that keep partners friends",
        "contracts, shareholder agreements, leases",
        "Founders about to take on a partner",
    ),
    (
        "Web developer",
        "I build fast websites for local businesses",
        "websites, online shops, search engine optimisation",
        "Shops selling online for the first time",
    ),
    (
        "Insurance broker",
        "I find the right cover for trades and professionals",
        "liability insurance, fleet insurance, key person cover",
        "Contractors with vans on the road",
    ),
    (
        "Photographer",
        "I photograph people and products for the web",
        "headshots, product photography, events",
        "Companies launching a new website",
    ),
    (
        "Printer",
        "I print what marketing teams dream up, on time",
        "brochures, signage, packaging",
        "Marketing managers with a deadline",
    ),
    (
        "Financial planner",
        "I help families plan retirement and school fees",
        "pensions, investments, estate planning",
        "Couples in their forties",
    ),
    (
        "Estate agent",
        "I sell homes in the old town quickly and quietly",
        "residential sales, valuations, lettings",
        "Homeowners thinking of moving",
    ),
    (
        "IT support",
        "I keep small offices' computers running and safe",
        "managed IT, cyber security, backups",
        "Offices of 10 to 100 people",
    ),
    (
        "Caterer",
        "I cater office lunches and company parties",
        "corporate catering, events, office lunches",
        "Office managers who organise events",
    ),
    (
        "Recruiter",
        "I find engineers for growing manufacturers",
        "engineering recruitment, executive search",
        "Manufacturing directors hiring",
    ),
    (
        "Graphic designer",
        "I give small brands a look people remember",
        "branding, logos, packaging design",
        "Start-ups before their launch",
    ),
    (
        "Electrician",
        "I wire offices, shops and workshops safely",
        "commercial electrics, lighting, EV chargers",
        "Landlords refurbishing units",
    ),
    (
        "Physiotherapist",
        "I get desk workers and athletes moving without pain",
        "back pain, sports injuries, workplace ergonomics",
        "HR managers caring for staff",
    ),
    (
        "Banker",
        "I lend to local businesses that want to grow",
        "business loans, asset finance, cash flow",
        "Owners buying equipment or premises",
    ),
]
FIRST_NAMES = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Esther",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonah",
    "Kira",
    "Levi",
    "Maya",
    "Noah",
    "Olga",
    "Reuven",
    "Sara",
    "Shimon",
    "Tariq",
    "Uma",
]
CITIES = ["Riverton", "Old Town", "Harbourside", "Northgate"]


def _member(email: str, display_name: str, password_hash: str, index: int) -> tuple[Member, bool]:
    member = db.session.scalar(select(Member).where(Member.email_key == email_key_of(email)))
    if member is not None:
        return member, False
    profession, headline, expertise, ideal = PROFESSIONS[index % len(PROFESSIONS)]
    member = Member(
        email=email,
        email_key=email_key_of(email),
        display_name=display_name,
        password_hash=password_hash,
        email_verified_at=utcnow(),
        headline=headline,
        expertise=expertise,
        ideal_referral=ideal,
        company=f"{display_name.split()[0]}'s {profession} Co.",
        city=CITIES[index % len(CITIES)],
        bio=f"{profession} in {CITIES[index % len(CITIES)]}.",
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
    organizer, _ = _member(ORGANIZER_EMAIL, "Olivia Organizer", password_hash, 0)
    db.session.flush()
    _join(chapter, organizer, Role.ORGANIZER)
    members = [organizer]
    for index in range(1, member_count):
        name = f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {PROFESSIONS[index % len(PROFESSIONS)][0]}"
        if index >= len(FIRST_NAMES):
            name += f" {index // len(FIRST_NAMES) + 1}"
        member, created = _member(f"member{index}@demo.referral-hub.local", name, password_hash, index)
        db.session.flush()
        _join(chapter, member, Role.MEMBER)
        members.append(member)
        yield int(created)
    db.session.flush()
    _activity(chapter, members)
    yield 0


def _note(first: Member, second: Member) -> str:
    return (
        f"{first.display_name} ({first.headline.lower()}) and {second.display_name} "
        f"({second.headline.lower()}) serve the same kind of client and could send each other work."
    )


def _activity(chapter: Chapter, members: list[Member]) -> None:
    """Introductions, credits and needs, so the demo shows a chapter at work. Once per chapter."""
    if len(members) < 5 or db.session.scalar(
        select(func.count()).select_from(Introduction).where(Introduction.chapter_id == chapter.id)
    ):
        return
    organizer, people = members[0], members[1:]
    # Completed: members give first, each introducing the next two, and both sides accept.
    for n in range(min(6, len(people) - 2)):
        introducer, first, second = people[n], people[n + 1], people[n + 2]
        intro = making.introduce(
            introducer, first_id=first.id, second_id=second.id, note=_note(first, second)
        )
        for consent in intro.consents:
            answering.answer(consent, Decision.ACCEPT)
    # Waiting for the organizer's answer, so the dashboard has something to act on.
    making.introduce(
        people[-1], first_id=organizer.id, second_id=people[-2].id, note=_note(organizer, people[-2])
    )
    # Then ask: the first givers spend some of what they earned on a need.
    for asker in people[:2]:
        wanted = PROFESSIONS[(people.index(asker) + 5) % len(PROFESSIONS)]
        needs.post_need(
            chapter,
            asker,
            title=f"An introduction to a good {wanted[0].lower()}",
            details=f"I am looking for someone who does {wanted[2]}. Who do you trust?",
            category="referral",
        )
