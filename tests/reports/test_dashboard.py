"""The organize pages' reports: figures, server-drawn SVG charts and dormant members on the overview,
members by status in the members section."""

import re

import pytest

from referral_hub.accounts.services import update_profile
from referral_hub.web.chapters import report as dashboard
from tests.factories import MembershipFactory

ORGANIZE = "/chapters/riverside/organize"
MEMBERS = "/chapters/riverside/organize/members"


@pytest.fixture
def page(browser, riverside):
    browser.login("olga@example.org")

    def get(query: str = "", section: str = ORGANIZE) -> str:
        response = browser.get(section + query)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return get


def figure(html: str, key: str) -> str:
    match = re.search(rf'data-figure="{re.escape(key)}" data-value="([^"]*)"', html)
    assert match, key
    return match.group(1)


def test_the_dashboard_shows_the_last_90_days_figures(page):
    html = page()
    assert figure(html, "members.total") == "5"
    assert figure(html, "members.dormant") == "2"  # Ann (last need 100 days ago) and Dan (never)
    assert figure(html, "introductions.made") == "1"  # I7, ten days ago
    assert figure(html, "introductions.completed") == "1"
    assert figure(html, "needs.posted") == "0"
    assert figure(html, "credits.balance_sum") == "11"


def test_the_charts_are_inline_svg_without_script_or_style(page):
    html = page()
    assert html.count('<svg class="chart"') == 2
    assert "<script" not in html and "style=" not in html
    activity = re.search(
        r'<svg class="chart" viewBox="0 0 (\d+) (\d+)"[^>]*id="activity-chart".*?</svg>', html, re.S
    )
    assert activity
    # Twelve weeks, four series each; I7's week has one introduction made and one completed.
    bars = re.findall(
        r'<rect class="bar bar-(\w+)"[^>]*height="([\d.]+)"><title>([^<]*)</title>', activity.group(0)
    )
    assert len(bars) == 48
    assert sum(1 for series, height, _ in bars if series == "made" and float(height) > 0) == 1
    assert any(title.endswith("introductions completed: 1") for *_, title in bars)


def test_the_activity_chart_can_show_months(page):
    html = page("?interval=month")
    activity = re.search(r'id="activity-chart".*?</svg>', html, re.S).group(0)
    assert activity.count('class="bar bar-needs"') == 12
    assert "<strong>By month</strong>" in html


def test_the_giving_chart_has_a_pair_of_bars_per_member_who_gave_or_asked(page, riverside):
    html = page()
    giving = re.search(r'id="giving-chart".*?</svg>', html, re.S).group(0)
    # Dan neither gave nor asked: no empty row for him.
    assert giving.count('class="bar bar-gives"') == 4 and giving.count('class="bar bar-asks"') == 4
    assert "Ann – needs posted: 3" in giving and "Olga – introductions completed: 1" in giving
    assert riverside.dan.display_name + " –" not in giving


def test_a_long_name_in_the_giving_chart_is_cut_with_the_whole_name_in_its_title(page, riverside, db_session):
    update_profile(riverside.ann, display_name="Annabelle Fitzgerald-Montgomery")
    giving = re.search(r'id="giving-chart".*?</svg>', page(), re.S).group(0)
    assert "<title>Annabelle Fitzgerald-Montgomery</title>Annabelle Fitzgerald…</text>" in giving


def test_the_members_table_shows_status_in_words_and_colour(page, riverside):
    html = page(section=MEMBERS)
    rows = dict(re.findall(r'<tr data-member="(\d+)" data-status="(\w+)">', html))
    assert rows == {
        str(riverside.olga.id): "amber",
        str(riverside.ann.id): "red",
        str(riverside.bob.id): "green",
        str(riverside.cat.id): "amber",
        str(riverside.dan.id): "red",
    }
    assert '<span class="status status-green">green</span>' in html


def test_the_members_table_sorts_by_links_without_script(page, riverside):
    html = page("?sort=intros_received&order=desc", section=MEMBERS)
    order = re.findall(r'<tr data-member="(\d+)"', html)
    assert order[0] == str(riverside.cat.id) and order[-1] == str(riverside.olga.id)
    assert 'aria-sort="descending"' in html
    # The heading of the current sort links to the other order.
    assert "sort=intros_received&amp;order=asc" in html


def test_nonsense_dashboard_parameters_fall_back_to_defaults(page):
    html = page("?sort=password&order=sideways&page=-3&interval=century")
    assert "<strong>By week</strong>" in html
    assert 'data-status="red"' in page("?sort=password&order=sideways&page=-3", section=MEMBERS)


def test_the_dormant_list_names_who_has_done_nothing_for_90_days(page, riverside):
    html = page()
    dormant = re.search(r'id="dormant-heading">Dormant members \((\d+)\)</h2>(.*?)</section>', html, re.S)
    assert dormant.group(1) == "2"
    listed = re.findall(r'<li data-member="(\d+)">', dormant.group(2))
    assert sorted(listed) == sorted([str(riverside.ann.id), str(riverside.dan.id)])
    assert "never active" in dormant.group(2)


def test_member_names_are_escaped_in_tables_and_charts(page, riverside, db_session):
    update_profile(riverside.ann, display_name="<script>alert(1)</script>")
    for html in (page(), page(section=MEMBERS)):
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)" in html


def test_only_organizers_see_the_dashboard(browser, riverside):
    browser.login("ann@example.org")
    assert browser.get(ORGANIZE).status_code == 403
    assert browser.get(MEMBERS).status_code == 403


def test_the_members_table_pages(browser, riverside):
    for _ in range(dashboard.MEMBERS_PER_PAGE):
        MembershipFactory(chapter=riverside.chapter)
    browser.login("olga@example.org")
    html = browser.get(MEMBERS + "?page=2&sort=display_name&order=asc").get_data(as_text=True)
    assert len(re.findall(r'<tr data-member="', html)) == 5
    assert "Page 2 of 2" in html
