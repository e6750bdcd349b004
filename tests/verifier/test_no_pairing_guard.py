"""Positive control for the ``no_pairing`` guard (tests/verifier/conftest.py).

"Malformed input is rejected before any pairing" is tested by running the verifier with every
pairing replaced by a failure. That shows something only if the guard fires whenever a pairing
does run: on every verification path (single, prepared, batch of one, batch of several, a folder
of files, the numba entry point) and on both backends (the numba pairing, the default where
installed, as in CI; and py_ecc, the base install's). A guard that patched one backend's pairing,
or one module's reference to it, would let well-formed input through here and fail these tests.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import zkmargin.curve
import zkmargin.verifier.batch as batch_mod
import zkmargin.verifier.groth16_verify as gv
from zkmargin.serialize import write_proof, write_public_inputs, write_verifying_key
from zkmargin.verifier import verify, verify_batch, verify_batch_files


@pytest.fixture(params=["numba", "py_ecc", "pure"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The verifier's pairing backend for this test: ``fast_backend()`` re-chosen under the env."""
    if request.param in ("py_ecc", "pure"):
        monkeypatch.setenv("ZKMARGIN_VERIFY_BACKEND", "python" if request.param == "py_ecc" else "pure")
    else:
        monkeypatch.delenv("ZKMARGIN_VERIFY_BACKEND", raising=False)
    gv.fast_backend.cache_clear()
    if request.param == "numba" and gv.fast_backend() is None:
        pytest.skip("the numba pairing is not active (numba missing or NUMBA_DISABLE_JIT)")
    assert (gv.fast_backend() is None) == (request.param != "numba")
    yield request.param
    gv.fast_backend.cache_clear()  # the env is restored after this: the next call re-chooses


def _paths(trapdoor3: Any, pvk3: Any, public3: tuple[int, ...], proof3: Any, sim: Any,
           tmp_path: Path) -> dict[str, Callable[[], object]]:
    """Every verification entry point, each on well-formed input (so each reaches its pairing)."""
    rng = random.Random(3)
    others = [(p, sim.simulated_proof(trapdoor3, p, rng=rng)) for p in [(1, 2, 3), (4, 5, 6)]]
    folder = tmp_path / "proofs"
    folder.mkdir()
    for name, (public, proof) in zip(["a", "b"], [(public3, proof3), others[0]], strict=True):
        write_proof(proof, folder / f"{name}.proof.json")
        write_public_inputs(public, folder / f"{name}.public.json")
    write_verifying_key(trapdoor3.vk, tmp_path / "vk.json")
    paths: dict[str, Callable[[], object]] = {
        "verify(vk)": lambda: verify(trapdoor3.vk, public3, proof3),
        "verify(prepared)": lambda: verify(pvk3, public3, proof3),
        "verify_batch, one item": lambda: verify_batch(pvk3, [(public3, proof3)], rng=random.Random(1)),
        "verify_batch, three items": lambda: verify_batch(pvk3, [(public3, proof3), *others], rng=random.Random(1)),
        "verify_batch_files": lambda: verify_batch_files(tmp_path / "vk.json", folder, rng=random.Random(1)),
    }
    fast = gv.fast_backend()
    if fast is not None:
        paths["fast.verify_fast"] = lambda: fast.verify_fast(pvk3, public3, proof3)
    return paths


def test_no_pairing_fires_on_every_verification_path(
    backend: str, no_pairing: Any, trapdoor3: Any, pvk3: Any, public3: tuple[int, ...], proof3: Any, sim: Any,
    tmp_path: Path,
) -> None:
    paths = _paths(trapdoor3, pvk3, public3, proof3, sim, tmp_path)
    assert len(paths) == (6 if backend == "numba" else 5)
    silent = []
    for name, call in paths.items():
        try:
            call()
        except AssertionError as e:
            assert "pairing reached" in str(e), (name, e)
        else:
            silent.append(name)
    assert silent == [], f"{backend}: these paths ran a pairing the guard did not catch: {silent}"


def test_no_pairing_patches_each_module_reference(backend: str, no_pairing: Any) -> None:
    """The guard replaces the pairing in every module that holds a reference to one, including the
    ``from zkmargin.curve import pairing_product_is_one`` copy in verifier/batch.py."""
    patched = {(m.__name__, name) for m, name in no_pairing}
    expected = {
        ("zkmargin.curve", "pairing_product_is_one"),
        (gv.__name__, "pairing_product_is_one"),
        (batch_mod.__name__, "pairing_product_is_one"),
        ("py_ecc.optimized_bn128.optimized_pairing", "pairing"),
        ("py_ecc.optimized_bn128.optimized_pairing", "miller_loop"),
        ("py_ecc.optimized_bn128.optimized_pairing", "final_exponentiate"),
        ("zkmargin.verifier._pure", "pairing_product_is_one"),
        ("zkmargin.verifier._pairing_naive", "pairing_product_is_one"),
        ("zkmargin.verifier._pairing_naive", "miller_loop"),
    }
    if backend == "numba":
        expected |= {
            ("zkmargin.verifier.fast", "pairing"),
            ("zkmargin.verifier.fast", "multi_miller_loop"),
            ("zkmargin.verifier.fast", "final_exponentiation"),
            ("zkmargin.verifier._pairing_numba", "pairing_check_kernel"),
            ("zkmargin.verifier._pairing_numba", "miller_loop_kernel"),
            ("zkmargin.verifier._pairing_numba", "final_exponentiation_kernel"),
        }
    assert expected <= patched, sorted(expected - patched)
    assert ("zkmargin.verifier.fast", "fast_pairing_available") not in patched  # a probe, not a pairing
    with pytest.raises(AssertionError, match="pairing reached"):
        zkmargin.curve.pairing_product_is_one([])
