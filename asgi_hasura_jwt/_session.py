"""The resolved Hasura session handed to the app (spec 0)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from ._names import ROLE
from ._types import Scope

SCOPE_KEY = "hasura_session"
SessionSource = Literal["token", "admin", "unauthorized"]


class Session(Mapping[str, str]):
    """Read-only session variables with lower-case names, always including ``x-hasura-role``.

    ``expires_at`` is the token's ``exp`` (``None`` without one, and for admin and unauthorized
    sessions); ``valid_until`` adds the config's ``allowed_skew``: the instant the token stops
    being accepted, at which websockets are closed. ``source`` says what authenticated it: a
    verified ``"token"``, the ``"admin"`` secret, or no token (``"unauthorized"`` role).
    """

    __slots__ = ("_variables", "expires_at", "source", "valid_until")

    def __init__(
        self,
        variables: dict[str, str],
        *,
        expires_at: float | None = None,
        valid_until: float | None = None,
        source: SessionSource = "token",
    ) -> None:
        self._variables = variables
        self.expires_at = expires_at
        self.valid_until = valid_until
        self.source = source

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


def get_session(scope: Mapping[str, Any] | Scope) -> Session | None:
    """The session the middleware stored in ``scope``, or ``None`` (public paths, other apps)."""
    session = scope.get(SCOPE_KEY)
    return session if isinstance(session, Session) else None
