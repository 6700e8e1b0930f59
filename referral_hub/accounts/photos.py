"""Member photos: decode an upload with Pillow, refuse what is not a photo, strip its metadata and
keep two square sizes in the database."""

import hashlib
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, select

from ..clock import utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..mail.services import InlineImage, drop_inline_images
from .models import Member, MemberPhoto

MAX_PHOTO_BYTES = 5 * 1024 * 1024
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
# A decoded picture larger than this (about 50 megapixels) is refused before it fills the memory.
MAX_PIXELS = 50_000_000
SIZES = (96, 320)
EMAIL_SIZE = SIZES[0]
CONTENT_TYPE = "image/webp"
WEBP_QUALITY = 82


class PhotoRefused(DomainError):
    message = _l("The file cannot be used as a photo.")

    status = 422
    code = "photo_refused"


TOO_LARGE = _l("The photo is larger than 5 MB. Choose a smaller one, or shrink it first.")
TOO_MANY_PIXELS = _l("The picture has too many pixels. Choose a photo under 50 megapixels.")


def _decoded(upload: bytes) -> Image.Image:
    if len(upload) > MAX_PHOTO_BYTES:
        raise PhotoRefused(TOO_LARGE)
    try:
        with warnings.catch_warnings():
            # Pillow warns past its bomb limit (Image.MAX_IMAGE_PIXELS) and raises past twice that;
            # both, and anything past our own lower limit, are refused before the pixels are decoded.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(upload), formats=list(ACCEPTED_FORMATS))
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused(TOO_MANY_PIXELS)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PhotoRefused(TOO_MANY_PIXELS) from error
    except UnidentifiedImageError as error:
        raise PhotoRefused(_("That file is not a JPEG, PNG or WebP picture.")) from error
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data behind a valid header
        raise PhotoRefused(_("That picture is damaged and cannot be read. Try another file.")) from error
    return image


def _square(image: Image.Image, side: int) -> bytes:
    """A centred square crop of `side` pixels, encoded afresh: no EXIF, XMP, ICC or comment survives."""
    cropped = ImageOps.fit(image, (side, side), method=Image.Resampling.LANCZOS)
    output = io.BytesIO()
    cropped.save(output, format="WEBP", quality=WEBP_QUALITY, method=4)
    return output.getvalue()


def set_photo(member: Member, upload: bytes) -> Member:
    """Replace the member's photo with the uploaded picture, turned upright as its EXIF says."""
    image = ImageOps.exif_transpose(_decoded(upload))
    image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    now = utcnow()
    db.session.execute(delete(MemberPhoto).where(MemberPhoto.member_id == member.id))
    largest = b""
    for side in SIZES:
        data = _square(image, side)
        largest = data
        db.session.add(
            MemberPhoto(
                member_id=member.id,
                size=side,
                content_type=CONTENT_TYPE,
                content_hash=hashlib.sha256(data).hexdigest(),
                data=data,
                updated_at=now,
            )
        )
    member.photo_version = hashlib.sha256(largest).hexdigest()[:16]
    db.session.flush()
    return member


def remove_photo(member: Member) -> Member:
    db.session.execute(delete(MemberPhoto).where(MemberPhoto.member_id == member.id))
    drop_inline_images(_email_content_id_prefix(member))
    member.photo_version = None
    db.session.flush()
    return member


def photo_of(member_id: int, size: int) -> MemberPhoto:
    photo = db.session.scalar(
        select(MemberPhoto).where(MemberPhoto.member_id == member_id, MemberPhoto.size == size)
    )
    if photo is None:
        raise NotFound(_("This member has no photo."))
    return photo


def _email_content_id_prefix(member: Member) -> str:
    return f"photo-{member.id}-"


def in_email(member: Member) -> dict:
    """What an email that shows the member's photo needs: `photo` for `mail/_photo.html` (None when
    they have none) and the `inline_images` for enqueue, the small size as a related part."""
    photo = db.session.get(MemberPhoto, (member.id, EMAIL_SIZE)) if member.has_photo else None
    if photo is None:
        return {"photo": None, "inline_images": []}
    image = InlineImage(
        content_id=f"{_email_content_id_prefix(member)}{photo.content_hash[:16]}@referral-hub.local",
        content_type=photo.content_type,
        data=photo.data,
    )
    return {"photo": image, "inline_images": [image]}


# Initials on a coloured circle, for members without a photo: the classes `avatar-c0`… in app.css, in
# this order. Each holds white text at a contrast of at least 4.5:1 (tests/accounts/test_photos.py).
AVATAR_COLOURS = ("#1f5fbf", "#1b7f3a", "#b42318", "#7a3eb1", "#9a4d00", "#0f6b73", "#a3195b", "#4a5568")


def initials(display_name: str) -> str:
    words = [word for word in display_name.split() if word[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def avatar_shade(member_id: int | None) -> int:
    """Which of AVATAR_COLOURS (CSS classes `avatar-c0`…) a member's initials stand on: fixed per member."""
    return (member_id or 0) % len(AVATAR_COLOURS)
