"""The test API under ``/sandbox/api``: JSON routes through which a script, a test or the web page plays the users
(send, press, share a contact, pay, block, join), reads the world (state, transcripts, the call log), waits for a
change (``/events``, a long poll) and asks for faults. See docs/sandbox.md for the table of routes."""

from __future__ import annotations

import mimetypes
from typing import Any

from aiohttp import web

from sandbox.errors import NotFoundError, SandboxError
from sandbox.world import FLAKY_KINDS, World

API_PREFIX = "/sandbox/api"
EVENTS_MAX_TIMEOUT = 30.0
WORLD_KEY = web.AppKey("sandbox_world", World)


def add_control_routes(app: web.Application, world: World) -> None:
    """Serve the test API for ``world`` on ``app``."""
    app[WORLD_KEY] = world
    routes = [
        ("GET", "/state", _state),
        ("POST", "/users", _add_user),
        ("POST", "/groups", _add_group),
        ("POST", "/send", _send),
        ("POST", "/press", _press),
        ("POST", "/inline", _inline),
        ("GET", "/inline", _inline_answer),
        ("POST", "/inline/choose", _inline_choose),
        ("POST", "/contact", _contact),
        ("POST", "/pay", _pay),
        ("POST", "/block", _block),
        ("POST", "/membership", _membership),
        ("GET", "/transcript", _transcript),
        ("GET", "/events", _events),
        ("GET", "/calls", _calls),
        ("GET", "/file", _file),
        ("POST", "/faults", _faults),
    ]
    for verb, path, handler in routes:
        app.router.add_route(verb, API_PREFIX + path, handler)


