"""An asked-for introduction after the ask: declined by the connector (and refunded), fulfilled by
the introduction, expired (and refunded), or closed (and refunded) when one of its members deleted
their account; and the lists of requests a member made or received."""

import functools
from datetime import datetime

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import joinedload, load_only

from ..accounts.models import Member
from ..clock import utcnow
from ..database import UTCDateTime
from ..errors import Forbidden, NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..introductions.models import Introduction
from ..ledger import posting
from ..ledger.models import Kind
from ..mail.services import enqueue
from .errors import RequestClosed
from .models import IntroRequest, RequestState
from .strength import at

LIST_LENGTH = 50


def _refund(request: IntroRequest, memo: str) -> None:
    if request.cost:
        posting.post(
            request.chapter,
            key=f"intro_request:{request.id}:refund",
            kind=Kind.REFUND,
            memo=memo,
            caused_by=None,
            entries=[(posting.POOL, -request.cost), (request.asker, request.cost)],
            subject_type="intro_request",
            subject_id=request.id,
        )


def _close(request: IntroRequest, state: RequestState, now: datetime, *conditions) -> bool:
    """Move an open request to `state` (if `conditions` hold); False if something else closed it first."""
    closed = db.session.execute(
        update(IntroRequest)
        .where(IntroRequest.id == request.id, IntroRequest.state == RequestState.OPEN, *conditions)
        .values(state=state, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(request)
    return closed.rowcount == 1


def decline(request: IntroRequest, connector: Member, *, now: datetime | None = None) -> IntroRequest:
    """The connector says no: the asker gets their credits back and an email. A request the
    connector has already acted on is fulfilled, and stays paid for."""
    now = now or utcnow()
    if request.connector_id != connector.id:
        raise Forbidden(_("Only the member who was asked can decline this request."))
    # One statement checks and closes: a concurrent introduction marks the request introduced
    # (fulfil_requests), and the row lock makes one of the two wait for the other.
    if not _close(
        request, RequestState.DECLINED, now, ~exists(select(Introduction.id).where(_made_by_connector()))
    ):
        if request.state in (RequestState.OPEN, RequestState.INTRODUCED):
            raise RequestClosed(
                _(
                    "You already introduced %(asker)s and %(target)s, so this request is fulfilled and "
                    "cannot be declined.",
                    asker=request.asker.display_name,
                    target=request.target.display_name,
                )
            )
        raise RequestClosed(_("This request is already %(state)s.", state=request.state.label))
    _refund(
        request,
        f"Refund: {connector.display_name} could not introduce you to {request.target.display_name}",
    )
    enqueue(
        "intro_request_declined",
        to=request.asker.email,
        **request.chapter.speaking_to(request.asker),
        request=request,
    )
    return request


def _made_by_connector():
    """An introduction of the request's two members, by its connector, in its chapter, since the ask."""
    return and_(
        Introduction.chapter_id == IntroRequest.chapter_id,
        Introduction.introducer_id == IntroRequest.connector_id,
        or_(
            and_(
                Introduction.first_id == IntroRequest.asker_id,
                Introduction.second_id == IntroRequest.target_id,
            ),
            and_(
                Introduction.first_id == IntroRequest.target_id,
                Introduction.second_id == IntroRequest.asker_id,
            ),
        ),
        Introduction.created_at >= IntroRequest.created_at,
    )


def fulfil_requests(intro: Introduction) -> None:
    """The connector made the introduction they were asked for: the request is fulfilled at once
    (it stays paid for, whatever the two answer), so it can no longer be declined."""
    db.session.execute(
        update(IntroRequest)
        .where(
            IntroRequest.state == RequestState.OPEN,
            exists(select(Introduction.id).where(Introduction.id == intro.id, _made_by_connector())),
        )
        .values(state=RequestState.INTRODUCED, closed_at=intro.created_at, introduction_id=intro.id)
        .execution_options(synchronize_session=False)
    )


def expire_requests(*, now: datetime | None = None) -> tuple[int, int]:
    """Close open requests past their expiry: (introduced, expired).

    A request whose connector did introduce the two (the introduction may still be waiting for
    answers) counts as introduced and stays paid for; every other one expires and is refunded.
    """
    now = now or utcnow()
    made = select(func.min(Introduction.id)).where(_made_by_connector()).scalar_subquery()
    due = and_(IntroRequest.state == RequestState.OPEN, IntroRequest.expires_at <= at(now))
    introduced = db.session.execute(
        update(IntroRequest)
        .where(due, made.is_not(None))
        .values(state=RequestState.INTRODUCED, closed_at=now, introduction_id=made)
        .execution_options(synchronize_session=False)
    ).rowcount
    expired = 0
    for request in db.session.scalars(
        select(IntroRequest)
        .where(due)
        .options(joinedload(IntroRequest.asker), joinedload(IntroRequest.target))
    ).all():
        if _close(request, RequestState.EXPIRED, now):
            _refund(
                request, f"Refund: your request for an introduction to {request.target.display_name} expired"
            )
            enqueue(
                "intro_request_expired",
                to=request.asker.email,
                **request.chapter.speaking_to(request.asker),
                request=request,
            )
            expired += 1
    return introduced, expired


def close_requests_involving(member: Member, *, now: datetime | None = None) -> int:
    """A member left for good: their open requests (asked by them, of them, or about them) expire and
    are refunded, silently, as nobody is left to answer them. Returns how many."""
    now = now or utcnow()
    closed = 0
    for request in db.session.scalars(
        select(IntroRequest).where(
            IntroRequest.state == RequestState.OPEN,
            or_(
                IntroRequest.asker_id == member.id,
                IntroRequest.connector_id == member.id,
                IntroRequest.target_id == member.id,
            ),
        )
    ).all():
        if _close(request, RequestState.EXPIRED, now):
            _refund(
                request, f"Refund: your request for an introduction to {request.target.display_name} closed"
            )
            closed += 1
    return closed


# Reading ------------------------------------------------------------------------------------------


def _with_people(statement):
    return statement.options(
        joinedload(IntroRequest.asker),
        joinedload(IntroRequest.connector),
        joinedload(IntroRequest.target),
        joinedload(IntroRequest.chapter),
    )


def request_for(member: Member, request_id: int) -> IntroRequest:
    """The request if the member asked it or was asked; NotFound for everyone else."""
    request = db.session.scalar(_with_people(select(IntroRequest).where(IntroRequest.id == request_id)))
    if request is None or not request.involves(member.id):
        raise NotFound()
    return request


def open_asks(asker: Member, target: Member) -> list[IntroRequest]:
    """The asker's open requests for an introduction to this target, with their connectors."""
    parameters = {"asker_id": asker.id, "target_id": target.id}
    return list(db.session.scalars(_open_asks_query(), parameters))


@functools.cache
def _open_asks_query():
    """Built once (a profile page reads it when the viewer waits for an answer), with the asker and
    the target as parameters: the requests' ids and their connectors' names, which the page links and
    shows (the asker and the target are the page's two members)."""
    return (
        select(IntroRequest)
        .where(
            IntroRequest.asker_id == bindparam("asker_id"),
            IntroRequest.target_id == bindparam("target_id"),
            IntroRequest.state == RequestState.OPEN,
        )
        .options(
            load_only(IntroRequest.id),
            joinedload(IntroRequest.connector).load_only(Member.display_name),
        )
        .order_by(IntroRequest.created_at)
    )


def requests_waiting_for(connector: Member, *, now: datetime | None = None) -> list[IntroRequest]:
    """Open requests to this connector that they have neither answered nor acted on yet, with the
    asker and the target (the dashboard and the digest name them)."""
    parameters = {"connector_id": connector.id, "now": now or utcnow()}
    return list(db.session.scalars(_requests_waiting_query(), parameters))


@functools.cache
def _requests_waiting_query():
    """Built once (the dashboard reads it on every view), with the connector and now as parameters;
    it reads what the dashboard and the digest show: the request and the two names."""
    acted = exists(select(Introduction.id).where(_made_by_connector()))
    return (
        select(IntroRequest)
        .where(
            IntroRequest.connector_id == bindparam("connector_id"),
            IntroRequest.state == RequestState.OPEN,
            IntroRequest.expires_at > bindparam("now", type_=UTCDateTime()),
            ~acted,
        )
        .options(
            load_only(IntroRequest.id),
            joinedload(IntroRequest.asker).load_only(Member.display_name),
            joinedload(IntroRequest.target).load_only(Member.display_name),
        )
        .order_by(IntroRequest.created_at)
        .limit(LIST_LENGTH)
    )


def requests_of(member: Member) -> tuple[list[IntroRequest], list[IntroRequest]]:
    """(requests the member made, requests made to them), newest first."""
    made = db.session.scalars(
        _with_people(
            select(IntroRequest)
            .where(IntroRequest.asker_id == member.id)
            .order_by(IntroRequest.created_at.desc(), IntroRequest.id.desc())
            .limit(LIST_LENGTH)
        )
    ).all()
    received = db.session.scalars(
        _with_people(
            select(IntroRequest)
            .where(IntroRequest.connector_id == member.id)
            .order_by(IntroRequest.created_at.desc(), IntroRequest.id.desc())
            .limit(LIST_LENGTH)
        )
    ).all()
    return list(made), list(received)
