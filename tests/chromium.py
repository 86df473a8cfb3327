"""Headless Chromium driven over the Chrome DevTools Protocol with the ``websockets`` package.

No chromedriver and no browser download: the system's Chromium (Debian's ``chromium``, installed
by ``make system-deps``) is started with a DevTools port, and a page is driven with real input
events (``Input.dispatchMouseEvent``), not synthetic ``element.click()`` calls.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from websockets.asyncio.client import ClientConnection, connect

# The brief's flags: without the background-networking ones Chromium stalls on a closed network.
FLAGS = [
    "--headless",
    "--no-sandbox",  # root in containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--remote-debugging-port=0",
]
START_TIMEOUT = 30.0


def chromium_binary() -> str | None:
    """``$CHROMIUM``, else the first Chromium or Chrome on ``PATH``."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) if name else None
        if path is not None:
            return path
    return None


class DevTools:
    """One DevTools websocket; commands are answered in order, events are kept for reports."""

    def __init__(self, websocket: ClientConnection) -> None:
        self._websocket = websocket
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        command_id = next(self._ids)
        command: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session is not None:
            command["sessionId"] = session
        await self._websocket.send(json.dumps(command))
        while True:
            message = json.loads(await self._websocket.recv())
            if message.get("id") == command_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    async def event(self, method: str, session: str | None = None) -> dict[str, Any]:
        """The first ``method`` event of ``session`` not consumed yet, waiting for it if need be."""
        seen = 0
        while True:
            for index in range(seen, len(self.events)):
                event = self.events[index]
                if event.get("method") == method and event.get("sessionId") == session:
                    return self.events.pop(index)
            seen = len(self.events)
            self.events.append(json.loads(await self._websocket.recv()))


class Page:
    def __init__(self, devtools: DevTools, session: str) -> None:
        self._devtools = devtools
        self._session = session

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._devtools.send(method, params, self._session)

    async def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, seconds: float = 15.0) -> Any:
        """The first truthy value of ``expression``, polled in the page; on timeout, fail with
        what the page shows and what its console said."""
        poll = (
            "new Promise((resolve) => { const poll = () => {"
            f" const value = ({expression}); if (value) resolve(value); else setTimeout(poll, 50);"
            " }; poll(); })"
        )
        with anyio.move_on_after(seconds):
            return await self.evaluate(poll, await_promise=True)
        body = await self.evaluate("document.body ? document.body.innerText : ''")
        console = [
            event["params"]
            for event in self._devtools.events
            if event.get("method") in ("Runtime.exceptionThrown", "Runtime.consoleAPICalled")
        ]
        raise AssertionError(f"timed out waiting for {expression}\npage:\n{body}\n{console}")

    async def goto(self, url: str) -> None:
        await self.send("Page.enable")
        await self.send("Page.navigate", {"url": url})
        with anyio.fail_after(15):
            await self._devtools.event("Page.loadEventFired", self._session)

    async def wait_for_text(self, selector: str, containing: str, seconds: float = 15.0) -> str:
        """The element's text once it contains ``containing``."""
        text = f"document.querySelector({json.dumps(selector)}).innerText"
        found: str = await self.wait_for(
            f"{text}.includes({json.dumps(containing)}) && {text}", seconds
        )
        return found

    async def click(self, selector: str) -> None:
        """A real left click in the middle of the element."""
        x, y = await self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )


class Browser:
    def __init__(self, devtools: DevTools) -> None:
        self.devtools = devtools

    async def new_page(self) -> Page:
        target = await self.devtools.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.devtools.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self.devtools, attached["sessionId"])
        await page.send("Runtime.enable")  # console messages and exceptions, for failure reports
        return page


@asynccontextmanager
async def chromium(binary: str) -> AsyncIterator[Browser]:
    """Start headless Chromium with a fresh profile; closed and removed on exit."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        log_path = Path(profile, "chromium.log")
        log = await anyio.open_file(log_path, "wb")
        command = [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"]
        process = await anyio.open_process(command, stdout=log.wrapped, stderr=log.wrapped)
        try:
            endpoint = await _devtools_endpoint(Path(profile), process, log_path)
            async with connect(endpoint, max_size=None) as websocket:
                devtools = DevTools(websocket)
                yield Browser(devtools)
                await devtools.send("Browser.close")
            with anyio.move_on_after(10):
                await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            await log.aclose()


async def _devtools_endpoint(profile: Path, process: Any, log_path: Path) -> str:
    # Chromium writes "<port>\n<browser path>" to DevToolsActivePort once it listens.
    active = anyio.Path(profile / "DevToolsActivePort")
    with anyio.move_on_after(START_TIMEOUT):
        while process.returncode is None:
            if await active.exists():
                lines = (await active.read_text()).split()
                if len(lines) == 2:
                    return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            await anyio.sleep(0.05)
    log = (await anyio.Path(log_path).read_text(errors="replace"))[-2000:]
    raise RuntimeError(
        f"Chromium did not open its DevTools port (exit {process.returncode}):\n{log}"
    )
