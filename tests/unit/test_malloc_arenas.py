"""The bot's C heaps: glibc's arena limit is set at start, unless the operator set their own or there is no glibc."""

from __future__ import annotations

import ctypes.util
import platform

import pytest

from bot import malloc_arenas
from bot.malloc_arenas import limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_the_limit_is_set_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas()


def test_the_operators_own_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    calls: list[str | None] = []
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: calls.append(name))
    assert not limit_malloc_arenas()
    assert calls == []  # not even looked for


def test_nothing_happens_without_a_c_library_that_has_mallopt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert not limit_malloc_arenas()

    class NoMallopt:
        def __init__(self, name: str) -> None:
            pass

        def __getattr__(self, attribute: str) -> object:
            raise AttributeError(attribute)

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: "libc.so.6")
    monkeypatch.setattr(malloc_arenas.ctypes, "CDLL", NoMallopt)
    assert not limit_malloc_arenas()
