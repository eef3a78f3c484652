"""Which orders need an operator, and what to do about them — the rules as data.

An order's condition is the combination of its dimensions (:class:`OrderFacts`): booking, payment and ticket
statuses, the session's state, whether a deadline passed, and flags that are problems whenever they are set (the
organiser's unclear reply, a low rating, a message we could not deliver, money to return). :data:`NORMAL` is the
whitelist of combinations that need nobody; every other combination is a problem. :data:`RULES` says which problem
kinds a combination shows (most urgent first), each with the actions that fit it; the operators' hint for a kind
is its text in ``locales/`` (the handlers map the code to words). A combination that is neither normal nor matched
by a rule is :attr:`ProblemKind.INCONSISTENT` — a state the code should never reach, still shown with a hint.

``tests/unit/test_problems.py`` enumerates every combination of the dimensions and proves each is normal or has a
kind with a hint in every language, and drives random sequences of real transitions to prove that no reachable
state is INCONSISTENT.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime

from domain.model.orders import (
    ACTIVE_BOOKINGS,
    MONEY_HELD,
    BookingStatus,
    Order,
    PaymentStatus,
    TicketStatus,
)

LOW_RATING_MAX = 2  # 1 or 2 stars: the order becomes a problem for the operators


class SessionState(enum.StrEnum):
    UPCOMING = "upcoming"
    STARTED = "started"  # it started (or is over)
    CANCELLED = "cancelled"


class ProblemKind(enum.StrEnum):
    """Most urgent first: a card lists its kinds in this order."""

    SESSION_CANCELLED = "session_cancelled"  # the session was cancelled but the order still stands
    REFUND_DUE = "refund_due"  # the booking is over but we hold the tourist's money
    LATE_PAYMENT = "late_payment"  # money arrived that did not pay the order (after expiry, or twice)
    PAID_NO_TICKET = "paid_no_ticket"
    ORGANISER_SILENT = "organiser_silent"  # no answer past the confirm deadline
    UNCLEAR_REPLY = "unclear_reply"  # the organiser answered neither yes nor no
    UNPAID = "unpaid"  # confirmed, not paid past the pay deadline
    PARTIAL_REFUND_DUE = "partial_refund_due"  # a change made a paid order cheaper (e.g. a partner hotel)
    UNDELIVERED = "undelivered"  # a message about the order could not be delivered
    LOW_RATING = "low_rating"
    QUESTION_UNANSWERED = "question_unanswered"  # a tourist's question waits past the answer time
    UNMATCHED_PAYMENT = "unmatched_payment"  # money arrived for an order we cannot find
    INCONSISTENT = "inconsistent"  # no rule explains this combination


class Action(enum.StrEnum):
    """What a card's buttons can do; each kind offers those that fit it (plus the common ones)."""

    CONFIRM = "confirm"  # confirm for the organiser
    DECLINE = "decline"  # decline for the organiser
    REMIND = "remind"  # remind the tourist of what they must do
    WRITE_TOURIST = "write_tourist"  # the operator's next message goes to the tourist
    WRITE_ORGANISER = "write_organiser"
    REFUND = "refund"  # record a refund (full or an amount)
    CANCEL = "cancel"  # cancel the order
    REISSUE = "reissue"  # a new ticket (the old code void)
    OPEN = "open"  # the order's full card
    TAKE = "take"  # assign to me
    SNOOZE = "snooze"  # 15 min or 1 h
    RESOLVE = "resolve"  # handled: close the card


COMMON_ACTIONS = (Action.TAKE, Action.SNOOZE, Action.RESOLVE)


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """The dimensions the rules look at; :func:`order_facts` reads them off an order at a moment."""

    booking: BookingStatus
    payment: PaymentStatus
    ticket: TicketStatus
    session: SessionState
    confirm_overdue: bool = False  # awaiting the organiser past confirm_by
    pay_overdue: bool = False  # awaiting payment past pay_by
    unclear_reply: bool = False
    low_rating: bool = False
    undelivered: bool = False
    stray_money: bool = False  # money received that did not pay the order, not yet returned
    late_payment: bool = False  # refund due of money that came after the booking ended (it never paid it)
    partial_refund: bool = False  # money owed back after a change

    @property
    def flagged(self) -> bool:
        return (
            self.unclear_reply
            or self.low_rating
            or self.undelivered
            or self.stray_money
            or self.partial_refund
            or self.late_payment
        )


