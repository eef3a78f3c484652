"""/order and /audit in the operator group: the full card of any order and every edit action, end to end through
the Dispatcher; each action is audited and told to the tourist (through the outbox, in their language); strangers,
stale and forged presses change nothing."""

from __future__ import annotations

import re

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import select

from bot.i18n import I18n
from bot.storage.tables import (
    AuditRow,
    OrderItemRow,
    OrderRow,
    OutboxRow,
    PaymentRow,
    SessionRow,
)
from bot.storage.uow import SqlUnitOfWork
from domain.model.messages import OutboxKind
from domain.model.orders import (
    BookingStatus,
    Order,
    PaymentStatus,
    TicketStatus,
    format_order_code,
)
from domain.use_cases import order_changes as oc
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.payments import record_payment
from handlers.operator.order_card import TEXT_LIMIT, OrderDeskAction, OrderDeskCb
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_ID
from tests.seed import ORGANISER_CHAT_ID, Seeded, seed_user
from tests.telegram.recorder import RecordingSession

TOURIST = 5001
PHONE = "+3725551234"
ACTOR = "operator:9"


@pytest.fixture
def tourist(dp: Dispatcher, bot: Bot, recorder: RecordingSession) -> Chat:
    return Chat(dp, bot, recorder, TOURIST, language_code="ru", first_name="Ivan")


async def book(sessions, seeded: Seeded, clock, adults: int = 2, session_id: int | None = None) -> Order:
    await seed_user(sessions, TOURIST, language="ru", now=clock.now(), first_name="Ivan", phone=PHONE)
    return await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=TOURIST,
            session_id=session_id or seeded.session_id,
            quantities={"adult": adults},
            answers={"pickup": "Hotel Viru", "lunch": "veg"},
        ),
        clock.now(),
    )


async def confirmed(sessions, seeded: Seeded, clock, adults: int = 2) -> Order:
    order = await book(sessions, seeded, clock, adults)
    return await oc.confirm_for_organiser(SqlUnitOfWork(sessions), order.id, ACTOR, clock.now(), True)


async def paid(sessions, seeded: Seeded, clock, adults: int = 2) -> Order:
    order = await confirmed(sessions, seeded, clock, adults)
    outcome = await record_payment(
        SqlUnitOfWork(sessions), order.id, TOURIST, "tg-1", "prov-1", order.total_minor, "EUR", clock.now()
    )
    assert outcome.order.payment is PaymentStatus.PAID
    return outcome.order


async def row(sessions, order_id: int) -> OrderRow:
    async with sessions() as db:
        return await db.get(OrderRow, order_id)


async def audit_actions(sessions, order_id: int) -> list[tuple[str, str]]:
    async with sessions() as db:
        rows = await db.scalars(select(AuditRow).where(AuditRow.order_id == order_id).order_by(AuditRow.id))
        return [(r.actor, r.action) for r in rows]


async def outbox(sessions, kind: OutboxKind | None = None) -> list[OutboxRow]:
    async with sessions() as db:
        query = select(OutboxRow).order_by(OutboxRow.id)
        if kind is not None:
            query = query.where(OutboxRow.kind == kind.value)
        return list(await db.scalars(query))


async def seats_left(sessions, session_id: int) -> int:
    async with sessions() as db:
        return await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))


async def open_card(operator_chat: Chat, order: Order) -> int:
    await operator_chat.send(f"/order {format_order_code(order.code).lower()}")
    [sent] = operator_chat.replies("sendMessage")
    return sent.result.message_id


ME = f"operator:{OPERATOR_ID}"


# ---- the card --------------------------------------------------------------------------------------------------------


