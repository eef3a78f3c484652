"""bot/routing.py: presses skip the routers none of whose handlers takes their prefix, sync filters run on the loop,
and every update still reaches the handler it reached before."""

from __future__ import annotations

import threading

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Update

from bot.routing import PrefixGate, tune_routing

BOT = Bot("123456:AAE_test-token-for-tripdesk-000000")


class ACb(CallbackData, prefix="a"):
    n: int


class AbCb(CallbackData, prefix="ab"):
    n: int


class Rig:
    def __init__(self) -> None:
        self.reached: list[str] = []
        self.checked_in_a: list[str] = []  # presses router ``a``'s handler looked at
        self.filter_threads: set[int] = set()
        self.a, self.ab, self.any = Router(name="a"), Router(name="ab"), Router(name="any")
        self.buttons = Router(name="buttons")  # a and ab: only CallbackData presses, so gated
        self.buttons.include_routers(self.a, self.ab)
        self.dp = Dispatcher()
        self.dp.include_routers(self.buttons, self.any)

        async def looked_at(query: CallbackQuery) -> bool:
            self.checked_in_a.append(query.data or "")
            return True

        def on_which_thread(query: CallbackQuery) -> bool:  # a plain function: aiogram would run it in a thread
            self.filter_threads.add(threading.get_ident())
            return True

        @self.a.callback_query(looked_at, ACb.filter())
        async def on_a(query: CallbackQuery, callback_data: ACb) -> None:
            self.reached.append(f"a{callback_data.n}")

        @self.ab.callback_query(AbCb.filter(), F.data.startswith("ab:"), on_which_thread)
        async def on_ab(query: CallbackQuery, callback_data: AbCb) -> None:
            self.reached.append(f"ab{callback_data.n}")

        @self.any.callback_query()
        async def on_any(query: CallbackQuery) -> None:
            self.reached.append(f"any:{query.data}")

    async def press(self, data: str | None, update_id: int = 1) -> None:
        query = {"id": "q1", "from": {"id": 5, "is_bot": False, "first_name": "T"}, "chat_instance": "c"}
        if data is not None:
            query["data"] = data
        await self.dp.feed_update(BOT, Update.model_validate({"update_id": update_id, "callback_query": query}))


def gates(router: Router) -> list[PrefixGate]:
    return [f.callback for f in router.callback_query._handler.filters or () if isinstance(f.callback, PrefixGate)]


async def test_each_press_reaches_the_same_handler_and_skips_routers_without_its_prefix() -> None:
    rig = Rig()
    tune_routing(rig.dp)
    for i, data in enumerate(["a:1", "ab:2", "zz:3", "a", None], start=1):
        await rig.press(data, update_id=i)
    assert rig.reached == ["a1", "ab2", "any:zz:3", "any:a", "any:None"]
    # "ab:2", "zz:3" and no data never met router a's filters; "a" has its prefix (and fails the unpack, as before)
    assert rig.checked_in_a == ["a:1", "a"]


async def test_only_routers_whose_presses_all_need_callback_data_are_gated_and_only_once() -> None:
    rig = Rig()
    tune_routing(rig.dp)
    tune_routing(rig.dp)  # every dispatcher a process builds tunes the same module-level routers
    [gate] = gates(rig.buttons)
    assert gate.prefixes == {":": frozenset({"a", "ab"})}
    assert [g.prefixes for g in gates(rig.a)] == [{":": frozenset({"a"})}]
    assert gates(rig.any) == [] and gates(rig.dp) == []  # a catch-all: anything may reach it


async def test_sync_filters_run_on_the_loop_not_in_a_thread() -> None:
    rig = Rig()
    tune_routing(rig.dp)
    await rig.press("ab:7")
    assert rig.reached == ["ab7"]
    assert rig.filter_threads == {threading.get_ident()}
