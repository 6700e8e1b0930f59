"""The ledger's pages: a member's /ledger, and the organizer's chapter ledger, grants, reversals, policy."""

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from flask_babel import force_locale, gettext, ngettext
from markupsafe import escape
from sqlalchemy import func, select

from referral_hub.chapters import picking
from referral_hub.chapters.models import Membership, MembershipStatus, PolicyChange
from referral_hub.chapters.policy import policy_for
from referral_hub.extensions import db
from referral_hub.introductions import outcomes
from referral_hub.introductions.models import OutcomeKind
from referral_hub.ledger import organizing, posting, queries, verify
from referral_hub.ledger.models import Kind, LedgerTransaction
from referral_hub.web.ledger.views import subject_url
from tests.factories import ChapterFactory, IntroductionFactory, MembershipFactory

from .conftest import give

LEDGER = "/chapters/riverside/ledger"
GRANTS = "/chapters/riverside/ledger/grants"
POLICY = "/chapters/riverside/ledger/policy"


def transaction_count() -> int:
    return db.session.scalar(select(func.count(LedgerTransaction.id)))


def html(response) -> str:
    return response.get_data(as_text=True)


def body_rows(page: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", page.partition("<tbody>")[2].partition("</tbody>")[0], re.S)


# /ledger ---------------------------------------------------------------------------------------


def test_visitors_are_sent_to_log_in(client):
    response = client.get("/ledger")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_ledger_page_marks_each_chapter_balance_for_scripts(browser, chapter, ann):
    other = ChapterFactory(name="Hilltop", slug="hilltop")
    MembershipFactory(chapter=other, member=ann)
    give(chapter, ann, 3)
    browser.login(ann.email)
    page = html(browser.get("/ledger"))
    assert re.search(r'data-chapter="riverside" data-balance="3"', page)
    assert re.search(r'data-chapter="hilltop" data-balance="0"', page)
    assert "Earn credits by making an introduction that both sides accept." in page


def test_history_shows_what_happened_links_the_subject_and_the_running_balance(
    browser, chapter, organizer, ann
):
    give(chapter, ann, 3, subject_type="introduction", subject_id=42, memo="Introduced Cy to Di")
    posting.post(
        chapter, key="need:7", kind=Kind.ASK_NEED, memo="Posted the need “A lawyer”", caused_by=ann,
        entries=[(ann, -2), (posting.POOL, 2)], subject_type="need", subject_id=7,
    )  # fmt: skip
    organizing.grant(chapter, member_id=ann.id, amount=5, memo="Breakfast host", granted_by=organizer)
    browser.login(ann.email)
    page = html(browser.get("/ledger"))
    rows = body_rows(page)
    assert len(rows) == 3
    newest, middle, oldest = (
        [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in rows
    )
    assert newest[2].startswith("Organizer grant: Breakfast host") and newest[3:] == ["+5", "6"]
    assert 'href="/needs/7"' in middle[2] and middle[3:] == ["-2", "1"]
    assert 'href="/introductions/42"' in oldest[2] and oldest[3:] == ["+3", "3"]


@pytest.mark.parametrize(
    ("subject_type", "subject_id", "link"),
    [
        ("introduction", 42, "/introductions/42"),
        ("need", 7, "/needs/7"),
        ("intro_request", 3, "/intro-requests/3"),
        ("membership", 5, None),
        (None, None, None),
    ],
)
def test_a_transaction_links_to_the_page_of_its_subject_when_it_has_one(app, subject_type, subject_id, link):
    transaction = LedgerTransaction(subject_type=subject_type, subject_id=subject_id)
    with app.test_request_context():
        assert subject_url(transaction) == link


def test_history_is_paginated(browser, chapter, ann):
    for _ in range(queries.HISTORY_PAGE_SIZE + 1):
        give(chapter, ann, 1)
    browser.login(ann.email)
    first = html(browser.get("/ledger"))
    assert len(body_rows(first)) == queries.HISTORY_PAGE_SIZE
    assert "Page 1 of 2" in first
    second = html(browser.get("/ledger?page=2"))
    assert len(body_rows(second)) == 1 and "<td>1</td>" in second


def test_member_typed_text_in_a_memo_is_shown_escaped(browser, chapter, ann):
    give(chapter, ann, 3, memo="<script>alert(1)</script>")
    browser.login(ann.email)
    page = html(browser.get("/ledger"))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


# Who reaches the organizer pages ---------------------------------------------------------------


@pytest.mark.parametrize("path", [LEDGER, POLICY, "/chapters/riverside/ledger/transactions/1"])
def test_organizer_pages_are_404_for_outsiders_and_403_for_members(browser, chapter, ann, path):
    outsider = MembershipFactory(chapter=ChapterFactory(), organizer=True).member
    browser.login(outsider.email)
    assert browser.get(path).status_code == 404
    browser.login(ann.email)
    assert browser.get(path).status_code == 403


def test_an_organizer_of_another_chapter_can_neither_see_nor_grant_here(browser, chapter, ann):
    elsewhere = ChapterFactory(slug="hilltop")
    other_organizer = MembershipFactory(chapter=elsewhere, organizer=True).member
    browser.login(other_organizer.email)
    page = browser.get(LEDGER)
    assert page.status_code == 404 and "do not have access" in html(page)
    response = browser.post(
        GRANTS, {"member_id": ann.id, "amount": "5", "memo": "Sneaky"}, form_page="/chapters/hilltop/ledger"
    )
    assert response.status_code == 404
    assert transaction_count() == 0


# The chapter ledger ----------------------------------------------------------------------------


def test_the_chapter_ledger_shows_balances_transactions_and_a_clean_verify(browser, chapter, organizer, ann):
    give(chapter, ann, 3, memo="Introduced Cy to Di")
    browser.login(organizer.email)
    page = html(browser.get(LEDGER))
    assert f'data-member="{ann.id}" data-balance="3"' in page
    assert "Introduced Cy to Di" in page and "ann@example.org" in page
    assert f'href="{LEDGER}/check"' in page and "data-verified" not in page
    check = html(browser.get(f"{LEDGER}/check"))
    assert 'data-verified="ok"' in check and "All 8 checks passed" in check


def test_only_the_chapters_organizers_can_check_its_books(browser, chapter, ann):
    browser.login(ann.email)
    assert browser.get(f"{LEDGER}/check").status_code == 403


def test_the_chapter_ledger_filters_by_member_kind_and_dates(browser, chapter, organizer, ann, bob):
    give(chapter, ann, 3, memo="Ann's reward")
    give(chapter, bob, 3, memo="Bob's reward")
    organizing.grant(chapter, member_id=bob.id, amount=1, memo="Bob's grant", granted_by=organizer)
    browser.login(organizer.email)
    by_member = html(browser.get(f"{LEDGER}?member={ann.id}"))
    assert "Ann&#39;s reward" in by_member and "Bob&#39;s" not in by_member
    by_kind = html(browser.get(f"{LEDGER}?kind=grant"))
    assert "Bob&#39;s grant" in by_kind and "reward" not in by_kind
    future = html(browser.get(f"{LEDGER}?since=2999-01-01"))
    assert "No transactions match these filters" in future
    past = html(browser.get(f"{LEDGER}?until=2000-01-01"))
    assert "No transactions match these filters" in past


def test_a_bad_filter_says_so_and_shows_everything(browser, chapter, organizer, ann):
    give(chapter, ann, 3, memo="Ann's reward")
    browser.login(organizer.email)
    response = browser.get(f"{LEDGER}?since=yesterday&until=2020-01-01")
    assert response.status_code == 200
    assert "Not a valid date value." in html(response) and "Ann&#39;s reward" in html(response)
    backwards = html(browser.get(f"{LEDGER}?since=2020-02-01&until=2020-01-01"))
    assert "The end date comes after the start date." in backwards
    for far in ("until=9999-12-31", "since=0001-01-01", "since=3000-01-01"):
        response = browser.get(f"{LEDGER}?{far}")
        assert response.status_code == 200, far
        assert "Give a date from 1900-01-01 to 2999-12-31." in html(response)


def test_the_chapter_ledger_filters_by_the_chapter_s_local_days(browser, chapter, organizer, ann):
    chapter.timezone = "Pacific/Auckland"  # UTC+13 in December
    with time_machine.travel(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), tick=False):
        give(chapter, ann, 3, memo="Ann's reward")  # 01:00 on 2 December in Auckland
    browser.login(organizer.email)
    assert "Ann&#39;s reward" in html(browser.get(f"{LEDGER}?since=2026-12-02&until=2026-12-02"))
    assert "Ann&#39;s reward" not in html(browser.get(f"{LEDGER}?until=2026-12-01"))


# Grants ----------------------------------------------------------------------------------------


def test_an_organizer_grants_credits_from_the_ledger_page(browser, chapter, organizer, ann):
    browser.login(organizer.email)
    response = browser.post(GRANTS, {"member_id": ann.id, "amount": "5", "memo": "Hosted"}, form_page=LEDGER)
    assert response.status_code == 302
    assert queries.balance(chapter, ann) == 5
    assert "Granted 5 credits to Ann." in html(browser.get(response.headers["Location"]))


def test_a_negative_grant_takes_credits_back(browser, chapter, organizer, ann):
    give(chapter, ann, 3)
    browser.login(organizer.email)
    response = browser.post(
        GRANTS, {"member_id": ann.id, "amount": "-2", "memo": "Duplicate"}, form_page=LEDGER
    )
    assert response.status_code == 302
    assert queries.balance(chapter, ann) == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"amount": "5", "memo": ""}, "Write a memo that says why."),
        ({"amount": "5", "memo": "   "}, "Write a memo that says why."),
        ({"amount": "five", "memo": "Hosted"}, "Enter a whole number, like 5 or -2"),
        ({"amount": "2.5", "memo": "Hosted"}, "Enter a whole number, like 5 or -2"),
        ({"amount": "", "memo": "Hosted"}, "Enter a number of credits."),
        ({"amount": "1001", "memo": "Hosted"}, "Enter a number from -1000 to 1000."),
        ({"amount": "99999999999999999999999", "memo": "Hosted"}, "Enter a number from -1000 to 1000."),
        ({"amount": "0", "memo": "Hosted"}, "Zero changes nothing"),
        ({"amount": "-5", "memo": "Too much"}, "Ann has 3 credits, so you cannot take back 5"),
        ({"amount": "5", "memo": "x" * 501}, "Keep the memo to 500 characters."),
    ],
)
def test_a_bad_grant_re_renders_with_a_clear_message_and_writes_nothing(
    browser, chapter, organizer, ann, form, message
):
    give(chapter, ann, 3)
    browser.login(organizer.email)
    response = browser.post(GRANTS, {"member_id": ann.id, **form}, form_page=LEDGER)
    assert response.status_code == 422
    assert message in html(response)
    assert transaction_count() == 1 and queries.balance(chapter, ann) == 3


