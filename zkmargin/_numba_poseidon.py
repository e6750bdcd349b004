"""Bulk Poseidon in numba: many account leaves (width-17 sponge) and tree levels (width 3) at once.

Private module behind ``zkmargin.accounts`` (the venue's ``accounts build``); the pure-Python
``zkmargin.poseidon`` / ``zkmargin.encoding`` / ``zkmargin.merkle`` are its oracles in the tests.
Never imported by the verifier (it loads numba).

Field elements are 4x64-bit little-endian limbs in Montgomery form, on the kernels of
``zkmargin._numba_field`` (``fr_mul``, ``fr_add``: the CIOS product, in inline assembly where the
CPU has BMI2 + ADX).

The permutation is the one of ``zkmargin.poseidon`` (R_F / 2 full rounds, R_P partial rounds,
R_F / 2 full rounds; ARK, S-box x^5, MIX), with the partial rounds in the sparse form of the
Poseidon paper's appendix B (https://eprint.iacr.org/2019/458), derived here from the constants
(``_sparse_partial_rounds``, Python ints, once per width):

* constants: an S-box touches element 0 only, so the round constants of elements 1.. can be
  added after it; pushed through the MIX they join the next round's constants. Every partial
  round then adds one constant (to element 0), and one residual vector joins the constants of the
  first full round after the partial phase;
* matrices: each MIX M = M'' M' with M' = diag(1, M^) dense and M'' = [[m00, r], [c, I]]
  sparse (2t - 1 products); M' commutes with the next S-box (it leaves element 0 alone), so it
  moves into the preceding round's MIX, and the last one into the MIX of the last leading full
  round. A partial round costs 2t - 1 products instead of t^2.

For t = 17: about 5,200 products per permutation instead of 22,600 with a plain MIX per round
(or 7,500 with the affine schedule the in-circuit gadget uses); for t = 3, about 330.
The test suite checks the kernel against ``zkmargin.poseidon.poseidon_permutation``.

Work is split in chunks over ``prange``; each chunk has its own scratch arrays.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

import numpy as np
from numba import njit, prange

from zkmargin import _numba_field as _f
from zkmargin.field import R
from zkmargin.poseidon import poseidon_params

__all__ = ["PoseidonTables", "tables", "ints_to_limbs", "limbs_to_ints", "to_mont", "from_mont",
           "sponge_hashes", "hash_level"]

_CHUNK = 256


def ints_to_limbs(values: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """An array ``(*shape, 4)`` of uint64 limbs (normal form) from an iterable of ints in [0, 2**256)."""
    vals = list(values)
    raw = b"".join(v.to_bytes(32, "little") for v in vals)
    arr = np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(len(vals), 4)
    return arr if shape is None else arr.reshape(*shape, 4)


def limbs_to_ints(arr: np.ndarray) -> list[int]:
    """The ints of an ``(n, 4)`` limb array (normal form)."""
    raw = np.ascontiguousarray(arr, dtype="<u8").tobytes()
    return [int.from_bytes(raw[i : i + 32], "little") for i in range(0, len(raw), 32)]


def to_mont(arr: np.ndarray) -> np.ndarray:
    """Montgomery form of an ``(n, 4)`` array of reduced elements."""
    out = np.empty_like(arr)
    _f.vec_to_mont(arr, out, _f.FR_P, _f.FR_PINV, _f.FR_R2)
    return out


def from_mont(arr: np.ndarray) -> np.ndarray:
    """Normal form of an ``(n, 4)`` Montgomery array."""
    out = np.empty_like(arr)
    _f.vec_from_mont(arr, out, _f.FR_P, _f.FR_PINV)
    return out


Matrix = list[list[int]]


def _matmul(a: Matrix, b: Matrix) -> Matrix:
    cols = list(zip(*b, strict=True))
    return [[sum(x * y for x, y in zip(row, col, strict=True)) % R for col in cols] for row in a]


def _inverse(a: Matrix) -> Matrix:
    """Inverse over Fr by Gauss-Jordan elimination (raises ValueError when singular)."""
    n = len(a)
    m = [list(row) + [int(i == j) for j in range(n)] for i, row in enumerate(a)]
    for col in range(n):
        piv = next((r for r in range(col, n) if m[r][col] % R), None)
        if piv is None:
            raise ValueError("singular matrix")
        m[col], m[piv] = m[piv], m[col]
        inv = pow(m[col][col], -1, R)
        m[col] = [x * inv % R for x in m[col]]
        for r in range(n):
            if r != col and m[r][col]:
                f = m[r][col]
                m[r] = [(x - f * y) % R for x, y in zip(m[r], m[col], strict=True)]
    return [row[n:] for row in m]


@cache
def _sparse_partial_rounds(t: int) -> tuple[Matrix, list[int], list[tuple[int, list[int], list[int]]], list[int]]:
    """The partial rounds of width t in sparse form (module docstring). Returns ``(first, consts,
    sparse, residual)``: ``first`` replaces the MIX of the last leading full round (t x t);
    partial round k adds ``consts[k]`` to element 0, applies the S-box to it, then
    ``sparse[k] = (m00, r, c)``: ``y0 = m00 x0 + sum r_j x_{j+1}``, ``y_{j+1} = x_{j+1} + c_j x0``;
    ``residual`` is added to the state after the last partial round."""
    p = poseidon_params(t)
    mds = [list(row) for row in p.mds]
    half, n_p = p.n_rounds_f // 2, p.n_rounds_p

    def matvec(m: Matrix, v: list[int]) -> list[int]:
        return [sum(x * y for x, y in zip(row, v, strict=True)) % R for row in m]

    consts = [list(p.round_constants[half])]
    for k in range(1, n_p):
        carried = matvec(mds, [0, *consts[-1][1:]])
        consts.append([(c + d) % R for c, d in zip(p.round_constants[half + k], carried, strict=True)])
    residual = matvec(mds, [0, *consts[-1][1:]])
    sparse: list[tuple[int, list[int], list[int]]] = [(0, [], [])] * n_p
    a = mds
    m_prime: Matrix = []
    for k in reversed(range(n_p)):
        a_hat = [row[1:] for row in a[1:]]
        inv = _inverse(a_hat)
        row = a[0][1:]
        r = [sum(row[i] * inv[i][j] for i in range(t - 1)) % R for j in range(t - 1)]
        sparse[k] = (a[0][0], r, [a[i][0] for i in range(1, t)])
        m_prime = [[1] + [0] * (t - 1)] + [[0, *a_hat[i]] for i in range(t - 1)]
        a = _matmul(m_prime, mds)
    first = _matmul(m_prime, mds)
    return first, [c[0] for c in consts], sparse, residual


class PoseidonTables:
    """The constants of one width in Montgomery limbs, laid out for the kernels."""

    def __init__(self, t: int) -> None:
        p = poseidon_params(t)
        self.t, self.half, self.n_p, self.n_rounds = t, p.n_rounds_f // 2, p.n_rounds_p, p.n_rounds
        mont = lambda x: x * (1 << 256) % R  # noqa: E731
        first, consts, sparse, residual = _sparse_partial_rounds(t)
        rc = [list(row) for row in p.round_constants]
        after = self.half + self.n_p  # the first full round after the partial phase takes the residual
        rc[after] = [(c + d) % R for c, d in zip(rc[after], residual, strict=True)]
        self.rc = ints_to_limbs((mont(c) for row in rc for c in row), (p.n_rounds, t))
        self.mds = ints_to_limbs((mont(c) for row in p.mds for c in row), (t, t))
        self.first = ints_to_limbs((mont(c) for row in first for c in row), (t, t))
        self.consts = ints_to_limbs((mont(c) for c in consts), (self.n_p,))
        self.s00 = ints_to_limbs((mont(m00) for m00, _, _ in sparse), (self.n_p,))
        self.srow = ints_to_limbs((mont(x) for _, r, _ in sparse for x in r), (self.n_p, t - 1))
        self.scol = ints_to_limbs((mont(x) for _, _, c in sparse for x in c), (self.n_p, t - 1))

    def args(self) -> tuple[Any, ...]:
        return (self.rc, self.mds, self.first, self.consts, self.s00, self.srow, self.scol, self.half, self.n_p,
                self.n_rounds)


@cache
def tables(t: int) -> PoseidonTables:
    """The (cached) kernel tables of width t."""
    return PoseidonTables(t)


@njit(cache=True, inline="always")
def _ld(a, i):
    return (a[i, 0], a[i, 1], a[i, 2], a[i, 3])


@njit(cache=True, inline="always")
def _st(a, i, v):
    a[i, 0] = v[0]
    a[i, 1] = v[1]
    a[i, 2] = v[2]
    a[i, 3] = v[3]


@njit(cache=True, inline="always")
def _pow5(x):
    x2 = _f.fr_mul(x, x)
    return _f.fr_mul(_f.fr_mul(x2, x2), x)


@njit(cache=True)
def _mix(st, tmp, mds):
    t = st.shape[0]
    for i in range(t):
        acc = _f.ZERO
        for j in range(t):
            acc = _f.fr_add(acc, _f.fr_mul((mds[i, j, 0], mds[i, j, 1], mds[i, j, 2], mds[i, j, 3]), _ld(st, j)))
        _st(tmp, i, acc)
    for i in range(t):
        _st(st, i, _ld(tmp, i))


@njit(cache=True)
def _full_round(st, rc, r):
    for i in range(st.shape[0]):
        x = _f.fr_add(_ld(st, i), (rc[r, i, 0], rc[r, i, 1], rc[r, i, 2], rc[r, i, 3]))
        _st(st, i, _pow5(x))


@njit(cache=True)
def _permute(st, tmp, rc, mds, first, consts, s00, srow, scol, half, n_p, n_rounds):
    """The Poseidon permutation of width t = st.shape[0] on ``st`` (Montgomery), in place."""
    t = st.shape[0]
    for r in range(half):
        if r > 0:
            _mix(st, tmp, mds)
        _full_round(st, rc, r)
    _mix(st, tmp, first)  # the last leading MIX with the partial rounds' dense factor folded in
    for k in range(n_p):
        x0 = _pow5(_f.fr_add(_ld(st, 0), _ld(consts, k)))
        y0 = _f.fr_mul(_ld(s00, k), x0)
        for j in range(t - 1):
            y0 = _f.fr_add(y0, _f.fr_mul((srow[k, j, 0], srow[k, j, 1], srow[k, j, 2], srow[k, j, 3]),
                                         _ld(st, j + 1)))
        for j in range(t - 1):
            _st(st, j + 1, _f.fr_add(_ld(st, j + 1), _f.fr_mul((scol[k, j, 0], scol[k, j, 1], scol[k, j, 2],
                                                                scol[k, j, 3]), x0)))
        _st(st, 0, y0)
    first_last_full = half + n_p
    for r in range(first_last_full, n_rounds):
        if r > first_last_full:
            _mix(st, tmp, mds)
        _full_round(st, rc, r)
    _mix(st, tmp, mds)


@njit(cache=True, parallel=True)
def _sponge_kernel(values, iv, out, rc, mds, first, consts, s00, srow, scol, half, n_p, n_rounds):
    """out[i] = hash_vector digest of values[i] (Montgomery, shape (n, m, 4)) with capacity ``iv``."""
    n, m = values.shape[0], values.shape[1]
    t = rc.shape[1]
    rate = t - 1
    n_blocks = max(1, (m + rate - 1) // rate)
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for c in prange(n_chunks):
        st = np.empty((t, 4), dtype=np.uint64)
        tmp = np.empty((t, 4), dtype=np.uint64)
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            _st(st, 0, _ld(iv, 0))
            for j in range(1, t):
                _st(st, j, _f.ZERO)
            for b in range(n_blocks):
                for j in range(rate):
                    k = b * rate + j
                    if k < m:
                        _st(st, 1 + j, _f.fr_add(_ld(st, 1 + j), (values[i, k, 0], values[i, k, 1], values[i, k, 2],
                                                                   values[i, k, 3])))
                _permute(st, tmp, rc, mds, first, consts, s00, srow, scol, half, n_p, n_rounds)
            _st(out, i, _ld(st, 1))


@njit(cache=True, parallel=True)
def _pairs_kernel(level, pad, out, rc, mds, first, consts, s00, srow, scol, half, n_p, n_rounds):
    """out[i] = Poseidon(2)(level[2i], level[2i + 1]) (Montgomery); a missing right child is ``pad``."""
    n = level.shape[0]
    n_out = out.shape[0]
    n_chunks = (n_out + _CHUNK - 1) // _CHUNK
    for c in prange(n_chunks):
        st = np.empty((3, 4), dtype=np.uint64)
        tmp = np.empty((3, 4), dtype=np.uint64)
        for i in range(c * _CHUNK, min(n_out, (c + 1) * _CHUNK)):
            _st(st, 0, _f.ZERO)
            _st(st, 1, _ld(level, 2 * i))
            if 2 * i + 1 < n:
                _st(st, 2, _ld(level, 2 * i + 1))
            else:
                _st(st, 2, _ld(pad, 0))
            _permute(st, tmp, rc, mds, first, consts, s00, srow, scol, half, n_p, n_rounds)
            _st(out, i, _ld(st, 0))


def sponge_hashes(values_mont: np.ndarray, iv: int) -> np.ndarray:
    """``hash_vector`` digests (Montgomery ``(n, 4)``) of ``values_mont`` (Montgomery ``(n, m, 4)``),
    with the sponge IV ``iv`` (``zkmargin.encoding.sponge_iv(tag, m)``, an int)."""
    tb = tables(17)
    out = np.empty((values_mont.shape[0], 4), dtype=np.uint64)
    _sponge_kernel(values_mont, to_mont(ints_to_limbs([iv])), out, *tb.args())
    return out


def hash_level(level_mont: np.ndarray, pad: int) -> np.ndarray:
    """The next tree level (Montgomery): Poseidon(2) of consecutive pairs, an odd last node paired
    with ``pad`` (an int, normal form: the empty subtree's root at this level)."""
    tb = tables(3)
    out = np.empty(((level_mont.shape[0] + 1) // 2, 4), dtype=np.uint64)
    _pairs_kernel(level_mont, to_mont(ints_to_limbs([pad])), out, *tb.args())
    return out


_f.refresh_stale_caches((sys.modules[__name__],), deps=(_f,))  # the sponge inlines the field module's code
