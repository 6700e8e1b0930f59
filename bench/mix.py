"""A realistic mix under locust: 200 signed-in members across 50 chapters reading and writing about 9 to 1.

    .venv/bin/python bench/mix.py [--database postgresql|sqlite|both] [--scales 1,10]
        [--duration 30] [--workers 3] [--short] [--postgresql-url URL]

For each database and scale it builds and seeds its own database: `flask demo seed` for 60 × scale
members (the demo's history of introductions, credits and needs) and 49 more chapters of 10 × scale
members each with 4 × scale open needs, every chapter posting needs for free (`need_cost` 0, so a
member's credits never run out mid-run; the rest of the policy is the default). It serves the app
with gunicorn (`--workers` sync workers, production settings, `MAIL_TRANSPORT=memory`) next to
`bench/bare.py` served the same way, signs in 4 members of every chapter through the real login form
(200 sessions; the login and API rate limits are raised for the run through `RATELIMIT_*`), and runs
locust headless (`bench/mix_users.py`) with those 200 members plus 10 organizers calling the API with
bearer tokens. Members read nine times for each write: dashboard, needs board, a need, a profile,
the directory with `?q=`, the ledger and their introductions; post a need, make an introduction,
log a one-to-one, edit the profile. Answering an introduction's emailed link (`/i/<token>`) is not
in the mix: the links' tokens are only in the outbox's rendered mail.

Runs: the mix at its peak (no think time), the bare endpoint by as many users, then the mix again
paced at half the peak's requests/s, each user waiting a random time before each request (its
requests arrive at random moments, a Poisson stream, as independent members' do, not all users in
step). It prints per page and endpoint requests/s, p50/p95/p99 ms and errors, the whole mix's
requests/s as a share of the bare endpoint's, the half-peak run's requests/s and each page's p95 in
it, and the CPU time locust took in each run. It exits 1 on any error (a failed request or a form
answered without its redirect, printed with the page's refusal). `--short` (CI): 1× only, 8 seconds a
run, no half-peak run. `--postgresql-url` names another database (its `{scale}` filled in), so that two
runs on one server do not drop each other's; the servers listen on free ports.
"""

import argparse
import csv
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, select

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench._server import Browser, analyze, gunicorn, prepare_database  # noqa: E402
from referral_hub import create_app  # noqa: E402 - after the project is importable
from referral_hub.accounts.models import Member, email_key_of  # noqa: E402
from referral_hub.chapters.models import Chapter, Membership, MembershipStatus, Role  # noqa: E402
from referral_hub.chapters.policy import update_policy  # noqa: E402
from referral_hub.cli import demo  # noqa: E402
from referral_hub.clock import utcnow  # noqa: E402
from referral_hub.config import database_uri  # noqa: E402
from referral_hub.extensions import db  # noqa: E402
from referral_hub.introductions.models import Introduction  # noqa: E402
from referral_hub.needs.models import Need, NeedStatus  # noqa: E402
from referral_hub.reports.access import create_token  # noqa: E402

POSTGRESQL_URL = "postgresql://postgres@127.0.0.1:5432/rh_bench_mix_{scale}x"
CHAPTERS, SESSIONS_PER_CHAPTER, ORGANIZERS = 50, 4, 10
DEMO_MEMBERS, CHAPTER_MEMBERS, CHAPTER_NEEDS = 60, 10, 4
TRADES = ("accountant", "architect", "printer", "solicitor", "florist", "plumber", "designer", "caterer")
UNLIMITED = "100000000 per minute"
ORGANIZER_KEY = email_key_of(demo.ORGANIZER_EMAIL)
ENVIRONMENT = {
    "REFERRAL_HUB_ENV": "production",
    "SECRET_KEY": "bench-mix-secret-key-for-timing-runs-only",
    "MAIL_TRANSPORT": "memory",
    "RATELIMIT_API_PER_TOKEN": UNLIMITED,
    "RATELIMIT_API_PER_ADDRESS": UNLIMITED,
    "RATELIMIT_AUTH_PER_ADDRESS": UNLIMITED,
    "RATELIMIT_LOGIN_PER_ACCOUNT": UNLIMITED,
}


def _bench_chapter(number: int, scale: int, password_hash: str) -> Chapter:
    """A chapter of 10 × scale members, the first its organizer, added through the ORM."""
    chapter = Chapter(name=f"Bench chapter {number}", slug=f"bench-{number:02}")
    db.session.add(chapter)
    now = utcnow()
    for index in range(CHAPTER_MEMBERS * scale):
        trade = TRADES[(number + index) % len(TRADES)]
        email = f"m{index}@bench-{number:02}.referral-hub.local"
        member = Member(
            email=email,
            email_key=email_key_of(email),
            display_name=f"Member {index} of chapter {number}",
            password_hash=password_hash,
            email_verified_at=now,
            headline=f"The {trade} members send their clients to",
            city="Leeds",
        )
        role = Role.ORGANIZER if index == 0 else Role.MEMBER
        status = MembershipStatus.ACTIVE
        db.session.add(
            Membership(
                chapter=chapter, member=member, role=role, status=status, requested_at=now, joined_at=now
            )
        )
    db.session.flush()
    return chapter


