# Sourced by the other scripts: a project virtualenv (.venv) with zkmargin installed editable.
# Reinstalls when pyproject.toml changes. Set ZKMARGIN_PYTHON to choose the interpreter (>= 3.11).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${ZKMARGIN_PYTHON:-python3}"
EXTRAS="${ZKMARGIN_EXTRAS:-prover,dev}"
STAMP=".venv/.zkmargin-install-$(sha256sum pyproject.toml | cut -c1-16)-${EXTRAS//,/-}"
if [ ! -f "$STAMP" ]; then
  echo "==> installing zkmargin[$EXTRAS] into .venv (first run only; a few minutes)" >&2
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]" >&2
  rm -f .venv/.zkmargin-install-*
  touch "$STAMP"
  if [[ ",$EXTRAS," == *",prover,"* ]]; then
    # numba's kernels (prover and pairing), compiled once for this machine, with progress
    .venv/bin/zkmargin warmup >&2
  fi
fi
export PATH="$ROOT/.venv/bin:$PATH"
export PYTHONSAFEPATH=1
