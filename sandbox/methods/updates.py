"""How updates reach the bot: ``getUpdates`` (long polling, one poller at a time) or a webhook (set, deleted,
described; delivering to it is :mod:`sandbox.webhook`'s)."""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Callable
from typing import Any

from sandbox.errors import CONFLICT_POLLING, CONFLICT_WEBHOOK, ApiError, bad_request
from sandbox.methods.common import Method
from sandbox.model import Webhook
from sandbox.state import WorldState

MAX_POLL_TIMEOUT = 50


async def get_updates(
    world: WorldState, params: dict[str, Any], alive: Callable[[], bool] | None
) -> list[dict[str, Any]]:
    """``getUpdates``: confirm by ``offset``, then wait up to ``timeout`` s for updates; ``alive`` tells whether
    the caller is still connected (a second poller while the first one waits gets 409, as in Telegram)."""
    bot = world.bot
    if bot.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK)
    if world.poller is not None and world.poller():
        raise ApiError(409, CONFLICT_POLLING)
    me = alive if alive is not None else (lambda: True)
    world.poller = me
    try:
        if params.get("allowed_updates") is not None:
            bot.allowed_updates = frozenset(params["allowed_updates"]) or None
        offset = params.get("offset")
        if offset is not None and offset > 0:
            world.confirm_updates(offset)
        elif offset is not None and offset < 0:
            bot.updates = bot.updates[offset:]
        limit = params.get("limit") or 100
        timeout = min(max(params.get("timeout") or 0, 0), MAX_POLL_TIMEOUT)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if bot.webhook is not None:
                raise ApiError(409, CONFLICT_WEBHOOK)
            if bot.updates:
                return copy.deepcopy(bot.updates[:limit])
            remaining = deadline - loop.time()
            if remaining <= 0 or world.closing:
                return []
            await world.changed(remaining)
    finally:
        if world.poller is me:
            world.poller = None


async def _get_updates(world: WorldState, p: dict[str, Any]) -> Any:  # the dispatch calls get_updates with the caller
    return await get_updates(world, p, None)


async def _set_webhook(world: WorldState, p: dict[str, Any]) -> Any:
    url = p["url"].strip()
    if not url:
        return await _delete_webhook(world, p)
    if not re.match(r"^https?://[^\s/]+", url):
        raise bad_request("bad webhook: invalid webhook URL specified")
    secret = p.get("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise bad_request("secret token contains unallowed characters")
    if p.get("drop_pending_updates"):
        world.bot.updates.clear()
    if p.get("allowed_updates") is not None:
        world.bot.allowed_updates = frozenset(p["allowed_updates"]) or None
    old = world.bot.webhook
    world.webhook_note = "Webhook is already set" if old and old.url == url else "Webhook was set"
    world.bot.webhook = Webhook(url, secret, p.get("max_connections") or 40, p.get("ip_address"))
    world.bump()
    return True


async def _delete_webhook(world: WorldState, p: dict[str, Any]) -> Any:
    world.webhook_note = "Webhook was deleted" if world.bot.webhook else "Webhook is already deleted"
    world.bot.webhook = None
    if p.get("drop_pending_updates"):
        world.bot.updates.clear()
    world.bump()
    return True


async def _get_webhook_info(world: WorldState, p: dict[str, Any]) -> Any:
    hook = world.bot.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(world.bot.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        if world.bot.allowed_updates:
            info["allowed_updates"] = sorted(world.bot.allowed_updates)
    return info


METHODS: dict[str, Method] = {
    "getUpdates": _get_updates,
    "setWebhook": _set_webhook,
    "deleteWebhook": _delete_webhook,
    "getWebhookInfo": _get_webhook_info,
}