async def test_the_card_shows_every_dimension_masked_contacts_and_history(
    operator_chat, sessions, seeded, clock
) -> None:
    order = await paid(sessions, seeded, clock)
    await open_card(operator_chat, order)
    text = operator_chat.last_text()
    assert format_order_code(order.code) in text
    assert "Islands cruise" in text and "Tallinn" in text
    assert "Booking: confirmed" in text and "Payment: paid" in text and "Ticket: issued" in text
    assert order.ticket_code in text
    assert "Adult × 2" in text and "Total: €90.00" in text
    assert "Paid: €90.00 · refunded: €0.00 · owed back: €0.00" in text
    assert "Hotel Viru" in text and "Vegetarian" in text  # the organiser's questions' answers
    assert "Ivan" in text and "Russian" in text and "+372•••••34" in text and PHONE not in text
    assert "Baltic Boats" in text and "+3725550001" in text  # an organiser's phone in full, as on the problem card
    assert "order placed" in text and "payment received" in text and "confirmed for the organiser" in text
    assert operator_chat.buttons() == [
        "🗓 Change session",
        "🎟 Quantities",
        "🏨 Hotel",
        "🎫 Replace ticket",
        "🚫 Cancel",
        "📝 Note",
        "📜 History",
        "🔄 Refresh",
    ]


async def test_order_without_a_code_a_bad_code_and_an_unknown_code(operator_chat, seeded) -> None:
    await operator_chat.send("/order")
    assert "Usage: /order" in operator_chat.last_text()
    await operator_chat.send("/order <b>hello</b> world")
    assert "That is not an order code" in operator_chat.last_text()
    await operator_chat.send("/order AAA-AAA")
    assert operator_chat.last_text() == "No order with the code AAA-AAA."


async def test_a_deleted_tourist_shows_as_data_deleted(operator_chat, sessions, seeded, clock) -> None:
    order = await book(sessions, seeded, clock)
    async with sessions() as db, db.begin():
        (await db.get(OrderRow, order.id)).user_id = None
    await open_card(operator_chat, order)
    assert "Tourist: data deleted" in operator_chat.last_text()


async def test_a_stranger_gets_nothing_and_changes_nothing(operator_chat, stranger, sessions, seeded, clock) -> None:
    order = await paid(sessions, seeded, clock)
    await stranger.send(f"/order {order.code}")
    assert stranger.replies("sendMessage") == []
    card = await open_card(operator_chat, order)
    await stranger.press("🚫 Cancel", message_id=card)
    assert [a.text for a in stranger.alerts()] == ["Not allowed: only our operators can use this button."]
    await stranger.press_data(OrderDeskCb(action=OrderDeskAction.CANCEL_REFUND, order=order.id).pack(), message_id=card)
    assert stranger.alerts()[0].text.startswith("Not allowed")
    assert (await row(sessions, order.id)).booking == BookingStatus.CONFIRMED
    assert (ME, "order.cancelled_by_operator") not in await audit_actions(sessions, order.id)


# ---- change the session ----------------------------------------------------------------------------------------------


async def test_change_session_moves_the_order_and_tells_tourist_and_organiser(
    operator_chat, sessions, seeded, clock
) -> None:
    order = await paid(sessions, seeded, clock, adults=2)
    card = await open_card(operator_chat, order)
    await operator_chat.press("🗓 Change session", message_id=card)
    [choice] = [b for b in operator_chat.buttons(card) if " left" in b]  # the small session: 2 of 2 free
    assert "2 left" in choice
    await operator_chat.press(choice, message_id=card)
    stored = await row(sessions, order.id)
    assert stored.session_id == seeded.small_session_id and stored.ticket_code == order.ticket_code
    assert (await seats_left(sessions, seeded.session_id), await seats_left(sessions, seeded.small_session_id)) == (
        20,
        0,
    )
    assert (ME, "order.session_changed") in await audit_actions(sessions, order.id)
    [tourist_row] = await outbox(sessions, OutboxKind.ORDER_CHANGED)
    assert (tourist_row.chat_id, tourist_row.payload["change"]) == (TOURIST, "session")
    [organiser_row] = [
        r for r in await outbox(sessions, OutboxKind.ORGANISER_ORDER_CHANGED) if r.payload["change"] == "session"
    ]
    assert organiser_row.chat_id == ORGANISER_CHAT_ID
    text = operator_chat.last_text()
    assert "Olga: moved to" in text and "session changed" in text


async def test_no_other_session_with_enough_seats_is_said_and_nothing_changes(
    operator_chat, sessions, seeded, clock
) -> None:
    order = await confirmed(sessions, seeded, clock, adults=3)  # the small session has only 2 seats
    card = await open_card(operator_chat, order)
    await operator_chat.press("🗓 Change session", message_id=card)
    assert operator_chat.alerts()[0].text == "No other session of this event has 3 free seats."
    await operator_chat.press_data(
        OrderDeskCb(action=OrderDeskAction.SESSION, order=order.id, arg=seeded.small_session_id).pack(), message_id=card
    )  # forged: the button was never offered
    assert operator_chat.alerts()[0].text == "Not enough free seats: 2 left."
    assert (await row(sessions, order.id)).session_id == seeded.session_id
    assert await seats_left(sessions, seeded.small_session_id) == 2


