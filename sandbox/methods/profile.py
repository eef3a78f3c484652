"""The bot itself: ``getMe``, its command menus (``setMyCommands`` and friends, per scope and language) and its
descriptions (``setMyDescription`` / ``setMyShortDescription``, per language). Lengths and command names are checked
against the spec before a method runs (sandbox/spec.py); a language code and a chat scope's chat are checked here, as
Telegram does."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.common import Method, target_chat
from sandbox.state import WorldState

_LANGUAGE = re.compile(r"[a-z]{2}")
_CHAT_SCOPES = ("chat", "chat_administrators", "chat_member")


def _language(p: dict[str, Any]) -> str:
    """The request's language code: empty, or two letters (ISO 639-1)."""
    language = p.get("language_code") or ""
    if language and not _LANGUAGE.fullmatch(language):
        raise bad_request("invalid language code specified")
    return str(language)


def _commands_key(world: WorldState, p: dict[str, Any]) -> tuple[str, str]:
    scope = p.get("scope") or {"type": "default"}
    if scope.get("type") in _CHAT_SCOPES:
        target_chat(world, scope.get("chat_id"))  # "chat not found" for a chat the bot does not know
    return json.dumps(scope, sort_keys=True), _language(p)


async def _get_me(world: WorldState, p: dict[str, Any]) -> Any:
    return world.bot.get_me(world.privacy_mode)


async def _set_my_commands(world: WorldState, p: dict[str, Any]) -> Any:
    world.bot.commands[_commands_key(world, p)] = copy.deepcopy(p["commands"])
    world.bump()
    return True


async def _get_my_commands(world: WorldState, p: dict[str, Any]) -> Any:
    return copy.deepcopy(world.bot.commands.get(_commands_key(world, p), []))


async def _delete_my_commands(world: WorldState, p: dict[str, Any]) -> Any:
    world.bot.commands.pop(_commands_key(world, p), None)
    world.bump()
    return True


def _set_text(texts: dict[str, str], language: str, text: str) -> None:
    """An empty text removes the language's own (Telegram: "pass an empty string to remove")."""
    if text:
        texts[language] = text
    else:
        texts.pop(language, None)


async def _set_my_description(world: WorldState, p: dict[str, Any]) -> Any:
    _set_text(world.bot.descriptions, _language(p), p.get("description") or "")
    world.bump()
    return True


async def _get_my_description(world: WorldState, p: dict[str, Any]) -> Any:
    texts = world.bot.descriptions
    return {"description": texts.get(_language(p), texts.get("", ""))}


async def _set_my_short_description(world: WorldState, p: dict[str, Any]) -> Any:
    _set_text(world.bot.short_descriptions, _language(p), p.get("short_description") or "")
    world.bump()
    return True


async def _get_my_short_description(world: WorldState, p: dict[str, Any]) -> Any:
    texts = world.bot.short_descriptions
    return {"short_description": texts.get(_language(p), texts.get("", ""))}


METHODS: dict[str, Method] = {
    "getMe": _get_me,
    "setMyCommands": _set_my_commands,
    "getMyCommands": _get_my_commands,
    "deleteMyCommands": _delete_my_commands,
    "setMyDescription": _set_my_description,
    "getMyDescription": _get_my_description,
    "setMyShortDescription": _set_my_short_description,
    "getMyShortDescription": _get_my_short_description,
}
