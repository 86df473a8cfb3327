"""`asgi_hasura_jwt.clerk.events_app`: Clerk's Svix-signed webhooks → ``revoke``.

Every delivery is signed with svix's own ``Webhook.sign`` (real signatures); requests go
through httpx in process, and once through uvicorn on loopback.
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from svix.webhooks import Webhook

from asgi_hasura_jwt import ConfigError
from asgi_hasura_jwt.clerk import Revoker, events_app

from .servers import serve

SECRET = "whsec_" + base64.b64encode(b"clerk-webhook-test-key-32-bytes!").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-endpoint-key-of-32-bytes").decode()
SESSION = "sess_2abcDEFghiJKLmnoPQRstuVWxyz"
USER = "user_2abcDEFghiJKLmnoPQRstuVWxyz"


class Recorder:
    """A `Revoker` that remembers what it was asked to revoke; ``fail`` makes it raise."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[dict[str, str | None]] = []
        self.fail = fail

    async def revoke(self, *, sub: str | None = None, sid: str | None = None) -> None:
        if self.fail:
            raise ConnectionError("the revocation store is down")
        self.calls.append({"sub": sub, "sid": sid})


def event(kind: str, **data: Any) -> bytes:
    """A Clerk event body (Clerk's shape: object, type, data, timestamp)."""
    return json.dumps(
        {"object": "event", "type": kind, "data": data, "timestamp": 1_700_000_000_000}
    ).encode()


def session_event(kind: str = "session.revoked") -> bytes:
    return event(kind, id=SESSION, object="session", status="revoked", user_id=USER)


def signed(
    body: bytes, *, secret: str = SECRET, at: datetime | None = None, msg_id: str = "msg_1"
) -> dict[str, str]:
    """The headers Svix sends with ``body``, signed with ``secret`` at ``at`` (default now)."""
    at = at or datetime.now(tz=timezone.utc)
    return {
        "svix-id": msg_id,
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": Webhook(secret).sign(msg_id, at, body.decode()),
        "content-type": "application/json",
    }


async def post(
    target: Revoker, body: bytes, headers: dict[str, str], method: str = "POST", **options: Any
) -> httpx.Response:
    app = events_app(target, signing_secret=SECRET, **options)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        return await client.request(method, "/webhooks/clerk", content=body, headers=headers)


def error(response: httpx.Response) -> str:
    message: str = response.json()["error"]
    return message


# --- the events ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["session.revoked", "session.ended", "session.removed"])
async def test_session_events_revoke_the_session(kind: str) -> None:
    recorder = Recorder()
    body = session_event(kind)
    response = await post(recorder, body, signed(body))
    assert (response.status_code, response.content) == (200, b"")
    assert recorder.calls == [{"sub": None, "sid": SESSION}]


async def test_user_deleted_revokes_the_user() -> None:
    recorder = Recorder()
    body = event("user.deleted", id=USER, object="user", deleted=True)
    response = await post(recorder, body, signed(body))
    assert response.status_code == 200
    assert recorder.calls == [{"sub": USER, "sid": None}]


@pytest.mark.parametrize("kind", ["session.created", "user.created", "user.updated", "email.x"])
async def test_other_events_are_204_and_revoke_nothing(kind: str) -> None:
    recorder = Recorder()
    body = event(kind, id=USER)
    response = await post(recorder, body, signed(body))
    assert (response.status_code, response.content) == (204, b"")
    assert recorder.calls == []


# --- signatures: only a good, fresh one is read ----------------------------------------------