# ---- quantities ------------------------------------------------------------------------------------------------------


async def test_quantities_editor_reprices_and_saves(operator_chat, sessions, seeded, clock) -> None:
    order = await confirmed(sessions, seeded, clock, adults=2)
    card = await open_card(operator_chat, order)
    await operator_chat.press("🎟 Quantities", message_id=card)
    assert "New total: €90.00 (now €90.00)" in operator_chat.last_text()
    await operator_chat.press(
        lambda b: b.callback_data.startswith("do:qi:") and b.callback_data.split(":")[3] == "1", message_id=card
    )  # + child
    assert "New total: €115.00 (now €90.00)" in operator_chat.last_text()
    await operator_chat.press("💾 Save", message_id=card)
    stored = await row(sessions, order.id)
    assert stored.total_minor == 11500
    async with sessions() as db:
        items = {
            i.ticket_type: i.quantity
            for i in await db.scalars(select(OrderItemRow).where(OrderItemRow.order_id == order.id))
        }
    assert items == {"adult": 2, "child": 1}
    assert await seats_left(sessions, seeded.session_id) == 17
    assert (ME, "order.quantities_changed") in await audit_actions(sessions, order.id)
    assert [r.payload["change"] for r in await outbox(sessions, OutboxKind.ORDER_CHANGED)] == ["quantities"]
    assert len(await outbox(sessions, OutboxKind.INVOICE)) == 2  # a fresh invoice for the new amount
    assert "Olga: tickets changed to Adult × 2, Child × 1, total €115.00" in operator_chat.last_text()


async def test_a_paid_order_cannot_grow(operator_chat, sessions, seeded, clock) -> None:
    order = await paid(sessions, seeded, clock, adults=2)
    card = await open_card(operator_chat, order)
    await operator_chat.press("🎟 Quantities", message_id=card)
    await operator_chat.press(
        lambda b: b.callback_data.startswith("do:qi:") and b.callback_data.split(":")[3] == "0", message_id=card
    )
    assert "A paid order can only get cheaper" in operator_chat.last_text()
    await operator_chat.press("💾 Save", message_id=card)
    assert operator_chat.alerts()[0].text.startswith("A paid order can only get cheaper")
    assert (await row(sessions, order.id)).total_minor == 9000
    assert await seats_left(sessions, seeded.session_id) == 18


async def test_forged_quantity_drafts_are_refused(operator_chat, sessions, seeded, clock) -> None:
    order = await confirmed(sessions, seeded, clock)
    card = await open_card(operator_chat, order)
    for data in (
        f"do:qi:{order.id}:0:99-99",
        f"do:qs:{order.id}:0:1-2-3",
        f"do:qi:{order.id}:7:1-1",
        f"do:qs:{order.id}:0:9-9",
    ):
        await operator_chat.press_data(data, message_id=card)
        assert operator_chat.alerts(), data
    assert (await row(sessions, order.id)).total_minor == 9000
    assert await seats_left(sessions, seeded.session_id) == 18


# ---- the ticket ------------------------------------------------------------------------------------------------------


async def test_replace_the_ticket_sends_the_new_code(
    operator_chat, tourist, sender, recorder, sessions, seeded, clock, dp
) -> None:
    order = await paid(sessions, seeded, clock)
    await sender.deliver_due()  # the first ticket and the confirmation
    card = await open_card(operator_chat, order)
    await operator_chat.press("🎫 Replace ticket", message_id=card)
    await operator_chat.press("🎫 Yes, replace the ticket", message_id=card)
    stored = await row(sessions, order.id)
    assert stored.ticket_code != order.ticket_code and stored.ticket == TicketStatus.ISSUED
    assert (ME, "order.ticket_reissued") in await audit_actions(sessions, order.id)
    assert stored.ticket_code in operator_chat.last_text()
    recorder.clear()
    await sender.deliver_due()
    texts = [r.text for r in recorder.requests if r.params.get("chat_id") == TOURIST and r.text]
    assert any(order.ticket_code in t for t in texts)  # "the old code ... no longer works"
    photos = recorder.calls("sendPhoto")
    assert len(photos) == 1 and stored.ticket_code in photos[0].text


