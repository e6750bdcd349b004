"""Fast prover kernels (numba): the public wrapper that validates, converts and calls.

Everything here takes and returns either Python ints and ``zkmargin.curve`` points, or numpy
arrays in the kernels' layouts (uint64, four little-endian 64-bit limbs per field element):

=================  ===================  =======================================================
what               shape                form
=================  ===================  =======================================================
Fr vector          ``(n, 4)``           Montgomery (``fr_to_array``); NTTs work on these
scalars for MSM    ``(n, 4)``           *normal* form, each < r (``scalars_to_array``)
G1 points          ``(n, 2, 4)``        affine (x, y), Montgomery; infinity is (0, 0)
G2 points          ``(n, 2, 2, 4)``     affine ((x0, x1), (y0, y1)), Montgomery; infinity 0
=================  ===================  =======================================================

(0, 0) is on neither curve (y^2 = x^3 + 3 and the twist), so it can mark infinity unambiguously.

Roots of unity follow ffjavascript/snarkjs: ``w_n = 5^((r-1)/n)`` (5 is the smallest quadratic
non-residue and a generator of Fr*), so domains agree with snarkjs proving keys.

The first call of each kernel compiles it (numba, tens of seconds in all); compiled code is cached
on disk (``cache=True``) so later processes start quickly. With ``NUMBA_DISABLE_JIT=1`` the same
kernels run as plain Python (very slowly; for tests).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numba
import numpy as np

from zkmargin import _numba_field as _field
from zkmargin.curve import TWIST_B, G1Point, G2Point
from zkmargin.field import Q, R

from . import _msm, _ntt
from .qap import TWO_ADICITY, root_of_unity  # one definition of the domains (5 generates Fr*)

__all__ = [
    "TWO_ADICITY",
    "root_of_unity",
    "fr_to_array",
    "fr_from_array",
    "scalars_to_array",
    "fr_to_scalars",
    "scalars_to_fr",
    "g1_points_to_array",
    "g1_points_from_array",
    "g2_points_to_array",
    "g2_points_from_array",
    "fr_add_arrays",
    "fr_sub_arrays",
    "fr_mul_arrays",
    "batch_inverse",
    "sparse_matvec",
    "ntt",
    "intt",
    "coset_ntt",
    "odd_coset_values",
    "msm_g1",
    "msm_g2",
    "fixed_base_g1",
    "fixed_base_g2",
    "fixed_base_g1_array",
    "fixed_base_g2_array",
]

_field.refresh_stale_caches((_msm, _ntt), deps=(_field,))  # their kernels inline the field module's

_M64 = (1 << 64) - 1


def _n_chunks(n: int, per: int = 256) -> int:
    """Parallel chunk count: a few per thread, none smaller than ``per`` items."""
    threads = 1 if _field.DISABLE_JIT else numba.get_num_threads()
    return max(1, min(4 * threads, n // per))


# --- conversions -----------------------------------------------------------------------------

def _ints_to_limbs(values: Sequence[int], modulus: int, what: str, reduce: bool = False) -> np.ndarray:
    """(n, 4) uint64 little-endian limbs of ints in [0, modulus).

    Out-of-range values raise ValueError, or are reduced mod ``modulus`` when ``reduce``.
    """
    vals = values if isinstance(values, list | tuple) else list(values)
    if not vals:
        return np.zeros((0, 4), dtype=np.uint64)
    try:
        lo, hi = min(vals), max(vals)
    except TypeError as e:
        raise TypeError(f"{what}: expected ints") from e
    if lo < 0 or hi >= modulus:
        if not reduce:
            raise ValueError(f"{what}: values must lie in [0, {'r' if modulus == R else 'q'})")
        vals = [v % modulus for v in vals]
    try:
        buf = b"".join(v.to_bytes(32, "little") for v in vals)
    except (AttributeError, TypeError):  # numpy or other integer types
        buf = b"".join(int(v).to_bytes(32, "little") for v in vals)
    return np.frombuffer(buf, dtype="<u8").reshape(-1, 4).astype(np.uint64)


def _limbs_to_ints(arr: np.ndarray) -> list[int]:
    """Inverse of :func:`_ints_to_limbs` for any array whose last axis holds 4 limbs."""
    b = np.ascontiguousarray(arr, dtype="<u8").tobytes()
    fb = int.from_bytes
    return [fb(b[i : i + 32], "little") for i in range(0, len(b), 32)]


#: Up to this many elements, a conversion to Montgomery form runs on Python ints (microseconds): a
#: proof's few blinding points then need no kernel of their own, one cached kernel fewer to load
#: in a ``zkmargin prove`` process.
_SMALL_CONVERSION = 16


def _to_mont(limbs: np.ndarray, p: int) -> np.ndarray:
    flat = limbs.reshape(-1, 4)
    if flat.shape[0] <= _SMALL_CONVERSION:  # inputs are reduced (< p): the callers check
        return _ints_to_limbs([(v << 256) % p for v in _limbs_to_ints(flat)], p, "to_mont").reshape(limbs.shape)
    out = np.empty(flat.shape, dtype=np.uint64)
    if p == R:
        _field.vec_to_mont(flat, out, _field.FR_P, _field.FR_PINV, _field.FR_R2)
    else:
        _field.vec_to_mont(flat, out, _field.FQ_P, _field.FQ_PINV, _field.FQ_R2)
    return out.reshape(limbs.shape)


def _from_mont(arr: np.ndarray, p: int) -> np.ndarray:
    flat = np.ascontiguousarray(arr).reshape(-1, 4)
    out = np.empty(flat.shape, dtype=np.uint64)
    if p == R:
        _field.vec_from_mont(flat, out, _field.FR_P, _field.FR_PINV)
    else:
        _field.vec_from_mont(flat, out, _field.FQ_P, _field.FQ_PINV)
    return out.reshape(arr.shape)


def _check_array(arr: np.ndarray, shape_tail: tuple[int, ...], what: str) -> np.ndarray:
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint64:
        raise TypeError(f"{what}: expected a numpy uint64 array")
    if arr.ndim != 1 + len(shape_tail) or arr.shape[1:] != shape_tail:
        raise ValueError(f"{what}: expected shape (n, {', '.join(map(str, shape_tail))}), got {arr.shape}")
    return np.ascontiguousarray(arr)


def _check_fr(arr: np.ndarray, shape_tail: tuple[int, ...], what: str) -> np.ndarray:
    """A Montgomery Fr array: shape, dtype, and every element reduced (< r), which the kernels'
    single conditional subtractions rely on."""
    arr = _check_array(arr, shape_tail, what)
    if not _field.vec_all_below(arr.reshape(-1, 4), _field.FR_P):
        raise ValueError(f"{what}: elements must be reduced (< r)")
    return arr


def fr_to_array(values: Iterable[int]) -> np.ndarray:
    """Fr elements (ints in [0, r)) -> ``(n, 4)`` uint64 array in Montgomery form.

    Raises ValueError for a value outside [0, r), TypeError for a non-integer.
    """
    return _to_mont(_ints_to_limbs(values, R, "fr_to_array"), R)  # type: ignore[arg-type]


def fr_from_array(arr: np.ndarray) -> list[int]:
    """``(n, 4)`` Montgomery Fr array -> list of ints in [0, r)."""
    arr = _check_fr(arr, (4,), "fr_from_array")
    return _limbs_to_ints(_from_mont(arr, R))


def scalars_to_array(values: Iterable[int]) -> np.ndarray:
    """MSM / fixed-base scalars -> ``(n, 4)`` uint64 in normal form; ints are reduced mod r
    (as ``zkmargin.curve.g1_mul`` and ``g1_lincomb`` do)."""
    return _ints_to_limbs(values, R, "scalars_to_array", reduce=True)  # type: ignore[arg-type]


def fr_to_scalars(a: np.ndarray) -> np.ndarray:
    """Montgomery Fr array -> the same elements as MSM scalars (normal form), without Python ints."""
    a = _check_fr(a, (4,), "fr_to_scalars")
    return _from_mont(a, R)


def scalars_to_fr(s: np.ndarray) -> np.ndarray:
    """Normal-form scalars (each < r) -> Montgomery Fr array."""
    s = _check_array(s, (4,), "scalars_to_fr")
    if not _field.vec_all_below(s, _field.FR_P):
        raise ValueError("scalars_to_fr: values must be < r")
    return _to_mont(s, R)


def _scalars(scalars: np.ndarray | Iterable[int], n: int | None, what: str) -> np.ndarray:
    if isinstance(scalars, np.ndarray) and scalars.dtype == np.uint64:
        s = _check_array(scalars, (4,), what)
        if not _field.vec_all_below(s, _field.FR_P):
            raise ValueError(f"{what}: scalars must be < r (normal form, not Montgomery)")
    elif isinstance(scalars, np.ndarray) and scalars.ndim != 1:
        raise TypeError(f"{what}: a scalar array must be (n, 4) uint64")
    else:
        vals = scalars if isinstance(scalars, list | tuple) else list(scalars)
        s = _ints_to_limbs(vals, R, what, reduce=True)
    if n is not None and s.shape[0] != n:
        raise ValueError(f"{what}: {n} bases but {s.shape[0]} scalars")
    return s


def _check_on_curve(arr: np.ndarray, group: int, what: str) -> None:
    ok = np.empty(arr.shape[0], dtype=np.bool_)
    _msm.on_curve(arr, _curve_b(group), ok)
    if not ok.all():
        raise ValueError(f"{what}: point {int(np.argmin(ok))} is not on the curve")


_B_CACHE: dict[int, np.ndarray] = {}


def _curve_b(group: int) -> np.ndarray:
    """The curve coefficient b (3 for G1, TWIST_B for G2) as a (1, 1, ...) Montgomery array."""
    if group not in _B_CACHE:
        coeffs = [3] if group == 1 else list(TWIST_B)
        _B_CACHE[group] = _to_mont(_ints_to_limbs(coeffs, Q, "b"), Q).reshape((1, 1) + _ELEM[group])
    return _B_CACHE[group]


_ELEM = {1: (4,), 2: (2, 4)}


def g1_points_to_array(points: Sequence[G1Point], check: bool = True) -> np.ndarray:
    """G1 points (affine int tuples, None = infinity) -> ``(n, 2, 4)`` Montgomery array.

    Raises ValueError for coordinates outside [0, q) or (``check``) a point off the curve.
    """
    flat: list[int] = []
    for p in points:
        flat.extend((0, 0) if p is None else p)
    arr = _to_mont(_ints_to_limbs(flat, Q, "g1_points_to_array"), Q).reshape(-1, 2, 4)
    if check:
        _check_on_curve(arr, 1, "g1_points_to_array")
    return arr


def g2_points_to_array(points: Sequence[G2Point], check: bool = True) -> np.ndarray:
    """G2 points (((x0, x1), (y0, y1)), None = infinity) -> ``(n, 2, 2, 4)`` Montgomery array.

    Checks coordinates and (``check``) that points lie on the twist; not the subgroup.
    """
    flat: list[int] = []
    for p in points:
        if p is None:
            flat.extend((0, 0, 0, 0))
        else:
            (x0, x1), (y0, y1) = p
            flat.extend((x0, x1, y0, y1))
    arr = _to_mont(_ints_to_limbs(flat, Q, "g2_points_to_array"), Q).reshape(-1, 2, 2, 4)
    if check:
        _check_on_curve(arr, 2, "g2_points_to_array")
    return arr


def g1_points_from_array(arr: np.ndarray) -> list[G1Point]:
    """``(n, 2, 4)`` Montgomery affine array -> list of G1 points ((0, 0) -> None)."""
    arr = _check_array(arr, (2, 4), "g1_points_from_array")
    v = _limbs_to_ints(_from_mont(arr, Q))
    return [None if v[i] == 0 and v[i + 1] == 0 else (v[i], v[i + 1]) for i in range(0, len(v), 2)]


def g2_points_from_array(arr: np.ndarray) -> list[G2Point]:
    """``(n, 2, 2, 4)`` Montgomery affine array -> list of G2 points (all-zero -> None)."""
    arr = _check_array(arr, (2, 2, 4), "g2_points_from_array")
    v = _limbs_to_ints(_from_mont(arr, Q))
    out: list[G2Point] = []
    for i in range(0, len(v), 4):
        x0, x1, y0, y1 = v[i : i + 4]
        out.append(None if not (x0 or x1 or y0 or y1) else ((x0, x1), (y0, y1)))
    return out


# --- Fr vector arithmetic --------------------------------------------------------------------

def _fr_pair(a: np.ndarray, b: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    a = _check_fr(a, (4,), what)
    b = _check_fr(b, (4,), what)
    if a.shape != b.shape:
        raise ValueError(f"{what}: shapes differ: {a.shape} vs {b.shape}")
    return a, b


def fr_add_arrays(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise a + b of Montgomery Fr arrays."""
    a, b = _fr_pair(a, b, "fr_add_arrays")
    out = np.empty_like(a)
    _field.vec_add(a, b, out, _field.FR_P)
    return out


