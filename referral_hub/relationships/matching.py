"""Match needs to members by full-text ranking: a need's words against members' headline, expertise
and ideal referral, and a member's profile against open needs.

PostgreSQL ranks with `tsvector` expressions backed by GIN indexes; SQLite with FTS5 tables kept in
step with `members` and `needs` by triggers. Both are written by hand in the relationships
migration, and the expressions below must stay identical to the indexed ones.
"""

import re

from sqlalchemy import column, func, literal_column, select, table, text
from sqlalchemy.orm import joinedload

from ..accounts.models import Member
from ..chapters.models import Membership, MembershipStatus
from ..extensions import db
from ..needs.models import Need, NeedStatus

MATCHES_SHOWN = 5
MAX_TERMS = 40

# Words that say nothing about what someone does; PostgreSQL drops its own, FTS5 has none.
_STOP_WORDS = """a about after all also am an and any are as at be been but by can could do does for from get
    had has have he her here him his how i if in into is it its just me more most my need needs
    no not now of on one or our out over please she so some someone than that the their them then
    there these they this to up us very was we were what when where which who will with would you
    your looking look help want anyone somebody know"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

ENGLISH = literal_column("'english'::regconfig")
MEMBER_FTS, NEED_FTS = "member_profiles_fts", "need_texts_fts"


def search_terms(*texts: str) -> list[str]:
    """The distinct meaningful words of the texts, lower case, letters and digits only (so they
    carry no query syntax into `to_tsquery` or an FTS5 MATCH)."""
    terms: dict[str, None] = {}
    for word in re.findall(r"[^\W_]+", " ".join(texts).lower()):
        if len(word) > 1 and word not in STOP_WORDS:
            terms.setdefault(word)
    return list(terms)[:MAX_TERMS]


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


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _ranked(statement, model, terms: list[str], *, fts: str, vector, bm25_weights: str):
    """`statement` narrowed to rows matching any term, best match first."""
    if _on_postgresql():
        query = func.to_tsquery(ENGLISH, " | ".join(terms))
        document = vector()
        return statement.where(document.op("@@")(query)).order_by(
            func.ts_rank(document, query).desc(), model.id
        )
    # FTS5: each term quoted (they are letters and digits only), any of them may match.
    index = table(fts, column("rowid"))
    return (
        statement.join(index, index.c.rowid == model.id)
        .where(text(f"{fts} MATCH :terms").bindparams(terms=" OR ".join(f'"{t}"' for t in terms)))
        .order_by(literal_column(f"bm25({fts}, {bm25_weights})"), model.id)
    )


def members_who_may_help(need: Need, *, limit: int = MATCHES_SHOWN) -> list[Member]:
    """Verified members of the need's chapter, other than the asker, whose profile matches it best."""
    terms = search_terms(need.title, need.details, need.category)
    if not terms:
        return []
    statement = (
        select(Member)
        .join(Membership, Membership.member_id == Member.id)
        .where(
            Membership.chapter_id == need.chapter_id,
            Membership.status == MembershipStatus.ACTIVE,
            Member.id != need.asker_id,
            Member.email_verified_at.is_not(None),
        )
    )
    ranked = _ranked(
        statement, Member, terms, fts=MEMBER_FTS, vector=member_profile_vector, bm25_weights="2.0, 2.0, 1.0"
    )
    return list(db.session.scalars(ranked.limit(limit)))


def needs_matching(member: Member, *, limit: int = MATCHES_SHOWN) -> list[Need]:
    """Open needs in the member's chapters, not their own, that best match what they do."""
    terms = search_terms(member.headline, member.expertise, member.ideal_referral)
    if not terms:
        return []
    statement = (
        select(Need)
        .join(Membership, Membership.chapter_id == Need.chapter_id)
        .where(
            Membership.member_id == member.id,
            Membership.status == MembershipStatus.ACTIVE,
            Need.status == NeedStatus.OPEN,
            Need.asker_id != member.id,
        )
        .options(joinedload(Need.asker), joinedload(Need.chapter))
    )
    ranked = _ranked(statement, Need, terms, fts=NEED_FTS, vector=need_text_vector, bm25_weights="2.0, 1.0")
    return list(db.session.scalars(ranked.limit(limit)).unique())
