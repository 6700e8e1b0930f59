"""`flask outbox drain` prints what it did; `flask outbox worker` and run_worker stop when told."""

import os
import signal
import threading
import time

from referral_hub.mail import services
from referral_hub.mail.services import run_worker
from referral_hub.mail.transports import PermanentFailure, TemporaryFailure

from .conftest import Recorder, write


def test_drain_command_sends_due_mail_and_prints_a_summary(app, monkeypatch):
    for address in ("ada@example.com", "busy@example.com", "nobody@example.com"):
        write(to=address)
    transport = Recorder(
        {
            "busy@example.com": TemporaryFailure("451 try later"),
            "nobody@example.com": PermanentFailure("550 no such user"),
        }
    )
    monkeypatch.setattr(services, "transport_for", lambda: transport)

    result = app.test_cli_runner().invoke(args=["outbox", "drain", "--batch-size", "2"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 1, retrying later 1, dead-lettered 1"
    assert [email["To"] for email in transport.sent] == ["ada@example.com"]


def test_drain_command_with_nothing_due_says_so(app):
    result = app.test_cli_runner().invoke(args=["outbox", "drain"])
    assert result.exit_code == 0
    assert result.output.strip() == "sent 0, retrying later 0, dead-lettered 0"


def test_drain_command_refuses_a_batch_size_below_one(app):
    result = app.test_cli_runner().invoke(args=["outbox", "drain", "--batch-size", "0"])
    assert result.exit_code == 2
    assert "--batch-size" in result.output


def test_run_worker_sends_what_is_due_until_told_to_stop(app):
    write(to="ada@example.com")
    write(to="grace@example.com")
    sent = app.extensions.setdefault("mail_memory", [])

    run_worker(poll_seconds=0.01, should_stop=lambda: len(sent) >= 2)

    assert sorted(email["To"] for email in sent) == ["ada@example.com", "grace@example.com"]


def test_run_worker_survives_a_failing_drain_and_tries_again(app, monkeypatch):
    calls = []

    def flaky_drain(**_options):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return services.DrainReport()

    monkeypatch.setattr(services, "drain", flaky_drain)
    run_worker(poll_seconds=0.01, should_stop=lambda: len(calls) >= 2)
    assert len(calls) == 2


def test_worker_command_stops_on_sigterm_after_sending_and_restores_the_handler(app):
    write(to="ada@example.com")
    sent = app.extensions.setdefault("mail_memory", [])
    original = signal.getsignal(signal.SIGTERM)

    def terminate_once_mail_went_out():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if sent and signal.getsignal(signal.SIGTERM) is not original:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.01)
        # Never leave the worker loop running forever: interrupt the test run instead.
        os.kill(os.getpid(), signal.SIGINT)

    killer = threading.Thread(target=terminate_once_mail_went_out)
    killer.start()
    result = app.test_cli_runner().invoke(args=["outbox", "worker", "--poll", "0.05"])
    killer.join()

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "outbox worker: looking for due mail every 0.05s",
        "outbox worker: stopped",
    ]
    assert [email["To"] for email in sent] == ["ada@example.com"]
    assert signal.getsignal(signal.SIGTERM) is original
