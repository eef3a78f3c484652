"""``tripdesk demo`` as a person runs it: one command, one URL, the bot answering there, Ctrl-C stops it all within
about a second (the page's long poll open or not; a second Ctrl-C does not leave the temporary folder behind), and
every demo organiser's booking requests reach the organiser pane."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.config import Settings, load_settings
from bot.demo import (
    bot_environment,
    cast_for,
    create_guests,
    create_operators,
    fresh_database,
    import_demo_catalog,
    page_url,
    pick_organiser,
    run_demo,
)
from bot.storage.db import create_engine, session_factory
from bot.storage.tables import OrganiserRow
from sandbox.world import World
from tests.seed import ORGANISER_CHAT_ID, seed_catalog

START_TIMEOUT_S = 90.0  # a cold start imports aiogram twice (the demo and its bot) on a busy CI machine
URL_LINE = re.compile(r"^Tripdesk sandbox: open (http://\S+/) \(Ctrl-C to stop\)$")
WORKING_LINE = re.compile(r"^tripdesk demo: working in (\S+); the bot's log is (\S+) \((.*)\)$")
STOPPED_WITHIN_S = 2.5  # "about a second", with room for a busy CI machine


async def _start_demo(tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k.upper() not in ("BOT_TOKEN", "DATABASE_URL", "REDIS_URL")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
        start_new_session=True,  # a process group of its own, like a command typed in a terminal
    )


async def _stop(process: asyncio.subprocess.Process, ctrl_c: int = 1) -> tuple[int, str, float]:
    """Ctrl-C in the terminal (the demo and the bot both get it), ``ctrl_c`` times; the exit code, the rest of the
    output and how long the demo took to end."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(ctrl_c):
        if n:
            await asyncio.sleep(0.1)
        os.killpg(process.pid, signal.SIGINT)
    rest = await asyncio.wait_for(process.stdout.read(), 15)
    code = await asyncio.wait_for(process.wait(), 5)
    return code, rest.decode(errors="replace"), loop.time() - started


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to a process group")
async def test_demo_starts_serves_the_page_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    process = await _start_demo(tmp_path)
    lines: list[str] = []
    try:
        url = await asyncio.wait_for(_url_line(process, lines), START_TIMEOUT_S)
        working = WORKING_LINE.match(lines[0])  # the first thing said: where the work folder and the log are
        assert working is not None, lines[0]
        folder, log = Path(working.group(1)), Path(working.group(2))
        assert log == folder / "bot.log" and "--keep" in working.group(3)
        assert await asyncio.to_thread(lambda: (folder / "demo.db").exists() and log.exists())
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as page:
                assert page.status == 200 and "Tripdesk sandbox" in await page.text()
            async with http.get(url + "sandbox/web/cast") as answer:
                panes = (await answer.json())["panes"]
            assert [p["key"] for p in panes] == ["tourist1", "tourist2", "organiser", "operators"]
            anna = panes[0]["chat_id"]
            async with http.post(url + "sandbox/api/send", json={"user_id": anna, "text": "/start"}) as sent:
                assert sent.status == 200
            assert await _bot_answers(http, url, anna), "the bot process did not answer /start within 30 s"

            # The page is open: its long poll for events is held when Ctrl-C comes.
            version = (await (await http.get(url + "sandbox/api/state")).json())["version"]
            held = asyncio.create_task(http.get(url + "sandbox/api/events", params={"since": version, "timeout": 25}))
            await asyncio.sleep(0.5)
            code, rest, took = await _stop(process)
            held.cancel()
            await asyncio.gather(held, return_exceptions=True)
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    output = "\n".join(lines) + "\n" + rest
    assert code == 0, output
    assert "tripdesk demo: stopped" in output and "unexpectedly" not in output and "exited with" not in output
    assert took < STOPPED_WITHIN_S, f"Ctrl-C took {took:.1f} s to stop the demo with the page open"
    assert not await asyncio.to_thread(folder.exists), "the temporary folder was not removed"


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to a process group")
async def test_a_second_ctrl_c_still_removes_the_temporary_folder(tmp_path: Path) -> None:
    process = await _start_demo(tmp_path)
    lines: list[str] = []
    try:
        url = await asyncio.wait_for(_url_line(process, lines), START_TIMEOUT_S)
        folder = Path(WORKING_LINE.match(lines[0]).group(1))
        async with aiohttp.ClientSession() as http:
            version = (await (await http.get(url + "sandbox/api/state")).json())["version"]
            held = asyncio.create_task(http.get(url + "sandbox/api/events", params={"since": version, "timeout": 25}))
            await asyncio.sleep(0.5)
            code, rest, _ = await _stop(process, ctrl_c=2)
            held.cancel()
            await asyncio.gather(held, return_exceptions=True)
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    output = "\n".join(lines) + "\n" + rest
    assert code == 0 and "Traceback" not in output, output
    assert "tripdesk demo: stopped" in output
    assert not await asyncio.to_thread(folder.exists), "a second Ctrl-C left the temporary folder behind"


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to a process group")
async def test_keep_keeps_the_folder_and_the_bots_log(tmp_path: Path) -> None:
    process = await _start_demo(tmp_path, "--keep")
    lines: list[str] = []
    try:
        await asyncio.wait_for(_url_line(process, lines), START_TIMEOUT_S)
        working = WORKING_LINE.match(lines[0])
        assert working is not None and working.group(3) == "kept at the end", lines[0]
        folder, log = Path(working.group(1)), Path(working.group(2))
        code, rest, _ = await _stop(process)
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    try:
        assert code == 0, rest
        assert f"tripdesk demo: kept {folder} (the bot's log: {log})" in rest
        assert await asyncio.to_thread(lambda: log.stat().st_size > 0 and (folder / "demo.db").exists())
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)


