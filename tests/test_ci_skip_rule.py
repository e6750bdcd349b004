"""The CI rule of tests/conftest.py: under CI every skip fails, except one the run declares legitimate.

Each case runs pytest in a subprocess on a synthetic suite whose conftest is tests/conftest.py
itself, and reads the outcomes from its JUnit XML report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

_SKIPS = '''
import pytest


def test_plain_skip():
    pytest.skip("numba is not installed")


@pytest.mark.skipif(True, reason="the numba prover is not active")
def test_skipif():
    pass


def test_importorskip():
    pytest.importorskip("zkmargin_no_such_module_x")


def test_jit_only():
    pytest.skip("[no-jit] no dispatchers without the JIT")


def test_undeclared_tag():
    pytest.skip("[whatever] a tag nobody declared")


@pytest.mark.xfail(strict=True, reason="a known bug")
def test_known_bug():
    assert False


def test_passes():
    assert True
'''

_MODULE_SKIP = '''
import pytest

pytest.skip("the numba prover is not active", allow_module_level=True)


def test_never_collected():
    pass
'''


def _run(tmp_path: Path, env: dict[str, str], name: str = "test_skips.py", body: str = _SKIPS) -> dict[str, str]:
    """Outcome per test name (``passed``, ``skipped``, ``failure``, ``error``) and the failure texts."""
    suite = tmp_path / "suite"
    if suite.exists():
        shutil.rmtree(suite)
    suite.mkdir()
    shutil.copy(TESTS / "conftest.py", suite / "conftest.py")
    (suite / "pytest.ini").write_text("[pytest]\naddopts = --import-mode=importlib\n")
    (suite / name).write_text(textwrap.dedent(body))
    xml = tmp_path / "report.xml"
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "ZKMARGIN_ALLOW_SKIPS", "NUMBA_DISABLE_JIT")}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(suite / "pytest.ini"),
         "--rootdir", str(suite), f"--junitxml={xml}", str(suite)],
        capture_output=True, text=True, timeout=300, env={**clean, "PYTHONSAFEPATH": "1", **env}, cwd=suite,
    )
    out: dict[str, str] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        kinds = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
        text = " ".join((c.get("message") or "") + (c.text or "") for c in case)
        key = case.get("name") or case.get("classname") or "?"
        out[key] = (kinds[0] if kinds else "passed") + (": " + text if text else "")
    return out


def _kinds(outcomes: dict[str, str]) -> dict[str, str]:
    """``skipped``, ``passed``, or ``fails`` (a failure in the test, or an error in its setup, where a
    ``skipif`` mark is evaluated, or in collection)."""
    kinds = {k: v.split(":", 1)[0] for k, v in outcomes.items()}
    return {k: "fails" if v in ("failure", "error") else v for k, v in kinds.items()}


def test_outside_ci_skips_stay_skips(tmp_path: Path) -> None:
    for value in ("", "0", "false", "FALSE"):
        got = _kinds(_run(tmp_path, {"CI": value}))
        assert got == {
            "test_plain_skip": "skipped", "test_skipif": "skipped", "test_importorskip": "skipped",
            "test_jit_only": "skipped", "test_undeclared_tag": "skipped", "test_known_bug": "skipped",
            "test_passes": "passed",
        }, (value, got)


@pytest.mark.parametrize("value", ["true", "1", "True", "yes", "github-actions"])
def test_under_ci_every_skip_fails(tmp_path: Path, value: str) -> None:
    """Any CI value but empty/0/false counts (the old check matched only the exact string "true")."""
    outcomes = _run(tmp_path, {"CI": value})
    got = _kinds(outcomes)
    assert got == {
        "test_plain_skip": "fails", "test_skipif": "fails", "test_importorskip": "fails",
        "test_jit_only": "fails", "test_undeclared_tag": "fails",
        "test_known_bug": "skipped",  # a strict xfail that fails as expected: not a skip
        "test_passes": "passed",
    }, (value, got)
    assert "numba is not installed" in outcomes["test_plain_skip"]
    assert "CI rule" in outcomes["test_skipif"]


def test_a_declared_allowance_lets_only_its_tag_through(tmp_path: Path) -> None:
    got = _kinds(_run(tmp_path, {"CI": "true", "ZKMARGIN_ALLOW_SKIPS": "no-jit", "NUMBA_DISABLE_JIT": "1"}))
    assert got["test_jit_only"] == "skipped"
    assert got["test_plain_skip"] == got["test_skipif"] == got["test_undeclared_tag"] == "fails"


def test_an_allowance_whose_condition_fails_is_refused(tmp_path: Path) -> None:
    """Declaring no-jit in a run that has the JIT on does not excuse the JIT-only checks."""
    got = _kinds(_run(tmp_path, {"CI": "true", "ZKMARGIN_ALLOW_SKIPS": "no-jit"}))
    assert got["test_jit_only"] == "fails"
    got = _kinds(_run(tmp_path, {"CI": "true", "ZKMARGIN_ALLOW_SKIPS": "whatever", "NUMBA_DISABLE_JIT": "1"}))
    assert got["test_undeclared_tag"] == "fails"  # only tags of SKIP_ALLOWANCES can be declared


def test_under_ci_a_module_level_skip_fails_collection(tmp_path: Path) -> None:
    assert set(_kinds(_run(tmp_path, {}, "test_mod.py", _MODULE_SKIP)).values()) == {"skipped"}
    outcomes = _run(tmp_path, {"CI": "true"}, "test_mod.py", _MODULE_SKIP)
    assert set(_kinds(outcomes).values()) == {"fails"}, outcomes
    assert "the numba prover is not active" in " ".join(outcomes.values())
