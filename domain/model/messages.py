"""What the domain asks to be told to someone other than the acting user, and what it records.

Both are written in the same transaction as the change that caused them: outbox rows are delivered after commit by
the sender (rendered then, in the recipient's language); audit entries are never deleted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class OutboxKind(enum.StrEnum):
    BOOKING_REQUEST = "organiser.booking_request"  # the organiser must confirm or decline
    BOOKING_CANCELLED = "organiser.booking_cancelled"  # the tourist cancelled an order the organiser knew of
    TOURIST_QUESTION = "operator.tourist_question"  # relayed to the operator group
    ORDER_CONFIRMED = "tourist.order_confirmed"
    ORDER_DECLINED = "tourist.order_declined"
    # the order lifecycle (issue 4): payment, ticket, deadlines, reminders, rating
    INVOICE = "tourist.invoice"  # sendInvoice, valid until the pay deadline
    TICKET = "tourist.ticket"  # payment received: the ticket code and its QR image
    PAY_REMINDER = "tourist.pay_reminder"  # unpaid past the pay deadline: once
    ORDER_EXPIRED = "tourist.order_expired"  # seats released, with a button to book again
    SESSION_REMINDER = "tourist.session_reminder"  # before the session: meeting point and time
    RATING_REQUEST = "tourist.rating_request"  # after the session: 1-5
    CONFIRM_NUDGE = "organiser.confirm_nudge"  # silent past confirm_within: once
    PARTICIPANTS = "organiser.participants"  # the participant list before the session
    # the operator desk (issue 5): one card per problem subject, edited in place; a digest when they flood in
    PROBLEM_CARD = "operator.problem_card"
    PROBLEM_DIGEST = "operator.problem_digest"
    PROBLEM_RERAISED = "operator.problem_reraised"  # a reply to a card nobody handled in time
    # the operator desk's order changes (domain/order_changes.py)
    ORDER_CHANGED = "tourist.order_changed"  # an operator moved, resized, re-priced or cancelled it, or a new ticket
    ORDER_REFUNDED = "tourist.order_refunded"  # an operator returned money to the tourist
    TOURIST_NUDGE = "tourist.nudge"  # an operator reminds the tourist what to do next
    ORGANISER_ORDER_CHANGED = "organiser.order_changed"  # an operator confirmed, declined, moved, resized, cancelled
    # operator tools (issue 5): a whole session cancelled, a session suggested to a tourist
    SESSION_CANCELLED = "tourist.session_cancelled"  # the tourist's order ended with its session: reason, other dates
    SESSION_CANCELLED_ORGANISER = "organiser.session_cancelled"  # one message: the session, how many orders, reason
    EVENT_SUGGESTION = "tourist.event_suggestion"  # an operator sent an event card with a Book button
    # tourist questions (issue 5): answers, canned replies and "write to the tourist / organiser"
    TEAM_ANSWER = "tourist.team_answer"  # "Our team answers:" (and the text when the answer is text)
    CANNED_REPLY = "tourist.canned_reply"  # a template an operator picked, in the tourist's language
    TEAM_MESSAGE = "team.message"  # an operator writes to a tourist or an organiser: the header (and the text)
    TEAM_COPY = "team.copy"  # copyMessage of an operator's message (photo, voice, ...) after its header
    # recorded, never sent: a screen the bot showed in an update (not through the outbox), kept so it can be redrawn
    ORDER_CARD = "tourist.order_card"  # the order card shown when the tourist booked; redrawn when the order changes
    # the waitlist of a sold-out session (issue 13): seats offered with a claim button; the offer expired
    WAITLIST_OFFER = "tourist.waitlist_offer"
    WAITLIST_OFFER_EXPIRED = "tourist.waitlist_offer_expired"
    # the waiting room of a hot on-sale (issue 13): the tourist's one message, edited in place (a new one when their
    # turn comes, so that it rings); the operators' one summary card per on-sale, edited in place
    ROOM_PLACE = "tourist.room_place"
    ROOM_SUMMARY = "operator.room_summary"
    # the organiser's own tools (issue 14): an organiser asks the operators to cancel a session (one card per session)
    SESSION_CANCEL_REQUEST = "operator.session_cancel_request"
    # the day itself (issue 14): the tourist is running late (to the organiser, with the order); the organiser is at
    # the meeting point (to each tourist of the session, in their language)
    RUNNING_LATE = "organiser.running_late"
    AT_MEETING_POINT = "tourist.at_meeting_point"
    # offers (issue 15): an operator's offer to a segment of guests, in each one's language, paced below bookings
    OFFER = "tourist.offer"
    # rebooking by oneself (issue 15): the invoice for a dearer date's difference; the organiser told of a new date
    REBOOK_INVOICE = "tourist.rebook_invoice"
    ORGANISER_REBOOKED = "organiser.order_rebooked"
    # favourites (issue 15): new dates of a favourite event; a sold-out session of one has seats again
    FAVOURITE_NEW_DATES = "tourist.favourite_new_dates"
    FAVOURITE_SEATS = "tourist.favourite_seats"
    # places and media (issue 15): after the ticket the meeting point as a map pin and the .ics; a pin with a reminder
    TICKET_VENUE = "tourist.ticket_venue"
    TICKET_CALENDAR = "tourist.ticket_calendar"
    REMINDER_VENUE = "tourist.reminder_venue"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    kind: OutboxKind
    chat_id: int
    payload: dict[str, Any]
    due_at: datetime
    dedup_key: str  # one message per (kind, subject): a retry of the same change cannot send it twice
    # sent ahead of the queue (with its chat's earlier messages, which keep their order): for a message someone
    # must act on within a window that is already running, such as "It is your turn!" in a waiting room
    urgent: bool = False


def keyed_message(
    kind: OutboxKind, chat_id: int, payload: dict[str, Any], due_at: datetime, *key: object, urgent: bool = False
) -> OutboxMessage:
    """A message whose dedup key is its kind followed by ``key`` (the subject: ids, a version, a time stamp), joined
    by colons: ``keyed_message(PROBLEM_CARD, chat, payload, now, card.id, card.version)`` is sent once per card
    version. ``urgent``: see :attr:`OutboxMessage.urgent`."""
    return OutboxMessage(kind, chat_id, payload, due_at, ":".join([kind.value, *map(str, key)]), urgent)


def order_message(kind: OutboxKind, chat_id: int, order_id: int, now: datetime, **extra: Any) -> OutboxMessage:
    """A message about an order, due now: one per kind and order (its dedup key), however often it is asked for."""
    return keyed_message(kind, chat_id, {"order_id": order_id, **extra}, now, order_id)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str  # "user:<id>", "operator:<id>", "system"
    action: str
    order_id: int | None = None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


TOURIST = "tourist"


SYSTEM = "system"


def operator_actor(operator_id: int) -> str:
    """The audit actor (and a card's ``last_action`` actor) for an operator: ``operator:<id>``."""
    return f"operator:{operator_id}"
