"""Log lines: readable text by default, one JSON object a line with ``LOG_FORMAT=json``; both carry the update, the
chat and the order a line is about when it is known.

Standard library only (``logging``, ``json``, ``contextvars``): nothing to install, nothing that can fail to log.

- :func:`update_context` (around the handling of one update) sets the update id and chat in context variables;
  :class:`ContextFilter`, on the handler :func:`configure_logging` installs, copies them onto every record made
  inside it. asyncio copies the context into each task it creates, so the updates handled side by side each keep
  their own.
- The order: a record's own ``extra={"order": "ABC-DEF"}`` wins; otherwise :func:`order_context` (for code under
  ``bot/`` that knows the order it works on). ``extra={"chat_id": ...}`` and ``extra={"order_id": ...}`` (the
  outbox knows an order's id, not its code) are kept the same way.
- Text: ``%(asctime)s %(levelname)s %(name)s: %(message)s`` as always, plus `` [update 7 chat 42 order ABC-DEF]``
  with only the parts known, and nothing when none is. JSON: ``time`` (ISO 8601, UTC), ``level``, ``logger``,
  ``message``, ``exc`` (the traceback) when there is one, and ``update_id``, ``chat_id``, ``order``, ``order_id``
  when known.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CHATTY = ("alembic", "apscheduler")  # a line per migration step, two per job run
FIELDS = ("update_id", "chat_id", "order", "order_id")  # what a record may carry about its subject
_WORDS = {"update_id": "update", "chat_id": "chat", "order": "order", "order_id": "order_id"}  # in a text line

_UPDATE: ContextVar[int | None] = ContextVar("tripdesk_log_update", default=None)
_CHAT: ContextVar[int | None] = ContextVar("tripdesk_log_chat", default=None)
_ORDER: ContextVar[str | None] = ContextVar("tripdesk_log_order", default=None)


@contextlib.contextmanager
def update_context(update_id: int, chat_id: int | None) -> Iterator[None]:
    """Every record made inside carries this update and chat (tasks started inside inherit them)."""
    tokens = (_UPDATE.set(update_id), _CHAT.set(chat_id))
    try:
        yield
    finally:
        _CHAT.reset(tokens[1])
        _UPDATE.reset(tokens[0])


@contextlib.contextmanager
def order_context(code: str | None) -> Iterator[None]:
    """Every record made inside carries this order code (unless the record names another in its ``extra``)."""
    token = _ORDER.set(code)
    try:
        yield
    finally:
        _ORDER.reset(token)


class ContextFilter(logging.Filter):
    """Gives every record the four subject fields: its own (``extra``) first, else the context's, else None."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = {"update_id": _UPDATE.get(), "chat_id": _CHAT.get(), "order": _ORDER.get(), "order_id": None}
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, context[name])
        return True


def _known(record: logging.LogRecord) -> dict[str, Any]:
    return {name: value for name in FIELDS if (value := getattr(record, name, None)) is not None}


class TextFormatter(logging.Formatter):
    """Today's readable line, with `` [update N chat C order X]`` when any of them is known."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802  (logging's name)
        line = super().formatMessage(record)
        known = _known(record)
        if not known:
            return line
        return line + " [" + " ".join(f"{_WORDS[name]} {value}" for name, value in known.items()) + "]"


class JsonFormatter(logging.Formatter):
    """One JSON object a line (no line breaks inside: a traceback is one string field)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        entry.update(_known(record))
        return json.dumps(entry, default=str)


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when the record comes (as ``logging.lastResort`` does), so a replaced
    stream (a test's capture, a redirect) is never written to after it was closed."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            stream = sys.stderr
            stream.write(line + "\n")
            stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def configure_logging(level: str, fmt: str) -> logging.Handler:
    """One handler on the root logger (replacing the one an earlier call installed) writing ``fmt`` ("text" or
    "json") to stderr at ``level``; alembic and apscheduler are quieted to warnings. Returns the handler."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be text or json, not {fmt!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level)
    quiet = max(logging.WARNING, logging.getLevelName(level))
    for chatty in CHATTY:
        logging.getLogger(chatty).setLevel(quiet)
    return handler
