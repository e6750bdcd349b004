"""BN254 optimal ate pairing, final exponentiation and curve helpers as numba kernels.

Private module: the public surface is :mod:`zkmargin.verifier.fast`; the readable twin of every
tower, Miller loop and final exponentiation function is in :mod:`zkmargin.verifier._pairing_naive`
(same names, same formulas, Python ints), which the tests compare with this module value by value.

Representation (inside kernels, everything is a tuple kept in registers):

- Fq: 4 little-endian ``uint64`` limbs in Montgomery form (``zkmargin._numba_field``'s convention);
- Fq2 ``(c0, c1)``, Fq6 ``(c0, c1, c2)`` of Fq2, Fq12 ``(c0, c1)`` of Fq6 (tower as in the twin);
- G1 Jacobian ``(X, Y, Z)`` of Fq (x = X/Z^2, y = Y/Z^3, infinity when Z = 0); G2 the same over Fq2;
  the Miller loop's G2 accumulator is homogeneous projective (x = X/Z, y = Y/Z).

Kernel arguments are 2-D ``uint64`` arrays of shape ``(rows, 4)``, one Fq element per row, so every
layout is a flat run of rows: a G1 affine point is 2 rows (x, y), a G2 affine point 4 rows
(x.c0, x.c1, y.c0, y.c1), an Fq12 12 rows in the order ``c_i.c_j.c_k`` -> row ``6i + 2j + k``, a
line 6 rows (three Fq2 coefficients), a prepared G2 point ``N_LINES * 6`` rows. Affine infinity
is never passed in: the public wrapper drops pairs with an infinity factor.

Under ``NUMBA_DISABLE_JIT=1`` the same code runs as Python on limbs (through ``_field``'s Python
primitives): a pairing then takes about half a second.

numba's on-disk cache of a kernel is invalidated only by an edit of this file: ``verifier.fast``
calls ``_numba_field.refresh_stale_caches`` at import, which also catches edits of the field module.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from zkmargin._numba_field import (
    FQ_ONE,
    ZERO,
    fq2_add,
    fq2_inv,
    fq2_mul,
    fq2_neg,
    fq2_sqr,
    fq2_sub,
    fq_add,
    fq_inv,
    fq_mul,
    fq_sqr,
    fq_sub,
    limbs,
)
from zkmargin.field import Q
from zkmargin.verifier import _pairing_naive as _ref

__all__ = [
    "N_LINES",
    "to_mont",
    "from_mont",
    "f2_mul_xi",
    "f2_mul_fq",
    "f2_conj",
    "f6_mul",
    "f6_sqr",
    "f6_inv",
    "f12_mul",
    "f12_sqr",
    "f12_inv",
    "f12_conj",
    "f12_frobenius",
    "f12_cyclotomic_sqr",
    "f12_cyclotomic_exp_x",
    "f12_mul_by_034",
    "double_step",
    "add_step",
    "ell",
    "final_exponentiation",
    "prepare_g2_kernel",
    "miller_loop_kernel",
    "final_exponentiation_kernel",
    "pairing_check_kernel",
    "f12_op_kernel",
    "g2_in_subgroup_kernel",
    "g1_lincomb_kernel",
    "g1_mul_many_kernel",
]

_M64 = (1 << 64) - 1
_R_MONT = (1 << 256) % Q
_R_INV = pow(_R_MONT, Q - 2, Q)


def to_mont(x: int) -> tuple:
    """Limbs of the Montgomery form of ``x mod q`` (Python-side conversion)."""
    return limbs((x % Q) * _R_MONT % Q)


def from_mont(v: tuple | np.ndarray) -> int:
    """The int in [0, q) whose Montgomery form has limbs ``v``."""
    n = int(v[0]) | (int(v[1]) << 64) | (int(v[2]) << 128) | (int(v[3]) << 192)
    return n * _R_INV % Q


def _mont2(a: tuple[int, int]) -> tuple:
    return (to_mont(a[0]), to_mont(a[1]))


# --- constants (all derived in _pairing_naive from the field parameters) ----------------------

_ONE2 = (FQ_ONE, ZERO)
_ZERO2 = (ZERO, ZERO)
_ZERO6 = (_ZERO2, _ZERO2, _ZERO2)
_ONE12 = ((_ONE2, _ZERO2, _ZERO2), _ZERO6)
_TWIST_B = _mont2(_ref.TWIST_B)
_TWO_INV = to_mont(pow(2, Q - 2, Q))
_PSI_X = _mont2(_ref.PSI_X)
_PSI_Y = _mont2(_ref.PSI_Y)
_FROB1 = tuple(_mont2(c) for c in _ref.FROB_GAMMA[1])
_FROB2 = tuple(_mont2(c) for c in _ref.FROB_GAMMA[2])
_FROB3 = tuple(_mont2(c) for c in _ref.FROB_GAMMA[3])
_ATE_NAF = np.array(_ref.ATE_LOOP_NAF, dtype=np.int64)
_ATE_TOP = len(_ref.ATE_LOOP_NAF) - 2
_X_NAF = np.array(_ref.X_NAF, dtype=np.int64)
_X_TOP = len(_ref.X_NAF) - 2
#: Number of lines per prepared G2 point: one per doubling, one per non-zero digit, two final.
N_LINES = (_ATE_TOP + 1) + sum(1 for d in _ref.ATE_LOOP_NAF[:-1] if d != 0) + 2

# --- row access -------------------------------------------------------------------------------


@njit(cache=True)
def _ld(a, i):
    return (a[i, 0], a[i, 1], a[i, 2], a[i, 3])


@njit(cache=True)
def _st(a, i, v):
    a[i, 0] = v[0]
    a[i, 1] = v[1]
    a[i, 2] = v[2]
    a[i, 3] = v[3]


@njit(cache=True)
def _ld2(a, i):
    return (_ld(a, i), _ld(a, i + 1))


@njit(cache=True)
def _st2(a, i, v):
    _st(a, i, v[0])
    _st(a, i + 1, v[1])


@njit(cache=True)
def _ld12(a, i):
    return (
        (_ld2(a, i), _ld2(a, i + 2), _ld2(a, i + 4)),
        (_ld2(a, i + 6), _ld2(a, i + 8), _ld2(a, i + 10)),
    )


@njit(cache=True)
def _st12(a, i, v):
    _st2(a, i, v[0][0])
    _st2(a, i + 2, v[0][1])
    _st2(a, i + 4, v[0][2])
    _st2(a, i + 6, v[1][0])
    _st2(a, i + 8, v[1][1])
    _st2(a, i + 10, v[1][2])


@njit(cache=True)
def _is_zero(a):
    return (a[0] | a[1] | a[2] | a[3]) == 0


@njit(cache=True)
def _eq(a, b):
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0


@njit(cache=True)
def _f2_is_zero(a):
    return _is_zero(a[0]) and _is_zero(a[1])


@njit(cache=True)
def _f2_eq(a, b):
    return _eq(a[0], b[0]) and _eq(a[1], b[1])


# --- Fq2 extras ---------------------------------------------------------------------------------


@njit(cache=True)
def _fq_nine(a):
    t = fq_add(a, a)
    t = fq_add(t, t)
    t = fq_add(t, t)
    return fq_add(t, a)


@njit(cache=True)
def f2_mul_xi(a):
    """a * (9 + u) = (9 a0 - a1) + (a0 + 9 a1) u, with additions only."""
    return (fq_sub(_fq_nine(a[0]), a[1]), fq_add(a[0], _fq_nine(a[1])))


@njit(cache=True)
def f2_mul_fq(a, s):
    return (fq_mul(a[0], s), fq_mul(a[1], s))


@njit(cache=True)
def f2_conj(a):
    return (a[0], fq_sub(ZERO, a[1]))


@njit(cache=True)
def _f2_dbl(a):
    return fq2_add(a, a)


@njit(cache=True)
def _f2_triple(a):
    return fq2_add(fq2_add(a, a), a)


# --- Fq6 ------------------------------------------------------------------------------------------


@njit(cache=True)
def _f6_add(a, b):
    return (fq2_add(a[0], b[0]), fq2_add(a[1], b[1]), fq2_add(a[2], b[2]))


@njit(cache=True)
def _f6_sub(a, b):
    return (fq2_sub(a[0], b[0]), fq2_sub(a[1], b[1]), fq2_sub(a[2], b[2]))


@njit(cache=True)
def _f6_neg(a):
    return (fq2_neg(a[0]), fq2_neg(a[1]), fq2_neg(a[2]))


@njit(cache=True)
def f6_mul(a, b):
    """Karatsuba over Fq2 (6 Fq2 products); twin: ``_pairing_naive.f6_mul``."""
    a0, a1, a2 = a
    b0, b1, b2 = b
    v0 = fq2_mul(a0, b0)
    v1 = fq2_mul(a1, b1)
    v2 = fq2_mul(a2, b2)
    c0 = fq2_add(v0, f2_mul_xi(fq2_sub(fq2_sub(fq2_mul(fq2_add(a1, a2), fq2_add(b1, b2)), v1), v2)))
    c1 = fq2_add(fq2_sub(fq2_sub(fq2_mul(fq2_add(a0, a1), fq2_add(b0, b1)), v0), v1), f2_mul_xi(v2))
    c2 = fq2_add(fq2_sub(fq2_sub(fq2_mul(fq2_add(a0, a2), fq2_add(b0, b2)), v0), v2), v1)
    return (c0, c1, c2)


@njit(cache=True)
def f6_sqr(a):
    """Chung-Hasan CH-SQR2; twin: ``_pairing_naive.f6_sqr``."""
    a0, a1, a2 = a
    s0 = fq2_sqr(a0)
    ab = fq2_mul(a0, a1)
    s1 = fq2_add(ab, ab)
    s2 = fq2_sqr(fq2_add(fq2_sub(a0, a1), a2))
    bc = fq2_mul(a1, a2)
    s3 = fq2_add(bc, bc)
    s4 = fq2_sqr(a2)
    c0 = fq2_add(s0, f2_mul_xi(s3))
    c1 = fq2_add(s1, f2_mul_xi(s4))
    c2 = fq2_sub(fq2_sub(fq2_add(fq2_add(s1, s2), s3), s0), s4)
    return (c0, c1, c2)


@njit(cache=True)
def _f6_mul_by_v(a):
    return (f2_mul_xi(a[2]), a[0], a[1])


@njit(cache=True)
def _f6_mul_by_01(a, b0, b1):
    a0, a1, a2 = a
    v0 = fq2_mul(a0, b0)
    v1 = fq2_mul(a1, b1)
    c0 = fq2_add(v0, f2_mul_xi(fq2_mul(a2, b1)))
    c1 = fq2_sub(fq2_sub(fq2_mul(fq2_add(a0, a1), fq2_add(b0, b1)), v0), v1)
    c2 = fq2_add(fq2_mul(a2, b0), v1)
    return (c0, c1, c2)


@njit(cache=True)
def f6_inv(a):
    a0, a1, a2 = a
    t0 = fq2_sub(fq2_sqr(a0), f2_mul_xi(fq2_mul(a1, a2)))
    t1 = fq2_sub(f2_mul_xi(fq2_sqr(a2)), fq2_mul(a0, a1))
    t2 = fq2_sub(fq2_sqr(a1), fq2_mul(a0, a2))
    d = fq2_add(fq2_mul(a0, t0), f2_mul_xi(fq2_add(fq2_mul(a2, t1), fq2_mul(a1, t2))))
    di = fq2_inv(d)
    return (fq2_mul(t0, di), fq2_mul(t1, di), fq2_mul(t2, di))


# --- Fq12 -----------------------------------------------------------------------------------------


@njit(cache=True)
def f12_mul(a, b):
    """Karatsuba over Fq6 (18 Fq2 products); twin: ``_pairing_naive.f12_mul``."""
    t0 = f6_mul(a[0], b[0])
    t1 = f6_mul(a[1], b[1])
    c1 = _f6_sub(_f6_sub(f6_mul(_f6_add(a[0], a[1]), _f6_add(b[0], b[1])), t0), t1)
    return (_f6_add(t0, _f6_mul_by_v(t1)), c1)


@njit(cache=True)
def f12_sqr(a):
    """Complex squaring (12 Fq2 products); twin: ``_pairing_naive.f12_sqr``."""
    a0, a1 = a
    ab = f6_mul(a0, a1)
    c0 = _f6_sub(_f6_sub(f6_mul(_f6_add(a0, a1), _f6_add(a0, _f6_mul_by_v(a1))), ab), _f6_mul_by_v(ab))
    return (c0, _f6_add(ab, ab))


@njit(cache=True)
def f12_conj(a):
    return (a[0], _f6_neg(a[1]))


@njit(cache=True)
def f12_inv(a):
    a0, a1 = a
    t = f6_inv(_f6_sub(f6_sqr(a0), _f6_mul_by_v(f6_sqr(a1))))
    return (f6_mul(a0, t), _f6_neg(f6_mul(a1, t)))


@njit(cache=True)
def _frob_apply(a, g, conj):
    (a00, a01, a02), (a10, a11, a12) = a
    if conj:
        a00 = f2_conj(a00)
        a01 = f2_conj(a01)
        a02 = f2_conj(a02)
        a10 = f2_conj(a10)
        a11 = f2_conj(a11)
        a12 = f2_conj(a12)
    # coefficient c_i.c_j multiplies w^(2j + i)
    return (
        (fq2_mul(a00, g[0]), fq2_mul(a01, g[2]), fq2_mul(a02, g[4])),
        (fq2_mul(a10, g[1]), fq2_mul(a11, g[3]), fq2_mul(a12, g[5])),
    )


@njit(cache=True)
def f12_frobenius(a, n):
    """a^(q^n) for n in {1, 2, 3}; twin: ``_pairing_naive.f12_frobenius``."""
    if n == 1:
        return _frob_apply(a, _FROB1, True)
    if n == 2:
        return _frob_apply(a, _FROB2, False)
    return _frob_apply(a, _FROB3, True)


@njit(cache=True)
def _f4_sqr(a, b):
    t = fq2_mul(a, b)
    c0 = fq2_sub(fq2_sub(fq2_mul(fq2_add(a, b), fq2_add(f2_mul_xi(b), a)), t), f2_mul_xi(t))
    return c0, fq2_add(t, t)


@njit(cache=True)
def _three_minus_two(t, z):
    d = fq2_sub(t, z)
    return fq2_add(fq2_add(d, d), t)


@njit(cache=True)
def _three_plus_two(t, z):
    s = fq2_add(t, z)
    return fq2_add(fq2_add(s, s), t)


@njit(cache=True)
def f12_cyclotomic_sqr(a):
    """Granger-Scott squaring, valid in the cyclotomic subgroup; twin: ``_pairing_naive``'s."""
    (z0, z4, z3), (z2, z1, z5) = a
    t0, t1 = _f4_sqr(z0, z1)
    t2, t3 = _f4_sqr(z2, z3)
    t4, t5 = _f4_sqr(z4, z5)
    n0 = _three_minus_two(t0, z0)
    n1 = _three_plus_two(t1, z1)
    n2 = _three_plus_two(f2_mul_xi(t5), z2)
    n3 = _three_minus_two(t4, z3)
    n4 = _three_minus_two(t2, z4)
    n5 = _three_plus_two(t3, z5)
    return ((n0, n4, n3), (n2, n1, n5))


