"""An order's audit entries in the operators' words: who, what, and what changed.

The ``/order`` card shows the latest of them; ``/audit`` and the card's "History" show them all, a page at a time.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from aiogram import html

from domain.model.messages import AuditEntry
from domain.model.orders import BookingStatus, PaymentStatus, TicketStatus
from domain.ports import UnitOfWork
from domain.rules.problems import ProblemKind
from handlers.operator.cards import KIND_TITLES
from handlers.operator.desk_time import DeskClock
from handlers.status_words import operator_booking_words, operator_payment_words, operator_ticket_words
from handlers.tourist.labels import ticket_type_name
from handlers.ui import N_, Translator, cut

ENTRY_LIMIT = 300  # characters of one entry's details on the card
AUDIT_ENTRY_LIMIT = 1200  # in the history: a whole note
AUDIT_PAGE_BUDGET = 3600  # characters of entries per page of the history

ACTION_WORDS: dict[str, str] = {
    "order.placed": N_("order placed"),
    "order.confirmed_by_organiser": N_("confirmed by the organiser"),
    "order.declined_by_organiser": N_("declined by the organiser"),
    "order.unclear_organiser_reply": N_("unclear answer from the organiser"),
    "order.cancelled_by_tourist": N_("cancelled by the tourist"),
    "order.expired": N_("expired"),
    "order.organiser_nudged": N_("organiser reminded"),
    "order.pay_reminded": N_("tourist reminded to pay"),
    "order.rated": N_("rated"),
    "payment.received": N_("payment received"),
    "payment.not_applied": N_("payment not applied (due back)"),
    "reminder.sent": N_("reminder sent"),
    "reminder.skipped": N_("reminder skipped"),
    "order.confirmed_for_organiser": N_("confirmed for the organiser"),
    "order.declined_for_organiser": N_("declined for the organiser"),
    "order.tourist_reminded": N_("tourist reminded"),
    "order.cancelled_by_operator": N_("cancelled by an operator"),
    "order.refund_recorded": N_("refund recorded"),
    "order.ticket_reissued": N_("ticket replaced"),
    "order.session_changed": N_("session changed"),
    "order.quantities_changed": N_("tickets changed"),
    "order.hotel_set": N_("hotel changed"),
    "order.note": N_("note"),
}


def actor_words(actor: str, tr: Translator, names: Mapping[int, str] | None = None) -> str:
    """Who did it: an operator by name where we know it (else a link to their profile), the organiser, the
    tourist, the system."""
    _ = tr.gettext
    kind, _sep, who = actor.partition(":")
    if kind == "operator":
        if who.isdigit() and names and (name := names.get(int(who))):
            return html.quote(name)
        return f'<a href="tg://user?id={html.quote(who)}">{_("an operator")}</a>' if who.isdigit() else _("an operator")
    if kind == "organiser":
        return _("organiser")
    if kind in ("user", "tourist"):
        return _("tourist")
    if kind == "system":
        return _("system")
    return html.quote(actor)


async def actor_names(uow: UnitOfWork, entries: Sequence[AuditEntry]) -> dict[int, str]:
    """The names we know of the operators in ``entries`` (those who ever spoke to the bot), read in a transaction
    of its own."""
    ids = {
        int(who) for e in entries if (parts := e.actor.partition(":"))[0] == "operator" and (who := parts[2]).isdigit()
    }
    names: dict[int, str] = {}
    if not ids:
        return names
    async with uow:
        for operator_id in sorted(ids):
            user = await uow.users.get(operator_id)
            if user is not None and user.first_name:
                names[operator_id] = user.first_name
    return names


def action_words(action: str, tr: Translator) -> str:
    words = ACTION_WORDS.get(action)
    return tr.gettext(words) if words else action.replace("_", " ").replace(".", ": ")


# What a change's keys are called; keys not shown at all (bookkeeping, or folded into another key's words).
KEY_WORDS: dict[str, str] = {
    "booking": N_("booking"),
    "payment": N_("payment"),
    "ticket": N_("ticket"),
    "amount_minor": N_("amount"),
    "total_minor": N_("total"),
    "refunded_minor": N_("refunded"),
    "stray_minor": N_("owed back"),
    "stray_other": N_("owed back"),
    "partial_refund_minor": N_("partial refund due"),
    "refund_due_minor": N_("refund due"),
    "telegram_charge_id": N_("Telegram charge"),
    "provider_charge_id": N_("provider charge"),
    "payer_name": N_("payer"),
    "payer_id": N_("payer"),
    "session_id": N_("session"),
    "starts_at": N_("starts"),
    "hold_until": N_("seats held until"),
    "items": N_("tickets"),
    "hotel_id": N_("hotel"),
    "discount_percent": N_("discount"),
    "ticket_code": N_("ticket code"),
    "kinds": N_("problems"),
    "reason": N_("reason"),
    "rating": N_("rating"),
    "change": N_("change"),
}
HIDDEN_KEYS = frozenset(
    {"currency", "version", "order_id", "event_id", "card", "card_id", "digest_id", "message_id", "chat", "thread"}
)
_STATUS_WORDS: dict[str, Callable[[Translator, str], str]] = {
    "booking": lambda tr, v: operator_booking_words(tr, BookingStatus(v)),
    "payment": lambda tr, v: operator_payment_words(tr, PaymentStatus(v)),
    "ticket": lambda tr, v: operator_ticket_words(tr, TicketStatus(v)),
}
_CODE = re.compile(r"^[a-z]+(_[a-z]+)+$")


def _value(key: str, value: Any, tr: Translator, clock: DeskClock, currency: str) -> str:
    """One value in words: statuses, money, times in the desk's zone, ticket types, problem kinds."""
    if key in _STATUS_WORDS and isinstance(value, str):
        with contextlib.suppress(ValueError):
            return _STATUS_WORDS[key](tr, value)
    if key.endswith("_minor") and isinstance(value, int):
        return tr.money(value, currency)
    if key == "stray_other" and isinstance(value, dict):
        return ", ".join(tr.money(int(a), str(c)) for c, a in value.items()) or "—"
    if key == "items" and isinstance(value, dict):
        return ", ".join(f"{ticket_type_name(str(t), tr)} × {q}" for t, q in value.items())
    if key == "kinds" and isinstance(value, list):
        return ", ".join(_kind(str(k), tr) for k in value)
    if key == "discount_percent" and isinstance(value, int):
        return f"{value}%"
    if isinstance(value, bool):
        return tr.gettext("yes") if value else tr.gettext("no")
    if isinstance(value, dict):
        return ", ".join(f"{_words(str(k))} {_value(str(k), v, tr, clock, currency)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_value(key, v, tr, clock, currency) for v in value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None and "T" in value:
                return clock.datetime(moment)
        return _words(value) if _CODE.match(value) else value
    return str(value)


def _words(code: str) -> str:
    return code.replace("_", " ") if _CODE.match(code) else code


def _kind(code: str, tr: Translator) -> str:
    try:
        return tr.gettext(KIND_TITLES[ProblemKind(code)])
    except ValueError:
        return _words(code)


def _key(key: str, tr: Translator) -> str:
    words = KEY_WORDS.get(key)
    return tr.gettext(words) if words else _words(key.removesuffix("_id"))


def entry_details(entry: AuditEntry, tr: Translator, clock: DeskClock, currency: str) -> str:
    """What changed, in words: ``booking: awaiting the organiser → confirmed`` for the values that differ, then
    what only ``after`` says (``amount: €90.00``)."""
    if entry.action == "order.note":
        return str(entry.after.get("note", ""))
    currency = str(entry.after.get("currency") or entry.before.get("currency") or currency)
    after_only = entry.after
    if "payer_name" in after_only:
        after_only = {k: v for k, v in after_only.items() if k != "payer_id"}

    def shown(key: str, value: Any) -> str:
        return _value(key, value, tr, clock, currency)

    parts = []
    for key, after in after_only.items():
        if key in HIDDEN_KEYS:
            continue
        if key in entry.before:
            if entry.before[key] != after:
                parts.append(f"{_key(key, tr)}: {shown(key, entry.before[key])} → {shown(key, after)}")
        elif after not in (None, "", 0, False, {}):
            parts.append(f"{_key(key, tr)}: {shown(key, after)}")
    return "; ".join(parts)


def entry_line(
    entry: AuditEntry,
    tr: Translator,
    clock: DeskClock,
    currency: str,
    names: Mapping[int, str] | None = None,
    limit: int = ENTRY_LIMIT,
) -> str:
    """One entry: when (in the desk's zone), who (by name where we know it), what, and what changed in words."""
    who, what = actor_words(entry.actor, tr, names), html.quote(action_words(entry.action, tr))
    line = f"{clock.datetime(entry.at)} · {who} · <b>{what}</b>"
    if details := entry_details(entry, tr, clock, currency):
        shown_limit = limit
        shown = html.quote(cut(details, shown_limit))
        while len(shown) > limit and shown_limit > 20:  # quoting can make a text much longer (<<<<)
            shown_limit //= 2
            shown = html.quote(cut(details, shown_limit))
        line += ": " + shown
    return line


def audit_pages(
    tr: Translator, entries: list[AuditEntry], clock: DeskClock, currency: str, names: Mapping[int, str]
) -> list[str]:
    """The entries, in the order given, cut into pages of whole entries under Telegram's limit."""
    lines = [entry_line(e, tr, clock, currency, names, AUDIT_ENTRY_LIMIT) for e in entries]
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if pages[-1] and size + len(line) + 1 > AUDIT_PAGE_BUDGET:
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    return ["\n".join(page) for page in pages]
