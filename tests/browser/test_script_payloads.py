"""Markup members type into any field is shown as inert text on every page that shows it."""

import csv
import io
from urllib.parse import quote

import pytest

from referral_hub.accounts.services import PROFILE_FIELDS
from tests.browser.journey import ORGANIZER, Cast, harbour_forum

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
QUOTES = "\"'>"
SVG = "<svg onload=alert(window.__xss=1)>"
FULL = SCRIPT + IMG + QUOTES + SVG  # 105 characters
SHORT = IMG + QUOTES + SVG  # 74: for fields that take 80
TINY = QUOTES + "<img src=x onerror=window.__xss=1>"  # 37: for the phone number (40)

# What goes into each field: a word that says which field it was, then markup that acts if it is
# ever parsed as markup.
TYPED = {
    "display_name": "Mal" + SHORT,
    "headline": "Head" + FULL,
    "expertise": "Expertise" + FULL,
    "ideal_referral": "Ideal" + FULL,
    "company": "Co" + FULL,
    "city": "City" + SHORT,
    "website": 'https://mallory.example.org/"><img src=x onerror=window.__xss=1>',
    "phone": "Ph" + TINY,
    "bio": "Bio" + FULL,
    "note": "Dana and Eli both feed the harbour's office workers every weekday: " + FULL,
    "title": "Need" + FULL,
    "details": "Details" + FULL,
    "category": "Cat" + IMG + QUOTES,
    "meeting_note": "Met" + FULL,
    "thanks_note": "Thanks" + FULL,
    "ask_note": "Ask" + FULL,
    "memo": "Memo" + FULL,
    "name": "Token" + SHORT,
    "q": "Search" + SHORT,
    "slug": "Code" + IMG + QUOTES,
    "roster": "Roster" + SHORT,
}
PUBLIC_PROFILE = tuple(field for field in PROFILE_FIELDS if field != "phone")
CONTACT = ("display_name", "phone", "company", "website")
NEED = ("title", "details", "category")

# Anything the payload would have made of the page, had it been parsed as markup.
INJECTED = """() => ({
  ran: typeof window.__xss !== 'undefined',
  images: document.querySelectorAll('img[src="x"]').length,
  svgs: document.querySelectorAll('svg:not(.chart)').length,
  scripts: [...document.scripts].filter(script => script.textContent.includes('__xss')).length,
  handlers: [...document.querySelectorAll('*')].flatMap(
    el => [...el.attributes].filter(a => a.name.startsWith('on')).map(a => `${el.tagName}[${a.name}]`)),
})"""
NOTHING_INJECTED = {"ran": False, "images": 0, "svgs": 0, "scripts": 0, "handlers": []}

MALLORY = "mallory@example.org"
OLGAS_NOTE = "Mallory caters for offices and Dana keeps the books of three caterers: they should talk."


def shown_as_text(person, *fields: str) -> None:
    """The page shows what was typed into `fields` as text, and nothing typed became markup."""
    page = person.page
    text = page.inner_text("body")
    for field in fields:
        assert TYPED[field] in text, f"{page.url}: what was typed as {field} is not shown as text"
    assert page.evaluate(INJECTED) == NOTHING_INJECTED, page.url
    assert person.dialogs == [], page.url


def visit(person, path: str, *fields: str):
    person.open(path)
    shown_as_text(person, *fields)
    return person.page


def roster_file() -> bytes:
    """A roster CSV an organizer uploads, with markup in the name, headline and expertise columns."""
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["name", "email", "headline", "expertise"])
    writer.writerow([TYPED["roster"], "rosa@example.org", TYPED["headline"], TYPED["expertise"]])
    return rows.getvalue().encode()


def path_of(page) -> str:
    return "/" + page.url.split("/", 3)[3]


def id_in(page) -> int:
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