# ---- the hotel -------------------------------------------------------------------------------------------------------


async def test_set_a_partner_hotel_after_payment_makes_a_partial_refund_due(
    operator_chat, sessions, seeded, clock
) -> None:
    order = await paid(sessions, seeded, clock)
    card = await open_card(operator_chat, order)
    await operator_chat.press("🏨 Hotel", message_id=card)
    assert "Reply to this message" in operator_chat.last_text()
    await operator_chat.send("zzz", reply_to=card)
    assert "No hotel matches" in operator_chat.last_text()
    await operator_chat.send("tele", reply_to=card)
    await operator_chat.press("Hotel Telegraaf (10%)")
    stored = await row(sessions, order.id)
    assert (stored.hotel_id, stored.discount_percent, stored.total_minor, stored.partial_refund_minor) == (
        seeded.hotel_id,
        10,
        8100,
        900,
    )
    assert (ME, "order.hotel_set") in await audit_actions(sessions, order.id)
    text = operator_chat.last_text()
    assert "Partial refund due: €9.00" in text and "owed back: €9.00" in text
    assert "💶 Refund" in operator_chat.buttons()
    [told] = await outbox(sessions, OutboxKind.ORDER_CHANGED)
    assert told.payload["refund_due_minor"] == 900


async def test_removing_the_hotel_of_a_paid_order_is_refused(operator_chat, sessions, seeded, clock) -> None:
    order = await paid(sessions, seeded, clock)
    await oc.set_hotel(SqlUnitOfWork(sessions), order.id, seeded.hotel_id, ACTOR, clock.now())
    card = await open_card(operator_chat, order)
    await operator_chat.press("🏨 Hotel", message_id=card)
    await operator_chat.press("🚫 No hotel", message_id=card)
    assert operator_chat.alerts()[0].text.startswith("A paid order can only get cheaper")
    assert (await row(sessions, order.id)).hotel_id == seeded.hotel_id


# ---- cancel and refund -----------------------------------------------------------------------------------------------


async def test_cancel_with_refund_tells_the_tourist_in_their_language(
    operator_chat, tourist, organiser, sender, recorder, sessions, seeded, clock, dp
) -> None:
    order = await paid(sessions, seeded, clock)
    card = await open_card(operator_chat, order)
    await operator_chat.press("🚫 Cancel", message_id=card)
    assert "Telegram cannot refund a card payment itself" in operator_chat.last_text()
    await operator_chat.press("💶 Cancel, money returned", message_id=card)
    stored = await row(sessions, order.id)
    assert (stored.booking, stored.payment, stored.refunded_minor) == (
        BookingStatus.CANCELLED,
        PaymentStatus.REFUNDED,
        9000,
    )
    assert await seats_left(sessions, seeded.session_id) == 20
    actions = await audit_actions(sessions, order.id)
    assert (ME, "order.cancelled_by_operator") in actions and (ME, "order.refund_recorded") in actions
    assert "Olga: cancelled, refund of €90.00 recorded" in operator_chat.last_text()
    assert "🚫 Cancel" not in operator_chat.buttons(card)
    recorder.clear()
    await sender.deliver_due()
    ru = dp["i18n"].translator("ru")
    head = ru.gettext("Our team cancelled your booking <b>{code}</b>.").format(code=format_order_code(order.code))
    told = [r.text for r in recorder.calls("sendMessage") if r.params["chat_id"] == TOURIST]
    assert any(head.replace("<b>", "").replace("</b>", "") in t for t in told)
    assert any(r.params["chat_id"] == ORGANISER_CHAT_ID for r in recorder.calls("sendMessage"))


