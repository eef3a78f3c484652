"""One Telegram user and their private chat with the bot, seen from the emulator's side.

    anna = Tourist(world, world.add_user(first_name="Anna", language_code="en"))
    menu = await anna.send("/start")                    # waits for the bot's reply, returns it
    screen = await anna.press(MenuCb(action=...))       # a button of the newest bot message; waits for the
                                                        # callback answer and the edit (or a new message)
    answer = await anna.press_unseen("k:y:99999:0", menu["message_id"])   # forged / stale: returns the answer

Messages are the emulator's transcript entries (``text`` as the user sees it, ``reply_markup``, ``edits``...).
Every wait is ``World.wait_for`` (woken by each change in the world) and bounded by ``timeout``.

A tourist acts like a person: each action waits for the bot's answer to the previous one, and starts at least
:data:`PERSON_PAUSE` after the previous one started (the time to glance at a screen and tap; a script tapping at
machine speed is what the bot's per-user throttle, bot/throttle.py, is there to stop).
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import Any

from sandbox.model import SimUser
from sandbox.world import World

REPLY_TIMEOUT = 8.0  # generous for CI; a reply normally takes milliseconds (retries after a 429 take seconds)
PERSON_PAUSE = 0.4  # s between the starts of two actions: quicker than anyone reads a screen, slower than a script

Button = dict[str, Any]
ButtonMatch = str | object | Callable[[Button], bool]


def packed(data: object) -> str:
    """Callback data as a string: a ``CallbackData`` instance is packed, a string is taken as it is."""
    return data if isinstance(data, str) else data.pack()


def buttons(message: dict[str, Any]) -> list[Button]:
    return [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def callback_data(message: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for b in buttons(message) if "callback_data" in b]


class Tourist:
    def __init__(self, world: World, user: SimUser, timeout: float = REPLY_TIMEOUT) -> None:
        self.world = world
        self.user = user
        self.id = user.id
        self.timeout = timeout
        self._acted: float | None = None  # time.monotonic() when the last action started

    def __repr__(self) -> str:
        return f"<Tourist {self.user.first_name} {self.id} {self.user.language_code}>"

    # -- what the chat shows -----------------------------------------------------------------------------------------

    def messages(self) -> list[dict[str, Any]]:
        return [m for m in self.world.transcript(self.id) if not m["deleted"]]

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.messages() if m["from"]["is_bot"]]

    def message(self, message_id: int) -> dict[str, Any]:
        return next(m for m in self.world.transcript(self.id) if m["message_id"] == message_id)

    def last(self) -> dict[str, Any]:
        messages = self.bot_messages()
        assert messages, f"{self}: the bot has not written anything"
        return messages[-1]

    def callback_answers(self) -> list[dict[str, Any]]:
        return [a for a in self.world.callback_answers if a["user_id"] == self.id]

    def alerts(self) -> list[dict[str, Any]]:
        return [a for a in self.callback_answers() if a["show_alert"]]

    def _answer(self, query_id: str) -> dict[str, Any] | None:
        return next((a for a in self.world.callback_answers if a["callback_query_id"] == query_id), None)

    def _last_id(self) -> int:
        return max((m["message_id"] for m in self.world.transcript(self.id)), default=0)

    # -- waiting ---------------------------------------------------------------------------------------------------

    async def wait(self, predicate: Callable[[], Any], what: str, timeout: float | None = None) -> Any:
        """``predicate``'s first truthy value; a readable failure (with the chat's last bot message) on timeout."""
        timeout = self.timeout if timeout is None else timeout
        try:
            return await self.world.wait_for(predicate, timeout)
        except TimeoutError:
            last = self.bot_messages()[-1:] or [{}]
            raise AssertionError(
                f"{self}: no {what} within {timeout} s; the bot's last message: {last[0].get('text')!r} "
                f"{callback_data(last[0]) if last[0] else ''}"
            ) from None

    async def wait_reply(self, after: int, what: str = "reply") -> dict[str, Any]:
        """The first bot message newer than message id ``after``."""

        def newer() -> dict[str, Any] | None:
            return next((m for m in self.bot_messages() if m["message_id"] > after), None)

        return await self.wait(newer, what)

    # -- acting ----------------------------------------------------------------------------------------------------

    async def _pace(self) -> None:
        """Start the next action no sooner than :data:`PERSON_PAUSE` after the previous one started."""
        if self._acted is not None and (left := self._acted + PERSON_PAUSE - time.monotonic()) > 0:
            await asyncio.sleep(left)
        self._acted = time.monotonic()

    async def send(self, text: str) -> dict[str, Any]:
        """Write ``text`` and wait for the bot's (first) reply to it."""
        await self._pace()
        message = await self.world.user_sends(self.id, text)
        return await self.wait_reply(message["message_id"], f"reply to {text!r}")

    def find(self, match: ButtonMatch, message: dict[str, Any] | None = None) -> str:
        """The callback data of the first button of ``message`` (default: the newest bot message) that matches."""
        message = message or self.last()
        if callable(match) and not hasattr(match, "pack"):
            found = [b for b in buttons(message) if match(b)]
        else:
            wanted = packed(match)
            found = [b for b in buttons(message) if b.get("callback_data") == wanted]
        assert found, f"{self}: no button {match!r} on {message.get('text')!r}; buttons: {callback_data(message)}"
        return found[0]["callback_data"]

    async def press(self, match: ButtonMatch, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """Press a button the message shows; wait until the query is answered and the bot has edited the message
        (or written a new one). Returns the message as it is then."""
        message = message or self.last()
        data = self.find(match, message)
        edits, last_id = len(message["edits"]), self._last_id()
        await self._pace()
        query_id = await self.world.user_presses(self.id, self.id, message["message_id"], data)

        def shown() -> dict[str, Any] | None:
            if self._answer(query_id) is None:
                return None
            current = self.message(message["message_id"])
            if len(current["edits"]) > edits:
                return current
            return next((m for m in self.bot_messages() if m["message_id"] > last_id), None)

        return await self.wait(shown, f"answer and new screen after pressing {data!r}")

    async def press_unseen(self, data: ButtonMatch, message_id: int) -> dict[str, Any]:
        """Press a button the message does not show (any more): a client still showing an older version of the
        message, or a modified client sending data of its own. Returns the bot's callback answer.

        The emulator, like Telegram, only lets a user press a button the message has; so the button is put on the
        message for the press and taken off again before the bot can see the world change.
        """
        data = packed(data)
        await self._pace()
        sim = self.world.message(self.id, message_id)
        saved = copy.deepcopy(sim.data.get("reply_markup"))
        sim.data["reply_markup"] = {"inline_keyboard": [[{"text": "?", "callback_data": data}]]}
        try:
            query_id = await self.world.user_presses(self.id, self.id, message_id, data)
        finally:
            if saved is None:
                sim.data.pop("reply_markup", None)
            else:
                sim.data["reply_markup"] = saved
        return await self.wait(lambda: self._answer(query_id), f"callback answer to {data!r}")
