"""The pure-Python verification backend: the pairing twin on Python ints, no numba, no py_ecc objects.

Private module. :mod:`zkmargin.verifier.groth16_verify` uses it when the numba pairing is not the
better choice: on the base install (py_ecc + click), and for a single proof on the command line,
where importing numba and loading its cached kernels costs more (about 0.5 s) than the whole check
here (tens of milliseconds). It runs the formulas of :mod:`~zkmargin.verifier._pairing_naive` (the
readable twin of the numba kernels, value for value) plus the G2 subgroup test below; py_ecc stays
the independent oracle in the tests (tests/verifier/test_verify_backends.py compares all three on
valid, invalid and hostile proofs).

Measured here (2 shared cores): the 4-pair product with one final exponentiation is about 20x
faster than py_ecc's ``pairing`` products, because the Miller loop shares its squarings between
pairs, uses precomputed-style projective line formulas and the cyclotomic final exponentiation.
"""

from __future__ import annotations

from collections.abc import Sequence

from zkmargin.verifier import _pairing_naive as _n

__all__ = ["g2_in_subgroup", "pairing_product_is_one", "g1_lincomb"]

_Fq2 = tuple[int, int]
_G2Jac = tuple[_Fq2, _Fq2, _Fq2]
_Q = _n.Q

_ONE2: _Fq2 = (1, 0)
_ZERO2: _Fq2 = (0, 0)
_INF2: _G2Jac = (_ONE2, _ONE2, _ZERO2)


def _is_zero2(a: _Fq2) -> bool:
    return a[0] == 0 and a[1] == 0


def _dbl2(a: _Fq2) -> _Fq2:
    return _n.f2_add(a, a)


def _g2_dbl(p: _G2Jac) -> _G2Jac:
    """2P (Jacobian, dbl-2009-l, a = 0); the twin of ``_pairing_numba._g2_dbl``."""
    x, y, z = p
    a = _n.f2_sqr(x)
    b = _n.f2_sqr(y)
    c = _n.f2_sqr(b)
    d = _dbl2(_n.f2_sub(_n.f2_sub(_n.f2_sqr(_n.f2_add(x, b)), a), c))
    e = _n.f2_add(_dbl2(a), a)
    f = _n.f2_sqr(e)
    x3 = _n.f2_sub(f, _dbl2(d))
    c8 = _dbl2(_dbl2(_dbl2(c)))
    y3 = _n.f2_sub(_n.f2_mul(e, _n.f2_sub(d, x3)), c8)
    z3 = _dbl2(_n.f2_mul(y, z))
    return (x3, y3, z3)


def _g2_add(p: _G2Jac, q: _G2Jac) -> _G2Jac:
    """P + Q (Jacobian, add-2007-bl), every special case handled; twin of ``_g2_add``."""
    if _is_zero2(p[2]):
        return q
    if _is_zero2(q[2]):
        return p
    z1z1 = _n.f2_sqr(p[2])
    z2z2 = _n.f2_sqr(q[2])
    u1 = _n.f2_mul(p[0], z2z2)
    u2 = _n.f2_mul(q[0], z1z1)
    s1 = _n.f2_mul(_n.f2_mul(p[1], q[2]), z2z2)
    s2 = _n.f2_mul(_n.f2_mul(q[1], p[2]), z1z1)
    h = _n.f2_sub(u2, u1)
    rr = _dbl2(_n.f2_sub(s2, s1))
    if _is_zero2(h):
        return _g2_dbl(p) if _is_zero2(rr) else _INF2
    i = _n.f2_sqr(_dbl2(h))
    j = _n.f2_mul(h, i)
    v = _n.f2_mul(u1, i)
    x3 = _n.f2_sub(_n.f2_sub(_n.f2_sqr(rr), j), _dbl2(v))
    y3 = _n.f2_sub(_n.f2_mul(rr, _n.f2_sub(v, x3)), _dbl2(_n.f2_mul(s1, j)))
    z3 = _n.f2_mul(_n.f2_sub(_n.f2_sub(_n.f2_sqr(_n.f2_add(p[2], q[2])), z1z1), z2z2), h)
    return (x3, y3, z3)


def _g2_psi(p: _G2Jac) -> _G2Jac:
    """psi on Jacobian coordinates: conjugation commutes with the divisions by Z^2 and Z^3."""
    return (_n.f2_mul(_n.f2_conj(p[0]), _n.PSI_X), _n.f2_mul(_n.f2_conj(p[1]), _n.PSI_Y), _n.f2_conj(p[2]))