def fr_sub_arrays(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise a - b of Montgomery Fr arrays."""
    a, b = _fr_pair(a, b, "fr_sub_arrays")
    out = np.empty_like(a)
    _field.vec_sub(a, b, out, _field.FR_P)
    return out


def fr_mul_arrays(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise a * b of Montgomery Fr arrays."""
    a, b = _fr_pair(a, b, "fr_mul_arrays")
    out = np.empty_like(a)
    _field.vec_mul(a, b, out, _field.FR_P, _field.FR_PINV)
    return out


def batch_inverse(a: np.ndarray) -> np.ndarray:
    """Element-wise inverses of a Montgomery Fr array (Montgomery's trick); 0 maps to 0."""
    a = _check_fr(a, (4,), "batch_inverse")
    out = np.empty_like(a)
    _field.vec_batch_inv(
        a, out, _field.FR_P, _field.FR_PINV, _field.FR_ONE, _field.FR_PM2, _n_chunks(a.shape[0], 1024)
    )
    return out


def sparse_matvec(
    rows: np.ndarray, cols: np.ndarray, coeffs: np.ndarray, vec: np.ndarray, n: int
) -> np.ndarray:
    """``out[rows[k]] += coeffs[k] * vec[cols[k]]``: a sparse matrix (entries as three arrays)
    times a Montgomery Fr vector, into an ``(n, 4)`` Montgomery array (e.g. A*w on the domain).

    ``rows``/``cols``: int64 arrays (converted), ``coeffs``: ``(k, 4)`` Montgomery Fr.
    Raises ValueError for mismatched lengths or out-of-range indices.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    coeffs = _check_fr(coeffs, (4,), "sparse_matvec coeffs")
    vec = _check_fr(vec, (4,), "sparse_matvec vec")
    if rows.ndim != 1 or rows.shape != cols.shape or rows.shape[0] != coeffs.shape[0]:
        raise ValueError("sparse_matvec: rows, cols and coeffs must have the same length")
    if rows.size and (rows.min() < 0 or rows.max() >= n or cols.min() < 0 or cols.max() >= vec.shape[0]):
        raise ValueError("sparse_matvec: index out of range")
    out = np.zeros((n, 4), dtype=np.uint64)
    _field.sparse_matvec(rows, cols, coeffs, vec, out)
    return out


# --- NTT -------------------------------------------------------------------------------------

def _mont_scalar(x: int) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    return _field.limbs((x << 256) % R)


_TWIDDLES: dict[tuple[int, bool], np.ndarray] = {}
_BITREV_TABLES: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
_TW_LOCK = threading.Lock()


def _twiddles(n: int, inverse: bool = False) -> np.ndarray:
    """w^j for j < n/2 (Montgomery), w = w_n or its inverse; cached per size."""
    with _TW_LOCK:
        tw = _TWIDDLES.get((n, inverse))
        if tw is None:
            w = root_of_unity(n)
            tw = np.empty((max(1, n // 2), 4), dtype=np.uint64)
            g = _mont_scalar(pow(w, -1, R) if inverse else w)
            _ntt.powers(tw, _field.FR_ONE, g, _n_chunks(tw.shape[0]))
            _TWIDDLES[(n, inverse)] = tw
    return tw


def _rev_perm(bits: int) -> np.ndarray:
    """The bit-reversal permutation of range(2^bits)."""
    i = np.arange(1 << bits, dtype=np.int64)
    r = np.zeros_like(i)
    for b in range(bits):
        r |= ((i >> b) & 1) << (bits - 1 - b)
    return r


def _odd_coset_tables(n: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Factored table of w_2n^rev(i) / n for :func:`_ntt.scale_bitrev` (cached per size)."""
    with _TW_LOCK:
        t = _BITREV_TABLES.get(n)
        if t is None:
            bits = n.bit_length() - 1
            k = bits // 2
            h = bits - k
            g = root_of_unity(2 * n)
            lo_nat = np.empty((1 << k, 4), dtype=np.uint64)
            _ntt.powers(lo_nat, _field.FR_ONE, _mont_scalar(pow(g, 1 << h, R)), 1)
            hi_nat = np.empty((1 << h, 4), dtype=np.uint64)
            _ntt.powers(hi_nat, _mont_scalar(pow(n, -1, R)), _mont_scalar(g), 1)
            t = (lo_nat[_rev_perm(k)].copy(), hi_nat[_rev_perm(h)].copy(), k)
            _BITREV_TABLES[n] = t
    return t


def _ntt_input(a: np.ndarray, what: str, inplace: bool) -> np.ndarray:
    if not isinstance(a, np.ndarray) or a.dtype != np.uint64 or a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"{what}: expected an (n, 4) uint64 array")
    n = a.shape[0]
    if n < 1 or n & (n - 1) or n > 1 << TWO_ADICITY:
        raise ValueError(f"{what}: length must be a power of two <= 2^28, got {n}")
    if not _field.vec_all_below(a, _field.FR_P):
        raise ValueError(f"{what}: elements must be reduced (< r)")
    if inplace:
        if not a.flags.c_contiguous or not a.flags.writeable:
            raise ValueError(f"{what}: inplace needs a writeable C-contiguous array")
        return a
    return np.array(a, dtype=np.uint64, order="C", copy=True)


