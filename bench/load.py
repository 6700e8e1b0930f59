"""Load the app under gunicorn with wrk and compare each page's requests/s to a bare Flask endpoint.

    .venv/bin/python bench/load.py [--database postgresql|sqlite|both] [--scales 1,10]
        [--duration 10] [--warmup 1] [--connections 8] [--workers 3]

For each database and scale the script builds its own database with the migrations and seeds it:
`flask demo seed` for 60 × scale members (with the demo's introductions, credits and needs) plus
200 × scale open needs on the board. It then starts two gunicorn servers with the same settings
(sync workers, `--workers`): the app (`wsgi:app`, production config, its one log line per request
included) and `bench/bare.py`, a Flask endpoint that returns
"ok". It logs in as the demo organizer the way a browser does, keeping the cookie the first page
sets (a member of the chapter too, so every page answers; the health check and the login page are
asked as a visitor, the API with a token), and runs wrk (`--connections`, 2 threads,
`--duration` seconds, after `--warmup` seconds of unmeasured load whose errors still count)
against each page and API endpoint in turn, then against the bare endpoint again; the bare figure
is the mean of its run before and after.

It prints requests/s, p50 and p99 latency, errors (non-2xx/3xx responses, socket errors, no
answer within 30 s), the SQL statements of a rendering (read from the app's own request log line,
`queries=N`) and requests/s as a share of the bare endpoint's. The API rate limits are raised for
the run (they would otherwise answer 429 after 120 requests a minute, which is what they are for,
not what this measures).
wrk shares the machine's cores with the servers, as a load generator on loopback does.

It exits 1 when a request failed or a page's query count differs between scales; a page below its
goal share (the needs board and a need's page: 35% of bare on PostgreSQL, 45% on SQLite) is
printed as a missed goal, since timings depend on the machine.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, select

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench._server import analyze, gunicorn, log_in, prepare_database  # noqa: E402
from referral_hub import create_app  # noqa: E402 - after the project is importable
from referral_hub.accounts.models import Member, email_key_of  # noqa: E402
from referral_hub.chapters.models import Chapter  # noqa: E402
from referral_hub.cli import demo  # noqa: E402
from referral_hub.clock import utcnow  # noqa: E402
from referral_hub.config import database_uri  # noqa: E402
from referral_hub.extensions import db  # noqa: E402
from referral_hub.needs.models import Need, NeedStatus  # noqa: E402
from referral_hub.reports.access import create_token  # noqa: E402

POSTGRESQL_URL = "postgresql://postgres@127.0.0.1:5432/rh_bench_load_{scale}x"
MEMBERS, NEEDS = 60, 200
# The needs board and a need's page must reach these shares of the bare endpoint's requests/s.
GOALS = {"postgresql": 0.35, "sqlite": 0.45}
GOAL_PAGES = ("needs board", "need page")
ENVIRONMENT = {
    "REFERRAL_HUB_ENV": "production",
    "SECRET_KEY": "bench-load-secret-key-for-timing-runs-only",
    "MAIL_TRANSPORT": "memory",
    "RATELIMIT_API_PER_TOKEN": "100000000 per minute",
    "RATELIMIT_API_PER_ADDRESS": "100000000 per minute",
}


@dataclass
class Result:
    name: str
    path: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    queries: int | None = None


def seed(url: str, scale: int) -> dict:
    """Migrate and seed the database; return the ids and the API token the pages need."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri(url)})
    with app.app_context():
        upgrade()
        for _ in demo.seed(MEMBERS * scale):
            pass
        chapter = db.session.scalar(select(Chapter).where(Chapter.slug == demo.CHAPTER_SLUG))
        organizer_key = email_key_of(demo.ORGANIZER_EMAIL)
        organizer = db.session.scalar(select(Member).where(Member.email_key == organizer_key))
        now = utcnow()
        db.session.execute(
            insert(Need),
            [
                {
                    "chapter_id": chapter.id,
                    "asker_id": organizer.id,
                    "title": f"An accountant who knows hospitality, request {n}",
                    "details": "A restaurant owner I know needs help with payroll and VAT. Who do you trust?",
                    "category": "referral",
                    "status": NeedStatus.OPEN,
                    "created_at": now - timedelta(minutes=n),
                    "expires_at": now + timedelta(days=30),
                }
                for n in range(NEEDS * scale)
            ],
        )
        _, token = create_token(organizer, name="bench", chapter_slug=chapter.slug)
        need_id = db.session.scalar(select(Need.id).where(Need.chapter_id == chapter.id).order_by(Need.id))
        db.session.commit()
        # A member the organizer knows from the demo's introductions: their profile has the most to show.
        member_key = email_key_of("member1@demo.referral-hub.local")
        member_id = db.session.scalar(select(Member.id).where(Member.email_key == member_key))
        targets = {"slug": chapter.slug, "need_id": need_id, "member_id": member_id, "token": token}
        db.session.commit()
        analyze(db.engine)
        db.engine.dispose()
    return targets


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * UNITS_MS[unit]


