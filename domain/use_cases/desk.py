"""The operator desk: one card per subject (an order, or a tourist's unanswered question) while it has problems.

The cards are derived, never invented: :func:`check_orders` looks at every order that changed since the desk last
saw it (its version) or whose deadline passed (``desk_check_at``), asks :mod:`domain.rules.problems` what is wrong,
and opens, updates or closes the order's card in the same transaction, with an outbox row that posts or edits the
card in the operator chat. :func:`check_questions` does the same for question threads, :func:`reraise_cards` reminds
the group once of a card nobody handled. Operators act on a card with :func:`take_card`, :func:`snooze_card`,
:func:`resolve_card` (and the order use cases of :mod:`domain.use_cases.order_changes`, after which
:func:`note_action` records who did what on the card). Every change of a card is a method of
:class:`~domain.model.desk.Card`.

At rest (nothing changed, nothing due: most of the calls the scheduler makes every second) each job first asks in a
read block (``uow.read()``: no transaction, so on SQLite not the one write lock every writer queues for) whether
anything is there to claim, and stops at that; the claim that acts runs again under the transaction. A change
committed in between is found by the next call, so nothing is missed. Both look-ups are indexed (the orders the desk
has not seen since they changed, those whose next check is due): their cost does not grow with the number of orders
(bench/desk.py).

Flood control: the group takes 20 messages a minute. When more than :data:`DIGEST_AFTER` cards open within a
minute, the rest are not posted one by one: each minute's overflow is announced by one digest message, and an
operator opens any of them from it or from ``/problems``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from domain.errors import NotFound
from domain.model.catalog import EventSession, SessionStatus
from domain.model.desk import NO_DESK, Card, DeskSettings, digest_window, order_subject, question_subject
from domain.model.messages import SYSTEM, AuditEntry, OutboxKind, OutboxMessage, keyed_message, operator_actor
from domain.model.orders import BookingStatus, Order, PaymentStatus
from domain.ports import UnitOfWork
from domain.rules.problems import ProblemKind, open_problems, order_facts, sort_kinds
from domain.use_cases.support import session_of
from domain.use_cases.sweep import DEFAULT_BATCH, Outcome, Swept, sweep


def _card_message(card: Card, chat_id: int, now: datetime) -> OutboxMessage:
    """Post or edit the card: one row per version, so every change is shown once and the renderer skips rows a
    newer version superseded."""
    payload = {"card_id": card.id, "version": card.version}
    return keyed_message(OutboxKind.PROBLEM_CARD, chat_id, payload, now, card.id, card.version)


async def _show(uow: UnitOfWork, card: Card, settings: DeskSettings, now: datetime) -> None:
    """Write the card's change and, unless it was only announced in a digest, the row that shows it."""
    card.new_version(now)
    await uow.desk.save_card(card)
    if settings.chat_id is not None and (card.message_id is not None or card.digest_id is None):
        await uow.outbox.add(_card_message(card, settings.chat_id, now))


async def _open(uow: UnitOfWork, card: Card, settings: DeskSettings, chat_id: int, now: datetime) -> Card:
    """A new card: posted on its own while the group's budget lasts, else announced in this minute's digest."""
    card = await uow.desk.add_card(card)
    if card.digest_id is None:
        await uow.outbox.add(_card_message(card, chat_id, now))
    else:
        window_end = datetime.fromtimestamp((card.digest_id + 1) * 60, tz=now.tzinfo)
        digest = {"digest_id": card.digest_id}
        await uow.outbox.add(keyed_message(OutboxKind.PROBLEM_DIGEST, chat_id, digest, window_end, card.digest_id))
    await _audit(uow, now, SYSTEM, "problem.opened", card, after={"card": card.id, "kinds": card.kinds})
    return card


async def _audit(
    uow: UnitOfWork,
    now: datetime,
    actor: str,
    action: str,
    card: Card,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any],
) -> None:
    """What happened to the card, in the audit log of its order (if it is about one)."""
    entry = AuditEntry(at=now, actor=actor, action=action, order_id=card.order_id, before=before or {}, after=after)
    await uow.audit.add(entry)


async def _show_and_audit(
    uow: UnitOfWork,
    card: Card,
    settings: DeskSettings,
    now: datetime,
    actor: str,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any],
) -> None:
    """A change someone made to the card: shown (:func:`_show`) and written to the audit log."""
    await _show(uow, card, settings, now)
    await _audit(uow, now, actor, action, card, before=before, after=after)


async def _close(
    uow: UnitOfWork,
    card: Card,
    settings: DeskSettings,
    now: datetime,
    actor: str,
    name: str | None,
    resolution: str,
) -> None:
    card.resolve(actor, name, resolution, now)
    before = {"card": card.id, "kinds": card.kinds}
    await _show_and_audit(
        uow, card, settings, now, actor, "problem.resolved", before=before, after={"resolution": resolution}
    )


