"""Multi-scalar multiplication, fixed-base multiplication and batch normalisation on G1 and G2.

Private module (the public surface is ``zkmargin.prover.kernels``). One code path serves both
groups: the curve formulas call the generic ``fe_*`` functions of ``_field``, which resolve to Fq
or Fq2 from the array layouts at compile time.

Array layouts (uint64, Montgomery form, little-endian limbs):

- affine points: G1 ``(n, 2, 4)`` (x, y in Fq); G2 ``(n, 2, 2, 4)`` (x, y in Fq2 as (c0, c1)).
  **The point at infinity is (0, 0)**, which lies on neither curve (b = 3 and b' != 0).
- XYZZ points (x = X/ZZ, y = Y/ZZZ, ZZ^3 = ZZZ^2; infinity when ZZ = 0): G1 ``(n, 4, 4)``,
  G2 ``(n, 4, 2, 4)``.
- scalars: ``(n, 4)`` uint64 in *normal* form (not Montgomery), each < r.

MSM (:func:`msm`): scalars are first classified: zero scalars and infinity bases are dropped,
scalars equal to one are summed with plain mixed additions (witness vectors are mostly bits),
and the rest go to Pippenger's bucket method with signed c-bit digits (2^(c-1) buckets per
window, windows in parallel). Buckets are affine and updated in batches sharing one inversion
(:func:`msm_pippenger_affine`, ~6 products per addition, the default); the plain XYZZ-bucket
variant (:func:`msm_pippenger`, ~10 products per mixed addition) is kept as a second
implementation and for measurements. On G1 the big scalars may first be split by the GLV
endomorphism (``_glv``: k = k1 + k2 * lambda, |k1|, |k2| < 2^127, phi(x, y) = (beta x, y)):
twice the points in half the windows (:func:`glv_digits`). The bucket additions stay as many
(2m points x 128/c windows = m x 256/c); what halves is the per-window reduction and the final
doublings, so :func:`choose_glv` takes it where the cost model says it wins (small and middle
sizes; at 2^20 on two threads it is a tie).

Fixed-base (:func:`fixed_base_table`, :func:`fixed_base_mul`): per base a table of d * 2^(w*j) * B
(unsigned w-bit windows), then every scalar is one table lookup and addition per window, all
scalars of a chunk advancing in lockstep with batch-affine additions.

Formulas: "xyzz" coordinates of the Explicit-Formulas Database (Bernstein-Lange), a = 0:
dbl-2008-s-1, mdbl-2008-s-1, add-2008-s, madd-2008-s; affine chord/tangent for batch additions.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from zkmargin._numba_field import (
    adc,
    fe_add,
    fe_dbl,
    fe_eq,
    fe_inv,
    fe_is_zero,
    fe_load,
    fe_mul,
    fe_neg,
    fe_one,
    fe_sqr,
    fe_store,
    fe_sub,
    fe_zero,
    mac,
    sbb,
)

# The kernels are serial and release the GIL (``nogil``); ``zkmargin._threads`` says why they are not
# ``parallel=True``.
from zkmargin._threads import kernel_threads as _threads
from zkmargin._threads import run_kernel as _in_threads
from zkmargin.field import Q

from . import _glv

__all__ = [
    "SCALAR_BITS",
    "choose_window",
    "signed_digits",
    "glv_digits",
    "choose_glv",
    "classify_scalars",
    "msm",
    "msm_pippenger",
    "msm_pippenger_affine",
    "choose_batch",
    "sum_points",
    "batch_normalize",
    "fixed_base_table",
    "fixed_base_mul",
    "choose_fixed_window",
    "on_curve",
]

#: Scalars are < r < 2^254.
SCALAR_BITS = 254


# --- XYZZ point arithmetic (a = 0), generic over Fq / Fq2 ------------------------------------

@njit(cache=True)
def _inf(like):
    z = fe_zero(like)
    return (z, z, z, z)


@njit(cache=True)
def _is_inf(p):
    return fe_is_zero(p[2])


@njit(cache=True)
def _from_affine(x, y):
    if fe_is_zero(x) and fe_is_zero(y):
        return _inf(x)
    one = fe_one(x)
    return (x, y, one, one)


@njit(cache=True)
def _dbl(p):
    """dbl-2008-s-1 (EFD, XYZZ, a = 0): doubling of an XYZZ point (infinity stays infinity)."""
    X, Y, ZZ, ZZZ = p
    U = fe_dbl(Y)
    V = fe_sqr(U)
    W = fe_mul(U, V)
    S = fe_mul(X, V)
    X2 = fe_sqr(X)
    M = fe_add(fe_dbl(X2), X2)
    X3 = fe_sub(fe_sqr(M), fe_dbl(S))
    Y3 = fe_sub(fe_mul(M, fe_sub(S, X3)), fe_mul(W, Y))
    return (X3, Y3, fe_mul(V, ZZ), fe_mul(W, ZZZ))


@njit(cache=True)
def _mdbl(x, y):
    """mdbl-2008-s-1: 2 * (x, y) for an affine point, as XYZZ."""
    U = fe_dbl(y)
    V = fe_sqr(U)
    W = fe_mul(U, V)
    S = fe_mul(x, V)
    X2 = fe_sqr(x)
    M = fe_add(fe_dbl(X2), X2)
    X3 = fe_sub(fe_sqr(M), fe_dbl(S))
    Y3 = fe_sub(fe_mul(M, fe_sub(S, X3)), fe_mul(W, y))
    return (X3, Y3, V, W)


@njit(cache=True)
def _madd(p, x2, y2):
    """madd-2008-s: XYZZ p plus affine (x2, y2) (not infinity); handles p = inf, p = +-(x2, y2)."""
    X1, Y1, ZZ1, ZZZ1 = p
    if fe_is_zero(ZZ1):
        one = fe_one(x2)
        return (x2, y2, one, one)
    P = fe_sub(fe_mul(x2, ZZ1), X1)
    R = fe_sub(fe_mul(y2, ZZZ1), Y1)
    if fe_is_zero(P):
        if fe_is_zero(R):
            return _mdbl(x2, y2)
        return _inf(x2)
    PP = fe_sqr(P)
    PPP = fe_mul(P, PP)
    Qv = fe_mul(X1, PP)
    X3 = fe_sub(fe_sub(fe_sqr(R), PPP), fe_dbl(Qv))
    Y3 = fe_sub(fe_mul(R, fe_sub(Qv, X3)), fe_mul(Y1, PPP))
    return (X3, Y3, fe_mul(ZZ1, PP), fe_mul(ZZZ1, PPP))


@njit(cache=True)
def _add(p, q):
    """add-2008-s: XYZZ + XYZZ; handles infinity and p = +-q."""
    if _is_inf(p):
        return q
    if _is_inf(q):
        return p
    X1, Y1, ZZ1, ZZZ1 = p
    X2, Y2, ZZ2, ZZZ2 = q
    U1 = fe_mul(X1, ZZ2)
    S1 = fe_mul(Y1, ZZZ2)
    P = fe_sub(fe_mul(X2, ZZ1), U1)
    R = fe_sub(fe_mul(Y2, ZZZ1), S1)
    if fe_is_zero(P):
        if fe_is_zero(R):
            return _dbl(p)
        return _inf(X1)
    PP = fe_sqr(P)
    PPP = fe_mul(P, PP)
    Qv = fe_mul(U1, PP)
    X3 = fe_sub(fe_sub(fe_sqr(R), PPP), fe_dbl(Qv))
    Y3 = fe_sub(fe_mul(R, fe_sub(Qv, X3)), fe_mul(S1, PPP))
    return (X3, Y3, fe_mul(fe_mul(ZZ1, ZZ2), PP), fe_mul(fe_mul(ZZZ1, ZZZ2), PPP))


@njit(cache=True)
def _load_xyzz(arr, i):
    return (fe_load(arr, i, 0), fe_load(arr, i, 1), fe_load(arr, i, 2), fe_load(arr, i, 3))


@njit(cache=True)
def _store_xyzz(arr, i, p):
    fe_store(arr, i, 0, p[0])
    fe_store(arr, i, 1, p[1])
    fe_store(arr, i, 2, p[2])
    fe_store(arr, i, 3, p[3])


@njit(cache=True)
def _load_affine(arr, i):
    return fe_load(arr, i, 0), fe_load(arr, i, 1)


# --- batch normalisation ---------------------------------------------------------------------

@njit(cache=True)
def _normalize_range(pts, out, scratch, lo, hi):
    """Affine forms of pts[lo:hi] with one inversion (Montgomery's trick over ZZZ)."""
    acc = fe_one(fe_load(pts, lo, 3))
    for i in range(lo, hi):
        fe_store(scratch, i, 0, acc)
        zzz = fe_load(pts, i, 3)
        if not fe_is_zero(zzz):
            acc = fe_mul(acc, zzz)
    inv = fe_inv(acc)
    for i in range(hi - 1, lo - 1, -1):
        zzz = fe_load(pts, i, 3)
        if fe_is_zero(zzz):
            z = fe_zero(zzz)
            fe_store(out, i, 0, z)
            fe_store(out, i, 1, z)
            continue
        izzz = fe_mul(inv, fe_load(scratch, i, 0))
        inv = fe_mul(inv, zzz)
        iz = fe_mul(izzz, fe_load(pts, i, 2))
        fe_store(out, i, 0, fe_mul(fe_load(pts, i, 0), fe_sqr(iz)))
        fe_store(out, i, 1, fe_mul(fe_load(pts, i, 1), izzz))


@njit(cache=True, nogil=True)
def _batch_normalize_range(pts, out, scratch, n_chunks, r_lo, r_hi):
    n = pts.shape[0]
    for c in range(r_lo, r_hi):
        lo = c * n // n_chunks
        hi = (c + 1) * n // n_chunks
        if hi > lo:
            _normalize_range(pts, out, scratch, lo, hi)


def batch_normalize(pts: np.ndarray, out: np.ndarray, scratch: np.ndarray, n_chunks: int) -> None:
    """XYZZ ``pts`` -> affine ``out`` (infinity -> (0, 0)), ``n_chunks`` inversions in parallel.

    ``scratch`` has shape ``(n, 1, ...)`` like one coordinate column of ``pts``.
    """
    _in_threads(_batch_normalize_range, n_chunks, (pts, out, scratch, n_chunks))


# --- scalar preparation ----------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _classify_range(scalars, bases, kinds, r_lo, r_hi):
    for i in range(r_lo, r_hi):
        hi_limbs = scalars[i, 1] | scalars[i, 2] | scalars[i, 3]
        lo_limb = scalars[i, 0]
        if hi_limbs == 0 and lo_limb == 0:
            kinds[i] = 0
            continue
        x, y = _load_affine(bases, i)
        if fe_is_zero(x) and fe_is_zero(y):
            kinds[i] = 0
        elif hi_limbs == 0 and lo_limb == 1:
            kinds[i] = 1
        else:
            kinds[i] = 2


def classify_scalars(scalars: np.ndarray, bases: np.ndarray, kinds: np.ndarray) -> None:
    """kinds[i] = 0 (scalar 0 or base at infinity), 1 (scalar 1), 2 (anything else)."""
    _in_threads(_classify_range, scalars.shape[0], (scalars, bases, kinds))


@njit(cache=True, nogil=True)
def _signed_digits_range(scalars, idx, c, digits, r_lo, r_hi):
    W = digits.shape[0]
    mask = np.uint64((1 << c) - 1)
    half = 1 << (c - 1)
    full = 1 << c
    for j in range(r_lo, r_hi):
        i = idx[j]
        carry = 0
        for w in range(W):
            o = w * c
            li = o >> 6
            sh = o & 63
            v = np.uint64(0)
            if li < 4:
                v = scalars[i, li] >> np.uint64(sh)
                if sh + c > 64 and li + 1 < 4:
                    v |= scalars[i, li + 1] << np.uint64(64 - sh)
            d = np.int64(v & mask) + carry
            if d > half:
                d -= full
                carry = 1
            else:
                carry = 0
            digits[w, j] = d


def signed_digits(scalars: np.ndarray, idx: np.ndarray, c: int, digits: np.ndarray) -> None:
    """Signed base-2^c digits of scalars[idx[j]] into digits[:, j] (window-major), each in
    (-2^(c-1), 2^(c-1)], least significant window first.

    ``digits`` has ``W = ceil(255 / c)`` rows: with scalars < 2^254 the top window never carries.
    """
    _in_threads(_signed_digits_range, idx.shape[0], (scalars, idx, c, digits))


@njit(cache=True)
def _glv_split(k0, k1, k2, k3, K):
    """GLV halves of k < r (``_glv.split``, the same arithmetic on limbs): (|k1| lo, hi, k1 < 0,
    |k2| lo, hi, k2 < 0). ``K`` = ``_glv.KERNEL_CONSTS``.

    c1 = (k * G1 + 2^255) >> 256 (< 2^64), c2 = (k * G2 + 2^255) >> 256 (< 2^127); the halves
    k - c1*A1 - c2*A2 and c1*(-B1) - c2*B2 are below 2^127 in size, so they are computed mod 2^128
    and read as two's complement.
    """
    zero = np.uint64(0)
    # c1: limb 4 of k * (K0, K1) + 2^255
    t0, cy = mac(k0, K[0], zero, zero)
    t1, cy = mac(k1, K[0], zero, cy)
    t2, cy = mac(k2, K[0], zero, cy)
    t3, cy = mac(k3, K[0], zero, cy)
    t4 = cy
    t1, cy = mac(k0, K[1], t1, zero)
    t2, cy = mac(k1, K[1], t2, cy)
    t3, cy = mac(k2, K[1], t3, cy)
    t4, cy = mac(k3, K[1], t4, cy)
    t3, cy = adc(t3, np.uint64(1) << np.uint64(63), zero)
    c1, _ = adc(t4, zero, cy)
    # c2: limbs 4, 5 of k * (K2, K3, K4) + 2^255
    t0, cy = mac(k0, K[2], zero, zero)
    t1, cy = mac(k1, K[2], zero, cy)
    t2, cy = mac(k2, K[2], zero, cy)
    t3, cy = mac(k3, K[2], zero, cy)
    t4 = cy
    t1, cy = mac(k0, K[3], t1, zero)
    t2, cy = mac(k1, K[3], t2, cy)
    t3, cy = mac(k2, K[3], t3, cy)
    t4, cy = mac(k3, K[3], t4, cy)
    t5 = cy
    t2, cy = mac(k0, K[4], t2, zero)
    t3, cy = mac(k1, K[4], t3, cy)
    t4, cy = mac(k2, K[4], t4, cy)
    t5, cy = mac(k3, K[4], t5, cy)
    t3, cy = adc(t3, np.uint64(1) << np.uint64(63), zero)
    c2lo, cy = adc(t4, zero, cy)
    c2hi, _ = adc(t5, zero, cy)
    # k1 = k - c1*A1 - c2*A2 (mod 2^128)
    p0, p1 = mac(c1, K[5], zero, zero)
    q0, h = mac(c2lo, K[6], zero, zero)
    x, _ = mac(c2lo, K[7], h, zero)
    q1, _ = mac(c2hi, K[6], x, zero)
    d0, b = sbb(k0, p0, zero)
    d1, _ = sbb(k1, p1, b)
    d0, b = sbb(d0, q0, zero)
    d1, _ = sbb(d1, q1, b)
    # k2 = c1*(-B1) - c2*B2 (mod 2^128)
    e0, h = mac(c1, K[8], zero, zero)
    e1, _ = mac(c1, K[9], h, zero)
    f0, h = mac(c2lo, K[10], zero, zero)
    f1, _ = mac(c2hi, K[10], h, zero)
    g0, b = sbb(e0, f0, zero)
    g1, _ = sbb(e1, f1, b)
    n1 = d1 >> np.uint64(63)
    if n1:
        d0, b = sbb(zero, d0, zero)
        d1, _ = sbb(zero, d1, b)
    n2 = g1 >> np.uint64(63)
    if n2:
        g0, b = sbb(zero, g0, zero)
        g1, _ = sbb(zero, g1, b)
    return d0, d1, n1, g0, g1, n2


@njit(cache=True)
def _digits128(lo, hi, neg, c, digits, col):
    """Signed c-bit digits of the 128-bit magnitude (lo, hi) into digits[:, col], negated if ``neg``."""
    W = digits.shape[0]
    mask = np.uint64((1 << c) - 1)
    half = 1 << (c - 1)
    full = 1 << c
    carry = 0
    for w in range(W):
        o = w * c
        sh = o & 63
        v = np.uint64(0)
        if o < 64:
            v = lo >> np.uint64(sh)
            if sh + c > 64:
                v |= hi << np.uint64(64 - sh)
        elif o < 128:
            v = hi >> np.uint64(sh)
        d = np.int64(v & mask) + carry
        if d > half:
            d -= full
            carry = 1
        else:
            carry = 0
        digits[w, col] = -d if neg else d


@njit(cache=True, nogil=True)
def _glv_digits_range(scalars, idx, c, consts, digits, r_lo, r_hi):
    for j in range(r_lo, r_hi):
        i = idx[j]
        a0, a1, na, b0, b1, nb = _glv_split(scalars[i, 0], scalars[i, 1], scalars[i, 2], scalars[i, 3], consts)
        _digits128(a0, a1, na, c, digits, 2 * j)
        _digits128(b0, b1, nb, c, digits, 2 * j + 1)


def glv_digits(scalars: np.ndarray, idx: np.ndarray, c: int, consts: np.ndarray, digits: np.ndarray) -> None:
    """GLV form of scalars[idx[j]] (G1): digits[:, 2j] are the signed c-bit digits of k1 and
    digits[:, 2j+1] those of k2 (k = k1 + k2 * lambda mod r, see ``_glv``), a negative half's
    digits negated; each digit in [-2^(c-1), 2^(c-1)]. ``digits`` has ``_glv.glv_windows(c)`` rows,
    ``consts`` is ``_glv.KERNEL_CONSTS``. Column 2j goes with the base, 2j+1 with phi(base).
    """
    _in_threads(_glv_digits_range, idx.shape[0], (scalars, idx, c, consts, digits))


@njit(cache=True)
def _load_base(bases, idx, j, glv, endo):
    """The affine point of digit column j: bases[idx[j]], or with ``glv`` (columns in pairs)
    bases[idx[j // 2]] for even j and phi(bases[idx[j // 2]]) = (beta x, y) for odd j, beta =
    ``endo[0, 0]`` (loaded here: parfors cannot pass an Fq2 tuple into a prange body)."""
    if glv:
        x, y = _load_affine(bases, idx[j >> 1])
        if j & 1:
            x = fe_mul(x, fe_load(endo, 0, 0))
        return x, y
    return _load_affine(bases, idx[j])


@njit(cache=True, parallel=True)
def msm_pippenger(bases, idx, digits, c, glv, endo, out):
    """Window sums of Pippenger's method: out[w] = sum_j digits[w, j] * P_j (XYZZ), where P_j is
    bases[idx[j]], or with ``glv`` = 1 the GLV pairs of :func:`glv_digits` (P_2j = bases[idx[j]],
    P_2j+1 its image under phi: x times beta = ``endo[0, 0]``, Montgomery; G1 only).

    Windows run in parallel; each owns 2^(c-1) buckets (bucket b holds digit magnitude b + 1,
    negative digits add the negated point) reduced by the running-sum trick.
    """
    W = digits.shape[0]
    m = digits.shape[1]
    nb = 1 << (c - 1)
    for w in prange(W):
        buckets = np.zeros((nb, 4) + bases.shape[2:], dtype=np.uint64)
        for j in range(m):
            d = digits[w, j]
            if d == 0:
                continue
            x, y = _load_base(bases, idx, j, glv, endo)
            if d < 0:
                y = fe_neg(y)
                b = -d - 1
            else:
                b = d - 1
            _store_xyzz(buckets, b, _madd(_load_xyzz(buckets, b), x, y))
        run = _inf(fe_load(bases, 0, 0))
        acc = run
        for b in range(nb - 1, -1, -1):
            run = _add(run, _load_xyzz(buckets, b))
            acc = _add(acc, run)
        _store_xyzz(out, w, acc)


@njit(cache=True)
def _flush(baff, bat_b, bat_p, bat_den, bat_pre, bat_dbl, cnt):
    """Apply ``cnt`` pending affine additions bucket[bat_b[k]] += bat_p[k] with one inversion.

    Montgomery's trick over the denominators (x2 - x1, or 2*y1 for a doubling): 3 products per
    entry, then the chord/tangent formulas (1 product + 1 square + 1 product each).
    """
    acc = fe_one(fe_load(bat_den, 0, 0))
    for k in range(cnt):
        fe_store(bat_pre, k, 0, acc)
        acc = fe_mul(acc, fe_load(bat_den, k, 0))
    inv = fe_inv(acc)
    for k in range(cnt - 1, -1, -1):
        dinv = fe_mul(inv, fe_load(bat_pre, k, 0))
        inv = fe_mul(inv, fe_load(bat_den, k, 0))
        b = bat_b[k]
        x1, y1 = _load_affine(baff, b)
        x2, y2 = _load_affine(bat_p, k)
        if bat_dbl[k]:
            x1s = fe_sqr(x1)
            num = fe_add(fe_dbl(x1s), x1s)
        else:
            num = fe_sub(y2, y1)
        lam = fe_mul(num, dinv)
        x3 = fe_sub(fe_sub(fe_sqr(lam), x1), x2)
        y3 = fe_sub(fe_mul(lam, fe_sub(x1, x3)), y1)
        fe_store(baff, b, 0, x3)
        fe_store(baff, b, 1, y3)


@njit(cache=True, nogil=True)
def _pippenger_affine_windows(bases, idx, digits, c, batch, glv, endo, out, r_lo, r_hi):
    """The windows r_lo <= w < r_hi of :func:`msm_pippenger_affine` (serial: one thread's share)."""
    m = digits.shape[1]
    nb = 1 << (c - 1)
    elem = bases.shape[2:]
    for w in range(r_lo, r_hi):
        baff = np.empty((nb, 2) + elem, dtype=np.uint64)
        full = np.zeros(nb, dtype=np.uint8)
        stamp = np.zeros(nb, dtype=np.int32)
        over = np.zeros((nb, 4) + elem, dtype=np.uint64)
        bat_b = np.empty(batch, dtype=np.int32)
        bat_p = np.empty((batch, 2) + elem, dtype=np.uint64)
        bat_den = np.empty((batch, 1) + elem, dtype=np.uint64)
        bat_pre = np.empty((batch, 1) + elem, dtype=np.uint64)
        bat_dbl = np.zeros(batch, dtype=np.uint8)
        epoch = 1
        cnt = 0
        for j in range(m):
            d = digits[w, j]
            if d == 0:
                continue
            x2, y2 = _load_base(bases, idx, j, glv, endo)
            if d < 0:
                y2 = fe_neg(y2)
                b = -d - 1
            else:
                b = d - 1
            if full[b] == 0:
                fe_store(baff, b, 0, x2)
                fe_store(baff, b, 1, y2)
                full[b] = 1
                continue
            if stamp[b] == epoch:
                _store_xyzz(over, b, _madd(_load_xyzz(over, b), x2, y2))
                continue
            x1 = fe_load(baff, b, 0)
            if fe_eq(x1, x2):
                y1 = fe_load(baff, b, 1)
                if not fe_eq(y1, y2):
                    full[b] = 0  # P + (-P)
                    continue
                fe_store(bat_den, cnt, 0, fe_dbl(y1))
                bat_dbl[cnt] = 1
            else:
                fe_store(bat_den, cnt, 0, fe_sub(x2, x1))
                bat_dbl[cnt] = 0
            stamp[b] = epoch
            bat_b[cnt] = b
            fe_store(bat_p, cnt, 0, x2)
            fe_store(bat_p, cnt, 1, y2)
            cnt += 1
            if cnt == batch:
                _flush(baff, bat_b, bat_p, bat_den, bat_pre, bat_dbl, cnt)
                cnt = 0
                epoch += 1
        if cnt > 0:
            _flush(baff, bat_b, bat_p, bat_den, bat_pre, bat_dbl, cnt)
        run = _inf(fe_load(bases, 0, 0))
        acc = run
        for b in range(nb - 1, -1, -1):
            if full[b]:
                x, y = _load_affine(baff, b)
                run = _madd(run, x, y)
            run = _add(run, _load_xyzz(over, b))
            acc = _add(acc, run)
        _store_xyzz(out, w, acc)


def msm_pippenger_affine(bases: np.ndarray, idx: np.ndarray, digits: np.ndarray, c: int, batch: int, glv: int,
                         endo: np.ndarray, out: np.ndarray) -> None:
    """Like :func:`msm_pippenger` (``glv``, ``endo`` as there), with affine buckets updated in
    batches of ``batch`` additions sharing one inversion (about 6 products per addition instead
    of 10 for a mixed XYZZ one).

    A point whose bucket already has an addition pending in the current batch goes to that
    bucket's XYZZ overflow accumulator instead (so repeated digits never stall a batch); an
    empty bucket just takes the point; P + (-P) empties the bucket; P + P is a tangent step.
    """
    _in_threads(_pippenger_affine_windows, digits.shape[0], (bases, idx, digits, c, batch, glv, endo, out))


def choose_batch(c: int, m: int) -> int:
    """Batch size for :func:`msm_pippenger_affine`: about sqrt(200 * 2^(c-1)) (one inversion of
    ~380 products shared vs. the birthday rate of bucket collisions), within [16, 2048] and <= m."""
    b = int((200 * (1 << (c - 1))) ** 0.5)
    return max(1, min(b, 2048, max(m, 16)))


@njit(cache=True)
def _combine_windows(wins, c, res, slot):
    """res[slot] = sum_w 2^(c*w) * wins[w] (Horner, c doublings per window)."""
    W = wins.shape[0]
    acc = _load_xyzz(wins, W - 1)
    for w in range(W - 2, -1, -1):
        for _ in range(c):
            acc = _dbl(acc)
        acc = _add(acc, _load_xyzz(wins, w))
    _store_xyzz(res, slot, acc)


@njit(cache=True, nogil=True)
def _sum_points_range(bases, idx, partial, r_lo, r_hi):
    n_chunks = partial.shape[0]
    m = idx.shape[0]
    for k in range(r_lo, r_hi):
        acc = _inf(fe_load(bases, 0, 0))
        for j in range(k * m // n_chunks, (k + 1) * m // n_chunks):
            x, y = _load_affine(bases, idx[j])
            acc = _madd(acc, x, y)
        _store_xyzz(partial, k, acc)


def sum_points(bases: np.ndarray, idx: np.ndarray, partial: np.ndarray) -> None:
    """partial[k] = sum of bases[idx[j]] over the k-th of ``len(partial)`` chunks of idx (XYZZ)."""
    _in_threads(_sum_points_range, partial.shape[0], (bases, idx, partial))


@njit(cache=True)
def _sum_xyzz(pts, out, slot):
    """out[slot] = sum of all XYZZ points of pts."""
    acc = _load_xyzz(pts, 0)
    for i in range(1, pts.shape[0]):
        acc = _add(acc, _load_xyzz(pts, i))
    _store_xyzz(out, slot, acc)


@njit(cache=True)
def _xyzz_eq(p, q):
    """Equality of XYZZ points as group elements (used by tests of the formulas)."""
    if _is_inf(p) or _is_inf(q):
        return _is_inf(p) and _is_inf(q)
    return fe_eq(fe_mul(p[0], q[2]), fe_mul(q[0], p[2])) and fe_eq(fe_mul(p[1], q[3]), fe_mul(q[1], p[3]))


#: When False, :func:`msm` never chooses GLV on its own (side-by-side measurements switch it:
#: ``benchmarks/msm_glv_bench.py``); an explicit ``glv=`` argument still wins.
USE_GLV = True


def _window_cost(m: int, c: int, t: int, glv: bool) -> int:
    """Field products of a Pippenger MSM of m full-size scalars, per thread (windows in parallel):
    ceil(W/t) * (10 * points + 14 * 2^c). The weights are the products of a mixed addition
    (accumulation) and of the two full additions per bucket (reduction); with GLV there are 2m
    points in W = ceil(128/c) windows, and the phi half costs one more product (beta * x)."""
    if glv:
        return -(-_glv.glv_windows(c) // t) * (21 * m + 14 * (1 << c))
    w = -(-255 // c)
    return -(-w // t) * (10 * m + 14 * (1 << c))


def choose_window(m: int, threads: int | None = None, glv: bool = False) -> int:
    """Pippenger window c in [2, 16] minimising :func:`_window_cost`; c is capped at 16 so that
    buckets stay near the L2 cache."""
    t = threads or _threads()
    return min(range(2, 17), key=lambda c: (_window_cost(m, c, t, glv), c))


def choose_glv(m: int, threads: int | None = None) -> tuple[bool, tuple[int, int]]:
    """(use GLV, (best window without, best window with)) for a G1 MSM of m full-size scalars:
    GLV when its best cost is lower."""
    t = threads or _threads()
    c0, c1 = choose_window(m, t), choose_window(m, t, glv=True)
    return (_window_cost(m, c1, t, True) < _window_cost(m, c0, t, False)), (c0, c1)


def msm(
    bases: np.ndarray,
    scalars: np.ndarray,
    affine: bool = True,
    c: int | None = None,
    batch: int | None = None,
    glv: bool | None = None,
) -> np.ndarray:
    """sum scalars[i] * bases[i] as one XYZZ point (array of shape (4, ...) Montgomery).

    ``bases``: affine array (G1 (n, 2, 4) or G2 (n, 2, 2, 4)), infinity = (0, 0);
    ``scalars``: (n, 4) uint64, normal form, < r. Inputs are trusted (``kernels`` validates).
    ``affine`` selects batch-affine buckets (default) or XYZZ buckets; ``c`` and ``batch``
    override the window and batch sizes (tests use tiny ones to force bucket collisions);
    ``glv`` forces the GLV split on (G1 only) or off (default: :func:`choose_glv` decides).
    """
    n = scalars.shape[0]
    elem = bases.shape[2:]
    parts = np.zeros((2, 4) + elem, dtype=np.uint64)  # [ones sum, pippenger sum]
    if n == 0:
        return parts[0]
    kinds = np.empty(n, dtype=np.int8)
    classify_scalars(scalars, bases, kinds)
    ones = np.flatnonzero(kinds == 1)
    big = np.flatnonzero(kinds == 2)
    if ones.size:
        k = max(1, min(4 * _threads(), ones.size // 256))
        partial = np.empty((k, 4) + elem, dtype=np.uint64)
        sum_points(bases, ones, partial)
        _sum_xyzz(partial, parts, 0)
    if big.size:
        g1 = len(elem) == 1
        if glv is None:
            glv = g1 and USE_GLV and choose_glv(big.size)[0]
        elif glv and not g1:
            raise ValueError("msm: GLV is implemented for G1 only")
        c = c or choose_window(big.size, glv=glv)
        if glv:
            W = _glv.glv_windows(c)
            digits = np.empty((W, 2 * big.size), dtype=np.int32)
            glv_digits(scalars, big, c, _glv.KERNEL_CONSTS, digits)
            endo: np.ndarray = _BETA_MONT
        else:
            W = -(-255 // c)
            digits = np.empty((W, big.size), dtype=np.int32)
            signed_digits(scalars, big, c, digits)
            endo = _NO_ENDO[len(elem)]
        wins = np.empty((W, 4) + elem, dtype=np.uint64)
        if affine:
            msm_pippenger_affine(bases, big, digits, c, batch or choose_batch(c, digits.shape[1]), int(glv), endo,
                                 wins)
        else:
            msm_pippenger(bases, big, digits, c, int(glv), endo, wins)
        del digits
        _combine_windows(wins, c, parts, 1)
    out = np.empty((1, 4) + elem, dtype=np.uint64)
    _sum_xyzz(parts, out, 0)
    return out[0]


#: beta (``_glv.BETA``) in Montgomery form as a (1, 1, 4) array: the ``endo`` argument of the
#: bucket kernels on G1 with GLV; zero arrays of each group's shape when GLV is off.
_BETA_MONT = np.array([((_glv.BETA << 256) % Q >> (64 * i)) & ((1 << 64) - 1) for i in range(4)],
                      dtype=np.uint64).reshape(1, 1, 4)
_NO_ENDO = {1: np.zeros((1, 1, 4), dtype=np.uint64), 2: np.zeros((1, 1, 2, 4), dtype=np.uint64)}


# --- fixed-base multiplication ---------------------------------------------------------------

def choose_fixed_window(n: int) -> int:
    """Window w minimising n * ceil(254/w) * 10 + ceil(254/w) * 2^w * 20 (lookups vs table)."""
    best_w, best = 1, None
    for w in range(2, 14):  # w <= 13: larger tables fall out of cache (measured slower at 2^20)
        nw = -(-SCALAR_BITS // w)
        cost = n * nw * 10 + nw * (1 << w) * 20
        if best is None or cost < best:
            best_w, best = w, cost
    return best_w


@njit(cache=True)
def _window_starts(base_xyzz, w, starts):
    """starts[j] = 2^(w*j) * base for each window j (sequential doublings)."""
    p = _load_xyzz(base_xyzz, 0)
    for j in range(starts.shape[0]):
        _store_xyzz(starts, j, p)
        for _ in range(w):
            p = _dbl(p)


@njit(cache=True, nogil=True)
def _table_rows_range(starts, w, table, r_lo, r_hi):
    size = (1 << w) - 1
    for j in range(r_lo, r_hi):
        s = _load_xyzz(starts, j)
        p = s
        for d in range(size):
            _store_xyzz(table, j * size + d, p)
            p = _add(p, s)


def _table_rows(starts: np.ndarray, w: int, table: np.ndarray) -> None:
    """table[j*(2^w-1) + d - 1] = d * starts[j] for d in 1..2^w-1 (XYZZ), windows in parallel."""
    _in_threads(_table_rows_range, starts.shape[0], (starts, w, table))


def fixed_base_table(base_affine: np.ndarray, w: int) -> np.ndarray:
    """Affine table (ceil(254/w) * (2^w - 1) rows): row j*(2^w-1) + d - 1 holds d * 2^(w*j) * B.

    ``base_affine`` is one affine point with a leading axis of length 1, not infinity.
    """
    elem = base_affine.shape[2:]
    nw = -(-SCALAR_BITS // w)
    one = np.empty((1, 4) + elem, dtype=np.uint64)
    _base_to_xyzz(base_affine, one)
    starts = np.empty((nw, 4) + elem, dtype=np.uint64)
    _window_starts(one, w, starts)
    size = (1 << w) - 1
    table = np.empty((nw * size, 4) + elem, dtype=np.uint64)
    _table_rows(starts, w, table)
    aff = np.empty((nw * size, 2) + elem, dtype=np.uint64)
    scratch = np.empty((nw * size, 1) + elem, dtype=np.uint64)
    batch_normalize(table, aff, scratch, 4 * _threads())
    return aff


@njit(cache=True)
def _base_to_xyzz(base_affine, out):
    x, y = _load_affine(base_affine, 0)
    _store_xyzz(out, 0, _from_affine(x, y))


@njit(cache=True, parallel=True)
def _fixed_base_xyzz(table, w, scalars, out):
    """out[i] = scalars[i] * B (XYZZ) by one table lookup and mixed addition per window.

    The straightforward variant of :func:`_fixed_base_affine` (tests use it as a second
    implementation, and to make XYZZ points with infinities for :func:`batch_normalize`).
    """
    size = (1 << w) - 1
    nw = table.shape[0] // size
    mask = np.uint64(size)
    for i in prange(scalars.shape[0]):
        acc = _inf(fe_load(table, 0, 0))
        for j in range(nw):
            o = j * w
            li = o >> 6
            sh = o & 63
            v = scalars[i, li] >> np.uint64(sh)
            if sh + w > 64 and li + 1 < 4:
                v |= scalars[i, li + 1] << np.uint64(64 - sh)
            d = np.int64(v & mask)
            if d != 0:
                x, y = _load_affine(table, j * size + d - 1)
                acc = _madd(acc, x, y)
        _store_xyzz(out, i, acc)


@njit(cache=True)
def _fixed_base_affine_range(table, w, scalars, out, lo, hi, den, pre, who, row, dbl):
    """out[lo:hi] = scalars[i] * B, all accumulators affine, advanced window by window in lockstep:
    each window's additions across the range share one inversion (Montgomery's trick)."""
    size = (1 << w) - 1
    nw = table.shape[0] // size
    mask = np.uint64(size)
    z = fe_zero(fe_load(table, 0, 0))
    for i in range(lo, hi):
        fe_store(out, i, 0, z)
        fe_store(out, i, 1, z)
    for j in range(nw):
        o = j * w
        li = o >> 6
        sh = o & 63
        cnt = 0
        for i in range(lo, hi):
            v = scalars[i, li] >> np.uint64(sh)
            if sh + w > 64 and li + 1 < 4:
                v |= scalars[i, li + 1] << np.uint64(64 - sh)
            d = np.int64(v & mask)
            if d == 0:
                continue
            t = j * size + d - 1
            x2, y2 = _load_affine(table, t)
            x1, y1 = _load_affine(out, i)
            if fe_is_zero(x1) and fe_is_zero(y1):
                fe_store(out, i, 0, x2)
                fe_store(out, i, 1, y2)
                continue
            if fe_eq(x1, x2):
                if not fe_eq(y1, y2):
                    fe_store(out, i, 0, z)  # P + (-P)
                    fe_store(out, i, 1, z)
                    continue
                fe_store(den, cnt, 0, fe_dbl(y1))
                dbl[cnt] = 1
            else:
                fe_store(den, cnt, 0, fe_sub(x2, x1))
                dbl[cnt] = 0
            who[cnt] = i
            row[cnt] = t
            cnt += 1
        if cnt == 0:
            continue
        acc = fe_one(z)
        for k in range(cnt):
            fe_store(pre, k, 0, acc)
            acc = fe_mul(acc, fe_load(den, k, 0))
        inv = fe_inv(acc)
        for k in range(cnt - 1, -1, -1):
            dinv = fe_mul(inv, fe_load(pre, k, 0))
            inv = fe_mul(inv, fe_load(den, k, 0))
            i = who[k]
            x1, y1 = _load_affine(out, i)
            x2, y2 = _load_affine(table, row[k])
            if dbl[k]:
                x1s = fe_sqr(x1)
                num = fe_add(fe_dbl(x1s), x1s)
            else:
                num = fe_sub(y2, y1)
            lam = fe_mul(num, dinv)
            x3 = fe_sub(fe_sub(fe_sqr(lam), x1), x2)
            fe_store(out, i, 1, fe_sub(fe_mul(lam, fe_sub(x1, x3)), y1))
            fe_store(out, i, 0, x3)


@njit(cache=True, nogil=True)
def _fixed_base_affine_chunks(table, w, scalars, out, n_chunks, r_lo, r_hi):
    n = scalars.shape[0]
    elem = table.shape[2:]
    for c in range(r_lo, r_hi):
        lo = c * n // n_chunks
        hi = (c + 1) * n // n_chunks
        m = hi - lo
        if m == 0:
            continue
        den = np.empty((m, 1) + elem, dtype=np.uint64)
        pre = np.empty((m, 1) + elem, dtype=np.uint64)
        who = np.empty(m, dtype=np.int64)
        row = np.empty(m, dtype=np.int64)
        dbl = np.zeros(m, dtype=np.uint8)
        _fixed_base_affine_range(table, w, scalars, out, lo, hi, den, pre, who, row, dbl)


def _fixed_base_affine(table: np.ndarray, w: int, scalars: np.ndarray, out: np.ndarray, n_chunks: int) -> None:
    """out[i] = scalars[i] * B for all i, in ``n_chunks`` chunks (see :func:`_fixed_base_affine_range`)."""
    _in_threads(_fixed_base_affine_chunks, n_chunks, (table, w, scalars, out, n_chunks))


def fixed_base_mul(table: np.ndarray, w: int, scalars: np.ndarray) -> np.ndarray:
    """Affine array of scalars[i] * B from a :func:`fixed_base_table` (infinity -> (0, 0)).

    Chunks of up to 4096 scalars advance window by window with batch-affine additions
    (about 6 products per addition, no final normalisation).
    """
    n = scalars.shape[0]
    elem = table.shape[2:]
    out = np.empty((n, 2) + elem, dtype=np.uint64)
    if n:
        n_chunks = max(2 * _threads(), -(-n // 4096))
        _fixed_base_affine(table, w, scalars, out, min(n, n_chunks))
    return out


@njit(cache=True)
def _on_curve_one(pts, b, i):
    x, y = _load_affine(pts, i)
    if fe_is_zero(x) and fe_is_zero(y):
        return True
    return fe_eq(fe_sqr(y), fe_add(fe_mul(fe_sqr(x), x), fe_load(b, 0, 0)))


@njit(cache=True, nogil=True)
def _on_curve_range(pts, b, ok, r_lo, r_hi):
    for i in range(r_lo, r_hi):
        ok[i] = _on_curve_one(pts, b, i)


def on_curve(pts: np.ndarray, b: np.ndarray, ok: np.ndarray) -> None:
    """ok[i] = affine pts[i] satisfies y^2 = x^3 + b (b given as ``b[0, 0]``) or is (0, 0)."""
    _in_threads(_on_curve_range, pts.shape[0], (pts, b, ok))
