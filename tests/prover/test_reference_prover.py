"""The pure-Python Groth16 path: key relations against an independent evaluation, proofs verify."""

from __future__ import annotations

import random

import pytest

from zkmargin import curve
from zkmargin.circuits import Circuit, compile, param, public, secret, solve
from zkmargin.errors import MalformedInputError, UnsatisfiedConstraintError
from zkmargin.field import R
from zkmargin.prover import DevelopmentSetupWarning, prove_reference, qap, setup
from zkmargin.prover.setup import Toxic
from zkmargin.serialize import decode_sections


class Cube(Circuit):
    """x^3 + x + k == y, with y and k public."""

    n = param(default=1)
    y = public()
    k = public()
    x = secret()

    def define(self, api):
        x2 = self.x * self.x
        x3 = x2 * self.x
        api.assert_equal(x3 + self.x + self.k, self.y)


def _pairing_check(vk, public, proof):
    """The Groth16 equation written out directly on py_ecc (independent of zkmargin.verifier)."""
    vkx = vk.gamma_abc_g1[0]
    for x, p in zip(public, vk.gamma_abc_g1[1:], strict=True):
        vkx = curve.g1_add(vkx, curve.g1_mul(p, x))
    return curve.pairing_product_is_one(
        [(curve.g1_neg(proof.a), proof.b), (vk.alpha_g1, vk.beta_g2), (vkx, vk.gamma_g2), (proof.c, vk.delta_g2)]
    )


@pytest.fixture(scope="module")
def keys():
    cs = compile(Cube())
    toxic = Toxic(random.Random(7))
    with pytest.warns(DevelopmentSetupWarning):
        pk, vk = setup(cs, toxic=toxic)
    return cs, decode_sections(pk), vk, toxic  # lists, whichever backend set it up


def _lagrange_naive(n, j, x):
    w = qap.root_of_unity(n)
    pts = [pow(w, i, R) for i in range(n)]
    num, den = 1, 1
    for i, p in enumerate(pts):
        if i != j:
            num = num * (x - p) % R
            den = den * (pts[j] - p) % R
    return num * pow(den, R - 2, R) % R


def test_key_matches_independent_evaluation(keys):
    cs, pk, vk, t = keys
    n = pk.domain_size
    entries, n_rows = qap.qap_coefficients(cs)
    assert (n, pk.n_rows) == (qap.domain_size_for(n_rows), n_rows)
    lag = [_lagrange_naive(n, j, t.tau) for j in range(n)]
    a_i = [0] * cs.n_wires
    b_i = [0] * cs.n_wires
    c_i = [0] * cs.n_wires
    for row, (a, b, c) in enumerate(cs.constraints):
        for w, k in a.items():
            a_i[w] += k * lag[row]
        for w, k in b.items():
            b_i[w] += k * lag[row]
        for w, k in c.items():
            c_i[w] += k * lag[row]
    for s in range(cs.n_public + 1):
        a_i[s] += lag[cs.n_constraints + s]
    g1 = curve.G1_GENERATOR
    for i in range(cs.n_wires):
        assert pk.a_query[i] == curve.g1_mul(g1, a_i[i])
        assert pk.b_g2_query[i] == curve.g2_mul(curve.G2_GENERATOR, b_i[i])
    gi, di = pow(t.gamma, R - 2, R), pow(t.delta, R - 2, R)
    for i in range(cs.n_public + 1):
        assert vk.gamma_abc_g1[i] == curve.g1_mul(g1, (t.beta * a_i[i] + t.alpha * b_i[i] + c_i[i]) * gi)
    j = cs.n_public + 1
    assert pk.l_query[0] == curve.g1_mul(g1, (t.beta * a_i[j] + t.alpha * b_i[j] + c_i[j]) * di)
    w2 = qap.root_of_unity(2 * n)
    odd = pow(w2, 3, R)  # h_query[1] = L^{2n}_3(tau) / delta
    num, den = 1, 1
    for i in range(2 * n):
        p = pow(w2, i, R)
        if p != odd:
            num, den = num * (t.tau - p) % R, den * (odd - p) % R
    assert pk.h_query[1] == curve.g1_mul(g1, num * pow(den, R - 2, R) * di)


def test_proof_verifies_and_public_inputs_are_bound(keys):
    cs, pk, vk, _ = keys
    w = solve(Cube(y=3**3 + 3 + 4, k=4, x=3), cs)
    proof, public = prove_reference(pk, w, cs)
    assert public == [34, 4]
    assert _pairing_check(vk, public, proof)
    assert not _pairing_check(vk, [35, 4], proof)
    assert not _pairing_check(vk, [34, 5], proof)


def test_unsatisfied_witness_refused_with_scope(keys):
    cs, pk, _, _ = keys
    w = solve(Cube(y=34, k=4, x=3), cs)
    w[cs.wire_index("x")] = 2
    with pytest.raises(UnsatisfiedConstraintError, match="constraint #0"):
        prove_reference(pk, w, cs)
    with pytest.raises(MalformedInputError, match="expects 6 wires"):
        prove_reference(pk, w[:-1], cs)
    with pytest.raises(MalformedInputError, match=r"not an integer in \[0, r\)"):
        prove_reference(pk, w[:-1] + [R], None)
