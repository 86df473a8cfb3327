"""Property tests (hypothesis): parsing, verification, header reading and the whole middleware
never fail in any way other than the documented one.

Every property is derandomized (fixed examples, reproducible in CI) and bounded to a few hundred
examples; the whole file runs in seconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import hmac
import json
import math
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asgi_hasura_jwt._config import TokenLocation
from asgi_hasura_jwt._errors import InvalidHeaders, InvalidJWT
from asgi_hasura_jwt._keys import StaticKeys, VerificationKey, key_from_config, key_from_jwk
from asgi_hasura_jwt._request import RequestHeaders
from asgi_hasura_jwt._strict import StrictDecodeError, b64url_decode, loads
from asgi_hasura_jwt._token import ParsedToken, parse_token
from asgi_hasura_jwt._verify import INVALID_SIGNATURE, NO_SIGNATURES, TokenVerifier

from .conftest import (
    HMAC_SECRET,
    SigningKey,
    _build_keys,
    b64url,
    call,
    hasura_claims,
    middleware,
    mint,
    payload,
)
from .jwks_helpers import remote_key_set

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Properties with costly examples: deep strategies, a whole request, or an RSA signature each.
FUZZ_HEAVY = settings(FUZZ, max_examples=200)
FUZZ_SIGNING = settings(FUZZ, max_examples=150)

B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
FAMILIES = ["HS256", "RS256", "ES256", "ES384", "ES512", "Ed25519"]
CODES = {
    "invalid-jwt",
    "jwt-invalid-claims",
    "jwt-missing-role-claims",
    "invalid-headers",
    "access-denied",
}


@functools.cache
def _config_key(key_type: str, key_text: str) -> VerificationKey:
    return key_from_config(key_type, key_text)


def verification_key(key: SigningKey) -> VerificationKey:
    """The key a static config of ``key`` verifies with (imported once per config)."""
    return _config_key(key.config["type"], key.config["key"])


def verify(token: str, key: VerificationKey) -> None:
    """Parse and check the signature of ``token`` with ``key``; `InvalidJWT` if either fails."""
    parsed = parse_token(token)
    verifier = TokenVerifier(StaticKeys(key), audience=None, allowed_skew=0)
    asyncio.run(verifier.verify_signature(parsed))


def verify_reason(token: str, key: VerificationKey) -> str:
    with pytest.raises(InvalidJWT) as caught:
        verify(token, key)
    return caught.value.reason


@functools.cache
def other_keys() -> dict[str, SigningKey]:
    """A second key of every family: never the signer of the conftest keys' tokens."""
    return {name: SigningKey.generate(name) for name in _build_keys()}


# --- strategies ----------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities included: json.dumps writes them as bare words
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
claim_names = st.sampled_from(["exp", "nbf", "iat", "iss", "sub", "aud", "jti", "azp"]) | st.text(
    max_size=8
)
claims_objects = st.dictionaries(claim_names, json_values, max_size=6)
# Claims a signer would produce: finite numbers, registered claims left to the token helpers.
finite_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
signed_claims = st.dictionaries(
    st.text(max_size=8).filter(lambda name: name not in ("exp", "nbf", "iat", "iss", "sub", "aud")),
    finite_values,
    max_size=4,
).map(lambda claims: {**claims, "iss": "i", "sub": "s", "aud": "a"})
alg_values = st.sampled_from(
    [
        *("HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "ES512", "EdDSA", "Ed25519"),
        *("none", "None", "NONE", "nOnE", "", "ES256K", "Ed448", "RSA1_5", "hs256"),
    ]
) | st.text(max_size=8)
header_objects = st.fixed_dictionaries(
    {},
    optional={
        "alg": alg_values | json_values,
        "kid": st.text(max_size=8) | json_values,
        "typ": st.just("JWT"),
        "crit": st.lists(st.sampled_from(["b64", "exp", "x"]), max_size=2) | json_values,
        "b64": st.booleans() | json_values,
        "jwk": json_values,
    },
)
encodings = st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "utf-32", "latin-1"])
token_chars = st.sampled_from(list(B64URL_ALPHABET + ".=+/ ?\t\n\x00é")) | st.characters()


