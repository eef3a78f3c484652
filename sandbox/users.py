"""The user side: what a person does in a Telegram client, as a script, a test or the web page asks for it.

Each ``user_*`` method creates the message or query a real client would and queues the update Telegram would
deliver to the bot; membership changes (:meth:`UserActions.block_bot`, :meth:`UserActions.set_status`) queue
``my_chat_member`` / ``chat_member`` updates and the service messages a group shows.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
from typing import Any

from sandbox.errors import ApiError, NotFoundError, SandboxError
from sandbox.model import MEMBER_STATUSES, PRESENT_STATUSES, PendingCheckout, PendingQuery, SimChat, SimUser
from sandbox.state import WorldState
from sandbox.text import command_entities

PRE_CHECKOUT_TIMEOUT = 10.0


class UserActions(WorldState):
    def _user_chat(self, user: SimUser, chat_id: int | None) -> SimChat:
        chat = self.chat(user.id if chat_id is None else chat_id)
        if chat.type == "private":
            if chat.id != user.id:
                raise SandboxError(f"user {user.id} cannot write in the private chat of {chat.id}")
            if user.blocked:
                self.block_bot(user.id, False)  # writing to a blocked bot means restarting it first
            user.started = True
        elif chat.members.get(user.id) not in PRESENT_STATUSES:
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
            thread = self.thread_for(chat, thread_id, target)
        except ApiError as error:
            raise SandboxError(error.description.removeprefix("Bad Request: ")) from None
        message = self.store_message(chat, user.api(), content, thread_id=thread, reply_to=target)
        if self.visible_to_bot(chat, message):
            self.push_update("message", message.data)
        self.bump(chat.id)
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
        if chat.is_group and chat.members.get(user.id) not in PRESENT_STATUSES:
            raise SandboxError(f"user {user.id} is not a member of chat {chat.id}")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise NotFoundError(f"no message {message_id} in chat {chat_id}")
        buttons = [b for row in (message.data.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
        if not any(b.get("callback_data") == callback_data for b in buttons):
            raise SandboxError(f"message {message_id} has no button with callback_data {callback_data!r}")
        query_id = f"{secrets.randbits(60)}{self.next_id()}"
        query = {
            "id": query_id,
            "from": user.api(),
            "message": copy.deepcopy(message.data),
            "chat_instance": str(abs(chat.id) * 7919 % 10**12),
            "data": callback_data,
        }
        self.callback_queries[query_id] = PendingQuery(query, chat.id, message_id, user.id)
        self.push_update("callback_query", query)
        self.bump(chat.id)
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
        query_id = f"{secrets.randbits(60)}{self.next_id()}"
        query = {
            "id": query_id,
            "from": user.api(),
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": invoice_message.meta["payload"],
        }
        future: asyncio.Future[tuple[bool, str | None]] = asyncio.get_running_loop().create_future()
        self.checkouts[query_id] = PendingCheckout(query, future)
        if self.push_update("pre_checkout_query", query) is None:
            self.checkouts.pop(query_id)
            return {"ok": False, "error": "the bot does not receive pre_checkout_query updates (allowed_updates)"}
        self.bump(chat.id)
        try:
            ok, error = await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return {"ok": False, "error": f"the bot did not answer the pre-checkout query within {timeout:g} s"}
        finally:
            self.checkouts.pop(query_id, None)
        if not ok:
            return {"ok": False, "error": error or "payment refused"}
        n = self.next_id()
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

    # -- membership ------------------------------------------------------------------------------------------------

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot: ``my_chat_member``; sends to them then get 403."""
        user = self.user(user_id)
        if user.blocked == blocked:
            return
        user.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        chat = self.chat(user_id)
        self.push_update(
            "my_chat_member",
            {
                "chat": chat.api(),
                "from": user.api(),
                "date": int(self.clock()),
                "old_chat_member": self.member_api(self.bot_user, old),
                "new_chat_member": self.member_api(self.bot_user, new),
            },
        )
        self.bump(user_id)

    def set_member(self, user_id: int, chat_id: int, member: bool = True) -> None:
        """A user joins or leaves a group (``user_id`` = the bot's id adds or removes the bot)."""
        self.set_status(user_id, chat_id, "member" if member else "left")

    def set_status(self, user_id: int, chat_id: int, status: str) -> None:
        """Any membership status: creator, administrator, member, left, kicked."""
        if status not in MEMBER_STATUSES:
            raise SandboxError(f"unknown status {status!r}")
        chat = self.chat(chat_id)
        if not chat.is_group:
            raise SandboxError(f"chat {chat_id} is not a group")
        if self.bot.id is not None and user_id == self.bot.id:
            self._set_bot_status(chat, status)
            return
        user = self.user(user_id)
        old = chat.members.get(user_id, "left")
        if old == status:
            return
        chat.members[user_id] = status
        if chat.bot_status in PRESENT_STATUSES:
            self.push_update(
                "chat_member",
                {
                    "chat": chat.api(),
                    "from": user.api(),
                    "date": int(self.clock()),
                    "old_chat_member": self.member_api(user.api(), old),
                    "new_chat_member": self.member_api(user.api(), status),
                },
            )
            content: dict[str, Any] | None = None
            if status in PRESENT_STATUSES and old not in PRESENT_STATUSES:
                content = {"new_chat_members": [user.api()]}
            elif status not in PRESENT_STATUSES and old in PRESENT_STATUSES:
                content = {"left_chat_member": user.api()}
            if content is not None:
                message = self.store_message(chat, user.api(), content)
                if self.visible_to_bot(chat, message):
                    self.push_update("message", message.data)
        self.bump(chat_id)

    def _set_bot_status(self, chat: SimChat, status: str) -> None:
        old = chat.bot_status
        if old == status:
            return
        chat.bot_status = status
        actor = next((self.users[u].api() for u, s in chat.members.items() if s in PRESENT_STATUSES), self.bot_user)
        self.push_update(
            "my_chat_member",
            {
                "chat": chat.api(),
                "from": actor,
                "date": int(self.clock()),
                "old_chat_member": self.member_api(self.bot_user, old),
                "new_chat_member": self.member_api(self.bot_user, status),
            },
        )
        if status in PRESENT_STATUSES and old not in PRESENT_STATUSES:
            message = self.store_message(chat, actor, {"new_chat_members": [self.bot_user]})
            self.push_update("message", message.data)
        self.bump(chat.id)
