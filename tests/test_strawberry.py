"""A real GraphQL server (Strawberry's ASGI app) behind the middleware, under uvicorn: the
subscription resolver reads the session from the websocket's scope, over both protocols.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import strawberry
from strawberry.asgi import GraphQL as StrawberryGraphQL
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from asgi_hasura_jwt import (
    ConfigError,
    HasuraJWTMiddleware,
    Session,
    WebSocketClosedError,
    get_session,
)
from asgi_hasura_jwt._roles import ROLE_NOT_ALLOWED as ROLE_MESSAGE
from asgi_hasura_jwt._session import NO_SESSION_MESSAGE
from asgi_hasura_jwt.strawberry import (
    SESSION_KEY,
    GraphQL,
    HasRole,
    session_of,
)
from asgi_hasura_jwt.testing import CLERK_CATEGORIES

from .clerk_tokens import ISSUER, USER, clerk_token, template_claims
from .conftest import HMAC_SECRET, NAMESPACE, SigningKey, _build_keys, hasura_claims, mint, payload
from .servers import serve

pytestmark = pytest.mark.network

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def whoami(self, info: strawberry.Info) -> AsyncGenerator[str, None]:
        # Strawberry's ASGI view puts the Starlette WebSocket in the context; its scope is the
        # dict the middleware stored the session in.
        session = get_session(info.context["request"].scope)
        assert session is not None
        yield f"{session['x-hasura-user-id']}/{session.role}"

    @strawberry.subscription
    async def ticks(self) -> AsyncGenerator[int, None]:
        tick = 0
        while True:
            yield tick
            tick += 1
            await asyncio.sleep(0.05)


@asynccontextmanager
async def graphql_server() -> AsyncIterator[str]:
    app = StrawberryGraphQL(strawberry.Schema(query=Query, subscription=Subscription))
    middleware = HasuraJWTMiddleware(
        app, jwt_secret={"type": "HS256", "key": HMAC_SECRET}, environ={}
    )
    # log_config=None: uvicorn's loggers propagate, so an exception in the app reaches caplog.
    async with serve(middleware, log_config=None) as base:
        yield base.replace("http://", "ws://") + "/graphql"


def client(url: str, protocol: str) -> connect:
    return connect(url, subprotocols=[Subprotocol(protocol)], proxy=None)


async def start(ws: ClientConnection, protocol: str, token: str, query: str) -> None:
    """connection_init with the token, wait for the ack, then start ``query`` as id 1."""
    headers = {"Authorization": f"Bearer {token}", "x-hasura-role": "editor"}
    await ws.send(json.dumps({"type": "connection_init", "payload": {"headers": headers}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    kind = "subscribe" if protocol == TRANSPORT else "start"
    await ws.send(json.dumps({"type": kind, "id": "1", "payload": {"query": query}}))


async def closed(ws: ClientConnection) -> tuple[int, str]:
    """Read frames until the server closes; the close code and reason."""
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert frame["type"] in ("next", "data", "connection_error"), frame
    except ConnectionClosed as exc:
        close = exc.rcvd
    assert close is not None
    return close.code, close.reason


async def next_data(ws: ClientConnection) -> Any:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame["type"] in ("next", "data"):
            return frame["payload"]["data"]


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_subscription_resolver_reads_the_session(
    keys: dict[str, SigningKey], protocol: str
) -> None:
    token = mint(keys["HS256"], payload())
    async with graphql_server() as url, client(url, protocol) as ws:
        await start(ws, protocol, token, "subscription { whoami }")
        assert await next_data(ws) == {"whoami": "user-1/editor"}


@pytest.mark.parametrize(("protocol", "code"), [(TRANSPORT, 4403), (LEGACY, 4400)])
async def test_refused_init_never_reaches_strawberry(protocol: str, code: int) -> None:
    async with graphql_server() as url, client(url, protocol) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        code_received, _ = await closed(ws)  # legacy: connection_error first; never an ack
    assert code_received == code


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_running_subscription_is_closed_at_expiry(
    keys: dict[str, SigningKey], protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    exp = time.time() + 2  # room for the server start on a loaded machine
    token = mint(keys["HS256"], payload(exp=exp))
    with caplog.at_level(logging.WARNING), _tolerating_the_send_race():
        async with graphql_server() as url, client(url, protocol) as ws:
            await start(ws, protocol, token, "subscription { ticks }")
            assert await next_data(ws) == {"ticks": 0}
            close = await closed(ws)
            arrived = time.time()
    assert close == (4403, '{"message":"4403: Forbidden: JWT expired"}')
    assert exp <= arrived < exp + 0.5
    # Strawberry sees a disconnect and stops its operation: no error from the middleware or
    # uvicorn. One record is Strawberry's own and racy: a tick sent between the close and its
    # reader seeing the disconnect fails with WebSocketClosedError (ASGI: a send on a closed
    # socket raises an OSError), which Strawberry logs as it does for a client that leaves
    # mid-send under any server.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and not _send_race(r)]
    assert not errors, caplog.text


def _closed_by_us(error: BaseException | None) -> bool:
    while error is not None and not isinstance(error, WebSocketClosedError):
        error = error.__cause__ or error.__context__
    return error is not None


def _send_race(record: logging.LogRecord) -> bool:
    error = record.exc_info[1] if record.exc_info else None
    return record.name == "strawberry.ws.task" and _closed_by_us(error)


@contextmanager
def _tolerating_the_send_race() -> Iterator[None]:
    """The same race under the legacy protocol: Strawberry's graphql-ws task does not log it but
    leaves it to the event loop's exception handler, where the test runner would raise it. Only
    an exception caused by our close is dropped; every other one reaches the runner."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if _closed_by_us(context.get("exception")):
            return
        if previous is None:
            loop.default_exception_handler(context)
        else:
            previous(loop, context)

    loop.set_exception_handler(handler)
    try:
        yield
    finally:
        gc.collect()  # a task's unretrieved exception is reported when the task is collected
        loop.set_exception_handler(previous)


