"""Webhook delivery: with a webhook set, each queued update is POSTed as JSON to it (with
``X-Telegram-Bot-Api-Secret-Token``), a failed delivery retried a few times with a growing pause; a method the bot
answers in the webhook response body is executed like a call."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import ClientResponse, ClientSession, ClientTimeout, MultipartReader

from sandbox.model import Upload
from sandbox.request_parsing import decode_request, read_parts
from sandbox.world import World

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BACKOFF_S = 5.0


class WebhookDelivery:
    """Delivers ``world``'s updates to its webhook while :meth:`run` runs (the emulator runs it as a task)."""

    def __init__(self, world: World, *, attempts: int, backoff: float, timeout: float) -> None:
        self.world = world
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self._client: ClientSession | None = None

    async def run(self) -> None:
        world = self.world
        attempts = 0
        while True:
            try:
                await world.wait_for(lambda: world.bot.webhook is not None and world.bot.updates, timeout=None)
                hook = world.bot.webhook
                update = world.bot.updates[0]
                assert hook is not None
                error = await self._post_update(hook.url, hook.secret_token, update)
                if error is None:
                    attempts = 0
                    world.webhook_delivered(update["update_id"])
                    continue
                attempts += 1
                world.webhook_failed(error)
                log.info(
                    "sandbox: webhook delivery of update %s failed (%s), attempt %s",
                    update["update_id"],
                    error,
                    attempts,
                )
                if attempts >= self.attempts:
                    attempts = 0
                    world.webhook_delivered(update["update_id"])
                    continue
                await asyncio.sleep(min(self.backoff * 2 ** (attempts - 1), MAX_BACKOFF_S))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sandbox: webhook delivery loop")
                await asyncio.sleep(0.5)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _post_update(self, url: str, secret: str | None, update: dict[str, Any]) -> str | None:
        """Deliver one update; ``None`` when the bot accepted it, else why not."""
        if self._client is None or self._client.closed:
            self._client = ClientSession(timeout=ClientTimeout(total=self.timeout))
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_HEADER] = secret
        try:
            async with self._client.post(url, data=json.dumps(update), headers=headers) as resp:
                if not 200 <= resp.status < 300:
                    return f"Wrong response from the webhook: {resp.status} {resp.reason}"
                await self._webhook_reply(resp)
                return None
        except TimeoutError:
            return "Timeout expired"
        except Exception as error:
            return f"Connection failed: {type(error).__name__}: {error}"

    async def _webhook_reply(self, resp: ClientResponse) -> None:
        """A method in the webhook's response body is executed like a Bot API call."""
        try:
            files: dict[str, Upload] = {}
            if resp.content_type.startswith("multipart/"):
                params, files = await read_parts(MultipartReader.from_response(resp))
            else:
                raw = await resp.read()
                params = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError):
            return
        if not isinstance(params, dict) or not isinstance(params.get("method"), str):
            return
        method = params.pop("method")
        params = decode_request(self.world.spec, method, params, files)
        await self.world.handle(self.world.bot.token or "", method, params)
