"""The demo chapter's people: professions with what each says about their work, and names to give them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Specialty:
    """One way of practising a profession, as a member would describe it on their profile."""

    headline: str
    expertise: str
    ideal_referral: str


@dataclass(frozen=True)
class Profession:
    key: str
    title: str
    firm: str  # what a firm in this trade calls itself after the owner's surname: "Hartley Accountants"
    specialties: tuple[Specialty, ...]


def _profession(key: str, title: str, firm: str, *specialties: tuple[str, str, str]) -> Profession:
    return Profession(key, title, firm, tuple(Specialty(*specialty) for specialty in specialties))


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PROFESSIONS = (
    _profession(
        "accountant",
        "Accountant",
        "Accountants",
        (
            "Accountant for restaurants, cafés and independent shops",
            "bookkeeping, VAT returns, payroll, year-end accounts",
            "Restaurant owners opening a second site",
        ),
        (
            "Accountant for tradespeople and small contractors",
            "self-assessment tax returns, bookkeeping, construction industry scheme, VAT",
            "Builders and electricians who dread their tax return",
        ),
    ),
    _profession(
        "architect",
        "Architect",
        "Architects",
        (
            "Architect designing home extensions and loft conversions",
            "house extensions, loft conversions, planning permission, building regulations drawings",
            "Families who have outgrown their house",
        ),
        (
            "Architect for small offices, shops and studios",
            "commercial architecture, office fit-out design, change of use, planning applications",
            "Firms moving into a building that needs work",
        ),
    ),
    _profession(
        "lawyer",
        "Commercial lawyer",
        "Legal",
        (
            "Commercial lawyer drafting contracts that keep partners friends",
            "commercial contracts, shareholder agreements, terms and conditions, commercial leases",
            "Founders taking on a partner or an investor",
        ),
        (
            "Business lawyer for buying and selling companies",
            "company sales, acquisitions, due diligence, shareholder disputes",
            "Owners planning to sell their business",
        ),
    ),
    _profession(
        "web_developer",
        "Web developer",
        "Web Studio",
        (
            "Web developer building fast websites and online shops",
            "website design, online shops, Shopify, WordPress, site speed",
            "Shops starting to sell online",
        ),
        (
            "Web developer making booking systems and customer portals",
            "web applications, online booking systems, customer portals, integrations",
            "Clinics and gyms still taking bookings by phone",
        ),
    ),
    _profession(
        "insurance_broker",
        "Insurance broker",
        "Insurance Brokers",
        (
            "Insurance broker for tradespeople and contractors",
            "public liability insurance, van and fleet insurance, tools cover, contract works",
            "Contractors with vans on the road",
        ),
        (
            "Insurance broker for professional firms and landlords",
            "professional indemnity, landlord insurance, key person cover, cyber insurance",
            "Consultancies renewing their professional indemnity",
        ),
    ),
    _profession(
        "photographer",
        "Photographer",
        "Photography",
        (
            "Photographer for corporate headshots and team photos",
            "corporate headshots, team photography, portrait photography, office photo days",
            "Firms whose team page still has last decade's photos",
        ),
        (
            "Product and brand photographer",
            "product photography, brand photography, packshots, lifestyle shoots",
            "Makers launching a product range",
        ),
    ),
    _profession(
        "printer",
        "Printer",
        "Print",
        (
            "Printer for brochures, signage and exhibition stands",
            "brochure printing, business cards, signage, banners, exhibition stands",
            "Marketing managers with a trade show coming up",
        ),
        (
            "Printer for menus, labels and packaging",
            "menu printing, labels, printed packaging, leaflets",
            "Food and drink brands redesigning their packaging",
        ),
    ),
    _profession(
        "financial_planner",
        "Financial planner",
        "Wealth",
        (
            "Independent financial planner for families",
            "pensions, retirement planning, investments, school fees planning",
            "Couples in their forties thinking about retirement",
        ),
        (
            "Financial planner for business owners",
            "director pensions, exit planning, inheritance tax planning, investments",
            "Owners about to sell their business",
        ),
    ),
    _profession(
        "estate_agent",
        "Estate agent",
        "Estate Agents",
        (
            "Estate agent selling family homes in the old town",
            "property valuations, house sales, home staging advice",
            "Homeowners thinking of moving",
        ),
        (
            "Letting agent managing rental homes for landlords",
            "lettings, property management, tenant finding, rent collection",
            "Landlords tired of managing tenants themselves",
        ),
    ),
    _profession(
        "it_support",
        "IT support specialist",
        "IT",
        (
            "IT support for small offices with no IT person",
            "managed IT support, Microsoft 365, backups, network setup, laptops",
            "Offices of 10 to 100 people with no IT department",
        ),
        (
            "Cyber security adviser for small firms",
            "cyber security, phishing training, Cyber Essentials certification, ransomware recovery",
            "Firms that handle client data and have never had a security review",
        ),
    ),
    _profession(
        "caterer",
        "Caterer",
        "Catering",
        (
            "Caterer for office lunches, launches and company parties",
            "corporate catering, buffets, canapés, event catering",
            "Office managers planning a company party",
        ),
        (
            "Wedding and private party caterer",
            "wedding catering, private chef, hog roasts, dietary requirements",
            "Couples planning a wedding",
        ),
    ),
    _profession(
        "recruiter",
        "Recruiter",
        "Recruitment",
        (
            "Recruiter finding engineers and technicians for manufacturers",
            "engineering recruitment, technical hiring, executive search",
            "Manufacturing directors who cannot fill a role",
        ),
        (
            "Recruiter placing office and finance staff",
            "office staff recruitment, finance hiring, temporary staff, receptionists",
            "Growing firms hiring their first office manager",
        ),
    ),
    _profession(
        "graphic_designer",
        "Graphic designer",
        "Design",
        (
            "Graphic designer creating logos and brand identities",
            "logo design, brand identity, brand guidelines, rebranding",
            "Start-ups before their launch",
        ),
        (
            "Packaging and illustration designer",
            "packaging design, illustration, label design, infographics",
            "Food and drink brands redesigning their packaging",
        ),
    ),
    _profession(
        "electrician",
        "Electrician",
        "Electrical",
        (
            "Commercial electrician for offices, shops and workshops",
            "electrical installation, rewiring, LED lighting, EV charger installation, electrical testing",
            "Landlords refurbishing commercial units",
        ),
        (
            "Domestic electrician and solar installer",
            "solar panels, home rewiring, fuse boards, EV chargers at home",
            "Homeowners renovating an older house",
        ),
    ),
    _profession(
        "physiotherapist",
        "Physiotherapist",
        "Physio",
        (
            "Physiotherapist treating back pain and sports injuries",
            "back pain, sports injuries, rehabilitation, sports massage",
            "Runners and cyclists training for an event",
        ),
        (
            "Physiotherapist helping desk workers stay healthy",
            "workplace ergonomics, desk assessments, neck and back pain, staff wellbeing",
            "HR managers with staff off on sick leave",
        ),
    ),
    _profession(
        "banker",
        "Business banker",
        "Bank",
        (
            "Business banker lending to growing local firms",
            "business loans, overdrafts, commercial mortgages, cash flow",
            "Owners buying premises or expanding",
        ),
        (
            "Asset finance specialist",
            "asset finance, equipment leasing, vehicle finance, invoice finance",
            "Firms buying machinery or a fleet of vans",
        ),
    ),
    _profession(
        "marketer",
        "Digital marketing consultant",
        "Marketing",
        (
            "Digital marketing consultant: search, ads and social media",
            "SEO, Google Ads, social media marketing, email marketing",
            "Businesses with a website nobody visits",
        ),
        (
            "Social media manager for hospitality and retail",
            "Instagram, TikTok, social media content, influencer campaigns",
            "Cafés and shops that want more people through the door",
        ),
    ),
    _profession(
        "plumber",
        "Plumber",
        "Plumbing & Heating",
        (
            "Plumber and heating engineer for homes and landlords",
            "boiler installation, central heating, bathroom plumbing, leak repairs",
            "Letting agents managing rental homes",
        ),
        (
            "Commercial plumber for restaurants and offices",
            "commercial plumbing, kitchen plumbing, grease traps, washroom installation",
            "Restaurants fitting out a new kitchen",
        ),
    ),
    _profession(
        "interior_designer",
        "Interior designer",
        "Interiors",
        (
            "Interior designer for restaurants, bars and hotels",
            "restaurant interiors, hospitality design, refurbishment, lighting design",
            "Restaurateurs planning a refit",
        ),
        (
            "Interior designer for homes",
            "home interiors, kitchen design, colour schemes, furniture sourcing",
            "Homeowners who have just finished an extension",
        ),
    ),
    _profession(
        "hr_consultant",
        "HR consultant",
        "HR",
        (
            "HR consultant for firms without an HR department",
            "employment contracts, staff handbooks, disciplinary and grievance, redundancy",
            "Growing firms hiring their tenth employee",
        ),
        (
            "HR adviser for restructuring and difficult conversations",
            "restructuring, redundancy consultation, workplace mediation, tribunal defence",
            "Owners facing a dispute with an employee",
        ),
    ),
    _profession(
        "solicitor",
        "Private client solicitor",
        "Solicitors",
        (
            "Solicitor for wills, probate and powers of attorney",
            "wills, probate, lasting power of attorney, trusts",
            "Parents who have never made a will",
        ),
        (
            "Conveyancing solicitor for home buyers and sellers",
            "conveyancing, property purchase, remortgage legal work, leasehold",
            "First-time buyers who have just had an offer accepted",
        ),
    ),
    _profession(
        "mortgage_broker",
        "Mortgage broker",
        "Mortgages",
        (
            "Mortgage broker for home buyers",
            "mortgages, first-time buyer mortgages, remortgaging, mortgage protection",
            "First-time buyers saving for a deposit",
        ),
        (
            "Mortgage broker for landlords and the self-employed",
            "buy-to-let mortgages, self-employed mortgages, portfolio landlords, bridging loans",
            "Landlords growing a portfolio",
        ),
    ),
    _profession(
        "translator",
        "Translator",
        "Translations",
        (
            "Translator and interpreter for French, German and Spanish",
            "document translation, legal translation, interpreting, website localisation",
            "Exporters selling into Europe",
        ),
        (
            "Technical translator for manufacturers",
            "technical translation, manuals, product documentation, Italian and Polish",
            "Manufacturers shipping machines abroad",
        ),
    ),
    _profession(
        "videographer",
        "Videographer",
        "Films",
        (
            "Videographer making promotional and training videos",
            "video production, promotional videos, training videos, drone filming",
            "Brands launching a product with video",
        ),
        (
            "Event filmmaker and live streamer",
            "event filming, conference live streaming, highlight reels, video editing",
            "Organisers of conferences and awards nights",
        ),
    ),
    _profession(
        "cleaner",
        "Commercial cleaner",
        "Cleaning",
        (
            "Commercial cleaning for offices and shops",
            "office cleaning, deep cleaning, window cleaning, washroom supplies",
            "Facilities managers of offices",
        ),
        (
            "End-of-tenancy and after-builders cleaning",
            "end of tenancy cleaning, after builders cleaning, carpet cleaning",
            "Letting agents between tenants",
        ),
    ),
    _profession(
        "coach",
        "Business coach",
        "Coaching",
        (
            "Business coach for owners who want to step back",
            "leadership coaching, business planning, delegation, succession planning",
            "Owners working seventy-hour weeks",
        ),
        (
            "Sales coach for small teams",
            "sales training, sales process, negotiation skills, pipeline reviews",
            "Founders who are still the only salesperson",
        ),
    ),
    _profession(
        "event_planner",
        "Event planner",
        "Events",
        (
            "Event planner for conferences and company away days",
            "conference planning, venue finding, corporate events, team building days",
            "Companies organising an annual conference",
        ),
        (
            "Wedding planner",
            "wedding planning, venue styling, supplier management, destination weddings",
            "Newly engaged couples",
        ),
    ),
    _profession(
        "gardener",
        "Landscape gardener",
        "Landscapes",
        (
            "Landscape gardener designing and building gardens",
            "garden design, landscaping, patios, fencing, planting schemes",
            "Homeowners after a building project",
        ),
        (
            "Grounds maintenance for business parks and schools",
            "grounds maintenance, grass cutting, hedge trimming, commercial landscaping",
            "Facilities managers of business parks",
        ),
    ),
    _profession(
        "florist",
        "Florist",
        "Flowers",
        (
            "Florist for weddings and events",
            "wedding flowers, event flowers, bouquets, table centrepieces",
            "Wedding planners and venues",
        ),
        (
            "Florist for offices, hotels and restaurants",
            "office plants, reception flowers, weekly flower contracts, corporate gifts",
            "Hotels and restaurants that want fresh flowers every week",
        ),
    ),
    _profession(
        "copywriter",
        "Copywriter",
        "Words",
        (
            "Copywriter writing websites, brochures and case studies",
            "website copy, brochures, case studies, press releases",
            "Firms rewriting their website",
        ),
        (
            "Bid writer for tenders and grant applications",
            "tender writing, bid management, grant applications, proposals",
            "Contractors bidding for public sector work",
        ),
    ),
    _profession(
        "restaurateur",
        "Restaurant owner",
        "Kitchen",
        (
            "Restaurant owner running two bistros in the old town",
            "private dining, group bookings, team dinners, gift vouchers",
            "Companies booking a team dinner or a client lunch",
        ),
        (
            "Café owner and coffee roaster",
            "coffee roasting, wholesale coffee, office coffee supply, barista training",
            "Offices that want better coffee",
        ),
    ),
    _profession(
        "security_installer",
        "Security installer",
        "Security",
        (
            "Security installer fitting alarms, CCTV and access control",
            "burglar alarms, CCTV, access control, door entry systems",
            "Shops and offices after a break-in",
        ),
        (
            "Locksmith and safe engineer",
            "locks, lock changes, safes, master key systems",
            "Landlords changing tenants",
        ),
    ),
)

# Enough names for 5,000 distinct people (the most `demo seed` makes), varied in origin.
FIRST_NAMES = _words(
    """
    Ada Aisha Alex Amara Ana Anil Astrid Ben Bianca Caleb Carmen Chloe Chidi Daniel Daria Dev Elena Eli
    Emeka Esther Farid Fatima Felix Freya Gabriel Grace Hannah Hugo Ibrahim Ines Isaac Ivy Jamal Jana
    Joanna Jonah Jun Kaito Kamala Kira Lars Leila Levi Lina Luca Maya Malik Marta Mateo Mei Miriam Nadia
    Niamh Noah Olga Omar Oscar Priya Rafael Rania Reuven Rosa Ruth Sam Sara Shimon Sofia Tariq Tom Uma
    Valentina Wen Yusuf Zara Zoe Beatrix Declan Hiro Kwame Sven
    """
)
LAST_NAMES = _words(
    """
    Abbott Adeyemi Alvarez Andersen Banerjee Becker Brennan Byrne Castillo Chen Costa Dalton Delgado
    Dubois Eriksen Evans Farah Fischer Fitzgerald Garcia Goldberg Hartley Haddad Hughes Ibrahim Ivanova
    Jansen Kaur Kennedy Kowalski Lambert Larsen Levy Lindqvist Mahmoud Marsh Moreau Murphy Nakamura
    Novak Nwosu Okafor Olsen Osei Patel Pereira Quinn Reyes Rossi Russo Sandoval Schmidt Sharma Silva
    Sokolov Tanaka Thornton Varga Walsh Weber Whitfield Yilmaz Zielinski
    """
)
CITIES = ("Riverton", "Old Town", "Harbourside", "Northgate", "Millbrook")

# What people put at the end of a bio that has nothing to do with their work.
PASTIMES = (
    "Outside work, {first} coaches an under-twelves football team.",
    "At weekends {first} bakes sourdough for the neighbours.",
    "{first} sings in a choir and never misses a rehearsal.",
    "{first} runs the harbour parkrun most Saturdays.",
    "{first} restores old bicycles in a shed behind the house.",
    "{first} volunteers at the food bank on Thursday evenings.",
    "{first} plays chess at the library club.",
    "{first} grows far too many tomatoes every summer.",
)
