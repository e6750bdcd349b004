"""Comparisons of unsigned values with an explicit width: ``is_*`` and ``assert_*``.

Every function takes ``bits=`` (1 <= bits <= MAX_RANGE_BITS = 252) and, unless its name ends in
``_unchecked``, range-checks BOTH inputs to [0, 2**bits) first. The ``_unchecked`` variants
assume that precondition (the caller has range-checked ``a`` and ``b`` to ``bits`` already, for
example with ``rangecheck.assert_bits``); without it they are unsound: a wrapped-around
``a = r - 1`` ("-1") is "less than" 0.

Method (``is_less``): with a, b in [0, 2**bits), d = a - b + 2**bits lies in [1, 2**(bits+1));
decompose d into bits + 1 bits (unique since 2**253 < r); its top bit is 1 exactly when a >= b.
``assert_less_eq``: b - a in [0, 2**bits); a negative difference wraps to a field element
>= r - 2**bits > 2**bits and has no decomposition.

Costs (c = bits): is_* unchecked c + 2, checked 3c + 4; assert_* unchecked c + 1, checked
3c + 3. Inputs that are constants are range-checked in Python for free.
"""

from __future__ import annotations

from ..api import API, Var, VarLike
from ._common import as_var, check_bits
from .bits import _decompose

__all__ = [
    "is_less",
    "is_less_eq",
    "is_greater",
    "is_greater_eq",
    "assert_less",
    "assert_less_eq",
    "assert_greater",
    "assert_greater_eq",
    "is_less_unchecked",
    "is_less_eq_unchecked",
    "is_greater_unchecked",
    "is_greater_eq_unchecked",
    "assert_less_unchecked",
    "assert_less_eq_unchecked",
    "assert_greater_unchecked",
    "assert_greater_eq_unchecked",
]


def _range_both(api: API, a: VarLike, b: VarLike, bits: int, gadget: str) -> tuple[Var, Var]:
    check_bits(gadget, bits)
    av, bv = as_var(api, a), as_var(api, b)
    with api.scope("a"):
        _decompose(api, av, bits, gadget)
    with api.scope("b"):
        _decompose(api, bv, bits, gadget)
    return av, bv


def _geq_bit(api: API, a: VarLike, b: VarLike, bits: int, gadget: str) -> Var:
    """1 if a >= b else 0, for a, b in [0, 2**bits) (top bit of a - b + 2**bits)."""
    check_bits(gadget, bits)
    d = as_var(api, a) - as_var(api, b) + (1 << bits)
    return _decompose(api, d, bits + 1, gadget)[bits]


# --- is_* unchecked -----------------------------------------------------------------------------
def is_less_unchecked(api: API, a: VarLike, b: VarLike, bits: int) -> Var:
    """Boolean wire: 1 if a < b else 0.

    Precondition (NOT constrained): a and b are already range-checked to [0, 2**bits).
    Cost: bits + 2 constraints (0 if a - b is constant).
    Raises:
        CircuitError: bits not in [1, 252].
    """
    with api.scope("is_less"):
        return 1 - _geq_bit(api, a, b, bits, "is_less_unchecked")


def is_less_eq_unchecked(api: API, a: VarLike, b: VarLike, bits: int) -> Var:
    """Boolean wire: 1 if a <= b else 0.

    Precondition (NOT constrained): a and b are already range-checked to [0, 2**bits).
    Cost: bits + 2 constraints.
    """
    with api.scope("is_less_eq"):
        return _geq_bit(api, b, a, bits, "is_less_eq_unchecked")


def is_greater_unchecked(api: API, a: VarLike, b: VarLike, bits: int) -> Var:
    """Boolean wire: 1 if a > b else 0.

    Precondition (NOT constrained): a and b are already range-checked to [0, 2**bits).
    Cost: bits + 2 constraints.
    """
    with api.scope("is_greater"):
        return 1 - _geq_bit(api, b, a, bits, "is_greater_unchecked")


def is_greater_eq_unchecked(api: API, a: VarLike, b: VarLike, bits: int) -> Var:
    """Boolean wire: 1 if a >= b else 0.

    Precondition (NOT constrained): a and b are already range-checked to [0, 2**bits).
    Cost: bits + 2 constraints.
    """
    with api.scope("is_greater_eq"):
        return _geq_bit(api, a, b, bits, "is_greater_eq_unchecked")


# --- assert_* unchecked -------------------------------------------------------------------------
def assert_less_eq_unchecked(api: API, a: VarLike, b: VarLike, bits: int) -> None:
    """Constrain a <= b by range-checking b - a to [0, 2**bits).

    Precondition (NOT constrained): a and b are already range-checked to [0, 2**bits).
    Cost: bits + 1 constraints.
    Raises:
        CircuitError: bad bits, or constant a, b with a > b.
    """
    check_bits("assert_less_eq_unchecked", bits)
    with api.scope("assert_less_eq"):
        _decompose(api, as_var(api, b) - a, bits, "assert_less_eq")


