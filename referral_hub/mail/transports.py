"""Ways to hand a message over: to files (default), to an SMTP server, or to memory (tests)."""

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from flask import Flask, current_app


class TemporaryFailure(Exception):
    """The server or network may accept the message later: retry with backoff."""


class PermanentFailure(Exception):
    """The server refused the message for good: dead-letter it."""


class FileTransport:
    """Writes each message as an .eml file named by its Message-ID; development's `/dev/mail` lists them."""

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        name = message["Message-ID"].strip("<>").replace("@", "_at_").replace("/", "_")
        path = self.directory / f"{name}.eml"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Write then rename, so /dev/mail never lists half a message and a resend replaces it.
            partial = path.with_suffix(".partial")
            partial.write_bytes(bytes(message))
            partial.replace(path)
        except OSError as error:  # a full disk or a permission fixed later
            raise TemporaryFailure(f"cannot write {path}: {error}") from error

    def close(self) -> None:
        pass


class MemoryTransport:
    """Keeps messages in a list on the app, for tests that need no server."""

    def __init__(self, app: Flask):
        self.sent = app.extensions.setdefault("mail_memory", [])

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)

    def close(self) -> None:
        pass


def _reply_failure(code: int, reply: bytes | str) -> TemporaryFailure | PermanentFailure:
    """Only a 5xx reply is a refusal for good; 4xx and anything garbled may pass later."""
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    failure = PermanentFailure if 500 <= code < 600 else TemporaryFailure
    return failure(f"{code} {text}")


def _send_failure(error: Exception) -> TemporaryFailure | PermanentFailure:
    """What a failure while sending one message means for that message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return _reply_failure(code, reply)
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply_failure(error.smtp_code, error.smtp_error)
    if isinstance(error, smtplib.SMTPNotSupportedError):  # e.g. the address needs SMTPUTF8
        return PermanentFailure(f"the server cannot take this message: {error}")
    # Timeouts, dropped connections: the server never said 250, so nothing was delivered.
    return TemporaryFailure(f"{type(error).__name__}: {error}")


class SmtpTransport:
    """Sends over one SMTP session, opened on the first message and reopened after any failure."""

    def __init__(self, config):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        connection = None
        try:
            connection = smtplib.SMTP(c["SMTP_HOST"], c["SMTP_PORT"], timeout=c["SMTP_TIMEOUT"])
            if c["SMTP_STARTTLS"]:
                # A verified certificate: the password and the mail must not go to whoever answers.
                connection.starttls(context=ssl.create_default_context())
            if c["SMTP_USERNAME"]:
                connection.login(c["SMTP_USERNAME"], c["SMTP_PASSWORD"] or "")
        except (smtplib.SMTPException, OSError) as error:
            if connection is not None:
                connection.close()
            # Whatever the reply code, a session that cannot start says nothing about the message:
            # a wrong password or a server turning clients away must not dead-letter every message.
            raise TemporaryFailure(
                f"cannot open an SMTP session with {c['SMTP_HOST']}:{c['SMTP_PORT']}: "
                f"{type(error).__name__}: {error}"
            ) from error
        return connection

    def send(self, message: EmailMessage) -> None:
        if self.connection is None:
            self.connection = self._connect()
        try:
            refused = self.connection.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            # No polite QUIT on a session in an unknown state: it could wait out another timeout.
            self.connection.close()
            self.connection = None
            raise _send_failure(error) from error
        if refused:  # only with several recipients; we send one per message
            code, reply = next(iter(refused.values()))
            raise _reply_failure(code, reply)

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection.close()
            self.connection = None


def transport_for(app: Flask | None = None):
    app = app or current_app._get_current_object()
    kind = app.config["MAIL_TRANSPORT"]
    if kind == "file":
        return FileTransport(app.config["MAIL_DIR"])
    if kind == "smtp":
        return SmtpTransport(app.config)
    if kind == "memory":
        return MemoryTransport(app)
    raise ValueError(f"MAIL_TRANSPORT must be file, smtp or memory, not {kind!r}")
