"""`_websocket` and `_deadlines` in process: fake ASGI receive/send, a fake authenticator.

The end-to-end behaviour under uvicorn with the real middleware is in test_websocket_server.py.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

import anyio
import pytest

from asgi_hasura_jwt import Settings
from asgi_hasura_jwt._auth import Authenticator
from asgi_hasura_jwt._errors import (
    ConfigError,
    InvalidHeaders,
    InvalidJWT,
    WebSocketClosedError,
    internal_error,
)
from asgi_hasura_jwt._session import Session
from asgi_hasura_jwt._types import ASGIApp, Message, Receive, Scope, Send
from asgi_hasura_jwt._websocket import WebSocketAuth
from asgi_hasura_jwt._websocket.deadlines import Deadline
from asgi_hasura_jwt._websocket.frames import may_be_init, payload_headers
from asgi_hasura_jwt._websocket.protocols import MAX_CLOSE_REASON_BYTES, close_reason

from .conftest import HMAC_SECRET

pytestmark = pytest.mark.anyio

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"
FORBIDDEN = '{"message":"4403: Forbidden"}'
EXPIRED = '{"message":"4403: Forbidden: JWT expired"}'


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class FakeAuthenticator:
    """Section 2 in miniature: ``Bearer <name>`` tokens from `tokens`, several tokens are
    ``Multiple JWTs found``, none is the missing-header error, ``boom`` is an unexpected error.
    """

    def __init__(self, tokens: dict[str, Session] | None = None) -> None:
        self.tokens = tokens or {}
        self.calls: list[list[tuple[bytes, bytes]]] = []

    async def authenticate(self, headers: Sequence[tuple[bytes, bytes]]) -> Session:
        self.calls.append(list(headers))
        found = [value for name, value in headers if name == b"authorization"]
        found += [value.removeprefix(b"token=") for name, value in headers if name == b"cookie"]
        if not found:
            raise InvalidHeaders("Missing 'Authorization' or 'Cookie' header")
        if len(found) > 1:
            raise InvalidHeaders("Could not verify JWT: Multiple JWTs found")
        token = found[0].decode().removeprefix("Bearer ")
        if token == "boom":
            # The real Authenticator fails closed this way (tests/test_middleware.py).
            raise internal_error(RuntimeError("bug in the core"))
        if token not in self.tokens:
            raise InvalidJWT("JWSError JWSInvalidSignature")
        return self.tokens[token]


def session(user: str = "1", valid_until: float | None = None) -> Session:
    return Session(
        {"x-hasura-role": "user", "x-hasura-user-id": user},
        expires_at=valid_until,
        valid_until=valid_until,
    )


def init(headers: dict[str, Any] | None = None, **extra: Any) -> str:
    frame: dict[str, Any] = {"type": "connection_init", **extra}
    if headers is not None:
        frame["payload"] = {"headers": headers}
    return json.dumps(frame)


class Socket:
    """A fake server and a recording app around one websocket connection."""

    def __init__(
        self,
        subprotocols: Sequence[str] = (TRANSPORT,),
        headers: Sequence[tuple[bytes, bytes]] = (),
        accept: str | None = "first",
    ) -> None:
        self.scope: Scope = {
            "type": "websocket",
            "path": "/graphql",
            "headers": list(headers),
            "subprotocols": list(subprotocols),
        }
        self.accept = subprotocols[0] if accept == "first" and subprotocols else accept
        self._inbox: deque[Message] = deque([{"type": "websocket.connect"}])
        self._arrived: anyio.Event | None = None
        self.sent: list[Message] = []
        self.seen: list[tuple[Message, Any]] = []
        self.closed = anyio.Event()
        self.app_sends_after_close: list[BaseException] = []

    def push(self, message: Message) -> None:
        self._inbox.append(message)
        if self._arrived is not None:
            self._arrived.set()

    def frame(self, data: str | bytes) -> None:
        key = "text" if isinstance(data, str) else "bytes"
        self.push({"type": "websocket.receive", key: data})

    def client_close(self, code: int = 1000) -> None:
        self.push({"type": "websocket.disconnect", "code": code})

    async def receive(self) -> Message:
        while not self._inbox:
            self._arrived = anyio.Event()
            await self._arrived.wait()
        return self._inbox.popleft()

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        if message["type"] == "websocket.close":
            self.closed.set()
            # ASGI: once the server has closed the connection, a pending receive returns
            # websocket.disconnect (uvicorn queues it at once, with the app's code).
            self.client_close(message.get("code", 1000))

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Accepts, then records every event with the session visible at that moment."""
        assert (await receive())["type"] == "websocket.connect"
        self.seen.append(({"type": "websocket.connect"}, scope.get("hasura_session")))
        await send({"type": "websocket.accept", "subprotocol": self.accept})
        while True:
            message = await receive()
            self.seen.append((message, scope.get("hasura_session")))
            if message["type"] == "websocket.disconnect":
                try:
                    await send({"type": "websocket.send", "text": "late"})
                except WebSocketClosedError as exc:
                    self.app_sends_after_close.append(exc)
                await send({"type": "websocket.close"})  # the app closing too is harmless
                return

    @property
    def close(self) -> Message:
        (close,) = [m for m in self.sent if m["type"] == "websocket.close"]
        return close

    @property
    def frames_sent(self) -> list[str]:
        return [m["text"] for m in self.sent if m["type"] == "websocket.send"]

    @property
    def app_frames(self) -> list[Any]:
        return [
            m.get("text", m.get("bytes")) for m, _ in self.seen if m["type"] == "websocket.receive"
        ]

    @property
    def app_disconnect(self) -> Message:
        return self.seen[-1][0]


