#!/usr/bin/env bash
# Run the whole test-suite: installs zkmargin[prover,dev] into .venv and the node cross-check
# tools (snarkjs, circomlibjs, solc, circom2) into tests/node, runs ruff and mypy, then pytest twice: the
# full suite, and the numba kernel tests again with the JIT disabled (their pure-Python path).
# Extra arguments go to the first pytest run, e.g. scripts/test.sh -m "not slow" -x (the default tier)
source "$(dirname "$0")/_env.sh"
if command -v npm >/dev/null 2>&1; then
  if [ ! -f tests/node/node_modules/.zkmargin-stamp ] || [ tests/node/package.json -nt tests/node/node_modules/.zkmargin-stamp ] \
     || { [ -f tests/node/package-lock.json ] && [ tests/node/package-lock.json -nt tests/node/node_modules/.zkmargin-stamp ]; }; then
    echo "==> installing node cross-check tools into tests/node" >&2
    if [ -f tests/node/package-lock.json ]; then
      # exactly the committed lockfile's versions (npm ci fails if package.json and the lock disagree)
      (cd tests/node && npm ci --no-audit --no-fund --loglevel=error >&2)
    else
      (cd tests/node && npm install --no-audit --no-fund --loglevel=error >&2)
    fi
    touch tests/node/node_modules/.zkmargin-stamp
  fi
else
  echo "==> npm not found: cross-checks against snarkjs/circomlibjs/solc/circom will be skipped (they fail under CI)" >&2
fi
echo "==> ruff and mypy" >&2
ruff check .
mypy zkmargin circuits prover verifier
# both cores (pytest-xdist; ZKMARGIN_TEST_WORKERS=0 runs in one process); session fixtures are per worker
pytest -n "${ZKMARGIN_TEST_WORKERS:-2}" "$@"
if compgen -G "tests/prover/test_kernels_*.py" >/dev/null; then
  echo "==> kernel tests with NUMBA_DISABLE_JIT=1" >&2
  # Only the kernel files (collecting the rest of tests/prover would skip the numba prover's tests);
  # the run declares its one legitimate kind of skip, the JIT-only checks (tests/conftest.py).
  ZKMARGIN_ALLOW_SKIPS=no-jit NUMBA_DISABLE_JIT=1 pytest -q -p no:cacheprovider -m "not slow" tests/prover/test_kernels_*.py
fi
