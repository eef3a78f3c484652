"""``answerInlineQuery`` (issue 15): the bot's results for a pending inline query (:mod:`sandbox.inline`), checked
as Telegram checks them beyond the spec's types: each once, at most 50, unique result ids of 1-64 bytes."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.errors import QUERY_TOO_OLD, ApiError, bad_request
from sandbox.methods.common import Method
from sandbox.state import WorldState

MAX_RESULTS = 50


async def _answer_inline_query(world: WorldState, p: dict[str, Any]) -> Any:
    pending = getattr(world, "inline_queries", {}).get(p["inline_query_id"])
    if pending is None or pending.answer is not None:
        raise ApiError(400, QUERY_TOO_OLD)
    results = p["results"]
    if len(results) > MAX_RESULTS:
        raise bad_request("RESULTS_TOO_MUCH")
    ids = [r.get("id") for r in results]
    if any(not isinstance(i, str) or not 1 <= len(i.encode()) <= 64 for i in ids):
        raise bad_request("RESULT_ID_INVALID")
    if len(set(ids)) != len(ids):
        raise bad_request("RESULT_ID_DUPLICATE")
    pending.answer = {**copy.deepcopy(p), "at": world.clock()}
    world.bump(*([pending.chat_id] if pending.chat_id is not None else []))
    return True


METHODS: dict[str, Method] = {"answerInlineQuery": _answer_inline_query}
