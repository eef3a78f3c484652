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
    """The session is cancelled, already started or too close to its start."""

    code = "session_not_bookable"


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