async def _sync(
    uow: UnitOfWork,
    subject: str,
    kinds: list[ProblemKind],
    changed: bool,
    settings: DeskSettings,
    now: datetime,
    *,
    order_id: int | None = None,
    user_id: int | None = None,
    settled: str = "back_to_normal",
) -> Outcome:
    """Bring the subject's card in line with its open problems."""
    card = await uow.desk.open_card(subject)
    codes = [k.value for k in kinds]
    if card is None:
        if not codes or settings.chat_id is None:
            return Outcome.SKIPPED
        flood = await uow.desk.cards_opened_since(now - timedelta(minutes=1)) >= settings.digest_after
        new = Card(
            subject=subject,
            kinds=codes,
            opened_at=now,
            updated_at=now,
            order_id=order_id,
            user_id=user_id,
            remind_at=now + settings.reraise_after,
            digest_id=digest_window(now) if flood else None,
        )
        await _open(uow, new, settings, settings.chat_id, now)
        return Outcome.DONE
    if not codes:
        last = card.last_action or {}
        await _close(
            uow,
            card,
            settings,
            now,
            last.get("actor", SYSTEM),
            last.get("by"),
            last.get("action", settled),
        )
        return Outcome.DONE
    if codes != card.kinds or changed:
        card.set_kinds(codes)
        await _show(uow, card, settings, now)
        return Outcome.DONE
    return Outcome.SKIPPED


async def open_card_for(
    uow: UnitOfWork,
    subject: str,
    kinds: list[ProblemKind],
    settings: DeskSettings,
    now: datetime,
    *,
    user_id: int | None = None,
) -> Outcome:
    """Open (or update) the card of a subject no job watches (a payment whose order we cannot find), inside the
    caller's transaction; an operator resolves it by hand."""
    return await _sync(uow, subject, kinds, False, settings, now, user_id=user_id)


# ---- the jobs -----------------------------------------------------------------------------------------------------


async def _at_rest(uow: UnitOfWork, first: Callable[[], Awaitable[int | None]]) -> bool:
    """Nothing for the job to claim: ``first`` (the job's claim, as a plain read) finds nothing, in a read block."""
    async with uow.read():
        return await first() is None


async def check_orders(
    uow: UnitOfWork,
    now: datetime,
    limit: int = DEFAULT_BATCH,
    settings: DeskSettings = NO_DESK,
) -> Swept:
    """Orders changed since the desk last saw them, or whose deadline passed: open, update or close their card."""
    if await _at_rest(uow, lambda: uow.desk.order_to_check(now)):
        return Swept()

    async def handle(order_id: int) -> Outcome:
        order = await uow.orders.get(order_id)
        if order is None:
            return Outcome.LEFT
        session = await session_of(uow, order)
        facts = order_facts(order, session.starts_at, session.status is SessionStatus.CANCELLED, now)
        all_kinds = open_problems(facts, [])
        acknowledged = [k for k in order.desk_ack if k in {p.value for p in all_kinds}]
        kinds = sort_kinds([k for k in all_kinds if k.value not in acknowledged])
        seen = await uow.desk.order_seen_version(order_id)
        await uow.desk.mark_order_checked(order_id, order.version, acknowledged, _next_check(order, session, now))
        return await _sync(
            uow,
            order_subject(order_id),
            kinds,
            seen != order.version,
            settings,
            now,
            order_id=order_id,
            user_id=order.user_id,
        )

    return await sweep(uow, limit, lambda seen: uow.desk.claim_order_to_check(now, seen), handle)


def _next_check(order: Order, session: EventSession, now: datetime) -> datetime | None:
    """The next moment this order's problems can change by time alone: a deadline passing, or the session starting
    while the organiser or the payment is still awaited."""
    moments: list[datetime | None] = []
    if order.booking is BookingStatus.AWAITING_ORGANISER:
        moments += [order.confirm_by, session.starts_at]
    if order.payment is PaymentStatus.AWAITING:
        moments += [order.pay_by, session.starts_at]
    return min((m for m in moments if m is not None and m > now), default=None)


async def check_questions(
    uow: UnitOfWork,
    now: datetime,
    limit: int = DEFAULT_BATCH,
    settings: DeskSettings = NO_DESK,
) -> Swept:
    """Question threads due a look: unanswered past their answer time opens a card; answered closes it."""
    if await _at_rest(uow, lambda: uow.desk.claim_question_to_check(now, ())):
        return Swept()

    async def handle(thread_id: int) -> Outcome:
        thread = await uow.desk.question_thread(thread_id)
        await uow.desk.mark_question_checked(thread_id)
        if thread is None:
            return Outcome.LEFT
        kinds = [ProblemKind.QUESTION_UNANSWERED] if thread.is_open else []
        return await _sync(
            uow,
            question_subject(thread_id),
            kinds,
            False,
            settings,
            now,
            user_id=thread.user_id,
            settled="answered",
        )

    return await sweep(uow, limit, lambda seen: uow.desk.claim_question_to_check(now, seen), handle)


