"""The dashboard follows through (outcomes, introductions made, your needs, first steps); the header."""

from datetime import timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import select

from referral_hub.chapters.models import Membership, MembershipStatus
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.introductions.models import Outcome, OutcomeKind
from referral_hub.introductions.queries import waiting_count_column
from referral_hub.ledger import organizing
from referral_hub.needs.models import NeedStatus
from referral_hub.relationships import strength
from referral_hub.relationships.models import InteractionKind
from referral_hub.web import navigation
from referral_hub.web.chapters.dashboard import standing_of
from tests.conftest import Browser, csrf_from
from tests.factories import (
    ChapterFactory,
    ChapterPolicyFactory,
    ConsentFactory,
    InteractionFactory,
    IntroductionFactory,
    MemberFactory,
    MembershipFactory,
    NeedFactory,
    OutcomeFactory,
)


@pytest.fixture
def chapter():
    return ChapterFactory(name="Riverside", slug="riverside")


@pytest.fixture
def ann(chapter):
    return MembershipFactory(
        chapter=chapter, member__display_name="Ann", member__email="ann@example.org"
    ).member


@pytest.fixture
def bob(chapter):
    return MembershipFactory(
        chapter=chapter,
        member__display_name="Bob",
        member__email="bob@example.org",
        member__phone="+44 20 7946 0000",
        member__headline="I cater office lunches",
        member__expertise="catering, lunches",
    ).member


@pytest.fixture
def cy(chapter):
    return MembershipFactory(
        chapter=chapter, member__display_name="Cy", member__email="cy@example.org"
    ).member


def ann_memberships(member):
    return db.session.scalars(select(Membership).where(Membership.member_id == member.id)).all()


def page(browser, path="/dashboard") -> str:
    response = browser.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(html: str, heading_id: str) -> str:
    return html.split(f'id="{heading_id}"')[1].split("</section>")[0]


def test_a_completed_introduction_shows_the_other_persons_contact_and_asks_what_came_of_it(
    browser, chapter, ann, bob, cy
):
    intro = IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob, completed=True)
    browser.login(ann.email)
    completed = section(page(browser), "completed-heading")
    assert "Cy introduced you to Bob" in completed
    assert "mailto:bob@example.org" in completed and "+44 20 7946 0000" in completed
    assert f'action="/introductions/{intro.id}/outcome?back=dashboard"' in completed

    response = browser.post(
        f"/introductions/{intro.id}/outcome?back=dashboard", {"kind": "met"}, form_page="/dashboard"
    )
    assert response.status_code == 302 and response.location == f"/dashboard#completed-{intro.id}"
    assert db.session.scalar(select(Outcome.kind).where(Outcome.reported_by_id == ann.id)) is OutcomeKind.MET
    after = section(page(browser), "completed-heading")
    assert "You reported: met" in after and "outcome?back=dashboard" not in after


def test_only_an_unverified_member_is_offered_the_verification_link_again(browser, ann):
    newcomer = MemberFactory(unverified=True, email="newcomer@example.org")
    browser.login(newcomer.email)
    notice = page(browser).split('id="verify-heading"')[1].split("</section>")[0]
    assert 'action="/verify/resend"' in notice and 'name="csrf_token"' in notice
    browser.login(ann.email)
    html = page(browser)
    assert "verify-heading" not in html and "/verify/resend" not in html


def test_an_introducer_follows_the_introductions_they_made(browser, chapter, ann, bob, cy):
    IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob)
    IntroductionFactory(chapter=chapter, introducer=cy, first=bob, second=ann, completed=True)
    browser.login(cy.email)
    made = section(page(browser), "made-heading")
    assert made.count("Ann and Bob") + made.count("Bob and Ann") == 2
    assert "waiting for answers" in made and "completed" in made
    assert 'href="/introductions?role=introducer"' in made


def test_each_list_is_capped_and_links_to_all(browser, chapter, ann, bob, cy):
    for _ in range(7):
        IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob, completed=True)
    browser.login(cy.email)
    made = section(page(browser), "made-heading")
    assert made.count("<li>") == 5


