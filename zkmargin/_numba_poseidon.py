"""Bulk Poseidon in numba: many account leaves (width-17 sponge) and tree levels (width 3) at once.

Private module behind ``zkmargin.accounts`` (the venue's ``accounts build``); the pure-Python
``zkmargin.poseidon`` / ``zkmargin.encoding`` / ``zkmargin.merkle`` are its oracles in the tests.
Never imported by the verifier (it loads numba).

Field elements are 4x64-bit little-endian limbs in Montgomery form, on the kernels of
``zkmargin._numba_field`` (``fr_mul``, ``fr_add``: the CIOS product, in inline assembly where the
CPU has BMI2 + ADX).

The permutation is the one of ``zkmargin.poseidon`` (R_F / 2 full rounds, R_P partial rounds,
R_F / 2 full rounds; ARK, S-box x^5, MIX), with the partial rounds evaluated as affine maps over a
basis instead of one t x t MIX per round: the basis is the t S-box outputs of the last leading
full round and then one S-box output per partial round; each partial S-box input is an affine
combination of the basis so far, and the state after the last partial round is one too (the
coefficients do not depend on the input, so they are computed once per width, in Python ints,
here: ``_partial_schedule``; ``zkmargin.circuits.std.poseidon`` builds the same schedule for
its constraints). For t = 17 this is about 7,400 products per permutation instead of 22,600 with
a plain MIX per round; for t = 3, about 380 instead of 640.

Work is split in chunks over ``prange``; each chunk has its own scratch arrays.
"""

from __future__ import annotations

import operator
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


@cache
def _partial_schedule(t: int) -> tuple[list[tuple[int, list[int]]], list[tuple[int, list[int]]]]:
    """Partial rounds as affine maps over the basis (see the module docstring). Returns
    ``(inputs, outputs)``: ``inputs[k] = (c, a)`` with the S-box input of partial round k equal to
    ``c + sum_j a[j] b_j`` (t + k coefficients), ``outputs[i]`` the state element i after the
    last partial round over all t + R_P basis elements."""
    p = poseidon_params(t)
    mds, half, n_p = p.mds, p.n_rounds_f // 2, p.n_rounds_p
    mul = operator.mul
    rows = [[0, *row] for row in mds]  # [constant, coefficients of b_0, b_1, ...]: MIX of the basis
    inputs = []
    for k in range(n_p):
        width = 1 + t + k
        for i, c in enumerate(p.round_constants[half + k]):
            rows[i][0] = (rows[i][0] + c) % R
        inputs.append((rows[0][0], list(rows[0][1:width])))
        rows[0] = [0] * width + [1]
        cols = [tuple(r[j] if j < len(r) else 0 for r in rows) for j in range(width + 1)]
        rows = [[sum(map(mul, m, col)) % R for col in cols] for m in mds]
    return inputs, [(r[0], list(r[1:])) for r in rows]


class PoseidonTables:
    """The constants of one width in Montgomery limbs, laid out for the kernels."""

    def __init__(self, t: int) -> None:
        p = poseidon_params(t)
        self.t, self.half, self.n_p, self.n_rounds = t, p.n_rounds_f // 2, p.n_rounds_p, p.n_rounds
        mont = lambda x: x * (1 << 256) % R  # noqa: E731
        self.rc = ints_to_limbs((mont(c) for row in p.round_constants for c in row), (p.n_rounds, t))
        self.mds = ints_to_limbs((mont(c) for row in p.mds for c in row), (t, t))
        ins, outs = _partial_schedule(t)
        nb = t + self.n_p
        self.in_c = ints_to_limbs((mont(c) for c, _ in ins), (self.n_p,))
        self.in_a = ints_to_limbs((mont(a[j]) if j < len(a) else 0 for _, a in ins for j in range(nb)),
                                  (self.n_p, nb))
        self.out_c = ints_to_limbs((mont(c) for c, _ in outs), (t,))
        self.out_a = ints_to_limbs((mont(a[j]) for _, a in outs for j in range(nb)), (t, nb))

    def args(self) -> tuple[Any, ...]:
        return (self.rc, self.mds, self.in_c, self.in_a, self.out_c, self.out_a, self.half, self.n_p, self.n_rounds)


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
def _permute(st, tmp, basis, rc, mds, in_c, in_a, out_c, out_a, half, n_p, n_rounds):
    """The Poseidon permutation of width t = st.shape[0] on ``st`` (Montgomery), in place."""
    t = st.shape[0]
    for r in range(half):
        if r > 0:
            _mix(st, tmp, mds)
        _full_round(st, rc, r)
    for i in range(t):
        _st(basis, i, _ld(st, i))
    for k in range(n_p):
        acc = _ld(in_c, k)
        for j in range(t + k):
            acc = _f.fr_add(acc, _f.fr_mul((in_a[k, j, 0], in_a[k, j, 1], in_a[k, j, 2], in_a[k, j, 3]),
                                           _ld(basis, j)))
        _st(basis, t + k, _pow5(acc))
    for i in range(t):
        acc = _ld(out_c, i)
        for j in range(t + n_p):
            acc = _f.fr_add(acc, _f.fr_mul((out_a[i, j, 0], out_a[i, j, 1], out_a[i, j, 2], out_a[i, j, 3]),
                                           _ld(basis, j)))
        _st(st, i, acc)
    first_last_full = half + n_p
    for r in range(first_last_full, n_rounds):
        if r > first_last_full:
            _mix(st, tmp, mds)
        _full_round(st, rc, r)
    _mix(st, tmp, mds)


@njit(cache=True, parallel=True)
def _sponge_kernel(values, iv, out, rc, mds, in_c, in_a, out_c, out_a, half, n_p, n_rounds):
    """out[i] = hash_vector digest of values[i] (Montgomery, shape (n, m, 4)) with capacity ``iv``."""
    n, m = values.shape[0], values.shape[1]
    t = rc.shape[1]
    rate = t - 1
    n_blocks = max(1, (m + rate - 1) // rate)
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for c in prange(n_chunks):
        st = np.empty((t, 4), dtype=np.uint64)
        tmp = np.empty((t, 4), dtype=np.uint64)
        basis = np.empty((t + n_p, 4), dtype=np.uint64)
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
                _permute(st, tmp, basis, rc, mds, in_c, in_a, out_c, out_a, half, n_p, n_rounds)
            _st(out, i, _ld(st, 1))


@njit(cache=True, parallel=True)
def _pairs_kernel(level, pad, out, rc, mds, in_c, in_a, out_c, out_a, half, n_p, n_rounds):
    """out[i] = Poseidon(2)(level[2i], level[2i + 1]) (Montgomery); a missing right child is ``pad``."""
    n = level.shape[0]
    n_out = out.shape[0]
    n_chunks = (n_out + _CHUNK - 1) // _CHUNK
    for c in prange(n_chunks):
        st = np.empty((3, 4), dtype=np.uint64)
        tmp = np.empty((3, 4), dtype=np.uint64)
        basis = np.empty((3 + n_p, 4), dtype=np.uint64)
        for i in range(c * _CHUNK, min(n_out, (c + 1) * _CHUNK)):
            _st(st, 0, _f.ZERO)
            _st(st, 1, _ld(level, 2 * i))
            if 2 * i + 1 < n:
                _st(st, 2, _ld(level, 2 * i + 1))
            else:
                _st(st, 2, _ld(pad, 0))
            _permute(st, tmp, basis, rc, mds, in_c, in_a, out_c, out_a, half, n_p, n_rounds)
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


_f.refresh_stale_caches((sys.modules[__name__], _f))