def tampered(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body.replace(SESSION.encode(), b"sess_someone_else"), signed(body)


def stale(body: bytes) -> tuple[bytes, dict[str, str]]:
    # Svix's tolerance is five minutes either way: a captured delivery cannot be replayed later.
    return body, signed(body, at=datetime.now(tz=timezone.utc) - timedelta(minutes=6))


def future(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, signed(body, at=datetime.now(tz=timezone.utc) + timedelta(minutes=6))


def without(name: str) -> Any:
    def build(body: bytes) -> tuple[bytes, dict[str, str]]:
        headers = signed(body)
        del headers[name]
        return body, headers

    return build


def with_header(name: str, value: str) -> Any:
    def build(body: bytes) -> tuple[bytes, dict[str, str]]:
        return body, {**signed(body), name: value}

    return build


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (tampered, "invalid signature: No matching signature found"),
        (
            lambda b: (b, signed(b, secret=OTHER_SECRET)),
            "invalid signature: No matching signature found",
        ),
        (
            lambda b: (b, signed(b, msg_id="msg_2") | {"svix-id": "msg_1"}),
            "invalid signature: No matching signature found",
        ),
        (stale, "invalid signature: Message timestamp too old"),
        (future, "invalid signature: Message timestamp too new"),
        (without("svix-id"), "invalid signature: Missing required headers"),
        (without("svix-timestamp"), "invalid signature: Missing required headers"),
        (without("svix-signature"), "invalid signature: Missing required headers"),
        (
            with_header("svix-timestamp", "yesterday"),
            "invalid signature: Invalid Signature Headers",
        ),
        (with_header("svix-signature", "v1"), "invalid signature: malformed svix headers or body"),
        (
            with_header("svix-signature", "v1,AAA"),  # bad base64 padding
            "invalid signature: malformed svix headers or body",
        ),
        (
            with_header("svix-signature", "v2,AAAA"),
            "invalid signature: No matching signature found",
        ),
    ],
)
async def test_a_bad_or_stale_signature_is_400_and_revokes_nothing(
    build: Any, message: str
) -> None:
    recorder = Recorder()
    body, headers = build(session_event())
    response = await post(recorder, body, headers)
    assert (response.status_code, error(response)) == (400, message)
    assert recorder.calls == []


async def test_several_signatures_one_good_verifies() -> None:
    # Svix sends one signature per active secret while a secret is rotated.
    recorder = Recorder()
    body = session_event()
    headers = signed(body)
    wrong = signed(body, secret=OTHER_SECRET)["svix-signature"]
    headers["svix-signature"] = f"{wrong} {headers['svix-signature']}"
    assert (await post(recorder, body, headers)).status_code == 200
    assert recorder.calls == [{"sub": None, "sid": SESSION}]


async def test_a_repeated_svix_header_is_refused() -> None:
    body = session_event()
    good = signed(body)
    raw = [(name.encode(), value.encode()) for name, value in good.items()]
    raw.append((b"svix-signature", signed(body, secret=OTHER_SECRET)["svix-signature"].encode()))
    recorder = Recorder()
    app = events_app(recorder, signing_secret=SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        response = await client.post("http://app/", content=body, headers=raw)
    assert response.status_code == 400
    assert error(response) == "invalid signature: repeated svix-signature header"
    assert recorder.calls == []


# --- signed, but not a Clerk event -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "signed body is not JSON"),
        (b'{"type": "session.revoked", "data": {"id": NaN', "signed body is not JSON"),
        (b"[]", "signed body is not a Clerk event: no string 'type'"),
        (b'{"type": 3}', "signed body is not a Clerk event: no string 'type'"),
        (b'{"type": "session.revoked"}', "session.revoked event without a string data.id"),
        (b'{"type": "session.ended", "data": []}', "session.ended event without a string data.id"),
        (
            b'{"type": "user.deleted", "data": {"id": 7}}',
            "user.deleted event without a string data.id",
        ),
        (
            b'{"type": "session.removed", "data": {"id": ""}}',
            "session.removed event without a string data.id",
        ),
    ],
)
async def test_a_signed_body_that_is_not_a_clerk_event_is_400(body: bytes, message: str) -> None:
    recorder = Recorder()
    response = await post(recorder, body, signed(body))
    assert (response.status_code, error(response)) == (400, message)
    assert recorder.calls == []


async def test_a_body_that_is_not_utf8_is_400() -> None:
    body = b'{"type": "session.revoked", "x": "\xff"}'
    headers = signed(session_event())
    response = await post(Recorder(), body, headers)
    assert (response.status_code, error(response)) == (
        400,
        "invalid signature: malformed svix headers or body",
    )


# --- HTTP: method, size, failures ------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_only_post(method: str) -> None:
    recorder = Recorder()
    body = session_event()
    response = await post(recorder, body, signed(body), method=method)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert error(response) == "method not allowed: Clerk webhooks are POSTed"
    assert recorder.calls == []


