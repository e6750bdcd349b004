"""Groth16 verification on simulated proofs: completeness, binding of every input and proof point,
and a cross-check of the pairing equation against py_ecc's own pairing().

Expected outcomes come from the trapdoor algebra in _simulate.py (scalars mod r), never from the
verifier under test. Each verify costs one 4-pair pairing product (~0.5 s): keep the count low.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from zkmargin.curve import G1_GENERATOR, G2_GENERATOR, g1_add, g2_mul
from zkmargin.field import R
from zkmargin.verifier import PreparedVerifyingKey, prepare_verifying_key, verify


def test_valid_proof_verifies_with_prepared_key(pvk3, public3, proof3) -> None:
    assert isinstance(pvk3, PreparedVerifyingKey)
    assert pvk3.n_public == 3
    assert verify(pvk3, public3, proof3) is True


def test_valid_proof_verifies_with_raw_key_and_list_inputs(trapdoor3, public3, proof3) -> None:
    assert verify(trapdoor3.vk, list(public3), proof3) is True


def test_valid_proof_without_public_inputs(sim) -> None:
    td = sim.random_vk_with_trapdoor(0, random.Random(11))
    proof = sim.simulated_proof(td, [])
    assert verify(td.vk, [], proof) is True


@pytest.mark.parametrize("index", [0, 1, 2])
def test_changing_any_public_input_fails(pvk3, public3, proof3, index: int) -> None:
    changed = list(public3)
    changed[index] = (changed[index] + 1) % R  # stays a valid field element (r - 1 wraps to 0)
    assert verify(pvk3, changed, proof3) is False


def test_swapping_public_inputs_fails(pvk3, public3, proof3) -> None:
    swapped = [public3[1], public3[0], public3[2]]
    assert verify(pvk3, swapped, proof3) is False


@pytest.mark.parametrize("field", ["a", "b", "c"])
def test_replacing_any_proof_point_fails(pvk3, public3, proof3, field: str) -> None:
    if field == "b":
        other = g2_mul(G2_GENERATOR, 987654321)
    else:
        other = g1_add(getattr(proof3, field), G1_GENERATOR)
    assert other is not None and other != getattr(proof3, field)
    tampered = dataclasses.replace(proof3, **{field: other})
    assert verify(pvk3, public3, tampered) is False


def test_proof_under_another_key_fails(sim, public3, proof3) -> None:
    other = sim.random_vk_with_trapdoor(3, random.Random(99))
    assert verify(other.vk, public3, proof3) is False


def test_pairing_equation_agrees_with_py_ecc(trapdoor3, public3, proof3) -> None:
    """Second implementation: the Groth16 equation with py_ecc's full pairing() per factor."""
    from py_ecc.optimized_bn128 import FQ, FQ2, FQ12, add, multiply, pairing

    def g1(p):
        return (FQ(p[0]), FQ(p[1]), FQ.one())

    def g2(p):
        return (FQ2(list(p[0])), FQ2(list(p[1])), FQ2.one())

    vk = trapdoor3.vk
    vk_x = g1(vk.gamma_abc_g1[0])
    for x, point in zip(public3, vk.gamma_abc_g1[1:], strict=True):
        if x:
            vk_x = add(vk_x, multiply(g1(point), x))
    lhs = pairing(g2(proof3.b), g1(proof3.a))
    rhs = pairing(g2(vk.beta_g2), g1(vk.alpha_g1)) * pairing(g2(vk.gamma_g2), vk_x)
    rhs_without_c = rhs
    rhs = rhs * pairing(g2(vk.delta_g2), g1(proof3.c))
    assert lhs == rhs
    assert lhs != FQ12.one()  # the check is not vacuous
    assert verify(vk, public3, proof3) is True

    # C + G1 shifts the right side by e(G1, delta) != 1: both implementations must reject it.
    c2 = g1_add(proof3.c, G1_GENERATOR)
    rhs2 = rhs_without_c * pairing(g2(vk.delta_g2), g1(c2))
    assert lhs != rhs2
    assert verify(prepare_verifying_key(vk), public3, dataclasses.replace(proof3, c=c2)) is False
