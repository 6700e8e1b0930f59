"""The needs board, a need's page, /introductions, /dashboard and an email link run a fixed number of
queries, the same with ten times the data."""

import re

from tests.conftest import Browser, csrf_from, mail_to
from tests.factories import (
    ChapterFactory,
    ConsentFactory,
    IntroductionFactory,
    MemberFactory,
    MembershipFactory,
    NeedFactory,
)

NOTE = "Both of you sell to hospitals and keep asking me the same questions about procurement rules."


def seed(chapter, viewer, size: int) -> None:
    members = [MembershipFactory(chapter=chapter, member=MemberFactory()).member for _ in range(size)]
    for n, member in enumerate(members):
        NeedFactory(chapter=chapter, asker=member)
        intro = IntroductionFactory(
            chapter=chapter,
            introducer=viewer,
            first=member,
            second=members[(n + 1) % len(members)],
            note=f"{NOTE} ({n})",
            completed=n % 2 == 0,
        )
        ConsentFactory(introduction=intro, member=intro.first)


def page_queries(client, count_queries, paths) -> dict[str, int]:
    counts = {}
    for path in paths:
        client.get(path)  # warm-up: the login session and first-request work are not the page's
        with count_queries() as log:
            assert client.get(path).status_code == 200, path
        counts[path] = log.count
    return counts


def measure(client, count_queries, scale: int) -> dict[str, int]:
    chapter = ChapterFactory()
    viewer = MembershipFactory(chapter=chapter).member
    seed(chapter, viewer, 5 * scale)
    need = NeedFactory(chapter=chapter)
    first, second = (MembershipFactory(chapter=chapter).member for _ in range(2))
    browser = Browser(client)
    browser.login(viewer.email)
    browser.post(
        "/introductions/new",
        {"first_id": first.id, "second_id": second.id, "note": f"{NOTE} At scale {scale}."},
    )
    link = re.search(r"http://localhost(/i/\S+)", mail_to(first.email)[-1].body_text).group(1)
    named = {
        "board": f"/chapters/{chapter.slug}/",
        "need": f"/needs/{need.id}",
        "introductions": "/introductions",
        "dashboard": "/dashboard",
    }
    by_path = page_queries(client, count_queries, named.values())
    counts = {name: by_path[path] for name, path in named.items()}
    with count_queries() as log:
        assert client.application.test_client().get(link).status_code == 200
    counts["email link"] = log.count
    return counts


def test_pages_run_the_same_number_of_queries_at_ten_times_the_data(client, count_queries):
    small = measure(client, count_queries, 1)
    large = measure(client.application.test_client(), count_queries, 10)
    print(f"queries per page at 1x: {small}; at 10x: {large}")
    assert small == large
    # The dashboard draws a dozen short lists (each capped) in seven queries; /introductions in four.
    assert small["dashboard"] <= 7 and small["introductions"] <= 4
    assert max(small.values()) <= 8 and small["email link"] == 1


def introduction_queries(client, count_queries, scale: int) -> int:
    """Statements that making an introduction sends, in a chapter seeded at `scale`."""
    chapter = ChapterFactory()
    introducer = MembershipFactory(chapter=chapter).member
    seed(chapter, introducer, 5 * scale)
    first, second = (MembershipFactory(chapter=chapter).member for _ in range(2))
    Browser(client).login(introducer.email)
    token = csrf_from(client.get("/introductions/new").get_data(as_text=True))
    form = {
        "first_id": first.id,
        "second_id": second.id,
        "note": f"{NOTE} At scale {scale}.",
        "csrf_token": token,
    }
    with count_queries() as log:
        assert client.post("/introductions/new", data=form).status_code == 302
    assert len(mail_to(first.email)) == len(mail_to(second.email)) == 1
    return log.count


def test_making_an_introduction_sends_the_same_few_statements_at_ten_times_the_data(client, count_queries):
    small = introduction_queries(client, count_queries, 1)
    large = introduction_queries(client.application.test_client(), count_queries, 10)
    print(f"statements to make an introduction at 1x: {small}; at 10x: {large}")
    assert small == large
    # The parties in one query, the chapter they share, the note, the pair's lapsed introduction, the
    # policy, the insert in its savepoint, the emails and the consents (two rows each, one statement
    # each), connector requests, the kept figures (the chapter's zone, its day, three members).
    assert small <= 17
