"""Log output: text lines, or one JSON object per line for a log collector (LOG_FORMAT=json)."""

import json
import logging
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# The fields a request's log line carries besides its message (web/http.py passes them as `extra`).
REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "queries")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: timestamp (UTC), level, logger, message, and the request's
    fields when the record has them; a traceback becomes an `exception` string, not more lines."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({name: getattr(record, name) for name in REQUEST_FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(log_format: str) -> None:
    """Log to stderr in `log_format` (`text` or `json`), unless logging is set up already (by a test
    runner, or by whoever embeds the app)."""
    if not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
        logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("referral_hub").setLevel(logging.INFO)
