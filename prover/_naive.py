"""Pure-Python twins of the numba kernels, on plain ints: the test oracles.

Every function here is written for clarity, not speed, and shares no code with the kernels
(``_field``, ``_ntt``, ``_msm``): field elements are ints in ``[0, p)`` in normal form, Fq2
elements are ``(c0, c1)`` int pairs, points are the affine int tuples of ``zkmargin.curve``
(``None`` for infinity), so results compare directly with both the kernels (after conversion) and
with py_ecc.
"""

from __future__ import annotations

from collections.abc import Sequence

from zkmargin.field import Q, R

__all__ = [
    "TWO_ADICITY",
    "GENERATOR",
    "root_of_unity",
    "batch_inverse",
    "fq2_mul",
    "fq2_inv",
    "dft",
    "idft",
    "coset_dft",
    "odd_coset_values",
    "g1_add",
    "g1_mul",
    "g1_msm",
    "g2_add",
    "g2_mul",
    "g2_msm",
    "xyzz_to_affine_g1",
    "xyzz_to_affine_g2",
]

#: r - 1 = 2^28 * t with t odd.
TWO_ADICITY = 28
#: The smallest quadratic non-residue of Fr, which is also a generator of Fr* (ffjavascript's ``nqr``).
GENERATOR = 5


# --- fields ----------------------------------------------------------------------------------

