"""Run every benchmark and print one table of figures next to their targets (``make bench``).

    .venv/bin/python benchmarks/run_all.py [--quick] [--only verify asgi ...]

Runs, each in its own process: bench_verify.py, bench_algorithms.py, bench_asgi.py,
bench_events.py, bench_revocation.py, bench_uvicorn.py, bench_webhook.py, and, when present,
bench_jwks.py and bench_websocket.py.
Each writes benchmarks/results/<name>.json; this script reads them back, prints the combined
table and writes benchmarks/results/summary.json and benchmarks/results/summary.md (a Markdown
section with the command that made it; a full run also writes it to docs/performance.md).
``--quick`` shortens our benchmarks for a smoke test; it and ``--only`` write
summary.partial.{json,md} instead, so the full run's summary is never replaced by either.

Exits 1 when a benchmark leaves no result (with ``--strict``, also when a target is not met: a
benchmark run is a measurement, not a test).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _report import RESULTS, ROOT, Figure, Target, environment, shown, table

HERE = Path(__file__).resolve().parent


def jwks_figures(result: dict[str, Any]) -> list[Figure]:
    """bench_jwks.py's result (its own format): the worst event-loop stall while refreshing."""
    return [
        Figure(
            "jwks",
            f"{result['document_bytes'] / 2**20:.1f} MiB JWKS refresh "
            f"({result['keys']} RSA keys): longest loop block",
            result["worst_stall_ms"],
            " ms",
            Target("<=", result.get("target_stall_ms", 5.0)),  # "never blocks > 5 ms"
            result.get("stall_metric", ""),
        )
    ]


def websocket_figures(result: dict[str, Any]) -> list[Figure]:
    """bench_websocket.py's result (its own format): the close lateness distribution."""
    late = result["lateness_ms"]
    return [
        Figure(
            "websocket",
            f"{result['sockets']:,} sockets closed at expiry: lateness p99",
            late["p99"],
            " ms",
            Target("<", 50.0),
            f"p50 {late['p50']} ms, max {late['max']} ms, closed early {late['early']}",
        )
    ]


@dataclass(frozen=True)
class Benchmark:
    name: str  # also the result file's name
    script: str
    quick: tuple[str, ...] = ()  # arguments for --quick
    figures: Callable[[dict[str, Any]], list[Figure]] | None = None  # for a foreign format
    timeout: float = 300.0


BENCHMARKS = [
    Benchmark("verify", "bench_verify.py", ("--rounds", "5", "--seconds", "0.005")),
    Benchmark("algorithms", "bench_algorithms.py", ("--rounds", "5", "--seconds", "0.005")),
    Benchmark("asgi", "bench_asgi.py", ("--rounds", "5", "--seconds", "0.005")),
    Benchmark("instructions", "bench_instructions.py", ("--calls", "20"), timeout=900.0),
    Benchmark("revocation", "bench_revocation.py", ("--rounds", "5", "--seconds", "0.005")),
    Benchmark("events", "bench_events.py", ("--rounds", "5", "--seconds", "0.005")),
    # Six servers side by side: 25 rounds of eleven 1 s runs each.
    Benchmark("uvicorn", "bench_uvicorn.py", ("--epochs", "1", "--rounds", "3"), timeout=600.0),
    Benchmark("webhook", "bench_webhook.py", ("--epochs", "1", "--rounds", "3")),
    Benchmark("jwks", "bench_jwks.py", figures=jwks_figures),
    Benchmark("websocket", "bench_websocket.py", figures=websocket_figures),
]


@dataclass
class Outcome:
    benchmark: Benchmark
    exit_code: int | None  # None: not run (script absent) or timed out
    seconds: float
    figures: list[Figure]
    note: str = ""

    @property
    def failed(self) -> bool:
        """The script is there but left no fresh result."""
        return self.note.startswith("no result")


def run(benchmark: Benchmark, quick: bool) -> Outcome:
    script = HERE / benchmark.script
    if not script.exists():
        return Outcome(benchmark, None, 0.0, [], f"{benchmark.script} not present")
    result = RESULTS / f"{benchmark.name}.json"
    command = [sys.executable, str(script), *(benchmark.quick if quick else ())]
    print(f"\n=== {benchmark.script} {' '.join(command[2:])}".rstrip(), flush=True)
    started = time.time()
    try:
        exit_code: int | None = subprocess.run(
            command, cwd=ROOT, timeout=benchmark.timeout
        ).returncode
    except subprocess.TimeoutExpired:
        exit_code = None
    seconds = time.time() - started
    if not result.exists() or result.stat().st_mtime < started:
        note = "timed out" if exit_code is None else f"exit code {exit_code}"
        return Outcome(benchmark, exit_code, seconds, [], f"no result ({note})")
    try:
        data = json.loads(result.read_text())
        if benchmark.figures is not None and "figures" not in data:
            figures = benchmark.figures(data)
        else:
            figures = [Figure.from_dict(item) for item in data["figures"]]
    except (ValueError, KeyError, TypeError) as exc:  # another author's format changed
        note = f"no result (unreadable {result.name}: {type(exc).__name__} {exc})"
        return Outcome(benchmark, exit_code, seconds, [], note)
    return Outcome(benchmark, exit_code, seconds, figures)


