"""Discount codes at checkout through the real dispatcher (issue 15): "Have a code?" on the booking summary, the
code typed and checked (each refusal in the guest's words), applied before the points, recorded with the order once,
and given back when the booking is cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.storage.uow import SqlUnitOfWork
from domain.model.discount_codes import DiscountCode
from handlers.tourist.callbacks import BookAction, BookCb, OrderAction, OrderCb
from tests.handlers.chat import Chat
from tests.handlers.test_browse_booking import book_to_summary, data, order_rows
from tests.handlers.test_points import give_points, points_press
from tests.seed import Seeded


async def add_code(sessions, clock, code: str, **terms: object) -> None:
    now = clock.now()
    values: dict = {"valid_from": now - timedelta(days=1), "valid_until": now + timedelta(days=7), "percent": 10}
    values.update(terms)
    uow = SqlUnitOfWork(sessions)
    async with uow:
        assert await uow.discount_codes.add(DiscountCode(code=code, created_at=now, **values)) is not None
        await uow.commit()


async def uses(sessions, code: str, user_id: int) -> int:
    uow = SqlUnitOfWork(sessions)
    async with uow.read():
        return await uow.discount_codes.uses_by(code, user_id)


async def test_a_code_comes_off_before_the_points_and_is_used_once(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await add_code(sessions, clock, "SUMMER10")
    await chat.send("/start")
    await give_points(sessions, clock, chat.user_id, 5000)
    await book_to_summary(chat, seeded)  # €45.00
    await chat.press(data(BookCb(action=BookAction.CODE, session=seeded.session_id)))
    assert "Type your discount code in a message." in chat.last_text()
    await chat.send("  summer10 ")
    summary = chat.last_text()
    assert "Code SUMMER10: −€4.50" in summary and "Total: €40.50" in summary
    assert any("Use my points: −€20.25" in b for b in chat.buttons())  # half of what the code left

    await chat.press_data(points_press(seeded, 2025))
    assert "Total: €20.25" in chat.last_text()
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    [order] = await order_rows(sessions)
    assert (order.discount_code, order.code_discount_minor, order.points_used) == ("SUMMER10", 450, 2025)
    assert order.total_minor == 4500 - 450 - 2025
    assert await uses(sessions, "SUMMER10", chat.user_id) == 1

    await chat.press_data(OrderCb(action=OrderAction.CANCEL_CONFIRM, order=order.id).pack())
    assert await uses(sessions, "SUMMER10", chat.user_id) == 0  # the use goes back with the booking


@pytest.mark.parametrize(
    ("terms", "reason"),
    [
        ({"valid_from_days": -3, "valid_until_days": -1}, "This code has expired."),
        ({"valid_from_days": 2, "valid_until_days": 9}, "This code is not valid yet."),
        ({"event": "other"}, "This code is for another event."),
        ({"max_uses": 1, "used_by_other": True}, "This code has been used up."),
        ({"amount_minor": 500, "currency": "SEK"}, "This code is for bookings in another currency."),
    ],
)
async def test_a_code_that_does_not_apply_says_why(
    terms: dict, reason: str, chat: Chat, seeded: Seeded, sessions, clock
) -> None:
    now = clock.now()
    values: dict = {}
    if "valid_from_days" in terms:
        values = {
            "valid_from": now + timedelta(days=terms["valid_from_days"]),
            "valid_until": now + timedelta(days=terms["valid_until_days"]),
        }
    if terms.get("event"):
        values["event_id"] = seeded.instant_event_id
    if "max_uses" in terms:
        values["max_uses"] = terms["max_uses"]
    if "amount_minor" in terms:
        values.update(percent=None, amount_minor=terms["amount_minor"], currency=terms["currency"])
    await add_code(sessions, clock, "PROMO", **values)
    if terms.get("used_by_other"):
        uow = SqlUnitOfWork(sessions)
        async with uow:
            assert await uow.discount_codes.record_use("PROMO", 4242, None, now)
            await uow.commit()
    await chat.send("/start")
    await book_to_summary(chat, seeded)
    await chat.press(data(BookCb(action=BookAction.CODE, session=seeded.session_id)))
    await chat.send("promo")
    assert reason in chat.last_text()
    assert "Type your discount code in a message." in chat.last_text()
    await chat.press(data(BookCb(action=BookAction.NO_CODE, session=seeded.session_id)))
    assert "Total: €45.00" in chat.last_text()
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    [order] = await order_rows(sessions)
    assert (order.discount_code, order.total_minor) == (None, 4500)


async def test_an_unknown_or_used_code_is_refused(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await add_code(sessions, clock, "ONCE")
    await chat.send("/start")
    uow = SqlUnitOfWork(sessions)
    async with uow:
        assert await uow.discount_codes.record_use("ONCE", chat.user_id, None, clock.now())
        await uow.commit()
    await book_to_summary(chat, seeded)
    await chat.press(data(BookCb(action=BookAction.CODE, session=seeded.session_id)))
    await chat.send("NOPE!")
    assert "We do not know this code. Please check it and try again." in chat.last_text()
    await chat.send("once")
    assert "You have already used this code." in chat.last_text()
    await chat.send_sticker()
    assert "Type your discount code in a message." in chat.last_text()


async def test_a_code_can_be_removed(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await add_code(sessions, clock, "SUMMER10")
    await chat.send("/start")
    await book_to_summary(chat, seeded)
    await chat.press(data(BookCb(action=BookAction.CODE, session=seeded.session_id)))
    await chat.send("SUMMER10")
    assert "Total: €40.50" in chat.last_text()
    await chat.press(data(BookCb(action=BookAction.NO_CODE, session=seeded.session_id)))
    assert "Total: €45.00" in chat.last_text() and "SUMMER10" not in chat.last_text()
    assert any("Have a code?" in b for b in chat.buttons())
