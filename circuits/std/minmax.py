"""Maximum and minimum of a list, and arg-max / arg-min with a constrained one-hot selector.

All functions range-check every element to [0, 2**bits) (1 <= bits <= 252) first. For signed
quantities (P&L, losses) shift them into range first (v + 2**bits) or compare magnitudes.

``argmax_of`` / ``argmin_of`` (the "worst scenario" of scenario margin) take a one-hot selector
from the prover (hint "minmax.argmax" / "minmax.argmin") and tie it down completely:
  * every selector entry is boolean and they sum to 1 (exactly one entry is 1);
  * m = sum(s_i * x_i) is therefore one of the elements;
  * m >= x_i for every i, and m > x_i strictly for every i BEFORE the selected index.
The last rule makes the selector unique: it points at the FIRST maximal element, so a prover
cannot choose among ties (which matters when the selector picks data that goes with the worst
scenario). It is free: "before the selected index" is the linear ``b_i = 1 - sum(s_k, k <= i)``
and the check is ``m - x_i - b_i`` in [0, 2**bits).
"""

from __future__ import annotations

from collections.abc import Sequence

from zkmargin.errors import CircuitError

from ..api import API, Var, VarLike
from ..hints import register_hint
from ._common import as_var, check_bits
from .bits import _decompose
from .cmp import is_less_unchecked
from .select import select_unchecked

__all__ = ["max_of", "min_of", "argmax_of", "argmin_of"]


def _one_hot_first(vals: Sequence[int], pick: int) -> list[int]:
    i = list(vals).index(pick)
    return [int(k == i) for k in range(len(vals))]


@register_hint("minmax.argmax")
def _hint_argmax(ins: Sequence[int]) -> list[int]:
    """One-hot selector of the first maximal input."""
    return _one_hot_first(ins, max(ins))


@register_hint("minmax.argmin")
def _hint_argmin(ins: Sequence[int]) -> list[int]:
    """One-hot selector of the first minimal input."""
    return _one_hot_first(ins, min(ins))


def _checked_list(api: API, xs: Sequence[VarLike], bits: int, gadget: str) -> list[Var]:
    check_bits(gadget, bits)
    if isinstance(xs, Var) or len(xs) == 0:
        raise CircuitError(f"{gadget}: expected a non-empty list of wires")
    out = [as_var(api, x) for x in xs]
    for i, v in enumerate(out):
        with api.scope(f"x[{i}]"):
            _decompose(api, v, bits, gadget)
    return out


def max_of(api: API, xs: Sequence[VarLike], bits: int) -> Var:
    """The maximum of ``xs`` (n >= 1 elements, each range-checked to [0, 2**bits)).

    Pairwise: m = select(is_less(m, x), x, m).
    Cost: n * (bits + 1) + (n - 1) * (bits + 3) constraints for non-constant inputs.
    Raises:
        CircuitError: empty list, bad bits, or a constant element out of range.
    """
    with api.scope("max_of"):
        vs = _checked_list(api, xs, bits, "max_of")
        m = vs[0]
        for i, x in enumerate(vs[1:], start=1):
            with api.scope(f"step[{i}]"):
                # preconditions hold: m is one of the range-checked elements
                m = select_unchecked(api, is_less_unchecked(api, m, x, bits), x, m)
        return m


def min_of(api: API, xs: Sequence[VarLike], bits: int) -> Var:
    """The minimum of ``xs`` (n >= 1 elements, each range-checked to [0, 2**bits)).

    Cost: n * (bits + 1) + (n - 1) * (bits + 3) constraints for non-constant inputs.
    Raises:
        CircuitError: empty list, bad bits, or a constant element out of range.
    """
    with api.scope("min_of"):
        vs = _checked_list(api, xs, bits, "min_of")
        m = vs[0]
        for i, x in enumerate(vs[1:], start=1):
            with api.scope(f"step[{i}]"):
                m = select_unchecked(api, is_less_unchecked(api, x, m, bits), x, m)
        return m


def _arg_extreme(api: API, xs: Sequence[VarLike], bits: int, gadget: str, largest: bool) -> tuple[Var, list[Var]]:
    vs = _checked_list(api, xs, bits, gadget)
    n = len(vs)
    sel = api.hint("minmax.argmax" if largest else "minmax.argmin", vs, n_out=n)
    with api.scope("selector"):
        for i, s in enumerate(sel):
            api.assert_r1cs(s, s - 1, 0, label=f"boolean[{i}]")
        api.assert_equal(api.sum(sel), 1, label="one_hot")
        m = api.sum([api.mul(s, x, label=f"pick[{i}]") for i, (s, x) in enumerate(zip(sel, vs, strict=True))])
    seen = api.const(0)  # sum of s_k for k <= i
    for i, x in enumerate(vs):
        seen = seen + sel[i]
        before = 1 - seen  # 1 iff i is before the selected index (strict bound there)
        with api.scope(f"bound[{i}]"):
            gap = (m - x if largest else x - m) - before
            _decompose(api, gap, bits, gadget)
    return m, sel


def argmax_of(api: API, xs: Sequence[VarLike], bits: int) -> tuple[Var, list[Var]]:
    """(maximum, one-hot selector of the FIRST maximal element), both fully constrained.

    Elements are range-checked to [0, 2**bits). The selector is unique (see the module doc):
    a lying prover can point neither at a smaller element nor at a later tie.
    Cost: n * (2 * bits + 4) + 1 constraints for n non-constant inputs (range checks n(bits+1),
    booleanity n, one-hot sum 1, products n, bounds n(bits+1)).
    Raises:
        CircuitError: empty list, bad bits, or a constant element out of range.
    """
    with api.scope("argmax_of"):
        return _arg_extreme(api, xs, bits, "argmax_of", largest=True)


def argmin_of(api: API, xs: Sequence[VarLike], bits: int) -> tuple[Var, list[Var]]:
    """(minimum, one-hot selector of the FIRST minimal element), both fully constrained.

    Cost: n * (2 * bits + 4) + 1 constraints for n non-constant inputs.
    Raises:
        CircuitError: empty list, bad bits, or a constant element out of range.
    """
    with api.scope("argmin_of"):
        return _arg_extreme(api, xs, bits, "argmin_of", largest=False)
