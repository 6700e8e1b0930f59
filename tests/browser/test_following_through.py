"""After the introduction, in Chromium: the asker finds it from the header, reports what came of it
from the dashboard, marks the need fulfilled; leaving the chapter asks first."""

from playwright.sync_api import expect

from referral_hub.accounts.models import Member
from referral_hub.chapters.models import Chapter
from referral_hub.extensions import db
from referral_hub.introductions.models import Introduction, IntroState
from referral_hub.needs.models import Need, NeedStatus
from tests.browser.journey import Cast, harbour_forum
from tests.factories import ConsentFactory, IntroductionFactory, NeedFactory

NEED = "A caterer for a launch lunch"


def test_asker_reports_business_from_the_dashboard_and_marks_the_need_fulfilled(journey, live_app):
    cast = harbour_forum(live_app, "Ada", "Ben", "Cy")
    with live_app.app.app_context():
        chapter = db.session.scalar(db.select(Chapter).filter_by(slug=cast.slug))
        ada, ben, cy = (db.session.get(Member, cast.ids[name]) for name in ("Ada", "Ben", "Cy"))
        need = NeedFactory(chapter=chapter, asker=ada, title=NEED)
        intro = IntroductionFactory(
            chapter=chapter, introducer=cy, first=ada, second=ben, need=need, completed=True
        )
        for party in (ada, ben):
            ConsentFactory(introduction=intro, member=party)
        need_id, intro_id = need.id, intro.id
        db.session.commit()

    ada_tab = journey.person()
    ada_tab.log_in(Cast.email("Ada"))
    # The header counts the outcome Ada has yet to report.
    page = ada_tab.follow("Introductions 1 waiting for you")
    expect(page.locator("main")).to_contain_text("Ben")

    page = ada_tab.open("/dashboard")
    card = page.locator(f"#completed-{intro_id}")
    expect(card).to_contain_text("introduced you to Ben")
    expect(card).to_contain_text(Cast.email("Ben"))
    page = ada_tab.press("Report", kind="business_closed", amount="900")
    expect(page.locator(f"#completed-{intro_id}")).to_contain_text("You reported: business closed (900)")
    expect(page.locator("main")).to_contain_text(f"if your need “{NEED}” is met, mark it fulfilled")

    page = ada_tab.press(f"Mark “{NEED}” fulfilled")
    expect(page.locator("main")).to_contain_text("Marked fulfilled")
    with live_app.app.app_context():
        assert db.session.get(Need, need_id).status is NeedStatus.FULFILLED
        assert db.session.get(Introduction, intro_id).state is IntroState.COMPLETED


def test_leaving_a_chapter_asks_first(journey, live_app):
    cast = harbour_forum(live_app, "Dee")
    dee = journey.person()
    dee.log_in(Cast.email("Dee"))
    dee.open(f"/chapters/{cast.slug}/")
    page = dee.press("Leave Harbour Forum")
    expect(page.get_by_role("heading", level=1)).to_have_text("Leave Harbour Forum?")
    page = dee.follow("Cancel, go back")
    assert page.url.endswith(f"/chapters/{cast.slug}/")
    dee.press("Leave Harbour Forum")
    page = dee.press("Leave the chapter")
    expect(page.locator("main")).to_contain_text("You left Harbour Forum.")


def test_the_api_docs_page_passes_the_checks(journey):
    journey.person().open("/api/docs")
