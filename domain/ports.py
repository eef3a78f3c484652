"""What the domain needs from storage (and the clock). ``bot/storage`` implements it with SQLAlchemy; tests use fakes.

The ports import only the model (:mod:`domain.model`): the use cases depend on them, never the other way round."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol, Self

from domain.discount_ports import DiscountCodeRepository
from domain.favourite_ports import FavouriteRepository
from domain.model.catalog import (
    Confirmation,
    Event,
    EventSession,
    EventSummary,
    Hotel,
    Organiser,
    Question,
    Region,
)
from domain.model.checkin import OrderDay, SessionDay
from domain.model.desk import Card
from domain.model.messages import AuditEntry, OutboxMessage
from domain.model.orders import Order
from domain.model.organiser_settings import OrganiserExtras
from domain.model.payments import Payment
from domain.model.questions import DeskTopic, QuestionThread, RelayMessage
from domain.model.reminders import DueStatus, Reminder, SessionNotice
from domain.model.users import User
from domain.model.waiting_room import LineMark, Place, PlaceStatus, WaitingRoom
from domain.model.waitlist import WaitlistEntry
from domain.offer_ports import OfferRepository
from domain.place_ports import PlaceRepository
from domain.points_ports import PointsRepository


class Clock(Protocol):
    """The current time, passed in rather than read deep inside the logic (aware, UTC)."""

    def now(self) -> datetime: ...


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None: ...
    async def add(self, user: User) -> None: ...
    async def save(self, user: User) -> None: ...
    async def delete(self, user_id: int) -> None: ...


class CatalogRepository(Protocol):
    async def regions(self) -> Sequence[Region]: ...
    async def region(self, region_id: int) -> Region | None: ...
    async def event(self, event_id: int) -> Event | None: ...
    async def event_by_code(self, code: str) -> Event | None: ...
    async def organiser(self, organiser_id: int) -> Organiser | None: ...
    async def hotel(self, hotel_id: int) -> Hotel | None: ...
    async def search_hotels(self, region_id: int, text: str, limit: int) -> Sequence[Hotel]: ...
    async def session(self, session_id: int) -> EventSession | None: ...
    async def upcoming_sessions(self, event_id: int, after: datetime, limit: int) -> Sequence[EventSession]: ...
    async def categories(self, region_id: int, start: datetime, end: datetime) -> Sequence[tuple[str, int]]: ...
    async def event_summaries(
        self,
        region_id: int,
        start: datetime,
        end: datetime,
        category: str | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[EventSummary], int]:
        """A page of the events with a scheduled session in ``[start, end)`` and their count; each summary names one
        session (the first with free seats, else the first) by its start and its own seats left."""

    async def cancel_session(self, session_id: int, reason: str | None) -> bool:
        """Mark a scheduled session cancelled (with the reason); False if it is not scheduled (any more)."""


class SeatRepository(Protocol):
    async def reserve(self, session_id: int, seats: int) -> bool:
        """Take ``seats`` atomically if that many are left on a scheduled session; False otherwise."""

    async def release(self, session_id: int, seats: int) -> None: ...


class OrderRepository(Protocol):
    async def add(self, order: Order) -> Order: ...
    async def get(self, order_id: int) -> Order | None: ...
    async def by_request_key(self, request_key: str) -> Order | None: ...
    async def code_exists(self, code: str) -> bool: ...
    async def id_by_code(self, code: str) -> int | None: ...
    async def ticket_code_exists(self, code: str) -> bool: ...
    async def save(self, order: Order) -> None:
        """Persist a changed order; raises ConcurrentChange if it changed since it was read."""

    async def add_stray(self, order: Order, amount_minor: int) -> None:
        """Add money due back (a payment that did not pay the order) atomically; updates ``order``."""

    async def replace_items(self, order: Order) -> None:
        """Store ``order.items`` as the order's items (quantities changed); together with :meth:`save`."""

    async def for_user(self, user_id: int, offset: int, limit: int) -> tuple[Sequence[Order], int]: ...
    async def all_for_user(self, user_id: int) -> Sequence[Order]: ...


