"""An order confirmed at once (the organiser's "instant" confirmation) and paid on site gets its ticket too (issue 14),
through the real Dispatcher: booked from the chat, one message with the check-in QR of its order code comes through
the outbox — once, however often the booking is confirmed or the outbox runs — and the organiser checks it in from
that link."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import InlineKeyboardButton
from sqlalchemy import select

from bot.outbox import OutboxSender
from bot.storage.tables import OrderRow
from domain.model.checkin import checkin_link
from domain.model.orders import format_order_code
from handlers.tourist.callbacks import BookAction, BookCb, EventCb
from tests.handlers.chat import Chat
from tests.handlers.conftest import TOURIST_ID
from tests.handlers.organiser_wiring import wire_organiser_routers
from tests.seed import INSTANT_ORGANISER_CHAT_ID, Seeded
from tests.telegram.recorder import BOT_USERNAME, RecordingSession

SHOW_QR = "Show this QR image at the meeting point"


@pytest.fixture(autouse=True)
def _organiser_routers(monkeypatch: pytest.MonkeyPatch) -> None:
    wire_organiser_routers(monkeypatch)


@pytest.fixture
def qr_texts(sender: OutboxSender) -> list[str]:
    """What every QR image the sender draws encodes (the real PNG is still drawn and sent)."""
    drawn: list[str] = []
    draw = sender.renderer.qr_image

    def recording(text: str) -> bytes:
        drawn.append(text)
        return draw(text)

    sender.renderer.qr_image = recording
    return drawn


def data(cb: BookCb | EventCb) -> Callable[[InlineKeyboardButton], bool]:
    packed = cb.pack()
    return lambda button: button.callback_data == packed


async def book_instantly(chat: Chat, seeded: Seeded) -> int:
    """The tourist books one adult on the instant walk from its event card; returns the summary's message id."""
    await chat.send("/start")
    await chat.press_data(EventCb(event=seeded.instant_event_id).pack())
    await chat.press(data(BookCb(action=BookAction.START, session=seeded.instant_session_id)))
    await chat.press(data(BookCb(action=BookAction.NEXT, session=seeded.instant_session_id)))
    summary_id = chat.last_message().message_id
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.instant_session_id)))
    return summary_id


def photos_to_tourist(recorder: RecordingSession) -> list:
    return [r for r in recorder.calls("sendPhoto") if r.chat_id == TOURIST_ID]


async def test_an_instantly_confirmed_pay_on_site_order_gets_its_check_in_qr_once(
    chat: Chat,
    seeded: Seeded,
    sessions,
    sender: OutboxSender,
    recorder: RecordingSession,
    qr_texts: list[str],
    dp: Dispatcher,
    bot: Bot,
) -> None:
    summary_id = await book_instantly(chat, seeded)
    async with sessions() as db:
        [order] = list(await db.scalars(select(OrderRow)))
    assert (order.booking, order.payment) == ("confirmed", "on_site")
    code = format_order_code(order.code)

    confirm = BookCb(action=BookAction.CONFIRM, session=seeded.instant_session_id)
    await chat.press_data(confirm.pack(), message_id=summary_id)
    assert await sender.deliver_due() == 1  # a double tap on Confirm places nothing more, sends nothing more
    [photo] = photos_to_tourist(recorder)
    caption = photo.params["caption"]
    assert "is confirmed" in caption and code in caption and "Pay at the meeting point" in caption
    assert SHOW_QR in caption
    assert qr_texts == [checkin_link(BOT_USERNAME, order.code)]
    assert await sender.deliver_due() == 0
    assert len(photos_to_tourist(recorder)) == 1  # never twice

    # the organiser's camera opens the link: the order, to pay on site, checked in with one tap
    organiser = Chat(dp, bot, recorder, INSTANT_ORGANISER_CHAT_ID, language_code="en", first_name="Guide")
    await organiser.send("/start " + qr_texts[0].rsplit("start=", 1)[1])
    assert f"Order {code}" in organiser.last_text() and "To pay on site" in organiser.last_text()
    await organiser.press("✅ Check in")
    assert "Checked in at" in organiser.last_text()
