"""The emulator's moving parts: long polling, webhooks, payments, flood limits, faults, the test API over HTTP, and a
real aiogram Dispatcher polling it. Every wait is bounded (``asyncio.wait_for`` / ``World.wait_for``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import Command, CommandObject
from aiogram.types import LabeledPrice, Message
from aiohttp import web

from sandbox.errors import CONFLICT_POLLING, CONFLICT_WEBHOOK
from sandbox.limits import Limits, TokenBucket, counts_as_message
from sandbox.server import Emulator
from sandbox.webhook import SECRET_HEADER
from sandbox.world import World
from tests.sandbox.test_emulator import (  # noqa: F401 - pytest fixtures, requested by parameter name
    BOT_ID,
    TOKEN,
    bot,
    close_bot,
    emulator,
    http,
    keyboard,
    raw,
    world,
)


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def next_update(bot: Bot, offset: int | None = None, timeout: int = 5) -> Any:
    (update,) = await asyncio.wait_for(bot.get_updates(offset=offset, timeout=timeout), timeout + 2)
    return update


# ---- long polling --------------------------------------------------------------------------------------------------


async def test_long_poll_wakes_on_a_user_message(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await world.wait_for(lambda: world.poller is not None, timeout=5)
    await world.user_sends(anna.id, "/start promo42")
    (update,) = await asyncio.wait_for(poll, 3)  # far sooner than the 20 s poll timeout
    assert update.message.text == "/start promo42"
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [("bot_command", 0, 6)]
    assert update.message.from_user.language_code == "en"


async def test_offsets_confirm_updates_and_limit_caps_the_batch(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    for text in ("one", "two", "three"):
        await world.user_sends(anna.id, text)
    batch = await bot.get_updates(limit=2)
    assert [u.message.text for u in batch] == ["one", "two"]
    again = await bot.get_updates()  # nothing confirmed yet
    assert [u.message.text for u in again] == ["one", "two", "three"]
    rest = await bot.get_updates(offset=batch[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["three"]
    assert [u.message.text for u in await bot.get_updates()] == ["three"]
    await world.user_sends(anna.id, "four")
    assert [u.message.text for u in await bot.get_updates(offset=-1)] == ["four"]  # the last one only
    assert [u.message.text for u in await bot.get_updates()] == ["four"]  # earlier ones forgotten
    assert await bot.get_updates(offset=rest[0].update_id + 100, timeout=0) == []


async def test_allowed_updates_filter_is_remembered(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    sent = await bot.send_message(anna.id, "Pick", reply_markup=keyboard("a"))
    assert await bot.get_updates(allowed_updates=["message"]) == []
    await world.user_presses(anna.id, anna.id, sent.message_id, "a")  # filtered out when created
    await world.user_sends(anna.id, "text")
    assert [u.message.text for u in await bot.get_updates()] == ["text"]  # the filter stays without the field
    updates = await bot.get_updates(allowed_updates=[])  # back to the default set
    await world.user_presses(anna.id, anna.id, sent.message_id, "a")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert updates[0].callback_query.data == "a"


async def test_a_second_concurrent_poller_gets_409(emulator: Emulator, bot: Bot) -> None:
    other = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)))
    try:
        first = asyncio.create_task(bot.get_updates(timeout=10))
        await emulator.world.wait_for(lambda: emulator.world.poller is not None, timeout=5)
        with pytest.raises(TelegramConflictError) as caught:
            await other.get_updates(timeout=1)
        assert caught.value.message == CONFLICT_POLLING
        first.cancel()  # the client goes away: its poll ends and the next poller is welcome
        with pytest.raises(asyncio.CancelledError):
            await first
        await emulator.world.wait_for(lambda: emulator.world.poller is None, timeout=5)
        assert await other.get_updates(timeout=0) == []
    finally:
        await close_bot(other)


# ---- webhook ---------------------------------------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[dict[str, Any]]:
    """A tiny webhook endpoint: records (headers, update) and answers with ``state["answers"]`` in turn."""
    state: dict[str, Any] = {"got": [], "answers": [], "event": asyncio.Event()}

    async def hook(request: web.Request) -> web.Response:
        state["got"].append((dict(request.headers), await request.json()))
        state["event"].set()
        answer = state["answers"].pop(0) if state["answers"] else web.json_response({})
        return answer

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state["url"] = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield state
    await runner.cleanup()


async def test_webhook_gets_each_update_with_the_secret_header(
    emulator: Emulator, bot: Bot, receiver: dict[str, Any]
) -> None:
    emulator.webhook.backoff = 0.05
    world = emulator.world
    anna = world.add_user("Anna")
    assert await bot.set_webhook(receiver["url"], secret_token="s3cret_token-1", drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert info.url == receiver["url"] and info.pending_update_count == 0
    with pytest.raises(TelegramConflictError) as caught:
        await bot.get_updates()
    assert caught.value.message == CONFLICT_WEBHOOK
    receiver["answers"] = [web.Response(status=500)]  # the first delivery fails and is retried
    await world.user_sends(anna.id, "hello over webhook")
    await world.wait_for(lambda: len(receiver["got"]) == 2 and not world.bot.updates, timeout=5)
    (headers, update), (_headers, retried) = receiver["got"]
    assert headers[SECRET_HEADER] == "s3cret_token-1"
    assert update == retried and update["message"]["text"] == "hello over webhook"
    info = await bot.get_webhook_info()
    assert info.last_error_message.startswith("Wrong response from the webhook: 500")
    # a method in the webhook's answer is executed, as Telegram does
    receiver["answers"] = [web.json_response({"method": "sendMessage", "chat_id": anna.id, "text": "Got it"})]
    await world.user_sends(anna.id, "ping")
    await world.wait_for(lambda: world.transcript(anna.id)[-1].get("text") == "Got it", timeout=5)
    assert await bot.delete_webhook() is True
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == []


# ---- replies from users --------------------------------------------------------------------------------------------


async def test_a_users_reply_carries_the_replied_to_message(bot: Bot, world: World) -> None:
    organiser = world.add_user("Baltic Boats")
    request = await bot.send_message(organiser.id, "Booking 17 for 2 adults: confirm?")
    await world.user_sends(organiser.id, "yes", reply_to=request.message_id)
    update = await next_update(bot)
    assert update.message.reply_to_message.message_id == request.message_id
    assert update.message.reply_to_message.text == "Booking 17 for 2 adults: confirm?"
    assert update.message.reply_to_message.from_user.id == BOT_ID
    with pytest.raises(ValueError, match="no message 999"):
        await world.user_sends(organiser.id, "no", reply_to=999)


# ---- payments ------------------------------------------------------------------------------------------------------


async def send_invoice(bot: Bot, chat_id: int, payload: str = "order:17") -> Message:
    return await bot.send_invoice(
        chat_id,
        "Islands cruise",
        "2 adults",
        payload,
        "EUR",
        [LabeledPrice(label="Adults", amount=9000)],
        provider_token="sandbox",
    )


async def test_paying_an_invoice_sends_pre_checkout_then_successful_payment(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    invoice = await send_invoice(bot, anna.id)
    paying = asyncio.create_task(world.user_pays(anna.id, anna.id, invoice.message_id))
    first = await next_update(bot)
    query = first.pre_checkout_query
    assert (query.invoice_payload, query.total_amount, query.currency, query.from_user.id) == (
        "order:17",
        9000,
        "EUR",
        anna.id,
    )
    assert await bot.answer_pre_checkout_query(query.id, ok=True) is True
    result = await asyncio.wait_for(paying, 5)
    assert result["ok"] is True
    payment = (await next_update(bot, offset=first.update_id + 1)).message.successful_payment
    assert payment.invoice_payload == "order:17" and payment.total_amount == 9000
    assert payment.telegram_payment_charge_id.startswith("sandbox_tg_")
    assert payment.telegram_payment_charge_id != payment.provider_payment_charge_id
    with pytest.raises(ValueError, match="paid already"):
        await world.user_pays(anna.id, anna.id, invoice.message_id)


async def test_a_refused_pre_checkout_means_no_payment(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    invoice = await send_invoice(bot, anna.id)
    paying = asyncio.create_task(world.user_pays(anna.id, anna.id, invoice.message_id))
    query = (await next_update(bot)).pre_checkout_query
    await bot.answer_pre_checkout_query(query.id, ok=False, error_message="Sold out, sorry")
    assert await asyncio.wait_for(paying, 5) == {"ok": False, "error": "Sold out, sorry"}
    assert not any("successful_payment" in m for m in world.transcript(anna.id))
    with pytest.raises(Exception, match="query is too old"):
        await bot.answer_pre_checkout_query(query.id, ok=True)  # answered already


async def test_an_unanswered_pre_checkout_times_out(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    invoice = await send_invoice(bot, anna.id)
    result = await world.user_pays(anna.id, anna.id, invoice.message_id, timeout=0.2)
    assert result["ok"] is False and "did not answer" in result["error"]


# ---- flood limits --------------------------------------------------------------------------------------------------


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=1.0, capacity=3)
    for _ in range(3):
        assert bucket.wait(0.0) == 0
        bucket.take(0.0)
    assert bucket.wait(0.0) == pytest.approx(1.0)
    assert bucket.wait(0.5) == pytest.approx(0.5)
    assert bucket.wait(1.0) == 0
    assert counts_as_message("sendPhoto") and counts_as_message("copyMessage")
    assert not counts_as_message("editMessageText") and not counts_as_message("sendChatAction")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def limited(emulator: Emulator, clock: ManualClock) -> World:
    emulator.world.limits = Limits(clock=clock)
    return emulator.world


async def test_private_chat_allows_a_burst_then_1_per_second(bot: Bot, limited: World, clock: ManualClock) -> None:
    anna = limited.add_user("Anna")
    sent = [await bot.send_message(anna.id, f"m{i}") for i in range(3)]
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(anna.id, "too fast")
    assert caught.value.retry_after == 1
    assert limited.calls[-1].status == 429
    assert limited.calls[-1].response["parameters"] == {"retry_after": 1}
    await bot.edit_message_text("edits are free", chat_id=anna.id, message_id=sent[0].message_id)
    clock.now += 1
    await bot.send_message(anna.id, "after a second")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(anna.id, "again too fast")


async def test_group_allows_20_per_minute(bot: Bot, limited: World, clock: ManualClock) -> None:
    group, other = limited.add_group("Operators"), limited.add_group("Organisers")
    for i in range(20):  # a burst of 20 at once is fine in a group
        await bot.send_message(group.id, f"alert {i}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(group.id, "alert 21")
    assert caught.value.retry_after == 3  # one message per 3 s on average
    await bot.send_message(other.id, "another group has its own budget")
    clock.now += 2
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(group.id, "alert 21")
    assert caught.value.retry_after == 1
    clock.now += 1
    await bot.send_message(group.id, "alert 21")


async def test_overall_limit_is_30_per_second(bot: Bot, limited: World, clock: ManualClock) -> None:
    users = [limited.add_user(f"U{i}") for i in range(31)]
    for user in users[:30]:
        await bot.send_message(user.id, "news")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(users[30].id, "news")
    assert caught.value.retry_after == 1
    clock.now += 0.01  # 0.3 of a token
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(users[30].id, "news")
    clock.now += 0.03  # 1.2 tokens
    await bot.send_message(users[30].id, "news")


async def test_429_carries_a_retry_after_header(limited: World, http: aiohttp.ClientSession) -> None:
    anna = limited.add_user("Anna")
    for _ in range(3):
        assert (await raw(http, "sendMessage", json={"chat_id": anna.id, "text": "x"}))[0] == 200
    status, body, headers = await raw(http, "sendMessage", json={"chat_id": anna.id, "text": "x"})
    assert status == 429 and headers["Retry-After"] == "1"
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }


# ---- faults ----------------------------------------------------------------------------------------------------------


async def test_faults_5xx_then_recovery(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    world.fail_next(2, "5xx")
    await bot.get_me()  # not a sending method: unaffected by default
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(anna.id, "hi")
    await bot.send_message(anna.id, "hi")
    assert [c.status for c in world.calls_of("sendMessage")] == [500, 500, 200]


async def test_fault_429_with_retry_after(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    world.fail_next(1, "429", retry_after=7, methods=["sendMessage"])
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(anna.id, "hi")
    assert caught.value.retry_after == 7


async def test_fault_timeout_holds_the_request_until_the_client_gives_up(bot: Bot, world: World) -> None:
    world.fail_next(1, "timeout", methods=["getMe"])
    started = asyncio.get_running_loop().time()
    with pytest.raises(TelegramNetworkError, match="Request timeout error"):
        await bot.get_me(request_timeout=1)
    assert asyncio.get_running_loop().time() - started < 5
    assert world.calls[-1].fault == "timeout" and world.calls[-1].status == 0
    assert (await bot.get_me()).id == BOT_ID


async def test_faults_can_hit_get_updates(bot: Bot, world: World, http: aiohttp.ClientSession) -> None:
    async with http.post("/sandbox/api/faults", json={"kind": "5xx", "count": 1, "methods": ["getUpdates"]}) as r:
        assert r.status == 200
    with pytest.raises(TelegramServerError):
        await bot.get_updates()
    assert await bot.get_updates() == []


# ---- the HTTP test API ---------------------------------------------------------------------------------------------


async def api(http: aiohttp.ClientSession, verb: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.request(verb, f"/sandbox/api{path}", **kwargs) as resp:
        return resp.status, await resp.json()


async def test_the_http_test_api_plays_every_role(bot: Bot, world: World, http: aiohttp.ClientSession) -> None:
    status, anna = await api(http, "POST", "/users", json={"first_name": "Anna", "language_code": "de"})
    assert status == 200 and anna["language_code"] == "de"
    _, olga = await api(http, "POST", "/users", json={"first_name": "Olga", "language_code": "en"})
    _, group = await api(http, "POST", "/groups", json={"title": "Operators", "members": [olga["id"]], "forum": True})
    assert group["id"] < 0 and group["is_forum"] is True
    _, message = await api(http, "POST", "/send", json={"user_id": anna["id"], "text": "/start"})
    assert message["entities"][0]["type"] == "bot_command"
    card = await bot.send_message(anna["id"], "Cancel?", reply_markup=keyboard("cancel:1"))
    _, pressed = await api(
        http,
        "POST",
        "/press",
        json={"user_id": anna["id"], "chat_id": anna["id"], "message_id": card.message_id, "callback_data": "cancel:1"},
    )
    assert pressed["callback_query_id"]
    await bot.answer_callback_query(pressed["callback_query_id"], text="Done")
    _, contact = await api(http, "POST", "/contact", json={"user_id": anna["id"]})
    assert contact["contact"]["phone_number"].startswith("+372")
    assert (await api(http, "POST", "/block", json={"user_id": anna["id"], "blocked": True}))[1] == {"ok": True}
    assert world.users[anna["id"]].blocked
    await api(http, "POST", "/block", json={"user_id": anna["id"], "blocked": False})
    assert (
        await api(http, "POST", "/membership", json={"user_id": anna["id"], "chat_id": group["id"], "member": True})
    )[0] == 200
    _, reply = await api(http, "POST", "/send", json={"user_id": anna["id"], "chat_id": group["id"], "text": "hi"})
    assert reply["chat"]["id"] == group["id"]
    _, state = await api(http, "GET", "/state")
    assert {u["first_name"] for u in state["users"]} == {"Anna", "Olga"} and state["bot"]["id"] == BOT_ID
    _, transcript = await api(http, "GET", "/transcript", params={"chat_id": anna["id"]})
    assert [m.get("text") for m in transcript["messages"]] == ["/start", "Cancel?", None]
    assert transcript["messages"][2]["contact"]["user_id"] == anna["id"]
    _, calls = await api(http, "GET", "/calls", params={"since": 0})
    assert [c["method"] for c in calls["calls"]] == ["sendMessage", "answerCallbackQuery"]
    _, later = await api(http, "GET", "/calls", params={"since": calls["next"]})
    assert later["calls"] == []
    # errors: 404 for unknown things, 400 for bad input
    assert (await api(http, "POST", "/send", json={"user_id": 1, "text": "x"}))[0] == 404
    assert (await api(http, "POST", "/send", json={"user_id": anna["id"]}))[0] == 400
    status, body = await api(http, "POST", "/faults", json={"kind": "meteor", "count": 1})
    assert status == 400 and body["ok"] is False and "meteor" in body["error"]
    assert (await api(http, "GET", "/transcript", params={"chat_id": "abc"}))[0] == 400


async def test_pay_over_http_reports_a_refusal(bot: Bot, world: World, http: aiohttp.ClientSession) -> None:
    anna = world.add_user("Anna")
    invoice = await send_invoice(bot, anna.id)

    async def refuse() -> None:
        query = (await next_update(bot)).pre_checkout_query
        await bot.answer_pre_checkout_query(query.id, ok=False, error_message="Session cancelled")

    refusing = asyncio.create_task(refuse())
    status, body = await api(
        http, "POST", "/pay", json={"user_id": anna.id, "chat_id": anna.id, "message_id": invoice.message_id}
    )
    await asyncio.wait_for(refusing, 5)
    assert (status, body) == (200, {"ok": False, "error": "Session cancelled"})


async def test_events_long_poll_reports_changed_chats_and_alerts(
    bot: Bot, world: World, http: aiohttp.ClientSession
) -> None:
    anna = world.add_user("Anna")
    since = world.version
    waiting = asyncio.create_task(api(http, "GET", "/events", params={"since": since, "timeout": 10}))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await world.user_sends(anna.id, "hi")
    status, events = await asyncio.wait_for(waiting, 3)
    assert status == 200 and events["version"] > since and anna.id in events["chats"]
    card = await bot.send_message(anna.id, "Pick", reply_markup=keyboard("x"))
    query_id = await world.user_presses(anna.id, anna.id, card.message_id, "x")
    mark = world.version
    await bot.answer_callback_query(query_id, text="Booked!", show_alert=True)
    _, events = await api(http, "GET", "/events", params={"since": mark, "timeout": 1})
    assert events["alerts"][0]["text"] == "Booked!" and events["alerts"][0]["show_alert"] is True
    _, quiet = await api(http, "GET", "/events", params={"since": world.version, "timeout": 0.1})
    assert quiet["chats"] == [] and quiet["alerts"] == []


async def test_transcript_over_http_shows_edits_and_deletions(
    bot: Bot, world: World, http: aiohttp.ClientSession
) -> None:
    anna = world.add_user("Anna")
    card = await bot.send_message(anna.id, "Order 17: awaiting payment", reply_markup=keyboard("pay:17"))
    await bot.edit_message_text("Order 17: paid", chat_id=anna.id, message_id=card.message_id)
    await bot.edit_message_text("Order 17: <b>ticket issued</b>", chat_id=anna.id, message_id=card.message_id)
    note = await bot.send_message(anna.id, "temporary")
    await bot.delete_message(anna.id, note.message_id)
    _, body = await api(http, "GET", "/transcript", params={"chat_id": anna.id})
    first, second = body["messages"]
    assert first["text"] == "Order 17: ticket issued" and first["deleted"] is False
    assert first["original"]["text"] == "Order 17: awaiting payment"
    assert [e["text"] for e in first["edits"]] == ["Order 17: paid", "Order 17: ticket issued"]
    assert first["edits"][1]["entities"][0]["type"] == "bold"
    assert all("reply_markup" not in e for e in first["edits"])
    assert second["text"] == "temporary" and second["deleted"] is True


async def test_a_crash_inside_a_route_is_a_500_json(
    world: World, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(world, "state", boom)
    status, body = await api(http, "GET", "/state")
    assert status == 500 and body["ok"] is False


# ---- a real Dispatcher -------------------------------------------------------------------------------------------


async def test_a_real_dispatcher_polling_the_emulator_answers_a_user(emulator: Emulator) -> None:
    world = emulator.world
    anna = world.add_user("Anna")
    router = Router(name="echo")

    @router.message(Command("start"))
    async def cmd_start(message: Message, command: CommandObject) -> None:
        await message.answer(f"Welcome! code=<b>{command.args}</b>")

    @router.message()
    async def on_text(message: Message) -> None:
        await message.reply(message.text.upper())

    dp = Dispatcher()
    dp.include_router(router)
    bot = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=5, close_bot_session=False)
    )
    try:
        await world.user_sends(anna.id, "/start promo42")
        await world.user_sends(anna.id, "hello")

        def texts() -> list[str | None]:
            return [m.get("text") for m in world.transcript(anna.id)]

        await world.wait_for(lambda: len(texts()) == 4, timeout=10)
        assert texts() == ["/start promo42", "hello", "Welcome! code=promo42", "HELLO"]
        assert world.transcript(anna.id)[3]["reply_to_message_id"] == 2
    finally:
        await asyncio.wait_for(dp.stop_polling(), 10)
        await asyncio.wait_for(polling, 10)
        await close_bot(bot)
    assert [c.method for c in world.calls if c.status not in (0, 200)] == []  # 0: the poll stop_polling cut


# ---- the command line --------------------------------------------------------------------------------------------


async def test_python_m_sandbox_prints_its_url() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert "http://127.0.0.1:" in line
        url = line.split("TELEGRAM_API_URL=")[1].split(")")[0]
        async with aiohttp.ClientSession() as session, session.get(f"{url}/sandbox/api/state") as resp:
            assert resp.status == 200 and (await resp.json())["version"] >= 0
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
