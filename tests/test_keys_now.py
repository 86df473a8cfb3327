"""`RemoteKeySet.keys_now` (the synchronous key lookup of most verifications) against
`keys_for`, property-based: whenever it answers, it answers as `keys_for` does at that moment,
and `keys_for` would not have fetched.
"""

from __future__ import annotations

from typing import Any

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from asgi_hasura_jwt._errors import InvalidJWT
from asgi_hasura_jwt._keys import StaticKeys, hmac_key

from .jwks_helpers import Endpoint, FakeTime, ec_jwk, remote_key_set, rsa_jwk
from .test_fuzz import FUZZ

URL = "https://issuer.example/.well-known/jwks.json"
KIDS = st.sampled_from([None, "k0", "k1", "rotated", "nope"])
# One step: time passes, the endpoint answers (maybe with rotated keys) or fails, a lookup.
STEP = st.tuples(
    st.sampled_from([0.0, 0.5, 1.0, 30.0, 299.0, 301.0, 3600.0]),
    st.sampled_from(["same", "rotate", "fail"]),
    KIDS,
)
HEADERS = st.sampled_from([{}, {"Cache-Control": "max-age=60"}, {"Cache-Control": "no-cache"}])


def kids(keys: Any) -> list[str | None]:
    return [key.kid for key in keys]


async def lookup(keys: Any, kid: str | None) -> Any:
    try:
        return kids(await keys.keys_for(kid))
    except InvalidJWT as error:
        return ("error", error.message)


@settings(FUZZ, max_examples=60)
@given(steps=st.lists(STEP, min_size=1, max_size=8), headers=HEADERS, refresher=st.booleans())
def test_keys_now_answers_as_keys_for_without_a_fetch(
    steps: list[tuple[float, str, str | None]], headers: dict[str, str], refresher: bool
) -> None:
    endpoint = Endpoint([rsa_jwk("k0"), ec_jwk("k1")], headers=headers)
    time = FakeTime()
    keys = remote_key_set(
        URL,
        http_client=endpoint.client(),
        clock=time.clock,
        wall_clock=time.wall,
        sleep=time.sleep,
        required_at_startup=False,
    )

    async def steps_against(keys: Any) -> None:
        for seconds, change, kid in steps:
            await time.advance(seconds)
            if change == "rotate":
                endpoint.document = {"keys": [rsa_jwk("rotated"), ec_jwk("k1")]}
            endpoint.status = 500 if change == "fail" else 200
            now = keys.keys_now(kid)
            calls = endpoint.calls
            full = await lookup(keys, kid)
            if now is not None:
                assert kids(now) == full
                assert endpoint.calls == calls  # keys at hand: nothing was fetched

    async def check() -> None:
        if not refresher:
            await steps_against(keys)
            return
        async with anyio.create_task_group() as group:
            await group.start(keys.run)
            await steps_against(keys)
            group.cancel_scope.cancel()

    anyio.run(check)


async def test_keys_now_defers_the_first_lookup_and_an_unknown_kid() -> None:
    endpoint = Endpoint([rsa_jwk("k0")], headers={"Cache-Control": "max-age=3600"})
    keys = remote_key_set(URL, http_client=endpoint.client(), clock=FakeTime().clock)
    assert keys.keys_now("k0") is None  # no keys yet: keys_for fetches them
    assert endpoint.calls == 0
    await keys.keys_for("k0")
    assert kids(keys.keys_now("k0")) == ["k0"]
    assert kids(keys.keys_now(None)) == ["k0"]
    assert keys.keys_now("unknown") is None  # keys_for may refetch for it
    assert endpoint.calls == 1


def test_static_keys_are_always_at_hand() -> None:
    key = hmac_key(b"s" * 32)
    static = StaticKeys(key)
    assert static.keys_now(None) == (key,) == static.keys_now("any kid")
