"""In-memory fakes of every port in ``domain/ports.py``: fast, honest service tests without a database.

They keep the contracts the SQL implementations keep: a unit of work rolls back unless committed (by restoring a
deep-copied snapshot), seats are taken only if enough are left on a scheduled session, ``orders.save`` refuses a
stale version with :class:`ConcurrentChange`, outbox rows are deduplicated by ``dedup_key``, the desk sees an order
again when its version moved past the one it saw, and every read of a mutable record returns a copy, so a change is
only stored when the domain saves it. ``tests/unit/test_fakes.py`` checks them against the ports.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from bot.storage.catalog import (
    event_from_row,
    hotel_from_row,
    organiser_from_row,
    region_from_row,
    session_from_row,
)
from bot.storage.tables import EventRow, HotelRow, OrganiserRow, RegionRow, SessionRow
from domain.discount_ports import DiscountCodeRepository
from domain.errors import ConcurrentChange
from domain.favourite_ports import FavouriteRepository
from domain.model.catalog import (
    Event,
    EventSession,
    EventSummary,
    Hotel,
    Organiser,
    Region,
    SessionStatus,
)
from domain.model.checkin import OrderDay, SessionDay
from domain.model.desk import Card
from domain.model.discount_codes import DiscountCode
from domain.model.favourites import Favourite
from domain.model.messages import AuditEntry, OutboxMessage
from domain.model.offers import Offer
from domain.model.orders import ACTIVE_BOOKINGS, BookingStatus, Order, PaymentStatus
from domain.model.organiser_settings import OrganiserExtras
from domain.model.payments import Payment
from domain.model.points import PointsEntry, PointsRule, Referral
from domain.model.questions import DeskTopic, QuestionThread, RelayMessage, ThreadStatus
from domain.model.reminders import DueStatus, Reminder, SessionNotice
from domain.model.users import User
from domain.model.waiting_room import Place, WaitingRoom
from domain.model.waitlist import OPEN as WAITLIST_OPEN
from domain.model.waitlist import WaitlistEntry, WaitlistStatus
from domain.offer_ports import OfferRepository
from domain.place_ports import PlaceRepository
from domain.points_ports import PointsRepository
from domain.ports import (
    AuditRepository,
    CatalogRepository,
    CheckinRepository,
    DeskRepository,
    OrderRepository,
    OrganiserCatalogRepository,
    OrganiserSettingsRepository,
    OutboxRepository,
    PaymentRepository,
    QuestionRepository,
    ReminderRepository,
    SeatRepository,
    UserRepository,
    WaitingRoomRepository,
    WaitlistRepository,
)
from tests import seed
from tests.fake_checkins import FakeCheckinRepository
from tests.fake_discount_codes import FakeDiscountCodeRepository
from tests.fake_favourites import FakeFavouriteRepository
from tests.fake_offers import FakeOfferRepository
from tests.fake_organiser_catalog import FakeOrganiserCatalogRepository
from tests.fake_organiser_settings import FakeOrganiserSettingsRepository
from tests.fake_places import FakePlaceRepository
from tests.fake_points import FakePointsRepository
from tests.fake_rooms import FakeWaitingRoomRepository
from tests.seed import Seeded

UNSEEN = -1  # the version the desk saw of an order it never looked at (the SQL default of desk_seen_version)


class FixedClock:
    """The :class:`domain.ports.Clock` tests move by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


