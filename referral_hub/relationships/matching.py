"""Match needs to members, both ways: the database's full-text index finds a bounded set of
candidates, and one scorer in Python ranks them by what each field says.

What someone does (headline, expertise) counts most, then whom they serve (ideal referral), and
their bio least; in a need, the title counts more than the details. Words are compared by a plain
stem (suffixes cut, so "photographer" and "photography" meet), after stop words are dropped.

The candidates: PostgreSQL matches `tsvector` expressions backed by GIN indexes, SQLite FTS5 tables
kept in step with `members` and `needs` by triggers (both written by hand in the relationships
migration; the expressions below must stay identical to the indexed ones). Each term is searched as
a prefix of the indexed words, so the candidates hold every row the scorer would rank; the two
databases stem differently, so when more than `CANDIDATES` rows match, each keeps its own best.
"""

import math
import re
from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import String, bindparam, column, func, literal_column, select, table, text
from sqlalchemy.orm import Bundle, aliased

from ..accounts.models import Member
from ..chapters.models import Chapter, Membership, MembershipStatus
from ..extensions import db
from ..needs.models import Need, NeedStatus

MATCHES_SHOWN = 5
MAX_TERMS = 40
CANDIDATES = 100  # rows the database hands the scorer, at most: the cost of a page stays bounded

# What each field's words are worth. A member says what they do in the headline and expertise,
# whom they serve in the ideal referral; a bio is mostly incidental.
MEMBER_FIELDS = (("headline", 3.0), ("expertise", 3.0), ("ideal_referral", 1.5), ("bio", 0.5))
NEED_FIELDS = (("title", 2.0), ("details", 1.0), ("category", 1.0))

# Words that say nothing about what someone does or needs.
_STOP_WORDS = """a about after again all also am an and any are as at be been before but by can could do
    does each every for from get got had has have he her here him his how i if in into is it its just
    me more most my need needs no not now of off on one only or our out over please she so some
    someone than that the their them then there these they this those to too up us very was we
    were what when where which who whom why with would you your never looking look help want wants
    anyone somebody know who trust trusted best good great new old first second last next
    business businesses company companies firm firms small local people person owner owners client
    clients customer customers work works working someone something thing things way ways lot lots
    two three four five six seven eight nine ten twelve twenty hundred week weeks month months year
    years day days time like would love make made finally already still just really"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

# Cut in this order, at most one of them, only when at least MIN_STEM letters stay: the stem is then
# always the beginning of the word, which the database's prefix search relies on.
SUFFIXES = (
    "ations", "ation", "ments", "ment", "ings", "ing", "ians", "ian", "ists", "ist", "ers", "er",
    "ies", "ied", "ed", "ees", "ee", "es", "ants", "ant", "als", "al", "ly", "s", "y", "e",
)  # fmt: skip
MIN_STEM = 4
# The database stems words its own way ("security" is "secur" to PostgreSQL): it is asked for words
# that begin with a stem's first letters, so it misses none the scorer would count.
PREFIX = MIN_STEM
_UNDOUBLED = frozenset("lsz")  # "plann(ing)" becomes "plan", but "install" and "business" keep theirs

ENGLISH = literal_column("'english'::regconfig")
SIMPLE = literal_column("'simple'::regconfig")
MEMBER_FTS, NEED_FTS = "member_profiles_fts", "need_texts_fts"


@lru_cache(maxsize=20_000)
def stem(word: str) -> str:
    """The word without its ending: "printers", "printing", "printed" are all "print"."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            word = word[: -len(suffix)]
            break
    if len(word) > MIN_STEM and word[-1] == word[-2] and word[-1] not in _UNDOUBLED and word[-1].isalpha():
        word = word[:-1]
    return word


def _words(text: str) -> Iterable[str]:
    for word in re.findall(r"[^\W_]+", text.lower()):
        if len(word) > 1 and word not in STOP_WORDS and not word.isdigit():
            yield word


