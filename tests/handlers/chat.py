"""One Telegram user talking to the bot: real ``Update`` objects through the real Dispatcher.

    chat = Chat(dp, bot, recorder, user_id=1001, first_name="Anna")
    await chat.send("/start")                 # a command with its bot_command entity
    assert "Hello, Anna!" in chat.last_text()
    await chat.press("Browse")                # the button of the newest inline keyboard, by (sub)text
    assert chat.buttons() == [...]
    await chat.press_data("k:y:999:0")         # forged callback data

Every action first marks the request log; :meth:`replies`, :meth:`alerts` and :meth:`texts` see the requests made
since. The chat's messages (the user's and the bot's, after every edit) live in the recording session, so a press
carries the message as the bot last rendered it, exactly what Telegram would put in ``callback_query.message``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import InlineKeyboardButton, Message, Update

from tests.telegram.recorder import BOT_ID, RecordingSession, Request

_update_ids = itertools.count(1)
_query_ids = itertools.count(1)
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")

ButtonPredicate = Callable[[InlineKeyboardButton], bool]


@dataclass(frozen=True)
class Alert:
    """One ``answerCallbackQuery`` with a text: a toast, or a modal box when ``show_alert``."""

    text: str
    show_alert: bool


class Chat:
    """A chat between one user and the bot (private by default; pass ``chat_id``/``chat_type`` for a group)."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        recorder: RecordingSession,
        user_id: int,
        language_code: str | None = "en",
        first_name: str = "Tess",
        last_name: str | None = None,
        username: str | None = None,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        title: str | None = None,
        require_answer: bool = True,
    ) -> None:
        self.dp = dp
        self.bot = bot
        self.recorder = recorder
        self.user_id = user_id
        self.language_code = language_code
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.chat_id = user_id if chat_id is None else chat_id
        self.chat_type = chat_type
        self.require_answer = require_answer
        if chat_type == "private":
            chat: dict[str, Any] = {"id": self.chat_id, "type": "private", "first_name": first_name}
            if last_name:
                chat["last_name"] = last_name
            if username:
                chat["username"] = username
        else:
            chat = {"id": self.chat_id, "type": chat_type, "title": title or f"Chat {self.chat_id}"}
        recorder.register_chat(chat)
        self._mark = len(recorder.requests)

    # ---- the user acts ---------------------------------------------------------------------------------------

    @property
    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    async def send(self, text: str, *, reply_to: int | None = None) -> Message:
        """A text message; a leading ``/command`` (``/start payload`` deep links too) gets its bot_command entity."""
        content: dict[str, Any] = {"text": text}
        if match := _COMMAND.match(text):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(match.group(0))}]
        return await self._send(content, reply_to)

    async def send_sticker(self, emoji: str = "👍") -> Message:
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "u-sticker-1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return await self._send({"sticker": sticker})

    async def send_photo(self, caption: str | None = None) -> Message:
        photo = [
            {"file_id": "photo-s", "file_unique_id": "u-photo-s", "width": 90, "height": 67},
            {"file_id": "photo-m", "file_unique_id": "u-photo-m", "width": 800, "height": 600},
        ]
        content: dict[str, Any] = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        return await self._send(content)

    async def send_voice(self, duration: int = 3) -> Message:
        voice = {"file_id": "voice-1", "file_unique_id": "u-voice-1", "duration": duration, "mime_type": "audio/ogg"}
        return await self._send({"voice": voice})

    async def send_document(self, file_name: str = "file.pdf") -> Message:
        document = {"file_id": "doc-1", "file_unique_id": "u-doc-1", "file_name": file_name}
        return await self._send({"document": document})

    async def send_location(self, latitude: float = 59.437, longitude: float = 24.745) -> Message:
        return await self._send({"location": {"latitude": latitude, "longitude": longitude}})

    async def send_contact(self, phone: str, own: bool = True, first_name: str | None = None) -> Message:
        """A shared contact: the user's own (``user_id`` is theirs, as from the "share my phone" button) or not."""
        contact: dict[str, Any] = {
            "phone_number": phone,
            "first_name": first_name or (self.first_name if own else "Someone"),
            "user_id": self.user_id if own else self.user_id + 1_000_000,
        }
        return await self._send({"contact": contact})

    async def press(self, target: str | ButtonPredicate, *, message_id: int | None = None) -> Any:
        """Press the inline button whose text equals (or else contains) ``target``, or that ``target(button)`` picks.

        The button is looked up in ``message_id``, or in the newest bot message of this chat with an inline keyboard.
        """
        message = self._keyboard_message(message_id)
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        if callable(target):
            found = [b for b in buttons if target(InlineKeyboardButton.model_validate(b))]
        else:
            found = [b for b in buttons if b["text"] == target] or [b for b in buttons if target in b["text"]]
        texts = [b["text"] for b in buttons]
        wanted = "matching the predicate" if callable(target) else repr(target)
        if not found:
            raise AssertionError(f"no button {wanted} in message {message['message_id']}; buttons: {texts}")
        if len(found) > 1:
            raise AssertionError(f"{wanted} matches several buttons: {[b['text'] for b in found]}")
        button = found[0]
        if "callback_data" not in button:
            other = {k: v for k, v in button.items() if k != "text"}
            raise AssertionError(f"button {button['text']!r} sends no callback (it is {other})")
        return await self.press_data(button["callback_data"], message_id=message["message_id"])

    async def press_data(self, data: str, *, message_id: int | None = None) -> Any:
        """A callback query with any ``data`` (forged ones too) on ``message_id`` or the newest keyboard message."""
        if message_id is not None:
            message = self.recorder.message(self.chat_id, message_id)
            if message is None:
                raise AssertionError(f"no message {message_id} in chat {self.chat_id}")
        else:
            message = self._keyboard_message(None, fallback_to_any=True)
        query_id = f"{self.user_id}-{next(_query_ids)}"
        query = {
            "id": query_id,
            "from": self.user,
            "chat_instance": f"ci{self.chat_id}",
            "message": message,
            "data": data,
        }
        result = await self._feed({"callback_query": query})
        if self.require_answer and not self.recorder.is_answered(query_id):
            self.recorder.violations.append(
                f"callback query {data!r} on message {message['message_id']} was never answered "
                "(answerCallbackQuery): the user's button keeps spinning"
            )
        return result

    # ---- what the bot did --------------------------------------------------------------------------------------

    def replies(self, method: str | None = None) -> list[Request]:
        """The requests the bot made since the last action (of ``method`` only, when given)."""
        return self.recorder.calls(method, since=self._mark)

    def texts(self) -> list[str]:
        """The visible texts (or captions) the bot sent or edited into since the last action, in order."""
        return [r.text for r in self.replies() if r.text is not None and r.error is None and _is_message(r)]

    def alerts(self) -> list[Alert]:
        """The callback answers with a text since the last action."""
        return [
            Alert(r.params["text"], bool(r.params.get("show_alert")))
            for r in self.replies("answerCallbackQuery")
            if r.params.get("text")
        ]

    def last_message(self) -> Message:
        """The bot's message in this chat it sent or edited last, as it looks now."""
        for request in reversed(self.recorder.requests):
            if request.error is None and _is_message(request) and isinstance(request.result, Message):
                if request.result.chat.id != self.chat_id:
                    continue
                raw = self.recorder.message(self.chat_id, request.result.message_id)
                if raw is None:
                    continue  # deleted since
                return Message.model_validate(raw, context={"bot": self.bot})
        raise AssertionError(f"the bot has not sent anything to chat {self.chat_id}")

    def last_text(self) -> str:
        """The visible text (or caption) of :meth:`last_message`."""
        message = self.last_message()
        return message.text if message.text is not None else (message.caption or "")

    def keyboard(self, message_id: int | None = None) -> list[list[str]]:
        """Rows of button texts of the newest inline keyboard in the chat (or of ``message_id``); [] if none."""
        try:
            message = self._keyboard_message(message_id)
        except AssertionError:
            return []
        return [[b["text"] for b in row] for row in message["reply_markup"]["inline_keyboard"]]

    def buttons(self, message_id: int | None = None) -> list[str]:
        """The button texts of :meth:`keyboard`, row by row."""
        return [text for row in self.keyboard(message_id) for text in row]

    def messages(self) -> list[Message]:
        """Every message of the chat still there (the user's and the bot's), oldest first."""
        return [Message.model_validate(m, context={"bot": self.bot}) for m in self.recorder.chat_messages(self.chat_id)]

    # ---- plumbing ----------------------------------------------------------------------------------------------

    async def _send(self, content: dict[str, Any], reply_to: int | None = None) -> Message:
        message: dict[str, Any] = {
            "message_id": self.recorder.next_message_id(self.chat_id),
            "date": int(self.recorder.now().timestamp()),
            "chat": self.recorder.chat(self.chat_id),
            "from": self.user,
            **content,
        }
        if reply_to is not None:
            original = self.recorder.message(self.chat_id, reply_to)
            if original is None:
                raise AssertionError(f"no message {reply_to} in chat {self.chat_id} to reply to")
            message["reply_to_message"] = {k: v for k, v in original.items() if k != "reply_to_message"}
        self.recorder.store_message(message)
        await self._feed({"message": message})
        return Message.model_validate(message, context={"bot": self.bot})

    async def _feed(self, payload: dict[str, Any]) -> Any:
        self._mark = len(self.recorder.requests)
        update = Update.model_validate({"update_id": next(_update_ids), **payload}, context={"bot": self.bot})
        return await self.dp.feed_update(self.bot, update)

    def _keyboard_message(self, message_id: int | None, fallback_to_any: bool = False) -> dict[str, Any]:
        if message_id is not None:
            message = self.recorder.message(self.chat_id, message_id)
            if message is None:
                raise AssertionError(f"no message {message_id} in chat {self.chat_id}")
            if not message.get("reply_markup"):
                raise AssertionError(f"message {message_id} has no inline keyboard (any more)")
            return message
        bot_messages = [m for m in self.recorder.chat_messages(self.chat_id) if m.get("from", {}).get("id") == BOT_ID]
        with_keyboard = [m for m in bot_messages if m.get("reply_markup")]
        if with_keyboard:
            return with_keyboard[-1]
        if fallback_to_any and bot_messages:
            return bot_messages[-1]
        raise AssertionError(f"no bot message with an inline keyboard in chat {self.chat_id}")


def _is_message(request: Request) -> bool:
    return request.method.startswith(("send", "editMessage", "copyMessage", "forwardMessage"))
