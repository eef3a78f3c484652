"""The simulated Telegram as one object: :class:`World` is the state (:mod:`sandbox.state`), the user side
(:mod:`sandbox.users`) and the Bot API door. :meth:`World.handle` runs one Bot API call exactly as the HTTP server
received it (parameters already decoded and typed):

    token -> 401, method -> 404, faults on demand, validation against ``bot-api.json`` (:mod:`sandbox.spec`)
    -> 400 with Telegram's wording, chat access -> 400/403, flood limits (:mod:`sandbox.limits`) -> 429,
    then the method itself (:mod:`sandbox.methods`); every call ends up in :attr:`World.calls`.

One world serves one bot: the first well-formed token that calls binds it (or pass ``bot_token``); a different
token is answered 401 like a revoked one.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.calls import FAULT_KINDS, CallRecord, Fault, Reply, json_safe
from sandbox.errors import ApiError, SandboxError, bad_request, telegram_description, too_many_requests
from sandbox.inline import InlineActions
from sandbox.methods import METHODS, resolve_method
from sandbox.methods.updates import get_updates
from sandbox.state import TOKEN_SHAPE
from sandbox.users import UserActions

log = logging.getLogger(__name__)

# The methods whose answer carries a "description" beside the result, as Telegram's do.
_DESCRIBED = ("setWebhook", "deleteWebhook")
FLAKY_KINDS = ("5xx", "timeout")  # what a flaky Telegram does by default (see World.fail_randomly)


@dataclass
class Flaky(Fault):
    """A while of flaky service: until ``until`` (the world's clock) a share ``rate`` of the matching calls fail,
    each with a kind drawn from ``kinds``; ``rng`` draws both, so a seed repeats the same sequence of draws."""

    rate: float = 0.0
    until: float = 0.0
    kinds: tuple[str, ...] = FLAKY_KINDS
    rng: random.Random = field(default_factory=random.Random)

    def draw(self) -> str | None:
        """The kind this matching call fails with, or None: it goes through."""
        if self.rng.random() >= self.rate:
            return None
        return self.rng.choice(self.kinds)


class World(InlineActions, UserActions):
    # -- faults ----------------------------------------------------------------------------------------------------

    def fail_next(
        self, count: int = 1, kind: str = "5xx", retry_after: int = 1, methods: Iterable[str] | None = None
    ) -> None:
        """The next ``count`` calls of ``methods`` (default: the message-sending ones; ``["*"]`` = all) fail:
        ``5xx`` -> 500, ``429`` -> Too Many Requests with ``retry_after``, ``timeout`` -> no answer at all."""
        if kind not in FAULT_KINDS:
            raise SandboxError(f"unknown fault kind {kind!r} (5xx, timeout, 429)")
        if count < 1 or retry_after < 1:
            raise SandboxError("count and retry_after must be at least 1")
        chosen = None if methods is None else frozenset(m.lower() for m in methods)
        self.faults.append(Fault(kind, count, retry_after, chosen))
        self.bump()

    def fail_randomly(
        self,
        rate: float,
        seconds: float,
        kinds: Iterable[str] = FLAKY_KINDS,
        methods: Iterable[str] | None = None,
        seed: int | None = None,
        retry_after: int = 1,
    ) -> None:
        """For the next ``seconds`` (the world's clock) a share ``rate`` of the calls of ``methods`` (as in
        :meth:`fail_next`) fail, each with one of ``kinds`` drawn at random (default: ``5xx`` or ``timeout``); with
        ``seed`` the draws are the same on every run. Faults asked with :meth:`fail_next` come first."""
        chosen_kinds = tuple(kinds)
        unknown = [k for k in chosen_kinds if k not in FAULT_KINDS]
        if not chosen_kinds or unknown:
            raise SandboxError(f"unknown fault kinds {unknown!r} (5xx, timeout, 429)" if unknown else "no fault kinds")
        if not 0 < rate <= 1:
            raise SandboxError("rate must be above 0 and at most 1")
        if seconds <= 0 or retry_after < 1:
            raise SandboxError("seconds must be above 0 and retry_after at least 1")
        chosen = None if methods is None else frozenset(m.lower() for m in methods)
        until = self.clock() + seconds
        self.faults.append(Flaky("flaky", 0, retry_after, chosen, rate, until, chosen_kinds, random.Random(seed)))
        self.bump()

    def _take_fault(self, method: str) -> Fault | None:
        fault = self._take_counted(method)
        return fault if fault is not None else self._draw_flaky(method)

    def _take_counted(self, method: str) -> Fault | None:
        for fault in self.faults:
            if isinstance(fault, Flaky):
                continue
            if fault.matches(method):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _draw_flaky(self, method: str) -> Fault | None:
        now = self.clock()
        for window in [f for f in self.faults if isinstance(f, Flaky)]:
            if now >= window.until:
                self.faults.remove(window)
            elif window.matches(method) and (kind := window.draw()) is not None:
                return Fault(kind, 1, window.retry_after, window.methods)
        return None

    # -- the Bot API -----------------------------------------------------------------------------------------------

    def _authorize(self, token: str) -> None:
        if TOKEN_SHAPE.match(token) is None:
            raise ApiError(401, "Unauthorized")
        if self.bot.token is None:
            self.bind_token(token)
            self.bump()
        elif token != self.bot.token:
            raise ApiError(401, "Unauthorized")

    async def handle(
        self, token: str, method: str, params: dict[str, Any], alive: Callable[[], bool] | None = None
    ) -> Reply:
        """Answer one Bot API call as Telegram would; ``alive`` tells whether the caller is still connected."""
        started = time.monotonic()
        name = resolve_method(method)
        fault_kind: str | None = None
        reply = Reply(0, None)
        try:
            self._authorize(token)
            if name is None:
                raise ApiError(404, "Not Found")
            fault = self._take_fault(name)
            if fault is not None:
                fault_kind = fault.kind
                if fault.kind == "timeout":
                    reply = Reply(0, None, hold=True)
                    return reply
                if fault.kind == "429":
                    raise too_many_requests(fault.retry_after)
                raise ApiError(500, "Internal Server Error")
            problems = self.spec.validate_request(name, params)
            if problems:
                raise bad_request(telegram_description(name, problems))
            if name == "getUpdates":
                result = await get_updates(self, params, alive)
            else:
                result = await METHODS[name](self, params)
            body: dict[str, Any] = {"ok": True, "result": result}
            if name in _DESCRIBED:
                body["description"] = self.webhook_note
            reply = Reply(200, body)
        except ApiError as error:
            reply = Reply(error.code, error.body())
        except asyncio.CancelledError:
            reply = Reply(0, None)
            fault_kind = "client went away"
            raise
        except Exception:
            log.exception("sandbox: %s failed", method)
            reply = Reply(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
        finally:
            self._record(name or method, params, reply, started, fault_kind)
        return reply

    def _record(self, method: str, params: dict[str, Any], reply: Reply, started: float, fault: str | None) -> None:
        record = CallRecord(
            len(self.calls),
            method,
            json_safe(params),
            reply.status,
            copy.deepcopy(reply.body),
            self.clock(),
            time.monotonic() - started,
            fault,
        )
        self.calls.append(record)
        self.bump()

    def calls_of(self, method: str) -> list[CallRecord]:
        return [c for c in self.calls if c.method == method]

    # -- webhook (delivery itself is sandbox.webhook's) --------------------------------------------------------------

    def webhook_failed(self, message: str) -> None:
        if self.bot.webhook is not None:
            self.bot.webhook.last_error_date = int(self.clock())
            self.bot.webhook.last_error_message = message
            self.bump()

    def webhook_delivered(self, update_id: int) -> None:
        """The update left the queue: the webhook took it (or delivery gave up on it)."""
        self.bot.updates = [u for u in self.bot.updates if u["update_id"] != update_id]
        self.bump()
