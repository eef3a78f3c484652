"""``/settings`` → Texts and Book button (issue 14): the organiser's own reminder, confirmation and "what to bring"
texts per language, and the Book button's label per language and its colour.

A text may use the placeholders ``{name}``, ``{event}``, ``{time}``, ``{meeting_point}`` and ``{code}`` and Telegram's
HTML; an unknown placeholder, broken HTML or an over-long text is refused with the reason. A typed text is shown as a
preview (filled with sample values, in its language) before it is saved; a language without the organiser's own text
gets the default wording. Every press and message is checked on the server like the rest of ``/settings``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import Bot, F, Router, html
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from domain.errors import NotAllowed, NotFound
from domain.model.catalog import localized
from domain.model.organiser_settings import BOOK_TEXT_MAX, PLACEHOLDERS, TEXT_MAX, ButtonStyle, InvalidText, TextKind
from domain.ports import Clock, UnitOfWork
from domain.rules.organiser_texts import check_template, fill_template
from domain.use_cases.organiser_settings import OrganiserSettings, read_settings, save_book_button, save_text
from handlers.operator.access import OperatorDirectory
from handlers.organiser.acting import not_yours_text
from handlers.organiser.callbacks import (
    BookButtonCb,
    ButtonAction,
    SettingsAction,
    SettingsCb,
    TextAction,
    TextCb,
)
from handlers.organiser.settings import acting_on, back_row, typed_acting
from handlers.tourist.messaging import answer_query, show
from handlers.ui import N_, Languages, Translator, button, cut

router = Router(name=__name__)

SHOWN_MAX = 120  # characters of a saved text shown on the overview
KIND_NAMES = {
    TextKind.REMINDER: N_("Reminder"),
    TextKind.CONFIRMATION: N_("Confirmation"),
    TextKind.BRING: N_("What to bring"),
}
KIND_ICONS = {TextKind.REMINDER: "⏰", TextKind.CONFIRMATION: "✅", TextKind.BRING: "🎒"}
KIND_HELP = {
    TextKind.REMINDER: N_(
        "Opens the reminder tourists get before their session; the date, meeting point, tickets "
        "and what is left to pay follow it."
    ),
    TextKind.CONFIRMATION: N_(
        "Opens the message tourists get when their booking is confirmed; the summary and how to pay follow it."
    ),
    TextKind.BRING: N_(
        "A note under the meeting point in the confirmation and the reminder, such as warm clothes or "
        "an ID. Without it in a language, there is no note."
    ),
}
STYLE_NAMES = {
    ButtonStyle.DEFAULT: N_("Default"),
    ButtonStyle.PRIMARY: N_("Blue"),
    ButtonStyle.SUCCESS: N_("Green"),
    ButtonStyle.DANGER: N_("Red"),
}


class TextInput(StatesGroup):
    text = State()  # data: org, kind, lang (and draft, once previewed)
    label = State()  # data: org, lang


# ---- texts --------------------------------------------------------------------------------------------------------


def placeholders_line(tr: Translator) -> str:
    names = ", ".join(f"<code>{{{name}}}</code>" for name in PLACEHOLDERS)
    return tr.gettext("Placeholders: {names}.").format(names=names)


def texts_screen(tr: Translator, found: OrganiserSettings) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    org = found.organiser.id
    lines = [
        "✍️ <b>" + _("Your texts") + "</b>",
        _(
            "Your own words for the reminder, the confirmation and the note on what to bring, in each language. "
            "Where a language has no text of yours, tourists get our default wording."
        ),
    ]
    rows = [
        [button(f"{KIND_ICONS[kind]} {_(KIND_NAMES[kind])}", TextCb(action=TextAction.OPEN, org=org, kind=kind))]
        for kind in TextKind
    ]
    rows.append(back_row(tr, org))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def kind_screen(
    tr: Translator, found: OrganiserSettings, kind: TextKind, languages: tuple[str, ...], note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    org = found.organiser.id
    lines = [f"{KIND_ICONS[kind]} <b>{_(KIND_NAMES[kind])}</b>", _(KIND_HELP[kind]), placeholders_line(tr)]
    if note:
        lines += ["", note]
    lines.append("")
    rows: list[list[InlineKeyboardButton]] = []
    for lang in languages:
        name = tr.language_name(lang)
        own = found.extras.text(kind, lang)
        shown = html.quote(cut(own, SHOWN_MAX)) if own else "<i>" + _("default wording") + "</i>"
        lines.append(f"• {html.quote(name)}: {shown}")
        row = [button("✏️ " + name, TextCb(action=TextAction.EDIT, org=org, kind=kind, lang=lang))]
        if own:
            row.append(button("🗑 " + name, TextCb(action=TextAction.DROP, org=org, kind=kind, lang=lang)))
        rows.append(row)
    rows.append([button("👁 " + _("Preview every language"), TextCb(action=TextAction.PREVIEW, org=org, kind=kind))])
    rows.append([button("⬅️ " + _("Texts"), SettingsCb(action=SettingsAction.TEXTS, org=org))])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def text_prompt(tr: Translator, kind: TextKind, lang: str) -> str:
    _ = tr.gettext
    return "\n".join(
        [
            "✏️ "
            + _("Send the {kind} text in {language}.").format(
                kind=f"<b>{_(KIND_NAMES[kind])}</b>", language=html.quote(tr.language_in_mine(lang))
            ),
            placeholders_line(tr),
            _("Formatting: {tags}. At most {limit} characters.").format(
                tags=html.quote('<b>bold</b>, <i>italic</i>, <u>, <s>, <code>, <a href="…">link</a>'), limit=TEXT_MAX
            ),
            _("You will see a preview before it is saved."),
        ]
    )


def text_refusal(tr: Translator, error: InvalidText) -> str:
    _ = tr.gettext
    data = error.data
    match data.get("reason"):
        case "empty":
            return _("The text is empty.")
        case "too_long":
            return _("The text is too long: {length} characters, at most {limit}.").format(
                length=data.get("length"), limit=data.get("limit")
            )
        case "placeholder":
            names = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            return _("Unknown placeholder {placeholder}. You can use: {names}.").format(
                placeholder=html.quote("{" + str(data.get("name")) + "}"), names=html.quote(names)
            )
        case "repeated":
            return _("{placeholder} appears too often: at most {n} times.").format(
                placeholder=html.quote("{" + str(data.get("name")) + "}"), n=data.get("limit")
            )
        case "braces":
            return _("A curly bracket without its pair. A placeholder looks like {example}.").format(
                example=html.quote("{name}")
            )
    return _(
        "Telegram would refuse this formatting at {place}: close every tag, use only the tags above, and write "
        "{escapes} for the characters themselves."
    ).format(
        place=f"<code>{html.quote(str(data.get('detail', '')))}</code>",
        escapes=html.quote("&lt; &gt; &amp;"),
    )


def sample_values(lang_tr: Translator, found: OrganiserSettings, timezone: str, now: datetime) -> dict[str, str]:
    """What the placeholders show in a preview: the organiser's first event, a session tomorrow, a sample order."""
    event = found.events[0] if found.events else None
    return {
        "name": "Anna",
        "event": html.quote(localized(event.title, lang_tr.language)) if event else "Old Town walk",
        "time": lang_tr.zoned(now + timedelta(days=1), timezone),
        "meeting_point": html.quote(localized(event.meeting_point, lang_tr.language)) if event else "",
        "code": "ABC-123",
    }


