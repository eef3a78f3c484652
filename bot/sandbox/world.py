"""The simulated Telegram: users, chats, messages with their edit history, one bot, its update queue.

:class:`World` is the whole state of the sandbox and the Bot API semantics on top of it. :meth:`World.handle` runs
one Bot API call exactly as the HTTP server received it (parameters already decoded and typed):

    token -> 401, method -> 404, faults on demand, validation against ``bot-api.json`` (:mod:`bot.sandbox.spec`)
    -> 400 with Telegram's wording, chat access -> 400/403, flood limits (:mod:`bot.sandbox.limits`) -> 429,
    then the method itself; every call ends up in :attr:`World.calls`.

The user side (what a script, a test or the web page does) is the ``user_*`` methods: each creates the message or
query a real client would and queues the update Telegram would deliver. Every change bumps :attr:`World.version`
and wakes whoever waits (:meth:`wait_for`, ``getUpdates`` long polling, the web page's ``/events``), so nothing here
polls on a timer.

One world serves one bot: the first well-formed token that calls binds it (or pass ``bot_token``); a different
token is answered 401 like a revoked one.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import mimetypes
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bot.sandbox.limits import Limits, counts_as_message
from bot.sandbox.spec import BotApiSpec, load_spec, visible_text

log = logging.getLogger(__name__)

DEFAULT_BOT_USERNAME = "tripdesk_sandbox_bot"
DEFAULT_BOT_NAME = "Tripdesk"
TOKEN_SHAPE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")

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
FORUM_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
PRE_CHECKOUT_TIMEOUT = 10.0
# Fields newer than the bundled spec (Bot API 10.1) that aiogram 3.31 (Bot API 10.3) requires in answers.
AIOGRAM_REQUIRES: dict[str, dict[str, Any]] = {"ChatMemberAdministrator": {"can_send_welcome_messages": False}}
_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")
_CONTENT_KEYS = ("text", "entities", "caption", "caption_entities", "photo", "document", "contact", "location")
_EDITABLE_KEYS = ("text", "entities", "caption", "caption_entities", "reply_markup")
_SERVICE_KEYS = (
    "new_chat_members",
    "left_chat_member",
    "successful_payment",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "pinned_message",
    "invoice",
)


@dataclass
class Upload:
    """A file part of a multipart request: what the Bot API calls an InputFile."""

    filename: str
    data: bytes
    sandbox_upload: ClassVar[bool] = True  # spec.py accepts it where the spec says InputFile


def _is_upload(value: Any) -> bool:
    """An uploaded file: the emulator's :class:`Upload`, or an aiogram InputFile passed in-process."""
    return not isinstance(value, str | int | float | list | dict) and value is not None and hasattr(value, "filename")


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


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# ---- the things in the world -------------------------------------------------------------------------------------


