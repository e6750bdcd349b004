"""Importing zkmargin.verifier loads none of the prover's dependencies (numpy, numba, galois),
nor the prover or circuit packages, nor the service's (SQLAlchemy, Starlette, ...): the base
install (py_ecc + click) must be enough to verify.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("numpy", "numba", "galois", "zkmargin.prover", "zkmargin.circuits",
         # the verification service's stack (zkmargin[service]): imported by ledger/service only
         "sqlalchemy", "psycopg", "starlette", "uvicorn", "distributed", "dask")

_SNIPPET = """
import json, sys
{pre}
import zkmargin.verifier
heavy = {heavy!r}
loaded = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))
print(json.dumps(loaded))
"""


def _loaded_after_import(tmp_path: Path, pre: str = "") -> list[str]:
    env = dict(os.environ, PYTHONSAFEPATH="1")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [sys.executable, "-c", _SNIPPET.format(pre=pre, heavy=HEAVY)],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the repository root, whose zkmargin/ folder could shadow the install
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_verifier_import_is_light(tmp_path: Path) -> None:
    assert _loaded_after_import(tmp_path) == []


def test_detection_sees_a_heavy_import(tmp_path: Path) -> None:
    """Positive control: the same probe does report numpy when something imports it."""
    import pytest

    pytest.importorskip("numpy")
    assert "numpy" in _loaded_after_import(tmp_path, pre="import numpy")
