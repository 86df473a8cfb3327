"""Why ``verify`` got the middleware's answer: the explanations after its one-line verdict.

The verdict is the library's own (`Session` or `AuthError`); this module only looks at what
the failing check compared — the unverified claims and header (claims are no secret), the keys
the config had for the token, the JWKS's key ids — and says it in words. Attacker-chosen text
is shown through ``json.dumps``, which escapes control characters.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .._config import JWTConfig
from .._errors import AccessDenied, AuthError, InvalidJWT
from .._jwks import JWKSStatus
from .._keys import VerificationKey
from .._roles import ROLE_NOT_ALLOWED
from .._session import Session
from .._token import ParsedToken, parse_token
from .._verify import INVALID_SIGNATURE, check_times


@dataclass(frozen=True)
class Evidence:
    """What the checks compared, gathered by ``verify`` while its key sets were open."""

    token: str
    config: JWTConfig | None  # the config the token was presented to (issuer pre-match)
    keys: Sequence[VerificationKey]  # that config's keys for the token's kid
    jwks: JWKSStatus | None  # that config's key set, for a jwk_url
    role: str | None
    authorized_parties: Collection[str] | None
    now: float


def presented_config(configs: Sequence[JWTConfig], token: str) -> JWTConfig | None:
    """The config the token goes to: at the first config's location, its issuer matching."""
    parsed = parsed_or_none(token)
    issuer = parsed.claims.get("iss") if parsed is not None else None
    location = configs[0].location
    for config in configs:
        if config.location == location and config.issuer in (None, issuer):
            return config
    return None


def parsed_or_none(token: str) -> ParsedToken | None:
    try:
        return parse_token(token)
    except InvalidJWT:
        return None


def timestamp(value: float) -> str:
    try:
        return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return f"{value:.0f} (POSIX seconds, beyond the calendar)"  # claims go up to 2^63


def duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def _quoted(values: Collection[str]) -> str:
    return ", ".join(json.dumps(value) for value in values) or "none"


def why_refused(error: AuthError, evidence: Evidence) -> str:
    """`` (…)`` to append to the verdict, or ``""`` when there is nothing to add."""
    parsed = parsed_or_none(evidence.token)
    if parsed is None:
        return ""
    if isinstance(error, AccessDenied) and error.message == ROLE_NOT_ALLOWED:
        return _why_role(parsed, evidence)
    if not isinstance(error, InvalidJWT):
        return ""
    if error.reason == INVALID_SIGNATURE:
        return _why_signature(parsed, evidence)
    return _why_claim(error.reason, parsed.claims, evidence)


def _why_claim(reason: str, claims: dict[str, Any], evidence: Evidence) -> str:
    for name, claim, verb in (
        ("JWTExpired", "exp", "expired"),
        ("JWTNotYetValid", "nbf", "starts"),
        ("JWTIssuedAtFuture", "iat", "is issued"),
    ):
        if reason == name and isinstance(claims.get(claim), (int, float)):
            at: float = claims[claim]
            delta = at - evidence.now
            when = f"in {duration(delta)}" if delta > 0 else f"{duration(-delta)} ago"
            return f" (the token {verb} at {timestamp(at)}, {when})"
    for name, claim in (("JWTNotInIssuer", "iss"), ("JWTNotInAudience", "aud")):
        if reason.startswith(name) and claim in claims:
            return f" (the token's {claim} is {json.dumps(claims[claim])})"
    if reason.startswith("JWTNotInAuthorizedParties") and evidence.authorized_parties:
        allowed = _quoted(evidence.authorized_parties)
        return f" (the token's azp is {json.dumps(claims.get('azp'))}; allowed: {allowed})"
    return ""


def _why_signature(parsed: ParsedToken, evidence: Evidence) -> str:
    alg, kid = parsed.header.get("alg"), parsed.header.get("kid")
    jwks = evidence.jwks
    if jwks is not None and isinstance(kid, str) and kid not in jwks.key_ids:
        return (
            f" (the token's kid {json.dumps(kid)} is not among the key ids of the JWKS at"
            f" {jwks.url}: {_quoted(jwks.key_ids)}; is it from another instance, such as a"
            " Clerk development token sent to production?)"
        )
    keys = evidence.keys
    if keys and not any(alg in key.algorithms for key in keys):
        fits = sorted({name for key in keys for name in key.algorithms})
        return (
            # _check_header has passed: alg is one of the known algorithm names.
            f" (the token is signed with {alg}, which the configured key cannot"
            f" verify: it verifies {', '.join(fits)})"
        )
    if keys and all(key.family == "HMAC" for key in keys):
        return (
            f" (the token is signed with {alg}, but not with this secret: the config's key must"
            " be the secret the issuer signs with)"
        )
    return ""


def _why_role(parsed: ParsedToken, evidence: Evidence) -> str:
    if evidence.config is None:
        return ""
    try:
        allowed = evidence.config.claims.extract(parsed.claims).allowed_roles
    except AuthError:
        return ""
    return f" (requested {json.dumps(evidence.role)}; the token allows {_quoted(sorted(allowed))})"


def skew_note(session: Session, evidence: Evidence) -> str | None:
    """A line for a token accepted only thanks to the config's ``allowed_skew``, else None."""
    if evidence.config is None or not evidence.config.allowed_skew:
        return None
    claims = session.claims
    try:
        check_times(claims.get("exp"), claims.get("iat"), claims.get("nbf"), evidence.now, 0)
    except InvalidJWT as strict:
        why = _why_claim(strict.reason, dict(claims), evidence)
        skew = duration(evidence.config.allowed_skew)
        return f"valid only thanks to allowed_skew ({skew}): without it, {strict.reason}{why}"
    return None
