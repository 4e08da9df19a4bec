"""JSON logs on stdout: one object a line, for journald and log shippers."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

LOGGER = "notes_api"
# Fields that callers may pass with `extra=`; everything else on a record is logging's own.
FIELDS = (
    "method",
    "path",
    "status",
    "duration_ms",
    "release_id",
    "error",
    # The worker's: `outcome` is the job's new status (done, failed, dead).
    "job_id",
    "kind",
    "attempt",
    "outcome",
    "backend",
    "queue",
    "worker",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
            "logger": record.name,
        }
        for field in FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, exc, tb = record.exc_info
            entry["error"] = f"{exc_type.__name__}: {exc}"
            entry["traceback"] = "".join(traceback.format_exception(exc_type, exc, tb))
        return json.dumps(entry, default=str)


def configure(level: str) -> logging.Logger:
    """Route the app's and uvicorn's error logs to stdout as JSON; idempotent."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    for name in (LOGGER, "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # The app writes its own request lines; uvicorn's would be a second, unstructured copy.
    logging.getLogger("uvicorn.access").disabled = True
    return logging.getLogger(LOGGER)
