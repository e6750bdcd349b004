"""Shared fixtures (the node cross-check tools: snarkjs, circomlibjs, solc, circom) and the CI rule.

The CI rule: under CI (the ``CI`` variable set to anything but empty, ``0`` or ``false``, in any
case) every skip is a failure. A test that skips because numba, a node tool or a dev dependency
is missing would otherwise turn a broken install into a green run. The only exception is a skip
the run declares legitimate: its reason starts with ``[TAG]``, the run lists TAG in
``ZKMARGIN_ALLOW_SKIPS`` (comma-separated), and TAG's condition in :data:`SKIP_ALLOWANCES` holds
(``no-jit``: the kernels' pure-Python run of scripts/test.sh, where NUMBA_DISABLE_JIT=1 leaves no
compiled dispatchers or cache to check). Skips at collection (module-level ``pytest.skip``,
``importorskip``) fail the same way; xfail is not a skip and is left alone.
tests/test_ci_skip_rule.py shows the rule on a synthetic suite.
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


#: Environment variable where a run declares the skip tags it allows (comma-separated).
ALLOW_SKIPS_ENV = "ZKMARGIN_ALLOW_SKIPS"
#: Skip tags a run may declare: tag -> (condition that must hold for the allowance, what it covers).
SKIP_ALLOWANCES = {
    "no-jit": (
        lambda: os.environ.get("NUMBA_DISABLE_JIT", "0").strip() not in ("", "0"),
        "checks of compiled numba dispatchers and their cache, in a NUMBA_DISABLE_JIT=1 run",
    ),
}


def under_ci() -> bool:
    """True when the ``CI`` variable is set to anything but empty, ``0`` or ``false`` (any case)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def _skip_reason(rep: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = rep.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr)
    return reason.removeprefix("Skipped: ")


def skip_allowed(reason: str) -> bool:
    """Whether a skip with this reason is declared legitimate for this run (see the module)."""
    if not reason.startswith("["):
        return False
    tag = reason[1:].split("]", 1)[0]
    declared = {t.strip() for t in os.environ.get(ALLOW_SKIPS_ENV, "").split(",") if t.strip()}
    return tag in declared and tag in SKIP_ALLOWANCES and SKIP_ALLOWANCES[tag][0]()


def _fail_skip_under_ci(rep: pytest.CollectReport | pytest.TestReport) -> None:
    if not rep.skipped or hasattr(rep, "wasxfail") or not under_ci():
        return
    reason = _skip_reason(rep)
    if skip_allowed(reason):
        return
    rep.outcome = "failed"
    rep.longrepr = (
        f"skipped under CI (CI={os.environ.get('CI')!r}), which the CI rule of tests/conftest.py turns into a "
        f"failure: {reason}\n(a skip this run may take starts with a tag declared in {ALLOW_SKIPS_ENV}: "
        f"{', '.join(f'[{t}] {why}' for t, (_, why) in SKIP_ALLOWANCES.items())})"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    rep = yield
    _fail_skip_under_ci(rep)
    return rep


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    rep = yield
    _fail_skip_under_ci(rep)
    return rep


@pytest.fixture(scope="session")
def ci() -> bool:
    """Whether this run is under CI (see :func:`under_ci`): tests that must run there assert on it."""
    return under_ci()


def _missing(what: str) -> None:
    msg = f"{what} not available (run: npm ci --prefix {NODE_DIR})"
    if under_ci():
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
def circom(node: str):
    """A callable running the circom 2 compiler: circom("c.circom", "--r1cs", ...) -> CompletedProcess.

    The npm package circom2 (tests/node/package.json): the circom compiler built to WebAssembly,
    run by node (no Rust toolchain or native binary needed).
    """
    cli = NODE_MODULES / "circom2" / "cli.js"
    if not cli.exists():
        _missing("circom2 (the circom compiler)")

    def run(*args: str, cwd: str | os.PathLike[str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [node, str(cli), *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd
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


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist (scripts/test.sh runs ``-n 2``), a worker hands its figures to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["zkmargin_figures"] = list(_FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """The controller's side (an xdist hook: optional, so the suite also runs without xdist)."""
    _FIGURES.extend(getattr(node, "workeroutput", {}).get("zkmargin_figures", []))


def pytest_terminal_summary(terminalreporter) -> None:
    if _FIGURES:
        terminalreporter.section("zkmargin figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
