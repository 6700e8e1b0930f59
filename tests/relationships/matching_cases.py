"""A labelled set for "Members who may help": needs a demo-chapter member might post, each with the
professions whose members a person would trust to be suggested, and precision at 3 over the set.

Precision at 3 of one case: how many of the first three suggestions are expected members, over
min(3, how many expected members the chapter has). The set's figure is the mean.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from referral_hub.accounts.models import Member
from referral_hub.chapters.models import Chapter, Membership
from referral_hub.cli import demo
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.needs.models import Need
from referral_hub.relationships import matching

# Every profession of the demo, both specialties each: `demo seed --members` this many.
DEMO_MEMBERS = 2 * len(demo.PROFESSIONS)
CUTOFF = 3


@dataclass(frozen=True)
class Case:
    title: str
    details: str
    # Whom to suggest: "photographer" is any photographer, "photographer/2" one whose work is the
    # profession's second specialty (demo_people.PROFESSIONS).
    expected: frozenset[str]


def case(title: str, details: str, *expected: str) -> Case:
    return Case(title, details, frozenset(expected))


CASES = (
    case(
        "Payroll for my restaurant",
        "We are opening a second site and our payroll is getting out of hand. Who can run payroll "
        "and the VAT returns?",
        "accountant",
    ),
    case(
        "Headshots for our team page",
        "Our website's team page still has photos from 2015. We need someone to photograph twelve "
        "people in the office.",
        "photographer",
    ),
    case(
        "Brochures and banners for a trade show",
        "We exhibit at the regional manufacturing show in March and need banners, a stand and 2,000 "
        "brochures printed.",
        "printer",
    ),
    case(
        "Catering for our product launch",
        "Sixty guests at our office for a launch evening: canapés and drinks.",
        "caterer",
    ),
    case(
        "A shareholder agreement",
        "My co-founder and I are bringing in an investor and have nothing in writing between us.",
        "lawyer",
    ),
    case(
        "Extension to our house",
        "We want to add a kitchen extension at the back and need drawings for planning permission.",
        "architect/1",
    ),
    case(
        "Selling my candles online",
        "I sell handmade candles at markets and want an online shop of my own.",
        "web_developer/1",
        "marketer",
    ),
    case(
        "Insurance for our vans",
        "We run four vans and our fleet insurance renewal has doubled. Who can find us better cover?",
        "insurance_broker/1",
    ),
    case(
        "Retirement planning",
        "My husband and I are 45 and have three old pensions we do not understand.",
        "financial_planner/1",
    ),
    case(
        "Selling our family home",
        "We would like a valuation and an agent who knows the old town.",
        "estate_agent/1",
    ),
    case(
        "Our office computers keep failing",
        "Twenty staff, no IT person, and backups we are not sure work.",
        "it_support/1",
    ),
    case(
        "Hiring a maintenance engineer",
        "Our factory has been trying to recruit a maintenance technician for six months.",
        "recruiter/1",
    ),
    case(
        "A logo before we launch",
        "We are a start-up launching in spring and need a logo and a brand identity.",
        "graphic_designer/1",
    ),
    case(
        "EV chargers at our workshop",
        "We want four electric vehicle chargers in the car park and better lighting in the workshop.",
        "electrician",
    ),
    case(
        "Back pain from desk work",
        "Half my team complains of neck and back pain. Can someone do desk assessments?",
        "physiotherapist",
    ),
    case(
        "A loan to buy our premises",
        "Our landlord is selling the unit we rent and we would like to buy it with a commercial mortgage.",
        "banker/1",
    ),
    case(
        "More visitors to our website",
        "We rank nowhere on Google. Who does SEO and Google Ads?",
        "marketer/1",
    ),
    case(
        "Boiler replacement in rental flats",
        "I let six flats and three boilers need replacing before winter.",
        "plumber/1",
    ),
    case(
        "A refit of our restaurant dining room",
        "Our bistro's dining room looks tired: it needs new interiors and lighting.",
        "interior_designer/1",
    ),
    case(
        "Staff handbook and contracts",
        "We have just hired our tenth employee and have no employment contracts or staff handbook.",
        "hr_consultant/1",
    ),
    case(
        "Making a will",
        "We have two young children and have never made a will.",
        "solicitor/1",
    ),
    case(
        "Our first mortgage",
        "We are first-time buyers and have finally saved a deposit.",
        "mortgage_broker/1",
    ),
    case(
        "Translating our manuals into German",
        "We export machines to Germany and our product manuals are only in English.",
        "translator",
    ),
    case(
        "A promotional video for our launch",
        "Two minutes of video for our new product, perhaps with drone shots.",
        "videographer/1",
    ),
    case(
        "Office cleaning contract",
        "Our office needs cleaning three evenings a week, and the windows monthly.",
        "cleaner/1",
    ),
    case(
        "I work seventy hours a week",
        "The business depends on me for everything. I need help learning to delegate.",
        "coach/1",
    ),
    case(
        "Organising our annual conference",
        "Two hundred delegates, a venue and a team building day.",
        "event_planner/1",
    ),
    case(
        "Redoing the garden after our extension",
        "The builders have left a mess; we want a patio and new planting.",
        "gardener/1",
    ),
    case(
        "Flowers for our wedding",
        "Bouquets and table centrepieces for a June wedding.",
        "florist/1",
    ),
    case(
        "Someone to write our case studies",
        "We have great clients but no case studies or press releases.",
        "copywriter/1",
    ),
    case(
        "Somewhere for a team dinner",
        "Twenty of us want a private dining room for our Christmas dinner.",
        "restaurateur/1",
        "caterer",
    ),
    case(
        "CCTV after a break-in",
        "Our shop was broken into last week; we need an alarm and CCTV.",
        "security_installer/1",
    ),
    case(
        "Finance for a new machine",
        "We would rather lease a CNC machine than pay cash for it.",
        "banker/2",
    ),
    case(
        "Menus and labels for our café",
        "We are redesigning our menus and need them printed, with matching labels for takeaway cups.",
        "printer",
        "graphic_designer",
    ),
    case(
        "A cyber security review",
        "A client asked whether we have Cyber Essentials. We handle client data and have never had a "
        "security review.",
        "it_support/2",
    ),
    case(
        "Tax return help for a builder",
        "My brother runs a building firm and is behind with his self-assessment tax return.",
        "accountant/2",
    ),
    case(
        "Tenants for my flat",
        "I need a letting agent to find tenants and manage my flat.",
        "estate_agent/2",
    ),
    case(
        "Packaging for our hot sauce",
        "Our hot sauce brand needs new labels and a packaging design.",
        "graphic_designer",
        "printer",
    ),
    case(
        "Selling my company",
        "I want to sell my business within two years and need advice on the sale.",
        "lawyer/2",
        "financial_planner/2",
    ),
    case(
        "Photos of our new product range",
        "We make ceramic lamps and need product photography for the online shop.",
        "photographer/2",
    ),
)


@dataclass(frozen=True)
class Result:
    case: Case
    suggested: list[str]  # "Name (profession key)", best first
    precision: float


def labels_of(member: Member) -> frozenset[str]:
    """The demo member's profession and specialty: {"printer", "printer/2"}."""
    for profession in demo.PROFESSIONS:
        for number, specialty in enumerate(profession.specialties, start=1):
            if member.headline == specialty.headline:
                return frozenset({profession.key, f"{profession.key}/{number}"})
    raise LookupError(member.headline)


