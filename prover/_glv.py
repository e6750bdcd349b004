"""The GLV endomorphism of BN254 G1 for the MSM: constants, scalar decomposition, pure-Python twin.

Private module (used by ``_msm``). On y^2 = x^3 + 3 over Fq, ``phi(x, y) = (BETA * x, y)`` with
BETA a primitive cube root of unity in Fq is an endomorphism; on the order-r group G1 it acts as
multiplication by LAMBDA, a primitive cube root of unity in Fr (Gallant-Lambert-Vanstone, CRYPTO
2001). A scalar k then splits as ``k = k1 + k2 * LAMBDA (mod r)`` with |k1|, |k2| < 2^127, so that
``k * P = k1 * P + k2 * phi(P)``: two half-length scalars (signs go to the points: -P is (x, -y)).

Where the constants come from (:func:`derive_constants` recomputes all of them and the tests check
the literals against it, and ``phi(P) == LAMBDA * P`` against py_ecc):

- BETA = g^((q-1)/3) mod q for the smallest g in 2, 3, ... giving a value != 1, squared (the two
  primitive cube roots are b and b^2; this one pairs with the 192-bit LAMBDA below).
- LAMBDA: of the two primitive cube roots of unity mod r (h^((r-1)/3) and its square), the one
  with LAMBDA * G == (BETA * Gx, Gy) for the generator G (checked with py_ecc). They are the
  values gnark-crypto and arkworks use for BN254 (independently derived here).
- The short basis (A1, B1), (A2, B2) of the lattice {(a, b): a + b * LAMBDA = 0 mod r}: the
  extended Euclidean algorithm on (r, LAMBDA), stopped at the first remainder below sqrt(r)
  (GLV 2001, section 4; Guide to ECC, algorithm 3.74). A1 + B1*LAMBDA = A2 + B2*LAMBDA = 0 mod r,
  and A1*B2 - A2*B1 = r exactly.
- Babai rounding: c1 = round(k * B2 / r), c2 = round(-k * B1 / r), k1 = k - c1*A1 - c2*A2,
  k2 = -c1*B1 - c2*B2. The kernels replace the division by r with a multiplication by
  G1 = round(2^256 * B2 / r), G2 = round(2^256 * -B1 / r) and a shift: c_i = (k * G_i + 2^255) >> 256.
  For k < r < 2^254 the approximation error of k * G_i / 2^256 is below 1/8, so each c_i is the
  nearest or the second-nearest integer and (k1, k2) = f1 * (A1, B1) + f2 * (A2, B2) with
  |f_i| <= 5/8: |k1| <= 5/8 (A1 + A2) < 2^126.2, |k2| <= 5/8 (|B1| + B2) < 2^126.2.

:func:`split` is the exact twin of the kernel's arithmetic (same approximate quotients), and
:func:`glv_digits_reference` the twin of ``_msm.glv_digits``.
"""

from __future__ import annotations

from math import isqrt

import numpy as np

from zkmargin.field import Q, R

__all__ = [
    "BETA",
    "LAMBDA",
    "A1",
    "B1",
    "A2",
    "B2",
    "G1_ROUND",
    "G2_ROUND",
    "HALF_BITS",
    "KERNEL_CONSTS",
    "derive_constants",
    "split",
    "glv_digits_reference",
    "glv_windows",
]

BETA = 0x59E26BCEA0D48BACD4F263F1ACDB5C4F5763473177FFFFFE
LAMBDA = 0xB3C4D79D41A917585BFC41088D8DAAA78B17EA66B99C90DD
A1 = 0x89D3256894D213E3
B1 = -0x6F4D8248EEB859FC8211BBEB7D4F1128
A2 = 0x6F4D8248EEB859FD0BE4E1541221250B
B2 = 0x89D3256894D213E3
G1_ROUND = ((B2 << 257) + R) // (2 * R)  # round(2^256 * B2 / r)
G2_ROUND = ((-B1 << 257) + R) // (2 * R)  # round(2^256 * -B1 / r)

#: |k1|, |k2| < 2^HALF_BITS (the module docstring's bound, 2^126.2, rounded up; tests check it).
HALF_BITS = 127

_M64 = (1 << 64) - 1


def _limbs(v: int, n: int) -> list[int]:
    return [(v >> (64 * i)) & _M64 for i in range(n)]


