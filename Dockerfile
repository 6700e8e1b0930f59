# syntax=docker/dockerfile:1
# Referral Hub's image: the app from this source tree, its dependencies from requirements.lock.
# One image runs every role (docker-compose.yml): `gunicorn` (the default), `flask --app referral_hub
# db upgrade`, `flask --app referral_hub worker`.

# Build stage: a virtual environment holding exactly the pinned, hash-checked dependencies.
FROM python:3.11.12-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# Every dependency is a wheel (psycopg-binary included): nothing is compiled, so no compiler is needed.
RUN /opt/venv/bin/pip install --require-hashes --only-binary=:all: --no-deps -r /tmp/requirements.lock

# Final stage: the venv and the app's files, run by a user without privileges.
FROM python:3.11.12-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REFERRAL_HUB_ENV=production \
    WEB_CONCURRENCY=3 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/referral-hub-metrics
RUN groupadd --system --gid 10001 referral-hub \
    && useradd --system --no-log-init --uid 10001 --gid referral-hub --home-dir /app referral-hub
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY wsgi.py ./
COPY referral_hub ./referral_hub
COPY templates ./templates
COPY migrations ./migrations
# instance/ holds the default SQLite file and file-transport mail; the metrics directory holds each
# gunicorn worker's request counters (docker-compose.yml mounts a fresh tmpfs there for each start).
RUN mkdir -p /app/instance "$PROMETHEUS_MULTIPROC_DIR" \
    && chown referral-hub:referral-hub /app/instance "$PROMETHEUS_MULTIPROC_DIR"
USER 10001:10001
EXPOSE 8000
# The slim image has no curl: Python asks /healthz, which answers 503 when the database is down.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# gunicorn takes its worker count from WEB_CONCURRENCY; the app logs every request itself.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "wsgi:app"]
