"""BN254 curve wrapper: the one module that imports py_ecc.

Points cross module boundaries as plain Python ints in affine form, so that data types,
serializers and tests never depend on py_ecc's internal representation:

- G1: ``(x, y)`` with ``x, y`` in Fq, or ``None`` for the point at infinity;
- G2: ``((x0, x1), (y0, y1))`` meaning ``x = x0 + x1*u`` over Fq2 = Fq[u]/(u^2 + 1), or ``None``.

py_ecc's ``optimized_bn128`` (homogeneous projective coordinates) does the arithmetic. It is slow
(a G1 scalar multiplication costs milliseconds): this module is the reference implementation that
the numba kernels are tested against, and the verifier's base-install path. py_ecc is imported on
first use (about 0.1-0.3 s here): the curve-equation checks are plain integer arithmetic, so
verifying a proof with the pure-Python pairing (``zkmargin.verifier._pure``) never loads it.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Sequence
from typing import Any

from zkmargin.field import Q, R

__all__ = [
    "G1Point",
    "G2Point",
    "G1_GENERATOR",
    "G2_GENERATOR",
    "TWIST_B",
    "g1_add",
    "g1_neg",
    "g1_mul",
    "g1_lincomb",
    "g1_is_on_curve",
    "g2_add",
    "g2_neg",
    "g2_mul",
    "g2_lincomb",
    "g2_is_on_curve",
    "g2_in_subgroup",
    "g2_psi",
    "BN_X",
    "pairing_product_is_one",
]

G1Point = tuple[int, int] | None
G2Point = tuple[tuple[int, int], tuple[int, int]] | None

G1_GENERATOR: tuple[int, int] = (1, 2)
G2_GENERATOR: tuple[tuple[int, int], tuple[int, int]] = (
    (
        10857046999023057135944570762232829481370756359578518086990519993285655852781,
        11559732032986387107991004021392285783925812861821192530917403151452391805634,
    ),
    (
        8495653923123431417604973247489272438418190587263600148770280649306958101930,
        4082367875863433681332203403145435568316851327593401208105741076214120093531,
    ),
)
#: b' = 3 / (9 + u), the twist's coefficient, as (c0, c1).
TWIST_B: tuple[int, int] = (
    19485874751759354771024239261021720505790618469301721065564631296452457478373,
    266929791119991161246907387137283842545076965332900288569378510910307636690,
)


class _LazyModule:
    """A py_ecc module imported on its first attribute access (then found in ``sys.modules``)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


_c: Any = _LazyModule("py_ecc.optimized_bn128.optimized_curve")
_p: Any = _LazyModule("py_ecc.optimized_bn128.optimized_pairing")


# --- conversions to and from py_ecc ----------------------------------------------------------

def _g1_to_py(p: G1Point) -> Any:
    if p is None:
        return _c.Z1
    return (_c.FQ(p[0]), _c.FQ(p[1]), _c.FQ.one())


def _g1_from_py(p: Any) -> G1Point:
    if _c.is_inf(p):
        return None
    x, y = _c.normalize(p)
    return (int(x), int(y))


def _g2_to_py(p: G2Point) -> Any:
    if p is None:
        return _c.Z2
    (x0, x1), (y0, y1) = p
    return (_c.FQ2([x0, x1]), _c.FQ2([y0, y1]), _c.FQ2.one())


def _g2_from_py(p: Any) -> G2Point:
    if _c.is_inf(p):
        return None
    x, y = _c.normalize(p)
    xc = x.coeffs
    yc = y.coeffs
    return ((int(xc[0]), int(xc[1])), (int(yc[0]), int(yc[1])))


# --- G1 --------------------------------------------------------------------------------------

def g1_is_on_curve(p: G1Point) -> bool:
    """True for infinity or for coordinates in [0, q) satisfying y^2 = x^3 + 3."""
    if p is None:
        return True
    x, y = p
    if not (0 <= x < Q and 0 <= y < Q):
        return False
    return (y * y - x * x * x - 3) % Q == 0


def g1_add(p: G1Point, q: G1Point) -> G1Point:
    return _g1_from_py(_c.add(_g1_to_py(p), _g1_to_py(q)))


def g1_neg(p: G1Point) -> G1Point:
    if p is None:
        return None
    return (p[0], (-p[1]) % Q)


