"""Standard gadgets: bits, range checks, comparisons, selection, signed values, min/max, Poseidon.

Conventions (docs/style.md rules 3, 4, 5):

* ``is_*`` returns a boolean wire; ``assert_*`` adds constraints and returns nothing;
  ``*_unchecked`` assumes a precondition that it does not constrain, named in its docstring.
* Every range or comparison gadget takes ``bits=`` (1 <= bits <= ``MAX_RANGE_BITS`` = 252) and
  range-checks its inputs unless it is ``_unchecked``.
* Signed values have one encoding (``signed``): v with |v| < 2**bits, stored as v mod r.
* Every hint output is constrained in the function that asks for it.
* Each docstring states the constraint cost; tests/circuits/test_std_*.py pin it.

Two functions are reached through their module only, because their names are taken at package
level: ``select.select`` (``select`` here is the module) and ``signed.abs`` (a builtin); likewise
``poseidon.poseidon`` and the commitment/digest twins in ``encoding`` (of ``zkmargin.encoding``).

Hints registered here: "bits.decompose", "is_zero.inverse", "signed.low_inverse",
"minmax.argmax", "minmax.argmin".
"""

from . import bits, cmp, encoding, minmax, poseidon, rangecheck, select, signed
from .bits import assert_boolean, from_bits, to_bits
from .cmp import (
    assert_greater,
    assert_greater_eq,
    assert_greater_eq_unchecked,
    assert_greater_unchecked,
    assert_less,
    assert_less_eq,
    assert_less_eq_unchecked,
    assert_less_unchecked,
    is_greater,
    is_greater_eq,
    is_greater_eq_unchecked,
    is_greater_unchecked,
    is_less,
    is_less_eq,
    is_less_eq_unchecked,
    is_less_unchecked,
)
from .minmax import argmax_of, argmin_of, max_of, min_of
from .rangecheck import assert_bits, assert_in_range
from .select import assert_nonzero, is_equal, is_zero, select_unchecked
from .signed import assert_signed, sign, split_signed

__all__ = [
    # modules
    "bits",
    "cmp",
    "encoding",
    "minmax",
    "poseidon",
    "rangecheck",
    "select",
    "signed",
    # bits
    "to_bits",
    "from_bits",
    "assert_boolean",
    # rangecheck
    "assert_bits",
    "assert_in_range",
    # cmp
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
    # select
    "select_unchecked",
    "is_zero",
    "is_equal",
    "assert_nonzero",
    # signed
    "assert_signed",
    "sign",
    "split_signed",
    # minmax
    "max_of",
    "min_of",
    "argmax_of",
    "argmin_of",
]
