"""Configuration read from the environment (DESIGN.md §4)."""

import os
from pathlib import Path

ENVIRONMENTS = ("production", "development", "testing")
# A production SECRET_KEY: at least this long, with some variety, and no placeholder's words in it.
SECRET_KEY_MIN_LENGTH = 32
SECRET_KEY_MIN_DISTINCT = 8
PLACEHOLDER_WORDS = (
    "changeme",
    "changethis",
    "replaceme",
    "placeholder",
    "insecure",
    "yoursecret",
    "example",
)


LOG_FORMATS = ("text", "json")


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app can run with."""


def database_uri(url: str) -> str:
    """Turn the plain `postgresql://` form into the psycopg 3 driver URL; SQLite passes through."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def secret_key_problem(secret: str) -> str | None:
    """Why `secret` must not sign a production app's sessions, or None when it may.

    Refused: shorter than 32 characters, fewer than 8 different characters, or a placeholder
    (letters and digits, lower-cased, containing "changeme", "insecure", "example" and the like,
    such as docker-compose.yml's former default `change-me-in-production`).
    """
    letters = "".join(c for c in secret.lower() if c.isalnum())
    if any(word in letters for word in PLACEHOLDER_WORDS):
        return "is a placeholder"
    if len(secret) < SECRET_KEY_MIN_LENGTH:
        return f"is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    if len(set(secret)) < SECRET_KEY_MIN_DISTINCT:
        return f"has fewer than {SECRET_KEY_MIN_DISTINCT} different characters"
    return None


def proxy_count(value: str | None) -> int:
    """TRUST_PROXY: how many proxies in front of the app set X-Forwarded-*; unset or empty is 0."""
    text = (value or "").strip()
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()):
        raise ConfigError(
            f"TRUST_PROXY must be the number of proxies in front of the app (0, 1, 2, ...), not {value!r}"
        )
    return int(text)


def log_format(value: str | None) -> str:
    """LOG_FORMAT: `text` (the default) or `json`, one object per line for a log collector."""
    chosen = (value or "").strip() or "text"
    if chosen not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {value!r}")
    return chosen


def metrics_token(environ) -> str | None:
    """METRICS_TOKEN, or None when unset or empty (then /metrics answers 404 to everyone).

    With several processes (gunicorn workers) the request counters are shared through files in
    PROMETHEUS_MULTIPROC_DIR, which must then exist: prometheus-client cannot create it.
    """
    token = (environ.get("METRICS_TOKEN") or "").strip() or None
    shared = environ.get("PROMETHEUS_MULTIPROC_DIR")
    if token and shared and not Path(shared).is_dir():
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR must be an existing directory, not {shared!r}")
    return token


def from_environment(instance_path: str, environ=os.environ) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = environ.get("REFERRAL_HUB_ENV", "production")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"REFERRAL_HUB_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    secret = environ.get("SECRET_KEY")
    if not secret:
        if env == "production":
            raise ConfigError("SECRET_KEY must be set in production (REFERRAL_HUB_ENV=production)")
        secret = f"insecure-{env}-key"
    elif env == "production" and (problem := secret_key_problem(secret)):
        raise ConfigError(
            f"SECRET_KEY {problem}: set it to a long random value, such as the output of "
            "python3 -c 'import secrets; print(secrets.token_hex())'"
        )
    default_db = "sqlite:///" + str(Path(instance_path) / "referral_hub.sqlite3")
    production = env == "production"
    return {
        "ENV_NAME": env,
        "TESTING": env == "testing",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_uri(environ.get("DATABASE_URL") or default_db),
        "BASE_URL": environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_TRANSPORT": environ.get("MAIL_TRANSPORT", "file"),
        "MAIL_FROM": environ.get("MAIL_FROM", "Referral Hub <no-reply@referral-hub.local>"),
        "MAIL_DIR": str(Path(instance_path) / "mail"),
        "SMTP_HOST": environ.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(environ.get("SMTP_PORT", "25")),
        "SMTP_USERNAME": environ.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": environ.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _flag(environ.get("SMTP_STARTTLS"), False),
        "SMTP_TIMEOUT": float(environ.get("SMTP_TIMEOUT", "15")),
        # In development the app delivers its own mail, so a newcomer needs no worker process.
        "OUTBOX_DELIVER_IN_APP": _flag(environ.get("OUTBOX_DELIVER_IN_APP"), env == "development"),
        # The outbox worker: how long a claim holds, the first retry's delay (it doubles), the attempt limit.
        "OUTBOX_LEASE_SECONDS": float(environ.get("OUTBOX_LEASE_SECONDS", "60")),
        "OUTBOX_RETRY_BASE_SECONDS": float(environ.get("OUTBOX_RETRY_BASE_SECONDS", "30")),
        "OUTBOX_MAX_ATTEMPTS": int(environ.get("OUTBOX_MAX_ATTEMPTS", "30")),
        # The worker's jobs: how long a run holds its (job, period) before another worker may take it
        # over, and how soon a failed run is tried again.
        "JOBS_LEASE_SECONDS": float(environ.get("JOBS_LEASE_SECONDS", "900")),
        "JOBS_RETRY_SECONDS": float(environ.get("JOBS_RETRY_SECONDS", "60")),
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_LOGIN_PER_ACCOUNT": environ.get("RATELIMIT_LOGIN_PER_ACCOUNT", "10 per 15 minutes"),
        "RATELIMIT_AUTH_PER_ADDRESS": environ.get("RATELIMIT_AUTH_PER_ADDRESS", "30 per minute"),
        "RATELIMIT_RESET_PER_ACCOUNT": environ.get("RATELIMIT_RESET_PER_ACCOUNT", "5 per hour"),
        "RATELIMIT_REGISTER_PER_ACCOUNT": environ.get("RATELIMIT_REGISTER_PER_ACCOUNT", "10 per hour"),
        "RATELIMIT_API_PER_TOKEN": environ.get("RATELIMIT_API_PER_TOKEN", "120 per minute"),
        "RATELIMIT_API_PER_ADDRESS": environ.get("RATELIMIT_API_PER_ADDRESS", "600 per minute"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_NAME": "referral_hub_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "WTF_CSRF_TIME_LIMIT": None,
        # No pre-ping: it costs a round trip on every request. A connection lost to a database
        # restart fails its request with a 503, and SQLAlchemy then discards every pooled
        # connection as old as it, so the next request connects afresh.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # Forwarded headers are trusted only from as many proxies as the deployment says are in front.
        "TRUST_PROXY": proxy_count(environ.get("TRUST_PROXY")),
        "METRICS_TOKEN": metrics_token(environ),
        "LOG_FORMAT": log_format(environ.get("LOG_FORMAT")),
    }
