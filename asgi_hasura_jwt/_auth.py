"""Section 2 end to end: from a request's headers to a `Session`, or an `AuthError`.

Shared by the HTTP and the websocket glue; it knows nothing of ASGI messages.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from ._claims import HasuraClaims
from ._config import JWTConfig, TokenLocation
from ._errors import AccessDenied, InvalidHeaders, InvalidJWT
from ._keys import KeySource
from ._request import RequestHeaders
from ._roles import ROLE, select_role, session_variables
from ._session import Session
from ._token import DEFAULT_MAX_TOKEN_BYTES, ParsedToken, parse_token, peek_issuer
from ._types import Clock
from ._verify import TokenVerifier

MISSING_TOKEN = "Missing 'Authorization' or 'Cookie' header in JWT authentication mode"  # noqa: S105


@dataclass(frozen=True)
class ConfiguredVerifier:
    config: JWTConfig
    verifier: TokenVerifier


class Authenticator:
    """Admin secret, token location, verification, claims and role, in Hasura's order."""

    def __init__(
        self,
        configs: Sequence[JWTConfig],
        key_source: Callable[[JWTConfig], KeySource],
        *,
        admin_secret: str | None = None,
        unauthorized_role: str | None = None,
        authorized_parties: Collection[str] | None = None,
        require_azp: bool = False,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
        clock: Clock = time.time,
    ) -> None:
        self._admin_secret = admin_secret.encode("utf-8") if admin_secret else None
        self._unauthorized_role = unauthorized_role or None
        self._max_token_bytes = max_token_bytes
        self._clock = clock
        by_location: dict[TokenLocation, list[ConfiguredVerifier]] = {}
        for config in configs:
            verifier = TokenVerifier(
                key_source(config),
                issuer=config.issuer,
                audience=config.audience,
                allowed_skew=config.allowed_skew,
                authorized_parties=authorized_parties,
                require_azp=require_azp,
            )
            by_location.setdefault(config.location, []).append(ConfiguredVerifier(config, verifier))
        self._by_location: Mapping[TokenLocation, list[ConfiguredVerifier]] = by_location
        self._custom_names = frozenset(
            location.name.encode("latin-1")
            for location in by_location
            if location.kind == "CustomHeader"
        )

    async def authenticate(self, headers: Sequence[tuple[bytes, bytes]]) -> Session:
        """Resolve the session for these request headers, or raise an `AuthError`."""
        request = RequestHeaders.read(headers, self._custom_names)
        if self._admin_secret is not None:
            presented = request.admin_secret
            if presented is None:
                presented = request.access_key
            if presented is not None:
                return self._admin_session(presented, request)
        match = self._locate(request)
        if match is None:
            if self._unauthorized_role is None:
                raise InvalidHeaders(MISSING_TOKEN)
            return _header_session(request, self._unauthorized_role)
        parsed, configured = match
        return await self._verified_session(parsed, configured, request.role)

    def _admin_session(self, presented: bytes, request: RequestHeaders) -> Session:
        assert self._admin_secret is not None
        # Constant time, on bytes: a non-ASCII header is a mismatch, never an error (spec 7.5).
        if not hmac.compare_digest(presented, self._admin_secret):
            raise AccessDenied("invalid x-hasura-admin-secret/x-hasura-access-key", status=401)
        return _header_session(request, request.role or "admin")

    def _locate(
        self, request: RequestHeaders
    ) -> tuple[ParsedToken | InvalidJWT, ConfiguredVerifier] | None:
        """The one (token, config) pair to verify, or ``None`` when there is no token."""
        pairs: list[tuple[ParsedToken | InvalidJWT, ConfiguredVerifier]] = []
        any_candidate = False
        for location, configured in self._by_location.items():
            for token in request.tokens_at(location):
                any_candidate = True
                parsed = self._parse(token)
                issuer = peek_issuer(parsed)
                for candidate in configured:
                    expected = candidate.config.issuer
                    if expected is None or issuer is None or issuer == expected:
                        pairs.append((parsed, candidate))
        if not any_candidate:
            return None
        if not pairs:
            raise InvalidJWT("JWTNotInIssuer")
        if len(pairs) > 1:
            raise InvalidHeaders("Could not verify JWT: Multiple JWTs found")
        return pairs[0]

    def _parse(self, token: str) -> ParsedToken | InvalidJWT:
        try:
            return parse_token(token, self._max_token_bytes)
        except InvalidJWT as error:
            return error

    async def _verified_session(
        self,
        parsed: ParsedToken | InvalidJWT,
        configured: ConfiguredVerifier,
        requested_role: str | None,
    ) -> Session:
        if isinstance(parsed, InvalidJWT):
            raise parsed
        verifier = configured.verifier
        await verifier.verify_signature(parsed)
        verifier.check_claims(parsed.claims, self._clock())
        hasura: HasuraClaims = configured.config.claims.extract(parsed.claims)
        role = select_role(hasura.allowed_roles, hasura.default_role, requested_role)
        exp = parsed.claims.get("exp")
        expires_at = float(exp) if exp is not None else None
        return Session(
            session_variables(hasura.claims, role),
            expires_at=expires_at,
            valid_until=expires_at + verifier.allowed_skew if expires_at is not None else None,
        )


def _header_session(request: RequestHeaders, role: str) -> Session:
    variables = dict(request.session_headers)
    variables[ROLE] = role
    return Session(variables)
