"""How long after a commit a web process hears of it: the window in which a cached page can be stale.

    .venv/bin/python bench/change_notifications.py [--commits 500]

Builds its own PostgreSQL database with the migrations (their triggers send the notifications),
listens as a web process does (`referral_hub.caching.PostgreSQLChanges`), and for each commit on
another connection times how long after COMMIT returned the listener's version moved. Prints the
median, p99 and worst delay; exits 1 if a notification does not come within 5 s.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg
from flask_migrate import upgrade

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.load import fresh_postgresql  # noqa: E402 - after the project is importable
from referral_hub import create_app  # noqa: E402
from referral_hub.caching import PostgreSQLChanges  # noqa: E402
from referral_hub.config import database_uri  # noqa: E402
from referral_hub.extensions import db  # noqa: E402

POSTGRESQL_URL = "postgresql://postgres@127.0.0.1:5432/rh_bench_notifications"
TIMEOUT_SECONDS = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("REFERRAL_HUB_ENV", "testing")
    url = fresh_postgresql(POSTGRESQL_URL)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri(url)})
    delays = []
    with app.app_context():
        upgrade()
        listener = PostgreSQLChanges(db.engine)
        with psycopg.connect(url) as writer:
            for _ in range(args.commits):
                before = listener.version()
                writer.execute("UPDATE needs SET id = id WHERE false")  # fires the statement trigger
                writer.commit()
                committed = time.perf_counter()
                while (version := listener.version()) == before:
                    if time.perf_counter() - committed > TIMEOUT_SECONDS:
                        raise SystemExit(f"no notification within {TIMEOUT_SECONDS} s of a commit")
                if version is None:
                    raise SystemExit("the listening connection was lost")
                delays.append((time.perf_counter() - committed) * 1e6)
        listener.close()
        db.engine.dispose()
    delays.sort()
    print(
        f"{args.commits} commits: heard {statistics.median(delays):.0f} µs after COMMIT returned (median), "
        f"p99 {delays[int(len(delays) * 0.99)]:.0f} µs, worst {delays[-1]:.0f} µs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
