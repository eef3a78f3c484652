"""What the Bot API methods share: finding the chat and checking the bot may write there, the checks every
message-sending method makes (reply target, topic, flood limits), storing the bot's message, rendering a text as
Telegram shows it, and editing a message the bot sent."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.errors import BLOCKED, NOT_MODIFIED, ApiError, bad_request, too_many_requests
from sandbox.limits import counts_as_message
from sandbox.model import EDITABLE_KEYS, SimChat, SimMessage, message_content
from sandbox.state import WorldState
from sandbox.text import trim, visible_text

# One Bot API method: the world and the parameters (decoded, typed and validated) -> the ``result``.
Method = Callable[[WorldState, dict[str, Any]], Awaitable[Any]]


def target_chat(world: WorldState, chat_id: Any) -> SimChat:
    """The chat a method names (an id, or a group's @username); 400/403 as Telegram answers."""
    chat: SimChat | None = None
    if isinstance(chat_id, int):
        chat = world.chats.get(chat_id)
    elif isinstance(chat_id, str):
        wanted = chat_id.removeprefix("@").lower()
        chat = next((c for c in world.chats.values() if c.is_group and (c.username or "").lower() == wanted), None)
    if chat is None:
        raise bad_request("chat not found")
    if chat.is_group and chat.bot_status in ("left", "kicked"):
        kind = "supergroup" if chat.type == "supergroup" else "group"
        if chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
    return chat


def writable_chat(world: WorldState, chat_id: Any) -> SimChat:
    """:func:`target_chat`, and a private chat's user has not blocked the bot (nor never started it, if asked)."""
    chat = target_chat(world, chat_id)
    if chat.type == "private":
        user = world.users[chat.id]
        if user.blocked:
            raise ApiError(403, BLOCKED)
        if world.require_start and not user.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
    return chat


def check_sending(
    world: WorldState, method: str, params: dict[str, Any]
) -> tuple[SimChat, int | None, SimMessage | None]:
    """Checks every message-sending method shares: chat, access, reply target, topic, flood limits."""
    chat = writable_chat(world, params["chat_id"])
    reply_to = None
    reply = params.get("reply_parameters")
    if reply:
        source = chat
        if reply.get("chat_id") is not None:
            source = target_chat(world, reply["chat_id"])
        found = source.messages.get(reply["message_id"])
        if found is not None and not found.deleted:
            reply_to = found
        elif not reply.get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")
    thread = world.thread_for(chat, params.get("message_thread_id"), reply_to)
    if counts_as_message(method):
        wait = world.limits.check(chat.id, chat.is_group)
        if wait is not None:
            raise too_many_requests(wait)
    return chat, thread, reply_to


def bot_sends(
    world: WorldState,
    method: str,
    params: dict[str, Any],
    content: dict[str, Any] | Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """Store the bot's message after every check passed (``content`` may be built only then)."""
    chat, thread, reply_to = check_sending(world, method, params)
    if callable(content):
        content = content()
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        content["reply_markup"] = copy.deepcopy(markup)
    message = world.store_message(chat, world.bot_user, content, thread_id=thread, reply_to=reply_to)
    if isinstance(markup, dict) and "inline_keyboard" not in markup:
        message.reply_keyboard = copy.deepcopy(markup)
        if "keyboard" in markup:
            chat.reply_keyboard = copy.deepcopy(markup)
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None
    world.bump(chat.id)
    return copy.deepcopy(message.data)


def render(params: dict[str, Any], key: str, entities_key: str) -> dict[str, Any]:
    """``text``/``caption`` as Telegram shows it: markup parsed into entities, surrounding blanks trimmed."""
    raw = params.get(key)
    if not isinstance(raw, str):
        return {}
    explicit = params.get(entities_key)
    mode = None if explicit else params.get("parse_mode")
    parsed = visible_text(raw, mode if isinstance(mode, str) else None)
    text, entities = trim(parsed.text, explicit or parsed.entities)
    out: dict[str, Any] = {key: text}
    if entities:
        out[entities_key] = entities
    return out


def editable_message(world: WorldState, params: dict[str, Any]) -> tuple[SimChat, SimMessage]:
    """The bot's own message an edit names; 400 as Telegram answers otherwise."""
    if params.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    if params.get("chat_id") is None or params.get("message_id") is None:
        raise bad_request("message to edit not found")
    chat = writable_chat(world, params["chat_id"])
    message = chat.messages.get(params["message_id"])
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if message.sender_id != world.bot.id:
        raise bad_request("message can't be edited")
    return chat, message


def apply_edit(
    world: WorldState, chat: SimChat, message: SimMessage, changed: dict[str, Any], markup: Any
) -> dict[str, Any]:
    """Change the message (``None`` removes a key), keep the edit in its history; 400 "not modified" when equal."""
    new = copy.deepcopy(message.data)
    for key, value in changed.items():
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    new.pop("reply_markup", None)
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        new["reply_markup"] = copy.deepcopy(markup)
    if all(new.get(k) == message.data.get(k) for k in EDITABLE_KEYS):
        raise ApiError(400, NOT_MODIFIED)
    new["edit_date"] = int(world.clock())
    message.data = new
    message.edits.append({"date": new["edit_date"], **message_content(new)})
    world.bump(chat.id)
    return copy.deepcopy(new)
