"""Precision at 3 of "Members who may help" over the labelled set, with each case's misses.

    .venv/bin/python bench/matching.py [--database-url sqlite:////tmp/rh_matching.sqlite3]

The script owns its database (a fresh SQLite file by default; a PostgreSQL URL is emptied and
migrated): it seeds the demo chapter with every profession in both specialties
(`tests/relationships/matching_cases.py`, `DEMO_MEMBERS`), posts each labelled need in turn and
prints the three members suggested for every case that missed, then the set's precision at 3.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("REFERRAL_HUB_ENV", "testing")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from referral_hub import create_app
    from referral_hub.chapters.models import Chapter
    from referral_hub.cli import demo
    from referral_hub.config import database_uri
    from referral_hub.extensions import db
    from tests.relationships.matching_cases import DEMO_MEMBERS, evaluate, precision_at_3

    url = args.database_url or "sqlite:///" + str(Path(tempfile.mkdtemp()) / "matching.sqlite3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri(url), "MAIL_TRANSPORT": "memory"})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        for _ in demo.seed(DEMO_MEMBERS):
            pass
        chapter = db.session.scalar(select(Chapter).where(Chapter.slug == demo.CHAPTER_SLUG))
        results = evaluate(chapter)
        dialect = db.engine.dialect.name
        db.session.rollback()
    for result in results:
        if result.precision < 1:
            expected = ", ".join(sorted(result.case.expected))
            print(f"{result.precision:.2f}  {result.case.title!r} (expected {expected})")
            print(f"      suggested: {'; '.join(result.suggested) or 'nobody'}")
    print(f"precision@3 over {len(results)} needs: {precision_at_3(results):.3f} ({dialect})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
