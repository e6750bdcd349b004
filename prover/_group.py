"""Variable-base group kernels for the trusted setup (private; public surface ``prover.ceremony``).

The ceremony works on points whose discrete logarithms nobody knows (the powers of tau), so it
cannot use the fixed-base tables of ``_msm``: every step is a variable-base scalar multiplication.
Three kernels, generic over G1 and G2 like ``_msm`` (array layouts as there: affine ``(n, 2, ...)``
Montgomery, infinity = (0, 0); XYZZ ``(n, 4, ...)``; scalars ``(n, 4)`` uint64 in normal form):

- :func:`group_fft_stage`: one radix-2 decimation-in-time stage of a DFT whose "coefficients" are
  points (``out[k] = sum_j w^(jk) P_j``); the caller bit-reverses, runs the log2(n) stages, and
  scales by 1/n for the inverse (Lagrange basis from powers of tau).
- :func:`sparse_combine`: ``out[k] = sum_e s_e * P_idx[e]`` over a CSR list of entries (the
  proving-key sections from Lagrange points; also the scaling of L and H by 1/delta).
- :func:`mul_affine` (inline helper): 4-bit fixed-window double-and-add on XYZZ coordinates,
  skipping leading zero windows (small coefficients cost a few doublings).

Twins: ``_group_naive`` computes the same with py_ecc; tests compare them.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from zkmargin._numba_field import DISABLE_JIT, fe_is_zero, fe_load, fe_mul, fe_neg, fq_neg

from ._msm import _add, _dbl, _from_affine, _inf, _load_affine, _load_xyzz, _madd, _store_xyzz

__all__ = ["mul_affine", "mul_glv", "fe_frob", "group_fft_stage", "sparse_combine", "GLV", "PLAIN_NEG"]

#: ``flags`` bits of an entry: negate the base; GLV form (limbs 0-1 |k1|, limbs 2-3 |k2|) and
#: the signs of k1 and k2 (see ``mul_glv``).
#: Work items per kernel call are split into at most this many chunks (load balance across threads;
#: each chunk allocates its scratch tables once).
_CHUNKS = 256
PLAIN_NEG = 1
GLV = 2
_K1_NEG = 4
_K2_NEG = 8


def fe_frob(a):
    """The q-power Frobenius: identity on Fq, conjugation c0 - c1*u on Fq2."""
    return (a[0], fq_neg(a[1])) if isinstance(a[0], tuple) else a


if not DISABLE_JIT:
    from numba.core import types
    from numba.extending import overload

    @overload(fe_frob)
    def _ov_frob(a):
        if isinstance(a, types.BaseTuple) and isinstance(a.types[0], types.BaseTuple):
            return lambda a: (a[0], fq_neg(a[1]))
        return lambda a: a


@njit(cache=True)
def _add_affine(p, x, y):
    """XYZZ p + affine (x, y), where (x, y) may be the encoding (0, 0) of infinity."""
    if fe_is_zero(x) and fe_is_zero(y):
        return p
    return _madd(p, x, y)


@njit(cache=True)
def mul_affine(x, y, scalars, i, tab):
    """scalars[i] * (x, y) as XYZZ; (x, y) affine (possibly (0, 0) = infinity), scalar < 2^256.

    ``tab`` is scratch of shape (16, 4, ...) (XYZZ multiples 1..15 of the point).
    """
    inf = _inf(x)
    if fe_is_zero(x) and fe_is_zero(y):
        return inf
    top = -1
    for li in range(3, -1, -1):
        v = scalars[i, li]
        if v != 0:
            for k in range(15, -1, -1):
                if (v >> np.uint64(4 * k)) & np.uint64(15):
                    top = li * 16 + k
                    break
            break
    if top < 0:
        return inf
    # largest digit needed decides how much of the table to build (1 for unit coefficients)
    dmax = 15
    if top == 0:
        dmax = np.int64(scalars[i, 0] & np.uint64(15))
    acc = _from_affine(x, y)
    _store_xyzz(tab, 1, acc)
    for d in range(2, dmax + 1):
        acc = _madd(acc, x, y)
        _store_xyzz(tab, d, acc)
    res = inf
    for wi in range(top, -1, -1):
        d = np.int64((scalars[i, wi >> 4] >> np.uint64(4 * (wi & 15))) & np.uint64(15))
        if wi != top:
            res = _dbl(_dbl(_dbl(_dbl(res))))
        if d != 0:
            res = _add(res, _load_xyzz(tab, d))
    return res


@njit(cache=True)
def _endo_xyzz(p, endo):
    """The endomorphism on an XYZZ point: G1 (beta X, Y, ZZ, ZZZ); G2 psi = Frobenius of every
    coordinate, X and Y scaled by the twist constants. ``endo`` holds (cx, cy) as rows 0, 1."""
    cx = fe_load(endo, 0, 0)
    cy = fe_load(endo, 1, 0)
    return (fe_mul(fe_frob(p[0]), cx), fe_mul(fe_frob(p[1]), cy), fe_frob(p[2]), fe_frob(p[3]))


@njit(cache=True)
def mul_glv(x, y, scalars, i, flags, endo, tab, tab2):
    """k * (x, y) with k = s1 k1 + s2 k2 * lambda (|k1|, |k2| < 2^128 in limbs 0-1 and 2-3 of
    scalars[i], signs in ``flags``): Shamir's trick over 4-bit windows of both halves, one table
    of multiples of the point and its image under the endomorphism (eigenvalue lambda): 128
    doublings instead of 254. ``tab``, ``tab2``: (16, 4, ...) scratch.
    """
    inf = _inf(x)
    if fe_is_zero(x) and fe_is_zero(y):
        return inf
    f = flags[i]
    if f & _K1_NEG:
        y = fe_neg(y)
    top = -1
    for li in (1, 0, 3, 2):
        v = scalars[i, li]
        if v != 0:
            for k in range(15, -1, -1):
                if (v >> np.uint64(4 * k)) & np.uint64(15):
                    t = (li & 1) * 16 + k
                    if t > top:
                        top = t
                    break
    if top < 0:
        return inf
    acc = _from_affine(x, y)
    flip = ((f & _K1_NEG) != 0) != ((f & _K2_NEG) != 0)
    for d in range(1, 16):
        if d > 1:
            acc = _madd(acc, x, y)
        _store_xyzz(tab, d, acc)
        e = _endo_xyzz(acc, endo)
        if flip:
            e = (e[0], fe_neg(e[1]), e[2], e[3])
        _store_xyzz(tab2, d, e)
    res = inf
    for wi in range(top, -1, -1):
        if wi != top:
            res = _dbl(_dbl(_dbl(_dbl(res))))
        sh = np.uint64(4 * (wi & 15))
        hi = wi >> 4
        d1 = np.int64((scalars[i, hi] >> sh) & np.uint64(15))
        d2 = np.int64((scalars[i, 2 + hi] >> sh) & np.uint64(15))
        if d1 != 0:
            res = _add(res, _load_xyzz(tab, d1))
        if d2 != 0:
            res = _add(res, _load_xyzz(tab2, d2))
    return res


@njit(cache=True)
def _mul_entry(x, y, scalars, i, flags, endo, tab, tab2):
    f = flags[i]
    if f & PLAIN_NEG:
        y = fe_neg(y)
    if f & GLV:
        return mul_glv(x, y, scalars, i, flags, endo, tab, tab2)
    return mul_affine(x, y, scalars, i, tab)


@njit(cache=True, parallel=True)
def group_fft_stage(a, tw, flags, endo, h, out):
    """One DIT stage: butterflies of half-size ``h`` over affine ``a`` into XYZZ ``out``.

    For block start b (step 2h) and j < h, with t = tw[j * (n / 2h)] * a[b + j + h]:
    out[b + j] = a[b + j] + t, out[b + j + h] = a[b + j] - t. ``tw`` holds w^j (j < n/2) as
    scalars for the transform's root w (w^-1 for an inverse transform), in the form ``flags`` says
    (plain normal form, or GLV halves: see ``mul_glv``); ``endo`` the group's endomorphism constants.
    """
    n = a.shape[0]
    step = n // (2 * h)
    elem = a.shape[2:]
    m = n // 2
    n_chunks = min(m, _CHUNKS)
    for c in prange(n_chunks):  # scratch tables allocated once per chunk, not per butterfly
        tab = np.empty((16, 4) + elem, dtype=np.uint64)
        tab2 = np.empty((16, 4) + elem, dtype=np.uint64)
        for b in range(c * m // n_chunks, (c + 1) * m // n_chunks):
            blk = b // h
            j = b - blk * h
            i0 = blk * 2 * h + j
            i1 = i0 + h
            x1, y1 = _load_affine(a, i1)
            if j == 0:
                if fe_is_zero(x1) and fe_is_zero(y1):
                    t = _inf(x1)
                else:
                    t = _from_affine(x1, y1)
            else:
                t = _mul_entry(x1, y1, tw, j * step, flags, endo, tab, tab2)
            x0, y0 = _load_affine(a, i0)
            _store_xyzz(out, i0, _add_affine(t, x0, y0))
            nt = (t[0], fe_neg(t[1]), t[2], t[3])
            _store_xyzz(out, i1, _add_affine(nt, x0, y0))


@njit(cache=True, parallel=True)
def sparse_combine(bases, ptr, idx, scalars, flags, endo, out):
    """out[k] = sum over e in [ptr[k], ptr[k+1]) of scalars[e] * bases[idx[e]] (XYZZ).

    ``bases`` affine (infinity (0, 0) allowed), ``ptr`` int64 of length m + 1, ``idx`` int64,
    ``scalars`` (e, 4) and ``flags`` uint8 per entry: plain normal form (``PLAIN_NEG`` negates the
    base, so a coefficient c > r/2 can be the short r - c) or GLV halves (``mul_glv``).
    """
    m = ptr.shape[0] - 1
    elem = bases.shape[2:]
    n_chunks = min(m, _CHUNKS)
    for c in prange(n_chunks):  # scratch tables allocated once per chunk, not per output
        tab = np.empty((16, 4) + elem, dtype=np.uint64)
        tab2 = np.empty((16, 4) + elem, dtype=np.uint64)
        for k in range(c * m // n_chunks, (c + 1) * m // n_chunks):
            acc = _inf(_load_affine(bases, 0)[0])
            for e in range(ptr[k], ptr[k + 1]):
                x, y = _load_affine(bases, idx[e])
                acc = _add(acc, _mul_entry(x, y, scalars, e, flags, endo, tab, tab2))
            _store_xyzz(out, k, acc)
