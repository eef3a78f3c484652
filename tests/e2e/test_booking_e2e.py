"""The real bot process books excursions for tourists talking to it through the emulator: in their languages, and
refusing buttons that are out of date or were never shown to them."""

from __future__ import annotations

import asyncio

import pytest

from bot.i18n import I18n
from domain.model.orders import BookingStatus, format_order_code
from handlers.tourist.callbacks import BookAction, BookCb, OrderAction, OrderCb
from tests.e2e.booking import (
    PICKUP,
    book_cruise,
    orders_of,
    plain,
    seats_left,
    snapshot,
)
from tests.e2e.tourist import buttons
from tests.e2e_lifecycle.harness import wait_idle
from tests.seed import ORGANISER_CHAT_ID

pytestmark = pytest.mark.asyncio(loop_scope="package")  # with the package's bot process (see conftest)

I18N = I18n("en")


async def test_two_tourists_book_the_cruise_each_in_their_language(tourist_factory, database, world) -> None:
    seeded = database.seeded
    anna = await tourist_factory("Anna", "en")
    dmitry = await tourist_factory("Дмитрий", "ru")
    seats = await seats_left(database.sessions, seeded.session_id)

    async def book(tourist):
        summary, menu = await book_cruise(tourist, seeded)
        card = await tourist.press(BookCb(action=BookAction.CONFIRM, session=seeded.session_id), summary)
        return menu, summary, card

    (anna_menu, anna_summary, anna_card), (dmitry_menu, dmitry_summary, dmitry_card) = await asyncio.gather(
        book(anna), book(dmitry)
    )

    rows = await orders_of(database.sessions, anna.id, dmitry.id)
    assert len(rows) == 2
    by_user = {row.user_id: row for row in rows}
    assert set(by_user) == {anna.id, dmitry.id}
    assert await seats_left(database.sessions, seeded.session_id) == seats - 2

    for tourist, language, menu, summary, card in (
        (anna, "en", anna_menu, anna_summary, anna_card),
        (dmitry, "ru", dmitry_menu, dmitry_summary, dmitry_card),
    ):
        tr = I18N.translator(language)
        order = by_user[tourist.id]
        code = format_order_code(order.code)
        assert order.language == language
        assert order.booking == BookingStatus.AWAITING_ORGANISER
        assert order.answers == {"pickup": PICKUP, "lunch": "veg"}
        # the menu speaks the tourist's language ("My orders" is "Мои заказы" in Russian)
        assert any(tr.gettext("My orders") in b["text"] for b in buttons(menu)), buttons(menu)
        # the order card replaced the summary in the same message
        assert card["message_id"] == summary["message_id"]
        assert len(card["edits"]) == len(summary["edits"]) + 1
        assert plain(tr.gettext("<b>Order {code}</b>")).format(code=code) in card["text"]
        assert plain(tr.gettext("Waiting for the organiser to confirm. Your seats are held.")) in card["text"]
        assert {"ru": "Круиз по островам", "en": "Islands cruise"}[language] in card["text"]
        confirm_answer = tourist.callback_answers()[-1]
        assert confirm_answer["text"] == tr.gettext("Booking placed! Your order code is {code}.").format(code=code)
        assert not tourist.alerts()
    assert "Мои заказы" in str(buttons(dmitry_menu)) and "My orders" in str(buttons(anna_menu))

    # the organiser gets one booking request per order, in their own language (Estonian), from the outbox
    et = I18N.translator("et")
    heads = {
        plain(et.gettext("Booking request <b>{code}</b>")).format(code=format_order_code(row.code)) for row in rows
    }

    def requests() -> list[str]:
        texts = [m.get("text", "") for m in world.transcript(ORGANISER_CHAT_ID)]
        return [t for t in texts if any(head in t for head in heads)]

    await world.wait_for(lambda: len(requests()) >= 2, timeout=5)
    assert len(requests()) == 2


