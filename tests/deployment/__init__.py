"""Deployment fault tests: the app in real processes (gunicorn, outbox workers, PostgreSQL servers)."""
