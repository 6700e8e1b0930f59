"""Give first in Chromium: introduce two members, both accept by email link, earn, then ask."""

from playwright.sync_api import expect

from tests.browser.journey import Cast, harbour_forum

NOTE = (
    "Dana keeps the books for four cafés; Eli opens his first café in May and keeps his receipts "
    "in a shoebox. Dana can save him a painful first tax year."
)
NEED = {"title": "A signmaker for a shop front", "details": "Painted, not vinyl, before the spring opening."}


def test_member_gives_first_earns_credits_then_posts_a_need(journey, live_app):
    cast = harbour_forum(live_app, "Gil", "Dana", "Eli")
    gil = journey.person()
    gil.log_in(Cast.email("Gil"))
    assert gil.balance(cast.slug) == 0

    gil.open("/introductions/new")
    page = gil.press("Send the introduction", first_id=cast.ids["Dana"], second_id=cast.ids["Eli"], note=NOTE)
    assert "/introductions/" in page.url
    assert "Waiting for both people to answer." in gil.main_text()

    journey.deliver_mail()
    answers = []
    for name in ("Dana", "Eli"):
        party = journey.person()  # anonymous: the link alone lets them answer
        page = party.open(journey.link_in_mail(Cast.email(name), "/i/"))
        expect(page.locator("blockquote")).to_have_text(NOTE)
        party.press("Accept the introduction")
        answers.append(party.main_text())
    assert "We will email you both contact details once the other person accepts" in answers[0]
    assert "You both accepted!" in answers[1]

    assert gil.balance(cast.slug) == 3, "an introduction both sides accept earns the introducer 3 credits"

    gil.open(f"/chapters/{cast.slug}/needs/new")
    page = gil.press("Post need", **NEED)
    expect(page.get_by_role("heading", level=1)).to_have_text(NEED["title"])
    expect(page.locator(".details")).to_have_text(NEED["details"])

    page = gil.open(f"/chapters/{cast.slug}/")
    expect(page.locator("ul.needs > li")).to_contain_text(NEED["title"])
    assert gil.balance(cast.slug) == 1, "posting a need costs 2 credits"
