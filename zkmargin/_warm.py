"""The warm-up flows of ``zkmargin warmup`` (zkmargin.cli_perf), run as ``python -m zkmargin._warm PART``.

Private module: each part runs a tiny circuit through the code paths the command line uses, so that
numba compiles (and caches on disk) exactly the kernel specializations those flows need. Progress
goes to stdout as ``@@step PART NAME`` / ``@@done PART NAME SECONDS`` lines for the parent to show.
Also :func:`kernels_cached`, which says whether a part's kernels are already in numba's cache.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["PARTS", "kernels_cached", "cache_dir", "run_part"]

#: The parts ``zkmargin warmup`` compiles, each in its own process.
PARTS = ("prover", "verifier")

#: Entry kernels whose cache entries say that a part is compiled: (module, dispatcher name).
_PROBES: dict[str, tuple[tuple[str, str], ...]] = {
    "setup": (("zkmargin.prover._msm", "_fixed_base_affine_chunks"), ("zkmargin.prover._msm", "_table_rows_range")),
    "prover": (
        ("zkmargin._numba_field", "sparse_matvec"),
        ("zkmargin.prover._ntt", "_stage_range"),
        ("zkmargin.prover._ntt", "_local_blocks_range"),
        ("zkmargin.prover._msm", "_pippenger_affine_windows"),
        ("zkmargin.prover._msm", "_signed_digits_range"),
        ("zkmargin.prover._msm", "_glv_digits_range"),
    ),
    "verifier": (
        ("zkmargin.verifier._pairing_numba", "pairing_check_kernel"),
        ("zkmargin.verifier._pairing_numba", "miller_loop_kernel"),
        ("zkmargin.verifier._pairing_numba", "final_exponentiation_kernel"),
        ("zkmargin.verifier._pairing_numba", "g2_in_subgroup_kernel"),
    ),
}
_PART_MODULES = {"setup": "zkmargin.prover.kernels", "prover": "zkmargin.prover.kernels",
                 "verifier": "zkmargin.verifier.fast"}


def _dispatcher_cached(dispatcher: Any) -> bool:
    """Whether numba's on-disk cache holds a fresh entry for this dispatcher (any signature)."""
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # NullCache (cache off), an unusual numba, an unreadable file
        return False


def kernels_cached(part: str) -> bool:
    """Whether the kernels of ``part`` ("setup", "prover", "verifier") are in numba's cache.

    Imports the part's kernel modules (numba itself); True under ``NUMBA_DISABLE_JIT=1`` (nothing
    compiles there) and False when numba is missing.
    """
    import importlib

    try:
        importlib.import_module(_PART_MODULES[part])
        from zkmargin import _numba_field
    except ImportError:
        return False
    if _numba_field.DISABLE_JIT:
        return True
    for mod_name, name in _PROBES[part]:
        if not _dispatcher_cached(getattr(importlib.import_module(mod_name), name)):
            return False
    return True


def cache_dir() -> str:
    return os.environ.get("NUMBA_CACHE_DIR") or "__pycache__ folders next to the kernels' sources"


# --- the warm-up flows (run in subprocesses: python -m zkmargin._warm PART) ----------------------

_INPUT = {"threshold": 1000, "asset_prices": [2000], "haircuts": [500], "marks": [100], "rates": [1000],
          "amounts": [50], "sizes": [-3], "entries": [90]}


def _step(part: str, name: str, fn: Callable[[], Any]) -> Any:
    print(f"@@step {part} {name}", flush=True)
    t = time.perf_counter()
    out = fn()
    print(f"@@done {part} {name} {time.perf_counter() - t:.2f}", flush=True)
    return out


def _warm_prover() -> None:
    """A tiny circuit through the CLI's own paths: setup, .zkey and .wtns round trip, prove."""
    import tempfile  # (here: zkmargin.cli imports this module at start-up)
    import warnings

    from zkmargin.circuits import build
    from zkmargin.circuits.margin.cross_simple import CrossMarginSimple
    from zkmargin.prover import PhaseTimings, prove, setup
    from zkmargin.serialize import write_wtns, write_zkey

    _step("prover", "import", lambda: __import__("zkmargin.prover.fast"))
    cs, w = build(CrossMarginSimple(n_positions=1, n_assets=1, **_INPUT))  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pk, _vk = _step("prover", "setup kernels", lambda: setup(cs))
    with tempfile.TemporaryDirectory(prefix="zkmargin-warmup-") as d:
        zkey, wtns = Path(d) / "w.zkey", Path(d) / "w.wtns"
        write_zkey(pk, zkey)
        write_wtns(w, wtns)
        pk2, w2 = _read_for_prove(zkey, wtns)
        _step("prover", "prover kernels", lambda: prove(pk2, w2, None, timings=PhaseTimings()))
    # a domain above the NTT's cache-local block size: the global stages (a tiny circuit stays below)
    from zkmargin.prover import _ntt, kernels

    _step("prover", "wide NTT", lambda: kernels.odd_coset_values(kernels.fr_to_array([1] * (2 << _ntt.LOCAL_LOG))))


def _warm_verifier() -> None:
    """The numba pairing's kernels: single and batch checks, parallel variants included."""
    from zkmargin import curve

    fast = _step("verifier", "import", lambda: __import__("zkmargin.verifier.fast", fromlist=["x"]))
    n = fast.PARALLEL_MIN_PAIRS
    g1 = [curve.g1_mul(curve.G1_GENERATOR, k + 2) for k in range(n)]
    g2 = [curve.G2_GENERATOR] * n

    def single() -> None:
        fast.g2_in_subgroup_fast(curve.G2_GENERATOR)
        fast.pairing_product_is_one_fast([(g1[0], g2[0]), (curve.g1_neg(g1[0]), fast.PreparedG2(g2[0]))])
        fast.g1_lincomb_fast(g1[:2], [3, 5])
        fast.is_one(fast.pairing(g1[0], g2[0]))

    def batch() -> None:
        fast.g2_in_subgroup_many_fast(g2)
        fast.g1_mul_many_fast(g1, list(range(1, n + 1)))
        fast.g1_mul_many_fast(g1[:2], [1, 2])
        fast.final_exponentiation(fast.multi_miller_loop(g1, g2))
        fast.pairing_product_is_one_fast(list(zip(g1, g2, strict=True)))

    _step("verifier", "single-proof kernels", single)
    _step("verifier", "batch kernels", batch)


def _read_for_prove(zkey: Path, wtns: Path) -> tuple[Any, Any]:
    """The proving key and witness as ``zkmargin prove --witness`` reads them (mapped arrays)."""
    from zkmargin.serialize._mmap import read_wtns_array, read_zkey_mapped

    return read_zkey_mapped(zkey), read_wtns_array(wtns)


def run_part(part: str) -> None:
    {"prover": _warm_prover, "verifier": _warm_verifier}[part]()



def _main(argv: Iterable[str]) -> int:
    for part in argv:
        run_part(part)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
