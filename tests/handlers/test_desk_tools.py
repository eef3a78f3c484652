"""The operators' tools in the group, end to end through the Dispatcher: ``/session … cancel``, ``/find`` (exact
matches only, reveal logged), ``/events`` with "Send to tourist", ``/stats``."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import func, select

from bot.storage.tables import (
    AuditRow,
    OrderRow,
    OutboxRow,
    RelayMessageRow,
    SessionRow,
)
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import (
    BookingStatus,
    PaymentStatus,
    TicketStatus,
    format_order_code,
)
from domain.model.users import mask_phone
from domain.rules.replies import OrganiserReply, Verdict
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.confirmation import answer_booking_request
from domain.use_cases.payments import record_payment
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID, OPERATOR_ID, SECOND_OPERATOR_ID
from tests.handlers.desk_fakes import add_problem_cards
from tests.seed import (
    INSTANT_SESSION_IN,
    ORGANISER_CHAT_ID,
    SESSION_IN,
    Seeded,
    seed_user,
)
from tests.telegram.recorder import RecordingSession

TALLINN = ZoneInfo("Europe/Tallinn")
EN, RU, DE = 5001, 5002, 5003
ANSWERS = {"pickup": "Hotel Viru", "lunch": "veg"}


@pytest.fixture
def tourists(dp: Dispatcher, bot: Bot, recorder: RecordingSession) -> dict[int, Chat]:
    return {
        uid: Chat(dp, bot, recorder, uid, language_code=lang, first_name=name)
        for uid, lang, name in ((EN, "en", "Emma"), (RU, "ru", "Ivan"), (DE, "de", "Dora"))
    }


async def book(
    sessions,
    seeded: Seeded,
    clock,
    user_id: int,
    seats: int = 2,
    session_id: int | None = None,
):
    return await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=user_id,
            session_id=session_id or seeded.session_id,
            quantities={"adult": seats},
            answers=ANSWERS,
            payments_enabled=True,
        ),
        clock.now(),
    )


async def confirm(sessions, clock, order_id: int) -> None:
    await answer_booking_request(
        SqlUnitOfWork(sessions), order_id, ORGANISER_CHAT_ID, OrganiserReply(Verdict.YES), "+", clock.now(), True
    )


async def pay(sessions, clock, order) -> None:
    await record_payment(
        SqlUnitOfWork(sessions),
        order.id,
        order.user_id,
        f"charge-{order.id}",
        f"p-{order.id}",
        order.total_minor,
        order.currency,
        clock.now(),
    )


async def rows(sessions, table, *where):
    async with sessions() as db:
        return list(await db.scalars(select(table).where(*where)))


async def count(sessions, table, *where) -> int:
    async with sessions() as db:
        return await db.scalar(select(func.count()).select_from(table).where(*where))


def local(clock, delta: timedelta) -> str:
    return (clock.now() + delta).astimezone(TALLINN).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
async def three_orders(sessions, seeded: Seeded, clock) -> dict[str, object]:
    """On the main cruise session: an English tourist awaiting the organiser, a Russian one paid, a German one
    confirmed but unpaid."""
    for uid, lang, name in ((EN, "en", "Emma"), (RU, "ru", "Ivan"), (DE, "de", "Dora")):
        await seed_user(sessions, uid, language=lang, now=clock.now(), first_name=name)
    waiting = await book(sessions, seeded, clock, EN)
    paid = await book(sessions, seeded, clock, RU, seats=3)
    await confirm(sessions, clock, paid.id)
    await pay(sessions, clock, paid)
    unpaid = await book(sessions, seeded, clock, DE)
    await confirm(sessions, clock, unpaid.id)
    async with sessions() as db:  # what the booking flow sent so far is not what these tests look at
        for row in await db.scalars(select(OutboxRow)):
            row.status = "sent"
        await db.commit()
    return {"waiting": waiting, "paid": paid, "unpaid": unpaid}


# ---- /session … cancel ------------------------------------------------------------------------------------------


async def test_session_cancel_asks_first_then_cancels_everything_and_tells_everyone(
    operator_chat, tourists, organiser, sender, sessions, seeded, clock, three_orders, dp
) -> None:
    when = local(clock, SESSION_IN)
    seats_before = (await rows(sessions, SessionRow, SessionRow.id == seeded.session_id))[0].seats_left
    await operator_chat.send(f"/session islands-cruise {when} cancel storm warning")
    text = operator_chat.last_text()
    assert "3 active orders" in text and "1 paid" in text and "storm warning" in text
    assert operator_chat.buttons() == ["🚫 Cancel the session", "↩️ Keep it"]
    assert await count(sessions, AuditRow, AuditRow.action == "session.cancelled") == 0  # only asked so far

    await operator_chat.press("Cancel the session")
    assert "Session cancelled by Olga" in operator_chat.last_text()
    assert operator_chat.buttons() == []
    [session] = await rows(sessions, SessionRow, SessionRow.id == seeded.session_id)
    assert (session.status, session.cancel_reason, session.seats_left) == ("cancelled", "storm warning", seats_before)
    orders = {o.user_id: o for o in await rows(sessions, OrderRow, OrderRow.session_id == seeded.session_id)}
    assert {o.booking for o in orders.values()} == {BookingStatus.CANCELLED}
    assert (orders[RU].payment, orders[RU].ticket) == (PaymentStatus.REFUND_DUE, TicketStatus.VOIDED)
    assert orders[DE].payment == PaymentStatus.NOT_DUE and orders[EN].payment == PaymentStatus.NOT_DUE
    audit = await rows(sessions, AuditRow, AuditRow.actor == f"operator:{OPERATOR_ID}")
    assert sorted(a.action for a in audit) == ["order.cancelled_with_session"] * 3 + ["session.cancelled"]

    assert await sender.deliver_due() == 4  # three tourists and the organiser
    ru = tourists[RU].last_text()
    assert "Круиз по островам" in ru and "storm warning" in ru and format_order_code(orders[RU].code) in ru
    assert "Islands cruise" in tourists[EN].last_text() and "Inselkreuzfahrt" in tourists[DE].last_text()
    other_dates = tourists[RU].last_message().reply_markup.inline_keyboard
    assert other_dates[0][0].callback_data == f"n:b:{seeded.small_session_id}"  # book the other date (below it)
    assert "Saarte kruiis" in organiser.last_text() and "3" in organiser.last_text()

    # a second press (a stale button) changes nothing
    await operator_chat.press_data(f"ds:y:{seeded.session_id}")
    assert await count(sessions, AuditRow, AuditRow.action == "session.cancelled") == 1


async def test_keep_it_changes_nothing(operator_chat, sessions, seeded, clock, three_orders) -> None:
    await operator_chat.send(f"/session islands-cruise {local(clock, SESSION_IN).replace(' ', 'T')} cancel")
    assert "Reason: —" in operator_chat.last_text()
    await operator_chat.press("Keep it")
    assert "nothing changed" in operator_chat.last_text()
    [session] = await rows(sessions, SessionRow, SessionRow.id == seeded.session_id)
    assert session.status == "scheduled"
    await operator_chat.press_data(f"ds:y:{seeded.session_id}")  # the pending request is gone with "Keep it"
    assert "Only the operator who asked" in operator_chat.alerts()[0].text
    assert await count(sessions, AuditRow, AuditRow.action.like("%session%")) == 0


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        ("", "Usage: /session"),
        ("islands-cruise", "Usage: /session"),
        ("no-such-event 2026-12-02 11:00 cancel", "No event with the code no-such-event"),
        ("islands-cruise 2026-13-02 11:00 cancel", "That is not a date"),
        ("islands-cruise 2026-12-02 25:00 cancel", "That is not a time"),
        ("islands-cruise 9999-12-31 cancel", "That is not a date"),
        ("islands-cruise 0001-01-01 00:00 cancel", "That is not a date"),
        ("islands-cruise 2026-12-02T1100 cancel", "That is not a time"),
        ("islands-cruise 2026-12-02 07:13 cancel", "has no session at 2026-12-02 07:13"),
        ("islands-cruise {main_day} cancel", "Which session? Give the time too."),
        ("islands-cruise {main} delete", "To cancel it, add cancel"),
        ("islands-cruise {past} cancel", "already started"),
        ("islands-cruise {cancelled} cancel", "already cancelled"),
    ],
)
async def test_session_refusals_change_nothing(
    args, answer, operator_chat, sessions, seeded, clock, three_orders
) -> None:
    from tests.seed import CANCELLED_SESSION_IN, PAST_SESSION_IN

    args = args.format(
        main=local(clock, SESSION_IN),
        main_day=local(clock, SESSION_IN)[:10],
        past=local(clock, PAST_SESSION_IN),
        cancelled=local(clock, CANCELLED_SESSION_IN),
    )
    await operator_chat.send(f"/session {args}".strip())
    assert answer in operator_chat.last_text()
    if "Which session" in answer:
        assert local(clock, SESSION_IN)[11:] in operator_chat.last_text()  # the times of that day are listed
    assert operator_chat.buttons() == []
    assert await count(sessions, AuditRow, AuditRow.action.like("%session%")) == 0
    assert await count(sessions, SessionRow, SessionRow.status == "cancelled") == 1  # the seeded one only


async def test_strangers_and_other_operators_cannot_cancel(
    operator_chat, stranger, dp, bot, recorder, sessions, seeded, clock, three_orders
) -> None:
    await stranger.send(f"/session islands-cruise {local(clock, SESSION_IN)} cancel")
    assert stranger.texts() == []  # silence for a stranger in a busy group
    await operator_chat.send(f"/session islands-cruise {local(clock, SESSION_IN)} cancel rain")
    message_id = operator_chat.last_message().message_id
    await stranger.press("Cancel the session", message_id=message_id)
    assert stranger.alerts()[0].text.startswith("Not allowed")
    colleague = Chat(
        dp,
        bot,
        recorder,
        SECOND_OPERATOR_ID,
        first_name="Peeter",
        chat_id=OPERATOR_CHAT_ID,
        chat_type="supergroup",
        title="Tripdesk operators",
    )
    await colleague.press("Cancel the session", message_id=message_id)
    assert "Only the operator who asked" in colleague.alerts()[0].text
    [session] = await rows(sessions, SessionRow, SessionRow.id == seeded.session_id)
    assert session.status == "scheduled"
    assert await count(sessions, AuditRow, AuditRow.action.like("%session%")) == 0


# ---- /find --------------------------------------------------------------------------------------------------------


@pytest.fixture
async def findable(sessions, seeded: Seeded, clock):
    await seed_user(
        sessions, EN, language="en", now=clock.now(), first_name="Emma", username="Emma_Stone", phone="+37255550001"
    )
    await seed_user(
        sessions, RU, language="ru", now=clock.now(), first_name="Ivan", username="ivan_the_great", phone="+37255550002"
    )
    order = await book(sessions, seeded, clock, EN)
    await confirm(sessions, clock, order.id)
    await pay(sessions, clock, order)
    [row] = await rows(sessions, OrderRow, OrderRow.id == order.id)
    return row


@pytest.mark.parametrize(
    "query", ["+372 5555 0001", "3725555-0001", "@emma_stone", "@EMMA_STONE", "{code}", "{code_lower}", "{ticket}"]
)
async def test_find_by_exact_value(query, operator_chat, findable) -> None:
    code = format_order_code(findable.code)
    query = query.format(code=code, code_lower=code.lower(), ticket=findable.ticket_code)
    await operator_chat.send(f"/find {query}")
    text = operator_chat.last_text()
    assert "Emma" in text and code in text and "paid" in text
    assert mask_phone("+37255550001") in text and "+37255550001" not in text  # masked
    assert "@Emma_Stone" in text and "Ivan" not in text  # the username whole (public on Telegram); nobody else
    buttons = operator_chat.buttons()
    assert "👁 Reveal contacts" in buttons and "✍️ Write to the tourist" in buttons
    assert "🎟 " + code in buttons  # opens the order's desk card


async def test_find_links_to_the_order_card_and_to_writing(operator_chat, findable) -> None:
    code = format_order_code(findable.code)
    await operator_chat.send(f"/find {code}")
    found = operator_chat.last_message().message_id
    await operator_chat.press("🎟 " + code, message_id=found)
    assert code in operator_chat.last_text() and operator_chat.last_message().message_id != found
    await operator_chat.press("Write to the tourist", message_id=found)
    assert "Your next message here goes to" in operator_chat.last_text()


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("+372 5555 0003", "Nothing found"),  # a near miss
        ("+372 5555 000", "not a valid phone number"),  # a prefix of a phone
        ("@emma_ston", "Nothing found"),  # a prefix of a username
        ("@emm", "too short"),
        ("@", "too short"),
        ("", "Find whom?"),
        ("{partial_code}", "too short"),
        ("{partial_ticket}", "not a phone number"),
        ("Emma", "too short"),
        ("%", "too short"),
        ("@%%%%%", "not a phone number"),
    ],
)
async def test_find_returns_nothing_but_exact_matches(query, answer, operator_chat, findable) -> None:
    query = query.format(partial_code=findable.code[:4], partial_ticket=findable.ticket_code[:8])
    await operator_chat.send(f"/find {query}".strip())
    text = operator_chat.last_text()
    assert answer in text
    assert "Emma" not in text and "👤" not in text and operator_chat.buttons() == []


async def test_reveal_shows_the_presser_only_and_is_audited(operator_chat, stranger, sessions, findable) -> None:
    await operator_chat.send("/find @emma_stone")
    message_id = operator_chat.last_message().message_id
    await stranger.press("Reveal contacts", message_id=message_id)
    assert stranger.alerts()[0].text.startswith("Not allowed")
    assert await count(sessions, AuditRow, AuditRow.action == "contact.revealed") == 0
    await operator_chat.press("Reveal contacts", message_id=message_id)
    [alert] = operator_chat.alerts()
    assert alert.show_alert and "+37255550001" in alert.text and "@Emma_Stone" in alert.text
    assert operator_chat.texts() == []  # nothing posted in the group
    [entry] = await rows(sessions, AuditRow, AuditRow.action == "contact.revealed")
    assert entry.actor == f"operator:{OPERATOR_ID}" and entry.after["user_id"] == EN


# ---- /events and "Send to tourist" ---------------------------------------------------------------------------------


async def add_sessions(sessions, event_id: int, start, n: int) -> None:
    async with sessions() as db, db.begin():
        db.add_all(
            SessionRow(
                event_id=event_id, starts_at=start + timedelta(hours=i), capacity=10, seats_left=10, status="scheduled"
            )
            for i in range(n)
        )


async def test_events_lists_sessions_with_free_seats_and_pages(operator_chat, sessions, seeded, clock) -> None:
    await add_sessions(sessions, seeded.instant_event_id, clock.now() + timedelta(days=5), 10)
    await operator_chat.send("/events Таллин")  # a region by its name in any language
    text = operator_chat.last_text()
    assert "Islands cruise" in text and "Old Town walk" in text and "20 seats left" in text
    assert "To send one to a tourist" in text
    assert operator_chat.buttons() == ["1/2", "▶️"]  # 3 seeded + 10 = 13 open sessions, 8 a page
    assert "Send" not in " ".join(operator_chat.buttons())
    await operator_chat.press("▶️")
    assert "9. " in operator_chat.last_text() and "13. " in operator_chat.last_text()
    assert operator_chat.buttons() == ["◀️", "2/2"]

    day = (clock.now() + INSTANT_SESSION_IN).astimezone(TALLINN).date().isoformat()
    await operator_chat.send(f"/events tallinn {day} city")
    text = operator_chat.last_text()
    assert "Old Town walk" in text and "Islands cruise" not in text


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        ("", "Usage: /events"),
        ("atlantis", "No region atlantis"),
        ("tallinn 2026-02-30", "That is not a date"),
        ("tallinn 2020-01-01", "That day is over"),
        ("tallinn 0001-01-01", "That day is over"),
        ("tallinn 9999-12-31", "That is not a date"),
        ("tallinn tomorrow opera", "No category opera there"),
        ("Tallinn opera house", "Categories: city, sea"),
        ("tartu", "No sessions with free seats"),
    ],
)
async def test_events_refusals(args, answer, operator_chat, seeded) -> None:
    await operator_chat.send(f"/events {args}".strip())
    assert answer in operator_chat.last_text()


async def test_send_to_tourist_from_a_reply_to_their_message(
    operator_chat, stranger, tourists, sender, sessions, seeded, clock
) -> None:
    await seed_user(sessions, RU, language="ru", now=clock.now(), first_name="Ivan")
    relayed = await operator_chat.send("(a tourist's question, as relayed)")
    async with sessions() as db, db.begin():
        db.add(
            RelayMessageRow(
                chat_id=OPERATOR_CHAT_ID,
                message_id=relayed.message_id,
                user_id=RU,
                direction="to_operators",
                created_at=clock.now(),
            )
        )
    await operator_chat.send("/events tallinn", reply_to=relayed.message_id)
    assert "For Ivan" in operator_chat.last_text()
    send = [b for b in operator_chat.buttons() if "Send" in b]
    assert len(send) == 3  # one per open session
    message_id = operator_chat.last_message().message_id

    await stranger.press(lambda b: "1. Send" in b.text, message_id=message_id)
    assert stranger.alerts()[0].text.startswith("Not allowed")
    await operator_chat.press(lambda b: "1. Send" in b.text, message_id=message_id)
    assert "Sent to Ivan" in operator_chat.alerts()[0].text
    [entry] = await rows(sessions, AuditRow, AuditRow.action == "session.suggested")
    assert entry.actor == f"operator:{OPERATOR_ID}" and entry.after["user_id"] == RU

    assert await sender.deliver_due() == 1
    text = tourists[RU].last_text()
    assert "Прогулка по Старому городу" in text  # the soonest session: the walk, in Russian
    keyboard = tourists[RU].last_message().reply_markup.inline_keyboard
    assert keyboard[0][0].callback_data == f"n:b:{seeded.instant_session_id}"  # booking opens below
    await tourists[RU].press(keyboard[0][0].text)  # the Book button starts booking
    assert tourists[RU].last_message().reply_markup is not None


async def test_events_without_a_tourist_context_has_no_send_buttons(operator_chat, sessions, seeded) -> None:
    plain = await operator_chat.send("just chatting")
    await operator_chat.send("/events tallinn", reply_to=plain.message_id)
    assert not any("Send" in b for b in operator_chat.buttons())
    assert "To send one to a tourist" in operator_chat.last_text()


# ---- /stats -------------------------------------------------------------------------------------------------------


async def test_stats_today(operator_chat, stranger, sessions, seeded, clock, three_orders) -> None:
    await add_problem_cards(sessions, clock.now())
    await operator_chat.send("/stats")
    text = operator_chat.last_text()
    assert "(Tallinn)" in text
    assert "Orders placed: 3" in text and "Paid: 1" in text and "€135.00" in text  # 3 adults paid by Ivan
    assert "Problems opened: 3 · resolved: 2" in text
    assert "Median time to resolve: 18 minutes" in text  # (6 + 30) / 2
    assert "Open problems now: 1" in text
    await stranger.send("/stats")
    assert stranger.texts() == []


# ---- forged and stale buttons -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "ds:y:999",
        "ds:n:999",
        "ds:y:99999999999999999999999",
        "ds:y:abc",
        "df:r:999",
        "df:r:99999999999999999999999",
        "des:999:5002",
        "des:99999999999999999999999:1",
        "de:999",
        "de:1:99999999999:sea:0:0",
        "de:1:0::-3:0",
        "de:1:0::99999999999999999999:0",
        "de:1:3652059::0:0",
        "de:1:0::0:99999999999999999999999",
    ],
)
async def test_forged_buttons_are_answered_and_change_nothing(data, operator_chat, sessions, seeded) -> None:
    await operator_chat.send("/stats")  # a bot message to press on
    await operator_chat.press_data(data)
    assert await count(sessions, AuditRow) == 0
    assert await count(sessions, OutboxRow) == 0
    assert await count(sessions, SessionRow, SessionRow.status == "cancelled") == 1
