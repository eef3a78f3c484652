"""The bot's answer to a pressed inline button (``answerCallbackQuery``): kept in
:attr:`~sandbox.state.WorldState.callback_answers`, and its text shown on the page as an alert or a toast."""

from __future__ import annotations

from typing import Any

from sandbox.errors import QUERY_TOO_OLD, ApiError
from sandbox.methods.common import Method
from sandbox.state import WorldState

ALERT_KEYS = ("chat_id", "user_id", "text", "show_alert", "message_id", "callback_query_id")


async def _answer_callback_query(world: WorldState, p: dict[str, Any]) -> Any:
    pending = world.callback_queries.get(p["callback_query_id"])
    if pending is None or pending.answered:
        raise ApiError(400, QUERY_TOO_OLD)
    pending.answered = True
    answer = {
        "callback_query_id": p["callback_query_id"],
        "chat_id": pending.chat_id,
        "message_id": pending.message_id,
        "user_id": pending.user_id,
        "data": pending.query["data"],
        "text": p.get("text"),
        "show_alert": bool(p.get("show_alert")),
        "url": p.get("url"),
        "cache_time": p.get("cache_time"),
        "at": world.clock(),
    }
    world.callback_answers.append(answer)
    world.bump(pending.chat_id)
    world.alert_log.append((world.version, {k: answer[k] for k in ALERT_KEYS}))
    return True


METHODS: dict[str, Method] = {"answerCallbackQuery": _answer_callback_query}