async def run(socket: Socket, auth: WebSocketAuth, *, until_closed: bool = True) -> None:
    """Run the connection until the middleware closes it (or the app returns)."""
    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            tg.start_soon(auth, socket.scope, socket.receive, socket.send)
            if until_closed:
                await socket.closed.wait()
            else:
                tg.cancel_scope.cancel()


def guard(
    socket: Socket, tokens: dict[str, Session] | None = None, **options: Any
) -> tuple[WebSocketAuth, FakeAuthenticator]:
    authenticator = FakeAuthenticator(tokens if tokens is not None else {"good": session()})
    return make_auth(socket.app, authenticator, **options), authenticator


def settings(**options: Any) -> Settings:
    return Settings(jwt_secret={"type": "HS256", "key": HMAC_SECRET}, environ={}, **options)


def make_auth(app: ASGIApp, authenticator: FakeAuthenticator, **options: Any) -> WebSocketAuth:
    # The fake has the one method WebSocketAuth calls; the annotation names the real class.
    return WebSocketAuth(app, cast("Authenticator", authenticator), **options)


# --- GraphQL sockets: connection_init -------------------------------------------------------


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_init_success_sets_session_before_the_app_sees_the_init(protocol: str) -> None:
    socket = Socket([protocol])
    auth, authenticator = guard(socket)
    socket.frame(init({"Authorization": "Bearer good", "X-Hasura-Role": "user", "n": 3}))
    socket.frame('{"type":"subscribe","id":"1"}')
    socket.client_close(1000)
    with anyio.fail_after(2):
        await auth(socket.scope, socket.receive, socket.send)
    connect, first, second, disconnect = socket.seen
    assert connect[1] is None  # no session before init
    assert json.loads(first[0]["text"])["type"] == "connection_init"
    assert first[1]["x-hasura-user-id"] == "1"
    assert json.loads(second[0]["text"])["type"] == "subscribe"
    assert disconnect[0] == {"type": "websocket.disconnect", "code": 1000}
    # payload names lower-cased, non-string values dropped, payload before upgrade headers
    assert authenticator.calls == [
        [(b"authorization", b"Bearer good"), (b"x-hasura-role", b"user")]
    ]
    assert socket.close == {"type": "websocket.close"}  # the app's own, after the client left


async def test_upgrade_headers_follow_thepayload_headers() -> None:
    socket = Socket(headers=[(b"host", b"api"), (b"authorization", b"Bearer good")])
    auth, authenticator = guard(socket)
    socket.frame(init({"x-hasura-role": "user"}))
    socket.frame(init({"authorization": "Bearer good"}))  # second init: payload only
    socket.client_close(1000)
    with anyio.fail_after(2):
        await auth(socket.scope, socket.receive, socket.send)
    assert authenticator.calls == [
        [(b"x-hasura-role", b"user"), (b"host", b"api"), (b"authorization", b"Bearer good")],
        [(b"authorization", b"Bearer good")],
    ]
    assert len(socket.app_frames) == 2


