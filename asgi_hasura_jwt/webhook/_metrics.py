"""``/metrics``: the Prometheus text of the app's own registry, kept by the
`asgi_hasura_jwt.prometheus.PrometheusMetrics` sink, when prometheus-client is installed (the
``prometheus`` extra). Each app has its own registry unless given one, so two apps in one
process never register the same metric twice.
"""

from __future__ import annotations

from typing import Any

from .._errors import ConfigError

try:
    import prometheus_client

    from ..prometheus import PrometheusMetrics
except ImportError:  # the extra is not installed: no /metrics
    prometheus_client = None  # type: ignore[assignment]


class Metrics:
    """One registry, the sink that fills it (an ``on_event`` hook), and its text exposition."""

    content_type = b"text/plain; version=0.0.4; charset=utf-8"

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self.sink = PrometheusMetrics(registry)

    def render(self) -> bytes:
        assert prometheus_client is not None  # `metrics_for` made this instance
        return bytes(prometheus_client.generate_latest(self.registry))


def metrics_for(registry: Any) -> Metrics | None:
    """A `Metrics` over ``registry`` (a new one for ``None``), or ``None`` without the extra."""
    if prometheus_client is None:
        if registry is not None:
            raise ConfigError(
                "registry: needs prometheus-client (pip install 'asgi-hasura-jwt[prometheus]')"
            )
        return None
    if registry is None:
        registry = prometheus_client.CollectorRegistry()
    elif not isinstance(registry, prometheus_client.CollectorRegistry):
        kind = type(registry).__name__
        raise ConfigError(f"registry: expected a prometheus_client.CollectorRegistry, got {kind}")
    return Metrics(registry)
