"""A payment Telegram reported, and the codes that tie money to an order: the invoice payload and the ticket code."""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from domain.model.orders import CODE_ALPHABET, Order

INVOICE_PAYLOAD_PREFIX = "order:"
# TKT-7KM-4XP-9RA: nine characters of CODE_ALPHABET (24**9, about 41 bits from `secrets`) in groups of three, read
# aloud like the order code; the prefix tells it apart from an order code wherever someone types one.
TICKET_PREFIX = "TKT"
TICKET_GROUPS = 3
TICKET_GROUP_LENGTH = 3
# Why money cannot pay an order (pre-checkout refusals and payments that are not applied share the codes).
UNKNOWN = "unknown"  # no such order (or a payload we never wrote)
NOT_YOURS = "not_yours"  # someone else's order (a forwarded invoice)
ALREADY_PAID = "already_paid"
CANCELLED = "cancelled"  # by the tourist, or the session was cancelled
DECLINED = "declined"  # by the organiser
EXPIRED = "expired"  # not paid by the pay deadline
SESSION_STARTED = "session_started"
NOT_DUE = "not_due"  # nothing to pay (yet): awaiting the organiser, or pay at the meeting point
AMOUNT = "amount"  # the amount or currency differs from the order's
REASONS = (
    UNKNOWN,
    NOT_YOURS,
    ALREADY_PAID,
    CANCELLED,
    DECLINED,
    EXPIRED,
    SESSION_STARTED,
    NOT_DUE,
    AMOUNT,
)


class PaymentResult(enum.StrEnum):
    APPLIED = "applied"  # the order is paid and its ticket issued
    DUPLICATE = "duplicate"  # this charge was recorded before: nothing changed, nothing sent
    NOT_APPLIED = "not_applied"  # recorded, but it did not pay the order: it is due back to the tourist


@dataclass(frozen=True, slots=True)
class Payer:
    """Who paid: the Telegram user the successful payment came from (not necessarily the order's tourist)."""

    id: int
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    """One successful charge Telegram reported; ``applied`` is False for money that did not pay the order;
    ``order_id`` is None for money whose order we cannot find (a problem card of its own). ``payer_*``: who paid
    (None for payments recorded before the payer was)."""

    order_id: int | None
    telegram_charge_id: str
    provider_charge_id: str
    amount_minor: int
    currency: str
    paid_at: datetime
    applied: bool
    payer_id: int | None = None
    payer_name: str | None = None

    def paid_by_someone_else(self, order: Order) -> bool:
        """Paid by another person than the order's tourist (a forwarded invoice, say)."""
        return self.payer_id is not None and self.payer_id != order.user_id


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    result: PaymentResult
    order: Order | None
    reason: str | None = None  # why it was not applied (one of REASONS)
    payment: Payment | None = None  # for a duplicate: the payment recorded the first time


def invoice_payload(order_id: int) -> str:
    return f"{INVOICE_PAYLOAD_PREFIX}{order_id}"


def parse_invoice_payload(payload: str | None) -> int | None:
    """The order id of a payload :func:`invoice_payload` wrote; None for anything else."""
    if not payload or not payload.startswith(INVOICE_PAYLOAD_PREFIX):
        return None
    digits = payload.removeprefix(INVOICE_PAYLOAD_PREFIX)
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return None
    order_id = int(digits)
    return order_id if order_id > 0 else None


def new_ticket_code() -> str:
    groups = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(TICKET_GROUP_LENGTH)) for _ in range(TICKET_GROUPS))
    return "-".join((TICKET_PREFIX, *groups))


_TICKET_CLEAN = re.compile(r"[\s\-#]")


def normalize_ticket_code(text: str) -> str | None:
    """What a person reads or types (``tkt 7km4xp9ra``, ``7KM-4XP-9RA``) as stored; None if it cannot be one."""
    raw = _TICKET_CLEAN.sub("", text).upper().removeprefix(TICKET_PREFIX)
    if len(raw) != TICKET_GROUPS * TICKET_GROUP_LENGTH or any(c not in CODE_ALPHABET for c in raw):
        return None
    groups = (raw[i : i + TICKET_GROUP_LENGTH] for i in range(0, len(raw), TICKET_GROUP_LENGTH))
    return "-".join((TICKET_PREFIX, *groups))