# --- asgi_hasura_jwt.strawberry: HasRole, session_of, the GraphQL view's context ----------------

EDITOR = HasRole("editor")
DENIED = {"path": "$", "code": "access-denied"}


@strawberry.type
class GuardedQuery:
    @strawberry.field(permission_classes=[EDITOR])
    def draft(self) -> str:
        return "draft"

    @strawberry.field
    def me(self, info: strawberry.Info) -> str:
        session = info.context[SESSION_KEY]
        return f"{session['x-hasura-user-id']}/{session.role}"

    @strawberry.field
    def found(self, info: strawberry.Info) -> bool:
        return session_of(info) is not None


@strawberry.type
class GuardedSubscription:
    @strawberry.subscription(permission_classes=[EDITOR])
    async def drafts(self) -> AsyncGenerator[str, None]:
        yield "draft"

    @strawberry.subscription
    async def me(self, info: strawberry.Info) -> AsyncGenerator[str, None]:
        # Set when the socket's connection_init was authenticated, after the context was made.
        session = info.context[SESSION_KEY]
        yield f"{session['x-hasura-user-id']}/{session.role}"


GUARDED = strawberry.Schema(query=GuardedQuery, subscription=GuardedSubscription)


@asynccontextmanager
async def guarded_server(view: type[GraphQL] | type[StrawberryGraphQL]) -> AsyncIterator[str]:
    key = _build_keys()["RS256"]
    app = HasuraJWTMiddleware(
        view(GUARDED),
        jwt_secret={**key.config, "issuer": ISSUER, "clerk": {"token": "template"}},
        public_paths=["/public"],
        environ={},
    )
    async with serve(app) as base:
        yield base


def clerk_editor(role: str | None) -> dict[str, str]:
    key = _build_keys()["RS256"]
    claims = template_claims(**{NAMESPACE: hasura_claims(user_id=USER, roles=["user", "editor"])})
    token = clerk_token(key, claims, cat=CLERK_CATEGORIES["template"])
    headers = {"Authorization": f"Bearer {token}"}
    return headers if role is None else {**headers, "x-hasura-role": role}


def refusal(message: str, field: str) -> dict[str, Any]:
    return {
        "message": message,
        "locations": [{"line": 1, "column": 3}],
        "path": [field],
        "extensions": DENIED,
    }


@pytest.mark.parametrize("view", [GraphQL, StrawberryGraphQL], ids=["ours", "strawberry's"])
async def test_has_role_over_http(view: Any) -> None:
    # HasRole needs no custom context: Strawberry's default context has the request.
    async with guarded_server(view) as base, httpx.AsyncClient(base_url=base) as client:
        editor = await client.post("/", json={"query": "{ draft }"}, headers=clerk_editor("editor"))
        user = await client.post("/", json={"query": "{ draft }"}, headers=clerk_editor(None))
        public = await client.post("/public", json={"query": "{ draft found }"})
    assert editor.json() == {"data": {"draft": "draft"}}
    assert user.json() == {"data": None, "errors": [refusal(ROLE_MESSAGE, "draft")]}
    assert public.json() == {"data": None, "errors": [refusal(NO_SESSION_MESSAGE, "draft")]}


async def test_the_context_holds_the_session_over_http() -> None:
    async with guarded_server(GraphQL) as base, httpx.AsyncClient(base_url=base) as client:
        me = await client.post("/", json={"query": "{ me found }"}, headers=clerk_editor("editor"))
    assert me.json() == {"data": {"me": f"{USER}/editor", "found": True}}


async def subscribe(base: str, headers: dict[str, str], query: str) -> dict[str, Any]:
    url = base.replace("http://", "ws://")
    async with client(url, TRANSPORT) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"headers": headers}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": query}}))
        answer: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        return answer


async def test_has_role_and_the_context_over_graphql_transport_ws() -> None:
    async with guarded_server(GraphQL) as base:
        editor = await subscribe(base, clerk_editor("editor"), "subscription { drafts }")
        user = await subscribe(base, clerk_editor(None), "subscription { drafts }")
        me = await subscribe(base, clerk_editor("editor"), "subscription { me }")
    assert editor == {"id": "1", "type": "next", "payload": {"data": {"drafts": "draft"}}}
    # graphql-transport-ws: a refused subscription is an "error" message, then no more.
    located = {"locations": [{"line": 1, "column": 16}]}
    assert user == {
        "id": "1",
        "type": "error",
        "payload": [refusal(ROLE_MESSAGE, "drafts") | located],
    }
    assert me["payload"] == {"data": {"me": f"{USER}/editor"}}


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ((), "HasRole: name at least one role"),
        (("editor", None), "HasRole: every entry must be a non-empty string, got None"),
    ],
)
def test_has_role_validates_its_roles(roles: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        HasRole(*roles)
    assert str(raised.value) == message


def test_session_of_finds_the_connection_in_any_context() -> None:
    # Unit edge cases: a context object (Strawberry's BaseContext has .request), the "ws" key
    # some integrations use, and contexts without a connection.
    session = Session({"x-hasura-role": "user"})
    connection = SimpleNamespace(scope={"hasura_session": session})
    for context in (SimpleNamespace(request=connection), {"ws": connection}):
        assert session_of(SimpleNamespace(context=context)) is session
    for context in ({}, SimpleNamespace(), {"request": SimpleNamespace(scope=None)}):
        assert session_of(SimpleNamespace(context=context)) is None
