"""A pytest plugin that audits how the suite is collected (used by tests/test_suite_rules.py).

Loaded in a subprocess (``pytest --collect-only -q -m "not slow" -p _suite_audit``, with this folder
on PYTHONPATH); it writes a JSON report to ``$ZKMARGIN_SUITE_AUDIT``:

- ``misplaced``: ``pytest.mark.*`` decorators on a function or class that pytest does not collect
  (a helper, a fixture, a class not named ``Test*``). Such a mark does nothing: a ``slow`` mark
  that slipped onto the helper above a test leaves the test in the fast tier.
- ``heavy``: every collected test whose code reads a knob of :data:`HEAVY_KNOBS` (the size of a
  long run), directly or through the module-level functions, constants and fixtures it uses,
  with whether it carries the ``slow`` mark as pytest sees it (module ``pytestmark`` and class
  marks included).
- ``node_unmarked``: tests that use the ``node`` fixture (snarkjs, circomlibjs, solc, circom all
  depend on it) without the ``node`` mark, so ``-m "not node"`` would not deselect them.
- ``fast``: the node ids left after ``-m`` deselection (the fast tier when run with
  ``-m "not slow"``), and ``n_collected``.

Not a test module (no ``test_`` prefix), so pytest never collects it.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import os
import textwrap
import types
from typing import Any

import pytest

#: Environment knobs that size a long run. A test reading one (its default is the long size) is
#: heavy by declaration and must be marked ``slow``.
HEAVY_KNOBS = {
    "ZKMARGIN_FUZZ_CASES": "cases of the long hostile fuzz (default 10,000)",
    "ZKMARGIN_MARGIN_CASES": "random portfolios per model of the long circuit-vs-engine run (default 200)",
    "ZKMARGIN_MARGIN_LARGE_CASES": "random portfolios per example/maximum-size model of the slow property run",
}

_STATE: dict[str, Any] = {"all": [], "deselected": set()}


def _strings_in(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _module_globals(module: types.ModuleType) -> dict[str, ast.AST]:
    """Top-level definitions of a module's source: name -> the def/class/assignment node."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError):
        return {}
    out: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        out[n.id] = node
    return out


@functools.cache
def _function_ast(fn: Any) -> ast.AST | None:
    fn = inspect.unwrap(getattr(fn, "_get_wrapped_function", lambda: fn)())
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def knobs_read(roots: list[tuple[ast.AST, types.ModuleType]], cache: dict[str, dict[str, ast.AST]]) -> set[str]:
    """The heavy knobs named in the ``(code, its module)`` roots or in the module-level definitions
    (functions, classes, constants) they reach by name, transitively."""
    seen: set[tuple[str, str]] = set()
    todo = list(roots)
    found: set[str] = set()
    while todo:
        node, module = todo.pop()
        if module.__name__ not in cache:
            cache[module.__name__] = _module_globals(module)
        defs = cache[module.__name__]
        found |= _strings_in(node) & HEAVY_KNOBS.keys()
        for name in _names_in(node):
            if (module.__name__, name) not in seen and name in defs:
                seen.add((module.__name__, name))
                todo.append((defs[name], module))
    return found


def misplaced_marks(module: types.ModuleType, is_test_function: Any, is_test_class: Any) -> list[str]:
    """``name: marks`` for every object defined in ``module`` that carries marks pytest never applies."""
    out = []
    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module.__name__:
            continue  # imported, not defined here
        if isinstance(obj, type):
            marks = vars(obj).get("pytestmark")
            collected = is_test_class(name)
        elif callable(obj):
            marks = getattr(obj, "pytestmark", None)
            is_fixture = type(obj).__name__ == "FixtureFunctionDefinition" or hasattr(obj, "_pytestfixturefunction")
            collected = is_test_function(name) and not is_fixture
        else:
            continue
        if marks and not collected:
            out.append(f"{module.__name__}::{name}: " + ", ".join(sorted(m.name for m in marks)))
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    _STATE["all"] = list(items)  # before -m/-k deselection


def pytest_deselected(items: list[pytest.Item]) -> None:
    _STATE["deselected"].update(i.nodeid for i in items)


def pytest_collection_finish(session: pytest.Session) -> None:
    path = os.environ.get("ZKMARGIN_SUITE_AUDIT")
    if not path:
        return
    items: list[pytest.Item] = _STATE["all"]
    func_prefixes = tuple(session.config.getini("python_functions") or ["test"])
    class_prefixes = tuple(session.config.getini("python_classes") or ["Test"])
    modules: dict[str, types.ModuleType] = {}
    cache: dict[str, dict[str, ast.AST]] = {}
    heavy: dict[str, dict[str, Any]] = {}
    node_unmarked: list[str] = []
    for item in items:
        module = getattr(item, "module", None)
        fn = getattr(item, "function", None)
        if module is None or fn is None:
            continue
        modules[module.__name__] = module
        roots = [(a, module) for a in [_function_ast(fn)] if a is not None]
        info = getattr(item, "_fixtureinfo", None)
        for name in getattr(info, "names_closure", ()):
            for fixdef in (getattr(info, "name2fixturedefs", {}) or {}).get(name, ()):
                tree, fix_module = _function_ast(fixdef.func), inspect.getmodule(fixdef.func)
                if tree is not None and fix_module is not None:
                    roots.append((tree, fix_module))
        knobs = knobs_read(roots, cache)
        if knobs:
            heavy[item.nodeid] = {"knobs": sorted(knobs), "slow": item.get_closest_marker("slow") is not None}
        if "node" in getattr(item, "fixturenames", ()) and item.get_closest_marker("node") is None:
            node_unmarked.append(item.nodeid)
    misplaced: list[str] = []
    for module in modules.values():
        misplaced += misplaced_marks(
            module,
            lambda n: n.startswith(func_prefixes),
            lambda n: n.startswith(class_prefixes),
        )
    report = {
        "n_collected": len(items),
        "fast": [i.nodeid for i in session.items],
        "slow": [i.nodeid for i in items if i.get_closest_marker("slow") is not None],
        "heavy": heavy,
        "misplaced": sorted(misplaced),
        "node_unmarked": sorted(node_unmarked),
    }
    with open(path, "w") as fh:
        json.dump(report, fh, indent=1)
