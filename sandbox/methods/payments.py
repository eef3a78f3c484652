"""Payments, the bot's side: ``sendInvoice`` and ``answerPreCheckoutQuery`` (the user's side is
:meth:`sandbox.users.UserActions.user_pays`; the emulator plays the payment provider)."""

from __future__ import annotations

import copy
import re
from typing import Any

from sandbox.errors import QUERY_TOO_OLD, ApiError, bad_request
from sandbox.methods.common import Method, bot_sends
from sandbox.state import WorldState


async def _send_invoice(world: WorldState, p: dict[str, Any]) -> Any:
    if p["currency"] != "XTR" and not p.get("provider_token"):
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    if not re.fullmatch(r"[A-Z]{3}", p["currency"]):
        raise bad_request("CURRENCY_INVALID")
    total = sum(price["amount"] for price in p["prices"])
    if total <= 0:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    invoice = {
        "title": p["title"],
        "description": p["description"],
        "start_parameter": p.get("start_parameter", ""),
        "currency": p["currency"],
        "total_amount": total,
    }
    sent = bot_sends(world, "sendInvoice", p, {"invoice": invoice})
    chat = world.chats[sent["chat"]["id"]]
    chat.messages[sent["message_id"]].meta.update(payload=p["payload"], prices=copy.deepcopy(p["prices"]))
    return sent


async def _answer_pre_checkout(world: WorldState, p: dict[str, Any]) -> Any:
    pending = world.checkouts.get(p["pre_checkout_query_id"])
    if pending is None or pending.future.done():
        raise ApiError(400, QUERY_TOO_OLD)
    if not p["ok"] and not p.get("error_message"):
        raise bad_request("error_message is required when ok is false")
    pending.future.set_result((bool(p["ok"]), p.get("error_message")))
    world.bump()
    return True


METHODS: dict[str, Method] = {
    "sendInvoice": _send_invoice,
    "answerPreCheckoutQuery": _answer_pre_checkout,
}