def _members_of(chapter: Chapter) -> list[Member]:
    return list(
        db.session.scalars(
            select(Member)
            .join(Membership, Membership.member_id == Member.id)
            .where(Membership.chapter_id == chapter.id)
            .order_by(Member.id)
        )
    )


def _add_needs(chapter: Chapter, asker: Member, count: int) -> int:
    now = utcnow()
    db.session.execute(
        insert(Need),
        [
            {
                "chapter_id": chapter.id,
                "asker_id": asker.id,
                "title": f"An accountant who knows hospitality, request {n}",
                "details": "A restaurant owner I know needs help with payroll and VAT. Who do you trust?",
                "category": "referral",
                "status": NeedStatus.OPEN,
                "created_at": now - timedelta(minutes=n),
                "expires_at": now + timedelta(days=30),
            }
            for n in range(count)
        ],
    )
    return db.session.scalar(select(Need.id).where(Need.chapter_id == chapter.id).order_by(Need.id))


def seed(url: str, scale: int) -> dict:
    """Migrate and seed; return every chapter's sessions-to-be (emails, ids, pairs) and API token."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri(url)})
    with app.app_context():
        upgrade()
        for _ in demo.seed(DEMO_MEMBERS * scale):
            pass
        password_hash = db.session.scalar(select(Member.password_hash).limit(1))
        chapters = [db.session.scalar(select(Chapter).where(Chapter.slug == demo.CHAPTER_SLUG))]
        chapters += [_bench_chapter(n, scale, password_hash) for n in range(1, CHAPTERS)]
        members, organizers = [], []
        for chapter in chapters:
            people = _members_of(chapter)
            # The demo's organizer, or a bench chapter's first member.
            organizer = next((m for m in people if m.email_key == ORGANIZER_KEY), people[0])
            update_policy(chapter, changed_by=organizer, settings={"need_cost": 0})
            need_id = _add_needs(chapter, organizer, CHAPTER_NEEDS * scale)
            _, token = create_token(organizer, name="bench", chapter_slug=chapter.slug)
            organizers.append({"slug": chapter.slug, "token": token})
            introduced = {
                frozenset(pair)
                for pair in db.session.execute(
                    select(Introduction.first_id, Introduction.second_id).where(
                        Introduction.chapter_id == chapter.id
                    )
                )
            }
            sessions = people[:SESSIONS_PER_CHAPTER]
            free_pairs = [
                (a.id, b.id)
                for a, b in itertools.combinations(people[SESSIONS_PER_CHAPTER:][:12], 2)
                if frozenset((a.id, b.id)) not in introduced
            ]
            for slot, member in enumerate(sessions):
                members.append(
                    {
                        "id": member.id,
                        "slot": slot,
                        "email": member.email,
                        "name": member.display_name,
                        "slug": chapter.slug,
                        "need_id": need_id,
                        "peers": [m.id for m in people[:20] if m.id != member.id],
                        "words": ["accountant", "printer", member.display_name.split()[0]],
                        "pairs": free_pairs[slot :: len(sessions)],
                    }
                )
        db.session.commit()
        analyze(db.engine)
        db.engine.dispose()
    return {"members": members, "organizers": organizers}


def sign_in(base_url: str, session: dict) -> dict:
    browser = Browser(base_url)
    csrf = browser.log_in(session["email"], demo.PASSWORD)
    return session | {"cookie": browser.cookie_header(), "csrf": csrf}


def locust(base_url: str, classes: list[str], users: int, seconds: int, workdir: Path, **environment) -> dict:
    """Run locust headless, every user started at once and measured from then on; print the CPU time
    locust took (it shares the machine with the servers); return its rows by name: requests/s,
    percentiles, failures."""
    prefix = workdir / f"locust-{'-'.join(classes)}-{environment.get('MIX_RATE_PER_USER', 'peak')}"
    command = [
        str(PROJECT / ".venv/bin/locust"),
        *("-f", str(PROJECT / "bench/mix_users.py"), "--headless", "--host", base_url),
        *("-u", str(users), "-r", str(users), "-t", f"{seconds + 1}s", "--reset-stats"),
        *("--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", *classes),
    ]
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    subprocess.run(command, env={**os.environ, **environment}, check=False, capture_output=True)
    after, took = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic() - started
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(f"  locust took {cpu:.1f} s of CPU in {took:.1f} s ({cpu / took:.0%} of a core)", flush=True)
    with open(f"{prefix}_failures.csv") as failures:
        for row in csv.DictReader(failures):
            print(f"  {row['Occurrences']} × {row['Method']} {row['Name']}: {row['Error']}", flush=True)
    with open(f"{prefix}_stats.csv") as stats:
        return {row["Name"]: row for row in csv.DictReader(stats)}


def run(kind: str, scale: int, args, workdir: Path) -> dict:
    print(f"\n## {kind}, {scale}× data: seeding …", flush=True)
    url = prepare_database(kind, scale, workdir, args.postgresql_url)
    targets = seed(url, scale)
    targets_path = workdir / f"targets-{kind}-{scale}x.json"
    users = len(targets["members"]) + ORGANIZERS
    with (
        gunicorn(
            "wsgi:app", args.workers, {"DATABASE_URL": url}, workdir / f"app-{kind}-{scale}x.log"
        ) as app_url,
        gunicorn("bench.bare:app", args.workers, {}, workdir / "bare.log") as bare_url,
    ):
        print(f"signing in {len(targets['members'])} members …", flush=True)
        with ThreadPoolExecutor(args.workers) as pool:
            targets["members"] = list(pool.map(lambda s: sign_in(app_url, s), targets["members"]))
        targets_path.write_text(json.dumps(targets))
        mix = {"MIX_TARGETS": str(targets_path), "MIX_ORGANIZERS": str(ORGANIZERS)}
        print(f"the mix at its peak, {users} users …", flush=True)
        # Each run writes its own pairs and one-to-one days (MIX_RUN): the half-peak run must not
        # repeat the peak's introductions and meetings, which the app refuses, rightly.
        peak = locust(app_url, ["Member", "Organizer"], users, args.duration, workdir, MIX_RUN="0", **mix)
        print("the bare endpoint …", flush=True)
        bare = locust(bare_url, ["Bare"], users, args.duration, workdir)
        half = None
        if not args.short:
            rate = 0.5 * float(peak["Aggregated"]["Requests/s"]) / users
            print(f"the mix at half its peak ({rate * users:.0f} req/s) …", flush=True)
            half = locust(
                app_url,
                ["Member", "Organizer"],
                users,
                args.duration,
                workdir,
                MIX_RATE_PER_USER=str(rate),
                MIX_RUN="1",
                **mix,
            )
    return {"peak": peak, "bare": float(bare["Aggregated"]["Requests/s"]), "half": half}


def print_table(kind: str, scale: int, result: dict) -> int:
    """Print the run's table; return its errors."""
    peak, bare, half = result["peak"], result["bare"], result["half"]
    total = float(peak["Aggregated"]["Requests/s"])
    paced = f"; at half the peak {float(half['Aggregated']['Requests/s']):.0f} req/s" if half else ""
    print(
        f"\n{kind}, {scale}× data: the mix {total:.0f} req/s, bare Flask {bare:.0f} req/s "
        f"→ {total / bare:.1%} of bare{paced}\n"
    )
    print("| page / endpoint | req/s | p50 ms | p95 ms | p99 ms | errors | p95 ms at half the peak |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    errors = 0
    for name, row in sorted(peak.items(), key=lambda item: item[0] == "Aggregated"):
        failures = int(row["Failure Count"]) + (
            int(half[name]["Failure Count"]) if half and name in half else 0
        )
        errors += failures if name != "Aggregated" else 0
        at_half = half[name]["95%"] if half and name in half else "–"
        print(
            f"| {name} | {float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | {row['99%']} "
            f"| {failures} | {at_half} |"
        )
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--scales", default="1,10", help="comma-separated data scales (default 1,10)")
    parser.add_argument("--duration", type=int, default=30, help="seconds of each locust run")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers per server")
    parser.add_argument("--short", action="store_true", help="CI: 1× only, 8-second runs, no half-peak run")
    parser.add_argument("--postgresql-url", default=POSTGRESQL_URL, help="its database, {scale} filled in")
    args = parser.parse_args()
    if args.short:
        args.scales, args.duration = "1", 8
    os.environ.update(ENVIRONMENT)
    kinds = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
    errors = 0
    with tempfile.TemporaryDirectory(prefix="rh-mix-") as tmp:
        for kind in kinds:
            for scale in (int(s) for s in args.scales.split(",")):
                errors += print_table(kind, scale, run(kind, scale, args, Path(tmp)))
    print(f"\n{'FAILED: ' if errors else ''}{errors} errors under the mix")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
