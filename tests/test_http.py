"""Refused HTTP requests: the body is read and dropped (bounded) before the answer, and what an
``on_error`` app then receives. The same under real servers: tests/test_servers.py.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from asgi_hasura_jwt import AuthError, HasuraJWTMiddleware, _http
from asgi_hasura_jwt._http import MAX_DRAIN_BYTES

from .conftest import HMAC_SECRET, echo_app

HS = {"type": "HS256", "key": HMAC_SECRET}
SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "POST",
    "path": "/graphql",
    "headers": [(b"content-type", b"application/json")],
}


class Exchange:
    """A scripted client: ``incoming`` are the messages ``receive`` gives in turn; ``log``
    records every receive and send in order.
    """

    def __init__(self, incoming: list[dict[str, Any]]) -> None:
        self.incoming = incoming
        self.log: list[tuple[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        message = self.incoming.pop(0)
        self.log.append(("receive", message["type"]))
        return message

    async def send(self, message: dict[str, Any]) -> None:
        self.log.append(("send", message.get("status", message["type"])))

    async def run(self, **options: Any) -> None:
        app = HasuraJWTMiddleware(echo_app, jwt_secret=HS, environ={}, **options)
        await app(dict(SCOPE), self.receive, self.send)


def chunk(size: int, more: bool = True) -> dict[str, Any]:
    return {"type": "http.request", "body": b"x" * size, "more_body": more}


@pytest.mark.parametrize(("errors_as_200", "status"), [(False, 400), (True, 200)])
async def test_body_is_read_before_the_answer(errors_as_200: bool, status: int) -> None:
    exchange = Exchange([chunk(65536), chunk(65536), chunk(10, more=False)])
    await exchange.run(errors_as_200=errors_as_200)
    assert exchange.log == [
        *[("receive", "http.request")] * 3,
        ("send", status),
        ("send", "http.response.body"),
    ]
    assert exchange.incoming == []


async def test_empty_body_costs_one_receive() -> None:
    exchange = Exchange([{"type": "http.request"}])  # body and more_body are optional keys
    await exchange.run()
    assert exchange.log[0] == ("receive", "http.request")
    assert exchange.log[1] == ("send", 400)


async def test_reading_stops_at_the_bound_and_answers_anyway() -> None:
    step = MAX_DRAIN_BYTES // 4
    exchange = Exchange([chunk(step) for _ in range(6)])
    await exchange.run()
    assert [kind for kind, _ in exchange.log] == ["receive"] * 4 + ["send"] * 2
    assert len(exchange.incoming) == 2  # left for the server


async def test_client_gone_while_reading_gets_no_answer() -> None:
    seen: list[str] = []

    def on_error(scope: Any, error: AuthError) -> Any:
        seen.append(error.code)
        return None

    exchange = Exchange([chunk(100), {"type": "http.disconnect"}])
    await exchange.run(on_error=on_error)
    assert exchange.log == [("receive", "http.request"), ("receive", "http.disconnect")]
    assert seen == []


async def test_on_error_app_reads_an_empty_body() -> None:
    """The body is gone before the hook's app runs: reading it gives b"" at once, never a
    wait on the server; further calls are the server's own.
    """
    bodies: list[bytes] = []
    after: list[Any] = []

    async def answer(scope: Any, receive: Any, send: Any) -> None:
        bodies.append(await Request(scope, receive).body())
        after.append(await receive())
        await PlainTextResponse("denied", status_code=403)(scope, receive, send)

    exchange = Exchange([chunk(5), chunk(5, more=False), {"type": "http.disconnect"}])
    await exchange.run(on_error=lambda scope, error: answer)
    assert bodies == [b""]
    assert after == [{"type": "http.disconnect"}]
    assert exchange.log[-2:] == [("send", 403), ("send", "http.response.body")]


async def test_a_trickling_body_is_read_for_a_bounded_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # A client that declares a body and never finishes it still gets its answer.
    monkeypatch.setattr(_http, "MAX_DRAIN_SECONDS", 0.05)
    exchange = Exchange([chunk(10)])
    scripted = exchange.receive

    async def stalled() -> dict[str, Any]:
        if exchange.incoming:
            return await scripted()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    exchange.receive = stalled  # type: ignore[method-assign]
    with anyio.fail_after(5):
        await exchange.run()
    assert exchange.log == [
        ("receive", "http.request"),
        ("send", 400),
        ("send", "http.response.body"),
    ]