@dataclass
class FakeState:
    """Everything a database would hold; a unit of work snapshots and restores it."""

    regions: dict[int, Region] = field(default_factory=dict)
    hotels: dict[int, Hotel] = field(default_factory=dict)
    organisers: dict[int, Organiser] = field(default_factory=dict)
    events: dict[int, Event] = field(default_factory=dict)
    sessions: dict[int, EventSession] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)
    sent_messages: dict[tuple[int, int], OutboxMessage] = field(default_factory=dict)  # (chat id, message id)
    audit: list[AuditEntry] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    refunded_payments: dict[str, datetime] = field(default_factory=dict)  # telegram charge id -> refunded at
    reminders: list[Reminder] = field(default_factory=list)
    notices: list[SessionNotice] = field(default_factory=list)
    next_order_id: int = 1
    question_threads: dict[int, QuestionThread] = field(default_factory=dict)  # by user id
    relays: dict[tuple[int, int], RelayMessage] = field(default_factory=dict)  # by (chat id, message id)
    desk_topics: dict[str, DeskTopic] = field(default_factory=dict)
    next_thread_id: int = 1
    cards: dict[int, Card] = field(default_factory=dict)
    next_card_id: int = 1
    desk_seen: dict[int, int] = field(default_factory=dict)  # order id -> the version the desk saw (else UNSEEN)
    desk_check_at: dict[int, datetime] = field(default_factory=dict)  # order id -> when the desk looks again
    waitlist: dict[int, WaitlistEntry] = field(default_factory=dict)  # by entry id
    next_waitlist_id: int = 1
    rooms: dict[int, WaitingRoom] = field(default_factory=dict)  # by session id
    places: dict[int, Place] = field(default_factory=dict)  # by place id
    next_room_id: int = 1
    next_place_id: int = 1
    order_days: dict[int, OrderDay] = field(default_factory=dict)  # by order id
    session_days: dict[int, SessionDay] = field(default_factory=dict)  # by session id
    organiser_extras: dict[int, OrganiserExtras] = field(default_factory=dict)  # by organiser id
    organiser_changes: dict[tuple[int, str], Any] = field(default_factory=dict)  # (organiser id, key) -> catalog's
    discount_codes: dict[str, DiscountCode] = field(default_factory=dict)  # by code
    points_ledger: list[PointsEntry] = field(default_factory=list)  # tests/fake_points.py
    points_rules: dict[tuple[str, int], PointsRule] = field(default_factory=dict)  # (region|organiser, id)
    referrals: dict[int, Referral] = field(default_factory=dict)  # by user id
    discount_code_uses: dict[tuple[str, int], int | None] = field(default_factory=dict)  # (code, user) -> order
    offers: dict[int, Offer] = field(default_factory=dict)  # by offer id
    offer_deliveries: set[tuple[int, int]] = field(default_factory=set)  # (offer id, user id)
    offers_opt_out: set[int] = field(default_factory=set)  # user ids
    favourites: dict[tuple[int, int], Favourite] = field(default_factory=dict)  # (user id, event id)
    favourite_sold_out: dict[int, datetime] = field(default_factory=dict)  # session id -> since


class _Repository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _state(self) -> FakeState:
        return self._uow.require_open()


class FakeUserRepository(_Repository):
    async def get(self, user_id: int) -> User | None:
        return copy.deepcopy(self._state.users.get(user_id))

    async def add(self, user: User) -> None:
        if user.id in self._state.users:
            raise ValueError(f"user {user.id} exists")  # the primary key would refuse it
        self._state.users[user.id] = copy.deepcopy(user)

    async def save(self, user: User) -> None:
        if user.id in self._state.users:  # an UPDATE of a missing row changes nothing
            self._state.users[user.id] = copy.deepcopy(user)

    async def delete(self, user_id: int) -> None:
        self._state.users.pop(user_id, None)
        for key in [k for k in self._state.favourites if k[0] == user_id]:  # ON DELETE CASCADE
            del self._state.favourites[key]


class FakeCatalogRepository(_Repository):
    async def regions(self) -> Sequence[Region]:
        return sorted(self._state.regions.values(), key=lambda r: r.code)

    async def region(self, region_id: int) -> Region | None:
        return self._state.regions.get(region_id)

    async def event(self, event_id: int) -> Event | None:
        return self._state.events.get(event_id)

    async def event_by_code(self, code: str) -> Event | None:
        return next((e for e in self._state.events.values() if e.code == code), None)

    async def organiser(self, organiser_id: int) -> Organiser | None:
        return self._state.organisers.get(organiser_id)

    async def hotel(self, hotel_id: int) -> Hotel | None:
        return self._state.hotels.get(hotel_id)

    async def search_hotels(self, region_id: int, text: str, limit: int) -> Sequence[Hotel]:
        needle = text.casefold()
        found = [h for h in self._state.hotels.values() if h.region_id == region_id and needle in h.name.casefold()]
        return sorted(found, key=lambda h: h.name)[:limit]

    async def session(self, session_id: int) -> EventSession | None:
        return self._state.sessions.get(session_id)

    async def upcoming_sessions(self, event_id: int, after: datetime, limit: int) -> Sequence[EventSession]:
        found = [
            s
            for s in self._state.sessions.values()
            if s.event_id == event_id and s.starts_at > after and s.status is SessionStatus.SCHEDULED
        ]
        return sorted(found, key=lambda s: s.starts_at)[:limit]

    def _in_window(self, region_id: int, start: datetime, end: datetime) -> list[tuple[Event, EventSession]]:
        pairs = []
        for s in self._state.sessions.values():
            event = self._state.events[s.event_id]
            on_sale = s.status is SessionStatus.SCHEDULED and not s.sales_stopped
            if event.region_id == region_id and start <= s.starts_at < end and on_sale:
                pairs.append((event, s))
        return pairs

    async def categories(self, region_id: int, start: datetime, end: datetime) -> Sequence[tuple[str, int]]:
        events: dict[str, set[int]] = {}
        for event, _ in self._in_window(region_id, start, end):
            events.setdefault(event.category, set()).add(event.id)
        return [(category, len(ids)) for category, ids in sorted(events.items())]

    async def event_summaries(
        self, region_id: int, start: datetime, end: datetime, category: str | None, offset: int, limit: int
    ) -> tuple[Sequence[EventSummary], int]:
        grouped: dict[int, list[EventSession]] = {}
        for event, s in self._in_window(region_id, start, end):
            if category is None or event.category == category:
                grouped.setdefault(event.id, []).append(s)
        # each line names one session (the first with free seats, else the first) with its own seats
        firsts = {
            event_id: min(group, key=lambda s: (s.seats_left <= 0, s.starts_at, s.id))
            for event_id, group in grouped.items()
        }
        summaries = [
            EventSummary(
                event=self._state.events[event_id],
                next_start=firsts[event_id].starts_at,
                sessions_in_window=len(group),
                seats_left=firsts[event_id].seats_left,
                price_from_minor=min((t.price_minor for t in self._state.events[event_id].ticket_types), default=0),
            )
            for event_id, group in grouped.items()
        ]
        summaries.sort(key=lambda summary: (summary.next_start, summary.event.id))
        return summaries[offset : offset + limit], len(summaries)

    async def cancel_session(self, session_id: int, reason: str | None) -> bool:
        s = self._state.sessions.get(session_id)
        if s is None or s.status is not SessionStatus.SCHEDULED:
            return False
        self._state.sessions[session_id] = dataclasses.replace(s, status=SessionStatus.CANCELLED)
        return True