def ntt(a: np.ndarray, inplace: bool = False) -> np.ndarray:
    """Evaluations ``out[k] = sum_j a[j] w_n^(jk)`` of a Montgomery Fr coefficient array."""
    a = _ntt_input(a, "ntt", inplace)
    _ntt.ntt_inplace(a, _twiddles(a.shape[0]))
    return a


def intt(a: np.ndarray, inplace: bool = False) -> np.ndarray:
    """Coefficients from evaluations on the n-point domain (inverse of :func:`ntt`)."""
    a = _ntt_input(a, "intt", inplace)
    n = a.shape[0]
    _ntt.ntt_inplace(a, _twiddles(n))
    _ntt.reverse_tail(a)
    _ntt.scale_by_powers(a, _mont_scalar(pow(n, -1, R)), _field.FR_ONE, _n_chunks(n))
    return a


def coset_ntt(a: np.ndarray, shift: int, inplace: bool = False) -> np.ndarray:
    """Evaluations at ``shift * w_n^k`` of a Montgomery Fr coefficient array."""
    a = _ntt_input(a, "coset_ntt", inplace)
    if not 0 < shift < R:
        raise ValueError("coset_ntt: shift must be in [1, r)")
    _ntt.scale_by_powers(a, _field.FR_ONE, _mont_scalar(shift), _n_chunks(a.shape[0]))
    _ntt.ntt_inplace(a, _twiddles(a.shape[0]))
    return a


