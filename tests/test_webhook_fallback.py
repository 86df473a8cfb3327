"""The JWT-or-webhook chain: requests no config takes up go to a second, real webhook on
loopback, in the same mode; its 200 and 401 are relayed, anything else becomes a 401."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from asgi_hasura_jwt._auth import Authenticator
from asgi_hasura_jwt._config import parse_configs
from asgi_hasura_jwt._errors import AuthError
from asgi_hasura_jwt._keys import StaticKeys
from asgi_hasura_jwt.testing import SigningKey

from .servers import free_port, serve
from .webhook_helpers import CONFIG, MODES, NOW, ask, bearer, error, token, webhook

SESSION = b'{"X-Hasura-Role":"legacy","X-Hasura-User-Id":"old-7","Cache-Control":"max-age=5"}'


class Legacy:
    """The user's existing webhook: records what it is asked, answers as scripted."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.released = anyio.Event()  # a hanging answer waits for it
        self.script()

    def script(self, status: int = 200, body: bytes = SESSION, **options: Any) -> None:
        self.status = status
        self.body = body
        self.headers: list[tuple[bytes, bytes]] = options.get(
            "headers", [(b"set-cookie", b"legacy=1; HttpOnly")]
        )
        self.hang: bool = options.get("hang", False)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        self.requests.append((scope["method"], headers, json.loads(body) if body else None))
        if self.hang:
            await self.released.wait()
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


@pytest.mark.network
@pytest.mark.parametrize("mode", MODES)
async def test_requests_no_config_takes_up_are_relayed_to_the_fallback(mode: str) -> None:
    legacy = Legacy()
    other = SigningKey.hmac("the-other-issuers-hmac-secret-at-least-32-bytes")
    configs = [CONFIG, {**other.config, "issuer": "https://other.example"}]
    async with serve(legacy) as url, webhook(jwt_secret=configs, fallback_webhook=url) as client:
        unclaimed = [
            {"Authorization": "Bearer opaque-legacy-session", "X-Hasura-Admin-Secret": "s"},
            {"Authorization": "Basic dTpw"},
            {"Cookie": "session=abc"},
            bearer(token(iss="https://third.example")),
        ]
        answers = [await ask(client, mode, headers) for headers in unclaimed]
        ours = await ask(client, mode, bearer(token()))
        expired = await ask(client, mode, bearer(token(exp=NOW - 1)))
    for answer in answers:
        assert answer.status_code == 200
        assert answer.content == SESSION  # byte for byte: its own Cache-Control too
        assert answer.headers["set-cookie"] == "legacy=1; HttpOnly"  # Hasura forwards it
    assert ours.json()["X-Hasura-Role"] == "user"
    # A token a config took up and refused is refused for good: no second opinion.
    assert error(expired) == (401, "invalid-jwt", "Could not verify JWT: JWTExpired")
    assert len(legacy.requests) == len(unclaimed)
    method, headers, body = legacy.requests[0]
    assert method == mode
    if mode == "GET":
        assert headers["authorization"] == "Bearer opaque-legacy-session"
        assert "x-hasura-admin-secret" not in headers
    else:
        assert body == {
            "headers": {"Authorization": "Bearer opaque-legacy-session"},
            "request": {"query": "{ me { id } }", "variables": {}},
        }
    cookie = (
        legacy.requests[2][1]["cookie"]
        if mode == "GET"
        else legacy.requests[2][2]["headers"]["Cookie"]
    )
    assert cookie == "session=abc"


def fallback_failures() -> list[tuple[dict[str, Any], str]]:
    """(how the fallback misbehaves, our 401's message)."""
    prefix = "fallback webhook: "
    return [
        ({"status": 401, "body": b"no"}, prefix + "unauthorized this request"),
        ({"status": 500}, prefix + "answered HTTP 500, not 200 or 401"),
        (
            {"status": 302, "headers": [(b"location", b"/elsewhere")]},
            prefix + "answered HTTP 302, not 200 or 401",
        ),
        ({"status": 403}, prefix + "answered HTTP 403, not 200 or 401"),
        ({"body": b"<html>"}, prefix + "invalid response (not JSON: invalid JSON)"),
        ({"body": b'{"X-Hasura-User-Id": "1"}'}, prefix + "invalid response (no X-Hasura-Role)"),
        (
            {"body": b'{"X-Hasura-Role": 1}'},
            prefix + "invalid response (not a JSON object of strings)",
        ),
        (
            {"body": b'["x-hasura-role"]'},
            prefix + "invalid response (not a JSON object of strings)",
        ),
        ({"body": b" " * 70000}, prefix + "invalid response (body over 65536 bytes)"),
        (
            {"headers": [(b"content-encoding", b"gzip")]},
            prefix + "invalid response (compressed, though asked for identity)",
        ),
        ({"hang": True}, prefix + "no answer within 0.3 s"),
    ]


@pytest.mark.network
@pytest.mark.parametrize("mode", MODES)
async def test_anything_but_a_good_200_from_the_fallback_is_a_401(mode: str) -> None:
    legacy = Legacy()
    async with serve(legacy) as url, webhook(fallback_webhook=url, fallback_timeout=0.3) as client:
        for script, message in fallback_failures():
            legacy.script(**script)
            answer = await ask(client, mode, {"Authorization": "Bearer opaque"})
            assert error(answer) == (401, "access-denied", message), script
            assert "set-cookie" not in answer.headers
        legacy.released.set()


@pytest.mark.network
async def test_an_unreachable_fallback_is_a_401() -> None:
    async with webhook(fallback_webhook=f"http://127.0.0.1:{free_port()}/auth") as client:
        answer = await ask(client, "GET", {})
    assert error(answer) == (401, "access-denied", "fallback webhook: unreachable (ConnectError)")


def unclaimed_cases() -> list[tuple[str, list[dict[str, Any]], dict[str, str], bool]]:
    other = {**SigningKey.hmac("x" * 40).config, "issuer": "https://other.example"}
    return [
        ("no token", [CONFIG], {}, True),
        ("another scheme", [CONFIG], {"authorization": "Basic x"}, True),
        ("unreadable, one config", [CONFIG], {"authorization": "Bearer a.b"}, True),
        ("unreadable, two configs", [CONFIG, other], {"authorization": "Bearer a.b"}, True),
        ("another issuer", [CONFIG], bearer(token(iss="https://third.example")), True),
        (
            "two of our tokens",
            [CONFIG],
            {"authorization": f"Bearer {token()}", "Authorization": f"Bearer {token()}"},
            False,
        ),
        ("expired", [CONFIG], bearer(token(exp=NOW - 1)), False),
        ("role", [CONFIG], {**bearer(token()), "x-hasura-role": "admin"}, False),
    ]


@pytest.mark.parametrize(("case", "configs", "headers", "unclaimed"), unclaimed_cases())
async def test_which_failures_are_unclaimed(
    case: str, configs: list[dict[str, Any]], headers: dict[str, str], unclaimed: bool
) -> None:
    parsed = parse_configs(configs, {})
    authenticator = Authenticator(parsed, lambda config: StaticKeys(config.key), clock=lambda: NOW)  # type: ignore[arg-type]
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    with pytest.raises(AuthError) as raised:
        await authenticator.authenticate(raw)
    assert raised.value.unclaimed is unclaimed