#: The kernel's constants as one uint64 array (passed as an argument, so a cached kernel never
#: holds stale frozen globals): G1_ROUND (2 limbs), G2_ROUND (3 limbs), A1 (1), A2 (2), -B1 (2), B2 (1).
KERNEL_CONSTS = np.array(
    _limbs(G1_ROUND, 2) + _limbs(G2_ROUND, 3) + _limbs(A1, 1) + _limbs(A2, 2) + _limbs(-B1, 2) + _limbs(B2, 1),
    dtype=np.uint64,
)


def lattice_basis(lam: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Two short vectors (a, b) with a + b * lam = 0 mod r (Gallant-Lambert-Vanstone): extended
    Euclid on (r, lam), remainders r_i = s_i * r + t_i * lam so r_i - t_i * lam = 0 mod r, stopped
    below sqrt(r). Shared by the prover's G1 split and the ceremony's G1/G2 splits."""
    bound = isqrt(R)
    r0, r1, t0, t1 = R, lam % R, 0, 1
    while r1 >= bound:
        qq = r0 // r1
        r0, r1 = r1, r0 - qq * r1
        t0, t1 = t1, t0 - qq * t1
    qq = r0 // r1
    r2, t2 = r0 - qq * r1, t0 - qq * t1
    v1 = (r1, -t1)
    v2 = (r0, -t0) if r0 * r0 + t0 * t0 <= r2 * r2 + t2 * t2 else (r2, -t2)
    return v1, v2


def derive_constants() -> dict[str, int]:
    """Recompute BETA, LAMBDA and the lattice basis from q, r and the generator (py_ecc)."""
    from zkmargin import curve

    b0 = next(b for b in (pow(g, (Q - 1) // 3, Q) for g in range(2, 50)) if b != 1)
    beta = b0 * b0 % Q
    h0 = next(x for x in (pow(g, (R - 1) // 3, R) for g in range(2, 50)) if x != 1)
    gx, gy = curve.G1_GENERATOR
    lams = [lam for lam in (h0, h0 * h0 % R) if curve.g1_mul(curve.G1_GENERATOR, lam) == (beta * gx % Q, gy)]
    if len(lams) != 1:
        raise AssertionError("no unique eigenvalue of phi on G1")
    lam = lams[0]
    v1, v2 = lattice_basis(lam)
    if v1[0] * v2[1] - v2[0] * v1[1] < 0:
        v2 = (-v2[0], -v2[1])
    return {"BETA": beta, "LAMBDA": lam, "A1": v1[0], "B1": v1[1], "A2": v2[0], "B2": v2[1]}


def split(k: int) -> tuple[int, int]:
    """(k1, k2) with k1 + k2 * LAMBDA = k (mod r), |k1|, |k2| < 2^127, for 0 <= k < r.

    The same approximate Babai rounding as the kernel (c_i = (k * G_i + 2^255) >> 256).
    """
    if not 0 <= k < R:
        raise ValueError("split: k must lie in [0, r)")
    c1 = (k * G1_ROUND + (1 << 255)) >> 256
    c2 = (k * G2_ROUND + (1 << 255)) >> 256
    return k - c1 * A1 - c2 * A2, -c1 * B1 - c2 * B2


def glv_windows(c: int) -> int:
    """Signed c-bit windows for a magnitude below 2^127 (one more bit for the last carry)."""
    return -(-(HALF_BITS + 1) // c)


def _signed_digits(v: int, c: int, n: int) -> list[int]:
    out = []
    half, full = 1 << (c - 1), 1 << c
    for _ in range(n):
        d = v & (full - 1)
        v >>= c
        if d > half:
            d -= full
            v += 1
        out.append(d)
    if v:
        raise AssertionError("signed digits: carry out of the last window")
    return out


def glv_digits_reference(scalars: list[int], c: int) -> list[list[int]]:
    """Twin of ``_msm.glv_digits``: rows = windows; columns 2j, 2j+1 the signed digits of k1 and
    k2 of scalars[j] (a negative half has its digits negated)."""
    nw = glv_windows(c)
    rows = [[0] * (2 * len(scalars)) for _ in range(nw)]
    for j, k in enumerate(scalars):
        for h, part in enumerate(split(k)):
            ds = _signed_digits(abs(part), c, nw)
            sign = -1 if part < 0 else 1
            for w in range(nw):
                rows[w][2 * j + h] = sign * ds[w]
    return rows
