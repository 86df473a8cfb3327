"""Clerk helpers for apps (spec 6): ``events_app``, the endpoint for Clerk's session webhooks.

``svix`` (the ``[clerk]`` extra) is imported when ``events_app`` is called, never when this
module is, so the Clerk helpers that need no webhook work without it.
"""

from __future__ import annotations

from typing import Protocol

from ._options import DEFAULT_WEBHOOK_BODY_BYTES
from ._types import ASGIApp

__all__ = ["Revoker", "events_app"]


class Revoker(Protocol):
    """What ``events_app`` revokes through: `HasuraJWTMiddleware`, or the shared revocation
    store (one per deployment, so that every replica hears the webhook).
    """

    async def revoke(self, *, sub: str | None = None, sid: str | None = None) -> None: ...


def events_app(
    target: Revoker, *, signing_secret: str, max_body_bytes: int = DEFAULT_WEBHOOK_BODY_BYTES
) -> ASGIApp:
    """An ASGI app for Clerk's webhooks (Svix-signed), mounted at any path.

    ``session.revoked``, ``session.ended`` and ``session.removed`` call
    ``target.revoke(sid=<session id>)``; ``user.deleted`` calls ``target.revoke(sub=<user id>)``;
    other events are answered 204. A bad or stale signature (Svix's five-minute tolerance) is
    400 and revokes nothing; a ``revoke`` that raises is 500, so that Svix retries. Raises
    `ConfigError` for a ``signing_secret`` that is not ``whsec_…``, a target without ``revoke``
    or a ``max_body_bytes`` that is not a positive int.
    """
    from ._clerk_events import EventsApp

    return EventsApp(target, signing_secret=signing_secret, max_body_bytes=max_body_bytes)
