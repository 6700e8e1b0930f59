"""Time "Who can introduce you" in a chapter of 2,000 members and 200,000 interactions (PostgreSQL).

    .venv/bin/python bench/connectors.py [--members 2000] [--interactions 200000] [--runs 50]
        [--database-url postgresql://postgres@127.0.0.1:5432/rh_bench_connectors]

The script owns its database: it creates it if needed, drops and rebuilds the schema with the
migrations, seeds one chapter with set-based SQL (a fifth of the interactions touch 20 "hub"
members, the rest join random pairs; kinds at random; dates over the last two years), builds each
pair's relationship row with the same formula the app keeps current, then times
`relationships.connectors.connectors_for`, the one query the profile page runs for the panel.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HUBS = 20


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def seed(db, *, members: int, interactions: int) -> None:
    from sqlalchemy import text

    from referral_hub.relationships.models import InteractionKind

    kinds = list(InteractionKind)
    run = lambda statement, **params: db.session.execute(text(statement), params)  # noqa: E731
    chapter_id = run(
        "INSERT INTO chapters (name, slug, created_at) VALUES ('Bench', 'bench', now()) RETURNING id"
    )
    chapter_id = chapter_id.scalar()
    run(
        """
        INSERT INTO members (email, email_key, display_name, password_hash, email_verified_at,
                             created_at, headline, expertise, ideal_referral, company, city,
                             website, phone, bio, weekly_digest)
        SELECT 'm' || g || '@bench.example', 'm' || g || '@bench.example', 'Member ' || g, 'x', now(),
               now(), '', '', '', '', '', '', '', '', true
        FROM generate_series(1, :members) AS g
        """,
        members=members,
    )
    run(
        """
        INSERT INTO memberships (chapter_id, member_id, display_name, role, status, requested_at, joined_at)
        SELECT :chapter_id, id, display_name, 'member', 'active', now(), now() FROM members
        """,
        chapter_id=chapter_id,
    )
    run(
        """
        WITH bounds AS (SELECT min(id) AS lo, count(*) AS n FROM members),
        drawn AS (
            SELECT g,
                   CASE WHEN g % 5 = 0 THEN floor(random() * :hubs)::int
                        ELSE floor(random() * n)::int END AS a,
                   1 + floor(random() * (n - 1))::int AS step,
                   1 + floor(random() * :kind_count)::int AS k,
                   now() - random() * interval '730 days' AS at,
                   lo, n
            FROM generate_series(1, :interactions) AS g, bounds
        ),
        pairs AS (SELECT g, lo + a AS a, lo + (a + step) % n AS b, k, at FROM drawn)
        INSERT INTO interactions (pair_low_id, pair_high_id, kind, weight, occurred_at, note, event_key,
                                  created_at)
        SELECT least(a, b), greatest(a, b), (CAST(:kinds AS text[]))[k], (CAST(:weights AS int[]))[k], at, '',
               'bench:' || g, now()
        FROM pairs
        """,
        hubs=HUBS,
        kind_count=len(kinds),
        kinds=[kind.value for kind in kinds],
        weights=[kind.weight for kind in kinds],
        interactions=interactions,
    )
    # Each pair's strength as of its last interaction: the value the app's upsert keeps current.
    run(
        """
        INSERT INTO relationships (pair_low_id, pair_high_id, strength, last_interaction_at, last_kind,
                                   interactions)
        SELECT pair_low_id, pair_high_id,
               sum(weight * power(0.5, extract(epoch FROM (last_at - occurred_at))::float8 / 86400 / 90)),
               max(occurred_at), (array_agg(kind ORDER BY occurred_at DESC))[1], count(*)
        FROM (SELECT *, max(occurred_at) OVER (PARTITION BY pair_low_id, pair_high_id) AS last_at
              FROM interactions) AS dated
        GROUP BY pair_low_id, pair_high_id
        """
    )
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def check_against_the_sum(db) -> float:
    """The largest relative gap between a pair's strength as the app reads it and the plain sum."""
    from sqlalchemy import text

    from referral_hub.accounts.models import Member
    from referral_hub.clock import utcnow
    from referral_hub.relationships.strength import acquaintance

    now = utcnow()
    worst = 0.0
    pairs = db.session.execute(
        text(
            "SELECT pair_low_id, pair_high_id FROM relationships WHERE interactions > 1 "
            "ORDER BY random() LIMIT 20"
        )
    )
    for low, high in pairs.all():
        direct = db.session.execute(
            text(
                """
                SELECT sum(weight * power(0.5, extract(epoch FROM (:now - occurred_at))::float8 / 86400 / 90))
                FROM interactions WHERE pair_low_id = :low AND pair_high_id = :high
                """
            ),
            {"now": now, "low": low, "high": high},
        ).scalar()
        read = acquaintance(db.session.get(Member, low), db.session.get(Member, high), now=now).strength
        worst = max(worst, abs(read - direct) / direct)
    return worst


def timed(db, asker, target) -> tuple[float, int]:
    from referral_hub.relationships.connectors import connectors_for

    started = time.perf_counter()
    found = connectors_for(asker, target)
    elapsed = time.perf_counter() - started
    db.session.rollback()  # a fresh transaction each time, as each page view has
    return elapsed, len(found)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/rh_bench_connectors")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--interactions", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    ensure_database(args.database_url)
    os.environ.setdefault("REFERRAL_HUB_ENV", "development")
    os.environ["DATABASE_URL"] = args.database_url
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from referral_hub import create_app
    from referral_hub.accounts.models import Member
    from referral_hub.extensions import db
    from referral_hub.relationships.models import Interaction, Relationship

    app = create_app()
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        started = time.perf_counter()
        seed(db, members=args.members, interactions=args.interactions)
        print(
            f"seeded {args.members} members, "
            f"{db.session.scalar(select(func.count()).select_from(Interaction))} interactions, "
            f"{db.session.scalar(select(func.count()).select_from(Relationship))} pairs "
            f"in {time.perf_counter() - started:.1f} s"
        )
        print(
            f"strength read by the app vs the plain sum: worst relative gap {check_against_the_sum(db):.1e}"
        )

        ids = db.session.scalars(select(Member.id).order_by(Member.id)).all()
        rng = random.Random(6)
        cases = {
            "random pairs": [tuple(rng.sample(ids, 2)) for _ in range(args.runs)],
            "hub to hub (worst case)": [tuple(rng.sample(ids[:HUBS], 2)) for _ in range(args.runs)],
        }
        for label, pairs in cases.items():
            people = [(db.session.get(Member, a), db.session.get(Member, b)) for a, b in pairs]
            db.session.expunge_all()  # detached, so reading their ids after a rollback queries nothing
            timed(db, *people[0])  # warm the connection and the plan cache
            results = [timed(db, asker, target) for asker, target in people]
            times = sorted(ms * 1000 for ms, _ in results)
            found = statistics.mean(count for _, count in results)
            print(
                f"who can introduce you, {label}: median {statistics.median(times):.1f} ms, "
                f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms, max {times[-1]:.1f} ms "
                f"({len(times)} runs, {found:.1f} connectors shown on average)"
            )


if __name__ == "__main__":
    main()