def evaluate(chapter: Chapter) -> list[Result]:
    """Post each case's need as a member outside its expected professions (never written to the
    ledger: a `Need` row only) and score the chapter's suggestions for it."""
    members = list(
        db.session.scalars(
            select(Member).join(Membership).where(Membership.chapter_id == chapter.id).order_by(Member.id)
        )
    )
    labels = {member.id: labels_of(member) for member in members}
    results = []
    for labelled in CASES:
        asker = next(m for m in members if not labels[m.id] & labelled.expected)
        need = Need(
            chapter=chapter,
            asker=asker,
            title=labelled.title,
            details=labelled.details,
            expires_at=utcnow() + timedelta(days=30),
        )
        db.session.add(need)
        db.session.flush()
        relevant = sum(1 for m in members if labels[m.id] & labelled.expected)
        suggested = matching.members_who_may_help(need, limit=CUTOFF)
        hits = sum(1 for m in suggested if labels[m.id] & labelled.expected)
        results.append(
            Result(
                labelled,
                [f"{m.display_name} ({max(labels[m.id], key=len)})" for m in suggested],
                hits / min(CUTOFF, relevant),
            )
        )
        db.session.delete(need)
        db.session.flush()
    return results


def precision_at_3(results: list[Result]) -> float:
    return sum(result.precision for result in results) / len(results)