async def test_cancel_without_refund_then_record_part_then_the_rest(operator_chat, sessions, seeded, clock) -> None:
    order = await paid(sessions, seeded, clock)
    card = await open_card(operator_chat, order)
    await operator_chat.press("🚫 Cancel", message_id=card)
    await operator_chat.press("⏳ Cancel, refund later", message_id=card)
    assert (await row(sessions, order.id)).payment == PaymentStatus.REFUND_DUE
    await operator_chat.press("💶 Refund", message_id=card)
    await operator_chat.press("✏️ Returned another amount", message_id=card)
    await operator_chat.send("lots", reply_to=card)
    assert "That is not an amount" in operator_chat.last_text()
    await operator_chat.send("1000", reply_to=card)
    assert operator_chat.last_text() == "The amount must be between €0.01 and €90.00."
    await operator_chat.send("30,50", reply_to=card)
    stored = await row(sessions, order.id)
    assert (stored.payment, stored.refunded_minor, stored.partial_refund_minor) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        3050,
        5950,
    )
    assert "Olga: refund of €30.50 recorded" in operator_chat.last_text()
    await operator_chat.press("💶 Refund", message_id=card)
    await operator_chat.press("💶 Returned everything: €59.50", message_id=card)
    stored = await row(sessions, order.id)
    assert (stored.payment, stored.refunded_minor, stored.partial_refund_minor) == (PaymentStatus.REFUNDED, 9000, 0)
    assert [r.payload["amount_minor"] for r in await outbox(sessions, OutboxKind.ORDER_REFUNDED)] == [3050, 5950]
    assert "💶 Refund" not in operator_chat.buttons(card)


async def test_a_second_payment_is_refunded_and_its_row_marked(operator_chat, sessions, seeded, clock) -> None:
    order = await paid(sessions, seeded, clock)
    async with sessions() as db, db.begin():  # a second charge that did not pay the order
        db.add(
            PaymentRow(
                order_id=order.id,
                telegram_charge_id="tg-2",
                provider_charge_id="prov-2",
                amount_minor=9000,
                currency="EUR",
                paid_at=clock.now(),
                applied=False,
            )
        )
        (await db.get(OrderRow, order.id)).stray_minor = 9000
    card = await open_card(operator_chat, order)
    assert "Payments that did not pay the order: €90.00" in operator_chat.last_text()
    await operator_chat.press("💶 Refund", message_id=card)
    await operator_chat.press("💶 Returned everything: €90.00", message_id=card)
    stored = await row(sessions, order.id)
    assert (stored.payment, stored.stray_minor, stored.refunded_minor) == (PaymentStatus.PAID, 0, 9000)
    async with sessions() as db:
        marked = {p.telegram_charge_id: p.refunded_at for p in await db.scalars(select(PaymentRow))}
    assert marked["tg-1"] is None and marked["tg-2"] == clock.now()


async def test_a_stale_cancel_press_answers_with_the_fresh_card(operator_chat, sessions, seeded, clock) -> None:
    order = await confirmed(sessions, seeded, clock)
    card = await open_card(operator_chat, order)
    await operator_chat.press("🚫 Cancel", message_id=card)
    await oc.cancel_order(SqlUnitOfWork(sessions), order.id, ACTOR, clock.now(), refund=False)  # someone else
    await operator_chat.press("🚫 Yes, cancel the order", message_id=card)
    assert operator_chat.alerts()[0].text == "This no longer applies to the order. Here it is as it is now."
    assert "Booking: cancelled" in operator_chat.last_text()
    assert [a for a in await audit_actions(sessions, order.id) if a[1] == "order.cancelled_by_operator"] == [
        (ACTOR, "order.cancelled_by_operator")
    ]


# ---- note, history, /audit -------------------------------------------------------------------------------------------


async def test_a_note_is_audited_escaped_and_told_to_nobody(operator_chat, sessions, seeded, clock) -> None:
    order = await book(sessions, seeded, clock)
    before = len(await outbox(sessions))
    card = await open_card(operator_chat, order)
    await operator_chat.press("📝 Note", message_id=card)
    await operator_chat.send("lunch anyone?")  # a colleague's chat, not a reply to the question: not a note
    assert operator_chat.replies() == []
    await operator_chat.send("x" * (oc.NOTE_MAX_LENGTH + 1), reply_to=card)
    assert "too long" in operator_chat.last_text()
    await operator_chat.send("Called <b>Ivan</b>: pays cash", reply_to=card)
    assert (ME, "order.note") in await audit_actions(sessions, order.id)
    text = operator_chat.last_text()
    assert "Called <b>Ivan</b>: pays cash" in text and "Olga: note added" in text  # shown as typed, not as HTML
    assert len(await outbox(sessions)) == before
    await operator_chat.send("another message")  # the note is done: nothing more is taken as a note
    assert [a for a in await audit_actions(sessions, order.id) if a[1] == "order.note"] == [(ME, "order.note")]


