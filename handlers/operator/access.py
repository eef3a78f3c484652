"""Who may act on the desk: members of the operator chat (``getChatMember``, cached briefly) and ``ADMIN_IDS``.

The cache only ever makes access shorter: a remembered "yes" is dropped on any sign of leaving (a
``left_chat_member`` message, a ``chat_member`` update leaving, removed or restricted, the bot itself leaving the
group: :data:`membership`), and an answer of Telegram's that was on its way while such a sign arrived is not
believed. A restricted member is not an operator.

A button press proves nothing about who pressed it, so the desk's parent router (:mod:`handlers.operator`) is put
behind :func:`guard` once: it checks the presser on the server for every message and callback query a desk handler
matched, refuses strangers with a localized "not allowed" (a callback query) or silence (a message in some other
chat), and hands the handlers

- ``operator``: the :class:`Operator` acting (id, display name, ``actor`` string for the audit log),
- ``tr``: the operators' translator (``DEFAULT_LOCALE``, the language every desk text is in).

Messages are only taken from the operator chat itself; commands sent elsewhere fall through to the other routers.
Callback data of the desk uses prefixes starting with ``d`` (see each module's ``*Cb``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, TelegramObject

from handlers.settings import HandlerSettings
from handlers.tourist.messaging import answer_query
from handlers.ui import Languages

log = logging.getLogger(__name__)

MEMBER_STATUSES = frozenset({ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER})
CACHE_TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class Operator:
    id: int
    name: str

    @property
    def actor(self) -> str:
        """How the audit log names them."""
        return f"operator:{self.id}"


class OperatorDirectory:
    """Membership of the operator chat, asked of Telegram and remembered for ``ttl`` seconds per user.

    One per process (``dp["operators"]``). A failed ``getChatMember`` (network, the bot was removed) counts as
    "not a member" and is not cached, so access comes back as soon as Telegram answers again. :meth:`member_left`
    ends a member's access at once, even while their ``getChatMember`` is in flight.
    """

    def __init__(
        self, settings: HandlerSettings, ttl: float = CACHE_TTL_S, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.chat_id = settings.operator_chat_id
        self.admins = frozenset(settings.admin_ids)
        self.ttl = ttl
        self.monotonic = monotonic
        self._cache: dict[int, tuple[float, bool]] = {}
        self._leaves: dict[int, int] = {}  # per user: how many signs of leaving arrived (0 if none)

    async def is_operator(self, bot: Bot, user_id: int) -> bool:
        if user_id in self.admins:
            return True
        if self.chat_id is None:
            return False
        now = self.monotonic()
        cached = self._cache.get(user_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        leaves = self._leaves.get(user_id, 0)
        try:
            member = await bot.get_chat_member(self.chat_id, user_id)
        except TelegramAPIError as error:
            log.warning("getChatMember(%s, %s) failed: %s", self.chat_id, user_id, error)
            return False
        if self._leaves.get(user_id, 0) != leaves:
            return False  # they left while Telegram answered: the answer may be older than the leave
        allowed = member.status in MEMBER_STATUSES
        self._cache[user_id] = (now, allowed)
        return allowed

    def forget(self, user_id: int) -> None:
        """Ask Telegram next time (access is not extended: a new question may only find less)."""
        self._cache.pop(user_id, None)

    def member_left(self, user_id: int) -> None:
        """A sign that ``user_id`` left the chat, was removed or restricted: no access from now on until Telegram
        says otherwise (a "no" is remembered; an answer already on its way is not believed)."""
        self._leaves[user_id] = self._leaves.get(user_id, 0) + 1
        self._cache[user_id] = (self.monotonic(), False)

    def forget_everyone(self) -> None:
        """The bot's own membership changed (removed from the group, say): every remembered answer goes."""
        for user_id in list(self._cache):
            self.member_left(user_id)
        self._cache.clear()

    def cached_yes(self) -> frozenset[int]:
        """Who is remembered as an operator right now (for tests and diagnostics)."""
        now = self.monotonic()
        return frozenset(u for u, (at, allowed) in self._cache.items() if allowed and now - at < self.ttl)


# ---- signs of leaving: not behind the guard (the one who left is no operator any more) -------------------------------

membership = Router(name=f"{__name__}.membership")


def _in_operator_chat(event: Message | ChatMemberUpdated, settings: HandlerSettings) -> bool:
    return settings.operator_chat_id is not None and event.chat.id == settings.operator_chat_id


@membership.message(F.left_chat_member, _in_operator_chat)
async def on_member_left(message: Message, operators: OperatorDirectory) -> None:
    if message.left_chat_member is not None:
        operators.member_left(message.left_chat_member.id)


@membership.chat_member(_in_operator_chat)
async def on_member_changed(update: ChatMemberUpdated, operators: OperatorDirectory) -> None:
    """Any change of a member's status: a member that is one no more (left, removed, restricted) loses access at
    once; anyone else is asked of Telegram again next time."""
    if update.new_chat_member.status in MEMBER_STATUSES:
        operators.forget(update.new_chat_member.user.id)
    else:
        operators.member_left(update.new_chat_member.user.id)


@membership.my_chat_member(_in_operator_chat)
async def on_bot_membership_changed(update: ChatMemberUpdated, operators: OperatorDirectory) -> None:
    operators.forget_everyone()


# ---- the guard -------------------------------------------------------------------------------------------------------

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def in_operator_chat(message: Message, settings: HandlerSettings) -> bool:
    return settings.operator_chat_id is not None and message.chat.id == settings.operator_chat_id


async def _message_guard(handler: Handler, message: TelegramObject, data: dict[str, Any]) -> Any:
    if not isinstance(message, Message) or message.from_user is None or message.from_user.is_bot:
        return None
    directory: OperatorDirectory = data["operators"]
    if not await directory.is_operator(data["bot"], message.from_user.id):
        return None  # someone in the group who is not (any more) an operator: say nothing in a busy group
    _enrich(data, message.from_user.id, message.from_user.full_name)
    return await handler(message, data)


async def _query_guard(handler: Handler, query: TelegramObject, data: dict[str, Any]) -> Any:
    if not isinstance(query, CallbackQuery):
        return await handler(query, data)
    directory: OperatorDirectory = data["operators"]
    if not await directory.is_operator(data["bot"], query.from_user.id):
        tr = data["i18n"].translator(data["user"].language if data.get("user") else None)
        await answer_query(query, tr.gettext("Not allowed: only our operators can use this button."), alert=True)
        return None
    _enrich(data, query.from_user.id, query.from_user.full_name)
    return await handler(query, data)


def _enrich(data: dict[str, Any], user_id: int, name: str) -> None:
    i18n: Languages = data["i18n"]
    settings: HandlerSettings = data["settings"]
    data["operator"] = Operator(id=user_id, name=name)
    data["tr"] = i18n.translator(settings.default_locale)


def guard(router: Router) -> Router:
    """Put ``router`` and the routers it includes behind the operator check: their messages only from the operator
    chat, and every message or button press a handler's filters matched checked on the server (inner middlewares
    run after a handler's filters, so the tourist's own buttons never meet this check)."""
    router.message.filter(in_operator_chat)
    router.message.middleware(_message_guard)
    router.callback_query.middleware(_query_guard)
    return router
