"""Forum topics in a supergroup: create, edit, close, reopen, delete (each leaves the service message Telegram
shows in the topic). The bot must be an administrator of a forum."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.common import Method, target_chat
from sandbox.model import ADMIN_STATUSES, SimChat, SimTopic
from sandbox.state import WorldState

FORUM_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


def _forum(world: WorldState, p: dict[str, Any]) -> SimChat:
    chat = target_chat(world, p["chat_id"])
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if chat.bot_status not in ADMIN_STATUSES:
        raise bad_request("not enough rights to manage topics")
    return chat


def _topic(chat: SimChat, thread_id: int) -> SimTopic:
    topic = chat.topics.get(thread_id)
    if topic is None or topic.deleted:
        raise bad_request("TOPIC_ID_INVALID")
    return topic


def _topic_service(world: WorldState, chat: SimChat, thread_id: int, content: dict[str, Any]) -> None:
    world.store_message(chat, world.bot_user, content, thread_id=thread_id)
    world.bump(chat.id)


async def _create_forum_topic(world: WorldState, p: dict[str, Any]) -> Any:
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


async def _edit_forum_topic(world: WorldState, p: dict[str, Any]) -> Any:
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


async def _close_forum_topic(world: WorldState, p: dict[str, Any]) -> Any:
    chat = _forum(world, p)
    topic = _topic(chat, p["message_thread_id"])
    if topic.closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    _topic_service(world, chat, topic.message_thread_id, {"forum_topic_closed": {}})
    topic.closed = True
    return True


async def _reopen_forum_topic(world: WorldState, p: dict[str, Any]) -> Any:
    chat = _forum(world, p)
    topic = _topic(chat, p["message_thread_id"])
    if not topic.closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = False
    _topic_service(world, chat, topic.message_thread_id, {"forum_topic_reopened": {}})
    return True


async def _delete_forum_topic(world: WorldState, p: dict[str, Any]) -> Any:
    chat = _forum(world, p)
    topic = _topic(chat, p["message_thread_id"])
    topic.deleted = True
    for message in chat.messages.values():
        if message.data.get("message_thread_id") == topic.message_thread_id:
            message.deleted = True
    world.bump(chat.id)
    return True


METHODS: dict[str, Method] = {
    "createForumTopic": _create_forum_topic,
    "editForumTopic": _edit_forum_topic,
    "closeForumTopic": _close_forum_topic,
    "reopenForumTopic": _reopen_forum_topic,
    "deleteForumTopic": _delete_forum_topic,
}
