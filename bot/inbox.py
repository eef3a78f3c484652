"""The inbox: every update is committed to the ``inbox`` table before Telegram is told it arrived, and handled
from there, by whichever replica claims it: none is lost, none handled twice at once, a chat's in order.

Telegram forgets an update once it is acknowledged: by a later ``getUpdates`` offset (polling) or by the webhook's
200. aiogram acknowledges while handlers may still be running, so a process killed mid-handler (a payment, a
confirmation) would lose the update. Here the order is: receive -> store (commit) -> acknowledge -> handle -> mark
done. A process killed at any point either has not acknowledged the update (Telegram sends it again; a repeated
``update_id`` is dropped) or has it stored, and it is handled again. Handlers that change state are idempotent
(payments by charge id, bookings by their screen's key, answers to a request by its state), so that is harmless.

Claims (several replicas on one PostgreSQL, bot/replicas.py): a stored update carries its chat. A replica takes the
oldest open update of a chat only while no update of that chat is being handled (``claim_next``: one conditional
``UPDATE``, under a per-chat transaction lock on PostgreSQL), so each chat's updates run one at a time, in order,
whichever replica received them; different chats run alongside. The replica that finishes an update takes the
chat's next in the same transaction as the "done" mark; one that received an update of a chat busy elsewhere leaves
it to that replica. A sweep (every ``SWEEP_S``) picks up what no one took: updates of a replica that died (its
claims are given back as soon as its database connection is gone, or when the claim's ``CLAIM`` time runs out) and
updates given back after a transient failure. A handler that hits a transient failure (the database restarting:
:mod:`bot.middlewares`) gives its update back to be handled again a little later, instead of failing it.

Poison updates: ``getUpdates`` is read as plain JSON (:class:`GetRawUpdates`) and each update decoded on its own:
one that aiogram cannot decode (a field newer than the library, a malformed one) is stored as ``failed`` with its
raw JSON (for a developer) and the reason, acknowledged with the others and reported in one log line; the rest are
handled and the bot carries on. A stored update that no longer decodes (after an upgrade) is failed when claimed.
:meth:`Inbox.accept` takes raw updates from either source (polling here, the webhook in :mod:`bot.webhook`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.types import Chat, Update, User
from pydantic import ValidationError
from sqlalchemy import String, Table, and_, bindparam, delete, exists, func, literal_column, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.metrics import observe_update
from bot.replicas import Replica
from bot.storage.db import dialect_insert
from bot.storage.reads import engine_of
from bot.storage.tables import InboxRow
from bot.storage.update_scope import Write
from bot.storage.write_gate import urgent_writes
from domain.ports import Clock

log = logging.getLogger(__name__)

KEEP_HANDLED = timedelta(days=2)  # handled updates are remembered this long, to drop repeated deliveries
CLAIM = timedelta(minutes=5)  # a claim's end: far beyond any handler, the last resort when a claimer's death is missed
RETRY_AFTER = (1, 2, 5, 10, 30)  # seconds before an update given back after a transient failure is taken again
MAX_RETRIES = 8  # then it is failed
CHAT_LOCK = 0x7464_6368  # "tdch": the namespace of the per-chat advisory locks (PostgreSQL)
_OPEN = ("pending", "handling")


# The hot statements, built once on the table (Core: no ORM plugin per call) with their values as parameters, so that
# SQLAlchemy finds each compiled form by its memoised cache key instead of rebuilding the statement per update.
_INBOX: Table = InboxRow.__table__  # type: ignore[assignment]
_BUSY = _INBOX.alias("busy")
_CLAIM = (
    update(_INBOX)
    .where(
        _INBOX.c.update_id
        == select(func.min(_INBOX.c.update_id))
        .where(_INBOX.c.chat_id == bindparam("chat"), _INBOX.c.status.in_(_OPEN))
        .scalar_subquery(),
        or_(_INBOX.c.claimed_until.is_(None), _INBOX.c.claimed_until <= bindparam("now")),
        ~exists().where(
            _BUSY.c.chat_id == bindparam("chat"), _BUSY.c.status == "handling", _BUSY.c.claimed_until > bindparam("now")
        ),
    )
    .values(status="handling", claimed_by=bindparam("claimer"), claimed_until=bindparam("until"))
    .returning(_INBOX.c.update_id, _INBOX.c.payload)
)
_MARK = (
    update(_INBOX)
    .where(_INBOX.c.update_id == bindparam("id"))
    .values(
        status=bindparam("outcome"),
        attempts=_INBOX.c.attempts + 1,
        done_at=bindparam("now"),
        last_error=bindparam("error"),
        claimed_until=None,
    )
)
_MARK_CLAIMED = _MARK.where(  # only while it is the claimer's, or nobody's
    _INBOX.c.status.in_(_OPEN), or_(_INBOX.c.claimed_by.is_(None), _INBOX.c.claimed_by == bindparam("claimer"))
)
_MARK_MANY = (
    update(_INBOX)
    .where(
        _INBOX.c.update_id.in_(bindparam("ids", expanding=True)),
        _INBOX.c.status.in_(_OPEN),
        or_(_INBOX.c.claimed_by.is_(None), _INBOX.c.claimed_by == bindparam("claimer")),
    )
    .values(status="done", attempts=_INBOX.c.attempts + 1, done_at=bindparam("now"), claimed_until=None)
)
_OLDEST_OPEN = (
    select(_INBOX.c.chat_id, func.min(_INBOX.c.update_id))
    .where(_INBOX.c.chat_id.in_(bindparam("chats", expanding=True)), _INBOX.c.status.in_(_OPEN))
    .group_by(_INBOX.c.chat_id)
)
_CHAT_LOCK = text("SELECT pg_advisory_xact_lock(:space, :key)")
_STORE: dict[str, Any] = {}  # per dialect: INSERT ... ON CONFLICT DO NOTHING RETURNING update_id


def _store_statement(dialect: str) -> Any:
    if (statement := _STORE.get(dialect)) is None:
        statement = _STORE[dialect] = (
            dialect_insert(dialect, _INBOX)
            .on_conflict_do_nothing(index_elements=[_INBOX.c.update_id])
            .returning(_INBOX.c.update_id, sort_by_parameter_order=True)
        )
    return statement


@contextlib.asynccontextmanager
async def _transaction(engine: AsyncEngine, lane: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
    """A transaction on ``lane`` when given, else on a connection of the pool."""
    if lane is None:
        async with engine.begin() as db:
            yield db
    else:
        async with lane.begin():
            yield lane


def chat_key(update: Update) -> int:
    """The chat whose updates must be handled in order (the user's id where there is no chat; 0 for neither)."""
    event = update.event
    chat = getattr(event, "chat", None) or getattr(getattr(event, "message", None), "chat", None)
    if isinstance(chat, Chat):
        return chat.id
    user = getattr(event, "from_user", None)
    return user.id if isinstance(user, User) else 0


def _lock_key(chat_id: int) -> int:
    """The chat folded into PostgreSQL's 32-bit advisory key (a shared key only serialises two chats' claims)."""
    folded = (chat_id ^ (chat_id >> 32)) & 0xFFFF_FFFF
    return folded - (1 << 32) if folded >= 1 << 31 else folded


class Inbox:
    """The ``inbox`` table: store, claim, finish, give back (see the module's docstring)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, replica: Replica | None = None
    ) -> None:
        self.sessions = sessions
        self._engine = engine_of(sessions)
        self.clock = clock
        self.replica = replica or Replica(self._engine)  # who claims (its id changes when it reconnects)
        self.shared = self._engine.dialect.name == "postgresql"

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def replica_id(self) -> str:
        return self.replica.id

    async def store(self, updates: list[Update]) -> list[Update]:
        """Keep the updates not seen before; returns those (a repeat delivery is dropped)."""
        items: list[tuple[int, dict[str, Any], Update | str]] = [(u.update_id, _payload(u), u) for u in updates]
        return (await self._keep(items, None, 0, ()))[0]

    async def accept(self, raw: list[dict[str, Any]], bot: Bot) -> list[Update]:
        """Decode and keep raw updates (as Telegram sent them); returns the fresh ones that decoded. A poison update
        is kept as ``failed`` with its raw JSON and reported; one without an ``update_id`` cannot be kept at all."""
        return (await self.take(raw, bot, 0))[0]

    async def take(
        self,
        raw: list[dict[str, Any]],
        bot: Bot,
        claim_chats: int,
        busy: Collection[int] = (),
        lane: AsyncConnection | None = None,
    ) -> tuple[list[Update], list[Update]]:
        """:meth:`accept`, and in the same transaction up to ``claim_chats`` of the fresh updates' chats (not those in
        ``busy``: in hand here already) claimed by this replica as :meth:`claim_next` claims them: one transaction
        per batch instead of one more per chat. Returns the fresh updates and the claimed ones (each its chat's
        oldest open update, which may have been stored before). ``lane``: a connection kept for the stores
        (:class:`~bot.inbox_worker.InboxPolling`'s), so that a batch never queues for the pool behind the handlers."""
        kept: list[tuple[int, dict[str, Any], Update | str]] = []
        for item in raw:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                log.error("an update without an update_id was dropped: %.300r", item)
                continue
            kept.append((update_id, item, _decode(item, bot)))
        return await self._keep(kept, bot, claim_chats, busy, lane)

    async def _keep(
        self,
        items: list[tuple[int, dict[str, Any], Update | str]],
        bot: Bot | None,
        claim_chats: int,
        busy: Collection[int],
        lane: AsyncConnection | None = None,
    ) -> tuple[list[Update], list[Update]]:
        if not items:
            return [], []
        now = self.clock.now()
        rows: dict[int, dict[str, Any]] = {}
        for update_id, payload, decoded in items:  # a batch that repeats an id keeps its first copy
            poison = isinstance(decoded, str)
            rows.setdefault(
                update_id,
                {
                    "update_id": update_id,
                    "payload": payload,
                    "received_at": now,
                    "status": "failed" if poison else "pending",
                    "attempts": 0,
                    "done_at": now if poison else None,
                    "last_error": f"cannot be decoded: {decoded}" if poison else None,
                    "chat_id": 0 if isinstance(decoded, str) else chat_key(decoded),
                },
            )
        # ahead of the handlers' writes on SQLite: Telegram's next batch is asked for only once this one is
        # committed (bot/storage/write_gate.py)
        with urgent_writes():
            async with _transaction(self._engine, lane) as db:  # one statement: a repeat delivery inserts nothing
                fresh = set(await db.scalars(_store_statement(db.dialect.name), list(rows.values())))
                claimed: list[Update] = []
                if bot is not None and claim_chats > 0:
                    known = {i: u for i, _, u in items if i in fresh and isinstance(u, Update)}
                    chats = dict.fromkeys(chat_key(u) for u in known.values())
                    wanted = [chat for chat in chats if chat not in busy][:claim_chats]
                    for chat in sorted(wanted, key=_lock_key):  # PostgreSQL's chat locks in one order: no deadlock
                        update = await self._claim_in(db, chat, bot, known)
                        claimed += [update] if update is not None else []
        kept: list[Update] = []
        for update_id, _, decoded in items:
            if update_id not in fresh:  # delivered again (or twice in the batch): acknowledged, dropped
                observe_update("unknown" if isinstance(decoded, str) else decoded.event_type, "duplicate", None)
                continue
            fresh.discard(update_id)
            if isinstance(decoded, str):
                log.error("update %s cannot be decoded; stored as failed and skipped: %s", update_id, decoded)
            else:
                kept.append(decoded)
        return kept, claimed

    async def claim_next(self, chat_id: int, bot: Bot) -> Update | None:
        """The chat's oldest open update, now claimed by this replica; None when the chat has none ready or one of
        its updates is being handled (here or elsewhere)."""
        async with self._engine.begin() as db:
            return await self._claim_in(db, chat_id, bot)

    async def _claim_in(
        self, db: AsyncConnection, chat_id: int, bot: Bot, known: dict[int, Update] | None = None
    ) -> Update | None:
        if self.shared:  # claims of one chat take turns, so two replicas never both see it idle
            await db.execute(_CHAT_LOCK, {"space": CHAT_LOCK, "key": _lock_key(chat_id)})
        while True:
            now = self.clock.now()
            claim = {"chat": chat_id, "now": now, "claimer": self.replica_id, "until": now + CLAIM}
            row = (await db.execute(_CLAIM, claim)).first()
            if row is None:
                return None
            decoded = (known or {}).get(row.update_id) or _decode(row.payload, bot)  # known: decoded just now
            if isinstance(decoded, Update):
                return decoded
            log.error("stored update %s cannot be decoded; marked failed and skipped: %s", row.update_id, decoded)
            await self._mark(db, row.update_id, f"cannot be decoded: {decoded}", now)

    async def finish(
        self,
        update_id: int,
        error: str | None,
        writes: Iterable[Write] = (),
        next_of: tuple[int, Bot] | None = None,
        claimer: str | None = None,
    ) -> Update | None:
        """Mark the update handled (or failed), with the writes its handling left for the end (the conversation
        state: bot/storage/update_scope.py), in one transaction; with ``next_of`` (chat, bot) the chat's next update
        is claimed in it too and returned. With ``claimer``, only while the update is still that replica's or was
        given back and is nobody's (its claim ended with a lost connection): one another replica took meanwhile is
        left to that one."""
        async with self._engine.begin() as db:  # Core on a connection: the ORM's session has nothing to add here
            if not await self._mark(db, update_id, error, self.clock.now(), claimer):
                return None
            for write in writes:
                await write(db)
            return await self._claim_in(db, *next_of) if next_of is not None else None

    async def _mark(
        self, db: AsyncConnection, update_id: int, error: str | None, now: datetime, claimer: str | None = None
    ) -> bool:
        values = {"id": update_id, "outcome": "failed" if error else "done", "now": now, "error": error}
        if claimer is None:
            result = await db.execute(_MARK, values)
        else:
            result = await db.execute(_MARK_CLAIMED, {**values, "claimer": claimer})
        return bool(result.rowcount)

    async def oldest_open(self, chats: Collection[int]) -> dict[int, int]:
        """Per chat, its oldest update not handled yet (a chat without one is left out)."""
        if not chats:
            return {}
        async with self._engine.connect() as db:
            rows = await db.execute(_OLDEST_OPEN, {"chats": list(chats)})
            return {int(chat): int(oldest) for chat, oldest in rows}

    async def finish_many(self, update_ids: Collection[int]) -> int:
        """Mark updates handled by other means than their handlers (bot/room_intake.py) in one transaction: each
        only while it is this replica's or nobody's (as :meth:`finish` with its ``claimer``); how many."""
        if not update_ids:
            return 0
        values = {"ids": list(update_ids), "now": self.clock.now(), "claimer": self.replica_id}
        async with self._engine.begin() as db:
            result = await db.execute(_MARK_MANY, values)
        return max(result.rowcount, 0)

    async def give_back(self, update_id: int, error: str) -> bool:
        """A transient failure: the update is handled again after a pause (its chat waits for it); after
        ``MAX_RETRIES`` it is failed. True when it will be retried."""
        now = self.clock.now()
        async with self._engine.begin() as db:
            attempts = await db.scalar(select(InboxRow.attempts).where(InboxRow.update_id == update_id))
            if attempts is None:
                return False
            if attempts + 1 >= MAX_RETRIES:
                await self._mark(db, update_id, f"gave up after {attempts + 1} attempts: {error}"[:500], now)
                return False
            pause = timedelta(seconds=RETRY_AFTER[min(attempts, len(RETRY_AFTER) - 1)])
            await db.execute(
                update(InboxRow)
                .where(InboxRow.update_id == update_id)
                .values(
                    status="pending",
                    attempts=InboxRow.attempts + 1,
                    claimed_by=None,
                    claimed_until=now + pause,
                    last_error=error[:500],
                )
            )
        return True

    async def release_mine(self) -> int:
        """Every claim of this replica given back at once (it stops): another replica takes them now."""
        async with self._engine.begin() as db:
            result = await db.execute(
                update(InboxRow)
                .where(InboxRow.status == "handling", InboxRow.claimed_by == self.replica_id)
                .values(status="pending", claimed_by=None, claimed_until=None)
            )
        return int(result.rowcount or 0)

    async def release_dead(self) -> int:
        """Claims of replicas that are gone, given back: on PostgreSQL, those whose connection is no longer in
        ``pg_stat_activity`` (bot/replicas.py); on SQLite (one process) every claim not this process's."""
        if self.shared:
            alive = select(literal_column("'pg-' || pid", String)).select_from(text("pg_stat_activity"))
            gone = and_(InboxRow.claimed_by.like("pg-%"), InboxRow.claimed_by.not_in(alive))
        else:
            gone = InboxRow.claimed_by != self.replica_id
        async with self._engine.begin() as db:
            result = await db.execute(
                update(InboxRow)
                .where(InboxRow.status == "handling", or_(InboxRow.claimed_by.is_(None), gone))
                .values(status="pending", claimed_by=None, claimed_until=None)
            )
        return int(result.rowcount or 0)

    async def release_stale(self, active_chats: set[int], listed_at: datetime) -> int:
        """This replica's claims on chats it had no task for when ``active_chats`` was listed at ``listed_at`` (a
        task that could not finish: the database failed under it), given back. A claim made after the listing (a
        task that started while this waited for a connection) is left alone."""
        async with self._engine.begin() as db:
            result = await db.execute(
                update(InboxRow)
                .where(
                    InboxRow.status == "handling",
                    InboxRow.claimed_by == self.replica_id,
                    InboxRow.chat_id.not_in(active_chats),
                    InboxRow.claimed_until < listed_at + CLAIM,
                )
                .values(status="pending", claimed_by=None, claimed_until=None)
            )
        return int(result.rowcount or 0)

    async def ready_chats(self, limit: int = 200) -> list[int]:
        """Chats with an update that may be claimed now (one being handled elsewhere may still hold it)."""
        now = self.clock.now()
        async with self._engine.connect() as db:
            rows = await db.scalars(
                select(InboxRow.chat_id)
                .where(
                    InboxRow.status.in_(_OPEN),
                    or_(InboxRow.claimed_until.is_(None), InboxRow.claimed_until <= now),
                )
                .group_by(InboxRow.chat_id)
                .order_by(func.min(InboxRow.update_id))
                .limit(limit)
            )
            chats = list(rows)
            await db.rollback()
        return chats

    async def open_count(self) -> int:
        async with self._engine.connect() as db:
            count = await db.scalar(select(func.count()).select_from(InboxRow).where(InboxRow.status.in_(_OPEN)))
            await db.rollback()
        return int(count or 0)

    async def forget_before(self, moment: datetime) -> None:
        """Handled updates are kept for a while (to drop repeats), then removed."""
        async with self.sessions() as db, db.begin():
            await db.execute(delete(InboxRow).where(InboxRow.status.not_in(_OPEN), InboxRow.done_at < moment))


def _payload(update: Update) -> dict[str, Any]:
    return update.model_dump(mode="json", exclude_none=True, by_alias=True)


def _decode(payload: dict[str, Any], bot: Bot) -> Update | str:
    """The update, or why aiogram cannot read it (one line)."""
    try:
        return Update.model_validate(payload, context={"bot": bot})
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'update'}: {e['msg']}" for e in error.errors()]
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return ("; ".join(problems[:3]) + more)[:400]
    except Exception as error:  # a validator of the library may raise anything on odd input
        return f"{type(error).__name__}: {error}"[:400]