@pytest.mark.parametrize("amount", ["1_000", "+5", "\u0663", "\uff13", "5\u200b", "0x5", "5e2", "--5"])
def test_a_grant_amount_takes_ascii_digits_and_a_minus_only(browser, chapter, organizer, ann, amount):
    browser.login(organizer.email)
    response = browser.post(
        GRANTS, {"member_id": ann.id, "amount": amount, "memo": "Hosted"}, form_page=LEDGER
    )
    assert response.status_code == 422
    assert "Enter a whole number, like 5 or -2, in the digits 0 to 9." in html(response)
    assert transaction_count() == 0 and queries.balance(chapter, ann) == 0


@pytest.mark.parametrize("amount", ["5", "-2"])
def test_an_organizer_cannot_grant_to_or_take_from_themselves(browser, chapter, organizer, amount):
    give(chapter, organizer, 3)
    browser.login(organizer.email)
    response = browser.post(
        GRANTS, {"member_id": organizer.id, "amount": amount, "memo": "For me"}, form_page=LEDGER
    )
    assert response.status_code == 422
    assert "You cannot grant credits to yourself or take them from yourself" in html(response)
    assert transaction_count() == 1 and queries.balance(chapter, organizer) == 3


def test_another_organizer_of_the_chapter_can_grant_to_an_organizer(browser, chapter, organizer):
    other = MembershipFactory(chapter=chapter, organizer=True, member__display_name="Olga").member
    browser.login(other.email)
    response = browser.post(
        GRANTS, {"member_id": organizer.id, "amount": "4", "memo": "Ran the fair"}, form_page=LEDGER
    )
    assert response.status_code == 302
    assert queries.balance(chapter, organizer) == 4
    grants = html(browser.get(f"{LEDGER}?kind=grant"))
    assert re.search(r"Organizer grant: Ran the fair.*?<td>Olga</td>", grants, re.S)


