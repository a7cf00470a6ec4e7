"""How every process logs (web, `microcred worker`, the other commands): one handler on the root logger, in
the text format the tool always had or as one JSON object per line, and on every record the ids of the work in
hand (core/request_ids.py), so that one id finds a launch, its pages and its deliveries."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any

# python-json-logger: the maintained JSON formatter for the standard library's logging (fields, renames,
# exceptions), rather than a formatter of our own.
from pythonjsonlogger.json import JsonFormatter

from lti_microcred.core import request_ids
from lti_microcred.core.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HANDLER_NAME = "microcred"  # how configure_logging finds its own handler again
JSON_FIELDS = ["asctime", "levelname", "name", "message", "request_id", "launch_id"]
JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger", "exc_info": "exception"}


def iso_utc(seconds: float) -> str:
    """ISO 8601 in UTC to the millisecond (`2026-12-08T09:30:00.123Z`): the `time` of JSON lines."""
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RequestIdFilter(logging.Filter):
    """Puts the bound request and launch ids (None outside any) on each record the handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_ids.current()
        record.launch_id = request_ids.current_launch()
        return True


class _UtcJsonFormatter(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return iso_utc(record.created)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes: pytest and click's test runner swap it, and a
    handler that kept the first one would write to a closed file."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return None


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return _UtcJsonFormatter(JSON_FIELDS, rename_fields=JSON_NAMES)
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings) -> logging.Handler:
    """Install (or update) the one handler of ours on the root logger, at settings.log_level.

    Safe to call again (the factory runs per app, a command per run): it never adds a second handler, and it
    leaves other handlers alone (pytest's caplog among them) and never raises a level someone lowered."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == HANDLER_NAME), None)
    if handler is None:
        handler = StderrHandler()
        handler.set_name(HANDLER_NAME)
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    level: int = logging.getLevelName(settings.log_level.upper())  # a name config.validate accepted
    handler.setLevel(level)
    handler.setFormatter(formatter(settings.log_format))
    logging.getLogger("lti_microcred").setLevel(level)
    if root.getEffectiveLevel() > level:
        root.setLevel(level)
    return handler
