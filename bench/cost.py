"""CPU per request of every member page and API endpoint, the app's and PostgreSQL's, beside a text-SQL floor.

    .venv/bin/python bench/cost.py [--database postgresql|sqlite] [--scales 1,10] [--requests 200] [--short]
        [--only "needs board,POST need"] [--postgresql-url URL]

For each scale it builds and seeds the database as `bench/load.py` does (`demo seed` for 60 × scale
members plus 200 × scale open needs) and asks every page in-process with Flask's test client
(production config, the request log line written to /dev/null), signed in as the demo's organizer
(a member of the chapter too), the API with a bearer token. The engine keeps one connection, so one
PostgreSQL backend serves every request: its CPU is read from `/proc/<pid>/schedstat` (the nanoseconds
`SELECT pg_backend_pid()` has run on a CPU; the database runs on this machine) before and after
each block of requests, the app's from `resource.getrusage(RUSAGE_SELF)` (microseconds).

The reference for each page, in the same run: the very statements the page sent (captured from the
engine, with their parameters) replayed as text SQL on the same connection, in one transaction that
commits as a page's does, and their rows rendered with a minimal Jinja template. It is the page's
database work without the ORM, the forms, the session or Flask's request machinery: a floor, not a
hand-tuned rewrite. A page and its reference are asked in turn, ten requests of each at a time, so
that the machine's drift over the run weighs on both alike. One more row, "signed-in floor", is a view
the bench adds to the app (`/bench/floor`): signed in, it renders nothing and commits, so it costs what
every member page pays before its own work (the session cookie, the user loader with the header's
statement, Flask's and the extensions' hooks).

The writes members make are measured the same way, each POST a new valid write (a pair not yet
introduced with its own note, a one-to-one on a day of its own, a need, the profile with a new
headline), its redirect not followed: making an introduction, posting a need (the demo's organizer is
given the credits first), logging a one-to-one, editing the profile. Each is sent with the signed-in
session cookie as it was before the writes: the flash message a write leaves for the page it redirects
to is never shown, so it would stay in the cookie, and every later request would carry them all. A
write has no reference (replaying its INSERTs would only collide with the rows it wrote).

It prints per page: SQL statements per request at each scale, app and PostgreSQL CPU ms per request
and the reference's, and the ratio. It exits 1 when a page answers an error (a write anything but its
redirect) or sends a different number of statements at two scales. `--short` (CI): 1× and 10×, 5
requests a page. `--only` measures the named pages and writes alone; `--postgresql-url` names another
database (its `{scale}` filled in), so that two runs on one server keep apart.
"""

import argparse
import itertools
import logging
import os
import resource
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from flask_login import login_required
from jinja2 import Template
from sqlalchemy import event, select, text

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench._server import csrf_token, prepare_database  # noqa: E402
from bench.load import pages, seed  # noqa: E402
from referral_hub import create_app  # noqa: E402 - after the project is importable
from referral_hub.accounts.models import Member, email_key_of  # noqa: E402
from referral_hub.chapters.models import Chapter, Membership, MembershipStatus  # noqa: E402
from referral_hub.cli import demo  # noqa: E402
from referral_hub.config import database_uri  # noqa: E402
from referral_hub.extensions import db  # noqa: E402
from referral_hub.introductions.models import Introduction  # noqa: E402
from referral_hub.ledger import posting  # noqa: E402
from referral_hub.ledger.models import Kind  # noqa: E402

POSTGRESQL_URL = "postgresql://postgres@127.0.0.1:5432/rh_bench_cost_{scale}x"
ENVIRONMENT = {
    "REFERRAL_HUB_ENV": "production",
    "SECRET_KEY": "bench-cost-secret-key-for-timing-runs-only",
    "MAIL_TRANSPORT": "memory",
    "RATELIMIT_API_PER_TOKEN": "100000000 per minute",
    "RATELIMIT_API_PER_ADDRESS": "100000000 per minute",
}
HTTPS = "https://localhost"  # the production session cookie is Secure
# A page and its reference are asked in turn, this many requests of each at a time.
BLOCK = 10
REFERENCE = Template(
    "<ul>{% for rows in results %}{% for row in rows %}"
    "<li>{{ row|join(' ') }}</li>{% endfor %}{% endfor %}</ul>"
)


