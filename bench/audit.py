"""Lighthouse scores (accessibility, best practices, SEO) of the login page, dashboard and organize page.

    .venv/bin/python bench/audit.py [--port 5055] [--keep DIR]

It installs Lighthouse 12.2.3 from npm once into ~/.cache/referral-hub/lighthouse (or
$LIGHTHOUSE_CACHE), seeds the demo chapter into a fresh SQLite database, serves the app with
README's development settings, signs in as the demo organizer and audits each page in Debian's
Chromium (/usr/bin/chromium, headless) with the session cookie, then prints the three scores per
page, once as a phone (Lighthouse's default, mobile emulation) and once as a desktop
(--preset=desktop). --keep DIR writes each Lighthouse JSON report there.
"""

import argparse
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

LIGHTHOUSE = "lighthouse@12.2.3"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("accessibility", "best-practices", "seo")
FORM_FACTORS = ("phone", "desktop")
ORGANIZER_EMAIL = "organizer@demo.referral-hub.local"
PASSWORD = "demo-password"  # noqa: S105 - the demo's printed password
DEMO_SLUG = "demo"
PAGES = (
    ("login", "/login", False),
    ("dashboard", "/dashboard", True),
    ("organize", f"/chapters/{DEMO_SLUG}/organize", True),
)
ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(Path(sys.executable).parent / "flask"), "--app", "referral_hub"]


def lighthouse_binary() -> Path:
    """The cached Lighthouse CLI, installed with npm on first use."""
    cache = Path(os.environ.get("LIGHTHOUSE_CACHE", Path.home() / ".cache/referral-hub/lighthouse"))
    binary = cache / "node_modules/.bin/lighthouse"
    if not binary.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603 - fixed arguments
            ["npm", "install", "--prefix", str(cache), "--no-audit", "--no-fund", LIGHTHOUSE],  # noqa: S607
            check=True,
        )
    return binary


def demo_environment(scratch: str) -> dict[str, str]:
    """README's development settings on a fresh SQLite database in the scratch directory."""
    return {
        **os.environ,
        "REFERRAL_HUB_ENV": "development",
        "DATABASE_URL": f"sqlite:///{scratch}/demo.db",
        "MAIL_TRANSPORT": "memory",
        "OUTBOX_DELIVER_IN_APP": "false",
    }


def serve(environment: dict, port: int) -> subprocess.Popen:
    """Seed the demo chapter and start the development server; wait until it answers."""
    subprocess.run([*FLASK, "db", "upgrade"], env=environment, check=True, cwd=ROOT)  # noqa: S603
    subprocess.run([*FLASK, "demo", "seed"], env=environment, check=True, cwd=ROOT)  # noqa: S603
    server = subprocess.Popen(  # noqa: S603
        [*FLASK, "run", "--port", str(port)],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)  # noqa: S310
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the app did not start")


def session_cookie(base: str) -> str:
    """Sign in as the demo organizer through the login form; the Cookie header that carries it."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode(
        {"csrf_token": token, "email": ORGANIZER_EMAIL, "password": PASSWORD}
    ).encode()
    landed = opener.open(f"{base}/login", data=body)
    if not landed.url.endswith("/dashboard"):
        raise SystemExit(f"login did not reach the dashboard: {landed.url}")
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def audit(binary: Path, url: str, cookie: str | None, form_factor: str, report: Path) -> dict[str, int]:
    """Run Lighthouse on one page as a phone or a desktop; its score per category out of 100."""
    command = [
        str(binary),
        url,
        f"--only-categories={','.join(CATEGORIES)}",
        "--output=json",
        f"--output-path={report}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        "--quiet",
    ]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    if cookie:
        command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROMIUM}, check=True)  # noqa: S603
    result = json.loads(report.read_text())
    if result["finalDisplayedUrl"] != url:
        raise SystemExit(f"{url} ended at {result['finalDisplayedUrl']}")
    failing = [
        audit_id
        for audit_id, found in result["audits"].items()
        if found.get("score") is not None
        and found["score"] < 1
        and found.get("scoreDisplayMode") in ("binary", "numeric")
        and any(
            ref["id"] == audit_id and ref["weight"] > 0
            for category in CATEGORIES
            for ref in result["categories"][category]["auditRefs"]
        )
    ]
    if failing:
        print(f"  {url} ({form_factor}): failing audits: {', '.join(failing)}")
    return {name: round(result["categories"][name]["score"] * 100) for name in CATEGORIES}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--keep", type=Path, help="a directory for the JSON reports")
    options = parser.parse_args()

    binary = lighthouse_binary()
    with tempfile.TemporaryDirectory(prefix="rh-audit-") as scratch:
        reports = options.keep or Path(scratch)
        reports.mkdir(parents=True, exist_ok=True)
        server = serve(demo_environment(scratch), options.port)
        base = f"http://127.0.0.1:{options.port}"
        try:
            cookie = session_cookie(base)
            scores = {
                (name, form_factor): audit(
                    binary,
                    base + path,
                    cookie if signed_in else None,
                    form_factor,
                    reports / f"{name}-{form_factor}.json",
                )
                for name, path, signed_in in PAGES
                for form_factor in FORM_FACTORS
            }
        finally:
            server.terminate()
            server.wait()
    print(f"{'page':<10} {'as':<8} {'accessibility':>13} {'best practices':>14} {'SEO':>5}")
    for (name, form_factor), score in scores.items():
        print(
            f"{name:<10} {form_factor:<8} {score['accessibility']:>13}"
            f" {score['best-practices']:>14} {score['seo']:>5}"
        )


if __name__ == "__main__":
    main()
