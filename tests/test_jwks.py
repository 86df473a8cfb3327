"""`RemoteKeySet` with fake time and `httpx.MockTransport`: spec 4.1, 4.3, 4.4 and 7.8."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import zlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from asgi_hasura_jwt import JWKSStartupError
from asgi_hasura_jwt._errors import ConfigError, InvalidJWT
from asgi_hasura_jwt._jwks import RemoteKeySet, remote
from asgi_hasura_jwt.testing import gzip_bomb

from .jwks_helpers import (
    Endpoint,
    FakeTime,
    ec_jwk,
    ed_jwk,
    loop_gaps,
    peak_memory,
    remote_key_set,
    rs256_token,
    rsa_jwk,
    verifies,
)

URL = "https://issuer.example/.well-known/jwks.json"


def key_set(endpoint: Endpoint, time: FakeTime, **options: Any) -> RemoteKeySet:
    return remote_key_set(
        URL,
        http_client=endpoint.client(),
        clock=time.clock,
        wall_clock=time.wall,
        sleep=time.sleep,
        **options,
    )


def kids(keys: Any) -> list[str | None]:
    return [key.kid for key in keys]


async def assert_no_keys(keys: RemoteKeySet, kid: str | None = None) -> None:
    with pytest.raises(InvalidJWT, match=r"^Could not verify JWT: JWSError NoUsableKeys$"):
        await keys.keys_for(kid)


# --- on demand (no lifespan) -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_first_lookup_fetches_once_and_concurrent_lookups_share_it() -> None:
    endpoint = Endpoint([rsa_jwk("k0"), ec_jwk("k1")])
    endpoint.gate = anyio.Event()
    time = FakeTime()
    keys = key_set(endpoint, time)
    results: list[Any] = []

    async def lookup(kid: str | None) -> None:
        results.append(await keys.keys_for(kid))

    async with anyio.create_task_group() as task_group:
        for index in range(100):
            task_group.start_soon(lookup, ("k0", "k1", None)[index % 3])
        await anyio.wait_all_tasks_blocked()
        endpoint.release()
    assert endpoint.calls == 1
    assert len(results) == 100
    assert keys.version == 1


@pytest.mark.asyncio
async def test_key_choice() -> None:
    endpoint = Endpoint([rsa_jwk("k0"), ec_jwk("k1"), ed_jwk("k2"), rsa_jwk(None, index=1)])
    time = FakeTime()
    keys = key_set(endpoint, time)
    # A kid present in the set: that key only.
    assert kids(await keys.keys_for("k1")) == ["k1"]
    # No kid: every key.
    assert kids(await keys.keys_for(None)) == ["k0", "k1", "k2", None]
    # A kid still unknown after the refetch: every key.
    await time.advance(1)
    assert kids(await keys.keys_for("nope")) == ["k0", "k1", "k2", None]
    assert endpoint.calls == 2


@pytest.mark.asyncio
async def test_keys_sharing_a_kid_are_all_chosen() -> None:
    endpoint = Endpoint([rsa_jwk("k", alg="RS256"), rsa_jwk("k", alg="PS256"), ec_jwk("e")])
    keys = key_set(endpoint, FakeTime())
    chosen = await keys.keys_for("k")
    assert [sorted(key.algorithms) for key in chosen] == [["RS256"], ["PS256"]]


@pytest.mark.asyncio
async def test_unknown_kid_refetches_once_per_cooldown() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=3600"})
    time = FakeTime()
    keys = key_set(endpoint, time)
    await keys.keys_for("k0")
    assert endpoint.calls == 1
    await time.advance(5)
    assert kids(await keys.keys_for("new")) == ["k0"]
    assert endpoint.calls == 2
    # Within the cooldown, counted from that refetch: no fetch, whatever the kid.
    await time.advance(29)
    await keys.keys_for("other")
    await keys.keys_for("new")
    assert endpoint.calls == 2
    await time.advance(1)
    await keys.keys_for("other")
    assert endpoint.calls == 3


@pytest.mark.asyncio
async def test_unknown_kid_refetch_respects_the_floor_without_using_the_cooldown() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=3600"})
    time = FakeTime()
    keys = key_set(endpoint, time)
    await keys.keys_for(None)
    await time.advance(0.5)
    await keys.keys_for("new")  # too soon after the last fetch
    assert endpoint.calls == 1
    await time.advance(0.5)
    await keys.keys_for("new")  # the cooldown was not spent above
    assert endpoint.calls == 2


@pytest.mark.asyncio
async def test_rotation_is_picked_up_by_the_unknown_kid_refetch() -> None:
    endpoint = Endpoint([rsa_jwk("old")], headers={"Cache-Control": "max-age=3600"})
    time = FakeTime()
    keys = key_set(endpoint, time)
    assert kids(await keys.keys_for("old")) == ["old"]
    endpoint.document = {"keys": [rsa_jwk("new", index=1)]}
    await time.advance(2)
    chosen = await keys.keys_for("new")
    assert kids(chosen) == ["new"]
    assert verifies(chosen, rs256_token(1))
    assert keys.version == 2
    # The old key is gone: its kid is now unknown (and in cooldown), so every key is tried.
    assert kids(await keys.keys_for("old")) == ["new"]


@pytest.mark.asyncio
async def test_unknown_kid_storm_shares_one_refetch() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=3600"})
    time = FakeTime()
    keys = key_set(endpoint, time)
    await keys.keys_for(None)
    await time.advance(2)
    endpoint.gate = anyio.Event()
    async with anyio.create_task_group() as task_group:
        for index in range(300):
            task_group.start_soon(keys.keys_for, f"random-{index}")
        await anyio.wait_all_tasks_blocked()
        endpoint.release()
    for index in range(300):
        await keys.keys_for(f"later-{index}")
    assert endpoint.calls == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("headers", "fresh_for"),
    [
        ({"Cache-Control": "max-age=10"}, 10),
        ({"Cache-Control": "s-maxage=20, public"}, 20),
        ({"Cache-Control": "max-age=10, must-revalidate"}, 10),
        # No age, or no-cache / no-store: expiry now, floored at min_refresh_interval.
        ({"Cache-Control": "no-cache"}, 1),
        ({"Cache-Control": "must-revalidate"}, 1),
        ({"Cache-Control": "no-store, max-age=30"}, 1),
        ({"Cache-Control": "max-age=0"}, 1),
        # Expires, read against the wall clock at the fetch (WALL_START is 22:13:20 GMT).
        ({"Expires": "Tue, 14 Nov 2023 22:14:00 GMT"}, 40),
        # No expiry headers: the fallback max age.
        ({}, 600),
        # Unparsable expiry headers: the keys are used, refetch as after a failure.
        ({"Cache-Control": "max-age=soon"}, 60),
        ({"Expires": "tomorrow"}, 60),
    ],
)
async def test_keys_are_refetched_at_their_expiry(headers: dict[str, str], fresh_for: int) -> None:
    endpoint = Endpoint(headers=headers)
    time = FakeTime()
    keys = key_set(endpoint, time)
    await keys.keys_for("k0")
    assert endpoint.calls == 1
    await time.advance(fresh_for - 0.01)
    await keys.keys_for("k0")
    assert endpoint.calls == 1
    await time.advance(0.01)
    await keys.keys_for("k0")
    assert endpoint.calls == 2


@pytest.mark.asyncio
async def test_an_expiry_in_the_past_is_floored() -> None:
    endpoint = Endpoint(headers={"Expires": "Sun, 06 Nov 1994 08:49:37 GMT"})
    time = FakeTime()
    keys = key_set(endpoint, time, min_refresh_interval=2.5)
    await keys.keys_for(None)
    await time.advance(2.4)
    await keys.keys_for(None)
    assert endpoint.calls == 1
    await time.advance(0.1)
    await keys.keys_for(None)
    assert endpoint.calls == 2


@pytest.mark.asyncio
async def test_no_expiry_and_no_fallback_never_refreshes() -> None:
    endpoint = Endpoint()
    time = FakeTime()
    keys = key_set(endpoint, time, fallback_max_age=None)
    await keys.keys_for("k0")
    await time.advance(10**7)
    await keys.keys_for("k0")
    assert endpoint.calls == 1
    assert keys.status().next_refresh is None


@pytest.mark.asyncio
async def test_failed_refresh_keeps_the_keys_and_retries_after_the_retry_interval() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=10"})
    time = FakeTime()
    keys = key_set(endpoint, time)
    await keys.keys_for("k0")
    endpoint.status = 503
    await time.advance(10)
    assert kids(await keys.keys_for("k0")) == ["k0"]
    assert endpoint.calls == 2
    status = keys.status()
    assert status.ready
    assert status.last_error == "HTTP 503"
    assert status.consecutive_failures == 1
    assert status.next_refresh == pytest.approx(time.wall() + 60)
    # Every request meanwhile uses the stale keys without fetching.
    for _ in range(10):
        await time.advance(5.9)
        assert kids(await keys.keys_for("k0")) == ["k0"]
    assert endpoint.calls == 2
    await time.advance(1)
    endpoint.status = 200
    await keys.keys_for("k0")
    assert endpoint.calls == 3
    assert keys.status().last_error is None
    assert keys.status().consecutive_failures == 0
    assert keys.version == 1  # same keys: no change


@pytest.mark.asyncio
async def test_a_failure_never_postpones_a_sooner_refresh() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=10"})
    time = FakeTime()
    keys = key_set(endpoint, time, kid_cooldown=0)
    await keys.keys_for(None)
    endpoint.status = 500
    await time.advance(2)
    await keys.keys_for("unknown")  # a failed unknown-kid refetch at t=2
    assert endpoint.calls == 2
    endpoint.status = 200
    await time.advance(8)
    await keys.keys_for(None)  # t=10: the planned refresh still happens
    assert endpoint.calls == 3


@pytest.mark.asyncio
async def test_stale_refresh_waits_at_most_fetch_timeout_then_uses_stale_keys() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=10"})
    time = FakeTime()
    keys = key_set(endpoint, time, fetch_timeout=0.2)
    await keys.keys_for("k0")
    endpoint.gate = anyio.Event()  # the endpoint now hangs
    await time.advance(10)
    results: list[Any] = []

    async def lookup() -> None:
        results.append(await keys.keys_for("k0"))

    with anyio.fail_after(2):
        async with anyio.create_task_group() as task_group:
            for _ in range(20):
                task_group.start_soon(lookup)
    assert [kids(chosen) for chosen in results] == [["k0"]] * 20
    assert endpoint.calls == 2
    assert keys.status().last_error == "timed out after 0.2 s"
    endpoint.release()


@pytest.mark.asyncio
async def test_first_fetch_failure_answers_no_usable_keys_and_retries_after_the_floor() -> None:
    endpoint = Endpoint()
    endpoint.error = httpx.ConnectError("connection refused")
    time = FakeTime()
    keys = key_set(endpoint, time)
    await assert_no_keys(keys)
    await assert_no_keys(keys, "k0")  # within the floor: no fetch
    assert endpoint.calls == 1
    assert keys.status().last_error == "ConnectError: connection refused"
    endpoint.error = None
    await time.advance(1)
    assert kids(await keys.keys_for("k0")) == ["k0"]
    assert endpoint.calls == 2


@pytest.mark.asyncio
async def test_a_cancelled_fetch_is_taken_over_by_a_waiter() -> None:
    endpoint = Endpoint()
    endpoint.gate = anyio.Event()
    keys = key_set(endpoint, FakeTime())
    scopes: list[anyio.CancelScope] = []
    results: list[Any] = []

    async def starter() -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            await keys.keys_for("k0")

    async def waiter() -> None:
        results.append(await keys.keys_for("k0"))

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(starter)
        await anyio.wait_all_tasks_blocked()  # the starter's fetch hangs
        task_group.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()  # the waiter joined it
        scopes[0].cancel()  # e.g. the starter's client went away
        await anyio.wait_all_tasks_blocked()
        endpoint.release()
    assert endpoint.calls == 2
    assert [kids(chosen) for chosen in results] == [["k0"]]


@pytest.mark.asyncio
async def test_version_changes_only_when_the_usable_keys_change() -> None:
    endpoint = Endpoint([rsa_jwk("k0")])
    time = FakeTime()
    keys = key_set(endpoint, time, fallback_max_age=1)
    assert keys.version == 0
    await keys.keys_for(None)
    assert keys.version == 1
    # Same document, other spelling, an extra skipped key: the usable keys are the same.
    document = {"keys": [rsa_jwk("k0"), {"kty": "oct", "k": "AA"}]}
    endpoint.body = json.dumps(document, indent=2).encode()
    await time.advance(1)
    await keys.keys_for(None)
    assert (endpoint.calls, keys.version) == (2, 1)
    # A failure changes nothing.
    endpoint.status = 500
    await time.advance(60)
    await keys.keys_for(None)
    assert (endpoint.calls, keys.version) == (3, 1)
    endpoint.status = 200
    endpoint.body = None
    endpoint.document = {"keys": [rsa_jwk("k0"), ec_jwk("k1")]}
    await time.advance(60)
    await keys.keys_for(None)
    assert (endpoint.calls, keys.version) == (4, 2)


# --- what a fetch accepts (spec 4.1, 7.8) ----------------------------------------------------


def standard_base64(jwk: dict[str, Any]) -> dict[str, Any]:
    def convert(value: str) -> str:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return base64.b64encode(raw).decode()

    return {**jwk, "n": convert(jwk["n"]), "e": convert(jwk["e"])}


@pytest.mark.asyncio
async def test_odd_keys_are_skipped_and_the_rest_used(caplog: pytest.LogCaptureFixture) -> None:
    private_rsa = {**rsa_jwk("private"), "d": "AQAB", "p": "AQAB"}
    entries: list[Any] = [
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"},
        private_rsa,
        rsa_jwk("enc", use="enc"),
        rsa_jwk("ops", key_ops=["encrypt"]),
        rsa_jwk("small", index=9, bits=1024),
        rsa_jwk("wrong-alg", alg="ES256"),
        {"kty": "EC", "kid": "k1", "crv": "secp256k1", "x": "AA", "y": "AA"},
        {"kty": "OKP", "kid": "x", "crv": "X25519", "x": "AA"},
        {"kty": "RSA", "kid": "broken", "n": "!!!", "e": "AQAB"},
        {"kty": "unknown", "kid": "what"},
        {"kid": "no-kty"},
        {"kty": "RSA", "kid": 7, "n": "AA", "e": "AQAB"},
        "not an object",
        ["nor", "this"],
        None,
        rsa_jwk("good"),
        standard_base64(rsa_jwk("std", index=1)),
        ec_jwk("ec", use="sig"),
        ed_jwk("ed", alg="EdDSA"),
    ]
    endpoint = Endpoint(entries)
    keys = key_set(endpoint, FakeTime())
    with caplog.at_level(logging.DEBUG, logger="asgi_hasura_jwt.jwks"):
        chosen = await keys.keys_for(None)
    assert kids(chosen) == ["good", "std", "ec", "ed"]
    assert verifies(await keys.keys_for("std"), rs256_token(1))
    assert keys.status().key_ids == ("good", "std", "ec", "ed")
    skips = [record for record in caplog.records if "skipping key" in record.getMessage()]
    assert len(skips) == 15
    # Reasons and kids are logged; key material never is.
    text = caplog.text
    for secret in ("c2VjcmV0", private_rsa["n"][:40], rsa_jwk("good")["n"][:40]):
        assert secret not in text


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("respond", "error"),
    [
        ({"status": 500}, "HTTP 500"),
        ({"status": 404}, "HTTP 404"),
        ({"status": 204, "body": b""}, "the JWKS is not a JSON object"),
        ({"body": b"not json"}, "the JWKS is not a JSON object"),
        ({"body": b'{"keys": [NaN]}'}, "invalid JSON"),
        ({"body": b'{"keys": [{"kty": "RSA", "kty": "EC"}]}'}, "invalid JSON: duplicate"),
        ({"body": b'{"keys": [], "keys": []}'}, "invalid JSON: duplicate"),
        ({"body": b'{"keys": []} trailing'}, "invalid JSON"),
        ({"body": b'{"keys": [] "x": 1}'}, "invalid JSON"),
        ({"body": b'{"keys": [{}], "other": [1, 2,]}'}, "invalid JSON"),
        ({"body": b'{"keys": [{} {}]}'}, "invalid JSON"),
        ({"body": b'{"keys": [{}], }'}, "invalid JSON"),
        ({"body": b"{keys: []}"}, "invalid JSON"),
        ({"body": b'{"keys" []}'}, "invalid JSON"),
        ({"body": b'{"k\\ud800": 1, "keys": []}'}, "invalid JSON"),
        ({"body": b'{"keys": ["\\ud800"]}'}, "invalid JSON"),
        ({"body": b'{"keys": [' + b"[" * 100 + b"]" * 100 + b"]}"}, "invalid JSON"),
        ({"body": '{"keys": []}'.encode("utf-16")}, "invalid JSON: not UTF-8"),
        ({"body": b"[]"}, "the JWKS is not a JSON object"),
        ({"body": b"{}"}, "the JWKS has no keys member"),
        ({"body": b'{"other": {"keys": []}}'}, "the JWKS has no keys member"),
        ({"body": b'{"keys": {}}'}, "the JWKS keys member is not an array"),
        ({"body": b'{"keys": null}'}, "the JWKS keys member is not an array"),
        ({"body": b'{"keys": []}'}, "no usable key in the JWKS (0 skipped)"),
        ({"body": b'{"keys": [{"kty": "oct", "k": "AA"}, 1]}'}, "no usable key in the JWKS (2"),
        ({"status": 302, "headers": {"Location": URL}}, "HTTP 302: redirects are not followed"),
        ({"status": 307, "headers": {"Location": URL}}, "HTTP 307: redirects are not followed"),
    ],
)
async def test_failed_fetches(respond: dict[str, Any], error: str) -> None:
    endpoint = Endpoint()
    endpoint.status = respond.get("status", 200)
    endpoint.body = respond.get("body")
    endpoint.headers = respond.get("headers", {})
    keys = key_set(endpoint, FakeTime())
    await assert_no_keys(keys)
    assert endpoint.calls == 1  # a redirect is not followed
    last_error = keys.status().last_error
    assert last_error is not None
    assert last_error.startswith(error)


@pytest.mark.asyncio
async def test_odd_but_valid_documents() -> None:
    good = json.dumps(rsa_jwk("k0"))
    for body in (
        f' \n{{ "keys" : [ {good} ] , "extra" : {{"nested": [1, "x", null]}} }}\n',
        f'{{"x": 1, "keys": [{good}]}}',
        f'{{"keys": [{good}, 1, "two", null, {{}}]}}',
    ):
        endpoint = Endpoint()
        endpoint.body = body.encode()
        keys = key_set(endpoint, FakeTime())
        assert kids(await keys.keys_for(None)) == ["k0"]


@pytest.mark.asyncio
async def test_body_limit_is_enforced_while_streaming() -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"keys": ["'
        while True:
            sent += 4096
            yield b"x" * 4096

    client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=endless()))
    )
    keys = remote_key_set(URL, http_client=client, max_bytes=64 * 1024)
    await assert_no_keys(keys)
    assert keys.status().last_error == "response body over 65536 bytes"
    assert sent < 80 * 1024


@pytest.mark.asyncio
async def test_body_of_exactly_the_limit_is_accepted() -> None:
    endpoint = Endpoint()
    document = endpoint.render()
    endpoint.body = document[:-1] + b" " * 100 + b"}"
    keys = key_set(endpoint, FakeTime(), max_bytes=len(endpoint.body))
    assert kids(await keys.keys_for(None)) == ["k0"]
    endpoint.body += b" "
    keys = key_set(endpoint, FakeTime(), max_bytes=len(endpoint.body) - 1)
    await assert_no_keys(keys)


# --- compressed answers (spec 4.3: bounded as received and as decoded) ------------------------

DOCUMENT = json.dumps({"keys": [rsa_jwk("k0")]}).encode()


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.asyncio
async def test_a_gzip_bomb_is_refused_without_blocking_the_loop_and_keeps_the_keys() -> None:
    time = FakeTime()
    endpoint = Endpoint()
    keys = key_set(endpoint, time)  # fresh for the fallback max age: only the kid refetches
    assert kids(await keys.keys_for(None)) == ["k0"]
    endpoint.body = gzip_bomb()  # 260 KB, 256 MiB inflated
    endpoint.headers = {"Content-Encoding": "gzip"}
    await time.advance(1)
    async with loop_gaps() as gaps:
        with peak_memory() as peak:
            chosen = await keys.keys_for("rotated")  # an unknown kid: one refetch
    assert endpoint.calls == 2
    assert keys.status().last_error == "gzip response body inflates past 1048576 bytes"
    assert kids(chosen) == ["k0"]  # the last good keys are kept
    assert keys.version == 1
    # Generous bounds for a loaded machine; benchmarks/bench_jwks.py measures the real figure.
    assert max(gaps) < 0.05
    assert peak[0] < 8 << 20


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("GZip", gzip.compress),
        ("identity, gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),  # without the zlib wrapper, as some servers send it
        ("identity", bytes),
    ],
)
async def test_a_compressed_jwks_is_inflated(coding: str, encode: Any) -> None:
    endpoint = Endpoint(headers={"Content-Encoding": coding})
    endpoint.body = encode(DOCUMENT)
    keys = key_set(endpoint, FakeTime())
    assert verifies(await keys.keys_for("k0"), rs256_token(0))


@pytest.mark.asyncio
async def test_the_decoded_limit_is_exact() -> None:
    padded = DOCUMENT[:-1] + b" " * 300_000 + b"}"  # compresses to a few kilobytes
    endpoint = Endpoint(headers={"Content-Encoding": "gzip"})
    endpoint.body = gzip.compress(padded)
    keys = key_set(endpoint, FakeTime(), max_bytes=len(padded))
    assert kids(await keys.keys_for(None)) == ["k0"]
    keys = key_set(endpoint, FakeTime(), max_bytes=len(padded) - 1)
    await assert_no_keys(keys)
    assert keys.status().last_error == f"gzip response body inflates past {len(padded) - 1} bytes"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("coding", "body", "error"),
    [
        ("br", DOCUMENT, "Content-Encoding br is not accepted"),
        ("zstd", DOCUMENT, "Content-Encoding zstd is not accepted"),
        ("gzip, gzip", gzip.compress(gzip.compress(DOCUMENT)), "Content-Encoding gzip, gzip is"),
        ("x" * 100, DOCUMENT, f"Content-Encoding {'x' * 40} is not accepted"),
        (
            "gzip",
            DOCUMENT,
            "invalid gzip response body: Error -3 while decompressing data: incorrect header check",
        ),
        ("deflate", DOCUMENT, "invalid deflate response body: Error -3 while decompressing data"),
        ("gzip", gzip.compress(DOCUMENT)[:-5], "truncated gzip response body"),
        ("gzip", b"", "truncated gzip response body"),
        ("gzip", gzip.compress(DOCUMENT) * 2, "data after the end of the gzip response body"),
        # Incompressible: over the limit as received, whatever it would inflate to.
        ("gzip", gzip.compress(os.urandom(80_000)), "response body over 65536 bytes"),
    ],
)
async def test_compressed_answers_that_fail(coding: str, body: bytes, error: str) -> None:
    endpoint = Endpoint(headers={"Content-Encoding": coding})
    endpoint.body = body
    keys = key_set(endpoint, FakeTime(), max_bytes=64 * 1024)
    await assert_no_keys(keys)
    last_error = keys.status().last_error
    assert last_error is not None
    assert last_error.startswith(error)


@pytest.mark.asyncio
async def test_a_response_the_transport_read_in_memory_is_bounded_too() -> None:
    # httpx reads (and decodes) a Response built from bytes at once, as respx's are.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=body)

    body = gzip.compress(DOCUMENT)
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    assert kids(await remote_key_set(URL, http_client=client).keys_for(None)) == ["k0"]
    keys = remote_key_set(URL, http_client=client, max_bytes=len(DOCUMENT) - 1)
    await assert_no_keys(keys)
    assert keys.status().last_error == f"response body over {len(DOCUMENT) - 1} bytes"


@pytest.mark.asyncio
async def test_request_is_a_plain_get_without_redirects_or_compression() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"keys": [rsa_jwk("k0")]})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True)
    keys = remote_key_set(URL, http_client=client)
    await keys.keys_for(None)
    (request,) = seen
    assert request.method == "GET"
    assert str(request.url) == URL
    assert request.headers["accept-encoding"] == "identity"
    assert "application/json" in request.headers["accept"]


@pytest.mark.asyncio
async def test_unexpected_errors_are_failures_not_crashes(caplog: pytest.LogCaptureFixture) -> None:
    endpoint = Endpoint()
    endpoint.error = RuntimeError("transport bug")
    keys = key_set(endpoint, FakeTime())
    with caplog.at_level(logging.WARNING, logger="asgi_hasura_jwt.jwks"):
        await assert_no_keys(keys)
    assert keys.status().last_error == "unexpected RuntimeError"
    assert "Traceback" in caplog.text


# --- the lifespan-owned refresher (run) ---------------------------------------------------------


@pytest.mark.asyncio
async def test_run_fetches_before_started_then_refreshes_on_schedule() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=10"})
    time = FakeTime()
    keys = key_set(endpoint, time)
    async with anyio.create_task_group() as task_group:
        await task_group.start(keys.run)
        assert endpoint.calls == 1
        status = keys.status()
        assert status.ready
        assert status.refresher_running
        assert status.last_success == time.wall()
        assert status.next_refresh == time.wall() + 10
        await keys.keys_for("k0")
        await time.advance(9.99)
        assert endpoint.calls == 1
        await time.advance(0.01)
        assert endpoint.calls == 2
        await time.advance(30)
        assert endpoint.calls == 5
        task_group.cancel_scope.cancel()
    assert not keys.status().refresher_running


@pytest.mark.asyncio
async def test_run_with_a_refresher_requests_never_fetch_stale_keys() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=10"})
    time = FakeTime()
    keys = key_set(endpoint, time)
    async with anyio.create_task_group() as task_group:
        await task_group.start(keys.run)
        endpoint.status = 500
        await time.advance(10)  # the refresher's fetch fails: retry in 60 s
        assert endpoint.calls == 2
        for _ in range(50):
            await time.advance(1)
            assert kids(await keys.keys_for("k0")) == ["k0"]
        assert endpoint.calls == 2
        endpoint.status = 200
        await time.advance(10)
        assert endpoint.calls == 3
        task_group.cancel_scope.cancel()


@pytest.mark.asyncio
async def test_run_is_rescheduled_by_a_request_triggered_fetch() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=600"})
    time = FakeTime()
    keys = key_set(endpoint, time)
    async with anyio.create_task_group() as task_group:
        await task_group.start(keys.run)
        endpoint.headers = {"Cache-Control": "max-age=5"}
        await time.advance(2)
        await keys.keys_for("unknown")  # refetch: the new expiry is sooner than 600 s
        assert endpoint.calls == 2
        await time.advance(5)
        assert endpoint.calls == 3
        task_group.cancel_scope.cancel()


@pytest.mark.asyncio
async def test_run_without_expiry_and_without_fallback_sleeps_until_cancelled() -> None:
    endpoint = Endpoint()
    time = FakeTime()
    keys = key_set(endpoint, time, fallback_max_age=None)
    async with anyio.create_task_group() as task_group:
        await task_group.start(keys.run)
        await time.advance(10**8)
        assert endpoint.calls == 1
        task_group.cancel_scope.cancel()


@pytest.mark.asyncio
async def test_startup_retries_with_exponential_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint = Endpoint()
    endpoint.status = 502
    time = FakeTime(autojump=True)
    keys = key_set(endpoint, time)
    failures = 0

    async def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal failures
        failures += 1
        status = 502 if failures <= 3 else 200
        return httpx.Response(status, json={"keys": [rsa_jwk("k0")]})

    keys._client = httpx.AsyncClient(transport=httpx.MockTransport(flaky))
    with caplog.at_level(logging.WARNING, logger="asgi_hasura_jwt.jwks"):
        async with anyio.create_task_group() as task_group:
            await task_group.start(keys.run)
            task_group.cancel_scope.cancel()
    assert failures == 4
    assert time.sleeps[:3] == [0.2, 0.4, 0.8]
    assert keys.status().ready
    # Each line tells when the next attempt really comes: the backoff, not the retry interval.
    assert caplog.messages == [
        f"fetching the JWKS from {URL} failed: HTTP 502; no keys yet, next attempt in {delay} s"
        for delay in ("0.2", "0.4", "0.8")
    ]


@pytest.mark.asyncio
async def test_startup_failure_names_the_url_and_the_last_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint = Endpoint()
    endpoint.error = httpx.ConnectError("connection refused")
    time = FakeTime(autojump=True)
    keys = key_set(endpoint, time)
    with caplog.at_level(logging.WARNING, logger="asgi_hasura_jwt.jwks"):
        async with anyio.create_task_group() as task_group:
            with pytest.raises(JWKSStartupError) as caught:
                await task_group.start(keys.run)
    failed = f"fetching the JWKS from {URL} failed: ConnectError: connection refused; no keys yet"
    assert caplog.messages == [
        f"{failed}, next attempt in 0.2 s",
        f"{failed}, next attempt in 0.4 s",
        f"{failed}, next attempt in 0.8 s",
        f"{failed}, next attempt in 1.6 s",
        f"{failed}, that was the last startup attempt",
    ]
    assert str(caught.value) == (
        f"could not fetch the JWKS from {URL} (5 attempts): ConnectError: connection refused"
    )
    assert endpoint.calls == 5
    assert time.sleeps == [0.2, 0.4, 0.8, 1.6]
    assert not keys.status().refresher_running
    # After the refresher stopped, nothing fetches any more.
    await assert_no_keys(keys, "k0")
    assert endpoint.calls == 5


@pytest.mark.asyncio
async def test_startup_is_bounded_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "STARTUP_DEADLINE", 0.2)
    endpoint = Endpoint()
    endpoint.gate = anyio.Event()  # hangs
    keys = key_set(endpoint, FakeTime(autojump=True), fetch_timeout=5)
    with anyio.fail_after(2):
        async with anyio.create_task_group() as task_group:
            with pytest.raises(JWKSStartupError, match=r"\(1 attempt\): no keys within 0\.2 s"):
                await task_group.start(keys.run)
    # Not required: it starts without keys and plans the retry.
    time = FakeTime()
    keys = key_set(endpoint, time, fetch_timeout=5, required_at_startup=False)
    with anyio.fail_after(2):
        async with anyio.create_task_group() as task_group:
            await task_group.start(keys.run)
            assert keys.status().next_refresh == time.wall() + 60
            task_group.cancel_scope.cancel()
    endpoint.release()


@pytest.mark.asyncio
async def test_startup_stops_before_a_backoff_that_ends_past_the_deadline(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Sleeps are instant (autojump) but the deadline is on anyio's clock: after the third
    # failure the 0.8 s backoff would end past it, so there is no fourth attempt to announce.
    monkeypatch.setattr(remote, "STARTUP_DEADLINE", 0.6)
    endpoint = Endpoint()
    endpoint.status = 503
    keys = key_set(endpoint, FakeTime(autojump=True))
    with caplog.at_level(logging.WARNING, logger="asgi_hasura_jwt.jwks"):
        async with anyio.create_task_group() as task_group:
            with pytest.raises(JWKSStartupError, match=r"\(3 attempts\): HTTP 503$"):
                await task_group.start(keys.run)
    assert endpoint.calls == 3
    assert caplog.messages[-1].endswith("; no keys yet, that was the last startup attempt")


@pytest.mark.asyncio
async def test_startup_not_required_starts_without_keys_and_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint = Endpoint()
    endpoint.status = 500
    time = FakeTime(autojump=True)
    keys = key_set(endpoint, time, required_at_startup=False, retry_interval=45)

    async def last_startup_attempt_stops_autojump(request: httpx.Request) -> httpx.Response:
        # The refresher's first sleep follows `started` in the same step: jumped, it would
        # fetch before the test looks.
        time.autojump = endpoint.calls < 4
        return await endpoint(request)

    keys._client = httpx.AsyncClient(
        transport=httpx.MockTransport(last_startup_attempt_stops_autojump)
    )
    async with anyio.create_task_group() as task_group:
        with caplog.at_level(logging.WARNING, logger="asgi_hasura_jwt.jwks"):
            await task_group.start(keys.run)
        assert endpoint.calls == 5
        assert caplog.messages[-2:] == [
            f"fetching the JWKS from {URL} failed: HTTP 500; no keys yet, "
            "that was the last startup attempt",
            f"could not fetch the JWKS from {URL} (5 attempts): HTTP 500; "
            "starting without keys, retrying in 45 s",
        ]
        await assert_no_keys(keys)  # no kid: answered at once
        assert endpoint.calls == 5
        # After startup a failure announces the retry interval.
        with caplog.at_level(logging.WARNING, logger="asgi_hasura_jwt.jwks"):
            await time.advance(45)
        assert endpoint.calls == 6
        assert caplog.messages[-1] == (
            f"fetching the JWKS from {URL} failed: HTTP 500; no keys yet, next attempt in 45 s"
        )
        endpoint.status = 200
        await time.advance(45)
        assert endpoint.calls == 7
        assert kids(await keys.keys_for("k0")) == ["k0"]
        task_group.cancel_scope.cancel()


@pytest.mark.asyncio
async def test_after_shutdown_no_fetch_happens() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=1"})
    time = FakeTime()
    keys = key_set(endpoint, time)
    async with anyio.create_task_group() as task_group:
        await task_group.start(keys.run)
        task_group.cancel_scope.cancel()
    await time.advance(100)
    assert kids(await keys.keys_for("unknown")) == ["k0"]  # stale keys, unknown kid: no fetch
    assert endpoint.calls == 1
    assert keys.status().next_refresh is None
    # A new lifespan may run it again.
    async with anyio.create_task_group() as task_group:
        await task_group.start(keys.run)
        task_group.cancel_scope.cancel()
    assert endpoint.calls == 2


@pytest.mark.asyncio
async def test_run_twice_at_once_is_refused() -> None:
    keys = key_set(Endpoint(), FakeTime())
    async with anyio.create_task_group() as task_group:
        await task_group.start(keys.run)
        with pytest.raises(RuntimeError, match="already running"):
            await keys.run()
        task_group.cancel_scope.cancel()


# --- the rest of the surface --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_aclose_closes_only_a_client_it_created(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = Endpoint()
    injected = endpoint.client()
    keys = remote_key_set(URL, http_client=injected)
    await keys.keys_for(None)
    await keys.aclose()
    assert not injected.is_closed
    await injected.aclose()

    # A key set without http_client makes its own (here: one on the mock transport).
    monkeypatch.setattr(remote, "new_client", endpoint.client)
    own = remote_key_set(URL, fallback_max_age=0.001)
    client = own._client
    assert client is not None
    await own.keys_for(None)
    await own.aclose()
    assert client.is_closed
    assert own._client is None
    assert kids(await own.keys_for("unknown")) == ["k0"]  # closed: no fetch, no new client
    assert own._client is None
    assert endpoint.calls == 2
    # A new lifespan runs it again with a new client of its own.
    async with anyio.create_task_group() as task_group:
        await task_group.start(own.run)
        task_group.cancel_scope.cancel()
    assert endpoint.calls == 3
    assert own._client is not None
    assert own._client is not client
    await own.aclose()


@pytest.mark.asyncio
async def test_a_request_waits_for_one_fetch_at_most() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=10"})
    time = FakeTime()
    keys = key_set(endpoint, time, fetch_timeout=0.2, kid_cooldown=0)
    await keys.keys_for("k0")
    endpoint.gate = anyio.Event()
    await time.advance(10)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(keys.keys_for, "k0")  # starts the stale refetch, which hangs
        await anyio.wait_all_tasks_blocked()
        started = anyio.current_time()
        # Stale keys and an unknown kid: it joins the fetch once, not once per reason.
        assert kids(await keys.keys_for("unknown")) == ["k0"]
        assert anyio.current_time() - started < 0.35
    assert endpoint.calls == 2
    endpoint.release()


def test_status_of_a_new_key_set() -> None:
    status = remote_key_set("https://user:pw@issuer.example/jwks").status()
    assert status.url == "https://user:***@issuer.example/jwks"
    assert not status.ready
    assert status.key_ids == ()
    assert status.version == 0
    assert status.last_success is None
    assert status.last_attempt is None
    assert status.last_error is None
    assert status.next_refresh is None
    assert not status.refresher_running


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "ftp://issuer.example/jwks"}, "http:// or https://"),
        ({"url": "https:///jwks"}, "http:// or https://"),
        ({"url": "http://[::1"}, "not a valid URL"),
        ({"max_bytes": 0}, "max_bytes: must be greater than 0"),
    ],
)
def test_invalid_options(options: dict[str, Any], message: str) -> None:
    url = options.pop("url", URL)
    with pytest.raises(ConfigError, match=message):
        remote_key_set(url, **options)


def test_works_under_trio() -> None:
    async def main() -> list[str | None]:
        endpoint = Endpoint()
        keys = remote_key_set(URL, http_client=endpoint.client())
        async with anyio.create_task_group() as task_group:
            await task_group.start(keys.run)
            chosen = await keys.keys_for("k0")
            task_group.cancel_scope.cancel()
        return kids(chosen)

    assert anyio.run(main, backend="trio") == ["k0"]
