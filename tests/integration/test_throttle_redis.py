"""The throttle's buckets in Redis (bot/throttle.py): the Lua script steps a bucket exactly as the pure function does
(the same cases as tests/handlers/test_throttle.py), two replicas share one user's bucket, idle keys expire, and a
Redis that does not answer lets every update through.

Needs a Redis server: ``TEST_REDIS_URL`` (``.ci/run`` sets it); skipped with that reason otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.throttle import BURST, Bucket, RedisBuckets, Throttle, Verdict, build_throttle
from tests.handlers.test_throttle import BUCKET_CASES, LIMITS, START, Stopwatch, run_case

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="Redis not configured: set TEST_REDIS_URL (redis://127.0.0.1:6379/15)"
)

FLOODER, CALM = 3001, 3002


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    from redis.asyncio import Redis

    prefix = f"tripdesk-test-throttle-{uuid.uuid4().hex[:10]}"
    yield prefix
    redis = Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


@pytest.fixture
async def replicas(prefix: str) -> AsyncIterator[tuple[Throttle, Throttle, Stopwatch]]:
    """Two throttles as two processes would build them (a Redis client each), on one hand-moved clock."""
    stopwatch = Stopwatch()
    first = build_throttle(REDIS_URL, monotonic=stopwatch, prefix=prefix)
    second = build_throttle(REDIS_URL, monotonic=stopwatch, prefix=prefix)
    yield first, second, stopwatch
    await first.close()
    await second.close()


def stored(raw: dict[Any, Any]) -> Bucket:
    """The bucket as the script left it in the user's hash."""
    return Bucket(float(raw[b"tokens"]), float(raw[b"updated"]), raw[b"flooding"] == b"1")


@pytest.mark.parametrize("case", list(BUCKET_CASES))
async def test_the_script_steps_a_bucket_as_the_pure_function_does(
    case: str, replicas: tuple[Throttle, Throttle, Stopwatch]
) -> None:
    throttle, _, stopwatch = replicas
    assert isinstance(throttle.buckets, RedisBuckets)
    gaps, expected = BUCKET_CASES[case]
    stopwatch.now = START
    verdicts = []
    for gap, (bucket, verdict) in zip(gaps, run_case(gaps), strict=True):
        stopwatch.now += gap
        verdicts.append(await throttle.admit(FLOODER))
        assert verdicts[-1] is verdict
        assert stored(await throttle.buckets.redis.hgetall(throttle.buckets.key(FLOODER))) == bucket  # to the bit
    assert "".join(v.name[0] for v in verdicts) == expected


async def test_a_flood_split_over_two_replicas_gets_the_burst_and_one_notice_in_total(
    replicas: tuple[Throttle, Throttle, Stopwatch],
) -> None:
    first, second, _ = replicas
    # 60 updates at once, half to each replica, all in flight together: the script must hand out each token once
    verdicts = await asyncio.gather(*((first if i % 2 else second).admit(FLOODER) for i in range(60)))
    assert Counter(verdicts) == {Verdict.PASS: BURST, Verdict.NOTIFY: 1, Verdict.DROP: 60 - BURST - 1}


async def test_a_calm_user_is_never_throttled_while_another_floods_both_replicas(
    replicas: tuple[Throttle, Throttle, Stopwatch],
) -> None:
    first, second, stopwatch = replicas
    flood: Counter[Verdict] = Counter()
    calm: Counter[Verdict] = Counter()
    for tick in range(100):  # ten seconds: the flooder sends 50 a second, the calm user two
        stopwatch.now += 0.1
        flood.update(await asyncio.gather(*((first, second)[i % 2].admit(FLOODER) for i in range(5))))
        if tick % 5 == 0:
            calm[await (first, second)[tick // 5 % 2].admit(CALM)] += 1
    assert calm == {Verdict.PASS: 20}
    assert flood[Verdict.NOTIFY] == 1
    assert flood[Verdict.PASS] <= BURST + 10  # the burst, then about one a second (FLOOD_PER_SECOND)


async def test_a_bucket_expires_once_it_would_be_full_again(prefix: str) -> None:
    throttle = build_throttle(REDIS_URL, prefix=prefix)  # on the Redis server's clock, as the running bot
    try:
        assert isinstance(throttle.buckets, RedisBuckets)
        verdicts = [await throttle.admit(FLOODER) for _ in range(BURST + 5)]
        assert verdicts.count(Verdict.NOTIFY) == 1
        assert Verdict.DROP in verdicts
        ttl = await throttle.buckets.redis.pttl(throttle.buckets.key(FLOODER))
        assert 0 < ttl <= LIMITS.idle_after * 1000
    finally:
        await throttle.close()


async def test_redis_unreachable_serves_every_update_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    throttle = build_throttle("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        with caplog.at_level(logging.WARNING, logger="bot.throttle"):
            verdicts = [await throttle.admit(FLOODER) for _ in range(BURST * 5)]
    finally:
        await throttle.close()
    assert verdicts == [Verdict.PASS] * (BURST * 5)
    assert len([r for r in caplog.records if "Redis failed" in r.getMessage()]) == 1


async def test_a_redis_that_stops_answering_lets_updates_through(prefix: str) -> None:
    """A server that accepts the connection and never replies (a hung Redis): the update waits ``timeout`` at most,
    then is served; later ones are served without asking until the retry."""

    hold = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await hold.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    throttle = build_throttle(f"redis://127.0.0.1:{port}/0", prefix=prefix)
    try:
        verdicts = [await throttle.admit(FLOODER) for _ in range(BURST * 3)]
    finally:
        await throttle.close()
        hold.set()
        server.close()
    assert verdicts == [Verdict.PASS] * (BURST * 3)
