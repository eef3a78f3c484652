"""Texts as Telegram shows them: the HTML parse mode parsed into entities, lengths in UTF-16 code units (the unit of
entity offsets), the ``bot_command`` entities a client marks, and the trimming of surrounding blanks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# ---- HTML parse mode ---------------------------------------------------------------------------------------------

_TAG_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTRIBUTE = re.compile(r"\s+([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_END_TAG = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_ENTITY_TYPE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


@dataclass
class ParsedText:
    """A text after Telegram's entity parsing: what the user sees, its entities (UTF-16 offsets) and the errors."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _unescape(raw: str, errors: list[str], where: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "&":
            match = _ENTITY.match(raw, i)
            if match is None:
                errors.append(f"unescaped '&' at {where}{i} (write &amp;)")
                out.append(ch)
                i += 1
                continue
            named, dec, hexa = match.groups()
            code = 0 if named else int(dec) if dec else int(hexa, 16)
            if named:
                out.append(_NAMED[named])
            elif 0 < code <= 0x10FFFF:
                out.append(chr(code))
            else:
                errors.append(f"bad character reference {match.group(0)!r} at {where}{i}")
                out.append("\ufffd")
            i = match.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_html(text: str) -> ParsedText:
    """Telegram's ``parse_mode=HTML``: the visible text and entities, or the reasons Telegram would refuse it.

    Refused (400 "can't parse entities"): a ``<`` that does not open a supported tag, an ``&`` that is not
    ``&lt;``/``&gt;``/``&amp;``/``&quot;``/a numeric reference, unsupported or unclosed tags, crossed end tags, a span
    without ``class="tg-spoiler"``, ``<a>`` without ``href``, ``<tg-emoji>`` without ``emoji-id``.
    """
    errors: list[str] = []
    out: list[str] = []
    out_len = 0  # UTF-16 units written so far
    stack: list[tuple[str, int, dict[str, str]]] = []  # tag, start offset, attributes
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "<":
            end = _END_TAG.match(text, i)
            if end is not None:
                name = end.group(1).lower()
                if not stack:
                    errors.append(f"unexpected end tag </{name}> at position {i}")
                elif stack[-1][0] != name:
                    errors.append(f"unmatched end tag at position {i}: expected </{stack[-1][0]}>, found </{name}>")
                else:
                    tag, start, opened_with = stack.pop()
                    entity = _entity(tag, start, out_len - start, opened_with)
                    if entity is not None:
                        entities.append(entity)
                i = end.end()
                continue
            name_match = _TAG_NAME.match(text, i + 1)
            if name_match is None:
                errors.append(f"unescaped '<' at position {i} (write &lt;)")
                i += 1
                continue
            name = name_match.group(0).lower()
            j = name_match.end()
            attrs: dict[str, str] = {}
            while True:
                attr = _ATTRIBUTE.match(text, j)
                if attr is None:
                    break
                value = attr.group(2) or ""
                if value[:1] in ("'", '"'):
                    value = value[1:-1]
                attrs[attr.group(1).lower()] = _unescape(value, errors, f"attribute {attr.group(1)!r} position ")
                j = attr.end()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                errors.append(f"malformed tag <{name} at position {i} (unescaped '<' or unclosed tag; write &lt;)")
                i += 1
                continue
            if name not in ALLOWED_TAGS:
                errors.append(f"unsupported start tag <{name}> at position {i}")
            elif name == "span" and attrs.get("class") != "tg-spoiler":
                errors.append(f'<span> at position {i} must have class="tg-spoiler"')
            elif name == "a" and not attrs.get("href"):
                errors.append(f"<a> at position {i} has no href")
            elif name == "tg-emoji" and not attrs.get("emoji-id"):
                errors.append(f"<tg-emoji> at position {i} has no emoji-id")
            stack.append((name, out_len, attrs))
            i = j + 1
            continue
        if ch == "&":
            match = _ENTITY.match(text, i)
            if match is None:
                errors.append(f"unescaped '&' at position {i} (write &amp;)")
                piece = ch
                i += 1
            else:
                piece = _unescape(match.group(0), errors, "position ")
                i = match.end()
        elif ch == ">":
            piece = ch  # Telegram accepts a bare '>'
            i += 1
        else:
            piece = ch
            i += 1
        out.append(piece)
        out_len += utf16_len(piece)
    for tag, _start, _attrs in reversed(stack):
        errors.append(f"can't find end tag corresponding to start tag <{tag}>")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(out), entities, errors)


def _entity(tag: str, offset: int, length: int, attrs: dict[str, str]) -> dict[str, Any] | None:
    if length <= 0:
        return None
    kind = _ENTITY_TYPE.get(tag)
    if kind is None:
        return None
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if tag == "a":
        entity["url"] = attrs.get("href", "")
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "pre" and attrs.get("class", "").startswith("language-"):
        entity["language"] = attrs["class"].removeprefix("language-")
    return entity


def visible_text(text: str, parse_mode: str | None) -> ParsedText:
    """The text as the user will see it (HTML parsed; other modes are counted as written)."""
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        return parse_html(text)
    return ParsedText(text)


# ---- what a client and the server do to a text ------------------------------------------------------------------

COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


def command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities for every /command in ``text`` (UTF-16 offsets), as Telegram's clients mark them."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
        for m in COMMAND.finditer(text)
    ]


def trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram strips leading and trailing blanks from texts; entities move and shrink with them."""
    stripped = text.strip()
    if stripped == text:
        return text, list(entities)
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    out = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            out.append({**entity, "offset": start, "length": end - start})
    return stripped, out
