"""Cached pages over real HTTP: served again until a committed change, and only to their own session."""

import logging
import re
import time

from sqlalchemy import insert, update

from referral_hub.accounts.models import Member
from referral_hub.chapters import services as chapters
from referral_hub.chapters.models import Membership, MembershipStatus
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from referral_hub.mail.services import enqueue
from referral_hub.needs.models import Need, NeedStatus
from tests.conftest import csrf_from
from tests.factories import PASSWORD, ChapterFactory, MemberFactory, MembershipFactory, NeedFactory
from tests.test_caching import Counter


def cache_results(caplog, path: str) -> list[str]:
    """hit or miss for each logged GET of `path`, in order."""
    pattern = re.compile(rf"^GET {re.escape(path)} 200 .* cache=(hit|miss) ")
    return [m.group(1) for r in caplog.records if (m := pattern.match(r.getMessage()))]


def answered_within(client, path: str, expected, seconds: float = 2.0) -> bool:
    """Whether `expected(status, url, page)` holds for `path` within `seconds`: another process's
    change arrives as a notification, a moment after its commit."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if expected(*client.get(path)):
            return True
        time.sleep(0.02)
    return False


def test_the_board_is_served_again_until_a_change_is_committed(live_app, caplog):
    caplog.set_level(logging.INFO, logger="referral_hub.requests")
    with live_app.app.app_context():
        organizer = MemberFactory(email="olga@example.org", display_name="Olga")
        db.session.flush()
        chapter = chapters.create_chapter("Harbour Forum", organizer_email=organizer.email)
        dana = MembershipFactory(chapter=chapter, member=MemberFactory(email="dana@example.org")).member
        MembershipFactory(chapter=chapter, member=MemberFactory(email="eli@example.org", display_name="Eli"))
        other = ChapterFactory()
        MembershipFactory(chapter=other, member=MemberFactory(email="uma@example.org"))
        need = NeedFactory(chapter=chapter, asker=dana, title="A bookkeeper for a florist")
        db.session.commit()
        slug, chapter_id, dana_id, need_path = chapter.slug, chapter.id, dana.id, f"/needs/{need.id}"
    board = f"/chapters/{slug}/"

    clients = {}
    for name in ("dana", "eli", "uma"):
        clients[name] = live_app.client()
        status, _, _ = clients[name].submit("/login", {"email": f"{name}@example.org", "password": PASSWORD})
        assert status == 200

    first = [clients["dana"].get(board) for _ in range(3)]
    assert {status for status, _, _ in first} == {200}
    assert first[1][2] == first[2][2] and "A bookkeeper for a florist" in first[2][2]
    assert cache_results(caplog, board)[-1] == "hit"
    for _ in range(2):
        clients["dana"].get(need_path)
    assert cache_results(caplog, need_path)[-1] == "hit"

    # Another member's session never gets Dana's page: its own has its own CSRF tokens.
    _, _, eli_page = clients["eli"].get(board)
    assert csrf_from(eli_page) != csrf_from(first[2][2])
    # A member of another chapter is refused, though the URL is cached for Dana.
    assert clients["uma"].get(board)[0] == 404

    # A change committed outside this process's sessions, as another worker or the CLI would.
    with live_app.app.app_context(), db.engine.begin() as connection:
        now = utcnow()
        connection.execute(
            insert(Need).values(
                chapter_id=chapter_id,
                asker_id=dana_id,
                title="A sign painter",
                details="For the shop front.",
                category="",
                status=NeedStatus.OPEN,
                created_at=now,
                expires_at=now.replace(year=now.year + 1),
            )
        )
    assert answered_within(clients["dana"], board, lambda _status, _url, page: "A sign painter" in page)

    # Logging out ends the cached page for that browser: the board asks to log in.
    _, _, page = clients["dana"].get(board)
    token = re.search(r'action="/logout".*?name="csrf_token"[^>]*value="([^"]+)"', page, re.S).group(1)
    clients["dana"].request("POST", "/logout", {"csrf_token": token})
    status, url, _ = clients["dana"].get(board)
    assert status == 200 and "/login" in url


def test_the_process_s_own_commits_move_its_cache_version_at_once_but_not_the_outbox_s(live_app, monkeypatch):
    cache = live_app.app.extensions["page_cache"]
    monkeypatch.setattr(cache, "_changes", Counter())  # it never moves: only this process's commits do
    with live_app.app.app_context():
        member = MemberFactory()
        db.session.commit()
        before = cache.version()
        enqueue("verify_email", to=member.email, member=member, link="http://localhost/verify")
        db.session.commit()
        db.session.commit()  # an empty commit, as the outbox worker makes when nothing is due
        assert cache.version() == before, "the outbox is on no page"
        db.session.execute(update(Member).where(Member.id == member.id).values(headline="Florist"))
        db.session.commit()
        assert cache.version() != before


def test_a_member_removed_or_signed_out_elsewhere_gets_no_cached_page(live_app):
    with live_app.app.app_context():
        organizer = MemberFactory(email="olga@example.org")
        db.session.flush()
        chapter = chapters.create_chapter("Harbour Forum", organizer_email=organizer.email)
        dana, eli = (
            MembershipFactory(chapter=chapter, member=MemberFactory(email=f"{name}@example.org")).member
            for name in ("dana", "eli")
        )
        db.session.commit()
        board, dana_id, eli_id = f"/chapters/{chapter.slug}/", dana.id, eli.id
    clients = {}
    for name in ("dana", "eli"):
        clients[name] = live_app.client()
        clients[name].submit("/login", {"email": f"{name}@example.org", "password": PASSWORD})
        for _ in range(2):
            assert clients[name].get(board)[0] == 200

    # Changes made by another process: the organizer removes Dana; Eli signs out everywhere.
    with live_app.app.app_context(), db.engine.begin() as connection:
        connection.execute(
            update(Membership).where(Membership.member_id == dana_id).values(status=MembershipStatus.REMOVED)
        )
        connection.execute(update(Member).where(Member.id == eli_id).values(session_token="x" * 32))
    assert answered_within(clients["dana"], board, lambda status, _url, _page: status == 404)
    assert answered_within(
        clients["eli"], board, lambda status, url, _page: status == 200 and "/login" in url
    )
