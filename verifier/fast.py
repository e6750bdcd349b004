"""Fast Groth16 verification: the BN254 pairing as numba kernels (needs ``zkmargin[prover]``).

The base-install verifier (:mod:`zkmargin.verifier.groth16_verify`) runs py_ecc: about 0.5 s per
proof. This module computes the same checks with the kernels of ``_pairing_numba`` (an optimal
ate pairing on 4x64-bit Montgomery limbs): about a millisecond per proof, less per proof in batch.
Nothing here is imported by ``zkmargin.verifier`` itself, so the base install never loads numba.

Public pieces:

- :func:`verify_fast`: the same validation as :func:`~zkmargin.verifier.verify` (same errors,
  same order; the G2 subgroup check of ``B`` runs in numba), then one pairing check::

      e(A, B) * e(vk_x, -gamma) * e(C, -delta) == e(alpha, beta)

  where the right side is precomputed in the :class:`FastVerifyingKey` and ``-gamma``, ``-delta``
  are :class:`PreparedG2` (their Miller-loop lines precomputed), so only ``B`` needs doubling and
  addition steps: 3 Miller loops sharing one loop, 1 final exponentiation, no G2 arithmetic for
  the key.
- :func:`multi_miller_loop`, :func:`final_exponentiation`, :func:`is_one`, :class:`Fq12`: the
  building blocks for batch verification (k Miller loops with varying ``B_i`` plus the three
  prepared key points, one final exponentiation); :func:`groth16_batch_check_fast` is that check
  for already-validated proofs and caller-chosen random scalars.
- :func:`g2_in_subgroup_fast` / :func:`g2_in_subgroup_many_fast`, :func:`g1_lincomb_fast`,
  :func:`g1_mul_many_fast`: the curve operations a verifier needs besides the pairing.
- :func:`pairing_product_is_one_fast`, :func:`pairing`: drop-in twins of
  :func:`zkmargin.curve.pairing_product_is_one` and py_ecc's pairing (same values).

Points use :mod:`zkmargin.curve`'s convention (affine int tuples, ``None`` for infinity). Functions
that take points trust them to be on their curves and, for G2, in G2 (the callers validate, as for
:func:`zkmargin.curve.pairing_product_is_one`), except :func:`verify_fast`, which validates
everything, and the subgroup checks, which only need points on the twist.

Under ``NUMBA_DISABLE_JIT=1`` every function still works (the kernels run as Python on limbs,
about half a second per pairing) but :func:`fast_pairing_available` answers False, so callers that pick the
fast path automatically keep py_ecc.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from zkmargin._threads import kernel_threads as _threads
from zkmargin._threads import run_in_parts
from zkmargin.curve import G1Point, G2Point
from zkmargin.errors import MalformedInputError, PointNotInSubgroupError
from zkmargin.field import Q, R
from zkmargin.groth16 import Proof, VerifyingKey
from zkmargin.verifier import groth16_verify as _gv
from zkmargin.verifier.groth16_verify import PreparedVerifyingKey

try:  # the optional extra: numba (and numpy)
    import numba as _numba
    import numpy as np

    from zkmargin import _numba_field as _field
    from zkmargin.verifier import _pairing_numba as _k

    _field.refresh_stale_caches((_k,), deps=(_field,))  # the pairing's kernels inline the field module's
except ImportError:  # pragma: no cover - exercised only on the base install
    _numba = None  # type: ignore[assignment]
    np = None  # type: ignore[assignment]
    _field = None  # type: ignore[assignment]
    _k = None  # type: ignore[assignment]

__all__ = [
    "fast_pairing_available",
    "Fq12",
    "PreparedG2",
    "FastVerifyingKey",
    "prepare_fast",
    "multi_miller_loop",
    "final_exponentiation",
    "is_one",
    "pairing",
    "pairing_product_is_one_fast",
    "g2_in_subgroup_fast",
    "g2_in_subgroup_many_fast",
    "g1_lincomb_fast",
    "g1_mul_many_fast",
    "validate_proof_fast",
    "verify_fast",
    "groth16_check_fast",
    "groth16_batch_check_fast",
    "PARALLEL_MIN_PAIRS",
]

logger = logging.getLogger(__name__)

_M64 = (1 << 64) - 1
_R_MONT = (1 << 256) % Q
_R_INV = pow(_R_MONT, Q - 2, Q)
#: Work on at least this many items (non-prepared pairs of a multi-Miller loop, subgroup checks,
#: scalar multiplications) is spread over numba's thread count of Python threads; smaller calls
#: stay on one thread.
PARALLEL_MIN_PAIRS = 8


def fast_pairing_available() -> bool:
    """True when numba is installed and compiling (not ``NUMBA_DISABLE_JIT=1``).

    The functions of this module work whenever numba is importable; this says whether they are
    actually fast, i.e. whether a caller should prefer them over py_ecc.
    """
    return _k is not None and not _field.DISABLE_JIT


def _require() -> None:
    if _k is None:
        raise RuntimeError("the fast verifier needs numba and numpy: pip install 'zkmargin[prover]'")


# --- conversions ---------------------------------------------------------------------------------


def _rows(values: Sequence[int]) -> Any:
    """(n, 4) uint64 array of the Montgomery forms of ints in [0, q)."""
    out = np.empty((len(values), 4), dtype=np.uint64)
    for i, v in enumerate(values):
        m = (v << 256) % Q
        out[i, 0] = m & _M64
        out[i, 1] = (m >> 64) & _M64
        out[i, 2] = (m >> 128) & _M64
        out[i, 3] = m >> 192
    return out


def _unrows(a: Any) -> list[int]:
    """Inverse of :func:`_rows`."""
    return [
        (int(r[0]) | (int(r[1]) << 64) | (int(r[2]) << 128) | (int(r[3]) << 192)) * _R_INV % Q for r in a
    ]


def _scalar_rows(scalars: Sequence[int]) -> Any:
    """(n, 4) uint64 array of scalars reduced mod r, in normal (not Montgomery) form."""
    out = np.empty((len(scalars), 4), dtype=np.uint64)
    for i, k in enumerate(scalars):
        k %= R
        out[i, 0] = k & _M64
        out[i, 1] = (k >> 64) & _M64
        out[i, 2] = (k >> 128) & _M64
        out[i, 3] = k >> 192
    return out


def _g1_rows(points: Sequence[tuple[int, int]]) -> Any:
    return _rows([c for p in points for c in p])


def _g2_rows(points: Sequence[tuple[tuple[int, int], tuple[int, int]]]) -> Any:
    return _rows([c for p in points for xy in p for c in xy])


def _g1_from_rows(a: Any, i: int = 0) -> G1Point:
    x, y = _unrows(a[2 * i : 2 * i + 2])
    if x == 0 and y == 0:  # the kernels' encoding of infinity ((0, 0) is not on the curve)
        return None
    return (x, y)


def _empty() -> Any:
    return np.empty((0, 4), dtype=np.uint64)


# --- Fq12 ----------------------------------------------------------------------------------------


_G1Affine = tuple[int, int]
_G2Affine = tuple[tuple[int, int], tuple[int, int]]
_Fq12Coeffs = tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]


class Fq12:
    """An element of Fq12 (the pairing's target field) as the kernels hold it.

    Tower ``Fq2 = Fq[u]/(u^2+1)``, ``Fq6 = Fq2[v]/(v^3 - (9+u))``, ``Fq12 = Fq6[w]/(w^2 - v)``;
    :meth:`coeffs` gives the twelve Fq coefficients as ``((c00, c01, c02), (c10, c11, c12))`` of
    ``(re, im)`` int pairs (``_pairing_naive``'s layout), ``c_ij`` multiplying ``w^(2j+i)``.
    Immutable; ``==`` compares values.
    """

    __slots__ = ("_rows",)

    def __init__(self, rows: Any) -> None:
        """Wrap a (12, 4) uint64 array of Montgomery limbs (kept, not copied: do not mutate it)."""
        self._rows = rows

    @classmethod
    def one(cls) -> Fq12:
        """The multiplicative identity."""
        _require()
        return cls.from_coeffs(((1, 0), (0, 0), (0, 0)), ((0, 0), (0, 0), (0, 0)))  # type: ignore[arg-type]

    @classmethod
    def from_coeffs(cls, c0: Sequence[tuple[int, int]], c1: Sequence[tuple[int, int]]) -> Fq12:
        """Build from the two Fq6 halves, each three ``(re, im)`` pairs of ints (reduced mod q)."""
        _require()
        return cls(_rows([x % Q for half in (c0, c1) for pair in half for x in pair]))

    def coeffs(self) -> _Fq12Coeffs:
        """The coefficients as nested int tuples (see the class docstring)."""
        v = _unrows(self._rows)
        return (
            tuple((v[2 * j], v[2 * j + 1]) for j in range(3)),
            tuple((v[6 + 2 * j], v[7 + 2 * j]) for j in range(3)),
        )

    def _op(self, op: int, other: Fq12 | None = None) -> Fq12:
        out = np.empty((12, 4), dtype=np.uint64)
        _k.f12_op_kernel(op, self._rows, self._rows if other is None else other._rows, out)
        return Fq12(out)

    def __mul__(self, other: Fq12) -> Fq12:
        if not isinstance(other, Fq12):
            return NotImplemented
        return self._op(0, other)

    def inverse(self) -> Fq12:
        """1/self (0 maps to 0)."""
        return self._op(2)

    def conjugate(self) -> Fq12:
        """self^(q^6); the inverse for elements of GT."""
        return self._op(3)

    def is_one(self) -> bool:
        """True for the identity."""
        return is_one(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fq12):
            return NotImplemented
        return bool(np.array_equal(self._rows, other._rows))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Fq12({self.coeffs()!r})"


_ONE_ROWS: list[Any] = []


def _one_rows() -> Any:
    if not _ONE_ROWS:
        _ONE_ROWS.append(Fq12.one()._rows)
    return _ONE_ROWS[0]


def is_one(f: Fq12) -> bool:
    """True when ``f`` is the identity of Fq12 (after :func:`final_exponentiation`: the check)."""
    return bool(np.array_equal(f._rows, _one_rows()))


# --- prepared G2 points --------------------------------------------------------------------------


class PreparedG2:
    """A G2 point with its Miller-loop line coefficients precomputed.

    A pairing with a prepared point costs only the sparse multiplications of its lines into the
    shared accumulator: no G2 arithmetic. For the fixed points of a verifying key. Building one
    validates the point (on the twist and in G2, via :func:`g2_in_subgroup_fast`); ``None``
    (infinity) is allowed and contributes 1 to any pairing product.

    Raises:
        PointNotOnCurveError, IdentityPointError: see ``groth16_verify``'s point checks (infinity
            passed as the affine all-zero encoding is rejected).
        PointNotInSubgroupError: the point is on the twist but not in G2.
    """

    __slots__ = ("point", "_coeffs")

    point: G2Point

    def __init__(self, q: G2Point) -> None:
        _require()
        if q is None:
            self.point = None
            self._coeffs = _empty()
            return
        q = _gv._check_g2_on_twist(q, "G2 point")
        if not g2_in_subgroup_fast(q):
            raise PointNotInSubgroupError(f"G2 point {q} is on the twist but not in G2")
        self.point = q
        self._coeffs = np.empty((6 * _k.N_LINES, 4), dtype=np.uint64)
        _k.prepare_g2_kernel(_g2_rows([q]), self._coeffs)

    def __repr__(self) -> str:
        return f"PreparedG2({self.point!r})"


def _split_pairs(g1_points: Sequence[G1Point], g2_points: Sequence[G2Point | PreparedG2]) -> tuple[Any, ...]:
    """(pp, coeffs, pv, qv) kernel arrays; pairs with an infinity factor are dropped."""
    if len(g1_points) != len(g2_points):
        raise ValueError(f"{len(g1_points)} G1 points but {len(g2_points)} G2 points")
    prep_p: list[tuple[int, int]] = []
    prep_c = []
    var_p: list[tuple[int, int]] = []
    var_q = []
    for p, q in zip(g1_points, g2_points, strict=True):
        if p is None:
            continue
        if isinstance(q, PreparedG2):
            if q.point is None:
                continue
            prep_p.append(p)
            prep_c.append(q._coeffs)
        elif q is not None:
            var_p.append(p)
            var_q.append(q)
    pp = _g1_rows(prep_p) if prep_p else _empty()
    coeffs = np.concatenate(prep_c) if prep_c else _empty()
    pv = _g1_rows(var_p) if var_p else _empty()
    qv = _g2_rows(var_q) if var_q else _empty()
    return pp, coeffs, pv, qv


def _parallel(n: int) -> bool:
    """Whether n independent work items are worth a parallel region (launching one costs from
    tens of microseconds to milliseconds when the cores are busy)."""
    return n >= PARALLEL_MIN_PAIRS and _threads() > 1


def _miller(pp: Any, coeffs: Any, pv: Any, qv: Any) -> Fq12:
    out = np.empty((12, 4), dtype=np.uint64)
    n_var = pv.shape[0] // 2
    if _parallel(n_var):
        # Each chunk repeats the 65 squarings of f: keep chunks of at least 4 pairs.
        _miller_chunks(pp, coeffs, pv, qv, max(1, min(_threads(), n_var // 4)), out)
    else:
        _k.miller_loop_kernel(pp, coeffs, pv, qv, out)
    return Fq12(out)


def _miller_chunks(pp: Any, coeffs: Any, pv: Any, qv: Any, n_chunks: int, out: Any) -> None:
    """The shared Miller loop with the on-the-fly pairs split into ``n_chunks`` chunks, one thread
    each (chunk 0 also takes the prepared pairs); the chunks' values multiplied into ``out``.

    The loop of a union of pairs is the product of the loops of its parts ((ab)^2 = a^2 b^2), so
    the value is the serial one. Each chunk is a call of the serial kernel on row slices, which
    keep the array types: nothing more to compile.
    """
    nv = pv.shape[0] // 2
    parts = np.empty((n_chunks, 12, 4), dtype=np.uint64)

    def chunk(c_lo: int, c_hi: int) -> None:
        for c in range(c_lo, c_hi):
            lo, hi = c * nv // n_chunks, (c + 1) * nv // n_chunks
            _k.miller_loop_kernel(pp if c == 0 else pp[:0], coeffs, pv[2 * lo:2 * hi], qv[4 * lo:4 * hi], parts[c])

    run_in_parts(chunk, n_chunks, n_chunks)
    f = parts[0]
    for c in range(1, n_chunks):
        g = np.empty((12, 4), dtype=np.uint64)
        _k.f12_op_kernel(0, f, parts[c], g)
        f = g
    out[:] = f


def multi_miller_loop(g1_points: Sequence[G1Point], g2_points: Sequence[G2Point | PreparedG2]) -> Fq12:
    """prod_i of the optimal ate Miller loop values of ``(P_i, Q_i)``, in one shared loop.

    Args:
        g1_points: G1 points (affine int tuples or None), trusted to be on the curve.
        g2_points: as many G2 points, each an affine int tuple (trusted to be in G2), None, or a
            :class:`PreparedG2`. Pairs with an infinity factor contribute 1.

    Returns:
        The (unreduced) Miller loop product; apply :func:`final_exponentiation` before comparing.
        With at least :data:`PARALLEL_MIN_PAIRS` non-prepared pairs the loop is split over
        threads (same value).

    Raises:
        ValueError: the two sequences differ in length.
    """
    _require()
    return _miller(*_split_pairs(g1_points, g2_points))


def final_exponentiation(f: Fq12) -> Fq12:
    """f^((q^12 - 1)/r): exactly the reduced pairing value (equal to py_ecc's)."""
    _require()
    out = np.empty((12, 4), dtype=np.uint64)
    _k.final_exponentiation_kernel(f._rows, out)
    return Fq12(out)


def pairing(p: G1Point, q: G2Point | PreparedG2) -> Fq12:
    """The reduced optimal ate pairing e(P, Q), the value py_ecc's ``pairing(Q, P)`` gives.

    Preconditions: P on G1, Q in G2 (or prepared); either may be None (then the result is 1).
    """
    return final_exponentiation(multi_miller_loop([p], [q]))


def pairing_product_is_one_fast(pairs: Sequence[tuple[G1Point, G2Point | PreparedG2]]) -> bool:
    """True when prod e(P_i, Q_i) == 1; the fast twin of ``zkmargin.curve.pairing_product_is_one``.

    Same preconditions: every P_i on G1, every Q_i in G2 (the caller validates untrusted points).
    Pairs with an infinity factor contribute 1.
    """
    _require()
    pp, coeffs, pv, qv = _split_pairs([p for p, _ in pairs], [q for _, q in pairs])
    if pv.shape[0] // 2 >= PARALLEL_MIN_PAIRS:
        return is_one(final_exponentiation(_miller(pp, coeffs, pv, qv)))
    return bool(_k.pairing_check_kernel(pp, coeffs, pv, qv, _one_rows()))


# --- curve operations ------------------------------------------------------------------------------


def g2_in_subgroup_many_fast(points: Sequence[G2Point]) -> list[bool]:
    """For each point on the twist, whether it lies in G2 (None, infinity, counts as in G2).

    The endomorphism test ``[x+1]P + psi([x]P) + psi^2([x]P) == psi^3([2x]P)`` of Dai, Lin, Zhao
    and Zhou (ePrint 2022/348), the same exact criterion as :func:`zkmargin.curve.g2_in_subgroup`
    (whose docstring proves it exact on the whole twist): one 63-bit scalar multiplication per
    point, the points spread over threads.

    Precondition: every point is on the twist (off it the answer means nothing).
    """
    _require()
    finite = [p for p in points if p is not None]
    result = [True] * len(points)
    if not finite:
        return result
    out = np.zeros(len(finite), dtype=np.uint8)
    rows = _g2_rows(finite)
    run_in_parts(lambda lo, hi: _k.g2_in_subgroup_kernel(rows[4 * lo:4 * hi], out[lo:hi]), len(finite),
                 _threads() if _parallel(len(finite)) else 1)
    it = iter(out)
    return [True if p is None else bool(next(it)) for p in points]


def g2_in_subgroup_fast(p: G2Point) -> bool:
    """Whether a point on the twist lies in G2; see :func:`g2_in_subgroup_many_fast`."""
    return g2_in_subgroup_many_fast([p])[0]


def g1_lincomb_fast(points: Sequence[G1Point], scalars: Sequence[int]) -> G1Point:
    """sum_i k_i * P_i on G1 (scalars reduced mod r; None points skipped), Straus with 4-bit windows.

    Precondition: every point on the curve.
    """
    _require()
    pts = []
    ks = []
    for p, k in zip(points, scalars, strict=True):
        if p is not None and k % R:
            pts.append(p)
            ks.append(k)
    if not pts:
        return None
    out = np.empty((2, 4), dtype=np.uint64)
    _k.g1_lincomb_kernel(_g1_rows(pts), _scalar_rows(ks), out)
    return _g1_from_rows(out)


def g1_mul_many_fast(points: Sequence[G1Point], scalars: Sequence[int]) -> list[G1Point]:
    """``[k_i * P_i]`` (scalars reduced mod r), spread over threads, one shared inversion per thread.

    Precondition: every point on the curve.
    """
    _require()
    if len(points) != len(scalars):
        raise ValueError(f"{len(points)} points but {len(scalars)} scalars")
    idx = [i for i, p in enumerate(points) if p is not None]
    result: list[G1Point] = [None] * len(points)
    if not idx:
        return result
    out = np.empty((2 * len(idx), 4), dtype=np.uint64)
    pts = _g1_rows([points[i] for i in idx])  # type: ignore[misc]
    ks = _scalar_rows([scalars[i] for i in idx])
    run_in_parts(lambda lo, hi: _k.g1_mul_many_kernel(pts[2 * lo:2 * hi], ks[lo:hi], out[2 * lo:2 * hi]), len(idx),
                 _threads() if _parallel(len(idx)) else 1)
    for j, i in enumerate(idx):
        result[i] = _g1_from_rows(out, j)
    return result


# --- Groth16 ---------------------------------------------------------------------------------------


class FastVerifyingKey:
    """A :class:`PreparedVerifyingKey` plus what the fast pairing check precomputes.

    Attributes:
        pvk: the validated key it was built from.
        neg_beta, neg_gamma, neg_delta: :class:`PreparedG2` of ``-beta``, ``-gamma``, ``-delta``.
        alpha_beta: ``e(alpha, beta)`` in GT, the right side of the single-proof check.
    """

    __slots__ = ("pvk", "neg_beta", "neg_gamma", "neg_delta", "alpha_beta", "_ic_rows", "_gd_coeffs")

    def __init__(self, pvk: PreparedVerifyingKey) -> None:
        """Precompute from an already validated key (see :func:`prepare_fast`)."""
        _require()
        self.pvk = pvk
        self.neg_beta = PreparedG2(pvk.neg_beta_g2)
        self.neg_gamma = PreparedG2(pvk.neg_gamma_g2)
        self.neg_delta = PreparedG2(pvk.neg_delta_g2)
        # e(alpha, beta) = e(alpha, -beta)^-1 = conj(e(alpha, -beta)) (GT elements are unitary).
        self.alpha_beta = pairing(pvk.alpha_g1, self.neg_beta).conjugate()
        self._ic_rows = _g1_rows(pvk.gamma_abc_g1)  # type: ignore[arg-type]
        self._gd_coeffs = np.concatenate([self.neg_gamma._coeffs, self.neg_delta._coeffs])
        logger.debug("fast verifying key prepared (n_public=%d)", pvk.n_public)

    @property
    def n_public(self) -> int:
        return self.pvk.n_public

    def __repr__(self) -> str:
        return f"FastVerifyingKey(n_public={self.n_public})"


_FAST_KEYS: OrderedDict[int, tuple[PreparedVerifyingKey, FastVerifyingKey]] = OrderedDict()
_FAST_KEYS_MAX = 32
_FAST_KEYS_LOCK = threading.Lock()


def prepare_fast(vk: VerifyingKey | PreparedVerifyingKey | FastVerifyingKey) -> FastVerifyingKey:
    """A :class:`FastVerifyingKey` for ``vk``, validating it first when it is not prepared.

    For a :class:`PreparedVerifyingKey` the result is cached (by identity, the key kept alive by
    the cache, at most 32 keys, thread-safe), so passing the same prepared key to
    :func:`verify_fast` again costs nothing. A plain :class:`VerifyingKey` is validated by
    :func:`~zkmargin.verifier.prepare_verifying_key` (py_ecc subgroup checks, tens of ms) and not
    cached. Building a FastVerifyingKey costs about 2 ms (three prepared G2 points, one pairing).

    Raises:
        MalformedInputError: (or a subclass) for a malformed key, as ``prepare_verifying_key``.
    """
    if isinstance(vk, FastVerifyingKey):
        return vk
    if not isinstance(vk, PreparedVerifyingKey):
        return FastVerifyingKey(_gv.prepare_verifying_key(vk))
    with _FAST_KEYS_LOCK:
        hit = _FAST_KEYS.get(id(vk))
        if hit is not None and hit[0] is vk:
            _FAST_KEYS.move_to_end(id(vk))
            return hit[1]
    fvk = FastVerifyingKey(vk)
    with _FAST_KEYS_LOCK:
        _FAST_KEYS[id(vk)] = (vk, fvk)
        while len(_FAST_KEYS) > _FAST_KEYS_MAX:
            _FAST_KEYS.popitem(last=False)
    return fvk


def validate_proof_fast(proof: Proof) -> tuple[_G1Affine, _G2Affine, _G1Affine]:
    """:func:`~zkmargin.verifier.groth16_verify.validate_proof` with the subgroup check in numba.

    Same checks, same order, same errors and messages; returns ``(a, b, c)`` as int tuples.
    """
    if not isinstance(proof, Proof):
        raise MalformedInputError(
            f"proof must be a zkmargin.groth16.Proof, got {type(proof).__name__} {_gv._short(proof)}"
        )
    a = _gv._check_g1(proof.a, "proof.a")
    b = _gv._check_g2_on_twist(proof.b, "proof.b")
    c = _gv._check_g1(proof.c, "proof.c")
    if not g2_in_subgroup_fast(b):
        raise PointNotInSubgroupError(
            f"proof.b = {b} is on the twist but not in the order-r subgroup G2 (r * proof.b != infinity)"
        )
    return a, b, c


def verify_fast(
    vk: VerifyingKey | PreparedVerifyingKey | FastVerifyingKey, public_inputs: Sequence[int], proof: Proof
) -> bool:
    """Verify a Groth16 proof; the fast twin of :func:`zkmargin.verifier.verify` (same answers).

    Args:
        vk: a verifying key; prefer a :class:`PreparedVerifyingKey` (cached here) or a
            :class:`FastVerifyingKey` from :func:`prepare_fast`. A plain key is validated on every
            call, with py_ecc, as ``verify`` does.
        public_inputs: ints in [0, r), as many as the key expects.
        proof: the proof.

    Returns:
        True when ``e(A, B) * e(vk_x, -gamma) * e(C, -delta) == e(alpha, beta)``.

    Raises:
        MalformedInputError: (or a subclass) exactly as :func:`zkmargin.verifier.verify`, all
            before any pairing.
    """
    _require()
    fvk = prepare_fast(vk)
    xs = _gv.validate_public_inputs(public_inputs, fvk.n_public)
    a, b, c = validate_proof_fast(proof)
    return groth16_check_fast(fvk, xs, a, b, c)


def groth16_check_fast(
    fvk: FastVerifyingKey, public_inputs: Sequence[int], a: _G1Affine, b: _G2Affine, c: _G1Affine
) -> bool:
    """The pairing check of :func:`verify_fast` on values that are already validated.

    ``e(A, B) * e(vk_x, -gamma) * e(C, -delta) == e(alpha, beta)`` with ``vk_x`` computed here.
    This is the hook for :func:`zkmargin.verifier.verify`: after its own validation (public inputs
    reduced and counted, A and C on G1, B on the twist and in G2, none at infinity) it can call
    this instead of the py_ecc pairing. Passing unvalidated values gives meaningless answers.
    """
    _require()
    vk_x_rows = np.empty((2, 4), dtype=np.uint64)
    _k.g1_lincomb_kernel(fvk._ic_rows, _scalar_rows((1, *public_inputs)), vk_x_rows)
    c_rows = _g1_rows([c])
    if _g1_from_rows(vk_x_rows) is None:  # vk_x at infinity: its pair contributes 1
        pp, coeffs = c_rows, fvk.neg_delta._coeffs
    else:
        pp, coeffs = np.concatenate([vk_x_rows, c_rows]), fvk._gd_coeffs
    return bool(_k.pairing_check_kernel(pp, coeffs, _g1_rows([a]), _g2_rows([b]), fvk.alpha_beta._rows))


_Item = tuple[tuple[int, ...], G1Point, G2Point, G1Point]


def groth16_batch_check_fast(fvk: FastVerifyingKey, items: Sequence[_Item], rhos: Sequence[int]) -> bool:
    """The random-linear-combination check of many validated proofs under one key.

    Checks ``prod_i e(rho_i A_i, B_i) * e((sum rho_i) alpha, -beta) * e(sum rho_i vk_x_i, -gamma)
    * e(sum rho_i C_i, -delta) == 1`` with ``sum rho_i vk_x_i`` computed as one combination of the
    key's ``gamma_abc_g1`` (scalars ``sum_i rho_i x_ij``): k + 3 Miller loops in one shared loop
    (split over threads for large k), one final exponentiation. With a single item and rho = 1 it
    is the exact Groth16 equation. Soundness needs the rhos secret, random and drawn after the
    proofs are fixed (see ``zkmargin.verifier.batch``).

    Args:
        fvk: from :func:`prepare_fast`.
        items: ``(public_inputs, A, B, C)`` per proof, every value already validated
            (:func:`~zkmargin.verifier.groth16_verify.validate_public_inputs`,
            :func:`validate_proof_fast`).
        rhos: one non-zero scalar per item.

    Returns:
        True when the combined equation holds.
    """
    _require()
    if len(items) != len(rhos):
        raise ValueError(f"{len(items)} items but {len(rhos)} scalars")
    if not items:
        return True
    pvk = fvk.pvk
    n_ic = len(pvk.gamma_abc_g1)
    ic_scalars = [0] * n_ic
    rho_sum = 0
    for (xs, _a, _b, _c), rho in zip(items, rhos, strict=True):
        rho_sum += rho
        ic_scalars[0] += rho
        for j, x in enumerate(xs):
            ic_scalars[j + 1] += rho * x
    ra = g1_mul_many_fast([a for _, a, _, _ in items], list(rhos))
    sum_c = g1_lincomb_fast([c for _, _, _, c in items], list(rhos))
    vk_x = g1_lincomb_fast(list(pvk.gamma_abc_g1), ic_scalars)
    alpha = g1_lincomb_fast([pvk.alpha_g1], [rho_sum])
    g1s: list[G1Point] = [*ra, alpha, vk_x, sum_c]
    g2s: list[G2Point | PreparedG2] = [b for _, _, b, _ in items] + [fvk.neg_beta, fvk.neg_gamma, fvk.neg_delta]
    return is_one(final_exponentiation(multi_miller_loop(g1s, g2s)))