async def test_a_body_over_the_limit_is_413_unread() -> None:
    recorder = Recorder()
    body = event("session.revoked", id=SESSION, padding="x" * 2000)
    response = await post(recorder, body, signed(body), max_body_bytes=1000)
    assert (response.status_code, error(response)) == (413, "body larger than 1000 bytes")
    assert recorder.calls == []


async def test_a_revoke_that_raises_is_500_so_svix_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = session_event()
    with caplog.at_level(logging.ERROR, logger="asgi_hasura_jwt.clerk"):
        response = await post(Recorder(fail=True), body, signed(body))
    assert (response.status_code, error(response)) == (500, "revocation failed; retry later")
    (record,) = caplog.records
    assert (
        record.getMessage()
        == "revoking after Clerk's session.revoked event failed; Svix will retry"
    )
    assert record.exc_info is not None
    assert record.exc_info[0] is ConnectionError
    assert SECRET.removeprefix("whsec_") not in caplog.text


async def test_a_chunked_body_and_an_early_disconnect() -> None:
    recorder = Recorder()
    app = events_app(recorder, signing_secret=SECRET)
    body = session_event()
    headers = [(k.encode(), v.encode()) for k, v in signed(body).items()]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}

    async def run(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent

    half = len(body) // 2
    chunks = [
        {"type": "http.request", "body": body[:half], "more_body": True},
        {"type": "http.request", "body": body[half:]},
    ]
    assert (await run(list(chunks)))[0]["status"] == 200
    # The client left halfway: nobody to answer, and half a body revokes nothing.
    assert await run([chunks[0], {"type": "http.disconnect"}]) == []
    assert recorder.calls == [{"sub": None, "sid": SESSION}]


async def test_lifespan_and_websocket_scopes() -> None:
    app = events_app(Recorder(), signing_secret=SECRET)
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    await app({"type": "websocket", "path": "/", "headers": []}, receive, send)
    assert sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
        {"type": "websocket.close", "code": 1008},  # refused before accept: HTTP 403
    ]


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"signing_secret": "sk_live_123"}, "signing_secret: expected the endpoint's Svix signing"),
        ({"signing_secret": None}, "signing_secret: expected the endpoint's Svix signing secret"),
        ({"signing_secret": "whsec_"}, "signing_secret: 'whsec_' is not followed by base64"),
        ({"signing_secret": "whsec_a"}, "signing_secret: 'whsec_' is not followed by base64"),
        ({"max_body_bytes": 0}, "max_body_bytes: must be greater than 0"),
        ({"max_body_bytes": "1MB"}, "max_body_bytes: expected an integer, got str"),
    ],
)
def test_config_errors_name_the_option(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        events_app(Recorder(), **{"signing_secret": SECRET, **options})
    assert "sk_live_123" not in str(raised.value)


def test_a_target_without_revoke_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"target: expected an object with an async revoke\("):
        events_app(object(), signing_secret=SECRET)  # type: ignore[arg-type]


def test_the_package_and_clerk_import_without_svix() -> None:
    # svix is imported when events_app is called, never by the package or asgi_hasura_jwt.clerk.
    code = (
        "import sys; sys.modules['svix'] = None; sys.modules['svix.webhooks'] = None\n"
        "import asgi_hasura_jwt, asgi_hasura_jwt.clerk\n"
        "try:\n"
        "    asgi_hasura_jwt.clerk.events_app(object(), signing_secret='whsec_x')\n"
        "except ImportError:\n"
        "    print('svix needed only here')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout == "svix needed only here\n", result.stderr


# --- a real server ---------------------------------------------------------------------------


@pytest.mark.network
async def test_under_uvicorn_at_any_mount_path() -> None:
    recorder = Recorder()
    app = events_app(recorder, signing_secret=SECRET)
    async with serve(app, lifespan="on") as base, httpx.AsyncClient(base_url=base) as client:
        body = session_event()
        good = await client.post("/hooks/clerk/v1", content=body, headers=signed(body))
        user = event("user.deleted", id=USER, deleted=True)
        deleted = await client.post("/", content=user, headers=signed(user, msg_id="msg_2"))
        forged = await client.post("/", content=body, headers=signed(body, secret=OTHER_SECRET))
        get = await client.get("/hooks/clerk/v1")
    assert [r.status_code for r in (good, deleted, forged, get)] == [200, 200, 400, 405]
    assert recorder.calls == [{"sub": None, "sid": SESSION}, {"sub": USER, "sid": None}]
