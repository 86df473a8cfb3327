"""What the ``on_event`` sinks add to a cache hit (the observability issue's budget: 1 µs).

    .venv/bin/python benchmarks/bench_events.py [--rounds 30] [--seconds 0.02] [--profile NAME]

The cached RS256 request of bench_asgi.py (in process, no event loop) to an inner app that
only answers 200 (the difference is the figure; a smaller total leaves less room for noise),
behind a middleware without ``on_event`` (the baseline) and with a hook: the Prometheus
sink on a private registry (the target), a do-nothing hook (the dispatch alone) and the
OpenTelemetry sink on an SDK tracer provider with no exporter (for reference). Each is timed
between two batches of the baseline and reported as the paired difference per request.
Writes benchmarks/results/events.json.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from typing import Any

from _fixtures import hasura_config
from _report import Figure, Target, microseconds, write_result
from _timing import ROUNDS, bracketed, loop, paired_differences, profile
from bench_asgi import bearer, checked, ours, request
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from asgi_hasura_jwt.otel import OpenTelemetryTracing
from asgi_hasura_jwt.prometheus import PrometheusMetrics

PROMETHEUS = "Prometheus sink"
TARGET = Target("<=", 1.0)


async def answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def hooks() -> dict[str, Callable[[Any], object]]:
    return {
        PROMETHEUS: PrometheusMetrics(registry=CollectorRegistry()),
        "a do-nothing hook": lambda event: None,
        "OpenTelemetry sink (SDK, no exporter)": OpenTelemetryTracing(TracerProvider()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seconds", type=float, default=0.02, help="per batch")
    parser.add_argument("--profile", choices=list(hooks()), help="profile one")
    args = parser.parse_args()

    app, credentials = answer, bearer("RS256")
    config = hasura_config("RS256")
    baseline = checked("no hook", request(ours(config)(app), credentials))
    calls = {
        name: checked(name, request(ours(config, on_event=hook)(app), credentials))
        for name, hook in hooks().items()
    }
    if args.profile:
        profile(calls[args.profile], seconds=3.0)
        return
    print(f"events: {len(calls)} hooks x {args.rounds} rounds ...", flush=True)
    timings = bracketed(
        loop(baseline),
        {name: loop(call) for name, call in calls.items()},
        rounds=args.rounds,
        seconds=args.seconds,
    )
    figures = []
    for name in calls:
        added = paired_differences(timings.candidate[name], timings.baseline[name]).scaled(1e6)
        base = statistics.median(timings.baseline[name])
        figures.append(
            Figure(
                "events",
                f"cached RS256, {name}: added per request",
                added.median,
                " µs",
                TARGET if name == PROMETHEUS else None,
                f"IQR {added.low:.2f}-{added.high:.2f} µs; the cache hit without a hook takes"
                f" {microseconds(base)}",
                {"added_us": added.as_dict(2)},
            )
        )
    write_result(
        "events",
        figures,
        rounds=args.rounds,
        batch_seconds=args.seconds,
        per_call_us=rounded_us(timings.candidate),
        baseline_beside_us=rounded_us(timings.baseline),
    )


def rounded_us(series: dict[str, list[float]]) -> dict[str, list[float]]:
    return {name: [round(seconds * 1e6, 2) for seconds in times] for name, times in series.items()}


if __name__ == "__main__":
    main()
