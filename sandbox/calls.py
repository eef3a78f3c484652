"""The record of Bot API calls and the faults a test asks for: :class:`CallRecord` (one call as it was answered),
:class:`Fault` (the next calls fail on purpose) and :class:`Reply` (what the HTTP layer answers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.limits import counts_as_message
from sandbox.model import is_upload

FAULT_KINDS = ("5xx", "timeout", "429")


@dataclass
class CallRecord:
    """One Bot API call: the method, its parameters as decoded, the HTTP status and the JSON answer."""

    n: int
    method: str
    params: dict[str, Any]
    status: int  # 0 = no answer (held by a timeout fault, or the client went away)
    response: dict[str, Any] | None
    at: float
    duration: float
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "method": self.method,
            "params": self.params,
            "status": self.status,
            "response": self.response,
            "at": self.at,
            "duration": round(self.duration, 4),
            "fault": self.fault,
        }


@dataclass
class Fault:
    kind: str  # 5xx | timeout | 429
    count: int
    retry_after: int = 1
    methods: frozenset[str] | None = None  # None = the message-sending methods; "*" = every method

    def matches(self, method: str) -> bool:
        if self.methods is None:
            return counts_as_message(method)
        return "*" in self.methods or method.lower() in self.methods


@dataclass
class Reply:
    """What the HTTP layer answers: ``hold`` = keep the request open (a timeout fault)."""

    status: int
    body: dict[str, Any] | None
    hold: bool = False

    @property
    def retry_after(self) -> int | None:
        return ((self.body or {}).get("parameters") or {}).get("retry_after")


def json_safe(value: Any) -> Any:
    """Parameters as the call log keeps them: an uploaded file becomes its name and size."""
    if is_upload(value):
        return {"input_file": value.filename, "size": len(getattr(value, "data", b"") or b"")}
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
