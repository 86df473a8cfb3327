"""GraphQL queries and subscriptions (Strawberry) behind the middleware.

Resolvers read the session with `asgi_hasura_jwt.strawberry.session_of` (`HasRole("editor")`
in ``permission_classes`` would guard a field by role). Over websockets the middleware checks
the token in ``connection_init`` (``payload.headers.Authorization``) and closes the socket with
4403 when the token expires, so a subscription needs no expiry logic of its own.

    uvicorn --factory examples.strawberry_subscriptions:create_app
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncGenerator
from typing import Any

import anyio
import strawberry
from strawberry.asgi import GraphQL
from strawberry.scalars import JSON

from asgi_hasura_jwt import HasuraJWTMiddleware, Session, Settings
from asgi_hasura_jwt.strawberry import session_of


def session_or_refuse(info: strawberry.Info) -> Session:
    # session_of reads the scope of the request or websocket in Strawberry's default context.
    session = session_of(info)
    if session is None:
        raise PermissionError("no Hasura session: is this path public?")
    return session


# Hasura names its root types query_root and subscription_root: `query { __typename }` answers
# "query_root" here as it does there.
@strawberry.type(name="query_root")
class Query:
    @strawberry.field(description="The session variables of the caller.")
    def me(self, info: strawberry.Info) -> JSON:
        return dict(session_or_refuse(info))


@strawberry.type
class SessionTick:
    tick: int
    seconds_left: float | None
    session: JSON


@strawberry.type(name="subscription_root")
class Subscription:
    @strawberry.subscription(description="The session, every `interval` seconds, until expiry.")
    async def session(
        self, info: strawberry.Info, interval: float = 1.0
    ) -> AsyncGenerator[SessionTick, None]:
        session = session_or_refuse(info)
        for tick in itertools.count(1):
            left = None if session.expires_at is None else session.expires_at - time.time()
            yield SessionTick(tick=tick, seconds_left=left, session=dict(session))
            await anyio.sleep(interval)


schema = strawberry.Schema(query=Query, subscription=Subscription)


def create_app(**options: Any) -> HasuraJWTMiddleware:
    """``options`` go to the middleware; without ``jwt_secret`` it reads the environment."""
    settings = Settings(**options)  # checked before the GraphQL app is built
    return HasuraJWTMiddleware(GraphQL(schema, graphql_ide=None), settings=settings)
