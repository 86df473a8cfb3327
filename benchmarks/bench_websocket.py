"""Websocket expiry under load (spec 5, spec 8): many GraphQL sockets on loopback whose tokens
expire at staggered instants; how late is each 4403 close, and what does a socket cost?

    .venv/bin/python benchmarks/bench_websocket.py [--sockets 1000] [--spread 4]

The server (uvicorn + the middleware around a minimal graphql-transport-ws app) runs in a child
process so that its memory and CPU are its own. The client opens every socket, sends each
``connection_init`` with a token whose fractional ``exp`` is ``start + lead + i * spread / n``,
then records when each close frame arrives (lateness = arrival - exp; allowed_skew is 0).

Reported: the lateness distribution (target p99 < 50 ms), resident memory per open socket with
the middleware and without it (the same app served bare, authenticating nothing), and the
server's CPU time while every socket waits for its expiry (a poll loop would show up there).
Writes benchmarks/results/websocket.json. The whole run is bounded by --timeout seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SECRET = "benchmark-hs256-secret-of-32-bytes-or-more!"
PROTOCOL = "graphql-transport-ws"
EXPIRED = '{"message":"4403: Forbidden: JWT expired"}'
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "websocket.json"


# --- server (child process) -----------------------------------------------------------------


async def graphql_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accepts, acknowledges connection_init, then waits for the disconnect."""
    await receive()
    await send({"type": "websocket.accept", "subprotocol": PROTOCOL})
    while (await receive())["type"] != "websocket.disconnect":
        await send({"type": "websocket.send", "text": '{"type":"connection_ack"}'})


def serve(port: int, guarded: bool) -> None:
    import uvicorn

    from asgi_hasura_jwt import HasuraJWTMiddleware

    app: Any = graphql_app
    if guarded:
        app = HasuraJWTMiddleware(app, jwt_secret={"type": "HS256", "key": SECRET}, environ={})
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="error",
        lifespan="off",
        ws_ping_interval=None,  # no keepalive traffic: the idle CPU figure is the timers' alone
        backlog=4096,
    )


# --- client ---------------------------------------------------------------------------------


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mint(exp: float, user: int) -> str:
    from joserfc import jwt
    from joserfc.jwk import OctKey

    claims = {
        "sub": str(user),
        "exp": exp,
        "https://hasura.io/jwt/claims": {
            "x-hasura-user-id": str(user),
            "x-hasura-default-role": "user",
            "x-hasura-allowed-roles": ["user"],
        },
    }
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(SECRET))


class Server:
    def __init__(self, guarded: bool) -> None:
        self.port = free_port()
        command = [sys.executable, __file__, "--serve", str(self.port)]
        # The checkout's package, installed or not.
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen([*command, "--guarded" if guarded else "--bare"], env=env)

    async def ready(self) -> None:
        for _ in range(500):
            if self.process.poll() is not None:
                raise RuntimeError("server exited")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def open_sockets(url: str, count: int) -> list[Any]:
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    async def one() -> Any:
        return await connect(
            url,
            subprotocols=[Subprotocol(PROTOCOL)],
            proxy=None,
            ping_interval=None,
            compression=None,
        )

    sockets: list[Any] = []
    for start in range(0, count, 100):  # batches: the listen backlog stays comfortable
        sockets += await asyncio.gather(*(one() for _ in range(start, min(start + 100, count))))
    return sockets


