"""Messages the bot sends, edits, deletes, copies and forwards (text and contacts; files are :mod:`.files`,
invoices :mod:`.payments`)."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.errors import ApiError, bad_request
from sandbox.methods.common import (
    Method,
    apply_edit,
    bot_sends,
    editable_message,
    render,
    target_chat,
    writable_chat,
)
from sandbox.model import ADMIN_STATUSES, CONTENT_KEYS, SERVICE_KEYS, SimChat, SimMessage
from sandbox.state import WorldState


async def _send_message(world: WorldState, p: dict[str, Any]) -> Any:
    return bot_sends(world, "sendMessage", p, render(p, "text", "entities"))


async def _send_contact(world: WorldState, p: dict[str, Any]) -> Any:
    contact = {k: p[k] for k in ("phone_number", "first_name", "last_name", "vcard") if p.get(k)}
    return bot_sends(world, "sendContact", p, {"contact": contact})


async def _send_chat_action(world: WorldState, p: dict[str, Any]) -> Any:
    writable_chat(world, p["chat_id"])
    return True


# -- edits --


async def _edit_message_text(world: WorldState, p: dict[str, Any]) -> Any:
    chat, message = editable_message(world, p)
    if "text" not in message.data:
        raise bad_request("there is no text in the message to edit")
    rendered = render(p, "text", "entities")
    rendered.setdefault("entities", None)
    return apply_edit(world, chat, message, rendered, p.get("reply_markup"))


async def _edit_message_caption(world: WorldState, p: dict[str, Any]) -> Any:
    chat, message = editable_message(world, p)
    if not any(k in message.data for k in ("photo", "document")):
        raise bad_request("there is no caption in the message to edit")
    rendered = render(p, "caption", "caption_entities") or {"caption": None}
    rendered.setdefault("caption_entities", None)
    return apply_edit(world, chat, message, rendered, p.get("reply_markup"))


async def _edit_message_reply_markup(world: WorldState, p: dict[str, Any]) -> Any:
    chat, message = editable_message(world, p)
    return apply_edit(world, chat, message, {}, p.get("reply_markup"))


# -- deletion --


def _delete(world: WorldState, chat: SimChat, message_id: int) -> None:
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    own = message.sender_id == world.bot.id
    if chat.is_group and not own and chat.bot_status not in ADMIN_STATUSES:
        raise bad_request("message can't be deleted")
    if "new_chat_members" in message.data or "forum_topic_created" in message.data:
        raise bad_request("message can't be deleted")
    message.deleted = True
    world.bump(chat.id)


async def _delete_message(world: WorldState, p: dict[str, Any]) -> Any:
    _delete(world, target_chat(world, p["chat_id"]), p["message_id"])
    return True


async def _delete_messages(world: WorldState, p: dict[str, Any]) -> Any:
    chat = target_chat(world, p["chat_id"])
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


# -- copies and forwards --


def _copyable(world: WorldState, p: dict[str, Any], what: str) -> SimMessage:
    source_chat = target_chat(world, p["from_chat_id"])
    source = source_chat.messages.get(p["message_id"])
    if source is None or source.deleted:
        raise bad_request(f"message to {what} not found")
    if any(key in source.data for key in SERVICE_KEYS):
        raise bad_request(f"message can't be {'copied' if what == 'copy' else 'forwarded'}")
    return source


async def _copy_message(world: WorldState, p: dict[str, Any]) -> Any:
    source = _copyable(world, p, "copy")
    content = {k: copy.deepcopy(v) for k, v in source.data.items() if k in CONTENT_KEYS}
    if "caption" in p and "text" not in content:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(render(p, "caption", "caption_entities"))
    sent = bot_sends(world, "copyMessage", p, content)
    return {"message_id": sent["message_id"]}


async def _forward_message(world: WorldState, p: dict[str, Any]) -> Any:
    source = _copyable(world, p, "forward")
    content = {k: copy.deepcopy(v) for k, v in source.data.items() if k in CONTENT_KEYS}
    sender = source.data.get("from") or world.bot_user
    content["forward_origin"] = {"type": "user", "date": source.data["date"], "sender_user": sender}
    return bot_sends(world, "forwardMessage", {k: v for k, v in p.items() if k != "reply_markup"}, content)


METHODS: dict[str, Method] = {
    "sendMessage": _send_message,
    "sendContact": _send_contact,
    "sendChatAction": _send_chat_action,
    "editMessageText": _edit_message_text,
    "editMessageCaption": _edit_message_caption,
    "editMessageReplyMarkup": _edit_message_reply_markup,
    "deleteMessage": _delete_message,
    "deleteMessages": _delete_messages,
    "copyMessage": _copy_message,
    "forwardMessage": _forward_message,
}
