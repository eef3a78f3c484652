"""Fewer C heaps for the bot's threads: glibc's ``M_ARENA_MAX`` set to :data:`ARENAS` at start.

glibc gives a thread that meets the main heap busy an arena of its own, up to eight per core, and memory freed in an
arena is kept for that arena. Every SQLite connection of the pool is an aiosqlite thread, so the bot ended up with
one C heap per connection, each holding the high-water mark of its own page cache and statements: 12 MiB of the
peak resident set in ``bench/memory.py`` (260 -> 248 MiB, 50 users in flight). Their allocations are small and
short next to the Python work each update does, and the threads spend their time in SQLite, not in ``malloc``.

This is the setting ``MALLOC_ARENA_MAX=2`` makes, the usual advice for threaded Python services; set from here so
the bot gets it however it is started (no wrapper script or unit file has to remember it). An operator's own
``MALLOC_ARENA_MAX`` wins. Nothing happens on a C library without ``mallopt`` (musl, macOS): their allocators do
not make a heap per thread this way. No library does this; it is one ``ctypes`` call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Set glibc's arena limit for the threads started from now on; True when it was set here."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = bool(mallopt(_M_ARENA_MAX, arenas) == 1)
    if not done:
        log.debug("mallopt(M_ARENA_MAX, %s) refused", arenas)
    return done