def test_the_asker_marks_a_need_fulfilled_after_business_closed_and_it_stops_being_offered(
    browser, chapter, ann, bob, cy
):
    need = NeedFactory(chapter=chapter, asker=ann, title="Lunch for 40 people", details="Catering lunches.")
    intro = IntroductionFactory(
        chapter=chapter, introducer=cy, first=ann, second=bob, need=need, completed=True
    )
    browser.login(bob.email)
    assert "Lunch for 40 people" in section(page(browser), "match-heading")

    browser.login(ann.email)
    assert "Lunch for 40 people" in section(page(browser), "my-needs-heading")
    browser.post(
        f"/introductions/{intro.id}/outcome",
        {"kind": "business_closed", "amount": "800"},
        form_page=f"/introductions/{intro.id}",
    )
    detail = page(browser, f"/introductions/{intro.id}")
    assert "Your need “Lunch for 40 people” is still open" in detail
    assert f'action="/needs/{need.id}/fulfil"' in detail
    browser.post(f"/needs/{need.id}/fulfil", form_page="/dashboard")
    db.session.refresh(need)
    assert need.status is NeedStatus.FULFILLED
    assert "Lunch for 40 people" not in section(page(browser), "my-needs-heading")

    browser.login(bob.email)
    assert "Lunch for 40 people" not in section(page(browser), "match-heading")


def test_business_on_someone_elses_need_offers_nothing(browser, chapter, ann, bob, cy):
    need = NeedFactory(chapter=chapter, asker=ann)
    intro = IntroductionFactory(
        chapter=chapter, introducer=cy, first=ann, second=bob, need=need, completed=True
    )
    browser.login(bob.email)
    browser.post(
        f"/introductions/{intro.id}/outcome",
        {"kind": "business_closed", "amount": "50"},
        form_page=f"/introductions/{intro.id}",
    )
    assert "is still open" not in page(browser, f"/introductions/{intro.id}")


def test_a_newcomer_sees_first_steps_the_credits_rule_and_make_an_introduction_first(browser, ann):
    browser.login(ann.email)
    html = page(browser)
    steps = section(html, "steps-heading")
    assert "Earn credits by making an introduction that both sides accept." in steps
    for step in ("Complete your profile", "Add a photo", "Log a one-to-one", "Make a first introduction"):
        assert step in steps
    chapters = section(html, "chapters-heading")
    assert (
        "0 credits" in chapters
        and '<a class="button" href="/introductions/new">Make an introduction</a>' in chapters
    )
    assert "Post a need" not in chapters and "Posting a need costs 2 credits" in chapters


def test_a_member_who_can_afford_a_need_is_offered_post_a_need(browser, chapter, ann, cy):
    organizer = MembershipFactory(chapter=chapter, organizer=True).member
    organizing.grant(chapter, member_id=ann.id, amount=1, memo="Thanks", granted_by=organizer)
    browser.login(ann.email)
    assert "1 credit<" in section(page(browser), "chapters-heading"), "one credit, singular"
    organizing.grant(chapter, member_id=ann.id, amount=1, memo="Thanks again", granted_by=organizer)
    chapters = section(page(browser), "chapters-heading")
    assert '<a class="button" href="/chapters/riverside/needs/new">Post a need</a>' in chapters


def test_first_steps_are_marked_and_the_list_goes_when_all_are_done(browser, chapter, ann, bob, cy):
    ann.headline, ann.expertise, ann.ideal_referral = "Payroll for bakeries", "payroll", "bakery owners"
    db.session.flush()
    browser.login(ann.email)
    steps = section(page(browser), "steps-heading")
    assert steps.count('data-done="true"') == 1 and '✓ <a href="/profile">Complete your profile' in steps

    IntroductionFactory(chapter=chapter, introducer=ann, first=bob, second=cy)
    InteractionFactory(first=ann, second=bob)
    steps = section(page(browser), "steps-heading")
    assert steps.count('data-done="true"') == 3, "all but the photo"
    ann.photo_version = "0123456789abcdef"  # a photo uploaded (accounts.photos sets it)
    assert standing_of(ann).first_steps.done
    # The same statement asked about Cy: she met Ann? No: Ann met Bob, and Ann made the introduction.
    cy_steps, bob_steps = standing_of(cy).first_steps, standing_of(bob).first_steps
    assert (cy_steps.one_to_one, cy_steps.introduction) == (False, False)
    assert (bob_steps.one_to_one, bob_steps.introduction) == (True, False)


def test_the_dashboard_reads_each_active_chapter_s_need_cost(browser, chapter, ann):
    ChapterPolicyFactory(chapter=chapter, need_cost=7)
    MembershipFactory(member=ann, chapter__name="Harbour", chapter__slug="harbour")
    browser.login(ann.email)
    html = page(browser)
    assert "Posting a need costs 7 credits" in html
    assert "Posting a need costs 2 credits" in html, "the default, in the chapter with no policy of its own"


def test_a_member_without_a_chapter_is_told_to_join_first(browser):
    loner = MemberFactory(email="loner@example.org")
    browser.login(loner.email)
    html = page(browser)
    assert "introduce two members" not in html and "first-steps" not in html
    new = page(browser, "/introductions/new")
    assert "once you belong to a chapter" in new and 'name="first_id"' not in new