@dataclass
class SimUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    phone_number: str | None = None
    is_bot: bool = False
    blocked: bool = False  # the user blocked the bot
    started: bool = False  # the user wrote to the bot at least once

    def api(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                user[key] = getattr(self, key)
        return user

    def state(self) -> dict[str, Any]:
        return {**self.api(), "phone_number": self.phone_number, "blocked": self.blocked, "started": self.started}


@dataclass
class SimTopic:
    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def api(self) -> dict[str, Any]:
        topic: dict[str, Any] = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass
class SimMessage:
    data: dict[str, Any]  # the Bot API Message as it is now
    original: dict[str, Any]  # its content when it was sent
    edits: list[dict[str, Any]] = field(default_factory=list)  # the content after each edit, oldest first
    deleted: bool = False
    reply_keyboard: dict[str, Any] | None = None  # a ReplyKeyboardMarkup / Remove / ForceReply it came with
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. an invoice's payload, never shown

    @property
    def id(self) -> int:
        return self.data["message_id"]

    @property
    def sender_id(self) -> int | None:
        return self.data.get("from", {}).get("id")


@dataclass
class SimChat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    is_forum: bool = False
    members: dict[int, str] = field(default_factory=dict)  # user id -> creator|administrator|member|left|kicked
    bot_status: str = "member"
    messages: dict[int, SimMessage] = field(default_factory=dict)
    topics: dict[int, SimTopic] = field(default_factory=dict)
    reply_keyboard: dict[str, Any] | None = None  # the reply keyboard the bot shows now
    last_message_id: int = 0

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def api(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if getattr(self, key):
                chat[key] = getattr(self, key)
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    def state(self) -> dict[str, Any]:
        return {
            **self.api(),
            "members": [{"user_id": uid, "status": status} for uid, status in self.members.items()],
            "bot_status": self.bot_status,
            "topics": [{**t.api(), "closed": t.closed} for t in self.topics.values() if not t.deleted],
            "reply_keyboard": self.reply_keyboard,
            "last_message_id": self.last_message_id,
        }


@dataclass
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class SimBot:
    username: str
    first_name: str
    token: str | None = None
    id: int | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)  # not confirmed yet, oldest first
    allowed_updates: frozenset[str] | None = None  # None = Telegram's default set
    webhook: Webhook | None = None
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def api(self) -> dict[str, Any]:
        return {"id": self.id or 0, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def get_me(self, privacy_mode: bool) -> dict[str, Any]:
        return {
            **self.api(),
            "can_join_groups": True,
            "can_read_all_group_messages": not privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


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


@dataclass
class _PendingCheckout:
    query: dict[str, Any]
    future: asyncio.Future[tuple[bool, str | None]]


def _json_safe(value: Any) -> Any:
    if _is_upload(value):
        return {"input_file": value.filename, "size": len(getattr(value, "data", b"") or b"")}
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


Method = Callable[["World", dict[str, Any]], Awaitable[Any]]
_METHODS: dict[str, Method] = {}


def _method(name: str) -> Callable[[Method], Method]:
    def register(fn: Method) -> Method:
        _METHODS[name] = fn
        return fn

    return register


def implemented_methods() -> list[str]:
    return sorted(_METHODS)


# ---- the world ---------------------------------------------------------------------------------------------------


class World:
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
            self._bind(bot_token)
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.calls: list[CallRecord] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.version = 0
        self._chat_versions: dict[int, int] = {}
        self._alerts: list[tuple[int, dict[str, Any]]] = []
        self._event: asyncio.Event | None = None
        self._ids = itertools.count(1)
        self._user_ids = itertools.count(100001)
        self._group_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._queries: dict[str, dict[str, Any]] = {}  # callback query id -> {"query", "answered"}
        self._checkouts: dict[str, _PendingCheckout] = {}
        self._poller: Callable[[], bool] | None = None  # is the running getUpdates' caller still there?
        self._webhook_note = ""  # the "description" Telegram adds to setWebhook/deleteWebhook answers

    # -- change notification -------------------------------------------------------------------------------------

    def _bump(self, *chat_ids: int) -> None:
        self.version += 1
        for chat_id in chat_ids:
            self._chat_versions[chat_id] = self.version
        event, self._event = self._event, None
        if event is not None:
            event.set()

    async def _changed(self, timeout: float | None) -> bool:
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
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"sandbox: condition not met within {timeout} s")
            await self._changed(remaining)

    async def wait_changed(self, since: int, timeout: float) -> int:
        """The version once it is past ``since`` (or as it is after ``timeout``)."""
        try:
            await self.wait_for(lambda: self.version > since, timeout)
        except TimeoutError:
            pass
        return self.version

    def changed_chats(self, since: int) -> list[int]:
        return [chat_id for chat_id, version in self._chat_versions.items() if version > since]

    def alerts(self, since: int) -> list[dict[str, Any]]:
        return [alert for version, alert in self._alerts if version > since]

    # -- the bot ---------------------------------------------------------------------------------------------------

    def _bind(self, token: str) -> None:
        match = TOKEN_SHAPE.match(token)
        if match is None:
            raise ValueError(f"not a bot token: {token!r}")
        self.bot.token = token
        self.bot.id = int(match.group(1))

    def _authorize(self, token: str) -> None:
        if TOKEN_SHAPE.match(token) is None:
            raise ApiError(401, "Unauthorized")
        if self.bot.token is None:
            self._bind(token)
            self._bump()
        elif token != self.bot.token:
            raise ApiError(401, "Unauthorized")

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
        self._bump(user_id)
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
        if bot_status not in ("creator", "administrator", "member", "left", "kicked"):
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
        self._bump(chat_id)
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
        }

    def transcript(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's messages oldest first, deleted ones included, each with its ``edits``."""
        chat = self.chat(chat_id)
        return [_transcript_entry(m) for _id, m in sorted(chat.messages.items())]

    # -- updates -------------------------------------------------------------------------------------------------

    def _push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
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

    def _store(
        self,
        chat: SimChat,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        thread_id: int | None = None,
        reply_to: SimMessage | None = None,
    ) -> SimMessage:
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
        message = SimMessage(data, original=_content(data))
        chat.messages[message.id] = message
        return message

    def _thread_for(self, chat: SimChat, thread_id: int | None, reply_to: SimMessage | None) -> int | None:
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

    def _visible_to_bot(self, chat: SimChat, message: SimMessage) -> bool:
        """Whether the bot gets this group message as an update (privacy mode, membership)."""
        if not chat.is_group:
            return True
        if chat.bot_status in ("left", "kicked"):
            return False
        if not self.privacy_mode or chat.bot_status in ("creator", "administrator"):
            return True
        data = message.data
        if any(key in data for key in _SERVICE_KEYS):
            return True
        reply = data.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == self.bot.id:
            return True
        text = data.get("text", "")
        if f"@{self.bot.username}".lower() in text.lower():
            return True
        match = _COMMAND.match(text)
        return bool(match and ("@" not in match.group(0)))

    # -- the user side ---------------------------------------------------------------------------------------------

    def _user_chat(self, user: SimUser, chat_id: int | None) -> SimChat:
        chat = self.chat(user.id if chat_id is None else chat_id)
        if chat.type == "private":
            if chat.id != user.id:
                raise SandboxError(f"user {user.id} cannot write in the private chat of {chat.id}")
            if user.blocked:
                self.block_bot(user.id, False)  # writing to a blocked bot means restarting it first
            user.started = True
        elif chat.members.get(user.id) not in ("creator", "administrator", "member"):
            raise SandboxError(f"user {user.id} is not a member of chat {chat.id}")
        return chat

    def _user_message(
        self, user: SimUser, chat: SimChat, content: dict[str, Any], reply_to: int | None, thread_id: int | None
    ) -> dict[str, Any]:
        target = None
        if reply_to is not None:
            target = chat.messages.get(reply_to)
            if target is None or target.deleted:
                raise NotFoundError(f"no message {reply_to} in chat {chat.id} to reply to")
        try:
            thread = self._thread_for(chat, thread_id, target)
        except ApiError as error:
            raise SandboxError(error.description.removeprefix("Bad Request: ")) from None
        message = self._store(chat, user.api(), content, thread_id=thread, reply_to=target)
        if self._visible_to_bot(chat, message):
            self._push_update("message", message.data)
        self._bump(chat.id)
        return copy.deepcopy(message.data)

    async def user_sends(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        reply_to: int | None = None,
        message_thread_id: int | None = None,
    ) -> dict[str, Any]:
        """The user writes ``text`` (commands get ``bot_command`` entities); ``chat_id`` None = their chat with
        the bot. Returns the message as the bot receives it."""
        user = self.user(user_id)
        if not isinstance(text, str) or not text.strip():
            raise SandboxError("a message needs some text")
        if len(text) > 4096:
            raise SandboxError("a message is at most 4096 characters")
        chat = self._user_chat(user, chat_id)
        content: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        return self._user_message(user, chat, content, reply_to, message_thread_id)

    async def user_shares_contact(
        self, user_id: int, phone: str | None = None, chat_id: int | None = None, reply_to: int | None = None
    ) -> dict[str, Any]:
        """The user shares their own contact (a request_contact button); the phone defaults to a valid one."""
        user = self.user(user_id)
        chat = self._user_chat(user, chat_id)
        phone = phone or user.phone_number or f"+3725{user.id % 10_000_000:07d}"
        user.phone_number = phone
        contact: dict[str, Any] = {"phone_number": phone, "first_name": user.first_name, "user_id": user.id}
        if user.last_name:
            contact["last_name"] = user.last_name
        return self._user_message(user, chat, {"contact": contact}, reply_to, None)

    async def user_presses(self, user_id: int, chat_id: int, message_id: int, callback_data: str) -> str:
        """The user presses the inline button carrying ``callback_data``; returns the callback query id."""
        user = self.user(user_id)
        chat = self.chat(chat_id)
        if chat.type == "private" and chat.id != user.id:
            raise SandboxError(f"user {user.id} cannot see the private chat of {chat.id}")
        if chat.is_group and chat.members.get(user.id) not in ("creator", "administrator", "member"):
            raise SandboxError(f"user {user.id} is not a member of chat {chat.id}")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise NotFoundError(f"no message {message_id} in chat {chat_id}")
        buttons = [b for row in (message.data.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
        if not any(b.get("callback_data") == callback_data for b in buttons):
            raise SandboxError(f"message {message_id} has no button with callback_data {callback_data!r}")
        query_id = f"{secrets.randbits(60)}{next(self._ids)}"
        query = {
            "id": query_id,
            "from": user.api(),
            "message": copy.deepcopy(message.data),
            "chat_instance": str(abs(chat.id) * 7919 % 10**12),
            "data": callback_data,
        }
        self._queries[query_id] = {
            "query": query,
            "answered": False,
            "chat_id": chat.id,
            "message_id": message_id,
            "user_id": user.id,
        }
        self._push_update("callback_query", query)
        self._bump(chat.id)
        return query_id

    async def user_pays(
        self, user_id: int, chat_id: int, invoice_message_id: int, timeout: float = PRE_CHECKOUT_TIMEOUT
    ) -> dict[str, Any]:
        """The user pays an invoice: a ``pre_checkout_query``, then (if the bot says ok) ``successful_payment``.

        Returns ``{"ok": True, "message": <the successful_payment message>}`` or ``{"ok": False, "error": ...}``
        (the bot's error_message, or why there was no answer).
        """
        user = self.user(user_id)
        chat = self._user_chat(user, chat_id)
        invoice_message = chat.messages.get(invoice_message_id)
        if invoice_message is None or invoice_message.deleted:
            raise NotFoundError(f"no message {invoice_message_id} in chat {chat_id}")
        invoice = invoice_message.data.get("invoice")
        if invoice is None:
            raise SandboxError(f"message {invoice_message_id} is not an invoice")
        if invoice_message.meta.get("paid"):
            raise SandboxError(f"invoice {invoice_message_id} is paid already")
        query_id = f"{secrets.randbits(60)}{next(self._ids)}"
        query = {
            "id": query_id,
            "from": user.api(),
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": invoice_message.meta["payload"],
        }
        future: asyncio.Future[tuple[bool, str | None]] = asyncio.get_running_loop().create_future()
        self._checkouts[query_id] = _PendingCheckout(query, future)
        if self._push_update("pre_checkout_query", query) is None:
            self._checkouts.pop(query_id)
            return {"ok": False, "error": "the bot does not receive pre_checkout_query updates (allowed_updates)"}
        self._bump(chat.id)
        try:
            ok, error = await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return {"ok": False, "error": f"the bot did not answer the pre-checkout query within {timeout:g} s"}
        finally:
            self._checkouts.pop(query_id, None)
        if not ok:
            return {"ok": False, "error": error or "payment refused"}
        n = next(self._ids)
        payment = {
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": invoice_message.meta["payload"],
            "telegram_payment_charge_id": f"sandbox_tg_{n}_{secrets.token_hex(6)}",
            "provider_payment_charge_id": f"sandbox_provider_{n}_{secrets.token_hex(6)}",
        }
        invoice_message.meta["paid"] = True
        message = self._user_message(user, chat, {"successful_payment": payment}, None, None)
        return {"ok": True, "message": message}

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot: ``my_chat_member``; sends to them then get 403."""
        user = self.user(user_id)
        if user.blocked == blocked:
            return
        user.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        chat = self.chat(user_id)
        self._push_update(
            "my_chat_member",
            {
                "chat": chat.api(),
                "from": user.api(),
                "date": int(self.clock()),
                "old_chat_member": self._member_api(self.bot_user, old),
                "new_chat_member": self._member_api(self.bot_user, new),
            },
        )
        self._bump(user_id)

    def set_member(self, user_id: int, chat_id: int, member: bool = True) -> None:
        """A user joins or leaves a group (``user_id`` = the bot's id adds or removes the bot)."""
        self.set_status(user_id, chat_id, "member" if member else "left")

    def set_status(self, user_id: int, chat_id: int, status: str) -> None:
        """Any membership status: creator, administrator, member, left, kicked."""
        if status not in ("creator", "administrator", "member", "left", "kicked"):
            raise SandboxError(f"unknown status {status!r}")
        chat = self.chat(chat_id)
        if not chat.is_group:
            raise SandboxError(f"chat {chat_id} is not a group")
        present = ("creator", "administrator", "member")
        now = int(self.clock())
        if self.bot.id is not None and user_id == self.bot.id:
            old = chat.bot_status
            if old == status:
                return
            chat.bot_status = status
            actor = next((self.users[u].api() for u, s in chat.members.items() if s in present), self.bot_user)
            self._push_update(
                "my_chat_member",
                {
                    "chat": chat.api(),
                    "from": actor,
                    "date": now,
                    "old_chat_member": self._member_api(self.bot_user, old),
                    "new_chat_member": self._member_api(self.bot_user, status),
                },
            )
            if status in present and old not in present:
                message = self._store(chat, actor, {"new_chat_members": [self.bot_user]})
                self._push_update("message", message.data)
            self._bump(chat_id)
            return
        user = self.user(user_id)
        old = chat.members.get(user_id, "left")
        if old == status:
            return
        chat.members[user_id] = status
        if chat.bot_status in present:
            self._push_update(
                "chat_member",
                {
                    "chat": chat.api(),
                    "from": user.api(),
                    "date": now,
                    "old_chat_member": self._member_api(user.api(), old),
                    "new_chat_member": self._member_api(user.api(), status),
                },
            )
            content = None
            if status in present and old not in present:
                content = {"new_chat_members": [user.api()]}
            elif status not in present and old in present:
                content = {"left_chat_member": user.api()}
            if content is not None:
                message = self._store(chat, user.api(), content)
                if self._visible_to_bot(chat, message):
                    self._push_update("message", message.data)
        self._bump(chat_id)

    def _member_api(self, user: dict[str, Any], status: str) -> dict[str, Any]:
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

    # -- faults ----------------------------------------------------------------------------------------------------

    def fail_next(
        self, count: int = 1, kind: str = "5xx", retry_after: int = 1, methods: Iterable[str] | None = None
    ) -> None:
        """The next ``count`` calls of ``methods`` (default: the message-sending ones; ``["*"]`` = all) fail:
        ``5xx`` -> 500, ``429`` -> Too Many Requests with ``retry_after``, ``timeout`` -> no answer at all."""
        if kind not in ("5xx", "timeout", "429"):
            raise SandboxError(f"unknown fault kind {kind!r} (5xx, timeout, 429)")
        if count < 1 or retry_after < 1:
            raise SandboxError("count and retry_after must be at least 1")
        chosen = None if methods is None else frozenset(m.lower() for m in methods)
        self.faults.append(Fault(kind, count, retry_after, chosen))
        self._bump()

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # -- the Bot API ---------------------------------------------------------------------------------------------

    async def handle(
        self, token: str, method: str, params: dict[str, Any], alive: Callable[[], bool] | None = None
    ) -> Reply:
        """Answer one Bot API call as Telegram would; ``alive`` tells whether the caller is still connected."""
        started = time.monotonic()
        name = _resolve_method(method)
        fault_kind: str | None = None
        reply: Reply
        try:
            self._authorize(token)
            if name is None:
                raise ApiError(404, "Not Found")
            fault = self._take_fault(name)
            if fault is not None:
                fault_kind = fault.kind
                if fault.kind == "timeout":
                    reply = Reply(0, None, hold=True)
                    return reply
                if fault.kind == "429":
                    raise ApiError(429, f"Too Many Requests: retry after {fault.retry_after}", fault.retry_after)
                raise ApiError(500, "Internal Server Error")
            problems = self.spec.validate_request(name, params)
            if problems:
                raise bad_request(telegram_description(name, problems))
            impl = _METHODS[name]
            if name == "getUpdates":
                result = await self._get_updates(params, alive)
            else:
                result = await impl(self, params)
            body: dict[str, Any] = {"ok": True, "result": result}
            if name in ("setWebhook", "deleteWebhook"):
                body["description"] = self._webhook_note
            reply = Reply(200, body)
        except ApiError as error:
            reply = Reply(error.code, error.body())
        except asyncio.CancelledError:
            reply = Reply(0, None)
            fault_kind = "client went away"
            raise
        except Exception:
            log.exception("sandbox: %s failed", method)
            reply = Reply(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
        finally:
            self._record(name or method, params, reply, started, fault_kind)  # type: ignore[possibly-undefined]
        return reply

    def _record(self, method: str, params: dict[str, Any], reply: Reply, started: float, fault: str | None) -> None:
        record = CallRecord(
            len(self.calls),
            method,
            _json_safe(params),
            reply.status,
            copy.deepcopy(reply.body),
            self.clock(),
            time.monotonic() - started,
            fault,
        )
        self.calls.append(record)
        self._bump()

    def calls_of(self, method: str) -> list[CallRecord]:
        return [c for c in self.calls if c.method == method]

    # -- helpers for the methods -----------------------------------------------------------------------------------

    def _target(self, chat_id: Any) -> SimChat:
        chat: SimChat | None = None
        if isinstance(chat_id, int):
            chat = self.chats.get(chat_id)
        elif isinstance(chat_id, str):
            wanted = chat_id.removeprefix("@").lower()
            chat = next((c for c in self.chats.values() if c.is_group and (c.username or "").lower() == wanted), None)
        if chat is None:
            raise bad_request("chat not found")
        if chat.is_group and chat.bot_status in ("left", "kicked"):
            kind = "supergroup" if chat.type == "supergroup" else "group"
            if chat.bot_status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return chat

    def _writable(self, chat_id: Any) -> SimChat:
        chat = self._target(chat_id)
        if chat.type == "private":
            user = self.users[chat.id]
            if user.blocked:
                raise ApiError(403, BLOCKED)
            if self.require_start and not user.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _sending(self, method: str, params: dict[str, Any]) -> tuple[SimChat, int | None, SimMessage | None]:
        """Checks every message-sending method shares: chat, access, reply target, topic, flood limits."""
        chat = self._writable(params["chat_id"])
        reply_to = None
        reply = params.get("reply_parameters")
        if reply:
            source = chat
            if reply.get("chat_id") is not None:
                source = self._target(reply["chat_id"])
            found = source.messages.get(reply["message_id"])
            if found is not None and not found.deleted:
                reply_to = found
            elif not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
        thread = self._thread_for(chat, params.get("message_thread_id"), reply_to)
        if counts_as_message(method):
            wait = self.limits.check(chat.id, chat.is_group)
            if wait is not None:
                raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        return chat, thread, reply_to

    def _bot_sends(
        self, method: str, params: dict[str, Any], content: dict[str, Any] | Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """Store the bot's message after every check passed (``content`` may be built only then)."""
        chat, thread, reply_to = self._sending(method, params)
        if callable(content):
            content = content()
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            if markup["inline_keyboard"]:
                content["reply_markup"] = copy.deepcopy(markup)
        message = self._store(chat, self.bot_user, content, thread_id=thread, reply_to=reply_to)
        if isinstance(markup, dict) and "inline_keyboard" not in markup:
            message.reply_keyboard = copy.deepcopy(markup)
            if "keyboard" in markup:
                chat.reply_keyboard = copy.deepcopy(markup)
            elif markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        self._bump(chat.id)
        return copy.deepcopy(message.data)

    def _render(self, params: dict[str, Any], key: str, entities_key: str) -> dict[str, Any]:
        """``text``/``caption`` as Telegram shows it: markup parsed into entities, surrounding blanks trimmed."""
        raw = params.get(key)
        if not isinstance(raw, str):
            return {}
        explicit = params.get(entities_key)
        mode = None if explicit else params.get("parse_mode")
        parsed = visible_text(raw, mode if isinstance(mode, str) else None)
        text, entities = _trim(parsed.text, explicit or parsed.entities)
        out: dict[str, Any] = {key: text}
        if entities:
            out[entities_key] = entities
        return out

    def _editable(self, params: dict[str, Any]) -> tuple[SimChat, SimMessage]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        if params.get("chat_id") is None or params.get("message_id") is None:
            raise bad_request("message to edit not found")
        chat = self._writable(params["chat_id"])
        message = chat.messages.get(params["message_id"])
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if message.sender_id != self.bot.id:
            raise bad_request("message can't be edited")
        return chat, message

    def _apply_edit(self, chat: SimChat, message: SimMessage, changed: dict[str, Any], markup: Any) -> dict[str, Any]:
        new = copy.deepcopy(message.data)
        for key, value in changed.items():
            if value is None:
                new.pop(key, None)
            else:
                new[key] = value
        new.pop("reply_markup", None)
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            new["reply_markup"] = copy.deepcopy(markup)
        if all(new.get(k) == message.data.get(k) for k in _EDITABLE_KEYS):
            raise ApiError(400, NOT_MODIFIED)
        new["edit_date"] = int(self.clock())
        message.data = new
        message.edits.append({"date": new["edit_date"], **_content(new)})
        self._bump(chat.id)
        return copy.deepcopy(new)

    def _file(self, value: Any, kind: str) -> dict[str, Any]:
        """An uploaded file, a known file_id or a URL -> the stored file (400 for an unknown file_id)."""
        if _is_upload(value):
            n = next(self._ids)
            data = getattr(value, "data", b"") or b""
            name = value.filename or f"{kind}{n}"
            stored = {
                "file_id": f"sandbox-{kind}-{n}-{secrets.token_hex(4)}",
                "file_unique_id": f"u{kind}{n}",
                "file_name": name,
                "file_size": len(data),
                "kind": kind,
            }
        elif isinstance(value, str) and value in self.files:
            return self.files[value]
        elif isinstance(value, str) and re.match(r"^https?://", value):
            n = next(self._ids)
            name = value.rstrip("/").rsplit("/", 1)[-1] or f"{kind}{n}"
            stored = {
                "file_id": f"sandbox-{kind}-{n}-{secrets.token_hex(4)}",
                "file_unique_id": f"u{kind}{n}",
                "file_name": name,
                "file_size": 0,
                "kind": kind,
                "url": value,
            }
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        self.files[stored["file_id"]] = stored
        return stored

    # -- getUpdates ----------------------------------------------------------------------------------------------

    async def _get_updates(self, params: dict[str, Any], alive: Callable[[], bool] | None) -> list[dict[str, Any]]:
        bot = self.bot
        if bot.webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK)
        if self._poller is not None and self._poller():
            raise ApiError(409, CONFLICT_POLLING)
        me = alive if alive is not None else (lambda: True)
        self._poller = me
        try:
            if params.get("allowed_updates") is not None:
                bot.allowed_updates = frozenset(params["allowed_updates"]) or None
            offset = params.get("offset")
            if offset is not None and offset > 0:
                self.confirm_updates(offset)
            elif offset is not None and offset < 0:
                bot.updates = bot.updates[offset:]
            limit = params.get("limit") or 100
            timeout = min(max(params.get("timeout") or 0, 0), 50)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                if bot.webhook is not None:
                    raise ApiError(409, CONFLICT_WEBHOOK)
                if bot.updates:
                    return copy.deepcopy(bot.updates[:limit])
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await self._changed(remaining)
        finally:
            if self._poller is me:
                self._poller = None

    # -- webhook (delivery itself is the server's) ---------------------------------------------------------------

    def webhook_failed(self, message: str) -> None:
        if self.bot.webhook is not None:
            self.bot.webhook.last_error_date = int(self.clock())
            self.bot.webhook.last_error_message = message
            self._bump()


# ---- the methods -------------------------------------------------------------------------------------------------


@_method("getMe")
async def _get_me(world: World, p: dict[str, Any]) -> Any:
    return world.bot.get_me(world.privacy_mode)


@_method("getUpdates")
async def _get_updates(world: World, p: dict[str, Any]) -> Any:  # handled in World.handle (needs the caller)
    return await world._get_updates(p, None)


@_method("setWebhook")
async def _set_webhook(world: World, p: dict[str, Any]) -> Any:
    url = p["url"].strip()
    if not url:
        return await _delete_webhook(world, p)
    if not re.match(r"^https?://[^\s/]+", url):
        raise bad_request("bad webhook: invalid webhook URL specified")
    secret = p.get("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise bad_request("secret token contains unallowed characters")
    if p.get("drop_pending_updates"):
        world.bot.updates.clear()
    if p.get("allowed_updates") is not None:
        world.bot.allowed_updates = frozenset(p["allowed_updates"]) or None
    old = world.bot.webhook
    world._webhook_note = "Webhook is already set" if old and old.url == url else "Webhook was set"
    world.bot.webhook = Webhook(url, secret, p.get("max_connections") or 40, p.get("ip_address"))
    world._bump()
    return True


@_method("deleteWebhook")
async def _delete_webhook(world: World, p: dict[str, Any]) -> Any:
    world._webhook_note = "Webhook was deleted" if world.bot.webhook else "Webhook is already deleted"
    world.bot.webhook = None
    if p.get("drop_pending_updates"):
        world.bot.updates.clear()
    world._bump()
    return True


@_method("getWebhookInfo")
async def _get_webhook_info(world: World, p: dict[str, Any]) -> Any:
    hook = world.bot.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(world.bot.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        if world.bot.allowed_updates:
            info["allowed_updates"] = sorted(world.bot.allowed_updates)
    return info


@_method("sendMessage")
async def _send_message(world: World, p: dict[str, Any]) -> Any:
    return world._bot_sends("sendMessage", p, world._render(p, "text", "entities"))


@_method("sendPhoto")
async def _send_photo(world: World, p: dict[str, Any]) -> Any:
    def content() -> dict[str, Any]:
        stored = world._file(p["photo"], "photo")
        photo = [
            {
                "file_id": stored["file_id"],
                "file_unique_id": stored["file_unique_id"],
                "width": 1280,
                "height": 960,
                "file_size": stored["file_size"],
            }
        ]
        return {"photo": photo, **world._render(p, "caption", "caption_entities")}

    return world._bot_sends("sendPhoto", p, content)


@_method("sendDocument")
async def _send_document(world: World, p: dict[str, Any]) -> Any:
    def content() -> dict[str, Any]:
        stored = world._file(p["document"], "document")
        document = {
            "file_id": stored["file_id"],
            "file_unique_id": stored["file_unique_id"],
            "file_name": stored["file_name"],
            "file_size": stored["file_size"],
        }
        mime = mimetypes.guess_type(stored["file_name"])[0]
        if mime:
            document["mime_type"] = mime
        return {"document": document, **world._render(p, "caption", "caption_entities")}

    return world._bot_sends("sendDocument", p, content)


@_method("sendContact")
async def _send_contact(world: World, p: dict[str, Any]) -> Any:
    contact = {k: p[k] for k in ("phone_number", "first_name", "last_name", "vcard") if p.get(k)}
    return world._bot_sends("sendContact", p, {"contact": contact})


@_method("sendChatAction")
async def _send_chat_action(world: World, p: dict[str, Any]) -> Any:
    world._writable(p["chat_id"])
    return True


@_method("sendInvoice")
async def _send_invoice(world: World, p: dict[str, Any]) -> Any:
    if p["currency"] != "XTR" and not p.get("provider_token"):
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    if not re.fullmatch(r"[A-Z]{3}", p["currency"]):
        raise bad_request("CURRENCY_INVALID")
    total = sum(price["amount"] for price in p["prices"])
    if total <= 0:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    invoice = {
        "title": p["title"],
        "description": p["description"],
        "start_parameter": p.get("start_parameter", ""),
        "currency": p["currency"],
        "total_amount": total,
    }
    sent = world._bot_sends("sendInvoice", p, {"invoice": invoice})
    chat = world.chats[sent["chat"]["id"]]
    chat.messages[sent["message_id"]].meta.update(payload=p["payload"], prices=copy.deepcopy(p["prices"]))
    return sent


@_method("answerPreCheckoutQuery")
async def _answer_pre_checkout(world: World, p: dict[str, Any]) -> Any:
    pending = world._checkouts.get(p["pre_checkout_query_id"])
    if pending is None or pending.future.done():
        raise ApiError(400, QUERY_TOO_OLD)
    if not p["ok"] and not p.get("error_message"):
        raise bad_request("error_message is required when ok is false")
    pending.future.set_result((bool(p["ok"]), p.get("error_message")))
    world._bump()
    return True


@_method("editMessageText")
async def _edit_message_text(world: World, p: dict[str, Any]) -> Any:
    chat, message = world._editable(p)
    if "text" not in message.data:
        raise bad_request("there is no text in the message to edit")
    rendered = world._render(p, "text", "entities")
    rendered.setdefault("entities", None)
    return world._apply_edit(chat, message, rendered, p.get("reply_markup"))


@_method("editMessageCaption")
async def _edit_message_caption(world: World, p: dict[str, Any]) -> Any:
    chat, message = world._editable(p)
    if not any(k in message.data for k in ("photo", "document")):
        raise bad_request("there is no caption in the message to edit")
    rendered = world._render(p, "caption", "caption_entities") or {"caption": None}
    rendered.setdefault("caption_entities", None)
    return world._apply_edit(chat, message, rendered, p.get("reply_markup"))


@_method("editMessageReplyMarkup")
async def _edit_message_reply_markup(world: World, p: dict[str, Any]) -> Any:
    chat, message = world._editable(p)
    return world._apply_edit(chat, message, {}, p.get("reply_markup"))


def _delete(world: World, chat: SimChat, message_id: int) -> None:
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    own = message.sender_id == world.bot.id
    if chat.is_group and not own and chat.bot_status not in ("creator", "administrator"):
        raise bad_request("message can't be deleted")
    if "new_chat_members" in message.data or "forum_topic_created" in message.data:
        raise bad_request("message can't be deleted")
    message.deleted = True
    world._bump(chat.id)


@_method("deleteMessage")
async def _delete_message(world: World, p: dict[str, Any]) -> Any:
    _delete(world, world._target(p["chat_id"]), p["message_id"])
    return True


@_method("deleteMessages")
async def _delete_messages(world: World, p: dict[str, Any]) -> Any:
    chat = world._target(p["chat_id"])
    deleted = 0
    for message_id in p["message_ids"]:
        try:
            _delete(world, chat, message_id)
            deleted += 1
        except ApiError:
            continue
    if not deleted:
        raise bad_request("message to delete not found")
    return True


@_method("answerCallbackQuery")
async def _answer_callback_query(world: World, p: dict[str, Any]) -> Any:
    entry = world._queries.get(p["callback_query_id"])
    if entry is None or entry["answered"]:
        raise ApiError(400, QUERY_TOO_OLD)
    entry["answered"] = True
    answer = {
        "callback_query_id": p["callback_query_id"],
        "chat_id": entry["chat_id"],
        "message_id": entry["message_id"],
        "user_id": entry["user_id"],
        "data": entry["query"]["data"],
        "text": p.get("text"),
        "show_alert": bool(p.get("show_alert")),
        "url": p.get("url"),
        "cache_time": p.get("cache_time"),
        "at": world.clock(),
    }
    world.callback_answers.append(answer)
    world._bump(entry["chat_id"])
    world._alerts.append(
        (
            world.version,
            {k: answer[k] for k in ("chat_id", "user_id", "text", "show_alert", "message_id", "callback_query_id")},
        )
    )
    return True


def _copyable(world: World, p: dict[str, Any], what: str) -> SimMessage:
    source_chat = world._target(p["from_chat_id"])
    source = source_chat.messages.get(p["message_id"])
    if source is None or source.deleted:
        raise bad_request(f"message to {what} not found")
    if any(key in source.data for key in _SERVICE_KEYS):
        raise bad_request(f"message can't be {'copied' if what == 'copy' else 'forwarded'}")
    return source


@_method("copyMessage")
async def _copy_message(world: World, p: dict[str, Any]) -> Any:
    source = _copyable(world, p, "copy")
    content = {k: copy.deepcopy(v) for k, v in source.data.items() if k in _CONTENT_KEYS}
    if "caption" in p and "text" not in content:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(world._render(p, "caption", "caption_entities"))
    sent = world._bot_sends("copyMessage", p, content)
    return {"message_id": sent["message_id"]}


@_method("forwardMessage")
async def _forward_message(world: World, p: dict[str, Any]) -> Any:
    source = _copyable(world, p, "forward")
    content = {k: copy.deepcopy(v) for k, v in source.data.items() if k in _CONTENT_KEYS}
    sender = source.data.get("from") or world.bot_user
    content["forward_origin"] = {"type": "user", "date": source.data["date"], "sender_user": sender}
    return world._bot_sends("forwardMessage", {k: v for k, v in p.items() if k != "reply_markup"}, content)


def _commands_key(p: dict[str, Any]) -> tuple[str, str]:
    scope = p.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), p.get("language_code") or ""


@_method("setMyCommands")
async def _set_my_commands(world: World, p: dict[str, Any]) -> Any:
    world.bot.commands[_commands_key(p)] = copy.deepcopy(p["commands"])
    world._bump()
    return True


@_method("getMyCommands")
async def _get_my_commands(world: World, p: dict[str, Any]) -> Any:
    return copy.deepcopy(world.bot.commands.get(_commands_key(p), []))


@_method("deleteMyCommands")
async def _delete_my_commands(world: World, p: dict[str, Any]) -> Any:
    world.bot.commands.pop(_commands_key(p), None)
    world._bump()
    return True


@_method("getChat")
async def _get_chat(world: World, p: dict[str, Any]) -> Any:
    chat = world._target(p["chat_id"])
    gifts = {f.name: False for f in world.spec.fields("type", "AcceptedGiftTypes").values() if f.required}
    return {**chat.api(), "accent_color_id": abs(chat.id) % 7, "max_reaction_count": 11, "accepted_gift_types": gifts}


@_method("getChatMember")
async def _get_chat_member(world: World, p: dict[str, Any]) -> Any:
    chat = world._target(p["chat_id"])
    user_id = p["user_id"]
    if user_id == world.bot.id:
        return world._member_api(world.bot_user, chat.bot_status if chat.is_group else "member")
    user = world.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    if chat.type == "private":
        if chat.id != user_id:
            raise bad_request("user not found")
        return world._member_api(user.api(), "member")
    return world._member_api(user.api(), chat.members.get(user_id, "left"))


@_method("getChatAdministrators")
async def _get_chat_administrators(world: World, p: dict[str, Any]) -> Any:
    chat = world._target(p["chat_id"])
    if not chat.is_group:
        return []
    admins = [
        world._member_api(world.users[u].api(), s) for u, s in chat.members.items() if s in ("creator", "administrator")
    ]
    if chat.bot_status == "administrator":
        admins.append(world._member_api(world.bot_user, "administrator"))
    return admins


@_method("getChatMemberCount")
async def _get_chat_member_count(world: World, p: dict[str, Any]) -> Any:
    chat = world._target(p["chat_id"])
    if not chat.is_group:
        return 2
    present = ("creator", "administrator", "member")
    return sum(1 for s in chat.members.values() if s in present) + (chat.bot_status in present)


@_method("leaveChat")
async def _leave_chat(world: World, p: dict[str, Any]) -> Any:
    chat = world._target(p["chat_id"])
    if not chat.is_group:
        raise bad_request("chat member status can't be changed in private chats")
    chat.bot_status = "left"
    world._bump(chat.id)
    return True


# -- forum topics --


def _forum(world: World, p: dict[str, Any]) -> SimChat:
    chat = world._target(p["chat_id"])
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if chat.bot_status not in ("creator", "administrator"):
        raise bad_request("not enough rights to manage topics")
    return chat


def _topic(chat: SimChat, thread_id: int) -> SimTopic:
    topic = chat.topics.get(thread_id)
    if topic is None or topic.deleted:
        raise bad_request("TOPIC_ID_INVALID")
    return topic


def _topic_service(world: World, chat: SimChat, thread_id: int, content: dict[str, Any]) -> None:
    world._store(chat, world.bot_user, content, thread_id=thread_id)
    world._bump(chat.id)


@_method("createForumTopic")
async def _create_forum_topic(world: World, p: dict[str, Any]) -> Any:
    chat = _forum(world, p)
    color = p.get("icon_color") or FORUM_ICON_COLORS[0]
    if color not in FORUM_ICON_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")  # not a colour Telegram offers
    thread_id = chat.last_message_id + 1
    topic = SimTopic(thread_id, p["name"], color, p.get("icon_custom_emoji_id"))
    chat.topics[thread_id] = topic
    created = {"name": topic.name, "icon_color": topic.icon_color}
    if topic.icon_custom_emoji_id:
        created["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
    _topic_service(world, chat, thread_id, {"forum_topic_created": created})
    return topic.api()


@_method("editForumTopic")
async def _edit_forum_topic(world: World, p: dict[str, Any]) -> Any:
    chat = _forum(world, p)
    topic = _topic(chat, p["message_thread_id"])
    edited: dict[str, Any] = {}
    if p.get("name") is not None and p["name"] != topic.name:
        topic.name = edited["name"] = p["name"]
    if p.get("icon_custom_emoji_id") is not None and p["icon_custom_emoji_id"] != (topic.icon_custom_emoji_id or ""):
        topic.icon_custom_emoji_id = p["icon_custom_emoji_id"] or None
        edited["icon_custom_emoji_id"] = p["icon_custom_emoji_id"]
    if not edited:
        raise bad_request("TOPIC_NOT_MODIFIED")
    _topic_service(world, chat, topic.message_thread_id, {"forum_topic_edited": edited})
    return True


@_method("closeForumTopic")
async def _close_forum_topic(world: World, p: dict[str, Any]) -> Any:
    chat = _forum(world, p)
    topic = _topic(chat, p["message_thread_id"])
    if topic.closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    _topic_service(world, chat, topic.message_thread_id, {"forum_topic_closed": {}})
    topic.closed = True
    return True


@_method("reopenForumTopic")
async def _reopen_forum_topic(world: World, p: dict[str, Any]) -> Any:
    chat = _forum(world, p)
    topic = _topic(chat, p["message_thread_id"])
    if not topic.closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = False
    _topic_service(world, chat, topic.message_thread_id, {"forum_topic_reopened": {}})
    return True


@_method("deleteForumTopic")
async def _delete_forum_topic(world: World, p: dict[str, Any]) -> Any:
    chat = _forum(world, p)
    topic = _topic(chat, p["message_thread_id"])
    topic.deleted = True
    for message in chat.messages.values():
        if message.data.get("message_thread_id") == topic.message_thread_id:
            message.deleted = True
    world._bump(chat.id)
    return True


# ---- helpers -----------------------------------------------------------------------------------------------------


_LOWER_METHODS: dict[str, str] = {}


def _resolve_method(name: str) -> str | None:
    """Telegram reads method names case-insensitively; ``None`` for a method the sandbox does not implement."""
    if not _LOWER_METHODS:
        _LOWER_METHODS.update({m.lower(): m for m in _METHODS})
    return _LOWER_METHODS.get(name.lower())


def command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities for every /command in ``text`` (UTF-16 offsets), as Telegram's clients mark them."""
    return [
        {"type": "bot_command", "offset": _utf16_len(text[: m.start()]), "length": _utf16_len(m.group(0))}
        for m in _COMMAND.finditer(text)
    ]


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram strips leading and trailing blanks from texts; entities move and shrink with them."""
    stripped = text.strip()
    if stripped == text:
        return text, list(entities)
    lead = _utf16_len(text[: len(text) - len(text.lstrip())])
    size = _utf16_len(stripped)
    out = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            out.append({**entity, "offset": start, "length": end - start})
    return stripped, out


def _content(data: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(data[k]) for k in (*_CONTENT_KEYS, "reply_markup") if k in data}


def _transcript_entry(message: SimMessage) -> dict[str, Any]:
    data = message.data
    sender = data.get("from", {})
    entry: dict[str, Any] = {
        "message_id": data["message_id"],
        "chat_id": data["chat"]["id"],
        "from": {k: sender[k] for k in ("id", "first_name", "is_bot", "username") if k in sender},
        "date": data["date"],
    }
    for key, value in data.items():
        if key not in ("message_id", "chat", "from", "date", "reply_to_message"):
            entry[key] = copy.deepcopy(value)
    if "reply_to_message" in data:
        entry["reply_to_message_id"] = data["reply_to_message"]["message_id"]
    if message.reply_keyboard is not None:
        entry["reply_keyboard"] = copy.deepcopy(message.reply_keyboard)
    entry["original"] = {"date": data["date"], **copy.deepcopy(message.original)}
    entry["edits"] = copy.deepcopy(message.edits)
    entry["deleted"] = message.deleted
    return entry


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