@njit(cache=True)
def f12_mul_by_034(f, c0, c3, c4):
    """f * (c0 + c3 w + c4 w^3) (13 Fq2 products); twin: ``_pairing_naive.f12_mul_by_034``."""
    f0, f1 = f
    a = (fq2_mul(f0[0], c0), fq2_mul(f0[1], c0), fq2_mul(f0[2], c0))
    b = _f6_mul_by_01(f1, c3, c4)
    e = _f6_mul_by_01(_f6_add(f0, f1), fq2_add(c0, c3), c4)
    return (_f6_add(a, _f6_mul_by_v(b)), _f6_sub(_f6_sub(e, a), b))


@njit(cache=True)
def f12_cyclotomic_exp_x(a):
    """a^x in the cyclotomic subgroup (NAF of x); twin: ``_pairing_naive.f12_cyclotomic_exp_x``."""
    a_inv = f12_conj(a)
    r = a
    for i in range(_X_TOP, -1, -1):
        r = f12_cyclotomic_sqr(r)
        d = _X_NAF[i]
        if d == 1:
            r = f12_mul(r, a)
        elif d == -1:
            r = f12_mul(r, a_inv)
    return r


@njit(cache=True)
def _f12_is_one(a):
    (a00, a01, a02), (a10, a11, a12) = a
    return (
        _eq(a00[0], FQ_ONE)
        and _is_zero(a00[1])
        and _f2_is_zero(a01)
        and _f2_is_zero(a02)
        and _f2_is_zero(a10)
        and _f2_is_zero(a11)
        and _f2_is_zero(a12)
    )


