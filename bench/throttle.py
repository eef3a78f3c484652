"""Throttle benchmark: one user floods the bot while another browses calmly; what the flood costs the calm one.

Prints figures, asserts nothing about time. SQLite (a migrated file in a temporary directory, as bench/updates.py);
with ``--redis URL`` the throttle's buckets are in Redis (``build_throttle(URL)``, the replicas' shared variant,
under a key prefix of its own, deleted at the end), else in memory.

    .venv/bin/python bench/throttle.py [--seconds 15] [--rate 50] [--pause 0.4] [--redis URL]

**Production** as bench/updates.py builds it: ``build_dispatcher`` with its default storage (the FSM in the
database), the unit-of-work, throttle and user middlewares, every router, its startup hook; the Bot on the
no-network session (bench/no_network.py) with the retry middleware. The throttle is ``build_throttle`` on the real
clock (the Redis server's with ``--redis``): the only thing that differs between the variants. Every update takes
the inbox path as the running bot's does: it arrives, is stored (``Inbox.accept``) and handed to the
``InboxWorker``, which claims each chat's updates one after the other, feeds them to the dispatcher and marks them
done; different chats run concurrently. Only ``getUpdates`` is left out.

**The users.** The calm user browses (bench/updates.py's browse mix, over and over: ``/start``, Events, a region,
the next 30 days, sea, the cruise's card), reading each screen ``--pause`` seconds before the next tap; their reply
latency is from the update's arrival to the dispatcher's return (stored, claimed, handled). The flooder sends a text
message every 1/``--rate`` seconds for ``--seconds``, whatever the bot is doing (the updates pile up as Telegram
would deliver them), in German, so the notice shows the language.

**Phases**, each with fresh users and a fresh dispatcher on the same database, ``--seconds`` long:

* ``calm alone``: no flood, the reference;
* ``flood, throttled``: the flood and the calm user together, with the throttle;
* ``flood, no throttle``: the same without a throttle (what the bot did before it): every flood update handled.

Printed per phase: the calm user's taps, latency p50/p99/max in ms; the flooder's updates sent, let through to the
handlers, notices, dropped, the messages the bot sent them, and how long the last flood update waited after the
flood stopped (the backlog).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bench.no_network import NoNetworkSession, light_bot
from bot.app import build_dispatcher
from bot.config import load_settings
from bot.inbox import Inbox
from bot.inbox_worker import InboxWorker
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.telegram_retry import RetryMiddleware
from bot.throttle import TOO_FAST, RedisBuckets, Throttle, Verdict, build_throttle
from handlers.tourist.callbacks import BrowseCb, EventCb, MenuAction, MenuCb, When
from tests.seed import Seeded, seed_catalog

OPERATOR_CHAT_ID = -100500
FIRST_USER = 7_000_000

Step = tuple[str, str]  # ("text", text) or ("press", callback data)
_update_ids = itertools.count(1)


def browse(seeded: Seeded) -> list[Step]:
    """bench/updates.py's browse mix: the menu down to the cruise's card."""
    region = seeded.region_id
    return [
        ("text", "/start"),
        ("press", MenuCb(action=MenuAction.EVENTS).pack()),
        ("press", BrowseCb(region=region, step="when").pack()),
        ("press", BrowseCb(region=region, when=When.UPCOMING, step="category").pack()),
        ("press", BrowseCb(region=region, when=When.UPCOMING, category="sea", step="list").pack()),
        ("press", EventCb(event=seeded.event_id).pack()),
    ]


def make_update(session: NoNetworkSession, user_id: int, step: Step, language: str = "en") -> dict[str, Any]:
    """The raw update a user's step sends; a press finds its button on the newest keyboard the bot sent them."""
    kind, value = step
    user = {"id": user_id, "is_bot": False, "first_name": "Tess", "language_code": language}
    update_id = next(_update_ids)
    if kind == "text":
        message: dict[str, Any] = {
            "message_id": session.next_message_id(user_id),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Tess"},
            "from": user,
            "text": value,
        }
        if value.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(value.split()[0])}]
        return {"update_id": update_id, "message": message}
    shown = session.keyboard_message(user_id)
    buttons = [b.get("callback_data") for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    if value not in buttons:
        raise RuntimeError(f"user {user_id}: no button {value!r} on the bot's newest keyboard; buttons: {buttons}")
    query = {"id": f"q{update_id}", "from": user, "chat_instance": f"ci{user_id}", "message": shown, "data": value}
    return {"update_id": update_id, "callback_query": query}


class Timed:
    """The dispatcher as the inbox worker feeds it, noting when each awaited update has been handled."""

    def __init__(self, dp: Dispatcher) -> None:
        self.dp = dp
        self.waiting: dict[int, asyncio.Future[float]] = {}

    async def feed_update(self, bot: Bot, update: Update) -> object:
        try:
            return await self.dp.feed_update(bot, update)
        finally:
            done = self.waiting.pop(update.update_id, None)
            if done is not None and not done.done():
                done.set_result(time.perf_counter())


class CountingThrottle(Throttle):
    """The throttle it wraps, counting its verdicts per user."""

    def __init__(self, inner: Throttle) -> None:
        super().__init__(monotonic=inner.monotonic, buckets=inner.buckets)
        self.limits = inner.limits
        self.verdicts: Counter[tuple[int, Verdict]] = Counter()

    async def admit(self, user_id: int) -> Verdict:
        verdict = await super().admit(user_id)
        self.verdicts[(user_id, verdict)] += 1
        return verdict


@dataclass
class Phase:
    name: str
    calm_ms: list[float] = field(default_factory=list)
    flood_sent: int = 0
    verdicts: Counter[Verdict] = field(default_factory=Counter)
    to_flooder: int = 0
    notices: int = 0
    notice_text: str = ""
    backlog_s: float = 0.0
    calm_throttled: int = 0
    cpu_s: float = 0.0  # this process's CPU time over the phase (SQLite works in it)

    def lines(self, throttled: bool) -> list[str]:
        ms = sorted(self.calm_ms)
        p50 = statistics.median(ms)
        p99 = statistics.quantiles(ms, n=100, method="inclusive")[98] if len(ms) > 1 else ms[0]
        out = [
            f"  {self.name:<19} calm user: {len(ms):>3} taps, latency p50 {p50:7.1f} ms  p99 {p99:7.1f} ms"
            f"  max {ms[-1]:7.1f} ms; throttled {self.calm_throttled}"
        ]
        if self.flood_sent:
            handled = self.verdicts[Verdict.PASS] if throttled else self.flood_sent
            out.append(
                f"  {'':<19} flooder: {self.flood_sent} sent, {handled} handled, {self.verdicts[Verdict.NOTIFY]} "
                f"notice(s), {self.verdicts[Verdict.DROP]} dropped; the bot sent them {self.to_flooder} messages "
                f"({self.notices} notice(s)); the last flood update done {self.backlog_s:.2f} s after the flood ended"
            )
        return out


class Rig:
    """One phase's dispatcher, inbox, worker and no-network Bot on the bench's database."""

    def __init__(self, sessions: Any, database_url: str, throttle: Throttle | None) -> None:
        self.sessions = sessions
        self.throttle = CountingThrottle(throttle) if throttle is not None else None
        self.session = NoNetworkSession()
        self.session.middleware(RetryMiddleware())
        self.bot: Bot = light_bot(self.session)
        settings = load_settings(
            bot_token=None, database_url=database_url, operator_chat_id=OPERATOR_CHAT_ID, admin_ids=(42,)
        )
        self.dp: Dispatcher = build_dispatcher(settings, sessions, throttle=self.throttle)
        self.timed = Timed(self.dp)
        self.workflow = {**self.dp.workflow_data, "dispatcher": self.dp, "bots": [self.bot]}
        self.workflow.pop("bot", None)

    async def start(self) -> None:
        await self.dp.emit_startup(bot=self.bot, **self.workflow)
        self.inbox = Inbox(self.sessions, self.dp["clock"])
        self.worker = InboxWorker(self.timed, self.bot, self.inbox)

    async def arrive(self, raw: dict[str, Any]) -> asyncio.Future[float]:
        """The update arrives: stored, handed to the worker; the future is when the dispatcher is done with it."""
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.timed.waiting[raw["update_id"]] = done
        self.worker.received(await self.inbox.accept([raw], self.bot))
        return done

    async def stop(self) -> None:
        await self.worker.stop(30.0)
        await self.dp.emit_shutdown(bot=self.bot, **self.workflow)
        await self.dp.storage.close()
        for router in self.dp.sub_routers:  # module-level routers attach to one parent: free them for the next
            router._parent_router = None
        self.dp.sub_routers.clear()


@dataclass
class Bench:
    """The database every phase shares: migrated SQLite with tests/seed.py's catalog."""

    sessions: Any
    database_url: str
    seeded: Seeded


async def run_phase(
    name: str, bench: Bench, throttle: Throttle | None, flood: bool, args: argparse.Namespace, ids: Any
) -> Phase:
    phase = Phase(name)
    rig = Rig(bench.sessions, bench.database_url, throttle)
    await rig.start()
    calm, flooder = next(ids), next(ids)
    too_fast = {rig.dp["i18n"].translator(language).gettext(TOO_FAST) for language in ("de", "en")}
    flood_done: list[asyncio.Future[float]] = []
    cpu = time.process_time()
    ends = time.perf_counter() + args.seconds

    async def flooding() -> None:
        start = time.perf_counter()
        for i in itertools.count():
            due = start + i / args.rate
            if due >= ends:
                return
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            raw = make_update(rig.session, flooder, ("text", f"spam {i}"), language="de")
            flood_done.append(await rig.arrive(raw))
            phase.flood_sent += 1

    async def browsing() -> None:
        for step in itertools.cycle(browse(bench.seeded)):
            if time.perf_counter() >= ends:
                return
            raw = make_update(rig.session, calm, step)
            arrived = time.perf_counter()
            handled = await (await rig.arrive(raw))
            phase.calm_ms.append(1000 * (handled - arrived))
            await asyncio.sleep(args.pause)

    try:
        await asyncio.gather(browsing(), *([flooding()] if flood else []))
        ended = time.perf_counter()
        if flood_done:
            phase.backlog_s = max(0.0, max(await asyncio.gather(*flood_done)) - ended)
        phase.cpu_s = time.process_time() - cpu
    finally:
        await rig.stop()
    sent = list(rig.session.messages.get(flooder, {}).values())
    phase.to_flooder = len(sent)
    phase.notices = sum(1 for m in sent if m.get("text") in too_fast)
    phase.notice_text = next((m["text"] for m in sent if m.get("text") in too_fast), "")
    if rig.throttle is not None:
        for (user, verdict), count in rig.throttle.verdicts.items():
            if user == flooder:
                phase.verdicts[verdict] += count
            elif verdict is not Verdict.PASS:
                phase.calm_throttled += count
    return phase


async def prepared(directory: str) -> tuple[Bench, Any]:
    url = f"sqlite+aiosqlite:///{directory}/bench.db"
    engine = create_engine(url)  # as bot/runner.py: the default pool
    await upgrade(engine)
    sessions = session_factory(engine)
    seeded = await seed_catalog(sessions, datetime.now(UTC))
    return Bench(sessions, url, seeded), engine


async def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load}; --seconds {args.seconds} "
        f"--rate {args.rate} --pause {args.pause}; throttle buckets: {'Redis' if args.redis else 'memory'}"
    )
    prefix = f"tripdesk-bench-throttle-{uuid.uuid4().hex[:10]}"
    throttle = build_throttle(args.redis, prefix=prefix)
    ids = itertools.count(FIRST_USER + (os.getpid() % 1000) * 1000)
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory() as directory:
        bench, engine = await prepared(directory)
        try:
            for name, used, flood in (
                ("calm alone", throttle, False),
                ("flood, throttled", throttle, True),
                ("flood, no throttle", None, True),
            ):
                phase = await run_phase(name, bench, used, flood, args, ids)
                phases.append(phase)
                for line in phase.lines(used is not None):
                    print(line, flush=True)
        finally:
            await engine.dispose()
            if isinstance(throttle.buckets, RedisBuckets):
                keys = [key async for key in throttle.buckets.redis.scan_iter(f"{prefix}:*")]
                if keys:
                    await throttle.buckets.redis.delete(*keys)
            await throttle.close()
    if phases[1].notice_text:
        print(f"  the notice the flooder got: {phases[1].notice_text!r}")
    alone = statistics.median(phases[0].calm_ms)
    print()
    for phase in phases[1:]:
        p50 = statistics.median(phase.calm_ms)
        print(
            f"{phase.name:<19} the calm user's p50 latency {p50:.1f} ms = {p50 / alone:.2f}x calm alone "
            f"({alone:.1f} ms); this process's CPU {phase.cpu_s:.1f} s (calm alone {phases[0].cpu_s:.1f} s)"
        )
    print(
        f"\nwhole run {time.perf_counter() - started:.0f} s; "
        f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="how long each phase lasts")
    parser.add_argument("--rate", type=float, default=50.0, help="the flooder's messages a second")
    parser.add_argument("--pause", type=float, default=0.4, help="the calm user reads each screen this long")
    parser.add_argument("--redis", metavar="URL", help="the throttle's buckets in Redis, e.g. redis://127.0.0.1/0")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
