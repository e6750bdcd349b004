"""Run a serial, GIL-releasing kernel over index ranges on several Python threads (private).

The numba kernels of the prover (``prover._msm``) and of the verifier's pairing (``verifier.fast``)
split coarse work (MSM windows, chunks of points, pairs of a Miller loop) over the cores this way
rather than with ``parallel=True``: numba compiles a ``parfor`` loop body a second time as a gufunc
after its parfor passes, which costs about three times the compilation of the same kernel written
serially (7.5 against 2.2 CPU-s for the G2 bucket kernel of the MSM, measured), and at this grain
threads started from Python cost nothing measurable (a thread start is tens of microseconds).
The kernels must be compiled with ``nogil=True``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["run_in_parts"]


def run_in_parts(part: Callable[[int, int], None], n: int, threads: int) -> None:
    """``part(lo, hi)`` over [0, n) split into ``min(threads, n)`` contiguous ranges, one thread each.

    The calling thread runs the first range itself; an exception raised in any range is re-raised
    here once every range has finished.
    """
    t = min(threads, n)
    if t <= 1:
        if n > 0:
            part(0, n)
        return
    errors: list[BaseException] = []

    def guarded(lo: int, hi: int) -> None:
        try:
            part(lo, hi)
        except BaseException as e:  # re-raised in the caller's thread below
            errors.append(e)

    others = [threading.Thread(target=guarded, args=(k * n // t, (k + 1) * n // t)) for k in range(1, t)]
    for th in others:
        th.start()
    guarded(0, n // t)
    for th in others:
        th.join()
    if errors:
        raise errors[0]
