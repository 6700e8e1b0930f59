"""Development only: `/dev/mail` lists the messages the file transport wrote, and the in-app sender."""

import re
import threading
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, render_template

bp = Blueprint("mail", __name__, url_prefix="/dev/mail")


def _mail_dir() -> Path:
    if current_app.config["ENV_NAME"] != "development":
        abort(404)
    return Path(current_app.config["MAIL_DIR"])


@bp.get("/")
def index():
    directory = _mail_dir()
    files = sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
    messages = []
    for path in files[:200]:
        with path.open("rb") as handle:
            headers = BytesParser(policy=policy.default).parse(handle, headersonly=True)
        messages.append(
            {"name": path.stem, "to": headers["To"], "subject": headers["Subject"], "date": headers["Date"]}
        )
    return render_template("mail/dev_index.html", messages=messages)


@bp.get("/<name>")
def show(name: str):
    path = _mail_dir() / f"{name}.eml"
    if "/" in name or not path.is_file():
        abort(404)
    with path.open("rb") as handle:
        email = BytesParser(policy=policy.default).parse(handle)
    part = email.get_body(preferencelist=("plain",))
    body = part.get_content() if part else ""
    links = re.findall(r"https?://\S+", body)
    return render_template("mail/dev_show.html", email=email, body=body, links=links)


def _start_in_app_sender(app: Flask) -> None:
    """Deliver mail from a thread of the app itself, so development needs no worker process."""
    started = threading.Event()

    @app.before_request
    def _ensure_sender():
        if started.is_set():
            return
        started.set()

        def loop():
            from .services import run_worker

            with app.app_context():
                run_worker(poll_seconds=1.0)

        threading.Thread(target=loop, name="outbox-sender", daemon=True).start()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    if app.config["OUTBOX_DELIVER_IN_APP"]:
        _start_in_app_sender(app)
