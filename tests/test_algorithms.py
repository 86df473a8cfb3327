"""`_algorithms`: our ``verify`` answers exactly as joserfc's on every input (issue 13).

The local HS*/ES* objects may be used only for as long as this file shows that they change
nothing: on every vector of each algorithm's Wycheproof file, on mutated signatures (hypothesis),
and for the keys `for_key` leaves to joserfc.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc.errors import UnsupportedKeyOperationError
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import ECKey, OctKey
from joserfc.jws import JWSRegistry

from asgi_hasura_jwt._algorithms import GUARDED, LOCAL, ECDSAVerify, HMACVerify, for_key
from asgi_hasura_jwt._keys import VerificationKey, hmac_key, key_from_jwk

from .conftest import b64url
from .test_fuzz import FUZZ
from .test_wycheproof import group_jwk, load

WYCHEPROOF_FILES = {
    "HS256": "hmac_sha256_test.json",
    "HS384": "hmac_sha384_test.json",
    "HS512": "hmac_sha512_test.json",
    "ES256": "ecdsa_secp256r1_sha256_p1363_test.json",
    "ES384": "ecdsa_secp384r1_sha384_p1363_test.json",
    "ES512": "ecdsa_secp521r1_sha512_p1363_test.json",
}
# Valid in the file, refused by joserfc (and so by ours): truncated HMAC tags are no JWS MAC.
STOCK_DISAGREES_WITH_FILE = {"HS256": 33, "HS384": 33, "HS512": 33}
CURVES = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
# Group orders (SEC 2 / FIPS 186-4 D.1.2): r or s at or above n must be refused.
ORDERS = {
    "ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "ES384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    "ES512": int(
        "1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "A51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}


def outcome(algorithm: JWSAlgModel, msg: bytes, sig: bytes, key: Any) -> object:
    """What ``verify`` does: its answer, or the type and text of what it raises."""
    try:
        return algorithm.verify(msg, sig, key)
    except Exception as exc:
        return (type(exc), str(exc))


def assert_same(name: str, msg: bytes, sig: bytes, key: Any) -> object:
    stock = outcome(JWSRegistry.algorithms[name], msg, sig, key)
    assert outcome(LOCAL[name], msg, sig, key) == stock, (name, msg.hex(), sig.hex())
    return stock


# --- every Wycheproof vector ----------------------------------------------------------------


@dataclass(frozen=True)
class Vector:
    tc_id: int
    msg: bytes
    sig: bytes
    key: Any  # the joserfc key object requests use
    valid: bool


def vectors(name: str) -> list[Vector]:
    """The file's vectors, each with the key our import makes of its group (or its HMAC key)."""
    found = []
    for group in load(WYCHEPROOF_FILES[name])["testGroups"]:
        for test in group["tests"]:
            if name.startswith("HS"):
                secret = bytes.fromhex(test["key"])
                key: Any = OctKey(secret, secret)
                sig = bytes.fromhex(test["tag"])
            else:
                imported = key_from_jwk(group_jwk(group))
                assert isinstance(imported, VerificationKey)
                assert imported.algorithms[name] is LOCAL[name]
                key, sig = imported.key, bytes.fromhex(test["sig"])
            found.append(
                Vector(
                    test["tcId"], bytes.fromhex(test["msg"]), sig, key, test["result"] == "valid"
                )
            )
    return found


@pytest.mark.parametrize("name", GUARDED)
def test_every_wycheproof_vector_answers_as_joserfc(name: str) -> None:
    data = load(WYCHEPROOF_FILES[name])
    all_vectors = vectors(name)
    assert len(all_vectors) == data["numberOfTests"]
    disagreements = 0
    for vector in all_vectors:
        stock = assert_same(name, vector.msg, vector.sig, vector.key)
        assert isinstance(stock, bool), (vector.tc_id, stock)
        disagreements += stock != vector.valid
    assert disagreements == STOCK_DISAGREES_WITH_FILE.get(name, 0)


@pytest.mark.parametrize("name", [name for name in GUARDED if name.startswith("HS")])
def test_hmac_keys_of_requests_use_ours(name: str) -> None:
    # Every key hmac_key makes of the file's secrets verifies through our object where allowed.
    allowed = [hmac_key(vector.key.public_key) for vector in vectors(name)]
    assert {key.algorithms[name] for key in allowed if name in key.algorithms} == {LOCAL[name]}