def search_terms(*texts: str) -> list[str]:
    """The distinct stems of the texts' meaningful words, letters and digits only (so they carry no
    query syntax into `to_tsquery` or an FTS5 MATCH)."""
    terms: dict[str, None] = {}
    for text_ in texts:
        for word in _words(text_):
            terms.setdefault(stem(word))
    return list(terms)[:MAX_TERMS]


@lru_cache(maxsize=1024)
def stems(text: str) -> frozenset[str]:
    """The distinct stems of a text's meaningful words. Kept for the texts read again and again: every
    dashboard of a chapter scores the same open needs, every need page the same members' profiles."""
    return frozenset(stem(word) for word in _words(text))


def stem_weights(record, fields) -> dict[str, float]:
    """Each stem of the record's fields with the sum of the weights of the fields it appears in
    (once per field: a stem in the headline and the expertise says more than in one of them)."""
    weights: dict[str, float] = {}
    for name, weight in fields:
        for key in stems(getattr(record, name) or ""):
            weights[key] = weights.get(key, 0.0) + weight
    return weights


def affinity(need_stems: dict[str, float], member_stems: dict[str, float], rarity: dict[str, float]) -> float:
    """How well a member fits a need: each stem they share, weighted by where each says it and by
    how rare it is among the candidates (a word everyone uses tells them apart less)."""
    return sum(
        weight * member_stems[key] * rarity[key] for key, weight in need_stems.items() if key in member_stems
    )


def rarities(documents: list[dict[str, float]]) -> dict[str, float]:
    """Each stem's inverse document frequency over the candidates: log(1 + n / how many hold it)."""
    held: dict[str, int] = {}
    for document in documents:
        for key in document:
            held[key] = held.get(key, 0) + 1
    return {key: math.log(1 + len(documents) / count) for key, count in held.items()}


def _weighted(column_, weight: str):
    return func.setweight(func.to_tsvector(ENGLISH, column_), literal_column(f"'{weight}'"))


def member_profile_vector():
    """PostgreSQL: the indexed document of a member (ix_members_profile_search)."""
    return (
        _weighted(Member.headline, "A")
        .op("||")(_weighted(Member.expertise, "A"))
        .op("||")(_weighted(Member.ideal_referral, "B"))
    )


def need_text_vector():
    """PostgreSQL: the indexed document of a need (ix_needs_text_search)."""
    return _weighted(Need.title, "A").op("||")(_weighted(Need.details, "B"))


def _prefix(term: str) -> str:
    """The first letters of a stem that the database's stem of any word with that stem starts with
    (both databases' stemmers turn a final "y" into "i": "copy" is "copi")."""
    return term[:PREFIX].removesuffix("y") if len(term) > 1 else term


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _match(terms: list[str]) -> str:
    """The query the candidates' statement takes as its parameter `terms`: any term, as a prefix."""
    if _on_postgresql():
        # `simple`: the prefixes are not stemmed again, nor dropped as stop words ("will" of "wills").
        return " | ".join(f"{_prefix(term)}:*" for term in terms)
    # FTS5: each term quoted (they are letters and digits only) as a prefix; any of them may match.
    return " OR ".join(f'"{_prefix(term)}"*' for term in terms)


def _candidates(statement, model, on_postgresql: bool, *, fts: str, vector, bm25_weights: str):
    """`statement` narrowed to rows with a word that starts with any term (the parameter `terms`,
    `_match`), the database's best first."""
    if on_postgresql:
        query = func.to_tsquery(SIMPLE, bindparam("terms", type_=String))
        document = vector()
        ranked = statement.where(document.op("@@")(query)).order_by(
            func.ts_rank(document, query).desc(), model.id
        )
    else:
        index = table(fts, column("rowid"))
        ranked = (
            statement.join(index, index.c.rowid == model.id)
            .where(text(f"{fts} MATCH :terms"))
            .order_by(literal_column(f"bm25({fts}, {bm25_weights})"), model.id)
        )
    return ranked.limit(CANDIDATES)


