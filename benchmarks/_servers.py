"""Servers side by side under uvicorn on loopback, for bench_uvicorn.py and bench_webhook.py.

A `Spec` names the candidates (the first is the baseline), the request and the targets; the
script's ``--serve KIND`` runs one candidate in its own process (`serve_app`). Each epoch starts
the servers afresh (a process's own speed varies by a few per cent with its memory layout;
fresh processes spread that over the run instead of biasing one candidate) and warms each up
for a second. Each of its rounds loads the baseline, one candidate, the baseline, the next...,
for ``--duration`` seconds each, and compares each candidate with the baseline runs on either
side (short runs: the noise on a shared machine comes in bursts of seconds). On two or more
CPUs the servers run on the last CPU and the load generator on the others, so they never share
a core. Figures are medians of per-round paired ratios to the baseline: requests per second,
and server CPU time per request (less sensitive to other processes). The load: `_load`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from _fixtures import clerk_token, hasura_config
from _load import SERVER_CPUS, HttpxLoad, Load, Spec, Wrk
from _report import Figure, write_result
from _timing import paired_differences, paired_ratios

# --- server (a child process per candidate) -------------------------------------------------

# The load's whole Authorization header, for candidates that must know the token beforehand.
AUTHORIZATION_VARIABLE = "BENCHMARK_AUTHORIZATION"


def serve_app(app: Any) -> None:
    """Serve ``app`` under uvicorn on an ephemeral port; print the port, serve forever."""
    import uvicorn

    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    config = uvicorn.Config(
        app, workers=1, lifespan="off", log_level="warning", access_log=False, backlog=1024
    )
    uvicorn.Server(config).run(sockets=[listener])


class Server:
    """One candidate's server process."""

    def __init__(self, kind: str, secret: dict[str, Any], authorization: str, spec: Spec) -> None:
        self.kind = kind
        self.path = spec.path
        env = {
            **os.environ,
            "HASURA_GRAPHQL_JWT_SECRET": json.dumps(secret),
            AUTHORIZATION_VARIABLE: authorization,
        }
        self.process = subprocess.Popen(
            [sys.executable, spec.script, "--serve", kind],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        if SERVER_CPUS:
            os.sched_setaffinity(self.process.pid, SERVER_CPUS)
        self.url = ""

    def wait_ready(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.kind} server did not start")
        port = int(line)
        self.url = f"http://127.0.0.1:{port}{self.path}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:  # bound, not yet listening
                time.sleep(0.05)
        raise RuntimeError(f"the {self.kind} server did not accept connections")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- the benchmark ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One load run against one server."""

    throughput: float  # requests per second
    cpu_per_request: float  # server CPU seconds per request

    @staticmethod
    def mean(a: Sample, b: Sample) -> Sample:
        return Sample(
            (a.throughput + b.throughput) / 2, (a.cpu_per_request + b.cpu_per_request) / 2
        )


@dataclass
class Runs:
    """One wrapped candidate, per round: its sample, and the bare app's beside it."""

    wrapped: list[Sample] = field(default_factory=list)
    bare: list[Sample] = field(default_factory=list)


def sample(server: Server, load: Load, seconds: int) -> Sample:
    cpu = server.cpu_seconds()
    rate, requests = load.run(server.url, seconds)
    return Sample(rate, (server.cpu_seconds() - cpu) / requests)


def epoch(
    first: int, rounds: int, load: Load, seconds: int, runs: dict[str, Runs], spec: Spec
) -> None:
    """Fresh servers, warmed up, then ``rounds`` rounds numbered from ``first``.

    A round runs bare, one wrapped server, bare, the next, ..., bare (the order rotates from
    round to round and reverses every other round, as `_timing.bracketed`'s); each wrapped run
    is compared with the mean of the bare runs around it.
    """
    secret = hasura_config("RS256")
    bare, *wrapped = servers = [
        Server(kind, secret, load.authorization, spec) for kind in spec.kinds
    ]
    try:
        for server in servers:
            server.wait_ready()
            load.run(server.url, 1)  # warm up; fills the cache of "cached RS256"
        for index in range(first, first + rounds):
            before = sample(bare, load, seconds)
            shift = index % len(wrapped)
            order = wrapped[shift:] + wrapped[:shift]
            for server in order[::-1] if index % 2 else order:
                result = sample(server, load, seconds)
                after = sample(bare, load, seconds)
                runs[server.kind].wrapped.append(result)
                runs[server.kind].bare.append(Sample.mean(before, after))
                before = after
            line = ", ".join(
                f"{kind} {run.wrapped[-1].throughput:.0f}/s (bare {run.bare[-1].throughput:.0f}/s)"
                for kind, run in runs.items()
            )
            print(f"{spec.name}: round {index + 1}: {line}", flush=True)
    finally:
        for server in servers:
            server.stop()


def figures_from(runs: dict[str, Runs], setup: str, spec: Spec) -> list[Figure]:
    figures = []
    for kind, run in runs.items():
        ratio = paired_ratios([s.throughput for s in run.wrapped], [s.throughput for s in run.bare])
        by_cpu = paired_ratios(
            [s.cpu_per_request for s in run.bare], [s.cpu_per_request for s in run.wrapped]
        )
        rates = [
            statistics.median(s.throughput for s in samples) for samples in (run.wrapped, run.bare)
        ]
        figures.append(
            Figure(
                spec.name,
                f"{kind}: throughput / {spec.kinds[0]}",
                ratio.median,
                "x",
                spec.targets.get(kind),
                f"IQR {ratio.low:.3f}-{ratio.high:.3f}; median {rates[0]:.0f} vs {rates[1]:.0f}"
                f" req/s; by server CPU per request {by_cpu.median:.3f}x; {setup}",
                {"ratio": ratio.as_dict(), "ratio_by_server_cpu": by_cpu.as_dict()},
            )
        )
        if kind in spec.cpu_targets:
            cpu = statistics.median(s.cpu_per_request for s in run.wrapped) * 1e6
            bare = statistics.median(s.cpu_per_request for s in run.bare) * 1e6
            figures.append(
                Figure(
                    spec.name,
                    f"{kind}: server CPU per request",
                    cpu,
                    " µs",
                    spec.cpu_targets[kind],
                    f"{spec.kinds[0]} beside it: {bare:.0f} µs; {setup}",
                )
            )
    figures.extend(
        over_reference(runs, kind, reference, setup, spec)
        for kind, reference in spec.references.items()
    )
    return figures


def over_reference(
    runs: dict[str, Runs], kind: str, reference: str, setup: str, spec: Spec
) -> Figure:
    """The server CPU ``kind`` adds to a request over the baseline, as a multiple of what
    ``reference`` adds: medians of the per-round differences, then their ratio."""
    added = {
        name: paired_differences(
            [s.cpu_per_request for s in runs[name].wrapped],
            [s.cpu_per_request for s in runs[name].bare],
        ).scaled(1e6)
        for name in (kind, reference)
    }
    ours, least = added[kind], added[reference]
    return Figure(
        spec.name,
        f"{kind}: added server CPU / {reference}'s",
        ours.median / least.median,
        "x",
        detail=(
            f"ratio of medians: {ours.median:+.1f} µs (IQR {ours.low:.1f} to {ours.high:.1f})"
            f" vs {least.median:+.1f} µs (IQR {least.low:.1f} to {least.high:.1f}) per request;"
            f" {setup}"
        ),
        extra={"added_us": ours.as_dict(1), "reference_added_us": least.as_dict(1)},
    )


def main(spec: Spec, serve_kind: Callable[[str], None], doc: str) -> None:
    """The command line of a `Spec`'s benchmark: ``serve_kind`` runs a ``--serve`` candidate;
    ``doc`` (the script's docstring) gives its description."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="fresh servers each epoch")
    parser.add_argument("--rounds", type=int, default=5, help="per epoch")
    parser.add_argument("--duration", type=int, default=1, help="whole seconds per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--httpx", action="store_true", help="use httpx even if wrk is there")
    parser.add_argument("--serve", choices=spec.kinds, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_kind(args.serve)
        return

    token = clerk_token("RS256")
    runs = {kind: Runs() for kind in spec.kinds[1:]}
    with tempfile.TemporaryDirectory() as directory:
        use_wrk = shutil.which("wrk") and not args.httpx
        load: Load = (
            Wrk(token, args.connections, Path(directory), spec)
            if use_wrk
            else HttpxLoad(token, args.connections, spec)
        )
        for number in range(args.epochs):
            epoch(number * args.rounds, args.rounds, load, args.duration, runs, spec)
    # uvicorn's "auto" uses httptools when installed, else h11 (slower: the ratios look better).
    http = "httptools" if find_spec("httptools") else "h11"
    write_result(
        spec.name,
        figures_from(runs, f"{load.name.split()[0]}, uvicorn with {http}", spec),
        load_generator=load.name,
        http_implementation=http,
        server_cpus=sorted(SERVER_CPUS) if SERVER_CPUS else "any",
        connections=args.connections,
        duration_seconds=args.duration,
        epochs=args.epochs,
        rounds_per_epoch=args.rounds,
        samples={
            kind: {
                side: [(round(s.throughput, 1), round(s.cpu_per_request * 1e6, 1)) for s in samples]
                for side, samples in (
                    ("wrapped", run.wrapped),
                    (f"{spec.kinds[0]} beside", run.bare),
                )
            }
            for kind, run in runs.items()
        },
        sample_format="(requests per second, server CPU µs per request)",
    )
    print(f"load generator: {load.name}")
