"""Who may act on the desk: leaving, being removed or restricted ends an operator's access at once; the membership
cache may only ever make access shorter (issue 10, item 1)."""

from __future__ import annotations

import itertools
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from handlers.operator.access import OperatorDirectory
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID, OPERATOR_ID
from tests.telegram.recorder import BOT_ID, RecordingSession

_ids = itertools.count(900_000)


def _user(user_id: int, first_name: str = "Olga") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name}


async def _feed(dp: Dispatcher, bot: Bot, payload: dict[str, Any]) -> None:
    update = Update.model_validate({"update_id": next(_ids), **payload}, context={"bot": bot})
    await dp.feed_update(bot, update)


def _member_change(recorder: RecordingSession, user_id: int, old: str, new: dict[str, Any]) -> dict[str, Any]:
    return {
        "chat": recorder.chat(OPERATOR_CHAT_ID),
        "from": _user(user_id),
        "date": int(recorder.now().timestamp()),
        "old_chat_member": {"status": old, "user": _user(user_id)},
        "new_chat_member": {**new, "user": _user(user_id)},
    }


async def _help_answered(chat: Chat) -> bool:
    mark = len(chat.recorder.requests)
    await chat.send("/help")
    return any(r.method == "sendMessage" for r in chat.recorder.requests[mark:])


async def test_leaving_the_group_ends_access_at_once(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, operator_chat: Chat, operator_members: set[int]
) -> None:
    assert await _help_answered(operator_chat)  # a member: asked once, remembered
    operator_members.discard(OPERATOR_ID)
    message = {
        "message_id": recorder.next_message_id(OPERATOR_CHAT_ID),
        "date": int(recorder.now().timestamp()),
        "chat": recorder.chat(OPERATOR_CHAT_ID),
        "from": _user(OPERATOR_ID),
        "left_chat_member": _user(OPERATOR_ID),
    }
    await _feed(dp, bot, {"message": message})
    assert not await _help_answered(operator_chat)  # the cached "yes" is gone: not answered
    operator_members.add(OPERATOR_ID)  # back in the group: the join is a chat_member update, which forgets the "no"
    joined = _member_change(recorder, OPERATOR_ID, "left", {"status": "member"})
    await _feed(dp, bot, {"chat_member": joined})
    assert await _help_answered(operator_chat)


async def test_being_removed_or_restricted_ends_access_at_once(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, operator_chat: Chat, operator_members: set[int]
) -> None:
    for new in (
        {"status": "kicked", "until_date": 0},
        {"status": "left"},
    ):
        operator_members.add(OPERATOR_ID)
        dp["operators"].forget(OPERATOR_ID)
        assert await _help_answered(operator_chat)
        operator_members.discard(OPERATOR_ID)
        await _feed(dp, bot, {"chat_member": _member_change(recorder, OPERATOR_ID, "member", new)})
        assert not await _help_answered(operator_chat), new


async def test_a_restricted_member_is_not_an_operator(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, operator_chat: Chat, operator_members: set[int]
) -> None:
    assert await _help_answered(operator_chat)
    restricted = {
        "status": "restricted",
        "is_member": True,
        "can_send_messages": True,
        "can_send_audios": False,
        "can_send_documents": False,
        "can_send_photos": False,
        "can_send_videos": False,
        "can_send_video_notes": False,
        "can_send_voice_notes": False,
        "can_send_polls": False,
        "can_send_other_messages": False,
        "can_add_web_page_previews": False,
        "can_change_info": False,
        "can_invite_users": False,
        "can_pin_messages": False,
        "can_manage_topics": False,
        "can_react_to_messages": False,
        "can_edit_tag": False,
        "until_date": 0,
    }
    await _feed(dp, bot, {"chat_member": _member_change(recorder, OPERATOR_ID, "member", restricted)})
    assert not await _help_answered(operator_chat)  # restricted: no access, even though Telegram says is_member
    recorder.stub("getChatMember", lambda params: {**restricted, "user": _user(int(params["user_id"]))})
    dp["operators"].forget(OPERATOR_ID)
    assert not await _help_answered(operator_chat)


async def test_the_bot_removed_from_the_group_forgets_everyone(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, operator_chat: Chat, operator_members: set[int]
) -> None:
    assert await _help_answered(operator_chat)
    operator_members.clear()
    bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Tripdesk"}
    change = {
        "chat": recorder.chat(OPERATOR_CHAT_ID),
        "from": _user(1),
        "date": int(recorder.now().timestamp()),
        "old_chat_member": {"status": "member", "user": bot_user},
        "new_chat_member": {"status": "left", "user": bot_user},
    }
    await _feed(dp, bot, {"my_chat_member": change})
    assert not await _help_answered(operator_chat)


def test_the_bot_asks_telegram_for_membership_changes(dp: Dispatcher) -> None:
    used = dp.resolve_used_update_types()
    assert {"chat_member", "my_chat_member", "message", "callback_query"} <= set(used)


class _Telegram:
    """getChatMember that answers "member" but lets the test act while the question is in flight."""

    def __init__(self, directory: OperatorDirectory) -> None:
        self.directory = directory

    async def get_chat_member(self, chat_id: int, user_id: int) -> Any:
        from aiogram.types import ChatMemberMember, User

        self.directory.member_left(user_id)  # the leave arrives while Telegram's (older) answer is on its way
        return ChatMemberMember(user=User(id=user_id, is_bot=False, first_name="Olga"))


async def test_a_leave_during_the_question_is_not_overwritten_by_an_older_yes(settings) -> None:
    directory = OperatorDirectory(settings)
    telegram: Any = _Telegram(directory)
    assert not await directory.is_operator(telegram, OPERATOR_ID)
    assert OPERATOR_ID not in directory.cached_yes()