class OutboxRepository(Protocol):
    async def add(self, message: OutboxMessage) -> None: ...
    async def order_for_message(self, kind: str, chat_id: int, message_id: int) -> int | None:
        """The order a delivered message of ``kind`` was about (replies to the message point at it)."""

    async def sent_messages(self, key: str) -> Sequence[tuple[int, int]]:
        """(chat id, message id) of the delivered messages whose dedup key is ``key`` or lies under it
        (``key:…``), oldest first: the messages to edit when what they show has changed."""

    async def record_shown(self, message: OutboxMessage, message_id: int) -> None:
        """Record a message the bot showed itself while handling an update as sent (``message_id``), so that
        :meth:`sent_messages` finds it when what it shows changes; nothing is ever sent for it. Once per dedup key."""


class PaymentRepository(Protocol):
    async def add(self, payment: Payment) -> bool:
        """Record ``payment`` once per Telegram charge id; False (nothing written) if that charge is recorded
        already, also when another transaction recorded it concurrently (this one waits for it)."""

    async def by_charge_id(self, telegram_charge_id: str) -> Payment | None: ...
    async def for_order(self, order_id: int) -> Sequence[Payment]: ...
    async def mark_refunded(self, order_id: int, now: datetime) -> int:
        """Mark the order's payments that were not applied and not refunded yet as refunded at ``now``; how many."""


class ReminderRepository(Protocol):
    """Rows with a due time (order reminders, session notices) and the orders whose deadlines passed.

    Every ``claim_*`` returns at most one item and locks it for the rest of the transaction: another process
    running the same job at the same time skips it (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one
    writer at a time). The caller re-checks the item's state and closes it (or changes the order) before commit.
    """

    async def add(self, reminder: Reminder) -> bool:
        """Insert unless the order has a reminder of that kind already (also one a concurrent transaction is
        adding); True if this call added it."""

    async def for_order(self, order_id: int) -> Sequence[Reminder]: ...
    async def claim_due(self, now: datetime, exclude: Collection[int]) -> Reminder | None:
        """The earliest pending reminder due by ``now`` whose id is not in ``exclude``, locked."""

    async def close(self, reminder_id: int, status: DueStatus, now: datetime) -> None: ...
    async def add_notice(self, notice: SessionNotice) -> bool:
        """Insert unless the session has a notice of that kind already; True if this call added it."""

    async def rearm_notice(self, session_id: int, kind: str, due_at: datetime) -> bool:
        """Make a notice that went out (or was skipped) due again at ``due_at``; False if it is still pending."""

    async def claim_due_notice(self, now: datetime, exclude: Collection[int]) -> SessionNotice | None: ...
    async def close_notice(self, notice_id: int, status: DueStatus, now: datetime) -> None: ...
    async def claim_silent_order(self, now: datetime, exclude: Collection[int]) -> int | None:
        """An order awaiting the organiser past its confirm deadline and not nudged yet, locked."""

    async def claim_unpaid_order(self, now: datetime, exclude: Collection[int]) -> int | None:
        """A confirmed order awaiting payment past its pay deadline and not reminded yet, locked."""

    async def claim_overdue_order(self, now: datetime, starts_before: datetime, exclude: Collection[int]) -> int | None:
        """An order to expire, locked: reminded, still unpaid and held until ``now`` or earlier; or still awaiting
        the organiser on a session starting at ``starts_before`` or earlier."""

    async def session_orders(self, session_id: int) -> Sequence[Order]:
        """The active orders on a session (awaiting the organiser or confirmed), oldest first."""


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...
    async def for_order(self, order_id: int, limit: int) -> Sequence[AuditEntry]:
        """The order's latest ``limit`` entries, newest first."""


class QuestionRepository(Protocol):
    """Tourists' question threads, which message in the operator chat is about whom, and the bot's forum topics."""

    async def open_thread(
        self, user_id: int, now: datetime, check_at: datetime, question: str | None = None
    ) -> QuestionThread:
        """The tourist's thread, created or reopened: open, asked ``question`` at ``now``, looked at by the desk at
        ``check_at``."""

    async def thread(self, user_id: int) -> QuestionThread | None: ...
    async def mark_answered(self, user_id: int, by: str, now: datetime) -> QuestionThread | None:
        """Answered by ``by`` at ``now`` (and due for the desk now, so it closes its card); None if no thread."""

    async def due_threads(self, now: datetime, limit: int) -> Sequence[QuestionThread]:
        """Threads whose ``desk_check_at`` has passed, oldest first."""

    async def forget_question(self, user_id: int) -> None:
        """The tourist's words are gone from their thread (their personal data is deleted)."""

    async def add_relay(self, relay: RelayMessage) -> None:
        """Remember a message of a chat as being about a tourist (once per chat and message id)."""

    async def relay(self, chat_id: int, message_id: int) -> RelayMessage | None: ...
    async def topic(self, key: str) -> DeskTopic | None: ...
    async def topic_by_thread(self, chat_id: int, thread_id: int) -> DeskTopic | None: ...
    async def save_topic(self, topic: DeskTopic) -> None: ...
    async def forget_topic(self, key: str) -> None: ...


