"""The middleware under every server users run it in, each a real process on 127.0.0.1 serving
`tests.server_app`, called with real clients (httpx, `websockets`).

Per server: a valid token, no token, a tampered token (exact bodies), a refused request with a
large body followed by a valid one on the same connection, and a graphql-transport-ws socket
closed with 4403 at its token's expiry. Under hypercorn's HTTP/2 over TLS: concurrent streams on
one connection, one of them refused with a large body.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from .conftest import HMAC_SECRET, SigningKey
from .servers import free_port, spawn
from .test_websocket_server import EXPIRED, TRANSPORT, client, closed, init, token

pytestmark = pytest.mark.network

APP = "tests.server_app:app"
ENV = {"HASURA_GRAPHQL_JWT_SECRET": json.dumps({"type": "HS256", "key": HMAC_SECRET})}
BIG = b"x" * (256 * 1024)
USER = {"x-hasura-user-id": "user-1", "x-hasura-role": "user"}
MISSING = (
    b'{"errors":[{"message":"Missing \'Authorization\' or \'Cookie\' header in JWT '
    b'authentication mode","extensions":{"path":"$","code":"invalid-headers"}}]}'
)
TAMPERED = (
    b'{"errors":[{"message":"Could not verify JWT: JWSError JWSInvalidSignature",'
    b'"extensions":{"path":"$","code":"invalid-jwt"}}]}'
)


def command(name: str, port: int, tls: Path) -> list[str]:
    """The command line that serves `APP` on 127.0.0.1:``port`` under server ``name``."""
    host, where = ["--host", "127.0.0.1", "--port", str(port)], f"127.0.0.1:{port}"
    uvicorn = ["uvicorn", APP, *host, "--log-level", "warning", "--lifespan", "on"]
    hypercorn = ["hypercorn", APP, "--bind", where, "--log-level", "warning"]
    certificate = ["--certfile", str(tls / "cert.pem"), "--keyfile", str(tls / "key.pem")]
    granian = ["granian", "--interface", "asgi", "--http", "1", "--log-level", "warning"]
    arguments = {
        "uvicorn-h11-wsproto": [*uvicorn, "--http", "h11", "--ws", "wsproto"],
        "uvicorn-httptools-websockets": [*uvicorn, "--http", "httptools", "--ws", "websockets"],
        "hypercorn-h1": hypercorn,
        "hypercorn-h2-tls": [*hypercorn, *certificate],
        "daphne": ["daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0", APP],
        "granian": [*granian, *host, APP],
    }[name]
    return [sys.executable, "-m", *arguments]


HTTP1 = ["uvicorn-h11-wsproto", "uvicorn-httptools-websockets", "hypercorn-h1", "daphne", "granian"]
H2 = "hypercorn-h2-tls"


@dataclass
class Server:
    name: str
    base: str
    verify: ssl.SSLContext | bool

    def http(self, **options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base, verify=self.verify, trust_env=False, timeout=10, **options
        )


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A self-signed loopback certificate (trustme's throwaway CA) and a client that trusts it."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    folder = tmp_path_factory.mktemp("tls")
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    for index, pem in enumerate(cert.cert_chain_pems):
        pem.write_to_path(str(folder / "cert.pem"), append=index > 0)
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return folder, context


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tls: tuple[Path, ssl.SSLContext]) -> Iterator[Server]:
    name: str = request.param
    port = free_port()
    scheme, verify = ("https", tls[1]) if name == H2 else ("http", True)
    base = f"{scheme}://127.0.0.1:{port}"
    with spawn(command(name, port, tls[0]), f"{base}/health", env=ENV, verify=verify):
        yield Server(name, base, verify)


def local_address(response: httpx.Response) -> Any:
    """The client side of the connection that carried ``response``."""
    return response.extensions["network_stream"].get_extra_info("client_addr")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def tampered(keys: dict[str, SigningKey]) -> str:
    good = token(keys)
    return good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")


@pytest.mark.parametrize("server", [*HTTP1, H2], indirect=True, scope="module")
async def test_tokens(server: Server, keys: dict[str, SigningKey]) -> None:
    async with server.http(http2=server.name == H2) as http:
        ok = await http.post("/graphql", headers=bearer(token(keys)), content=b"{}")
        assert ok.status_code == 200
        assert ok.json()["session"] == USER
        assert ok.http_version == ("HTTP/2" if server.name == H2 else "HTTP/1.1")

        missing = await http.post("/graphql", content=b"{}")
        assert (missing.status_code, missing.content) == (400, MISSING)
        assert missing.headers["content-type"] == "application/json"

        forged = await http.post("/graphql", headers=bearer(tampered(keys)), content=b"{}")
        assert (forged.status_code, forged.content) == (400, TAMPERED)


@pytest.mark.parametrize("server", HTTP1, indirect=True, scope="module")
async def test_refused_body_keeps_the_connection(
    server: Server, keys: dict[str, SigningKey]
) -> None:
    """The refused request's body is read before the answer, so the keep-alive connection
    serves the next request; the app sees the same client port before and after.
    """
    async with server.http() as http:
        before = await http.post("/graphql", headers=bearer(token(keys)))
        refused = await http.post("/graphql", content=BIG)
        assert (refused.status_code, refused.content) == (400, MISSING)
        after = await http.post("/graphql", headers=bearer(token(keys)), content=b"{}")
        assert after.status_code == 200
        assert after.json()["session"] == USER
        # Read while the connection is open: a closed one has no address to report.
        assert local_address(before) == local_address(refused) == local_address(after)
    assert before.json()["client"] == after.json()["client"]


@pytest.mark.parametrize("server", [H2], indirect=True, scope="module")
async def test_http2_refused_stream_spares_the_others(
    server: Server, keys: dict[str, SigningKey]
) -> None:
    """Concurrent streams on one HTTP/2 connection, one refused with a large body: the others
    (large bodies too, so their DATA interleaves) succeed, and the connection lives on.
    """
    good = bearer(token(keys))
    async with server.http(http2=True) as http:
        first = await http.post("/graphql", headers=good)
        answers = await asyncio.gather(
            http.post("/graphql", content=BIG),
            *(http.post("/graphql", headers=good, content=BIG) for _ in range(4)),
        )
        after = await http.post("/graphql", headers=good)
    refused, *served = answers
    assert (refused.status_code, refused.content) == (400, MISSING)
    for response in [*served, after]:
        assert response.status_code == 200
        assert response.http_version == "HTTP/2"
        assert response.json()["session"] == USER
        assert response.json()["client"] == first.json()["client"]
    assert [r.json()["body_bytes"] for r in served] == [len(BIG)] * 4


@pytest.mark.parametrize("server", HTTP1, indirect=True, scope="module")
async def test_websocket_closed_at_expiry(server: Server, keys: dict[str, SigningKey]) -> None:
    exp = time.time() + 2
    url = server.base.replace("http://", "ws://") + "/graphql"
    async with client(url, TRANSPORT) as ws:
        assert ws.subprotocol == TRANSPORT
        await ws.send(init(token(keys, exp=exp)))
        assert json.loads(await ws.recv()) == {"type": "connection_ack", "payload": USER}
        code, reason, arrived = await closed(ws)
    assert code == 4403
    # Daphne (autobahn) sends the close code without the reason the app gave.
    assert reason == ("" if server.name == "daphne" else EXPIRED)
    assert exp <= arrived < exp + 1