def every_page(targets: dict) -> list[tuple[str, str, str]]:
    """bench/load.py's pages (but the visitor's) and the API endpoints it leaves out."""
    api = f"/api/v1/chapters/{targets['slug']}"
    extra = [
        ("organize", f"/chapters/{targets['slug']}/organize", "member"),
        ("organize members", f"/chapters/{targets['slug']}/organize/members", "member"),
        ("organize ledger", f"/chapters/{targets['slug']}/ledger", "member"),
        ("profile form", "/profile", "member"),
        ("API chapters", "/api/v1/chapters", "token"),
        ("API members", f"{api}/members", "token"),
        ("API ledger", f"{api}/ledger", "token"),
        ("API activity", f"{api}/activity", "token"),
        ("signed-in floor", FLOOR, "member"),
    ]
    return [page for page in pages(targets) if page[2] != "visitor"] + extra


FLOOR = "/bench/floor"


@login_required
def signed_in_floor():
    """A signed-in view that renders nothing and commits, as a page's unit of work does: the request
    machinery under every member page (session cookie, user loader and header, hooks), alone."""
    db.session.commit()
    return ""


def every_write(slug: str, count: int) -> list[tuple[str, object]]:
    """(name, a function giving the next write's path and form) for the writes members make, each one
    new and valid, `count` and a few more of each; the caller is the demo's organizer."""
    organizer = db.session.scalar(
        select(Member).where(Member.email_key == email_key_of(demo.ORGANIZER_EMAIL))
    )
    chapter = db.session.scalar(select(Chapter).where(Chapter.slug == slug))
    others = db.session.scalars(
        select(Membership.member_id)
        .join(Member, Member.id == Membership.member_id)
        .where(
            Membership.chapter_id == chapter.id,
            Membership.status == MembershipStatus.ACTIVE,
            Member.id != organizer.id,
            Member.email_verified_at.is_not(None),
        )
        .order_by(Member.id)
    ).all()
    introduced = {
        frozenset(pair)
        for pair in db.session.execute(
            select(Introduction.first_id, Introduction.second_id).where(Introduction.chapter_id == chapter.id)
        )
    }
    pairs = (pair for pair in itertools.combinations(others, 2) if frozenset(pair) not in introduced)
    # One-to-ones 331–364 days ago: older than the demo's (0–330), within the twelve months allowed.
    meetings = ((peer, days) for days in range(331, 365) for peer in others)
    # The needs' cost, paid from credits the organizer is given here.
    posting.post(
        chapter,
        key="bench:cost:credits",
        kind=Kind.GRANT,
        memo="Credits for the cost bench's needs",
        caused_by=None,
        entries=[(posting.POOL, -100 * (count + 5)), (organizer, 100 * (count + 5))],
    )
    db.session.commit()
    name = organizer.display_name
    serial = itertools.count()

    def introduction():
        first, second = next(pairs)
        note = (
            f"Members {first} and {second}, talk ({next(serial)}): one sells what the other's clients want."
        )
        return "/introductions/new", {"first_id": first, "second_id": second, "chapter": slug, "note": note}

    def need():
        return f"/chapters/{slug}/needs/new", {
            "title": "Who knows a good commercial landlord?",
            "details": "A new shop.",
        }

    def one_to_one():
        peer, days = next(meetings)
        met_on = (date.today() - timedelta(days=days)).isoformat()
        return f"/members/{peer}/one-to-ones", {"met_on": met_on, "meeting_note": "Coffee at the market."}

    def profile():
        headline = f"Helping owners since {1990 + next(serial) % 35}"
        return "/profile", {"display_name": name, "headline": headline}

    return [
        ("POST introduction", introduction),
        ("POST need", need),
        ("POST one-to-one", one_to_one),
        ("POST profile", profile),
    ]