async def test_audit_is_paginated_oldest_first(operator_chat, sessions, seeded, clock) -> None:
    order = await book(sessions, seeded, clock)
    for n in range(40):
        clock.advance(minutes=1)
        await oc.add_note(SqlUnitOfWork(sessions), order.id, ACTOR, f"note {n:02d} " + "y" * 250, clock.now())
    await operator_chat.send(f"/audit {order.code}")
    first = operator_chat.last_text()
    assert "order placed" in first and "note 00" in first and "Page 1 of" in first
    assert len(first) <= TEXT_LIMIT
    pages = int(first.split("Page 1 of ")[1].split()[0])
    for _ in range(pages - 1):
        await operator_chat.press("▶️")
        assert len(operator_chat.last_text()) <= TEXT_LIMIT
    assert "note 39" in operator_chat.last_text() and "▶️" not in operator_chat.buttons()
    await operator_chat.send("/audit")
    assert "Usage: /audit" in operator_chat.last_text()


async def test_a_note_full_of_markup_stays_within_the_limits(operator_chat, sessions, seeded, clock) -> None:
    order = await book(sessions, seeded, clock)
    for _ in range(12):
        await oc.add_note(SqlUnitOfWork(sessions), order.id, ACTOR, "<&>" * 333, clock.now())
    await open_card(operator_chat, order)
    assert len(operator_chat.last_text()) <= TEXT_LIMIT
    await operator_chat.send(f"/audit {order.code}")
    assert "&lt;" not in operator_chat.last_text() and "<&>" in operator_chat.last_text()
    assert "▶️" in operator_chat.buttons()


async def test_history_button_and_back(operator_chat, sessions, seeded, clock) -> None:
    order = await book(sessions, seeded, clock)
    card = await open_card(operator_chat, order)
    await operator_chat.press("📜 History", message_id=card)
    assert "order placed" in operator_chat.last_text()
    await operator_chat.press("↩️ Back to the order", message_id=card)
    assert "Booking: awaiting the organiser" in operator_chat.last_text()


# ---- opening from elsewhere, forged data -----------------------------------------------------------------------------


async def test_view_opens_the_card_as_a_new_message_and_forged_ids_are_refused(
    operator_chat, sessions, seeded, clock
) -> None:
    order = await book(sessions, seeded, clock)
    await operator_chat.send("/order")
    await operator_chat.press_data(OrderDeskCb(action=OrderDeskAction.VIEW, order=order.id).pack())
    [sent] = operator_chat.replies("sendMessage")
    assert format_order_code(order.code) in sent.text
    await operator_chat.press_data(OrderDeskCb(action=OrderDeskAction.VIEW, order=987654).pack())
    assert operator_chat.alerts()[0].text == "There is no such order."
    await operator_chat.press_data(OrderDeskCb(action=OrderDeskAction.REFUND_ALL, order=order.id).pack())
    assert operator_chat.alerts()[0].text == "Nothing is owed to the tourist."
    await operator_chat.press_data(OrderDeskCb(action=OrderDeskAction.HOTEL_PICK, order=order.id, arg=999).pack())
    assert operator_chat.alerts()[0].text == "Not found: it may have been removed."
    assert (await row(sessions, order.id)).hotel_id is None


async def test_an_ended_order_offers_only_note_and_history(operator_chat, sessions, seeded, clock) -> None:
    order = await book(sessions, seeded, clock)
    await oc.decline_for_organiser(SqlUnitOfWork(sessions), order.id, ACTOR, clock.now(), "full")
    clock.advance(days=5)
    await open_card(operator_chat, order)
    assert operator_chat.buttons() == ["📝 Note", "📜 History", "🔄 Refresh"]
    assert "declined for the organiser" in operator_chat.last_text()


# ---- what the tourist and the organiser receive ----------------------------------------------------------------------


