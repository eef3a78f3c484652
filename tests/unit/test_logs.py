"""bot/logs.py: the default text line is today's, with the update, chat and order only when known; LOG_FORMAT=json
gives one JSON object a line carrying them; each asyncio task keeps its own update's context."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator

import pytest

from bot.cli import main
from bot.logs import CHATTY, JsonFormatter, TextFormatter, configure_logging, order_context, update_context

# What the line looked like before bot/logs.py (logging.basicConfig's "%(asctime)s %(levelname)s %(name)s: ...").
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) (?P<logger>[\w.]+): (?P<rest>.*)$")
log = logging.getLogger("tripdesk.test_logs")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure_logging changes the root logger: put back its handlers and levels afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in CHATTY}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, chatty_level in chatty.items():
        logging.getLogger(name).setLevel(chatty_level)


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_text_is_the_readable_line_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "text")
    log.info("started %s", "polling")
    log.debug("not shown at INFO")

    (line,) = lines(capsys)
    match = TEXT_LINE.match(line)
    assert match is not None, line
    assert (match["level"], match["logger"], match["rest"]) == ("INFO", "tripdesk.test_logs", "started polling")


def test_text_names_the_update_chat_and_order_only_when_known(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "text")
    with update_context(7, 42):
        log.info("a")
        with order_context("ABC-DEF"):
            log.info("b")
    with update_context(8, None):
        log.info("c")
    log.info("d", extra={"chat_id": 5, "order_id": 17})
    log.info("e")

    rests = [m["rest"] for m in map(TEXT_LINE.match, lines(capsys)) if m]
    assert rests == [
        "a [update 7 chat 42]",
        "b [update 7 chat 42 order ABC-DEF]",
        "c [update 8]",
        "d [chat 5 order_id 17]",
        "e",
    ]


def test_json_lines_parse_and_carry_update_chat_and_order(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    with update_context(7, 42), order_context("ABC-DEF"):
        log.warning("paid %s", "twice")
        log.info("another order", extra={"order": "XYZ-QRS"})  # the record's own order wins
    log.info("nothing known")

    first, second, third = (json.loads(line) for line in lines(capsys))
    assert {k: v for k, v in first.items() if k != "time"} == {
        "level": "WARNING",
        "logger": "tripdesk.test_logs",
        "message": "paid twice",
        "update_id": 7,
        "chat_id": 42,
        "order": "ABC-DEF",
    }
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", first["time"])  # ISO 8601, UTC
    assert (second["order"], second["update_id"]) == ("XYZ-QRS", 7)
    assert set(third) == {"time", "level", "logger", "message"}


def test_json_carries_the_traceback_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    try:
        1 / 0  # noqa: B018  (the error is the point)
    except ZeroDivisionError:
        log.exception("handler failed\nsecond line")

    (line,) = lines(capsys)
    entry = json.loads(line)
    assert entry["message"] == "handler failed\nsecond line"
    assert entry["exc"].startswith("Traceback (most recent call last):")
    assert "ZeroDivisionError: division by zero" in entry["exc"]


async def test_each_task_keeps_its_own_update(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    both = asyncio.Barrier(2)

    async def handle(update_id: int, chat_id: int) -> None:
        with update_context(update_id, chat_id):
            await both.wait()  # both contexts are set before either logs
            log.info("handling")
            await asyncio.sleep(0)
            log.info("done")

    await asyncio.gather(handle(1, 100), handle(2, 200))
    log.info("outside")

    entries = [json.loads(line) for line in lines(capsys)]
    seen = {(e["message"], e.get("update_id"), e.get("chat_id")) for e in entries}
    assert seen == {
        ("handling", 1, 100),
        ("handling", 2, 200),
        ("done", 1, 100),
        ("done", 2, 200),
        ("outside", None, None),
    }


def test_configuring_again_replaces_the_handler_and_quiets_chatty_libraries() -> None:
    configure_logging("DEBUG", "text")
    handler = configure_logging("DEBUG", "json")

    ours = [h for h in logging.getLogger().handlers if isinstance(h.formatter, (JsonFormatter, TextFormatter))]
    assert ours == [handler]
    assert isinstance(handler.formatter, JsonFormatter)
    assert logging.getLogger().level == logging.DEBUG
    assert all(logging.getLogger(name).level == logging.WARNING for name in CHATTY)
    with pytest.raises(ValueError, match="text or json"):
        configure_logging("INFO", "xml")


def test_the_cli_logs_in_the_format_log_format_names(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert main(["catalog-schema"]) == 0
    capsys.readouterr()
    log.info("after the cli")

    (line,) = lines(capsys)
    assert json.loads(line)["message"] == "after the cli"
