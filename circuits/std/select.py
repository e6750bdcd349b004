"""Selection and equality: ``select``, ``is_zero``, ``is_equal``, ``assert_nonzero``."""

from __future__ import annotations

from collections.abc import Sequence

from zkmargin.errors import CircuitError
from zkmargin.field import R

from ..api import API, Var, VarLike
from ..hints import register_hint
from ._common import as_var
from .bits import assert_boolean

__all__ = ["select", "select_unchecked", "is_zero", "is_equal", "assert_nonzero"]


@register_hint("is_zero.inverse")
def _hint_inverse(ins: Sequence[int]) -> list[int]:
    """Input (x,): x**-1 mod r, or 0 for x == 0."""
    (x,) = ins
    return [pow(x, -1, R) if x else 0]


def select_unchecked(api: API, cond: VarLike, a: VarLike, b: VarLike) -> Var:
    """``a`` if cond == 1, ``b`` if cond == 0: ``b + cond * (a - b)``.

    Precondition (NOT constrained): ``cond`` is boolean (e.g. the output of an ``is_*`` gadget).
    A non-boolean cond yields an arbitrary affine mix of a and b.
    Cost: 1 constraint; 0 if cond or a - b is a constant.
    """
    c, av, bv = as_var(api, cond), as_var(api, a), as_var(api, b)
    with api.scope("select"):
        return bv + api.mul(c, av - bv, label="cond*(a-b)")


def select(api: API, cond: VarLike, a: VarLike, b: VarLike) -> Var:
    """``a`` if cond == 1, ``b`` if cond == 0, after constraining cond boolean.

    Cost: 2 constraints (booleanity of cond + the product); the booleanity is free for a
    constant cond. Use ``select_unchecked`` when cond is already constrained boolean.
    Raises:
        CircuitError: cond is a constant other than 0 or 1.
    """
    with api.scope("select"):
        assert_boolean(api, cond)
    return select_unchecked(api, cond, a, b)


def is_zero(api: API, x: VarLike) -> Var:
    """Boolean wire: 1 if x == 0 else 0.

    With a hinted ``inv`` ("is_zero.inverse"): ``x * inv == 1 - out`` and ``x * out == 0``. If
    x != 0 the second forces out = 0 (and the first then needs inv = 1/x); if x == 0 the first
    forces out = 1. So out is boolean and correct whatever the hint returns.
    Cost: 2 constraints; 0 for a constant x.
    """
    v = as_var(api, x)
    if v.is_constant():
        return api.const(int(v.constant_value() == 0))
    with api.scope("is_zero"):
        (inv,) = api.hint("is_zero.inverse", [v])
        out = 1 - api.mul(v, inv, label="x*inv")
        api.assert_r1cs(v, out, 0, label="x*out")
        return out


def is_equal(api: API, a: VarLike, b: VarLike) -> Var:
    """Boolean wire: 1 if a == b (as field elements) else 0. Cost: 2 constraints (``is_zero(a - b)``)."""
    with api.scope("is_equal"):
        return is_zero(api, as_var(api, a) - b)


def assert_nonzero(api: API, x: VarLike) -> None:
    """Constrain x != 0 (``x * inv == 1`` with a hinted inverse).

    Cost: 1 constraint; 0 for a constant x.
    Raises:
        CircuitError: x is the constant 0.
    """
    v = as_var(api, x)
    if v.is_constant():
        if v.constant_value() == 0:
            raise CircuitError("assert_nonzero: the constant is 0")
        return
    with api.scope("assert_nonzero"):
        (inv,) = api.hint("is_zero.inverse", [v])
        api.assert_r1cs(v, inv, 1, label="x*inv")
