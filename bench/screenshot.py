"""Screenshots in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

    .venv/bin/python bench/reports.py            # once: seeds rh_bench_reports
    .venv/bin/python bench/screenshot.py [--slug bench-1x] [--width 1100] [--output docs/dashboard.png]
    .venv/bin/python bench/screenshot.py --demo [--port 5056]

Without --demo it serves the app on the benchmark database from a local port, logs in as the
chapter's organizer and captures docs/dashboard.png: the organize page from its title to the end of
the dormant members list. With --demo it seeds the demo chapter into a fresh SQLite database (as
bench/audit.py does), logs in as the demo organizer and writes docs/screenshots/: the dashboard, the
organize page's overview and a member's profile, each at 1280 px (desktop) and 360 px (phone) wide,
down to at most PAGE_HEIGHTS of the page.
"""

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import audit  # noqa: E402
from bench.reports import DEFAULT_URL, PASSWORD  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs/screenshots"
WIDTHS = {"desktop": 1280, "phone": 360}
PAGE_HEIGHTS = {"desktop": 1800, "phone": 2400}  # px; longer pages are cut there


def sign_in(page, base: str, email: str, password: str) -> None:
    """Log in through the login form and land on the dashboard."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")


def launch(playwright):
    """Debian's Chromium, headless."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"]
    )


def demo_screenshots(port: int) -> None:
    """The six pictures of docs/screenshots/ from the demo chapter, signed in as its organizer."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rh-screenshots-") as scratch:
        server = audit.serve(audit.demo_environment(scratch), port)
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                for form_factor, width in WIDTHS.items():
                    page = browser.new_page(viewport={"width": width, "height": 800})
                    sign_in(page, base, audit.ORGANIZER_EMAIL, audit.PASSWORD)
                    page.goto(f"{base}/chapters/{audit.DEMO_SLUG}/members")
                    profile = page.locator("main a[href^='/members/']").first.get_attribute("href")
                    for name, path in (
                        ("dashboard", "/dashboard"),
                        ("organize", f"/chapters/{audit.DEMO_SLUG}/organize"),
                        ("profile", profile),
                    ):
                        page.goto(base + path)
                        height = page.evaluate("document.documentElement.scrollHeight")
                        output = SCREENSHOTS / f"{name}-{form_factor}.png"
                        page.screenshot(
                            path=output,
                            full_page=True,
                            clip={
                                "x": 0,
                                "y": 0,
                                "width": width,
                                "height": min(height, PAGE_HEIGHTS[form_factor]),
                            },
                        )
                        print(f"wrote {output.relative_to(SCREENSHOTS.parent.parent)}")
                    page.close()
                browser.close()
        finally:
            server.terminate()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--slug", default="bench-1x")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--output", default="docs/dashboard.png")
    parser.add_argument("--query", default="?sort=intros_completed&order=desc", help="the dashboard's own")
    parser.add_argument("--demo", action="store_true", help="write docs/screenshots/ instead")
    parser.add_argument("--port", type=int, default=5056, help="the demo app's (with --demo)")
    options = parser.parse_args()
    if options.demo:
        demo_screenshots(options.port)
        return

    os.environ.setdefault("REFERRAL_HUB_ENV", "testing")
    from playwright.sync_api import sync_playwright

    from referral_hub import create_app
    from referral_hub.config import database_uri

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_uri(options.database_url), "MAIL_TRANSPORT": "memory"}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": options.width, "height": 900})
            sign_in(page, base, f"organizer@{options.slug}.example", PASSWORD)
            page.goto(f"{base}/chapters/{options.slug}/organize{options.query}", timeout=120_000)
            top = page.locator("main h1").bounding_box()
            bottom = page.locator("section.reports").last.bounding_box()
            page.screenshot(
                path=options.output,
                full_page=True,
                clip={
                    "x": 0,
                    "y": max(top["y"] - 16, 0),
                    "width": options.width,
                    "height": bottom["y"] + bottom["height"] - top["y"] + 32,
                },
            )
            browser.close()
    finally:
        server.shutdown()
    print(f"wrote {options.output}")


if __name__ == "__main__":
    main()