@pytest.mark.parametrize("member_id", ["", "abc", "999999", "outsider"])
def test_a_grant_to_someone_not_in_the_chapter_is_refused(browser, chapter, organizer, member_id):
    outsider = MembershipFactory().member
    browser.login(organizer.email)
    member_id = str(outsider.id) if member_id == "outsider" else member_id
    response = browser.post(GRANTS, {"member_id": member_id, "amount": "5", "memo": "Hi"}, form_page=LEDGER)
    assert response.status_code == 422
    assert "Choose a member of this chapter." in html(response)
    assert transaction_count() == 0


def test_a_grant_without_a_csrf_token_is_refused(client, browser, chapter, organizer, ann):
    browser.login(organizer.email)
    response = client.post(GRANTS, data={"member_id": ann.id, "amount": "5", "memo": "Hosted"})
    assert response.status_code == 400 and "The CSRF token is missing." in html(response)
    assert transaction_count() == 0


def test_the_same_grant_form_submitted_twice_grants_once(browser, chapter, organizer, ann):
    browser.login(organizer.email)
    key = re.search(r'name="request_key"[^>]*value="([^"]+)"', html(browser.get(LEDGER))).group(1)
    for _ in range(2):
        form = {"member_id": ann.id, "amount": "5", "memo": "Hosted", "request_key": key}
        assert browser.post(GRANTS, form, form_page=LEDGER).status_code == 302
    assert queries.balance(chapter, ann) == 5 and transaction_count() == 1


