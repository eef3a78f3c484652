"""The Bot API as data: validate every request the bot makes against ``bot-api.json`` and Telegram's limits.

The spec is a copy of ``shared/telegram/bot-api.json`` (Bot API 10.1) kept beside this module, so the emulator and
the tests have it on any machine (``TRIPDESK_BOT_API_SPEC`` points elsewhere; a test checks the copy against
``shared/`` when that is present). It is never optional: without it :func:`load_spec` raises.

What :meth:`BotApiSpec.validate_request` checks (each problem is one line naming the path, e.g.
``sendMessage.reply_markup.inline_keyboard[0][1].callback_data: 65 bytes, must be 1-64 bytes``):

- the method exists; required fields are present (also the conditional ones: "Required if inline_message_id is not
  specified", "required if rich_message isn't specified"); no unknown fields;
- types: Integer, Float, String, Boolean, InputFile, ``Array of X``, nested objects recursively (required, unknown,
  types), abstract types through their subtypes (``BotCommandScope`` -> ``BotCommandScopeAllPrivateChats``, picked by
  the ``type`` discriminator), and unions (``InputFile or String``, ``Integer or String``, the four reply markups);
- the limits written in the field descriptions: ``1-64 bytes`` (UTF-8), ``1-4096 characters after entities parsing``,
  ``0-1024`` captions, ``0-200`` callback answers, ``1-256`` command descriptions, list sizes, numeric ranges;
- texts with a parse mode: the parse mode is one Telegram knows, and for HTML the markup is well formed with only
  Telegram's tags (:func:`sandbox.text.parse_html`); the length limits count the text after the markup is parsed;
- rules the field types cannot express: ``BotCommand.command`` is ``[a-z0-9_]{1,32}``; an ``InlineKeyboardButton``
  has exactly one action field (``callback_data``, ``url``, ...).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sandbox.text import visible_text

SPEC_ENV = "TRIPDESK_BOT_API_SPEC"
DEFAULT_SPEC_PATH = Path(__file__).resolve().with_name("bot-api.json")

PARSE_MODES = ("HTML", "MarkdownV2", "Markdown")
_PARSE_MODES_LOWER = frozenset(m.lower() for m in PARSE_MODES)  # Telegram reads the parse mode case-insensitively

# InlineKeyboardButton: "Exactly one of the fields other than text, icon_custom_emoji_id, and style must be used".
BUTTON_LABEL_FIELDS = frozenset({"text", "icon_custom_emoji_id", "style"})
BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")

_STRING_LIMIT = re.compile(r"(\d+)-(\d+) (characters|bytes)")
_AFTER_PARSING = re.compile(r"after entit(?:y|ies) parsing")
_ARRAY_LIMIT = re.compile(r"(?:list of|List of|include) (\d+)-(\d+)\b")
_NUMBER_LIMIT = re.compile(r"(?:^|[;,]|between)\s*(\d+)-(\d+)(?![\d*])")
_REQUIRED_IF_ABSENT = re.compile(
    r"[Rr]equired if ([a-z_]+(?: and [a-z_]+)*) (?:is|are) not specified|"
    r"[Rr]equired if ([a-z_]+) isn't specified"
)
_REQUIRED_IF_PRESENT = re.compile(r"[Rr]equired if ([a-z_]+) is specified")
_DISCRIMINATOR = re.compile(r"(?:must be|always) [\"“]?([a-z0-9_]+)[\"”]?")


class SpecNotFound(RuntimeError):
    """The Bot API spec is missing: handler tests must not run without validation."""


def spec_path() -> Path:
    configured = os.environ.get(SPEC_ENV)
    path = Path(configured) if configured else DEFAULT_SPEC_PATH
    if not path.is_file():
        where = f"{SPEC_ENV}={configured!r}" if configured else f"the default path {path}"
        raise SpecNotFound(
            f"Bot API spec not found at {where}: set {SPEC_ENV} to the path of bot-api.json "
            "(shared/telegram/bot-api.json); handler tests refuse to run without request validation"
        )
    return path


@cache
def load_spec(path: str | None = None) -> BotApiSpec:
    source = Path(path) if path else spec_path()
    with open(source, encoding="utf-8") as fp:
        return BotApiSpec(json.load(fp))


def validate_request(method: str, params: dict[str, Any]) -> list[str]:
    """Every way ``method(**params)`` would be refused by Telegram (or break its limits); ``[]`` when valid."""
    return load_spec().validate_request(method, params)


# ---- the spec ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecField:
    """A field of a method or type, with the limits its description states, compiled once."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str
    string_limit: tuple[int, int, str] | None  # min, max, "characters" | "bytes"
    after_parsing: bool
    array_limit: tuple[int, int] | None
    number_limit: tuple[float, float] | None
    required_if_absent: tuple[str, ...]  # required unless all of these are present
    required_if_present: str | None


