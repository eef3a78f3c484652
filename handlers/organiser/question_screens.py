"""The screens of ``/questions`` (handlers/organiser/questions.py): the list, one question, the prompts for typed
values, removing one; pure functions of what they show."""

from __future__ import annotations

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.errors import NotAllowed
from domain.model.catalog import Organiser, Question, QuestionKind, localized
from domain.use_cases.organiser_questions import (
    CHOICE_TEXT_MAX,
    MAX_QUESTIONS,
    QUESTION_TEXT_MAX,
    QuestionRefused,
    question_key,
)
from handlers.organiser.acting import not_yours_text
from handlers.organiser.callbacks import OrgQuestionAction, OrgQuestionCb
from handlers.ui import CANCEL_STYLE, Translator, button, cut

TITLE_ON_BUTTON = 40


def kind_line(tr: Translator, question: Question) -> str:
    _ = tr.gettext
    if question.kind is QuestionKind.CHOICE:
        labels = ", ".join(localized(c.text, tr.language) for c in question.choices)
        kind = _("choices: {choices}").format(choices=html.quote(labels))
    else:
        kind = _("free text, up to {n} characters").format(n=question.max_length)
    need = _("required") if question.required else _("optional")
    return f"{kind} · {need}"


def list_screen(tr: Translator, organiser: Organiser) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    lines = [
        "❓ <b>" + _("Booking questions of {name}").format(name=html.quote(organiser.name)) + "</b>",
        _(
            "Every booking of your events asks these, in this order. A change applies to the next booking; orders "
            "keep the answers they gave."
        ),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if not organiser.questions:
        lines.append(_("No questions: bookings ask nothing. Add one with the buttons below."))
    for n, question in enumerate(organiser.questions, 1):
        title = localized(question.text, tr.language)
        lines.append(f"{n}. {html.quote(title)}\n    <i>{kind_line(tr, question)}</i>")
        data = OrgQuestionCb(action=OrgQuestionAction.OPEN, org=organiser.id, q=question_key(question.id))
        rows.append([button(f"{n}. {cut(title, TITLE_ON_BUTTON)}", data)])
    if len(organiser.questions) < MAX_QUESTIONS:
        rows.append(
            [
                button("➕ " + _("Free text"), OrgQuestionCb(action=OrgQuestionAction.ADD_TEXT, org=organiser.id)),
                button("➕ " + _("With choices"), OrgQuestionCb(action=OrgQuestionAction.ADD_CHOICE, org=organiser.id)),
            ]
        )
    else:
        lines += ["", _("That is the most questions a booking asks ({n}).").format(n=MAX_QUESTIONS)]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def question_screen(
    tr: Translator, organiser: Organiser, question: Question, languages: tuple[str, ...], note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    key = question_key(question.id)

    def cb(action: OrgQuestionAction, lang: str = "") -> OrgQuestionCb:
        return OrgQuestionCb(action=action, org=organiser.id, q=key, lang=lang)

    lines = [f"❓ <b>{html.quote(localized(question.text, tr.language))}</b>", f"<i>{kind_line(tr, question)}</i>", ""]
    for lang in languages:
        own = question.text.get(lang)
        shown = html.quote(own) if own else "— " + _("(the default wording is shown)")
        lines.append(f"{lang}: {shown}")
        if question.kind is QuestionKind.CHOICE:
            labels = [c.text.get(lang) or "—" for c in question.choices]
            lines.append("    " + html.quote(" / ".join(labels)))
    if note:
        lines += ["", note]
    rows = [[button("✏️ " + lang, cb(OrgQuestionAction.WORDING, lang)) for lang in languages]]
    if question.kind is QuestionKind.CHOICE:
        rows.append([button("🔘 " + lang, cb(OrgQuestionAction.CHOICES, lang)) for lang in languages])
    flip = _("Make it optional") if question.required else _("Make it required")
    rows.append([button(flip, cb(OrgQuestionAction.REQUIRED))])
    if question.kind is QuestionKind.TEXT:
        rows.append([button("📏 " + _("Longest answer"), cb(OrgQuestionAction.LIMIT))])
    rows.append(
        [
            button("⬆️", cb(OrgQuestionAction.UP)),
            button("⬇️", cb(OrgQuestionAction.DOWN)),
            button("🗑 " + _("Remove"), cb(OrgQuestionAction.REMOVE), style=CANCEL_STYLE),
        ]
    )
    rows.append([button("⬅️ " + _("All questions"), OrgQuestionCb(action=OrgQuestionAction.LIST, org=organiser.id))])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def remove_screen(tr: Translator, organiser: Organiser, question: Question) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    key = question_key(question.id)
    text = "\n".join(
        [
            "🗑 " + _("Remove this question?"),
            f"<b>{html.quote(localized(question.text, tr.language))}</b>",
            "",
            _("New bookings will not ask it; orders placed before keep the answers they gave."),
        ]
    )
    rows = [
        [
            button(
                "🗑 " + _("Remove"),
                OrgQuestionCb(action=OrgQuestionAction.REMOVE_YES, org=organiser.id, q=key),
                style=CANCEL_STYLE,
            ),
            button("↩️ " + _("Back"), OrgQuestionCb(action=OrgQuestionAction.OPEN, org=organiser.id, q=key)),
        ]
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def wording_prompt(tr: Translator, language: str, new: bool) -> str:
    _ = tr.gettext
    lines = [
        "✏️ "
        + _("Send the question in {language}, at most {n} characters.").format(
            language=tr.language_in_mine(language), n=QUESTION_TEXT_MAX
        )
    ]
    if new:
        lines.append(_("You can add its other languages afterwards."))
    else:
        lines.append(_("Send a single - to remove this language (the default wording is shown instead)."))
    return "\n".join(lines)


def choice_question_prompt(tr: Translator, language: str) -> str:
    _ = tr.gettext
    return "\n".join(
        [
            "✏️ "
            + _("Send the question in {language} on the first line and one choice per line below it.").format(
                language=tr.language_in_mine(language)
            ),
            _("2 to 10 choices, each at most {n} characters. For example:").format(n=CHOICE_TEXT_MAX),
            "<code>" + html.quote(_("Which lunch would you like?\nFish\nVegetarian")) + "</code>",
        ]
    )


def choices_prompt(tr: Translator, question: Question, language: str) -> str:
    _ = tr.gettext
    now = "\n".join(localized(c.text, language) for c in question.choices)
    return "\n".join(
        [
            "🔘 "
            + _("Send the {n} choices in {language}, one per line, in this order:").format(
                n=len(question.choices), language=tr.language_in_mine(language)
            ),
            f"<code>{html.quote(now)}</code>",
        ]
    )


def limit_prompt(tr: Translator, question: Question) -> str:
    return "📏 " + tr.gettext(
        "Send the longest answer allowed, in characters: a number from 1 to 1000 (now {n})."
    ).format(n=question.max_length)


def refusal_text(tr: Translator, error: Exception) -> str:
    _ = tr.gettext
    if isinstance(error, NotAllowed):
        return not_yours_text(tr)
    if not isinstance(error, QuestionRefused):
        return _("This question no longer exists.")
    data = error.data
    reason = data.get("reason")
    if reason == "empty":
        return _("The text is empty.")
    if reason == "too_long":
        return _("That is too long: at most {limit} characters.").format(limit=data.get("limit"))
    if reason == "choices":
        return _("A question with choices has 2 to 10 of them, one per line.")
    if reason == "choice_too_long":
        return _("A choice is at most {limit} characters (it is a button).").format(limit=data.get("limit"))
    if reason == "same_choices":
        return _("Two choices are the same.")
    if reason == "choices_count":
        return _("Send exactly {n} choices, one per line, in the same order.").format(n=data.get("count"))
    if reason == "bad_limit":
        return _("The longest answer is a number from 1 to 1000.")
    if reason == "too_many":
        return _("That is the most questions a booking asks ({n}).").format(n=data.get("limit"))
    if reason == "last_language":
        return _("That is the question's only language: change it instead of removing it.")
    return _("That does not apply to this question.")
