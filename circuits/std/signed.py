"""Signed values: one encoding, range-checked sign and magnitude.

Encoding: a *signed value of width ``bits``* is an integer v with ``|v| < 2**bits``
(-2**bits < v < 2**bits, symmetric), stored as the field element ``v mod r`` (so -5 is r - 5;
``zkmargin.field.from_signed`` / ``to_signed`` convert natively). 1 <= bits <= 252.

Method: y = x + 2**bits is decomposed into bits + 1 bits (unique since 2**253 < r), which proves
-2**bits <= v < 2**bits; the top bit t is 1 exactly when v >= 0, so ``sign = 1 - t``; the low
``bits`` bits spell L, with v = L when v >= 0 and v = L - 2**bits when v < 0. The lone value of
the window outside the encoding, v = -2**bits (y = 0), is excluded by ``L * inv == sign`` with a
hinted ``inv``: a negative value must have L != 0. So the magnitude is always < 2**bits and fits
the same width (it can feed ``cmp.*_unchecked(..., bits=bits)`` safely), and zero has exactly one
representation (sign 0).

Every function here range-checks its input (there is no unchecked variant).
"""

from __future__ import annotations

from collections.abc import Sequence

from zkmargin.errors import CircuitError
from zkmargin.field import R, to_signed

from ..api import API, Var, VarLike
from ..hints import register_hint
from ._common import as_var, check_bits
from .bits import _decompose, from_bits

__all__ = ["assert_signed", "sign", "abs", "split_signed"]


@register_hint("signed.low_inverse")
def _hint_low_inverse(ins: Sequence[int]) -> list[int]:
    """Inputs (L, sign): L**-1 when the value is negative (then L != 0), else 0."""
    low, neg = ins
    return [pow(low, -1, R) if neg and low else 0]


def _split(api: API, x: VarLike, bits: int, gadget: str) -> tuple[Var, Var]:
    """(sign, L) of a signed value of width ``bits``, constrained. Cost: bits + 3."""
    check_bits(gadget, bits)
    v = as_var(api, x)
    if v.is_constant():
        s = to_signed(v.constant_value())
        if not -(1 << bits) < s < (1 << bits):
            raise CircuitError(f"{gadget}: the constant {s} is not a signed value of width {bits} "
                               f"(|v| < 2**{bits})")
        return api.const(int(s < 0)), api.const((s + (1 << bits)) & ((1 << bits) - 1))
    bs = _decompose(api, v + (1 << bits), bits + 1, gadget)
    neg = 1 - bs[bits]
    low = from_bits(api, bs[:bits])
    (inv,) = api.hint("signed.low_inverse", [low, neg])
    # negative => L != 0, which excludes v = -2**bits (y = 0) and keeps |v| < 2**bits
    api.assert_r1cs(low, inv, neg, label="negative_nonzero")
    return neg, low


def assert_signed(api: API, x: VarLike, bits: int) -> None:
    """Constrain x to be a signed value of width ``bits``: |v| < 2**bits for v = x read signed.

    Cost: bits + 3 constraints; 0 for a constant x.
    Raises:
        CircuitError: bits not in [1, 252], or a constant x out of range.
    """
    with api.scope("assert_signed"):
        _split(api, x, bits, "assert_signed")


def sign(api: API, x: VarLike, bits: int) -> Var:
    """Boolean wire: 1 if x is negative, 0 if x >= 0 (zero has sign 0); range-checks x.

    Cost: bits + 3 constraints; 0 for a constant x.
    """
    with api.scope("sign"):
        return _split(api, x, bits, "sign")[0]


def split_signed(api: API, x: VarLike, bits: int) -> tuple[Var, Var]:
    """(sign, magnitude) of x, with x == magnitude * (1 - 2 * sign); range-checks x.

    Returns:
        sign: boolean wire, 1 if negative; magnitude: |v|, in [0, 2**bits).
    Cost: bits + 4 constraints (bits + 3 for the split, 1 for the magnitude); 0 for a constant.
    """
    with api.scope("split_signed"):
        neg, low = _split(api, x, bits, "split_signed")
        # |v| = L when v >= 0, 2**bits - L when v < 0
        mag = low + api.mul(neg, (1 << bits) - 2 * low, label="magnitude")
        return neg, mag


def abs(api: API, x: VarLike, bits: int) -> Var:  # noqa: A001 - the gadget's natural name
    """|x| for a signed value of width ``bits``, in [0, 2**bits); range-checks x.

    Cost: bits + 4 constraints; 0 for a constant x.
    """
    with api.scope("abs"):
        neg, low = _split(api, x, bits, "abs")
        return low + api.mul(neg, (1 << bits) - 2 * low, label="magnitude")
