"""What browser journeys share: people in own contexts, checks on every page, mail links, a cast."""

import re
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page

from referral_hub.chapters import services as chapters
from referral_hub.extensions import db
from referral_hub.mail.services import drain
from tests.factories import PASSWORD, MemberFactory, MembershipFactory

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True},
}

# axe-core's rules, run on the page as it is; every violation, whatever its impact, with where it is.
AXE_VIOLATIONS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  const where = v => v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ');
  return result.violations.map(v => `${v.id} (${v.impact}): ${where(v)}`);
}"""

# Every visible field a person can fill or choose must have a name a screen reader can say: a
# <label> (by `for` or wrapped around it), aria-label, or aria-labelledby pointing at text.
UNLABELLED_FIELDS = """() => {
  const fields = document.querySelectorAll(
    'input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]):not([type=image]),'
    + 'select, textarea');
  const visible = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const says = el => Boolean(el && el.textContent.trim());
  const labelled = el =>
    Boolean((el.getAttribute('aria-label') || '').trim())
    || (el.getAttribute('aria-labelledby') || '').split(/\\s+/).some(id => says(document.getElementById(id)))
    || [...el.labels].some(says);
  return [...fields].filter(visible).filter(el => !labelled(el)).map(el => el.outerHTML.slice(0, 160));
}"""

# How wide the page is against the phone's width, and the innermost elements that stick out on the
# right (outside a scrolling box, which may be wider than the screen on purpose). A mobile browser
# widens its layout viewport to fit what overflows, so the phone's own width is the measure.
OVERFLOW = """width => {
  const sticksOut = el => el.getBoundingClientRect().right > width + 0.5;
  const scrolls = el => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(up).overflowX)) return true;
    }
    return false;
  };
  const culprits = [...document.body.querySelectorAll('*')]
    .filter(el => sticksOut(el) && !scrolls(el) && ![...el.children].some(sticksOut))
    .slice(0, 5)
    .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} right=${
      Math.round(el.getBoundingClientRect().right)}: ${el.textContent.trim().slice(0, 60)}`);
  return {scrollWidth: document.documentElement.scrollWidth, culprits};
}"""


class Journey:
    """One test's walk through the app at one viewport: the people in it, the checks every page gets,
    and the page it ended on."""

    def __init__(self, browser: Browser, live_app, inbox, viewport: str, axe: Path):
        self.browser, self.live_app, self.inbox, self.viewport = browser, live_app, inbox, viewport
        self.axe = axe
        self.contexts = []
        self.last_page: Page | None = None
        self.texts: list[tuple[str, str]] = []  # (path, visible text) of every page checked, in order

    def person(self, **context_options) -> "Person":
        """Someone at their own browser: cookies and storage of their own."""
        # bypass_csp: axe-core is injected as an inline script, which the app's CSP rightly refuses.
        context = self.browser.new_context(
            base_url=self.live_app.base_url,
            **VIEWPORTS[self.viewport],
            **({"bypass_csp": True} | context_options),
        )
        self.contexts.append(context)
        return Person(self, context.new_page())

    def check(self, page: Page) -> None:
        """What every page must do, whoever reached it and however."""
        self.last_page = page
        path = page.url.removeprefix(self.live_app.base_url)
        self.texts.append((path, page.inner_text("body")))
        unlabelled = page.evaluate(UNLABELLED_FIELDS)
        assert not unlabelled, f"{path}: form fields without an accessible label: {unlabelled}"
        page.add_script_tag(path=self.axe)
        violations = page.evaluate(AXE_VIOLATIONS)
        assert not violations, f"{path} at {self.viewport}: axe-core finds {violations}"
        if self.viewport == "phone":
            width = VIEWPORTS["phone"]["viewport"]["width"]
            overflow = page.evaluate(OVERFLOW, width)
            assert overflow["scrollWidth"] <= width, (
                f"{path} scrolls sideways on a {width}px phone: {overflow}"
            )

    def deliver_mail(self) -> None:
        """Send what the outbox holds, as `flask outbox drain` does: the live app leaves it to a worker."""
        with self.live_app.app.app_context():
            report = drain()
        assert report.retrying == 0 and report.dead == 0, report

    def link_in_mail(self, address: str, path: str) -> str:
        """The path of the link starting with `path` in the latest email to `address`."""
        mail = self.inbox.to(address)
        assert mail, f"no mail to {address}"
        body = mail[-1].get_body(preferencelist=("plain",)).get_content()
        match = re.search(re.escape(self.live_app.base_url + path) + r"\S+", body)
        assert match, body
        return match.group(0).removeprefix(self.live_app.base_url)

    def finish(self, screenshot: Path) -> None:
        try:
            if self.last_page is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                self.last_page.screenshot(path=screenshot, full_page=True)
        finally:
            for context in self.contexts:
                context.close()


class Person:
    """One person's browser tab; every page it lands on gets the journey's checks."""

    def __init__(self, journey: Journey, page: Page):
        self.journey, self.page = journey, page
        self.dialogs: list[str] = []
        page.on("dialog", self._dismiss)

    def _dismiss(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: str) -> Page:
        response = self.page.goto(path)
        assert response is not None and response.status == 200, f"GET {path}: {response and response.status}"
        self.journey.check(self.page)
        return self.page

    def press(self, button: str, **fields) -> Page:
        """Fill the fields (by name), press the button, and land on the page it leads to."""
        return self.submit(self.page.get_by_role("button", name=button, exact=True), **fields)

    def submit(self, button: Locator, **fields) -> Page:
        """`press` with the button found some other way than by its words (a page in any language)."""
        for name, value in fields.items():
            field = self.page.locator(f'[name="{name}"]')
            if field.evaluate("el => el.tagName") == "SELECT":
                field.select_option(str(value))
            else:
                field.fill(str(value))
        return self.click(button)

    def follow(self, link: str) -> Page:
        return self.click(self.page.get_by_role("link", name=link, exact=True))

    def click(self, control: Locator) -> Page:
        """Click, and wait for the page it leads to (after any redirect) to load."""
        with self.page.expect_navigation() as navigation:
            control.click()
        landed = navigation.value
        assert landed is not None and landed.status == 200, (
            f"{landed and landed.url}: {landed and landed.status}\n{self.page.inner_text('main')}"
        )
        self.journey.check(self.page)
        return self.page

    def log_in(self, email: str, password: str = PASSWORD) -> Page:
        self.open("/login")
        return self.press("Log in", email=email, password=password)

    def balance(self, slug: str) -> int:
        self.open("/ledger")
        return int(self.page.locator(f'[data-chapter="{slug}"][data-balance]').get_attribute("data-balance"))

    def main_text(self) -> str:
        return self.page.inner_text("main")


@dataclass(frozen=True)
class Cast:
    """A chapter and its people, committed in the live app's database."""

    slug: str
    ids: dict[str, int]  # first name -> member id

    @staticmethod
    def email(first_name: str) -> str:
        return f"{first_name.lower()}@example.org"


ORGANIZER = "Olga"


def harbour_forum(live_app, *first_names: str, invite: tuple[str, ...] = ()) -> Cast:
    """Olga organizes Harbour Forum with these verified members; she invited the `invite` addresses."""
    with live_app.app.app_context():
        organizer = MemberFactory(email=Cast.email(ORGANIZER), display_name=f"{ORGANIZER} Organizer")
        chapter = chapters.create_chapter("Harbour Forum", organizer_email=organizer.email)
        members = {
            name: MembershipFactory(
                chapter=chapter,
                member=MemberFactory(email=Cast.email(name), display_name=f"{name} {name[0]}."),
            ).member
            for name in first_names
        }
        for address in invite:
            chapters.invite(chapter, email=address, invited_by=organizer)
        cast = Cast(chapter.slug, {ORGANIZER: organizer.id} | {name: m.id for name, m in members.items()})
        db.session.commit()
    return cast
