"""Bit decomposition: ``to_bits``, ``from_bits``, ``assert_boolean``.

Soundness: a decomposition into n boolean wires is unique as long as 2**n <= r, i.e. n <= 253
for BN254 (r ~ 2**253.6); with n = 254 both x and x + r (when x + r < 2**254) would recompose to
the same field element, and a prover could present a value that wraps around the field. The
public ``to_bits`` therefore refuses ``bits > MAX_RANGE_BITS`` (252, the project-wide width of any
range); gadgets of this package that need one more bit (the comparison ``a - b + 2**bits``)
use the private ``_decompose`` with at most 253 bits.
"""

from __future__ import annotations

from collections.abc import Sequence

from zkmargin.errors import CircuitError

from ..api import API, Var, VarLike
from ..hints import register_hint
from ._common import as_var, check_bits

__all__ = ["to_bits", "from_bits", "assert_boolean"]

#: Widest decomposition that is still unique modulo r (2**253 < r < 2**254). Private gadgets only.
_DECOMPOSE_MAX_BITS = 253


@register_hint("bits.decompose")
def _hint_decompose(ins: Sequence[int]) -> list[int]:
    """Inputs (x, n): the n low bits of x, least significant first."""
    x, n = ins
    return [(x >> i) & 1 for i in range(n)]


def assert_boolean(api: API, b: VarLike) -> None:
    """Constrain ``b`` to be 0 or 1.

    Cost: 1 constraint, ``b * (b - 1) == 0``; 0 when ``b`` is a constant (checked here).

    Raises:
        CircuitError: ``b`` is a constant other than 0 or 1.
    """
    v = as_var(api, b)
    if v.is_constant():
        if v.constant_value() not in (0, 1):
            raise CircuitError(f"assert_boolean: the constant {v.constant_value()} is not 0 or 1")
        return
    api.assert_r1cs(v, v - 1, 0, label="boolean")


def from_bits(api: API, bits: Sequence[VarLike]) -> Var:
    """``sum(bits[i] * 2**i)``, least significant bit first.

    Cost: 0 constraints (a linear combination). It constrains nothing: the result is the number
    the bits spell only if every bit is already constrained boolean (``to_bits`` does that) and
    ``len(bits) <= 253``; longer lists wrap modulo r.
    """
    acc = api.const(0)
    for i, b in enumerate(bits):
        acc = acc + as_var(api, b).scale(1 << i)
    return acc


def _decompose(api: API, x: VarLike, n: int, gadget: str) -> list[Var]:
    """The n-bit decomposition of x, constrained (n boolean wires, one recomposition).

    Cost: n + 1 constraints; 0 when x is a constant (its bits are constants). Requires
    1 <= n <= 253 so that the decomposition is unique modulo r.

    Raises:
        CircuitError: n out of range, or x is a constant that does not fit in n bits.
    """
    if not 1 <= n <= _DECOMPOSE_MAX_BITS:  # internal misuse, never user input
        raise CircuitError(f"{gadget}: internal decomposition width {n} not in [1, {_DECOMPOSE_MAX_BITS}]")
    v = as_var(api, x)
    if v.is_constant():
        c = v.constant_value()
        if c >> n:
            raise CircuitError(f"{gadget}: the constant {c} does not fit in {n} bits")
        return [api.const((c >> i) & 1) for i in range(n)]
    bs = api.hint("bits.decompose", [v, n], n_out=n)
    for i, b in enumerate(bs):
        api.assert_r1cs(b, b - 1, 0, label=f"boolean[{i}]")
    # Unique because 2**n <= 2**253 < r: the boolean sum cannot reach x + r.
    api.assert_equal(from_bits(api, bs), v, label="recompose")
    return bs


def to_bits(api: API, x: VarLike, bits: int) -> list[Var]:
    """The ``bits``-bit decomposition of ``x``, least significant first; proves ``x < 2**bits``.

    Args:
        x: a wire or constant.
        bits: width, 1 <= bits <= MAX_RANGE_BITS (252).
    Returns:
        ``bits`` wires, each constrained boolean, whose weighted sum is constrained equal to x.
    Cost: bits + 1 constraints (bits booleanity, 1 recomposition); 0 for a constant x.
    Soundness: with bits <= 252 < 254 the decomposition is unique, so a field element that
        "wraps" (x = r - 5, i.e. -5) has none and the circuit is unsatisfiable. An honest x that
        does not fit makes the recomposition constraint ("to_bits/recompose") fail.
    Raises:
        CircuitError: bits not an int in [1, 252], or a constant x that does not fit.
    """
    check_bits("to_bits", bits)
    with api.scope("to_bits"):
        return _decompose(api, x, bits, "to_bits")