def odd_coset_values(evals: np.ndarray, inplace: bool = False) -> np.ndarray:
    """From P(w_n^i) (deg P < n) to P(w_2n^(2i+1)): snarkjs's odd-coset evaluations.

    One inverse transform, a scaling of coefficient i by w_2n^i / n, one forward transform
    (snarkjs: ifft, multiply by powers of ``Fr.w[k+1]``, fft).
    """
    a = _ntt_input(evals, "odd_coset_values", inplace)
    n = a.shape[0]
    if 2 * n > 1 << TWO_ADICITY:
        raise ValueError("odd_coset_values: 2n exceeds 2^28")
    # inverse DIF (natural -> n * coefficients in bit-reversed order), scale coefficient rev(i) by
    # w_2n^rev(i) / n, forward DIT (bit-reversed -> natural): no bit-reversal pass at all.
    _ntt.dif_to_bitrev(a, _twiddles(n, inverse=True))
    lo_tab, hi_tab, k = _odd_coset_tables(n)
    _ntt.scale_bitrev(a, lo_tab, hi_tab, k)
    _ntt.dit_from_bitrev(a, _twiddles(n))
    return a


# --- MSM -------------------------------------------------------------------------------------

def _result_point(res: np.ndarray, group: int) -> np.ndarray:
    """One XYZZ point (4, ...) -> affine (1, 2, ...) Montgomery array."""
    elem = _ELEM[group]
    pts = np.ascontiguousarray(res).reshape((1, 4) + elem)
    out = np.empty((1, 2) + elem, dtype=np.uint64)
    scratch = np.empty((1, 1) + elem, dtype=np.uint64)
    _msm.batch_normalize(pts, out, scratch, 1)
    return out


