"""Section 2 end to end: from a request's headers to a `Session`, or an `AuthError`.

Shared by the HTTP and the websocket glue; it knows nothing of ASGI messages.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Collection, Sequence
from types import MappingProxyType

from ._cache import TokenCache, VerifiedToken, claims_cost
from ._clerk import SignedOut
from ._config import JWTConfig, TokenLocation
from ._errors import AccessDenied, AuthError, InvalidHeaders, InvalidJWT, internal_error
from ._keys import KeySource
from ._locate import Candidate, TokenLocator
from ._names import (
    ACCESS_KEY,
    ADMIN_SECRET,
    AUTHORIZATION_HEADER,
    ROLE,
    ROLE_HEADER,
    SECRET_HEADER_NAMES,
)
from ._options import DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES, DEFAULT_MAX_TOKEN_BYTES
from ._outcomes import Probe, verifying
from ._request import RequestHeaders, header_text
from ._revocation import REVOKED, RevocationList
from ._roles import select_role, session_variables
from ._session import Session, token_session
from ._token import ParsedToken
from ._types import Clock
from ._verify import ConfiguredVerifier, TokenVerifier, check_times, validity_window

_AUTHORIZATION = TokenLocation("Authorization")
_READ_NAME_LENGTH = len(AUTHORIZATION_HEADER)
assert len(ROLE_HEADER) == _READ_NAME_LENGTH
MISSING_TOKEN = "Missing 'Authorization' or 'Cookie' header in JWT authentication mode"  # noqa: S105


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
        cache_entries: int = DEFAULT_CACHE_ENTRIES,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        revocations: RevocationList | None = None,
        clock: Clock = time.time,
    ) -> None:
        self._admin_secret = admin_secret.encode("utf-8") if admin_secret else None
        self._unauthorized_role = unauthorized_role or None
        self.revocations = RevocationList(clock=clock) if revocations is None else revocations
        self._clock = clock
        by_location: dict[TokenLocation, list[ConfiguredVerifier]] = {}
        for index, config in enumerate(configs):
            verifier = TokenVerifier(
                key_source(config),
                audience=config.audience,
                allowed_skew=config.allowed_skew,
                authorized_parties=authorized_parties,
                require_azp=require_azp,
            )
            by_location.setdefault(config.location, []).append(
                ConfiguredVerifier(index, config, verifier)
            )
        # The cache-hit fast path (`cached_session`) serves Authorization-only setups, where a
        # request's one "Bearer" header is its only token candidate (so no __client_uat rule).
        only_authorization = set(by_location) == {_AUTHORIZATION}
        fast_path = by_location[_AUTHORIZATION] if only_authorization else []
        self._fast_path = {configured.index: configured for configured in fast_path}
        self.cache = TokenCache(cache_entries, cache_bytes, by_header=bool(fast_path))
        self._locator = TokenLocator(by_location, self.cache, max_token_bytes)
        self._custom_names = frozenset(
            location.name.encode("latin-1")
            for location in by_location
            if location.kind == "CustomHeader"
        )
        # A secret header means the admin-secret rules (2.1), which only `authenticate` runs.
        self._deferred = SECRET_HEADER_NAMES if self._admin_secret is not None else ()
        # Where a caller's bare token is presented (`headers_carrying`): as a client would.
        self.token_location = (
            _AUTHORIZATION if _AUTHORIZATION in by_location else configs[0].location
        )

    def cached_session(self, headers: Sequence[tuple[bytes, bytes]]) -> Session | None:
        """The session of a request whose token was verified before, or ``None``.

        Synchronous and allocation-light: one pass over the headers and one lookup by the
        header's bytes. It answers only the plainest case — one lower-case
        ``Authorization: Bearer <token>`` header, a lower-case role header, no admin-secret
        header, the token cached and inside its validity window now, the requested role
        allowed — and returns ``None`` for anything else, failures included, so that
        `authenticate` produces exactly the same result or error as it always does.
        """
        if not self._fast_path:
            return None
        try:
            authorization = role = None
            deferred = self._deferred
            for name, value in headers:
                # Both names read here are 13 bytes long: one length test passes over most
                # headers, and only a name of that length could be one of them in upper case.
                if len(name) == _READ_NAME_LENGTH:
                    if name == AUTHORIZATION_HEADER:
                        if authorization is not None:
                            return None
                        authorization = value
                    elif name == ROLE_HEADER:
                        if role is None:
                            role = value
                    elif not name.islower():
                        return None  # "Authorization" from a hand-built scope, perhaps
                elif deferred and name.lower() in deferred:
                    return None
            cached = self.cache.get_by_header(authorization)
            if cached is None or cached.key_version != cached.key_source.version:
                return None
            start, until = cached.window
            if not start <= self._clock() < until:
                return None  # maybe expired, maybe not yet valid: `authenticate` says which
            # Decoded as `RequestHeaders` does (UTF-8, leniently), and only on a hit.
            requested = header_text(role) if role else None
            session = cached.sessions.get(requested or cached.hasura.default_role)
            if session is None or self.revocations.active:
                # A session is built only for an allowed role; the window passed check_times.
                configured = self._fast_path[cached.config_index]
                return self._cached_session(cached, configured, requested, None)
            return session
        except Exception:
            # Failures (AuthError or a malformed scope) are `authenticate`'s to answer.
            return None

    async def authenticate(
        self, headers: Sequence[tuple[bytes, bytes]], probe: Probe | None = None
    ) -> Session:
        """Resolve the session for these request headers, or raise an `AuthError`.

        Fails closed (spec 3): an unexpected exception is logged and raised as ``invalid-jwt``
        ``internal error``, so no caller ever sees anything but an `AuthError`. A ``probe``
        learns whether the token cache answered, for the ``on_event`` hooks.
        """
        try:
            request = RequestHeaders(headers, self._custom_names)
            if self._admin_secret is not None:
                presented = request.admin_secret
                if presented is None:
                    presented = request.access_key
                if presented is not None:
                    return self._admin_session(presented, request)
            match = self._locator.locate(request)
            if match is None:
                return self._no_token(request, MISSING_TOKEN)
            try:
                return await self._token_session(request, *match, probe)
            except SignedOut as signed_out:
                # Clerk's signed-out states (spec 6): a verified token, treated as none (2.3).
                return self._no_token(request, signed_out.message)
        except AuthError:
            raise
        except Exception as exc:
            raise internal_error(exc)  # noqa: B904 - internal_error chains the cause itself

    def _no_token(self, request: RequestHeaders, message: str) -> Session:
        if self._unauthorized_role is None:
            # No token at all: another authenticator's turn. Signed out: a token we verified.
            raise InvalidHeaders(message).as_unclaimed(message == MISSING_TOKEN)
        return request.header_session(self._unauthorized_role, "unauthorized")

    async def _token_session(
        self,
        request: RequestHeaders,
        token: str,
        seen: Candidate,
        configured: ConfiguredVerifier,
        probe: Probe | None,
    ) -> Session:
        key = (configured.index, token)
        # The pre-match's own cache hit, when it is this config's: saves a second lookup.
        is_ours = isinstance(seen, VerifiedToken) and seen.config_index == configured.index
        cached = seen if is_ours else self.cache.get(key)
        if isinstance(cached, VerifiedToken):
            if cached.key_version == configured.verifier.keys.version:
                if probe is not None:
                    probe.cache = "hit"
                return self._cached_session(cached, configured, request.role, request)
            # Verified with keys that have changed since: verify again from scratch.
            self.cache.discard(key)
        parsed = self._locator.parse(token) if isinstance(seen, VerifiedToken) else seen
        with verifying(probe):
            if isinstance(parsed, InvalidJWT):
                raise parsed.as_unclaimed()  # not a JWT this package can read
            verifier = configured.verifier
            # Read before any wait: keys that change meanwhile leave this entry stale, not wrong.
            key_version = verifier.keys.version
            if not verifier.verified_now(parsed):
                await verifier.verify_signature(parsed)
            return self._verified_session(token, parsed, configured, request, key_version)

    def _admin_session(self, presented: bytes, request: RequestHeaders) -> Session:
        assert self._admin_secret is not None
        # Constant time, on bytes: a non-ASCII header is a mismatch, never an error (spec 7.5).
        if not hmac.compare_digest(presented, self._admin_secret):
            raise AccessDenied(f"invalid {ADMIN_SECRET}/{ACCESS_KEY}", status=401)
        return request.header_session(request.role or "admin", "admin")

    def _cached_session(
        self,
        cached: VerifiedToken,
        configured: ConfiguredVerifier,
        requested_role: str | None,
        request: RequestHeaders | None,
    ) -> Session:
        """A cached token's session, as `_verified_session` would give it: the checks that
        depend on the time or the request run again (the fast path has no cookies to read)."""
        skew = configured.verifier.allowed_skew
        check_times(cached.exp, cached.iat, cached.nbf, now := self._clock(), skew)
        if self.revocations.active and self.revocations.refuses(cached.subject, now):
            raise InvalidJWT(REVOKED)  # the whole cost while nothing is revoked: one test
        rules = configured.config.clerk
        if rules is not None and request is not None:
            rules.check_fresh(cached.iat, request)
        hasura = cached.hasura
        role = select_role(hasura.allowed_roles, hasura.default_role, requested_role)
        session = cached.sessions.get(role)
        if session is None:
            variables = dict(cached.variables)
            variables[ROLE] = role
            session = cached.sessions[role] = token_session(variables, cached, skew)
        return session

    def _verified_session(
        self,
        token: str,
        parsed: ParsedToken,
        configured: ConfiguredVerifier,
        request: RequestHeaders,
        key_version: int,
    ) -> Session:
        """The session of a token whose signature has just been verified: its claims checked,
        cached."""
        verifier = configured.verifier
        claims = parsed.claims
        verifier.check_claims(claims, now := self._clock())
        rules = configured.config.clerk
        if rules is not None:
            rules.check_kind(parsed.header, claims)
        # Revoked is refused, never "signed out": the session was ended on purpose.
        subject = self.revocations.admit(claims, verifier.allowed_skew, now)
        if rules is not None:
            # Not cached when signed out: such a token has no session to remember.
            rules.check_signed_in(claims, request)
        hasura = configured.config.claims.extract(claims)
        role = select_role(hasura.allowed_roles, hasura.default_role, request.role)
        variables = session_variables(hasura.claims, role)
        # What every role's session shares; `_cached_session` adds the role.
        shared = dict(variables)
        del shared[ROLE]
        entry = VerifiedToken(
            configured.index,
            verifier.keys,
            key_version,
            claims.get("iss"),
            claims.get("exp"),
            claims.get("nbf"),
            claims.get("iat"),
            hasura,
            shared,
            MappingProxyType(claims),
            claims_cost(parsed.signing_input),
            {},
            subject,
            validity_window(
                claims.get("exp"), claims.get("iat"), claims.get("nbf"), verifier.allowed_skew
            ),
        )
        if self.cache.enabled:
            self.cache.put((configured.index, token), entry)
        return token_session(variables, entry, verifier.allowed_skew)