class FakeSeatRepository(_Repository):
    async def reserve(self, session_id: int, seats: int) -> bool:
        s = self._state.sessions.get(session_id)
        if s is None or s.status is not SessionStatus.SCHEDULED or s.sales_stopped or s.seats_left < seats:
            return False
        self._state.sessions[session_id] = dataclasses.replace(s, seats_left=s.seats_left - seats)
        return True

    async def release(self, session_id: int, seats: int) -> None:
        s = self._state.sessions.get(session_id)
        if s is not None:
            self._state.sessions[session_id] = dataclasses.replace(s, seats_left=min(s.capacity, s.seats_left + seats))


class FakeOrderRepository(_Repository):
    async def add(self, order: Order) -> Order:
        state = self._state
        for other in state.orders.values():
            # The unique constraints on code and request_key: the SQL repository reports a clash the same way.
            if other.code == order.code or (order.request_key is not None and other.request_key == order.request_key):
                raise ConcurrentChange(order=order.request_key or order.code)
        order.id, order.version = state.next_order_id, 0
        state.next_order_id += 1
        state.orders[order.id] = copy.deepcopy(order)
        return order

    async def get(self, order_id: int) -> Order | None:
        return copy.deepcopy(self._state.orders.get(order_id))

    async def by_request_key(self, request_key: str) -> Order | None:
        found = next((o for o in self._state.orders.values() if o.request_key == request_key), None)
        return copy.deepcopy(found)

    async def code_exists(self, code: str) -> bool:
        return any(o.code == code for o in self._state.orders.values())

    async def id_by_code(self, code: str) -> int | None:
        return next((o.id for o in self._state.orders.values() if o.code == code), None)

    async def ticket_code_exists(self, code: str) -> bool:
        return any(o.ticket_code == code for o in self._state.orders.values())

    def _stored(self, order: Order) -> Order:
        """The stored order itself (not a copy): the repository changes it in place."""
        if order.id is None or order.id not in self._state.orders:
            raise LookupError(f"order {order.id} is not stored")
        return self._state.orders[order.id]

    async def save(self, order: Order) -> None:
        stored = self._state.orders.get(order.id) if order.id is not None else None
        if order.id is None or stored is None or stored.version != order.version:
            raise ConcurrentChange(order=order.id)
        order.version += 1
        self._state.orders[order.id] = copy.deepcopy(order)

    async def add_stray(self, order: Order, amount_minor: int) -> None:
        stored = self._stored(order)
        stored.stray_minor += amount_minor
        stored.version += 1
        order.stray_minor, order.version = stored.stray_minor, stored.version

    async def replace_items(self, order: Order) -> None:
        self._stored(order).items = copy.deepcopy(order.items)  # saved with the order itself

    async def for_user(self, user_id: int, offset: int, limit: int) -> tuple[Sequence[Order], int]:
        mine = [o for o in self._state.orders.values() if o.user_id == user_id]
        mine.sort(key=lambda o: (o.created_at, o.id), reverse=True)
        return copy.deepcopy(mine[offset : offset + limit]), len(mine)

    async def all_for_user(self, user_id: int) -> Sequence[Order]:
        return copy.deepcopy([o for o in self._state.orders.values() if o.user_id == user_id])