@njit(cache=True)
def _f12_eq(a, b):
    for i in range(2):
        for j in range(3):
            if not _f2_eq(a[i][j], b[i][j]):
                return False
    return True


# --- final exponentiation -----------------------------------------------------------------------


@njit(cache=True)
def final_exponentiation(f):
    """f^((q^12 - 1)/r) exactly; twin (and the chain's reference): ``_pairing_naive``'s."""
    t = f12_mul(f12_conj(f), f12_inv(f))
    t = f12_mul(f12_frobenius(t, 2), t)
    fp = f12_frobenius(t, 1)
    fp2 = f12_frobenius(t, 2)
    fp3 = f12_frobenius(t, 3)
    fu = f12_cyclotomic_exp_x(t)
    fu2 = f12_cyclotomic_exp_x(fu)
    fu3 = f12_cyclotomic_exp_x(fu2)
    y0 = f12_mul(f12_mul(fp, fp2), fp3)
    y1 = f12_conj(t)
    y2 = f12_frobenius(fu2, 2)
    y3 = f12_conj(f12_frobenius(fu, 1))
    y4 = f12_conj(f12_mul(fu, f12_frobenius(fu2, 1)))
    y5 = f12_conj(fu2)
    y6 = f12_conj(f12_mul(fu3, f12_frobenius(fu3, 1)))
    t0 = f12_mul(f12_mul(f12_cyclotomic_sqr(y6), y4), y5)
    t1 = f12_mul(f12_mul(y3, y5), t0)
    t0 = f12_mul(t0, y2)
    t1 = f12_cyclotomic_sqr(f12_mul(f12_cyclotomic_sqr(t1), t0))
    t0 = f12_mul(t1, y1)
    t1 = f12_mul(t1, y0)
    return f12_mul(f12_cyclotomic_sqr(t0), t1)


