"""Verification throughput through the public API: single proofs, a batch of 1,000, a bad proof found.

    python benchmarks/verify_batch_bench.py [--k 1000] [--n-public 4] [--repeat 100]

Valid proofs come from a known trapdoor (no prover needed): alpha, beta, gamma, delta and the IC
exponents are random; for public inputs x and random a, b the proof is (aG1, bG2, cG1) with
c = (ab - alpha*beta - gamma*(u_0 + sum x_i u_i)) / delta. Prints the numba path's single
verification time, the batch rate, the time to find one bad proof among k, and the py_ecc figure.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from zkmargin import curve
from zkmargin.field import R
from zkmargin.groth16 import Proof, VerifyingKey
from zkmargin.prover import kernels
from zkmargin.verifier import groth16_verify as gv
from zkmargin.verifier import prepare_verifying_key, verify, verify_batch


def trapdoor_proofs(k: int, n_public: int, rng: random.Random) -> tuple[VerifyingKey, list[tuple[list[int], Proof]]]:
    alpha, beta, gamma, delta = (rng.randrange(1, R) for _ in range(4))
    u = [rng.randrange(1, R) for _ in range(n_public + 1)]
    g1, g2 = curve.G1_GENERATOR, curve.G2_GENERATOR
    vk = VerifyingKey(alpha_g1=curve.g1_mul(g1, alpha), beta_g2=curve.g2_mul(g2, beta),
                      gamma_g2=curve.g2_mul(g2, gamma), delta_g2=curve.g2_mul(g2, delta),
                      gamma_abc_g1=tuple(kernels.fixed_base_g1(g1, u)))
    publics = [[rng.randrange(R) for _ in range(n_public)] for _ in range(k)]
    a_s = [rng.randrange(1, R) for _ in range(k)]
    b_s = [rng.randrange(1, R) for _ in range(k)]
    d_inv = pow(delta, R - 2, R)
    c_s = [(a * b - alpha * beta - gamma * (u[0] + sum(x * ui for x, ui in zip(xs, u[1:], strict=True)))) * d_inv % R
           for a, b, xs in zip(a_s, b_s, publics, strict=True)]
    A = kernels.fixed_base_g1(g1, a_s)
    B = kernels.fixed_base_g2(g2, b_s)
    C = kernels.fixed_base_g1(g1, c_s)
    return vk, [(xs, Proof(a=a, b=b, c=c)) for xs, a, b, c in zip(publics, A, B, C, strict=True)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--k", type=int, default=1000, help="proofs in the batch")
    ap.add_argument("--n-public", type=int, default=4, help="public inputs per proof (a margin proof has 4)")
    ap.add_argument("--repeat", type=int, default=100, help="single verifications to time")
    args = ap.parse_args()
    rng = random.Random(2026)
    t = time.perf_counter()
    vk, items = trapdoor_proofs(args.k, args.n_public, rng)
    print(f"made {args.k} proofs with {args.n_public} public inputs in {time.perf_counter() - t:.1f}s")
    print(f"load average {os.getloadavg()[0]:.2f} (2-core machine, shared)")
    pvk = prepare_verifying_key(vk)
    backend = "numba" if gv.fast_backend() is not None else "py_ecc"
    assert verify(pvk, *items[0])  # warm-up: JIT cache load, key preparation
    times = []
    for i in range(args.repeat):
        xs, proof = items[i % len(items)]
        t = time.perf_counter()
        ok = verify(pvk, xs, proof)
        times.append(time.perf_counter() - t)
        assert ok
    print(f"single verify ({backend}, prepared key): median {statistics.median(times) * 1e3:.2f} ms, "
          f"min {min(times) * 1e3:.2f} ms over {args.repeat}")
    verify_batch(pvk, items[:8])  # warm-up of the batch kernels
    t = time.perf_counter()
    res = verify_batch(pvk, items)
    dt = time.perf_counter() - t
    print(f"batch of {args.k} valid: ok={res.ok} in {dt:.3f}s = {args.k / dt:,.0f} proofs/s ({res.checks} check)")
    bad_index = args.k * 537 // 1000
    tampered = list(items)
    xs, proof = tampered[bad_index]
    tampered[bad_index] = ([(xs[0] + 1) % R, *xs[1:]], proof)
    t = time.perf_counter()
    res = verify_batch(pvk, tampered)
    dt = time.perf_counter() - t
    print(f"batch of {args.k} with item {bad_index} tampered: ok={res.ok}, bad={res.bad} "
          f"in {dt:.3f}s ({res.checks} checks)")
    assert res.bad == [bad_index]
    os.environ["ZKMARGIN_VERIFY_BACKEND"] = "python"
    gv.fast_backend.cache_clear()
    pvk_py = prepare_verifying_key(vk)
    times = []
    for i in range(3):
        xs, proof = items[i]
        t = time.perf_counter()
        assert verify(pvk_py, xs, proof)
        times.append(time.perf_counter() - t)
    print(f"single verify (py_ecc, prepared key): median {statistics.median(times):.3f} s over 3")


if __name__ == "__main__":
    main()