class FakeOutboxRepository(_Repository):
    """``state.sent_messages`` stands for the rows the sender delivered (tests fill it, as the sender would)."""

    async def add(self, message: OutboxMessage) -> None:
        if any(m.dedup_key == message.dedup_key for m in self._state.outbox):
            return
        self._state.outbox.append(message)

    async def order_for_message(self, kind: str, chat_id: int, message_id: int) -> int | None:
        message = self._state.sent_messages.get((chat_id, message_id))
        if message is None or message.kind.value != kind or "order_id" not in message.payload:
            return None
        return int(message.payload["order_id"])

    async def sent_messages(self, key: str) -> Sequence[tuple[int, int]]:
        return [
            (chat_id, message_id)
            for (chat_id, message_id), message in self._state.sent_messages.items()
            if message.dedup_key == key or message.dedup_key.startswith(f"{key}:")
        ]

    async def record_shown(self, message: OutboxMessage, message_id: int) -> None:
        if any(m.dedup_key == message.dedup_key for m in self._state.sent_messages.values()):
            return
        self._state.sent_messages[(message.chat_id, message_id)] = message


class FakePaymentRepository(_Repository):
    async def add(self, payment: Payment) -> bool:
        if any(p.telegram_charge_id == payment.telegram_charge_id for p in self._state.payments):
            return False  # the unique charge id: recorded once
        self._state.payments.append(payment)
        return True

    async def by_charge_id(self, telegram_charge_id: str) -> Payment | None:
        return next((p for p in self._state.payments if p.telegram_charge_id == telegram_charge_id), None)

    async def for_order(self, order_id: int) -> Sequence[Payment]:
        return [p for p in self._state.payments if p.order_id == order_id]

    async def mark_refunded(self, order_id: int, now: datetime) -> int:
        state = self._state
        marked = [
            p
            for p in state.payments
            if p.order_id == order_id and not p.applied and p.telegram_charge_id not in state.refunded_payments
        ]
        for p in marked:
            state.refunded_payments[p.telegram_charge_id] = now
        return len(marked)


class FakeReminderRepository(_Repository):
    """Claims take the first matching item (no other process to skip); ``claimed`` counts them, for tests."""

    async def add(self, reminder: Reminder) -> bool:
        state = self._state
        if any(r.order_id == reminder.order_id and r.kind == reminder.kind for r in state.reminders):
            return False
        state.reminders.append(dataclasses.replace(reminder, id=len(state.reminders) + 1))
        return True

    async def for_order(self, order_id: int) -> Sequence[Reminder]:
        return [r for r in self._state.reminders if r.order_id == order_id]

    async def claim_due(self, now: datetime, exclude: Collection[int]) -> Reminder | None:
        due = [
            r
            for r in self._state.reminders
            if r.status is DueStatus.PENDING and r.due_at <= now and r.id not in exclude
        ]
        return min(due, key=lambda r: (r.due_at, r.id), default=None)

    async def close(self, reminder_id: int, status: DueStatus, now: datetime) -> None:
        reminders = self._state.reminders
        for index, r in enumerate(reminders):
            if r.id == reminder_id:
                reminders[index] = dataclasses.replace(r, status=status, done_at=now)

    async def add_notice(self, notice: SessionNotice) -> bool:
        state = self._state
        if any(n.session_id == notice.session_id and n.kind == notice.kind for n in state.notices):
            return False
        state.notices.append(dataclasses.replace(notice, id=len(state.notices) + 1))
        return True

    async def rearm_notice(self, session_id: int, kind: str, due_at: datetime) -> bool:
        notices = self._state.notices
        for index, n in enumerate(notices):
            if n.session_id == session_id and n.kind == kind and n.status is not DueStatus.PENDING:
                done_at = n.done_at if n.status is DueStatus.SENT else None
                notices[index] = dataclasses.replace(n, status=DueStatus.PENDING, due_at=due_at, done_at=done_at)
                return True
        return False

    async def claim_due_notice(self, now: datetime, exclude: Collection[int]) -> SessionNotice | None:
        due = [
            n for n in self._state.notices if n.status is DueStatus.PENDING and n.due_at <= now and n.id not in exclude
        ]
        return min(due, key=lambda n: (n.due_at, n.id), default=None)

    async def close_notice(self, notice_id: int, status: DueStatus, now: datetime) -> None:
        notices = self._state.notices
        for index, n in enumerate(notices):
            if n.id == notice_id:
                notices[index] = dataclasses.replace(n, status=status, done_at=now)

    def _first(self, orders: Iterable[Order], key: Any, exclude: Collection[int]) -> int | None:
        found = sorted((o for o in orders if o.id not in exclude), key=lambda o: (key(o), o.id))
        return found[0].id if found else None

    async def claim_silent_order(self, now: datetime, exclude: Collection[int]) -> int | None:
        silent = (
            o
            for o in self._state.orders.values()
            if o.booking is BookingStatus.AWAITING_ORGANISER
            and o.confirm_by is not None
            and o.confirm_by <= now
            and o.confirm_nudged_at is None
        )
        return self._first(silent, lambda o: o.confirm_by, exclude)

    async def claim_unpaid_order(self, now: datetime, exclude: Collection[int]) -> int | None:
        unpaid = (
            o
            for o in self._state.orders.values()
            if o.booking is BookingStatus.CONFIRMED
            and o.payment is PaymentStatus.AWAITING
            and o.pay_by is not None
            and o.pay_by <= now
            and o.pay_reminded_at is None
        )
        return self._first(unpaid, lambda o: o.pay_by, exclude)

    async def claim_overdue_order(self, now: datetime, starts_before: datetime, exclude: Collection[int]) -> int | None:
        sessions = self._state.sessions
        overdue = (
            o
            for o in self._state.orders.values()
            if (
                o.booking is BookingStatus.CONFIRMED
                and o.payment is PaymentStatus.AWAITING
                and o.pay_reminded_at is not None
                and o.hold_until <= now
            )
            or (
                o.booking is BookingStatus.AWAITING_ORGANISER
                and o.session_id in sessions
                and sessions[o.session_id].starts_at <= starts_before
            )
        )
        return self._first(overdue, lambda o: o.hold_until, exclude)

    async def session_orders(self, session_id: int) -> Sequence[Order]:
        found = [o for o in self._state.orders.values() if o.session_id == session_id and o.booking in ACTIVE_BOOKINGS]
        return copy.deepcopy(sorted(found, key=lambda o: (o.created_at, o.id)))


