"""The sandbox over HTTP: the Bot API at ``/bot<token>/<method>`` and the test API at ``/sandbox/api/...``.

Requests are read as Telegram reads them: query string, ``application/x-www-form-urlencoded``,
``multipart/form-data`` (aiogram's way: nested values as JSON strings, files as parts referenced by
``attach://<name>``) or ``application/json``. Form values are strings, so each is typed by the spec's field types
(``"123"`` -> 123 for an Integer, ``"true"`` -> True for a Boolean, JSON text -> objects for object and array
fields) before :class:`bot.sandbox.world.World` validates and answers it. Answers are Telegram's JSON bodies with
the HTTP status equal to ``error_code`` (and a ``Retry-After`` header with a 429).

With a webhook set, :class:`Emulator` POSTs each update as JSON to it with ``X-Telegram-Bot-Api-Secret-Token``,
retrying a failed delivery a few times with a growing pause; a method the bot answers in the webhook response body
is executed like a call. The web page (``bot/sandbox/web.py``) adds its routes to :attr:`Emulator.app` before
:meth:`Emulator.start`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, ClientSession, ClientTimeout, MultipartReader, web

from bot.sandbox.limits import Limits
from bot.sandbox.spec import BotApiSpec
from bot.sandbox.world import (
    NotFoundError,
    SandboxError,
    Upload,
    World,
    _resolve_method,
)

log = logging.getLogger(__name__)

API_PREFIX = "/sandbox/api"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
EVENTS_MAX_TIMEOUT = 30.0
EMULATOR_KEY: web.AppKey[Emulator] = web.AppKey("sandbox_emulator")
_INTEGER = re.compile(r"^-?\d+$")
_FLOAT = re.compile(r"^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


class BadBody(Exception):
    """The request body cannot be read (bad JSON, broken multipart)."""


# ---- reading requests --------------------------------------------------------------------------------------------


async def _read_parts(reader: MultipartReader) -> tuple[dict[str, Any], dict[str, Upload]]:
    fields: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            files[part.name] = Upload(part.filename, bytes(await part.read()))
        else:
            fields[part.name] = await part.text()
    return fields, files


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The raw parameters of a Bot API request (strings from forms, typed values from JSON) and the files."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.can_read_body:
        ctype = request.content_type
        try:
            if ctype.startswith("multipart/"):
                fields, files = await _read_parts(await request.multipart())
                params.update(fields)
            elif ctype == "application/x-www-form-urlencoded":
                params.update(await request.post())
            else:  # application/json (or no content type): an empty body is no parameters
                raw = await request.read()
                if raw.strip():
                    body = json.loads(raw)
                    if not isinstance(body, dict):
                        raise BadBody("the JSON body must be an object")
                    params.update(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise BadBody(str(error)) from None
    return params, files


def coerce_value(value: Any, types: tuple[str, ...]) -> Any:
    """A form string typed by the spec: Integer, Float, Boolean, or JSON for objects and arrays."""
    if not isinstance(value, str):
        return value
    bare = value.strip()
    if "Integer" in types and _INTEGER.match(bare):
        return int(bare)
    if "Float" in types and _FLOAT.match(bare):
        return float(bare)
    if ("Boolean" in types or "True" in types) and bare.lower() in ("true", "false"):
        return bare.lower() == "true"
    if "String" in types:
        return value
    if bare[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            return json.loads(bare)
    return value


def coerce_params(spec: BotApiSpec, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Every known field typed by the spec (unknown fields and unknown methods are left as they are)."""
    name = _resolve_method(method) or method
    if name not in spec.methods:
        return dict(params)
    fields = spec.fields("method", name)
    return {key: coerce_value(value, fields[key].types) if key in fields else value for key, value in params.items()}


