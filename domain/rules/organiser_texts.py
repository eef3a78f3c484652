"""What an organiser types into ``/settings``, checked: durations within their setting's bounds, lists of reminder
offsets, texts with placeholders and Telegram's HTML, the Book button's label.

Every refusal is a :class:`~domain.model.organiser_settings.InvalidSetting` or
:class:`~domain.model.organiser_settings.InvalidText` with a reason code; the handlers word it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import timedelta
from html.parser import HTMLParser

from domain.model.organiser_settings import (
    BOOK_TEXT_MAX,
    BOUNDS,
    PLACEHOLDER_USES_MAX,
    PLACEHOLDERS,
    REMINDERS_MAX,
    TEXT_MAX,
    InvalidSetting,
    InvalidText,
    Setting,
)
from domain.rules.durations import parse_duration

# The tags Telegram's HTML parse mode knows (https://core.telegram.org/bots/api#html-style)
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a", "blockquote", "tg-spoiler"}
)
_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})
_NONE = frozenset({"-", "none", "no", "off", "0"})
_SEPARATORS = re.compile(r"[,;\s]+")


def parse_duration_setting(setting: Setting, raw: str) -> timedelta:
    """A duration typed for ``setting`` (``15m``, ``2h``, ``1d``, ``1h30m``; a bare number means minutes)."""
    text = raw.strip().lower()
    if text.isdigit():
        text += "m"
    try:
        value = parse_duration(text)
    except ValueError:
        raise InvalidSetting(setting=setting.value, reason="format") from None
    bounds = BOUNDS[setting]
    if value < bounds.least:
        raise InvalidSetting(setting=setting.value, reason="too_short", least=bounds.least, most=bounds.most)
    if value > bounds.most:
        raise InvalidSetting(setting=setting.value, reason="too_long", least=bounds.least, most=bounds.most)
    return value


def parse_reminders(raw: str) -> tuple[timedelta, ...]:
    """Reminder offsets before a session (``24h, 2h``), longest first; ``-`` or ``none`` for no reminders."""
    text = raw.strip().lower()
    if text in _NONE:
        return ()
    parts = [part for part in _SEPARATORS.split(text) if part]
    if len(parts) > REMINDERS_MAX:
        raise InvalidSetting(setting=Setting.REMINDERS.value, reason="too_many", most=REMINDERS_MAX)
    offsets = [parse_duration_setting(Setting.REMINDERS, part) for part in parts]
    if len(set(offsets)) != len(offsets):
        raise InvalidSetting(setting=Setting.REMINDERS.value, reason="repeated")
    return tuple(sorted(offsets, reverse=True))


class _TelegramHtml(HTMLParser):
    """Finds what Telegram's HTML parse mode would refuse: an unknown or unclosed tag, a stray ``<``, ``>`` or
    ``&``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problem: str | None = None

    def _fail(self, detail: str) -> None:
        if self.problem is None:
            self.problem = detail

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self._fail(f"<{tag}>")
            return
        if tag == "a" and not any(name == "href" and value for name, value in attrs):
            self._fail("<a>")
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f"<{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self._fail(f"</{tag}>")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        for mark in "<>&":
            if mark in data:
                self._fail(mark)

    def handle_entityref(self, name: str) -> None:
        if name not in _ENTITIES:
            self._fail(f"&{name};")

    def handle_comment(self, data: str) -> None:
        self._fail("<!--")

    def handle_decl(self, decl: str) -> None:
        self._fail("<!")

    def unknown_decl(self, data: str) -> None:
        self._fail("<!")

    def handle_pi(self, data: str) -> None:
        self._fail("<?")


def html_problem(text: str) -> str | None:
    """What in ``text`` Telegram's HTML would refuse (the tag or character), or None when it is fine."""
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.problem is None and parser.rawdata:  # an unfinished tag such as ``<b`` stays unparsed
        parser.problem = parser.rawdata[:20]
    if parser.problem is None and parser.open:
        parser.problem = f"<{parser.open[-1]}>"
    return parser.problem


def check_template(raw: str, limit: int = TEXT_MAX) -> str:
    """An organiser's text: trimmed, within ``limit``, only the known placeholders, HTML Telegram accepts."""
    text = raw.strip()
    if not text:
        raise InvalidText(reason="empty")
    if len(text) > limit:
        raise InvalidText(reason="too_long", limit=limit, length=len(text))
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        raise InvalidText(reason="braces") from None
    uses: dict[str, int] = {}
    for _literal, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise InvalidText(reason="placeholder", name=name)
        if spec or conversion:
            raise InvalidText(reason="placeholder", name=f"{name}{'!' + conversion if conversion else ''}:{spec}")
        uses[name] = uses.get(name, 0) + 1
        if uses[name] > PLACEHOLDER_USES_MAX:
            raise InvalidText(reason="repeated", name=name, limit=PLACEHOLDER_USES_MAX)
    if (problem := html_problem(fill_template(text, dict.fromkeys(PLACEHOLDERS, "x")))) is not None:
        raise InvalidText(reason="html", detail=problem)
    return text


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """The text with its placeholders filled (``values`` already quoted for HTML)."""
    return template.format_map({name: values.get(name, "") for name in PLACEHOLDERS})


def check_book_label(raw: str) -> str:
    """The Book button's label: one line, plain text, up to :data:`BOOK_TEXT_MAX` characters."""
    text = " ".join(raw.split())
    if not text:
        raise InvalidText(reason="empty")
    if len(text) > BOOK_TEXT_MAX:
        raise InvalidText(reason="too_long", limit=BOOK_TEXT_MAX, length=len(text))
    return text
