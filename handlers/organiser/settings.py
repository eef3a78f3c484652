"""``/settings``: an organiser's booking terms from their own chat (issue 14) — the hold, the confirm and pay windows,
the booking cutoff, the reminders, the waitlist's claim window, and per event whether bookings are instant. Each
screen says what the setting does and shows its value; a value typed in is checked (``0``, ``90 days``, ``abc``
are refused with a hint, nothing changed) and applies to new bookings only, which the screen says. The texts and the
Book button are in :mod:`handlers.organiser.settings_texts`.

Every message and press is checked on the server (:mod:`handlers.organiser.acting`): the organiser's own chat or an
operator; anyone else is told so and nothing changes. The use cases (domain/use_cases/organiser_settings.py) audit
each change.
"""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from domain.errors import NotAllowed, NotFound
from domain.model.catalog import Confirmation, localized
from domain.model.organiser_settings import BOUNDS, REMINDERS_MAX, InvalidSetting, Setting
from domain.ports import Clock, UnitOfWork
from domain.use_cases.organiser_access import OrganiserActor
from domain.use_cases.organiser_settings import OrganiserSettings, change_confirmation, change_term, read_settings
from handlers.operator.access import OperatorDirectory
from handlers.organiser.acting import acting_for_button, acting_for_command, not_an_organiser_text, not_yours_text
from handlers.organiser.callbacks import ConfirmationCb, SettingEditCb, SettingsAction, SettingsCb
from handlers.tourist.messaging import answer_query, show
from handlers.ui import N_, Translator, button, cut

router = Router(name=__name__)

TITLE_MAX = 40  # characters of an event's title on a button

ICONS = {
    Setting.HOLD: "⏳",
    Setting.CONFIRM_WITHIN: "✋",
    Setting.PAY_WITHIN: "💳",
    Setting.CUTOFF: "🚪",
    Setting.REMINDERS: "⏰",
    Setting.CLAIM_WINDOW: "🎟",
}
NAMES = {
    Setting.HOLD: N_("Hold"),
    Setting.CONFIRM_WITHIN: N_("Time to confirm"),
    Setting.PAY_WITHIN: N_("Time to pay"),
    Setting.CUTOFF: N_("Booking closes before the start"),
    Setting.REMINDERS: N_("Reminders before the start"),
    Setting.CLAIM_WINDOW: N_("Waitlist claim window"),
}
WHAT_IT_DOES = {
    Setting.HOLD: N_(
        "How long a tourist's seats are held while their booking is not finished (not confirmed or not "
        "paid yet); then they go back on sale."
    ),
    Setting.CONFIRM_WITHIN: N_(
        "How long you have to confirm or decline a booking request; unanswered, it expires and "
        "the seats go back on sale."
    ),
    Setting.PAY_WITHIN: N_("How long a tourist has to pay once their booking is confirmed."),
    Setting.CUTOFF: N_("How long before a session starts its booking closes."),
    Setting.REMINDERS: N_("When tourists get a reminder before their session: one or more times before the start."),
    Setting.CLAIM_WINDOW: N_(
        "How long a tourist on a sold-out session's waitlist has to claim the seats offered to "
        "them; unclaimed, the offer passes on to the next person."
    ),
}


class SettingInput(StatesGroup):
    value = State()  # data: org, setting


# ---- screens ------------------------------------------------------------------------------------------------------


def new_bookings_note(tr: Translator) -> str:
    return "ℹ️ " + tr.gettext("A change applies to new bookings only: orders already placed keep their deadlines.")


def value_text(tr: Translator, found: OrganiserSettings, setting: Setting) -> str:
    organiser = found.organiser
    match setting:
        case Setting.REMINDERS:
            if not organiser.reminders:
                return tr.gettext("none")
            return tr.list([tr.duration(r) for r in organiser.reminders])
        case Setting.CUTOFF:
            return tr.duration(found.extras.booking_cutoff)
        case Setting.HOLD:
            return tr.duration(organiser.hold)
        case Setting.CONFIRM_WITHIN:
            return tr.duration(organiser.confirm_within)
        case Setting.PAY_WITHIN:
            return tr.duration(organiser.pay_within)
        case _:
            return tr.duration(organiser.waitlist_claim_window)