# --- Miller loop ----------------------------------------------------------------------------------


@njit(cache=True)
def double_step(t):
    """(2T, tangent line coefficients), T homogeneous projective; twin: ``_pairing_naive``'s."""
    x, y, z = t
    a = f2_mul_fq(fq2_mul(x, y), _TWO_INV)
    b = fq2_sqr(y)
    c = fq2_sqr(z)
    e = fq2_mul(_TWIST_B, _f2_triple(c))
    f = _f2_triple(e)
    g = f2_mul_fq(fq2_add(b, f), _TWO_INV)
    h = fq2_sub(fq2_sqr(fq2_add(y, z)), fq2_add(b, c))
    i = fq2_sub(e, b)
    j = fq2_sqr(x)
    e2 = fq2_sqr(e)
    x3 = fq2_mul(a, fq2_sub(b, f))
    y3 = fq2_sub(fq2_sqr(g), _f2_triple(e2))
    z3 = fq2_mul(b, h)
    return (x3, y3, z3), (fq2_neg(h), _f2_triple(j), i)


@njit(cache=True)
def add_step(t, qx, qy):
    """(T + Q, chord coefficients), Q affine; twin: ``_pairing_naive.add_step``."""
    x, y, z = t
    theta = fq2_sub(y, fq2_mul(qy, z))
    lam = fq2_sub(x, fq2_mul(qx, z))
    c = fq2_sqr(theta)
    d = fq2_sqr(lam)
    e = fq2_mul(lam, d)
    f = fq2_mul(z, c)
    g = fq2_mul(x, d)
    h = fq2_sub(fq2_add(e, f), _f2_dbl(g))
    x3 = fq2_mul(lam, h)
    y3 = fq2_sub(fq2_mul(theta, fq2_sub(g, h)), fq2_mul(e, y))
    z3 = fq2_mul(z, e)
    j = fq2_sub(fq2_mul(theta, qx), fq2_mul(lam, qy))
    return (x3, y3, z3), (lam, fq2_neg(theta), j)


