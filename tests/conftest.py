"""Shared test material: keys of every family, a token minter, an in-process ASGI client."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

HMAC_SECRET = "a-very-long-hmac-secret-of-at-least-64-bytes-for-hs512-signing!!"
NAMESPACE = "https://hasura.io/jwt/claims"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pem_public(private_key: Any) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class SigningKey:
    """A private key, the algorithm it signs with, and the matching Hasura config."""

    name: str
    alg: str
    jose_key: Any
    config: dict[str, Any]
    private: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def sign(self, signing_input: bytes, alg: str | None = None) -> bytes:
        algorithm = JWSRegistry.algorithms[alg or self.alg]
        return bytes(algorithm.sign(signing_input, self.jose_key))


_KEYS: dict[str, SigningKey] = {}


def _build_keys() -> dict[str, SigningKey]:
    if _KEYS:
        return _KEYS
    rsa_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec256 = ec.generate_private_key(ec.SECP256R1())
    ec384 = ec.generate_private_key(ec.SECP384R1())
    ec521 = ec.generate_private_key(ec.SECP521R1())
    ed = ed25519.Ed25519PrivateKey.generate()
    secret = HMAC_SECRET.encode()
    _KEYS.update(
        {
            "HS256": SigningKey(
                "HS256", "HS256", OctKey.import_key(secret), {"type": "HS256", "key": HMAC_SECRET}
            ),
            "RS256": SigningKey(
                "RS256",
                "RS256",
                RSAKey(rsa_private, rsa_private),
                {"type": "RS256", "key": pem_public(rsa_private)},
                rsa_private,
            ),
            "ES256": SigningKey(
                "ES256",
                "ES256",
                ECKey(ec256, ec256),
                {"type": "ES256", "key": pem_public(ec256)},
                ec256,
            ),
            "ES384": SigningKey(
                "ES384",
                "ES384",
                ECKey(ec384, ec384),
                {"type": "ES384", "key": pem_public(ec384)},
                ec384,
            ),
            "ES512": SigningKey(
                "ES512",
                "ES512",
                ECKey(ec521, ec521),
                {"type": "ES512", "key": pem_public(ec521)},
                ec521,
            ),
            "Ed25519": SigningKey(
                "Ed25519", "EdDSA", OKPKey(ed, ed), {"type": "Ed25519", "key": pem_public(ed)}, ed
            ),
        }
    )
    return _KEYS


@pytest.fixture(scope="session")
def keys() -> dict[str, SigningKey]:
    return _build_keys()


def hasura_claims(
    user_id: str = "user-1", roles: list[str] | None = None, default: str = "user", **extra: Any
) -> dict[str, Any]:
    return {
        "x-hasura-user-id": user_id,
        "x-hasura-default-role": default,
        "x-hasura-allowed-roles": roles if roles is not None else ["user", "editor"],
        **extra,
    }


def payload(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "iat": now - 5,
        "exp": now + 60,
        NAMESPACE: hasura_claims(),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def mint(
    key: SigningKey,
    claims: dict[str, Any] | bytes | None = None,
    *,
    header: dict[str, Any] | None = None,
    alg: str | None = None,
    raw_header: bytes | None = None,
) -> str:
    """A compact JWS; ``raw_header`` / bytes ``claims`` let tests craft malformed segments."""
    head = (
        raw_header
        if raw_header is not None
        else json.dumps({"alg": alg or key.alg, "typ": "JWT", **(header or {})}).encode()
    )
    body = (
        claims
        if isinstance(claims, bytes)
        else json.dumps(payload() if claims is None else claims).encode()
    )
    signing_input = f"{b64url(head)}.{b64url(body)}".encode()
    return f"{signing_input.decode()}.{b64url(key.sign(signing_input, alg))}"


@dataclass
class Result:
    status: int
    headers: dict[str, str]
    body: bytes
    scope: dict[str, Any] | None

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def session(self) -> Any:
        return None if self.scope is None else self.scope.get("hasura_session")

    def error(self) -> tuple[int, str, str]:
        """(status, code, message) of a Hasura error body."""
        body = self.json
        assert list(body) == ["errors"]
        (item,) = body["errors"]
        assert list(item) == ["message", "extensions"]
        assert item["extensions"]["path"] == "$"
        return self.status, item["extensions"]["code"], item["message"]


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The inner app: 200 with the session as JSON (the tests read the scope too)."""
    session = scope.get("hasura_session")
    body = json.dumps(dict(session) if session is not None else None).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def call(
    app: Callable[..., Any],
    headers: list[tuple[str, str]] | dict[str, str] | None = None,
    *,
    path: str = "/graphql",
    raw_headers: list[tuple[bytes, bytes]] | None = None,
) -> Result:
    """One in-process HTTP request through ``app`` (no network)."""
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    encoded = (
        raw_headers
        if raw_headers is not None
        else [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in items]
    )
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": encoded,
        "client": ("127.0.0.1", 1),
        "server": None,
    }
    seen: dict[str, Any] = {}
    messages: list[dict[str, Any]] = []

    async def inner(inner_scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.update(inner_scope)
        await echo_app(inner_scope, receive, send)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    target = app(inner) if getattr(app, "_is_middleware_factory", False) else app
    await target(scope, receive, send)
    start = messages[0]
    assert start["type"] == "http.response.start"
    body = b"".join(m.get("body", b"") for m in messages[1:])
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return Result(start["status"], response_headers, body, seen or None)


def middleware(**options: Any) -> Callable[..., Any]:
    """A factory that wraps the recording inner app of `call`; options go to the middleware."""
    from asgi_hasura_jwt import HasuraJWTMiddleware

    options.setdefault("environ", {})

    def factory(inner: Any) -> Any:
        return HasuraJWTMiddleware(inner, **options)

    factory._is_middleware_factory = True  # type: ignore[attr-defined]
    return factory