async def test_token_in_payload_and_upgrade_request_is_multiple_jwts() -> None:
    socket = Socket([LEGACY], headers=[(b"authorization", b"Bearer good")])
    auth, _ = guard(socket)
    socket.frame(init({"Authorization": "Bearer good"}))
    await run(socket, auth)
    error = json.loads(socket.frames_sent[0])
    assert error == {
        "type": "connection_error",
        "payload": "Could not verify JWT: Multiple JWTs found",
    }


@pytest.mark.parametrize(
    ("protocol", "frames", "code", "reason"),
    [
        (TRANSPORT, [], 4403, FORBIDDEN),
        (
            LEGACY,
            [
                '{"type":"connection_error",'
                '"payload":"Could not verify JWT: JWSError JWSInvalidSignature"}'
            ],
            4400,
            '{"message":"4400: Connection initialization failed: '
            'Could not verify JWT: JWSError JWSInvalidSignature"}',
        ),
    ],
)
async def test_failed_init_closes_and_the_app_never_sees_it(
    protocol: str, frames: list[str], code: int, reason: str
) -> None:
    socket = Socket([protocol])
    auth, _ = guard(socket)
    socket.frame(init({"authorization": "Bearer forged"}))
    await run(socket, auth)
    assert socket.frames_sent == frames
    assert socket.close == {"type": "websocket.close", "code": code, "reason": reason}
    assert socket.app_frames == []
    assert socket.app_disconnect == {"type": "websocket.disconnect", "code": code, "reason": reason}
    assert "hasura_session" not in socket.scope
    assert socket.app_sends_after_close  # the app's late send raised an OSError


async def test_missing_token_uses_no_token_rule() -> None:
    socket = Socket([LEGACY])
    auth, _ = guard(socket)
    socket.frame('{"type":"connection_init"}')
    await run(socket, auth)
    assert json.loads(socket.frames_sent[0])["payload"].startswith("Missing 'Authorization'")


async def test_unexpected_error_fails_closed_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    socket = Socket([LEGACY])
    auth, _ = guard(socket)
    socket.frame(init({"authorization": "Bearer boom"}))
    with caplog.at_level(logging.ERROR):
        await run(socket, auth)
    assert json.loads(socket.frames_sent[0])["payload"] == "Could not verify JWT: internal error"
    assert socket.close["code"] == 4400
    assert any(record.exc_info for record in caplog.records)
    assert "Bearer boom" not in caplog.text


@pytest.mark.parametrize(
    "payload",
    [None, "headers", ["a"], {"headers": "x"}, {"headers": ["authorization", "Bearer good"]}],
)
async def test_payload_or_headers_that_are_not_objects_count_as_absent(payload: Any) -> None:
    socket = Socket(headers=[(b"authorization", b"Bearer good")])
    auth, authenticator = guard(socket)
    socket.frame(json.dumps({"type": "connection_init", "payload": payload}))
    await run(socket, auth, until_closed=False)
    assert authenticator.calls == [[(b"authorization", b"Bearer good")]]
    assert socket.scope["hasura_session"]["x-hasura-user-id"] == "1"


def test_payload_headers_drop_what_no_http_request_could_carry() -> None:
    headers = {
        "Authorization": "Bearer t",
        "x-number": 1,
        "x-null": None,
        "x-list": ["a"],
        "bad name": "v",
        "": "v",
        "x-crlf": "a\r\nb",
        "x-nul": "a\x00",
        "x-latin": "café",
        "x-euro": "5€",
        "x-lone": "\ud800",  # only a hand-built text frame can hold one
    }
    # UTF-8, as Hasura encodes payload text into headers (spec 2.2 reads them back as UTF-8).
    assert payload_headers({"headers": headers}) == [
        (b"authorization", b"Bearer t"),
        (b"x-latin", "café".encode()),
        (b"x-euro", "5€".encode()),
        (b"x-lone", b"\xed\xa0\x80"),
    ]