async def test_every_notice_of_an_operator_change_is_delivered(
    tourist, organiser, sender, recorder, sessions, seeded, clock
) -> None:
    order = await confirmed(sessions, seeded, clock, adults=2)  # the organiser is told: confirmed for them
    uow = SqlUnitOfWork(sessions)
    await oc.remind_tourist(uow, order.id, ACTOR, clock.now())
    await oc.change_quantities(uow, order.id, {"adult": 1}, ACTOR, clock.now())
    await oc.change_session(uow, order.id, seeded.small_session_id, ACTOR, clock.now())
    await oc.set_hotel(uow, order.id, seeded.hotel_id, ACTOR, clock.now())
    await record_payment(uow, order.id, TOURIST, "tg-9", "prov-9", 4050, "EUR", clock.now())
    await oc.change_quantities(uow, order.id, {"child": 1}, ACTOR, clock.now())  # cheaper: a partial refund due
    await oc.record_refund(uow, order.id, ACTOR, clock.now())
    await sender.deliver_due()
    mine = {
        OutboxKind.ORDER_CHANGED.value,
        OutboxKind.ORDER_REFUNDED.value,
        OutboxKind.TOURIST_NUDGE.value,
        OutboxKind.ORGANISER_ORDER_CHANGED.value,
    }
    rows = [r for r in await outbox(sessions) if r.kind in mine]
    assert {r.kind for r in rows} == mine
    assert [(r.kind, r.status) for r in rows if r.status != "sent"] == []
    ru, et = I18n("en").translator("ru"), I18n("en").translator("et")  # the tourist's and the organiser's
    code = format_order_code(order.code)

    def said(tr, message: str, **values: str) -> str:
        return re.sub(r"</?b>", "", tr.gettext(message).format(code=code, **values))

    tourist_texts = [r.text for r in recorder.calls("sendMessage") if r.params["chat_id"] == TOURIST]
    assert any(said(ru, "Our team moved your booking <b>{code}</b> to another session.") in t for t in tourist_texts)
    assert any(said(ru, "Our team changed the tickets of your booking <b>{code}</b>.") in t for t in tourist_texts)
    assert any(
        said(ru, "Our team set your hotel for booking <b>{code}</b>: {hotel}.", hotel="Hotel Telegraaf") in t
        for t in tourist_texts
    )
    assert any(said(ru, "A reminder about your booking <b>{code}</b>.") in t for t in tourist_texts)
    assert any(
        said(ru, "We have refunded {amount} for your booking <b>{code}</b>.", amount="18,00\xa0€") in t
        for t in tourist_texts
    )  # money in the tourist's format
    organiser_texts = [r.text for r in recorder.calls("sendMessage") if r.params["chat_id"] == ORGANISER_CHAT_ID]
    heads = [
        said(et, "Our team confirmed booking <b>{code}</b> on your behalf."),
        said(et, "Our team changed the tickets of booking <b>{code}</b>."),
        said(et, "Our team moved booking <b>{code}</b> to another session."),
    ]
    assert [sum(head in t for t in organiser_texts) for head in heads] == [1, 2, 1]  # in the organiser's language


# ---- the desk's zone on every redraw of the card (issue 10, item 8) ---------------------------------------------


class TestTheConfiguredDeskZone:
    """With ``DESK_TIMEZONE`` set, the card keeps that zone when a button redraws it (Refresh, an action done, a
    stale press), not only when /order opens it."""

    @pytest.fixture
    def settings(self, settings):
        return settings.model_copy(update={"desk_timezone": "America/New_York"})

    async def test_refresh_and_an_action_keep_the_desk_zone(self, operator_chat, sessions, seeded, clock) -> None:
        order = await paid(sessions, seeded, clock)
        card = await open_card(operator_chat, order)
        assert "🗓 Wed, Dec 2, 04:00 (New York)" in operator_chat.last_text()  # 11:00 in Tallinn
        await operator_chat.press("🔄 Refresh", message_id=card)
        assert "🗓 Wed, Dec 2, 04:00 (New York)" in operator_chat.last_text()
        await operator_chat.press("🚫 Cancel", message_id=card)
        await operator_chat.press("💶 Cancel, money returned", message_id=card)
        assert "Olga: cancelled" in operator_chat.last_text()
        assert "🗓 Wed, Dec 2, 04:00 (New York)" in operator_chat.last_text()
