"""Member photos as images: seen only by the member and fellow chapter members, cached by the browser."""

from flask import make_response, request
from flask_login import current_user

from ...accounts import photos
from ...accounts.models import Member
from ...chapters.sharing import shares_chapter
from ...errors import NotFound
from ...extensions import db
from ..http import cache_privately
from .views import bp

A_YEAR = 365 * 24 * 3600


@bp.get("/members/<int:member_id>/photo/<int:size>")
def member_photo(member_id: int, size: int):
    if size not in photos.SIZES:
        raise NotFound()
    if member_id != current_user.id and not shares_chapter(current_user, member_id):
        raise NotFound()
    member = db.session.get(Member, member_id)
    photo = photos.photo_of(member_id, size)
    response = make_response(photo.data)
    response.mimetype = photo.content_type
    response.set_etag(photo.content_hash)
    # The pages link `?v=<version>`: that address always means these bytes, so it may be kept a year.
    versioned = member is not None and request.args.get("v") == member.photo_version
    cache_privately(A_YEAR if versioned else 0)
    return response.make_conditional(request)