def test_our_objects_are_joserfcs_but_for_verify() -> None:
    for name in GUARDED:
        stock, ours = JWSRegistry.algorithms[name], LOCAL[name]
        assert isinstance(ours, type(stock))
        assert isinstance(ours, ECDSAVerify | HMACVerify)
        assert vars(stock).items() <= vars(ours).items()
        assert type(ours).sign is type(stock).sign
        assert type(ours).check_key is type(stock).check_key


# --- mutated signatures (hypothesis) --------------------------------------------------------

MESSAGES = st.binary(max_size=300)


@dataclass(frozen=True)
class ECSigner:
    private: ECKey
    public: ECKey


EC_KEYS = {
    name: ECSigner(ECKey(private, private), ECKey(private.public_key(), private.public_key()))
    for name, private in ((name, ec.generate_private_key(curve)) for name, curve in CURVES.items())
}


def _scalars(name: str, current: int) -> st.SearchStrategy[int]:
    n, top = ORDERS[name], 2 ** (8 * _length(name)) - 1
    edges = [0, 1, n - 1, n, n + 1, top, current, current ^ 1]
    return st.sampled_from(edges) | st.integers(0, top)


def _length(name: str) -> int:
    return (CURVES[name].key_size + 7) // 8


@pytest.mark.parametrize("name", list(CURVES))
def test_the_orders_are_the_curves(name: str) -> None:
    # With the right n, (r, n - s) verifies too; a wrong constant would not.
    signer, n, length = EC_KEYS[name], ORDERS[name], _length(name)
    sig = JWSRegistry.algorithms[name].sign(b"msg", signer.private)
    s = int.from_bytes(sig[length:], "big")
    assert n.bit_length() == CURVES[name].key_size
    assert LOCAL[name].verify(b"msg", sig[:length] + (n - s).to_bytes(length, "big"), signer.public)


