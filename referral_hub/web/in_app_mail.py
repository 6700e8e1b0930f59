"""Development's mail: the web process delivers the outbox from a thread of its own, so a newcomer
needs no worker process (`OUTBOX_DELIVER_IN_APP`, on by default in development)."""

import threading

from flask import Flask

from ..mail import services


def init_app(app: Flask) -> None:
    """Start the sender when the config asks for it, with the first request, so that CLI commands
    (`flask db upgrade`, `flask outbox drain`) never start one. Setting
    `app.extensions["outbox_sender"]` stops it."""
    if not app.config["OUTBOX_DELIVER_IN_APP"]:
        return
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
