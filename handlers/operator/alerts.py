"""The buttons of a problem card: act on the order (confirm, decline, remind, refund, cancel, new ticket), write to
the people involved, or handle the card itself (take, snooze, resolve).

Every press is checked on the server twice: the presser is an operator (handlers.operator.access), and the card and
its order are still in a state where the action applies (the use cases refuse otherwise, and the presser is told
the fresh state). The card itself is re-rendered through the outbox, so the group sees one card edited in place.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from domain.errors import CardClosed, DomainError
from domain.model.desk import SNOOZES, Card
from domain.model.orders import Order, format_order_code
from domain.model.questions import WriteTarget
from domain.ports import Clock, UnitOfWork
from domain.use_cases import desk, order_changes
from handlers.operator.access import Operator
from handlers.operator.cards import CardAction, CardCb, card_kb, confirm_kb, load_card_side
from handlers.operator.desk_time import DeskClock, desk_zone
from handlers.operator.errors import domain_error_text
from handlers.operator.money_lines import owed_back_text
from handlers.operator.orders import send_order_card
from handlers.operator.replies import start_writing
from handlers.settings import HandlerSettings
from handlers.tourist.messaging import answer_query
from handlers.ui import Translator

router = Router(name=__name__)

# Order use cases a card button runs directly, by the action code noted on the card afterwards.
ORDER_ACTIONS = {
    CardAction.CONFIRM: "confirm",
    CardAction.DECLINE: "decline",
    CardAction.REMIND: "remind",
    CardAction.REISSUE: "reissue",
    CardAction.REFUND_ALL: "refund",
    CardAction.CANCEL_YES: "cancel",
}


async def _card(uow: UnitOfWork, card_id: int) -> Card | None:
    async with uow:
        return await uow.desk.card(card_id)


def _closed_text(card: Card | None, tr: Translator) -> str:
    if card is None:
        return tr.gettext("This card no longer exists.")
    if card.resolved_by_name:
        return tr.gettext("This problem is already resolved by {name}.").format(name=card.resolved_by_name)
    return tr.gettext("This problem is already resolved.")


async def _refuse(query: CallbackQuery, error: DomainError, card_id: int, uow: UnitOfWork, tr: Translator) -> None:
    """A card's own action was refused: a closed card says who closed it, any other refusal its reason."""
    if isinstance(error, CardClosed):
        text = _closed_text(await _card(uow, card_id), tr)
    else:
        text = domain_error_text(error, tr)
    await answer_query(query, text, alert=True)