class FakeAuditRepository(_Repository):
    async def add(self, entry: AuditEntry) -> None:
        self._state.audit.append(entry)

    async def for_order(self, order_id: int, limit: int) -> Sequence[AuditEntry]:
        return [e for e in reversed(self._state.audit) if e.order_id == order_id][:limit]


class FakeQuestionRepository(_Repository):
    async def open_thread(
        self, user_id: int, now: datetime, check_at: datetime, question: str | None = None
    ) -> QuestionThread:
        state = self._state
        known = state.question_threads.get(user_id)
        if known is None:
            known = QuestionThread(state.next_thread_id, user_id, ThreadStatus.OPEN, now)
            state.next_thread_id += 1
        thread = dataclasses.replace(
            known,
            status=ThreadStatus.OPEN,
            asked_at=now,
            answered_at=None,
            answered_by=None,
            desk_check_at=check_at,
            last_question=question,
        )
        state.question_threads[user_id] = thread
        return thread

    async def thread(self, user_id: int) -> QuestionThread | None:
        return self._state.question_threads.get(user_id)

    async def mark_answered(self, user_id: int, by: str, now: datetime) -> QuestionThread | None:
        known = self._state.question_threads.get(user_id)
        if known is None:
            return None
        thread = dataclasses.replace(
            known, status=ThreadStatus.ANSWERED, answered_at=now, answered_by=by, desk_check_at=now
        )
        self._state.question_threads[user_id] = thread
        return thread

    async def due_threads(self, now: datetime, limit: int) -> Sequence[QuestionThread]:
        due = [t for t in self._state.question_threads.values() if t.desk_check_at and t.desk_check_at <= now]
        return sorted(due, key=lambda t: (t.desk_check_at, t.id))[:limit]

    async def forget_question(self, user_id: int) -> None:
        if (known := self._state.question_threads.get(user_id)) is not None:
            self._state.question_threads[user_id] = dataclasses.replace(known, last_question=None)

    async def add_relay(self, relay: RelayMessage) -> None:
        self._state.relays.setdefault((relay.chat_id, relay.message_id), relay)

    async def relay(self, chat_id: int, message_id: int) -> RelayMessage | None:
        return self._state.relays.get((chat_id, message_id))

    async def topic(self, key: str) -> DeskTopic | None:
        return self._state.desk_topics.get(key)

    async def topic_by_thread(self, chat_id: int, thread_id: int) -> DeskTopic | None:
        found = [t for t in self._state.desk_topics.values() if (t.chat_id, t.thread_id) == (chat_id, thread_id)]
        return found[-1] if found else None

    async def save_topic(self, topic: DeskTopic) -> None:
        self._state.desk_topics[topic.key] = topic

    async def forget_topic(self, key: str) -> None:
        self._state.desk_topics.pop(key, None)


