"""The demo (examples/demo): ``make demo-check``'s flow in-process, its failure report, and the
console script serving the demo until Ctrl-C."""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from asgi_hasura_jwt._clerk import PENDING_MESSAGE
from asgi_hasura_jwt._token import parse_token
from asgi_hasura_jwt.testing import CLERK_CATEGORIES
from examples.demo import DemoError, serve_demo
from examples.demo.__main__ import main
from examples.demo.check import Check
from examples.demo.issuer import M2M_PATH, SESSION_PATH, TOKEN_PATH, DevIssuer

pytestmark = pytest.mark.network

SCRIPT = Path(sys.executable).with_name("asgi-hasura-jwt")
ROOT = Path(__file__).resolve().parent.parent


def test_demo_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    # The command `make demo-check` runs, with a shorter token lifetime; every step of the
    # check has its own timeout.
    code = main(["--check", "--lifetime", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("\nok    ") == 7
    assert "ok    subscription ticks, then is closed 4403 at expiry" in out
    assert re.search(r"demo check passed \(8 steps, [\d.]+ s\)", out)


async def test_demo_check_reports_the_failing_step() -> None:
    lines: list[str] = []
    async with serve_demo(lifetime=2) as demo:
        # An issuer nobody serves: the first step fails, and says why.
        passed = await Check(demo.app_url, "http://127.0.0.1:9", 2, lines.append).run()
    assert not passed
    assert lines == [lines[0]]
    assert lines[0].startswith("FAIL  JWKS served with Cache-Control: ConnectError: ")


async def test_demo_port_in_use() -> None:
    async with serve_demo() as demo:
        port = int(demo.app_url.rsplit(":", 1)[1])
        with pytest.raises(DemoError, match=f"127.0.0.1:{port} is in use: pass --port"):
            async with serve_demo(port=port):
                pass


def printed_url(pattern: str, printed: str) -> str:
    found = re.search(pattern, printed)
    assert found is not None, printed
    return found[1]


async def test_console_script_serves_until_interrupted() -> None:
    assert SCRIPT.exists(), "the console script is installed by `make` (pip install -e '.[dev]')"
    # Run from the checkout's root, as `make demo` runs it: the command becomes the demo.
    command = [str(SCRIPT), "demo", "--port", "0", "--lifetime", "30"]
    async with await anyio.open_process(command, cwd=ROOT) as process:
        assert process.stdout is not None
        printed = ""
        with anyio.fail_after(20):
            async for chunk in process.stdout:
                printed += chunk.decode()
                if "Ctrl-C stops the demo." in printed:
                    break
        # Follow the printed instructions: the page, a fresh token, the seed query.
        page = printed_url(r"Open (\S+) in a browser", printed)
        token_url = printed_url(r"curl -s -X POST '(\S+)'", printed)
        graphql_url = printed_url(r"curl -s (\S+) -H", printed)
        async with httpx.AsyncClient() as client:
            assert "Make query" in (await client.get(page)).text
            token = (await client.post(token_url)).text
            answer = await client.post(
                graphql_url,
                json={"query": "query { __typename }"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert answer.json() == {"data": {"__typename": "query_root"}}
        process.send_signal(signal.SIGINT)
        with anyio.fail_after(10):
            assert await process.wait() == 130
        assert process.stderr is not None
        errors = b"".join([chunk async for chunk in process.stderr])
        assert b"Traceback" not in errors


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://app.test", True), ("https://elsewhere.test", False), (None, False)],
)
async def test_issuer_token_endpoint_cors_and_azp(origin: str | None, allowed: bool) -> None:
    issuer = DevIssuer("http://issuer.test", ["http://app.test"], 60)
    transport = httpx.ASGITransport(app=issuer.app)
    headers = {"Origin": origin} if origin else {}
    async with httpx.AsyncClient(transport=transport, base_url=issuer.url) as client:
        response = await client.post(TOKEN_PATH, headers=headers)
        raw = await client.post(f"{TOKEN_PATH}?format=jwt&user_id=user_x")
    assert response.headers["cache-control"] == "no-store"
    # Only the demo's own pages may read tokens cross-origin; the azp names the asking page.
    assert response.headers.get("access-control-allow-origin") == (origin if allowed else None)
    claims = parse_token(response.json()["jwt"]).claims
    assert claims["azp"] == (origin if allowed else "http://app.test")
    assert raw.headers["content-type"].startswith("text/plain")
    assert parse_token(raw.text).claims["sub"] == "user_x"


USER = {"x-hasura-user-id": "user_demo", "x-hasura-role": "user"}
ORGANIZATION = {
    **USER,
    "x-hasura-org-id": "org_demo",
    "x-hasura-org-slug": "demo",
    "x-hasura-org-role": "org:admin",
}
NOT_TEMPLATE = (
    "invalid-jwt",
    "Could not verify JWT: JWTWrongCategory: not a Clerk JWT-template token",
)


def hasura_error(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"path": "$", "code": code}}]}