async def test_bytes_frames_are_read_like_text() -> None:
    socket = Socket()
    auth, _ = guard(socket)
    socket.frame(init({"authorization": "Bearer good"}).encode())
    await run(socket, auth, until_closed=False)
    assert socket.scope["hasura_session"] is not None
    assert socket.app_frames == [init({"authorization": "Bearer good"}).encode()]


# --- frames before init ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "operation", "code"),
    [
        (TRANSPORT, '{"type":"subscribe","id":"1","payload":{"query":"{a}"}}', 4401),
        (TRANSPORT, '{"type":"complete","id":"1"}', 4401),
        (LEGACY, '{"type":"start","id":"1","payload":{"query":"{a}"}}', 4400),
        (LEGACY, '{"type":"stop","id":"1"}', 4400),
    ],
)
async def test_operation_before_init_never_reaches_the_app(
    protocol: str, operation: str, code: int
) -> None:
    socket = Socket([protocol])
    auth, _ = guard(socket)
    socket.frame('{"type":"ping"}')
    socket.frame(operation)
    await run(socket, auth)
    assert socket.close == {"type": "websocket.close", "code": code, "reason": "Unauthorized"}
    assert socket.app_frames == ['{"type":"ping"}']
    assert socket.app_disconnect["code"] == code


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[]",
        '"connection_init"',
        '{"payload":{}}',
        '{"type":1}',
        '{"type":null}',
        '{"type":"connection_init","type":"connection_init"}',  # duplicate names
        '{"type":"ping","x":NaN}',
        b"\xff\xfe",
        "",
    ],
)
async def test_invalid_frames_before_init_close_4400(protocol: str, frame: str | bytes) -> None:
    socket = Socket([protocol])
    auth, _ = guard(socket)
    socket.frame(frame)
    await run(socket, auth)
    assert socket.close == {
        "type": "websocket.close",
        "code": 4400,
        "reason": "Invalid message received",
    }
    assert socket.app_frames == []


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_pings_and_pongs_pass_before_init(protocol: str) -> None:
    socket = Socket([protocol])
    auth, _ = guard(socket)
    socket.frame('{"type":"ping"}')
    socket.frame(b'{"type":"pong","payload":{}}')
    await run(socket, auth, until_closed=False)
    assert socket.app_frames == ['{"type":"ping"}', b'{"type":"pong","payload":{}}']
    assert socket.sent == [{"type": "websocket.accept", "subprotocol": protocol}]


async def test_oversized_frames() -> None:
    padding = "x" * 100
    big_init = init({"authorization": "Bearer good", "x-pad": padding})
    # before init: refused unparsed
    socket = Socket()
    auth, _ = guard(socket, max_init_bytes=100)
    socket.frame(big_init)
    await run(socket, auth)
    assert socket.close["code"] == 4400
    assert socket.close["reason"] == "Invalid message received: frame too large"
    # after init: a large operation passes, a large second init does not
    socket = Socket()
    auth, _ = guard(socket, max_init_bytes=100)
    socket.frame(init({"authorization": "Bearer good"}))
    big_operation = json.dumps(
        {"type": "subscribe", "id": "1", "payload": {"q": "\\u00e9" + padding}}
    )
    socket.frame(big_operation)
    socket.frame(big_init)
    await run(socket, auth)
    assert socket.close["reason"] == "Invalid message received: frame too large"
    assert socket.app_frames == [init({"authorization": "Bearer good"}), big_operation]


# --- after init -----------------------------------------------------------------------------


def deep_subscribe(depth: int = 40) -> str:
    """The issue's frame: json.dumps writes a \\u escape for any non-ASCII text, and GraphQL
    variables may nest deeper than the strict parser's 32 levels.
    """
    variables: Any = "é"
    for _ in range(depth):
        variables = [variables]
    operation = {"query": "subscription($v: JSON) { s(v: $v) }", "variables": {"v": variables}}
    return json.dumps({"type": "subscribe", "id": "1", "payload": operation})


DEEP_SUBSCRIBE = deep_subscribe()


