"""The process plumbing of ``tripdesk demo`` (:mod:`bot.demo`): waiting unless Ctrl-C comes first, what Ctrl-C and
SIGTERM do (the first stops, another one hurries the bot along while the clean-up still runs), stopping the bot
process, and the end of its log when it died."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

# The bot stops in a quarter of a second, but the interpreter's own teardown after that takes seconds more: the
# demo does not wait for it (a bot killed at any point loses nothing: its inbox and outbox are in the database).
STOP_TIMEOUT_S = 1.0
STOP_GRACE_S = 1.0
LOG_TAIL_LINES = 25

T = TypeVar("T")


class Stopped(Exception):
    """Ctrl-C or SIGTERM arrived while the demo was waiting for something."""


async def unless_stopped(awaitable: Awaitable[T], stop: asyncio.Event) -> T:
    """``await awaitable``, unless ``stop`` is set first: then it is cancelled and :class:`Stopped` raised."""
    work = asyncio.ensure_future(awaitable)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not work.done():
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
    if work.cancelled():
        raise Stopped
    return work.result()


async def stopping(stop: asyncio.Event, grace: float = STOP_GRACE_S) -> bool:
    """Whether a stop was asked for, or is within ``grace`` seconds (its signal may still be on its way)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), grace)
    return stop.is_set()


async def stop_process(
    process: asyncio.subprocess.Process, timeout: float = STOP_TIMEOUT_S, hurry: asyncio.Event | None = None
) -> None:
    """SIGTERM, up to ``timeout`` seconds for a clean exit (or until ``hurry`` is set: a second Ctrl-C), then
    SIGKILL."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    exited = asyncio.ensure_future(process.wait())
    hurried = asyncio.ensure_future((hurry or asyncio.Event()).wait())
    try:
        await asyncio.wait({exited, hurried}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        hurried.cancel()
    if not exited.done():
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    await exited


def died_line(code: int | None, log_path: Path) -> str:
    last = tail(log_path, LOG_TAIL_LINES)
    how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
    lines = [f"the bot process {how}; the end of its log {log_path}:"]
    lines += [f"  | {line}" for line in last] or ["  | (the log is empty)"]
    return "\n".join(lines)


def tail(path: Path, count: int) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return [line.rstrip("\n") for line in deque(file, maxlen=count)]
    except OSError:
        return []


@dataclass
class Signals:
    """What Ctrl-C and SIGTERM do: the first sets ``stop``; another one while stopping sets ``hurry`` (the bot is
    killed instead of waited for), and the clean-up carries on."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    hurry: asyncio.Event = field(default_factory=asyncio.Event)

    def received(self) -> None:
        if not self.stop.is_set():
            self.stop.set()
            return
        if not self.hurry.is_set():
            print("tripdesk demo: stopping now; the clean-up still runs", file=sys.stderr, flush=True)
        self.hurry.set()


def on_signals(signals: Signals) -> Callable[[], None]:
    """Ctrl-C and SIGTERM reach ``signals`` instead of raising; returns the function that restores the handlers."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, signals.received)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
            pass

    def restore() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return restore
