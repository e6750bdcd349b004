"""Batch verification: one random linear combination for k proofs, bisection to name the bad ones.

Proofs come from the trapdoor simulator (_simulate.py), so which proofs are valid is known from
scalar arithmetic, not from the verifier under test. Pairing-heavy cases are kept small (a check
of k proofs costs k + 3 Miller loops, ~0.1 s each with py_ecc); the larger sweep is marked slow.
"""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import pytest

import zkmargin.verifier.batch as batch_mod
from zkmargin.curve import G1_GENERATOR, G2_GENERATOR, g1_add, g1_mul, g1_neg, g2_mul
from zkmargin.errors import (
    IdentityPointError,
    MalformedInputError,
    MalformedJSONError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
    PublicInputCountError,
    PublicInputOutOfRangeError,
)
from zkmargin.field import Q, R
from zkmargin.groth16 import Proof, VerifyingKey
from zkmargin.verifier import BatchResult, prepare_verifying_key, verify, verify_batch, verify_batch_files
from zkmargin.verifier.batch import RHO_BITS

Item = tuple[tuple[int, ...], Proof]


@pytest.fixture(scope="module")
def good_items(sim: Any, trapdoor3: Any) -> list[Item]:
    """Six valid (public, proof) pairs under trapdoor3.vk, with distinct public inputs."""
    rng = random.Random(0xBA7C)
    items = []
    for i in range(6):
        public = (i, rng.randrange(R), R - 1 - i)
        items.append((public, sim.simulated_proof(trapdoor3, public, rng=rng)))
    return items


def _bad_public(item: Item) -> Item:
    public, proof = item
    return ((public[0] + 1) % R, *public[1:]), proof


def _bad_a(item: Item) -> Item:
    public, proof = item
    return public, dataclasses.replace(proof, a=g1_neg(proof.a))


# --- accepting and rejecting -------------------------------------------------------------------

def test_all_valid_batch_passes_in_one_check(pvk3, good_items) -> None:
    result = verify_batch(pvk3, good_items[:3], rng=random.Random(1))
    assert result == BatchResult(ok=True, bad=[], n=3, checks=1)


def test_unprepared_key_is_accepted(trapdoor3, good_items) -> None:
    result = verify_batch(trapdoor3.vk, good_items[:2], rng=random.Random(2))
    assert result.ok and result.n == 2


@pytest.mark.parametrize(("bad", "n"), [([2], 3), pytest.param([0, 5], 6, marks=pytest.mark.slow)])
def test_bad_proofs_are_named(pvk3, good_items, bad: list[int], n: int) -> None:
    items = list(good_items[:n])
    for k, i in enumerate(bad):
        items[i] = (_bad_public if k % 2 == 0 else _bad_a)(items[i])
    result = verify_batch(pvk3, items, rng=random.Random(3))
    assert not result.ok
    assert result.bad == bad
    assert result.n == n
    assert result.checks > 1


def test_single_item_is_the_exact_equation(pvk3, good_items) -> None:
    assert verify_batch(pvk3, good_items[:1]) == BatchResult(ok=True, bad=[], n=1, checks=1)
    assert verify_batch(pvk3, [_bad_public(good_items[0])]) == BatchResult(ok=False, bad=[0], n=1, checks=1)


def test_empty_batch_is_ok_without_pairing(pvk3, no_pairing) -> None:
    assert verify_batch(pvk3, []) == BatchResult(ok=True, bad=[], n=0, checks=0)


def test_cancelling_invalid_proofs_are_caught(pvk3, good_items) -> None:
    """Two invalid proofs whose errors cancel in an unweighted product.

    C_0 + D and C_1 - D: each fails alone, and with every rho_i = 1 the batch product would be 1.
    Random weights make the errors rho_0*e(D, -delta) and -rho_1*e(D, -delta) not cancel.
    """
    d = g1_mul(G1_GENERATOR, 987654321)
    (p0, f0), (p1, f1) = good_items[0], good_items[1]
    forged = [
        (p0, dataclasses.replace(f0, c=g1_add(f0.c, d))),
        (p1, dataclasses.replace(f1, c=g1_add(f1.c, g1_neg(d)))),
    ]
    assert not verify(pvk3, *forged[0]) and not verify(pvk3, *forged[1])
    checked = batch_mod._validate_items(pvk3, forged)
    # Control: with rho = 1 for both, the forged pair passes the combined equation.
    assert batch_mod._check(pvk3, checked, [0, 1], [1, 1])
    result = verify_batch(pvk3, forged, rng=random.Random(4))
    assert result.bad == [0, 1] and not result.ok


