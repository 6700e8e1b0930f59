"""Introduce anyone in Chromium: a member introduces a client from outside the chapter to another
member; the guest accepts from the email in a fresh browser with no cookies."""

from playwright.sync_api import expect

from tests.browser.journey import Cast, harbour_forum

GUEST_EMAIL = "hana.client@outside.example"
NOTE = (
    "Hana, a client of mine, is fitting out three dental surgeries and needs lighting; Dana has lit "
    "clinics across the harbour for a decade and knows the regulations."
)


def test_a_member_introduces_a_client_from_outside_who_accepts_from_the_email(journey, live_app):
    cast = harbour_forum(live_app, "Gil", "Dana")
    gil = journey.person()
    gil.log_in(Cast.email("Gil"))
    gil.open("/introductions/new")
    gil.press(
        "Send the introduction",
        first_id=cast.ids["Dana"],
        guest_name="Hana Client",
        guest_email=GUEST_EMAIL,
        guest_about="Fitting out three dental surgeries",
        note=NOTE,
    )
    assert GUEST_EMAIL in gil.main_text(), "the introducer sees the guest's address"
    assert "Waiting for both people to answer." in gil.main_text()

    journey.deliver_mail()
    (request,) = journey.inbox.to(GUEST_EMAIL)
    assert request["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/i/never/" in request["List-Unsubscribe"]

    hana = journey.person()  # a fresh browser context: no account, no cookies
    page = hana.open(journey.link_in_mail(GUEST_EMAIL, "/i/"))
    expect(page.locator("blockquote")).to_have_text(NOTE)
    assert "Dana" in hana.main_text() and "Never send me introductions" in hana.main_text()
    hana.press("Accept the introduction", phone="+44 20 7946 0999", company="Hana Dental Ltd")
    assert "once the other person accepts" in hana.main_text()

    dana = journey.person()
    dana.open(journey.link_in_mail(Cast.email("Dana"), "/i/"))
    assert GUEST_EMAIL not in dana.main_text(), "the member sees the address only after both accept"
    dana.press("Accept the introduction")
    assert "You both accepted!" in dana.main_text()

    journey.deliver_mail()
    contact = journey.inbox.to(Cast.email("Dana"))[-1].get_body(preferencelist=("plain",)).get_content()
    assert GUEST_EMAIL in contact and "Hana Dental Ltd" in contact
    welcome = journey.inbox.to(GUEST_EMAIL)[-1]
    assert Cast.email("Dana") in welcome.get_body(preferencelist=("plain",)).get_content()
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert gil.balance(cast.slug) == 0, "a guest introduction pays when the member reports they met"
