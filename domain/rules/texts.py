"""Text a person typed, as the domain keeps it: a message trimmed and within its limit, or a reason on one line."""

from __future__ import annotations

from collections.abc import Callable

from domain.errors import DomainError


def bounded_text(raw: str, limit: int, refuse: Callable[..., DomainError]) -> str:
    """``raw`` trimmed (line breaks inside kept); ``refuse(reason="empty")`` when nothing is left,
    ``refuse(reason="too_long", limit=..., length=...)`` when it is longer than ``limit``."""
    text = raw.strip()
    if not text:
        raise refuse(reason="empty")
    if len(text) > limit:
        raise refuse(reason="too_long", limit=limit, length=len(text))
    return text


def one_line(text: str | None, limit: int) -> str | None:
    """``text`` on one line (every run of white space one space), cut to ``limit`` characters; None when empty."""
    return " ".join((text or "").split())[:limit] or None
