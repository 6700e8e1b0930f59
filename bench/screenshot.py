"""Take docs/dashboard.png: the organizer dashboard of the benchmark's chapter, in headless Chromium.

    .venv/bin/python bench/reports.py            # once: seeds rh_bench_reports
    .venv/bin/python bench/screenshot.py [--slug bench-1x] [--width 1100] [--output docs/dashboard.png]

It serves the app on the benchmark database from a local port, logs in as the chapter's organizer
in Chromium (Debian's /usr/bin/chromium, driven by Playwright) and captures the page from its
title to the end of the dormant members list.
"""

import argparse
import os
import sys
import threading
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reports import DEFAULT_URL, PASSWORD  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--slug", default="bench-1x")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--output", default="docs/dashboard.png")
    parser.add_argument("--query", default="?sort=intros_completed&order=desc", help="the dashboard's own")
    options = parser.parse_args()

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
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": options.width, "height": 900})
            page.goto(f"{base}/login")
            page.fill("input[name=email]", f"organizer@{options.slug}.example")
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/dashboard")
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