def wrk(name: str, url: str, *, duration: int, connections: int, headers: dict) -> Result:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency"]
    for header, value in headers.items():
        command += ["-H", f"{header}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    # wrk prints no latency line for a percentile it has no completed request for.
    percentiles = {"50": "0s", "99": "0s"} | dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return Result(
        name=name,
        path=urllib.parse.urlsplit(url).path,
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_milliseconds(percentiles["50"]),
        p99_ms=_milliseconds(percentiles["99"]),
        errors=(int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
    )


def logged(log_path: Path, path: str) -> int | None:
    """From the app's request log: the SQL statements of the last rendering of `path`."""
    renderings = re.findall(rf"GET {re.escape(path)} \d+ [\d.]+ms queries=(\d+) ", log_path.read_text())
    return int(renderings[-1]) if renderings else None


def pages(targets: dict) -> list[tuple[str, str, str]]:
    """(name, path, who asks: a visitor, the logged-in organizer, or the API token) under load."""
    slug, api = targets["slug"], f"/api/v1/chapters/{targets['slug']}"
    return [
        ("health check", "/healthz", "visitor"),
        ("login page", "/login", "visitor"),
        ("needs board", f"/chapters/{slug}/", "member"),
        ("need page", f"/needs/{targets['need_id']}", "member"),
        ("directory", f"/chapters/{slug}/members", "member"),
        ("member profile", f"/members/{targets['member_id']}", "member"),
        ("dashboard", "/dashboard", "member"),
        ("introductions", "/introductions", "member"),
        ("ledger", "/ledger", "member"),
        ("API needs", f"{api}/needs?status=open", "token"),
        ("API introductions", f"{api}/introductions", "token"),
        ("API summary", f"{api}/summary", "token"),
    ]


def run(kind: str, scale: int, args, workdir: Path) -> tuple[float, list[Result]]:
    print(f"\n## {kind}, {scale}× data: seeding …", flush=True)
    url = prepare_database(kind, scale, workdir, POSTGRESQL_URL)
    targets = seed(url, scale)
    environment = {"DATABASE_URL": url}
    app_log = workdir / f"app-{kind}-{scale}x.log"

    def measure(name: str, url: str, headers: dict) -> Result:
        """A warm-up run, then the measured one: a worker's first requests (imports, compiled
        templates) are not its steady state. Errors count in both."""
        warm_up = wrk(name, url, headers=headers, duration=args.warmup, connections=args.connections)
        result = wrk(name, url, headers=headers, duration=args.duration, connections=args.connections)
        result.errors += warm_up.errors
        return result

    with (
        gunicorn("wsgi:app", args.workers, environment, app_log) as app_url,
        gunicorn("bench.bare:app", args.workers, {}, workdir / "bare.log") as bare_url,
    ):
        cookie = log_in(app_url, demo.ORGANIZER_EMAIL, demo.PASSWORD)
        bare_before = measure("bare Flask", bare_url + "/", headers={})
        results = []
        credentials = {
            "visitor": {},
            "member": {"Cookie": cookie},
            "token": {"Authorization": f"Bearer {targets['token']}"},
        }
        for name, path, who in pages(targets):
            headers = credentials[who]
            result = measure(name, app_url + path, headers=headers)
            result.queries = logged(app_log, result.path)
            results.append(result)
            print(f"  {name}: {result.requests_per_second:.0f} req/s", flush=True)
        bare_after = measure("bare Flask", bare_url + "/", headers={})
    bare = statistics.mean([bare_before.requests_per_second, bare_after.requests_per_second])
    print(
        f"bare Flask endpoint: {bare_before.requests_per_second:.0f} req/s before, "
        f"{bare_after.requests_per_second:.0f} after (p50 {bare_before.p50_ms:.2f} ms)"
    )
    return bare, results


def _shown(milliseconds: float) -> str:
    return f"{milliseconds:.1f}" if milliseconds else "–"  # wrk had too few answers for that percentile


def print_table(kind: str, scale: int, bare: float, results: list[Result]) -> None:
    print(f"\n{kind}, {scale}× data (bare Flask: {bare:.0f} req/s)\n")
    print("| page | req/s | p50 ms | p99 ms | errors | queries | share of bare |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.name} | {r.requests_per_second:.0f} | {_shown(r.p50_ms)} | {_shown(r.p99_ms)} "
            f"| {r.errors} | {r.queries if r.queries is not None else '?'} "
            f"| {r.requests_per_second / bare:.0%} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--scales", default="1,10", help="comma-separated data scales (default 1,10)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load per page")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured load before each")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers per server")
    args = parser.parse_args()
    os.environ.update(ENVIRONMENT)
    kinds = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
    scales = [int(s) for s in args.scales.split(",")]
    failures, missed = [], []
    with tempfile.TemporaryDirectory(prefix="rh-bench-") as tmp:
        for kind in kinds:
            queries_by_scale: dict[int, dict[str, int | None]] = {}
            for scale in scales:
                bare, results = run(kind, scale, args, Path(tmp))
                print_table(kind, scale, bare, results)
                queries_by_scale[scale] = {r.name: r.queries for r in results}
                for r in results:
                    if r.errors:
                        failures.append(f"{kind} {scale}×: {r.name} had {r.errors} errors")
                    if r.name in GOAL_PAGES and r.requests_per_second / bare < GOALS[kind]:
                        missed.append(
                            f"{kind} {scale}×: {r.name} at {r.requests_per_second / bare:.0%} of bare, "
                            f"goal {GOALS[kind]:.0%}"
                        )
            for name in queries_by_scale[scales[0]]:
                counts = [queries_by_scale[scale][name] for scale in scales]
                if len(set(counts)) > 1:
                    failures.append(f"{kind}: {name} sends {counts} queries at scales {scales}")
    print()
    for line in missed:
        print(f"Goal missed: {line}")
    for line in failures:
        print(f"FAILED: {line}")
    if not (missed or failures):
        print("Every goal met: no errors, the same queries at each scale, board and need page fast enough.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