def _read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view (no copy): numba compiles one specialization per array type, and a proving key
    mapped from its file is read-only, so every MSM passes its bases read-only (half the MSM kernels
    to compile on a first run; the kernels never write their bases)."""
    if not a.flags.writeable:
        return a
    v = a.view()
    v.flags.writeable = False
    return v


def msm_g1(bases: np.ndarray, scalars: np.ndarray | Iterable[int]) -> G1Point:
    """sum_i scalars[i] * bases[i] in G1.

    ``bases``: ``(n, 2, 4)`` from :func:`g1_points_to_array` (which checks the curve equation;
    an array passed here is checked for shape only); ``scalars``: ``(n, 4)`` uint64 in normal
    form, each < r (:func:`scalars_to_array`, :func:`fr_to_scalars`), or ints (reduced mod r).
    Zero scalars and infinity bases are skipped, scalars equal to 1 cost one mixed addition.
    Raises ValueError on bad shapes, mismatched lengths or array scalars >= r.
    """
    bases = _read_only(_check_array(bases, (2, 4), "msm_g1 bases"))
    s = _scalars(scalars, bases.shape[0], "msm_g1")
    return g1_points_from_array(_result_point(_msm.msm(bases, s), 1))[0]


def msm_g2(bases: np.ndarray, scalars: np.ndarray | Iterable[int]) -> G2Point:
    """sum_i scalars[i] * bases[i] in G2; ``bases`` is ``(n, 2, 2, 4)`` (see :func:`msm_g1`)."""
    bases = _read_only(_check_array(bases, (2, 2, 4), "msm_g2 bases"))
    s = _scalars(scalars, bases.shape[0], "msm_g2")
    return g2_points_from_array(_result_point(_msm.msm(bases, s), 2))[0]


# --- fixed-base ------------------------------------------------------------------------------

_TABLES: dict[tuple[int, object, int], np.ndarray] = {}
_TABLE_LOCK = threading.Lock()
_MAX_TABLES = 4


def _table(group: int, base_arr: np.ndarray, key: object, w: int) -> np.ndarray:
    k = (group, key, w)
    with _TABLE_LOCK:
        t = _TABLES.get(k)
        if t is None:
            t = _msm.fixed_base_table(base_arr, w)
            if len(_TABLES) >= _MAX_TABLES:
                _TABLES.pop(next(iter(_TABLES)))
            _TABLES[k] = t
    return t


def fixed_base_g1_array(base: G1Point, scalars: np.ndarray | Iterable[int]) -> np.ndarray:
    """k_i * base for many k_i as a ``(n, 2, 4)`` affine Montgomery array (windowed tables, cached
    per base; int scalars reduced mod r)."""
    s = _scalars(scalars, None, "fixed_base_g1")
    if base is None:
        return np.zeros((s.shape[0], 2, 4), dtype=np.uint64)
    w = _msm.choose_fixed_window(s.shape[0])
    table = _table(1, g1_points_to_array([base]), base, w)
    return _msm.fixed_base_mul(table, w, s)


def fixed_base_g2_array(base: G2Point, scalars: np.ndarray | Iterable[int]) -> np.ndarray:
    """k_i * base for many k_i as a ``(n, 2, 2, 4)`` affine Montgomery array.

    Int scalars are reduced mod r; precondition (not checked): base is in G2, so that this agrees
    with ``zkmargin.curve.g2_mul``.
    """
    s = _scalars(scalars, None, "fixed_base_g2")
    if base is None:
        return np.zeros((s.shape[0], 2, 2, 4), dtype=np.uint64)
    w = _msm.choose_fixed_window(s.shape[0])
    table = _table(2, g2_points_to_array([base]), base, w)
    return _msm.fixed_base_mul(table, w, s)


def fixed_base_g1(base: G1Point, scalars: np.ndarray | Iterable[int]) -> list[G1Point]:
    """[k * base for k in scalars] in G1, as affine int tuples (None for infinity)."""
    return g1_points_from_array(fixed_base_g1_array(base, scalars))


def fixed_base_g2(base: G2Point, scalars: np.ndarray | Iterable[int]) -> list[G2Point]:
    """[k * base for k in scalars] in G2, as affine int tuples (None for infinity)."""
    return g2_points_from_array(fixed_base_g2_array(base, scalars))
