"""Verifier cost with py_ecc: one proof, batches, and the G2 subgroup check.

Usage::

    python benchmarks/verify_bench.py               # single (median of 5), batches k = 10, 100
    python benchmarks/verify_bench.py --k 10 --repeats 3

Proofs are simulated from a trapdoor key (tests/verifier/_simulate.py), which gives valid Groth16
proofs without a circuit; verification cost does not depend on how a proof was made. Times are
wall clock and process CPU (the CPU figure is the one to compare on a shared machine).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from zkmargin.curve import G2_GENERATOR, _g2_in_subgroup_by_order, g2_in_subgroup, g2_mul
from zkmargin.field import R
from zkmargin.verifier import prepare_verifying_key, verify, verify_batch

_SIMULATE = Path(__file__).resolve().parent.parent / "tests" / "verifier" / "_simulate.py"


def _load_simulate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("zkmargin_bench_simulate", _SIMULATE)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {_SIMULATE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _timed(f: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median wall and median CPU seconds of ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        f()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="+", default=[10, 100], help="batch sizes (default 10 100)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the single verification (median)")
    parser.add_argument("--n-public", type=int, default=4, help="public inputs per proof (default 4)")
    args = parser.parse_args(argv)

    sim = _load_simulate()
    rng = random.Random(2024)
    trapdoor = sim.random_vk_with_trapdoor(args.n_public, rng)
    pvk = prepare_verifying_key(trapdoor.vk)
    kmax = max(args.k)
    items = []
    for _ in range(kmax):
        public = [rng.randrange(R) for _ in range(args.n_public)]
        items.append((public, sim.simulated_proof(trapdoor, public, rng=rng)))
    print(f"python {platform.python_version()} on {platform.machine()}, {args.n_public} public inputs")

    wall, cpu = _timed(lambda: verify(pvk, *items[0]), args.repeats)
    single_rate = 1 / cpu
    print(f"single verify (prepared key): median {wall:.3f} s wall, {cpu:.3f} s CPU  -> {single_rate:.2f} proofs/s")
    wall, cpu = _timed(lambda: verify(trapdoor.vk, *items[0]), max(1, args.repeats // 2))
    print(f"single verify (key validated each call): median {wall:.3f} s wall, {cpu:.3f} s CPU")

    for k in args.k:
        batch = items[:k]
        w, c = time.perf_counter(), time.process_time()
        result = verify_batch(pvk, batch)
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        assert result.ok, result
        print(f"batch k={k}: {wall:.2f} s wall, {cpu:.2f} s CPU -> {k / cpu:.1f} proofs/s "
              f"({k / cpu / single_rate:.1f}x single)")

    bad = list(items[:10])
    bad[3] = (bad[3][0], bad[4][1])
    w, c = time.perf_counter(), time.process_time()
    result = verify_batch(pvk, bad)
    print(f"batch k=10 with 1 bad proof: {time.perf_counter() - w:.2f} s wall, {time.process_time() - c:.2f} s CPU, "
          f"{result.checks} checks, bad {result.bad}")

    points = [g2_mul(G2_GENERATOR, rng.randrange(1, R)) for _ in range(20)]
    fast = _timed(lambda: [g2_in_subgroup(p) for p in points], 3)[1] / len(points)
    slow = _timed(lambda: [_g2_in_subgroup_by_order(p) for p in points], 3)[1] / len(points)
    print(f"G2 subgroup check: endomorphism test {fast * 1e3:.1f} ms, r*P {slow * 1e3:.1f} ms "
          f"-> {slow / fast:.1f}x faster")


if __name__ == "__main__":
    main()
