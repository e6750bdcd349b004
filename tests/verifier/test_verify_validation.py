"""Malformed keys, inputs and proofs raise their named errors before any pairing runs.

The ``no_pairing`` fixture replaces the pairing with a failure, so each test here also shows that
validation comes first (and these tests stay fast).
"""

from __future__ import annotations

import dataclasses
import logging

import pytest

from zkmargin.curve import G2_GENERATOR, g2_neg
from zkmargin.errors import (
    IdentityPointError,
    MalformedInputError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
    PublicInputCountError,
    PublicInputOutOfRangeError,
)
from zkmargin.field import Q, R
from zkmargin.groth16 import Proof
from zkmargin.verifier import PreparedVerifyingKey, prepare_verifying_key, verify
from zkmargin.verifier.groth16_verify import validate_proof

pytestmark = pytest.mark.usefixtures("no_pairing")


def _proof_with(proof: Proof, **changes: object) -> Proof:
    return dataclasses.replace(proof, **changes)


# --- public inputs ---------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 2, 4])
def test_wrong_public_input_count(pvk3, public3, proof3, n: int) -> None:
    inputs = (list(public3) + [1])[:n]
    with pytest.raises(PublicInputCountError, match=rf"got {n} public inputs.*expects 3"):
        verify(pvk3, inputs, proof3)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_public_input_plus_r_is_rejected(pvk3, public3, proof3, index: int) -> None:
    # x + r is the same field element as x: accepting it would make proofs malleable.
    inputs = list(public3)
    inputs[index] += R
    with pytest.raises(PublicInputOutOfRangeError, match=rf"public input {index} = {inputs[index]} "):
        verify(pvk3, inputs, proof3)


def test_public_input_equal_to_r(pvk3, proof3) -> None:
    with pytest.raises(PublicInputOutOfRangeError, match=rf"public input 2 = {R} is not below r"):
        verify(pvk3, [1, 2, R], proof3)


def test_negative_public_input(pvk3, proof3) -> None:
    with pytest.raises(PublicInputOutOfRangeError, match=r"public input 1 = -1 is negative"):
        verify(pvk3, [1, -1, 2], proof3)


@pytest.mark.parametrize("bad", [True, 1.0, "5", None, b"5"])
def test_public_input_wrong_type(pvk3, proof3, bad: object) -> None:
    with pytest.raises(PublicInputOutOfRangeError, match=r"public input 0 must be an int"):
        verify(pvk3, [bad, 1, 2], proof3)


@pytest.mark.parametrize("bad", [5, "123", b"\x00\x01\x02", {0: 1, 1: 2, 2: 3}, None])
def test_public_inputs_not_a_sequence(pvk3, proof3, bad: object) -> None:
    with pytest.raises(MalformedInputError, match=r"public inputs must be a list or tuple"):
        verify(pvk3, bad, proof3)  # type: ignore[arg-type]


# --- proof points ----------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["a", "b", "c"])
def test_identity_in_each_proof_position(pvk3, public3, proof3, field: str) -> None:
    with pytest.raises(IdentityPointError, match=rf"proof\.{field} is the point at infinity"):
        verify(pvk3, public3, _proof_with(proof3, **{field: None}))


@pytest.mark.parametrize(("field", "zero"), [("a", (0, 0)), ("b", ((0, 0), (0, 0))), ("c", (0, 0))])
def test_affine_zero_encoding_of_infinity(pvk3, public3, proof3, field: str, zero: object) -> None:
    with pytest.raises(IdentityPointError, match=rf"proof\.{field} "):
        verify(pvk3, public3, _proof_with(proof3, **{field: zero}))


@pytest.mark.parametrize("field", ["a", "c"])
def test_g1_point_off_curve(pvk3, public3, proof3, field: str) -> None:
    x, y = getattr(proof3, field)
    off = (x, (y + 1) % Q)
    with pytest.raises(PointNotOnCurveError, match=rf"proof\.{field} = \({x}, {off[1]}\) is not on G1"):
        verify(pvk3, public3, _proof_with(proof3, **{field: off}))


def test_g1_small_point_off_curve(pvk3, public3, proof3) -> None:
    with pytest.raises(PointNotOnCurveError, match=r"proof\.a = \(1, 3\) is not on G1"):
        verify(pvk3, public3, _proof_with(proof3, a=(1, 3)))