@njit(cache=True)
def _psi(qx, qy):
    return fq2_mul(f2_conj(qx), _PSI_X), fq2_mul(f2_conj(qy), _PSI_Y)


@njit(cache=True)
def ell(f, line, px, py):
    """f * line(P); twin: ``_pairing_naive.ell``."""
    return f12_mul_by_034(f, f2_mul_fq(line[0], py), f2_mul_fq(line[1], px), line[2])


@njit(cache=True)
def _st_line(a, i, line):
    _st2(a, i, line[0])
    _st2(a, i + 2, line[1])
    _st2(a, i + 4, line[2])


@njit(cache=True)
def _ld_line(a, i):
    return (_ld2(a, i), _ld2(a, i + 2), _ld2(a, i + 4))


@njit(cache=True, nogil=True)
def prepare_g2_kernel(q, out):
    """Line coefficients of the G2 point ``q`` (4 rows, affine, in G2, not infinity) into ``out``
    (``N_LINES * 6`` rows); twin: ``_pairing_naive.prepare_g2``."""
    qx = _ld2(q, 0)
    qy = _ld2(q, 2)
    nqy = fq2_neg(qy)
    t = (qx, qy, _ONE2)
    k = 0
    for i in range(_ATE_TOP, -1, -1):
        t, line = double_step(t)
        _st_line(out, 6 * k, line)
        k += 1
        d = _ATE_NAF[i]
        if d != 0:
            t, line = add_step(t, qx, qy if d == 1 else nqy)
            _st_line(out, 6 * k, line)
            k += 1
    q1x, q1y = _psi(qx, qy)
    q2x, q2y = _psi(q1x, q1y)
    t, line = add_step(t, q1x, q1y)
    _st_line(out, 6 * k, line)
    t, line = add_step(t, q2x, fq2_neg(q2y))
    _st_line(out, 6 * (k + 1), line)


@njit(cache=True)
def _miller_loop(pp, coeffs, p_lo, p_hi, pv, qv, v_lo, v_hi):
    """Shared Miller loop over prepared pairs ``p_lo..p_hi`` and on-the-fly pairs ``v_lo..v_hi``.

    ``pp``: G1 points of the prepared pairs (2 rows each); ``coeffs``: their lines
    (``N_LINES * 6`` rows each); ``pv``/``qv``: G1/G2 points of the other pairs (2/4 rows each).
    """
    nv = v_hi - v_lo
    ts = np.empty((6 * max(nv, 1), 4), dtype=np.uint64)
    for j in range(nv):
        _st2(ts, 6 * j, _ld2(qv, 4 * (v_lo + j)))
        _st2(ts, 6 * j + 2, _ld2(qv, 4 * (v_lo + j) + 2))
        _st2(ts, 6 * j + 4, _ONE2)
    per = 6 * N_LINES
    f = _ONE12
    k = 0
    for i in range(_ATE_TOP, -1, -1):
        if i != _ATE_TOP:
            f = f12_sqr(f)
        d = _ATE_NAF[i]
        for s in range(2 if d != 0 else 1):
            for j in range(p_lo, p_hi):
                f = ell(f, _ld_line(coeffs, per * j + 6 * k), _ld(pp, 2 * j), _ld(pp, 2 * j + 1))
            for j in range(nv):
                t = (_ld2(ts, 6 * j), _ld2(ts, 6 * j + 2), _ld2(ts, 6 * j + 4))
                if s == 0:
                    t, line = double_step(t)
                else:
                    qy = _ld2(qv, 4 * (v_lo + j) + 2)
                    t, line = add_step(t, _ld2(qv, 4 * (v_lo + j)), qy if d == 1 else fq2_neg(qy))
                _st2(ts, 6 * j, t[0])
                _st2(ts, 6 * j + 2, t[1])
                _st2(ts, 6 * j + 4, t[2])
                pj = 2 * (v_lo + j)
                f = ell(f, line, _ld(pv, pj), _ld(pv, pj + 1))
            k += 1
    for j in range(p_lo, p_hi):
        px = _ld(pp, 2 * j)
        py = _ld(pp, 2 * j + 1)
        f = ell(f, _ld_line(coeffs, per * j + 6 * k), px, py)
        f = ell(f, _ld_line(coeffs, per * j + 6 * k + 6), px, py)
    for j in range(nv):
        t = (_ld2(ts, 6 * j), _ld2(ts, 6 * j + 2), _ld2(ts, 6 * j + 4))
        q1x, q1y = _psi(_ld2(qv, 4 * (v_lo + j)), _ld2(qv, 4 * (v_lo + j) + 2))
        q2x, q2y = _psi(q1x, q1y)
        pj = 2 * (v_lo + j)
        px = _ld(pv, pj)
        py = _ld(pv, pj + 1)
        t, line = add_step(t, q1x, q1y)
        f = ell(f, line, px, py)
        t, line = add_step(t, q2x, fq2_neg(q2y))
        f = ell(f, line, px, py)
    return f


