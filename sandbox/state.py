"""The state of the simulated Telegram and the bookkeeping every part shares.

:class:`WorldState` holds the users, the chats with their messages, the one bot and its update queue, the call log
and the faults asked for. Every change calls :meth:`WorldState.bump`, which moves :attr:`WorldState.version` and
wakes whoever waits (:meth:`wait_for`, ``getUpdates`` long polling, the web page's ``/events``), so nothing here
polls on a timer. The user side (:mod:`sandbox.users`), the Bot API methods (:mod:`sandbox.methods`) and the
dispatch (:mod:`sandbox.world`) work on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import re
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

from sandbox.calls import CallRecord, Fault
from sandbox.errors import NotFoundError, SandboxError, bad_request
from sandbox.limits import Limits
from sandbox.model import (
    ADMIN_STATUSES,
    MEMBER_STATUSES,
    SERVICE_KEYS,
    PendingCheckout,
    PendingQuery,
    SimBot,
    SimChat,
    SimMessage,
    SimUser,
    message_content,
)
from sandbox.spec import BotApiSpec, load_spec
from sandbox.text import COMMAND

DEFAULT_BOT_USERNAME = "tripdesk_sandbox_bot"
DEFAULT_BOT_NAME = "Tripdesk"
TOKEN_SHAPE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")

# Update types a bot gets when allowed_updates is empty or never given.
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
# Fields newer than the bundled spec (Bot API 10.1) that aiogram 3.31 (Bot API 10.3) requires in answers.
AIOGRAM_REQUIRES: dict[str, dict[str, Any]] = {"ChatMemberAdministrator": {"can_send_welcome_messages": False}}


class WorldState:
    def __init__(
        self,
        *,
        limits: Limits | None = None,
        bot_token: str | None = None,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = DEFAULT_BOT_NAME,
        privacy_mode: bool = True,
        require_start: bool = False,
        clock: Callable[[], float] = time.time,
        spec: BotApiSpec | None = None,
    ) -> None:
        self.spec = spec or load_spec()
        self.limits = limits if limits is not None else Limits()
        self.clock = clock
        self.privacy_mode = privacy_mode  # in groups where the bot is a plain member it sees commands and replies
        self.require_start = require_start  # 403 for a user who never wrote to the bot, as Telegram does
        self.bot = SimBot(username=bot_username, first_name=bot_first_name)
        if bot_token is not None:
            self.bind_token(bot_token)
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.calls: list[CallRecord] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.file_bytes: dict[str, bytes] = {}  # file_id -> the uploaded bytes (the page shows the pictures)
        self.instance = secrets.token_hex(8)  # tells the page a restarted emulator from the one it knew
        self.closing = False  # set by close(): whoever waits for a change stops waiting
        self.faults: list[Fault] = []
        self.version = 0
        self.alert_log: list[tuple[int, dict[str, Any]]] = []  # (version, callback answer the page shows)
        self.callback_queries: dict[str, PendingQuery] = {}  # callback query id -> the query
        self.checkouts: dict[str, PendingCheckout] = {}  # pre-checkout query id -> the waiting payment
        self.poller: Callable[[], bool] | None = None  # is the running getUpdates' caller still there?
        self.webhook_note = ""  # the "description" Telegram adds to setWebhook/deleteWebhook answers
        self._chat_versions: dict[int, int] = {}
        self._event: asyncio.Event | None = None
        self._ids = itertools.count(1)
        self._user_ids = itertools.count(100001)
        self._group_ids = itertools.count(1)
        self._update_ids = itertools.count(1)

    def next_id(self) -> int:
        """A number never handed out before in this world (query ids, file ids, payment charges)."""
        return next(self._ids)

    # -- change notification -------------------------------------------------------------------------------------

    def bump(self, *chat_ids: int) -> None:
        """Something changed (in ``chat_ids``): a new version, and everyone waiting wakes up."""
        self.version += 1
        for chat_id in chat_ids:
            self._chat_versions[chat_id] = self.version
        event, self._event = self._event, None
        if event is not None:
            event.set()

    def close(self) -> None:
        """The emulator is stopping: every wait for a change ends now (long polls answer at once)."""
        self.closing = True
        self.bump()

    async def changed(self, timeout: float | None) -> bool:
        """Wait for the next change; False when ``timeout`` passed first (at once once the world is closing)."""
        if self.closing:
            return False
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_for(self, predicate: Callable[[], Any], timeout: float | None = 5.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every change) and return its value."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = None if deadline is None else deadline - loop.time()
            if self.closing or (remaining is not None and remaining <= 0):
                raise TimeoutError(f"sandbox: condition not met within {timeout} s")
            await self.changed(remaining)

    async def wait_changed(self, since: int, timeout: float) -> int:
        """The version once it is past ``since`` (or as it is after ``timeout``)."""
        with contextlib.suppress(TimeoutError):
            await self.wait_for(lambda: self.version > since, timeout)
        return self.version

    def changed_chats(self, since: int) -> list[int]:
        return [chat_id for chat_id, version in self._chat_versions.items() if version > since]

    def alerts(self, since: int) -> list[dict[str, Any]]:
        return [alert for version, alert in self.alert_log if version > since]

    # -- the bot ---------------------------------------------------------------------------------------------------

    def bind_token(self, token: str) -> None:
        """The world serves the bot of this token from now on (its id is the digits before ':')."""
        match = TOKEN_SHAPE.match(token)
        if match is None:
            raise ValueError(f"not a bot token: {token!r}")
        self.bot.token = token
        self.bot.id = int(match.group(1))

    @property
    def bot_user(self) -> dict[str, Any]:
        return self.bot.api()

    # -- users and chats -----------------------------------------------------------------------------------------

    def add_user(
        self,
        first_name: str = "User",
        language_code: str | None = "en",
        username: str | None = None,
        user_id: int | None = None,
        *,
        last_name: str | None = None,
        phone_number: str | None = None,
    ) -> SimUser:
        if user_id is None:
            user_id = next(self._user_ids)
            while user_id in self.users or user_id == self.bot.id:
                user_id = next(self._user_ids)
        if user_id <= 0:
            raise SandboxError("a user id must be positive")
        if user_id in self.users:
            raise SandboxError(f"user {user_id} exists already")
        user = SimUser(user_id, first_name, last_name, username, language_code, phone_number)
        self.users[user_id] = user
        self.chats[user_id] = SimChat(user_id, "private", first_name=first_name, last_name=last_name, username=username)
        self.bump(user_id)
        return user

    def add_group(
        self,
        title: str,
        members: Iterable[int] = (),
        forum: bool = False,
        supergroup: bool = True,
        *,
        bot_status: str = "administrator",
        chat_id: int | None = None,
        username: str | None = None,
    ) -> SimChat:
        if forum and not supergroup:
            raise SandboxError("only a supergroup can be a forum")
        if bot_status not in MEMBER_STATUSES:
            raise SandboxError(f"unknown bot status {bot_status!r}")
        if chat_id is None:
            n = next(self._group_ids)
            chat_id = -(1001000000000 + n) if supergroup else -(4000000000 + n)
        if chat_id >= 0 or chat_id in self.chats:
            raise SandboxError(f"bad or taken group id {chat_id}")
        chat = SimChat(
            chat_id,
            "supergroup" if supergroup else "group",
            title=title,
            is_forum=forum,
            bot_status=bot_status,
            username=username,
        )
        for user_id in members:
            self.user(user_id)
            chat.members[user_id] = "member"
        self.chats[chat_id] = chat
        self.bump(chat_id)
        return chat

    def user(self, user_id: int) -> SimUser:
        user = self.users.get(user_id)
        if user is None:
            raise NotFoundError(f"no user {user_id}")
        return user

    def chat(self, chat_id: int) -> SimChat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise NotFoundError(f"no chat {chat_id}")
        return chat

    def message(self, chat_id: int, message_id: int) -> SimMessage:
        message = self.chat(chat_id).messages.get(message_id)
        if message is None:
            raise NotFoundError(f"no message {message_id} in chat {chat_id}")
        return message

    def state(self) -> dict[str, Any]:
        return {
            "bot": {
                **self.bot.get_me(self.privacy_mode),
                "webhook": self.bot.webhook.url if self.bot.webhook else None,
                "pending_updates": len(self.bot.updates),
            },
            "users": [u.state() for u in self.users.values()],
            "chats": [c.state() for c in self.chats.values()],
            "version": self.version,
            "instance": self.instance,
        }

    def transcript(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's messages oldest first, deleted ones included, each with its ``edits``."""
        chat = self.chat(chat_id)
        return [m.transcript_entry() for _id, m in sorted(chat.messages.items())]

    def member_api(self, user: dict[str, Any], status: str) -> dict[str, Any]:
        """A ChatMember of ``status`` as the Bot API shows it (an administrator with every right)."""
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "kicked":
            member["until_date"] = 0
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            for fld in self.spec.fields("type", "ChatMemberAdministrator").values():
                if fld.required and fld.types == ("Boolean",):
                    member[fld.name] = fld.name.startswith("can_") and fld.name != "can_be_edited"
            member["can_manage_topics"] = True
            member.update(AIOGRAM_REQUIRES["ChatMemberAdministrator"])
        return member

    # -- updates -------------------------------------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update for the bot; ``None`` when the bot's ``allowed_updates`` leave this kind out."""
        allowed = self.bot.allowed_updates or DEFAULT_UPDATE_TYPES
        if kind not in allowed:
            return None
        update = {"update_id": next(self._update_ids), kind: copy.deepcopy(payload)}
        self.bot.updates.append(update)
        return update

    def confirm_updates(self, below: int) -> None:
        """Forget every update with ``update_id < below`` (what ``getUpdates(offset=below)`` does)."""
        self.bot.updates = [u for u in self.bot.updates if u["update_id"] >= below]

    # -- messages ------------------------------------------------------------------------------------------------

    def store_message(
        self,
        chat: SimChat,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        thread_id: int | None = None,
        reply_to: SimMessage | None = None,
    ) -> SimMessage:
        """A new message in ``chat`` (the next message id, the date now) from ``sender``."""
        chat.last_message_id += 1
        data: dict[str, Any] = {"message_id": chat.last_message_id}
        if thread_id is not None:
            data["message_thread_id"] = thread_id
            data["is_topic_message"] = True
        data.update({"from": sender, "chat": chat.api(), "date": int(self.clock())})
        if reply_to is not None:
            data["reply_to_message"] = {
                k: copy.deepcopy(v) for k, v in reply_to.data.items() if k != "reply_to_message"
            }
        data.update(content)
        message = SimMessage(data, original=message_content(data))
        chat.messages[message.id] = message
        return message

    def thread_for(self, chat: SimChat, thread_id: int | None, reply_to: SimMessage | None) -> int | None:
        """The forum topic a new message goes to (a reply goes to its target's topic); 400 for a closed one."""
        if thread_id is None and reply_to is not None:
            thread_id = reply_to.data.get("message_thread_id")
        if thread_id is None or not chat.is_forum:
            return None
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")
        if topic.closed:
            raise bad_request("TOPIC_CLOSED")
        return thread_id

    def visible_to_bot(self, chat: SimChat, message: SimMessage) -> bool:
        """Whether the bot gets this group message as an update (privacy mode, membership)."""
        if not chat.is_group:
            return True
        if chat.bot_status in ("left", "kicked"):
            return False
        if not self.privacy_mode or chat.bot_status in ADMIN_STATUSES:
            return True
        data = message.data
        if any(key in data for key in SERVICE_KEYS):
            return True
        reply = data.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == self.bot.id:
            return True
        text = data.get("text", "")
        if f"@{self.bot.username}".lower() in text.lower():
            return True
        match = COMMAND.match(text)
        return bool(match and ("@" not in match.group(0)))