PERFORMANCE = ROOT / "docs" / "performance.md"
PERFORMANCE_HEADING = (
    "# Performance\n\n"
    "Written by `make bench` (benchmarks/run_all.py) on a full run, down to the line that says"
    " the rest is written by hand.\n"
    "The targets are issue 13's. In process (verify, asgi, events, revocation) the times are"
    " the thread's CPU time per call; under uvicorn (one worker, wrk on the other CPUs) they"
    " are throughputs of short runs, in epochs of fresh servers. The detail column gives each"
    " figure's interquartile range over the rounds; each benchmark's own options:"
    " `.venv/bin/python benchmarks/bench_NAME.py --help`.\n\n"
)


# Below this line docs/performance.md is written by hand (the analysis, the upstream proposal);
# a full run replaces only what is above it.
HAND_WRITTEN = "<!-- Written by hand from here on: make bench keeps it. -->\n"


def kept_notes() -> str:
    text = PERFORMANCE.read_text() if PERFORMANCE.exists() else ""
    _, marker, notes = text.partition(HAND_WRITTEN)
    return marker + notes if marker else ""


def invocation() -> str:
    if os.environ.get("MAKELEVEL"):
        return "make bench"
    return " ".join([".venv/bin/python", *sys.argv]) if sys.argv else "run_all.py"


def markdown(outcomes: list[Outcome], env: dict[str, Any], load_before: list[float]) -> str:
    figures = [figure for outcome in outcomes for figure in outcome.figures]
    targets = [f for f in figures if f.target is not None and f.target.op != "range"]
    met = sum(1 for f in targets if f.status == "met")
    dirty = " with local changes" if env["worktree_dirty"] else ""
    lines = [
        f"Measured with `{invocation()}` on {env['time_utc']}, commit {env['commit']}{dirty}.",
        f"Machine: {env['cpus']} CPUs ({env.get('cpu_model', 'unknown')}), {env['platform']},"
        f" Python {env['python']}; load average {load_before[0]:.2f} before and"
        f" {env['load_average'][0]:.2f} after.",
        "",
        "Every figure is measured side by side in one run: candidates interleaved in rounds,"
        " medians of per-round paired ratios (or differences), so the machine's speed cancels"
        " out. `ref.` ranges are what a peer library is expected to measure, not our targets.",
        "",
        table(figures, markdown=True),
        "",
        f"Targets met: {met} of {len(targets)}.",
    ]
    for outcome in outcomes:
        if outcome.note:
            lines.append(f"- {outcome.benchmark.script}: {outcome.note}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs of our benchmarks")
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHMARKS])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    args = parser.parse_args()

    started = time.time()
    load_before = [round(load, 2) for load in os.getloadavg()]
    selected = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    outcomes = [run(benchmark, args.quick) for benchmark in selected]
    env = environment()

    figures = [figure for outcome in outcomes for figure in outcome.figures]
    print(f"\n=== summary ({time.time() - started:.0f} s)\n")
    print(table(figures))
    for outcome in outcomes:
        if outcome.note:
            print(f"{outcome.benchmark.script}: {outcome.note}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    # A smoke test or a partial run never replaces the full run's summary.
    stem = "summary.partial" if args.quick or args.only else "summary"
    summary = {
        "command": invocation(),
        "quick": args.quick,
        "seconds": round(time.time() - started, 1),
        "load_average_before": load_before,
        "environment": env,
        "benchmarks": [
            {
                "name": o.benchmark.name,
                "script": o.benchmark.script,
                "exit_code": o.exit_code,
                "seconds": round(o.seconds, 1),
                "note": o.note,
            }
            for o in outcomes
        ],
        "figures": [figure.as_dict() for figure in figures],
    }
    (RESULTS / f"{stem}.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(outcomes, env, load_before))
    print(f"\nwrote {shown(RESULTS / stem)}.md and .json")
    if stem == "summary":
        # The full table's home; the README keeps a two-line summary pointing here.
        generated = PERFORMANCE_HEADING + markdown(outcomes, env, load_before)
        notes = kept_notes()
        PERFORMANCE.write_text(generated + ("\n" + notes if notes else ""))
        print(f"wrote {PERFORMANCE.relative_to(ROOT)}")

    failed = any(outcome.failed for outcome in outcomes)
    missed = any(figure.status == "NOT MET" for figure in figures)
    sys.exit(1 if failed or (args.strict and missed) else 0)


if __name__ == "__main__":
    main()
