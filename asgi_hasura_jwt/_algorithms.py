"""joserfc's ``verify`` minus its per-call overhead, for the algorithms Wycheproof guards.

Each class subclasses joserfc's own algorithm class and overrides only ``verify``. It makes the
same `cryptography` / `hmac` calls on the same joserfc key objects, so it gives the same answers
(tests/test_algorithms.py compares both on every vector of each algorithm's Wycheproof file).
What it leaves out is work that joserfc repeats on every call:

- ES*: building ``ECDSA(SHA256())``, the ``curve_key_size`` property chain, and r and s
  decoded through hex;
- both: ``get_op_key``, which costs a tenth of an HS256 verify (HS* also uses the one-shot
  ``hmac.digest``, about 1% cheaper than ``hmac.new(...).digest()``).

``get_op_key("verify")`` is ``check_key_op("verify")`` followed by ``public_key``, and its check
depends only on the key's ``key_ops``, which is fixed when the key is made. `for_key` therefore
runs that check once, together with joserfc's ``check_key`` (key type and curve, which fix r and
s's length). A key that fails either check keeps joserfc's stock object, which raises or refuses
on every call exactly as before. The keys that `_keys` builds from public members never carry
``key_ops``. This module goes away once joserfc ships the change proposed in
docs/performance.md ("Upstream proposal: joserfc verify").
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any, Literal, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc.errors import JoseError
from joserfc.jwa import ESAlgorithm, HMACAlgorithm, JWSAlgModel
from joserfc.jwk import ECKey, OctKey
from joserfc.jws import JWSRegistry

_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}


class ECDSAVerify(ESAlgorithm):
    """joserfc's ES* algorithm with ``verify`` using a prebuilt ``ECDSA`` and a fixed r/s length.

    Only `for_key` hands it out, and only for keys on its curve.
    """

    def __init__(self, stock: ESAlgorithm) -> None:
        super().__init__(stock.name, stock.curve, _sha_type(stock), stock.recommended)
        self._length = (_CURVES[self.curve].key_size + 7) // 8
        self._ecdsa = ec.ECDSA(self.hash_alg())

    def verify(self, msg: bytes, sig: bytes, key: ECKey) -> bool:
        length = self._length
        if len(sig) != 2 * length:
            return False
        der_sig = encode_dss_signature(
            int.from_bytes(sig[:length], "big"), int.from_bytes(sig[length:], "big")
        )
        try:
            key.public_key.verify(der_sig, msg, self._ecdsa)
            return True
        except InvalidSignature:
            return False


class HMACVerify(HMACAlgorithm):
    """joserfc's HS* algorithm with ``verify`` skipping the per-call ``get_op_key``.

    Only `for_key` hands it out, and only for keys whose ``key_ops`` allow verify.
    """

    def __init__(self, stock: HMACAlgorithm) -> None:
        super().__init__(_sha_type(stock), stock.recommended)

    def verify(self, msg: bytes, sig: bytes, key: OctKey) -> bool:
        op_key = key.public_key
        if not op_key:
            raise ValueError("HMAC key must not be empty")
        return hmac.compare_digest(sig, hmac.digest(op_key, msg, self.hash_alg))


def _sha_type(stock: ESAlgorithm | HMACAlgorithm) -> Literal[256, 384, 512]:
    # joserfc's constructors take the SHA size, which each object keeps as algorithm_security.
    return cast(Literal[256, 384, 512], stock.algorithm_security)


def _ours(stock: JWSAlgModel) -> JWSAlgModel:
    if isinstance(stock, ESAlgorithm):
        return ECDSAVerify(stock)
    assert isinstance(stock, HMACAlgorithm)
    return HMACVerify(stock)


GUARDED = ("HS256", "HS384", "HS512", "ES256", "ES384", "ES512")
LOCAL: dict[str, JWSAlgModel] = {name: _ours(JWSRegistry.algorithms[name]) for name in GUARDED}


def for_key(key: Any, names: Iterable[str]) -> dict[str, JWSAlgModel]:
    """The algorithm objects ``key`` verifies ``names`` with: ours where they fit, else joserfc's.

    This reads joserfc's class registry directly, because ``JWSRegistry.get_alg`` warns on
    EdDSA (RFC 9864) and the pinning in `_keys` takes the place of its "recommended" filter.
    """
    return {name: _fitting(name, key) for name in names}


def _fitting(name: str, key: Any) -> JWSAlgModel:
    stock = JWSRegistry.algorithms[name]
    ours = LOCAL.get(name)
    if ours is None:
        return stock
    try:
        stock.check_key(key)
        key.check_key_op("verify")
    except JoseError:
        return stock
    return ours
