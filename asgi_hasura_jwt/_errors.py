"""The exceptions of asgi_hasura_jwt.

The tree::

    HasuraJWTError
    ├── ConfigError (also a ValueError)   bad configuration, raised at construction
    ├── JWKSStartupError (a RuntimeError) a jwk_url could not be fetched at lifespan startup
    ├── WebSocketClosedError (an OSError) the app sent on a socket the middleware had closed
    └── AuthError                         a request failed authentication (Hasura's codes)
        ├── InvalidJWT                    invalid-jwt               400
        ├── InvalidClaims                 jwt-invalid-claims        400
        ├── MissingRoleClaims             jwt-missing-role-claims   400
        ├── InvalidHeaders                invalid-headers           400
        └── AccessDenied                  access-denied             400 / 401

`AuthError` carries what a client sees (code, HTTP status, message); the cause of an
unexpected failure is chained with ``raise ... from`` for operators. No message or repr ever
contains a token, a secret or key material.
"""

from __future__ import annotations

import json
import logging
from typing import TypeVar

logger = logging.getLogger("asgi_hasura_jwt")


class HasuraJWTError(Exception):
    """Root of every exception raised by asgi_hasura_jwt."""


class ConfigError(HasuraJWTError, ValueError):
    """The JWT config, admin secret or an option is invalid. Raised by the constructor."""


class JWKSStartupError(HasuraJWTError, RuntimeError):
    """The JWKS could not be fetched at startup; the message names the URL and the last error."""


class WebSocketClosedError(HasuraJWTError, OSError):
    """The app sent on a websocket the middleware had closed (failed init or expiry).

    ASGI 2.4 has servers raise an `OSError` subclass for a send on a closed connection; apps
    and frameworks (Starlette turns it into ``WebSocketDisconnect``) already handle that.
    """


AnyAuthError = TypeVar("AnyAuthError", bound="AuthError")


class AuthError(HasuraJWTError):
    """A request failed authentication; answered with Hasura's error body."""

    code: str = "invalid-jwt"
    status: int = 400
    # True when no config took the request's token up: there was none, it is not a readable
    # JWT, or its issuer is no config's. Another authenticator (the webhook's fallback) may be
    # asked then; a token that a config took up and refused is refused for good.
    unclaimed: bool = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def as_unclaimed(self: AnyAuthError, unclaimed: bool = True) -> AnyAuthError:
        """This error, with `unclaimed` set to ``unclaimed``: ``raise error.as_unclaimed()``."""
        self.unclaimed = unclaimed
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, {self.message!r})"

    def to_json(self) -> bytes:
        """Hasura's error body, key order included."""
        body = {
            "errors": [{"message": self.message, "extensions": {"path": "$", "code": self.code}}]
        }
        return json.dumps(body, separators=(",", ":")).encode()


class InvalidJWT(AuthError):
    """The token could not be verified (``Could not verify JWT: <reason>``)."""

    code = "invalid-jwt"

    def __init__(self, reason: str) -> None:
        super().__init__(f"Could not verify JWT: {reason}")
        self.reason = reason


class InvalidClaims(AuthError):
    """The Hasura claims are missing, malformed or not strings."""

    code = "jwt-invalid-claims"


class MissingRoleClaims(AuthError):
    """``x-hasura-allowed-roles`` or ``x-hasura-default-role`` is missing."""

    code = "jwt-missing-role-claims"


class InvalidHeaders(AuthError):
    """No token, a malformed Authorization header, or several tokens."""

    code = "invalid-headers"


class AccessDenied(AuthError):
    """The requested role is not allowed (400) or the admin secret is wrong (401)."""

    code = "access-denied"


def internal_error(exc: Exception) -> InvalidJWT:
    """The client-facing error for an unexpected exception while authenticating (spec 3).

    It fails closed as ``invalid-jwt``; its traceback is logged for operators (our messages
    never hold a token or secret, and locals are not logged).
    """
    logger.error("unexpected error while authenticating a request", exc_info=exc)
    error = InvalidJWT("internal error")
    error.__cause__ = exc
    return error
