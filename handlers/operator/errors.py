"""Domain refusals in the operators' words: one place for every desk handler."""

from __future__ import annotations

from bot.i18n import Translator
from domain.errors import DomainError


def domain_error_text(error: DomainError, tr: Translator) -> str:
    """A short, localized reason (fits a callback answer) for a refusal of any desk use case."""
    _ = tr.gettext
    match error.code:
        case "not_found":
            return _("Not found: it may have been deleted.")
        case "invalid_transition":
            return _("The order has changed meanwhile and this no longer applies. Open it again to see where it is.")
        case "concurrent_change":
            return _("Someone changed the order at the same moment. Please try again.")
        case "card_closed":
            return _("This problem is already resolved.")
        case "sold_out":
            return _("Not enough seats left on that session.")
        case "session_not_bookable":
            return _("That session cannot be booked any more (cancelled, started or about to start).")
        case "nothing_owed":
            return _("Nothing is owed to the tourist on this order.")
        case "invalid_amount":
            return _("That amount is not possible here.")
        case "paid_price_up":
            return _("The order is paid: a change may not make it dearer.")
        case "hotel_region":
            return _("That hotel is not in the event's region.")
        case "no_change":
            return _("Nothing to change: the order already is like that.")
        case "no_tourist":
            return _("The tourist's data was deleted: there is nobody to tell.")
        case "not_allowed":
            return _("Not allowed.")
    return _("That did not work ({code}). Nothing was changed.").format(code=error.code)