class DeskRepository(Protocol):
    """The operator desk's cards and what it must look at (see bot/storage/desk.py for the contracts)."""

    async def card(self, card_id: int) -> Card | None: ...
    async def open_card(self, subject: str) -> Card | None: ...
    async def latest_card(self, subject: str) -> Card | None: ...
    async def add_card(self, card: Card) -> Card: ...
    async def save_card(self, card: Card) -> None: ...
    async def set_card_message(self, card_id: int, message_id: int, thread_id: int | None) -> None: ...
    async def cards_opened_since(self, since: datetime) -> int: ...
    async def digest_cards(self, digest_id: int) -> Sequence[Card]: ...
    async def open_cards(
        self, kind: str | None, newest_first: bool, offset: int, limit: int
    ) -> tuple[Sequence[Card], int]: ...
    async def claim_card_to_reraise(self, now: datetime, exclude: Collection[int]) -> int | None: ...
    async def claim_order_to_check(self, now: datetime, exclude: Collection[int]) -> int | None: ...
    async def order_to_check(self, now: datetime) -> int | None:
        """The order :meth:`claim_order_to_check` would start from, read without a lock (None: nothing to do)."""

    async def order_seen_version(self, order_id: int) -> int: ...
    async def mark_order_checked(
        self,
        order_id: int,
        version: int,
        acknowledged: list[str],
        next_check_at: datetime | None,
    ) -> None: ...
    async def acknowledge(self, order_id: int, kinds: list[str]) -> None: ...
    async def claim_question_to_check(self, now: datetime, exclude: Collection[int]) -> int | None: ...
    async def question_thread(self, thread_id: int) -> QuestionThread | None: ...
    async def mark_question_checked(self, thread_id: int) -> None: ...
    async def close_question(self, thread_id: int, actor: str, now: datetime) -> None: ...


class WaitlistRepository(Protocol):
    """The waitlists of sold-out sessions (domain/model/waitlist.py). The ``claim_*`` calls lock what they return
    for the rest of the transaction, like :class:`ReminderRepository`'s."""

    async def add(self, entry: WaitlistEntry) -> bool:
        """Insert unless the tourist has an open entry (waiting or offered) on the session; True if added."""

    async def get(self, entry_id: int) -> WaitlistEntry | None: ...
    async def open_entry(self, user_id: int, session_id: int) -> WaitlistEntry | None: ...
    async def for_user(self, user_id: int) -> Sequence[WaitlistEntry]:
        """The tourist's open entries, oldest first."""

    async def waiting(self, session_id: int) -> Sequence[WaitlistEntry]:
        """The session's waiting entries in the order they joined."""

    async def save(self, entry: WaitlistEntry) -> None:
        """Persist a changed entry; raises ConcurrentChange if it changed since it was read."""

    async def claim_session_to_offer(self, starts_after: datetime, exclude: Collection[int]) -> int | None:
        """A scheduled session starting after ``starts_after`` whose free seats fit a waiting entry, locked."""

    async def claim_expired_offer(self, now: datetime, exclude: Collection[int]) -> int | None:
        """An offered entry whose claim window ended by ``now``, locked."""