async def test_frames_after_init_pass_untouched() -> None:
    socket = Socket([LEGACY])
    auth, authenticator = guard(socket)
    frames: list[str | bytes] = [
        init({"authorization": "Bearer good"}),
        "not json at all",
        '{"type":"start","id":"1","payload":{"query":"subscription { a }"}}',
        '{"type":"stop","id":"1"}',
        DEEP_SUBSCRIBE,
        '{"type":"x","q":"\\u00e9","n":NaN}',
        b"\x00\x01",
        '{"type":"connection_init","payload":{"headers":{"a":"\\ud800"}}}',  # lone surrogate
        # Read leniently this is a connection_init with another token; strictly it is not.
        '{"type":"connection_init","type":"connection_init","payload":{"headers":'
        '{"authorization":"Bearer other"}}}',
        '"connection_init"',
    ]
    for frame in frames:
        socket.frame(frame)
    socket.client_close(1000)
    with anyio.fail_after(2):
        await auth(socket.scope, socket.receive, socket.send)
    assert socket.app_frames == frames
    assert len(authenticator.calls) == 1  # none of them re-authenticated
    assert [seen[1]["x-hasura-user-id"] for seen in socket.seen[1:-1]] == ["1"] * len(frames)
    assert socket.close == {"type": "websocket.close"}  # the app's own, after the client left


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_the_deep_escaped_frame_before_init_closes_4400(protocol: str) -> None:
    socket = Socket([protocol])
    auth, _ = guard(socket)
    socket.frame(DEEP_SUBSCRIBE)
    await run(socket, auth)
    assert socket.close == {
        "type": "websocket.close",
        "code": 4400,
        "reason": "Invalid message received",
    }
    assert socket.app_frames == []


async def test_a_second_init_after_deep_frames_still_reauthenticates() -> None:
    later = session("2")
    socket = Socket()
    auth, authenticator = guard(socket, {"good": session(), "second": later})
    socket.frame(init({"authorization": "Bearer good"}))
    socket.frame(DEEP_SUBSCRIBE)
    socket.frame(init({"authorization": "Bearer second", "x-name": "josé"}))
    socket.frame(init({"authorization": "Bearer bad"}))
    await run(socket, auth)
    assert socket.app_frames == [
        init({"authorization": "Bearer good"}),
        DEEP_SUBSCRIBE,
        init({"authorization": "Bearer second", "x-name": "josé"}),
    ]
    assert socket.seen[3][1] is later
    assert authenticator.calls[1] == [
        (b"authorization", b"Bearer second"),
        (b"x-name", "josé".encode()),
    ]
    assert socket.close["code"] == 4403  # the failed third init


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('{"type":"subscribe"}', False),
        (b'{"type":"next"}', False),
        ('{"type":"connection_init"}', True),
        ('{"type":"connection\\u005finit"}', True),
        (b'{"t\\u0079pe":"x"}', True),
        ('{"type":"subscribe","payload":"\\u00e9"}', True),
        # UTF-16 never parses strictly, so it is never an init to authenticate
        pytest.param('{"type":"connection_init"}'.encode("utf-16-le"), False, id="utf-16"),
        ("\x00{", False),
    ],
)
def testmay_be_init(data: str | bytes, expected: bool) -> None:
    assert may_be_init(data) is expected


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_second_init_reauthenticates_with_its_payload_only(protocol: str) -> None:
    later = session("2", valid_until=time.time() + 60)
    socket = Socket([protocol], headers=[(b"authorization", b"Bearer first")])
    auth, _ = guard(socket, {"first": session("1"), "second": later})
    socket.frame(init())
    # escaped so that only a JSON parser sees the type: must still be recognised
    socket.frame(
        '{"type":"connection\\u005finit","payload":{"headers":{"authorization":"Bearer second"}}}'
    )
    socket.client_close(1000)
    with anyio.fail_after(2):
        await auth(socket.scope, socket.receive, socket.send)
    assert [s["x-hasura-user-id"] for _, s in socket.seen[1:3]] == ["1", "2"]
    assert socket.scope["hasura_session"] is later


