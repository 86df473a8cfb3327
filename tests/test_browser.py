"""The demo page in real headless Chromium: "Make query" fetches a token from the local issuer
and calls the GraphQL app; the page shows ``query_root``, the session, and the subscription
closed by the middleware when the token expires."""

from __future__ import annotations

import json
import os

import pytest

from examples.demo import serve_demo

from .chromium import chromium, chromium_binary

pytestmark = pytest.mark.network

LIFETIME = 3
USER = {"x-hasura-user-id": "user_demo", "x-hasura-role": "user"}


def require_chromium() -> str:
    binary = chromium_binary()
    if binary is not None:
        return binary
    reason = "Chromium not found: `make system-deps` installs Debian's chromium (or set CHROMIUM)"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(reason)  # CI must run the browser test, never skip it
    pytest.skip(reason)


async def test_make_query_in_chromium() -> None:
    binary = require_chromium()
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
        # The token lives LIFETIME seconds; then the middleware closes the subscription.
        status = await page.wait_for_text("#subscription-status", "closed", LIFETIME + 10)
        assert status == 'closed 4403 {"message":"4403: Forbidden: JWT expired"}'
