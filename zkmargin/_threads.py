"""Run a serial, GIL-releasing kernel over index ranges on several Python threads (private).

The numba kernels of the prover (``prover._msm``) and of the verifier's pairing (``verifier.fast``)
split coarse work (MSM windows, chunks of points, pairs of a Miller loop) over the cores this way
rather than with ``parallel=True``: numba compiles a ``parfor`` loop body a second time as a gufunc
after its parfor passes, which costs about three times the compilation of the same kernel written
serially (7.5 against 2.2 CPU-s for the G2 bucket kernel of the MSM, measured). The helper threads
are kept in a pool (per process: a forked child makes its own), so a call costs tens of
microseconds (starting threads per call cost 5 ms in three 2^16 NTTs: 8%, measured).
The kernels must be compiled with ``nogil=True``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["run_in_parts", "kernel_threads", "run_kernel"]


_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_key = (0, 0)  # (pid, workers) of _pool


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_key
    with _lock:
        key = (os.getpid(), workers)
        if _pool is None or _pool_key[0] != key[0] or _pool_key[1] < workers:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zkmargin-kernel")
            _pool_key = key
        return _pool


def run_in_parts(part: Callable[[int, int], None], n: int, threads: int) -> None:
    """``part(lo, hi)`` over [0, n) split into ``min(threads, n)`` contiguous ranges, run at once.

    The calling thread runs the first range itself, pooled threads the others; an exception raised
    in any range is re-raised here once every range has finished.
    """
    t = min(threads, n)
    if t <= 1:
        if n > 0:
            part(0, n)
        return
    pool = _executor(t - 1)
    futures: list[Future[None]] = [pool.submit(part, k * n // t, (k + 1) * n // t) for k in range(1, t)]
    error: BaseException | None = None
    try:
        part(0, n // t)
    except BaseException as e:  # re-raised once the other ranges are done (they use the arrays)
        error = e
    for f in futures:
        exc = f.exception()
        if error is None and exc is not None:
            error = exc
    if error is not None:
        raise error


def kernel_threads() -> int:
    """How many parts a kernel call splits into: numba's thread count, 1 under ``NUMBA_DISABLE_JIT=1``
    (the kernels then run as Python, which holds the GIL). Imports numba only when called (this
    module is imported by ``zkmargin.verifier.fast``, which the base install loads without numba)."""
    import numba

    from zkmargin._numba_field import DISABLE_JIT

    return 1 if DISABLE_JIT else max(1, int(numba.get_num_threads()))


def run_kernel(kernel: Callable[..., None], n: int, args: tuple[Any, ...]) -> None:
    """``kernel(*args, lo, hi)`` over [0, n) in ``kernel_threads()`` contiguous parts (``run_in_parts``)."""
    run_in_parts(lambda lo, hi: kernel(*args, lo, hi), n, kernel_threads())
