"""Which prover backend runs: the numba kernels when ``zkmargin[prover]`` is installed, else Python.

``ZKMARGIN_BACKEND=python`` forces the pure-Python reference path (py_ecc); ``numba`` requires the
fast path (an ImportError says why it is missing). Under ``NUMBA_DISABLE_JIT=1`` the kernels would
run as interpreted Python, slower than the reference, so the reference is chosen.
"""

from __future__ import annotations

import functools
import logging
import os

__all__ = ["fast_available", "backend_name"]

log = logging.getLogger(__name__)


@functools.cache
def fast_available() -> bool:
    """True when the numba prover can and should run."""
    choice = os.environ.get("ZKMARGIN_BACKEND", "auto").lower()
    if choice not in ("auto", "python", "numba"):
        raise ValueError(f"ZKMARGIN_BACKEND={choice!r}: expected auto, python or numba")
    if choice == "python":
        return False
    try:
        import numba

        if getattr(numba.config, "DISABLE_JIT", False) and choice == "auto":
            return False
        from . import fast  # noqa: F401
    except ImportError as e:
        if choice == "numba":
            raise ImportError(f"ZKMARGIN_BACKEND=numba but the fast prover cannot load: {e}") from e
        log.info("numba prover unavailable (%s); using the pure-Python reference", e)
        return False
    return True


def backend_name() -> str:
    return "numba" if fast_available() else "python"