class Statements:
    """The SQL statements the engine sends, with their parameters, while `recording`."""

    def __init__(self, engine):
        self.sent: list[tuple[str, object]] = []
        event.listen(engine, "before_cursor_execute", self._sent)

    def _sent(self, _conn, _cursor, statement, parameters, _context, _executemany):
        self.sent.append((statement, parameters))


def postgresql_cpu_ms(pid: int | None) -> float:
    if pid is None:
        return 0.0
    # Nanoseconds on a CPU, user and system: /proc/<pid>/stat counts in clock ticks (10 ms), as coarse
    # as a whole run of a cheap endpoint.
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e6


def app_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


def measure(work, count: int, pid: int | None) -> tuple[float, float]:
    """App and PostgreSQL CPU ms per call of `work`, over `count` calls."""
    app_before, pg_before = app_cpu_ms(), postgresql_cpu_ms(pid)
    for _ in range(count):
        work()
    return (app_cpu_ms() - app_before) / count, (postgresql_cpu_ms(pid) - pg_before) / count


def measure_side_by_side(works: list, count: int, pid: int | None) -> list[tuple[float, float]]:
    """`measure` for each of `works`, `count` calls each, asked in turn a block of BLOCK calls at a
    time, so that the machine's drift over the run weighs on them alike."""
    totals = [[0.0, 0.0] for _ in works]
    for start in range(0, count, BLOCK):
        calls = min(BLOCK, count - start)
        for total, work in zip(totals, works, strict=True):
            app_ms, pg_ms = measure(work, calls, pid)
            total[0] += app_ms * calls
            total[1] += pg_ms * calls
    return [(app_ms / count, pg_ms / count) for app_ms, pg_ms in totals]


def run(args, scale: int, workdir: Path) -> dict[str, dict]:
    kind, count = args.database, args.requests
    print(f"\n## {kind}, {scale}× data: seeding …", flush=True)
    url = prepare_database(kind, scale, workdir, args.postgresql_url)
    targets = seed(url, scale)
    engine_options = {"pool_size": 1, "max_overflow": 0} if kind == "postgresql" else {}
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_uri(url), "SQLALCHEMY_ENGINE_OPTIONS": engine_options}
    )
    app.add_url_rule(FLOOR, "bench_floor", signed_in_floor)
    for handler in logging.getLogger().handlers:
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the run's life
    client = app.test_client()
    html = client.get("/login", base_url=HTTPS).get_data(as_text=True)
    form = {"email": demo.ORGANIZER_EMAIL, "password": demo.PASSWORD, "csrf_token": csrf_token(html)}
    # Over HTTPS Flask-WTF checks that the form came from the same site, as a browser's Referer says.
    answer = client.post("/login", data=form, base_url=HTTPS, headers={"Referer": f"{HTTPS}/login"})
    if answer.status_code != 302:
        raise SystemExit("logging in as the demo organizer failed")
    credentials = {"member": {}, "token": {"Authorization": f"Bearer {targets['token']}"}}
    results = {}
    # Each request pushes its own app context, as under a server: no `g` (the signed-in member)
    # or session carried from one request to the next.
    with app.app_context():
        engine = db.engine
        statements = Statements(engine)
        pid = db.session.scalar(text("SELECT pg_backend_pid()")) if kind == "postgresql" else None
        db.session.rollback()
        db.session.remove()
    for name, path, who in every_page(targets):
        if args.only and name not in args.only:
            continue
        headers = credentials[who]
        failed = []

        def ask(path=path, headers=headers, failed=failed):
            status = client.get(path, headers=headers, base_url=HTTPS).status_code
            if status >= 400:
                failed.append(status)

        ask()  # warm: compiled templates and statements
        statements.sent.clear()
        ask()
        sent = list(statements.sent)

        def reference(sent=sent):
            with engine.connect() as connection:
                cursor = connection.connection.dbapi_connection.cursor()
                results = []
                for statement, parameters in sent:
                    cursor.execute(statement, parameters)
                    results.append(cursor.fetchall() if cursor.description else [])
                # Ended as a page's unit of work ends, with COMMIT: psycopg forgets its prepared
                # statements on ROLLBACK, which would make the floor's database time the dearer.
                cursor.connection.commit()
            REFERENCE.render(results=results)

        reference()
        (app_ms, pg_ms), (reference_app_ms, reference_pg_ms) = measure_side_by_side(
            [ask, reference], count, pid
        )
        results[name] = {
            "statements": len(sent),
            "errors": len(failed),
            "app": app_ms,
            "pg": pg_ms,
            "reference": reference_app_ms + reference_pg_ms,
            "reference_app": reference_app_ms,
            "reference_pg": reference_pg_ms,
        }
        print(f"  {name}: {app_ms:.1f} + {pg_ms:.1f} ms", flush=True)
    with app.app_context():
        writes = every_write(targets["slug"], count)
        db.session.remove()
    form_token = csrf_token(client.get("/profile", base_url=HTTPS).get_data(as_text=True))
    session_cookie = app.config["SESSION_COOKIE_NAME"]
    signed_in = client.get_cookie(session_cookie).value
    for name, next_write in writes:
        if args.only and name not in args.only:
            continue
        failed = []

        def write(next_write=next_write, failed=failed):
            path, fields = next_write()
            client.set_cookie(session_cookie, signed_in, secure=True, httponly=True)
            answer = client.post(
                path,
                data=fields | {"csrf_token": form_token},
                base_url=HTTPS,
                headers={"Referer": f"{HTTPS}{path}"},
            )
            if answer.status_code != 302:  # a refused write re-renders its form
                failed.append(answer.status_code)

        write()  # warm
        statements.sent.clear()
        write()
        sent = len(statements.sent)
        app_ms, pg_ms = measure(write, count, pid)
        results[name] = {
            "statements": sent,
            "errors": len(failed),
            "app": app_ms,
            "pg": pg_ms,
            "reference": None,
        }
        print(f"  {name}: {app_ms:.1f} + {pg_ms:.1f} ms", flush=True)
    engine.dispose()
    return results


