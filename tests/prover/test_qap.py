"""QAP in snarkjs's convention: roots of unity, NTT, odd coset, H values, appended public rows."""

from __future__ import annotations

import random

import pytest

from zkmargin.circuits import Circuit, compile, param, public, secret
from zkmargin.field import R
from zkmargin.prover import qap


def _eval_poly(coeffs, x):
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % R
    return acc


def test_generator_and_roots():
    # 5 is a quadratic non-residue, so its 2-power part has full order 2^28
    assert pow(5, (R - 1) // 2, R) == R - 1
    for k in (1, 4, 10, 28):
        w = qap.root_of_unity(1 << k)
        assert pow(w, 1 << k, R) == 1
        assert pow(w, 1 << (k - 1), R) == R - 1
    with pytest.raises(ValueError):
        qap.root_of_unity(12)
    with pytest.raises(ValueError):
        qap.root_of_unity(1 << 29)


@pytest.mark.parametrize("n", [2, 8, 64])
def test_ntt_matches_naive_evaluation(n):
    rng = random.Random(n)
    coeffs = [rng.randrange(R) for _ in range(n)]
    w = qap.root_of_unity(n)
    assert qap.ntt(coeffs) == [_eval_poly(coeffs, pow(w, i, R)) for i in range(n)]
    assert qap.intt(qap.ntt(coeffs)) == coeffs


def test_odd_coset_values_match_direct_evaluation():
    rng = random.Random(1)
    n = 16
    coeffs = [rng.randrange(R) for _ in range(n)]
    w2 = qap.root_of_unity(2 * n)
    evals = qap.ntt(coeffs)
    assert qap.odd_coset_values(evals) == [_eval_poly(coeffs, pow(w2, 2 * i + 1, R)) for i in range(n)]


def test_h_values_interpolate_a_multiple_of_z():
    # (A*B - C) over the 2n domain: zero on the even points (the n-domain), h values on the odd ones;
    # the interpolated polynomial must then vanish on the n-domain and have degree <= 2n - 2.
    rng = random.Random(2)
    n = 8
    a = [rng.randrange(R) for _ in range(n)]
    b = [rng.randrange(R) for _ in range(n)]
    h = qap.h_values(a, b)
    full = [0] * (2 * n)
    full[1::2] = h
    p = qap.intt(full)
    assert p[2 * n - 1] == 0
    w = qap.root_of_unity(n)
    for i in range(n):
        assert _eval_poly(p, pow(w, i, R)) == 0
    # and it is A*B - C for the interpolants of a, b, a*b
    ca, cb = qap.intt(a), qap.intt(b)
    cc = qap.intt([x * y % R for x, y in zip(a, b, strict=True)])
    x = rng.randrange(R)
    assert _eval_poly(p, x) == (_eval_poly(ca, x) * _eval_poly(cb, x) - _eval_poly(cc, x)) % R


class Tiny(Circuit):
    k = param(default=2)
    y = public()
    z = public()
    x = secret()

    def define(self, api):
        api.assert_r1cs(self.x, self.x, self.y)
        api.assert_r1cs(self.x, self.y, self.z)


def test_public_rows_appended():
    cs = compile(Tiny())
    entries, n_rows = qap.qap_coefficients(cs)
    assert n_rows == cs.n_constraints + cs.n_public + 1 == 5
    assert cs.n_constraints == 2
    public_rows = [(m, row, wire, k) for m, row, wire, k in entries if row >= cs.n_constraints]
    assert public_rows == [(0, 2, 0, 1), (0, 3, 1, 1), (0, 4, 2, 1)]
    assert qap.domain_size_for(n_rows) == 8
    assert qap.domain_size_for(1) == 2
