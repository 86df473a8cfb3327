"""Strawberry GraphQL behind `HasuraJWTMiddleware` (the ``[strawberry]`` extra).

- `HasRole` (``permission_classes=[HasRole("editor")]``): a permission class that admits only
  the given roles. It finds the session from Strawberry's default context — the request or
  websocket in ``info.context["request"]`` (``["ws"]``, or a ``.request`` attribute) — so it
  needs no custom context getter, over HTTP and websockets alike.
- `session_of(info)`: the session of the operation's connection, or ``None``.
- `GraphQL`: `strawberry.asgi.GraphQL` whose context also holds the session,
  ``info.context["hasura_session"]``, for queries and subscriptions alike. `context_getter` is
  its ``get_context``, for a view of your own.

A refusal is a GraphQL error in Hasura's style: the message, and ``extensions`` ``{"path": "$",
"code": "access-denied"}``. Only this module imports Strawberry; ``import asgi_hasura_jwt``
does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry
import strawberry.asgi
from strawberry.permission import BasePermission

from ._errors import ConfigError
from ._options import strings
from ._roles import ROLE_NOT_ALLOWED
from ._session import NO_SESSION_MESSAGE, SCOPE_KEY, Session, get_session

__all__ = ["SESSION_KEY", "GraphQL", "HasRole", "context_getter", "session_of"]

SESSION_KEY = SCOPE_KEY  # info.context["hasura_session"], the scope's own name
_EXTENSIONS = {"path": "$", "code": "access-denied"}


def _context_session(context: Any) -> Session | None:
    if isinstance(context, Mapping):
        connection = context.get("request") or context.get("ws")
    else:
        connection = getattr(context, "request", None)
    scope = getattr(connection, "scope", None)
    return get_session(scope) if isinstance(scope, Mapping) else None


def session_of(info: strawberry.Info) -> Session | None:
    """The session of the connection running this operation (read from its ASGI scope, so a
    websocket's is the one its ``connection_init`` authenticated), or ``None``."""
    return _context_session(info.context)


def HasRole(*roles: str) -> type[BasePermission]:  # a class factory, named as the class
    """A permission class admitting sessions whose role is one of ``roles``.

    Any other role gets ``Your requested role is not in allowed roles``; no session at all (a
    public path) gets `NO_SESSION_MESSAGE`; both with ``code`` ``access-denied``. Raises
    `ConfigError` for no roles or a role that is not a non-empty string.
    """
    allowed = frozenset(strings("HasRole", roles))
    if not allowed:
        raise ConfigError("HasRole: name at least one role")

    class _HasRole(BasePermission):
        message = ROLE_NOT_ALLOWED
        error_extensions = _EXTENSIONS

        def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
            session = session_of(info)
            if session is None:
                raise self.error_class(NO_SESSION_MESSAGE, extensions=dict(_EXTENSIONS))
            return session.role in allowed

    # The schema directive and error messages name the class: say which roles it admits.
    _HasRole.__name__ = _HasRole.__qualname__ = "HasRole_" + "_".join(sorted(allowed))
    return _HasRole


async def context_getter(request: Any, response: Any) -> dict[str, Any]:
    """Strawberry's default context plus the session: ``{"request", "response",
    "hasura_session"}`` (``None`` on a public path)."""
    return {"request": request, "response": response, SESSION_KEY: get_session(request.scope)}


class GraphQL(strawberry.asgi.GraphQL):
    """`strawberry.asgi.GraphQL` with the session in ``info.context["hasura_session"]``."""

    async def get_context(self, request: Any, response: Any) -> Any:
        return await context_getter(request, response)

    async def on_ws_connect(self, context: Any) -> Any:
        # A websocket's context is made when it opens; the middleware authenticates it at
        # connection_init, just before Strawberry calls this.
        if isinstance(context, dict):
            context[SESSION_KEY] = _context_session(context)
        return await super().on_ws_connect(context)
