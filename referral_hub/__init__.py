"""Referral Hub: the application factory."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from . import events, logs
from . import models as _models  # noqa: F401 - every table in the metadata, for Alembic
from .database import (
    close_session,
    configure_postgresql,
    configure_sqlite,
    include_in_autogenerate,
    render_migration_type,
)
from .extensions import csrf, db, limiter, login_manager, migrate
from .web import http

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = http.Application(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
        instance_relative_config=True,
    )
    app.config.from_mapping(config_module.from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_logging(app)
    register_extensions(app)
    register_domain_events()
    register_blueprints(app)
    register_commands(app)
    if proxies := app.config["TRUST_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app


def register_logging(app: Flask) -> None:
    logs.configure(app.config["LOG_FORMAT"])


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    # Before-request hooks run in the order they are registered: a request gets its id and log
    # timer before the other extensions' work.
    http.init_app(app)
    for extension in (csrf, login_manager, limiter):
        extension.init_app(app)
    # Teardowns run last-registered first: this closes the session before Flask-SQLAlchemy's would.
    app.teardown_appcontext(close_session)
    migrate.init_app(
        app,
        db,
        directory=str(PROJECT_ROOT / "migrations"),
        compare_type=True,
        render_as_batch=True,
        render_item=render_migration_type,
        include_object=include_in_autogenerate,
    )
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        elif db.engine.dialect.name == "postgresql":
            configure_postgresql(db.engine)


def register_domain_events() -> None:
    """Each package reacts to what a package below it announces (events.py)."""
    from .chapters import services as chapters
    from .ledger import posting
    from .relationships import connector_requests, strength
    from .reports import completions, counting, members, transactions

    events.member_renamed.connect(chapters.keep_name)
    events.member_renamed.connect(members.keep_name)
    events.member_joined.connect(posting.welcome)
    events.introduction_made.connect(connector_requests.fulfil_requests)
    events.introduction_completed.connect(strength.on_introduction_completed)
    events.outcome_reported.connect(strength.on_outcome_reported)
    counting.connect(events)
    completions.connect(events)
    transactions.connect(events)


def register_blueprints(app: Flask) -> None:
    from . import web

    web.init_app(app)


def register_commands(app: Flask) -> None:
    from . import cli

    cli.init_app(app)