def attach_files(params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
    """``attach://<name>`` (also inside decoded JSON) -> the uploaded file; an unreferenced file part is the field
    of its name (``curl -F photo=@pic.jpg``)."""
    referenced: set[str] = set()

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            referenced.add(value[9:])
            return files[value[9:]]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    out = {key: resolve(value) for key, value in params.items()}
    for name, file in files.items():
        if name not in referenced and name not in out:
            out[name] = file
    return out


def decode_request(spec: BotApiSpec, method: str, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
    """Raw wire parameters -> what Telegram works with: typed by the spec, files in place."""
    return attach_files(coerce_params(spec, method, params), files)


# ---- the emulator ------------------------------------------------------------------------------------------------


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
        self.webhook_attempts = webhook_attempts
        self.webhook_backoff = webhook_backoff
        self.webhook_timeout = webhook_timeout
        self.hold_limit = hold_limit  # a "timeout" fault keeps a request open this long at most
        self.base_url = ""
        self.runner: web.AppRunner | None = None
        self.app = self._make_app()
        self._delivery: asyncio.Task[None] | None = None
        self._client: ClientSession | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> web.AppRunner:
        self.runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        sockets = self.runner.addresses
        actual = sockets[0][1] if sockets else port
        self.base_url = f"http://{host}:{actual}"
        self._delivery = asyncio.create_task(self._deliver_webhooks(), name="sandbox-webhook")
        return self.runner

    async def stop(self) -> None:
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None
        if self._client is not None:
            await self._client.close()
            self._client = None
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
        api = [
            ("GET", "/state", self._state),
            ("POST", "/users", self._add_user),
            ("POST", "/groups", self._add_group),
            ("POST", "/send", self._send),
            ("POST", "/press", self._press),
            ("POST", "/contact", self._contact),
            ("POST", "/pay", self._pay),
            ("POST", "/block", self._block),
            ("POST", "/membership", self._membership),
            ("GET", "/transcript", self._transcript),
            ("GET", "/events", self._events),
            ("GET", "/calls", self._calls),
            ("POST", "/faults", self._faults),
        ]
        for verb, path, handler in api:
            app.router.add_route(verb, API_PREFIX + path, handler)
        return app

    @web.middleware
    async def _errors(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
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
            await self._hold(alive)
            return web.json_response({"ok": False, "error_code": 504, "description": "Gateway Timeout"}, status=504)
        headers = {}
        if reply.retry_after is not None:
            headers["Retry-After"] = str(reply.retry_after)
        return web.json_response(reply.body, status=reply.status, headers=headers)

    async def _hold(self, alive: Callable[[], bool]) -> None:
        """A "timeout" fault: no answer until the client gives up (or ``hold_limit`` passes)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.hold_limit
        while alive() and loop.time() < deadline:
            await asyncio.sleep(0.05)

    # -- webhook delivery ------------------------------------------------------------------------------------------

    async def _deliver_webhooks(self) -> None:
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
                    world.bot.updates = [u for u in world.bot.updates if u["update_id"] != update["update_id"]]
                    world._bump()
                    continue
                attempts += 1
                world.webhook_failed(error)
                log.info(
                    "sandbox: webhook delivery of update %s failed (%s), attempt %s",
                    update["update_id"],
                    error,
                    attempts,
                )
                if attempts >= self.webhook_attempts:
                    attempts = 0
                    world.bot.updates = [u for u in world.bot.updates if u["update_id"] != update["update_id"]]
                    world._bump()
                    continue
                await asyncio.sleep(min(self.webhook_backoff * 2 ** (attempts - 1), 5.0))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sandbox: webhook delivery loop")
                await asyncio.sleep(0.5)

    async def _post_update(self, url: str, secret: str | None, update: dict[str, Any]) -> str | None:
        """Deliver one update; ``None`` when the bot accepted it, else why not."""
        if self._client is None or self._client.closed:
            self._client = ClientSession(timeout=ClientTimeout(total=self.webhook_timeout))
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

    async def _webhook_reply(self, resp: Any) -> None:
        """A method in the webhook's response body is executed like a Bot API call."""
        try:
            files: dict[str, Upload] = {}
            if resp.content_type.startswith("multipart/"):
                params, files = await _read_parts(MultipartReader.from_response(resp))
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

    # -- the test API ----------------------------------------------------------------------------------------------

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        try:
            body = await request.json()
        except ValueError:
            raise SandboxError("the body must be JSON") from None
        if not isinstance(body, dict):
            raise SandboxError("the body must be a JSON object")
        return body

    @staticmethod
    def _int(value: Any, name: str) -> int:
        if isinstance(value, bool) or value is None:
            raise SandboxError(f"{name} must be an integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SandboxError(f"{name} must be an integer") from None

    def _opt_int(self, value: Any, name: str) -> int | None:
        return None if value is None or value == "" else self._int(value, name)

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.world.state())

    async def _add_user(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        user = self.world.add_user(
            first_name=str(body.get("first_name") or "User"),
            language_code=body.get("language_code", "en"),
            username=body.get("username"),
            user_id=self._opt_int(body.get("user_id"), "user_id"),
            last_name=body.get("last_name"),
            phone_number=body.get("phone_number"),
        )
        return web.json_response(user.state())

    async def _add_group(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        members = [self._int(m, "members[]") for m in body.get("members") or []]
        chat = self.world.add_group(
            title=str(body.get("title") or "Group"),
            members=members,
            forum=bool(body.get("forum", False)),
            supergroup=bool(body.get("supergroup", True)),
            bot_status=body.get("bot_status", "administrator"),
            chat_id=self._opt_int(body.get("chat_id"), "chat_id"),
        )
        return web.json_response(chat.state())

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        message = await self.world.user_sends(
            self._int(body.get("user_id"), "user_id"),
            body.get("text"),
            chat_id=self._opt_int(body.get("chat_id"), "chat_id"),
            reply_to=self._opt_int(body.get("reply_to_message_id"), "reply_to_message_id"),
            message_thread_id=self._opt_int(body.get("message_thread_id"), "message_thread_id"),
        )
        return web.json_response(message)

    async def _press(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        data = body.get("callback_data")
        if not isinstance(data, str):
            raise SandboxError("callback_data must be a string")
        query_id = await self.world.user_presses(
            self._int(body.get("user_id"), "user_id"),
            self._int(body.get("chat_id"), "chat_id"),
            self._int(body.get("message_id"), "message_id"),
            data,
        )
        return web.json_response({"callback_query_id": query_id})

    async def _contact(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        message = await self.world.user_shares_contact(
            self._int(body.get("user_id"), "user_id"),
            phone=body.get("phone_number"),
            chat_id=self._opt_int(body.get("chat_id"), "chat_id"),
        )
        return web.json_response(message)

    async def _pay(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        result = await self.world.user_pays(
            self._int(body.get("user_id"), "user_id"),
            self._int(body.get("chat_id"), "chat_id"),
            self._int(body.get("message_id"), "message_id"),
        )
        return web.json_response(result)

    async def _block(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self.world.block_bot(self._int(body.get("user_id"), "user_id"), bool(body.get("blocked", True)))
        return web.json_response({"ok": True})

    async def _membership(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        user_id = self._int(body.get("user_id"), "user_id")
        chat_id = self._int(body.get("chat_id"), "chat_id")
        if "status" in body:
            self.world.set_status(user_id, chat_id, str(body["status"]))
        else:
            self.world.set_member(user_id, chat_id, bool(body.get("member", True)))
        return web.json_response({"ok": True})

    async def _transcript(self, request: web.Request) -> web.Response:
        chat_id = self._int(request.query.get("chat_id"), "chat_id")
        chat = self.world.chat(chat_id)
        return web.json_response(
            {"chat": chat.state(), "messages": self.world.transcript(chat_id), "version": self.world.version}
        )

    async def _events(self, request: web.Request) -> web.Response:
        since = self._int(request.query.get("since", "0"), "since")
        try:
            timeout = float(request.query.get("timeout", "25"))
        except ValueError:
            raise SandboxError("timeout must be a number") from None
        timeout = min(max(timeout, 0.0), EVENTS_MAX_TIMEOUT)
        version = await self.world.wait_changed(since, timeout)
        return web.json_response(
            {"version": version, "chats": self.world.changed_chats(since), "alerts": self.world.alerts(since)}
        )

    async def _calls(self, request: web.Request) -> web.Response:
        since = max(self._int(request.query.get("since", "0"), "since"), 0)
        calls = self.world.calls[since:]
        return web.json_response({"calls": [c.to_json() for c in calls], "next": len(self.world.calls)})

    async def _faults(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        methods = body.get("methods")
        if methods is not None and not (isinstance(methods, list) and all(isinstance(m, str) for m in methods)):
            raise SandboxError("methods must be a list of method names")
        self.world.fail_next(
            count=self._int(body.get("count", 1), "count"),
            kind=str(body.get("kind", "5xx")),
            retry_after=self._int(body.get("retry_after", 1), "retry_after"),
            methods=methods,
        )
        return web.json_response({"ok": True})