class WaitingRoomRepository(Protocol):
    """The waiting rooms of hot sessions and their places (issue 13; see bot/storage/waiting_room.py)."""

    async def room(self, session_id: int, lock: str | None = None) -> WaitingRoom | None:
        """The session's room; ``lock``: "share" (a join into the pre-queue: joins go on together, the draw waits
        for them) or "update" (the draw, and a job's pass: waits for the joins in hand)."""

    async def add_room(self, room: WaitingRoom) -> WaitingRoom:
        """Insert the room, or return the one a concurrent transaction inserted for the session meanwhile."""

    async def save_room(self, room: WaitingRoom) -> None: ...
    async def claim_room(self, exclude: Collection[int]) -> WaitingRoom | None:
        """A room with work to do (a queue not closed), whose session id is not in ``exclude``, locked (``FOR
        UPDATE SKIP LOCKED``: a second process running the job takes another room)."""

    async def place(self, session_id: int, user_id: int) -> Place | None: ...
    async def place_by_id(self, place_id: int) -> Place | None: ...
    async def add_place(self, place: Place) -> Place:
        """Insert the place; :class:`ConcurrentChange` if the user has a place in the room already."""

    async def add_places(self, places: Sequence[Place]) -> Sequence[Place]:
        """Insert, in one statement, those of ``places`` whose user the bot knows and has no place in the room yet;
        returns them, with their ids (the others are left out)."""

    async def save_place(self, place: Place) -> None: ...
    async def book_place(self, session_id: int, user_id: int) -> bool:
        """The user's place in the session's room marked booked if it is admitted or passed (one conditional
        write, no read: a booking on a date without a queue finds no place); whether it was."""

    async def save_places(self, places: Sequence[Place]) -> None: ...
    async def set_place_message(self, place_id: int, message_id: int | None) -> None:
        """The message that shows the place (edited in place from now on); None: it gets a new one."""

    async def set_summary_message(self, session_id: int, message_id: int) -> None: ...
    async def shorten_window(self, place_id: int, until: datetime) -> bool:
        """An admitted place's window ends at ``until`` if it ended later (one conditional statement: a place the job
        passed or sold out meanwhile is left alone); whether it changed."""

    async def undrawn(self, session_id: int) -> Sequence[int]:
        """The ids of the room's places that have no rank yet (the pre-queue)."""

    async def set_ranks(self, ranks: dict[int, int]) -> None:
        """Place id -> rank."""

    async def line(self, session_id: int) -> Sequence[Place]:
        """The places in line (waiting or stepped out), by rank."""

    async def ahead_of(self, place: Place) -> int:
        """How many places in line are in front of ``place``."""

    async def line_marks(self, session_id: int) -> Sequence[LineMark]:
        """What :meth:`line` holds, as a few columns per place (the job reads the whole line every pass)."""

    async def places_by_ids(self, place_ids: Sequence[int]) -> Sequence[Place]:
        """These places (those that exist), in any order."""

    async def with_status(
        self, session_id: int, statuses: Collection[PlaceStatus], limit: int | None
    ) -> Sequence[Place]:
        """Up to ``limit`` (None: all) ranked places with one of ``statuses``, by rank."""

    async def unannounced(self, session_id: int, statuses: Collection[PlaceStatus], limit: int) -> Sequence[Place]:
        """Up to ``limit`` places with one of ``statuses`` that their message does not show yet, by rank."""

    async def counts(self, session_id: int) -> dict[PlaceStatus, int]: ...
    async def oldest_unhandled_update(self, since: datetime) -> int | None:
        """The ``update_id`` of the oldest update from Telegram that the bot has not finished handling (waiting for
        a handler or in one; None: none). A Book press in it may still take a place, ranked by that id: admission
        waits for it. Not for one stuck: received before ``since`` and given back after a failure (one never tried
        is a backlog, however old, and is waited for: a burst must not let later presses pass earlier ones)."""


