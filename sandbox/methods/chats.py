"""Chats and their members as the bot reads them (``getChat``, ``getChatMember``, ``getChatAdministrators``,
``getChatMemberCount``), and ``leaveChat``."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.common import Method, target_chat
from sandbox.model import ADMIN_STATUSES, PRESENT_STATUSES
from sandbox.state import WorldState


async def _get_chat(world: WorldState, p: dict[str, Any]) -> Any:
    chat = target_chat(world, p["chat_id"])
    gifts = {f.name: False for f in world.spec.fields("type", "AcceptedGiftTypes").values() if f.required}
    return {**chat.api(), "accent_color_id": abs(chat.id) % 7, "max_reaction_count": 11, "accepted_gift_types": gifts}


async def _get_chat_member(world: WorldState, p: dict[str, Any]) -> Any:
    chat = target_chat(world, p["chat_id"])
    user_id = p["user_id"]
    if user_id == world.bot.id:
        return world.member_api(world.bot_user, chat.bot_status if chat.is_group else "member")
    user = world.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    if chat.type == "private":
        if chat.id != user_id:
            raise bad_request("user not found")
        return world.member_api(user.api(), "member")
    return world.member_api(user.api(), chat.members.get(user_id, "left"))


async def _get_chat_administrators(world: WorldState, p: dict[str, Any]) -> Any:
    chat = target_chat(world, p["chat_id"])
    if not chat.is_group:
        return []
    admins = [world.member_api(world.users[u].api(), s) for u, s in chat.members.items() if s in ADMIN_STATUSES]
    if chat.bot_status == "administrator":
        admins.append(world.member_api(world.bot_user, "administrator"))
    return admins


async def _get_chat_member_count(world: WorldState, p: dict[str, Any]) -> Any:
    chat = target_chat(world, p["chat_id"])
    if not chat.is_group:
        return 2
    return sum(1 for s in chat.members.values() if s in PRESENT_STATUSES) + (chat.bot_status in PRESENT_STATUSES)


async def _leave_chat(world: WorldState, p: dict[str, Any]) -> Any:
    chat = target_chat(world, p["chat_id"])
    if not chat.is_group:
        raise bad_request("chat member status can't be changed in private chats")
    chat.bot_status = "left"
    world.bump(chat.id)
    return True


METHODS: dict[str, Method] = {
    "getChat": _get_chat,
    "getChatMember": _get_chat_member,
    "getChatAdministrators": _get_chat_administrators,
    "getChatMemberCount": _get_chat_member_count,
    "leaveChat": _leave_chat,
}
