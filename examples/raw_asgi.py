"""Raw ASGI: no framework at all, the session is ``scope["hasura_session"]``.

uvicorn --factory examples.raw_asgi:create_app
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from asgi_hasura_jwt import HasuraJWTMiddleware, Settings, get_session


async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        # Lifespan included: the middleware completes the lifespan protocol itself when the
        # inner app does not speak it, so its JWKS refresher still runs.
        return
    session = get_session(scope)
    body = json.dumps(dict(session) if session is not None else None).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(**options: Any) -> HasuraJWTMiddleware:
    """``options`` go to the middleware; without ``jwt_secret`` it reads the environment."""
    # Settings first, as in every recipe: the whole configuration is checked before serving.
    return HasuraJWTMiddleware(app, settings=Settings(**options))
