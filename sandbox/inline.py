"""Inline mode on the user side (issue 15): a person types ``@bot words`` in a chat (or presses a button with
``switch_inline_query_chosen_chat`` and picks a chat), Telegram sends the bot an ``inline_query`` update, the bot
answers with ``answerInlineQuery`` (:mod:`sandbox.methods.inline`), the person sees the results and may pick one,
which is then sent into that chat "via @bot" (and, if the bot asks for them, as a ``chosen_inline_result``).

Telegram only sends inline queries to bots whose inline mode is on (@BotFather, ``/setinline``); the emulator
assumes it is.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import NotFoundError, SandboxError
from sandbox.methods.common import render
from sandbox.model import PRESENT_STATUSES
from sandbox.state import WorldState

QUERY_LIMIT = 256  # characters of an inline query, as Telegram cuts them


@dataclass
class PendingInline:
    """An inline query and, once the bot answered, its answer (the ``answerInlineQuery`` parameters)."""

    query: dict[str, Any]
    user_id: int
    chat_id: int | None  # where the person types it (None: a chat the emulator does not model)
    answer: dict[str, Any] | None = None
    chosen: list[str] = field(default_factory=list)  # result ids picked


class InlineActions(WorldState):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inline_queries: dict[str, PendingInline] = {}  # inline query id -> the query (and its answer)

    def _chat_type(self, user_id: int, chat_id: int | None) -> str:
        if chat_id is None:
            return "sender"
        chat = self.chat(chat_id)
        if chat.type == "private":
            if chat.id != user_id:
                raise SandboxError(f"user {user_id} cannot write in the private chat of {chat.id}")
            return "sender"
        if chat.members.get(user_id) not in PRESENT_STATUSES:
            raise SandboxError(f"user {user_id} is not a member of chat {chat.id}")
        return chat.type

    async def user_inline_query(self, user_id: int, query: str, chat_id: int | None = None) -> str:
        """The user types ``@bot query`` in ``chat_id`` (their chat with the bot, a group they are in, or None: a
        chat with someone else); returns the inline query id. Telegram cuts the query at 256 characters."""
        user = self.user(user_id)
        if not isinstance(query, str):
            raise SandboxError("query must be a string")
        chat_type = self._chat_type(user.id, chat_id)
        query_id = f"{secrets.randbits(60)}{self.next_id()}"
        payload = {
            "id": query_id,
            "from": user.api(),
            "query": query[:QUERY_LIMIT],
            "offset": "",
            "chat_type": chat_type,
        }
        self.inline_queries[query_id] = PendingInline(payload, user.id, chat_id)
        if self.push_update("inline_query", payload) is None:
            self.inline_queries.pop(query_id)
            raise SandboxError("the bot does not receive inline_query updates (allowed_updates)")
        self.bump(*([chat_id] if chat_id is not None else []))
        return query_id

    def inline_answer(self, query_id: str) -> dict[str, Any] | None:
        pending = self.inline_queries.get(query_id)
        if pending is None:
            raise NotFoundError(f"no inline query {query_id}")
        return copy.deepcopy(pending.answer)

    async def user_chooses_result(self, query_id: str, result_id: str, chat_id: int) -> dict[str, Any]:
        """The user picks result ``result_id`` of the bot's answer to ``query_id`` and sends it into ``chat_id``:
        the message "via @bot" there (text results only); returns the message."""
        pending = self.inline_queries.get(query_id)
        if pending is None or pending.answer is None:
            raise NotFoundError(f"no answered inline query {query_id}")
        result = next((r for r in pending.answer["results"] if r.get("id") == result_id), None)
        if result is None:
            raise NotFoundError(f"no result {result_id!r} in the answer to inline query {query_id}")
        content = result.get("input_message_content") or {}
        if "message_text" not in content:
            raise SandboxError("the emulator sends text results only")
        self._chat_type(pending.user_id, chat_id)
        chat = self.chat(chat_id)
        data: dict[str, Any] = {**render(content, "message_text", "entities"), "via_bot": self.bot_user}
        data["text"] = data.pop("message_text")
        if result.get("reply_markup"):
            data["reply_markup"] = copy.deepcopy(result["reply_markup"])
        message = self.store_message(chat, self.user(pending.user_id).api(), data)
        pending.chosen.append(result_id)
        chosen = {"result_id": result_id, "from": self.user(pending.user_id).api(), "query": pending.query["query"]}
        self.push_update("chosen_inline_result", chosen)
        if self.visible_to_bot(chat, message):
            self.push_update("message", message.data)
        self.bump(chat_id)
        return copy.deepcopy(message.data)