# Each kind the issuer mints, as the README shows it: (endpoint, sent as, status, answer).
KINDS = [
    (TOKEN_PATH, "bearer", 200, {"data": {"me": USER}}),
    (SESSION_PATH, "cookie", 200, {"data": {"me": USER}}),
    (f"{SESSION_PATH}?org=1", "cookie", 200, {"data": {"me": ORGANIZATION}}),
    (f"{SESSION_PATH}?pending=1", "cookie", 400, hasura_error("invalid-headers", PENDING_MESSAGE)),
    (M2M_PATH, "bearer", 400, hasura_error(*NOT_TEMPLATE)),
    # A session token where the template is expected: its cat names its kind.
    (SESSION_PATH, "bearer", 400, hasura_error(*NOT_TEMPLATE)),
]


async def test_every_clerk_token_kind_through_the_demo() -> None:
    # One demo for the table: each start generates an RSA key and fetches the JWKS.
    async with serve_demo(lifetime=30) as demo, httpx.AsyncClient() as client:
        for endpoint, sent_as, status, answer in KINDS:
            token = (await client.post(f"{demo.issuer.url}{endpoint}")).json()["jwt"]
            header = (
                {"Authorization": f"Bearer {token}"}
                if sent_as == "bearer"
                else {"Cookie": f"__session={token}"}
            )
            response = await client.post(
                f"{demo.app_url}/v1/graphql", json={"query": "{ me }"}, headers=header
            )
            assert (response.status_code, response.json()) == (status, answer), endpoint


async def test_issuer_tokens_of_every_kind() -> None:
    issuer = DevIssuer("http://issuer.test", ["http://app.test"], 45)
    transport = httpx.ASGITransport(app=issuer.app)
    async with httpx.AsyncClient(transport=transport, base_url=issuer.url) as client:
        minted = [
            parse_token((await client.post(path, params={"format": "jwt", **query})).text)
            for path, query in [
                (TOKEN_PATH, {}),
                (SESSION_PATH, {}),
                (SESSION_PATH, {"org": "1", "pending": "1"}),
                (M2M_PATH, {}),
            ]
        ]
    template, session, org_pending, machine = minted
    assert template.header["cat"] == CLERK_CATEGORIES["template"]
    assert session.header["cat"] == CLERK_CATEGORIES["session"]
    assert machine.header["cat"] == CLERK_CATEGORIES["machine"]
    assert {parsed.header["kid"] for parsed in minted} == {issuer.kid}
    assert list(session.claims) == [
        "azp",
        "exp",
        "fva",
        "iat",
        "iss",
        "jti",
        "nbf",
        "sid",
        "sts",
        "sub",
        "v",
    ]
    assert (session.claims["sts"], session.claims["v"]) == ("active", 2)
    assert session.claims["exp"] - session.claims["iat"] == 45
    assert session.claims["iat"] - session.claims["nbf"] == 10
    assert session.claims["sid"].startswith("sess_")
    assert org_pending.claims["sts"] == "pending"
    assert org_pending.claims["o"] == {"id": "org_demo", "slg": "demo", "rol": "admin"}
    assert machine.claims["sub"] == "mch_demo"
    assert machine.claims["jti"].startswith("mt_")
    assert "azp" not in machine.claims