def _g2_eq(p: _G2Jac, q: _G2Jac) -> bool:
    pz, qz = _is_zero2(p[2]), _is_zero2(q[2])
    if pz or qz:
        return pz and qz
    z1z1 = _n.f2_sqr(p[2])
    z2z2 = _n.f2_sqr(q[2])
    if _n.f2_mul(p[0], z2z2) != _n.f2_mul(q[0], z1z1):
        return False
    return _n.f2_mul(_n.f2_mul(p[1], q[2]), z2z2) == _n.f2_mul(_n.f2_mul(q[1], p[2]), z1z1)


def g2_in_subgroup(p: tuple[_Fq2, _Fq2] | None) -> bool:
    """Whether a point on the twist lies in G2: ``[x+1]P + psi([x]P) + psi^2([x]P) == psi^3([2x]P)``.

    The criterion of :func:`zkmargin.curve.g2_in_subgroup` (whose docstring proves it exact on the
    whole twist), on Python ints: one 63-bit double-and-add over the NAF of x. Precondition: P on
    the twist (None, infinity, counts as in G2).
    """
    if p is None:
        return True
    qx, qy = p
    base: _G2Jac = (qx, qy, _ONE2)
    neg: _G2Jac = (qx, _n.f2_neg(qy), _ONE2)
    acc = base
    x_naf = _n.X_NAF
    for i in range(len(x_naf) - 2, -1, -1):
        acc = _g2_dbl(acc)
        d = x_naf[i]
        if d == 1:
            acc = _g2_add(acc, base)
        elif d == -1:
            acc = _g2_add(acc, neg)
    psi1 = _g2_psi(acc)
    psi2 = _g2_psi(psi1)
    lhs = _g2_add(_g2_add(_g2_add(acc, base), psi1), psi2)
    rhs = _g2_psi(_g2_psi(_g2_psi(_g2_dbl(acc))))
    return _g2_eq(lhs, rhs)


def g1_lincomb(points: Sequence[tuple[int, int] | None], scalars: Sequence[int]) -> tuple[int, int] | None:
    """sum_i k_i * P_i on G1 (affine ints, None = infinity), Jacobian double-and-add, one inversion."""
    q = _Q
    acc = (1, 1, 0)  # Jacobian infinity
    for p, k in zip(points, scalars, strict=True):
        k %= _n.R
        if p is None or k == 0:
            continue
        term = (1, 1, 0)
        for bit in bin(k)[2:]:
            term = _g1_dbl(term, q)
            if bit == "1":
                term = _g1_madd(term, p, q)
        acc = _g1_add(acc, term, q)
    x, y, z = acc
    if z == 0:
        return None
    zi = pow(z, -1, q)
    zi2 = zi * zi % q
    return (x * zi2 % q, y * zi2 * zi % q)


def _g1_dbl(p: tuple[int, int, int], q: int) -> tuple[int, int, int]:
    x, y, z = p
    if z == 0:
        return p
    a = x * x % q
    b = y * y % q
    c = b * b % q
    d = 2 * ((x + b) * (x + b) - a - c) % q
    e = 3 * a % q
    x3 = (e * e - 2 * d) % q
    return (x3, (e * (d - x3) - 8 * c) % q, 2 * y * z % q)


def _g1_madd(p: tuple[int, int, int], a: tuple[int, int], q: int) -> tuple[int, int, int]:
    return _g1_add(p, (a[0], a[1], 1), q)


def _g1_add(p: tuple[int, int, int], r: tuple[int, int, int], q: int) -> tuple[int, int, int]:
    if p[2] == 0:
        return r
    if r[2] == 0:
        return p
    z1z1 = p[2] * p[2] % q
    z2z2 = r[2] * r[2] % q
    u1 = p[0] * z2z2 % q
    u2 = r[0] * z1z1 % q
    s1 = p[1] * r[2] * z2z2 % q
    s2 = r[1] * p[2] * z1z1 % q
    h = (u2 - u1) % q
    rr = 2 * (s2 - s1) % q
    if h == 0:
        return _g1_dbl(p, q) if rr == 0 else (1, 1, 0)
    i = 4 * h * h % q
    j = h * i % q
    v = u1 * i % q
    x3 = (rr * rr - j - 2 * v) % q
    y3 = (rr * (v - x3) - 2 * s1 * j) % q
    z3 = ((p[2] + r[2]) * (p[2] + r[2]) - z1z1 - z2z2) * h % q
    return (x3, y3, z3)


def pairing_product_is_one(pairs: Sequence[tuple[tuple[int, int] | None, tuple[_Fq2, _Fq2] | None]]) -> bool:
    """prod e(P_i, Q_i) == 1: one shared Miller loop, one final exponentiation (the twin's formulas).

    Same preconditions as :func:`zkmargin.curve.pairing_product_is_one`: P_i on G1, Q_i in G2
    (validated by the caller); pairs with an infinity factor contribute 1.
    """
    return _n.pairing_product_is_one(list(pairs))
