"""Wycheproof test vectors (C2SP/wycheproof, unmodified copies in tests/data/wycheproof).

What each file is run through:

- ``json_web_signature_test.json``: every vector, through the signature step of `_verify.py`
  with the group's key. Its payloads are raw bytes (``Zm9v`` is ``foo``), not JWT claims, so
  `parse_token` rejects all of them (checked here, and end to end through the middleware); the
  signature step is reached by parsing each token with the payload rule lifted (see
  `signature_layer_input`).
- ``json_web_key_test.json``: each group's key set is served as a JWKS to a `RemoteKeySet`
  (``key_from_jwk`` per entry, spec 4.1 / 7.8), once as published and once with private
  members removed; single HMAC keys also go through a static ``key`` config.
- ``json_web_encryption_test.json``: every JWE is refused by `parse_token` on its part count.
- primitive files (HMAC, ECDSA P1363, Ed25519, RSASSA-PKCS1-v1_5, RSASSA-PSS): every vector
  through `TokenVerifier.verify_signature`, i.e. the joserfc algorithm objects pinned to keys
  from ``key_from_jwk`` / ``hmac_key`` exactly as requests use them.

Every difference from a file's ``result`` is listed below with its reason, and the tests check
that exactly those differences happen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from asgi_hasura_jwt._errors import ConfigError, InvalidJWT
from asgi_hasura_jwt._keys import (
    PRIVATE_MEMBERS,
    KeySource,
    StaticKeys,
    VerificationKey,
    hmac_key,
    key_from_config,
    key_from_jwk,
)
from asgi_hasura_jwt._strict import StrictDecodeError, b64url_decode
from asgi_hasura_jwt._token import ParsedToken, parse_token
from asgi_hasura_jwt._verify import TokenVerifier

from .conftest import HMAC_SECRET, b64url, call, middleware
from .jwks_helpers import remote_key_set

WYCHEPROOF = Path(__file__).parent / "data" / "wycheproof"
ACCEPTED = "accepted"


def load(name: str) -> dict[str, Any]:
    path = WYCHEPROOF / name
    if not path.is_file():
        # Never a skip: CI has the vectors, and silently running none would hide regressions.
        raise FileNotFoundError(f"Wycheproof vectors missing: {path}")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def test_vector_files_are_the_pinned_copies() -> None:
    # README.md: unmodified copies, checksums in SHA256SUMS.
    sums = {}
    for line in (WYCHEPROOF / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    used = {path.name for path in WYCHEPROOF.glob("*.json")}
    assert used <= sums.keys()
    assert len(used) == 16
    for name in sorted(used):
        assert hashlib.sha256((WYCHEPROOF / name).read_bytes()).hexdigest() == sums[name], name


# --- the signature step, shared by the JOSE files -------------------------------------------


def signature_layer_input(jws: str) -> ParsedToken:
    """`parse_token` with one rule lifted: the payload need not be a JSON object.

    The payload segment is swapped for ``e30`` (``{}``) when calling `parse_token`, so the size
    limit, the part count, the strict header and the strict signature segment are all the
    library's own checks; the real payload segment is then strictly base64url-decoded and is
    what the signature covers.
    """
    parts = jws.split(".")
    if len(parts) != 3:
        parse_token(jws)  # raises the part-count error
        raise AssertionError("parse_token accepted a token without three parts")
    header_b64, payload_b64, signature_b64 = parts
    parsed = parse_token(f"{header_b64}.e30.{signature_b64}")
    try:
        b64url_decode(payload_b64.encode("utf-8", "replace"))
    except StrictDecodeError as exc:
        raise InvalidJWT(f"JWSError (CompactDecodeError Invalid payload: {exc})") from exc
    signing_input = f"{header_b64}.{payload_b64}".encode("utf-8", "replace")
    return ParsedToken(parsed.header, {}, signing_input, parsed.signature)


async def signature_outcome(jws: str, keys: KeySource | str) -> str:
    """``accepted``, or the stage and reason of the rejection."""
    try:
        parsed = signature_layer_input(jws)
    except InvalidJWT as exc:
        return f"parse: {exc.reason}"
    if isinstance(keys, str):
        return f"key skipped: {keys}"
    verifier = TokenVerifier(keys, audience=None, allowed_skew=0)
    try:
        await verifier.verify_signature(parsed)
    except InvalidJWT as exc:
        return f"verify: {exc.reason}"
    return ACCEPTED


def public_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    """The public half a provider would publish: private members dropped (RFC 7518 6)."""
    return {name: value for name, value in jwk.items() if name not in PRIVATE_MEMBERS}


def vector_key(jwk: dict[str, Any]) -> KeySource | str:
    """A JWS group's key, imported the way the library imports keys.

    ``oct`` keys never come from a JWKS (spec 7.8), so their raw bytes go to `hmac_key`, the
    import behind a static ``HS*`` config; every other key's public half to `key_from_jwk`.
    """
    if jwk["kty"] == "oct":
        return StaticKeys(hmac_key(b64url_decode(jwk["k"].encode()), jwk.get("kid")))
    key = key_from_jwk(public_jwk(jwk))
    return key if isinstance(key, str) else StaticKeys(key)


# --- json_web_signature_test.json -----------------------------------------------------------

JWS_FILE = load("json_web_signature_test.json")


@dataclass(frozen=True)
class JWSVector:
    tc_id: int
    group: str
    comment: str
    jws: str
    result: str
    flags: tuple[str, ...]
    jwk: dict[str, Any]


JWS_VECTORS = [
    JWSVector(
        test["tcId"],
        group["comment"],
        test["comment"],
        test["jws"],
        test["result"],
        tuple(test["flags"]),
        group["private"],
    )
    for group in JWS_FILE["testGroups"]
    for test in group["tests"]
]
JWS_BY_ID = {vector.tc_id: vector for vector in JWS_VECTORS}

_PS256_PINNED = (
    "verify: JWSError JWSInvalidSignature",
    "RFC 7520 figure 20 is a PS384 token, but Wycheproof gives its key alg PS256; a JWK's own "
    "alg restricts the key to that algorithm (spec 4.1). Without alg it verifies.",
)
_ES521 = (
    "key skipped: alg 'ES521' does not fit a EC key",
    "'ES521' is not a JWA algorithm (P-521 ECDSA is ES512, RFC 7518 3.1); a key whose alg "
    "fits no algorithm of its family is unusable (spec 4.1). With alg ES512 it verifies.",
)
_SAME_AS_357 = (
    ACCEPTED,
    "Byte for byte the token of tcId 357, which the file marks valid: the padding the comment "
    "names is not in the vector. No verifier can answer two identical inputs differently.",
)
# tcId -> (our outcome, why it differs from the file's result)
JWS_DEVIATIONS: dict[int, tuple[str, str]] = {
    346: _PS256_PINNED,
    347: _ES521,
    349: (
        "key skipped: key_ops does not allow verify",
        'key_ops is ["sign, verify"]: one unknown operation, not "verify" (RFC 7517 4.3); a '
        'key that does not permit verify is skipped (panva/jose isUsableJWK). With ["sign", '
        '"verify"] it verifies.',
    ),
    350: _PS256_PINNED,
    351: _ES521,
    367: _SAME_AS_357,
    370: _SAME_AS_357,
    372: (
        "parse: JWSError (CompactDecodeError Invalid header: invalid base64url character)",
        "A '?' inside the header segment: strict base64url refuses it (spec 7.6, RFC 7515 2; "
        "the README lists it as an expected deviation). Without the '?' it verifies.",
    ),
    373: (
        "parse: JWSError (CompactDecodeError Invalid payload: invalid base64url character)",
        "A '?' inside the payload segment: as tcId 372.",
    ),
}


def _jws_id(vector: JWSVector) -> str:
    return f"{vector.tc_id}-{vector.group}-{vector.comment}"


@pytest.mark.parametrize("vector", JWS_VECTORS, ids=_jws_id)
async def test_json_web_signature(vector: JWSVector) -> None:
    outcome = await signature_outcome(vector.jws, vector_key(vector.jwk))
    if vector.tc_id in JWS_DEVIATIONS:
        expected, _why = JWS_DEVIATIONS[vector.tc_id]
        assert (outcome == ACCEPTED) != (vector.result == "valid"), "no longer a deviation"
        assert outcome == expected
    elif vector.result == "valid":
        assert outcome == ACCEPTED
    else:
        assert vector.result == "invalid"
        assert outcome != ACCEPTED
    if "JsonSerialization" in vector.flags:
        assert outcome.startswith("parse: JWSError (CompactDecodeError Invalid number of parts")

    # The token path proper refuses every vector: no payload here is a JSON object of claims.
    with pytest.raises(InvalidJWT) as caught:
        parse_token(vector.jws)
    reason = caught.value.reason
    assert reason.startswith(("JWSError (CompactDecodeError ", "JWTClaimsSetDecodeError "))
    if not reason.startswith("JWTClaimsSetDecodeError "):
        # Only the lifted payload rule may separate the two parses.
        assert outcome.startswith("parse: ")


def test_jws_vectors_are_all_there() -> None:
    assert len(JWS_VECTORS) == JWS_FILE["numberOfTests"] == 401
    assert len(JWS_BY_ID) == len(JWS_VECTORS)
    assert JWS_DEVIATIONS.keys() <= JWS_BY_ID.keys()


def _without(jwk: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in jwk.items() if key != name}


# Each deviation undone: with the one thing its reason names changed, the vector verifies.
_DEVIATION_FIXES: dict[int, Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    346: lambda jws, jwk: (jws, _without(jwk, "alg")),
    347: lambda jws, jwk: (jws, {**jwk, "alg": "ES512"}),
    349: lambda jws, jwk: (jws, {**jwk, "key_ops": ["sign", "verify"]}),
    350: lambda jws, jwk: (jws, _without(jwk, "alg")),
    351: lambda jws, jwk: (jws, {**jwk, "alg": "ES512"}),
    372: lambda jws, jwk: (jws.replace("?", ""), jwk),
    373: lambda jws, jwk: (jws.replace("?", ""), jwk),
}


@pytest.mark.parametrize("tc_id", sorted(_DEVIATION_FIXES))
async def test_jws_deviation_has_the_stated_cause(tc_id: int) -> None:
    vector = JWS_BY_ID[tc_id]
    jws, jwk = _DEVIATION_FIXES[tc_id](vector.jws, vector.jwk)
    assert (jws, jwk) != (vector.jws, vector.jwk)
    assert await signature_outcome(jws, vector_key(jwk)) == ACCEPTED


@pytest.mark.parametrize("tc_id", [367, 370])
def test_jws_vectors_contradicting_the_file(tc_id: int) -> None:
    # Same token, same key as tcId 357, opposite verdict in the file.
    vector, valid = JWS_BY_ID[tc_id], JWS_BY_ID[357]
    assert (vector.jws, vector.jwk, vector.result) == (valid.jws, valid.jwk, "invalid")
    assert valid.result == "valid"


def test_every_jws_deviation_is_explained() -> None:
    assert JWS_DEVIATIONS.keys() == _DEVIATION_FIXES.keys() | {367, 370}


async def test_every_jws_vector_is_refused_by_the_middleware() -> None:
    # A custom header passes the token verbatim (no Bearer parsing), so each vector reaches
    # the token checks as it is in the file, the empty one included.
    app = middleware(
        jwt_secret={
            "type": "HS256",
            "key": HMAC_SECRET,
            "header": {"type": "CustomHeader", "name": "X-Token"},
        }
    )
    for vector in JWS_VECTORS:
        with pytest.raises(InvalidJWT) as caught:
            parse_token(vector.jws)
        result = await call(app, raw_headers=[(b"x-token", vector.jws.encode())])
        assert result.error() == (
            400,
            "invalid-jwt",
            f"Could not verify JWT: {caught.value.reason}",
        ), vector.tc_id
        assert result.scope is None


# --- json_web_key_test.json -------------------------------------------------------------------

JWK_FILE = load("json_web_key_test.json")


@dataclass(frozen=True)
class JWKVector:
    tc_id: int
    group: str
    comment: str
    jws: str
    result: str
    keys: tuple[dict[str, Any], ...]


JWK_VECTORS = [
    JWKVector(
        test["tcId"],
        group["comment"],
        test["comment"],
        test["jws"],
        test["result"],
        tuple(group["private"]["keys"]),
    )
    for group in JWK_FILE["testGroups"]
    for test in group["tests"]
]

_OCT = "A JWKS never supplies oct (HMAC) keys (spec 4.1, 7.8): the set has no usable key."
_PRIVATE = "An entry with private members (d, p, q, ...) is skipped (spec 7.8)."
# view -> tcId -> why our outcome differs from the file's result
JWK_DEVIATIONS: dict[str, dict[int, str]] = {
    # The key set exactly as the file has it (private halves included), served as a JWKS.
    "published": {2: _OCT, 5: _PRIVATE, 13: _OCT, 14: _OCT, 15: _OCT},
    # What a provider publishes: each entry's public half (oct entries cannot have one).
    "public": {
        2: _OCT,
        7: "No ROCA fingerprint test (CVE-2017-15361): the key is a 2048-bit RSA key, which "
        "spec 4.1 accepts; detecting weak generators is the key issuer's business.",
        13: _OCT,
        14: _OCT,
        15: _OCT,
    },
}

# Why each entry of the public view is skipped ("" = usable): the rules of spec 4.1 / 7.8.
_SYMMETRIC = "symmetric keys are never taken"
JWK_PUBLIC_IMPORT: dict[int, tuple[str, ...]] = {
    1: (_SYMMETRIC, ""),
    2: (_SYMMETRIC, _SYMMETRIC),
    3: (_SYMMETRIC, _SYMMETRIC),
    4: (_SYMMETRIC, _SYMMETRIC),
    5: ("",),
    6: ("use is not sig",),
    7: ("",),
    8: ("RSA key size too small",),
    9: ("malformed RSA key",),  # e = 1
    10: (_SYMMETRIC,),
    11: (_SYMMETRIC,),
    12: (_SYMMETRIC,),
    13: (_SYMMETRIC,),
    14: (_SYMMETRIC,),
    15: (_SYMMETRIC,),
    16: (_SYMMETRIC,),
    17: (_SYMMETRIC,),
    18: (_SYMMETRIC,),
    19: ("alg 'ES521' does not fit a EC key",),
    20: ("alg 'ES224' does not fit a EC key",),
    21: ("use is not sig",),
    22: ("malformed EC key",),  # point not on the curve
    23: ("malformed EC key",),  # P-256 coordinates labelled P-384
    24: ("malformed RSA key",),  # EC members under kty RSA
    25: (_SYMMETRIC,),
    26: (_SYMMETRIC,),
}


def _view(vector: JWKVector, view: str) -> list[dict[str, Any]]:
    if view == "published":
        return list(vector.keys)
    return [key if key.get("kty") == "oct" else public_jwk(key) for key in vector.keys]


async def jwks_outcome(entries: list[dict[str, Any]], jws: str) -> str:
    """Serve ``{"keys": entries}`` to a `RemoteKeySet` and verify ``jws`` against it."""
    document = {"keys": entries}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=document))
    async with httpx.AsyncClient(transport=transport) as client:
        key_set = remote_key_set("https://issuer.test/jwks.json", http_client=client)
        return await signature_outcome(jws, key_set)


@pytest.mark.parametrize("view", sorted(JWK_DEVIATIONS))
@pytest.mark.parametrize("vector", JWK_VECTORS, ids=lambda v: f"{v.tc_id}-{v.group}-{v.comment}")
async def test_json_web_key(vector: JWKVector, view: str) -> None:
    outcome = await jwks_outcome(_view(vector, view), vector.jws)
    accepted = outcome == ACCEPTED
    if vector.tc_id in JWK_DEVIATIONS[view]:
        assert accepted != (vector.result == "valid"), "no longer a deviation"
    else:
        assert accepted == (vector.result == "valid"), outcome
    usable = [key_from_jwk(entry) for entry in _view(vector, view)]
    if not any(isinstance(key, VerificationKey) for key in usable):
        # A document without a usable key is a failed fetch: no keys at all (spec 4.1).
        assert outcome == "verify: JWSError NoUsableKeys"


@pytest.mark.parametrize("vector", JWK_VECTORS, ids=lambda v: f"{v.tc_id}-{v.group}")
def test_json_web_key_import_reasons(vector: JWKVector) -> None:
    published = [key_from_jwk(entry) for entry in vector.keys]
    public = [key_from_jwk(entry) for entry in _view(vector, "public")]
    for entry, as_published, as_public in zip(vector.keys, published, public, strict=True):
        if entry["kty"] != "oct" and PRIVATE_MEMBERS & entry.keys():
            assert as_published == "private key members present"
        else:
            assert type(as_published) is type(as_public)
    expected = JWK_PUBLIC_IMPORT[vector.tc_id]
    assert len(public) == len(expected)
    for result, reason in zip(public, expected, strict=True):
        if reason:
            assert isinstance(result, str)
            assert result.startswith(reason)
        else:
            assert isinstance(result, VerificationKey)


# A static HS* config is the only way an HMAC key is used: its text's UTF-8 bytes are the key
# (spec 1.1). The file's single-oct-key groups whose secret is text go through it.
def _static_hmac_vectors() -> list[JWKVector]:
    chosen = []
    for vector in JWK_VECTORS:
        if len(vector.keys) != 1 or vector.keys[0]["kty"] != "oct":
            continue
        try:
            b64url_decode(vector.keys[0]["k"].encode()).decode("utf-8")
        except UnicodeDecodeError:
            continue
        chosen.append(vector)
    return chosen


STATIC_HMAC_VECTORS = _static_hmac_vectors()


def test_static_hmac_selection() -> None:
    # 25/26 (AES keys) are random bytes, not text: a static config cannot hold them.
    assert [vector.tc_id for vector in STATIC_HMAC_VECTORS] == list(range(10, 19))


@pytest.mark.parametrize(
    "vector", STATIC_HMAC_VECTORS, ids=lambda v: f"{v.tc_id}-{v.keys[0]['alg']}-{v.comment}"
)
async def test_json_web_key_as_static_hmac_config(vector: JWKVector) -> None:
    (jwk,) = vector.keys
    secret = b64url_decode(jwk["k"].encode()).decode("utf-8")
    try:
        keys: KeySource | str = StaticKeys(key_from_config(jwk["alg"], secret))
    except ConfigError as exc:
        keys = str(exc)
    outcome = await signature_outcome(vector.jws, keys)
    assert (outcome == ACCEPTED) == (vector.result == "valid"), outcome
    if vector.result == "invalid":
        # short and empty keys: refused at configuration (spec 1.3 item 6)
        assert outcome.startswith("key skipped: Invalid JWK: Key size too small")


# --- json_web_encryption_test.json ------------------------------------------------------------

JWE_FILE = load("json_web_encryption_test.json")
JWE_VECTORS = [
    pytest.param(test["jwe"], id=f"{test['tcId']}-{group['comment']}-{test['comment']}")
    for group in JWE_FILE["testGroups"]
    for test in group["tests"]
]


def test_jwe_vectors_are_all_there() -> None:
    assert len(JWE_VECTORS) == JWE_FILE["numberOfTests"] == 139
    # 128 have the five parts of a compact JWE (two of them an empty header); the other 11
    # drop a part (four parts) or use the JSON serialization (one part).
    assert sum(jwe.values[0].count(".") == 4 for jwe in JWE_VECTORS) == 128


@pytest.mark.parametrize("jwe", JWE_VECTORS)
def test_json_web_encryption_is_refused(jwe: str) -> None:
    parts = jwe.count(".") + 1
    assert parts != 3
    with pytest.raises(InvalidJWT) as caught:
        parse_token(jwe)
    assert caught.value.reason == (
        f"JWSError (CompactDecodeError Invalid number of parts: Expected 3 parts; got {parts})"
    )


async def test_every_jwe_is_refused_by_the_middleware() -> None:
    app = middleware(
        jwt_secret={
            "type": "HS256",
            "key": HMAC_SECRET,
            "header": {"type": "CustomHeader", "name": "X-Token"},
        }
    )
    for param in JWE_VECTORS:
        (jwe,) = param.values
        assert isinstance(jwe, str)
        parts = jwe.count(".") + 1
        result = await call(app, raw_headers=[(b"x-token", jwe.encode())])
        assert result.error() == (
            400,
            "invalid-jwt",
            "Could not verify JWT: JWSError (CompactDecodeError Invalid number of parts: "
            f"Expected 3 parts; got {parts})",
        ), param.id


# --- primitive files ----------------------------------------------------------------------------

_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
# Spec 7.1: the shortest HMAC key each algorithm accepts; JWS MACs are never truncated.
_HMAC_MIN_KEY = {"HS256": 32, "HS384": 48, "HS512": 64}
_HMAC_TAG = {"HS256": 32, "HS384": 48, "HS512": 64}


def group_jwk(group: dict[str, Any]) -> dict[str, Any]:
    for field in ("publicKeyJwk", "keyJwk"):
        if field in group:
            jwk: dict[str, Any] = group[field]
            return jwk
    # Nine ECDSA groups per curve (the r/x arithmetic edge cases) ship no JWK: build it from
    # the same uncompressed point, coordinates at full curve size (RFC 7518 6.2.1.2).
    point = bytes.fromhex(group["publicKey"]["uncompressed"])
    assert point[0] == 4
    half = (len(point) - 1) // 2
    return {
        "kty": "EC",
        "crv": _CURVES[group["publicKey"]["curve"]],
        "x": b64url(point[1 : 1 + half]),
        "y": b64url(point[1 + half :]),
    }


@dataclass(frozen=True)
class PrimitiveFile:
    name: str
    alg: str

    @property
    def id(self) -> str:
        return f"{self.name.removesuffix('_test.json')}-{self.alg}"


PRIMITIVE_FILES = [
    PrimitiveFile("hmac_sha256_test.json", "HS256"),
    PrimitiveFile("hmac_sha384_test.json", "HS384"),
    PrimitiveFile("hmac_sha512_test.json", "HS512"),
    PrimitiveFile("ecdsa_secp256r1_sha256_p1363_test.json", "ES256"),
    PrimitiveFile("ecdsa_secp384r1_sha384_p1363_test.json", "ES384"),
    PrimitiveFile("ecdsa_secp521r1_sha512_p1363_test.json", "ES512"),
    PrimitiveFile("ed25519_test.json", "EdDSA"),
    PrimitiveFile("ed25519_test.json", "Ed25519"),
    PrimitiveFile("rsa_signature_2048_sha256_test.json", "RS256"),
    PrimitiveFile("rsa_signature_2048_sha384_test.json", "RS384"),
    PrimitiveFile("rsa_signature_2048_sha512_test.json", "RS512"),
    PrimitiveFile("rsa_pss_2048_sha256_mgf1_32_test.json", "PS256"),
    PrimitiveFile("rsa_pss_2048_sha384_mgf1_48_test.json", "PS384"),
    PrimitiveFile("rsa_pss_4096_sha512_mgf1_64_test.json", "PS512"),
]

# (file, tcId) -> (accepted?, why) for results marked "acceptable" (either outcome is fine;
# pinned so that a change is noticed).
ACCEPTABLE_OUTCOMES: dict[tuple[str, int], tuple[bool, str]] = {
    (name, 8): (
        False,
        "DigestInfo without the NULL parameter: RFC 8017 9.2 note 2 allows accepting it; "
        "OpenSSL (via cryptography) refuses, the stricter choice.",
    )
    for name in (
        "rsa_signature_2048_sha256_test.json",
        "rsa_signature_2048_sha384_test.json",
        "rsa_signature_2048_sha512_test.json",
    )
}


def jws_expects(alg: str, test: dict[str, Any]) -> bool:
    """Whether the vector must verify as a JWS: the file's verdict, plus spec 7.1 for HMAC."""
    if not alg.startswith("HS"):
        return bool(test["result"] == "valid")
    full_tag = len(test["tag"]) // 2 == _HMAC_TAG[alg]
    strong_key = len(test["key"]) // 2 >= _HMAC_MIN_KEY[alg]
    return test["result"] == "valid" and full_tag and strong_key


