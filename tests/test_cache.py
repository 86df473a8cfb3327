"""The verified-token cache: what a hit skips, what it still checks, how it is bounded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from asgi_hasura_jwt import _locate
from asgi_hasura_jwt._auth import Authenticator
from asgi_hasura_jwt._clerk import (
    IGNORE_CATEGORY,
    MACHINE_CATEGORY,
    SESSION_CATEGORY,
    TEMPLATE_CATEGORY,
)
from asgi_hasura_jwt._config import JWTConfig, parse_configs
from asgi_hasura_jwt._errors import AccessDenied, AuthError, InvalidJWT
from asgi_hasura_jwt._keys import KeySource, StaticKeys, VerificationKey

from .clerk_tokens import ISSUER, clerk_token, machine_claims, session_claims, template_claims
from .conftest import HMAC_SECRET, NAMESPACE, SigningKey, hasura_claims, mint

HS = {"type": "HS256", "key": HMAC_SECRET}
SESSION = {"token": "session"}
NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class VersionedKeys:
    """A key source whose version the test bumps, as a JWKS refresh would."""

    def __init__(self, key: VerificationKey) -> None:
        self.keys: Sequence[VerificationKey] = (key,)
        self.version = 0
        self.lookups = 0

    def keys_now(self, kid: str | None) -> Sequence[VerificationKey]:
        self.lookups += 1
        return self.keys

    async def keys_for(self, kid: str | None) -> Sequence[VerificationKey]:
        raise AssertionError("keys at hand are never awaited")


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = _locate.parse_token

    def counting(token: str, max_bytes: int) -> Any:
        calls.append(token)
        return real(token, max_bytes)

    monkeypatch.setattr(_locate, "parse_token", counting)
    return calls


def authenticator(
    config: Any = HS, clock: Clock | None = None, source: Any = None, **options: Any
) -> Authenticator:
    def key_source(parsed: JWTConfig) -> KeySource:
        assert parsed.key is not None
        return source if source is not None else StaticKeys(parsed.key)

    return Authenticator(parse_configs(config, {}), key_source, clock=clock or Clock(), **options)


def headers(token: str, role: str | None = None) -> list[tuple[bytes, bytes]]:
    items = [(b"authorization", f"Bearer {token}".encode())]
    if role is not None:
        items.append((b"x-hasura-role", role.encode()))
    return items


def token_for(keys: dict[str, SigningKey], **claims: Any) -> str:
    return mint(keys["HS256"], {NAMESPACE: hasura_claims(), **claims})


async def test_hit_skips_parsing_and_signature(
    keys: dict[str, SigningKey], parses: list[str]
) -> None:
    source = VersionedKeys(parse_configs(HS, {})[0].key)  # type: ignore[arg-type]
    auth = authenticator(source=source)
    token = token_for(keys, exp=NOW + 60)
    first = await auth.authenticate(headers(token))
    second = await auth.authenticate(headers(token))
    assert first == second
    assert second.expires_at == NOW + 60
    assert (len(parses), source.lookups, len(auth.cache)) == (1, 1, 1)


async def test_hit_still_checks_time(keys: dict[str, SigningKey]) -> None:
    clock = Clock()
    auth = authenticator(clock=clock)
    token = token_for(keys, exp=NOW + 60, nbf=NOW - 1)
    await auth.authenticate(headers(token))
    clock.now = NOW + 60
    with pytest.raises(InvalidJWT, match="JWTExpired"):
        await auth.authenticate(headers(token))
    clock.now = NOW - 2
    with pytest.raises(InvalidJWT, match="JWTNotYetValid"):
        await auth.authenticate(headers(token))


async def test_hit_resolves_role_per_request(keys: dict[str, SigningKey]) -> None:
    auth = authenticator()
    token = token_for(keys)
    assert (await auth.authenticate(headers(token))).role == "user"
    assert (await auth.authenticate(headers(token, "editor"))).role == "editor"
    with pytest.raises(AccessDenied):
        await auth.authenticate(headers(token, "admin"))
    assert (await auth.authenticate(headers(token))).role == "user"
    assert len(auth.cache) == 1


async def test_failures_are_never_cached(keys: dict[str, SigningKey], parses: list[str]) -> None:
    auth = authenticator()
    bad = token_for(keys)[:-2] + "AA"
    denied = mint(keys["HS256"], {NAMESPACE: hasura_claims(default="admin")})
    for token in (bad, bad, denied, denied, "x.y.z"):
        with pytest.raises((InvalidJWT, AccessDenied)):
            await auth.authenticate(headers(token))
    assert len(auth.cache) == 0
    assert len(parses) == 5


async def test_keyed_by_token_and_config(keys: dict[str, SigningKey], parses: list[str]) -> None:
    # The same token string under two configs (two locations): a hit for one is not for the other.
    cookie = {**HS, "claims_namespace": "other", "header": {"type": "Cookie", "name": "t"}}
    auth = authenticator([HS, cookie])
    token = mint(keys["HS256"], {NAMESPACE: hasura_claims(), "other": hasura_claims(user_id="c")})
    assert (await auth.authenticate(headers(token)))["x-hasura-user-id"] == "user-1"
    by_cookie = await auth.authenticate([(b"cookie", f"t={token}".encode())])
    assert by_cookie["x-hasura-user-id"] == "c"
    assert len(parses) == 2
    assert (await auth.authenticate(headers(token)))["x-hasura-user-id"] == "user-1"
    assert len(parses) == 2


async def test_key_set_change_invalidates(keys: dict[str, SigningKey], parses: list[str]) -> None:
    source = VersionedKeys(parse_configs(HS, {})[0].key)  # type: ignore[arg-type]
    auth = authenticator(source=source)
    token = token_for(keys)
    await auth.authenticate(headers(token))
    source.version += 1
    source.keys = ()  # the refresh dropped the key
    with pytest.raises(InvalidJWT, match="JWSInvalidSignature"):
        await auth.authenticate(headers(token))
    assert len(auth.cache) == 0
    assert len(parses) == 2


async def test_bounded_in_entries(keys: dict[str, SigningKey]) -> None:
    auth = authenticator(cache_entries=3)
    tokens = [token_for(keys, jti=str(i)) for i in range(5)]
    for token in tokens:
        await auth.authenticate(headers(token))
    assert len(auth.cache) == 3
    assert auth.cache.get((0, tokens[0])) is None
    assert auth.cache.get((0, tokens[4])) is not None


async def test_bounded_in_bytes(keys: dict[str, SigningKey]) -> None:
    # An entry keeps the decoded claims (`Session.claims`): about 5 bytes per signed byte, so
    # six 1.4 KB tokens (~9 KB each) do not fit in 20 KB.
    auth = authenticator(cache_bytes=20_000)
    tokens = [token_for(keys, pad="x" * 1000, jti=str(i)) for i in range(6)]
    for token in tokens:
        await auth.authenticate(headers(token))
    assert 0 < len(auth.cache) < 6
    assert auth.cache.size_bytes <= 20_000
    huge = token_for(keys, pad="x" * 5000)
    await auth.authenticate(headers(huge))
    assert auth.cache.get((0, huge)) is None  # larger than the whole budget: not stored


async def test_disabled(keys: dict[str, SigningKey], parses: list[str]) -> None:
    auth = authenticator(cache_entries=0)
    token = token_for(keys)
    await auth.authenticate(headers(token))
    await auth.authenticate(headers(token))
    assert (len(parses), len(auth.cache)) == (2, 0)


async def test_multiple_jwts_rule_holds_on_hits(keys: dict[str, SigningKey]) -> None:
    from asgi_hasura_jwt._errors import InvalidHeaders

    auth = authenticator()
    token = token_for(keys)
    await auth.authenticate(headers(token))
    with pytest.raises(InvalidHeaders, match="Multiple JWTs found"):
        await auth.authenticate(headers(token) + headers(token))


# --- the synchronous fast path for cache hits (Authenticator.cached_session) ------------------


async def test_fast_path_serves_a_plain_hit(keys: dict[str, SigningKey]) -> None:
    auth = authenticator(admin_secret="admin-secret-value")
    token = token_for(keys, exp=NOW + 60)
    assert auth.cached_session(headers(token)) is None  # not verified yet
    slow = await auth.authenticate(headers(token, "editor"))
    fast = auth.cached_session(headers(token, "editor"))
    assert fast == slow
    assert fast is not None
    assert fast.expires_at == NOW + 60
    assert auth.cached_session(headers(token, "editor")) is fast  # one session per role
    assert auth.cached_session(headers(token))["x-hasura-role"] == "user"  # type: ignore[index]
    ignored = [*headers(token), (b"cookie", b"a=b"), (b"x-hasura-org-id", b"7")]
    assert auth.cached_session(ignored) == await auth.authenticate(ignored)


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda t: [(b"Authorization", f"Bearer {t}".encode())], id="upper-case-name"),
        pytest.param(
            lambda t: [*headers(t), (b"X-Hasura-Role", b"editor")], id="upper-case-role-name"
        ),
        pytest.param(
            lambda t: [*headers(t), (b"X-Hasura-Admin-Secret", b"x")], id="upper-case-secret-name"
        ),
        pytest.param(lambda t: headers(t) + headers(t), id="two-authorization-headers"),
        pytest.param(lambda t: [(b"authorization", f"bearer {t}".encode())], id="lower-scheme"),
        pytest.param(lambda t: [(b"authorization", f"Bearer  {t}".encode())], id="two-spaces"),
        pytest.param(lambda t: [(b"authorization", f"Bearer {t}\t".encode())], id="trailing-tab"),
        pytest.param(lambda t: headers(t, "admin"), id="role-not-allowed"),
        pytest.param(
            lambda t: [*headers(t), (b"x-hasura-admin-secret", b"admin-secret-value")],
            id="admin-secret-header",
        ),
        pytest.param(
            lambda t: [*headers(t), (b"x-hasura-access-key", b"wrong")], id="access-key-header"
        ),
        pytest.param(lambda t: [], id="no-token"),
    ],
)
async def test_fast_path_defers_everything_else(keys: dict[str, SigningKey], variant: Any) -> None:
    auth = authenticator(admin_secret="admin-secret-value")
    token = token_for(keys)
    await auth.authenticate(headers(token))
    assert auth.cached_session(variant(token)) is None


async def test_fast_path_serves_past_other_upper_case_names(keys: dict[str, SigningKey]) -> None:
    # Only the names it reads could change the answer; any other name is the app's.
    auth = authenticator(admin_secret="admin-secret-value")
    token = token_for(keys)
    request = [(b"X-Trace", b"1"), *headers(token, "editor"), (b"Accept", b"*/*")]
    fast = auth.cached_session(request)
    assert fast is None  # not cached yet
    full = await auth.authenticate(request)
    fast = auth.cached_session(request)
    assert fast is not None
    assert fast == full
    assert fast.role == "editor"


@pytest.mark.parametrize(
    ("raw", "role"),
    [
        pytest.param("rédacteur".encode(), "rédacteur", id="utf-8"),
        pytest.param(b"\xe2\x80x", "\ufffd\ufffdx", id="invalid-utf-8"),
        # Reads as "r\ufffddacteur" (as latin-1 it was "rédacteur"): refused on both paths.
        pytest.param(b"r\xe9dacteur", None, id="latin-1-bytes"),
    ],
)
async def test_fast_and_full_paths_read_a_non_ascii_role_alike(
    keys: dict[str, SigningKey], raw: bytes, role: str | None
) -> None:
    allowed = ["user", "rédacteur", "\ufffd\ufffdx", "r\xe9dacteur"]
    token = token_for(keys, **{NAMESPACE: hasura_claims(roles=allowed)})
    request = [*headers(token), (b"x-hasura-role", raw)]
    auth = authenticator()
    await auth.authenticate(headers(token))  # cached from here on
    if role is None:
        assert auth.cached_session(request) is None
        with pytest.raises(AccessDenied) as caught:
            await auth.authenticate(request)
        assert (caught.value.code, caught.value.status, caught.value.message) == (
            "access-denied",
            400,
            "Your requested role is not in allowed roles",
        )
        return
    fast = auth.cached_session(request)
    assert fast is not None
    assert fast["x-hasura-role"] == role
    assert fast == await auth.authenticate(request)
    # And the other way round: a fresh cache, the full path first.
    auth = authenticator()
    assert await auth.authenticate(request) == auth.cached_session(request)


async def test_fast_path_defers_a_non_ascii_authorization(keys: dict[str, SigningKey]) -> None:
    auth = authenticator()
    token = token_for(keys)
    await auth.authenticate(headers(token))
    assert auth.cached_session([(b"authorization", f"Bearer {token}é".encode())]) is None


async def test_fast_path_defers_expired_and_rekeyed_tokens(keys: dict[str, SigningKey]) -> None:
    clock = Clock()
    source = VersionedKeys(parse_configs(HS, {})[0].key)  # type: ignore[arg-type]
    auth = authenticator(clock=clock, source=source)
    token = token_for(keys, exp=NOW + 60)
    await auth.authenticate(headers(token))
    assert auth.cached_session(headers(token)) is not None
    clock.now = NOW + 60
    assert auth.cached_session(headers(token)) is None
    with pytest.raises(InvalidJWT, match="JWTExpired"):
        await auth.authenticate(headers(token))
    clock.now = NOW
    source.version += 1
    assert auth.cached_session(headers(token)) is None


async def test_fast_path_is_off_for_cookie_configs(keys: dict[str, SigningKey]) -> None:
    cookie = {**HS, "header": {"type": "Cookie", "name": "t"}}
    auth = authenticator([HS, cookie])
    token = token_for(keys)
    await auth.authenticate(headers(token))
    # A cookie could hold a second token (Multiple JWTs found): only the full path can tell.
    assert auth.cached_session(headers(token)) is None


async def test_middleware_uses_the_fast_path(
    keys: dict[str, SigningKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    from asgi_hasura_jwt import HasuraJWTMiddleware

    from .conftest import call, echo_app

    calls: list[int] = []
    real = Authenticator.authenticate

    async def counting(self: Authenticator, request_headers: Any, probe: Any = None) -> Any:
        calls.append(1)
        return await real(self, request_headers, probe)

    monkeypatch.setattr(Authenticator, "authenticate", counting)
    app = HasuraJWTMiddleware(echo_app, jwt_secret=HS, environ={})
    token = token_for(keys, exp=4_000_000_000)
    for _ in range(3):
        result = await call(app, {"Authorization": f"Bearer {token}"})
        assert result.json == {"x-hasura-user-id": "user-1", "x-hasura-role": "user"}
    assert len(calls) == 1


# --- Clerk's rules (spec 6): the cache answers exactly as the full path --------------------


def outcome(result: Any) -> tuple[Any, ...]:
    """Everything a caller can observe of a session or an error."""
    if isinstance(result, Exception):
        assert isinstance(result, AuthError)
        return ("error", result.code, result.status, result.message)
    return ("session", dict(result), result.expires_at, result.valid_until, dict(result.claims))


async def full_path(auth: Authenticator, request: list[tuple[bytes, bytes]]) -> tuple[Any, ...]:
    try:
        return outcome(await auth.authenticate(request))
    except AuthError as error:
        return outcome(error)


CLERK_HS = {**HS, "issuer": ISSUER}


@pytest.mark.parametrize(
    ("clerk", "claims", "header", "role"),
    [
        pytest.param(SESSION, "session", {"cat": SESSION_CATEGORY}, None, id="session"),
        pytest.param(SESSION, "session-org", {"cat": SESSION_CATEGORY}, None, id="session-org"),
        pytest.param(SESSION, "session", {}, "admin", id="session-role-denied"),
        pytest.param(SESSION, "pending", {}, None, id="pending"),
        pytest.param({**SESSION, "pending": "allow"}, "pending", {}, None, id="pending-allowed"),
        pytest.param(SESSION, "machine", {"cat": MACHINE_CATEGORY}, None, id="machine-cat"),
        pytest.param(SESSION, "machine", {}, None, id="machine-sub"),
        pytest.param(SESSION, "session", {"typ": "at+jwt"}, None, id="oauth"),
        pytest.param(SESSION, "template", {"cat": TEMPLATE_CATEGORY}, None, id="wrong-kind"),
        pytest.param({}, "template", {"cat": TEMPLATE_CATEGORY}, None, id="template"),
        pytest.param({}, "template", {"cat": IGNORE_CATEGORY}, "editor", id="template-denied"),
    ],
)
@pytest.mark.parametrize("unauthorized", [None, "anonymous"])
async def test_fast_path_equals_full_path_for_clerk_rules(
    keys: dict[str, SigningKey],
    clerk: dict[str, str],
    claims: str,
    header: dict[str, str],
    role: str | None,
    unauthorized: str | None,
) -> None:
    issued = int(NOW) - 5
    payloads = {
        "session": session_claims(issued),
        "session-org": session_claims(issued, o={"id": "org_1", "slg": "acme", "rol": "admin"}),
        "pending": session_claims(issued, sts="pending"),
        "machine": machine_claims(issued),
        "template": template_claims(issued),
    }
    token = clerk_token(keys["HS256"], payloads[claims], **header)
    config = {**CLERK_HS, "clerk": clerk}
    request = headers(token, role)
    options: dict[str, Any] = {"unauthorized_role": unauthorized}
    uncached = await full_path(authenticator(config, cache_entries=0, **options), request)
    auth = authenticator(config, **options)
    first = await full_path(auth, request)
    fast = auth.cached_session(request)
    again = await full_path(auth, request)
    assert first == again == uncached
    # Only tokens that gave a session are remembered: refused and signed-out ones never are.
    remembered = uncached[0] == "session" and uncached[1]["x-hasura-role"] != "anonymous"
    assert (fast is not None) == remembered
    if fast is not None:
        assert outcome(fast) == uncached
    assert (len(auth.cache), uncached[0], uncached[1]) == (int(remembered), *uncached[:2])


async def test_pending_tokens_are_not_cached(
    keys: dict[str, SigningKey], parses: list[str]
) -> None:
    auth = authenticator({**CLERK_HS, "clerk": SESSION}, unauthorized_role="anonymous")
    token = clerk_token(keys["HS256"], session_claims(int(NOW), sts="pending"))
    for _ in range(2):
        assert (await auth.authenticate(headers(token))).role == "anonymous"
        assert auth.cached_session(headers(token)) is None
    assert (len(auth.cache), len(parses)) == (0, 2)


@pytest.mark.parametrize("unauthorized", [None, "anonymous"])
async def test_client_uat_is_checked_on_cache_hits(
    keys: dict[str, SigningKey], parses: list[str], unauthorized: str | None
) -> None:
    # Cookie configs take the full path only, and a hit there still reads this request's
    # __client_uat: signing out (0) or in again (a later time) makes the cached token stale.
    config = {**CLERK_HS, "clerk": SESSION, "header": {"type": "Cookie", "name": "__session"}}
    token = clerk_token(keys["HS256"], session_claims(int(NOW)))
    auth = authenticator(config, unauthorized_role=unauthorized)
    uncached = authenticator(config, unauthorized_role=unauthorized, cache_entries=0)

    def request(uat: str) -> list[tuple[bytes, bytes]]:
        return [(b"cookie", f"__client_uat={uat}; __session={token}".encode())]

    for uat in (str(int(NOW)), "0", str(int(NOW) + 1), str(int(NOW) - 1)):
        assert auth.cached_session(request(uat)) is None
        assert await full_path(auth, request(uat)) == await full_path(uncached, request(uat))
    assert len(auth.cache) == 1
    assert len(parses) == 1 + 4  # the first verification, then the uncached authenticator's


async def test_cache_hits_keep_the_claims(keys: dict[str, SigningKey]) -> None:
    auth = authenticator({**CLERK_HS, "clerk": SESSION})
    claims = session_claims(int(NOW))
    token = clerk_token(keys["HS256"], claims)
    first = await auth.authenticate(headers(token))
    fast = auth.cached_session(headers(token))
    assert fast is not None
    assert dict(first.claims) == dict(fast.claims) == claims
    assert (await auth.authenticate(headers(token))).claims == claims
