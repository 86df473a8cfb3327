"""Revocation: ending sessions before their tokens expire (docs/behaviour.md, "Revocation").

``entries`` is the in-process list and the check; ``sockets`` the open websockets by ``sub``
and ``sid``; ``store`` the protocol for sharing revocations between processes and the
``revocations`` option; ``redis`` the Redis store (the only module importing redis); ``hub``
ties them together for the middleware.
"""

from .entries import REVOKED, Revocation, RevocationList, Subject
from .hub import Revocations, RevocationStatus
from .sockets import SocketRegistry
from .store import RevocationStore, revocation_store

__all__ = [
    "REVOKED",
    "Revocation",
    "RevocationList",
    "RevocationStatus",
    "RevocationStore",
    "Revocations",
    "SocketRegistry",
    "Subject",
    "revocation_store",
]