def print_table(kind: str, by_scale: dict[int, dict[str, dict]]) -> None:
    scales = list(by_scale)
    first = by_scale[scales[0]]
    print(
        f"\n{kind}: CPU ms per request, app + database, at {scales[0]}× "
        f"(statements per request at {scales})\n"
    )
    print(
        "| page / endpoint | statements | app ms | database ms | total "
        "| reference app + db | page ÷ reference |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in first.items():
        counts = "/".join(str(by_scale[s][name]["statements"]) for s in scales)
        total = r["app"] + r["pg"]
        reference, ratio = "—", "—"
        if r["reference"] is not None:
            reference = f"{r['reference_app']:.1f} + {r['reference_pg']:.1f}"
            ratio = f"{total / r['reference']:.1f}×"
        print(f"| {name} | {counts} | {r['app']:.1f} | {r['pg']:.1f} | {total:.1f} | {reference} | {ratio} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--scales", default="1,10", help="comma-separated data scales (default 1,10)")
    parser.add_argument("--requests", type=int, default=200, help="requests per page and per reference")
    parser.add_argument("--short", action="store_true", help="CI: 5 requests a page")
    parser.add_argument("--only", type=lambda names: set(names.split(",")), help="these pages and writes")
    parser.add_argument("--postgresql-url", default=POSTGRESQL_URL, help="its database, {scale} filled in")
    args = parser.parse_args()
    if args.short:
        args.requests = 5
    os.environ.update(ENVIRONMENT)
    scales = [int(s) for s in args.scales.split(",")]
    failures = []
    with tempfile.TemporaryDirectory(prefix="rh-cost-") as tmp:
        by_scale = {scale: run(args, scale, Path(tmp)) for scale in scales}
    print_table(args.database, by_scale)
    for name in by_scale[scales[0]]:
        counts = [by_scale[s][name]["statements"] for s in scales]
        if len(set(counts)) > 1:
            failures.append(f"{name} sends {counts} statements at scales {scales}")
        errors = sum(by_scale[s][name]["errors"] for s in scales)
        if errors:
            failures.append(f"{name} answered {errors} errors")
    for line in failures:
        print(f"FAILED: {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