@pytest.mark.parametrize("primitive", PRIMITIVE_FILES, ids=lambda p: p.id)
async def test_primitive_vectors(primitive: PrimitiveFile) -> None:
    data = load(primitive.name)
    header = {"alg": primitive.alg}
    mismatches = []
    reasons = set()
    acceptable_seen = set()
    count = 0
    for group in data["testGroups"]:
        group_key: VerificationKey | str | None = None
        if not primitive.alg.startswith("HS"):
            group_key = key_from_jwk(group_jwk(group))
            assert isinstance(group_key, VerificationKey), group_key
            assert primitive.alg in group_key.algorithms
        for test in group["tests"]:
            count += 1
            if primitive.alg.startswith("HS"):
                key = hmac_key(bytes.fromhex(test["key"]))
                signature = bytes.fromhex(test["tag"])
            else:
                assert isinstance(group_key, VerificationKey)
                key = group_key
                signature = bytes.fromhex(test["sig"])
            token = ParsedToken(header, {}, bytes.fromhex(test["msg"]), signature)
            verifier = TokenVerifier(StaticKeys(key), audience=None, allowed_skew=0)
            try:
                await verifier.verify_signature(token)
            except InvalidJWT as exc:
                reasons.add(exc.reason)
                accepted = False
            else:
                accepted = True
            if test["result"] == "acceptable":
                pinned, _why = ACCEPTABLE_OUTCOMES[(primitive.name, test["tcId"])]
                acceptable_seen.add(test["tcId"])
                if accepted != pinned:
                    mismatches.append((test["tcId"], test["comment"], accepted))
            elif accepted != jws_expects(primitive.alg, test):
                mismatches.append((test["tcId"], test["comment"], accepted))
    assert mismatches == []
    # Nothing is refused before the signature check: alg and key always fit here.
    assert reasons == {"JWSError JWSInvalidSignature"}
    assert count == data["numberOfTests"]
    assert acceptable_seen == {
        tc_id for name, tc_id in ACCEPTABLE_OUTCOMES if name == primitive.name
    }


@pytest.mark.parametrize("name", ["hmac_sha256", "hmac_sha384", "hmac_sha512"])
def test_hmac_vectors_the_jws_rules_refuse(name: str) -> None:
    # The file-valid HMAC vectors that a JWS verifier refuses, counted so the rule is visible:
    # truncated tags (half length) and keys shorter than spec 7.1's minimum.
    alg = {"hmac_sha256": "HS256", "hmac_sha384": "HS384", "hmac_sha512": "HS512"}[name]
    data = load(f"{name}_test.json")
    tests = [test for group in data["testGroups"] for test in group["tests"]]
    valid = [test for test in tests if test["result"] == "valid"]
    refused = [test for test in valid if not jws_expects(alg, test)]
    truncated = [test for test in valid if len(test["tag"]) // 2 < _HMAC_TAG[alg]]
    short_key = [test for test in valid if len(test["key"]) // 2 < _HMAC_MIN_KEY[alg]]
    assert (len(tests), len(valid)) == (174, 66)
    assert (len(refused), len(truncated), len(short_key)) == (36, 33, 6)
