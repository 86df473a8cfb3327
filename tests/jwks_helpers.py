"""Shared material for the JWKS tests: keys, a scripted endpoint, fake time, bomb and loop-gap
probes (loopback servers: `tests.servers`)."""

from __future__ import annotations

import dataclasses
import json
import math
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import cache
from typing import Any

import anyio
import anyio.lowlevel
import httpx
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from asgi_hasura_jwt._jwks import RemoteKeySet
from asgi_hasura_jwt._keys import VerificationKey
from asgi_hasura_jwt._options import JWKSOptions
from asgi_hasura_jwt.testing import b64url

WALL_START = 1_700_000_000.0


def rsa_private(index: int = 0, bits: int = 2048) -> rsa.RSAPrivateKey:
    return _rsa_private(index, bits)


@cache
def _rsa_private(index: int, bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ec_private() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@cache
def ed_private() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def rsa_jwk(kid: str | None, index: int = 0, bits: int = 2048, **extra: Any) -> dict[str, Any]:
    private = rsa_private(index, bits)
    jwk = RSAKey(private, private).as_dict(private=False)
    return {**jwk, **({"kid": kid} if kid is not None else {}), **extra}


def ec_jwk(kid: str, **extra: Any) -> dict[str, Any]:
    private = ec_private()
    return {**ECKey(private, private).as_dict(private=False), "kid": kid, **extra}


def ed_jwk(kid: str, **extra: Any) -> dict[str, Any]:
    private = ed_private()
    return {**OKPKey(private, private).as_dict(private=False), "kid": kid, **extra}


def rs256_token(index: int = 0) -> tuple[bytes, bytes]:
    """(signing input, signature) made with RSA key ``index``."""
    private = rsa_private(index)
    signing_input = f"{b64url(b'{}')}.{b64url(b'{}')}".encode()
    signature = JWSRegistry.algorithms["RS256"].sign(signing_input, RSAKey(private, private))
    return signing_input, bytes(signature)


def verifies(keys: Any, token: tuple[bytes, bytes]) -> bool:
    """Whether one of ``keys`` verifies the RS256 ``token`` (as the verifier would try them)."""
    signing_input, signature = token
    return any(
        isinstance(key, VerificationKey)
        and "RS256" in key.algorithms
        and key.algorithms["RS256"].verify(signing_input, signature, key.key)
        for key in keys
    )


class Endpoint:
    """A scripted JWKS endpoint for `httpx.MockTransport` and for the loopback server."""

    def __init__(self, keys: list[Any] | None = None, headers: dict[str, str] | None = None):
        self.document: Any = {"keys": keys if keys is not None else [rsa_jwk("k0")]}
        self.headers = headers or {}
        self.status = 200
        self.body: bytes | None = None  # overrides the document
        self.error: Exception | None = None  # raised instead of answering (mock transport)
        self.calls = 0
        self.gate: anyio.Event | None = None  # while set and not fired, requests hang

    def release(self) -> None:
        if self.gate is not None:
            self.gate.set()

    def render(self) -> bytes:
        return self.body if self.body is not None else json.dumps(self.document).encode()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        # Streamed as a network answer is: a Response built from bytes would be read (and any
        # Content-Encoding decoded) before the key set sees it.
        return httpx.Response(self.status, headers=self.headers, content=_chunks(self.render()))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    async def asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The same endpoint as an ASGI app (for a real server)."""
        assert scope["type"] == "http"
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        body = self.render()
        headers = [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


class FakeTime:
    """An injected monotonic clock, wall clock and sleep that tests step by hand.

    With ``autojump``, a sleep moves the clock forward at once (for startup backoff).
    """

    def __init__(self, *, autojump: bool = False) -> None:
        self.now = 0.0
        self.autojump = autojump
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, anyio.Event]] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return WALL_START + self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        if self.autojump and math.isfinite(delay):
            self.now += delay
            await anyio.lowlevel.checkpoint()
            return
        entry = (self.now + delay, anyio.Event())
        self._sleepers.append(entry)
        try:
            await entry[1].wait()
        finally:
            self._sleepers.remove(entry)

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its own deadline."""
        target = self.now + seconds
        await anyio.wait_all_tasks_blocked()
        while True:
            due = [entry for entry in self._sleepers if entry[0] <= target]
            if not due:
                break
            self.now = max(self.now, min(deadline for deadline, _ in due))
            for deadline, event in due:
                if deadline <= self.now:
                    event.set()
            await anyio.wait_all_tasks_blocked()
        self.now = target
        await anyio.wait_all_tasks_blocked()


@asynccontextmanager
async def loop_gaps() -> AsyncIterator[list[float]]:
    """Collects, while open, the gaps between the wake-ups of a task sleeping 1 ms at a time:
    their maximum is the longest the event loop was blocked (plus the tick)."""
    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await anyio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(tick)
        await anyio.sleep(0.01)
        gaps.clear()
        try:
            yield gaps
        finally:
            task_group.cancel_scope.cancel()


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """The peak of Python allocations made while open, in bytes (one item, set on exit)."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
        peak.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def remote_key_set(url: str, **options: Any) -> RemoteKeySet:
    """A `RemoteKeySet`; ``options`` mix `JWKSOptions` fields and `RemoteKeySet` arguments."""
    fields = {field.name for field in dataclasses.fields(JWKSOptions)}
    jwks = JWKSOptions(**{name: options.pop(name) for name in list(options) if name in fields})
    return RemoteKeySet(url, jwks, **options)
