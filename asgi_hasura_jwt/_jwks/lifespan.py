"""The lifespan scope: run the JWKS refreshers for as long as the server runs (spec 0, 4.4),
and any other background task of the middleware beside them (the revocation subscriber).

The refreshers live in a task group owned by the lifespan; startup completes only after every
key set's first fetch. The protocol is forwarded to the inner app; when the inner app does not
speak it (it returns or raises without taking ``lifespan.startup``), we complete it ourselves so
the refreshers still run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Protocol

import anyio
import anyio.abc

from .._errors import JWKSStartupError
from .._types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("asgi_hasura_jwt.lifespan")


class Background(Protocol):
    """What the lifespan runs: `RemoteKeySet`, `Revocations` (``started`` once ready)."""

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None: ...

    async def aclose(self) -> None: ...


async def handle_lifespan(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, key_sets: Sequence[Background]
) -> None:
    """Serve one lifespan scope for ``app`` and run the refreshers of ``key_sets`` meanwhile.

    A key set whose first fetch fails makes startup fail (``lifespan.startup.failed`` with a
    message naming the URL and the error); the inner app is then not started. On shutdown the
    inner app shuts down first, then the refreshers are cancelled and awaited and their httpx
    clients closed, then ``lifespan.shutdown.complete`` (or the app's ``failed``) is sent.
    Without key sets this is a plain pass-through.
    """
    if not key_sets:
        await app(scope, receive, send)
        return
    lifespan = _Lifespan(app, scope)
    try:
        await lifespan.serve(receive, send, key_sets)
    finally:
        # Shielded: on cancellation too, no client (and its connections) is left open.
        with anyio.CancelScope(shield=True):
            for key_set in key_sets:
                await key_set.aclose()
            lifespan.close()


class _Lifespan:
    """The inner app's side of one lifespan: it runs as a task fed through memory streams."""

    def __init__(self, app: ASGIApp, scope: Scope) -> None:
        self.app = app
        self.scope = scope
        # Unbounded: an app that stopped listening must never block us.
        self._to_app, self._app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        self._app_outbox, self._from_app = anyio.create_memory_object_stream[Message | None](
            math.inf
        )
        self._took_startup = False
        self._app_exited = False
        self._app_error: Exception | None = None

    async def serve(self, receive: Receive, send: Send, key_sets: Sequence[Background]) -> None:
        await receive()  # lifespan.startup: the first message of every lifespan (ASGI spec)
        async with anyio.create_task_group() as task_group:
            reply = await self._startup(task_group, key_sets)
            if reply["type"] == "lifespan.startup.complete":
                await send(reply)
                message = await receive()
                while message["type"] != "lifespan.shutdown":
                    message = await receive()
                reply = await self._exchange(message, "shutdown")
            task_group.cancel_scope.cancel()
        # Out of the task group: the refreshers have been cancelled and awaited.
        await send(reply)

    async def _startup(
        self, task_group: anyio.abc.TaskGroup, key_sets: Sequence[Background]
    ) -> Message:
        try:
            for key_set in key_sets:
                await task_group.start(key_set.run)
        except JWKSStartupError as exc:
            return {"type": "lifespan.startup.failed", "message": str(exc)}
        task_group.start_soon(self._run_app)
        return await self._exchange({"type": "lifespan.startup"}, "startup")

    def close(self) -> None:
        for stream in (self._to_app, self._app_inbox, self._app_outbox, self._from_app):
            stream.close()

    async def _run_app(self) -> None:
        try:
            await self.app(self.scope, self._app_receive, self._app_outbox.send)
        except Exception as exc:
            self._app_error = exc
            logger.debug("the inner app raised on the lifespan scope", exc_info=True)
        finally:
            # Tells `_exchange` that no reply will come; never blocks (unbounded), even when
            # cancelled.
            self._app_outbox.send_nowait(None)

    async def _app_receive(self) -> Message:
        message = await self._app_inbox.receive()
        if message["type"] == "lifespan.startup":
            self._took_startup = True
        return message

    async def _exchange(self, message: Message, phase: str) -> Message:
        """Give ``message`` to the app and return its reply for ``phase``, or ours."""
        if not self._app_exited:
            await self._to_app.send(message)
            while (reply := await self._from_app.receive()) is not None:
                if reply["type"] in (f"lifespan.{phase}.complete", f"lifespan.{phase}.failed"):
                    return reply
            self._app_exited = True
        error = self._app_error
        if error is not None and self._took_startup:
            # It took part in the protocol and crashed: that is a failure, not a lack of support.
            return {
                "type": f"lifespan.{phase}.failed",
                "message": f"{type(error).__name__}: {error}",
            }
        return {"type": f"lifespan.{phase}.complete"}
