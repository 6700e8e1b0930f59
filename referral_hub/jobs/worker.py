"""The worker: send the outbox's due mail, then run every job that is due, and again, until stopped."""

import logging
import time

from ..extensions import db
from ..mail.services import send_due
from .runs import run_due

log = logging.getLogger("referral_hub.jobs")


def run_jobs() -> int:
    """One look at the jobs; returns how many ran. A failure outside any job (a database blip) waits
    for the next look."""
    try:
        return len(run_due())
    except Exception:
        db.session.rollback()
        log.exception("looking for due jobs failed; trying again")
        return 0
    finally:
        db.session.remove()


def run_worker(*, poll_seconds: float = 1.0, should_stop=lambda: False, once: bool = False, sleep=time.sleep):
    """Cycle (outbox, then jobs) every `poll_seconds` until `should_stop()`; `once`: a single cycle.
    `sleep(seconds)` waits between cycles: pass an Event's `wait` to wake at once when stopping."""
    while not should_stop():
        send_due(should_stop=should_stop)
        if should_stop():
            break
        if run_jobs() and not should_stop():
            send_due(should_stop=should_stop)  # what the jobs queued leaves in the same cycle
        if once:
            break
        sleep(poll_seconds)