# ---- reading the request -----------------------------------------------------------------------------------------


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


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or value is None:
        raise SandboxError(f"{name} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SandboxError(f"{name} must be an integer") from None


def _opt_int(value: Any, name: str) -> int | None:
    return None if value is None or value == "" else _int(value, name)


def _float(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None:
        raise SandboxError(f"{name} must be a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SandboxError(f"{name} must be a number") from None


def _names(value: Any, name: str) -> list[str] | None:
    if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise SandboxError(f"{name} must be a list of names")
    return value


# ---- the routes --------------------------------------------------------------------------------------------------


async def _state(request: web.Request) -> web.Response:
    return web.json_response(request.app[WORLD_KEY].state())


async def _add_user(request: web.Request) -> web.Response:
    body = await _body(request)
    user = request.app[WORLD_KEY].add_user(
        first_name=str(body.get("first_name") or "User"),
        language_code=body.get("language_code", "en"),
        username=body.get("username"),
        user_id=_opt_int(body.get("user_id"), "user_id"),
        last_name=body.get("last_name"),
        phone_number=body.get("phone_number"),
    )
    return web.json_response(user.state())


async def _add_group(request: web.Request) -> web.Response:
    body = await _body(request)
    members = [_int(m, "members[]") for m in body.get("members") or []]
    chat = request.app[WORLD_KEY].add_group(
        title=str(body.get("title") or "Group"),
        members=members,
        forum=bool(body.get("forum", False)),
        supergroup=bool(body.get("supergroup", True)),
        bot_status=body.get("bot_status", "administrator"),
        chat_id=_opt_int(body.get("chat_id"), "chat_id"),
    )
    return web.json_response(chat.state())


async def _send(request: web.Request) -> web.Response:
    body = await _body(request)
    text = body.get("text")
    message = await request.app[WORLD_KEY].user_sends(
        _int(body.get("user_id"), "user_id"),
        text if isinstance(text, str) else "",  # the world refuses an empty text ("a message needs some text")
        chat_id=_opt_int(body.get("chat_id"), "chat_id"),
        reply_to=_opt_int(body.get("reply_to_message_id"), "reply_to_message_id"),
        message_thread_id=_opt_int(body.get("message_thread_id"), "message_thread_id"),
    )
    return web.json_response(message)


async def _press(request: web.Request) -> web.Response:
    body = await _body(request)
    data = body.get("callback_data")
    if not isinstance(data, str):
        raise SandboxError("callback_data must be a string")
    query_id = await request.app[WORLD_KEY].user_presses(
        _int(body.get("user_id"), "user_id"),
        _int(body.get("chat_id"), "chat_id"),
        _int(body.get("message_id"), "message_id"),
        data,
    )
    return web.json_response({"callback_query_id": query_id})


async def _inline(request: web.Request) -> web.Response:
    """The user types ``@bot <query>`` in ``chat_id`` (absent: a chat with someone else)."""
    body = await _body(request)
    query = body.get("query")
    if not isinstance(query, str):
        raise SandboxError("query must be a string")
    query_id = await request.app[WORLD_KEY].user_inline_query(
        _int(body.get("user_id"), "user_id"), query, chat_id=_opt_int(body.get("chat_id"), "chat_id")
    )
    return web.json_response({"inline_query_id": query_id})


async def _inline_answer(request: web.Request) -> web.Response:
    """The bot's answer to an inline query (``{"answer": null}`` until it answers)."""
    return web.json_response({"answer": request.app[WORLD_KEY].inline_answer(request.query.get("id", ""))})


async def _inline_choose(request: web.Request) -> web.Response:
    body = await _body(request)
    query_id, result_id = body.get("inline_query_id"), body.get("result_id")
    if not isinstance(query_id, str) or not isinstance(result_id, str):
        raise SandboxError("inline_query_id and result_id must be strings")
    message = await request.app[WORLD_KEY].user_chooses_result(
        query_id, result_id, _int(body.get("chat_id"), "chat_id")
    )
    return web.json_response(message)


async def _contact(request: web.Request) -> web.Response:
    body = await _body(request)
    message = await request.app[WORLD_KEY].user_shares_contact(
        _int(body.get("user_id"), "user_id"),
        phone=body.get("phone_number"),
        chat_id=_opt_int(body.get("chat_id"), "chat_id"),
    )
    return web.json_response(message)


async def _pay(request: web.Request) -> web.Response:
    body = await _body(request)
    result = await request.app[WORLD_KEY].user_pays(
        _int(body.get("user_id"), "user_id"),
        _int(body.get("chat_id"), "chat_id"),
        _int(body.get("message_id"), "message_id"),
    )
    return web.json_response(result)


async def _block(request: web.Request) -> web.Response:
    body = await _body(request)
    request.app[WORLD_KEY].block_bot(_int(body.get("user_id"), "user_id"), bool(body.get("blocked", True)))
    return web.json_response({"ok": True})


async def _membership(request: web.Request) -> web.Response:
    body = await _body(request)
    world = request.app[WORLD_KEY]
    user_id = _int(body.get("user_id"), "user_id")
    chat_id = _int(body.get("chat_id"), "chat_id")
    if "status" in body:
        world.set_status(user_id, chat_id, str(body["status"]))
    else:
        world.set_member(user_id, chat_id, bool(body.get("member", True)))
    return web.json_response({"ok": True})


async def _transcript(request: web.Request) -> web.Response:
    world = request.app[WORLD_KEY]
    chat_id = _int(request.query.get("chat_id"), "chat_id")
    chat = world.chat(chat_id)
    return web.json_response({"chat": chat.state(), "messages": world.transcript(chat_id), "version": world.version})


async def _events(request: web.Request) -> web.Response:
    world = request.app[WORLD_KEY]
    since = _int(request.query.get("since", "0"), "since")
    try:
        timeout = float(request.query.get("timeout", "25"))
    except ValueError:
        raise SandboxError("timeout must be a number") from None
    timeout = min(max(timeout, 0.0), EVENTS_MAX_TIMEOUT)
    # A page that knew another emulator (or a later version: this one restarted) is answered at once.
    known = request.query.get("instance")
    if (known and known != world.instance) or since > world.version:
        timeout = 0.0
    version = await world.wait_changed(since, timeout)
    return web.json_response(
        {
            "version": version,
            "chats": world.changed_chats(since),
            "alerts": world.alerts(since),
            "instance": world.instance,
        }
    )


async def _calls(request: web.Request) -> web.Response:
    world = request.app[WORLD_KEY]
    since = max(_int(request.query.get("since", "0"), "since"), 0)
    calls = world.calls[since:]
    return web.json_response({"calls": [c.to_json() for c in calls], "next": len(world.calls)})


async def _file(request: web.Request) -> web.Response:
    """The bytes of a file the bot uploaded (a photo the page shows), with its type; 404 for anything else."""
    world = request.app[WORLD_KEY]
    file_id = request.query.get("file_id", "")
    data = world.file_bytes.get(file_id)
    if data is None:
        raise NotFoundError(f"no uploaded file {file_id!r}")
    name = str(world.files[file_id].get("file_name") or "")
    kind = mimetypes.guess_type(name)[0] or _sniff(data)
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return web.Response(body=data, content_type=kind, headers=headers)


def _sniff(data: bytes) -> str:
    for magic, kind in ((b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif")):
        if data.startswith(magic):
            return kind
    return "application/octet-stream"


async def _faults(request: web.Request) -> web.Response:
    """The next ``count`` calls fail; or, with ``rate``, a share of the calls for ``seconds`` (a flaky Telegram)."""
    body = await _body(request)
    methods = _names(body.get("methods"), "methods")
    if "rate" in body:
        kinds = _names(body.get("kinds"), "kinds")
        request.app[WORLD_KEY].fail_randomly(
            rate=_float(body["rate"], "rate"),
            seconds=_float(body.get("seconds"), "seconds"),
            kinds=FLAKY_KINDS if kinds is None else kinds,
            methods=methods,
            seed=_opt_int(body.get("seed"), "seed"),
            retry_after=_int(body.get("retry_after", 1), "retry_after"),
        )
        return web.json_response({"ok": True})
    request.app[WORLD_KEY].fail_next(
        count=_int(body.get("count", 1), "count"),
        kind=str(body.get("kind", "5xx")),
        retry_after=_int(body.get("retry_after", 1), "retry_after"),
        methods=methods,
    )
    return web.json_response({"ok": True})