@njit(cache=True, nogil=True)
def miller_loop_kernel(pp, coeffs, pv, qv, out):
    """out (12 rows) = the shared Miller loop of all prepared and on-the-fly pairs."""
    f = _miller_loop(pp, coeffs, 0, pp.shape[0] // 2, pv, qv, 0, pv.shape[0] // 2)
    _st12(out, 0, f)


@njit(cache=True, nogil=True)
def final_exponentiation_kernel(f, out):
    """out = f^((q^12 - 1)/r) (12 rows each)."""
    _st12(out, 0, final_exponentiation(_ld12(f, 0)))


@njit(cache=True, nogil=True)
def pairing_check_kernel(pp, coeffs, pv, qv, target):
    """True when final_exponentiation(shared Miller loop) == target (12 rows)."""
    f = _miller_loop(pp, coeffs, 0, pp.shape[0] // 2, pv, qv, 0, pv.shape[0] // 2)
    return _f12_eq(final_exponentiation(f), _ld12(target, 0))


@njit(cache=True, nogil=True)
def f12_op_kernel(op, a, b, out):
    """Small Fq12 operations for the wrapper and the tests: op 0 mul, 1 sqr, 2 inv, 3 conj,
    4 cyclotomic sqr, 5 cyclotomic exp by x, 6/7/8 Frobenius 1/2/3, 9 mul by the sparse line
    ``(b[0:2], b[2:4], b[4:6])`` (rows of b), 10 f6 mul of the c0 halves, 11 f6 sqr, 12 f6 inv."""
    x = _ld12(a, 0)
    if op == 0:
        r = f12_mul(x, _ld12(b, 0))
    elif op == 1:
        r = f12_sqr(x)
    elif op == 2:
        r = f12_inv(x)
    elif op == 3:
        r = f12_conj(x)
    elif op == 4:
        r = f12_cyclotomic_sqr(x)
    elif op == 5:
        r = f12_cyclotomic_exp_x(x)
    elif op == 6:
        r = f12_frobenius(x, 1)
    elif op == 7:
        r = f12_frobenius(x, 2)
    elif op == 8:
        r = f12_frobenius(x, 3)
    elif op == 9:
        r = f12_mul_by_034(x, _ld2(b, 0), _ld2(b, 2), _ld2(b, 4))
    elif op == 10:
        r = (f6_mul(x[0], _ld12(b, 0)[0]), _ZERO6)
    elif op == 11:
        r = (f6_sqr(x[0]), _ZERO6)
    else:
        r = (f6_inv(x[0]), _ZERO6)
    _st12(out, 0, r)


# --- G2 Jacobian arithmetic and the subgroup check --------------------------------------------


@njit(cache=True)
def _g2_dbl(p):
    """2P in Jacobian coordinates (dbl-2009-l, a = 0). The twist has no 2-torsion (its order
    r * (2q - r) is odd), so Y != 0 for every finite point; infinity (Z = 0) stays infinity."""
    x, y, z = p
    a = fq2_sqr(x)
    b = fq2_sqr(y)
    c = fq2_sqr(b)
    d = fq2_sub(fq2_sub(fq2_sqr(fq2_add(x, b)), a), c)
    d = _f2_dbl(d)
    e = _f2_triple(a)
    f = fq2_sqr(e)
    x3 = fq2_sub(f, _f2_dbl(d))
    c8 = _f2_dbl(_f2_dbl(_f2_dbl(c)))
    y3 = fq2_sub(fq2_mul(e, fq2_sub(d, x3)), c8)
    z3 = _f2_dbl(fq2_mul(y, z))
    return (x3, y3, z3)


@njit(cache=True)
def _g2_add(p, q):
    """P + Q in Jacobian coordinates (add-2007-bl), every special case handled."""
    if _f2_is_zero(p[2]):
        return q
    if _f2_is_zero(q[2]):
        return p
    z1z1 = fq2_sqr(p[2])
    z2z2 = fq2_sqr(q[2])
    u1 = fq2_mul(p[0], z2z2)
    u2 = fq2_mul(q[0], z1z1)
    s1 = fq2_mul(fq2_mul(p[1], q[2]), z2z2)
    s2 = fq2_mul(fq2_mul(q[1], p[2]), z1z1)
    h = fq2_sub(u2, u1)
    rr = _f2_dbl(fq2_sub(s2, s1))
    if _f2_is_zero(h):
        if _f2_is_zero(rr):
            return _g2_dbl(p)
        return (_ONE2, _ONE2, _ZERO2)
    i = fq2_sqr(_f2_dbl(h))
    j = fq2_mul(h, i)
    v = fq2_mul(u1, i)
    x3 = fq2_sub(fq2_sub(fq2_sqr(rr), j), _f2_dbl(v))
    y3 = fq2_sub(fq2_mul(rr, fq2_sub(v, x3)), _f2_dbl(fq2_mul(s1, j)))
    z3 = fq2_mul(fq2_sub(fq2_sub(fq2_sqr(fq2_add(p[2], q[2])), z1z1), z2z2), h)
    return (x3, y3, z3)


@njit(cache=True)
def _g2_madd(p, qx, qy):
    """P + Q for P Jacobian and Q affine (madd-2007-bl), every special case handled."""
    if _f2_is_zero(p[2]):
        return (qx, qy, _ONE2)
    z1z1 = fq2_sqr(p[2])
    u2 = fq2_mul(qx, z1z1)
    s2 = fq2_mul(fq2_mul(qy, p[2]), z1z1)
    h = fq2_sub(u2, p[0])
    rr = _f2_dbl(fq2_sub(s2, p[1]))
    if _f2_is_zero(h):
        if _f2_is_zero(rr):
            return _g2_dbl(p)
        return (_ONE2, _ONE2, _ZERO2)
    hh = fq2_sqr(h)
    i = _f2_dbl(_f2_dbl(hh))
    j = fq2_mul(h, i)
    v = fq2_mul(p[0], i)
    x3 = fq2_sub(fq2_sub(fq2_sqr(rr), j), _f2_dbl(v))
    y3 = fq2_sub(fq2_mul(rr, fq2_sub(v, x3)), _f2_dbl(fq2_mul(p[1], j)))
    z3 = fq2_sub(fq2_sub(fq2_sqr(fq2_add(p[2], h)), z1z1), hh)
    return (x3, y3, z3)


@njit(cache=True)
def _g2_psi_jac(p):
    return (fq2_mul(f2_conj(p[0]), _PSI_X), fq2_mul(f2_conj(p[1]), _PSI_Y), f2_conj(p[2]))


@njit(cache=True)
def _g2_jac_eq(p, q):
    pz = _f2_is_zero(p[2])
    qz = _f2_is_zero(q[2])
    if pz or qz:
        return pz and qz
    z1z1 = fq2_sqr(p[2])
    z2z2 = fq2_sqr(q[2])
    if not _f2_eq(fq2_mul(p[0], z2z2), fq2_mul(q[0], z1z1)):
        return False
    return _f2_eq(fq2_mul(fq2_mul(p[1], q[2]), z2z2), fq2_mul(fq2_mul(q[1], p[2]), z1z1))


@njit(cache=True)
def _g2_in_subgroup(qx, qy):
    """[x+1]P + psi([x]P) + psi^2([x]P) == psi^3([2x]P) (Dai, Lin, Zhao, Zhou, ePrint 2022/348);
    the same criterion as ``zkmargin.curve.g2_in_subgroup``, whose docstring proves it exact."""
    nqy = fq2_neg(qy)
    acc = (qx, qy, _ONE2)
    for i in range(_X_TOP, -1, -1):
        acc = _g2_dbl(acc)
        d = _X_NAF[i]
        if d == 1:
            acc = _g2_madd(acc, qx, qy)
        elif d == -1:
            acc = _g2_madd(acc, qx, nqy)
    xp = acc
    psi1 = _g2_psi_jac(xp)
    psi2 = _g2_psi_jac(psi1)
    lhs = _g2_add(_g2_add(_g2_madd(xp, qx, qy), psi1), psi2)
    rhs = _g2_psi_jac(_g2_psi_jac(_g2_psi_jac(_g2_dbl(xp))))
    return _g2_jac_eq(lhs, rhs)


@njit(cache=True, nogil=True)
def g2_in_subgroup_kernel(q, out):
    """out[i] = 1 when affine twist point i (rows 4i..4i+3, on the twist, finite) is in G2."""
    for i in range(q.shape[0] // 4):
        out[i] = 1 if _g2_in_subgroup(_ld2(q, 4 * i), _ld2(q, 4 * i + 2)) else 0


# --- G1 Jacobian arithmetic: scalar multiplications for vk_x and the batch combination ------------

_INF1 = (FQ_ONE, FQ_ONE, ZERO)


@njit(cache=True)
def _g1_dbl(p):
    """2P (dbl-2009-l, a = 0); G1 has no 2-torsion (prime order r), infinity stays infinity."""
    x, y, z = p
    a = fq_sqr(x)
    b = fq_sqr(y)
    c = fq_sqr(b)
    d = fq_sub(fq_sub(fq_sqr(fq_add(x, b)), a), c)
    d = fq_add(d, d)
    e = fq_add(fq_add(a, a), a)
    f = fq_sqr(e)
    x3 = fq_sub(f, fq_add(d, d))
    c2 = fq_add(c, c)
    c4 = fq_add(c2, c2)
    c8 = fq_add(c4, c4)
    y3 = fq_sub(fq_mul(e, fq_sub(d, x3)), c8)
    yz = fq_mul(y, z)
    return (x3, y3, fq_add(yz, yz))


@njit(cache=True)
def _g1_add(p, q):
    """P + Q (add-2007-bl), every special case handled."""
    if _is_zero(p[2]):
        return q
    if _is_zero(q[2]):
        return p
    z1z1 = fq_sqr(p[2])
    z2z2 = fq_sqr(q[2])
    u1 = fq_mul(p[0], z2z2)
    u2 = fq_mul(q[0], z1z1)
    s1 = fq_mul(fq_mul(p[1], q[2]), z2z2)
    s2 = fq_mul(fq_mul(q[1], p[2]), z1z1)
    h = fq_sub(u2, u1)
    rr = fq_sub(s2, s1)
    rr = fq_add(rr, rr)
    if _is_zero(h):
        if _is_zero(rr):
            return _g1_dbl(p)
        return _INF1
    h2 = fq_add(h, h)
    i = fq_sqr(h2)
    j = fq_mul(h, i)
    v = fq_mul(u1, i)
    x3 = fq_sub(fq_sub(fq_sqr(rr), j), fq_add(v, v))
    s1j = fq_mul(s1, j)
    y3 = fq_sub(fq_mul(rr, fq_sub(v, x3)), fq_add(s1j, s1j))
    z3 = fq_mul(fq_sub(fq_sub(fq_sqr(fq_add(p[2], q[2])), z1z1), z2z2), h)
    return (x3, y3, z3)


@njit(cache=True)
def _top_bit(k):
    """Index of the highest set bit of a 4-limb scalar, -1 for zero."""
    for li in range(3, -1, -1):
        w = k[li]
        if w != 0:
            b = 63
            while (w >> np.uint64(b)) & np.uint64(1) == 0:
                b -= 1
            return 64 * li + b
    return -1


@njit(cache=True)
def _nibble(k, pos):
    """Bits pos..pos+3 of a 4-limb scalar (pos a multiple of 4)."""
    return int((k[pos >> 6] >> np.uint64(pos & 63)) & np.uint64(15))


@njit(cache=True)
def _g1_straus(pts, scalars, lo, hi):
    """sum_{i in lo..hi} k_i * P_i (Jacobian), 4-bit windows with interleaved doublings (Straus).

    ``pts``: affine points (2 rows each, finite); ``scalars``: (n, 4) normal-form limbs, < 2^256.
    """
    n = hi - lo
    table = np.empty((n * 16 * 3, 4), dtype=np.uint64)
    top = -1
    for j in range(n):
        p = (_ld(pts, 2 * (lo + j)), _ld(pts, 2 * (lo + j) + 1), FQ_ONE)
        base = 48 * j
        acc = _INF1
        for d in range(16):
            _st(table, base + 3 * d, acc[0])
            _st(table, base + 3 * d + 1, acc[1])
            _st(table, base + 3 * d + 2, acc[2])
            acc = _g1_add(acc, p)
        tb = _top_bit(_ld(scalars, lo + j))
        if tb > top:
            top = tb
    acc = _INF1
    w = (top // 4) * 4
    while w >= 0:
        for _ in range(4):
            acc = _g1_dbl(acc)
        for j in range(n):
            d = _nibble(_ld(scalars, lo + j), w)
            if d != 0:
                r = 48 * j + 3 * d
                acc = _g1_add(acc, (_ld(table, r), _ld(table, r + 1), _ld(table, r + 2)))
        w -= 4
    return acc


@njit(cache=True)
def _g1_to_affine(p, out, i):
    """Store Jacobian p as affine rows 2i, 2i+1 of out ((0, 0) for infinity)."""
    if _is_zero(p[2]):
        _st(out, 2 * i, ZERO)
        _st(out, 2 * i + 1, ZERO)
        return
    zi = fq_inv(p[2])
    zi2 = fq_sqr(zi)
    _st(out, 2 * i, fq_mul(p[0], zi2))
    _st(out, 2 * i + 1, fq_mul(p[1], fq_mul(zi2, zi)))


@njit(cache=True, nogil=True)
def g1_lincomb_kernel(pts, scalars, out):
    """out (2 rows) = sum_i k_i * P_i, affine ((0, 0) for infinity)."""
    _g1_to_affine(_g1_straus(pts, scalars, 0, scalars.shape[0]), out, 0)


@njit(cache=True)
def _normalize_many(jac, out):
    """Jacobian points (3 rows each) to affine (2 rows each, (0, 0) for infinity) with one shared
    inversion (Montgomery's trick)."""
    n = jac.shape[0] // 3
    prefix = np.empty((max(n, 1), 4), dtype=np.uint64)
    acc = FQ_ONE
    for i in range(n):
        _st(prefix, i, acc)
        z = _ld(jac, 3 * i + 2)
        if not _is_zero(z):
            acc = fq_mul(acc, z)
    inv = fq_inv(acc)
    for i in range(n - 1, -1, -1):
        z = _ld(jac, 3 * i + 2)
        if _is_zero(z):
            _st(out, 2 * i, ZERO)
            _st(out, 2 * i + 1, ZERO)
            continue
        zi = fq_mul(inv, _ld(prefix, i))
        inv = fq_mul(inv, z)
        zi2 = fq_sqr(zi)
        _st(out, 2 * i, fq_mul(_ld(jac, 3 * i), zi2))
        _st(out, 2 * i + 1, fq_mul(_ld(jac, 3 * i + 1), fq_mul(zi2, zi)))


@njit(cache=True)
def _st3(a, i, p):
    _st(a, 3 * i, p[0])
    _st(a, 3 * i + 1, p[1])
    _st(a, 3 * i + 2, p[2])


@njit(cache=True, nogil=True)
def g1_mul_many_kernel(pts, scalars, out):
    """out rows 2i, 2i+1 = k_i * P_i, affine ((0, 0) for infinity)."""
    n = scalars.shape[0]
    jac = np.empty((3 * n, 4), dtype=np.uint64)
    for i in range(n):
        _st3(jac, i, _g1_straus(pts, scalars, i, i + 1))
    _normalize_many(jac, out)
