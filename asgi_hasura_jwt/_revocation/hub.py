"""`Revocations`: what the middleware's ``revoke`` does, and what the lifespan runs to share it.

One object per middleware ties the list (checked by the `Authenticator`), the open sockets
(closed on revocation) and the store (other processes) together.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio
import anyio.abc

from .._types import Clock
from .entries import Revocation, RevocationList, revoked_values
from .sockets import SocketRegistry
from .store import RevocationStore


@dataclass(frozen=True)
class RevocationStatus:
    """A snapshot for health checks.

    ``entries``: revocations in force in this process; ``sockets``: open websockets that a
    revocation could close; ``shared``: a store is configured; ``connected``: whether it is
    reachable now (``None`` when the store does not say); ``pending``: revocations made here
    that wait for the store to come back.
    """

    entries: int
    sockets: int
    shared: bool
    connected: bool | None
    pending: int


class Revocations:
    def __init__(self, *, ttl: float, store: RevocationStore | None, clock: Clock) -> None:
        self.list = RevocationList(ttl, clock)
        self.sockets = SocketRegistry()
        self.store = store
        self._clock = clock

    async def revoke(self, *, sub: str | None = None, sid: str | None = None) -> None:
        entries = [self.list.new(kind, value) for kind, value in revoked_values(sub, sid)]
        for entry in entries:
            self.deliver(entry)
        if self.store is not None:
            for entry in entries:
                await self.store.publish(entry)

    def deliver(self, entry: Revocation) -> None:
        """Apply a revocation, made here or by another process: refuse, and close sockets."""
        if self.list.add(entry):
            self.sockets.revoke(entry, self.list, self._clock())

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """The store's subscriber, for the lifespan (only built when there is a store)."""
        assert self.store is not None
        await self.store.run(self.deliver, task_status=task_status)

    async def aclose(self) -> None:
        """Nothing to release: the store's `run` cleans up when it is cancelled."""

    def status(self) -> RevocationStatus:
        store = self.store
        connected = getattr(store, "connected", None)
        pending = getattr(store, "pending", 0)
        return RevocationStatus(
            entries=len(self.list),
            sockets=len(self.sockets),
            shared=store is not None,
            connected=connected if isinstance(connected, bool) else None,
            pending=pending if isinstance(pending, int) else 0,
        )
