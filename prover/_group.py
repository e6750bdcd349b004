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

from zkmargin._numba_field import fe_is_zero, fe_neg

from ._msm import _add, _dbl, _from_affine, _inf, _load_affine, _load_xyzz, _madd, _store_xyzz

__all__ = ["mul_affine", "group_fft_stage", "sparse_combine"]


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


@njit(cache=True, parallel=True)
def group_fft_stage(a, tw, h, out):
    """One DIT stage: butterflies of half-size ``h`` over affine ``a`` into XYZZ ``out``.

    For block start b (step 2h) and j < h, with t = tw[j * (n / 2h)] * a[b + j + h]:
    out[b + j] = a[b + j] + t, out[b + j + h] = a[b + j] - t. ``tw`` holds w^j (j < n/2) as
    normal-form scalars for the transform's root w (w^-1 for an inverse transform).
    """
    n = a.shape[0]
    step = n // (2 * h)
    elem = a.shape[2:]
    for b in prange(n // 2):
        tab = np.empty((16, 4) + elem, dtype=np.uint64)
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
            t = mul_affine(x1, y1, tw, j * step, tab)
        x0, y0 = _load_affine(a, i0)
        _store_xyzz(out, i0, _add_affine(t, x0, y0))
        nt = (t[0], fe_neg(t[1]), t[2], t[3])
        _store_xyzz(out, i1, _add_affine(nt, x0, y0))


@njit(cache=True, parallel=True)
def sparse_combine(bases, ptr, idx, scalars, neg, out):
    """out[k] = sum over e in [ptr[k], ptr[k+1]) of (-1)^neg[e] * scalars[e] * bases[idx[e]] (XYZZ).

    ``bases`` affine (infinity (0, 0) allowed), ``ptr`` int64 of length m + 1, ``idx`` int64,
    ``scalars`` (e, 4) normal form, ``neg`` uint8 (negate the base: lets the caller replace a
    coefficient c > r/2 by the short r - c).
    """
    m = ptr.shape[0] - 1
    elem = bases.shape[2:]
    for k in prange(m):
        tab = np.empty((16, 4) + elem, dtype=np.uint64)
        acc = _inf(_load_affine(bases, 0)[0])
        for e in range(ptr[k], ptr[k + 1]):
            x, y = _load_affine(bases, idx[e])
            if neg[e]:
                y = fe_neg(y)
            acc = _add(acc, mul_affine(x, y, scalars, e, tab))
        _store_xyzz(out, k, acc)