def default_wording(lang_tr: Translator, kind: TextKind, values: dict[str, str]) -> str:
    """What a language without the organiser's own text shows instead (the renderers' own opening lines)."""
    _ = lang_tr.gettext
    if kind is TextKind.REMINDER:
        return "⏰ " + _("Reminder: <b>{title}</b>").format(title=values["event"])
    if kind is TextKind.CONFIRMATION:
        return "✅ " + _("Your booking <b>{code}</b> is confirmed!").format(code=values["code"])
    return "<i>" + _("no note") + "</i>"


async def _timezone(uow: UnitOfWork, found: OrganiserSettings) -> str:
    if not found.events:
        return "UTC"
    async with uow.read():
        region = await uow.catalog.region(found.events[0].region_id)
    return region.timezone if region else "UTC"


# ---- the Book button ------------------------------------------------------------------------------------------------


def button_screen(
    tr: Translator, found: OrganiserSettings, languages: tuple[str, ...], note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    org, extras = found.organiser.id, found.extras
    lines = [
        "🔘 <b>" + _("Book button") + "</b>",
        _(
            "Tourists press it on your event cards to book a date. Your text goes before the date, in each language "
            "(without it, only the date shows); its colour shows where Telegram supports it."
        ),
    ]
    if note:
        lines += ["", note]
    lines += ["", _("Colour: {style}").format(style=f"<b>{_(STYLE_NAMES[extras.book_style])}</b>")]
    rows: list[list[InlineKeyboardButton]] = []
    for lang in languages:
        name = tr.language_name(lang)
        label = extras.book_label(lang)
        lines.append(f"• {html.quote(name)}: " + (html.quote(label) if label else "<i>" + _("default") + "</i>"))
        row = [button("✏️ " + name, BookButtonCb(action=ButtonAction.LABEL, org=org, lang=lang))]
        if label:
            row.append(button("↩️ " + name, BookButtonCb(action=ButtonAction.RESET, org=org, lang=lang)))
        rows.append(row)
    styles = []
    for style in ButtonStyle:
        mark = "• " if style is extras.book_style else ""
        colour = None if style is ButtonStyle.DEFAULT else style.value
        styles.append(
            button(mark + _(STYLE_NAMES[style]), BookButtonCb(action=ButtonAction.STYLE, org=org, style=style), colour)
        )
    rows.append(styles)
    rows.append(back_row(tr, org))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def label_prompt(tr: Translator, lang: str) -> str:
    return "✏️ " + tr.gettext("Send the Book button's text in {language}: one line, at most {limit} characters.").format(
        language=html.quote(tr.language_in_mine(lang)), limit=BOOK_TEXT_MAX
    )


# ---- handlers -------------------------------------------------------------------------------------------------------


def _invalid(tr: Translator) -> str:
    return tr.gettext("This button is no longer valid. Please use the menu.")


@router.callback_query(SettingsCb.filter(F.action.in_({SettingsAction.TEXTS, SettingsAction.BUTTON})))
async def on_settings_texts(
    query: CallbackQuery,
    callback_data: SettingsCb,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
    i18n: Languages,
) -> None:
    if (acting := await acting_on(query, callback_data.org, bot, uow, operators, tr)) is None:
        return
    found = acting[0]
    await state.set_state(None)
    await answer_query(query)
    if callback_data.action is SettingsAction.TEXTS:
        await show(query, *texts_screen(tr, found))
    else:
        await show(query, *button_screen(tr, found, i18n.languages))


@router.callback_query(TextCb.filter())
async def on_text_button(
    query: CallbackQuery,
    callback_data: TextCb,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
    i18n: Languages,
    clock: Clock,
) -> None:
    action, kind, lang = callback_data.action, callback_data.kind, callback_data.lang
    needs_lang = action in (TextAction.EDIT, TextAction.SAVE, TextAction.DROP)
    if needs_lang and lang not in i18n.languages:
        await answer_query(query, _invalid(tr), alert=True)
        return
    if (acting := await acting_on(query, callback_data.org, bot, uow, operators, tr)) is None:
        return
    found, actor = acting
    org = found.organiser.id
    if action is TextAction.OPEN:
        await state.set_state(None)
        await answer_query(query)
        await show(query, *kind_screen(tr, found, kind, i18n.languages))
    elif action is TextAction.EDIT:
        await state.set_state(TextInput.text)
        await state.set_data({"org": org, "kind": kind.value, "lang": lang})
        await answer_query(query)
        cancel = button("✖️ " + tr.gettext("Cancel"), TextCb(action=TextAction.OPEN, org=org, kind=kind))
        await show(query, text_prompt(tr, kind, lang), InlineKeyboardMarkup(inline_keyboard=[[cancel]]))
    elif action is TextAction.PREVIEW:
        await answer_query(query)
        timezone, now = await _timezone(uow, found), clock.now()
        blocks = ["👁 <b>" + tr.gettext("As tourists will read it") + "</b>"]
        for language in i18n.languages:
            lang_tr = i18n.translator(language)
            values = sample_values(lang_tr, found, timezone, now)
            own = found.extras.text(kind, language)
            shown = fill_template(own, values) if own else default_wording(lang_tr, kind, values)
            blocks += ["", f"<b>{html.quote(tr.language_name(language))}</b>", shown]
        back = button("⬅️ " + tr.gettext(KIND_NAMES[kind]), TextCb(action=TextAction.OPEN, org=org, kind=kind))
        await show(query, "\n".join(blocks), InlineKeyboardMarkup(inline_keyboard=[[back]]))
    else:  # SAVE, DROP
        data = await state.get_data()
        draft: str | None = None
        if action is TextAction.SAVE:
            if (data.get("org"), data.get("kind"), data.get("lang")) != (org, kind.value, lang) or "draft" not in data:
                await answer_query(query, _invalid(tr), alert=True)
                return
            draft = str(data["draft"])
        try:
            await save_text(uow, org, kind, lang, draft, actor, clock.now())
        except InvalidText as error:
            await answer_query(query, text_refusal(tr, error)[:200], alert=True)
            return
        except (NotAllowed, NotFound):
            await answer_query(query, not_yours_text(tr), alert=True)
            return
        await state.set_state(None)
        await state.set_data({})
        await answer_query(query, tr.gettext("Saved."))
        language = html.quote(tr.language_in_mine(lang))
        if draft is None:
            note = "🗑 " + tr.gettext("Removed: {language} gets the default wording again.").format(language=language)
        else:
            note = "✅ " + tr.gettext("Saved for {language}. It applies to messages sent from now on.").format(
                language=language
            )
        found = await read_settings(uow, org, actor)
        await show(query, *kind_screen(tr, found, kind, i18n.languages, note))


@router.message(TextInput.text, F.text & ~F.text.startswith("/"))
async def on_text_typed(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
    i18n: Languages,
    clock: Clock,
) -> None:
    acting = await typed_acting(message, bot, uow, operators, state)
    if acting is None:
        await message.answer(not_yours_text(tr))
        return
    org, actor, data = acting
    kind, lang = TextKind(data["kind"]), data["lang"]
    cancel = button("✖️ " + tr.gettext("Cancel"), TextCb(action=TextAction.OPEN, org=org, kind=kind))
    try:
        draft = check_template(message.text or "")
    except InvalidText as error:
        lines = [
            "⚠️ " + text_refusal(tr, error) + " " + tr.gettext("Nothing was saved."),
            "",
            text_prompt(tr, kind, lang),
        ]
        await message.answer("\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[cancel]]))
        return
    await state.update_data(draft=draft)
    found = await read_settings(uow, org, actor)
    lang_tr = i18n.translator(lang)
    preview = fill_template(draft, sample_values(lang_tr, found, await _timezone(uow, found), clock.now()))
    lines = [
        "👁 "
        + tr.gettext("Preview in {language}, with sample values:").format(
            language=html.quote(tr.language_in_mine(lang))
        ),
        "",
        preview,
        "",
        tr.gettext("Save it, or send a better version."),
    ]
    save = button("💾 " + tr.gettext("Save"), TextCb(action=TextAction.SAVE, org=org, kind=kind, lang=lang))
    await message.answer("\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[save, cancel]]))


@router.callback_query(BookButtonCb.filter())
async def on_book_button(
    query: CallbackQuery,
    callback_data: BookButtonCb,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
    i18n: Languages,
    clock: Clock,
) -> None:
    action, lang = callback_data.action, callback_data.lang
    if action is not ButtonAction.STYLE and lang not in i18n.languages:
        await answer_query(query, _invalid(tr), alert=True)
        return
    if (acting := await acting_on(query, callback_data.org, bot, uow, operators, tr)) is None:
        return
    found, actor = acting
    org = found.organiser.id
    if action is ButtonAction.LABEL:
        await state.set_state(TextInput.label)
        await state.set_data({"org": org, "lang": lang})
        await answer_query(query)
        cancel = button("✖️ " + tr.gettext("Cancel"), SettingsCb(action=SettingsAction.BUTTON, org=org))
        await show(query, label_prompt(tr, lang), InlineKeyboardMarkup(inline_keyboard=[[cancel]]))
        return
    try:
        if action is ButtonAction.STYLE:
            await save_book_button(uow, org, actor, clock.now(), style=callback_data.style)
        else:
            await save_book_button(uow, org, actor, clock.now(), language=lang)
    except (NotAllowed, NotFound):
        await answer_query(query, not_yours_text(tr), alert=True)
        return
    await answer_query(query, tr.gettext("Saved."))
    found = await read_settings(uow, org, actor)
    await show(query, *button_screen(tr, found, i18n.languages, "✅ " + tr.gettext("Saved.")))


@router.message(TextInput.label, F.text & ~F.text.startswith("/"))
async def on_label_typed(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    tr: Translator,
    i18n: Languages,
    clock: Clock,
) -> None:
    acting = await typed_acting(message, bot, uow, operators, state)
    if acting is None:
        await message.answer(not_yours_text(tr))
        return
    org, actor, data = acting
    lang = data["lang"]
    try:
        await save_book_button(uow, org, actor, clock.now(), language=lang, label=message.text or "")
    except InvalidText as error:
        cancel = button("✖️ " + tr.gettext("Cancel"), SettingsCb(action=SettingsAction.BUTTON, org=org))
        lines = ["⚠️ " + text_refusal(tr, error) + " " + tr.gettext("Nothing was saved."), label_prompt(tr, lang)]
        await message.answer("\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[cancel]]))
        return
    except (NotAllowed, NotFound):
        await state.set_state(None)
        await message.answer(not_yours_text(tr))
        return
    await state.set_state(None)
    found = await read_settings(uow, org, actor)
    text, markup = button_screen(tr, found, i18n.languages, "✅ " + tr.gettext("Saved."))
    await message.answer(text, reply_markup=markup)
