"""Check-in's gaps closed (issue 14) through the real Dispatcher: a confirmed order paid on site (no ticket) gets the
check-in QR of its order code with its confirmation, and the organiser checks it in from that link; the order card
offers "I'm running late" on the session's day only, with the same use case and rules as the reminder's button."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram import Bot, Dispatcher

from bot.outbox import OutboxSender
from bot.storage.uow import SqlUnitOfWork
from domain.model.checkin import checkin_link
from domain.model.orders import Order, format_order_code
from domain.rules.replies import OrganiserReply, Verdict
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from domain.use_cases.confirmation import answer_booking_request
from handlers.tourist.callbacks import OrderAction, OrderCb
from tests.handlers.chat import Chat
from tests.handlers.conftest import STRANGER_ID, TOURIST_ID
from tests.handlers.organiser_wiring import organiser_chat as english_organiser_chat
from tests.handlers.organiser_wiring import wire_organiser_routers
from tests.seed import ORGANISER_CHAT_ID, SESSION_IN, Seeded, seed_user
from tests.telegram.recorder import BOT_USERNAME, RecordingSession

LATE = "🏃 I'm running late"
SHOW_QR = "Show this QR image at the meeting point"


@pytest.fixture(autouse=True)
def _organiser_routers(monkeypatch: pytest.MonkeyPatch) -> None:
    wire_organiser_routers(monkeypatch)


@pytest.fixture
def organiser_chat(dp: Dispatcher, bot: Bot, recorder: RecordingSession) -> Chat:
    """The seeded organiser's private chat, in English (readable assertions)."""
    return english_organiser_chat(dp, bot, recorder)


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


async def confirmed(sessions, seeded: Seeded, clock, payments_enabled: bool) -> Order:
    """Tourist 1001 (Anna) booked two adults on the cruise and the organiser confirmed: paid on site when
    ``payments_enabled`` is False, else awaiting the payment in chat."""
    await seed_user(sessions, TOURIST_ID, language="en", now=clock.now(), first_name="Anna")
    order = await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=TOURIST_ID,
            session_id=seeded.session_id,
            quantities={"adult": 2},
            answers={"pickup": "Viru", "lunch": "fish"},
            payments_enabled=payments_enabled,
        ),
        clock.now(),
    )
    yes = OrganiserReply(Verdict.YES)
    await answer_booking_request(
        SqlUnitOfWork(sessions), order.stored_id, ORGANISER_CHAT_ID, yes, "+", clock.now(), payments_enabled
    )
    async with SqlUnitOfWork(sessions) as uow:
        found = await uow.orders.get(order.stored_id)
    assert found is not None
    return found


@pytest.fixture
async def on_site(sessions, seeded: Seeded, clock) -> Order:
    return await confirmed(sessions, seeded, clock, payments_enabled=False)


def to_tourist(recorder: RecordingSession, method: str) -> list:
    return [r for r in recorder.calls(method) if r.chat_id == TOURIST_ID]


# ---- the pay-on-site order's check-in QR ---------------------------------------------------------------------------


async def test_a_confirmed_pay_on_site_order_comes_with_its_check_in_qr(
    on_site: Order, sender: OutboxSender, recorder: RecordingSession, qr_texts: list[str], organiser_chat: Chat
) -> None:
    await sender.deliver_due()
    [photo] = to_tourist(recorder, "sendPhoto")
    caption = photo.params["caption"]
    code = format_order_code(on_site.code)
    assert "is confirmed" in caption and code in caption and "Pay at the meeting point" in caption
    assert SHOW_QR in caption
    assert photo.params["reply_markup"]["inline_keyboard"]  # the order button, as before
    assert qr_texts == [checkin_link(BOT_USERNAME, on_site.code)]

    # the organiser's camera opens the link: the order (paid on site), checked in with one tap
    await organiser_chat.send("/start " + qr_texts[0].rsplit("start=", 1)[1])
    ticket = organiser_chat.last_text()
    assert f"Order {code}" in ticket and "To pay on site" in ticket and "Not checked in yet" in ticket
    await organiser_chat.press("✅ Check in")
    assert "Checked in at" in organiser_chat.last_text()


async def test_a_stranger_with_the_on_site_qr_learns_only_the_event(
    on_site: Order,
    sender: OutboxSender,
    qr_texts: list[str],
    dp: Dispatcher,
    bot: Bot,
    recorder: RecordingSession,
    operator_members: set[int],  # who the operator group has: not this stranger
) -> None:
    await sender.deliver_due()
    outsider = Chat(dp, bot, recorder, STRANGER_ID, language_code="en", first_name="Mallory")
    await outsider.send("/start " + qr_texts[0].rsplit("start=", 1)[1])
    text = outsider.last_text()
    assert "ticket for" in text and "Islands cruise" in text
    for personal in ("Anna", format_order_code(on_site.code), "Viru"):
        assert personal not in text
    assert outsider.buttons() == []


async def test_a_confirmation_that_asks_for_a_payment_has_no_check_in_qr(
    sessions, seeded: Seeded, clock, sender: OutboxSender, recorder: RecordingSession, qr_texts: list[str]
) -> None:
    order = await confirmed(sessions, seeded, clock, payments_enabled=True)
    await sender.deliver_due()
    assert to_tourist(recorder, "sendPhoto") == [] and qr_texts == []  # the ticket's QR comes with the payment
    confirmations = [r for r in to_tourist(recorder, "sendMessage") if "is confirmed" in r.params["text"]]
    assert len(confirmations) == 1 and SHOW_QR not in confirmations[0].params["text"]
    assert format_order_code(order.code) in confirmations[0].params["text"]


# ---- "I'm running late" on the order card --------------------------------------------------------------------------


async def open_card(chat: Chat, order: Order) -> None:
    await chat.press_data(OrderCb(action=OrderAction.VIEW, order=order.stored_id).pack())


async def test_the_order_card_offers_running_late_on_the_day_only(
    chat: Chat, on_site: Order, clock, sender: OutboxSender, organiser_chat: Chat
) -> None:
    await sender.deliver_due()
    await chat.send("/start")
    await open_card(chat, on_site)
    assert "Cancel booking" in " ".join(chat.buttons()) and LATE not in chat.buttons()  # two days before

    clock.advance(seconds=(SESSION_IN - timedelta(minutes=20)).total_seconds())
    await open_card(chat, on_site)
    assert chat.buttons()[0] == LATE
    await chat.press(LATE)
    [alert] = chat.alerts()
    assert alert.show_alert and "We have told the organiser" in alert.text
    assert await sender.deliver_due() == 1
    told = organiser_chat.last_text()
    assert told.startswith("🏃") and "Anna" in told and format_order_code(on_site.code) in told

    await open_card(chat, on_site)
    await chat.press(LATE)  # the same rules as the reminder's button: once
    [alert] = chat.alerts()
    assert "already knows" in alert.text
    assert await sender.deliver_due() == 0

    clock.advance(hours=6)  # the cruise is over
    await open_card(chat, on_site)
    assert LATE not in chat.buttons()


async def test_a_cancelled_order_has_no_running_late_on_the_day(
    chat: Chat, on_site: Order, sessions, clock, sender: OutboxSender
) -> None:
    clock.advance(seconds=(SESSION_IN - timedelta(hours=3)).total_seconds())
    await cancel_order(SqlUnitOfWork(sessions), TOURIST_ID, on_site.stored_id, clock.now())
    await sender.deliver_due()
    await chat.send("/start")
    await open_card(chat, on_site)
    assert "Order" in chat.last_text() and LATE not in chat.buttons()
