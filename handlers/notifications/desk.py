"""The operator desk's messages: problem cards (posted once, then edited in place), the digest that stands in for a
flood of cards, and the reminder about a card nobody handled."""

from __future__ import annotations

from aiogram import html
from aiogram.types import InlineKeyboardMarkup

from domain.model.messages import OutboxKind
from domain.model.orders import format_order_code
from handlers.notifications import RenderContext, Rendered, renders
from handlers.operator.cards import CardAction, CardCb, card_kb, card_text, kind_title, load_card_side
from handlers.operator.desk_time import desk_zone
from handlers.read_models import OrderView
from handlers.ui import button

PROBLEMS_TOPIC = "problems"
DIGEST_LINES = 30
DIGEST_BUTTONS = 8


async def problems_thread(rc: RenderContext) -> int | None:
    """The "Problems" topic when the operator chat is a forum, else None (the chat itself). Only new messages need
    it: an edit keeps its message's topic. A topic someone deleted is forgotten by the sender and made anew."""
    return await rc.topic(PROBLEMS_TOPIC, rc.i18n.translator(None).gettext("Problems"))


@renders(OutboxKind.PROBLEM_CARD)
async def problem_card(rc: RenderContext) -> Rendered | None:
    card_id = int(rc.payload["card_id"])
    async with rc.uow:
        card = await rc.uow.desk.card(card_id)
    if card is None or int(rc.payload.get("version", card.version)) < card.version:
        return None  # a newer version of the card has its own row: only that one is shown
    if card.message_id is None and (card.digest_id is not None or not card.is_open):
        return None  # only announced in a digest, or resolved before it was ever posted
    side = await load_card_side(rc.uow, card)
    tr = rc.i18n.translator(None)
    zone = await desk_zone(rc.uow, rc.options.get("desk_timezone"))
    thread_id = card.thread_id if card.message_id is not None else await problems_thread(rc)

    async def remember(message_id: int) -> None:
        async with rc.uow:
            await rc.uow.desk.set_card_message(card_id, message_id, thread_id)
            await rc.uow.commit()

    return Rendered(
        card_text(card, side, tr, zone),
        card_kb(card, side, tr),
        edit_message_id=card.message_id,
        thread_id=thread_id,
        topic_key=PROBLEMS_TOPIC if thread_id is not None and card.message_id is None else None,
        after_send=remember,
    )


@renders(OutboxKind.PROBLEM_DIGEST)
async def problem_digest(rc: RenderContext) -> Rendered | None:
    digest_id = int(rc.payload["digest_id"])
    async with rc.uow:
        cards = [c for c in await rc.uow.desk.digest_cards(digest_id) if c.is_open and c.message_id is None]
        codes = {}
        for card in cards:
            if card.order_id is not None and (order := await rc.uow.orders.get(card.order_id)):
                codes[card.id] = format_order_code(order.code)
    if not cards:
        return None
    tr = rc.i18n.translator(None)
    _ = tr.gettext
    lines = [
        "📋 "
        + tr.ngettext(
            "{count} more problem opened in a minute — too many to post one by one:",
            "{count} more problems opened in a minute — too many to post one by one:",
            len(cards),
        ).format(count=len(cards))
    ]
    for card in cards[:DIGEST_LINES]:
        title = ", ".join(kind_title(k, tr) for k in card.kinds)
        lines.append(f"• <b>{codes.get(card.id, '#' + str(card.id))}</b> — {html.quote(title)}")
    if len(cards) > DIGEST_LINES:
        lines.append(_("… and {count} more.").format(count=len(cards) - DIGEST_LINES))
    lines += ["", _("Open one below, or see them all with /problems.")]
    buttons = [
        button(codes.get(c.id, f"#{c.id}"), CardCb(action=CardAction.SHOW, card=c.id))
        for c in cards[:DIGEST_BUTTONS]
        if c.id is not None
    ]
    markup = InlineKeyboardMarkup(inline_keyboard=[buttons[i : i + 4] for i in range(0, len(buttons), 4)])
    thread_id = await problems_thread(rc)
    return Rendered(
        "\n".join(lines), markup, thread_id=thread_id, topic_key=PROBLEMS_TOPIC if thread_id is not None else None
    )


@renders(OutboxKind.PROBLEM_RERAISED)
async def problem_reraised(rc: RenderContext) -> Rendered | None:
    async with rc.uow:
        card = await rc.uow.desk.card(int(rc.payload["card_id"]))
    if card is None or card.id is None or not card.is_open:
        return None
    side = await load_card_side(rc.uow, card)
    tr = rc.i18n.translator(None)
    _ = tr.gettext
    titles = ", ".join(kind_title(k, tr) for k in card.kinds)
    what = f"<b>{format_order_code(side.order.code)}</b> · {titles}" if isinstance(side, OrderView) else titles
    if card.taken_by:
        name = html.quote(card.taken_by_name or str(card.taken_by))
        who = f'<a href="tg://user?id={card.taken_by}">{name}</a>'
        text = "⏰ " + _("Still open: {what}. {who}, you took it — how is it going?").format(what=what, who=who)
    else:
        text = "⏰ " + _("Still open: {what}. Nobody has taken it yet — who can?").format(what=what)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button("🙋 " + _("Take"), CardCb(action=CardAction.TAKE, card=card.id)),
                button("📌 " + _("Show the card"), CardCb(action=CardAction.SHOW, card=card.id)),
            ]
        ]
    )
    return Rendered(
        text,
        markup,
        thread_id=card.thread_id if card.message_id else await problems_thread(rc),
        reply_to_message_id=card.message_id,
    )
