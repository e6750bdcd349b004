"""BN254 field constants and small helpers on Python ints.

Provenance: the BN254 ("alt_bn128", snarkjs "bn128") parameters are those of EIP-196/EIP-197 and of
py_ecc's ``optimized_bn128`` module (``curve_order`` and ``field_modulus``); a test checks that
they agree with py_ecc.
"""

from __future__ import annotations

__all__ = [
    "R",
    "Q",
    "R_BITS",
    "MAX_RANGE_BITS",
    "fr",
    "fr_inv",
    "to_signed",
    "from_signed",
]

#: Order of the BN254 G1/G2 groups: the scalar field Fr in which circuits compute.
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
#: The BN254 base field modulus Fq.
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
#: Bit length of R (254).
R_BITS = R.bit_length()
#: The widest range any comparison gadget may state: 2**252 < R/4, so sums of two values in range
#: and their differences never wrap.
MAX_RANGE_BITS = 252


def fr(x: int) -> int:
    """Reduce an integer (possibly negative) into [0, R)."""
    return x % R


def fr_inv(x: int) -> int:
    """Inverse in Fr; raises ZeroDivisionError for 0."""
    x %= R
    if x == 0:
        raise ZeroDivisionError("0 has no inverse in Fr")
    return pow(x, R - 2, R)


def to_signed(x: int) -> int:
    """Read a field element as a signed integer in (-R/2, R/2]."""
    x %= R
    return x - R if x > R // 2 else x


def from_signed(x: int) -> int:
    """Encode a signed integer as a field element (x mod R)."""
    return x % R