# Reversals -------------------------------------------------------------------------------------


def reversal_path(transaction) -> str:
    return f"/chapters/riverside/ledger/transactions/{transaction.id}/reversal"


def detail_path(transaction) -> str:
    return f"/chapters/riverside/ledger/transactions/{transaction.id}"


def test_an_organizer_reverses_a_transaction_with_a_memo(browser, chapter, organizer, ann):
    reward = give(chapter, ann, 3)
    browser.login(organizer.email)
    asked = browser.post(reversal_path(reward), {"memo": "Duplicate intro"}, form_page=detail_path(reward))
    assert asked.status_code == 200 and "Reverse transaction" in html(asked)
    assert 'name="confirm" value="yes"' in html(asked) and 'value="Duplicate intro"' in html(asked)
    assert queries.balance(chapter, ann) == 3 and transaction_count() == 1, "asking writes nothing"
    response = browser.post(
        reversal_path(reward), {"memo": "Duplicate intro", "confirm": "yes"}, form_page=detail_path(reward)
    )
    assert response.status_code == 302
    assert queries.balance(chapter, ann) == 0
    assert "Reversed by" in html(browser.get(detail_path(reward)))


def test_a_reversal_without_a_memo_is_refused(browser, chapter, organizer, ann):
    reward = give(chapter, ann, 3)
    browser.login(organizer.email)
    response = browser.post(reversal_path(reward), {"memo": ""}, form_page=detail_path(reward))
    assert response.status_code == 422 and "Write a memo that says why." in html(response)
    assert transaction_count() == 1


def test_reversing_a_reversed_transaction_says_so_and_writes_nothing(browser, chapter, organizer, ann):
    reward = give(chapter, ann, 3)
    browser.login(organizer.email)
    form_page = html(browser.get(detail_path(reward)))
    organizing.reverse(reward, memo="First", caused_by=organizer)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form_page).group(1)
    response = browser.client.post(
        reversal_path(reward), data={"memo": "Second", "csrf_token": token, "confirm": "yes"}
    )
    assert response.status_code == 422
    assert f"#{reward.id} was already reversed" in html(response)
    assert transaction_count() == 2


def test_reversing_a_reversal_is_refused(browser, chapter, organizer, ann):
    reversal = organizing.reverse(give(chapter, ann, 3), memo="First", caused_by=organizer)
    browser.login(organizer.email)
    response = browser.post(reversal_path(reversal), {"memo": "Undo", "confirm": "yes"}, form_page=LEDGER)
    assert response.status_code == 422 and "cannot itself be reversed" in html(response)
    assert transaction_count() == 2