def assert_less_unchecked(api: API, a: VarLike, b: VarLike, bits: int) -> None:
    """Constrain a < b by range-checking b - a - 1 to [0, 2**bits).

    Precondition (NOT constrained): a and b are already range-checked to [0, 2**bits).
    Cost: bits + 1 constraints.
    """
    check_bits("assert_less_unchecked", bits)
    with api.scope("assert_less"):
        _decompose(api, as_var(api, b) - a - 1, bits, "assert_less")


def assert_greater_unchecked(api: API, a: VarLike, b: VarLike, bits: int) -> None:
    """Constrain a > b. Precondition (NOT constrained): a, b in [0, 2**bits). Cost: bits + 1."""
    check_bits("assert_greater_unchecked", bits)
    with api.scope("assert_greater"):
        _decompose(api, as_var(api, a) - b - 1, bits, "assert_greater")


def assert_greater_eq_unchecked(api: API, a: VarLike, b: VarLike, bits: int) -> None:
    """Constrain a >= b. Precondition (NOT constrained): a, b in [0, 2**bits). Cost: bits + 1."""
    check_bits("assert_greater_eq_unchecked", bits)
    with api.scope("assert_greater_eq"):
        _decompose(api, as_var(api, a) - b, bits, "assert_greater_eq")


# --- checked ------------------------------------------------------------------------------------
def is_less(api: API, a: VarLike, b: VarLike, bits: int) -> Var:
    """Boolean wire: 1 if a < b else 0, after range-checking a and b to [0, 2**bits).

    Cost: 3 * bits + 4 constraints (two range checks of bits + 1, one comparison of bits + 2).
    Raises:
        CircuitError: bits not in [1, 252], or a constant input out of range.
    """
    with api.scope("is_less"):
        av, bv = _range_both(api, a, b, bits, "is_less")
        return 1 - _geq_bit(api, av, bv, bits, "is_less")


def is_less_eq(api: API, a: VarLike, b: VarLike, bits: int) -> Var:
    """Boolean wire: 1 if a <= b else 0, after range-checking a and b. Cost: 3 * bits + 4."""
    with api.scope("is_less_eq"):
        av, bv = _range_both(api, a, b, bits, "is_less_eq")
        return _geq_bit(api, bv, av, bits, "is_less_eq")


def is_greater(api: API, a: VarLike, b: VarLike, bits: int) -> Var:
    """Boolean wire: 1 if a > b else 0, after range-checking a and b. Cost: 3 * bits + 4."""
    with api.scope("is_greater"):
        av, bv = _range_both(api, a, b, bits, "is_greater")
        return 1 - _geq_bit(api, bv, av, bits, "is_greater")


def is_greater_eq(api: API, a: VarLike, b: VarLike, bits: int) -> Var:
    """Boolean wire: 1 if a >= b else 0, after range-checking a and b. Cost: 3 * bits + 4."""
    with api.scope("is_greater_eq"):
        av, bv = _range_both(api, a, b, bits, "is_greater_eq")
        return _geq_bit(api, av, bv, bits, "is_greater_eq")


def assert_less(api: API, a: VarLike, b: VarLike, bits: int) -> None:
    """Constrain a < b, after range-checking a and b to [0, 2**bits).

    Cost: 3 * bits + 3 constraints.
    Raises:
        CircuitError: bits not in [1, 252], or constant inputs out of range / out of order.
    """
    with api.scope("assert_less"):
        av, bv = _range_both(api, a, b, bits, "assert_less")
        _decompose(api, bv - av - 1, bits, "assert_less")


def assert_less_eq(api: API, a: VarLike, b: VarLike, bits: int) -> None:
    """Constrain a <= b, after range-checking a and b. Cost: 3 * bits + 3 constraints."""
    with api.scope("assert_less_eq"):
        av, bv = _range_both(api, a, b, bits, "assert_less_eq")
        _decompose(api, bv - av, bits, "assert_less_eq")


def assert_greater(api: API, a: VarLike, b: VarLike, bits: int) -> None:
    """Constrain a > b, after range-checking a and b. Cost: 3 * bits + 3 constraints."""
    with api.scope("assert_greater"):
        av, bv = _range_both(api, a, b, bits, "assert_greater")
        _decompose(api, av - bv - 1, bits, "assert_greater")


def assert_greater_eq(api: API, a: VarLike, b: VarLike, bits: int) -> None:
    """Constrain a >= b, after range-checking a and b. Cost: 3 * bits + 3 constraints."""
    with api.scope("assert_greater_eq"):
        av, bv = _range_both(api, a, b, bits, "assert_greater_eq")
        _decompose(api, av - bv, bits, "assert_greater_eq")
