"""Fixtures for the verifier tests: trapdoor keys and simulated proofs (see _simulate.py)."""

from __future__ import annotations

import importlib
import importlib.util
import random
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

_SIM_NAME = "zkmargin_tests_verifier_simulate"


def _load_simulate() -> ModuleType:
    # --import-mode=importlib keeps this folder off sys.path: load the helper module by path.
    if _SIM_NAME in sys.modules:
        return sys.modules[_SIM_NAME]
    spec = importlib.util.spec_from_file_location(_SIM_NAME, Path(__file__).with_name("_simulate.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_SIM_NAME] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def sim() -> ModuleType:
    """The _simulate module: random_vk_with_trapdoor, simulated_proof, twist_point_outside_g2."""
    return _load_simulate()


@pytest.fixture(scope="session")
def trapdoor3(sim: ModuleType):
    """A trapdoor key with 3 public inputs (seeded, so failures reproduce)."""
    return sim.random_vk_with_trapdoor(3, random.Random(0x5EED))


@pytest.fixture(scope="session")
def public3() -> tuple[int, ...]:
    """Public inputs for trapdoor3, including 0 and r - 1 (the ends of the valid range)."""
    from zkmargin.field import R

    return (0, 123456789, R - 1)


@pytest.fixture(scope="session")
def proof3(sim: ModuleType, trapdoor3, public3):
    """A valid proof for public3 under trapdoor3.vk."""
    return sim.simulated_proof(trapdoor3, public3)


@pytest.fixture(scope="session")
def pvk3(trapdoor3):
    """trapdoor3.vk, prepared."""
    from zkmargin.verifier import prepare_verifying_key

    return prepare_verifying_key(trapdoor3.vk)


@pytest.fixture(scope="session")
def outside_g2(sim: ModuleType):
    """A point on the twist but outside G2."""
    return sim.twist_point_outside_g2(random.Random(7))


#: A callable whose name matches this computes a pairing (or a Miller loop or a final
#: exponentiation: each is a pairing's work) in the modules of :func:`pairing_functions`.
_PAIRING_NAME = re.compile(r"(^|_)(pairing|miller|final_exponent)")
#: Names that match but compute no pairing (a capability probe).
_NOT_A_PAIRING = {"fast_pairing_available"}
#: Every module that defines a pairing: py_ecc (the oracle and the base install's verifier), the
#: pure-Python reference pairing, the numba kernels and their wrappers (the default when installed).
_PAIRING_MODULES = (
    "py_ecc.optimized_bn128.optimized_pairing",
    "zkmargin.curve",
    "zkmargin.verifier._pairing_naive",
    "zkmargin.verifier._pure",
    "zkmargin.verifier._pairing_numba",
    "zkmargin.verifier.fast",
)


def pairing_functions() -> list[tuple[ModuleType, str]]:
    """``(module, name)`` of every place a verification path can reach a pairing through.

    The pairing functions of ``_PAIRING_MODULES`` (the numba ones only where numba imports) and of
    any other loaded ``zkmargin`` module that defines one (so a new backend is covered without an
    edit here), and every attribute of every loaded ``zkmargin``/``py_ecc`` module that is one of them: a module
    that did ``from zkmargin.curve import pairing_product_is_one`` holds its own reference, which
    patching ``zkmargin.curve`` alone would miss (verifier/batch.py does exactly that).
    """
    primitives: dict[int, object] = {}
    found: list[tuple[ModuleType, str]] = []
    for name in _PAIRING_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # the numba modules without numba: no such path to guard
            continue
    for mod_name, module in list(sys.modules.items()):
        # the listed modules, and any other loaded zkmargin module that defines a pairing function
        if module is None or not (mod_name in _PAIRING_MODULES or mod_name.startswith("zkmargin.")):
            continue
        for attr, obj in list(vars(module).items()):
            defined_here = mod_name in _PAIRING_MODULES or getattr(obj, "__module__", None) == mod_name
            if callable(obj) and _PAIRING_NAME.search(attr) and attr not in _NOT_A_PAIRING and defined_here:
                primitives[id(obj)] = obj
    for mod_name, module in list(sys.modules.items()):
        if module is None or not mod_name.startswith(("zkmargin", "py_ecc")):
            continue
        for attr, obj in list(vars(module).items()):
            if id(obj) in primitives and primitives[id(obj)] is obj:
                found.append((module, attr))
    return found


class PairingReached(AssertionError):
    """A pairing ran where validation should have rejected the input first."""


@pytest.fixture
def no_pairing(monkeypatch: pytest.MonkeyPatch) -> list[tuple[ModuleType, str]]:
    """Make every pairing fail the test: malformed input must be rejected before any pairing.

    Patches every pairing path (:func:`pairing_functions`): py_ecc's, the numba kernels', and every
    module's own reference to one, whichever backend ``fast_backend()`` picks. Returns the
    patched ``(module, name)`` pairs. tests/verifier/test_no_pairing_guard.py shows that it fires
    on every verification path, on every backend.
    """
    patched = pairing_functions()
    for module, attr in patched:

        def _forbidden(*_args: object, _where: str = f"{module.__name__}.{attr}", **_kwargs: object) -> bool:
            raise PairingReached(f"pairing reached ({_where}): validation should have rejected the input first")

        monkeypatch.setattr(module, attr, _forbidden)
    return patched
