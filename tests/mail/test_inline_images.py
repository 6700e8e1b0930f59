"""Introduction emails show the other member's photo as a related part (`cid:`), over SMTP and to files."""

import io
import re
from email import policy
from email.parser import BytesParser

import pytest
from PIL import Image
from sqlalchemy import func, select

from referral_hub.accounts import photos
from referral_hub.extensions import db
from referral_hub.introductions import answering, making
from referral_hub.introductions.models import Decision
from referral_hub.mail.models import OutboxAttachment, OutboxStatus
from referral_hub.mail.services import as_email, drain
from tests.conftest import mail_to
from tests.factories import ChapterFactory, MembershipFactory

NOTE = "Ann photographs new restaurants and Bob fits their kitchens: each keeps being asked for the other."
CID = re.compile(r'<img src="cid:([^"]+)" alt="Photo of Ann"')


def picture() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (200, 200), (30, 120, 200)).save(output, format="PNG")
    return output.getvalue()


@pytest.fixture
def people():
    chapter = ChapterFactory(slug="riverside")
    cy, ann, bob = (
        MembershipFactory(
            chapter=chapter, member__display_name=name, member__email=f"{name.lower()}@example.org"
        ).member
        for name in ("Cy", "Ann", "Bob")
    )
    photos.set_photo(ann, picture())
    return cy, ann, bob


def introduce(people):
    cy, ann, bob = people
    return making.introduce(cy, first_id=ann.id, second_id=bob.id, note=NOTE)


def related_images(email) -> dict[str, bytes]:
    """The images of the message's multipart/related part, by Content-ID without brackets."""
    return {
        part["Content-ID"].strip("<>"): part.get_content()
        for part in email.walk()
        if part.get_content_maintype() == "image"
    }


def test_the_request_over_smtp_carries_the_other_members_photo_as_a_related_part(smtp_server, people):
    server = smtp_server.serve()
    cy, ann, bob = people
    introduce(people)
    assert drain().sent == 2

    to_bob = next(email for email in server.received if email["To"] == "bob@example.org")
    assert to_bob.get_content_type() == "multipart/alternative"
    text, related = to_bob.get_payload()
    assert text.get_content_type() == "text/plain" and related.get_content_type() == "multipart/related"
    html = related.get_payload()[0]
    assert html.get_content_type() == "text/html"
    (content_id,) = CID.findall(html.get_content())
    assert related_images(to_bob) == {content_id: photos.photo_of(ann.id, photos.EMAIL_SIZE).data}
    image = related.get_payload()[1]
    assert image.get_content_type() == "image/webp" and image.get_content_disposition() == "inline"

    to_ann = next(email for email in server.received if email["To"] == "ann@example.org")
    assert related_images(to_ann) == {}, "Bob has no photo: Ann's email carries none"
    assert "cid:" not in to_ann.get_body(("html",)).get_content()
    assert mail_to("ann@example.org")[-1].inline_images == []


def test_the_completed_email_to_a_file_shows_the_photo_and_dev_mail_serves_it(
    app, client, monkeypatch, tmp_path, people
):
    monkeypatch.setitem(app.config, "ENV_NAME", "development")
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "file")
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    intro = introduce(people)
    for consent in intro.consents:
        answering.answer(consent, Decision.ACCEPT)
    drain()

    completed = mail_to("bob@example.org")[-1]
    assert completed.template == "intro_completed"
    name = completed.message_id.strip("<>").replace("@", "_at_")
    with (tmp_path / f"{name}.eml").open("rb") as handle:
        written = BytesParser(policy=policy.default).parse(handle)
    (content_id,) = CID.findall(written.get_body(("html",)).get_content())
    ann = people[1]
    assert related_images(written) == {content_id: photos.photo_of(ann.id, photos.EMAIL_SIZE).data}

    page = client.get(f"/dev/mail/{name}").get_data(as_text=True)
    assert f'<img src="/dev/mail/{name}/images/{content_id}"' in page
    image = client.get(f"/dev/mail/{name}/images/{content_id}")
    assert image.status_code == 200 and image.mimetype == "image/webp"
    assert image.data == photos.photo_of(ann.id, photos.EMAIL_SIZE).data
    assert client.get(f"/dev/mail/{name}/images/nothing@here").status_code == 404


def test_a_photo_removed_before_the_email_goes_is_taken_out_of_it(people):
    cy, ann, bob = people
    introduce(people)
    to_bob = mail_to("bob@example.org")[0]
    assert len(to_bob.inline_images) == 1
    photos.remove_photo(ann)
    db.session.expire_all()
    assert to_bob.inline_images == []
    assert related_images(as_email(to_bob)) == {}
    photos.set_photo(ann, picture())
    making.introduce(bob, first_id=ann.id, second_id=cy.id, note=NOTE + " Again.")
    assert len(mail_to("cy@example.org")[-1].inline_images) == 1, "a new photo goes in new mail"


def test_the_images_are_not_kept_once_the_email_is_sent(people):
    introduce(people)
    assert attachments() == 1
    drain()
    assert mail_to("bob@example.org")[0].status is OutboxStatus.SENT
    assert attachments() == 0


def attachments() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxAttachment))