def test_the_header_links_the_chapter_and_counts_what_waits_for_an_answer(browser, chapter, ann, bob, cy):
    intro = IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob)
    ConsentFactory(introduction=intro, member=ann)
    browser.login(ann.email)
    header = page(browser, "/ledger").split("</header>")[0]
    for link in ("/dashboard", "/chapters/riverside/", "/introductions", "/ledger", "/profile"):
        assert f'href="{link}"' in header
    assert 'data-waiting="1"' in header and "waiting for you" in header
    assert "Log out" in header
    browser.login(bob.email)
    assert "data-waiting" not in page(browser).split("</header>")[0]


def test_a_page_reads_its_header_with_the_member_in_one_statement(
    browser, chapter, ann, bob, cy, count_queries
):
    intro = IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob)
    ConsentFactory(introduction=intro, member=ann)
    browser.login(ann.email)
    with count_queries() as log:
        header = page(browser, "/ledger").split("</header>")[0]
    assert 'href="/chapters/riverside/"' in header and 'data-waiting="1"' in header
    (with_member,) = [statement for statement in log.queries if "member_sessions" in statement]
    assert "memberships" in with_member, "the member's chapters and waiting count came with the member"
    counted_again = [query for query in log.queries if "consents" in query and query != with_member]
    assert not counted_again, "the waiting count was not read again for the header"


def test_an_error_page_after_its_rollback_draws_the_header_read_with_the_member(
    browser, chapter, ann, bob, cy
):
    intro = IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob)
    ConsentFactory(introduction=intro, member=ann)
    browser.login(ann.email)
    response = browser.get("/needs/999999")
    assert response.status_code == 404
    header = response.get_data(as_text=True).split("</header>")[0]
    assert 'href="/chapters/riverside/"' in header and 'data-waiting="1"' in header


def test_a_refused_form_draws_its_header_too(browser, chapter, ann, bob, cy):
    intro = IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob)
    ConsentFactory(introduction=intro, member=ann)
    browser.login(ann.email)
    response = browser.post("/profile", {"display_name": ""})
    assert response.status_code in (200, 400, 422)
    header = response.get_data(as_text=True).split("</header>")[0]
    assert 'href="/chapters/riverside/"' in header and 'data-waiting="1"' in header


def test_the_header_s_own_links_are_drawn_once_per_language_and_page_and_the_member_s_parts_each_time(
    app, chapter, ann, bob, cy
):
    intro = IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob)
    ConsentFactory(introduction=intro, member=ann)
    MembershipFactory(member=bob, chapter__name="Harbour", chapter__slug="harbour")
    ann_browser, bob_browser = (Browser(app.test_client()) for _ in range(2))
    ann_browser.login(ann.email)
    bob_browser.login(bob.email)
    navigation._layout.cache_clear()

    ann_header, bob_header = (page(b, "/ledger").split("</header>")[0] for b in (ann_browser, bob_browser))
    assert navigation._layout.cache_info().misses == 1, "the second member's page drew no links again"
    assert 'data-waiting="1"' in ann_header and "/chapters/harbour/" not in ann_header
    assert "data-waiting" not in bob_header and 'href="/chapters/harbour/"' in bob_header
    assert csrf_from(ann_header) != csrf_from(bob_header), "each session's own token in its logout form"
    assert '<a href="/ledger" aria-current="page">' in ann_header

    profile = page(ann_browser, "/profile").split("</header>")[0]
    assert '<a href="/profile" aria-current="page">' in profile
    assert 'aria-current="page">Ledger' not in profile
    spanish = ann_browser.get("/ledger", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Cerrar sesión" in spanish.split("</header>")[0]
    assert navigation._layout.cache_info().misses == 3


def test_the_header_lists_only_active_chapters_and_gives_pages_about_no_chapter_the_first_joined_zone(
    browser, count_queries
):
    # Ann joined Kiritimati (UTC+14) first, Alpha (UTC) since; her request to join Middle waits.
    ann = MemberFactory(display_name="Ann")
    first = MembershipFactory(
        member=ann, chapter__name="Zulu", chapter__slug="zulu", chapter__timezone="Pacific/Kiritimati"
    )
    first.joined_at = utcnow() - timedelta(days=30)
    MembershipFactory(member=ann, chapter__name="Alpha", chapter__slug="alpha")
    MembershipFactory(member=ann, chapter__name="Middle", chapter__slug="middle", pending=True)
    bob = MembershipFactory(chapter=first.chapter, member__display_name="Bob").member
    met = (utcnow() - timedelta(days=3)).replace(hour=11, minute=0)
    strength.record(ann.id, bob.id, InteractionKind.ONE_TO_ONE, occurred_at=met, event_key="test:met")
    browser.login(ann.email)
    with count_queries() as log:
        html = page(browser, f"/members/{bob.id}")
    header = html.split("</header>")[0]
    assert header.index('href="/chapters/alpha/"') < header.index('href="/chapters/zulu/"')
    assert "/chapters/middle/" not in header
    kiritimati_day = format_date((met + timedelta(hours=14)).date(), "medium", locale="en")
    assert f"{kiritimati_day}: " in html, "the interaction's day in Kiritimati, a day after UTC's"
    assert not any("LIMIT" in statement and "joined_at" in statement for statement in log.queries), (
        "the zone comes from the header's memberships, not a query of its own"
    )


def test_the_header_counts_what_waits_for_a_member_who_left_every_chapter(browser, chapter, ann, bob, cy):
    intro = IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob)
    ConsentFactory(introduction=intro, member=ann)
    for membership in ann_memberships(ann):
        membership.status, membership.ended_at = MembershipStatus.LEFT, utcnow()
    db.session.flush()
    browser.login(ann.email)
    header = page(browser, "/ledger").split("</header>")[0]
    assert 'data-waiting="1"' in header and "/chapters/riverside/" not in header


