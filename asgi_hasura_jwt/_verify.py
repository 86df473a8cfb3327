"""Signature and registered-claim checks for one config (spec 2.4 steps 3-4, 6, 7.1, 7.2).

Algorithms are pinned to the key (``VerificationKey.algorithms``), never taken from the token
alone; header members that could import a key (``jwk``, ``jku``, ``x5u``, ``x5c``) are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import InvalidJWT
from ._keys import HMAC_MIN_BYTES, OKP_ALGORITHMS, RSA_ALGORITHMS, KeySource, VerificationKey
from ._token import ParsedToken

if TYPE_CHECKING:
    from ._config import JWTConfig

KNOWN_ALGORITHMS = frozenset(
    [*HMAC_MIN_BYTES, *RSA_ALGORITHMS, "ES256", "ES384", "ES512", *OKP_ALGORITHMS]
)
# Without a usable kid every compatible key is tried; the bound keeps a key-less token against a
# large JWKS from costing a hundred signature checks.
MAX_KEYS_TRIED = 10
# RFC 7515 4.1.11: a critical extension we do not implement must reject the token. b64 (RFC
# 7797) is understood, but only its default value is accepted below.
_UNDERSTOOD_CRITICAL = frozenset({"b64"})

NO_SIGNATURES = "JWSError JWSNoSignatures"
INVALID_SIGNATURE = "JWSError JWSInvalidSignature"


def check_header(header: dict[str, Any]) -> str:
    """The token's ``alg``, once the header passes every check that needs no key."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in KNOWN_ALGORITHMS:
        # Also covers "none" in any spelling: it is never a known algorithm.
        raise InvalidJWT(NO_SIGNATURES)
    if "crit" in header:
        critical = header["crit"]
        if (
            not isinstance(critical, list)
            or not critical
            or not all(isinstance(name, str) and name in _UNDERSTOOD_CRITICAL for name in critical)
        ):
            raise InvalidJWT("JWSError JWSUnsupportedCriticalExtension")
    if header.get("b64", True) is not True:
        raise InvalidJWT("JWSError JWSUnencodedPayloadUnsupported")
    return alg


def verify_with(keys: Sequence[VerificationKey], alg: str, token: ParsedToken) -> None:
    """Succeed if one of ``keys`` (of those allowed ``alg``) verifies the signature."""
    tried = 0
    for key in keys:
        if alg in key.algorithms:
            if _signature_matches(key, alg, token):
                return
            tried += 1
            if tried == MAX_KEYS_TRIED:
                break
    raise InvalidJWT(INVALID_SIGNATURE)


def _signature_matches(key: VerificationKey, alg: str, token: ParsedToken) -> bool:
    try:
        return bool(key.algorithms[alg].verify(token.signing_input, token.signature, key.key))
    except Exception:  # a malformed signature is simply not a match (e.g. wrong RSA length)
        return False


class TokenVerifier:
    """Verifies parsed tokens for one config: keys, then time, audience and azp."""

    def __init__(
        self,
        keys: KeySource,
        *,
        audience: frozenset[str] | None,
        allowed_skew: float,
        authorized_parties: Collection[str] | None = None,
        require_azp: bool = False,
    ) -> None:
        self.keys = keys
        self.audience = audience
        self.allowed_skew = allowed_skew
        self.authorized_parties = (
            frozenset(authorized_parties) if authorized_parties is not None else None
        )
        self.require_azp = require_azp

    def verified_now(self, token: ParsedToken) -> bool:
        """Check the header, then the signature if its keys are at hand (`KeySource.keys_now`):
        True once verified (a failure raises), False when the keys must be awaited
        (`verify_signature`). Most requests verify here, with no await."""
        alg = check_header(token.header)
        # The parser has refused every kid that is not a string.
        keys = self.keys.keys_now(token.header.get("kid"))
        if keys is None:
            return False
        verify_with(keys, alg, token)
        return True

    async def verify_signature(self, token: ParsedToken) -> None:
        """The header's checks, then the signature against the keys for its ``kid``."""
        alg = check_header(token.header)
        verify_with(await self.keys.keys_for(token.header.get("kid")), alg, token)

    def check_claims(self, claims: dict[str, Any], now: float) -> None:
        """Registered claims at ``now`` (types were checked by the parser).

        ``iss`` is not checked here: the issuer pre-match (spec 2.2) has already refused every
        token whose ``iss`` differs from the config's, before any verification.
        """
        check_times(claims.get("exp"), claims.get("iat"), claims.get("nbf"), now, self.allowed_skew)
        audience = claims.get("aud")
        if self.audience is not None and audience is not None:
            values = [audience] if isinstance(audience, str) else audience
            if self.audience.isdisjoint(values):
                raise InvalidJWT("JWTNotInAudience")
        if self.authorized_parties is not None:
            _check_authorized_party(claims.get("azp"), self.authorized_parties, self.require_azp)


def check_times(
    exp: float | None, iat: float | None, nbf: float | None, now: float, skew: float
) -> None:
    """The time claims at ``now``, in Hasura's order; also used on every cache hit."""
    if exp is not None and now >= exp + skew:
        raise InvalidJWT("JWTExpired")
    if iat is not None and iat > now + skew:
        raise InvalidJWT("JWTIssuedAtFuture")
    if nbf is not None and now < nbf - skew:
        raise InvalidJWT("JWTNotYetValid")


# The window is left empty (every hit deferred) when computing it does not settle.
_NO_WINDOW = (math.inf, -math.inf)


def validity_window(
    exp: float | None, iat: float | None, nbf: float | None, skew: float
) -> tuple[float, float]:
    """``[from, until)``: the ``now`` values that `check_times` passes, found once so that a
    cache hit does one comparison pair; where unsure (overflow, NaN), hits defer to it."""
    try:
        # The same expressions as `check_times`, so the same rounding: exact.
        start = -math.inf if nbf is None else nbf - skew
        until = math.inf if exp is None else exp + skew
        if iat is not None:
            # Without skew, `iat > now` fails from iat itself on (Python compares int and
            # float exactly); with skew, rounding decides.
            start = max(start, iat if skew == 0 else _first_not_before(iat, skew))
    except (OverflowError, ValueError):
        return _NO_WINDOW
    return start, until


def _first_not_before(iat: float, skew: float) -> float:
    """The least float ``now`` with ``not iat > now + skew``: ``now + skew`` rounds
    monotonically, so every later ``now`` passes too; ``iat - skew`` may be an ulp off."""
    now = iat - skew
    for _ in range(8):
        if now + skew < iat:
            now = math.nextafter(now, math.inf)
        elif (earlier := math.nextafter(now, -math.inf)) + skew >= iat:
            now = earlier
        else:
            return now
    return math.inf  # not settled (NaN, infinities): no window


def _check_authorized_party(azp: Any, allowed: frozenset[str], required: bool) -> None:
    # Clerk's SDK check: an azp, when present, must be one of the app's origins (spec 6).
    if azp is None:
        if required:
            raise InvalidJWT("JWTMissingAuthorizedParty: the token has no azp claim")
        return
    if not isinstance(azp, str) or azp not in allowed:
        raise InvalidJWT("JWTNotInAuthorizedParties: azp is not an authorized party")


@dataclass(frozen=True)
class ConfiguredVerifier:
    """The verifier of the config at ``index`` in the list of configs (cache keys use it)."""

    index: int
    config: JWTConfig
    verifier: TokenVerifier
