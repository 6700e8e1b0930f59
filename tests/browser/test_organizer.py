"""An organizer in Chromium: dashboard charts, an API token shown once, and the API agrees."""

import re
from datetime import datetime

from playwright.sync_api import expect

from referral_hub.cli import demo

MEMBERS = 9  # the demo seed's activity: 6 completed introductions (2 for needs), 1 waiting, 4 needs posted
COMPLETED, MADE, NEEDS = 6, 7, 4


def bar_values(page, chart_id: str, series: str) -> list[int]:
    """The values the bars of one series stand for, read from each bar's tooltip (`… – name: N`)."""
    titles = page.locator(f"svg#{chart_id} rect.bar-{series} > title").all_text_contents()
    return [int(title.rsplit(":", 1)[1]) for title in titles]


def test_organizer_reads_the_charts_and_the_api_agrees(journey, live_app, playwright):
    seeded = live_app.app.test_cli_runner().invoke(args=["demo", "seed", "--members", str(MEMBERS)])
    assert seeded.exit_code == 0, seeded.output

    olga = journey.person()
    olga.log_in(demo.ORGANIZER_EMAIL, demo.PASSWORD)
    page = olga.open(f"/chapters/{demo.CHAPTER_SLUG}/organize")
    figures = {
        figure.get_attribute("data-figure"): figure.get_attribute("data-value")
        for figure in page.locator("[data-figure]").all()
    }
    assert figures["members.total"] == str(MEMBERS)
    assert figures["introductions.completed"] == str(COMPLETED)
    assert figures["needs.posted"] == str(NEEDS)

    # The charts are drawn, with a width on screen, and their bars are the seeded activity.
    for chart in ("activity-chart", "giving-chart"):
        box = page.locator(f"svg#{chart}").bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 50, (chart, box)
    assert sum(bar_values(page, "activity-chart", "completed")) == COMPLETED
    assert sum(bar_values(page, "activity-chart", "made")) == MADE
    assert sum(bar_values(page, "activity-chart", "needs")) == NEEDS
    drawn = page.locator("svg#activity-chart rect.bar-completed").evaluate_all(
        "bars => bars.map(bar => bar.getBoundingClientRect().height)"
    )
    assert max(drawn) > 10, "the week with the completed introductions has a visible bar"
    assert sum(bar_values(page, "giving-chart", "gives")) == COMPLETED
    assert sum(bar_values(page, "giving-chart", "asks")) == NEEDS
    period = re.search(r"(\w{3} \d{1,2}, \d{4}) to (\w{3} \d{1,2}, \d{4})\.", olga.main_text())
    start, end = (datetime.strptime(day, "%b %d, %Y").date().isoformat() for day in period.groups())

    olga.open("/settings/tokens")
    page = olga.press("Create token", name="Board spreadsheet", chapter=demo.CHAPTER_SLUG)
    secret = page.locator("code.secret").get_attribute("data-token")
    assert re.fullmatch(r"rh_[A-Za-z0-9_-]{32,}", secret), secret
    page = olga.open("/settings/tokens")
    expect(page.locator("table")).to_contain_text("Board spreadsheet")
    assert secret not in page.content(), "the token is shown only once"

    api = playwright.request.new_context(base_url=live_app.base_url)
    try:
        path = f"/api/v1/chapters/{demo.CHAPTER_SLUG}/summary?from={start}&to={end}"
        assert api.get(path).status == 401, "no token, no figures"
        response = api.get(path, headers={"Authorization": f"Bearer {secret}"})
        assert response.status == 200, response.text()
        summary = response.json()
    finally:
        api.dispose()
    assert summary["chapter"] == demo.CHAPTER_SLUG
    for key, shown in figures.items():
        group, name = key.split(".")
        assert str(summary[group][name]) == shown, (
            f"{key}: the API says {summary[group][name]}, the page {shown}"
        )
