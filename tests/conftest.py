"""Shared fixtures: locating the node cross-check tools (snarkjs, circomlibjs, solc).

Cross-checks skip only on a machine without node; under CI (CI=true) a missing tool is an error,
so a broken install can never turn the cross-checks into silent skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).parent / "node"
NODE_MODULES = Path(os.environ.get("ZKMARGIN_NODE_MODULES", NODE_DIR / "node_modules"))


def _missing(what: str) -> None:
    msg = f"{what} not available (run: npm install --prefix {NODE_DIR})"
    if os.environ.get("CI") == "true":
        pytest.fail(msg + " -- cross-checks must run in CI")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def node() -> str:
    exe = shutil.which("node")
    if exe is None:
        _missing("node")
    return str(exe)


@pytest.fixture(scope="session")
def snarkjs(node: str):
    """A callable running the snarkjs CLI: snarkjs("r1cs", "info", path) -> CompletedProcess."""
    cli = NODE_MODULES / "snarkjs" / "build" / "cli.cjs"
    if not cli.exists():
        _missing("snarkjs")

    def run(*args: str, check: bool = False, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [node, str(cli), *map(str, args)], capture_output=True, text=True, timeout=timeout, check=check
        )

    return run


@pytest.fixture(scope="session")
def node_eval(node: str):
    """Run a JS snippet with NODE_PATH at the tools' node_modules; returns parsed JSON of stdout."""
    if not NODE_MODULES.exists():
        _missing("node_modules")

    def run(js: str, timeout: float = 300):
        env = dict(os.environ, NODE_PATH=str(NODE_MODULES))
        p = subprocess.run([node, "-e", js], capture_output=True, text=True, timeout=timeout, env=env)
        if p.returncode != 0:
            raise RuntimeError(f"node failed: {p.stderr[-2000:]}")
        return json.loads(p.stdout)

    return run


_FIGURES: list[str] = []


@pytest.fixture(scope="session")
def report_figure():
    """Record a line for the 'zkmargin figures' section of the terminal summary (shown even when
    output is captured): measured figures a test prints, such as the verifier's gas."""
    return _FIGURES.append


def pytest_terminal_summary(terminalreporter) -> None:
    if _FIGURES:
        terminalreporter.section("zkmargin figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
