"""Member photos: upload (JPEG, PNG, WebP up to 5 MB), metadata stripped, two sizes served to fellow
members with an ETag and a versioned, privately cached URL; initials on a colour otherwise."""

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from referral_hub.accounts import photos
from referral_hub.extensions import db
from tests.conftest import csrf_from
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory

CSS = Path(__file__).parents[2] / "referral_hub" / "static" / "app.css"
GPS_IFD = 0x8825


def picture(
    fmt: str = "JPEG", size=(640, 480), *, exif_gps: bool = False, orientation: int | None = None
) -> bytes:
    image = Image.new("RGB", size, (200, 40, 40))
    image.paste((20, 20, 220), (0, 0, size[0] // 2, size[1]))  # left half blue: shows a rotation
    exif = Image.Exif()
    if exif_gps:
        exif[0x010F] = "SnoopCam"  # Make
        exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    if orientation:
        exif[0x0112] = orientation
    output = io.BytesIO()
    image.save(output, format=fmt, **({"exif": exif} if (exif_gps or orientation) else {}))
    return output.getvalue()


@pytest.fixture
def chapter():
    return ChapterFactory(slug="riverside")


@pytest.fixture
def ann(chapter):
    return MembershipFactory(
        chapter=chapter, member__email="ann@example.org", member__display_name="Ann Able"
    ).member


def upload(browser, data: bytes, filename="me.jpg"):
    """POST the photo as a browser does. The body is built in memory: the test client would spool a
    large one to a temporary file that it never closes."""
    token = csrf_from(browser.get("/profile").get_data(as_text=True))
    boundary, body = encode_multipart(
        {"csrf_token": token, "photo": FileStorage(io.BytesIO(data), filename=filename)}
    )
    return browser.client.post(
        "/profile/photo", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def photo_url(browser, member_id: int, size: int = 320) -> str:
    page = browser.get(f"/members/{member_id}").get_data(as_text=True)
    match = re.search(rf'src="(/members/{member_id}/photo/{size}\?v=[0-9a-f]+)"', page)
    assert match, "the profile shows the photo"
    return match.group(1)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_each_format_is_accepted_and_served_at_two_square_sizes(browser, ann, fmt):
    browser.login("ann@example.org")
    response = upload(browser, picture(fmt), f"me.{fmt.lower()}")
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    db.session.refresh(ann)
    assert ann.has_photo
    for size in photos.SIZES:
        served = browser.get(f"/members/{ann.id}/photo/{size}")
        assert served.status_code == 200 and served.mimetype == "image/webp"
        assert Image.open(io.BytesIO(served.data)).size == (size, size)


def test_exif_and_gps_are_stripped_and_the_orientation_applied(browser, ann):
    browser.login("ann@example.org")
    # Orientation 6: the camera was turned; the upright picture has the blue half on top.
    assert upload(browser, picture(exif_gps=True, orientation=6)).status_code == 302
    served = browser.get(f"/members/{ann.id}/photo/320").data
    assert b"SnoopCam" not in served and b"Exif" not in served
    image = Image.open(io.BytesIO(served))
    assert not image.getexif() and GPS_IFD not in image.getexif()
    assert "exif" not in image.info and "xmp" not in image.info
    top, bottom = image.convert("RGB").getpixel((160, 20)), image.convert("RGB").getpixel((160, 300))
    assert top[2] > top[0] and bottom[0] > bottom[2], (top, bottom)


def test_a_file_that_is_not_a_picture_is_refused_with_a_message(browser, ann):
    browser.login("ann@example.org")
    response = upload(browser, b"%PDF-1.4 not a picture at all", "me.jpg")
    assert response.status_code == 422
    assert "That file is not a JPEG, PNG or WebP picture." in response.get_data(as_text=True)
    db.session.refresh(ann)
    assert not ann.has_photo


def test_a_gif_is_refused_even_though_pillow_reads_it(browser, ann):
    output = io.BytesIO()
    Image.new("RGB", (10, 10)).save(output, format="GIF")
    browser.login("ann@example.org")
    assert upload(browser, output.getvalue(), "me.gif").status_code == 422


def test_a_truncated_picture_is_refused(browser, ann):
    browser.login("ann@example.org")
    response = upload(browser, picture()[:400])
    assert response.status_code == 422
    assert "picture" in response.get_data(as_text=True)


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    output = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(output, format="PNG")  # 100 megapixels in a few kB
    with pytest.raises(photos.PhotoRefused, match="too many pixels"):
        photos.set_photo(MemberFactory(), output.getvalue())


def test_a_photo_over_5_mb_is_refused_with_a_clear_page(browser, ann):
    browser.login("ann@example.org")
    response = upload(browser, b"\xff\xd8" + b"0" * (photos.MAX_PHOTO_BYTES + 200_000))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The photo is larger than 5 MB." in page and "<h1>Your profile</h1>" in page
    db.session.refresh(ann)
    assert not ann.has_photo


def test_a_photo_just_over_5_mb_inside_the_request_allowance_is_refused_by_the_form(browser, ann):
    browser.login("ann@example.org")
    response = upload(browser, b"0" * (photos.MAX_PHOTO_BYTES + 1))
    assert response.status_code == 422
    assert "The photo is larger than 5 MB." in response.get_data(as_text=True)


def test_the_photo_has_an_etag_a_304_and_a_long_private_cache_on_its_versioned_url(browser, ann):
    browser.login("ann@example.org")
    upload(browser, picture())
    url = photo_url(browser, ann.id)
    first = browser.get(url)
    assert first.headers["Cache-Control"] == f"private, max-age={365 * 24 * 3600}, immutable"
    etag = first.headers["ETag"]
    again = browser.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # An unversioned (or outdated) address is revalidated every time.
    plain = browser.get(f"/members/{ann.id}/photo/320")
    assert plain.headers["Cache-Control"] == "private, max-age=0, no-cache"
    # Other signed-in pages keep no-store.
    assert browser.get("/profile").headers["Cache-Control"] == "private, no-store"


def test_a_new_photo_gets_a_new_address(browser, ann):
    browser.login("ann@example.org")
    upload(browser, picture())
    first = photo_url(browser, ann.id)
    upload(browser, picture("PNG", size=(300, 500)))
    assert photo_url(browser, ann.id) != first


def test_fellow_members_see_the_photo_and_others_get_a_404(browser, app, ann, chapter):
    browser.login("ann@example.org")
    upload(browser, picture())
    fellow = MembershipFactory(chapter=chapter).member
    outsider = MembershipFactory(chapter=ChapterFactory()).member
    for member, status in ((fellow, 200), (outsider, 404)):
        other = type(browser)(app.test_client())
        other.login(member.email)
        assert other.get(f"/members/{ann.id}/photo/96").status_code == status
    visitor = app.test_client().get(f"/members/{ann.id}/photo/96")
    assert visitor.status_code == 302 and visitor.headers["Location"].startswith("/login")
    assert browser.get(f"/members/{ann.id}/photo/97").status_code == 404


def test_the_photo_shows_in_the_directory_and_removing_it_brings_back_the_initials(browser, ann):
    browser.login("ann@example.org")
    directory = browser.get("/chapters/riverside/members").get_data(as_text=True)
    assert re.search(
        r'<span class="avatar avatar-initials avatar-c\d" aria-hidden="true">AA</span>', directory
    )
    upload(browser, picture())
    directory = browser.get("/chapters/riverside/members").get_data(as_text=True)
    assert f'src="/members/{ann.id}/photo/96?v=' in directory
    response = browser.post("/profile/photo/remove", form_page="/profile")
    assert response.status_code == 302
    db.session.refresh(ann)
    assert not ann.has_photo
    assert browser.get(f"/members/{ann.id}/photo/96").status_code == 404
    assert "avatar-initials" in browser.get("/chapters/riverside/members").get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "letters"), [("Ann Able", "AA"), ("cher", "C"), ("Jean-Luc de la Tour", "JT"), ("  ", "?")]
)
def test_initials(name, letters):
    assert photos.initials(name) == letters


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_initials_colour_holds_white_text_at_4_5_to_1_and_matches_the_stylesheet():
    css = CSS.read_text()
    for index, colour in enumerate(photos.AVATAR_COLOURS):
        assert f".avatar-c{index} {{ background: {colour}; }}" in css
    too_faint = [c for c in photos.AVATAR_COLOURS if 1.05 / (_luminance(c) + 0.05) < 4.5]
    assert too_faint == []
    assert {photos.avatar_shade(member_id) for member_id in range(16)} == set(
        range(len(photos.AVATAR_COLOURS))
    )