async def test_a_double_tap_and_a_stale_confirm_place_one_order(tourist_factory, database) -> None:
    seeded = database.seeded
    confirm = BookCb(action=BookAction.CONFIRM, session=seeded.session_id).pack()
    anna = await tourist_factory("Anna", "en")
    dmitry = await tourist_factory("Дмитрий", "ru")
    seats = await seats_left(database.sessions, seeded.session_id)
    anna_summary, _menu = await book_cruise(anna, seeded)
    dmitry_summary, _menu = await book_cruise(dmitry, seeded)

    # Anna taps Confirm twice before the bot has answered the first tap: one order (the second tap gets the same
    # order or a "screen out of date" alert, depending on which of the two concurrent updates reads the draft first)
    first = await anna.world.user_presses(anna.id, anna.id, anna_summary["message_id"], confirm)
    second = await anna.world.user_presses(anna.id, anna.id, anna_summary["message_id"], confirm)
    answered = {first, second}
    await anna.wait(lambda: answered <= {a["callback_query_id"] for a in anna.callback_answers()}, "both answers")
    await anna.wait(lambda: "Order" in (anna.message(anna_summary["message_id"]).get("text") or ""), "order card")
    dmitry_card = await dmitry.press(confirm, dmitry_summary)
    assert dmitry_card["message_id"] == dmitry_summary["message_id"]
    await wait_idle(database.sessions)  # the card shows a moment before its update records it and is marked done
    before = await snapshot(database.sessions)
    assert [row.user_id for row in await orders_of(database.sessions, anna.id, dmitry.id)] == [anna.id, dmitry.id]
    assert await seats_left(database.sessions, seeded.session_id) == seats - 2

    # later, each presses Confirm on the summary as an old client still shows it: refused, nothing changes
    for tourist, language, summary in ((anna, "en", anna_summary), (dmitry, "ru", dmitry_summary)):
        edits = len(tourist.message(summary["message_id"])["edits"])
        answer = await tourist.press_unseen(confirm, summary["message_id"])
        stale = I18N.translator(language).gettext(
            "This booking screen is out of date. Your bookings are under “My orders”."
        )
        assert answer["show_alert"] and answer["text"] == stale
        assert len(tourist.message(summary["message_id"])["edits"]) == edits
    await wait_idle(database.sessions)
    assert await snapshot(database.sessions) == before


async def test_forged_buttons_are_refused_and_change_nothing(tourist_factory, database) -> None:
    seeded = database.seeded
    anna = await tourist_factory("Anna", "en")
    summary, _menu = await book_cruise(anna, seeded)
    card = await anna.press(BookCb(action=BookAction.CONFIRM, session=seeded.session_id), summary)
    [order] = await orders_of(database.sessions, anna.id)
    assert format_order_code(order.code) in card["text"]

    mallory = await tourist_factory("Mallory", "en")
    menu = await mallory.send("/start")
    before = await snapshot(database.sessions)
    tr = I18N.translator("en")

    # a confirm for a session that does not exist, from a screen Mallory never had
    answer = await mallory.press_unseen("k:y:99999:0", menu["message_id"])
    assert answer["show_alert"]
    assert answer["text"] == tr.gettext("This booking screen is out of date. Your bookings are under “My orders”.")

    # order 1 (someone else's: Mallory has none) and Anna's order, opened and cancelled from Mallory's chat
    not_yours = tr.gettext("This is not your order.")
    answer = await mallory.press_unseen("o:v:1", menu["message_id"])
    assert answer["show_alert"] and answer["text"] == not_yours, answer
    for action in (OrderAction.VIEW, OrderAction.CANCEL, OrderAction.CANCEL_CONFIRM):
        answer = await mallory.press_unseen(OrderCb(action=action, order=order.id), menu["message_id"])
        assert answer["show_alert"] and answer["text"] == not_yours, answer

    # nothing was shown to Mallory, nothing changed
    assert [m["message_id"] for m in mallory.bot_messages()] == [menu["message_id"]]
    assert mallory.message(menu["message_id"])["edits"] == []
    assert await snapshot(database.sessions) == before
