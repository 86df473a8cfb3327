"""``HasuraJWTMiddleware.revoke`` in one process: HTTP on the full path and from the
verified-token cache, websockets of both GraphQL protocols and plain ones (in process, and
under uvicorn with a real client), and the registry of open sockets.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio
import pytest
from websockets.exceptions import ConnectionClosed

from asgi_hasura_jwt import HasuraJWTMiddleware, InvalidJWT, Revocation, RevocationStatus
from asgi_hasura_jwt._auth import Authenticator

from .conftest import HMAC_SECRET, SigningKey, call, echo_app, mint, payload
from .servers import serve
from .test_revocation import Clock
from .test_websocket import LEGACY, TRANSPORT, Socket, init
from .test_websocket_server import GraphQLApp, client, closed

pytestmark = pytest.mark.anyio

CONFIG = {"type": "HS256", "key": HMAC_SECRET}
REVOKED = '{"message":"4403: Forbidden: session revoked"}'
T = float(int(time.time()))


KEY = SigningKey.hmac(HMAC_SECRET)


def token(**claims: Any) -> str:
    """The suite's claims (sub user-1) issued at T - 5 and valid until T + 60 by default."""
    return mint(KEY, payload(**{"iat": int(T) - 5, "exp": int(T) + 60, **claims}))


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def guarded(app: Any = echo_app, **options: Any) -> tuple[HasuraJWTMiddleware, Clock]:
    clock = Clock(T)
    options.setdefault("clock", clock)
    return HasuraJWTMiddleware(app, jwt_secret=CONFIG, environ={}, **options), clock


def authenticator(middleware: HasuraJWTMiddleware) -> Authenticator:
    return middleware._core.authenticator


async def assert_revoked(middleware: HasuraJWTMiddleware, value: str) -> None:
    result = await call(middleware, bearer(value))
    assert result.error() == (400, "invalid-jwt", "Could not verify JWT: JWTRevoked")


# --- HTTP ---------------------------------------------------------------------------------


async def test_a_cached_token_is_refused_once_its_sub_is_revoked() -> None:
    middleware, _ = guarded()
    old = token()
    assert (await call(middleware, bearer(old))).status == 200
    headers = [(b"authorization", f"Bearer {old}".encode())]
    auth = authenticator(middleware)
    assert auth.cached_session(headers) is not None  # the fast path serves it
    await middleware.revoke(sub="user-1")
    assert auth.cached_session(headers) is None  # the fast path leaves it to authenticate...
    with pytest.raises(InvalidJWT, match="JWTRevoked"):
        await auth.authenticate(headers)
    assert len(auth.cache) == 1  # ...which refused it from the cache, without verifying again
    await assert_revoked(middleware, old)


async def test_a_revoked_token_is_refused_on_the_full_path_and_never_cached() -> None:
    middleware, _ = guarded()
    await middleware.revoke(sub="user-1")
    await assert_revoked(middleware, token())
    assert len(authenticator(middleware).cache) == 0
    other = await call(middleware, bearer(token(sub="user-2")))
    assert other.status == 200


async def test_signing_in_again_after_a_sub_revocation_is_accepted() -> None:
    middleware, clock = guarded()
    clock.now = T + 0.5  # iat has whole seconds: T - 5 and T are both at or before
    await middleware.revoke(sub="user-1")
    await assert_revoked(middleware, token(iat=int(T)))
    clock.now = T + 2
    again = token(iat=int(T) + 1)
    assert (await call(middleware, bearer(again))).status == 200
    assert (await call(middleware, bearer(again))).status == 200  # and from the cache
    await assert_revoked(middleware, token(iat=int(T) - 5))


async def test_a_sid_revocation_refuses_every_token_of_the_session() -> None:
    middleware, clock = guarded()
    session_token = token(sid="sess_1")
    assert (await call(middleware, bearer(session_token))).status == 200
    await middleware.revoke(sid="sess_1")
    await middleware.revoke(sid="sess_1")  # idempotent
    await assert_revoked(middleware, session_token)
    clock.now = T + 30
    await assert_revoked(middleware, token(sid="sess_1", iat=int(T) + 29))  # minted later
    assert (await call(middleware, bearer(token(sid="sess_2")))).status == 200  # same sub
    assert middleware.revocation_status() == RevocationStatus(
        entries=1, sockets=0, shared=False, connected=None, pending=0
    )


async def test_entries_expire_with_the_longest_token_lifetime() -> None:
    middleware, clock = guarded(revocation_ttl=3600)
    assert (await call(middleware, bearer(token()))).status == 200  # a 65 s token: T-5..T+60
    await middleware.revoke(sid="sess_1")
    clock.now = T + 64
    await assert_revoked(middleware, token(sid="sess_1", iat=int(T) + 60, exp=int(T) + 120))
    clock.now = T + 65
    fresh = token(sid="sess_1", iat=int(T) + 65, exp=int(T) + 120)
    assert (await call(middleware, bearer(fresh))).status == 200


