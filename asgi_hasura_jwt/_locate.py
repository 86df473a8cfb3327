"""Locating the token (spec 2.2): every candidate at every config's location, the issuer
pre-match, and the one (token, config) pair to verify — or none, or an error.

Each candidate is parsed once (or found verified in the cache), and that parse serves both the
pre-match and verification.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._cache import TokenCache, VerifiedToken
from ._config import TokenLocation
from ._errors import InvalidHeaders, InvalidJWT
from ._request import RequestHeaders
from ._token import ParsedToken, parse_token
from ._verify import ConfiguredVerifier

# A token as the pre-match saw it: verified before (for some config), parsed now, or unreadable.
Candidate = VerifiedToken | ParsedToken | InvalidJWT


class TokenLocator:
    """The configs by location, the cache to consult, and the token size limit."""

    def __init__(
        self,
        by_location: Mapping[TokenLocation, list[ConfiguredVerifier]],
        cache: TokenCache,
        max_token_bytes: int,
    ) -> None:
        self._by_location = by_location
        self.cache = cache
        self._max_token_bytes = max_token_bytes

    def locate(self, request: RequestHeaders) -> tuple[str, Candidate, ConfiguredVerifier] | None:
        """The one (token, config) pair to verify, or ``None`` when there is no token."""
        pairs: list[tuple[str, Candidate, ConfiguredVerifier]] = []
        any_token = False
        for location, configured in self._by_location.items():
            for token in request.tokens_at(location):
                any_token = True
                candidate: Candidate | None = None
                for each in configured:
                    candidate = self.cache.get((each.index, token))
                    if candidate is not None:
                        break
                if candidate is None:
                    candidate = self.parse(token)
                issuer = _issuer(candidate)
                for each in configured:
                    expected = each.config.issuer
                    if expected is None or issuer is None or issuer == expected:
                        pairs.append((token, candidate, each))
        if not any_token:
            return None
        if not pairs:
            raise InvalidJWT("JWTNotInIssuer").as_unclaimed()
        if len(pairs) > 1:
            # Unreadable tokens match every config (they have no `iss`): that is no claim.
            unread = all(isinstance(candidate, InvalidJWT) for _, candidate, _ in pairs)
            raise InvalidHeaders("Could not verify JWT: Multiple JWTs found").as_unclaimed(unread)
        return pairs[0]

    def parse(self, token: str) -> ParsedToken | InvalidJWT:
        try:
            return parse_token(token, self._max_token_bytes)
        except InvalidJWT as error:
            return error


def _issuer(candidate: Candidate) -> str | None:
    """The unverified ``iss`` for the pre-match; an unreadable token has none (spec 2.2)."""
    if isinstance(candidate, InvalidJWT):
        return None
    if isinstance(candidate, VerifiedToken):
        return candidate.issuer
    issuer = candidate.claims.get("iss")
    return issuer if isinstance(issuer, str) else None