@pytest.mark.parametrize("coord", [0, 1])
def test_g1_coordinate_not_reduced(pvk3, public3, proof3, coord: int) -> None:
    # (x + q, y) satisfies the curve equation mod q but is not a canonical encoding.
    a = list(proof3.a)
    a[coord] += Q
    name = "xy"[coord]
    with pytest.raises(PointNotOnCurveError, match=rf"proof\.a\.{name} = {a[coord]} is outside \[0, q\)"):
        verify(pvk3, public3, _proof_with(proof3, a=tuple(a)))


def test_g1_negative_coordinate(pvk3, public3, proof3) -> None:
    x, y = proof3.c
    with pytest.raises(PointNotOnCurveError, match=r"proof\.c\.y = -\d+ is outside"):
        verify(pvk3, public3, _proof_with(proof3, c=(x, y - Q)))


def test_g2_point_off_twist(pvk3, public3, proof3) -> None:
    (x0, x1), (y0, y1) = proof3.b
    off = ((x0, x1), ((y0 + 1) % Q, y1))
    with pytest.raises(PointNotOnCurveError, match=r"proof\.b = .* is not on the twist"):
        verify(pvk3, public3, _proof_with(proof3, b=off))


def test_g2_coordinate_not_reduced(pvk3, public3, proof3) -> None:
    (x0, x1), y = proof3.b
    with pytest.raises(PointNotOnCurveError, match=rf"proof\.b\.x1 = {x1 + Q} is outside \[0, q\)"):
        verify(pvk3, public3, _proof_with(proof3, b=((x0, x1 + Q), y)))


def test_g2_point_on_twist_outside_subgroup(pvk3, public3, proof3, outside_g2) -> None:
    with pytest.raises(PointNotInSubgroupError, match=r"proof\.b = .* not in the order-r subgroup"):
        verify(pvk3, public3, _proof_with(proof3, b=outside_g2))


BAD_SHAPES = [
    ("a", ("1", "2")),
    ("a", (1.0, 2.0)),
    ("a", (True, 2)),
    ("a", (1, 2, 3)),
    ("a", "(1, 2)"),
    ("a", 7),
    ("c", {"x": 1, "y": 2}),
    ("b", (1, 2, 3, 4)),
    ("b", ((1,), (2, 3))),
    ("b", ((1, 2), ("3", 4))),
    ("b", ((1, 2), (3, None))),
    ("b", (1, 2)),
]


@pytest.mark.parametrize(("field", "bad"), BAD_SHAPES)
def test_bad_point_types_raise_named_error(pvk3, public3, proof3, field: str, bad: object) -> None:
    with pytest.raises(PointNotOnCurveError, match=rf"proof\.{field}(\.\w+)? must be "):
        verify(pvk3, public3, _proof_with(proof3, **{field: bad}))


@pytest.mark.parametrize("bad", [None, {"a": 1}, "proof", (1, 2, 3)])
def test_proof_not_a_proof(pvk3, public3, bad: object) -> None:
    with pytest.raises(MalformedInputError, match=r"proof must be a zkmargin\.groth16\.Proof"):
        verify(pvk3, public3, bad)  # type: ignore[arg-type]


def test_points_given_as_lists_are_accepted(proof3) -> None:
    (x0, x1), (y0, y1) = proof3.b
    listed = Proof(a=list(proof3.a), b=[[x0, x1], [y0, y1]], c=list(proof3.c))  # type: ignore[arg-type]
    assert validate_proof(listed) == (proof3.a, proof3.b, proof3.c)


def test_no_builtin_type_error_escapes(pvk3, public3, proof3) -> None:
    """A grab bag of junk: every rejection is a MalformedInputError, never TypeError & co."""
    junk_proofs = [_proof_with(proof3, **{f: bad}) for f, bad in BAD_SHAPES]
    for proof in junk_proofs:
        with pytest.raises(MalformedInputError):
            verify(pvk3, public3, proof)


# --- verifying key ---------------------------------------------------------------------------

def test_vk_delta_outside_subgroup(trapdoor3, public3, proof3, outside_g2) -> None:
    bad = dataclasses.replace(trapdoor3.vk, delta_g2=outside_g2)
    with pytest.raises(PointNotInSubgroupError, match=r"vk\.delta_g2 = .* not in the order-r subgroup"):
        prepare_verifying_key(bad)
    with pytest.raises(PointNotInSubgroupError, match=r"vk\.delta_g2"):
        verify(bad, public3, proof3)
    with pytest.raises(PointNotInSubgroupError, match=r"vk\.delta_g2"):
        PreparedVerifyingKey(bad)


