"""An order's audit entries in the operators' words: who, what, and what changed.

The ``/order`` card shows the latest of them; ``/audit`` and the card's "History" show them all, a page at a time.
"""

from __future__ import annotations

from typing import Any

from aiogram import html

from domain.model.messages import AuditEntry
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


def actor_words(actor: str, tr: Translator) -> str:
    _ = tr.gettext
    kind, _sep, who = actor.partition(":")
    if kind == "operator":
        return _("operator {id}").format(id=html.quote(who))
    if kind == "organiser":
        return _("organiser")
    if kind in ("user", "tourist"):
        return _("tourist")
    if kind == "system":
        return _("system")
    return html.quote(actor)


def action_words(action: str, tr: Translator) -> str:
    words = ACTION_WORDS.get(action)
    return tr.gettext(words) if words else action


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def entry_details(entry: AuditEntry) -> str:
    """What changed: ``key: before → after`` for the values that differ, then what only ``after`` says."""
    if entry.action == "order.note":
        return str(entry.after.get("note", ""))
    parts = []
    for key, after in entry.after.items():
        if key in entry.before:
            if entry.before[key] != after:
                parts.append(f"{key}: {_value(entry.before[key])} → {_value(after)}")
        elif after not in (None, "", 0, False, {}):
            parts.append(f"{key}: {_value(after)}")
    return "; ".join(parts)


def entry_line(entry: AuditEntry, tr: Translator, timezone: str, limit: int = ENTRY_LIMIT) -> str:
    who, what = actor_words(entry.actor, tr), html.quote(action_words(entry.action, tr))
    line = f"{tr.datetime(entry.at, timezone)} · {who} · <b>{what}</b>"
    if details := entry_details(entry):
        shown_limit = limit
        shown = html.quote(cut(details, shown_limit))
        while len(shown) > limit and shown_limit > 20:  # quoting can make a text much longer (<<<<)
            shown_limit //= 2
            shown = html.quote(cut(details, shown_limit))
        line += ": " + shown
    return line


def audit_pages(tr: Translator, entries: list[AuditEntry], timezone: str) -> list[str]:
    """The entries, in the order given, cut into pages of whole entries under Telegram's limit."""
    lines = [entry_line(e, tr, timezone, AUDIT_ENTRY_LIMIT) for e in entries]
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if pages[-1] and size + len(line) + 1 > AUDIT_PAGE_BUDGET:
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    return ["\n".join(page) for page in pages]
