"""Fixtures for the verifier tests: trapdoor keys and simulated proofs (see _simulate.py)."""

from __future__ import annotations

import importlib.util
import random
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


@pytest.fixture
def no_pairing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any pairing fail the test: malformed input must be rejected before the pairing."""
    import zkmargin.verifier.groth16_verify as gv

    def _forbidden(*_args: object, **_kwargs: object) -> bool:
        raise AssertionError("pairing reached: validation should have rejected the input first")

    monkeypatch.setattr(gv, "pairing_product_is_one", _forbidden)
    fast = gv.fast_backend()
    if fast is not None:  # the numba path is the default when installed: forbid it too
        monkeypatch.setattr(fast, "groth16_check_fast", _forbidden)
        monkeypatch.setattr(fast, "groth16_batch_check_fast", _forbidden)
