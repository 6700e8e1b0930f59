"""Ways to hand a message over: to files (default), to an SMTP server, or to memory (tests)."""

import contextlib
import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import Flask, current_app


class TemporaryFailure(Exception):
    """The server or network may accept the message later: retry with backoff."""


class PermanentFailure(Exception):
    """The server refused the message for good: dead-letter it."""


class FileTransport:
    """Writes each message as an .eml file; development's `/dev/mail` lists them."""

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_at_").replace("/", "_")
        path = self.directory / f"{name}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(message))
        tmp.replace(path)

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


def _classify(code: int, detail: str) -> Exception:
    if 400 <= code < 500:
        return TemporaryFailure(f"{code} {detail}")
    return PermanentFailure(f"{code} {detail}")


class SmtpTransport:
    """Sends over one SMTP connection, reopened when the server drops it."""

    def __init__(self, config):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        connection = smtplib.SMTP(c["SMTP_HOST"], c["SMTP_PORT"], timeout=c["SMTP_TIMEOUT"])
        if c["SMTP_STARTTLS"]:
            connection.starttls()
        if c["SMTP_USERNAME"]:
            connection.login(c["SMTP_USERNAME"], c["SMTP_PASSWORD"] or "")
        return connection

    def send(self, message: EmailMessage) -> None:
        try:
            if self.connection is None:
                self.connection = self._connect()
            refused = self.connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            code, reply = next(iter(error.recipients.values()))
            raise _classify(code, reply.decode(errors="replace")) from error
        except smtplib.SMTPResponseException as error:
            self.close()
            raise _classify(error.smtp_code, error.smtp_error.decode(errors="replace")) from error
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            self.close()
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from error
        if refused:  # only with several recipients; we send one per message
            code, reply = next(iter(refused.values()))
            raise _classify(code, reply.decode(errors="replace"))

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
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