async def test_every_demo_organiser_reaches_the_organiser_pane(tmp_path: Path) -> None:
    """Booking any event of the demo catalog sends its request to a chat the page shows (issue 10, item 18): before,
    only the first organiser had a chat, and every other booking request ended in "chat not found"."""
    database = tmp_path / "demo.db"
    await fresh_database(database)
    organiser, count = await import_demo_catalog(database, tmp_path / "demo.yaml", scale=1)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with session_factory(engine)() as db:
            rows = list(await db.scalars(select(OrganiserRow)))
    finally:
        await engine.dispose()
    assert count == len(rows) > 200

    world = World()
    operators, group = create_operators(world)
    people = create_guests(world, organiser, operators, group, organisers=count)
    pane = {p.key: p for p in cast_for(people, organiser)}["organiser"]
    assert {row.chat_id for row in rows} == {pane.chat_id}, "some organisers' requests go to a chat nobody sees"
    assert all(row.chat_id in world.users for row in rows)
    assert {row.language for row in rows} == {world.users[pane.chat_id].language_code}
    assert {row.confirm_within_s for row in rows} == {120}
    assert pane.note == f"plays all {count} organisers"


async def _url_line(process: asyncio.subprocess.Process, lines: list[str]) -> str:
    while True:
        raw = await process.stdout.readline()
        if not raw:
            raise AssertionError("the demo ended before printing its URL:\n" + "\n".join(lines))
        line = raw.decode(errors="replace").rstrip()
        lines.append(line)
        if match := URL_LINE.match(line):
            return match.group(1)


async def _bot_answers(http: aiohttp.ClientSession, url: str, chat_id: int, timeout: float = 30.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        async with http.get(url + "sandbox/api/transcript", params={"chat_id": str(chat_id)}) as answer:
            messages = (await answer.json())["messages"]
        if any(m["from"]["is_bot"] and m.get("reply_markup") for m in messages):
            return True
        await asyncio.sleep(0.2)
    return False


async def test_a_port_in_use_is_one_line_and_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as stopped:
            await run_demo(load_settings(), port=port)
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tripdesk demo: port {port} on 127.0.0.1 is already in use; choose another with --port"]


async def test_the_organiser_is_the_one_with_the_most_upcoming_sessions(sessions) -> None:
    now = datetime.now(UTC)
    await seed_catalog(sessions, now)
    organiser = await pick_organiser(sessions, now)
    # the cruise (confirmation required, two bookable sessions this week) beats the instant walk (one)
    assert (organiser.chat_id, organiser.language, organiser.event_title) == (ORGANISER_CHAT_ID, "et", "Islands cruise")
    assert (organiser.upcoming_sessions, organiser.event_code) == (2, "islands-cruise")


def test_the_bot_gets_the_demo_settings_and_none_of_the_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://somewhere:6379/0")
    monkeypatch.setenv("bot_token", "999:caller-token-xxxxxxxxxxxxxxxxxxxx")
    monkeypatch.setenv("PATH", "/usr/bin")
    env = bot_environment(Settings(), "http://127.0.0.1:8700", Path("/tmp/x/demo.db"), (3, 4), -1001000000001)
    assert "REDIS_URL" not in env and "bot_token" not in env and env["PATH"] == "/usr/bin"
    assert env["BOT_TOKEN"].startswith("123456789:") and env["TELEGRAM_API_URL"] == "http://127.0.0.1:8700"
    assert env["DATABASE_URL"] == "sqlite+aiosqlite:////tmp/x/demo.db"
    assert (env["OPERATOR_CHAT_ID"], env["ADMIN_IDS"]) == ("-1001000000001", "3,4")


def test_the_printed_url_reaches_a_wildcard_host_through_the_loopback() -> None:
    assert page_url("http://127.0.0.1:8700", "127.0.0.1") == "http://127.0.0.1:8700/"
    assert page_url("http://0.0.0.0:8711", "0.0.0.0") == "http://127.0.0.1:8711/"


@pytest.fixture
def sessions(sqlite_engine):
    return session_factory(sqlite_engine)
