"""OpenTelemetry spans built on the ``on_event`` hook (``pip install 'asgi-hasura-jwt[otel]'``).

    app = HasuraJWTMiddleware(inner_app, on_event=OpenTelemetryTracing())

Only ``opentelemetry-api`` is needed: spans go to whatever tracer provider the application
configured (the global one by default), as children of the span current in the request's
context (e.g. the server span of an OpenTelemetry ASGI middleware around this one).
"""

from __future__ import annotations

import time

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, TracerProvider

from . import __version__
from ._events import AuthEvent, Event

SPAN_NAME = "hasura_jwt.authenticate"


class OpenTelemetryTracing:
    """An ``on_event`` hook that records one span per authentication (`AuthEvent`).

    Attributes: ``hasura.jwt.outcome``, ``hasura.jwt.transport``, ``hasura.jwt.code`` (when
    denied) and ``hasura.jwt.cache`` (when a token was looked up); a denied authentication
    has status ERROR with the Hasura message. The event arrives once the outcome is known: the
    span ends then and starts ``verify_seconds`` earlier (an uncached verification, any JWKS
    fetch it waited for included); without one it lasted microseconds and has no length.
    """

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self._tracer = trace.get_tracer(
            "asgi_hasura_jwt", __version__, tracer_provider=tracer_provider
        )

    def __call__(self, event: Event) -> None:
        if not isinstance(event, AuthEvent):
            return
        end = time.time_ns()
        start = end - round((event.verify_seconds or 0.0) * 1e9)
        attributes: dict[str, str] = {
            "hasura.jwt.outcome": event.outcome,
            "hasura.jwt.transport": event.transport,
        }
        if event.code is not None:
            attributes["hasura.jwt.code"] = event.code
        if event.cache is not None:
            attributes["hasura.jwt.cache"] = event.cache
        span = self._tracer.start_span(SPAN_NAME, start_time=start, attributes=attributes)
        if event.outcome == "denied":
            span.set_status(Status(StatusCode.ERROR, event.message))
        span.end(end_time=end)
