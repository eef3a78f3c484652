"""Handler tests: real updates through the real Dispatcher, every bot request validated against the Bot API.

Fixtures: ``recorder`` (the :class:`~tests.telegram.recorder.RecordingSession`), ``bot`` (a real aiogram Bot on it,
HTML by default like production), ``settings``, ``sessions`` (SQLite, migrated), ``seeded`` (the known catalog of
:mod:`tests.seed`), ``dp`` (``bot.app.build_dispatcher`` after its startup hooks ran) and ``chat`` (a private chat
with user 1001), ``handler_errors`` (exceptions the bot's errors router swallowed). After every test the recorder
must hold no violation and no handler may have crashed; a test that provokes a crash on purpose asserts on
``handler_errors`` and clears it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import ErrorEvent
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.config import Settings, load_settings
from bot.outbox import OutboxSender
from bot.ratelimit import Limits
from bot.storage.db import session_factory
from tests.conftest import FixedClock
from tests.handlers.chat import Chat
from tests.seed import ORGANISER_CHAT_ID, Seeded, seed_catalog
from tests.telegram.recorder import RecordingSession

TOKEN = "123456:AAE_test-token-for-tripdesk-000000"
OPERATOR_CHAT_ID = -100500
ADMIN_ID = 42
TOURIST_ID = 1001
OPERATOR_ID = 4001  # a member of the operator group
SECOND_OPERATOR_ID = 4002
STRANGER_ID = 6666  # not a member of the operator group, not an admin


@pytest.fixture
def recorder(clock: FixedClock) -> RecordingSession:
    return RecordingSession(now=clock.now)


@pytest.fixture
def handler_errors() -> list[BaseException]:
    """Exceptions handlers let through to the errors router (which apologises to the user and hides them)."""
    return []


@pytest.fixture(autouse=True)
def _requests_are_valid(recorder: RecordingSession, handler_errors: list[BaseException]) -> Iterator[None]:
    """Every request of every handler test must be one Telegram would accept, and no handler may crash.

    A test that provokes a crash on purpose asserts on ``handler_errors`` and then clears it.
    """
    yield
    assert recorder.violations == [], "the bot made requests Telegram would refuse:\n" + "\n".join(recorder.violations)
    assert handler_errors == [], (
        "a handler raised (the errors router apologised to the user and hid it): "
        + "; ".join(repr(e) for e in handler_errors)
        + " -- if the test expects it, assert on handler_errors and clear it"
    )


@pytest.fixture
async def bot(recorder: RecordingSession) -> AsyncIterator[Bot]:
    bot = Bot(token=TOKEN, session=recorder, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    yield bot
    await bot.session.close()


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        bot_token=None,
        database_url="sqlite+aiosqlite:///unused.db",
        operator_chat_id=OPERATOR_CHAT_ID,
        admin_ids=(ADMIN_ID,),
        catalog_refresh_seconds=0,  # tests change the catalog between updates: read its version every time
    )


@pytest.fixture
def sessions(sqlite_engine: AsyncEngine) -> async_sessionmaker:
    """Handler tests run on SQLite only (the storage itself is proven on both in tests/integration)."""
    return session_factory(sqlite_engine)


@pytest.fixture
async def seeded(sessions: async_sessionmaker, clock: FixedClock) -> Seeded:
    return await seed_catalog(sessions, clock.now())


@pytest.fixture
async def dp(
    settings: Settings, sessions: async_sessionmaker, clock: FixedClock, bot: Bot, handler_errors: list[BaseException]
) -> AsyncIterator[Dispatcher]:
    """The production Dispatcher, started the way ``start_polling`` starts it (so ``set_commands`` runs)."""
    from bot.app import build_dispatcher

    dispatcher = build_dispatcher(settings, sessions, clock=clock, storage=MemoryStorage())

    @dispatcher.errors()
    async def _record(event: ErrorEvent) -> None:
        handler_errors.append(event.exception)
        raise SkipHandler  # and on to the bot's own errors router

    workflow = {"dispatcher": dispatcher, "bots": [bot], **dispatcher.workflow_data}
    workflow.pop("bot", None)
    await dispatcher.emit_startup(bot=bot, **workflow)
    yield dispatcher
    await dispatcher.emit_shutdown(bot=bot, **workflow)
    await dispatcher.storage.close()
    detach_routers(dispatcher)


def detach_routers(dispatcher: Dispatcher) -> None:
    """The handler modules' routers are module-level singletons and aiogram attaches a router to one parent only;
    let go of them so the next test's ``build_dispatcher`` can include them again."""
    for router in dispatcher.sub_routers:
        router._parent_router = None
    dispatcher.sub_routers.clear()


@pytest.fixture
def chat(dp: Dispatcher, bot: Bot, recorder: RecordingSession) -> Chat:
    """A private chat with tourist 1001 (English)."""
    return Chat(dp, bot, recorder, TOURIST_ID, language_code="en", first_name="Anna")


@pytest.fixture
def operator_members(recorder: RecordingSession) -> set[int]:
    """Who ``getChatMember`` reports as a member of the operator group (add or remove ids in a test)."""
    members = {OPERATOR_ID, SECOND_OPERATOR_ID}

    def member(params: dict) -> dict:
        user_id = int(params["user_id"])
        status = "member" if int(params["chat_id"]) == OPERATOR_CHAT_ID and user_id in members else "left"
        return {"status": status, "user": {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}}

    recorder.stub("getChatMember", member)
    return members


def in_operator_group(dp: Dispatcher, bot: Bot, recorder: RecordingSession, user_id: int, first_name: str) -> Chat:
    """A user speaking and pressing in the operator group (a supergroup)."""
    return Chat(
        dp,
        bot,
        recorder,
        user_id,
        first_name=first_name,
        chat_id=OPERATOR_CHAT_ID,
        chat_type="supergroup",
        title="Tripdesk operators",
    )


@pytest.fixture
def operator_chat(dp: Dispatcher, bot: Bot, recorder: RecordingSession, operator_members: set[int]) -> Chat:
    """The operator group, as operator 4001 (Olga) speaks and presses in it."""
    return in_operator_group(dp, bot, recorder, OPERATOR_ID, "Olga")


@pytest.fixture
def stranger(dp: Dispatcher, bot: Bot, recorder: RecordingSession, operator_members: set[int]) -> Chat:
    """Someone in the operator group who is not an operator (a former member, a guest)."""
    return in_operator_group(dp, bot, recorder, STRANGER_ID, "Mallory")


@pytest.fixture
def sender(bot: Bot, sessions, dp: Dispatcher, clock) -> OutboxSender:
    """The outbox sender on the recording bot, without Telegram's pacing (tests that check the limits build their
    own)."""
    return OutboxSender(bot, sessions, dp["i18n"], clock, limits=Limits.unlimited())


@pytest.fixture
def organiser(dp: Dispatcher, bot: Bot, recorder: RecordingSession) -> Chat:
    """The seeded organiser's private chat (Estonian)."""
    return Chat(dp, bot, recorder, ORGANISER_CHAT_ID, language_code="et", first_name="Kapten")