def test_an_organizer_sees_the_reported_business_amount_and_reverses_the_bonus(
    browser, chapter, organizer, ann, bob
):
    cy = MembershipFactory(chapter=chapter, member__display_name="Cy").member
    intro = IntroductionFactory(chapter=chapter, introducer=cy, first=ann, second=bob, completed=True)
    outcomes.report_outcome(intro, ann, OutcomeKind.BUSINESS_CLOSED, 12500)
    bonus = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == Kind.BUSINESS_CLOSED))
    browser.login(organizer.email)
    assert "Business closed (reported amount 12,500) after introducing Ann and Bob" in html(
        browser.get(f"{LEDGER}?kind=business_closed")
    )
    response = browser.post(
        reversal_path(bonus), {"memo": "Amount made up", "confirm": "yes"}, form_page=detail_path(bonus)
    )
    assert response.status_code == 302
    assert queries.balance(chapter, cy) == 0
    assert "Reversed by" in html(browser.get(detail_path(bonus)))
    assert verify.verify(chapter).ok


def test_an_organizer_cannot_reverse_a_transaction_on_their_own_account(browser, chapter, organizer):
    reward = give(chapter, organizer, 3)
    taken = organizing.grant(
        chapter,
        member_id=organizer.id,
        amount=-3,
        memo="Taken back",
        granted_by=MembershipFactory(chapter=chapter, organizer=True).member,
    )
    browser.login(organizer.email)
    for transaction in (reward, taken):
        response = browser.post(
            reversal_path(transaction), {"memo": "Mine", "confirm": "yes"}, form_page=LEDGER
        )
        assert response.status_code == 422 and "on your own account" in html(response)
    assert transaction_count() == 2 and queries.balance(chapter, organizer) == 0


def test_a_transaction_of_another_chapter_is_not_found_here(browser, chapter, organizer):
    elsewhere = ChapterFactory()
    foreign = give(elsewhere, MembershipFactory(chapter=elsewhere).member, 3)
    browser.login(organizer.email)
    assert browser.get(detail_path(foreign)).status_code == 404
    response = browser.post(reversal_path(foreign), {"memo": "Not mine", "confirm": "yes"}, form_page=LEDGER)
    assert response.status_code == 404 and "no such transaction" in html(response)
    assert transaction_count() == 1


# Policy ----------------------------------------------------------------------------------------


POLICY_FORM = {
    "intro_reward": "3",
    "business_bonus": "2",
    "need_cost": "2",
    "connector_cost": "1",
    "welcome_credits": "0",
    "repeat_pair_days": "180",
    "daily_credited_intros": "5",
    "intro_expiry_days": "14",
    "organizers_need_two_factor": "0",
    "outcome_prompt_days": "14",
    "guest_intro_credits": "2",
    "daily_guest_intros": "5",
    "guest_retention_days": "365",
}


def test_the_policy_page_shows_the_defaults(browser, chapter, organizer):
    browser.login(organizer.email)
    page = html(browser.get(POLICY))
    assert re.search(r'name="need_cost"[^>]*value="2"', page)
    assert re.search(r'name="repeat_pair_days"[^>]*value="180"', page)
    assert "No changes yet" in page


def test_saving_the_policy_records_who_changed_what(browser, chapter, organizer):
    browser.login(organizer.email)
    response = browser.post(POLICY, {**POLICY_FORM, "need_cost": "4", "welcome_credits": "2"})
    assert response.status_code == 302
    assert policy_for(chapter).need_cost == 4
    page = html(browser.get(POLICY))
    assert "Saved 2 changes" in page
    assert "Cost of posting a need" in page and organizer.display_name in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("intro_reward", "-1", "Choose a number from 0 to 100."),
        ("need_cost", "101", "Choose a number from 0 to 100."),
        ("connector_cost", "lots", "Enter a whole number, like 5 or -2"),
        ("intro_expiry_days", "0", "Choose a number from 1 to 90."),
        ("repeat_pair_days", "", "Enter a whole number."),
    ],
)
def test_an_invalid_policy_re_renders_with_its_message_and_changes_nothing(
    browser, chapter, organizer, field, value, message
):
    browser.login(organizer.email)
    response = browser.post(POLICY, {**POLICY_FORM, "need_cost": "4", field: value})
    assert response.status_code == 422 and message in html(response)
    assert db.session.scalar(select(func.count(PolicyChange.id))) == 0
    assert policy_for(chapter).need_cost == 2


def test_the_organize_page_links_to_the_ledger_and_policy(browser, chapter, organizer):
    browser.login(organizer.email)
    page = html(browser.get("/chapters/riverside/organize"))
    assert f'href="{LEDGER}"' in page and f'href="{POLICY}"' in page


