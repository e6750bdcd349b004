"""CI runs the fast backends: the numba prover and the numba pairing, not their Python fallbacks.

Both fall back silently where numba is missing or the JIT is off (zkmargin.prover.backend,
zkmargin.verifier.groth16_verify.fast_backend), which is right for a user and wrong for CI: there
the prover tests would run the reference path only, and the pairing tests would compare py_ecc
with itself. Outside CI there is nothing to assert, and the test says so by skipping.
"""

from __future__ import annotations

import pytest

from zkmargin.prover import backend
from zkmargin.verifier.groth16_verify import fast_backend


def test_ci_runs_the_numba_prover_and_pairing(ci: bool) -> None:
    if not ci:
        pytest.skip("not under CI: the fallback to the Python backends is allowed here")
    import numba

    if numba.config.DISABLE_JIT:
        # Only the kernels' pure-Python run of scripts/test.sh may have the JIT off (it declares it).
        pytest.skip("[no-jit] NUMBA_DISABLE_JIT=1: the Python backends are the point of this run")
    assert backend.backend_name() == "numba", "CI is running the pure-Python prover: the numba prover did not load"
    assert fast_backend() is not None, "CI is verifying with py_ecc: the numba pairing did not load"
