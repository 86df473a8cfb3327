"""The fast paths against the slow ones they stand for, property-based.

The cache hit (`Authenticator.cached_session`) against `authenticate`: for generated header
lists, clocks, skews, secrets and revocations over cached tokens, the fast path either defers
(``None``) or gives exactly the session `authenticate` gives. The one-pass `parse_token`
against `parse_carefully`: the same parsed token, or the same error.
"""

from __future__ import annotations

import base64
from typing import Any

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from asgi_hasura_jwt._auth import Authenticator
from asgi_hasura_jwt._claims import hasura_claims_of
from asgi_hasura_jwt._config import JWTConfig, parse_configs
from asgi_hasura_jwt._errors import AuthError, InvalidJWT
from asgi_hasura_jwt._keys import KeySource, StaticKeys
from asgi_hasura_jwt._names import ALLOWED_ROLES as ALLOWED
from asgi_hasura_jwt._names import DEFAULT_ROLE as DEFAULT
from asgi_hasura_jwt._options import DEFAULT_MAX_TOKEN_BYTES
from asgi_hasura_jwt._paths import NOT_FOUND
from asgi_hasura_jwt._roles import (
    allowed_roles_problem,
    parse_allowed_roles,
    parse_default_role,
    role_name_problem,
)
from asgi_hasura_jwt._strict import StrictDecodeError, _b64url_decode_carefully, b64url_decode
from asgi_hasura_jwt._token import parse_carefully, parse_token
from asgi_hasura_jwt._verify import check_times, validity_window

from .conftest import HMAC_SECRET, NAMESPACE, SigningKey, hasura_claims, mint
from .test_fuzz import FUZZ, near_valid_tokens

ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
NOW = 1_800_000_000.0
ADMIN_ONLY = hasura_claims(roles=["admin"], default="admin")
SECRET = "fast-path-admin-secret"
# (claims, when to cache it): a plain token, one issued this instant, one not valid before
# NOW + 10, one that expires at NOW + 1, one of another subject with other roles.
TOKENS: list[tuple[dict[str, Any], float]] = [
    ({"sub": "alice", "iat": NOW - 5, "exp": NOW + 60, NAMESPACE: hasura_claims()}, NOW),
    ({"sub": "bob", "iat": NOW, "nbf": NOW - 5, "exp": NOW + 60, NAMESPACE: hasura_claims()}, NOW),
    ({"sub": "carol", "nbf": NOW + 10, "exp": NOW + 60, NAMESPACE: hasura_claims()}, NOW + 20),
    ({"sub": "dave", "iat": NOW - 0.5, "exp": NOW + 1, NAMESPACE: hasura_claims()}, NOW),
    (
        {
            "sub": "erin",
            "exp": NOW + 60,
            NAMESPACE: hasura_claims(roles=["admin"], default="admin"),
        },
        NOW,
    ),
]
SIGNED = [mint(SigningKey.hmac(HMAC_SECRET), claims).encode() for claims, _ in TOKENS]
ALL_SIGNED = [token.decode() for token in SIGNED]

