"""A bot session that records, validates and answers every request like a small Telegram.

``RecordingSession`` replaces aiogram's HTTP session under a real :class:`aiogram.Bot`. For each call it

1. serializes the method exactly as ``AiohttpSession.build_form_data`` does (``model_dump`` + ``prepare_value``,
   empty top-level values dropped, defaults such as ``parse_mode`` resolved), then decodes the JSON strings back so
   nested objects are checked structurally; an uploaded file stays an :class:`aiogram.types.InputFile`;
2. validates the request against ``bot-api.json`` (:mod:`sandbox.spec`); a problem is appended to
   ``violations`` and raised as ``TelegramBadRequest``, as Telegram would answer 400;
3. records a :class:`Request` in ``requests`` and answers with a plausible result of the method's return type:
   messages get ids counting up per chat (shared with the messages users send), the text as Telegram shows it
   (HTML parsed into entities) and the inline keyboard; edits change the stored message (an edit without
   ``reply_markup`` removes the keyboard; an identical edit raises "message is not modified").

Failures are injected with :meth:`RecordingSession.fail_next`, e.g. ``session.fail_next("sendMessage", forbidden())``.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict, deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiogram.client.session.base import BaseSession
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.types import InputFile, TelegramObject

from sandbox.spec import BotApiSpec, load_spec
from sandbox.text import visible_text

if TYPE_CHECKING:
    from aiogram import Bot

BOT_ID = 123456
BOT_USERNAME = "tripdesk_test_bot"
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Tripdesk",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)

ExcFactory = Callable[[TelegramMethod[Any]], BaseException]

# The media a send* method puts on the message it returns: method -> (message field, Bot API type).
_MEDIA = {
    "sendPhoto": ("photo", "Array of PhotoSize"),
    "sendDocument": ("document", "Document"),
    "sendAudio": ("audio", "Audio"),
    "sendVideo": ("video", "Video"),
    "sendAnimation": ("animation", "Animation"),
    "sendVoice": ("voice", "Voice"),
    "sendVideoNote": ("video_note", "VideoNote"),
    "sendSticker": ("sticker", "Sticker"),
    "sendLocation": ("location", "Location"),
    "sendVenue": ("venue", "Venue"),
    "sendContact": ("contact", "Contact"),
    "sendDice": ("dice", "Dice"),
    "sendPoll": ("poll", "Poll"),
    "sendInvoice": ("invoice", "Invoice"),
}
_CONTENT_KEYS = ("text", "entities", "caption", "caption_entities", "reply_markup")


class _Json(str):
    """A string aiogram produced with ``json_dumps``: decoded back to structure before validation."""


def _dumps(value: Any) -> str:
    return _Json(json.dumps(value, ensure_ascii=False))


@dataclass
class Request:
    """One call the bot made: the Bot API method name, its parameters as Telegram would receive them, the outcome."""

    method: str
    params: dict[str, Any]
    result: Any = None
    error: BaseException | None = None
    violations: list[str] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """The visible text (or caption) this request shows, HTML parsed."""
        raw = self.params.get("text", self.params.get("caption"))
        if not isinstance(raw, str):
            return None
        return visible_text(raw, self.params.get("parse_mode")).text


# ---- failures to inject ------------------------------------------------------------------------------------------


def forbidden(message: str = "Forbidden: bot was blocked by the user") -> ExcFactory:
    return lambda method: TelegramForbiddenError(method=method, message=message)


def bad_request(message: str) -> ExcFactory:
    return lambda method: TelegramBadRequest(method=method, message=message)


def retry_after(seconds: int = 5) -> ExcFactory:
    return lambda method: TelegramRetryAfter(
        method=method, message=f"Too Many Requests: retry after {seconds}", retry_after=seconds
    )


def server_error(message: str = "Internal Server Error") -> ExcFactory:
    return lambda method: TelegramServerError(method=method, message=message)


def network_error(message: str = "ClientConnectorError: connection refused") -> ExcFactory:
    return lambda method: TelegramNetworkError(method=method, message=message)


# ---- the session -------------------------------------------------------------------------------------------------


class RecordingSession(BaseSession):
    def __init__(self, spec: BotApiSpec | None = None, now: Callable[[], datetime] | None = None) -> None:
        super().__init__(json_dumps=_dumps)
        self.spec = spec or load_spec()
        self.now = now or (lambda: datetime.now(UTC))
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self.messages: dict[tuple[Any, int], dict[str, Any]] = {}  # (chat id, message id) -> raw, as shown now
        self.chats: dict[Any, dict[str, Any]] = {}
        self.closed = False
        self._failures: dict[str, deque[ExcFactory]] = defaultdict(deque)
        self._stubs: dict[str, Any] = {}
        self._last_message_id: dict[Any, int] = defaultdict(int)
        self._answered: set[str] = set()

    # -- test controls -------------------------------------------------------------------------------------------

    def fail_next(self, method: str, exc_factory: ExcFactory) -> None:
        """The next valid call of ``method`` raises ``exc_factory(method_object)`` instead of succeeding."""
        if method not in self.spec.methods:
            raise ValueError(f"{method!r} is not a Bot API method")
        self._failures[method].append(exc_factory)

    def stub(self, method: str, result: Any) -> None:
        """Answer ``method`` with ``result`` (raw JSON, an aiogram object, or ``callable(params)`` returning one)."""
        if method not in self.spec.methods:
            raise ValueError(f"{method!r} is not a Bot API method")
        self._stubs[method] = result

    def calls(self, method: str | None = None, since: int = 0) -> list[Request]:
        return [r for r in self.requests[since:] if method is None or r.method == method]

    def clear(self) -> None:
        """Forget the requests so far (the messages stay)."""
        self.requests.clear()

    # -- the world the harness shares ----------------------------------------------------------------------------

    def register_chat(self, chat: dict[str, Any]) -> None:
        self.chats[chat["id"]] = dict(chat)

    def chat(self, chat_id: Any) -> dict[str, Any]:
        if chat_id not in self.chats:
            if isinstance(chat_id, int) and chat_id > 0:
                self.chats[chat_id] = {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
            elif isinstance(chat_id, int) and str(chat_id).startswith("-100"):
                self.chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
            elif isinstance(chat_id, int):
                self.chats[chat_id] = {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
            else:
                return {"id": -1001000000000, "type": "channel", "title": str(chat_id), "username": str(chat_id)[1:]}
        return self.chats[chat_id]

    def next_message_id(self, chat_id: Any) -> int:
        self._last_message_id[chat_id] += 1
        return self._last_message_id[chat_id]

    def store_message(self, raw: dict[str, Any]) -> None:
        self.messages[(raw["chat"]["id"], raw["message_id"])] = raw

    def message(self, chat_id: Any, message_id: int) -> dict[str, Any] | None:
        return self.messages.get((chat_id, message_id))

    def chat_messages(self, chat_id: Any) -> list[dict[str, Any]]:
        """Every message of the chat still there, oldest first, as currently rendered."""
        return [m for (c, _mid), m in sorted(self.messages.items(), key=lambda kv: kv[0][1]) if c == chat_id]

    def is_answered(self, callback_query_id: str) -> bool:
        return callback_query_id in self._answered

    # -- BaseSession ---------------------------------------------------------------------------------------------

    async def close(self) -> None:
        self.closed = True

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    def serialize(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
        """The parameters as ``AiohttpSession.build_form_data`` would post them, with the JSON decoded back."""
        files: dict[str, InputFile] = {}
        params: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if not prepared:
                continue  # build_form_data drops empty values, so Telegram never sees them
            if isinstance(prepared, _Json):
                params[key] = json.loads(prepared)
            elif prepared.startswith("attach://") and prepared.removeprefix("attach://") in files:
                params[key] = files[prepared.removeprefix("attach://")]
            else:
                params[key] = str.__str__(prepared)  # a str enum (ParseMode.HTML) goes on the wire as its value
        return params

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        name = method.__api_method__
        params = self.serialize(bot, method)
        request = Request(name, params)
        self.requests.append(request)
        problems = self.spec.validate_request(name, params)
        if problems:
            request.violations = problems
            self.violations.extend(problems)
            request.error = TelegramBadRequest(method=method, message="Bad Request: " + "; ".join(problems))
            raise request.error
        if self._failures[name]:
            request.error = self._failures[name].popleft()(method)
            raise request.error
        try:
            raw = self._answer(method, name, params)
        except TelegramAPIError as error:
            request.error = error
            raise
        shape = Response[method.__returning__]  # type: ignore[name-defined]  # a type known at run time, as in aiogram
        response = shape.model_validate({"ok": True, "result": raw}, context={"bot": bot})
        request.result = response.result
        return response.result

    # -- the fake Telegram ---------------------------------------------------------------------------------------

    def _answer(self, method: TelegramMethod[Any], name: str, params: dict[str, Any]) -> Any:
        if name in self._stubs:
            result = self._stubs[name]
            result = result(params) if callable(result) else result
            if isinstance(result, TelegramObject):
                return result.model_dump(mode="json", exclude_none=True, by_alias=True)
            return result
        returns = self.spec.methods[name].get("returns", [])
        if name == "getMe":
            return dict(BOT_USER)
        if name in ("sendMessage", "forwardMessage") or name in _MEDIA:
            return self._send(name, params)
        if name == "sendMediaGroup":
            return [
                self._send("sendPhoto", {**params, **item, "caption": item.get("caption")}) for item in params["media"]
            ]
        if name == "copyMessage":
            return {"message_id": self.next_message_id(params["chat_id"])}
        if name.startswith("editMessage"):
            return self._edit(method, name, params)
        if name == "deleteMessage":
            return self._delete(method, params["chat_id"], params["message_id"])
        if name == "deleteMessages":
            return all(self._delete(method, params["chat_id"], mid, strict=False) for mid in params["message_ids"])
        if name == "answerCallbackQuery":
            query_id = params["callback_query_id"]
            if query_id in self._answered:
                raise TelegramBadRequest(
                    method=method,
                    message="Bad Request: query is too old and response timeout expired or query ID is invalid",
                )
            self._answered.add(query_id)
            return True
        if not returns or returns[0] in ("Boolean", "True"):
            return True
        if "Message" in returns:
            return self._send(name, params)
        return self.example(returns[0])

    def _send(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params["chat_id"]
        chat = self.chat(chat_id)
        message: dict[str, Any] = {
            "message_id": self.next_message_id(chat_id),
            "date": int(self.now().timestamp()),
            "chat": chat,
            "from": dict(BOT_USER),
        }
        self._render(message, params, "text", "entities")
        self._render(message, params, "caption", "caption_entities")
        if name in _MEDIA:
            key, type_name = _MEDIA[name]
            message[key] = self._media(name, type_name, params)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        reply = params.get("reply_parameters")
        if isinstance(reply, dict) and (original := self.message(reply.get("chat_id", chat_id), reply["message_id"])):
            message["reply_to_message"] = {k: v for k, v in original.items() if k != "reply_to_message"}
        self.store_message(message)
        return message

    def _render(self, message: dict[str, Any], params: dict[str, Any], key: str, entities_key: str) -> None:
        """``text``/``caption`` as Telegram shows them: markup parsed into entities."""
        message.pop(key, None)
        message.pop(entities_key, None)
        raw = params.get(key)
        if not isinstance(raw, str):
            return
        explicit = params.get(entities_key)
        parsed = visible_text(raw, None if explicit else params.get("parse_mode"))
        message[key] = parsed.text
        entities = explicit or parsed.entities
        if entities:
            message[entities_key] = entities

    def _media(self, name: str, type_name: str, params: dict[str, Any]) -> Any:
        if name == "sendPhoto":
            return [{"file_id": "photo-1", "file_unique_id": "u-photo-1", "width": 800, "height": 600}]
        value = self.example(type_name)
        if name == "sendLocation":
            value.update(latitude=params["latitude"], longitude=params["longitude"])
        elif name == "sendContact":
            value.update(phone_number=params["phone_number"], first_name=params["first_name"])
        elif name == "sendInvoice":
            value.update(
                title=params["title"],
                description=params["description"],
                currency=params["currency"],
                start_parameter=params.get("start_parameter", ""),
                total_amount=sum(p["amount"] for p in params["prices"]),
            )
        elif name == "sendDice":
            value.update(emoji=params.get("emoji", "🎲"), value=1)
        return value

    def _edit(self, method: TelegramMethod[Any], name: str, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            return True
        key = (params["chat_id"], params["message_id"])
        current = self.messages.get(key)
        if current is None:
            raise TelegramBadRequest(method=method, message="Bad Request: message to edit not found")
        if current.get("from", {}).get("id") != BOT_ID:
            raise TelegramBadRequest(method=method, message="Bad Request: message can't be edited")
        edited = copy.deepcopy(current)
        edited.pop("reply_markup", None)
        if name == "editMessageText":
            if "text" not in current:
                raise TelegramBadRequest(method=method, message="Bad Request: there is no text in the message to edit")
            self._render(edited, params, "text", "entities")
        elif name == "editMessageCaption":
            self._render(edited, params, "caption", "caption_entities")
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            edited["reply_markup"] = markup
        if name in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup") and all(
            edited.get(k) == current.get(k) for k in _CONTENT_KEYS
        ):
            raise TelegramBadRequest(method=method, message=NOT_MODIFIED)
        edited["edit_date"] = int(self.now().timestamp())
        self.messages[key] = edited
        return edited

    def _delete(self, method: TelegramMethod[Any], chat_id: Any, message_id: int, strict: bool = True) -> bool:
        if self.messages.pop((chat_id, message_id), None) is None:
            if strict:
                raise TelegramBadRequest(method=method, message="Bad Request: message to delete not found")
            return False
        return True

    def example(self, type_name: str, depth: int = 0) -> Any:
        """A minimal valid value of a Bot API type: its required fields, with fixed discriminators."""
        if type_name.startswith("Array of "):
            return []
        primitives = {"Integer": 1, "Float": 0.0, "String": "x", "Boolean": True, "True": True}
        if type_name in primitives:
            return primitives[type_name]
        spec = self.spec.types[type_name]
        if spec.get("subtypes"):
            return self.example(spec["subtypes"][0], depth + 1)
        value: dict[str, Any] = {}
        fixed = self.spec.discriminator(type_name)
        for fld in self.spec.fields("type", type_name).values():
            if not fld.required:
                continue
            if fld.name in ("type", "source", "status") and fixed is not None:
                value[fld.name] = fixed
            elif fld.name.endswith("file_id"):
                value[fld.name] = f"{type_name.lower()}-{fld.name}"
            elif depth < 6:
                value[fld.name] = self.example(fld.types[0], depth + 1)
        return value
