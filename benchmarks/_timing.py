"""Timing helpers shared by the benchmarks: interleaved rounds, medians, paired ratios.

The machine these run on is shared and noisy, so no absolute figure is trusted. Candidates are
timed side by side: each round runs every candidate once (a batch of calls sized to take about
the same time), in an order that rotates from round to round, each between two batches of the
baseline, and a candidate is compared with the baseline next to it round by round (the paired
ratio or difference). A burst of noise then tends to spoil both sides of one comparison instead
of one side of all of them; the median over rounds discards the rest.

In-process timings use the thread's CPU clock: time the OS gives to other processes is not
counted, which is most of the noise on a busy machine. The garbage collector is paused inside a
batch (as ``timeit`` does) and run between batches.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import statistics
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Runs ``n`` calls of one candidate and returns the elapsed time in seconds.
Batch = Callable[[int], float]
Clock = Callable[[], float]
# Rounds of the in-process benchmarks by default: on the noisy 2-core machine the medians of
# 25 rounds moved by a few per cent from run to run; 40 took `make bench` to 12 minutes when
# another process shared the CPUs; 30 keeps it near 10.
ROUNDS = 30


def loop(call: Callable[[], object], clock: Clock = time.thread_time) -> Batch:
    """A `Batch` that calls ``call`` ``n`` times."""

    def batch(n: int) -> float:
        calls = range(n)
        started = clock()
        for _ in calls:
            call()
        return clock() - started

    return batch


def drive(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never suspends (in-process ASGI calls, static keys) to completion.

    Skipping the event loop keeps its scheduling cost, the same for every candidate, out of the
    figures. A coroutine that does suspend is a mistake in the benchmark: it raises.
    """
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the coroutine suspended; drive() only runs non-suspending calls")


def calibrate(batch: Batch, seconds: float) -> int:
    """How many calls make a batch last about ``seconds`` (at least one)."""
    n = 1
    while True:
        elapsed = batch(n)
        if elapsed >= seconds / 4 or n >= 1 << 24:
            return max(1, round(n * seconds / max(elapsed, 1e-9)))
        n *= 4


@dataclass
class Timings:
    """Seconds per call, one figure per round: each candidate's, and its baseline's beside it."""

    candidate: dict[str, list[float]]
    baseline: dict[str, list[float]]  # the mean of the baseline batches just before and after


def bracketed(
    baseline: Batch, candidates: Mapping[str, Batch], *, rounds: int, seconds: float
) -> Timings:
    """Time every candidate once per round, each between two batches of the baseline.

    A round runs ``B c1 B c2 B ... cn B`` (the candidates' order rotates by round, and reverses
    every other round); each candidate is compared with the baseline batches on either side of
    it, a fraction of a second apart, so a burst of load elsewhere lands on both sides of a
    comparison more often than not.
    """
    names = list(candidates)
    for batch in [baseline, *candidates.values()]:  # warm up: imports, caches, lazy key objects
        batch(3)
    base_size = calibrate(baseline, seconds)
    sizes = {name: calibrate(candidates[name], seconds) for name in names}

    def timed(batch: Batch, size: int) -> float:
        gc.collect()
        gc.disable()
        try:
            return batch(size) / size
        finally:
            gc.enable()

    timings = Timings({name: [] for name in names}, {name: [] for name in names})
    for index in range(rounds):
        shift = index % len(names)
        order = names[shift:] + names[:shift]
        if index % 2:
            order.reverse()
        before = timed(baseline, base_size)
        for name in order:
            timings.candidate[name].append(timed(candidates[name], sizes[name]))
            after = timed(baseline, base_size)
            timings.baseline[name].append((before + after) / 2)
            before = after
    return timings


def quantile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated quantile of ``values`` (``fraction`` in 0..1)."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Spread:
    """The median of a per-round series with its interquartile range."""

    median: float
    low: float  # 25th percentile
    high: float  # 75th percentile
    rounds: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(
            statistics.median(values), quantile(values, 0.25), quantile(values, 0.75), len(values)
        )

    def scaled(self, factor: float) -> Spread:
        return Spread(self.median * factor, self.low * factor, self.high * factor, self.rounds)

    def as_dict(self, digits: int = 3) -> dict[str, float | int]:
        return {
            "median": round(self.median, digits),
            "p25": round(self.low, digits),
            "p75": round(self.high, digits),
            "rounds": self.rounds,
        }


def paired_ratios(candidate: Sequence[float], baseline: Sequence[float]) -> Spread:
    """candidate / baseline, round by round."""
    return Spread.of([c / b for c, b in zip(candidate, baseline, strict=True)])


def paired_differences(candidate: Sequence[float], baseline: Sequence[float]) -> Spread:
    """candidate - baseline, round by round."""
    return Spread.of([c - b for c, b in zip(candidate, baseline, strict=True)])


def profile(call: Callable[[], object], *, seconds: float = 3.0, limit: int = 30) -> None:
    """Print where ``call`` spends its time: cProfile over about ``seconds`` of calls.

    cProfile inflates the cost of every Python-level call, so read it for where the time goes,
    not for how much there is; the interleaved figures are the measurement.
    """
    n = calibrate(loop(call), seconds / 4)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
