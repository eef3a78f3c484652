"""The real-bot path when Telegram says no: ``python -m bot run`` with a token the Bot API emulator refuses, and
against a port nobody listens on. Each ends in one clear line and a non-zero exit: no traceback, no unclosed
client session."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from sandbox.limits import Limits
from sandbox.server import Emulator

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAE-startup-token-0000000000000000"
WRONG_TOKEN = "123456789:AAE-someone-elses-token-000000000000"  # well-formed, not the bot's
EXIT_TIMEOUT = 60.0  # importing aiogram alone takes seconds on a busy 2-core machine


async def run_bot(api_url: str, token: str, tmp_path: Path, **extra: str) -> tuple[int, str]:
    """``python -m bot run`` until it exits: (exit code, stderr)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BOT_", "TELEGRAM_", "DATABASE_", "WEBHOOK_", "METRICS_"))
    }
    env.update(
        BOT_TOKEN=token,
        TELEGRAM_API_URL=api_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        LOG_LEVEL="INFO",
        REDIS_URL="",
        PAYMENT_PROVIDER_TOKEN="",
        OPERATOR_CHAT_ID="",
        ADMIN_IDS="",
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), EXIT_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"the bot did not exit within {EXIT_TIMEOUT} s")
    assert process.returncode is not None
    return process.returncode, stderr.decode("utf-8", errors="replace")


def assert_one_clear_line(stderr: str, line: str) -> None:
    assert [text for text in stderr.splitlines() if text.startswith("tripdesk: ")] == [line], stderr
    assert "Traceback" not in stderr, stderr
    assert "Unclosed client session" not in stderr and "Unclosed connector" not in stderr, stderr


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_refused_token_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    emulator = Emulator(limits=Limits.off(), bot_token=TOKEN)  # serves only TOKEN's bot: 401 for any other
    await emulator.start(host="127.0.0.1", port=0)
    try:
        code, stderr = await run_bot(emulator.base_url, WRONG_TOKEN, tmp_path)
        refused = [c for c in emulator.world.calls if c.method == "getMe"]
    finally:
        await emulator.stop()
    assert code == 1
    assert_one_clear_line(stderr, "tripdesk: Telegram refused BOT_TOKEN (401 Unauthorized): check it with @BotFather")
    assert len(refused) == 1 and refused[0].status == 401  # refused once: nothing to retry


async def test_an_unreachable_telegram_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, stderr = await run_bot(url, TOKEN, tmp_path)
    assert code == 1
    [line] = [text for text in stderr.splitlines() if text.startswith("tripdesk: ")]
    assert line.startswith(f"tripdesk: cannot reach {url} after 3 tries: "), stderr
    assert_one_clear_line(stderr, line)
    retries = [text for text in stderr.splitlines() if "cannot reach" in text and "try " in text]
    assert len(retries) == 2  # one line per failed try before the last


@pytest.mark.parametrize(
    ("secret", "line"),
    [
        (
            "",
            "tripdesk: configuration error: WEBHOOK_SECRET: required with WEBHOOK_URL"
            " (16-256 characters: A-Z, a-z, 0-9, _ and -)",
        ),
        ("short", "tripdesk: configuration error: WEBHOOK_SECRET: must be 16-256 characters of A-Z, a-z, 0-9, _ and -"),
    ],
)
async def test_webhook_mode_without_a_usable_secret_is_one_line_and_exit_2(
    tmp_path: Path, secret: str, line: str
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"  # never reached: the settings are checked first
    code, stderr = await run_bot(url, TOKEN, tmp_path, WEBHOOK_URL="https://bot.example.com/tg", WEBHOOK_SECRET=secret)
    assert code == 2
    assert_one_clear_line(stderr, line)
