"""Run an ASGI app under a real uvicorn server on 127.0.0.1 for the duration of a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import uvicorn


@asynccontextmanager
async def serve(app: Any, **options: Any) -> AsyncIterator[str]:
    """Serve ``app`` on an ephemeral loopback port; yields ``http://127.0.0.1:<port>``.

    ``options`` go to `uvicorn.Config` (e.g. ``lifespan="on"``).
    """
    options.setdefault("lifespan", "off")
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **options)
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:
                if server.should_exit:
                    raise RuntimeError("uvicorn did not start")
                await anyio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
