"""Timing of the numba Groth16 verifier (zkmargin.verifier.fast) against py_ecc.

Usage::

    python benchmarks/verify_fast_bench.py [--n-public 3] [--batch 64] [--repeat 200] [--py-ecc] [--json]

Proofs are simulated from a trapdoor key (tests/verifier/_simulate.py), so no circuit or prover
is needed. Reports the median over ``--repeat`` runs (milliseconds) of:

- ``verify_fast``: one proof, end to end from Python objects (validation included) with a
  PreparedVerifyingKey, and its parts: proof validation (the G2 subgroup check of B in numba),
  the subgroup check alone, vk_x, the Miller loop (B on the fly, -gamma and -delta prepared), the
  final exponentiation, and the alternative check with a 4th Miller loop instead of the
  precomputed e(alpha, beta);
- a batch of ``--batch`` proofs: validation of every proof (subgroup checks spread over numba's
  threads), then the random-linear-combination check (128-bit scalars: k G1 multiplications,
  k + 3 Miller loops, one final exponentiation), reported per proof;
- with ``--py-ecc``, one run of the base-install ``verify`` for comparison.

The first call of each kernel loads it from numba's cache (or compiles it, about a minute, on the
very first run); that time is reported separately as ``warmup``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zkmargin.field import R
from zkmargin.verifier import fast, prepare_verifying_key, verify
from zkmargin.verifier import groth16_verify as gv

_SIM = Path(__file__).resolve().parents[1] / "tests" / "verifier" / "_simulate.py"


def _load_simulate() -> Any:
    spec = importlib.util.spec_from_file_location("zkmargin_bench_simulate", _SIM)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def _validate_batch(pvk: Any, publics: list[tuple[int, ...]], proofs: list[Any]) -> list[tuple]:
    """What a batch verifier does per proof: the checks of validate_proof, subgroup checks batched."""
    items = []
    for xs, proof in zip(publics, proofs, strict=True):
        xs = gv.validate_public_inputs(xs, pvk.n_public)
        a = gv._check_g1(proof.a, "proof.a")
        b = gv._check_g2_on_twist(proof.b, "proof.b")
        c = gv._check_g1(proof.c, "proof.c")
        items.append((xs, a, b, c))
    ok = fast.g2_in_subgroup_many_fast([b for _, _, b, _ in items])
    if not all(ok):
        raise AssertionError("a simulated proof failed its subgroup check")
    return items


def run(n_public: int, batch: int, repeat: int, with_py_ecc: bool) -> dict[str, float]:
    import random

    sim = _load_simulate()
    rng = random.Random(1)
    td = sim.random_vk_with_trapdoor(n_public, rng)
    publics = [tuple(rng.randrange(R) for _ in range(n_public)) for _ in range(max(batch, 1))]
    proofs = [sim.simulated_proof(td, xs) for xs in publics]
    pvk = prepare_verifying_key(td.vk)
    xs0, proof0 = publics[0], proofs[0]
    res: dict[str, float] = {}

    t = time.perf_counter()
    fvk = fast.prepare_fast(pvk)
    assert fast.verify_fast(pvk, xs0, proof0)
    res["warmup_s"] = time.perf_counter() - t

    res["verify_fast_ms"] = _median_ms(lambda: fast.verify_fast(pvk, xs0, proof0), repeat)
    res["validate_proof_fast_ms"] = _median_ms(lambda: fast.validate_proof_fast(proof0), repeat)
    res["g2_subgroup_check_ms"] = _median_ms(lambda: fast.g2_in_subgroup_fast(proof0.b), repeat)
    res["vk_x_ms"] = _median_ms(lambda: fast.g1_lincomb_fast(pvk.gamma_abc_g1, (1, *xs0)), repeat)
    vk_x = fast.g1_lincomb_fast(pvk.gamma_abc_g1, (1, *xs0))
    g1s = [proof0.a, vk_x, proof0.c]
    g2s = [proof0.b, fvk.neg_gamma, fvk.neg_delta]
    f = fast.multi_miller_loop(g1s, g2s)
    res["miller_loop_3_pairs_ms"] = _median_ms(lambda: fast.multi_miller_loop(g1s, g2s), repeat)
    res["miller_loop_1_pair_ms"] = _median_ms(lambda: fast.multi_miller_loop([proof0.a], [proof0.b]), repeat)
    res["miller_loop_1_prepared_ms"] = _median_ms(lambda: fast.multi_miller_loop([vk_x], [fvk.neg_gamma]), repeat)
    res["final_exponentiation_ms"] = _median_ms(lambda: fast.final_exponentiation(f), repeat)
    g1s4 = [pvk.alpha_g1, *g1s]
    g2s4 = [fvk.neg_beta, *g2s]
    assert fast.pairing_product_is_one_fast(list(zip(g1s4, g2s4, strict=True)))
    res["check_4_miller_loops_ms"] = _median_ms(
        lambda: fast.pairing_product_is_one_fast(list(zip(g1s4, g2s4, strict=True))), repeat
    )
    res["check_3_miller_loops_times_e_alpha_beta_ms"] = _median_ms(
        lambda: fast.final_exponentiation(fast.multi_miller_loop(g1s, g2s)) == fvk.alpha_beta, repeat
    )

    if batch > 0:
        reps = max(3, repeat // 20)

        def one_batch() -> bool:
            items = _validate_batch(pvk, publics, proofs)
            rhos = [secrets.randbits(128) | 1 for _ in items]
            return fast.groth16_batch_check_fast(fvk, items, rhos)

        assert one_batch()
        res["batch_size"] = batch
        res["batch_total_ms"] = _median_ms(one_batch, reps)
        res["batch_per_proof_ms"] = res["batch_total_ms"] / batch
        items = _validate_batch(pvk, publics, proofs)
        rhos = [secrets.randbits(128) | 1 for _ in items]
        res["batch_validate_per_proof_ms"] = _median_ms(lambda: _validate_batch(pvk, publics, proofs), reps) / batch
        res["batch_g1_mul_per_proof_ms"] = (
            _median_ms(lambda: fast.g1_mul_many_fast([a for _, a, _, _ in items], rhos), reps) / batch
        )
        ra = fast.g1_mul_many_fast([a for _, a, _, _ in items], rhos)
        g1b = [*ra, pvk.alpha_g1, vk_x, proof0.c]
        g2b = [b for _, _, b, _ in items] + [fvk.neg_beta, fvk.neg_gamma, fvk.neg_delta]
        res["batch_miller_loop_per_proof_ms"] = _median_ms(lambda: fast.multi_miller_loop(g1b, g2b), reps) / batch
        res["batch_proofs_per_s"] = 1e3 / res["batch_per_proof_ms"]

    if with_py_ecc:
        t = time.perf_counter()
        assert verify(pvk, xs0, proof0)
        res["py_ecc_verify_ms"] = (time.perf_counter() - t) * 1e3
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-public", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64, help="proofs per batch (0: skip the batch)")
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--py-ecc", action="store_true", help="also time the py_ecc verifier once")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    if not fast.fast_pairing_available():
        print("numba is missing or NUMBA_DISABLE_JIT is set: timings would be meaningless", file=sys.stderr)
    res = run(args.n_public, args.batch, args.repeat, args.py_ecc)
    res["numba_threads"] = fast._threads()
    res["cpus"] = os.cpu_count() or 0
    res["load_avg_1min"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        for key, value in res.items():
            print(f"{key:48s} {value:12.4f}" if isinstance(value, float) else f"{key:48s} {value:>12}")
    _ = np  # numpy is a dependency of the fast path; imported so a missing extra fails early


if __name__ == "__main__":
    main()
