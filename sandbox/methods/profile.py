"""The bot itself: ``getMe`` and its command menus (``setMyCommands`` and friends, per scope and language)."""

from __future__ import annotations

import copy
import json
from typing import Any

from sandbox.methods.common import Method
from sandbox.state import WorldState


def _commands_key(p: dict[str, Any]) -> tuple[str, str]:
    scope = p.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), p.get("language_code") or ""


async def _get_me(world: WorldState, p: dict[str, Any]) -> Any:
    return world.bot.get_me(world.privacy_mode)


async def _set_my_commands(world: WorldState, p: dict[str, Any]) -> Any:
    world.bot.commands[_commands_key(p)] = copy.deepcopy(p["commands"])
    world.bump()
    return True


async def _get_my_commands(world: WorldState, p: dict[str, Any]) -> Any:
    return copy.deepcopy(world.bot.commands.get(_commands_key(p), []))


async def _delete_my_commands(world: WorldState, p: dict[str, Any]) -> Any:
    world.bot.commands.pop(_commands_key(p), None)
    world.bump()
    return True


METHODS: dict[str, Method] = {
    "getMe": _get_me,
    "setMyCommands": _set_my_commands,
    "getMyCommands": _get_my_commands,
    "deleteMyCommands": _delete_my_commands,
}
