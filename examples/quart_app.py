"""Quart: wrap ``app.asgi_app``, so Quart's own server-facing app keeps its name.

uvicorn --factory examples.quart_app:create_app
"""

from __future__ import annotations

from typing import Any

from quart import Quart, request

from asgi_hasura_jwt import HasuraJWTMiddleware, Settings, get_session


def create_app(**options: Any) -> Quart:
    """``options`` go to the middleware; without ``jwt_secret`` it reads the environment."""
    settings = Settings(**options)  # a bad config stops the factory, so the server never starts
    app = Quart(__name__)

    @app.get("/me")
    async def me() -> dict[str, Any]:
        session = get_session(request.scope)
        assert session is not None  # the middleware answered every request without one
        return {"role": session.role, "session": dict(session)}

    # Quart types its ASGI callables with TypedDicts, which mypy does not match to Mapping.
    app.asgi_app = HasuraJWTMiddleware(app.asgi_app, settings=settings)  # type: ignore[assignment, arg-type]
    return app
