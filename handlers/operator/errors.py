"""Domain refusals in the operators' words: one place for every desk handler (cards, /order, tools)."""

from __future__ import annotations

from domain.errors import (
    CardClosed,
    ConcurrentChange,
    DomainError,
    HotelOutsideRegion,
    InvalidAmount,
    InvalidNote,
    InvalidQuantity,
    InvalidTransition,
    NoChange,
    NotAllowed,
    NotFound,
    NothingOwed,
    NoTourist,
    PaidPriceUp,
    SessionNotBookable,
    SoldOut,
)
from domain.rules.pricing import MAX_TICKETS_PER_ORDER
from domain.use_cases import order_changes as oc
from handlers.ui import Translator


def domain_error_text(error: DomainError, tr: Translator, currency: str = "EUR") -> str:
    """A short, localized reason for a refusal of any desk use case (it fits a callback answer)."""
    _ = tr.gettext
    match error:
        case SoldOut():
            return _("Not enough free seats: {left} left.").format(left=error.data.get("left", 0))
        case SessionNotBookable():
            return _("That session can no longer be booked.")
        case PaidPriceUp():
            return _("A paid order can only get cheaper: we never charge more after payment.")
        case HotelOutsideRegion():
            return _("That hotel is not in the event's region.")
        case NoChange():
            return _("Nothing to change: the order is like that already.")
        case NothingOwed():
            return _("Nothing is owed to the tourist.")
        case InvalidAmount():
            owed = error.data.get("owed")
            return _("The amount must be between {low} and {high}.").format(
                low=tr.money(1, currency), high=tr.money(owed if isinstance(owed, int) else 0, currency)
            )
        case InvalidNote():
            if error.data.get("reason") == "too_long":
                return _("The note is too long: at most {limit} characters.").format(limit=oc.NOTE_MAX_LENGTH)
            return _("The note is empty.")
        case NoTourist():
            return _("The tourist's data was deleted: there is nobody to tell.")
        case InvalidQuantity():
            return _("Choose between 1 and {limit} tickets.").format(limit=MAX_TICKETS_PER_ORDER)
        case ConcurrentChange():
            return _("The order changed a moment ago. Here it is as it is now.")
        case NotFound():
            return _("Not found: it may have been removed.")
        case InvalidTransition():
            return _("This no longer applies to the order. Here it is as it is now.")
        case CardClosed():
            return _("This problem is already resolved.")
        case NotAllowed():
            return _("Not allowed.")
    return _("That did not work. Here is the order as it is now.")