@pytest.mark.parametrize(("protocol", "code"), [(TRANSPORT, 4403), (LEGACY, 4400)])
async def test_failed_second_init_closes(protocol: str, code: int) -> None:
    socket = Socket([protocol])
    auth, _ = guard(socket)
    socket.frame(init({"authorization": "Bearer good"}))
    socket.frame(init({"authorization": "Bearer bad"}))
    await run(socket, auth)
    assert socket.close["code"] == code
    assert len(socket.app_frames) == 1


async def test_accepted_subprotocol_decides_the_protocol() -> None:
    # the client offers legacy first, the app picks graphql-transport-ws: 4403, no error frame
    socket = Socket([LEGACY, TRANSPORT], accept=TRANSPORT)
    auth, _ = guard(socket)
    socket.frame(init({"authorization": "Bearer bad"}))
    await run(socket, auth)
    assert socket.frames_sent == []
    assert socket.close["code"] == 4403


@pytest.mark.parametrize(
    ("offered", "code"),
    [([LEGACY, TRANSPORT], 4400), ([TRANSPORT, LEGACY], 4403), (["chat", TRANSPORT], 4403)],
)
async def test_without_accepted_subprotocol_the_first_offer_counts(
    offered: list[str], code: int
) -> None:
    socket = Socket(offered, accept=None)
    auth, _ = guard(socket)
    socket.frame(init({"authorization": "Bearer bad"}))
    await run(socket, auth)
    assert socket.close["code"] == code


async def test_a_session_set_by_someone_else_is_removed() -> None:
    socket = Socket()
    socket.scope["hasura_session"] = session("forged")
    auth, _ = guard(socket)
    await run(socket, auth, until_closed=False)
    assert socket.seen[0][1] is None


# --- close reasons --------------------------------------------------------------------------


@pytest.mark.parametrize("message", ["short", "x" * 500, "é" * 200, '"\\' * 100, "\U0001f600" * 80])
def test_close_reason_fits_in_a_close_frame(message: str) -> None:
    reason = close_reason("4400: Connection initialization failed: ", message)
    assert len(reason.encode()) <= MAX_CLOSE_REASON_BYTES
    text = json.loads(reason)["message"]
    assert text.startswith("4400: Connection initialization failed: ")
    if message == "short":
        assert text.endswith("short")
    else:
        assert text.endswith("...")
        assert len(reason.encode()) > MAX_CLOSE_REASON_BYTES - 12


async def test_long_error_message_is_shortened_in_the_reason_only() -> None:
    message = "Could not verify JWT: " + "y" * 300

    class Failing(FakeAuthenticator):
        async def authenticate(self, headers: Sequence[tuple[bytes, bytes]]) -> Session:
            raise InvalidJWT("y" * 300)

    socket = Socket([LEGACY])
    auth = make_auth(socket.app, Failing())
    socket.frame(init())
    await run(socket, auth)
    assert json.loads(socket.frames_sent[0])["payload"] == message
    assert len(socket.close["reason"].encode()) <= MAX_CLOSE_REASON_BYTES


# --- plain websockets -----------------------------------------------------------------------


async def test_plain_websocket_is_authenticated_at_the_handshake() -> None:
    socket = Socket([], headers=[(b"authorization", b"Bearer good")])
    auth, authenticator = guard(socket)
    socket.frame("anything at all")
    await run(socket, auth, until_closed=False)
    assert socket.seen[0][1]["x-hasura-user-id"] == "1"  # before websocket.connect
    assert socket.app_frames == ["anything at all"]
    assert len(authenticator.calls) == 1


@pytest.mark.parametrize("subprotocols", [[], ["chat", "v2.chat"]])
async def test_plain_websocket_failure_is_refused_before_accept(subprotocols: list[str]) -> None:
    socket = Socket(subprotocols, headers=[(b"authorization", b"Bearer bad")])
    auth, _ = guard(socket)
    await run(socket, auth)
    # ASGI: a close before websocket.accept is answered with HTTP 403
    assert socket.sent == [{"type": "websocket.close", "code": 1008}]
    assert socket.seen == []


async def test_plain_websocket_without_expiry_gets_the_server_callables() -> None:
    socket = Socket([], headers=[(b"authorization", b"Bearer good")])
    received: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        received.append((receive, send))

    auth = make_auth(app, FakeAuthenticator({"good": session()}))
    await auth(socket.scope, socket.receive, socket.send)
    assert received == [(socket.receive, socket.send)]


