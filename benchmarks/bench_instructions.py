"""Issue 13's in-process ratios counted in machine instructions: the same figures, without noise.

    .venv/bin/python benchmarks/bench_instructions.py [--calls 200] [--jobs 2]

On a shared machine the timed ratios of ``bench_asgi.py`` and ``bench_verify.py`` move by tens
of per cent from run to run (a few µs against a bare request of 25-40 µs). Here every candidate
runs in its own process under valgrind's callgrind, which counts the instructions executed
inside one ``functools.reduce`` call that makes ``--calls`` calls of it (setup, imports and key
generation are outside it), so each figure is the same on every run to a fraction of a per cent.
Instructions are not time: C code (JSON, base64, crypto) runs several instructions per
nanosecond where the interpreter runs fewer, so a ratio of instructions is a lower bound of the
timed one whenever the numerator holds more interpreted code than the denominator. The timed
figures stay the targets' measure; these show where a change moved the work.
Needs valgrind (Debian's package; `make bench` installs it). Writes
benchmarks/results/instructions.json.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import bench_asgi
import bench_verify
from _fixtures import inner_app
from _floor import floor
from _report import Figure, Target, write_result

ALGORITHMS = ("RS256", "HS256", "ES256", "EdDSA")
VERIFY_TARGETS = bench_verify.TARGETS
BARE = "bare request"
SCENARIOS = {scenario.name: scenario for scenario in bench_asgi.SCENARIOS}


def candidate(name: str) -> Callable[[], object]:
    """The zero-argument call that ``name`` counts."""
    kind, _, algorithm = name.partition(": ")
    if kind == "floor":
        verify = floor(algorithm)
        token = bench_asgi.token(algorithm)
        return lambda: verify(token)
    if kind == "ours":
        verify = bench_verify.ours(algorithm)
        token = bench_asgi.token(algorithm)
        return lambda: verify(token)
    app = inner_app()
    if name == BARE:
        return bench_asgi.checked(name, bench_asgi.request(app, bench_asgi.bearer("RS256")))
    scenario = SCENARIOS[name]
    return bench_asgi.checked(name, bench_asgi.request(scenario.wrap(app), scenario.credentials))


CANDIDATES = [
    BARE,
    bench_asgi.CACHE_HIT,
    bench_asgi.MINIMAL_HIT,
    *(bench_asgi.uncached(algorithm) for algorithm in ALGORITHMS),
    *(f"floor: {algorithm}" for algorithm in ALGORITHMS),
    *(f"ours: {algorithm}" for algorithm in ALGORITHMS),
]


def child(name: str, calls: int) -> None:
    warnings.simplefilter("ignore")  # joserfc's EdDSA deprecation, once per process
    call = candidate(name)
    for _ in range(50):  # warm up: lazy imports, key objects, caches
        call()
    # Only what runs inside this reduce is counted (callgrind --toggle-collect).
    functools.reduce(lambda _, __: call(), range(calls), None)


def count(name: str, calls: int) -> float:
    """Instructions per call of ``name``."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--toggle-collect=functools_reduce*",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        name,
        "--calls",
        str(calls),
    ]
    # A fixed hash seed: set and dict layouts, and so their probing, are the same every run.
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=600, env=environment
    )
    collected = re.search(r"Collected\s*:\s*([\d,]+)", result.stderr)
    if collected is None:
        raise RuntimeError(f"{name}: no instruction count in valgrind's output")
    return int(collected.group(1).replace(",", "")) / calls


def ratio(name: str, value: float, target: Target | None, detail: str) -> Figure:
    return Figure("instructions", name, value, "x", target, detail)


def figures(counts: dict[str, float]) -> list[Figure]:
    bare = counts[BARE]
    hit = counts[bench_asgi.CACHE_HIT] - bare
    minimal = counts[bench_asgi.MINIMAL_HIT] - bare
    found = [
        ratio(
            "cached RS256: bare / cached (instructions)",
            bare / counts[bench_asgi.CACHE_HIT],
            bench_asgi.CACHE_HIT_TARGET,
            f"bare request {bare:,.0f}, +{hit:,.0f} per hit",
        ),
        ratio(
            "cached RS256: added / minimal correct hit's added (instructions)",
            hit / minimal,
            bench_asgi.MINIMAL_HIT_TARGET,
            f"+{hit:,.0f} vs +{minimal:,.0f} per request",
        ),
    ]
    for algorithm in ALGORITHMS:
        added = counts[bench_asgi.uncached(algorithm)] - bare
        least = counts[f"floor: {algorithm}"]
        found.append(
            ratio(
                f"uncached {algorithm}: (request - bare request) / floor (instructions)",
                added / least,
                bench_asgi.FLOORED[algorithm],
                f"+{added:,.0f} vs a floor of {least:,.0f}",
            )
        )
    for algorithm in ALGORITHMS:
        ours, least = counts[f"ours: {algorithm}"], counts[f"floor: {algorithm}"]
        found.append(
            ratio(
                f"verify {algorithm}: ours / floor (instructions)",
                ours / least,
                VERIFY_TARGETS[algorithm],
                f"{ours:,.0f} vs {least:,.0f}",
            )
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2, help="valgrind processes at once")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.calls)
        return
    if shutil.which("valgrind") is None:
        sys.exit("instructions: valgrind is not installed (Debian: apt-get install valgrind)")
    print(f"instructions: {len(CANDIDATES)} candidates under callgrind ...", flush=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        counts = pool.map(lambda name: count(name, args.calls), CANDIDATES)
        counted = dict(zip(CANDIDATES, counts, strict=True))
    write_result(
        "instructions",
        figures(counted),
        calls=args.calls,
        per_call={name: round(value) for name, value in counted.items()},
    )


if __name__ == "__main__":
    main()