@pytest.mark.parametrize("field", ["beta_g2", "gamma_g2"])
def test_vk_other_g2_outside_subgroup(trapdoor3, outside_g2, field: str) -> None:
    with pytest.raises(PointNotInSubgroupError, match=rf"vk\.{field} "):
        prepare_verifying_key(dataclasses.replace(trapdoor3.vk, **{field: outside_g2}))


def test_vk_beta_off_twist(trapdoor3) -> None:
    (x0, x1), (y0, y1) = trapdoor3.vk.beta_g2
    off = ((x0, x1), (y0, (y1 + 1) % Q))
    with pytest.raises(PointNotOnCurveError, match=r"vk\.beta_g2 = .* is not on the twist"):
        prepare_verifying_key(dataclasses.replace(trapdoor3.vk, beta_g2=off))


@pytest.mark.parametrize("field", ["alpha_g1", "beta_g2", "gamma_g2", "delta_g2"])
def test_vk_identity_points(trapdoor3, field: str) -> None:
    with pytest.raises(IdentityPointError, match=rf"vk\.{field} is the point at infinity"):
        prepare_verifying_key(dataclasses.replace(trapdoor3.vk, **{field: None}))


def test_vk_gamma_abc_identity_would_unbind_an_input(trapdoor3) -> None:
    ic = list(trapdoor3.vk.gamma_abc_g1)
    ic[2] = None
    with pytest.raises(IdentityPointError, match=r"vk\.gamma_abc_g1\[2\] is the point at infinity"):
        prepare_verifying_key(dataclasses.replace(trapdoor3.vk, gamma_abc_g1=tuple(ic)))


def test_vk_gamma_abc_off_curve(trapdoor3) -> None:
    ic = list(trapdoor3.vk.gamma_abc_g1)
    ic[1] = (ic[1][0], (ic[1][1] + 1) % Q)
    with pytest.raises(PointNotOnCurveError, match=r"vk\.gamma_abc_g1\[1\] = .* is not on G1"):
        prepare_verifying_key(dataclasses.replace(trapdoor3.vk, gamma_abc_g1=tuple(ic)))


@pytest.mark.parametrize("bad", [(), [], None, "abc"])
def test_vk_gamma_abc_empty_or_wrong_type(trapdoor3, bad: object) -> None:
    with pytest.raises(MalformedInputError, match=r"vk\.gamma_abc_g1"):
        prepare_verifying_key(dataclasses.replace(trapdoor3.vk, gamma_abc_g1=bad))


def test_vk_alpha_string_coordinates(trapdoor3) -> None:
    with pytest.raises(PointNotOnCurveError, match=r"vk\.alpha_g1\.x must be an int, got str"):
        prepare_verifying_key(dataclasses.replace(trapdoor3.vk, alpha_g1=("1", "2")))


@pytest.mark.parametrize("bad", [None, {"alpha_g1": (1, 2)}, "vk"])
def test_vk_not_a_verifying_key(public3, proof3, bad: object) -> None:
    with pytest.raises(MalformedInputError, match=r"verifying key must be a zkmargin\.groth16\.VerifyingKey"):
        verify(bad, public3, proof3)  # type: ignore[arg-type]


def test_prepared_key_precomputes_negations(trapdoor3, pvk3) -> None:
    vk = trapdoor3.vk
    assert pvk3.vk is vk
    assert pvk3.alpha_g1 == vk.alpha_g1
    assert pvk3.gamma_abc_g1 == tuple(vk.gamma_abc_g1)
    for neg, orig in [(pvk3.neg_beta_g2, vk.beta_g2), (pvk3.neg_gamma_g2, vk.gamma_g2),
                      (pvk3.neg_delta_g2, vk.delta_g2)]:
        (x0, x1), (y0, y1) = orig
        assert neg == ((x0, x1), ((Q - y0) % Q, (Q - y1) % Q))


def test_vk_gamma_equal_delta_warns(trapdoor3, caplog: pytest.LogCaptureFixture) -> None:
    vk = dataclasses.replace(trapdoor3.vk, gamma_g2=G2_GENERATOR, delta_g2=G2_GENERATOR)
    with caplog.at_level(logging.WARNING, logger="zkmargin.verifier.groth16_verify"):
        prepare_verifying_key(vk)
    assert any("gamma_g2 == delta_g2" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="zkmargin.verifier.groth16_verify"):
        prepare_verifying_key(dataclasses.replace(vk, delta_g2=g2_neg(G2_GENERATOR)))
    assert not caplog.records