async def init_all(sockets: list[Any], tokens: list[str]) -> None:
    async def init(ws: Any, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": {"headers": headers}}))
        ack = json.loads(await ws.recv())
        if ack["type"] != "connection_ack":
            raise RuntimeError(f"unexpected reply {ack}")

    await asyncio.gather(*(init(ws, token) for ws, token in zip(sockets, tokens, strict=True)))


async def wait_close(ws: Any) -> tuple[float, int | None, str | None]:
    from websockets.exceptions import ConnectionClosed

    try:
        while True:
            await ws.recv()
    except ConnectionClosed as exc:
        arrived = time.time()
        return arrived, exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else None


async def memory_per_socket(guarded: bool, count: int) -> float:
    """Server RSS growth per open, initialised socket (tokens far from expiry)."""
    server = Server(guarded)
    try:
        await server.ready()
        baseline = await open_sockets(f"ws://127.0.0.1:{server.port}/", 20)  # warm up
        await init_all(baseline, [mint(time.time() + 3600, i) for i in range(20)])
        await asyncio.sleep(0.2)
        before = rss_bytes(server.process.pid)
        sockets = await open_sockets(f"ws://127.0.0.1:{server.port}/", count)
        await init_all(sockets, [mint(time.time() + 3600, i) for i in range(count)])
        await asyncio.sleep(0.2)
        after = rss_bytes(server.process.pid)
        await asyncio.gather(*(ws.close() for ws in baseline + sockets))
        return (after - before) / count
    finally:
        server.stop()


async def expiry_run(count: int, lead: float, spread: float) -> dict[str, Any]:
    server = Server(guarded=True)
    try:
        await server.ready()
        sockets = await open_sockets(f"ws://127.0.0.1:{server.port}/", count)
        start = time.time()
        expiries = [start + lead + i * spread / count for i in range(count)]
        await init_all(sockets, [mint(exp, i) for i, exp in enumerate(expiries)])
        ready = time.time()
        if ready >= expiries[0]:
            raise RuntimeError("sockets took longer than --lead to open; raise --lead")
        closing = asyncio.gather(*(wait_close(ws) for ws in sockets))
        # CPU the server spends while every socket is open and waiting for its deadline.
        idle_window = min(expiries[0] - time.time() - 0.05, 1.0)
        cpu_before = cpu_seconds(server.process.pid)
        await asyncio.sleep(idle_window)
        idle_cpu = cpu_seconds(server.process.pid) - cpu_before
        closes = await closing
    finally:
        server.stop()
    wrong = [(code, reason) for _, code, reason in closes if (code, reason) != (4403, EXPIRED)]
    if wrong:
        raise RuntimeError(f"{len(wrong)} sockets closed otherwise, e.g. {wrong[0]}")
    lateness_ms = sorted(
        (arrived - exp) * 1000 for (arrived, _, _), exp in zip(closes, expiries, strict=True)
    )
    return {
        "open_and_init_seconds": round(ready - start, 3),
        "idle_window_seconds": round(idle_window, 3),
        "idle_server_cpu_seconds": round(idle_cpu, 4),
        "lateness_ms": {
            "min": round(lateness_ms[0], 2),
            "p50": round(percentile(lateness_ms, 50), 2),
            "p90": round(percentile(lateness_ms, 90), 2),
            "p99": round(percentile(lateness_ms, 99), 2),
            "max": round(lateness_ms[-1], 2),
            "mean": round(statistics.fmean(lateness_ms), 2),
            "early": sum(1 for value in lateness_ms if value < 0),
        },
    }


def percentile(sorted_values: list[float], p: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    expiry = await expiry_run(args.sockets, args.lead, args.spread)
    guarded = await memory_per_socket(True, args.sockets)
    bare = await memory_per_socket(False, args.sockets)
    return {
        "sockets": args.sockets,
        "expiry_spread_seconds": args.spread,
        **expiry,
        "rss_bytes_per_socket": {
            "with_middleware": round(guarded),
            "bare_app": round(bare),
            "middleware_share": round(guarded - bare),
        },
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def report(result: dict[str, Any]) -> None:
    late = result["lateness_ms"]
    memory = result["rss_bytes_per_socket"]
    rows = [
        ("sockets", f"{result['sockets']} (expiries over {result['expiry_spread_seconds']} s)"),
        ("open + connection_init", f"{result['open_and_init_seconds']} s"),
        ("close lateness p50", f"{late['p50']} ms"),
        ("close lateness p90", f"{late['p90']} ms"),
        ("close lateness p99", f"{late['p99']} ms (target < 50 ms)"),
        ("close lateness max", f"{late['max']} ms"),
        ("closes before exp", str(late["early"])),
        (
            "server CPU while idle",
            f"{result['idle_server_cpu_seconds']} s over {result['idle_window_seconds']} s",
        ),
        ("RSS per socket, middleware", f"{memory['with_middleware']} B"),
        ("RSS per socket, bare app", f"{memory['bare_app']} B"),
        ("RSS per socket, difference", f"{memory['middleware_share']} B"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--lead", type=float, default=4.0, help="seconds to the first expiry")
    parser.add_argument("--spread", type=float, default=4.0, help="seconds between first/last")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--guarded", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    raise_fd_limit()
    if args.serve:
        serve(args.serve, guarded=args.guarded)
        return
    result = asyncio.run(asyncio.wait_for(bench(args), args.timeout))
    report(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