def root_of_unity(n: int) -> int:
    """The primitive n-th root of unity 5^((r-1)/n) mod r, for n a power of two <= 2^28."""
    if n < 1 or n & (n - 1) or n > 1 << TWO_ADICITY:
        raise ValueError(f"bad domain size {n}")
    return pow(GENERATOR, (R - 1) // n, R)


def batch_inverse(values: Sequence[int], p: int = R) -> list[int]:
    """Element-wise inverses mod p, with 0 mapped to 0 (one pow per element)."""
    return [pow(v, p - 2, p) if v % p else 0 for v in values]


def fq2_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """(a0 + a1 u)(b0 + b1 u) with u^2 = -1."""
    return ((a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q)


def fq2_inv(a: tuple[int, int]) -> tuple[int, int]:
    """Inverse in Fq2; (0, 0) maps to (0, 0)."""
    d = (a[0] * a[0] + a[1] * a[1]) % Q
    di = pow(d, Q - 2, Q)
    return (a[0] * di % Q, -a[1] * di % Q)


# --- polynomial evaluation (O(n^2)) ----------------------------------------------------------

def dft(values: Sequence[int], root: int | None = None) -> list[int]:
    """out[k] = sum_j values[j] * root^(j*k) mod r; root defaults to the n-th root of unity."""
    n = len(values)
    w = root_of_unity(n) if root is None else root
    out = []
    for k in range(n):
        wk = pow(w, k, R)
        acc = 0
        x = 1
        for v in values:
            acc += v * x
            x = x * wk % R
        out.append(acc % R)
    return out


def idft(values: Sequence[int]) -> list[int]:
    """Inverse of :func:`dft`: coefficients of the polynomial with these domain evaluations."""
    n = len(values)
    ninv = pow(n, R - 2, R)
    return [v * ninv % R for v in dft(values, pow(root_of_unity(n), R - 2, R))]


def coset_dft(coeffs: Sequence[int], shift: int) -> list[int]:
    """Evaluations of the polynomial with these coefficients at shift * w_n^k."""
    return dft([c * pow(shift, i, R) % R for i, c in enumerate(coeffs)])


def odd_coset_values(evals: Sequence[int]) -> list[int]:
    """Given P(w_n^i) for deg P < n, return P(w_2n^(2i+1)) by direct evaluation (Horner)."""
    n = len(evals)
    coeffs = idft(evals)
    w2 = root_of_unity(2 * n)
    out = []
    for i in range(n):
        x = pow(w2, 2 * i + 1, R)
        acc = 0
        for c in reversed(coeffs):
            acc = (acc * x + c) % R
        out.append(acc)
    return out


# --- curves, affine, on ints -----------------------------------------------------------------
# A tiny "field" abstraction so one set of formulas serves Fq (ints) and Fq2 (int pairs).

class _Fq:
    zero = 0

    @staticmethod
    def add(a: int, b: int) -> int:
        return (a + b) % Q

    @staticmethod
    def sub(a: int, b: int) -> int:
        return (a - b) % Q

    @staticmethod
    def mul(a: int, b: int) -> int:
        return a * b % Q

    @staticmethod
    def inv(a: int) -> int:
        return pow(a, Q - 2, Q)

    @staticmethod
    def small(k: int) -> int:
        return k % Q


class _Fq2:
    zero = (0, 0)

    @staticmethod
    def add(a, b):
        return ((a[0] + b[0]) % Q, (a[1] + b[1]) % Q)

    @staticmethod
    def sub(a, b):
        return ((a[0] - b[0]) % Q, (a[1] - b[1]) % Q)

    mul = staticmethod(fq2_mul)
    inv = staticmethod(fq2_inv)

    @staticmethod
    def small(k: int):
        return (k % Q, 0)


def _add(F, p, q):
    """Affine chord-and-tangent addition on y^2 = x^3 + b (a = 0), infinity = None."""
    if p is None:
        return q
    if q is None:
        return p
    (x1, y1), (x2, y2) = p, q
    if x1 == x2:
        if F.add(y1, y2) == F.zero:
            return None  # P + (-P), including the 2-torsion case y = 0 (absent on BN254)
        lam = F.mul(F.mul(F.small(3), F.mul(x1, x1)), F.inv(F.add(y1, y1)))
    else:
        lam = F.mul(F.sub(y2, y1), F.inv(F.sub(x2, x1)))
    x3 = F.sub(F.sub(F.mul(lam, lam), x1), x2)
    y3 = F.sub(F.mul(lam, F.sub(x1, x3)), y1)
    return (x3, y3)


def _mul(F, p, k: int):
    """k * P by double-and-add on the bits of k mod r."""
    k %= R
    acc = None
    for bit in bin(k)[2:]:
        acc = _add(F, acc, acc)
        if bit == "1":
            acc = _add(F, acc, p)
    return acc


def g1_add(p, q):
    """P + Q in G1 (affine int tuples, None = infinity)."""
    return _add(_Fq, p, q)


def g1_mul(p, k: int):
    """k * P in G1."""
    return _mul(_Fq, p, k)


def g1_msm(points: Sequence, scalars: Sequence[int]):
    """sum k_i * P_i in G1, one double-and-add per term."""
    acc = None
    for p, k in zip(points, scalars, strict=True):
        acc = g1_add(acc, g1_mul(p, k))
    return acc


def g2_add(p, q):
    """P + Q on the twist (coordinates are (c0, c1) int pairs)."""
    return _add(_Fq2, p, q)


def g2_mul(p, k: int):
    return _mul(_Fq2, p, k)


def g2_msm(points: Sequence, scalars: Sequence[int]):
    acc = None
    for p, k in zip(points, scalars, strict=True):
        acc = g2_add(acc, g2_mul(p, k))
    return acc


def xyzz_to_affine_g1(points: Sequence[tuple[int, int, int, int]]) -> list:
    """XYZZ (X, Y, ZZ, ZZZ) -> affine (X/ZZ, Y/ZZZ); ZZ = 0 -> None."""
    return [_xyzz_to_affine(_Fq, p) for p in points]


def xyzz_to_affine_g2(points: Sequence[tuple]) -> list:
    """Same on the twist, coordinates as (c0, c1) int pairs."""
    return [_xyzz_to_affine(_Fq2, p) for p in points]


def _xyzz_to_affine(F, p):
    X, Y, ZZ, ZZZ = p
    if ZZ == F.zero:
        return None
    return (F.mul(X, F.inv(ZZ)), F.mul(Y, F.inv(ZZZ)))