def test_a_refused_grant_page_runs_as_many_queries_whatever_the_chapters_size(
    browser, chapter, organizer, count_queries
):
    browser.login(organizer.email)
    counts = []
    for more_members in (2, 18):  # 2 members, then 20
        for _ in range(more_members):
            MembershipFactory(chapter=chapter)
        page = browser.get(LEDGER)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html(page)).group(1)
        with count_queries() as log:
            response = browser.client.post(
                GRANTS, data={"member_id": organizer.id, "amount": "1", "memo": "For me", "csrf_token": token}
            )
        assert response.status_code == 422
        counts.append(log.count)
    assert counts[0] == counts[1], counts


def test_each_member_reads_their_own_history_and_its_total_in_one_query(chapter, ann, bob, count_queries):
    give(chapter, ann, 3)
    give(chapter, ann, 4)
    give(chapter, bob, 5)
    with count_queries() as log:
        anns = queries.history(ann)
    assert log.count == 1
    assert [entry.amount for entry in anns.items] == [4, 3] and anns.total == 2
    assert [entry.running_balance for entry in anns.items] == [7, 3]
    bobs = queries.history(bob)
    assert [entry.amount for entry in bobs.items] == [5] and bobs.total == 1 and not bobs.has_next


def test_the_chapter_ledger_built_once_answers_each_chapter_filter_and_total(chapter, ann, bob):
    other = ChapterFactory()
    elsewhere = MembershipFactory(chapter=other).member
    for _ in range(queries.CHAPTER_LEDGER_PAGE_SIZE):
        give(chapter, ann, 1)
    give(chapter, bob, 2)
    give(other, elsewhere, 3)
    everything = queries.chapter_ledger(chapter)
    assert everything.total == queries.CHAPTER_LEDGER_PAGE_SIZE + 1 and everything.has_next
    assert len(queries.chapter_ledger(chapter, page=2).items) == 1
    bobs = queries.chapter_ledger(chapter, queries.LedgerFilter(member_id=bob.id))
    assert bobs.total == 1 and [e.amount for e in bobs.items[0].entries if e.account.member_id] == [2]
    theirs = queries.chapter_ledger(other, queries.LedgerFilter(kind=Kind.INTRO_COMPLETED))
    assert theirs.total == 1 and not theirs.has_next
    assert queries.chapter_ledger(other, queries.LedgerFilter(kind=Kind.GRANT)).total == 0


# The member pickers: a typed name or address, looked up in the chapter ---------------------------


@pytest.fixture
def organizer(organizer):
    """The conftest's organizer with a name no search below finds (the factory's names are random)."""
    organizer.display_name = "Olive Stone"
    db.session.flush()
    return organizer


def grant_to(browser, recipient, **form):
    return browser.post(
        GRANTS, {"recipient": recipient, "amount": "5", "memo": "Hosted", **form}, form_page=LEDGER
    )


@pytest.mark.parametrize("recipient", ["ann@example.org", " ANN@Example.org ", "ann", "  Ann  "])
def test_a_grant_to_a_typed_address_or_whole_name_goes_to_that_member(
    browser, chapter, organizer, ann, bob, recipient
):
    MembershipFactory(chapter=chapter, member__display_name="Anna")
    browser.login(organizer.email)
    response = grant_to(browser, recipient)
    assert response.status_code == 302
    assert queries.balance(chapter, ann) == 5 and queries.balance(chapter, bob) == 0
    assert "Granted 5 credits to Ann." in html(browser.get(response.headers["Location"]))


def test_a_name_that_matches_several_members_offers_them_and_the_choice_grants(
    browser, chapter, organizer, ann
):
    anna = MembershipFactory(chapter=chapter, member__display_name="Anna <b>Bold</b>").member
    MembershipFactory(member__display_name="Annie Elsewhere")  # another chapter's
    browser.login(organizer.email)
    response = grant_to(browser, "an")
    page = html(response)
    assert response.status_code == 422 and transaction_count() == 0
    assert "2 members match “an”: choose one below, or type the whole email address." in page
    assert re.search(
        r'<input [^>]*aria-describedby="recipient-hint recipient-error"[^>]*name="recipient"', page
    )
    choices = dict(
        re.findall(
            r'<input type="radio" name="member_id" id="[^"]+" value="(\d+)">\s*<label[^>]*>([^<]*)', page
        )
    )
    assert choices == {
        str(ann.id): "Ann (ann@example.org)",
        str(anna.id): "Anna &lt;b&gt;Bold&lt;/b&gt; (" + anna.email + ")",
    }
    assert 'aria-describedby="recipient-error"' in page.partition("<fieldset")[2]
    response = grant_to(browser, "an", member_id=str(anna.id))
    assert response.status_code == 302
    assert queries.balance(chapter, anna) == 5 and queries.balance(chapter, ann) == 0