def g1_mul(p: G1Point, k: int) -> G1Point:
    """Scalar multiplication; ``k`` is reduced mod r (G1 has prime order r)."""
    k %= R
    if p is None or k == 0:
        return None
    return _g1_from_py(_c.multiply(_g1_to_py(p), k))


def g1_lincomb(points: Sequence[G1Point], scalars: Iterable[int]) -> G1Point:
    """Sum of k_i * P_i, naively (skips zero scalars; scalar one costs one addition)."""
    acc = _c.Z1
    for p, k in zip(points, scalars, strict=True):
        k %= R
        if k == 0 or p is None:
            continue
        pp = _g1_to_py(p)
        acc = _c.add(acc, pp if k == 1 else _c.multiply(pp, k))
    return _g1_from_py(acc)


# --- G2 --------------------------------------------------------------------------------------

def g2_is_on_curve(p: G2Point) -> bool:
    """True for infinity or for coordinates in [0, q) satisfying y^2 = x^3 + 3/(9+u)."""
    if p is None:
        return True
    (x0, x1), (y0, y1) = p
    if not all(0 <= v < Q for v in (x0, x1, y0, y1)):
        return False
    # in Fq2 = Fq[u]/(u^2 + 1): (a0 + a1 u)(b0 + b1 u) = (a0 b0 - a1 b1) + (a0 b1 + a1 b0) u
    x2 = (x0 * x0 - x1 * x1, 2 * x0 * x1)
    x3 = (x2[0] * x0 - x2[1] * x1, x2[0] * x1 + x2[1] * x0)
    y2 = (y0 * y0 - y1 * y1, 2 * y0 * y1)
    return (y2[0] - x3[0] - TWIST_B[0]) % Q == 0 and (y2[1] - x3[1] - TWIST_B[1]) % Q == 0


#: The BN254 curve parameter (the "seed"): q = 36x^4 + 36x^3 + 24x^2 + 6x + 1,
#: r = 36x^4 + 36x^3 + 18x^2 + 6x + 1, trace of Frobenius t = 6x^2 + 1 (a test checks these).
BN_X = 4965661367192848881