AUTHORIZATION_NAMES = st.sampled_from([b"authorization", b"Authorization", b"AUTHORIZATION"])
SPELLINGS = st.sampled_from([b"Bearer ", b"bearer ", b"Bearer  ", b"Bearer\t", b"Basic "])
authorization = st.tuples(
    AUTHORIZATION_NAMES,
    st.one_of(
        st.builds(lambda spelling, token: spelling + token, SPELLINGS, st.sampled_from(SIGNED)),
        st.builds(lambda token: b"Bearer " + token[:-2], st.sampled_from(SIGNED)),
        st.binary(max_size=12),
    ),
)
role = st.tuples(
    st.sampled_from([b"x-hasura-role", b"X-Hasura-Role"]),
    st.sampled_from([b"user", b"editor", b"admin", b"", b"\xff", b"User"]),
)
secret = st.tuples(
    st.sampled_from(
        [
            b"x-hasura-admin-secret",
            b"x-hasura-access-key",
            b"X-Hasura-Admin-Secret",
            b"X-Hasura-Access-Key",
        ]
    ),
    st.sampled_from([SECRET.encode(), b"wrong"]),
)
other = st.tuples(
    # Among them names of the length of the two the fast path reads, in either case.
    st.sampled_from(
        [
            *(b"cookie", b"x-hasura-user-id", b"accept", b"123", b"X-Other"),
            *(b"cache-control", b"Cache-Control", b"x-hasura-ROLE"),
        ]
    ),
    st.sampled_from([b"a=b", b"u9", b"*/*"]),
)
ANY_HEADER = st.one_of(authorization, role, secret, other)
plain = st.tuples(st.just(b"authorization"), st.sampled_from([b"Bearer " + t for t in SIGNED]))
# Half the lists hold a plain Authorization header, which the fast path may serve, among others.
HEADERS = st.one_of(
    st.lists(ANY_HEADER, max_size=5),
    st.builds(
        lambda first, rest, at: [*rest[:at], first, *rest[at:]],
        plain,
        st.lists(
            st.one_of(ANY_HEADER, plain, role.map(lambda pair: (b"x-hasura-role", pair[1]))),
            max_size=3,
        ),
        st.integers(0, 3),
    ),
)
OFFSETS = [-10, -5.0001, -5, -1, -0.5, 0, 0.5, 1, 1.0001, 5, 10, 20, 55, 59.999, 60, 65, 1e4]
MOMENTS = st.one_of(
    st.sampled_from([NOW + offset for offset in OFFSETS]), st.floats(NOW - 100, NOW + 100)
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def authenticator(clock: Clock, skew: float, admin_secret: str | None) -> Authenticator:
    def key_source(parsed: JWTConfig) -> KeySource:
        assert parsed.key is not None
        return StaticKeys(parsed.key)

    config = {"type": "HS256", "key": HMAC_SECRET, "allowed_skew": skew}
    return Authenticator(
        parse_configs(config, {}), key_source, admin_secret=admin_secret, clock=clock
    )


async def outcome(auth: Authenticator, headers: list[tuple[bytes, bytes]]) -> Any:
    try:
        session = await auth.authenticate(headers)
    except AuthError as error:
        return ("error", error.status, error.to_json())
    return (
        dict(session),
        session.expires_at,
        session.valid_until,
        dict(session.claims),
        session.subject,
        session.source,
    )


@settings(FUZZ, max_examples=600)
@given(
    headers=HEADERS,
    now=MOMENTS,
    skew=st.sampled_from([0.0, 5.0, 0.1]),
    admin_secret=st.sampled_from([None, SECRET]),
    revoke=st.sampled_from([None, "alice", "bob"]),
)
def test_fast_path_answers_as_authenticate(
    headers: list[tuple[bytes, bytes]],
    now: float,
    skew: float,
    admin_secret: str | None,
    revoke: str | None,
) -> None:
    clock = Clock()
    auth = authenticator(clock, skew, admin_secret)

    async def check() -> None:
        for token, (_, cached_at) in zip(SIGNED, TOKENS, strict=True):
            clock.now = cached_at
            plain = [(b"authorization", b"Bearer " + token)]
            await auth.authenticate(plain)
            for each in (b"user", b"editor", b"admin"):
                # Builds the session of each allowed role, which later hits share.
                auth.cached_session([*plain, (b"x-hasura-role", each)])
        if revoke is not None:
            clock.now = NOW + 2
            assert auth.revocations.add(auth.revocations.new("sub", revoke))
        clock.now = now
        fast = auth.cached_session(headers)
        if fast is not None:
            served = (
                dict(fast),
                fast.expires_at,
                fast.valid_until,
                dict(fast.claims),
                fast.subject,
                fast.source,
            )
            assert served == await outcome(auth, headers)

    anyio.run(check)


@FUZZ
@given(
    exp=st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-(10**400), 10**400)),
    iat=st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-(10**400), 10**400)),
    nbf=st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-(10**400), 10**400)),
    skew=st.one_of(st.just(0.0), st.just(0), st.floats(0, 1e6)),
    now=st.one_of(st.floats(allow_nan=False), st.sampled_from([NOW, NOW + 0.5])),
)
def test_the_validity_window_admits_only_what_check_times_passes(
    exp: float | None, iat: float | None, nbf: float | None, skew: float, now: float
) -> None:
    start, until = validity_window(exp, iat, nbf, skew)
    if start <= now < until:
        check_times(exp, iat, nbf, now, skew)  # never raises inside the window


def test_the_window_is_exact_for_ordinary_claims() -> None:
    start, until = validity_window(NOW + 60, NOW, NOW - 5, 5.0)
    assert (start, until) == (NOW - 5, NOW + 65)  # iat - skew is the later start
    assert validity_window(None, None, None, 0.0) == (float("-inf"), float("inf"))
    # Without skew the window opens at iat itself, an int as the token gave it.
    assert validity_window(NOW + 60, 1_800_000_000, None, 0.0) == (1_800_000_000, NOW + 60)


# --- the one-pass token parse against the careful, step-by-step one ---------------------------


def parsed_or_reason(parse: Any, token: str, max_bytes: int) -> Any:
    try:
        return parse(token, max_bytes)
    except InvalidJWT as error:
        return ("error", error.status, error.to_json())