class OrganiserCatalogRepository(Protocol):
    """What organisers change of their own catalog from their chat (issue 14): sessions and booking questions. Read
    from the database itself (never the in-memory catalog copy): each answer decides a change."""

    async def organiser_for_chat(self, chat_id: int) -> Organiser | None:
        """The organiser whose chat this is (the lowest id if several share it)."""

    async def organiser_by_code(self, code: str) -> Organiser | None: ...
    async def events(self, organiser_id: int) -> Sequence[Event]:
        """The organiser's events, by code."""

    async def sessions(
        self, organiser_id: int, after: datetime, offset: int, limit: int
    ) -> tuple[Sequence[EventSession], int]:
        """A page of the organiser's scheduled sessions starting after ``after``, soonest first, and their count."""

    async def add_session(self, event_id: int, starts_at: datetime, capacity: int) -> EventSession | None:
        """A new scheduled session with ``capacity`` seats, all on sale; None if the event has one at that time."""

    async def set_capacity(self, session_id: int, capacity: int) -> EventSession | None:
        """Set a scheduled session's capacity and move its seats left by the same amount, in one conditional UPDATE
        (never below the seats orders hold at that moment); None when that would be, or it is not scheduled."""

    async def set_sales_stopped(self, session_id: int, stopped: bool) -> EventSession | None:
        """Stop (or resume) a scheduled session's sales, in one conditional UPDATE; None if the session is not
        scheduled or its sales are so already. Capacity and seats stay as they are."""

    async def lock_questions(self, organiser_id: int) -> tuple[list[Question], list[Question]] | None:
        """The organiser's (asked, removed) questions, the row locked for the rest of the transaction."""

    async def save_questions(
        self, organiser_id: int, asked: Sequence[Question], removed: Sequence[Question]
    ) -> None: ...


class OrganiserSettingsRepository(Protocol):
    """What an organiser sets in ``/settings`` (issue 14): the booking terms where the catalog import writes them
    (the organiser's row, its events' confirmation), the extras the catalog file does not carry, and which of the
    catalog's values the organiser changed since (the import reports them, ``bot/catalog/store.py``)."""

    async def extras(self, organiser_id: int) -> OrganiserExtras:
        """The organiser's extras (the defaults when none were set); may be served from a cache."""

    async def extras_to_change(self, organiser_id: int) -> OrganiserExtras:
        """:meth:`extras` as the database has them in this transaction, to change and save: a copy a second old
        (another replica's cache) would write back what it did not know of."""

    async def save_extras(self, extras: OrganiserExtras) -> None: ...
    async def terms_to_change(self, organiser_id: int) -> Organiser | None:
        """The organiser as the database has it in this transaction, to change a term and save the terms (the
        catalog's copy may be a second old: saving it would write back another replica's change unseen)."""

    async def save_terms(self, organiser: Organiser) -> None:
        """Store ``organiser``'s hold, confirm and pay windows, reminders and waitlist claim window."""

    async def save_confirmation(self, event_id: int, confirmation: Confirmation) -> None: ...
    async def note_change(self, organiser_id: int, key: str, catalog_value: object, now: datetime) -> None:
        """Remember that the organiser changed the catalog's value ``key`` (``catalog_value``: the value the
        catalog had; a second change keeps the first one's)."""


class CheckinRepository(Protocol):
    """The day itself (domain/model/checkin.py): check-ins, "running late" and "at the meeting point", each marked
    once by a conditional write (two taps at once: one wins), and the orders the attendance job settles."""

    async def order_by_ticket(self, ticket_code: str) -> int | None:
        """The order whose ticket code is ``ticket_code`` (exactly, as stored)."""

    async def order_day(self, order_id: int) -> OrderDay | None: ...
    async def session_days(self, session_id: int) -> dict[int, OrderDay]:
        """The days of the session's orders that have one, by order id."""

    async def mark_checked_in(self, order_id: int, now: datetime, actor: str) -> bool:
        """Check the order in at ``now`` unless it is already; True if this call did."""

    async def mark_running_late(self, order_id: int, now: datetime) -> bool:
        """Note the tourist is running late unless noted already; True if this call did."""

    async def session_day(self, session_id: int) -> SessionDay | None: ...
    async def mark_at_meeting_point(self, session_id: int, now: datetime, actor: str) -> bool:
        """Note the organiser is at the meeting point unless noted already; True if this call did."""

    async def claim_order_to_settle(self, now: datetime, since: datetime, exclude: Collection[int]) -> int | None:
        """A confirmed order on a scheduled session that started in ``[since, now]``, earliest start first,
        locked (the caller checks the session has ended)."""


class UnitOfWork(Protocol):
    """One transaction: ``async with uow: ...; await uow.commit()``; leaving without commit rolls back."""

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
    places: PlaceRepository
    favourites: FavouriteRepository

    def read(self) -> Self:
        """Makes the next ``async with`` a block that only reads (no write lock; each read sees what is committed
        when it runs); a write in it fails. For screens, never for a decision a use case acts on."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
