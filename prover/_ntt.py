"""Number-theoretic transforms over Fr for the numba prover (private; see ``kernels``).

Vectors are ``(n, 4)`` uint64 arrays of Fr elements in Montgomery form, n a power of two. The
transforms work in place:

- :func:`ntt_inplace`: radix-2 decimation in time (bit-reversal permutation, then log2(n) stages
  of butterflies, each stage parallel over its n/2 butterflies); natural order in and out.
  ``out[k] = sum_j a[j] * w^(j*k)`` with the twiddle table ``tw[j] = w^j`` (j < n/2).
- :func:`reverse_tail`: ``a[1:] = a[:0:-1]``; since ``DFT_{w^-1}(a)[k] = DFT_w(a)[-k]``, an inverse
  transform is a forward one, this reversal, and a scaling by 1/n (done by the caller, usually
  fused into :func:`scale_by_powers`).
- :func:`scale_by_powers`: ``a[i] *= c * g^i``: coset shifts, 1/n scaling, or both at once.

Roots of unity (see ``kernels``): ``w_n = 5^((r-1)/n)``, the convention of ffjavascript/snarkjs
(``Fr.w[k]``), so evaluation domains line up with snarkjs proving keys.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from zkmargin._numba_field import DISABLE_JIT, FR_ONE, _ld, _st, fr_add, fr_mul, fr_pow_small, fr_sub

# Serial ``nogil`` kernels rather than ``parallel=True``: see ``zkmargin._threads``.
from zkmargin._threads import run_kernel as _in_threads

__all__ = [
    "LOCAL_LOG",
    "bit_reverse_inplace",
    "ntt_inplace",
    "dit_from_bitrev",
    "dif_to_bitrev",
    "reverse_tail",
    "scale_by_powers",
    "scale_bitrev",
    "powers",
]


@njit(cache=True)
def _swap(a, i, j):
    for k in range(4):
        t = a[i, k]
        a[i, k] = a[j, k]
        a[j, k] = t


@njit(cache=True)
def bit_reverse_inplace(a):
    """Permute rows of ``a`` (length n = 2^k) into bit-reversed index order."""
    n = a.shape[0]
    j = 0
    for i in range(1, n):
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j ^= bit
        if i < j:
            _swap(a, i, j)


@njit(cache=True, nogil=True)
def _stage_range(a, tw, m, step, dif, r_lo, r_hi):
    for b in range(r_lo, r_hi):
        j = b & (m - 1)
        i0 = 2 * b - j
        i1 = i0 + m
        u = _ld(a, i0)
        v = _ld(a, i1)
        if dif:
            _st(a, i0, fr_add(u, v))
            if j == 0:
                _st(a, i1, fr_sub(u, v))
            else:
                _st(a, i1, fr_mul(fr_sub(u, v), _ld(tw, j * step)))
        else:
            if j != 0:
                v = fr_mul(v, _ld(tw, j * step))
            _st(a, i0, fr_add(u, v))
            _st(a, i1, fr_sub(u, v))


def _stage(a: Any, tw: Any, m: int, step: int, dif: bool) -> None:
    """One global butterfly stage (blocks of 2m, twiddle index j*step for offset j in a block),
    parallel over its n/2 butterflies: decimation in time (``v = a[i1] * w``, then ``u + v``,
    ``u - v``) or, with ``dif``, in frequency (``u + v``, ``(u - v) * w``).

    One kernel for both directions (the flag is loop-invariant): one compilation instead of two.
    """
    _in_threads(_stage_range, a.shape[0] // 2, (a, tw, m, step, dif))


#: Block size (log2 elements) of the cache-local stages: 2^13 elements = 256 KiB, well inside L2.
#: Without the JIT there is no cache to fit, and a tiny block lets small tests reach both the
#: block-local and the global stages.
LOCAL_LOG = 2 if DISABLE_JIT else 13


@njit(cache=True)
def _local(a, tw, lo, size, n, dif):
    """The stages with blocks up to ``size`` on the block a[lo:lo+size] (twiddles of the full
    n-point table): DIT stages m = 1 .. size/2, or with ``dif`` DIF stages m = size/2 .. 1."""
    m = size // 2 if dif else 1
    while 1 <= m < size:
        step = n // (2 * m)
        for k in range(lo, lo + size, 2 * m):
            for j in range(m):
                i0 = k + j
                i1 = i0 + m
                u = _ld(a, i0)
                v = _ld(a, i1)
                if dif:
                    _st(a, i0, fr_add(u, v))
                    if j == 0:
                        _st(a, i1, fr_sub(u, v))
                    else:
                        _st(a, i1, fr_mul(fr_sub(u, v), _ld(tw, j * step)))
                else:
                    if j != 0:
                        v = fr_mul(v, _ld(tw, j * step))
                    _st(a, i0, fr_add(u, v))
                    _st(a, i1, fr_sub(u, v))
        m = m // 2 if dif else 2 * m


@njit(cache=True, nogil=True)
def _local_blocks_range(a, tw, size, dif, r_lo, r_hi):
    n = a.shape[0]
    for blk in range(r_lo, r_hi):
        _local(a, tw, blk * size, size, n, dif)


def _local_blocks(a: Any, tw: Any, size: int, dif: bool) -> None:
    _in_threads(_local_blocks_range, a.shape[0] // size, (a, tw, size, dif))


# The drivers are plain Python: a handful of kernel launches per transform, and no compilation of
# their own (each jitted driver was one more kernel to compile on a first run).


def dit_from_bitrev(a: Any, tw: Any) -> None:
    """DIT transform of a bit-reversed-order input, natural-order output, in place.

    Stages with blocks up to 2^LOCAL_LOG run block by block (in cache, blocks in parallel), the
    wider ones one parallel pass each.
    """
    n = a.shape[0]
    size = min(n, 1 << LOCAL_LOG)
    if size > 1:
        _local_blocks(a, tw, size, False)
    m = size
    while m < n:
        _stage(a, tw, m, n // (2 * m), False)
        m *= 2


def dif_to_bitrev(a: Any, tw: Any) -> None:
    """DIF transform of a natural-order input, bit-reversed-order output, in place."""
    n = a.shape[0]
    size = min(n, 1 << LOCAL_LOG)
    m = n // 2
    while m >= size:
        _stage(a, tw, m, n // (2 * m), True)
        m //= 2
    if size > 1:
        _local_blocks(a, tw, size, True)


def ntt_inplace(a: Any, tw: Any) -> None:
    """Forward transform of ``a`` (n, 4) in place; ``tw`` (>= n/2, 4) holds w_n^j, Montgomery."""
    bit_reverse_inplace(a)
    dit_from_bitrev(a, tw)


@njit(cache=True, nogil=True)
def _scale_bitrev_range(a, lo_tab, hi_tab, k, r_lo, r_hi):
    n_lo = 1 << k
    for hi in range(r_lo, r_hi):
        f = _ld(hi_tab, hi)
        base = hi << k
        for lo in range(n_lo):
            i = base + lo
            _st(a, i, fr_mul(_ld(a, i), fr_mul(_ld(lo_tab, lo), f)))


def scale_bitrev(a: Any, lo_tab: Any, hi_tab: Any, k: int) -> None:
    """``a[hi * 2^k + lo] *= lo_tab[lo] * hi_tab[hi]``: a power table indexed in bit-reversed order
    factored into two small tables (g^rev(i) = (g^(2^h))^rev_k(lo) * g^rev_h(hi))."""
    _in_threads(_scale_bitrev_range, a.shape[0] >> k, (a, lo_tab, hi_tab, k))


@njit(cache=True)
def reverse_tail(a):
    """``a[1:] = a[:0:-1]`` in place (index i <-> n - i)."""
    n = a.shape[0]
    for i in range(1, (n + 1) // 2):
        _swap(a, i, n - i)


@njit(cache=True, nogil=True)
def _scale_by_powers_range(a, c, g, n_chunks, r_lo, r_hi):
    n = a.shape[0]
    for ch in range(r_lo, r_hi):
        lo = ch * n // n_chunks
        hi = (ch + 1) * n // n_chunks
        f = fr_mul(c, fr_pow_small(g, lo))
        for i in range(lo, hi):
            _st(a, i, fr_mul(_ld(a, i), f))
            f = fr_mul(f, g)


def scale_by_powers(a: Any, c: Any, g: Any, n_chunks: int) -> None:
    """``a[i] *= c * g^i`` in place (Montgomery elements c, g), in ``n_chunks`` parallel chunks."""
    _in_threads(_scale_by_powers_range, n_chunks, (a, c, g, n_chunks))


def powers(out: Any, c: Any, g: Any, n_chunks: int) -> None:
    """``out[i] = c * g^i`` for i < len(out) (Montgomery), in ``n_chunks`` parallel chunks: ones
    scaled by :func:`scale_by_powers` (one kernel fewer to compile; the extra pass is a fill)."""
    out[:] = np.array(FR_ONE, dtype=np.uint64)
    scale_by_powers(out, c, g, n_chunks)
