"""Development only: `/dev/mail` lists the messages the file transport wrote, and the in-app sender."""

import re
import threading
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, render_template

from ...mail import services

bp = Blueprint("mail", __name__, url_prefix="/dev/mail")

LINK = re.compile(r"https?://[^\s<>\"]+")


def _mail_dir() -> Path:
    if current_app.config["ENV_NAME"] != "development":
        abort(404)
    return Path(current_app.config["MAIL_DIR"])


def _read(path: Path, *, headers_only: bool = False):
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle, headersonly=headers_only)


@bp.get("/")
def index():
    files = sorted(_mail_dir().glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
    messages = []
    for path in files[:200]:
        headers = _read(path, headers_only=True)
        messages.append(
            {"name": path.stem, "to": headers["To"], "subject": headers["Subject"], "date": headers["Date"]}
        )
    return render_template("mail/dev_index.html", messages=messages)


@bp.get("/<name>")
def show(name: str):
    path = _mail_dir() / f"{name}.eml"
    if not path.is_file():
        abort(404)
    email = _read(path)
    part = email.get_body(preferencelist=("plain",))
    body = part.get_content() if part else ""
    # A sentence may end right after a link; the full stop is not part of it.
    links = [link.rstrip(".,;:!?)") for link in LINK.findall(body)]
    return render_template("mail/dev_show.html", email=email, body=body, links=links)


def _start_in_app_sender(app: Flask) -> None:
    """Deliver mail from a thread of the app itself, so development needs no worker process.

    The thread starts with the first request, so CLI commands (`flask db upgrade`, `flask outbox
    drain`) never start one. Setting `app.extensions["outbox_sender"]` stops it.
    """
    stop = threading.Event()
    app.extensions["outbox_sender"] = stop
    # Taken once and never released: of any number of simultaneous first requests, one starts it.
    once = threading.Lock()

    def deliver():
        with app.app_context():
            services.run_worker(poll_seconds=1.0, should_stop=stop.is_set)

    @app.before_request
    def _start_sender_once():
        if once.acquire(blocking=False):
            threading.Thread(target=deliver, name="outbox-sender", daemon=True).start()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    if app.config["OUTBOX_DELIVER_IN_APP"]:
        _start_in_app_sender(app)
