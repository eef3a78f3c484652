"""/problems: the open problem cards, newest or oldest first, filtered by kind, a page at a time.

/problems                 newest first
/problems oldest          oldest first
/problems refund_due      one kind (its code; the list's buttons filter too)
"""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from domain.model.desk import Card
from domain.model.orders import format_order_code
from domain.ports import UnitOfWork
from domain.rules.problems import ProblemKind
from handlers.operator.cards import CardAction, CardCb, card_id, kind_title
from handlers.operator.desk_time import DeskClock, desk_zone
from handlers.settings import HandlerSettings
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator, button

router = Router(name=__name__)

PAGE = 10
ALL = "all"


class ProblemsCb(CallbackData, prefix="dp"):
    page: int
    oldest: bool
    kind: str  # a ProblemKind value or "all"


def message_link(chat_id: int, message_id: int) -> str | None:
    """A link to a message of a supergroup (``-100…`` ids); other chats have none."""
    text = str(chat_id)
    return f"https://t.me/c/{text[4:]}/{message_id}" if text.startswith("-100") else None


def _parse(args: str | None) -> tuple[bool, str | None] | None:
    oldest, kind = False, None
    for word in (args or "").lower().split():
        if word in ("oldest", "old"):
            oldest = True
        elif word in ("newest", "new"):
            oldest = False
        elif word in {k.value for k in ProblemKind}:
            kind = word
        else:
            return None
    return oldest, kind


async def _page(
    uow: UnitOfWork, page: int, oldest: bool, kind: str | None, tr: Translator, zone: str | None, chat_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    desk_clock = DeskClock(tr, await desk_zone(uow, zone))
    async with uow:
        cards, total = await uow.desk.open_cards(kind, not oldest, page * PAGE, PAGE)
        all_open, _total = await uow.desk.open_cards(None, True, 0, 10_000)
        codes = {}
        for card in cards:
            if card.order_id is not None and (order := await uow.orders.get(card.order_id)):
                codes[card.id] = format_order_code(order.code)
    pages = max((total + PAGE - 1) // PAGE, 1)
    page = min(page, pages - 1)
    what = kind_title(kind, tr) if kind else _("all kinds")
    order_words = _("oldest first") if oldest else _("newest first")
    head = "📋 " + tr.ngettext("{count} open problem", "{count} open problems", total).format(count=total)
    lines = [f"{head} · {html.quote(what)} · {order_words}"]
    if not cards:
        lines.append(_("Nothing here. 🎉"))
    rows: list[list[InlineKeyboardButton]] = []
    for number, card in enumerate(cards, start=page * PAGE + 1):
        label = codes.get(card.id) or _("question")
        titles = ", ".join(kind_title(k, tr) for k in card.kinds)
        extra = f" · {html.quote(card.taken_by_name)}" if card.taken_by_name else ""
        lines.append(
            f"{number}. <b>{label}</b> — {html.quote(titles)} · "
            + _("open since {time}").format(time=desk_clock.time(card.opened_at))
            + extra
        )
        rows.append([_card_button(card, label, chat_id, tr)])
    navigation = []
    if page > 0:
        navigation.append(_list_button("⬅️", page - 1, oldest, kind))
    if page + 1 < pages:
        navigation.append(_list_button("➡️", page + 1, oldest, kind))
    if navigation:
        rows.append(navigation)
    rows.append([_list_button("🔃 " + (_("Newest first") if oldest else _("Oldest first")), 0, not oldest, kind)])
    present = sorted({k for c in all_open for k in c.kinds}, key=lambda k: list(ProblemKind).index(ProblemKind(k)))
    filters = [_list_button(("• " if k == kind else "") + kind_title(k, tr), 0, oldest, k) for k in present]
    if kind:
        filters.insert(0, _list_button(_("All kinds"), 0, oldest, None))
    rows += [filters[i : i + 2] for i in range(0, len(filters), 2)]
    if pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def _card_button(card: Card, label: str, chat_id: int, tr: Translator) -> InlineKeyboardButton:
    """To the card's message when it has one, else a button that posts it."""
    if card.message_id is not None and (url := message_link(chat_id, card.message_id)):
        return InlineKeyboardButton(text="↗️ " + label, url=url)
    return button(
        "📌 " + label + " · " + tr.gettext("show the card"), CardCb(action=CardAction.SHOW, card=card_id(card))
    )


def _list_button(text: str, page: int, oldest: bool, kind: str | None) -> InlineKeyboardButton:
    return button(text, ProblemsCb(page=page, oldest=oldest, kind=kind or ALL))


@router.message(Command("problems"))
async def cmd_problems(
    message: Message, command: CommandObject, uow: UnitOfWork, tr: Translator, settings: HandlerSettings
) -> None:
    parsed = _parse(command.args)
    if parsed is None:
        usage = tr.gettext("Usage: /problems, or /problems oldest. Pick a kind with the buttons under the list.")
        await message.reply(usage)
        return
    oldest, kind = parsed
    text, markup = await _page(uow, 0, oldest, kind, tr, settings.desk_timezone, message.chat.id)
    await message.answer(text, reply_markup=markup)


@router.callback_query(ProblemsCb.filter())
async def on_problems_page(
    query: CallbackQuery, callback_data: ProblemsCb, uow: UnitOfWork, tr: Translator, settings: HandlerSettings
) -> None:
    kind = callback_data.kind if callback_data.kind in {k.value for k in ProblemKind} else None
    page = max(callback_data.page, 0)
    chat_id = query.message.chat.id if query.message else 0
    text, markup = await _page(uow, page, callback_data.oldest, kind, tr, settings.desk_timezone, chat_id)
    await answer_query(query)
    await show(query, text, markup)