def waiting(member) -> int:
    return db.session.scalar(select(waiting_count_column()), {"member_id": member.id, "now": utcnow()})


def test_the_header_count_adds_outcomes_waiting_for_a_report(browser, chapter, ann, bob, cy):
    answered = IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob, completed=True)
    OutcomeFactory(introduction=answered, reported_by=bob)  # bob's report: ann's is still awaited
    IntroductionFactory(chapter=chapter, introducer=ann, first=bob, second=cy, completed=True)
    to_answer = IntroductionFactory(chapter=chapter, introducer=bob, first=ann, second=cy)
    ConsentFactory(introduction=to_answer, member=ann)
    assert waiting(ann) == 2, "one to answer, one outcome to report; made by her: not hers to report"
    assert waiting(bob) == 1, "his report for the first is in; the second awaits it"
    assert waiting(cy) == 1, "the second's outcome; no consent of hers waits in `to_answer`"

    browser.login(ann.email)
    header = page(browser, "/ledger").split("</header>")[0]
    assert 'data-waiting="2"' in header
    listed = page(browser, "/introductions").split('id="reports-due-heading"')[1].split("</section>")[0]
    assert f'href="/introductions/{answered.id}#outcome">Your introduction to Bob</a>' in listed
    assert listed.count("<li>") == 1, "the one she made is not hers to report"
    OutcomeFactory(introduction=answered, reported_by=ann)
    assert 'data-waiting="1"' in page(browser, "/ledger").split("</header>")[0]


def test_every_page_has_a_favicon_and_a_description(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg"' in html
    assert '<meta name="description" content="Referral Hub: ' in html
    favicon = client.get("/static/favicon.svg")
    assert favicon.status_code == 200 and favicon.get_data(as_text=True).startswith("<svg")
    favicon.close()


def test_an_organizer_reads_an_introduction_in_their_chapter_without_contact_details(
    browser, chapter, ann, bob, cy
):
    organizer = MembershipFactory(chapter=chapter, organizer=True, member__email="org@example.org").member
    intro = IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob, completed=True)
    browser.login(organizer.email)
    html = page(browser, f"/introductions/{intro.id}")
    assert "as an organizer of Riverside" in html and "Cy</strong> introduced" in html
    assert "bob@example.org" not in html and "+44 20" not in html and "ann@example.org" not in html
    assert 'action="/introductions/' not in html, "nothing to answer or report"

    elsewhere = MembershipFactory(
        chapter=ChapterFactory(), organizer=True, member__email="far@example.org"
    ).member
    browser.login(elsewhere.email)
    assert browser.get(f"/introductions/{intro.id}").status_code == 404
    browser.login(MembershipFactory(chapter=chapter, member__email="mo@example.org").member.email)
    assert browser.get(f"/introductions/{intro.id}").status_code == 404, "a plain member still sees nothing"


def test_a_party_reads_introduced_you_to_once_completed(browser, chapter, ann, bob, cy):
    intro = IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob, completed=True)
    browser.login(ann.email)
    html = page(browser, f"/introductions/{intro.id}")
    assert "introduced you to <strong>Bob</strong>" in html and "would like to introduce" not in html


def test_the_chapter_ledger_speaks_of_credits_in_circulation(browser, chapter, ann):
    organizer = MembershipFactory(chapter=chapter, organizer=True, member__email="org@example.org").member
    organizing.grant(chapter, member_id=ann.id, amount=3, memo="Welcome", granted_by=organizer)
    browser.login(organizer.email)
    html = page(browser, "/chapters/riverside/ledger")
    assert "Credits in circulation: <strong>3</strong>" in html and "Are the books sound?" not in html
