"""Open websockets by the ``sub`` and ``sid`` of the tokens that authenticated them, so that a
revocation can close them. A socket leaves the registry when it ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .entries import Kind, Revocation, RevocationList, Subject


class Revocable(Protocol):
    """A socket the registry can end (`_websocket.connection.Connection`)."""

    @property
    def subjects(self) -> Sequence[Subject]:
        """Every token that authenticated the socket (a second ``connection_init`` adds one)."""

    def revoke(self) -> None:
        """Close the socket from its own task, soon: called from the revoking task."""


class SocketRegistry:
    """Sockets by ``("sub", value)`` and ``("sid", value)``."""

    def __init__(self) -> None:
        self._sockets: dict[tuple[Kind, str], set[Revocable]] = {}

    def __len__(self) -> int:
        """How many sockets are registered: 0 once every socket has ended."""
        return len(set().union(*self._sockets.values()))

    def add(self, socket: Revocable, subject: Subject) -> None:
        for key in _keys(subject):
            self._sockets.setdefault(key, set()).add(socket)

    def discard(self, socket: Revocable) -> None:
        for subject in socket.subjects:
            for key in _keys(subject):
                sockets = self._sockets.get(key)
                if sockets is not None:
                    sockets.discard(socket)
                    if not sockets:
                        del self._sockets[key]

    def revoke(self, entry: Revocation, revocations: RevocationList, now: float) -> None:
        """End every socket named by ``entry`` that one of its tokens makes revoked now (a
        token of the ``sub`` issued after the revocation keeps its socket open).
        """
        for socket in list(self._sockets.get((entry.kind, entry.value), ())):
            if any(revocations.refuses(subject, now) for subject in socket.subjects):
                socket.revoke()


def _keys(subject: Subject) -> list[tuple[Kind, str]]:
    keys: list[tuple[Kind, str]] = []
    if subject.sub is not None:
        keys.append(("sub", subject.sub))
    if subject.sid is not None:
        keys.append(("sid", subject.sid))
    return keys