def _json_segment(value: Any, encoding: str, ascii_only: bool) -> str:
    text = json.dumps(value, ensure_ascii=ascii_only)
    try:
        return b64url(text.encode(encoding))
    except UnicodeEncodeError:  # latin-1 cannot hold every character
        return b64url(text.encode("utf-8"))


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` after a few random edits: insert, delete, replace, truncate."""
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        position = draw(st.integers(min_value=0, max_value=len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        if edit == "insert":
            text = text[:position] + draw(token_chars) + text[position:]
        elif edit == "delete":
            text = text[:position] + text[position + 1 :]
        elif edit == "replace":
            text = text[:position] + draw(token_chars) + text[position + 1 :]
        else:
            text = text[:position]
    return text


@st.composite
def near_valid_tokens(draw: st.DrawFn) -> str:
    header = draw(header_objects | json_values)
    claims = draw(claims_objects | json_values)
    segments = [
        _json_segment(header, draw(encodings), draw(st.booleans())),
        _json_segment(claims, draw(encodings), draw(st.booleans())),
        b64url(draw(st.binary(max_size=80))),
    ]
    # Sometimes a segment is not even base64url, sometimes a part is missing or extra.
    if draw(st.booleans()):
        index = draw(st.integers(min_value=0, max_value=2))
        segments[index] = draw(mutated(segments[index]))
    count = draw(st.sampled_from([3, 3, 3, 3, 2, 4, 5, 1]))
    segments = (segments * 2)[:count]
    return str(draw(mutated(".".join(segments))))


def _assert_claim_types(parsed: ParsedToken) -> None:
    # What a parsed token guarantees to the rest of the pipeline (spec 2.4 step 2, 7.6).
    assert isinstance(parsed.header, dict)
    assert isinstance(parsed.claims, dict)
    for name in ("exp", "nbf", "iat"):
        if name in parsed.claims:
            value = parsed.claims[name]
            assert isinstance(value, int | float)
            assert not isinstance(value, bool)
            assert math.isfinite(value)
            assert abs(value) < 2**63
    for name in ("iss", "sub"):
        if name in parsed.claims:
            assert isinstance(parsed.claims[name], str)
    if "aud" in parsed.claims:
        audience = parsed.claims["aud"]
        assert isinstance(audience, str) or (
            isinstance(audience, list) and all(isinstance(item, str) for item in audience)
        )


def _parse_or_invalid(token: str) -> ParsedToken | None:
    try:
        parsed = parse_token(token)
    except InvalidJWT as exc:
        reason = exc.reason
    else:
        _assert_claim_types(parsed)
        return parsed
    assert reason.startswith(("JWSError (CompactDecodeError ", "JWTClaimsSetDecodeError "))
    return None


# --- (a) parsing ---------------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=400))
def test_parse_token_on_arbitrary_text(token: str) -> None:
    _parse_or_invalid(token)


@FUZZ
@given(st.binary(max_size=400))
def test_parse_token_on_arbitrary_bytes_as_text(data: bytes) -> None:
    _parse_or_invalid(data.decode("latin-1"))
    # Lone surrogates, as a server decoding with surrogateescape could hand over.
    _parse_or_invalid(data.decode("utf-8", "surrogateescape"))


@FUZZ_HEAVY
@given(near_valid_tokens())
def test_parse_token_on_near_valid_tokens(token: str) -> None:
    _parse_or_invalid(token)


@FUZZ
@given(st.binary(max_size=200))
def test_strict_decoders_raise_only_their_error(data: bytes) -> None:
    for decode in (b64url_decode, loads):
        with contextlib.suppress(StrictDecodeError):
            decode(data)


@FUZZ
@given(st.binary(max_size=200))
def test_b64url_round_trip_and_single_spelling(data: bytes) -> None:
    encoded = base64.urlsafe_b64encode(data).rstrip(b"=")
    assert b64url_decode(encoded) == data
    # Strictness means one spelling per byte string: re-encoding what decodes gives it back.
    for candidate in (encoded + b"=", encoded[:-1] + b"B", encoded.replace(b"-", b"+")):
        try:
            decoded = b64url_decode(candidate)
        except StrictDecodeError:
            continue
        assert base64.urlsafe_b64encode(decoded).rstrip(b"=") == candidate


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list):
        return any(_has_non_finite(item) for item in value)
    if isinstance(value, dict):
        return any(_has_non_finite(item) for item in value.values())
    return False


@FUZZ
@given(json_values, st.booleans())
def test_strict_loads_agrees_with_json_on_plain_values(value: Any, ascii_only: bool) -> None:
    data = json.dumps(value, ensure_ascii=ascii_only).encode()
    if _has_non_finite(value):
        # json.dumps writes NaN / Infinity / -Infinity as bare words; strict JSON has none.
        with pytest.raises(StrictDecodeError):
            loads(data)
    else:
        assert loads(data) == json.loads(data)


# --- (b) signatures ------------------------------------------------------------------------------


@FUZZ_SIGNING
@given(
    family=st.sampled_from(FAMILIES),
    verifier_family=st.sampled_from(FAMILIES),
    claims=signed_claims,
)
def test_a_token_verifies_only_with_its_own_key(
    family: str, verifier_family: str, claims: dict[str, Any]
) -> None:
    keys = _build_keys()
    token = mint(keys[family], claims)
    verify(token, verification_key(keys[family]))  # the property is not vacuous
    other = other_keys()[verifier_family]
    assert verify_reason(token, verification_key(other)) == INVALID_SIGNATURE
    if verifier_family != family:
        assert verify_reason(token, verification_key(keys[verifier_family])) == INVALID_SIGNATURE


@st.composite
def token_edits(draw: st.DrawFn, token: str) -> str:
    """One character of ``token`` changed, or the token truncated."""
    if draw(st.booleans()):
        return token[: draw(st.integers(min_value=0, max_value=len(token) - 1))]
    position = draw(st.integers(min_value=0, max_value=len(token) - 1))
    char = draw(token_chars.filter(lambda c: c != token[position]))
    return token[:position] + char + token[position + 1 :]


@FUZZ
@given(family=st.sampled_from(FAMILIES), data=st.data())
def test_any_single_change_or_truncation_breaks_the_token(family: str, data: st.DataObject) -> None:
    key = _build_keys()[family]
    token = _signed_tokens(family)[data.draw(st.integers(min_value=0, max_value=2))]
    verify(token, verification_key(key))
    edited = data.draw(token_edits(token))
    assert edited != token
    with pytest.raises(InvalidJWT):
        verify(edited, verification_key(key))


@functools.cache
def _signed_tokens(family: str) -> tuple[str, ...]:
    key = _build_keys()[family]
    return (
        mint(key),
        mint(key, {"sub": "x"}, header={"kid": "k1"}),
        mint(key, {}),
    )


def _casings(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flags: "".join(c.upper() if up else c for c, up in zip(word, flags, strict=True))
    )


@FUZZ_SIGNING
@given(
    family=st.sampled_from(FAMILIES),
    alg=_casings("none") | st.sampled_from(["none ", " none", "none\x00", "n\u043ene"]),
    claims=signed_claims,
    signature=st.sampled_from(["", "signed", "random"]),
    extra=st.dictionaries(st.sampled_from(["kid", "typ", "crit"]), st.text(max_size=4)),
)
def test_alg_none_never_verifies(
    family: str,
    alg: str,
    claims: dict[str, Any],
    signature: str,
    extra: dict[str, Any],
) -> None:
    key = _build_keys()[family]
    header = b64url(json.dumps({**extra, "alg": alg}).encode())
    body = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{body}".encode()
    sig = {"": b"", "signed": key.sign(signing_input), "random": b"\x07" * 64}[signature]
    token = f"{header}.{body}.{b64url(sig)}"
    parsed = _parse_or_invalid(token)
    if parsed is None:
        return  # refused earlier (e.g. claim types): never accepted, which is the property
    verifier = TokenVerifier(StaticKeys(verification_key(key)), audience=None, allowed_skew=0)
    with pytest.raises(InvalidJWT) as caught:
        asyncio.run(verifier.verify_signature(parsed))
    assert caught.value.reason == NO_SIGNATURES


@functools.cache
def _confusion_secrets(family: str) -> tuple[bytes, ...]:
    """Byte strings an attacker might use as the HMAC secret for a public key's config."""
    key = _build_keys()[family]
    private: Any = key.private
    public = private.public_key()
    pem = key.config["key"]
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    secrets = [
        pem.encode(),
        pem.strip().encode(),
        pem.replace("\n", "\r\n").encode(),
        der,
        base64.b64encode(der),
        json.dumps(key.jose_key.as_dict(private=False)).encode(),
    ]
    if isinstance(public, rsa.RSAPublicKey):
        secrets.append(
            public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        )
    else:
        secrets.append(
            public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            if isinstance(public, ed25519.Ed25519PublicKey)
            else public.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
    return tuple(secrets)


@FUZZ
@given(
    family=st.sampled_from([name for name in FAMILIES if name != "HS256"]),
    alg=st.sampled_from(["HS256", "HS384", "HS512"]),
    secret_index=st.integers(min_value=0, max_value=6),
    claims=signed_claims,
)
def test_hmac_signed_with_public_key_material_never_verifies(
    family: str, alg: str, secret_index: int, claims: dict[str, Any]
) -> None:
    key = _build_keys()[family]
    secret = _confusion_secrets(family)[secret_index]
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{body}".encode()
    token = f"{header}.{body}.{b64url(hmac.new(secret, signing_input, digest).digest())}"
    assert verify_reason(token, verification_key(key)) == INVALID_SIGNATURE


# --- (b) key import: one JWKS entry never breaks anything ---------------------------------------


@functools.cache
def _public_jwks() -> tuple[dict[str, Any], ...]:
    keys = _build_keys()
    return tuple(
        {**keys[name].jose_key.as_dict(private=False), "kid": name}
        for name in ("RS256", "ES256", "ES384", "ES512", "Ed25519")
    )


_JWK_MEMBERS = ["kty", "crv", "x", "y", "n", "e", "alg", "use", "key_ops", "kid", "d", "k"]
hashable_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
member_values = (
    st.sampled_from(["RSA", "EC", "OKP", "oct", "P-256", "P-521", "Ed25519", "X25519", "ES256"])
    | st.sampled_from(["RS256", "PS512", "EdDSA", "Ed25519", "sig", "enc", "AQAB", "", "=="])
    | hashable_scalars
    | st.lists(st.sampled_from(["verify", "sign", "encrypt"]) | hashable_scalars, max_size=3)
)


@st.composite
def jwk_entries(draw: st.DrawFn) -> Any:
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(json_values)  # not even an object
    entry = dict(draw(st.sampled_from(_public_jwks())))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        member = draw(st.sampled_from(_JWK_MEMBERS))
        if draw(st.booleans()):
            entry.pop(member, None)
        else:
            value = draw(member_values)
            if member == "alg" and not isinstance(value, str | int | float | bool | None):
                value = "ES256"  # unhashable alg: see test_key_from_jwk_skips_an_unhashable_alg
            entry[member] = value
    return entry


@FUZZ
@given(jwk_entries())
def test_key_from_jwk_returns_a_key_or_a_reason(entry: Any) -> None:
    result = key_from_jwk(entry)
    if isinstance(result, str):
        return
    assert isinstance(result, VerificationKey)
    # A usable entry is a public key (spec 7.8) allowed only its own family's algorithms (7.1).
    assert isinstance(entry, dict)
    assert not {"d", "k"} & entry.keys()
    assert entry.get("use", "sig") == "sig"
    assert result.algorithms
    family_algorithms = {
        "RSA": {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
        "EC": {"ES256", "ES384", "ES512"},
        "OKP": {"EdDSA", "Ed25519"},
    }[result.family]
    assert set(result.algorithms) <= family_algorithms
    if isinstance(entry.get("alg"), str):
        assert set(result.algorithms) == {entry["alg"]}


@pytest.mark.parametrize("alg", [[], ["ES256"], {}, {"alg": "ES256"}], ids=repr)
def test_key_from_jwk_skips_an_unhashable_alg(alg: Any) -> None:
    entry = {**_public_jwks()[1], "alg": alg}
    assert isinstance(key_from_jwk(entry), str)


async def test_one_malformed_jwks_entry_does_not_sink_the_set() -> None:
    good = _public_jwks()[1]
    document = {"keys": [{**good, "kid": "odd", "alg": ["ES256"]}, good]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=document))
    async with httpx.AsyncClient(transport=transport) as client:
        key_set = remote_key_set("https://issuer.test/jwks.json", http_client=client)
        usable = await key_set.keys_for(None)
    assert [key.kid for key in usable] == ["ES256"]


# --- (c) request headers -------------------------------------------------------------------------

_HEADER_NAMES = [
    b"authorization",
    b"Authorization",
    b"AUTHORIZATION",
    b"cookie",
    b"Cookie",
    b"x-token",
    b"X-Token",
    b"x-hasura-role",
    b"x-hasura-admin-secret",
    b"x-hasura-access-key",
    b"x-hasura-user-id",
    b"X-Hasura-Org",
]
header_names = st.sampled_from(_HEADER_NAMES) | st.binary(max_size=24)
header_values = (
    st.binary(max_size=80)
    | st.sampled_from([b"Bearer", b"Bearer ", b"bearer x", b"Bearer a b", b"\tBearer\t\tt\t"])
    | st.builds(
        lambda scheme, space, token: scheme + space + token,
        st.sampled_from([b"Bearer", b"bearer", b"BEARER", b"Basic", b""]),
        st.sampled_from([b" ", b"\t", b"  \t ", b"\xa0", b""]),
        st.binary(max_size=40),
    )
    | st.builds(
        lambda pairs: b"; ".join(name + b"=" + value for name, value in pairs),
        st.lists(
            st.tuples(
                st.sampled_from([b"session", b"__session", b" session", b"a"])
                | st.binary(max_size=8),
                st.binary(max_size=20) | st.just(b"%zz%41%"),
            ),
            max_size=4,
        ),
    )
)
header_lists = st.lists(st.tuples(header_names, header_values), max_size=10)
locations = st.sampled_from(
    [
        TokenLocation("Authorization"),
        TokenLocation("Cookie", "session"),
        TokenLocation("Cookie", "__session"),
        TokenLocation("CustomHeader", "x-token"),
        TokenLocation("CustomHeader", "x-hasura-user-id"),
        TokenLocation("CustomHeader", "authorization"),
    ]
)


@FUZZ_HEAVY
@given(headers=header_lists, location=locations)
def test_request_headers_raise_only_invalid_headers(
    headers: list[tuple[bytes, bytes]], location: TokenLocation
) -> None:
    custom = {location.name.encode()} if location.kind == "CustomHeader" else set()
    request = RequestHeaders(headers, custom)
    authorization = [value for name, value in headers if name.lower() == b"authorization"]
    assert len(request.authorization) == len(authorization)
    assert "x-hasura-admin-secret" not in request.session_headers
    assert "x-hasura-access-key" not in request.session_headers
    try:
        tokens = request.tokens_at(location)
    except InvalidHeaders as exc:
        error = exc
    else:
        error = None
    if error is not None:
        assert location.kind == "Authorization"
        assert error.message == "Malformed Authorization header"
        return
    assert all(isinstance(token, str) for token in tokens)
    if location.kind == "Authorization":
        assert len(tokens) == len(authorization)
        for token in tokens:
            assert token
            assert " " not in token
            assert "\t" not in token
    elif location.kind == "CustomHeader":
        assert len(tokens) == sum(name.lower() == location.name.encode() for name, _ in headers)


# --- (d) the whole middleware --------------------------------------------------------------------

_ADMIN_SECRET = "fuzz-admin-secret"


@functools.cache
def _apps() -> dict[str, Any]:
    keys = _build_keys()
    return {
        "hs256": middleware(jwt_secret={"type": "HS256", "key": HMAC_SECRET}),
        "rs256-admin": middleware(jwt_secret=keys["RS256"].config, admin_secret=_ADMIN_SECRET),
        "cookie-anonymous": middleware(
            jwt_secret={
                **keys["ES256"].config,
                "header": {"type": "Cookie", "name": "session"},
                "issuer": "https://issuer.example",
            },
            admin_secret=_ADMIN_SECRET,
            unauthorized_role="anonymous",
        ),
        "two-configs": middleware(
            jwt_secret=[
                {"type": "HS256", "key": HMAC_SECRET, "issuer": "a"},
                {**keys["Ed25519"].config, "issuer": "b"},
            ],
        ),
    }


@functools.cache
def _good_tokens() -> tuple[str, ...]:
    keys = _build_keys()
    return (
        mint(keys["HS256"]),
        mint(keys["HS256"], payload(iss="a")),
        mint(keys["RS256"]),
        mint(keys["ES256"], payload(iss="https://issuer.example")),
        mint(keys["Ed25519"], payload(iss="b")),
        mint(keys["HS256"], payload(**{"https://hasura.io/jwt/claims": hasura_claims(roles=[])})),
        mint(keys["HS256"], payload(exp=1)),
    )


def _edit(token: str, position: int, char: str, truncate: bool) -> str:
    position %= len(token)
    return token[:position] if truncate else token[:position] + char + token[position + 1 :]


def _request_headers() -> st.SearchStrategy[list[tuple[bytes, bytes]]]:
    good = st.sampled_from(_good_tokens())
    edited = st.builds(_edit, good, st.integers(min_value=0), token_chars, st.booleans())
    token = good | edited | st.text(max_size=40)
    meaningful = st.one_of(
        st.builds(lambda t: (b"authorization", b"Bearer " + t.encode("utf-8", "replace")), token),
        st.builds(lambda t: (b"cookie", b"session=" + t.encode("utf-8", "replace")), token),
        st.tuples(st.sampled_from([b"authorization", b"cookie"]), header_values),
        st.builds(
            lambda s: (b"x-hasura-admin-secret", s),
            st.sampled_from([_ADMIN_SECRET.encode(), b"", b"wrong", "sécret".encode()])
            | st.binary(max_size=20),
        ),
        st.builds(lambda s: (b"x-hasura-access-key", s), st.binary(max_size=20)),
        st.builds(
            lambda s: (b"x-hasura-role", s),
            st.sampled_from([b"user", b"editor", b"admin", b""]) | st.binary(max_size=10),
        ),
        st.builds(lambda s: (b"x-hasura-user-id", s), st.binary(max_size=20)),
    )
    return st.lists(meaningful | st.tuples(header_names, header_values), max_size=8)


@FUZZ_HEAVY
@given(
    app_name=st.sampled_from(["hs256", "rs256-admin", "cookie-anonymous", "two-configs"]),
    headers=st.deferred(_request_headers),
)
def test_middleware_answers_200_or_a_hasura_error(
    app_name: str, headers: list[tuple[bytes, bytes]]
) -> None:
    # ASGI servers hand over lower-case header names.
    headers = [(name.lower(), value) for name, value in headers]
    result = asyncio.run(call(_apps()[app_name], raw_headers=headers))
    if result.status == 200:
        session = result.json
        assert isinstance(session, dict)
        assert isinstance(session["x-hasura-role"], str)
        assert all(isinstance(value, str) for value in session.values())
        assert result.session is not None
        return
    status, code, message = result.error()
    assert code in CODES
    assert status == (401 if message.startswith("invalid x-hasura-admin-secret") else 400)
    assert result.headers["content-type"] == "application/json"
    assert result.scope is None  # the inner app never ran
    assert "internal error" not in message
