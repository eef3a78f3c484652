"""What ``/offer`` reads and shows in the operator group (issue 15): the discount code and segment as operators type
them, each step's prompt, the preview in every language and the summary before sending.

A code: ``CODE 10%`` or ``CODE 5 EUR`` (a fixed amount), optionally followed by how many uses in all
(``SUMMER-10 10% 100``). A segment: ``all``, or any of ``region:<code>`` ``lang:<ru,de>`` ``hotel:<code>``
``category:<name>`` ``days:<N>`` (booked in the last N days); a part with several values (commas) matches any of them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from domain.model.discount_codes import MAX_PERCENT, CodeUnknown, normalize_code
from domain.model.offers import MAX_BOOKED_WITHIN_DAYS, MAX_DAYS, MAX_TEXT
from domain.rules.money import parse_amount
from domain.use_cases.offers import NewCode, SegmentSpec
from handlers.ui import CANCEL_STYLE, CONFIRM_STYLE, Translator, button

SEGMENT_KEYS = ("region", "lang", "hotel", "category", "days")
MAX_USES = 1_000_000


class OfferSendAction(enum.StrEnum):
    SEND = "y"
    DROP = "n"


class OfferSendCb(CallbackData, prefix="dof"):
    """Send (or drop) the offer the pressing operator composed: it waits in their conversation data."""

    action: OfferSendAction


class BadInput(ValueError):
    """``str(error)`` names what is wrong (a code), ``value`` the part that is."""

    def __init__(self, code: str, value: str = "") -> None:
        super().__init__(code)
        self.value = value


# ---- parsing ------------------------------------------------------------------------------------------------------


def parse_code(text: str) -> NewCode:
    """``CODE 10%`` / ``CODE 5 EUR`` [uses]."""
    tokens = text.split()
    if len(tokens) < 2:
        raise BadInput("code_usage")
    try:
        code = normalize_code(tokens[0])
    except CodeUnknown:
        raise BadInput("code_text", tokens[0]) from None
    rest = tokens[1:]
    percent = amount = currency = None
    if rest[0].endswith("%"):
        if not rest[0][:-1].isdigit() or not 0 < int(rest[0][:-1]) <= MAX_PERCENT:
            raise BadInput("code_percent", rest[0])
        percent, rest = int(rest[0][:-1]), rest[1:]
    else:
        if len(rest) < 2 or len(rest[1]) != 3 or not rest[1].isalpha():
            raise BadInput("code_usage")
        currency = rest[1].upper()
        try:
            amount = parse_amount(rest[0].replace(",", "."), currency)
        except ValueError:
            raise BadInput("code_amount", rest[0]) from None
        if amount <= 0:
            raise BadInput("code_amount", rest[0])
        rest = rest[2:]
    uses = None
    if rest:
        if len(rest) > 1 or not rest[0].isdigit() or not 0 < int(rest[0]) <= MAX_USES:
            raise BadInput("code_uses", " ".join(rest))
        uses = int(rest[0])
    return NewCode(code=code, percent=percent, amount_minor=amount, currency=currency, max_uses=uses)


def parse_days(text: str) -> int:
    value = text.strip()
    if not value.isdigit() or not 0 < int(value) <= MAX_DAYS:
        raise BadInput("days", value[:20])
    return int(value)


def parse_segment(text: str, languages: Sequence[str]) -> SegmentSpec:
    """``all`` or ``key:value[,value]`` parts; region and hotel codes are resolved (and refused) by the use case."""
    tokens = text.split()
    if [t.lower() for t in tokens] == ["all"]:
        return SegmentSpec()
    parts: dict[str, tuple[str, ...]] = {}
    for token in tokens:
        key, _sep, value = token.partition(":")
        key = key.lower()
        values = tuple(v for v in value.split(",") if v)
        if key not in SEGMENT_KEYS or not values or key in parts:
            raise BadInput("segment_part", token)
        parts[key] = values
    if not parts:
        raise BadInput("segment_usage")
    langs = tuple(v.lower() for v in parts.get("lang", ()))
    if unknown := [v for v in langs if v not in languages]:
        raise BadInput("segment_lang", unknown[0])
    days = None
    if "days" in parts:
        value = parts["days"][0]
        if len(parts["days"]) > 1 or not value.isdigit() or not 0 < int(value) <= MAX_BOOKED_WITHIN_DAYS:
            raise BadInput("segment_days", ",".join(parts["days"]))
        days = int(value)
    return SegmentSpec(
        region_codes=tuple(v.lower() for v in parts.get("region", ())),
        languages=langs,
        hotel_codes=tuple(v.lower() for v in parts.get("hotel", ())),
        categories=tuple(v.lower() for v in parts.get("category", ())),
        booked_within_days=days,
    )


# ---- prompts ------------------------------------------------------------------------------------------------------


def _code(text: str) -> str:
    return f"<code>{html.quote(text)}</code>"


def text_prompt(tr: Translator, language: str) -> str:
    _ = tr.gettext
    if language == "en":
        return "\n".join(
            [
                "🎁 <b>" + _("New offer") + "</b>",
                _("Send the offer's text in English (required, up to {limit} characters).").format(limit=MAX_TEXT),
                _("Then the other languages, the event, a discount code, how long it is valid and who gets it."),
                _("{cancel} stops at any step.").format(cancel="/cancel"),
            ]
        )
    return _("The text in {language}? Send it, or {skip}: those guests read the English one.").format(
        language=tr.language_in_mine(language), skip="/skip"
    )


def event_prompt(tr: Translator) -> str:
    return tr.gettext("Is the offer about an event? Send its code (as in {example}), or {skip}.").format(
        example=_code("/session islands-cruise …"), skip="/skip"
    )


def code_prompt(tr: Translator) -> str:
    _ = tr.gettext
    return "\n".join(
        [
            _("A discount code with it? Send the code and what it takes off, or {skip}.").format(skip="/skip"),
            _("For example: {percent} or {amount}; add how many uses in all: {uses}.").format(
                percent=_code("AUTUMN-10 10%"), amount=_code("KIHNU5 5 EUR"), uses=_code("AUTUMN-10 10% 100")
            ),
            _("Each guest can use it once."),
        ]
    )


def days_prompt(tr: Translator) -> str:
    return tr.gettext("For how many days is the offer valid (1–{max})? The code is valid as long.").format(max=MAX_DAYS)


def segment_prompt(tr: Translator) -> str:
    _ = tr.gettext
    return "\n".join(
        [
            _("Who gets it? Send {all}, or any of these parts:").format(all=_code("all")),
            _code("region:tallinn,tartu") + " — " + _("the region they browse or their hotel is in"),
            _code("lang:ru,de") + " — " + _("their language"),
            _code("hotel:<code>") + " — " + _("their hotel"),
            _code("category:sea") + " — " + _("they booked an event of this category before"),
            _code("days:30") + " — " + _("they booked something in the last 30 days"),
            _("Guests who turned offers off or blocked the bot never get it."),
        ]
    )


def bad_input_text(tr: Translator, error: BadInput) -> str:
    _ = tr.gettext
    value = _code(error.value[:64])
    texts = {
        "code_usage": _("Write the code and its discount, for example {example}.").format(
            example=_code("AUTUMN-10 10%")
        ),
        "code_text": _("{value} cannot be a code: 3 to 32 letters A–Z, digits or dashes.").format(value=value),
        "code_percent": _("{value} is not a percentage from 1 to {max}.").format(value=value, max=MAX_PERCENT),
        "code_amount": _("{value} is not an amount.").format(value=value),
        "code_uses": _("{value} is not a number of uses.").format(value=value),
        "days": _("Send a number of days from 1 to {max}.").format(max=MAX_DAYS),
        "segment_part": _("I do not understand {value}.").format(value=value),
        "segment_usage": _("Send {all} or at least one part.").format(all=_code("all")),
        "segment_lang": _("We have no language {value}.").format(value=value),
        "segment_days": _("{value} is not a number of days from 1 to {max}.").format(
            value=value, max=MAX_BOOKED_WITHIN_DAYS
        ),
    }
    return "⚠️ " + texts.get(str(error), _("That did not work; please try again."))


@dataclass(frozen=True, slots=True)
class Summary:
    reach: int
    languages: list[str]  # with their own text
    event_title: str | None
    code: str | None
    days: int
    segment: str  # as the operator typed it


def summary_screen(tr: Translator, summary: Summary) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    n = summary.reach
    lines = [
        "🎁 <b>" + _("Send this offer?") + "</b>",
        _("Texts: {languages}").format(languages=tr.list([tr.language_in_mine(x) for x in summary.languages])),
        _("Event: {event}").format(event=html.quote(summary.event_title) if summary.event_title else "—"),
        _("Code: {code}").format(code=_code(summary.code) if summary.code else "—"),
        tr.ngettext("Valid for {n} day", "Valid for {n} days", summary.days).format(n=summary.days),
        _("Segment: {segment}").format(segment=_code(summary.segment)),
        "",
        "👥 " + tr.ngettext("It reaches {n} guest right now.", "It reaches {n} guests right now.", n).format(n=n),
        _("They get it in their language, a few per second, after the booking messages."),
    ]
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(
                    "📨 " + tr.ngettext("Send to {n} guest", "Send to {n} guests", n).format(n=n),
                    OfferSendCb(action=OfferSendAction.SEND),
                    CONFIRM_STYLE,
                ),
                button("✖️ " + _("Cancel"), OfferSendCb(action=OfferSendAction.DROP), CANCEL_STYLE),
            ]
        ]
    )
    return "\n".join(lines), markup
