"""The three verification backends agree: py_ecc (the oracle), the pure-Python twin (``_pure``, what
runs without numba and for a single CLI proof) and the numba pairing (where it is active).

Valid proofs, proofs for other public inputs, tampered points, and G2 points outside the subgroup
(the subgroup test of ``_pure`` against py_ecc's definition ``r * P == infinity``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

import zkmargin.verifier.groth16_verify as gv
from zkmargin import curve
from zkmargin.errors import PointNotInSubgroupError
from zkmargin.field import R
from zkmargin.groth16 import Proof
from zkmargin.verifier import _pure, verify

BACKENDS = ["python", "pure", "auto"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """ZKMARGIN_VERIFY_BACKEND for this test (auto: numba where active, else pure)."""
    monkeypatch.setenv("ZKMARGIN_VERIFY_BACKEND", request.param)
    gv.fast_backend.cache_clear()
    yield request.param
    gv.fast_backend.cache_clear()


def _calls_to(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    calls: list[int] = []
    real = getattr(module, name)

    def spy(*a: object, **k: object) -> object:
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(module, name, spy)
    return calls


def test_each_backend_runs_its_own_pairing(backend, monkeypatch, trapdoor3, public3, proof3):
    pure_calls = _calls_to(monkeypatch, _pure, "pairing_product_is_one")
    py_calls = _calls_to(monkeypatch, gv, "pairing_product_is_one")
    assert verify(trapdoor3.vk, public3, proof3)
    if backend == "python":
        assert (py_calls, pure_calls) == ([1], [])
    elif backend == "pure" or gv.fast_backend() is None:
        assert (py_calls, pure_calls) == ([], [1])
    else:  # numba
        assert (py_calls, pure_calls) == ([], [])


def test_backends_agree_on_valid_and_invalid_proofs(backend, sim, trapdoor3, public3, proof3):
    rng = random.Random(11)
    assert verify(trapdoor3.vk, public3, proof3)
    other = (public3[0], public3[1] + 1, public3[2])
    assert not verify(trapdoor3.vk, other, proof3)
    # a well-formed proof with the points of another valid proof swapped in
    p2 = sim.simulated_proof(trapdoor3, (5, 6, 7), rng=rng)
    assert verify(trapdoor3.vk, (5, 6, 7), p2)
    assert not verify(trapdoor3.vk, public3, Proof(a=p2.a, b=proof3.b, c=proof3.c))
    assert not verify(trapdoor3.vk, public3, Proof(a=proof3.a, b=proof3.b, c=curve.g1_neg(proof3.c)))
    assert not verify(trapdoor3.vk, public3, Proof(a=curve.g1_add(proof3.a, curve.G1_GENERATOR), b=proof3.b,
                                                   c=proof3.c))


def test_backends_reject_b_outside_g2(backend, trapdoor3, public3, proof3, outside_g2):
    with pytest.raises(PointNotInSubgroupError, match="proof.b"):
        verify(trapdoor3.vk, public3, Proof(a=proof3.a, b=outside_g2, c=proof3.c))


def test_pure_subgroup_check_matches_the_definition(sim):
    rng = random.Random(3)
    inside = [curve.g2_mul(curve.G2_GENERATOR, rng.randrange(1, R)) for _ in range(3)]
    outside = [sim.twist_point_outside_g2(random.Random(s)) for s in range(3)]
    for p in inside + outside:
        assert _pure.g2_in_subgroup(p) == curve._g2_in_subgroup_by_order(p) == curve.g2_in_subgroup(p)
    assert all(_pure.g2_in_subgroup(p) for p in inside)
    assert not any(_pure.g2_in_subgroup(p) for p in outside)
    assert _pure.g2_in_subgroup(None)
    # a point with a small multiple structure: -P is in G2 when P is
    assert _pure.g2_in_subgroup(curve.g2_neg(inside[0]))


def test_pure_g1_lincomb_matches_py_ecc():
    rng = random.Random(5)
    pts = [curve.g1_mul(curve.G1_GENERATOR, rng.randrange(1, R)) for _ in range(4)] + [None]
    ks = [0, 1, R - 1, rng.randrange(R), 7]
    assert _pure.g1_lincomb(pts, ks) == curve.g1_lincomb(pts, ks)
    # P + (-P) is infinity; k*P + (r - k)*P as well; doubling inside the sum
    p = pts[1]
    assert _pure.g1_lincomb([p, curve.g1_neg(p)], [3, 3]) is None
    assert _pure.g1_lincomb([p, p], [5, R - 5]) is None
    assert _pure.g1_lincomb([p, p], [2, 3]) == curve.g1_mul(p, 5)
    assert _pure.g1_lincomb([], []) is None


def test_backends_agree_on_batches(backend, monkeypatch, sim, trapdoor3, pvk3, public3, proof3):
    from zkmargin.verifier import verify_batch

    pure_calls = _calls_to(monkeypatch, _pure, "pairing_product_is_one")
    rng = random.Random(12)
    good = [(p, sim.simulated_proof(trapdoor3, p, rng=rng)) for p in [(1, 2, 3), (4, 5, 6)]]
    res = verify_batch(pvk3, [(public3, proof3), *good], rng=random.Random(1))
    assert res.ok and res.n == 3
    bad = [(public3, proof3), ((1, 2, 4), good[0][1]), good[1]]
    res = verify_batch(pvk3, bad, rng=random.Random(1))
    assert not res.ok and res.bad == [1]
    assert bool(pure_calls) == (backend == "pure" or (backend == "auto" and gv.fast_backend() is None))


def test_twist_equation_in_integers_matches_py_ecc(sim):
    """zkmargin.curve.g2_is_on_curve (plain ints, so a verification never imports py_ecc) against
    py_ecc's FQ2 arithmetic and its b2, on points of G2, outside G2, and off the twist."""
    from py_ecc.optimized_bn128 import optimized_curve as c

    from zkmargin.field import Q

    rng = random.Random(9)
    pts = [curve.g2_mul(curve.G2_GENERATOR, rng.randrange(1, R)) for _ in range(4)]
    pts += [sim.twist_point_outside_g2(random.Random(s)) for s in range(2)]
    for (x0, x1), (y0, y1) in list(pts):
        pts += [((x0, x1), (y0, (y1 + 1) % Q)), ((x1, x0), (y0, y1)), ((x0, x1), (y1, y0))]
    for (x0, x1), (y0, y1) in pts:
        x, y = c.FQ2([x0, x1]), c.FQ2([y0, y1])
        assert curve.g2_is_on_curve(((x0, x1), (y0, y1))) == bool(y * y - x * x * x == c.b2)
    assert sum(curve.g2_is_on_curve(p) for p in pts) == 6
    assert not curve.g2_is_on_curve(((Q, 0), (1, 1))) and curve.g2_is_on_curve(None)
