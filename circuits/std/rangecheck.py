"""Range checks: ``assert_bits`` (0 <= x < 2**bits) and ``assert_in_range`` (lo <= x <= hi).

Every secret that enters arithmetic must go through one of these (or a checked comparison)
before it is used: an unchecked "negative" value is a huge field element that fakes solvency.
"""

from __future__ import annotations

from zkmargin.errors import CircuitError
from zkmargin.field import R

from ..api import API, VarLike
from ._common import as_var, check_bits
from .bits import _decompose

__all__ = ["assert_bits", "assert_in_range"]


def assert_bits(api: API, x: VarLike, bits: int) -> None:
    """Constrain ``0 <= x < 2**bits`` (x read as an integer in [0, r)).

    Args:
        bits: 1 <= bits <= MAX_RANGE_BITS (252).
    Cost: bits + 1 constraints (a constrained bit decomposition); 0 for a constant x.
    Soundness: unique decomposition for bits <= 252, so wrapped values (r - 1, ...) fail.
    Raises:
        CircuitError: bad ``bits``, or a constant x out of range.
    """
    check_bits("assert_bits", bits)
    with api.scope("assert_bits"):
        _decompose(api, x, bits, "assert_bits")


def assert_in_range(api: API, x: VarLike, lo: int, hi: int, bits: int) -> None:
    """Constrain ``lo <= x <= hi`` for constants ``lo``, ``hi``.

    Checks ``x - lo`` and ``hi - x`` in [0, 2**bits).

    Args:
        lo, hi: Python ints with 0 <= lo <= hi < r and hi - lo < 2**bits.
        bits: 1 <= bits <= MAX_RANGE_BITS (252); the smallest width with hi - lo < 2**bits is
            the cheapest.
    Cost: 2 * (bits + 1) constraints; 0 for a constant x.
    Soundness: both differences are integers in [0, 2**bits) and their sum is hi - lo modulo r;
        since 2**(bits+1) < r the sum is exact, so x - lo is an integer in [0, hi - lo].
    Raises:
        CircuitError: bad ``bits``, lo/hi out of order or too far apart, or a constant x
            outside [lo, hi].
    """
    check_bits("assert_in_range", bits)
    for name, c in (("lo", lo), ("hi", hi)):
        if isinstance(c, bool) or not isinstance(c, int):
            raise CircuitError(f"assert_in_range: {name} must be an int, got {type(c).__name__}")
    if not 0 <= lo <= hi < R:
        raise CircuitError(f"assert_in_range: need 0 <= lo <= hi < r, got lo={lo}, hi={hi}")
    if hi - lo >= 1 << bits:
        raise CircuitError(f"assert_in_range: hi - lo = {hi - lo} does not fit in bits={bits}")
    v = as_var(api, x)
    with api.scope("assert_in_range"):
        if v.is_constant() and not lo <= v.constant_value() <= hi:
            raise CircuitError(f"assert_in_range: the constant {v.constant_value()} is not in [{lo}, {hi}]")
        with api.scope("above_lo"):
            _decompose(api, v - lo, bits, "assert_in_range")
        with api.scope("below_hi"):
            _decompose(api, hi - v, bits, "assert_in_range")
