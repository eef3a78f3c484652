"""Domain errors: a code and data, never human text (the handlers translate the code)."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, **data: object) -> None:
        super().__init__(self.code, data)
        self.data = data


class NotFound(DomainError):
    code = "not_found"


class NotAllowed(DomainError):
    """The acting user may not touch this object (someone else's order, a forged id)."""

    code = "not_allowed"


class SoldOut(DomainError):
    """Fewer seats left than asked for; ``left`` carries how many remain."""

    code = "sold_out"


class SessionNotBookable(DomainError):
    """The session is cancelled, already started or too close to its start; ``reason`` :data:`SALES_STOPPED` when
    its organiser stopped its sales (``/sessions``)."""

    code = "session_not_bookable"


SALES_STOPPED = "sales_stopped"  # the ``reason`` of a :class:`SessionNotBookable` whose sales the organiser stopped


class InvalidQuantity(DomainError):
    code = "invalid_quantity"


class InvalidAnswer(DomainError):
    code = "invalid_answer"


class InvalidTransition(DomainError):
    """The order is no longer in a state where this action makes sense."""

    code = "invalid_transition"


class InvalidPhone(DomainError):
    code = "invalid_phone"


class ConcurrentChange(DomainError):
    """Someone else changed the object between our read and our write; re-read and retry or refuse."""

    code = "concurrent_change"


class InvalidRating(DomainError):
    """Stars outside 1..5."""

    code = "invalid_rating"


class SessionAlreadyCancelled(DomainError):
    code = "session_already_cancelled"


class SessionAlreadyStarted(DomainError):
    """A session that has started (or is over) is not cancelled from the desk: its orders are past."""

    code = "session_already_started"


class NothingOwed(DomainError):
    """A refund was asked for, but nothing is owed back to the tourist."""

    code = "nothing_owed"


class InvalidAmount(DomainError):
    """A refund amount outside 1..owed (``owed`` carries the maximum)."""

    code = "invalid_amount"


class PaidPriceUp(DomainError):
    """The change would make a paid order dearer: we never charge more after payment."""

    code = "paid_price_up"


class HotelOutsideRegion(DomainError):
    """The hotel is not in the event's region (its discount would not apply)."""

    code = "hotel_region"


class NoChange(DomainError):
    """The order already is like that: nothing to do."""

    code = "no_change"


class InvalidNote(DomainError):
    """``reason`` is ``empty`` or ``too_long`` (``limit``)."""

    code = "invalid_note"


class NoTourist(DomainError):
    """The tourist's data was deleted: there is nobody to tell."""

    code = "no_tourist"


class NoOperators(DomainError):
    """No operator chat is configured: nobody could read the question, so it is not accepted."""

    code = "no_operators"


class InvalidQuestion(DomainError):
    """``reason`` is ``empty`` or ``too_long`` (then ``limit`` and ``length`` say by how much)."""

    code = "invalid_question"


class CardClosed(DomainError):
    """The card was resolved meanwhile: nothing to do on it."""

    code = "card_closed"


class NotPayable(DomainError):
    """The order cannot take this payment; ``reason`` is one of :data:`REASONS`."""

    code = "not_payable"

    @property
    def reason(self) -> str:
        return str(self.data.get("reason", "unknown"))


class BadFindQuery(DomainError):
    """``reason``: empty, too_short, invalid_phone or unrecognised."""

    code = "bad_find_query"


class TouristUnreachable(DomainError):
    """The tourist blocked the bot (or deleted their data): nothing can be sent to them."""

    code = "tourist_unreachable"
