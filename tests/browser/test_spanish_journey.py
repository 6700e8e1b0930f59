"""A Spanish speaker's journey in Chromium: register, verify, join, introduce, accept from the email,
with no English on any page or email of it (the English phrases are those the same walk shows in English)."""

import re
from dataclasses import dataclass

from playwright.sync_api import expect

from referral_hub.accounts.services import find_by_email
from referral_hub.chapters import services as chapters
from referral_hub.extensions import db
from tests.factories import MemberFactory, MembershipFactory

PASSWORD = "a long phrase to remember"


@dataclass(frozen=True)
class Setting:
    """One language's walk: who, where, and what they write."""

    language: str
    chapter: str
    newcomer: str
    note: str
    domain: str
    headline: str  # of every member already there, with
    expertise: str

    def email(self, name: str) -> str:
        return f"{name.lower()}@{self.domain}"


ENGLISH = Setting(
    "en",
    "Harbour Forum",
    "Nora",
    "Dana keeps the books for four cafés; Eli opens his first café in May. She can save him a hard year.",
    "example.org",
    "I keep the books for cafés and bakeries",
    "bookkeeping, payroll",
)
SPANISH = Setting(
    "es",
    "Foro del Puerto",
    "Nuria",
    "Dana lleva las cuentas de cuatro cafeterías; Eli abre la suya en mayo. Puede ahorrarle un mal año.",
    "example.net",
    "Llevo la contabilidad de cafeterías y panaderías",
    "contabilidad, nóminas",
)
PARTIES = ("Dana", "Eli")
# Said the same in both languages; anything else English on a Spanish page is a miss.
SAME_IN_SPANISH = {"Referral Hub", "API", "OK"}


def test_a_spanish_speaker_sees_no_english_from_registering_to_accepting(journey, live_app):
    english = walk(journey, live_app, ENGLISH)
    spanish = walk(journey, live_app, SPANISH)
    names = {*PARTIES, "Olga", ENGLISH.newcomer, SPANISH.newcomer, ENGLISH.chapter, SPANISH.chapter}
    phrases = english_phrases(english, ignore=names)
    assert len(phrases) > 40, f"the English walk shows too little to compare: {sorted(phrases)}"
    left = {
        where: found
        for where, text in spanish
        if (found := [p for p in sorted(phrases) if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text)])
    }
    report = "\n".join(f"- {where}: {found}" for where, found in left.items())
    assert not left, f"English on {len(left)} pages and emails of the Spanish walk:\n{report}"


def walk(journey, live_app, setting: Setting) -> list[tuple[str, str]]:
    """The journey in one language: (where, visible text) of every page and email the people saw."""
    chapter_inviting(live_app, setting)
    journey.texts.clear()
    sent_before = len(journey.inbox.messages)
    speaking = {"locale": f"{setting.language}-ES" if setting.language == "es" else "en-GB"}
    speaking["extra_http_headers"] = {"Accept-Language": setting.language}
    journey.deliver_mail()
    newcomer_email = setting.email(setting.newcomer)
    join_link = journey.link_in_mail(newcomer_email, "/join/")

    newcomer = journey.person(**speaking)
    page = newcomer.open(join_link)
    newcomer.click(page.locator('main a[href^="/register"]'))
    page = newcomer.submit(
        button(page), display_name=setting.newcomer, email=newcomer_email, password=PASSWORD
    )
    assert newcomer_email in newcomer.main_text()

    journey.deliver_mail()
    page = newcomer.open(journey.link_in_mail(newcomer_email, "/verify/"))
    newcomer.submit(button(page))
    page = newcomer.open(join_link)
    page = newcomer.click(page.locator('main a[href^="/login"]'))
    page = newcomer.submit(button(page), email=newcomer_email, password=PASSWORD)
    assert page.url.endswith(join_link), "logging in brings the newcomer back to the invitation"
    page = newcomer.submit(button(page))
    assert "/chapters/" in page.url, page.url

    page = newcomer.open("/introductions/new")
    ids = party_ids(live_app, setting)
    page = newcomer.submit(button(page), first_id=ids["Dana"], second_id=ids["Eli"], note=setting.note)
    assert re.search(r"/introductions/\d+", page.url), page.url

    journey.deliver_mail()
    for name in PARTIES:
        party = journey.person(**speaking)  # anonymous: the link alone lets them answer
        page = party.open(journey.link_in_mail(setting.email(name), "/i/"))
        expect(page.locator("blockquote")).to_have_text(setting.note)
        party.submit(page.locator('main button[name="decision"][value="accept"]'))
    newcomer.open("/introductions")
    journey.deliver_mail()

    pages = [(f"page {path}", text) for path, text in journey.texts]
    return pages + [mail_text(message) for message in journey.inbox.messages[sent_before:]]


def chapter_inviting(live_app, setting: Setting) -> None:
    """A chapter in the setting's language: Olga organizes it, Dana and Eli are members speaking it
    (their emails are in it), and the newcomer is invited."""
    with live_app.app.app_context():
        people = {
            name: MemberFactory(
                email=setting.email(name),
                display_name=name,
                language=setting.language,
                headline=setting.headline,
                expertise=setting.expertise,
            )
            for name in ("Olga", *PARTIES)
        }
        chapter = chapters.create_chapter(setting.chapter, organizer_email=setting.email("Olga"))
        chapter.language = setting.language
        for name in PARTIES:
            MembershipFactory(chapter=chapter, member=people[name])
        organizer = people["Olga"]
        chapters.invite(chapter, email=setting.email(setting.newcomer), invited_by=organizer)
        db.session.commit()


def party_ids(live_app, setting: Setting) -> dict[str, int]:
    with live_app.app.app_context():
        return {name: find_by_email(setting.email(name)).id for name in PARTIES}


def button(page):
    """The page's one form button in its main part, whatever its words."""
    buttons = page.locator("main form button[type=submit]")
    expect(buttons).to_have_count(1)
    return buttons


def mail_text(message) -> tuple[str, str]:
    """(where, text) of an email: its subject, plain body and the words of its HTML body."""
    html = message.get_body(preferencelist=("html",))
    words = re.sub(r"<[^>]+>", "\n", html.get_content()) if html is not None else ""
    plain = message.get_body(preferencelist=("plain",)).get_content()
    return f"email {message['Subject']!r} to {message['To']}", "\n".join([message["Subject"], plain, words])


def english_phrases(seen: list[tuple[str, str]], *, ignore: set[str]) -> set[str]:
    """The English a reader saw, in phrases: the text between punctuation, without names, addresses,
    links and numbers; each phrase with at least one word of three letters."""
    phrases = set()
    for _where, text in seen:
        text = re.sub(r"https?://\S+|\S+@\S+", "\n", text)
        for name in sorted(ignore | SAME_IN_SPANISH, key=len, reverse=True):
            text = text.replace(name, "\n")
        text = re.sub(r"&[a-z]+;|\d+", "\n", text)
        for phrase in re.split(r"[\n.,:;!?()\[\]“”\"«»·|/–—]+", text):
            phrase = " ".join(phrase.split())
            if re.search(r"[A-Za-z]{3}", phrase):
                phrases.add(phrase)
    return phrases
