"""The Redis store (``revocations="redis://..."``), the only module that imports redis.

Each revocation is a key with the entry's remaining lifetime as its TTL (``SET ... PX``), so a
process that starts later (or reconnects after an outage) loads what is in force with a SCAN,
and is published on a channel that every process's lifespan subscribes to. While Redis is
unreachable the process serves with the list it has; its own revocations wait in a queue and
are written once it is back.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import anyio.abc
import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .._errors import ConfigError
from .._types import Clock
from .entries import Revocation

Deliver = Callable[[Revocation], None]
logger = logging.getLogger("asgi_hasura_jwt.revocation")

PREFIX = "asgi_hasura_jwt:revoked:"
# Silence for this long makes us ping; no answer within as long again is a lost connection
# (a half-open TCP connection raises nothing by itself).
HEARTBEAT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 2.0
SCAN_BATCH = 500


class RedisStore:
    """A `RevocationStore` on Redis: keys with TTLs under ``PREFIX``, one pub/sub channel.

    Pub/sub channels are shared by every database of a server, so the channel's name holds the
    URL's database number: apps sharing a Redis keep apart by using different databases.
    ``connected`` and ``pending`` (queued revocations) are for health checks.
    """

    def __init__(
        self,
        url: str,
        *,
        retry_delays: tuple[float, float] = (0.1, 2.0),
        heartbeat: float = HEARTBEAT_SECONDS,
        clock: Clock = time.time,
    ) -> None:
        try:
            database = parse_url(url).get("db", 0)
        except (ValueError, TypeError):
            # No URL in the message: it may hold a password.
            raise ConfigError("revocations: not a valid Redis URL") from None
        self._url = url
        self._channel = f"{PREFIX}events:{database}"
        self._retry_delays = retry_delays
        self._heartbeat = heartbeat
        self._clock = clock
        self.connected = False
        # Set when an entry is queued; made by the writer, inside the event loop.
        self._queued: anyio.Event | None = None
        self._outbox: deque[Revocation] = deque()

    @property
    def pending(self) -> int:
        return len(self._outbox)

    async def publish(self, revocation: Revocation) -> None:
        """Queue the entry for the writer: ``revoke`` never waits on Redis."""
        # Bounded like the list itself: entries no token can match any more are dropped.
        now = self._clock()
        while self._outbox and self._outbox[0].until <= now:
            self._outbox.popleft()
        self._outbox.append(revocation)
        if self._queued is not None:
            self._queued.set()

    async def run(
        self,
        deliver: Deliver,
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Subscribe, catch up, then listen and write; on failure wait (exponential backoff)
        and start over.

        ``started`` comes after the first attempt either way: Redis being down never holds up
        or fails the server's startup.
        """
        first, longest = self._retry_delays
        delay = first
        started = False
        client = aioredis.Redis.from_url(
            self._url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=CONNECT_TIMEOUT_SECONDS,
            # Our loop reconnects, and catches up when it does; redis-py's retries would not.
            retry=Retry(NoBackoff(), 0),
        )
        try:
            while True:
                try:
                    async with self._subscribed(client) as pubsub:
                        await self._catch_up(client, deliver)
                        if not self.connected:
                            logger.info("revocations: connected to Redis")
                        self.connected = True
                        delay = first
                        if not started:
                            started = True
                            task_status.started()
                        await self._serve(client, pubsub, deliver)
                except (RedisError, OSError) as exc:
                    self._lost(exc)
                if not started:
                    started = True
                    task_status.started()
                await anyio.sleep(delay)
                delay = min(delay * 2, longest)
        finally:
            self.connected = False
            with anyio.CancelScope(shield=True):
                await client.aclose()

    async def _serve(self, client: aioredis.Redis, pubsub: PubSub, deliver: Deliver) -> None:
        """Listen and write side by side until either fails; raise that failure."""
        failures: list[Exception] = []
        async with anyio.create_task_group() as task_group:

            async def until_failure(job: Callable[[], Awaitable[None]]) -> None:
                try:
                    await job()
                except (RedisError, OSError) as exc:
                    failures.append(exc)
                    task_group.cancel_scope.cancel()

            task_group.start_soon(until_failure, lambda: self._write_queued(client))
            await until_failure(lambda: self._listen(pubsub, deliver))
        raise failures[0]

    async def _write_queued(self, client: aioredis.Redis) -> None:
        while True:
            while self._outbox:
                await self._write(client, self._outbox[0])
                self._outbox.popleft()  # only once written: a failure keeps it queued
            # No await since the queue was found empty, so no entry can be missed; made here,
            # inside the event loop, and set by publish().
            self._queued = queued = anyio.Event()
            await queued.wait()

    def _lost(self, exc: BaseException) -> None:
        if self.connected:
            logger.warning(
                "revocations: Redis unreachable (%s: %s); serving with the revocations known "
                "so far, retrying",
                type(exc).__name__,
                exc,
            )
        self.connected = False

    @contextlib.asynccontextmanager
    async def _subscribed(self, client: aioredis.Redis) -> AsyncIterator[PubSub]:
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            # Subscribed before the SCAN: an entry written in between arrives either way.
            await pubsub.subscribe(self._channel)
            yield pubsub
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _catch_up(self, client: aioredis.Redis, deliver: Deliver) -> None:
        """Load what is stored: what others revoked while this process was away."""
        keys: list[Any] = []
        async for key in client.scan_iter(match=f"{PREFIX}*", count=SCAN_BATCH):
            keys.append(key)
            if len(keys) >= SCAN_BATCH:
                self._deliver_all(await client.mget(keys), deliver)
                keys = []
        if keys:
            self._deliver_all(await client.mget(keys), deliver)

    @staticmethod
    def _deliver_all(values: list[Any], deliver: Deliver) -> None:
        for value in values:
            entry = None if value is None else Revocation.from_json(value)  # None: expired
            if entry is not None:
                deliver(entry)

    async def _listen(self, pubsub: PubSub, deliver: Deliver) -> None:
        heard = anyio.current_time()
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=min(1.0, self._heartbeat))
            now = anyio.current_time()
            if message is not None:
                heard, pinged = now, False
                if message["type"] == "message":
                    self._deliver_all([message["data"]], deliver)
            elif now - heard > self._heartbeat:
                if pinged:
                    raise ConnectionError("no answer to a ping on the subscription")
                await pubsub.ping()
                heard, pinged = now, True

    async def _write(self, client: aioredis.Redis, entry: Revocation) -> None:
        ttl_ms = int((entry.until - self._clock()) * 1000)
        if ttl_ms <= 0:
            return  # nothing left to share: no token it matches is valid any more
        data = entry.to_json()
        # One key per revocation (its instant in the name), so that a late write of an older
        # revocation never replaces a newer one of the same sub.
        key = f"{PREFIX}{entry.kind}:{entry.revoked_at!r}:{entry.value}"
        async with client.pipeline(transaction=True) as pipe:
            pipe.set(key, data, px=ttl_ms)
            pipe.publish(self._channel, data)
            await pipe.execute()
