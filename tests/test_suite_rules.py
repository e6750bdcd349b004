"""Rules about the suite itself: the fast tier holds no test that is heavy by declaration.

``pytest -m "not slow"`` is the default tier. A ``slow`` mark protects it only when it sits on the
test: a decorator that slipped onto the helper above a test marks nothing (this is how the
10,000-case hostile fuzz once ran in the fast tier). These tests collect the real suite in a
subprocess with the ``_suite_audit`` plugin and check two rules, each with a positive control on
a synthetic test module that breaks it:

- no ``pytest.mark.*`` sits on a function or class pytest does not collect;
- every test that reads a long-run size knob (``_suite_audit.HEAVY_KNOBS``) is marked ``slow``, so
  none of them is left after ``-m "not slow"``;
- every test that uses the node tools (the ``node`` fixture) is marked ``node``;
- no test returns early on a condition about its environment (a backend, a module, a tool, an
  environment variable): it skips, so that the CI rule of tests/conftest.py turns it into a failure
  where the environment should have it, instead of passing silently.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent


def _audit(target: Path, tmp_path: Path, *extra: str) -> dict[str, Any]:
    """Collect ``target`` with ``-m "not slow"`` and the audit plugin; returns its JSON report."""
    out = tmp_path / "audit.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
               ZKMARGIN_SUITE_AUDIT=str(out), PYTHONSAFEPATH="1")
    cmd = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "not slow", "-p", "_suite_audit",
           "-p", "no:cacheprovider", *extra, str(target)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=target if target.is_dir()
                       else target.parent)
    assert p.returncode == 0, f"collection failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return json.loads(out.read_text())


def _check(report: dict[str, Any]) -> list[str]:
    problems = [f"mark on something pytest does not collect: {m}" for m in report["misplaced"]]
    problems += [f"{n} uses the node tools without the node mark" for n in report["node_unmarked"]]
    fast = set(report["fast"])
    for nodeid, info in sorted(report["heavy"].items()):
        if not info["slow"] or nodeid in fast:
            problems.append(f"{nodeid} reads {', '.join(info['knobs'])} but is in the fast tier (mark it slow)")
    return problems


def test_fast_tier_holds_no_test_that_is_heavy_by_declaration(tmp_path: Path) -> None:
    report = _audit(TESTS, tmp_path, "--rootdir", str(TESTS.parent))
    assert _check(report) == []
    # The audit saw the suite: the whole of it, the long fuzz among the heavy tests, some slow tests.
    assert report["n_collected"] > 500 and len(report["fast"]) < report["n_collected"]
    heavy = report["heavy"]
    assert any(n.endswith("test_fuzz_hostile.py::test_fuzz_hostile_long") for n in heavy), sorted(heavy)
    assert not any(n.endswith("::test_fuzz_hostile_default") for n in heavy)  # reads no long-run knob


_BROKEN = '''
import os

import pytest

LONG = int(os.environ.get("ZKMARGIN_FUZZ_CASES", "10000"))


@pytest.mark.slow
def _summary(n):
    return str(n)


def test_long_run_unmarked():
    assert _summary(range(LONG))


def _cases():
    return int(os.environ.get("ZKMARGIN_MARGIN_CASES", "500"))


@pytest.fixture
def many():
    return _cases()


def test_long_through_a_fixture(many):
    assert many


@pytest.mark.slow
def test_long_run_marked():
    assert LONG


class Helper:
    pytestmark = [pytest.mark.slow]


def test_short():
    assert _summary(3) == "3"


@pytest.fixture
def node():
    return "node"


def test_uses_node_unmarked(node):
    assert node


@pytest.mark.node
def test_uses_node_marked(node):
    assert node
'''


def test_audit_catches_a_mark_on_a_helper_and_an_unmarked_heavy_test(tmp_path: Path) -> None:
    """Positive control: the mistake that left the long fuzz in the fast tier, and its variants."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "pytest.ini").write_text(
        "[pytest]\naddopts = --import-mode=importlib\nmarkers =\n    slow: long\n    node: node tools\n"
    )
    (suite / "test_broken.py").write_text(textwrap.dedent(_BROKEN))
    report = _audit(suite, tmp_path, "--rootdir", str(suite), "-c", str(suite / "pytest.ini"))
    problems = _check(report)
    assert any("test_broken::_summary: slow" in p for p in problems), problems
    assert any("test_broken::Helper: slow" in p for p in problems), problems
    assert any("test_long_run_unmarked reads ZKMARGIN_FUZZ_CASES" in p for p in problems), problems
    assert any("test_long_through_a_fixture reads ZKMARGIN_MARGIN_CASES" in p for p in problems), problems
    assert any("test_uses_node_unmarked uses the node tools" in p for p in problems), problems
    assert len(problems) == 5, problems  # the marked long run, test_short and the marked node test are fine
    assert sorted(report["heavy"]) == [
        "test_broken.py::test_long_run_marked",
        "test_broken.py::test_long_run_unmarked",
        "test_broken.py::test_long_through_a_fixture",
    ]


#: Names whose appearance in an ``if`` condition makes it a question about the environment.
_ENVIRONMENT = ("fast_available", "fast_backend", "find_spec", "which", "environ", "DISABLE_JIT", "getenv",
                "find_snarkjs", "backend_name")


def silent_environment_returns(source: str, filename: str) -> list[str]:
    """``file:line test`` for each bare ``return`` a test takes under an ``if`` about the environment."""
    out = []
    tree = ast.parse(source)
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or not fn.name.startswith("test"):
            continue
        for node in ast.walk(fn):
            if not isinstance(node, ast.If):
                continue
            names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
            names |= {n.attr for n in ast.walk(node.test) if isinstance(n, ast.Attribute)}
            if not names & set(_ENVIRONMENT):
                continue
            for stmt in ast.walk(ast.Module(body=node.body, type_ignores=[])):
                if isinstance(stmt, ast.Return) and (stmt.value is None or isinstance(stmt.value, ast.Constant)):
                    out.append(f"{filename}:{stmt.lineno} {fn.name}")
    return out


def test_no_test_passes_silently_when_its_environment_is_missing() -> None:
    problems = []
    for path in sorted(TESTS.rglob("test_*.py")):
        if "node_modules" in path.parts:
            continue
        problems += silent_environment_returns(path.read_text(encoding="utf-8"), path.relative_to(TESTS).as_posix())
    assert problems == [], "return early instead of pytest.skip (which fails under CI): " + ", ".join(problems)


def test_silent_return_check_sees_the_pattern() -> None:
    """Positive control: the early return of a published-rules test (fixed), and what is fine."""
    source = textwrap.dedent('''
        def test_proved(case):
            assert check(case)
            if not case["passes"] or not backend.fast_available():
                return
            prove(case)

        def test_fine(case):
            if not case["passes"]:
                return
            if not backend.fast_available():
                pytest.skip("needs numba")
            if os.environ.get("X"):
                x = 1
    ''')
    assert silent_environment_returns(source, "t.py") == ["t.py:5 test_proved"]
