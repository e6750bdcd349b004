"""The test helpers themselves: the Fq2 square root and the out-of-G2 twist points.

The subgroup property is checked with py_ecc's plain (affine, non-optimized) bn128 module, an
implementation independent of zkmargin.curve.
"""

from __future__ import annotations

import random

from zkmargin.curve import TWIST_B, g2_in_subgroup, g2_is_on_curve
from zkmargin.field import Q


def test_twist_b_matches_core_constant(sim) -> None:
    assert sim.twist_b() == TWIST_B


def test_fq2_sqrt_roundtrip(sim) -> None:
    rng = random.Random(5)
    found_square = found_non_square = 0
    for _ in range(20):
        a = (rng.randrange(Q), rng.randrange(Q))
        s = sim.fq2_sqrt(a)
        if s is None:
            found_non_square += 1
            continue
        found_square += 1
        s0, s1 = s
        assert ((s0 * s0 - s1 * s1) % Q, 2 * s0 * s1 % Q) == a
    # Half of Fq2* are squares: 20 draws give both kinds except with probability 2^-19.
    assert found_square and found_non_square
    # Squares of known elements, including the pure-real and pure-imaginary edge cases.
    for x in [(3, 0), (0, 5), (7, 11)]:
        sq = ((x[0] * x[0] - x[1] * x[1]) % Q, 2 * x[0] * x[1] % Q)
        s = sim.fq2_sqrt(sq)
        assert s is not None and ((s[0] * s[0] - s[1] * s[1]) % Q, 2 * s[0] * s[1] % Q) == sq


def test_twist_point_outside_g2_independently(sim, outside_g2) -> None:
    from py_ecc import bn128

    p = (bn128.FQ2(list(outside_g2[0])), bn128.FQ2(list(outside_g2[1])))
    assert bn128.is_on_curve(p, bn128.b2)
    assert bn128.multiply(p, bn128.curve_order) is not None  # r * P != infinity
    # and the core wrapper agrees (it is what the verifier uses)
    assert g2_is_on_curve(outside_g2)
    assert not g2_in_subgroup(outside_g2)