def test_seeded_rng_reproduces(monkeypatch: pytest.MonkeyPatch, pvk3, good_items) -> None:
    seen: list[tuple[list[int], list[int]]] = []

    def record(pvk: Any, checked: Any, idx: Any, rhos: Any) -> bool:
        seen.append((list(idx), list(rhos)))
        return 0 not in idx  # item 0 is "bad"

    monkeypatch.setattr(batch_mod, "_check", record)
    first = verify_batch(pvk3, good_items[:3], rng=random.Random(5))
    calls, seen[:] = list(seen), []
    again = verify_batch(pvk3, good_items[:3], rng=random.Random(5))
    assert first == again and first.bad == [0]
    assert seen == calls and len({tuple(r) for _, r in calls}) == len(calls)


def test_default_scalars_come_from_secrets(monkeypatch: pytest.MonkeyPatch, pvk3, good_items) -> None:
    drawn: list[int] = []
    real = batch_mod.secrets.randbelow

    def spy(n: int) -> int:
        assert n == (1 << RHO_BITS) - 1
        v = real(n)
        drawn.append(v)
        return v

    monkeypatch.setattr(batch_mod.secrets, "randbelow", spy)
    assert verify_batch(pvk3, good_items[:2]).ok
    assert len(drawn) == 2


def test_scalars_are_nonzero_and_128_bit() -> None:
    rng = random.Random(6)
    values = [batch_mod._draw_rho(rng) for _ in range(2000)] + [batch_mod._draw_rho(None) for _ in range(2000)]
    assert all(1 <= v < 1 << RHO_BITS for v in values)
    assert max(values).bit_length() == RHO_BITS  # the whole range is used


def test_bisection_falls_back_when_every_half_passes(monkeypatch: pytest.MonkeyPatch, pvk3, good_items) -> None:
    """If the whole batch fails but the bisection finds nothing (every half containing the bad
    proof passed by chance, a 2^-128 event), every proof is checked exactly."""
    items = [good_items[0], _bad_public(good_items[1]), good_items[2]]
    monkeypatch.setattr(batch_mod._Search, "bad_in", lambda self, idx, known_failing: [])
    result = verify_batch(pvk3, items, rng=random.Random(7))
    assert result.bad == [1] and not result.ok
    assert result.checks == 1 + 3


class _FakeChecks:
    """Stands in for the pairing check: a set of items is "bad"; a random check of a subset with a
    bad item fails unless the subset is in ``lucky`` (a chance pass); exact checks never lie."""

    def __init__(self, bad: set[int], lucky: frozenset[frozenset[int]] = frozenset()) -> None:
        self.bad, self.lucky = bad, lucky
        self.calls: list[tuple[list[int], bool]] = []

    def __call__(self, pvk: Any, checked: Any, idx: Any, rhos: Any) -> bool:
        exact = all(r == 1 for r in rhos)
        self.calls.append((list(idx), exact))
        if not self.bad.intersection(idx):
            return True
        return not exact and frozenset(idx) in self.lucky


