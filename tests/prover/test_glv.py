"""The GLV endomorphism of G1 (prover._glv): constants re-derived, phi(P) == lambda * P on py_ecc,
the scalar split (twin) on random and edge scalars, and the numba digit kernel against the twin."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from zkmargin import curve
from zkmargin.field import Q, R
from zkmargin.prover import _glv

EDGE = [0, 1, 2, 3, R - 1, R - 2, R // 2, R // 2 + 1, _glv.LAMBDA, R - _glv.LAMBDA, _glv.LAMBDA * _glv.LAMBDA % R,
        _glv.A2, _glv.A1, (1 << 126) - 1, 1 << 126, (1 << 127) - 1, 1 << 127, (1 << 128) - 1, 1 << 128,
        (1 << 192) + 5, (1 << 253) - 1, 1 << 253]


def _boundary_scalars() -> list[int]:
    """Scalars where k * B2 / r or k * (-B1) / r sits within 1 of a half-integer (where the kernel's
    approximate rounding may differ from exact rounding)."""
    out = []
    for b in (_glv.B2, -_glv.B1):
        for h in (0, 1, 7, 1000, b // 3, b - 1):
            k = ((2 * h + 1) * R) // (2 * b)  # k * b / r just below h + 1/2
            out += [k - 1, k, k + 1, k + 2]
    return [k for k in out if 0 <= k < R]


def test_constants_are_derived() -> None:
    """The literals are what extended Euclid on (r, lambda) and the py_ecc eigenvalue check give."""
    d = _glv.derive_constants()
    assert d == {"BETA": _glv.BETA, "LAMBDA": _glv.LAMBDA, "A1": _glv.A1, "B1": _glv.B1, "A2": _glv.A2,
                 "B2": _glv.B2}
    assert pow(_glv.BETA, 3, Q) == 1 and _glv.BETA != 1
    assert pow(_glv.LAMBDA, 3, R) == 1 and _glv.LAMBDA != 1
    assert (_glv.A1 + _glv.B1 * _glv.LAMBDA) % R == 0
    assert (_glv.A2 + _glv.B2 * _glv.LAMBDA) % R == 0
    assert _glv.A1 * _glv.B2 - _glv.A2 * _glv.B1 == R  # a basis of the index-r lattice
    assert max(abs(v) for v in (_glv.A1, _glv.B1, _glv.A2, _glv.B2)) < 1 << 127  # short
    assert _glv.G1_ROUND == round(Fraction(_glv.B2 << 256, R))
    assert _glv.G2_ROUND == round(Fraction(-_glv.B1 << 256, R))
    # the bound the module docstring proves: 5/8 (|A1| + |A2|) and 5/8 (|B1| + |B2|) below 2^126.2
    assert 5 * (_glv.A1 + _glv.A2) < 8 * 2 ** 126.2 and 5 * (_glv.B2 - _glv.B1) < 8 * 2 ** 126.2


def test_phi_is_lambda_on_py_ecc() -> None:
    """(beta x, y) == lambda * (x, y) for random points; the other cube root of unity is not it."""
    rng = random.Random(7)
    for _ in range(4):
        p = curve.g1_mul(curve.G1_GENERATOR, rng.randrange(1, R))
        phi = (_glv.BETA * p[0] % Q, p[1])
        assert curve.g1_mul(p, _glv.LAMBDA) == phi
        assert curve.g1_mul(p, _glv.LAMBDA * _glv.LAMBDA % R) != phi
        assert curve.g1_mul(p, _glv.LAMBDA) != (_glv.BETA * _glv.BETA * p[0] % Q, p[1])


def _check_split(k: int) -> tuple[int, int]:
    k1, k2 = _glv.split(k)
    assert (k1 + k2 * _glv.LAMBDA - k) % R == 0, k
    assert abs(k1) < 2 ** 126.2 and abs(k2) < 2 ** 126.2, k
    assert abs(k1) < 1 << _glv.HALF_BITS and abs(k2) < 1 << _glv.HALF_BITS
    return k1, k2


def test_split_edges_and_random() -> None:
    rng = random.Random(11)
    for k in EDGE + _boundary_scalars() + [rng.randrange(R) for _ in range(20000)]:
        _check_split(k)
    # small scalars stay as they are (k2 = 0): their second half costs nothing in the MSM
    for k in (0, 1, 5, (1 << 64) - 1, (1 << 120) + 3):
        assert _glv.split(k) == (k, 0)
    # signs of both halves occur
    signs = {(a < 0, b < 0) for a, b in map(_glv.split, (rng.randrange(R) for _ in range(200)))}
    assert signs == {(False, False), (False, True), (True, False), (True, True)}


def test_split_close_to_exact_babai() -> None:
    """The approximate quotients differ from exact rounding by at most one lattice step."""
    rng = random.Random(12)
    for k in _boundary_scalars() + [rng.randrange(R) for _ in range(2000)]:
        c1 = round(Fraction(k * _glv.B2, R))
        c2 = round(Fraction(-k * _glv.B1, R))
        e1, e2 = k - c1 * _glv.A1 - c2 * _glv.A2, -c1 * _glv.B1 - c2 * _glv.B2
        k1, k2 = _glv.split(k)
        d = {(k1 - e1, k2 - e2)}
        steps = {(0, 0)} | {(s * a, s * b) for s in (1, -1) for a, b in ((_glv.A1, _glv.B1), (_glv.A2, _glv.B2))}
        steps |= {(s * (_glv.A1 + t * _glv.A2), s * (_glv.B1 + t * _glv.B2)) for s in (1, -1) for t in (1, -1)}
        assert d <= steps, k


def test_split_rejects_out_of_range() -> None:
    for k in (-1, R, R + 5):
        with pytest.raises(ValueError):
            _glv.split(k)


def test_reference_digits_recombine() -> None:
    """The twin's digits lie in [-2^(c-1), 2^(c-1)] and recombine to k1, k2 (a wrong digit would not)."""
    rng = random.Random(13)
    vals = EDGE[:12] + [rng.randrange(R) for _ in range(50)]
    for c in (2, 5, 13, 16):
        rows = _glv.glv_digits_reference(vals, c)
        assert len(rows) == _glv.glv_windows(c) and c * len(rows) >= _glv.HALF_BITS + 1
        half = 1 << (c - 1)
        assert all(-half <= d <= half for row in rows for d in row)
        for j, k in enumerate(vals):
            parts = [sum(rows[w][2 * j + h] << (c * w) for w in range(len(rows))) for h in (0, 1)]
            assert tuple(parts) == _glv.split(k)
            assert (parts[0] + parts[1] * _glv.LAMBDA) % R == k
