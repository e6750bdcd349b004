"""Timings of the numba prover kernels (zkmargin.prover.kernels).

    python benchmarks/kernels_timing.py            # 2^16 sizes, NTT 2^20
    python benchmarks/kernels_timing.py --big      # adds MSM / fixed-base at 2^20 (a minute more)

Each line shows the best wall time of a few repeats and the process CPU time of that run
(CPU/wall near the thread count means both cores were working; on a shared machine a wall time
well above CPU/threads means the run waited for a core). The first run compiles the kernels
(cached afterwards); compilation is excluded from the numbers. Peak RSS is printed at the end.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable

import numba
import numpy as np

from zkmargin import _numba_field as _field
from zkmargin import curve
from zkmargin.prover import _msm, kernels


def _best(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    fn()  # warm-up (compile or load from cache)
    best = (float("inf"), 0.0)
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if wall < best[0]:
            best = (wall, cpu)
    return best


def _report(name: str, wall: float, cpu: float) -> None:
    print(f"{name:<44s} {wall * 1e3:10.1f} ms wall {cpu * 1e3:10.1f} ms cpu")


def _random_scalars(n: int, seed: int) -> np.ndarray:
    s = np.random.default_rng(seed).integers(0, 1 << 63, size=(n, 4), dtype=np.uint64)
    s[:, 3] >>= np.uint64(4)  # < 2^252 < r
    return s


def _witness_like(n: int, seed: int) -> np.ndarray:
    """90% zeros and ones (half each), 10% random: a witness full of range-check bits."""
    s = _random_scalars(n, seed)
    u = np.random.default_rng(seed + 1).random(n)
    s[u < 0.9] = 0
    s[(u >= 0.45) & (u < 0.9), 0] = 1
    return s


@numba.njit(cache=False)  # inlines _field: a stale cache would time old code
def _mul_chain(a, b, k):
    x = a
    for _ in range(k):
        x = _field.fr_mul(x, b)
    return x


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--big", action="store_true", help="also MSM and fixed-base at 2^20")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rep = args.repeats
    print(f"numba {numba.__version__}, threads {numba.get_num_threads()}, layer {numba.threading_layer()}")

    k = 2_000_000
    a, b = _field.FR_ONE, _field.FR_R2
    wall, cpu = _best(lambda: _mul_chain(a, b, k), rep)
    print(f"{'Fr mul (dependent chain)':<44s} {wall / k * 1e9:10.1f} ns")
    n = 1 << 20
    x = kernels.fr_to_array(list(range(1, n + 1)))
    y = x[::-1].copy()
    wall, cpu = _best(lambda: kernels.fr_mul_arrays(x, y), rep)
    print(f"{'Fr mul (vector 2^20, all threads)':<44s} {wall / n * 1e9:10.1f} ns/elem")

    ints = [int(v) for v in range(3 ** 30, 3 ** 30 + n)]
    _report("fr_to_array 2^20", *_best(lambda: kernels.fr_to_array(ints), rep))
    _report("fr_from_array 2^20", *_best(lambda: kernels.fr_from_array(x), rep))

    for logn in (16, 20):
        v = x[: 1 << logn].copy()
        _report(f"NTT 2^{logn}", *_best(lambda v=v: kernels.ntt(v, inplace=True), rep))
        wall, cpu = _best(lambda v=v: kernels.odd_coset_values(v, inplace=True), rep)
        _report(f"odd_coset_values 2^{logn}", wall, cpu)

    sizes = [16] + ([20] if args.big else [])
    for logn in sizes:
        m = 1 << logn
        ks = _random_scalars(m, 1)
        wall, cpu = _best(lambda ks=ks: kernels.fixed_base_g1_array(curve.G1_GENERATOR, ks), rep)
        _report(f"fixed-base G1 2^{logn} (table cached)", wall, cpu)
        b1 = kernels.fixed_base_g1_array(curve.G1_GENERATOR, ks)
        wall, cpu = _best(lambda ks=ks: kernels.fixed_base_g2_array(curve.G2_GENERATOR, ks), 1)
        _report(f"fixed-base G2 2^{logn} (table cached)", wall, cpu)
        b2 = kernels.fixed_base_g2_array(curve.G2_GENERATOR, ks)
        s_rand, s_wit = _random_scalars(m, 2), _witness_like(m, 3)
        runs = [
            (f"G1 MSM 2^{logn} random", lambda b1=b1, s=s_rand: kernels.msm_g1(b1, s)),
            (f"G1 MSM 2^{logn} random, XYZZ buckets", lambda b1=b1, s=s_rand: _msm.msm(b1, s, affine=False)),
            (f"G1 MSM 2^{logn} 90% 0/1", lambda b1=b1, s=s_wit: kernels.msm_g1(b1, s)),
            (f"G2 MSM 2^{logn} random", lambda b2=b2, s=s_rand: kernels.msm_g2(b2, s)),
            (f"G2 MSM 2^{logn} 90% 0/1", lambda b2=b2, s=s_wit: kernels.msm_g2(b2, s)),
        ]
        for name, fn in runs:
            _report(name, *_best(fn, rep))
        pts = kernels.g1_points_from_array(b1)
        _report(f"g1_points_to_array 2^{logn}", *_best(lambda pts=pts: kernels.g1_points_to_array(pts), rep))
        del pts

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
