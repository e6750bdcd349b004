"""Shared argument checks for the gadgets (private to ``zkmargin.circuits.std``)."""

from __future__ import annotations

from zkmargin.errors import CircuitError
from zkmargin.field import MAX_RANGE_BITS

from ..api import API, Var, VarLike

__all__ = ["check_bits", "as_var"]


def check_bits(gadget: str, bits: object, max_bits: int = MAX_RANGE_BITS) -> int:
    """Validate a gadget's ``bits=`` argument: an int in [1, max_bits].

    Raises:
        CircuitError: naming the gadget, the value and the bound.
    """
    if isinstance(bits, bool) or not isinstance(bits, int):
        raise CircuitError(f"{gadget}: bits must be an int, got {type(bits).__name__}: {bits!r}")
    if bits < 1:
        raise CircuitError(f"{gadget}: bits must be >= 1, got {bits}")
    if bits > max_bits:
        raise CircuitError(
            f"{gadget}: bits={bits} exceeds the maximum {max_bits} (MAX_RANGE_BITS): a wider range "
            "is not unique modulo the BN254 scalar field r (~2**253.6), so a wrapped-around value "
            "could pass"
        )
    return bits


def as_var(api: API, x: VarLike) -> Var:
    """``x`` as a Var of ``api`` (ints become constants; a wire of another circuit is an error)."""
    if isinstance(x, Var) and x.api is api:
        return x
    return api.const(0) + x
