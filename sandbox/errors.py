"""What goes wrong: a Bot API error answer (:class:`ApiError`), a user action the sandbox refuses
(:class:`SandboxError`), and Telegram's descriptions word for word."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Telegram's descriptions, word for word.
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT_POLLING = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
BLOCKED = "Forbidden: bot was blocked by the user"


class ApiError(Exception):
    """A Bot API error answer: HTTP status = ``error_code``; 429 carries ``retry_after``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class SandboxError(ValueError):
    """A user action the sandbox refuses (unknown user, no such button...): the test API answers 400."""


class NotFoundError(SandboxError):
    """An unknown user, chat or message in a user action: the test API answers 404."""


def bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


_DESCRIPTION_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\.callback_data: \d+ bytes - must be"), lambda m: "BUTTON_DATA_INVALID"),
    (re.compile(r"can't parse entities \([^)]*\): (.*)"), lambda m: f"can't parse entities: {m.group(1)}"),
    (re.compile(r"^(?:sendMessage|editMessageText)\.text: 0 characters"), lambda m: "message text is empty"),
    (re.compile(r"^(?:sendMessage|editMessageText)\.text: \d+ characters"), lambda m: "message is too long"),
    (re.compile(r"^sendMessage: missing required field 'text'"), lambda m: "message text is empty"),
    (re.compile(r"^\w+\.caption: \d+ characters"), lambda m: "message caption is too long"),
    (re.compile(r"^answerCallbackQuery\.text: \d+ characters"), lambda m: "MESSAGE_TOO_LONG"),
    (re.compile(r"^\w+: missing required field 'chat_id'"), lambda m: "chat_id is empty"),
]


def telegram_description(method: str, problems: list[str]) -> str:
    """The validator's findings as Telegram words them (after "Bad Request: ")."""
    for pattern, word in _DESCRIPTION_RULES:
        for problem in problems:
            match = pattern.search(problem)
            if match:
                return word(match)
    return "; ".join(problems)
