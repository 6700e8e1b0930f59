"""Transports: .eml files, a real SMTP server (aiosmtpd on 127.0.0.1) and its failures, memory."""

import shutil
import ssl
import subprocess

import pytest

from referral_hub.mail.services import as_email
from referral_hub.mail.transports import (
    FileTransport,
    PermanentFailure,
    SmtpTransport,
    TemporaryFailure,
    transport_for,
)

from .conftest import free_port, write


def test_file_transport_writes_one_eml_per_message_id_and_a_resend_replaces_it(tmp_path):
    transport = FileTransport(str(tmp_path / "mail"))
    email = as_email(write())

    transport.send(email)
    transport.send(email)
    transport.send(as_email(write()))

    files = sorted((tmp_path / "mail").iterdir())
    assert len(files) == 2
    assert all(path.suffix == ".eml" for path in files)
    assert email["Message-ID"].strip("<>").replace("@", "_at_") + ".eml" in [path.name for path in files]


def test_file_transport_that_cannot_write_fails_temporarily(tmp_path):
    blocker = tmp_path / "mail"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(TemporaryFailure, match="cannot write"):
        FileTransport(str(blocker)).send(as_email(write()))


def test_smtp_transport_delivers_text_and_html_with_the_message_id(app, smtp_server):
    server = smtp_server.serve()
    message = write(to="ada@example.com")
    transport = transport_for()

    transport.send(as_email(message))
    transport.send(as_email(write(to="grace@example.com")))  # same session
    transport.close()

    assert isinstance(transport, SmtpTransport)
    first = server.received[0]
    assert first["Message-ID"] == message.message_id
    assert first["To"] == "ada@example.com"
    assert first["Subject"] == "News for Ada"
    assert "http://localhost/news/1" in first.get_body(("plain",)).get_content()
    assert "<a href=" in first.get_body(("html",)).get_content()
    assert [email["To"] for email in server.received] == ["ada@example.com", "grace@example.com"]
    assert server.logins == []


def test_smtp_transport_logs_in_when_a_username_is_set(app, smtp_server, monkeypatch):
    server = smtp_server.serve()
    monkeypatch.setitem(app.config, "SMTP_USERNAME", "hub")
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", "right password")
    transport = transport_for()
    transport.send(as_email(write()))
    transport.close()
    assert server.logins == ["hub"]
    assert len(server.received) == 1


def test_smtp_wrong_password_is_a_temporary_failure_not_a_dead_letter(app, smtp_server, monkeypatch):
    """A configuration mistake must not dead-letter every message: fix the password, the mail goes."""
    server = smtp_server.serve()
    monkeypatch.setitem(app.config, "SMTP_USERNAME", "hub")
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", "wrong password")
    with pytest.raises(TemporaryFailure, match="535"):
        transport_for().send(as_email(write()))
    assert server.received == []


def test_smtp_busy_reply_is_a_temporary_failure(smtp_server):
    server = smtp_server.serve()
    server.busy_data_replies = 1
    transport = transport_for()
    with pytest.raises(TemporaryFailure, match="451 4.3.0 try later"):
        transport.send(as_email(write()))
    transport.send(as_email(write()))
    transport.close()
    assert len(server.received) == 1


def test_smtp_unknown_recipient_is_a_permanent_failure(smtp_server):
    server = smtp_server.serve()
    server.refused.add("nobody@example.com")
    with pytest.raises(PermanentFailure, match="550 5.1.1 no such user"):
        transport_for().send(as_email(write(to="nobody@example.com")))


def test_smtp_connection_dropped_after_the_data_is_a_temporary_failure_and_the_next_send_reconnects(
    smtp_server,
):
    server = smtp_server.serve()
    server.drops["ada@example.com"] = 1
    transport = transport_for()
    with pytest.raises(TemporaryFailure, match="SMTPServerDisconnected"):
        transport.send(as_email(write(to="ada@example.com")))
    transport.send(as_email(write(to="ada@example.com")))
    transport.close()
    assert len(server.received) == 1


def test_smtp_server_not_listening_is_a_temporary_failure(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "SMTP_USERNAME", None)
    with pytest.raises(TemporaryFailure, match="cannot open an SMTP session"):
        transport_for().send(as_email(write()))


@pytest.fixture
def certificate(tmp_path):
    openssl = shutil.which("openssl")
    assert openssl, "the STARTTLS tests need the openssl command to make a test certificate"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


def test_starttls_refuses_a_certificate_nobody_vouches_for(app, smtp_server, certificate, monkeypatch):
    _cert, server_context = certificate
    server = smtp_server.serve(tls_context=server_context)
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", True)
    monkeypatch.setitem(app.config, "SMTP_USERNAME", "hub")
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", "right password")
    with pytest.raises(TemporaryFailure, match="CERTIFICATE_VERIFY_FAILED"):
        transport_for().send(as_email(write()))
    assert server.logins == []  # the password never went to an unverified server
    assert server.received == []


def test_starttls_with_a_trusted_certificate_encrypts_the_session(app, smtp_server, certificate, monkeypatch):
    cert, server_context = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    server = smtp_server.serve(tls_context=server_context)
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", True)
    monkeypatch.setitem(app.config, "SMTP_USERNAME", "hub")
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", "right password")
    transport = transport_for()
    transport.send(as_email(write()))
    transport.close()
    assert server.logins == ["hub"]
    assert server.over_tls == [True]
