"""A newcomer in Chromium: invited, registers, verifies, joins, fills a profile the chapter sees."""

from playwright.sync_api import expect

from tests.browser.journey import ORGANIZER, Cast, harbour_forum

NORA = "nora@example.org"
PROFILE = {
    "display_name": "Nora Newcomer",
    "headline": "I photograph restaurant menus that sell",
    "expertise": "food photography, menu design",
    "ideal_referral": "Cafés opening a second site",
    "company": "Nora Frames Ltd",
    "city": "Harbourside",
    "website": "https://nora-frames.example.org/",
    "phone": "+44 20 7946 0958",
    "bio": "Ten years behind the lens for chefs who care how a plate looks.",
}
SHOWN_TO_MEMBERS = ("headline", "expertise", "ideal_referral", "company", "city", "website", "bio")


def test_invited_newcomer_joins_and_the_chapter_sees_their_profile(journey, live_app):
    cast = harbour_forum(live_app, "Dana", invite=(NORA,))
    journey.deliver_mail()
    join_link = journey.link_in_mail(NORA, "/join/")

    nora = journey.person()
    page = nora.open(join_link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Harbour Forum")
    nora.follow("create an account")
    nora.press("Create account", display_name="Nora", email=NORA, password="a long phrase for nora")
    # The same answer as for an address that has an account: nobody is logged in yet.
    assert "Check your email" in nora.main_text()

    journey.deliver_mail()
    nora.open(journey.link_in_mail(NORA, "/verify/"))
    assert NORA in nora.main_text()
    nora.press("Verify my address")
    assert f"{NORA} is verified" in nora.main_text()

    nora.open(join_link)
    nora.follow("log in")
    page = nora.press("Log in", email=NORA, password="a long phrase for nora")
    assert page.url.endswith(join_link), "logging in brings the newcomer back to the invitation"
    page = nora.press("Join Harbour Forum as Nora")
    assert page.url.endswith(f"/chapters/{cast.slug}/")
    assert "Welcome to Harbour Forum!" in nora.main_text()

    nora.open("/profile")
    page = nora.press("Save profile", **PROFILE)
    assert "Your profile is saved." in nora.main_text()
    for name, value in PROFILE.items():
        assert page.locator(f'[name="{name}"]').input_value() == value

    # The organizer finds the newcomer in the directory by what they do, and opens their profile.
    olga = journey.person()
    olga.log_in(Cast.email(ORGANIZER))
    olga.open(f"/chapters/{cast.slug}/members")
    page = olga.press("Search", q="photography")
    entries = page.locator("ul.directory > li")
    expect(entries).to_have_count(1)
    expect(entries).to_contain_text(PROFILE["display_name"])
    expect(entries).to_contain_text(PROFILE["headline"])
    page = olga.follow(PROFILE["display_name"])
    profile = olga.main_text()
    for name in SHOWN_TO_MEMBERS:
        assert PROFILE[name] in profile, name
    expect(page.get_by_role("link", name=PROFILE["website"])).to_have_attribute("href", PROFILE["website"])
    assert PROFILE["phone"] not in page.content() and NORA not in page.content()
