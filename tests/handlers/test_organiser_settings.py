"""``/settings`` through the real dispatcher (issue 14): every screen, every refusal, the server-side check of who
may change what, and that a change reaches the rows the bookings read (and the audit log)."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxSender
from bot.storage.organiser_tables import OrganiserChangeRow, OrganiserExtrasRow
from bot.storage.tables import EventRow, OrderRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.catalog import Confirmation
from domain.model.organiser_settings import ButtonStyle, Setting, TextKind
from domain.rules.replies import OrganiserReply, Verdict
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.confirmation import answer_booking_request
from domain.use_cases.organiser_access import OrganiserActor
from domain.use_cases.organiser_settings import save_text
from handlers.organiser.callbacks import (
    BookButtonCb,
    ButtonAction,
    ConfirmationCb,
    SettingEditCb,
    TextAction,
    TextCb,
)
from handlers.tourist.callbacks import BookAction, BookCb, EventCb
from tests.fakes import FixedClock
from tests.handlers.chat import Chat
from tests.handlers.conftest import ADMIN_ID, STRANGER_ID
from tests.handlers.organiser_wiring import audit_actions, organiser_chat, organiser_row, wire_organiser_routers
from tests.seed import ORGANISER_CHAT_ID, Seeded, seed_user
from tests.telegram.recorder import RecordingSession

NOT_YOURS = "Only the organiser's own chat or our team can change this. Nothing was changed."
NEW_ONLY = "A change applies to new bookings only: orders already placed keep their deadlines."


@pytest.fixture(autouse=True)
def _organiser_routers(monkeypatch: pytest.MonkeyPatch) -> None:
    wire_organiser_routers(monkeypatch)


@pytest.fixture
def organiser(dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded) -> Chat:
    return organiser_chat(dp, bot, recorder)


@pytest.fixture
def stranger(dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, operator_members: set[int]) -> Chat:
    return Chat(dp, bot, recorder, STRANGER_ID, language_code="en", first_name="Eve")


async def extras_row(sessions: async_sessionmaker[AsyncSession], organiser_id: int) -> OrganiserExtrasRow | None:
    async with sessions() as db:
        row: OrganiserExtrasRow | None = await db.get(OrganiserExtrasRow, organiser_id)
        return row


async def confirmation(sessions: async_sessionmaker[AsyncSession], event_id: int) -> str:
    async with sessions() as db:
        row = await db.get(EventRow, event_id)
        assert row is not None
        return row.confirmation


async def changes(sessions: async_sessionmaker[AsyncSession]) -> dict[tuple[int, str], Any]:
    async with sessions() as db:
        return {(r.organiser_id, r.key): r.catalog_value for r in await db.scalars(select(OrganiserChangeRow))}


async def test_settings_shows_every_value_and_says_changes_apply_to_new_bookings(organiser: Chat) -> None:
    await organiser.send("/settings")
    text = organiser.last_text()
    assert "Settings of Baltic Boats" in text
    for line in (
        "Hold: 15 minutes",
        "Time to confirm: 10 minutes",
        "Time to pay: 30 minutes",
        "Booking closes before the start: 5 minutes",
        "Reminders before the start: 1 day and 2 hours",
        "Waitlist claim window: 15 minutes",
        "Events: 0 instant, 1 confirmed by you",
        NEW_ONLY,
    ):
        assert line in text
    assert organiser.buttons()[:6] == [
        "⏳ Hold",
        "✋ Time to confirm",
        "💳 Time to pay",
        "🚪 Booking closes before the start",
        "⏰ Reminders before the start",
        "🎟 Waitlist claim window",
    ]


async def test_settings_is_for_organisers_only(stranger: Chat) -> None:
    await stranger.send("/settings")
    assert "This command is for organisers" in stranger.last_text()
    await stranger.send("/settings baltic-boats")  # a code opens it for our team only
    assert "This command is for organisers" in stranger.last_text()


async def test_an_operator_opens_an_organisers_settings_by_code(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded
) -> None:
    admin = Chat(dp, bot, recorder, ADMIN_ID, language_code="en", first_name="Ada")
    await admin.send("/settings baltic-boats")
    assert "Settings of Baltic Boats" in admin.last_text()
    await admin.press("⏳ Hold")
    await admin.send("45m")
    assert "Saved: Hold is now 45 minutes." in admin.last_text()


async def test_the_hold_screen_explains_refuses_bad_values_and_saves_a_good_one(
    organiser: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded
) -> None:
    await organiser.send("/settings")
    await organiser.press("⏳ Hold")
    screen = organiser.last_text()
    assert "How long a tourist's seats are held" in screen
    assert "Now: 15 minutes" in screen
    assert NEW_ONLY in screen
    for typed, reason in (
        ("0", "That is too short: at least 1 minute."),
        ("90 days", "I could not read that as a duration."),
        ("abc", "I could not read that as a duration."),
        ("90d", "That is too long: at most 1 day."),
    ):
        await organiser.send(typed)
        assert reason in organiser.last_text(), typed
        assert "Nothing was changed." in organiser.last_text()
        assert "Send a duration from 1 minute to 1 day" in organiser.last_text()
    assert (await organiser_row(sessions, seeded.organiser_id)).hold_s == 15 * 60
    await organiser.send("20")  # a bare number means minutes
    assert "Saved: Hold is now 20 minutes." in organiser.last_text()
    assert "Hold: 20 minutes" in organiser.last_text()
    assert (await organiser_row(sessions, seeded.organiser_id)).hold_s == 20 * 60
    assert ("organiser:700001", "organiser.hold_changed") in await audit_actions(sessions)
    # the import will know the catalog said 15 minutes
    assert (await changes(sessions))[(seeded.organiser_id, "hold")] == 15 * 60


@pytest.mark.parametrize(
    ("button", "typed", "column", "expected"),
    [
        ("✋ Time to confirm", "1h", "confirm_within_s", 3600),
        ("💳 Time to pay", "2h", "pay_within_s", 7200),
        ("🎟 Waitlist claim window", "30m", "waitlist_claim_window_s", 1800),
    ],
)
async def test_each_window_is_saved_where_bookings_read_it(
    organiser: Chat,
    sessions: async_sessionmaker[AsyncSession],
    seeded: Seeded,
    button: str,
    typed: str,
    column: str,
    expected: int,
) -> None:
    await organiser.send("/settings")
    await organiser.press(button)
    assert NEW_ONLY in organiser.last_text()
    await organiser.send(typed)
    assert "Saved:" in organiser.last_text()
    assert getattr(await organiser_row(sessions, seeded.organiser_id), column) == expected


async def test_reminders_take_a_list_refuse_repeats_and_may_be_none(
    organiser: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded
) -> None:
    await organiser.send("/settings")
    await organiser.press("⏰ Reminders before the start")
    assert "When tourists get a reminder" in organiser.last_text()
    await organiser.send("3h, 3h")
    assert "Each time may appear only once." in organiser.last_text()
    await organiser.send("5m")
    assert "That is too short: at least 10 minutes." in organiser.last_text()
    await organiser.send("1d, 2h, 1h, 30m, 20m, 10m")
    assert "That is too many: at most 5 reminders." in organiser.last_text()
    assert (await organiser_row(sessions, seeded.organiser_id)).reminders_s == [86400, 7200]
    await organiser.send("30m 3h")
    assert "Saved: Reminders before the start is now 3 hours and 30 minutes." in organiser.last_text()
    assert (await organiser_row(sessions, seeded.organiser_id)).reminders_s == [10800, 1800]
    await organiser.press("⏰ Reminders before the start")
    await organiser.send("-")
    assert "Reminders before the start: none" in organiser.last_text()
    assert (await organiser_row(sessions, seeded.organiser_id)).reminders_s == []


async def test_the_booking_cutoff_is_the_organisers_own(
    organiser: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded
) -> None:
    await organiser.send("/settings")
    await organiser.press("🚪 Booking closes before the start")
    assert "How long before a session starts its booking closes." in organiser.last_text()
    await organiser.send("1m")
    assert "That is too short: at least 5 minutes." in organiser.last_text()
    await organiser.send("2h")
    assert "Booking closes before the start: 2 hours" in organiser.last_text()
    row = await extras_row(sessions, seeded.organiser_id)
    assert row is not None
    assert row.booking_cutoff_s == 7200


async def test_a_date_inside_the_organisers_cutoff_is_not_offered_and_its_book_is_refused(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded
) -> None:
    """The organiser closes booking 60 hours before the start: the cruise in 2 days is no longer on its card, the one
    in 3 days is; an old Book button of the first is refused at once (not only at Confirm)."""
    async with sessions() as db, db.begin():
        db.add(
            OrganiserExtrasRow(
                organiser_id=seeded.organiser_id,
                booking_cutoff_s=60 * 3600,
                texts={},
                book_text={},
                book_style=ButtonStyle.DEFAULT.value,
            )
        )
    await chat.send("/start")
    await chat.press_data(EventCb(event=seeded.event_id).pack())
    card = [b.callback_data for row in chat.last_message().reply_markup.inline_keyboard for b in row]
    assert BookCb(action=BookAction.START, session=seeded.small_session_id).pack() in card
    assert BookCb(action=BookAction.START, session=seeded.session_id).pack() not in card
    await chat.press_data(BookCb(action=BookAction.START, session=seeded.session_id).pack())
    assert [(a.text, a.show_alert) for a in chat.alerts()] == [("Sorry, this date can no longer be booked.", True)]
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(OrderRow)) == 0


async def test_cancel_leaves_the_value_alone(
    organiser: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded
) -> None:
    await organiser.send("/settings")
    await organiser.press("💳 Time to pay")
    await organiser.press("✖️ Cancel")
    assert "Nothing was changed." in organiser.last_text()
    await organiser.send("1h")  # no longer asked for: not taken as a value
    assert (await organiser_row(sessions, seeded.organiser_id)).pay_within_s == 30 * 60


async def test_an_event_is_switched_between_instant_and_confirmed(
    organiser: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded
) -> None:
    await organiser.send("/settings")
    await organiser.press("⚡ Instant or confirmed")
    assert "Instant: a booking is confirmed at once" in organiser.last_text()
    assert NEW_ONLY in organiser.last_text()
    await organiser.press(lambda b: "confirmed by you" in b.text)
    assert "bookings are instant from now on" in organiser.last_text()
    assert await confirmation(sessions, seeded.event_id) == "instant"
    assert (await changes(sessions))[(seeded.organiser_id, "confirmation:islands-cruise")] == "required"
    await organiser.press(lambda b: ": instant" in b.text)
    assert "you confirm each booking from now on" in organiser.last_text()
    assert await confirmation(sessions, seeded.event_id) == "required"


async def test_forged_buttons_from_anyone_else_change_nothing(
    stranger: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded
) -> None:
    org = seeded.organiser_id
    await stranger.send("/start")  # a message with buttons to press under
    for data in (
        SettingEditCb(org=org, setting=Setting.HOLD),
        ConfirmationCb(org=org, event=seeded.event_id, mode=Confirmation.INSTANT),
        TextCb(action=TextAction.DROP, org=org, kind=TextKind.REMINDER, lang="en"),
        BookButtonCb(action=ButtonAction.STYLE, org=org, style=ButtonStyle.DANGER),
    ):
        await stranger.press_data(data.pack())
        assert stranger.alerts()[-1].text == "🔒 " + NOT_YOURS
    await stranger.send("20m")  # no conversation of theirs asks for a value
    assert await confirmation(sessions, seeded.event_id) == "required"
    assert (await organiser_row(sessions, org)).hold_s == 15 * 60
    assert await extras_row(sessions, org) is None
    assert await audit_actions(sessions) == []


async def test_another_organisers_event_cannot_be_switched_from_this_chat(
    organiser: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded
) -> None:
    forged = ConfirmationCb(org=seeded.organiser_id, event=seeded.instant_event_id, mode=Confirmation.REQUIRED)
    await organiser.send("/settings")
    await organiser.press_data(forged.pack())
    assert organiser.alerts()[-1].text == "🔒 " + NOT_YOURS
    assert await confirmation(sessions, seeded.instant_event_id) == "instant"


async def test_a_text_is_checked_previewed_then_saved_and_can_be_removed(
    organiser: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded
) -> None:
    await organiser.send("/settings")
    await organiser.press("✍️ Texts")
    assert "Where a language has no text of yours, tourists get our default wording." in organiser.last_text()
    await organiser.press("⏰ Reminder")
    assert "English: default wording" in organiser.last_text()
    await organiser.press("✏️ English")
    assert "Send the Reminder text in English." in organiser.last_text()
    for typed, reason in (
        ("Hi {nam}", "Unknown placeholder {nam}."),
        ("Hi {name", "A curly bracket without its pair."),
        ("{event}, {event}, {event}!", "{event} appears too often: at most 2 times."),
        ("<b>Hi {name}", "Telegram would refuse this formatting at <b>"),
        ("Hi <blink>you</blink>", "Telegram would refuse this formatting at <blink>"),
        ("Fish & chips", "Telegram would refuse this formatting at &"),
        ("x" * 1001, "The text is too long: 1001 characters, at most 1000."),
    ):
        await organiser.send(typed)
        assert reason in organiser.last_text(), typed
        assert "Nothing was saved." in organiser.last_text()
    assert await extras_row(sessions, seeded.organiser_id) is None
    await organiser.send("Hi {name}! <b>{event}</b> starts {time}. Order {code}.")
    preview = organiser.last_text()
    assert "Preview in English, with sample values:" in preview
    assert "Hi Anna! Islands cruise starts" in preview
    assert "Order ABC-123." in preview
    await organiser.press("💾 Save")
    assert "Saved for English." in organiser.last_text()
    assert "English: Hi {name}! <b>{event}</b>" in organiser.last_text()
    row = await extras_row(sessions, seeded.organiser_id)
    assert row is not None
    assert row.texts == {"reminder": {"en": "Hi {name}! <b>{event}</b> starts {time}. Order {code}."}}
    assert ("organiser:700001", "organiser.text_reminder_en_changed") in await audit_actions(sessions)

    await organiser.press("👁 Preview every language")
    every = organiser.last_text()
    assert "Hi Anna! Islands cruise starts" in every  # English: the organiser's own
    assert "Напоминание" in every  # Russian: the default wording, never empty

    await organiser.press("⬅️ Reminder")
    await organiser.press("🗑 English")
    assert "Removed: English gets the default wording again." in organiser.last_text()
    row = await extras_row(sessions, seeded.organiser_id)
    assert row is not None
    assert row.texts == {}


async def test_a_stale_save_button_saves_nothing(
    organiser: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded
) -> None:
    forged = TextCb(action=TextAction.SAVE, org=seeded.organiser_id, kind=TextKind.BRING, lang="en")
    await organiser.send("/settings")
    await organiser.press_data(forged.pack())
    assert organiser.alerts()[-1].text == "This button is no longer valid. Please use the menu."
    bad_language = TextCb(action=TextAction.EDIT, org=seeded.organiser_id, kind=TextKind.BRING, lang="xx")
    await organiser.press_data(bad_language.pack())
    assert organiser.alerts()[-1].text == "This button is no longer valid. Please use the menu."
    assert await extras_row(sessions, seeded.organiser_id) is None


async def test_the_book_button_text_and_colour(
    organiser: Chat, chat: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded, recorder: RecordingSession
) -> None:
    await organiser.send("/settings")
    await organiser.press("🔘 Book button")
    assert "Colour: Default" in organiser.last_text()
    await organiser.press("Green")
    assert "Colour: Green" in organiser.last_text()
    await organiser.press("✏️ English")
    await organiser.send("x" * 33)
    assert "The text is too long: 33 characters, at most 32." in organiser.last_text()
    await organiser.send("  Book   a seat ")
    assert "English: Book a seat" in organiser.last_text()
    row = await extras_row(sessions, seeded.organiser_id)
    assert row is not None
    assert (row.book_style, row.book_text) == ("success", {"en": "Book a seat"})

    # a tourist sees it on the event card
    from handlers.tourist.callbacks import EventCb

    await chat.send("/start")
    await chat.press_data(EventCb(event=seeded.event_id).pack())
    markup = chat.last_message().reply_markup
    assert markup is not None
    book = [b for row_ in markup.inline_keyboard for b in row_ if "Book a seat" in b.text]
    assert book
    assert {b.style for b in book} == {"success"}

    await organiser.press("↩️ English")
    row = await extras_row(sessions, seeded.organiser_id)
    assert row is not None
    assert row.book_text == {}


async def test_the_confirmation_opens_with_the_organisers_text_in_the_tourists_language_only(
    organiser: Chat, sessions: async_sessionmaker[AsyncSession], seeded: Seeded, clock: FixedClock, sender: OutboxSender
) -> None:
    actor = OrganiserActor(ORGANISER_CHAT_ID)
    uow = SqlUnitOfWork(sessions)
    text = "Great, {name}! See you at {meeting_point}. Order {code}."
    await save_text(uow, seeded.organiser_id, TextKind.CONFIRMATION, "en", text, actor, clock.now())
    await save_text(uow, seeded.organiser_id, TextKind.BRING, "en", "A <b>warm</b> jacket.", actor, clock.now())
    for user_id, language in ((5001, "en"), (5002, "ru")):
        await seed_user(sessions, user_id, language=language, now=clock.now(), first_name="Anna")
        order = await place_order(
            uow,
            PlaceOrder(user_id, seeded.session_id, {"adult": 1}, {"pickup": "Viru", "lunch": "fish"}),
            clock.now(),
        )
        await answer_booking_request(
            uow, order.stored_id, ORGANISER_CHAT_ID, OrganiserReply(Verdict.YES), "+", clock.now(), False
        )
    await sender.deliver_due()
    request = next(r for r in sent_to(organiser.recorder, ORGANISER_CHAT_ID))
    styles = [b.get("style") for row in request.params["reply_markup"]["inline_keyboard"] for b in row]
    assert styles == ["success", "danger"]  # green to confirm, red to decline
    english = [r for r in organiser.recorder.calls("sendPhoto") if r.chat_id == 5001][-1].params["caption"]
    assert english.startswith("Great, Anna! See you at Pier 3. Order ")
    assert "🎒 A <b>warm</b> jacket." in english
    russian = [r for r in organiser.recorder.calls("sendPhoto") if r.chat_id == 5002][-1].params["caption"]
    assert russian.startswith("✅ ")  # no text of the organiser's in Russian: the default wording, never empty
    assert "Great" not in russian and "🎒" not in russian


def sent_to(recorder: RecordingSession, chat_id: int) -> list[Any]:
    return [r for r in recorder.calls("sendMessage") if r.params["chat_id"] == chat_id]
