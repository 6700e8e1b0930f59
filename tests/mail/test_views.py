"""/dev/mail in development: the file transport's messages with their links; 404 anywhere else."""

import threading
import time

import pytest
from sqlalchemy import select

from referral_hub import create_app
from referral_hub.extensions import db
from referral_hub.mail import services
from referral_hub.mail.models import OutboxMessage, OutboxStatus
from referral_hub.mail.services import drain

from .conftest import write


@pytest.fixture
def development(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "ENV_NAME", "development")
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "file")
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    return tmp_path


def test_dev_mail_lists_the_files_written_with_links_to_each(client, development):
    first = write(to="ada@example.com", name="Ada <script>")
    second = write(to="grace@example.com", name="Grace")
    assert drain().sent == 2

    page = client.get("/dev/mail/")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for message in (first, second):
        name = message.message_id.strip("<>").replace("@", "_at_")
        assert f'href="/dev/mail/{name}"' in html
        assert message.to_address in html
    assert "News for Ada &lt;script&gt;" in html
    assert "<script>" not in html


def test_dev_mail_message_shows_the_plain_body_and_its_links(client, development):
    message = write(name="Ada <b>", link="http://localhost/join/abc_DEF-123")
    drain()
    name = message.message_id.strip("<>").replace("@", "_at_")

    page = client.get(f"/dev/mail/{name}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<a href="http://localhost/join/abc_DEF-123">http://localhost/join/abc_DEF-123</a>' in html
    assert "Hello Ada &lt;b&gt;," in html
    assert "See what is new: http://localhost/join/abc_DEF-123" in html


def test_dev_mail_with_no_mail_yet_says_so(client, development):
    page = client.get("/dev/mail/")
    assert page.status_code == 200
    assert "No mail yet" in page.get_data(as_text=True)


def test_dev_mail_unknown_message_is_404(client, development):
    assert client.get("/dev/mail/no-such-message").status_code == 404


@pytest.mark.parametrize("env", ["testing", "production"])
def test_dev_mail_is_404_outside_development(app, client, development, monkeypatch, env):
    message = write()
    drain()
    monkeypatch.setitem(app.config, "ENV_NAME", env)
    name = message.message_id.strip("<>").replace("@", "_at_")
    assert client.get("/dev/mail/").status_code == 404
    assert client.get(f"/dev/mail/{name}").status_code == 404


@pytest.fixture
def sender_app(database_url):
    """A second app, as development runs it: delivering its own mail from a thread."""
    sender_app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_TRANSPORT": "memory",
            "OUTBOX_DELIVER_IN_APP": True,
            "BASE_URL": "http://localhost",
        }
    )
    yield sender_app
    sender_app.extensions["outbox_sender"].set()
    for thread in threading.enumerate():
        if thread.name == "outbox-sender":
            thread.join(timeout=10)
    with sender_app.app_context():
        db.engine.dispose()


def senders() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "outbox-sender"]


def test_in_app_sender_starts_with_the_first_request_only_and_never_in_cli_commands(sender_app, monkeypatch):
    runs = []

    def run_worker(*, poll_seconds, should_stop):
        runs.append(threading.current_thread().name)
        while not should_stop():
            time.sleep(0.01)

    monkeypatch.setattr(services, "run_worker", run_worker)

    result = sender_app.test_cli_runner().invoke(args=["outbox", "drain"])
    assert result.exit_code == 0, result.output
    assert senders() == []

    # Simultaneous first requests start one sender between them.
    requests = [
        threading.Thread(target=lambda: sender_app.test_client().get("/static/app.css").close())
        for _ in range(8)
    ]
    for request in requests:
        request.start()
    for request in requests:
        request.join()
    sender_app.test_client().get("/static/app.css").close()

    deadline = time.monotonic() + 5
    while not runs and time.monotonic() < deadline:
        time.sleep(0.01)
    assert runs == ["outbox-sender"]
    assert len(senders()) == 1

    sender_app.extensions["outbox_sender"].set()
    senders()[0].join(timeout=5)
    assert senders() == []


def test_in_app_sender_delivers_committed_mail(sender_app, committed):
    message_id = write(to="ada@example.com").message_id
    db.session.commit()

    sender_app.test_client().get("/static/app.css").close()

    deadline = time.monotonic() + 10
    status = None
    while status is not OutboxStatus.SENT and time.monotonic() < deadline:
        time.sleep(0.05)
        db.session.rollback()
        status = db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.message_id == message_id))
    assert status is OutboxStatus.SENT
    assert [email["Message-ID"] for email in sender_app.extensions["mail_memory"]] == [message_id]
