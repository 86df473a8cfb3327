"""Clerk's session webhooks → revocations: a pure-ASGI endpoint for Svix-signed events.

Clerk delivers webhooks through Svix: a POST whose body is ``{"type": …, "data": {…}}``,
signed in the ``svix-id``, ``svix-timestamp`` and ``svix-signature`` headers. Only a body whose
signature verifies, within Svix's five-minute timestamp tolerance, is read at all:

- ``session.revoked``, ``session.ended``, ``session.removed`` → ``revoke(sid=data.id)``;
- ``user.deleted`` → ``revoke(sub=data.id)``;
- any other event → 204, nothing revoked.

Answers: 200 for a revocation, 204 for an ignored event; 400 for a bad or stale signature, or
a signed body that is not a Clerk event; 405 for anything but POST; 413 for a body over
``max_body_bytes``. A ``revoke`` that raises is logged and answered 500: Svix retries non-2xx
deliveries, so a transient store failure is retried rather than lost. Revoking twice is
harmless, which is why a retried or replayed delivery needs no bookkeeping.

This module alone imports ``svix`` (the ``[clerk]`` extra).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from svix.webhooks import Webhook, WebhookVerificationError

from ._errors import ConfigError
from ._options import DEFAULT_WEBHOOK_BODY_BYTES, count
from ._types import Receive, Scope, Send

if TYPE_CHECKING:
    from .clerk import Revoker

logger = logging.getLogger("asgi_hasura_jwt.clerk")

SESSION_EVENTS = frozenset({"session.revoked", "session.ended", "session.removed"})
USER_EVENTS = frozenset({"user.deleted"})
SVIX_HEADERS = frozenset({b"svix-id", b"svix-timestamp", b"svix-signature"})


class EventsApp:
    """The ASGI endpoint `asgi_hasura_jwt.clerk.events_app` builds; see the module docstring."""

    def __init__(
        self,
        target: Revoker,
        *,
        signing_secret: str,
        max_body_bytes: int = DEFAULT_WEBHOOK_BODY_BYTES,
    ) -> None:
        if not callable(getattr(target, "revoke", None)):
            raise ConfigError(
                "target: expected an object with an async revoke(*, sub=None, sid=None) method,"
                f" got {type(target).__name__}"
            )
        self._target = target
        self._webhook = _webhook(signing_secret)
        self._max_body_bytes = count("max_body_bytes", max_body_bytes, positive=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # HTTP 403 before accept
        elif scope["method"] != "POST":
            await _answer(send, 405, "method not allowed: Clerk webhooks are POSTed", POST_ONLY)
        else:
            try:
                body = await _read_body(receive, self._max_body_bytes)
            except _Disconnected:
                return  # nobody to answer, and a partial body is never acted on
            if body is None:
                await _answer(send, 413, f"body larger than {self._max_body_bytes} bytes")
                return
            status, message = await self._handle(scope["headers"], body)
            await _answer(send, status, message)

    async def _handle(
        self, scope_headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[int, str | None]:
        headers: dict[str, str] = {}
        for name, value in scope_headers:
            if name in SVIX_HEADERS:
                if name.decode() in headers:
                    # Which of two signatures would be checked is the parser's choice: refuse.
                    return 400, f"invalid signature: repeated {name.decode()} header"
                headers[name.decode()] = value.decode("latin-1")
        try:
            text = body.decode("utf-8")
            self._webhook.verify(text, headers)
        except WebhookVerificationError as exc:
            return 400, f"invalid signature: {exc}"
        except ValueError:
            # Not UTF-8, or malformed signature or timestamp values (svix raises ValueError,
            # binascii.Error) rather than a verification error.
            return 400, "invalid signature: malformed svix headers or body"
        event = _event(text)
        if isinstance(event, str):
            return 400, event
        kind, subject = event
        if subject is None:
            return 204, None
        try:
            if kind in USER_EVENTS:
                await self._target.revoke(sub=subject)
            else:
                await self._target.revoke(sid=subject)
        except Exception:
            logger.exception("revoking after Clerk's %s event failed; Svix will retry", kind)
            return 500, "revocation failed; retry later"
        return 200, None


def _webhook(signing_secret: Any) -> Webhook:
    # The secret never appears in a message: only what is wrong with it.
    if not isinstance(signing_secret, str) or not signing_secret.startswith("whsec_"):
        raise ConfigError(
            "signing_secret: expected the endpoint's Svix signing secret, a string starting"
            " with 'whsec_'"
        )
    try:
        return Webhook(signing_secret)
    except Exception as exc:  # binascii.Error; for an empty key svix's own, which varies by version
        raise ConfigError("signing_secret: 'whsec_' is not followed by base64 key bytes") from exc


def _event(text: str) -> tuple[str, str | None] | str:
    """(event type, the id to revoke or ``None`` to ignore it), or why the body is not a Clerk
    event."""
    try:
        event = json.loads(text)
    except ValueError:
        return "signed body is not JSON"
    kind = event.get("type") if isinstance(event, dict) else None
    if not isinstance(kind, str):
        return "signed body is not a Clerk event: no string 'type'"
    if kind not in SESSION_EVENTS and kind not in USER_EVENTS:
        return kind, None
    data = event.get("data")
    subject = data.get("id") if isinstance(data, dict) else None
    if not isinstance(subject, str) or not subject:
        return f"{kind} event without a string data.id"
    return kind, subject


class _Disconnected(Exception):
    """The client left before its body was complete."""


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or ``None`` once it passes ``limit`` bytes (not read further)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


POST_ONLY = ((b"allow", b"POST"),)


async def _answer(
    send: Send, status: int, message: str | None, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = b"" if message is None else json.dumps({"error": message}).encode()
    head = list(headers)
    if body:
        head += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    # Served at the top of a server the endpoint has nothing to start or stop.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