def _compile_field(raw: dict[str, Any]) -> SpecField:
    types = tuple(raw["types"])
    desc = raw.get("description", "")
    string_limit = after = array_limit = number_limit = None
    if "String" in types and (m := _STRING_LIMIT.search(desc)):
        string_limit = (int(m.group(1)), int(m.group(2)), m.group(3))
        after = bool(_AFTER_PARSING.search(desc))
    if all(t.startswith("Array of ") for t in types) and (m := _ARRAY_LIMIT.search(desc)):
        array_limit = (int(m.group(1)), int(m.group(2)))
    if set(types) <= {"Integer", "Float"} and (m := _NUMBER_LIMIT.search(desc)):
        number_limit = (float(m.group(1)), float(m.group(2)))
    absent: tuple[str, ...] = ()
    if m := _REQUIRED_IF_ABSENT.search(desc):
        absent = tuple((m.group(1) or m.group(2)).split(" and "))
    present = m.group(1) if (m := _REQUIRED_IF_PRESENT.search(desc)) else None
    return SpecField(
        raw["name"],
        types,
        bool(raw.get("required")),
        desc,
        string_limit,
        bool(after),
        array_limit,
        number_limit,
        absent,
        present,
    )


class BotApiSpec:
    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data.get("version", "?")
        self.methods: dict[str, dict[str, Any]] = data["methods"]
        self.types: dict[str, dict[str, Any]] = data["types"]
        self._fields: dict[tuple[str, str], dict[str, SpecField]] = {}

    # -- lookups -------------------------------------------------------------------------------------------------

    def fields(self, kind: str, name: str) -> dict[str, SpecField]:
        key = (kind, name)
        if key not in self._fields:
            source = self.methods if kind == "method" else self.types
            self._fields[key] = {f["name"]: _compile_field(f) for f in source[name].get("fields", [])}
        return self._fields[key]

    def discriminator(self, type_name: str) -> str | None:
        """The fixed value of a subtype's ``type`` (or ``source``/``status``) field, e.g. ``all_private_chats``."""
        for key in ("type", "source", "status"):
            fld = self.fields("type", type_name).get(key)
            if fld is not None and (m := _DISCRIMINATOR.search(fld.description)):
                return m.group(1)
        return None

    # -- validation ----------------------------------------------------------------------------------------------

    def validate_request(self, method: str, params: dict[str, Any]) -> list[str]:
        if method not in self.methods:
            close = [m for m in self.methods if m.lower() == method.lower()]
            hint = f" (did you mean {close[0]}?)" if close else ""
            return [f"{method}: no such method in Bot API {self.version}{hint}"]
        if not isinstance(params, dict):
            return [f"{method}: parameters must be an object, got {type(params).__name__}"]
        return self._check_object(params, "method", method, method)

    def validate_object(self, types: Iterable[str], value: Any, path: str = "result") -> list[str]:
        """Every way ``value`` (e.g. a method's result, ``types`` = its ``returns``) breaks the spec's types."""
        return self._check_union(value, tuple(types), path)

    def _check_object(self, value: dict[str, Any], kind: str, name: str, path: str) -> list[str]:
        fields = self.fields(kind, name)
        present = {k for k, v in value.items() if v is not None}
        errors: list[str] = []
        conditional: list[str] = []  # alternatives (text or rich_message; chat_id+message_id or inline_message_id)
        for fld in fields.values():
            if fld.name in present:
                continue
            if fld.required:
                errors.append(f"{path}: missing required field {fld.name!r}")
            elif fld.required_if_absent and not all(other in present for other in fld.required_if_absent):
                conditional.append(f"{fld.name!r} (required unless {' and '.join(fld.required_if_absent)} given)")
            elif fld.required_if_present and fld.required_if_present in present:
                conditional.append(f"{fld.name!r} (required with {fld.required_if_present})")
        if conditional:
            errors.append(f"{path}: missing field {'; '.join(conditional)}")
        errors.extend(f"{path}: unknown field {key!r} for {name}" for key in value if key not in fields)
        for key, item in value.items():
            if key not in fields or item is None:
                continue
            fld = fields[key]
            sub = f"{path}.{key}"
            type_errors = self._check_union(item, fld.types, sub)
            errors.extend(type_errors)
            if not type_errors:
                errors.extend(self._check_limits(item, fld, value, sub))
        if kind == "type":
            errors.extend(self._check_type_rules(value, name, path))
        return errors

    def _check_union(self, value: Any, types: Iterable[str], path: str) -> list[str]:
        types = tuple(types)
        results = [(t, self._check_type(value, t, path)) for t in types]
        for _t, errs in results:
            if not errs:
                return []
        if len(results) == 1:
            return results[0][1]
        shaped = [(t, errs) for t, errs in results if self._shape_fits(value, t)]
        if not shaped:
            return [f"{path}: expected {' or '.join(types)}, got {_describe(value)}"]
        return min(shaped, key=lambda r: len(r[1]))[1]

    def _shape_fits(self, value: Any, type_name: str) -> bool:
        if type_name.startswith("Array of "):
            return isinstance(value, list)
        if type_name in ("Integer", "Float", "String", "Boolean", "True", "InputFile"):
            return not self._check_type(value, type_name, "")
        return isinstance(value, dict)

    def _check_type(self, value: Any, type_name: str, path: str) -> list[str]:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{path}: expected {type_name}, got {_describe(value)}"]
            inner = type_name.removeprefix("Array of ")
            errors: list[str] = []
            for index, item in enumerate(value):
                errors.extend(self._check_type(item, inner, f"{path}[{index}]"))
            return errors
        ok = {
            "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "String": lambda v: isinstance(v, str),
            "Boolean": lambda v: isinstance(v, bool),
            "True": lambda v: v is True,
            "InputFile": _is_input_file,
        }.get(type_name)
        if ok is not None:
            return [] if ok(value) else [f"{path}: expected {type_name}, got {_describe(value)}"]
        spec = self.types.get(type_name)
        if spec is None:
            return [f"{path}: the spec has no type {type_name!r}"]
        subtypes = spec.get("subtypes")
        if subtypes and any(s not in self.types for s in subtypes):
            return self._check_union(value, subtypes, path)  # e.g. RichText: String, Array of RichText, objects
        if not isinstance(value, dict):
            return [f"{path}: expected {type_name} (an object), got {_describe(value)}"]
        if subtypes:
            tag = value.get("type", value.get("source", value.get("status")))
            tags = {s: self.discriminator(s) for s in subtypes}
            chosen = [s for s in subtypes if tag is not None and tags[s] == tag]
            if chosen:  # e.g. InlineQueryResultAudio and InlineQueryResultCachedAudio share type "audio"
                found = [self._check_type(value, s, path) for s in chosen]
                return [] if any(not errs for errs in found) else min(found, key=len)
            if all(tags.values()):
                known = ", ".join(sorted(str(t) for t in tags.values()))
                return [f"{path}: {type_name} with unknown type {tag!r} (one of {known})"]
            results = [(s, self._check_type(value, s, path)) for s in subtypes]
            if any(not errs for _s, errs in results):
                return []
            return [f"{path}: matches no subtype of {type_name} ({', '.join(subtypes)}); type={tag!r}"]
        if not spec.get("fields"):
            return []  # a placeholder such as CallbackGame
        return self._check_object(value, "type", type_name, path)

    def _check_limits(self, value: Any, fld: SpecField, siblings: dict[str, Any], path: str) -> list[str]:
        errors: list[str] = []
        if fld.name.endswith("parse_mode") and isinstance(value, str) and value.lower() not in _PARSE_MODES_LOWER:
            errors.append(f"{path}: unsupported parse mode {value!r} (one of {', '.join(PARSE_MODES)})")
        if fld.string_limit and isinstance(value, str):
            low, high, unit = fld.string_limit
            shown = value
            if fld.after_parsing:
                mode = siblings.get(f"{fld.name}_parse_mode", siblings.get("parse_mode"))
                entities = siblings.get(f"{fld.name}_entities") or siblings.get("entities")
                if entities and fld.name in ("text", "message_text", "caption"):
                    mode = None
                parsed = visible_text(value, mode if isinstance(mode, str) else None)
                errors.extend(f"{path}: can't parse entities ({mode}): {e}" for e in parsed.errors)
                shown = parsed.text.strip()  # Telegram trims the text before counting
            size = len(shown.encode("utf-8")) if unit == "bytes" else len(shown)
            if not low <= size <= high:
                what = "after entity parsing " if fld.after_parsing else ""
                errors.append(f"{path}: {size} {unit} {what}- must be {low}-{high} {unit}")
        if fld.array_limit and isinstance(value, list):
            low, high = fld.array_limit
            if not low <= len(value) <= high:
                errors.append(f"{path}: {len(value)} items - must be {low}-{high}")
        if fld.number_limit and isinstance(value, int | float) and not isinstance(value, bool):
            least, most = fld.number_limit
            if not least <= value <= most:
                errors.append(f"{path}: {value} - must be {least:g}-{most:g}")
        return errors

    def _check_type_rules(self, value: dict[str, Any], name: str, path: str) -> list[str]:
        errors: list[str] = []
        if name == "InlineKeyboardButton":
            known = self.fields("type", name)
            actions = [k for k, v in value.items() if k in known and k not in BUTTON_LABEL_FIELDS and v is not None]
            if len(actions) != 1:
                found = ", ".join(actions) if actions else "none"
                errors.append(
                    f"{path}: an inline button needs exactly one action field (callback_data, url, ...); found {found}"
                )
        elif name == "BotCommand":
            command = value.get("command")
            if isinstance(command, str) and not BOT_COMMAND.fullmatch(command):
                errors.append(f"{path}.command: {command!r} - must be 1-32 of a-z, 0-9 and _")
        return errors


def _is_input_file(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | list | dict):
        return False
    if getattr(value, "sandbox_upload", False):  # a file the emulator received (it does not import aiogram)
        return True
    from aiogram.types import InputFile

    return isinstance(value, InputFile)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"String {shown!r}"
    if isinstance(value, bool):
        return f"Boolean {value}"
    if isinstance(value, int):
        return f"Integer {value}"
    if isinstance(value, float):
        return f"Float {value}"
    if isinstance(value, list):
        return f"Array of {len(value)}"
    if isinstance(value, dict):
        return f"object with {sorted(value)}"
    return type(value).__name__
