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
from ._jwks import JWKSStatus
from ._middleware import HasuraJWTMiddleware, get_middleware
from ._session import Session, get_session
from ._settings import Settings

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "AuthError",
    "ConfigError",
    "HasuraJWTError",
    "HasuraJWTMiddleware",
    "InvalidClaims",
    "InvalidHeaders",
    "InvalidJWT",
    "JWKSStartupError",
    "JWKSStatus",
    "MissingRoleClaims",
    "Session",
    "Settings",
    "WebSocketClosedError",
    "__version__",
    "get_middleware",
    "get_session",
]