# --- the Origin rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "trusted"),
    [
        (None, b"api.example.com", (), True),
        (b"https://api.example.com", b"api.example.com", (), True),
        (b"HTTPS://API.Example.com:443", b"api.example.com", (), True),
        (b"http://api.example.com:80", b"api.example.com", (), True),
        (b"http://localhost:8000", b"localhost:8000", (), True),
        (b"http://localhost:8001", b"localhost:8000", (), False),
        (b"https://evil.example", b"api.example.com", (), False),
        (b"null", b"api.example.com", (), False),
        (b"https://api.example.com/path", b"api.example.com", (), False),
        (b"https://app.example.com", b"api.example.com", ("https://app.example.com",), True),
        (b"https://app.example.com:443", b"api.example.com", ("https://APP.example.com",), True),
        (b"http://app.example.com", b"api.example.com", ("https://app.example.com",), False),
        (b"https://api.example.com", None, (), False),
    ],
)
def test_cookies_count_only_from_trusted_origins(
    origin: bytes | None, host: bytes | None, allowed: tuple[str, ...], trusted: bool
) -> None:
    headers = [(b"cookie", b"token=good"), (b"authorization", b"Bearer x")]
    if origin is not None:
        headers.append((b"origin", origin))
    if host is not None:
        headers.append((b"host", host))
    normalised = settings(allowed_origins=allowed).allowed_origins
    auth = make_auth(Socket().app, FakeAuthenticator(), allowed_origins=normalised)
    kept = auth.upgrade_headers({"headers": headers})
    assert ((b"cookie", b"token=good") in kept) is trusted
    assert (b"authorization", b"Bearer x") in kept


def test_two_origin_headers_are_cross_site() -> None:
    headers = [
        (b"cookie", b"t"),
        (b"origin", b"http://a"),
        (b"origin", b"http://a"),
        (b"host", b"a"),
    ]
    auth = make_auth(Socket().app, FakeAuthenticator())
    assert auth.upgrade_headers({"headers": headers}) == headers[1:]


@pytest.mark.parametrize("origin", ["*", "app.example.com", "https://app.example.com/", "null", ""])
def test_malformed_allowed_origin_is_a_config_error(origin: str) -> None:
    with pytest.raises(ConfigError, match="allowed_origins"):
        settings(allowed_origins=[origin])


async def test_cross_site_cookie_on_a_plain_websocket_is_refused() -> None:
    socket = Socket(
        [], headers=[(b"cookie", b"token=good"), (b"origin", b"https://evil"), (b"host", b"api")]
    )
    auth, _ = guard(socket)
    await run(socket, auth)
    assert socket.sent == [{"type": "websocket.close", "code": 1008}]


# --- expiry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY, None])
async def test_expiry_closes_with_4403_and_the_app_gets_a_disconnect(protocol: str | None) -> None:
    valid_until = time.time() + 0.2
    socket = Socket([protocol] if protocol else [], headers=[(b"authorization", b"Bearer soon")])
    auth, _ = guard(socket, {"soon": session(valid_until=valid_until)})
    if protocol:
        socket.frame(init())
    await run(socket, auth)
    closed_at = time.time()
    assert valid_until <= closed_at < valid_until + 0.1
    assert socket.close == {"type": "websocket.close", "code": 4403, "reason": EXPIRED}
    assert socket.app_disconnect == {
        "type": "websocket.disconnect",
        "code": 4403,
        "reason": EXPIRED,
    }
    assert socket.app_sends_after_close


async def test_expiry_while_the_app_is_not_receiving() -> None:
    valid_until = time.time() + 0.1
    socket = Socket([], headers=[(b"authorization", b"Bearer soon")])
    outcome: list[Any] = []

    async def busy_app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await anyio.sleep(0.3)  # not in receive when the token expires
        with pytest.raises(WebSocketClosedError, match="closed by asgi_hasura_jwt"):
            await send({"type": "websocket.send", "text": "data"})
        outcome.append(await receive())

    auth = make_auth(busy_app, FakeAuthenticator({"soon": session(valid_until=valid_until)}))
    with anyio.fail_after(2):
        await auth(socket.scope, socket.receive, socket.send)
    assert outcome == [{"type": "websocket.disconnect", "code": 4403, "reason": EXPIRED}]
    assert socket.close["code"] == 4403


