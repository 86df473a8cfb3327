"""The demo page in real headless Chromium: "Make query" fetches a token from the local issuer
and calls the GraphQL app; the page shows ``query_root``, the session, and a subscription that
the graphql-ws client carries across token lifetimes: the middleware closes it with 4403 at
each expiry, the client reconnects with a fresh token, and the ticks go on."""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path

import pytest

from examples.demo import serve_demo
from examples.demo.app import CLIENT_BUILD

from .chromium import chromium, chromium_binary

pytestmark = pytest.mark.network

LIFETIME = 3
# Three token lifetimes: the subscription must reach its fourth connection.
CONNECTIONS = 4
MAX_GAP_MS = 1000
EXPIRED = 'closed 4403 {"message":"4403: Forbidden: JWT expired"}'
USER = {"x-hasura-user-id": "user_demo", "x-hasura-role": "user"}


def require_chromium() -> str:
    binary = chromium_binary()
    if binary is not None:
        return binary
    reason = "Chromium not found: `make system-deps` installs Debian's chromium (or set CHROMIUM)"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(reason)  # CI must run the browser test, never skip it
    pytest.skip(reason)


def require_client_build() -> Path:
    if CLIENT_BUILD.is_file():
        return CLIENT_BUILD
    reason = "the demo page's graphql-ws client is missing: `make demo-deps` installs it (npm)"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(reason)
    pytest.skip(reason)


async def test_make_query_in_chromium() -> None:
    binary = require_chromium()
    require_client_build()
    async with serve_demo(lifetime=LIFETIME) as demo, chromium(binary) as browser:
        page = await browser.new_page()
        await page.goto(f"{demo.app_url}/")
        await page.click("#make-query")

        typename = await page.wait_for_text("#typename", "query_root")
        assert json.loads(typename) == {"data": {"__typename": "query_root"}}
        session = await page.wait_for_text("#session", "user_demo")
        assert json.loads(session) == {"data": {"me": USER}}
        ticks = await page.wait_for_text("#ticks", "user_demo")
        assert json.loads(ticks.split("\n", 1)[1]) == USER

        # Each token lives LIFETIME seconds; the subscription outlives several of them.
        await page.wait_for_text(
            "#tick-log", f"connection {CONNECTIONS} tick 2", LIFETIME * (CONNECTIONS + 1) + 10
        )
        log = await page.evaluate(
            "Array.from(document.querySelectorAll('#tick-log li'),"
            " (li) => [li.className, Number(li.dataset.at), li.textContent])"
        )
    closes = [text.split(" ", 1)[1] for kind, _, text in log if kind == "close"]
    assert closes == [EXPIRED] * (CONNECTIONS - 1), log  # every reconnect follows an expiry
    ticks = [(at, connection_of(text)) for kind, at, text in log if kind == "tick"]
    connections = [connection for _, connection in ticks]
    assert connections == sorted(connections)
    assert set(connections) == set(range(1, CONNECTIONS + 1))
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(ticks)]
    assert max(gaps) < MAX_GAP_MS, (gaps, log)


def connection_of(tick: str) -> int:
    found = re.search(r" connection (\d+) tick ", tick)
    assert found is not None, tick
    return int(found[1])
