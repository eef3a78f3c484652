"""The sandbox over HTTP: the Bot API at ``/bot<token>/<method>`` and the test API at ``/sandbox/api/...``.

:class:`Emulator` is the aiohttp app around a :class:`~sandbox.world.World`: it reads each Bot API request
(:mod:`sandbox.request_parsing`), lets the world answer it, and sends Telegram's JSON body back with the HTTP status
equal to ``error_code`` (and a ``Retry-After`` header with a 429). The test API's routes are :mod:`sandbox.control`;
webhook delivery is :mod:`sandbox.webhook`. The web page (:mod:`sandbox.web`) adds its routes to
:attr:`Emulator.app` before :meth:`Emulator.start`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.control import API_PREFIX, add_control_routes
from sandbox.errors import NotFoundError, SandboxError
from sandbox.limits import Limits
from sandbox.request_parsing import BadBody, decode_request, read_params
from sandbox.webhook import WebhookDelivery
from sandbox.world import World

log = logging.getLogger(__name__)

EMULATOR_KEY: web.AppKey[Emulator] = web.AppKey("sandbox_emulator")
SHUTDOWN_TIMEOUT_S = 0.5  # what a request still running at stop() gets before it is cancelled
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Emulator:
    """The aiohttp app around a :class:`World`; ``await start()`` serves it on ``base_url``."""

    def __init__(
        self,
        world: World | None = None,
        limits: Limits | None = None,
        *,
        webhook_attempts: int = 8,
        webhook_backoff: float = 0.25,
        webhook_timeout: float = 10.0,
        hold_limit: float = 65.0,
        **world_options: Any,
    ) -> None:
        self.world = world if world is not None else World(limits=limits, **world_options)
        if world is not None and limits is not None:
            self.world.limits = limits
        self.webhook = WebhookDelivery(
            self.world, attempts=webhook_attempts, backoff=webhook_backoff, timeout=webhook_timeout
        )
        self.hold_limit = hold_limit  # a "timeout" fault keeps a request open this long at most
        self.base_url = ""
        self.runner: web.AppRunner | None = None
        self.app = self._make_app()
        self._delivery: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> web.AppRunner:
        self.runner = web.AppRunner(
            self.app, handler_cancellation=True, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
        self.world.closing = False  # a world may be served again after a stop
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        sockets = self.runner.addresses
        actual = sockets[0][1] if sockets else port
        self.base_url = f"http://{host}:{actual}"
        self._delivery = asyncio.create_task(self.webhook.run(), name="sandbox-webhook")
        return self.runner

    async def stop(self) -> None:
        """Stop serving: held long polls (the bot's ``getUpdates``, the page's ``/events``) answer at once, and a
        request still running after :data:`SHUTDOWN_TIMEOUT_S` is cancelled."""
        self.world.close()
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None
        await self.webhook.close()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def __aenter__(self) -> Emulator:
        if self.runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """What the bot's ``TELEGRAM_API_URL`` should be."""
        return self.base_url

    # -- the app ---------------------------------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors], client_max_size=64 * 1024 * 1024)
        app[EMULATOR_KEY] = self
        app.router.add_route("*", r"/bot{token}/{method}", self._bot_api)
        add_control_routes(app, self.world)
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as error:
            if request.path.startswith(API_PREFIX):
                return web.json_response({"ok": False, "error": error.reason}, status=error.status)
            if request.path.startswith("/bot"):
                return web.json_response(
                    {"ok": False, "error_code": error.status, "description": error.reason}, status=error.status
                )
            raise
        except NotFoundError as error:
            return web.json_response({"ok": False, "error": str(error)}, status=404)
        except (SandboxError, BadBody, KeyError, TypeError, ValueError) as error:
            if request.path.startswith("/bot"):
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"}, status=400
                )
            text = f"missing field {error}" if isinstance(error, KeyError) else str(error)
            return web.json_response({"ok": False, "error": text}, status=400)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sandbox: %s %s failed", request.method, request.path)
            if request.path.startswith("/bot"):
                return web.json_response(
                    {"ok": False, "error_code": 500, "description": "Internal Server Error"}, status=500
                )
            return web.json_response({"ok": False, "error": "internal error (see the emulator's log)"}, status=500)

    # -- the Bot API -----------------------------------------------------------------------------------------------

    async def _bot_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        method = request.match_info["method"]
        try:
            raw, files = await read_params(request)
        except BadBody as error:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"}, status=400
            )
        params = decode_request(self.world.spec, method, raw, files)

        def alive() -> bool:
            transport = request.transport
            return transport is not None and not transport.is_closing()

        reply = await self.world.handle(token, method, params, alive=alive)
        if reply.hold:
            await self._hold()
            return web.json_response({"ok": False, "error_code": 504, "description": "Gateway Timeout"}, status=504)
        headers = {}
        if reply.retry_after is not None:
            headers["Retry-After"] = str(reply.retry_after)
        return web.json_response(reply.body, status=reply.status, headers=headers)

    async def _hold(self) -> None:
        """A "timeout" fault: no answer until the client gives up (aiohttp then cancels the handler: the runner is
        made with ``handler_cancellation``) or ``hold_limit`` passes."""
        await asyncio.sleep(self.hold_limit)
