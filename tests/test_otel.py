"""`asgi_hasura_jwt.otel`: one span per authentication, recorded by the OpenTelemetry SDK's
in-memory exporter (the SDK is a dev dependency; the sink needs only the API)."""

from __future__ import annotations

import time

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from asgi_hasura_jwt import HasuraJWTMiddleware, JWKSFetchEvent, WebSocketEvent
from asgi_hasura_jwt.otel import SPAN_NAME, OpenTelemetryTracing

from .conftest import HMAC_SECRET, SigningKey, call, echo_app, mint, payload

HS = {"type": "HS256", "key": HMAC_SECRET}


def tracing() -> tuple[OpenTelemetryTracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return OpenTelemetryTracing(tracer_provider=provider), exporter


async def test_a_span_per_authentication(keys: dict[str, SigningKey]) -> None:
    sink, exporter = tracing()
    app = HasuraJWTMiddleware(
        echo_app, jwt_secret=HS, environ={}, public_paths=["/healthz"], on_event=sink
    )
    token = mint(keys["HS256"])
    expired = mint(keys["HS256"], payload(exp=int(time.time()) - 600))
    before = time.time_ns()
    await call(app, {"Authorization": f"Bearer {token}"})
    await call(app, {"Authorization": f"Bearer {token}"})
    await call(app, {"Authorization": f"Bearer {expired}"})
    await call(app, {}, path="/healthz")
    after = time.time_ns()
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == [SPAN_NAME] * 4
    base = {"hasura.jwt.transport": "http"}
    assert [dict(span.attributes or {}) for span in spans] == [
        {"hasura.jwt.outcome": "allowed", **base, "hasura.jwt.cache": "miss"},
        {"hasura.jwt.outcome": "allowed", **base, "hasura.jwt.cache": "hit"},
        {
            "hasura.jwt.outcome": "denied",
            **base,
            "hasura.jwt.code": "invalid-jwt",
            "hasura.jwt.cache": "miss",
        },
        {"hasura.jwt.outcome": "public", **base},
    ]
    statuses = [(span.status.status_code, span.status.description) for span in spans]
    assert statuses == [
        (StatusCode.UNSET, None),
        (StatusCode.UNSET, None),
        (StatusCode.ERROR, "Could not verify JWT: JWTExpired"),
        (StatusCode.UNSET, None),
    ]
    for span in spans:
        assert span.start_time is not None
        assert span.end_time is not None
        assert before <= span.start_time <= span.end_time <= after
    verified, hit = spans[0], spans[1]
    assert verified.start_time is not None
    assert verified.end_time is not None
    assert verified.end_time > verified.start_time  # the verification's length
    assert hit.start_time == hit.end_time  # microseconds: no length


def test_other_events_make_no_span() -> None:
    sink, exporter = tracing()
    sink(WebSocketEvent("open"))
    sink(JWKSFetchEvent("https://issuer.example/jwks", True, 0.1, 1, None, 1.0e9))
    assert exporter.get_finished_spans() == ()