# psi(x, y) = (conj(x) * xi^((q-1)/3), conj(y) * xi^((q-1)/2)) with xi = 9 + u, the non-residue
# defining the sextic twist: untwist, apply the q-power Frobenius (conjugation on Fq2), twist back
# (Galbraith and Scott, "Exponentiation in pairing-friendly groups using homomorphisms", 2008).
# The constants are computed from that definition rather than copied.
@functools.cache
def _psi_constants() -> tuple[Any, Any]:
    xi = _c.FQ2([9, 1])
    return xi ** ((Q - 1) // 3), xi ** ((Q - 1) // 2)


def _conj(a: Any) -> Any:
    c0, c1 = a.coeffs
    return _c.FQ2([c0, -c1])


def _psi_py(p: Any) -> Any:
    # Homogeneous projective (X : Y : Z) with x = X/Z, y = Y/Z: conjugation commutes with the
    # division, so Z is conjugated and X, Y are also scaled by the constants.
    x, y, z = p
    cx, cy = _psi_constants()
    return (_conj(x) * cx, _conj(y) * cy, _conj(z))


def _g2_in_subgroup_by_order(p: G2Point) -> bool:
    """True when ``r * P`` is the point at infinity: the definition of G2, kept as the test oracle.

    One 254-bit scalar multiplication (~25 ms with py_ecc); :func:`g2_in_subgroup` gives the same
    answer with a 63-bit one. Precondition: ``g2_is_on_curve(p)``.
    """
    if p is None:
        return True
    return bool(_c.is_inf(_c.multiply(_g2_to_py(p), R)))


def g2_in_subgroup(p: G2Point) -> bool:
    """True when P (on the twist) lies in the prime-order subgroup G2, i.e. ``r * P`` is infinity.

    The twist's group has order r * c with a large cofactor c, so a point on the twist is not
    automatically in G2; py_ecc never checks this.

    Computed with the endomorphism test of Dai, Lin, Zhao and Zhou (IACR ePrint 2022/348, BN
    curves; see also El Housni, Guillevic and Piellard, ePrint 2022/352), with ``x = BN_X``::

        [x+1]P + psi([x]P) + psi^2([x]P) == psi^3([2x]P)

    which costs one 63-bit scalar multiplication instead of a 254-bit one (about 4x faster).

    Why it is exact, for every point on the twist and not only for random ones: ``psi`` is the
    q-power Frobenius carried to the twist, so on all of E'(Fq2) it satisfies
    ``psi^2 - t*psi + q = 0`` with ``t = 6x^2 + 1``. The test says ``(a + b*psi)P = 0``, where
    ``a + b*X`` is ``(x+1) + x*X + x*X^2 - 2x*X^3`` reduced modulo ``X^2 - t*X + q``; multiplying by
    the conjugate ``a + b*(t - psi)`` gives ``N*P = 0`` with the integer ``N = a^2 + a*b*t + b^2*q``.
    So the order of P divides ``gcd(N, #E'(Fq2)) = gcd(N, r*(2q - r)) = r``: P is in G2.
    Conversely psi acts on G2 as multiplication by ``q = 6x^2 (mod r)``, which satisfies the
    test. tests/verifier/test_fuzz_hostile.py recomputes N, the gcd and the relation of psi, and
    compares this function with :func:`_g2_in_subgroup_by_order` on points in and outside G2.

    Precondition: ``g2_is_on_curve(p)`` (off the curve the answer means nothing).
    """
    if p is None:
        return True
    pp = _g2_to_py(p)
    xp = _c.multiply(pp, BN_X)
    lhs = _c.add(_c.add(_c.add(xp, pp), _psi_py(xp)), _psi_py(_psi_py(xp)))
    rhs = _psi_py(_psi_py(_psi_py(_c.double(xp))))
    return bool(_c.eq(lhs, rhs))


def g2_psi(p: G2Point) -> G2Point:
    """The untwist-Frobenius-twist endomorphism psi of the twist E'(Fq2).

    ``psi(x, y) = (conj(x) * (9+u)^((q-1)/3), conj(y) * (9+u)^((q-1)/2))``; it maps the twist to
    itself, satisfies ``psi^2 - t*psi + q = 0`` and acts on G2 as multiplication by ``q mod r``.
    Exposed for the tests of :func:`g2_in_subgroup`. Precondition: ``g2_is_on_curve(p)``.
    """
    if p is None:
        return None
    return _g2_from_py(_psi_py(_g2_to_py(p)))


def g2_add(p: G2Point, q: G2Point) -> G2Point:
    return _g2_from_py(_c.add(_g2_to_py(p), _g2_to_py(q)))


def g2_neg(p: G2Point) -> G2Point:
    if p is None:
        return None
    (x0, x1), (y0, y1) = p
    return ((x0, x1), ((-y0) % Q, (-y1) % Q))


def g2_mul(p: G2Point, k: int) -> G2Point:
    """Scalar multiplication; ``k`` is reduced mod r (precondition: P in G2)."""
    k %= R
    if p is None or k == 0:
        return None
    return _g2_from_py(_c.multiply(_g2_to_py(p), k))


def g2_lincomb(points: Sequence[G2Point], scalars: Iterable[int]) -> G2Point:
    acc = _c.Z2
    for p, k in zip(points, scalars, strict=True):
        k %= R
        if k == 0 or p is None:
            continue
        pp = _g2_to_py(p)
        acc = _c.add(acc, pp if k == 1 else _c.multiply(pp, k))
    return _g2_from_py(acc)


# --- pairing ---------------------------------------------------------------------------------

def pairing_product_is_one(pairs: Sequence[tuple[G1Point, G2Point]]) -> bool:
    """True when prod e(P_i, Q_i) == 1: one Miller loop per pair, one final exponentiation.

    Preconditions (the caller validates untrusted points first): every P_i on G1, every Q_i on
    the twist and in G2. Pairs with an infinity factor contribute 1.
    """
    f = _p.FQ12.one()
    for p, q in pairs:
        if p is None or q is None:
            continue
        f = f * _p.miller_loop(
            _p.twist(_g2_to_py(q)), _p.cast_point_to_fq12(_g1_to_py(p)), final_exponentiate=False
        )
    return bool(_p.final_exponentiate(f) == _p.FQ12.one())