def test_past_the_matches_shown_the_picker_asks_for_more_of_the_name(
    browser, chapter, organizer, ann, bob, monkeypatch
):
    monkeypatch.setattr(picking, "MATCHES_SHOWN", 2)
    MembershipFactory(chapter=chapter, member__display_name="Anna")
    MembershipFactory(chapter=chapter, member__display_name="Joanne")
    browser.login(organizer.email)
    page = html(grant_to(browser, "an"))
    assert "More than 2 members match “an”: choose one of the first 2 below" in page
    assert page.count('type="radio" name="member_id"') == 2
    assert transaction_count() == 0


@pytest.mark.parametrize("recipient", ["Zed", "outsider@example.org", "%", "_"])
def test_a_name_that_matches_no_current_member_says_so_and_writes_nothing(
    browser, chapter, organizer, recipient
):
    MembershipFactory(member__email="outsider@example.org")
    MembershipFactory(chapter=chapter, member__display_name="Ann", status=MembershipStatus.LEFT)
    browser.login(organizer.email)
    response = grant_to(browser, recipient)
    assert response.status_code == 422 and transaction_count() == 0
    assert f"No current member of this chapter matches “{escape(recipient)}”" in html(response)
    assert 'name="member_id"' not in html(response)


def test_a_refused_grant_shows_the_chosen_member_by_address(browser, chapter, organizer, ann):
    browser.login(organizer.email)
    page = html(grant_to(browser, "ann", amount="0"))
    assert "Zero changes nothing" in page
    assert re.search(r'name="recipient"[^>]*value="ann@example.org"', page)


def test_the_picker_speaks_spanish(app, browser, client, chapter, organizer, ann):
    MembershipFactory(chapter=chapter, member__display_name="Anna")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    browser.login(organizer.email)
    with app.test_request_context(), force_locale("es"):
        several = gettext(
            "%(num)d members match “%(text)s”: choose one below, or type the whole email address.",
            num=2,
            text="an",
        )
        none = gettext(
            "No current member of this chapter matches “%(text)s”: check the spelling, or type their email "
            "address.",
            text="Zed",
        )
        which = gettext("Which member? Choose one and record it again.")
    assert "miembros coinciden" in several and "Qué miembro" in which, "translated"
    page = html(grant_to(browser, "an"))
    assert escape(several) in page and which in page
    assert escape(none) in html(grant_to(browser, "Zed"))


def test_the_ledger_filter_takes_a_typed_member_and_lists_the_matches_as_links(
    browser, chapter, organizer, ann, bob
):
    anna = MembershipFactory(chapter=chapter, member__display_name="Anna").member
    give(chapter, ann, 3, memo="Ann's reward")
    give(chapter, anna, 3, memo="Anna's reward")
    give(chapter, bob, 3, memo="Bob's reward")
    browser.login(organizer.email)
    by_name = html(browser.get(f"{LEDGER}?member_q=ann&kind=intro_completed"))
    assert "Ann&#39;s reward" in by_name and "Anna&#39;s" not in by_name and "Bob&#39;s" not in by_name
    assert re.search(r'name="member_q"[^>]*value="ann@example.org"', by_name)
    several = html(browser.get(f"{LEDGER}?member_q=an&kind=intro_completed"))
    assert "2 members match “an”" in several and "Bob&#39;s reward" in several, "shows everything meanwhile"
    links = [
        parse_qs(urlsplit(unescape(href)).query)
        for href in re.findall(
            r'<li><a href="([^"]*)"',
            several.partition('aria-labelledby="member_q-error"')[2].partition("</ul>")[0],
        )
    ]
    assert links == [{"kind": ["intro_completed"], "member_q": [email]} for email in (ann.email, anna.email)]
    linked = html(browser.get(f"{LEDGER}?member={bob.id}"))
    assert "Bob&#39;s reward" in linked and "Ann&#39;s" not in linked
    assert re.search(r'name="member_q"[^>]*value="bob@example.org"', linked)
    for stranger in ("999999", "abc"):
        refused = html(browser.get(f"{LEDGER}?member={stranger}"))
        assert "Choose a member of this chapter." in refused and "Bob&#39;s reward" in refused