def _best(candidates: list, documents: list[dict[str, float]], score, limit: int) -> list:
    """The candidates with a score above zero, best first (ties: the earliest id)."""
    rarity = rarities(documents)
    scored = [
        (score(document, rarity), candidate)
        for candidate, document in zip(candidates, documents, strict=True)
    ]
    scored = [pair for pair in scored if pair[0] > 0]
    scored.sort(key=lambda pair: (-pair[0], pair[1].id))
    return [candidate for _score, candidate in scored[:limit]]


# What the scorer reads of each candidate and what the pages and the digest show of the best: rows,
# not entities (a need's candidates are up to a hundred members, a member's up to a hundred needs).
HELPER = Bundle(
    "helper",
    Member.id,
    Member.display_name,
    *(getattr(Member, name) for name, _weight in MEMBER_FIELDS),
)
MATCHED_NEED = Bundle(
    "need",
    Need.id,
    *(getattr(Need, name) for name, _weight in NEED_FIELDS),
    Member.display_name.label("asker_name"),
    Chapter.name.label("chapter_name"),
)


def members_who_may_help(need: Need, *, limit: int = MATCHES_SHOWN) -> list:
    """Verified active members of the need's chapter, other than the asker, whose profile fits it best:
    rows of `HELPER`."""
    terms = search_terms(need.title, need.details, need.category)
    if not terms:
        return []
    parameters = {"chapter_id": need.chapter_id, "asker_id": need.asker_id, "terms": _match(terms)}
    candidates = list(db.session.scalars(_helpers_query(_on_postgresql()), parameters))
    wanted = stem_weights(need, NEED_FIELDS)
    profiles = [stem_weights(member, MEMBER_FIELDS) for member in candidates]
    return _best(candidates, profiles, lambda profile, rarity: affinity(wanted, profile, rarity), limit)


@lru_cache
def _helpers_query(on_postgresql: bool):
    """Built once per database, the chapter, the asker and the terms as parameters."""
    statement = (
        select(HELPER)
        .join(Membership, Membership.member_id == Member.id)
        .where(
            Membership.chapter_id == bindparam("chapter_id"),
            Membership.status == MembershipStatus.ACTIVE,
            Member.id != bindparam("asker_id"),
            Member.email_verified_at.is_not(None),
        )
    )
    return _candidates(
        statement,
        Member,
        on_postgresql,
        fts=MEMBER_FTS,
        vector=member_profile_vector,
        bm25_weights="2.0, 2.0, 1.0",
    )


def needs_matching(member: Member, *, limit: int = MATCHES_SHOWN) -> list:
    """Open needs in the member's chapters, not their own and asked by a member still in the
    chapter, that best fit what they do: rows of `MATCHED_NEED`."""
    terms = search_terms(member.headline, member.expertise, member.ideal_referral)
    if not terms:
        return []
    parameters = {"member_id": member.id, "terms": _match(terms)}
    candidates = list(db.session.scalars(_needs_query(_on_postgresql()), parameters))
    offered = stem_weights(member, MEMBER_FIELDS)
    texts = [stem_weights(need, NEED_FIELDS) for need in candidates]
    return _best(candidates, texts, lambda text_, rarity: affinity(text_, offered, rarity), limit)


@lru_cache
def _needs_query(on_postgresql: bool):
    """Built once per database, the member and the terms as parameters."""
    member_id = bindparam("member_id")
    asker_membership = aliased(Membership)
    statement = (
        select(MATCHED_NEED)
        .join(Member, Member.id == Need.asker_id)
        .join(Chapter, Chapter.id == Need.chapter_id)
        .join(Membership, Membership.chapter_id == Need.chapter_id)
        .join(
            asker_membership,
            (asker_membership.chapter_id == Need.chapter_id) & (asker_membership.member_id == Need.asker_id),
        )
        .where(
            Membership.member_id == member_id,
            Membership.status == MembershipStatus.ACTIVE,
            asker_membership.status == MembershipStatus.ACTIVE,
            Need.status == NeedStatus.OPEN,
            Need.asker_id != member_id,
        )
    )
    return _candidates(
        statement, Need, on_postgresql, fts=NEED_FTS, vector=need_text_vector, bm25_weights="2.0, 1.0"
    )