class FakeDeskRepository(_Repository):
    """Cards, and which orders and question threads the desk must look at (the contracts of
    :class:`bot.storage.desk.SqlDeskRepository`). Claims take the first matching item: no other process to skip."""

    async def card(self, card_id: int) -> Card | None:
        return copy.deepcopy(self._state.cards.get(card_id))

    async def open_card(self, subject: str) -> Card | None:
        found = next((c for c in self._state.cards.values() if c.subject == subject and c.is_open), None)
        return copy.deepcopy(found)

    async def latest_card(self, subject: str) -> Card | None:
        found = [c for c in self._state.cards.values() if c.subject == subject]
        return copy.deepcopy(max(found, key=lambda c: c.id or 0, default=None))

    async def add_card(self, card: Card) -> Card:
        state = self._state
        if card.is_open and any(c.subject == card.subject and c.is_open for c in state.cards.values()):
            raise ValueError(f"an open card on {card.subject} exists")  # the unique open subject would refuse it
        card.id = state.next_card_id
        state.next_card_id += 1
        state.cards[card.id] = copy.deepcopy(card)
        return card

    async def save_card(self, card: Card) -> None:
        if card.id in self._state.cards:  # an UPDATE of a missing row changes nothing
            self._state.cards[card.id] = copy.deepcopy(card)

    async def set_card_message(self, card_id: int, message_id: int, thread_id: int | None) -> None:
        card = self._state.cards.get(card_id)
        if card is not None:
            card.message_id, card.thread_id = message_id, thread_id

    async def cards_opened_since(self, since: datetime) -> int:
        return sum(1 for c in self._state.cards.values() if c.opened_at >= since and c.digest_id is None)

    async def digest_cards(self, digest_id: int) -> Sequence[Card]:
        found = sorted((c for c in self._state.cards.values() if c.digest_id == digest_id), key=lambda c: c.id or 0)
        return copy.deepcopy(found)

    async def open_cards(
        self, kind: str | None, newest_first: bool, offset: int, limit: int
    ) -> tuple[Sequence[Card], int]:
        found = [c for c in self._state.cards.values() if c.is_open and (not kind or kind in c.kinds)]
        found.sort(key=lambda c: (c.opened_at, c.id or 0), reverse=newest_first)
        return copy.deepcopy(found[offset : offset + limit]), len(found)

    async def claim_card_to_reraise(self, now: datetime, exclude: Collection[int]) -> int | None:
        due = [
            (c.remind_at, c.id)
            for c in self._state.cards.values()
            if c.is_open and c.remind_at is not None and c.remind_at <= now and c.id not in exclude
        ]
        return min(due)[1] if due else None

    async def claim_order_to_check(self, now: datetime, exclude: Collection[int]) -> int | None:
        """An order changed since the desk saw it, else one whose next check is due."""
        state = self._state
        unseen = sorted(
            order_id
            for order_id, order in state.orders.items()
            if order.version != state.desk_seen.get(order_id, UNSEEN) and order_id not in exclude
        )
        if unseen:
            return unseen[0]
        due = [(at, order_id) for order_id, at in state.desk_check_at.items() if at <= now and order_id not in exclude]
        return min(due)[1] if due else None

    async def order_to_check(self, now: datetime) -> int | None:
        return await self.claim_order_to_check(now, ())

    async def order_seen_version(self, order_id: int) -> int:
        if order_id not in self._state.orders:
            raise LookupError(f"order {order_id} does not exist")
        return self._state.desk_seen.get(order_id, UNSEEN)

    async def mark_order_checked(
        self, order_id: int, version: int, acknowledged: list[str], next_check_at: datetime | None
    ) -> None:
        """Seen at ``version`` (the order's own version is not touched: no use case sees a concurrent change)."""
        state = self._state
        if order_id not in state.orders:
            return
        state.desk_seen[order_id] = version
        state.orders[order_id].desk_ack = list(acknowledged)
        if next_check_at is None:
            state.desk_check_at.pop(order_id, None)
        else:
            state.desk_check_at[order_id] = next_check_at

    async def acknowledge(self, order_id: int, kinds: list[str]) -> None:
        order = self._state.orders.get(order_id)
        if order is None:
            return
        order.desk_ack = sorted({*order.desk_ack, *kinds} - {"undelivered"})
        if "undelivered" in kinds:
            order.undelivered = None

    def _thread(self, thread_id: int) -> QuestionThread | None:
        return next((t for t in self._state.question_threads.values() if t.id == thread_id), None)

    def _replace_thread(self, thread: QuestionThread, **changes: Any) -> None:
        self._state.question_threads[thread.user_id] = dataclasses.replace(thread, **changes)

    async def claim_question_to_check(self, now: datetime, exclude: Collection[int]) -> int | None:
        due = [
            (t.desk_check_at, t.id)
            for t in self._state.question_threads.values()
            if t.desk_check_at is not None and t.desk_check_at <= now and t.id not in exclude
        ]
        return min(due)[1] if due else None

    async def question_thread(self, thread_id: int) -> QuestionThread | None:
        return self._thread(thread_id)

    async def mark_question_checked(self, thread_id: int) -> None:
        if (thread := self._thread(thread_id)) is not None:
            self._replace_thread(thread, desk_check_at=None)

    async def close_question(self, thread_id: int, actor: str, now: datetime) -> None:
        """An operator resolved the unanswered-question card: the thread counts as answered."""
        thread = self._thread(thread_id)
        if thread is not None and thread.status is ThreadStatus.OPEN:
            self._replace_thread(
                thread, status=ThreadStatus.ANSWERED, answered_at=now, answered_by=actor, desk_check_at=None
            )


