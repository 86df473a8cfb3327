"""What the server benchmarks send and what sends it: a `Spec` (the candidates, the request,
the targets) and the load generators, Debian's ``wrk`` or, without it, a bounded async httpx
client (a Python client is slower than the server it loads, so its ratios understate the
difference; the output says which was used). On two or more CPUs the load runs on all but the
last, where the servers run (`SERVER_CPUS`), so they never share a core.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from _fixtures import BROWSER_HEADERS, QUERY
from _report import Target


@dataclass(frozen=True)
class Spec:
    """One side-by-side benchmark of servers: bench_uvicorn's, or another script's (its
    ``--serve KIND`` runs a candidate; the first kind is the baseline)."""

    name: str  # the result file's name and the figures' group
    script: str
    kinds: tuple[str, ...]
    targets: dict[str, Target]
    path: str = "/graphql"
    method: str = "POST"
    body: bytes | None = QUERY
    # Kinds whose server CPU time per request (µs) is a figure too, with its target.
    cpu_targets: dict[str, Target] = field(default_factory=dict)
    # Kind -> the reference kind whose added server CPU per request it is compared with.
    references: dict[str, str] = field(default_factory=dict)


HEADERS = [
    (k.decode(), v.decode()) for k, v in BROWSER_HEADERS if k not in (b"host", b"content-length")
]
CPUS = os.cpu_count() or 1
SERVER_CPUS = {CPUS - 1} if CPUS > 1 else None
LOAD_CPUS = set(range(CPUS - 1)) if CPUS > 1 else None


class Load(Protocol):
    name: str
    authorization: str  # the Authorization header it sends

    def run(self, url: str, seconds: int) -> tuple[float, int]:
        """Requests per second and requests completed; raises on any failed request."""
        ...


WRK_SCRIPT = """
wrk.method = "{method}"
{body}
{headers}
"""


class Wrk:
    name = "wrk"

    def __init__(self, token: str, connections: int, directory: Path, spec: Spec) -> None:
        self.authorization = f"Bearer {token}"
        lines = [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in HEADERS]
        lines.append(f'wrk.headers["Authorization"] = "{self.authorization}"')
        body = "" if spec.body is None else f"wrk.body = {json.dumps(spec.body.decode())}"
        self.script = directory / "request.lua"
        self.script.write_text(
            WRK_SCRIPT.format(method=spec.method, body=body, headers="\n".join(lines))
        )
        self.connections = connections

    def run(self, url: str, seconds: int) -> tuple[float, int]:
        command = ["wrk", "-t1", f"-c{self.connections}", f"-d{seconds}s", "--timeout", "5s"]
        process = subprocess.Popen(
            [*command, "-s", str(self.script), url], stdout=subprocess.PIPE, text=True
        )
        if LOAD_CPUS:
            os.sched_setaffinity(process.pid, LOAD_CPUS)
        output, _ = process.communicate(timeout=seconds + 30)
        if process.returncode:
            raise RuntimeError(f"wrk failed against {url}:\n{output}")
        if re.search(r"Non-2xx or 3xx responses|Socket errors", output):
            raise RuntimeError(f"wrk saw failed requests against {url}:\n{output}")
        rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
        count = re.search(r"(\d+) requests in", output)
        if rate is None or count is None:
            raise RuntimeError(f"unreadable wrk output:\n{output}")
        return float(rate.group(1)), int(count.group(1))


class HttpxLoad:
    """A bounded async httpx client: ``connections`` workers for ``seconds``."""

    name = "httpx (client-bound: ratios understate the difference)"

    def __init__(self, token: str, connections: int, spec: Spec) -> None:
        self.authorization = f"Bearer {token}"
        self.headers = {**dict(HEADERS), "Authorization": self.authorization}
        self.connections = connections
        self.method, self.body = spec.method, spec.body
        if LOAD_CPUS:  # the client is this process; the servers are moved off these CPUs
            os.sched_setaffinity(0, LOAD_CPUS)

    def run(self, url: str, seconds: int) -> tuple[float, int]:
        return asyncio.run(self._run(url, seconds))

    async def _run(self, url: str, seconds: int) -> tuple[float, int]:
        import httpx

        done = 0
        limits = httpx.Limits(max_connections=self.connections)
        async with httpx.AsyncClient(limits=limits, headers=self.headers, timeout=5) as client:
            deadline = time.perf_counter() + seconds

            async def worker() -> None:
                nonlocal done
                while time.perf_counter() < deadline:
                    response = await client.request(self.method, url, content=self.body)
                    if response.status_code != 200:
                        raise RuntimeError(f"{url} answered {response.status_code}")
                    done += 1

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(self.connections)))
            return done / (time.perf_counter() - started), done