@pytest.mark.parametrize("viewport", ["desktop"])
def test_what_members_type_is_shown_as_text_on_every_page(journey, live_app):
    cast = harbour_forum(live_app, "Dana", "Eli", invite=(MALLORY,))
    journey.deliver_mail()
    # The app's Content-Security-Policy forbids inline script, which would hide broken escaping:
    # these browsers ignore it, so markup that reached a page as markup would run.
    mallory, olga, dana, eli = (journey.person(bypass_csp=True) for _ in range(4))

    # Mallory registers, verifies and joins under a name full of markup, and fills her profile with it.
    join_link = journey.link_in_mail(MALLORY, "/join/")
    mallory.open("/register")
    mallory.press(
        "Create account",
        display_name=TYPED["display_name"],
        email=MALLORY,
        password="a long phrase for mallory",
    )
    shown_as_text(mallory, "display_name")
    journey.deliver_mail()
    mallory.open(journey.link_in_mail(MALLORY, "/verify/"))
    mallory.press("Verify my address")
    mallory.log_in(MALLORY, "a long phrase for mallory")
    visit(mallory, join_link, "display_name")
    mallory.press(f"Join Harbour Forum as {TYPED['display_name']}")
    mallory.open("/profile")
    page = mallory.press("Save profile", **{field: TYPED[field] for field in PROFILE_FIELDS})
    assert "Your profile is saved." in mallory.main_text()
    for field in PROFILE_FIELDS:
        assert page.locator(f'[name="{field}"]').input_value() == TYPED[field], field
    shown_as_text(mallory)
    page = mallory.follow("See your profile as members see it")
    shown_as_text(mallory, *PUBLIC_PROFILE)
    assert page.locator("dl.profile a").get_attribute("href") == TYPED["website"]
    mallory_id = id_in(page)

    # She introduces Dana and Eli with a note full of markup; they read it on their email links.
    mallory.open("/introductions/new")
    page = mallory.press(
        "Send the introduction", first_id=cast.ids["Dana"], second_id=cast.ids["Eli"], note=TYPED["note"]
    )
    shown_as_text(mallory, "note", "display_name")
    her_introduction = path_of(page)
    journey.deliver_mail()
    for party, name in ((dana, "Dana"), (eli, "Eli")):
        visit(party, journey.link_in_mail(Cast.email(name), "/i/"), "display_name", "note")
        party.press("Accept the introduction")

    # Olga introduces Mallory to Dana: Mallory's name is an option, her profile the parties' summary.
    olga.log_in(Cast.email(ORGANIZER))
    page = visit(olga, "/introductions/new")
    option = f"{TYPED['display_name']} — {TYPED['headline']}"
    assert option in page.locator('select[name="first_id"] option').all_text_contents()
    page = olga.press(
        "Send the introduction", first_id=mallory_id, second_id=cast.ids["Dana"], note=OLGAS_NOTE
    )
    shown_as_text(olga, "display_name", "headline", "expertise")
    olgas_introduction = path_of(page)
    journey.deliver_mail()
    for party, address in ((mallory, MALLORY), (dana, Cast.email("Dana"))):
        visit(party, journey.link_in_mail(address, "/i/"), "display_name", "headline", "expertise")
        party.press("Accept the introduction")

    # With the credits she earned, Mallory posts a need; she meets and thanks Dana, and asks Dana
    # to introduce her to Eli.
    mallory.open(f"/chapters/{cast.slug}/needs/new")
    page = mallory.press("Post need", **{field: TYPED[field] for field in NEED})
    shown_as_text(mallory, *NEED, "display_name")
    need_id = id_in(page)
    mallory.open(f"/members/{cast.ids['Dana']}")
    mallory.press("Log the one-to-one", meeting_note=TYPED["meeting_note"])
    mallory.press("Send the note", thanks_note=TYPED["thanks_note"])
    shown_as_text(mallory, "meeting_note", "thanks_note")
    mallory.open(f"/members/{cast.ids['Eli']}")
    page = mallory.press("Ask Dana D. to introduce you", ask_note=TYPED["ask_note"])
    shown_as_text(mallory, "ask_note", "display_name")
    ask = path_of(page)

    # The organizer's pages: a grant with a memo, a token with a name, the roster and reports.
    visit(olga, f"/chapters/{cast.slug}/ledger", "display_name")
    olga.press("Record it", recipient=MALLORY, amount=1, memo=TYPED["memo"])
    shown_as_text(olga, "memo", "display_name")
    olga.open("/settings/tokens")
    olga.press("Create token", name=TYPED["name"], chapter=cast.slug)
    shown_as_text(olga, "name")
    visit(olga, f"/chapters/{cast.slug}/organize/members", "display_name")
    olga.open(f"/chapters/{cast.slug}/roster-import")
    olga.page.locator('[name="roster"]').set_input_files(
        {"name": "roster.csv", "mimeType": "text/csv", "buffer": roster_file()}
    )
    olga.press("Check the file")
    shown_as_text(olga, "roster", "headline", "expertise")
    visit(mallory, "/ledger", "memo", "title")
    visit(mallory, "/dashboard", "display_name")
    mallory.press("Ask to join", slug=TYPED["slug"])
    assert "No chapter has the code" in mallory.main_text()
    shown_as_text(mallory)  # the code comes back quoted by repr(), so only the markup checks apply

    # Every page where another member meets what Mallory typed.
    dana.log_in(Cast.email("Dana"))
    shown_as_text(dana, "title", "display_name")
    visit(dana, f"/chapters/{cast.slug}/members", "display_name", "headline", "expertise")
    visit(dana, f"/members/{mallory_id}", *PUBLIC_PROFILE, "meeting_note", "thanks_note")
    visit(dana, f"/chapters/{cast.slug}/", "title", "category", "display_name")
    visit(dana, f"/needs/{need_id}", *NEED, "display_name")
    visit(dana, "/introductions", "display_name")
    visit(dana, her_introduction, "display_name", "note")
    visit(dana, olgas_introduction, *CONTACT, "headline", "expertise")
    visit(dana, ask, "display_name", "ask_note")
    # What a member searches for comes back in the page too.
    visit(dana, f"/chapters/{cast.slug}/members?q={quote(TYPED['q'])}", "q")
    page = visit(dana, f"/chapters/{cast.slug}/?q={quote(TYPED['q'])}")
    assert page.locator('input[name="q"]').input_value() == TYPED["q"]
