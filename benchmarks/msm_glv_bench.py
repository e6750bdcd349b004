"""Side by side, interleaved: the G1 MSM with and without the GLV split, and whole in-process proofs.

    python -m zkmargin.benchmarks.msm_glv_bench                   # 2^16 and 2^20, 3 rounds each
    python -m zkmargin.benchmarks.msm_glv_bench --sizes 16 --rounds 5 --workdir /tmp/glv

Per size 2^k: (1) G1 MSMs of 2^k random bases with random and witness-like scalars (90% 0/1),
GLV off and on in alternation (``_msm.msm(..., glv=...)``, window from the cost model); (2) the
synthetic circuit of ``prover_bench`` (its files are built once in ``--workdir``, or reused from
there), proved in one process in alternation with ``_msm.USE_GLV`` False and True (same key and
witness, so both see the same machine load); (3) the peak RSS of a fresh process that loads the
files and proves once, per mode. Prints every round (wall, CPU, load average) and the minimum and
median per mode: on a shared machine the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVE = """
import resource, sys
from zkmargin.prover import _msm
from zkmargin.benchmarks.prover_bench import _load
from zkmargin.prover.fast import prove_fast
_msm.USE_GLV = sys.argv[2] == "1"
pk, w, _ = _load(__import__("pathlib").Path(sys.argv[1]))
prove_fast(pk, w)
print("@@rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _load_avg() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def _timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def _summary(name: str, rows: list[tuple[float, float]]) -> None:
    walls, cpus = [r[0] for r in rows], [r[1] for r in rows]
    print(f"  {name:<34s} wall min {min(walls):7.3f} med {statistics.median(walls):7.3f}   "
          f"cpu min {min(cpus):7.3f} med {statistics.median(cpus):7.3f}", flush=True)


def _msm_rounds(k: int, rounds: int) -> None:
    import numpy as np

    from zkmargin import curve
    from zkmargin.prover import _msm, kernels

    m = 1 << k
    rng = np.random.default_rng(k)
    rand = rng.integers(0, 1 << 63, size=(m, 4), dtype=np.uint64)
    rand[:, 3] >>= np.uint64(4)
    bases = kernels.fixed_base_g1_array(curve.G1_GENERATOR, rand[::-1].copy())
    wit = rand.copy()
    u = rng.random(m)
    wit[u < 0.9] = 0
    wit[(u >= 0.45) & (u < 0.9), 0] = 1
    for glv in (False, True):  # warm-up (compile or load the cache)
        _msm.msm(bases[:1024], rand[:1024], glv=glv)
    res: dict[str, list[tuple[float, float]]] = {}
    for r in range(rounds):
        for label, s in (("random", rand), ("90% 0/1", wit)):
            for glv in (False, True):
                name = f"G1 MSM 2^{k} {label} {'GLV' if glv else 'plain'}"
                t = _timed(lambda s=s, glv=glv: _msm.msm(bases, s, glv=glv))
                res.setdefault(name, []).append(t)
                print(f"  round {r}: {name:<34s} wall {t[0]:7.3f} cpu {t[1]:7.3f} load {_load_avg()}", flush=True)
    for name, rows in res.items():
        _summary(name, rows)


def _prove_rounds(d: Path, rounds: int) -> None:
    from zkmargin.benchmarks.prover_bench import _load
    from zkmargin.prover import _msm
    from zkmargin.prover.fast import prove_fast

    pk, w, _ = _load(d)
    for flag in (False, True):
        _msm.USE_GLV = flag
        prove_fast(pk, w)
    res: dict[str, list[tuple[float, float]]] = {}
    phases: dict[str, list[dict[str, float]]] = {}
    for r in range(rounds):
        for flag in (False, True):
            _msm.USE_GLV = flag
            name = f"prove {'GLV' if flag else 'plain'}"
            tm: dict[str, float] = {}
            t = _timed(lambda tm=tm: prove_fast(pk, w, timings=tm))
            res.setdefault(name, []).append(t)
            phases.setdefault(name, []).append(tm)
            ph = " ".join(f"{p}={v:.3f}" for p, v in tm.items() if v >= 0.0005)
            print(f"  round {r}: {name:<12s} wall {t[0]:7.3f} cpu {t[1]:7.3f} load {_load_avg()}  {ph}", flush=True)
    _msm.USE_GLV = True
    for name, rows in res.items():
        _summary(name, rows)
        med = {p: statistics.median(tm.get(p, 0.0) for tm in phases[name]) for p in phases[name][0]}
        print("    phases (median): " + " ".join(f"{p}={v:.3f}" for p, v in med.items() if v >= 0.0005))


def _peak_rss(d: Path) -> None:
    for flag in ("0", "1"):
        out = subprocess.run([sys.executable, "-P", "-c", SERVE, str(d), flag], capture_output=True, text=True,
                             check=True).stdout
        rss = next(line.split()[1] for line in out.splitlines() if line.startswith("@@rss"))
        print(f"  peak RSS, one proof, {'GLV' if flag == '1' else 'plain'}: {float(rss):.0f} MiB", flush=True)


def _case_dir(workdir: Path, k: int) -> Path:
    d = workdir / f"k{k}"
    if not (d / "c.zkey").exists():
        d.mkdir(parents=True, exist_ok=True)
        print(f"  building the 2^{k} case in {d}", flush=True)
        subprocess.run([sys.executable, "-P", "-c", "import sys; from zkmargin.benchmarks.prover_bench import "
                        "_prepare_main; _prepare_main(sys.argv[1:])", str(d), str(k)], check=True,
                       stdout=subprocess.DEVNULL)
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="16,20", help="comma-separated k (2^k), default 16,20")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None, help="where the circuit files are built or found")
    ap.add_argument("--no-msm", action="store_true", help="skip the MSM-only rounds")
    ap.add_argument("--no-rss", action="store_true", help="skip the peak-RSS subprocesses")
    args = ap.parse_args()
    import numba

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="zkmargin-glv-"))
    print(f"numba {numba.__version__}, threads {numba.get_num_threads()}, load {_load_avg()}", flush=True)
    for k in (int(x) for x in args.sizes.split(",")):
        print(f"2^{k}:", flush=True)
        if not args.no_msm:
            _msm_rounds(k, args.rounds)
        d = _case_dir(workdir, k)
        _prove_rounds(d, args.rounds)
        if not args.no_rss:
            _peak_rss(d)
    print(f"load at the end {_load_avg()}")


if __name__ == "__main__":
    main()