def order_facts(order: Order, session_starts_at: datetime, session_cancelled: bool, now: datetime) -> OrderFacts:
    if session_cancelled:
        session = SessionState.CANCELLED
    elif session_starts_at <= now:
        session = SessionState.STARTED
    else:
        session = SessionState.UPCOMING
    return OrderFacts(
        booking=order.booking,
        payment=order.payment,
        ticket=order.ticket,
        session=session,
        confirm_overdue=(
            order.booking is BookingStatus.AWAITING_ORGANISER
            and order.confirm_by is not None
            and order.confirm_by <= now
        ),
        pay_overdue=(order.payment is PaymentStatus.AWAITING and order.pay_by is not None and order.pay_by <= now),
        unclear_reply=bool(order.unclear_reply) and order.booking is BookingStatus.AWAITING_ORGANISER,
        low_rating=order.rating is not None and order.rating <= LOW_RATING_MAX,
        undelivered=order.undelivered is not None,
        stray_money=order.stray_minor > 0 or any(amount > 0 for amount in order.stray_other.values()),
        late_payment=order.payment is PaymentStatus.REFUND_DUE and order.paid_at is None,
        partial_refund=order.partial_refund_minor > 0,
    )


# ---- the whitelist ------------------------------------------------------------------------------------------------

_ANY_SESSION = frozenset(SessionState)
_OVER = frozenset({BookingStatus.DECLINED, BookingStatus.CANCELLED, BookingStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class Normal:
    """A combination that needs nobody: every listed dimension within its set, no deadline passed that matters,
    no flag set."""

    name: str
    booking: frozenset[BookingStatus]
    payment: frozenset[PaymentStatus]
    ticket: frozenset[TicketStatus]
    session: frozenset[SessionState] = _ANY_SESSION
    confirm_overdue_ok: bool = False
    pay_overdue_ok: bool = False

    def matches(self, facts: OrderFacts) -> bool:
        return (
            facts.booking in self.booking
            and facts.payment in self.payment
            and facts.ticket in self.ticket
            and facts.session in self.session
            and (self.confirm_overdue_ok or not facts.confirm_overdue)
            and (self.pay_overdue_ok or not facts.pay_overdue)
            and not facts.flagged
        )


NORMAL: tuple[Normal, ...] = (
    Normal(
        "awaiting the organiser, in time",
        frozenset({BookingStatus.AWAITING_ORGANISER}),
        frozenset({PaymentStatus.NOT_DUE}),
        frozenset({TicketStatus.NONE}),
        frozenset({SessionState.UPCOMING}),
    ),
    Normal(
        "confirmed, paying in time",
        frozenset({BookingStatus.CONFIRMED}),
        frozenset({PaymentStatus.AWAITING}),
        frozenset({TicketStatus.NONE}),
        frozenset({SessionState.UPCOMING}),
    ),
    Normal(
        "confirmed, pays at the meeting point",
        frozenset({BookingStatus.CONFIRMED}),
        frozenset({PaymentStatus.ON_SITE}),
        frozenset({TicketStatus.NONE}),
        frozenset({SessionState.UPCOMING, SessionState.STARTED}),
    ),
    Normal(
        "confirmed and paid, ticket issued",
        frozenset({BookingStatus.CONFIRMED, BookingStatus.ATTENDED}),
        frozenset(MONEY_HELD),
        frozenset({TicketStatus.ISSUED}),
        frozenset({SessionState.UPCOMING, SessionState.STARTED}),
    ),
    Normal(
        "over before the session, nothing paid",
        _OVER,
        frozenset({PaymentStatus.NOT_DUE}),
        frozenset({TicketStatus.NONE, TicketStatus.VOIDED}),
    ),
    Normal(
        "over, the money returned",
        _OVER,
        frozenset({PaymentStatus.REFUNDED}),
        frozenset({TicketStatus.NONE, TicketStatus.VOIDED}),
    ),
    Normal(
        "the session took place",
        frozenset({BookingStatus.ATTENDED, BookingStatus.NO_SHOW}),
        frozenset({*MONEY_HELD, PaymentStatus.ON_SITE}),
        frozenset({TicketStatus.ISSUED, TicketStatus.NONE}),
        frozenset({SessionState.STARTED}),
    ),
)


def is_normal(facts: OrderFacts) -> bool:
    return any(rule.matches(facts) for rule in NORMAL)


# ---- the problems -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    kind: ProblemKind
    applies: Callable[[OrderFacts], bool]
    actions: tuple[Action, ...]


RULES: tuple[Rule, ...] = (
    Rule(
        ProblemKind.SESSION_CANCELLED,
        lambda f: f.session is SessionState.CANCELLED and f.booking in ACTIVE_BOOKINGS,
        (Action.CANCEL, Action.WRITE_TOURIST, Action.OPEN),
    ),
    Rule(
        ProblemKind.REFUND_DUE,
        lambda f: f.payment is PaymentStatus.REFUND_DUE and not f.late_payment,
        (Action.REFUND, Action.WRITE_TOURIST, Action.OPEN),
    ),
    Rule(
        ProblemKind.LATE_PAYMENT,
        lambda f: f.stray_money or f.late_payment,
        (Action.REFUND, Action.WRITE_TOURIST, Action.OPEN),
    ),
    Rule(
        ProblemKind.PAID_NO_TICKET,
        lambda f: (
            f.payment in MONEY_HELD
            and f.ticket is not TicketStatus.ISSUED
            and f.booking in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW)
        ),
        (Action.REISSUE, Action.WRITE_TOURIST, Action.OPEN),
    ),
    Rule(
        ProblemKind.ORGANISER_SILENT,
        lambda f: (
            f.booking is BookingStatus.AWAITING_ORGANISER
            and f.session is not SessionState.CANCELLED
            and (f.confirm_overdue or f.session is SessionState.STARTED)
        ),
        (
            Action.CONFIRM,
            Action.DECLINE,
            Action.WRITE_ORGANISER,
            Action.WRITE_TOURIST,
            Action.OPEN,
        ),
    ),
    Rule(
        ProblemKind.UNCLEAR_REPLY,
        lambda f: f.unclear_reply and f.booking is BookingStatus.AWAITING_ORGANISER,
        (Action.CONFIRM, Action.DECLINE, Action.WRITE_ORGANISER, Action.OPEN),
    ),
    Rule(
        ProblemKind.UNPAID,
        lambda f: (
            f.booking is BookingStatus.CONFIRMED
            and f.payment is PaymentStatus.AWAITING
            and f.session is not SessionState.CANCELLED
            and (f.pay_overdue or f.session is SessionState.STARTED)
        ),
        (Action.REMIND, Action.WRITE_TOURIST, Action.CANCEL, Action.OPEN),
    ),
    Rule(
        ProblemKind.PARTIAL_REFUND_DUE,
        lambda f: f.partial_refund,
        (Action.REFUND, Action.WRITE_TOURIST, Action.OPEN),
    ),
    Rule(
        ProblemKind.UNDELIVERED,
        lambda f: f.undelivered,
        (Action.WRITE_TOURIST, Action.WRITE_ORGANISER, Action.OPEN),
    ),
    Rule(
        ProblemKind.LOW_RATING,
        lambda f: f.low_rating,
        (Action.WRITE_TOURIST, Action.WRITE_ORGANISER, Action.OPEN),
    ),
)

QUESTION_ACTIONS = (Action.WRITE_TOURIST,)
UNMATCHED_PAYMENT_ACTIONS = (Action.WRITE_TOURIST,)  # the payer; the money goes back in the provider's dashboard
INCONSISTENT_ACTIONS = (Action.OPEN, Action.WRITE_TOURIST)
_ACTIONS = {rule.kind: rule.actions for rule in RULES} | {
    ProblemKind.QUESTION_UNANSWERED: QUESTION_ACTIONS,
    ProblemKind.UNMATCHED_PAYMENT: UNMATCHED_PAYMENT_ACTIONS,
    ProblemKind.INCONSISTENT: INCONSISTENT_ACTIONS,
}
_ORDER = {kind: index for index, kind in enumerate(ProblemKind)}


def problems(facts: OrderFacts) -> list[ProblemKind]:
    """The problem kinds of a combination, most urgent first; empty when it is normal."""
    if is_normal(facts):
        return []
    found = [rule.kind for rule in RULES if rule.applies(facts)]
    return found or [ProblemKind.INCONSISTENT]


def open_problems(facts: OrderFacts, acknowledged: list[str]) -> list[ProblemKind]:
    """The problems an operator has not marked handled."""
    return [kind for kind in problems(facts) if kind.value not in acknowledged]


def actions_for(kinds: list[ProblemKind] | list[str]) -> list[Action]:
    """The buttons of a card with these kinds: each kind's actions in order without repeats, then the common
    ones."""
    seen: list[Action] = []
    for kind in sorted((ProblemKind(k) for k in kinds), key=_ORDER.__getitem__):
        for action in _ACTIONS[kind]:
            if action not in seen:
                seen.append(action)
    return seen + [a for a in COMMON_ACTIONS if a not in seen]


def sort_kinds(kinds: list[ProblemKind] | list[str]) -> list[ProblemKind]:
    return sorted((ProblemKind(k) for k in kinds), key=_ORDER.__getitem__)


def all_combinations() -> Iterator[OrderFacts]:
    """Every combination of the dimensions (for the exhaustiveness test)."""
    flags = [f.name for f in fields(OrderFacts)][4:]
    for booking, payment, ticket, session in itertools.product(
        BookingStatus, PaymentStatus, TicketStatus, SessionState
    ):
        for values in itertools.product((False, True), repeat=len(flags)):
            yield OrderFacts(
                booking,
                payment,
                ticket,
                session,
                **dict(zip(flags, values, strict=True)),
            )
