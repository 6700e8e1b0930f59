"""The organize sections in Chromium at 360 and 1280 pixels: one click apart, no sideways scroll on a
phone, every column of the members table visible on a desktop, and an invitation in two clicks."""

import pytest

from referral_hub.cli import demo
from tests.browser.journey import AXE_VIOLATIONS

MEMBERS = 15
SECTIONS = {
    "overview": "",
    "members": "/members",
    "invitations": "/invitations",
}
WIDTHS = {"phone": 360, "desktop": 1280}
NO_SIDEWAYS_SCROLL = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# How much wider than the box around it each wide table is (0 when every column is in view).
TABLES_CLIPPED = """() => [...document.querySelectorAll('main table')].map(
  table => Math.max(0, table.scrollWidth - table.parentElement.clientWidth))"""


@pytest.fixture
def organizer(chromium, live_app, request):
    seeded = live_app.app.test_cli_runner().invoke(args=["demo", "seed", "--members", str(MEMBERS)])
    assert seeded.exit_code == 0, seeded.output
    contexts = []

    def at(width: int):
        context = chromium.new_context(
            base_url=live_app.base_url,
            viewport={"width": width, "height": 800},
            bypass_csp=True,  # axe-core is injected as an inline script
            **({"is_mobile": True, "has_touch": True} if width < 600 else {}),
        )
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill('[name="email"]', demo.ORGANIZER_EMAIL)
        page.fill('[name="password"]', demo.PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Log in", exact=True).click()
        return page

    yield at
    for context in contexts:
        context.close()


@pytest.mark.parametrize("device", list(WIDTHS))
def test_each_organize_section_fits_the_screen_and_is_one_click_away(organizer, device, request):
    page = organizer(WIDTHS[device])
    artifacts = request.config.rootpath / "test-artifacts" / "organize"
    artifacts.mkdir(parents=True, exist_ok=True)
    base = f"/chapters/{demo.CHAPTER_SLUG}/organize"
    for name, suffix in SECTIONS.items():
        response = page.goto(base + suffix)
        assert response.status == 200, name
        current = page.locator('nav.sections a[aria-current="page"]')
        assert current.count() == 1
        scroll_width, inner_width = page.evaluate(NO_SIDEWAYS_SCROLL)
        assert scroll_width <= inner_width, f"{name} scrolls sideways at {inner_width}px: {scroll_width}"
        if device == "desktop":
            assert page.evaluate(TABLES_CLIPPED) == [0] * page.locator("main table").count(), name
        page.screenshot(path=artifacts / f"organize-{name}-{WIDTHS[device]}.png", full_page=True)
    # Ledger and policy are sections too, one click from any other.
    for label in ("Ledger", "Policy", "Overview"):
        with page.expect_navigation():
            page.locator("nav.sections").get_by_role("link", name=label, exact=True).click()
        assert page.locator('nav.sections a[aria-current="page"]').inner_text() == label
        scroll_width, inner_width = page.evaluate(NO_SIDEWAYS_SCROLL)
        assert scroll_width <= inner_width, f"{label} scrolls sideways at {inner_width}px: {scroll_width}"


def test_an_organizer_invites_in_two_clicks_from_the_overview(organizer):
    page = organizer(WIDTHS["phone"])
    page.goto(f"/chapters/{demo.CHAPTER_SLUG}/organize")
    with page.expect_navigation():
        page.get_by_role("link", name="Invite someone", exact=True).click()  # click one
    page.fill('[name="email"]', "newcomer@example.org")
    page.fill('[name="message"]', "Come to Thursday's breakfast as my guest.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send invitation", exact=True).click()  # click two
    assert page.url.endswith("/organize/invitations")
    assert "Invitation sent to newcomer@example.org." in page.inner_text("main")
    assert "Come to Thursday's breakfast as my guest." in page.inner_text("main")


def test_the_members_table_stacks_into_labelled_cards_on_a_phone(organizer):
    page = organizer(WIDTHS["phone"])
    page.goto(f"/chapters/{demo.CHAPTER_SLUG}/organize/members")
    cell = page.locator("#member-report tbody tr").first.locator("td").nth(6)
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Business given"'
    joined = page.locator("table.roster tbody tr").first.locator("td").nth(3)
    assert joined.evaluate("td => getComputedStyle(td, '::before').content") == '"Joined"'


def test_a_members_status_card_keeps_name_and_status_on_a_line_and_the_figures_in_a_few(organizer):
    page = organizer(WIDTHS["phone"])
    page.goto(f"/chapters/{demo.CHAPTER_SLUG}/organize/members")
    row = page.locator("#member-report tbody tr").first
    name, status, *figures = (row.locator("td").nth(i).bounding_box() for i in range(11))
    assert status["x"] > name["x"] + name["width"] - 1 and abs(status["y"] - name["y"]) < 6
    assert min(figure["y"] for figure in figures) >= name["y"] + name["height"] - 1
    lines = {round(figure["y"]) for figure in figures}
    assert len(lines) <= 5, f"nine figures in {len(lines)} lines"
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_a_roster_card_is_three_lines_name_and_role_address_and_date_buttons(organizer):
    page = organizer(WIDTHS["phone"])
    page.goto(f"/chapters/{demo.CHAPTER_SLUG}/organize/members")
    row = page.locator("table.roster tbody tr").last  # a member, not the organizer: both buttons
    name, email, role, joined, actions = (row.locator("td").nth(i).bounding_box() for i in range(5))
    assert abs(role["y"] - name["y"]) < 6 and role["x"] > name["x"]
    assert email["y"] > name["y"] and abs(joined["y"] - email["y"]) < 6
    assert actions["y"] >= max(email["y"] + email["height"], joined["y"] + joined["height"]) - 1
    assert row.bounding_box()["height"] < 140


def test_the_members_section_on_a_phone_is_short_and_axe_finds_nothing(organizer, axe):
    page = organizer(WIDTHS["phone"])
    page.goto(f"/chapters/{demo.CHAPTER_SLUG}/organize/members")
    # Before the compact cards, 24 demo members took 14,855 px: about 600 px a member.
    members = page.locator("table.roster tbody tr").count()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 400 * members, f"{height} px for {members} members"
    page.add_script_tag(path=axe)
    assert page.evaluate(AXE_VIOLATIONS) == []


def test_cancelling_an_invitation_on_a_phone_asks_first(organizer, axe):
    page = organizer(WIDTHS["phone"])
    page.goto(f"/chapters/{demo.CHAPTER_SLUG}/organize/invitations")
    page.fill('[name="email"]', "maybe@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Send invitation", exact=True).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel invitation", exact=True).first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Cancel the invitation to maybe@example.org?"
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.add_script_tag(path=axe)
    assert page.evaluate(AXE_VIOLATIONS) == []
    with page.expect_navigation():
        page.get_by_role("link", name="Cancel, go back").click()
    assert "maybe@example.org" in page.inner_text("main"), "going back cancels nothing"
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel invitation", exact=True).first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel the invitation", exact=True).click()
    assert "The invitation to maybe@example.org is cancelled" in page.inner_text("main")
