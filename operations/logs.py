"""Log lines: plain text in development, one JSON object a line in production (LOG_FORMAT).

settings.LOGGING puts `RequestIdFilter` on the console handler, so every record carries the
request id (and the task id inside a worker), and with LOG_FORMAT=json formats it with
`JsonFormatter` (python-json-logger). A log call's `extra` fields become keys of its object:
the events the domain modules log name themselves with `extra={"event": "send.started", ...}`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from . import request_id


class RequestIdFilter(logging.Filter):
    """Adds `request_id` and `task_id` (None outside a request or a task) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request's lines (a 404, a 500) are written after the request's middleware returned,
        # but carry the request.
        request = getattr(record, "request", None)
        record.request_id = request_id.current() or getattr(request, "request_id", None)
        record.task_id = request_id.current_task() or None
        return True


class JsonFormatter(BaseJsonFormatter):
    """time, level, logger, message, request_id, task_id, then the call's extra fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["asctime", "levelname", "name", "message", "request_id", "task_id"])
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        # Django's loggers attach the request object (and its socket) to some records: never logged.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time"])
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # ISO 8601 in UTC, to the millisecond.
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
