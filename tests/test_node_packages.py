"""Node packages the tests use are declared, pinned and locked (tests/node).

A test that does ``require("r1csfile")`` in a node snippet, or runs a tool from
``node_modules/<pkg>``, depends on that package directly: it must be a dependency of
tests/node/package.json with an exact version (not a range, not a transitive dependency of
another tool that may drop it), and tests/node/package-lock.json must be committed and agree
with it, so a fresh clone installs (``npm ci``) exactly what the tests ran against.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "tests" / "node"
_EXACT = re.compile(r"^\d+\.\d+\.\d+$")
_REQUIRE = re.compile(r"""require\(\\?["']([^"'./\\][^"'\\]*)\\?["']\)""")
_TOOL_PATH = re.compile(r"""NODE_MODULES\s*/\s*["']([^"']+)["']""")
_BUILTIN = {"fs", "path", "readline", "perf_hooks", "os", "child_process", "crypto", "util", "worker_threads",
            "url", "assert", "events", "stream", "zlib", "process", "buffer"}


def _package_name(spec: str) -> str:
    parts = spec.split("/")
    return "/".join(parts[:2]) if spec.startswith("@") else parts[0]


def packages_used(text: str) -> set[str]:
    """Node packages a Python source uses directly: ``require("X")`` in node snippets and tools run
    from ``NODE_MODULES / "X"``."""
    names = {_package_name(m) for m in _REQUIRE.findall(text)} | set(_TOOL_PATH.findall(text))
    return {n for n in names if n.split(":")[0] not in _BUILTIN and not n.startswith("node:")}


def _sources() -> list[Path]:
    out = []
    for top in ("tests", "zkmargin", "benchmarks", "circuits", "prover", "verifier"):
        out += [p for p in (ROOT / top).rglob("*.py") if "node_modules" not in p.parts]
    return out


def test_every_node_package_the_tests_use_is_declared_with_an_exact_version() -> None:
    deps = json.loads((NODE / "package.json").read_text())["dependencies"]
    used: dict[str, set[str]] = {}
    for path in _sources():
        if path.resolve() == Path(__file__).resolve():
            continue
        for name in packages_used(path.read_text(encoding="utf-8")):
            used.setdefault(name, set()).add(path.relative_to(ROOT).as_posix())
    assert {"snarkjs", "circomlibjs", "solc", "circom2", "r1csfile", "ffjavascript", "ejs"} <= used.keys(), used
    undeclared = {name: sorted(where) for name, where in used.items() if name not in deps}
    assert undeclared == {}, f"used by tests but not in tests/node/package.json: {undeclared}"
    ranges = {name: v for name, v in deps.items() if not _EXACT.match(v)}
    assert ranges == {}, f"not pinned to an exact version: {ranges}"


def test_the_node_lockfile_is_committed_and_agrees_with_package_json() -> None:
    lock_path = NODE / "package-lock.json"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(lock_path)], cwd=ROOT).returncode == 0
    assert not ignored, "tests/node/package-lock.json is ignored by .gitignore"
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(lock_path)], cwd=ROOT,
                             capture_output=True).returncode == 0
    assert tracked, "tests/node/package-lock.json is not committed"
    deps = json.loads((NODE / "package.json").read_text())["dependencies"]
    lock = json.loads(lock_path.read_text())
    assert lock["packages"][""]["dependencies"] == deps
    for name, version in deps.items():
        entry = lock["packages"][f"node_modules/{name}"]
        assert entry["version"] == version and entry.get("integrity"), name


def test_scan_finds_requires_and_tool_paths() -> None:
    """Positive control for the scan: the forms the tests use, and what it must ignore."""
    text = (
        'js = """const r = require("r1csfile"); const {F1Field} = require(\'ffjavascript\');\n'
        'const fs = require("fs"); const x = require("./local.js"); const b = require("@iden3/binfileutils/x");"""\n'
        'cli = NODE_MODULES / "circom2" / "cli.js"\n'
        'esc = "require(\\"ejs\\")"\n'
    )
    assert packages_used(text) == {"r1csfile", "ffjavascript", "@iden3/binfileutils", "circom2", "ejs"}