@settings(FUZZ, max_examples=500)
@given(
    token=st.one_of(near_valid_tokens(), st.text(max_size=200), st.sampled_from(ALL_SIGNED)),
    max_bytes=st.sampled_from([DEFAULT_MAX_TOKEN_BYTES, 64, 200]),
)
def test_parse_token_answers_as_parse_carefully(token: str, max_bytes: int) -> None:
    assert parsed_or_reason(parse_token, token, max_bytes) == parsed_or_reason(
        parse_carefully, token, max_bytes
    )


# --- the claims' fast checks against the rules they shortcut --------------------------------

ROLE_TEXT = st.text(alphabet=st.sampled_from(["a", "B", "\n", "\r", "\x00", "é", "K", " "]))
ROLE_VALUES = st.one_of(
    ROLE_TEXT,
    st.lists(st.one_of(ROLE_TEXT, st.none(), st.integers(), st.booleans()), max_size=4),
    st.lists(ROLE_TEXT, max_size=4),
    st.none(),
    st.integers(),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)


def outcome_of(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except AuthError as error:
        return ("error", error.code, error.status, error.message)


def roles_by_rule(value: Any, missing: bool) -> Any:
    # The rules as Hasura states them, one role at a time (spec 2.7).
    if missing:
        return ("error", "jwt-missing-role-claims", 400, f"JWT claim does not contain {ALLOWED}")
    problem = allowed_roles_problem(value)
    if problem:
        message = f"invalid {ALLOWED}; should be a list of roles: {problem}"
        return ("error", "jwt-invalid-claims", 400, message)
    return frozenset(value)


@FUZZ
@given(value=ROLE_VALUES, missing=st.booleans())
def test_allowed_roles_fast_check_answers_as_the_rule(value: Any, missing: bool) -> None:
    value = NOT_FOUND if missing else value
    assert outcome_of(parse_allowed_roles, value) == roles_by_rule(value, missing)


@FUZZ
@given(value=ROLE_VALUES, missing=st.booleans())
def test_default_role_fast_check_answers_as_the_rule(value: Any, missing: bool) -> None:
    value = NOT_FOUND if missing else value
    problem = None if missing else role_name_problem(value)
    if missing:
        expected: Any = (
            "error",
            "jwt-missing-role-claims",
            400,
            f"JWT claim does not contain {DEFAULT}",
        )
    elif problem:
        message = f"invalid {DEFAULT}; should be a single role name: {problem}"
        expected = ("error", "jwt-invalid-claims", 400, message)
    else:
        expected = value
    assert outcome_of(parse_default_role, value) == expected


CLAIM_NAMES = st.builds(
    str.__add__,
    st.sampled_from(["x-hasura-", "X-Hasura-", "X-HASURA-", "x-ha\u212asura-", "", "sub"]),
    st.text(alphabet=st.sampled_from("aUé\u212aK1-"), max_size=4),
)


@FUZZ
@given(st.dictionaries(CLAIM_NAMES, st.just("v"), max_size=5))
def test_claim_names_lower_case_as_ascii_folding(document: dict[str, str]) -> None:
    # ASCII-only folding for every name (spec 7.7): the rule the islower() shortcut keeps.
    folded: dict[str, str] = {}
    duplicate = None
    for name, value in document.items():
        lowered = name.translate(ASCII_LOWER)
        if lowered.startswith("x-hasura-"):
            if lowered in folded:
                duplicate = lowered
                break
            folded[lowered] = value
    if duplicate is not None:
        message = f"x-hasura-* claims: {duplicate} is given more than once"
        assert outcome_of(hasura_claims_of, document) == (
            "error",
            "jwt-invalid-claims",
            400,
            message,
        )
    else:
        assert hasura_claims_of(document) == folded


# --- base64url in one C pass against the careful decoder --------------------------------------

B64_BYTES = st.sampled_from(list(b"AQgwBEzz09-_+/=.* \n\x00\xff"))
B64_SEGMENTS = st.one_of(
    st.binary(max_size=40).map(lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=")),
    # Padded, or in the standard alphabet: the same bytes spelled as base64url must not be.
    st.binary(max_size=40).map(base64.urlsafe_b64encode),
    st.binary(max_size=40).map(base64.b64encode),
    st.lists(B64_BYTES, max_size=12).map(bytes),
    st.binary(max_size=16),
)


def decoded_or_reason(decode: Any, segment: bytes) -> Any:
    try:
        return decode(segment)
    except StrictDecodeError as error:
        return ("error", str(error))


@settings(FUZZ, max_examples=500)
@given(segment=B64_SEGMENTS)
def test_b64url_decode_answers_as_the_careful_decoder(segment: bytes) -> None:
    assert decoded_or_reason(b64url_decode, segment) == decoded_or_reason(
        _b64url_decode_carefully, segment
    )
