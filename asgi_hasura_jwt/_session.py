"""The resolved Hasura session handed to the app (spec 0)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._names import ROLE
from ._types import Scope

if TYPE_CHECKING:
    from ._cache import VerifiedToken

SCOPE_KEY = "hasura_session"
NO_CLAIMS: Mapping[str, Any] = MappingProxyType({})


class Session(Mapping[str, str]):
    """Read-only session variables with lower-case names, always including ``x-hasura-role``.

    ``expires_at`` is the token's ``exp`` (``None`` without one, and for admin and unauthorized
    sessions); ``valid_until`` adds the config's ``allowed_skew``: the instant the token stops
    being accepted, at which websockets are closed. ``claims`` is the verified token's payload,
    read-only (empty for admin and unauthorized sessions): ``session.claims["sid"]`` without
    decoding the token again. Nested values are the parsed JSON, shared by every request with
    the same token: read them, do not change them.
    """

    __slots__ = ("_variables", "claims", "expires_at", "valid_until")

    def __init__(
        self,
        variables: dict[str, str],
        *,
        expires_at: float | None = None,
        valid_until: float | None = None,
        claims: Mapping[str, Any] = NO_CLAIMS,
    ) -> None:
        self._variables = variables
        self.expires_at = expires_at
        self.valid_until = valid_until
        self.claims = claims

    @property
    def role(self) -> str:
        return self._variables[ROLE]

    def __getitem__(self, name: str) -> str:
        return self._variables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._variables)

    def __len__(self) -> int:
        return len(self._variables)

    def __repr__(self) -> str:
        return f"Session({self._variables!r}, expires_at={self.expires_at!r})"


def token_session(variables: dict[str, str], token: VerifiedToken, skew: float) -> Session:
    """The session of a verified token: its ``exp`` as ``expires_at``, its claims."""
    exp = token.exp
    expires_at = float(exp) if exp is not None else None
    return Session(
        variables,
        expires_at=expires_at,
        valid_until=expires_at + skew if expires_at is not None else None,
        claims=token.claims,
    )


def get_session(scope: Mapping[str, Any] | Scope) -> Session | None:
    """The session the middleware stored in ``scope``, or ``None`` (public paths, other apps)."""
    session = scope.get(SCOPE_KEY)
    return session if isinstance(session, Session) else None