def test_the_ledger_page_reads_no_list_of_members(browser, chapter, organizer, count_queries):
    browser.login(organizer.email)
    for _ in range(30):
        MembershipFactory(chapter=chapter)
    page = html(browser.get(LEDGER))
    assert "<option" not in page.partition("grant-heading")[2].partition("</form>")[0]
    assert len(re.findall(r'data-member="\d+" data-balance=', page)) == queries.BALANCES_PAGE_SIZE


@pytest.mark.parametrize("language", ["en", "es"])
def test_past_its_counting_limit_the_chapter_ledger_says_more_than(
    app, browser, client, chapter, organizer, ann, bob, monkeypatch, language
):
    monkeypatch.setattr(queries, "CHAPTER_LEDGER_COUNTED", 2)
    monkeypatch.setattr(queries, "CHAPTER_LEDGER_PAGE_SIZE", 2)
    for _ in range(3):
        give(chapter, bob, 1)
    give(chapter, ann, 1)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    browser.login(organizer.email)
    with app.test_request_context(), force_locale(language):
        more_than = gettext("More than %(number)s transactions.", number=2)
        exact = ngettext("%(count)s transaction.", "%(count)s transactions.", 1, count=1)
        first_page = gettext("Page %(number)s", number=1)
    everything = html(browser.get(LEDGER))
    assert more_than in everything and first_page + "</span>" in everything, "no last page to count"
    assert 'rel="next"' in everything and len(body_rows(everything.partition("transactions-heading")[2])) == 2
    by_ann = html(browser.get(f"{LEDGER}?member={ann.id}"))
    assert exact in by_ann and more_than not in by_ann, "a filter's total under the limit is exact"


PAGER = re.compile(r'<nav class="pager" aria-label="([^"]*)">(.*?)</nav>', re.DOTALL)
PAGER_LINK = re.compile(r'<a rel="(prev|next)" href="([^"]*)">')
BALANCE = re.compile(r'data-member="(\d+)" data-balance=')


def pagers(page: str) -> dict[str, dict[str, dict[str, list[str]]]]:
    """Each pager's links by its label: rel -> the link's query arguments."""
    return {
        label: {rel: parse_qs(urlsplit(unescape(href)).query) for rel, href in PAGER_LINK.findall(links)}
        for label, links in PAGER.findall(page)
    }


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_chapter_ledger_pages_its_balances_by_their_own_argument(
    app, browser, client, chapter, organizer, ann, monkeypatch, language
):
    monkeypatch.setattr(queries, "CHAPTER_LEDGER_PAGE_SIZE", 1)
    for _ in range(queries.BALANCES_PAGE_SIZE):  # with the organizer and Ann: one page and one more
        MembershipFactory(chapter=chapter)
    give(chapter, ann, 1)
    give(chapter, ann, 2)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    browser.login(organizer.email)
    with app.test_request_context(), force_locale(language):
        balances_pages, transactions_pages = (
            gettext("Pages of the balances"),
            gettext("Pages of the transactions"),
        )
        past_the_end = gettext(
            'The balances have no such page: they end on <a href="%(url)s">page %(pages)s</a>.',
            url=f"{LEDGER}?balances_page=2&amp;kind=intro_completed&amp;page=2",
            pages=2,
        )
    first = html(browser.get(LEDGER))
    assert pagers(first)[balances_pages] == {"next": {"balances_page": ["2"]}}
    second = html(browser.get(f"{LEDGER}?balances_page=2&page=2&kind=intro_completed"))
    links = pagers(second)
    assert links[balances_pages] == {
        "prev": {"balances_page": ["1"], "page": ["2"], "kind": ["intro_completed"]}
    }
    assert links[transactions_pages] == {
        "prev": {"page": ["1"], "balances_page": ["2"], "kind": ["intro_completed"]}
    }
    members = set(db.session.scalars(select(Membership.member_id).filter_by(chapter_id=chapter.id)))
    shown = BALANCE.findall(first) + BALANCE.findall(second)
    assert len(BALANCE.findall(first)) == queries.BALANCES_PAGE_SIZE and {int(m) for m in shown} == members
    beyond = html(browser.get(f"{LEDGER}?balances_page=9&page=2&kind=intro_completed"))
    assert BALANCE.findall(beyond) == [] and past_the_end in beyond
