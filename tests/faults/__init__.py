"""Mail fault tests with real processes: gunicorn, `flask outbox worker` and an SMTP server."""