@router.callback_query(CardCb.filter(F.action.in_(set(ORDER_ACTIONS))))
async def on_card_order_action(
    query: CallbackQuery,
    callback_data: CardCb,
    uow: UnitOfWork,
    operator: Operator,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    card = await _card(uow, callback_data.card)
    if card is None or card.order_id is None:
        await answer_query(query, tr.gettext("This card no longer exists."), alert=True)
        return
    if not card.is_open:
        await answer_query(query, _closed_text(card, tr), alert=True)
        return
    now = clock.now()
    try:
        order = await _run_order_action(callback_data.action, uow, card.order_id, operator, now, settings)
    except DomainError as error:
        await answer_query(query, domain_error_text(error, tr), alert=True)
        await _restore_buttons(query, callback_data.card, uow, tr)
        return
    action = ORDER_ACTIONS[callback_data.action]
    await desk.note_action(uow, callback_data.card, operator.id, operator.name, action, now, settings.desk)
    await answer_query(query, _done_text(action, format_order_code(order.code), tr))


async def _run_order_action(
    action: CardAction, uow: UnitOfWork, order_id: int, operator: Operator, now: datetime, settings: HandlerSettings
) -> Order:
    match action:
        case CardAction.CONFIRM:
            return await order_changes.confirm_for_organiser(
                uow, order_id, operator.actor, now, settings.payments_enabled
            )
        case CardAction.DECLINE:
            return await order_changes.decline_for_organiser(uow, order_id, operator.actor, now)
        case CardAction.REMIND:
            return await order_changes.remind_tourist(uow, order_id, operator.actor, now)
        case CardAction.REISSUE:
            return await order_changes.reissue_ticket(uow, order_id, operator.actor, now)
        case CardAction.REFUND_ALL:
            return await order_changes.record_refund(uow, order_id, operator.actor, now)
        case CardAction.CANCEL_YES:
            return await order_changes.cancel_order(uow, order_id, operator.actor, now, refund=False)
    raise AssertionError(action)


def _done_text(action: str, code: str, tr: Translator) -> str:
    _ = tr.gettext
    texts = {
        "confirm": _("Booking {code} confirmed for the organiser; the tourist is told."),
        "decline": _("Booking {code} declined for the organiser; the tourist is told."),
        "remind": _("The tourist of {code} is reminded."),
        "reissue": _("A new ticket for {code} is on its way to the tourist; the old code is void."),
        "refund": _("Refund for {code} recorded; the tourist is told."),
        "cancel": _("Order {code} cancelled; the tourist is told."),
    }
    return texts[action].format(code=code)


@router.callback_query(CardCb.filter(F.action.in_({CardAction.REFUND, CardAction.CANCEL})))
async def on_card_ask(query: CallbackQuery, callback_data: CardCb, uow: UnitOfWork, tr: Translator) -> None:
    """Money and cancellations are confirmed by a second press on the same card."""
    card = await _card(uow, callback_data.card)
    if card is None or not card.is_open or card.order_id is None:
        await answer_query(query, _closed_text(card, tr), alert=True)
        return
    _ = tr.gettext
    async with uow:
        order = await uow.orders.get(card.order_id)
    if order is None:
        await answer_query(query, tr.gettext("There is no such order."), alert=True)
        return
    if callback_data.action is CardAction.REFUND:
        owed = owed_back_text(order, tr)  # per currency, never added up
        if not owed:
            await answer_query(query, _("Nothing is owed to the tourist on this order."), alert=True)
            return
        label = "💸 " + _("Refunded {amount} in full").format(amount=owed)
        markup = confirm_kb(card, CardAction.REFUND_ALL, label, tr)
        hint = _("Return the money in the payment provider first. Another amount: open the order (/order {code}).")
    else:
        markup = confirm_kb(card, CardAction.CANCEL_YES, "🚫 " + _("Yes, cancel the order"), tr)
        hint = _("Cancel order {code}? The tourist is told; money paid becomes a refund due.")
    await answer_query(query, hint.format(code=format_order_code(order.code)), alert=False)
    await _edit_markup(query, markup)


@router.callback_query(CardCb.filter(F.action == CardAction.BACK))
async def on_card_back(query: CallbackQuery, callback_data: CardCb, uow: UnitOfWork, tr: Translator) -> None:
    await answer_query(query)
    await _restore_buttons(query, callback_data.card, uow, tr)


@router.callback_query(
    CardCb.filter(
        F.action.in_(
            {CardAction.TAKE, CardAction.TAKE_OVER, CardAction.SNOOZE_15, CardAction.SNOOZE_60, CardAction.RESOLVE}
        )
    )
)
async def on_card_handle(
    query: CallbackQuery,
    callback_data: CardCb,
    uow: UnitOfWork,
    operator: Operator,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    _ = tr.gettext
    now = clock.now()
    try:
        match callback_data.action:
            case CardAction.TAKE if held := await _held_by_another(uow, callback_data.card, operator):
                await answer_query(query, _("{name} has taken this card. Take it over?").format(name=held.name))
                label = "🙋 " + _("Yes, take it over")
                await _edit_markup(query, confirm_kb(held.card, CardAction.TAKE_OVER, label, tr))
                return
            case CardAction.TAKE | CardAction.TAKE_OVER:
                await desk.take_card(uow, callback_data.card, operator.id, operator.name, now, settings.desk)
                text = _("It is yours now.")
            case CardAction.RESOLVE:
                await desk.resolve_card(uow, callback_data.card, operator.id, operator.name, now, settings.desk)
                text = _("Resolved.")
            case _:
                snooze = SNOOZES[0] if callback_data.action is CardAction.SNOOZE_15 else SNOOZES[1]
                card = await desk.snooze_card(
                    uow, callback_data.card, operator.id, operator.name, snooze, now, settings.desk
                )
                until = card.snoozed_until or now + snooze
                zone = await desk_zone(uow, settings.desk_timezone)
                text = _("Snoozed until {time}.").format(time=DeskClock(tr, zone).time(until))
    except DomainError as error:
        await _refuse(query, error, callback_data.card, uow, tr)
        return
    await answer_query(query, text)


@router.callback_query(CardCb.filter(F.action == CardAction.SHOW))
async def on_card_show(
    query: CallbackQuery,
    callback_data: CardCb,
    uow: UnitOfWork,
    bot: Bot,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    """Post the card as a new message at the bottom of the chat; an older message of it says where it went."""
    before = await _card(uow, callback_data.card)
    try:
        await desk.show_card_again(uow, callback_data.card, clock.now(), settings.desk)
    except DomainError as error:
        await _refuse(query, error, callback_data.card, uow, tr)
        return
    await answer_query(query, tr.gettext("The card is posted below."))
    if before is not None and before.message_id is not None and settings.operator_chat_id is not None:
        with contextlib.suppress(TelegramBadRequest):
            await bot.edit_message_text(
                "📌 " + tr.gettext("This card moved to a newer message below."),
                chat_id=settings.operator_chat_id,
                message_id=before.message_id,
                reply_markup=None,
            )


@router.callback_query(CardCb.filter(F.action == CardAction.OPEN))
async def on_card_open_order(
    query: CallbackQuery,
    callback_data: CardCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    card = await _card(uow, callback_data.card)
    if card is None or card.order_id is None:
        await answer_query(query, tr.gettext("This card no longer exists."), alert=True)
        return
    await answer_query(query)
    await send_order_card(query, card.order_id, uow, tr, clock, settings.desk_timezone)


@router.callback_query(CardCb.filter(F.action.in_({CardAction.WRITE_TOURIST, CardAction.WRITE_ORGANISER})))
async def on_card_write(
    query: CallbackQuery, callback_data: CardCb, uow: UnitOfWork, state: FSMContext, tr: Translator
) -> None:
    card = await _card(uow, callback_data.card)
    if card is None or not card.is_open:
        await answer_query(query, _closed_text(card, tr), alert=True)
        return
    target = await _write_target(uow, card, tourist=callback_data.action is CardAction.WRITE_TOURIST)
    if target is None:
        await answer_query(
            query, tr.gettext("There is nobody to write to: the tourist's data was deleted."), alert=True
        )
        return
    await start_writing(state, tr, query, target)


async def _write_target(uow: UnitOfWork, card: Card, tourist: bool) -> WriteTarget | None:
    """The tourist (of the order, or who asked) or the order's organiser; None when there is nobody."""
    async with uow:
        order = await uow.orders.get(card.order_id) if card.order_id else None
        if tourist:
            user_id = order.user_id if order else card.user_id
            user = await uow.users.get(user_id) if user_id else None
            if user is None:
                return None
            return WriteTarget(kind="tourist", chat_id=user.id, order_id=card.order_id, name=user.first_name or "")
        event = await uow.catalog.event(order.event_id) if order else None
        organiser = await uow.catalog.organiser(event.organiser_id) if event else None
    if order is None or organiser is None:
        return None
    return WriteTarget(
        kind="organiser", chat_id=organiser.chat_id, order_id=order.id, organiser_id=organiser.id, name=organiser.name
    )


@dataclass(frozen=True, slots=True)
class _Held:
    card: Card
    name: str


async def _held_by_another(uow: UnitOfWork, card_id: int, operator: Operator) -> _Held | None:
    """The card, when an open card is taken by another operator (a Take then asks before taking it over)."""
    card = await _card(uow, card_id)
    if card is None or not card.is_open or card.taken_by in (None, operator.id):
        return None
    return _Held(card, card.taken_by_name or str(card.taken_by))


async def _restore_buttons(query: CallbackQuery, card_id: int, uow: UnitOfWork, tr: Translator) -> None:
    card = await _card(uow, card_id)
    if card is None:
        return
    await _edit_markup(query, card_kb(card, await load_card_side(uow, card), tr))


async def _edit_markup(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    if isinstance(query.message, Message):
        with contextlib.suppress(TelegramBadRequest):
            await query.message.edit_reply_markup(reply_markup=markup)