# --- websockets in process --------------------------------------------------------------


async def socket_app(scope: Any, receive: Any, send: Any) -> None:
    """Every test socket brings its own recording app (`Socket.app`)."""
    await scope["test_socket"].app(scope, receive, send)


async def open_socket(middleware: HasuraJWTMiddleware, socket: Socket, task_group: Any) -> None:
    """Start the socket; return once the app has seen it authenticated."""
    socket.scope["test_socket"] = socket
    task_group.start_soon(middleware, socket.scope, socket.receive, socket.send)
    for _ in range(2000):
        if any(session is not None for _, session in socket.seen):
            return
        await anyio.sleep(0.001)
    raise AssertionError("the socket was not authenticated")


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY, None])
@pytest.mark.parametrize("claims", [{}, {"exp": None}], ids=["exp", "no-exp"])
async def test_revoking_closes_open_sockets_with_4403(
    protocol: str | None, claims: dict[str, Any]
) -> None:
    value = token(sid="sess_1", **claims)
    plain = [(b"authorization", f"Bearer {value}".encode())]
    sockets = [Socket([protocol]) if protocol else Socket([], plain) for _ in range(2)]
    unrelated = bearer(token(sub="user-2"))
    other = Socket([protocol]) if protocol else Socket([], [(b"authorization", b"Bearer x")])
    if protocol:
        other.frame(init(unrelated))
        for socket in sockets:
            socket.frame(init(bearer(value)))
    else:
        other.scope["headers"] = [(b"authorization", unrelated["Authorization"].encode())]
    middleware, _ = guarded(socket_app)
    async with anyio.create_task_group() as task_group:
        for socket in [*sockets, other]:
            await open_socket(middleware, socket, task_group)
        assert middleware.revocation_status().sockets == 3
        await middleware.revoke(sid="sess_1")
        with anyio.fail_after(1):
            for socket in sockets:
                await socket.closed.wait()
        await anyio.sleep(0.05)
        assert not other.closed.is_set()
        other.client_close()
    for socket in sockets:
        assert socket.close == {"type": "websocket.close", "code": 4403, "reason": REVOKED}
        assert socket.app_disconnect == {
            "type": "websocket.disconnect",
            "code": 4403,
            "reason": REVOKED,
        }
    assert middleware.revocation_status().sockets == 0  # closed sockets leave no entry


async def test_a_socket_of_a_token_issued_after_the_revocation_stays_open() -> None:
    middleware, clock = guarded(socket_app)
    clock.now = T + 10
    sockets = [Socket([TRANSPORT]) for _ in range(2)]
    sockets[0].frame(init(bearer(token())))  # issued at T - 5
    sockets[1].frame(init(bearer(token(iat=int(T) + 8))))
    async with anyio.create_task_group() as task_group:
        for socket in sockets:
            await open_socket(middleware, socket, task_group)
        # A revocation made at T elsewhere, delivered now (the store's catch-up after an outage).
        middleware._revocations.deliver(Revocation("sub", "user-1", T, T + 3600))
        with anyio.fail_after(1):
            await sockets[0].closed.wait()
        await anyio.sleep(0.05)
        assert not sockets[1].closed.is_set()
        sockets[1].client_close()
    assert sockets[0].close["reason"] == REVOKED
    assert middleware.revocation_status().sockets == 0


async def test_a_socket_the_client_closed_leaves_no_entry() -> None:
    middleware, _ = guarded(socket_app)
    socket = Socket([TRANSPORT])
    socket.frame(init(bearer(token())))
    async with anyio.create_task_group() as task_group:
        await open_socket(middleware, socket, task_group)
        assert middleware.revocation_status().sockets == 1
        socket.client_close()
    assert middleware.revocation_status().sockets == 0
    await middleware.revoke(sub="user-1")  # nothing left to close, nothing raised


# --- under uvicorn, a real websocket client -------------------------------------------------


@pytest.mark.network
@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY, None])
async def test_revoke_closes_a_real_socket(protocol: str | None) -> None:
    value = mint(KEY, payload(sid="sess_9"))  # real time: uvicorn's clock
    app = GraphQLApp()
    middleware = HasuraJWTMiddleware(app, jwt_secret=CONFIG, environ={})
    headers = None if protocol else bearer(value)
    async with serve(middleware) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        async with client(url, protocol, headers) as ws:
            await ws.send(init(bearer(value)) if protocol else "hello")
            await asyncio.wait_for(ws.recv(), 5)  # connection_ack, or the plain echo
            revoked_at = time.time()
            await middleware.revoke(sid="sess_9")
            code, reason, arrived = await closed(ws)
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        await asyncio.wait_for(app.finished.wait(), 5)
    assert (code, reason) == (4403, REVOKED)
    assert arrived - revoked_at < 1
    assert app.disconnects == [{"type": "websocket.disconnect", "code": 4403, "reason": REVOKED}]
    assert middleware.revocation_status().sockets == 0
