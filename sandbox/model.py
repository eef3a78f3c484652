"""The things in the simulated Telegram: users, chats with their messages and forum topics, the bot, an uploaded
file. Plain data with their Bot API shapes (``api()``) and their test-API shapes (``state()``)."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

# Membership statuses; the first three are "in the chat".
PRESENT_STATUSES = ("creator", "administrator", "member")
MEMBER_STATUSES = (*PRESENT_STATUSES, "left", "kicked")
ADMIN_STATUSES = ("creator", "administrator")

# A message's content (what a copy or a forward carries), what an edit may change, and service messages.
CONTENT_KEYS = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    "photo",
    "document",
    "contact",
    "location",
    "venue",
)
EDITABLE_KEYS = ("text", "entities", "caption", "caption_entities", "reply_markup")
SERVICE_KEYS = (
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


def message_content(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a message's content and inline keyboard: what its edit history keeps."""
    return {k: copy.deepcopy(data[k]) for k in (*CONTENT_KEYS, "reply_markup") if k in data}


@dataclass
class Upload:
    """A file part of a multipart request: what the Bot API calls an InputFile."""

    filename: str
    data: bytes
    sandbox_upload: ClassVar[bool] = True  # spec.py accepts it where the spec says InputFile


def is_upload(value: Any) -> bool:
    """An uploaded file: the emulator's :class:`Upload`, or an aiogram InputFile passed in-process."""
    return not isinstance(value, str | int | float | list | dict) and value is not None and hasattr(value, "filename")


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
        message_id: int = self.data["message_id"]
        return message_id

    @property
    def sender_id(self) -> int | None:
        sender_id: int | None = self.data.get("from", {}).get("id")
        return sender_id

    def transcript_entry(self) -> dict[str, Any]:
        """The message as the test API's transcript shows it: its content now, the original and every edit."""
        data = self.data
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
        if self.reply_keyboard is not None:
            entry["reply_keyboard"] = copy.deepcopy(self.reply_keyboard)
        entry["original"] = {"date": data["date"], **copy.deepcopy(self.original)}
        entry["edits"] = copy.deepcopy(self.edits)
        entry["deleted"] = self.deleted
        return entry


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
    # setMyDescription / setMyShortDescription: per language code ("" = everyone without a dedicated one)
    descriptions: dict[str, str] = field(default_factory=dict)
    short_descriptions: dict[str, str] = field(default_factory=dict)

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
class PendingQuery:
    """A callback query the bot has not answered yet (or has: ``answered``)."""

    query: dict[str, Any]
    chat_id: int
    message_id: int
    user_id: int
    answered: bool = False


@dataclass
class PendingCheckout:
    """A pre-checkout query waiting for the bot's answer: ``future`` gets (ok, error_message)."""

    query: dict[str, Any]
    future: asyncio.Future[tuple[bool, str | None]]
