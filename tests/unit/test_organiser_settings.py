"""The rules and use cases of ``/settings`` on fakes (issue 14): what a typed value may be, what a text may hold, who
may change what, that every change is audited and noted for the import, and that a change reaches new bookings only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import NotAllowed, SessionNotBookable
from domain.model.catalog import Confirmation
from domain.model.organiser_settings import ButtonStyle, InvalidSetting, InvalidText, Setting, TextKind
from domain.rules.organiser_texts import (
    check_book_label,
    check_template,
    fill_template,
    html_problem,
    parse_duration_setting,
    parse_reminders,
)
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.organiser_access import OrganiserActor
from domain.use_cases.organiser_settings import (
    change_confirmation,
    change_term,
    read_settings,
    save_book_button,
    save_text,
)
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import INSTANT_ORGANISER_CHAT_ID, ORGANISER_CHAT_ID, Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ORGANISER = OrganiserActor(ORGANISER_CHAT_ID)


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    return fake_world(NOW)


# ---- rules ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("15m", timedelta(minutes=15)), ("20", timedelta(minutes=20)), (" 1H30M ", timedelta(minutes=90))],
)
def test_a_duration_is_read_in_the_units_people_write(raw: str, expected: timedelta) -> None:
    assert parse_duration_setting(Setting.HOLD, raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0", "too_short"),
        ("30s", "too_short"),
        ("90 days", "format"),
        ("abc", "format"),
        ("90d", "too_long"),
        ("", "format"),
    ],
)
def test_a_bad_duration_is_refused_with_its_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidSetting) as refused:
        parse_duration_setting(Setting.HOLD, raw)
    assert refused.value.data["reason"] == reason


def test_the_cutoff_is_never_shorter_than_the_products_own() -> None:
    with pytest.raises(InvalidSetting):
        parse_duration_setting(Setting.CUTOFF, "4m")
    assert parse_duration_setting(Setting.CUTOFF, "5m") == timedelta(minutes=5)


def test_reminders_are_a_list_longest_first_or_none() -> None:
    assert parse_reminders("2h, 1d") == (timedelta(days=1), timedelta(hours=2))
    assert parse_reminders("30m;3h") == (timedelta(hours=3), timedelta(minutes=30))
    assert parse_reminders("-") == ()
    assert parse_reminders("none") == ()
    for raw, reason in (("2h, 120m", "repeated"), ("1d 2h 1h 30m 20m 10m", "too_many"), ("2h, x", "format")):
        with pytest.raises(InvalidSetting) as refused:
            parse_reminders(raw)
        assert refused.value.data["reason"] == reason


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<b>bold</b> and <i>it</i>", None),
        ('<a href="https://example.com">x</a> &lt;3 &amp;', None),
        ("<b>open", "<b>"),
        ("<b><i>crossed</b></i>", "</b>"),
        ("<script>x</script>", "<script>"),
        ("a < b", "<"),
        ("1 > 0", ">"),
        ("fish & chips", "&"),
        ("&nbsp;", "&nbsp;"),
        ("<a>no link</a>", "<a>"),
        ("<br/>", "<br/>"),
        ("x <b", "<"),  # an unfinished tag
    ],
)
def test_html_telegram_would_refuse_is_found(text: str, problem: str | None) -> None:
    assert html_problem(text) == problem


def test_a_template_may_use_only_the_known_placeholders() -> None:
    text = "Hi {name}! {event} at {time}, {meeting_point}. Code {code}."
    assert check_template(f"  {text}\n") == text
    for raw, reason in (
        ("Hi {nam}", "placeholder"),
        ("Hi {name:>10}", "placeholder"),
        ("Hi {0}", "placeholder"),
        ("Hi {name", "braces"),
        ("{code} {code} {code}", "repeated"),
        ("Hi }", "braces"),
        ("   ", "empty"),
        ("x" * 1001, "too_long"),
        ("<b>{name}", "html"),
    ):
        with pytest.raises(InvalidText) as refused:
            check_template(raw)
        assert refused.value.data["reason"] == reason, raw
    assert check_template("Braces themselves: {{ and }}") == "Braces themselves: {{ and }}"


def test_a_template_is_filled_with_the_values_given() -> None:
    filled = fill_template("Hi {name}, {event} {{ok}}", {"name": "Anna", "event": "Cruise"})
    assert filled == "Hi Anna, Cruise {ok}"


def test_the_book_label_is_one_short_line() -> None:
    assert check_book_label("  Book \n now ") == "Book now"
    with pytest.raises(InvalidText):
        check_book_label("x" * 33)
    with pytest.raises(InvalidText):
        check_book_label(" ")


# ---- use cases ------------------------------------------------------------------------------------------------------


async def test_a_term_change_is_saved_noted_and_audited(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    found = await change_term(uow, seeded.organiser_id, Setting.PAY_WITHIN, "1h", ORGANISER, NOW)
    assert found.organiser.pay_within == timedelta(hours=1)
    assert uow.state.organisers[seeded.organiser_id].pay_within == timedelta(hours=1)
    assert uow.state.organiser_changes == {(seeded.organiser_id, "pay_within"): 1800}
    entry = uow.state.audit[-1]
    assert (entry.actor, entry.action, entry.before["value"], entry.after["value"]) == (
        f"organiser:{ORGANISER_CHAT_ID}",
        "organiser.pay_within_changed",
        1800,
        3600,
    )


async def test_a_refused_value_changes_nothing(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    with pytest.raises(InvalidSetting):
        await change_term(uow, seeded.organiser_id, Setting.HOLD, "0", ORGANISER, NOW)
    assert uow.state.organisers[seeded.organiser_id].hold == timedelta(minutes=15)
    assert uow.state.audit == []
    assert uow.state.organiser_changes == {}


async def test_only_the_organisers_own_chat_or_an_operator_may_change_settings(
    world: tuple[FakeUnitOfWork, Seeded],
) -> None:
    uow, seeded = world
    other = OrganiserActor(INSTANT_ORGANISER_CHAT_ID)  # another organiser's chat
    with pytest.raises(NotAllowed):
        await change_term(uow, seeded.organiser_id, Setting.HOLD, "20m", other, NOW)
    with pytest.raises(NotAllowed):
        await change_confirmation(uow, seeded.organiser_id, seeded.event_id, Confirmation.INSTANT, other, NOW)
    with pytest.raises(NotAllowed):
        await save_text(uow, seeded.organiser_id, TextKind.BRING, "en", "Warm clothes", other, NOW)
    with pytest.raises(NotAllowed):
        await read_settings(uow, seeded.organiser_id, other)
    with pytest.raises(NotAllowed):  # an organiser's event is not another organiser's to switch
        await change_confirmation(
            uow, seeded.organiser_id, seeded.instant_event_id, Confirmation.REQUIRED, ORGANISER, NOW
        )
    assert uow.state.audit == []
    operator = OrganiserActor(-100500, operator_id=42)
    await change_term(uow, seeded.organiser_id, Setting.HOLD, "20m", operator, NOW)
    assert uow.state.audit[-1].actor == "operator:42"


async def test_a_new_hold_applies_to_new_bookings_only(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    add_user(uow.state, 1001)
    add_user(uow.state, 1002)
    before = await place_order(uow, PlaceOrder(1001, seeded.session_id, {"adult": 1}, _answers()), NOW)
    await change_term(uow, seeded.organiser_id, Setting.CONFIRM_WITHIN, "1h", ORGANISER, NOW)
    after = await place_order(uow, PlaceOrder(1002, seeded.session_id, {"adult": 1}, _answers()), NOW)
    kept = uow.state.orders[before.stored_id]  # keeps the deadline it was placed with
    assert kept.confirm_by is not None and after.confirm_by is not None
    assert (kept.confirm_by - NOW, after.confirm_by - NOW) == (timedelta(minutes=10), timedelta(hours=1))


async def test_the_organisers_cutoff_closes_booking_earlier(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    add_user(uow.state, 1001)
    starts = uow.state.sessions[seeded.session_id].starts_at
    hours = (starts - NOW) // timedelta(hours=1)
    await change_term(uow, seeded.organiser_id, Setting.CUTOFF, f"{hours + 1}h", ORGANISER, NOW)
    with pytest.raises(SessionNotBookable):
        await place_order(uow, PlaceOrder(1001, seeded.session_id, {"adult": 1}, _answers()), NOW)
    await change_term(uow, seeded.organiser_id, Setting.CUTOFF, "5m", ORGANISER, NOW)
    assert await place_order(uow, PlaceOrder(1001, seeded.session_id, {"adult": 1}, _answers()), NOW)


async def test_confirmation_switches_per_event_and_is_noted(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    event = await change_confirmation(uow, seeded.organiser_id, seeded.event_id, Confirmation.INSTANT, ORGANISER, NOW)
    assert not event.needs_confirmation
    assert uow.state.events[seeded.event_id].confirmation is Confirmation.INSTANT
    assert uow.state.organiser_changes == {(seeded.organiser_id, "confirmation:islands-cruise"): "required"}
    audited = len(uow.state.audit)
    await change_confirmation(uow, seeded.organiser_id, seeded.event_id, Confirmation.INSTANT, ORGANISER, NOW)
    assert len(uow.state.audit) == audited  # already so: nothing to change, nothing audited


async def test_texts_are_checked_again_when_saved_and_removed_per_language(
    world: tuple[FakeUnitOfWork, Seeded],
) -> None:
    uow, seeded = world
    with pytest.raises(InvalidText):
        await save_text(uow, seeded.organiser_id, TextKind.REMINDER, "en", "Hi {who}", ORGANISER, NOW)
    extras = await save_text(uow, seeded.organiser_id, TextKind.REMINDER, "en", "Hi {name}", ORGANISER, NOW)
    assert extras.text(TextKind.REMINDER, "en") == "Hi {name}"
    assert extras.text(TextKind.REMINDER, "ru") is None  # the default wording
    extras = await save_text(uow, seeded.organiser_id, TextKind.REMINDER, "en", None, ORGANISER, NOW)
    assert extras.texts == {}
    assert [e.action for e in uow.state.audit] == ["organiser.text_reminder_en_changed"] * 2


async def test_the_book_button_label_and_style(world: tuple[FakeUnitOfWork, Seeded]) -> None:
    uow, seeded = world
    extras = await save_book_button(uow, seeded.organiser_id, ORGANISER, NOW, language="de", label=" Jetzt buchen ")
    extras = await save_book_button(uow, seeded.organiser_id, ORGANISER, NOW, style=ButtonStyle.SUCCESS)
    assert (extras.book_label("de"), extras.book_label("en"), extras.book_style) == (
        "Jetzt buchen",
        None,
        ButtonStyle.SUCCESS,
    )
    assert uow.state.audit[-1].after["value"] == {"book_text": {"de": "Jetzt buchen"}, "book_style": "success"}


def _answers() -> dict[str, str]:
    return {"pickup": "Hotel Viru", "lunch": "fish"}