class FakeWaitlistRepository(_Repository):
    async def add(self, entry: WaitlistEntry) -> bool:
        if await self.open_entry(entry.user_id, entry.session_id) is not None:
            return False
        entry.id, entry.version = self._state.next_waitlist_id, 0
        self._state.next_waitlist_id += 1
        self._state.waitlist[entry.id] = copy.deepcopy(entry)
        return True

    async def get(self, entry_id: int) -> WaitlistEntry | None:
        return copy.deepcopy(self._state.waitlist.get(entry_id))

    async def open_entry(self, user_id: int, session_id: int) -> WaitlistEntry | None:
        return next(
            (
                copy.deepcopy(e)
                for e in self._state.waitlist.values()
                if e.user_id == user_id and e.session_id == session_id and e.status in WAITLIST_OPEN
            ),
            None,
        )

    async def for_user(self, user_id: int) -> Sequence[WaitlistEntry]:
        entries = [e for e in self._state.waitlist.values() if e.user_id == user_id and e.status in WAITLIST_OPEN]
        return [copy.deepcopy(e) for e in sorted(entries, key=lambda e: e.stored_id)]

    async def waiting(self, session_id: int) -> Sequence[WaitlistEntry]:
        entries = [
            e
            for e in self._state.waitlist.values()
            if e.session_id == session_id and e.status is WaitlistStatus.WAITING
        ]
        return [copy.deepcopy(e) for e in sorted(entries, key=lambda e: e.stored_id)]

    async def save(self, entry: WaitlistEntry) -> None:
        stored = self._state.waitlist.get(entry.stored_id)
        if stored is None or stored.version != entry.version:
            raise ConcurrentChange(waitlist=entry.id)
        entry.version += 1
        self._state.waitlist[entry.stored_id] = copy.deepcopy(entry)

    async def claim_session_to_offer(self, starts_after: datetime, exclude: Collection[int]) -> int | None:
        for entry in sorted(self._state.waitlist.values(), key=lambda e: e.stored_id):
            session = self._state.sessions.get(entry.session_id)
            if (
                entry.status is WaitlistStatus.WAITING
                and entry.session_id not in exclude
                and session is not None
                and session.status is SessionStatus.SCHEDULED
                and not session.sales_stopped
                and 0 < entry.seats <= session.seats_left
                and session.starts_at > starts_after
            ):
                return entry.session_id
        return None

    async def claim_expired_offer(self, now: datetime, exclude: Collection[int]) -> int | None:
        due = [
            e
            for e in self._state.waitlist.values()
            if e.status is WaitlistStatus.OFFERED
            and e.offered_until is not None
            and e.offered_until <= now
            and e.stored_id not in exclude
        ]
        due.sort(key=lambda e: (e.offered_until or now, e.stored_id))
        return due[0].stored_id if due else None