@pytest.mark.parametrize("seed", range(40))
def test_bisection_finds_exactly_the_bad_items(monkeypatch: pytest.MonkeyPatch, pvk3, good_items, seed: int) -> None:
    """Bisection logic on many shapes, without pairings (the check is faked, see _FakeChecks)."""
    rng = random.Random(seed)
    n = rng.randrange(2, 70)
    bad = set(rng.sample(range(n), rng.choice([0, 1, 1, 2, 3, n // 2 or 1, n])))
    fake = _FakeChecks(bad)
    monkeypatch.setattr(batch_mod, "_check", fake)
    result = verify_batch(pvk3, [good_items[0]] * n, rng=rng)
    assert result.bad == sorted(bad) and result.ok == (not bad) and result.n == n
    assert result.checks == len(fake.calls)
    exact_checked = [idx[0] for idx, exact in fake.calls if exact]
    assert all(len(idx) == 1 for idx, exact in fake.calls if exact)
    assert set(result.bad) <= set(exact_checked)  # bad is only ever decided by an exact check
    if len(bad) == 1:  # one bad item: about log2(n) levels, at most two checks per level
        assert result.checks <= 2 * n.bit_length() + 2


def test_bisection_lucky_half_hides_nothing_valid(monkeypatch: pytest.MonkeyPatch, pvk3, good_items) -> None:
    """A half that passes by chance may hide its bad item, but no valid item is ever reported."""
    fake = _FakeChecks({1, 6}, lucky=frozenset({frozenset({0, 1, 2, 3})}))
    monkeypatch.setattr(batch_mod, "_check", fake)
    result = verify_batch(pvk3, [good_items[0]] * 8, rng=random.Random(0))
    assert result.bad == [6] and not result.ok


# --- validation: named errors with the item index, before any pairing --------------------------

def _outside_g2(sim: Any) -> Any:
    return sim.twist_point_outside_g2(random.Random(11))


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (lambda it, sim: (it[0][:2], it[1]), PublicInputCountError, "got 2 public inputs"),
        (lambda it, sim: ((it[0][0], R, it[0][2]), it[1]), PublicInputOutOfRangeError, "public input 1"),
        (lambda it, sim: ((-1, *it[0][1:]), it[1]), PublicInputOutOfRangeError, "negative"),
        (lambda it, sim: (it[0], dataclasses.replace(it[1], a=(1, 3))), PointNotOnCurveError, "proof.a"),
        (lambda it, sim: (it[0], dataclasses.replace(it[1], c=None)), IdentityPointError, "proof.c"),
        (lambda it, sim: (it[0], dataclasses.replace(it[1], b=_outside_g2(sim))), PointNotInSubgroupError, "proof.b"),
        (lambda it, sim: (it[0], dataclasses.replace(it[1], a=(Q, 2))), PointNotOnCurveError, "outside"),
        (lambda it, sim: (it[0], "proof"), MalformedInputError, "must be a zkmargin.groth16.Proof"),
        (lambda it, sim: it[1], MalformedInputError, r"expected a \(public_inputs, proof\) pair"),
        (lambda it, sim: (it[0], it[1], 1), MalformedInputError, r"expected a \(public_inputs, proof\) pair"),
    ],
)
def test_malformed_item_names_its_index(
    pvk3, good_items, sim, no_pairing, mutate: Any, error: type[Exception], match: str
) -> None:
    items: list[Any] = list(good_items[:4])
    items[2] = mutate(items[2], sim)
    with pytest.raises(error, match=rf"^batch item 2: .*{match}") as info:
        verify_batch(pvk3, items)
    assert type(info.value) is error  # the same class verify() raises, not a generic one


def test_malformed_item_matches_verify(pvk3, good_items, sim, no_pairing) -> None:
    bad_item = (good_items[0][0], dataclasses.replace(good_items[0][1], b=_outside_g2(sim)))
    with pytest.raises(PointNotInSubgroupError) as single:
        verify(pvk3, *bad_item)
    with pytest.raises(PointNotInSubgroupError) as batched:
        verify_batch(pvk3, [good_items[1], bad_item])
    assert str(batched.value) == f"batch item 1: {single.value}"


@pytest.mark.parametrize("items", ["not a list", b"bytes", 5, None])
def test_items_must_be_a_sequence(pvk3, no_pairing, items: Any) -> None:
    with pytest.raises(MalformedInputError, match="batch items must be a sequence"):
        verify_batch(pvk3, items)


def test_malformed_key_raises_its_error(trapdoor3, good_items, sim, no_pairing) -> None:
    vk = dataclasses.replace(trapdoor3.vk, gamma_g2=_outside_g2(sim))
    with pytest.raises(PointNotInSubgroupError, match="vk.gamma_g2"):
        verify_batch(vk, good_items[:2])


# --- files ---------------------------------------------------------------------------------------

@pytest.fixture
def batch_dir(tmp_path: Path, trapdoor3, good_items) -> tuple[Path, Path]:
    from zkmargin.serialize import write_proof, write_public_inputs, write_verifying_key

    vk_path = tmp_path / "verification_key.json"
    write_verifying_key(trapdoor3.vk, vk_path)
    folder = tmp_path / "proofs"
    folder.mkdir()
    (folder / "README.txt").write_text("ignored\n")
    # Flat layout for alice and carol, folder layout for bob; bob's public inputs are wrong.
    for name, (public, proof) in zip(["alice", "bob", "carol"], good_items[:3], strict=True):
        if name == "bob":
            (folder / "bob").mkdir()
            write_proof(proof, folder / "bob" / "proof.json")
            write_public_inputs(_bad_public((public, proof))[0], folder / "bob" / "public.json")
        else:
            write_proof(proof, folder / f"{name}.proof.json")
            write_public_inputs(public, folder / f"{name}.public.json")
    return vk_path, folder


def test_batch_files_names_the_bad_proof(batch_dir) -> None:
    vk_path, folder = batch_dir
    result = verify_batch_files(vk_path, folder, rng=random.Random(8))
    assert result.labels == ("alice", "bob", "carol")
    assert result.bad == [1] and result.bad_labels == ["bob"] and not result.ok


def test_batch_files_missing_public(batch_dir, no_pairing) -> None:
    vk_path, folder = batch_dir
    (folder / "carol.public.json").unlink()
    with pytest.raises(MalformedInputError, match=r"carol\.proof\.json: no matching public inputs file"):
        verify_batch_files(vk_path, folder)


def test_batch_files_empty_folder(tmp_path: Path, batch_dir, no_pairing) -> None:
    vk_path, _ = batch_dir
    (tmp_path / "empty").mkdir()
    with pytest.raises(MalformedInputError, match="no proofs found"):
        verify_batch_files(vk_path, tmp_path / "empty")


def test_batch_files_malformed_json_names_the_file(batch_dir, no_pairing) -> None:
    vk_path, folder = batch_dir
    (folder / "alice.proof.json").write_text('{"pi_a": [1, 2, "1"]')
    with pytest.raises(MalformedJSONError, match=r"alice\.proof\.json"):
        verify_batch_files(vk_path, folder)


def test_batch_files_point_off_curve_names_the_file(batch_dir, no_pairing) -> None:
    vk_path, folder = batch_dir
    doc = json.loads((folder / "carol.proof.json").read_text())
    doc["pi_a"][1] = str((int(doc["pi_a"][1]) + 1) % Q)
    (folder / "carol.proof.json").write_text(json.dumps(doc))
    with pytest.raises(PointNotOnCurveError, match=r"carol\.proof\.json: proof\.a"):
        verify_batch_files(vk_path, folder)


# --- larger batches (slow) -------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_random_batches_agree_with_single_verification(sim: Any, seed: int) -> None:
    rng = random.Random(seed)
    trapdoor = sim.random_vk_with_trapdoor(2, rng)
    pvk = prepare_verifying_key(trapdoor.vk)
    items: list[Item] = []
    expected_bad = []
    for i in range(24):
        public = (rng.randrange(R), rng.randrange(R))
        proof = sim.simulated_proof(trapdoor, public, rng=rng)
        if rng.random() < 0.15:
            expected_bad.append(i)
            proof = dataclasses.replace(proof, b=g2_mul(G2_GENERATOR, rng.randrange(1, R)))
        items.append((public, proof))
    result = verify_batch(pvk, items, rng=rng)
    assert result.bad == expected_bad
    assert result.ok == (not expected_bad)
    for i in expected_bad:
        assert not verify(pvk, *items[i])


def test_unprepared_key_is_validated(sim: Any, no_pairing) -> None:
    td = sim.random_vk_with_trapdoor(1, random.Random(9))
    vk = VerifyingKey(td.vk.alpha_g1, td.vk.beta_g2, td.vk.gamma_g2, td.vk.delta_g2, (td.vk.gamma_abc_g1[0], None))
    with pytest.raises(IdentityPointError, match=r"vk\.gamma_abc_g1\[1\]"):
        verify_batch(vk, [])
