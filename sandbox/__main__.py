"""``python -m sandbox --port 8081``: the Bot API emulator alone, until Ctrl-C.

Point the bot at it with ``TELEGRAM_API_URL=<the printed URL>``; drive it with the test API under
``/sandbox/api`` (see docs/sandbox.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from sandbox.control import API_PREFIX
from sandbox.limits import Limits
from sandbox.server import Emulator
from sandbox.state import DEFAULT_BOT_USERNAME


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Local Telegram Bot API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 = any free port")
    parser.add_argument("--token", default=None, help="accept only this bot token (default: the first one used)")
    parser.add_argument("--username", default=DEFAULT_BOT_USERNAME, help="the bot's @username")
    parser.add_argument("--no-limits", action="store_true", help="no flood limits (no 429 answers)")
    parser.add_argument("--no-privacy", action="store_true", help="the bot sees every group message")
    parser.add_argument("--log-level", default="INFO")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    emulator = Emulator(
        limits=Limits.off() if args.no_limits else Limits(),
        bot_token=args.token,
        bot_username=args.username,
        privacy_mode=not args.no_privacy,
    )
    await emulator.start(args.host, args.port)
    print(f"Bot API emulator: {emulator.base_url}  (TELEGRAM_API_URL={emulator.base_url})", flush=True)
    print(f"test API: {emulator.base_url}{API_PREFIX}/state", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
