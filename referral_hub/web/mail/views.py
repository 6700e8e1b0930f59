"""Development only: `/dev/mail` lists the messages the file transport wrote."""

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, make_response, render_template

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


def _message(name: str):
    path = _mail_dir() / f"{name}.eml"
    if not path.is_file():
        abort(404)
    return _read(path)


def _inline_images(email) -> dict[str, object]:
    """The images a message's HTML shows as `cid:`, by content id (without angle brackets)."""
    return {
        part["Content-ID"].strip("<>"): part
        for part in email.walk()
        if part.get_content_maintype() == "image" and part["Content-ID"]
    }


@bp.get("/<name>")
def show(name: str):
    email = _message(name)
    part = email.get_body(preferencelist=("plain",))
    body = part.get_content() if part else ""
    # A sentence may end right after a link; the full stop is not part of it.
    links = [link.rstrip(".,;:!?)") for link in LINK.findall(body)]
    return render_template(
        "mail/dev_show.html", email=email, name=name, body=body, links=links, images=_inline_images(email)
    )


@bp.get("/<name>/images/<path:content_id>")
def inline_image(name: str, content_id: str):
    image = _inline_images(_message(name)).get(content_id)
    if image is None:
        abort(404)
    response = make_response(image.get_content())
    response.mimetype = image.get_content_type()
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
