"""The two GraphQL websocket protocols: which one a socket speaks, and how each refuses a
client — the close codes and reasons of spec 5.

``graphql-transport-ws`` is the graphql-ws library's protocol (its PROTOCOL.md gives the codes);
``graphql-ws`` is Apollo's legacy subscriptions-transport-ws, whose failed init Hasura reports in
a ``connection_error`` frame.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .._types import Scope

# RFC 6455 section 5.5: a control frame carries at most 125 bytes, two of them the close code.
MAX_CLOSE_REASON_BYTES = 123

INVALID_MESSAGE = "Invalid message received"
FRAME_TOO_LARGE = "Invalid message received: frame too large"
EXPIRED_REASON = '{"message":"4403: Forbidden: JWT expired"}'
REVOKED_REASON = '{"message":"4403: Forbidden: session revoked"}'
FORBIDDEN_REASON = '{"message":"4403: Forbidden"}'
INIT_FAILED_PREFIX = "4400: Connection initialization failed: "


@dataclass(frozen=True)
class Protocol:
    """How a GraphQL websocket protocol refuses a client; everything else is shared."""

    # Close for an operation sent before a successful init.
    unauthorized: tuple[int, str]
    # The legacy protocol reports a failed init in a connection_error frame and in the reason.
    reports_init_error: bool

    def init_failure(self, message: str) -> tuple[str | None, int, str]:
        """The error frame to send (or ``None``), close code and close reason."""
        if self.reports_init_error:
            frame = dumps({"type": "connection_error", "payload": message})
            return frame, 4400, close_reason(INIT_FAILED_PREFIX, message)
        return None, 4403, FORBIDDEN_REASON


# graphql-ws PROTOCOL.md: "4401: Unauthorized" for a subscribe before the connection is
# acknowledged. subscriptions-transport-ws has no such code; spec 5 closes with its 4400.
PROTOCOLS = {
    "graphql-transport-ws": Protocol(unauthorized=(4401, "Unauthorized"), reports_init_error=False),
    "graphql-ws": Protocol(unauthorized=(4400, "Unauthorized"), reports_init_error=True),
}
# Frames that may reach the app before a successful init (spec 5).
BEFORE_INIT = frozenset({"connection_init", "ping", "pong"})


def offered_protocol(scope: Scope, default: Protocol | None = None) -> Protocol | None:
    """The first GraphQL subprotocol the client offered (spec 5); ``default`` when it offered
    no subprotocol at all; ``None`` (a plain websocket) otherwise.

    A client that offers only other subprotocols ("chat", "mqtt") named what it speaks, and it
    is not GraphQL: it stays plain whatever the default. Hasura's own clients that offer none
    speak the legacy protocol.
    """
    offered = scope.get("subprotocols") or ()
    for name in offered:
        protocol = PROTOCOLS.get(name)
        if protocol is not None:
            return protocol
    return None if offered else default


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def close_reason(prefix: str, message: str) -> str:
    """``{"message": prefix + message}`` in at most 123 UTF-8 bytes, the message shortened.

    ASCII-only JSON (``ensure_ascii``), so that no text can make the reason invalid UTF-8.
    """
    reason = dumps({"message": prefix + message})
    if len(reason) <= MAX_CLOSE_REASON_BYTES:
        return reason

    def shortened(kept: int) -> str:
        return dumps({"message": f"{prefix}{message[:kept]}..."})

    # The longest prefix of the message that fits; every character costs at least one byte.
    low, high = 0, min(len(message), MAX_CLOSE_REASON_BYTES)
    while low < high:
        middle = (low + high + 1) // 2
        if len(shortened(middle)) <= MAX_CLOSE_REASON_BYTES:
            low = middle
        else:
            high = middle - 1
    return shortened(low)
