"""Figures, targets and result files shared by the benchmarks and `run_all.py`.

Every benchmark ends with a list of `Figure`s, each a ratio or a difference measured side by
side in one run, next to its target from issues 6 and 13 (or a reference range for a peer). They are
printed as a table and written to ``benchmarks/results/<name>.json``; `run_all.py` combines the
files into one table.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# BENCHMARK_RESULTS: elsewhere, for the smoke test (tests/test_benchmarks.py).
RESULTS = Path(os.environ.get("BENCHMARK_RESULTS") or ROOT / "benchmarks" / "results")
_COMPARE = {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}


@dataclass(frozen=True)
class Target:
    """A bound from issues 6 and 13 (``<=``, ``>=``, ``<``, ``>``), or a reference range
    (``range``).

    A reference range is what a peer is expected to measure: it is shown, and whether the figure
    falls inside it is noted, but it is not one of our targets.
    """

    op: str
    bound: float
    upper: float | None = None  # for "range"

    def met(self, value: float) -> bool:
        if self.op == "range":
            assert self.upper is not None
            return self.bound <= value <= self.upper
        return {
            "<=": value <= self.bound,
            ">=": value >= self.bound,
            "<": value < self.bound,
            ">": value > self.bound,
        }[self.op]

    def text(self, unit: str) -> str:
        if self.op == "range":
            return f"ref. {self.bound:g}-{self.upper:g}{unit}"
        return f"{_COMPARE[self.op]} {self.bound:g}{unit}"


@dataclass(frozen=True)
class Figure:
    benchmark: str
    name: str
    value: float | None  # None: not measured (the detail says why)
    unit: str  # "x", " µs", " ms"
    target: Target | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``met`` / ``NOT MET`` for targets, ``(in range)`` / ``(outside)`` for references."""
        if self.target is None:
            return ""
        if self.value is None:
            return "n/a"
        met = self.target.met(self.value)
        if self.target.op == "range":
            return "(in range)" if met else "(outside)"
        return "met" if met else "NOT MET"

    def value_text(self) -> str:
        if self.value is None:
            return "—"
        digits = 2 if self.unit == "x" else 1 if abs(self.value) >= 10 else 2
        # One more digit when rounding would hide the verdict (0.696 is not >= 0.7).
        while self.target and self.target.met(round(self.value, digits)) != self.target.met(
            self.value
        ):
            digits += 1
        return f"{self.value:.{digits}f}{self.unit}"

    def target_text(self) -> str:
        return "" if self.target is None else self.target.text(self.unit)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status
        data["value_text"] = self.value_text()
        data["target_text"] = self.target_text()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Figure:
        target = data.get("target")
        return cls(
            benchmark=data["benchmark"],
            name=data["name"],
            value=data.get("value"),
            unit=data.get("unit", ""),
            target=Target(**target) if target else None,
            detail=data.get("detail", ""),
            extra=data.get("extra", {}),
        )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip()


def _cpu_model() -> str:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def environment() -> dict[str, Any]:
    """Where and when the figures were measured: load, CPUs, versions, commit."""
    return {
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "worktree_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "versions": {
            name: _version(name)
            for name in ("joserfc", "cryptography", "PyJWT", "starlette", "uvicorn", "httpx")
        },
    }


def table(figures: list[Figure], *, markdown: bool = False) -> str:
    """The figures as an aligned text table, or as a Markdown table."""
    header = ("benchmark", "figure", "value", "target", "status", "detail")
    rows = [
        (f.benchmark, f.name, f.value_text(), f.target_text(), f.status, f.detail) for f in figures
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += [
            "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows
        ]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def write_result(name: str, figures: list[Figure], **extra: Any) -> Path:
    """Write ``benchmarks/results/<name>.json`` and print the table; returns the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "environment": environment(),
        "figures": [figure.as_dict() for figure in figures],
        **extra,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print()
    print(table(figures))
    print(f"\nwrote {shown(path)}")
    return path


def shown(path: Path) -> Path:
    """``path`` relative to the checkout when it is inside it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def microseconds(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs"