class FakeUnitOfWork:
    """Re-enterable like :class:`bot.storage.uow.SqlUnitOfWork`; each ``async with`` is one transaction.

    ``committed`` tells whether the last transaction was committed; ``commits`` counts them all.
    """

    users: UserRepository
    catalog: CatalogRepository
    seats: SeatRepository
    orders: OrderRepository
    outbox: OutboxRepository
    audit: AuditRepository
    payments: PaymentRepository
    reminders: ReminderRepository
    questions: QuestionRepository
    desk: DeskRepository
    waitlist: WaitlistRepository
    rooms: WaitingRoomRepository
    checkins: CheckinRepository
    organiser_catalog: OrganiserCatalogRepository
    organiser_settings: OrganiserSettingsRepository
    discount_codes: DiscountCodeRepository
    offers: OfferRepository
    points: PointsRepository
    favourites: FavouriteRepository
    places: PlaceRepository

    def __init__(self, state: FakeState | None = None) -> None:
        self.state = state if state is not None else FakeState()
        self.users = FakeUserRepository(self)
        self.catalog = FakeCatalogRepository(self)
        self.seats = FakeSeatRepository(self)
        self.orders = FakeOrderRepository(self)
        self.outbox = FakeOutboxRepository(self)
        self.audit = FakeAuditRepository(self)
        self.payments = FakePaymentRepository(self)
        self.reminders = FakeReminderRepository(self)
        self.questions = FakeQuestionRepository(self)
        self.desk = FakeDeskRepository(self)
        self.waitlist = FakeWaitlistRepository(self)
        self.rooms = FakeWaitingRoomRepository(self)
        self.checkins = FakeCheckinRepository(self)
        self.organiser_catalog = FakeOrganiserCatalogRepository(self)
        self.organiser_settings = FakeOrganiserSettingsRepository(self)
        self.places = FakePlaceRepository()  # read-only catalog data: not part of a transaction's snapshot
        self.discount_codes = FakeDiscountCodeRepository(self)
        self.offers = FakeOfferRepository(self)
        self.points = FakePointsRepository(self)
        self.favourites = FakeFavouriteRepository(self)
        self.committed = False
        self.commits = 0
        self.rollbacks = 0
        self._open = False
        self._reading = self._read_block = False
        self.opened: list[str] = []  # each block, in order: "read" or "transaction"
        self._snapshot: dict[str, Any] | None = None

    def require_open(self) -> FakeState:
        if not self._open:
            raise RuntimeError("unit of work is not open")
        return self.state

    def read(self) -> Self:
        """As the SQL unit of work's: the next block only reads; one that changed anything fails on leaving."""
        self._reading = True
        return self

    async def __aenter__(self) -> Self:
        if self._open:
            self._reading = False
            raise RuntimeError("unit of work is already open; nested transactions are not supported")
        self._open = True
        self._read_block, self._reading = self._reading, False
        self.opened.append("read" if self._read_block else "transaction")
        self.committed = False
        self._snapshot = copy.deepcopy(vars(self.state))
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self._read_block and (self.committed or vars(self.state) != self._snapshot):
                raise RuntimeError("a read block of the unit of work changed something")
            if not self.committed:
                await self.rollback()
        finally:
            self._open = False
            self._snapshot = None

    async def commit(self) -> None:
        self.require_open()
        self.committed = True
        self.commits += 1
        self._snapshot = copy.deepcopy(vars(self.state))

    async def rollback(self) -> None:
        self.require_open()
        assert self._snapshot is not None
        for name, value in copy.deepcopy(self._snapshot).items():
            setattr(self.state, name, value)
        self.rollbacks += 1


# ---- the catalog of tests/seed.py, in memory --------------------------------------------------------------------

# Which state dict a catalog row goes to, and the storage's own mapper that turns it into the entity.
_CATALOG_ENTITIES: dict[type, tuple[str, Callable[[Any], Any]]] = {
    RegionRow: ("regions", region_from_row),
    HotelRow: ("hotels", hotel_from_row),
    OrganiserRow: ("organisers", organiser_from_row),
    EventRow: ("events", event_from_row),
    SessionRow: ("sessions", session_from_row),
}


def build_catalog(state: FakeState, now: datetime) -> Seeded:
    """Fill ``state`` with the catalog :func:`tests.seed.seed_catalog` writes: the same rows, numbered as a database
    would number them (the same ids on an empty state), turned into entities as ``SqlCatalogRepository`` reads them."""
    catalog = seed.CatalogRows(now)
    for batch in catalog.batches():
        for row in batch:
            name, from_row = _CATALOG_ENTITIES[type(row)]
            entities: dict[int, Any] = getattr(state, name)
            row.id = max(entities, default=0) + 1
            entities[row.id] = from_row(row)
    return catalog.seeded()


def add_user(
    state: FakeState,
    user_id: int,
    language: str = "en",
    now: datetime = seed.DEFAULT_NOW,
    hotel_id: int | None = None,
    **fields: Any,
) -> User:
    """A tourist straight into the state; with a hotel, their region is the hotel's."""
    if hotel_id is not None and "region_id" not in fields:
        fields["region_id"] = state.hotels[hotel_id].region_id
    user = User(id=user_id, language=language, created_at=now, hotel_id=hotel_id, **fields)
    state.users[user_id] = copy.deepcopy(user)
    return user


def fake_world(now: datetime) -> tuple[FakeUnitOfWork, Seeded]:
    """A fresh fake unit of work over the seeded catalog."""
    uow = FakeUnitOfWork()
    return uow, build_catalog(uow.state, now)