@st.composite
def ec_signatures(draw: st.DrawFn, name: str, sig: bytes) -> bytes:
    """A signature derived from a valid one: r or s replaced, re-encoded, bits flipped, resized."""
    length = _length(name)
    r, s = int.from_bytes(sig[:length], "big"), int.from_bytes(sig[length:], "big")
    kind = draw(
        st.sampled_from(["scalars", "negated", "short", "wide", "wide s", "flip", "resize", "same"])
    )
    if kind == "short":
        # s without its leading zero bytes: the same DER signature, the wrong JWS length.
        return sig[:length] + s.to_bytes(max(1, (s.bit_length() + 7) // 8), "big")
    if kind == "wide":  # both halves, or s alone, wider by zero bytes: same numbers, wrong length
        return r.to_bytes(length + 1, "big") + s.to_bytes(length + 1, "big")
    if kind == "wide s":
        return sig[:length] + b"\0" * draw(st.integers(1, 2)) + sig[length:]
    if kind == "negated":
        # (r, n - s) is the other valid signature (ECDSA malleability): still accepted.
        return sig[:length] + (ORDERS[name] - s).to_bytes(length, "big")
    if kind == "scalars":
        r, s = draw(_scalars(name, r)), draw(_scalars(name, s))
        return r.to_bytes(length, "big") + s.to_bytes(length, "big")
    if kind == "flip":
        bit = draw(st.integers(0, 8 * len(sig) - 1))
        return (int.from_bytes(sig, "big") ^ (1 << bit)).to_bytes(len(sig), "big")
    if kind == "resize":
        cut = draw(st.integers(0, len(sig) + 3))
        return (sig + draw(st.binary(min_size=3, max_size=3)))[:cut]
    return sig


@settings(FUZZ, max_examples=400)
@given(name=st.sampled_from(list(CURVES)), msg=MESSAGES, data=st.data())
def test_ecdsa_answers_as_joserfc_on_mutated_signatures(
    name: str, msg: bytes, data: st.DataObject
) -> None:
    signer = EC_KEYS[name]
    sig = data.draw(ec_signatures(name, JWSRegistry.algorithms[name].sign(msg, signer.private)))
    other = data.draw(MESSAGES)
    for key in (signer.public, signer.private):
        assert_same(name, msg, sig, key)
        assert_same(name, other, sig, key)


@settings(FUZZ, max_examples=400)
@given(
    name=st.sampled_from(["HS256", "HS384", "HS512"]),
    secret=st.binary(max_size=80),
    msg=MESSAGES,
    data=st.data(),
)
def test_hmac_answers_as_joserfc_on_mutated_tags(
    name: str, secret: bytes, msg: bytes, data: st.DataObject
) -> None:
    key = OctKey(secret, secret)
    tag = JWSRegistry.algorithms[name].sign(msg, key) if secret else b"\0" * 32
    cut = data.draw(st.integers(0, len(tag) + 2))
    bit = data.draw(st.integers(0, 8 * len(tag) - 1))
    for sig in (
        tag,
        tag[:cut],
        (int.from_bytes(tag, "big") ^ (1 << bit)).to_bytes(len(tag), "big"),
    ):
        assert_same(name, msg, sig, key)
    # An empty key raises in both: joserfc's defence in depth is kept.
    assert_same(name, msg, tag, OctKey(b"", b""))


# --- keys left to joserfc -------------------------------------------------------------------


def _ec_jwk(name: str, **members: Any) -> dict[str, Any]:
    public = EC_KEYS[name].public.as_dict()
    return {**public, **members}


def test_a_key_whose_key_ops_lack_verify_keeps_joserfcs_object() -> None:
    msg = b"header.payload"
    for name in CURVES:
        key = ECKey.import_key(_ec_jwk(name, key_ops=["sign"]))
        sig = JWSRegistry.algorithms[name].sign(msg, EC_KEYS[name].private)
        assert for_key(key, [name]) == {name: JWSRegistry.algorithms[name]}
        # ... where ours would answer: this check is why for_key refuses it.
        assert LOCAL[name].verify(msg, sig, key) is True
        with pytest.raises(UnsupportedKeyOperationError, match="Unsupported key_op 'verify'"):
            for_key(key, [name])[name].verify(msg, sig, key)
        allowed = ECKey.import_key(_ec_jwk(name, key_ops=["verify"]))
        assert for_key(allowed, [name]) == {name: LOCAL[name]}
    secret = b"s" * 64
    oct_key = OctKey.import_key({"kty": "oct", "k": b64url(secret), "key_ops": ["sign"]})
    assert for_key(oct_key, GUARDED[:3]) == {
        name: JWSRegistry.algorithms[name] for name in GUARDED[:3]
    }
    with pytest.raises(UnsupportedKeyOperationError):
        for_key(oct_key, ["HS256"])["HS256"].verify(msg, b"", oct_key)


def test_no_key_of_ours_carries_key_ops() -> None:
    # key_from_jwk refuses key_ops without verify and passes on public members only: a
    # key_ops-restricted key never reaches the request path.
    refused = key_from_jwk(_ec_jwk("ES256", key_ops=["sign"]))
    assert refused == "key_ops does not allow verify"
    accepted = key_from_jwk(_ec_jwk("ES256", key_ops=["verify"], use="sig", alg="ES256"))
    assert isinstance(accepted, VerificationKey)
    assert accepted.key.get("key_ops") is None
    assert accepted.algorithms == {"ES256": LOCAL["ES256"]}


@pytest.mark.parametrize(
    ("members", "reason"),
    [({"crv": "P-384"}, "other curve"), ({"use": "enc"}, "use"), ({"alg": "ES384"}, "alg")],
)
def test_keys_joserfc_would_not_pair_keep_its_object(members: dict[str, Any], reason: str) -> None:
    # Our r/s length comes from the algorithm's curve; joserfc's check_key guarantees the key's.
    if "crv" in members:
        key = EC_KEYS["ES384"].public
    else:
        key = ECKey.import_key(_ec_jwk("ES256", **members))
    assert for_key(key, ["ES256"]) == {"ES256": JWSRegistry.algorithms["ES256"]}, reason


def test_unguarded_algorithms_are_joserfcs() -> None:
    rsa_or_okp = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA", "Ed25519"]
    assert not set(rsa_or_okp) & set(LOCAL)
    assert for_key(EC_KEYS["ES256"].public, ["RS256"]) == {"RS256": JWSRegistry.algorithms["RS256"]}
