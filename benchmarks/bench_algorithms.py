"""One signature check: joserfc's stock ``verify`` against ours (`_algorithms`, issue 13).

    .venv/bin/python benchmarks/bench_algorithms.py [--rounds 25] [--seconds 0.02]
    .venv/bin/python benchmarks/bench_algorithms.py --calls ALG stock|ours N

For each algorithm `_algorithms` handles locally, both objects verify the same Clerk-shaped
token with the key our import makes of its config, stock as the baseline, interleaved in rounds
(``_timing.bracketed``). The figures are the median paired ratio ours / stock and the median
per-call difference. ``--calls`` only makes N calls of one object, to be counted under
``valgrind --tool=cachegrind`` (see docs/performance.md): instruction counts, unlike times, do
not depend on the machine's load. Writes benchmarks/results/algorithms.json.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

from _fixtures import clerk_token, signing_key
from _report import Figure, microseconds, write_result
from _timing import bracketed, loop, paired_differences, paired_ratios
from joserfc.jws import JWSRegistry

from asgi_hasura_jwt._algorithms import GUARDED
from asgi_hasura_jwt._keys import key_from_config
from asgi_hasura_jwt._strict import b64url_decode

ALGORITHMS = [name for name in ("HS256", "HS512", "ES256", "ES384", "ES512") if name in GUARDED]


def verifiers(algorithm: str) -> dict[str, Callable[[], object]]:
    """``stock`` and ``ours``, each one call on the token; both shown to accept it first."""
    key = key_from_config(algorithm, signing_key(algorithm).config["key"])
    head, _, signature = clerk_token(algorithm).encode().rpartition(b".")
    sig = b64url_decode(signature)
    objects = {"stock": JWSRegistry.algorithms[algorithm], "ours": key.algorithms[algorithm]}
    assert objects["ours"] is not objects["stock"]
    calls: dict[str, Callable[[], object]] = {}
    for name, algorithm_object in objects.items():
        assert algorithm_object.verify(head, sig, key.key) is True
        assert algorithm_object.verify(head, sig[:-1] + bytes([sig[-1] ^ 1]), key.key) is False

        def call(verify: Callable[..., bool] = algorithm_object.verify) -> object:
            return verify(head, sig, key.key)

        calls[name] = call
    return calls


def measure(algorithm: str, rounds: int, seconds: float) -> Figure:
    calls = verifiers(algorithm)
    timings = bracketed(
        loop(calls["stock"]), {"ours": loop(calls["ours"])}, rounds=rounds, seconds=seconds
    )
    ours, stock = timings.candidate["ours"], timings.baseline["ours"]
    ratio = paired_ratios(ours, stock)
    saved = paired_differences(stock, ours)
    return Figure(
        "algorithms",
        f"{algorithm}: our verify / joserfc's",
        ratio.median,
        "x",
        None,
        f"IQR {ratio.low:.3f}-{ratio.high:.3f}; saves {microseconds(saved.median)} per call"
        f" (median {microseconds(statistics.median(ours))}"
        f" vs {microseconds(statistics.median(stock))})",
        {"ratio": ratio.as_dict(), "saved_us": saved.scaled(1e6).as_dict(2)},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=0.02, help="per batch")
    parser.add_argument("--algorithms", nargs="+", choices=ALGORITHMS, default=ALGORITHMS)
    parser.add_argument("--calls", nargs=3, metavar=("ALG", "WHICH", "N"))
    args = parser.parse_args()
    if args.calls:
        algorithm, which, n = args.calls
        call = verifiers(algorithm)[which]
        for _ in range(int(n)):
            call()
        return
    figures = []
    for algorithm in args.algorithms:
        print(f"algorithms: {algorithm} ...", flush=True)
        figures.append(measure(algorithm, args.rounds, args.seconds))
    write_result("algorithms", figures, rounds=args.rounds, batch_seconds=args.seconds)


if __name__ == "__main__":
    main()
