"""The HTTP GET of a JWKS (spec 4.1, 4.3): no redirects, bounded as received and as decoded.

A compressed answer is inflated here piece by piece, so it never grows past the size limit and
never holds the event loop for long.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import anyio.lowlevel
import httpx

from .._errors import ConfigError

_REQUEST_HEADERS = {
    "Accept": "application/json, application/jwk-set+json",
    # Servers behind a CDN may compress all the same; `_Inflater` bounds what that costs.
    "Accept-Encoding": "identity",
}
# zlib's window bits per accepted Content-Encoding (RFC 9110 8.4.1): gzip, or deflate = zlib.
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
# Decoded bytes per inflate step: a fraction of IMPORT_SLICE's work, however well it compresses.
INFLATE_PIECE = 64 * 1024
_MASK = "***"


class DownloadFailed(Exception):
    """A response that cannot be a JWKS; the message is safe to log."""


def parse_url(url: str, name: str = "jwk_url") -> httpx.URL:
    """``url`` parsed; raises `ConfigError` (naming ``name``) unless it is an http(s) URL with a
    host.
    """
    try:
        parsed = httpx.URL(url)
    except (TypeError, httpx.InvalidURL) as exc:
        raise ConfigError(f"{name} is not a valid URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"{name} must be an http:// or https:// URL with a host")
    return parsed


def display_url(url: httpx.URL) -> str:
    """``url`` with any password masked, for log lines and `JWKSStatus`."""
    return str(url.copy_with(username=url.username, password=_MASK)) if url.password else str(url)


def new_client() -> httpx.AsyncClient:
    # No pooled connections: fetches are seconds to minutes apart, and a kept-alive
    # connection would outlive the event loop or lifespan that opened it.
    return httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))


async def download(
    client: httpx.AsyncClient, url: httpx.URL, *, max_bytes: int, httpx_timeout: float
) -> tuple[bytes, list[tuple[str, str]]]:
    """The body of a 2xx answer to a GET of ``url`` and its headers in order.

    ``httpx_timeout`` bounds each step of the exchange; the caller bounds the whole. Raises
    `DownloadFailed` for a redirect or another status, a body over ``max_bytes`` (as
    received or as decoded), and an unaccepted or broken Content-Encoding; httpx's errors
    pass through.
    """
    async with client.stream(
        "GET", url, headers=_REQUEST_HEADERS, follow_redirects=False, timeout=httpx_timeout
    ) as response:
        status = response.status_code
        if 300 <= status < 400:
            raise DownloadFailed(f"HTTP {status}: redirects are not followed")
        if not 200 <= status < 300:
            raise DownloadFailed(f"HTTP {status}")
        if response.is_stream_consumed:
            # Built in memory (MockTransport, respx): httpx decoded it already, nothing to bound
            # but its size.
            inflater, chunks = None, response.aiter_bytes()
        else:
            # Raw bytes: httpx would inflate each network chunk whole, before any limit.
            inflater, chunks = _inflater(response.headers, max_bytes), response.aiter_raw()
        parts: list[bytes] = []
        received = 0
        async for chunk in chunks:
            received += len(chunk)
            if received > max_bytes:
                raise DownloadFailed(f"response body over {max_bytes} bytes")
            if inflater is None:
                parts.append(chunk)
                continue
            for piece in inflater.pieces(chunk):
                parts.append(piece)
                await anyio.lowlevel.checkpoint()
        if inflater is not None:
            inflater.finish()
        return b"".join(parts), response.headers.multi_items()


def _inflater(headers: httpx.Headers, limit: int) -> _Inflater | None:
    """The decoder for the response's Content-Encoding; None for identity (spec 4.3)."""
    codings = [
        coding.strip().lower()
        for coding in headers.get_list("content-encoding", split_commas=True)
        if coding.strip().lower() not in ("", "identity")
    ]
    if not codings:
        return None
    if len(codings) > 1 or codings[0] not in _WBITS:
        # br and zstd have no incremental, bounded decoder in the standard library.
        shown = ", ".join(codings)
        raise DownloadFailed(f"Content-Encoding {shown:.40} is not accepted")
    return _Inflater(codings[0], limit)


class _Inflater:
    """Inflates one gzip or deflate body piece by piece, never past ``limit`` decoded bytes.

    A few hundred kilobytes of gzip can stand for gigabytes; each step here decodes at most
    `INFLATE_PIECE` bytes, so neither memory nor the loop pays for more than the limit.
    """

    def __init__(self, coding: str, limit: int) -> None:
        self._coding = coding
        self._limit = limit
        self._decoded = 0
        self._started = False
        self._zlib = zlib.decompressobj(_WBITS[coding])

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of the next raw chunk; raises `DownloadFailed` past the limit."""
        while True:
            # One byte over the limit is enough to know the body is too large.
            budget = min(INFLATE_PIECE, self._limit - self._decoded + 1)
            piece = self._decompress(data, budget)
            data = self._zlib.unconsumed_tail
            self._decoded += len(piece)
            if self._decoded > self._limit:
                raise DownloadFailed(
                    f"{self._coding} response body inflates past {self._limit} bytes"
                )
            yield piece
            # A full piece may leave output pending inside zlib even when the input is used up.
            if not data and len(piece) < budget:
                return

    def _decompress(self, data: bytes, budget: int) -> bytes:
        first, self._started = not self._started, True
        try:
            return self._zlib.decompress(data, budget)
        except zlib.error as exc:
            if first and self._coding == "deflate":
                # Some servers send raw deflate without the zlib wrapper (httpx accepts it too).
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._decompress(data, budget)
            raise DownloadFailed(f"invalid {self._coding} response body: {exc}") from exc

    def finish(self) -> None:
        """Raises `DownloadFailed` unless the compressed stream ended exactly with the body."""
        if not self._zlib.eof:
            raise DownloadFailed(f"truncated {self._coding} response body")
        if self._zlib.unused_data:
            raise DownloadFailed(f"data after the end of the {self._coding} response body")