def main_screen(tr: Translator, found: OrganiserSettings, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    org = found.organiser.id
    lines = ["⚙️ <b>" + _("Settings of {name}").format(name=html.quote(found.organiser.name)) + "</b>"]
    if note:
        lines.append(note)
    lines.append("")
    lines += [f"{ICONS[s]} {_(NAMES[s])}: <b>{value_text(tr, found, s)}</b>" for s in ICONS]
    instant = sum(1 for e in found.events if not e.needs_confirmation)
    lines.append(
        "⚡ "
        + _("Events: {instant} instant, {confirmed} confirmed by you").format(
            instant=instant, confirmed=len(found.events) - instant
        )
    )
    lines += ["", new_bookings_note(tr), _("Choose what to change:")]
    rows: list[list[InlineKeyboardButton]] = [
        [button(f"{ICONS[s]} {_(NAMES[s])}", SettingEditCb(org=org, setting=s))] for s in ICONS
    ]
    rows.append([button("⚡ " + _("Instant or confirmed"), SettingsCb(action=SettingsAction.EVENTS, org=org))])
    rows.append(
        [
            button("✍️ " + _("Texts"), SettingsCb(action=SettingsAction.TEXTS, org=org)),
            button("🔘 " + _("Book button"), SettingsCb(action=SettingsAction.BUTTON, org=org)),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def back_row(tr: Translator, org: int) -> list[InlineKeyboardButton]:
    return [button("⬅️ " + tr.gettext("All settings"), SettingsCb(action=SettingsAction.MAIN, org=org))]


def hint_text(tr: Translator, setting: Setting) -> str:
    _ = tr.gettext
    bounds = BOUNDS[setting]
    span = _("from {least} to {most}").format(least=tr.duration(bounds.least), most=tr.duration(bounds.most))
    if setting is Setting.REMINDERS:
        return _(
            "Send up to {n} times separated by commas, each {span}, for example {example}; send {none} for no "
            "reminders."
        ).format(n=REMINDERS_MAX, span=span, example="<code>24h, 2h</code>", none="<code>-</code>")
    return _(
        "Send a duration {span}, for example {example} (m: minutes, h: hours, d: days; a bare number means minutes)."
    ).format(span=span, example="<code>15m</code>, <code>2h</code>, <code>1d</code>, <code>1h30m</code>")


def edit_screen(tr: Translator, found: OrganiserSettings, setting: Setting) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    lines = [
        f"{ICONS[setting]} <b>{_(NAMES[setting])}</b>",
        _(WHAT_IT_DOES[setting]),
        "",
        _("Now: {value}").format(value=f"<b>{value_text(tr, found, setting)}</b>"),
        "",
        hint_text(tr, setting),
        new_bookings_note(tr),
    ]
    cancel = button("✖️ " + _("Cancel"), SettingsCb(action=SettingsAction.CANCEL, org=found.organiser.id))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[[cancel]])


def refusal_text(tr: Translator, error: InvalidSetting) -> str:
    _ = tr.gettext
    data = error.data
    match data.get("reason"):
        case "too_short":
            least = data.get("least")
            return _("That is too short: at least {least}.").format(
                least=tr.duration(least) if isinstance(least, timedelta) else ""
            )
        case "too_long":
            most = data.get("most")
            return _("That is too long: at most {most}.").format(
                most=tr.duration(most) if isinstance(most, timedelta) else ""
            )
        case "repeated":
            return _("Each time may appear only once.")
        case "too_many":
            return _("That is too many: at most {n} reminders.").format(n=REMINDERS_MAX)
    return _("I could not read that as a duration.")


def events_screen(tr: Translator, found: OrganiserSettings, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    org = found.organiser.id
    lines = [
        "⚡ <b>" + _("Instant or confirmed") + "</b>",
        _("Instant: a booking is confirmed at once, without asking you."),
        _("Confirmed by you: you confirm or decline each booking request within {time}.").format(
            time=tr.duration(found.organiser.confirm_within)
        ),
        _("Press an event to switch it."),
    ]
    if note:
        lines += ["", note]
    lines += ["", new_bookings_note(tr)]
    rows = []
    for event in found.events:
        title = cut(localized(event.title, tr.language), TITLE_MAX)
        if event.needs_confirmation:
            label, switch = "✋ " + _("{title}: confirmed by you").format(title=title), Confirmation.INSTANT
        else:
            label, switch = "⚡ " + _("{title}: instant").format(title=title), Confirmation.REQUIRED
        rows.append([button(label, ConfirmationCb(org=org, event=event.id, mode=switch))])
    if not found.events:
        lines.insert(1, _("You have no events yet."))
    rows.append(back_row(tr, org))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


# ---- the command and the buttons -----------------------------------------------------------------------------------


@router.message(Command("settings"))
async def cmd_settings(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
) -> None:
    acting = await acting_for_command(uow, bot, operators, message.chat.id, message.from_user, command.args)
    if acting is None:
        await message.answer(not_an_organiser_text(tr, "/settings"))
        return
    await state.set_state(None)
    organiser, actor = acting
    text, markup = main_screen(tr, await read_settings(uow, organiser.id, actor))
    await message.answer(text, reply_markup=markup)


async def acting_on(
    query: CallbackQuery, org: int, bot: Bot, uow: UnitOfWork, operators: OperatorDirectory, tr: Translator
) -> tuple[OrganiserSettings, OrganiserActor] | None:
    """The settings a press is about and who acts, if the presser may change them; else answered "not yours"."""
    chat_id = query.message.chat.id if query.message else query.from_user.id
    acting = await acting_for_button(uow, bot, operators, chat_id, query.from_user, org)
    if acting is None:
        await answer_query(query, not_yours_text(tr), alert=True)
        return None
    return await read_settings(uow, acting[0].id, acting[1]), acting[1]


@router.callback_query(SettingsCb.filter(F.action.in_({SettingsAction.MAIN, SettingsAction.CANCEL})))
async def on_settings_main(
    query: CallbackQuery,
    callback_data: SettingsCb,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
) -> None:
    if (acting := await acting_on(query, callback_data.org, bot, uow, operators, tr)) is None:
        return
    found = acting[0]
    await state.set_state(None)
    await answer_query(query)
    note = "✖️ " + tr.gettext("Nothing was changed.") if callback_data.action is SettingsAction.CANCEL else ""
    await show(query, *main_screen(tr, found, note))


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.EVENTS))
async def on_settings_events(
    query: CallbackQuery,
    callback_data: SettingsCb,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
) -> None:
    if (acting := await acting_on(query, callback_data.org, bot, uow, operators, tr)) is None:
        return
    found = acting[0]
    await state.set_state(None)
    await answer_query(query)
    await show(query, *events_screen(tr, found))


@router.callback_query(SettingEditCb.filter())
async def on_setting_edit(
    query: CallbackQuery,
    callback_data: SettingEditCb,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
) -> None:
    if callback_data.setting not in ICONS:  # the per-event confirmation has its own screen
        await answer_query(query, tr.gettext("This button is no longer valid. Please use the menu."), alert=True)
        return
    if (acting := await acting_on(query, callback_data.org, bot, uow, operators, tr)) is None:
        return
    found = acting[0]
    await state.set_state(SettingInput.value)
    await state.update_data(org=found.organiser.id, setting=callback_data.setting.value)
    await answer_query(query)
    await show(query, *edit_screen(tr, found, callback_data.setting))


@router.callback_query(ConfirmationCb.filter())
async def on_confirmation_switch(
    query: CallbackQuery,
    callback_data: ConfirmationCb,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    tr: Translator,
    clock: Clock,
) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    acting = await acting_for_button(uow, bot, operators, chat_id, query.from_user, callback_data.org)
    if acting is None:
        await answer_query(query, not_yours_text(tr), alert=True)
        return
    organiser, actor = acting
    try:
        event = await change_confirmation(
            uow, organiser.id, callback_data.event, callback_data.mode, actor, clock.now()
        )
    except (NotAllowed, NotFound):
        await answer_query(query, not_yours_text(tr), alert=True)
        return
    title = html.quote(cut(localized(event.title, tr.language), TITLE_MAX))
    if event.needs_confirmation:
        note = "✅ " + tr.gettext("{title}: you confirm each booking from now on.").format(title=title)
    else:
        note = "✅ " + tr.gettext("{title}: bookings are instant from now on.").format(title=title)
    await answer_query(query, tr.gettext("Saved."))
    await show(query, *events_screen(tr, await read_settings(uow, organiser.id, actor), note))


# ---- the typed value ------------------------------------------------------------------------------------------------


async def typed_acting(
    message: Message, bot: Bot, uow: UnitOfWork, operators: OperatorDirectory, state: FSMContext
) -> tuple[int, OrganiserActor, dict[str, str]] | None:
    """The organiser a typed value is for (from the conversation's data), if this chat and person may act for them."""
    data = await state.get_data()
    acting = await acting_for_button(uow, bot, operators, message.chat.id, message.from_user, int(data.get("org", 0)))
    if acting is None:
        await state.set_state(None)
        return None
    return acting[0].id, acting[1], {k: str(v) for k, v in data.items()}


@router.message(SettingInput.value, F.text & ~F.text.startswith("/"))
async def on_setting_typed(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
    clock: Clock,
) -> None:
    acting = await typed_acting(message, bot, uow, operators, state)
    if acting is None:
        await message.answer(not_yours_text(tr))
        return
    org, actor, data = acting
    setting = Setting(data["setting"])
    try:
        found = await change_term(uow, org, setting, message.text or "", actor, clock.now())
    except InvalidSetting as error:
        lines = ["⚠️ " + refusal_text(tr, error) + " " + tr.gettext("Nothing was changed."), hint_text(tr, setting)]
        cancel = button("✖️ " + tr.gettext("Cancel"), SettingsCb(action=SettingsAction.CANCEL, org=org))
        await message.answer("\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[cancel]]))
        return
    except (NotAllowed, NotFound):
        await state.set_state(None)
        await message.answer(not_yours_text(tr))
        return
    await state.set_state(None)
    saved = "✅ " + tr.gettext("Saved: {setting} is now {value}.").format(
        setting=tr.gettext(NAMES[setting]), value=value_text(tr, found, setting)
    )
    text, markup = main_screen(tr, found, saved)
    await message.answer(text, reply_markup=markup)