async def reraise_cards(
    uow: UnitOfWork,
    now: datetime,
    limit: int = DEFAULT_BATCH,
    settings: DeskSettings = NO_DESK,
) -> Swept:
    """An open card nobody resolved by its ``remind_at`` is raised once more: a reply to it mentioning the operator
    who took it, or everyone."""
    if await _at_rest(uow, lambda: uow.desk.claim_card_to_reraise(now, ())):
        return Swept()

    async def handle(card_id: int) -> Outcome:
        card = await uow.desk.card(card_id)
        if card is None or not card.is_open or card.remind_at is None or card.remind_at > now:
            return Outcome.LEFT
        card.reraise(now)
        await uow.desk.save_card(card)
        if settings.chat_id is None:
            return Outcome.SKIPPED
        reraised = keyed_message(
            OutboxKind.PROBLEM_RERAISED, settings.chat_id, {"card_id": card.id}, now, card.id, int(now.timestamp())
        )
        await uow.outbox.add(reraised)
        await _audit(uow, now, SYSTEM, "problem.reraised", card, after={"card": card.id, "taken_by": card.taken_by})
        return Outcome.DONE

    return await sweep(uow, limit, lambda seen: uow.desk.claim_card_to_reraise(now, seen), handle)


# ---- what operators do on a card ----------------------------------------------------------------------------------


async def _open_card(uow: UnitOfWork, card_id: int) -> Card:
    card = await uow.desk.card(card_id)
    if card is None:
        raise NotFound(card=card_id)
    card.check_open()
    return card


async def take_card(
    uow: UnitOfWork,
    card_id: int,
    operator_id: int,
    name: str,
    now: datetime,
    settings: DeskSettings,
) -> Card:
    """Assign the card to this operator (taking it from whoever had it)."""
    async with uow:
        card = await _open_card(uow, card_id)
        before = {"taken_by": card.taken_by}
        card.take(operator_id, name, now)
        taken = {"card": card.id, "taken_by": operator_id}
        await _show_and_audit(
            uow, card, settings, now, operator_actor(operator_id), "problem.taken", before=before, after=taken
        )
        await uow.commit()
    return card


async def snooze_card(
    uow: UnitOfWork,
    card_id: int,
    operator_id: int,
    name: str,
    snooze: timedelta,
    now: datetime,
    settings: DeskSettings,
) -> Card:
    """Quiet until ``now + snooze``; then it is raised again (once), even if it was raised before."""
    async with uow:
        card = await _open_card(uow, card_id)
        card.snooze(operator_id, name, snooze, now)
        snoozed = {"card": card.id, "until": (now + snooze).isoformat()}
        await _show_and_audit(uow, card, settings, now, operator_actor(operator_id), "problem.snoozed", after=snoozed)
        await uow.commit()
    return card


async def resolve_card(
    uow: UnitOfWork,
    card_id: int,
    operator_id: int,
    name: str,
    now: datetime,
    settings: DeskSettings,
) -> Card:
    """Handled (outside the bot, or nothing to do): the card closes and its kinds are acknowledged on the order,
    so the same problem does not come back while the order stays as it is; a new problem opens a new card."""
    actor = operator_actor(operator_id)
    async with uow:
        card = await _open_card(uow, card_id)
        if card.order_id is not None:
            await uow.desk.acknowledge(card.order_id, card.kinds)
        elif card.subject.startswith("question:"):
            await uow.desk.close_question(int(card.subject.split(":", 1)[1]), actor, now)
        card.record(actor, name, "resolve", now)
        await _close(uow, card, settings, now, actor, name, "resolve")
        await uow.commit()
    return card


async def note_action(
    uow: UnitOfWork,
    card_id: int,
    operator_id: int,
    name: str,
    action: str,
    now: datetime,
    settings: DeskSettings,
) -> None:
    """After an order use case an operator ran from the card: the card says who did what (the desk job then
    closes it if the order is back to normal)."""
    async with uow:
        card = await uow.desk.card(card_id)
        if card is None or not card.is_open:
            return
        card.record(operator_actor(operator_id), name, action, now)
        await _show(uow, card, settings, now)
        await uow.commit()


async def show_card_again(uow: UnitOfWork, card_id: int, now: datetime, settings: DeskSettings) -> Card:
    """Post an open card as a new message (it was only in a digest, or its message was lost)."""
    async with uow:
        card = await _open_card(uow, card_id)
        card.repost()
        await _show(uow, card, settings, now)
        await uow.commit()
    return card