async def test_no_expiry_close_after_the_app_closed_the_socket() -> None:
    valid_until = time.time() + 0.05
    socket = Socket([], headers=[(b"authorization", b"Bearer soon")])

    async def lingering_app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        await anyio.sleep(0.15)  # still running when the token expires

    auth = make_auth(lingering_app, FakeAuthenticator({"soon": session(valid_until=valid_until)}))
    with anyio.fail_after(2):
        await auth(socket.scope, socket.receive, socket.send)
    assert socket.sent[1:] == [{"type": "websocket.close", "code": 1000}]  # no second close


async def test_second_init_keeps_the_earlier_deadline() -> None:
    soon, later = time.time() + 0.2, time.time() + 60
    for first, second in [("soon", "later"), ("later", "soon"), ("forever", "soon")]:
        socket = Socket([TRANSPORT])
        tokens = {
            "soon": session(valid_until=soon),
            "later": session(valid_until=later),
            "forever": session(),
        }
        auth, _ = guard(socket, tokens)
        socket.frame(init({"authorization": f"Bearer {first}"}))
        socket.frame(init({"authorization": f"Bearer {second}"}))
        await run(socket, auth)
        assert soon <= time.time() < soon + 0.1
        assert socket.close["reason"] == EXPIRED


async def test_client_close_ends_the_connection_and_its_deadline() -> None:
    socket = Socket([TRANSPORT])
    auth, _ = guard(socket, {"good": session(valid_until=time.time() + 3600)})
    socket.frame(init({"authorization": "Bearer good"}))
    socket.client_close(1001)
    # With structured concurrency the connection cannot return while its expiry waiter lives:
    # returning promptly is the proof that the early close cancelled the deadline.
    with anyio.fail_after(1):
        await auth(socket.scope, socket.receive, socket.send)
    assert socket.app_disconnect == {"type": "websocket.disconnect", "code": 1001}
    assert socket.close == {"type": "websocket.close"}


async def test_app_errors_propagate_unwrapped() -> None:
    socket = Socket([], headers=[(b"authorization", b"Bearer good")])

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise KeyError("app bug")

    auth = make_auth(broken, FakeAuthenticator({"good": session(valid_until=time.time() + 60)}))
    with pytest.raises(KeyError, match="app bug"):
        await auth(socket.scope, socket.receive, socket.send)


async def test_client_gone_before_the_close_is_not_an_error() -> None:
    socket = Socket([LEGACY])

    async def gone(message: Message) -> None:
        if message["type"] != "websocket.accept":
            raise ConnectionResetError("client vanished")  # ASGI 2.4: an OSError

    auth, _ = guard(socket)
    socket.frame(init({"authorization": "Bearer bad"}))
    with anyio.fail_after(2):
        await auth(socket.scope, socket.receive, gone)
    assert socket.app_disconnect["code"] == 4400


# --- the deadline itself --------------------------------------------------------------------


async def test_deadline_moves_earlier_only() -> None:
    deadline = Deadline(time.time)  # no instant yet: sleeps until one is set
    start = time.time()
    async with anyio.create_task_group() as tg:
        tg.start_soon(deadline.wait)
        await anyio.sleep(0.05)
        deadline.move_earlier(start + 0.15)
        deadline.move_earlier(start + 10)  # ignored: later
    assert start + 0.15 <= time.time() < start + 0.25


async def test_deadline_rechecks_the_wall_clock_when_it_wakes() -> None:
    offset = 0.0

    def clock() -> float:
        return time.time() + offset

    deadline = Deadline(clock)
    start = clock()
    deadline.move_earlier(start + 0.1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(deadline.wait)
        await anyio.sleep(0.05)
        offset = -0.1  # the wall clock is stepped back: the token is valid for longer
    assert time.time() - start >= 0.19


async def test_deadline_in_the_past_returns_at_once() -> None:
    deadline = Deadline(time.time)
    deadline.move_earlier(time.time() - 1)
    with anyio.fail_after(0.1):
        await deadline.wait()
