"""Authenticate ASGI requests exactly like Hasura GraphQL Engine's JWT mode."""

from ._errors import (
    AccessDenied,
    AuthError,
    ConfigError,
    HasuraJWTError,
    InvalidClaims,
    InvalidHeaders,
    InvalidJWT,
    JWKSStartupError,
    MissingRoleClaims,
    WebSocketClosedError,
)
from ._events import AuthEvent, Event, EventHook, JWKSFetchEvent, WebSocketEvent
from ._jwks import JWKSStatus
from ._middleware import HasuraJWTMiddleware, get_middleware
from ._revocation import Revocation, RevocationStatus, RevocationStore
from ._session import Session, get_session
from ._settings import Settings

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "AuthError",
    "AuthEvent",
    "ConfigError",
    "Event",
    "EventHook",
    "HasuraJWTError",
    "HasuraJWTMiddleware",
    "InvalidClaims",
    "InvalidHeaders",
    "InvalidJWT",
    "JWKSFetchEvent",
    "JWKSStartupError",
    "JWKSStatus",
    "MissingRoleClaims",
    "Revocation",
    "RevocationStatus",
    "RevocationStore",
    "Session",
    "Settings",
    "WebSocketClosedError",
    "WebSocketEvent",
    "__version__",
    "get_middleware",
    "get_session",
]
