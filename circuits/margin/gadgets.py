"""Gadgets shared by the margin-model circuits: positions, brackets, exact division, the final check.

Every function states its constraint cost and the preconditions its soundness rests on. Two kinds
of inputs appear:

* *account* values (sizes, entries, amounts, margins): secret and chosen by the prover. The
  functions named ``checked_*`` range-check them at the widths of ``zkmargin.margin.limits``
  before anything uses them;
* *market* values (marks, prices, rates, haircuts, bounds, risk arrays): secret witness values
  too, but bound by the in-circuit market digest to the public ``market_digest``. The circuits
  do NOT range-check them: their bounds hold because the public digest is the digest of a market
  file that ``zkmargin.margin.schema.load_market`` validated (the statement's precondition, see
  ``zkmargin.circuits.margin``). A precondition that names "market" below is that one.

Hints registered here: "margin.bracket" (one-hot bracket selector), "margin.divmod_floor" and
"margin.divmod_ceil" (quotient and remainder by a constant). Each is constrained in the function
that asks for it (docs/style.md rule 5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from zkmargin.errors import CircuitError
from zkmargin.field import R
from zkmargin.margin.limits import AMOUNT_BITS, NOTIONAL_BITS, PRICE_BITS, SIZE_BITS, SURPLUS_BITS, WIDE_SIZE_BITS
from zkmargin.margin.model import VenueModel

from ..api import API, Var, VarLike
from ..hints import register_hint
from ..std import cmp, rangecheck, signed
from ..std._common import as_var
from ..std.select import is_zero, select_unchecked

__all__ = [
    "Position",
    "checked_position",
    "model_position",
    "position_cost",
    "CHECKED_POSITION_COST",
    "WIDE_POSITION_COST",
    "checked_amount",
    "upnl_scaled",
    "notional",
    "progressive",
    "progressive_cost",
    "progressive_method",
    "tier_rate",
    "tier_rate_cost",
    "div_floor_wire",
    "div_floor_wire_cost",
    "div_floor_const",
    "div_ceil_const",
    "div_const_cost",
    "assert_surplus",
    "SURPLUS_COST",
]

#: Constraints of ``assert_surplus``: one range check of SURPLUS_BITS.
SURPLUS_COST = SURPLUS_BITS + 1

_INV2 = pow(2, -1, R)


# --- positions and collateral -------------------------------------------------------------------

@dataclass(frozen=True)
class Position:
    """A range-checked position slot.

    Attributes:
        size: the signed size wire (|size| < 2**SIZE_BITS, encoded size mod r).
        negative: boolean wire, 1 for a short position.
        magnitude: |size|, in [0, 2**SIZE_BITS).
        entry: the entry price, in [0, 2**PRICE_BITS).
    """

    size: Var
    negative: Var
    magnitude: Var
    entry: Var
    checked_notional: Var | None = None  # wide positions: |size| * mark, computed (and capped) once

    def short_size(self) -> Var:
        """``max(-size, 0)``: (|size| - size) / 2, a linear combination (free)."""
        return (self.magnitude - self.size).scale(_INV2)


def checked_position(api: API, size: VarLike, entry: VarLike) -> Position:
    """Range-check a position: size signed of width SIZE_BITS (63), entry in [0, 2**PRICE_BITS).

    Cost: (SIZE_BITS + 4) + (PRICE_BITS + 1) = 67 + 65 = 132 constraints.
    Soundness: no precondition (both are range-checked here).
    """
    with api.scope("size"):
        neg, mag = signed.split_signed(api, size, bits=SIZE_BITS)
    with api.scope("entry"):
        rangecheck.assert_bits(api, entry, bits=PRICE_BITS)
    return Position(as_var(api, size), neg, mag, as_var(api, entry))


#: Constraints of ``checked_position``.
CHECKED_POSITION_COST = (SIZE_BITS + 4) + (PRICE_BITS + 1)
#: Constraints of a per-instrument-decimals position (``model_position`` with ``model.wide_sizes``):
#: size (WIDE_SIZE_BITS + 4), entry (PRICE_BITS + 1), notional and entry value (1 + NOTIONAL_BITS + 1 each).
WIDE_POSITION_COST = (WIDE_SIZE_BITS + 4) + (PRICE_BITS + 1) + 2 * (NOTIONAL_BITS + 2)


def model_position(api: API, model: VenueModel, i: int, size: VarLike, entry: VarLike, mark: VarLike) -> Position:
    """Instrument slot i's position, range-checked, its size in the model's quantity unit: the one
    rule every position-based model (cross, tiered, isolated) uses.

    Without per-instrument decimals: ``checked_position``. With them (``model.wide_sizes``,
    ``zkmargin.margin.limits``): the size is signed of width WIDE_SIZE_BITS (|s| < 2**128 base units
    of the instrument's decimals q_i), the entry below 2**PRICE_BITS; the returned size and magnitude
    are S = s * 10**(QD - q_i) (a compile-time scale: free), and both |S| * mark (the notional, kept
    for ``notional``) and |S| * entry are range-checked below 2**NOTIONAL_BITS.

    Cost: ``position_cost(model)``.
    Soundness: |S| < 2**188 and mark, entry < 2**64 (market; entry checked here), so both products
        are below 2**252 < r: the caps bound the integers, and then |S| * m < 2**128 (the brackets'
        comparison width) and |S * (m - e)| < 2**128 (``upnl_scaled`` stays below RS * 2**128).
    """
    if not model.wide_sizes:
        return checked_position(api, size, entry)
    scale = model.instrument_scale(i)
    with api.scope("size"):
        neg, mag = signed.split_signed(api, size, bits=WIDE_SIZE_BITS)
    with api.scope("entry"):
        rangecheck.assert_bits(api, entry, bits=PRICE_BITS)
    entry_v = as_var(api, entry)
    magnitude = mag.scale(scale)
    n = api.mul(magnitude, mark, label="notional")
    with api.scope("notional_cap"):
        rangecheck.assert_bits(api, n, bits=NOTIONAL_BITS)
    with api.scope("entry_value_cap"):
        rangecheck.assert_bits(api, api.mul(magnitude, entry_v, label="entry_value"), bits=NOTIONAL_BITS)
    return Position(as_var(api, size).scale(scale), neg, magnitude, entry_v, checked_notional=n)


def position_cost(model: VenueModel) -> int:
    """Constraints of ``model_position`` (CHECKED_POSITION_COST or WIDE_POSITION_COST)."""
    return WIDE_POSITION_COST if model.wide_sizes else CHECKED_POSITION_COST


def checked_amount(api: API, amount: VarLike, bits: int = AMOUNT_BITS) -> Var:
    """Range-check a collateral or debt amount to [0, 2**bits) and return it.

    Args:
        bits: AMOUNT_BITS (64), or WIDE_AMOUNT_BITS (128) for a model with per-symbol decimals.
    Cost: bits + 1 constraints (65 at the default).
    """
    with api.scope("amount"):
        rangecheck.assert_bits(api, amount, bits=bits)
    return as_var(api, amount)


def upnl_scaled(api: API, pos: Position, mark: VarLike, scale: int) -> Var:
    """``scale * size * (mark - entry)``: the position's uPnL times ``scale`` (RS).

    Cost: 1 constraint.
    Soundness: |result| < scale * 2**127 given the checked position and the market bound
        mark < 2**PRICE_BITS (the integer product never wraps for scale < 2**120).
    """
    return api.mul(pos.size, as_var(api, mark) - pos.entry, label="upnl").scale(scale)


def notional(api: API, pos: Position, mark: VarLike) -> Var:
    """``|size| * mark`` in value units, in [0, 2**127) (market: mark < 2**PRICE_BITS; a wide
    position's [0, 2**128), checked by ``model_position``).

    Cost: 1 constraint (0 for a wide position, whose notional ``model_position`` computed).
    """
    if pos.checked_notional is not None:  # a wide position's, already computed and capped (free)
        return pos.checked_notional
    return api.mul(pos.magnitude, mark, label="notional")


# --- progressive brackets ------------------------------------------------------------------------

@register_hint("margin.bracket")
def _hint_bracket(ins: Sequence[int]) -> list[int]:
    """Inputs (x, u_0, ..., u_{K-2}): one-hot selector of the first bracket b with x <= u_b (else K-1)."""
    x, bounds = ins[0], list(ins[1:])
    k = len(bounds) + 1
    b = next((i for i, u in enumerate(bounds) if x <= u), k - 1)
    return [int(i == b) for i in range(k)]


def _marginal_cost(k: int, bits: int) -> int:
    return (k - 1) * (bits + 3) + k


def _selection_cost(k: int, bits: int) -> int:
    return 6 * k + 2 * bits


def progressive_method(k: int, bits: int) -> str:
    """The cheaper evaluation of a K-bracket schedule: "marginal" (K <= 3 at 128 bits) or "selection"."""
    if k <= 1 or _marginal_cost(k, bits) <= _selection_cost(k, bits):
        return "marginal"
    return "selection"


def progressive_cost(k: int, bits: int) -> int:
    """Constraints of ``progressive`` with K brackets, all inputs non-constant wires.

    K = 1: 1. Marginal form: (K - 1) * (bits + 3) + K. Selection form: 6 * K + 2 * bits.
    ``progressive`` uses the smaller (at bits = 128: marginal for K <= 3, selection from K = 4).
    """
    if k < 1:
        raise CircuitError(f"progressive: need at least one bracket, got {k}")
    if k == 1:
        return 1
    return min(_marginal_cost(k, bits), _selection_cost(k, bits))


def _check_schedule(gadget: str, bounds: Sequence[VarLike], weights: Sequence[VarLike], bits: int) -> int:
    """K, after checking that K - 1 bounds go with K >= 1 weights and that bits lies in [1, 251]."""
    k = len(weights)
    if k < 1 or len(bounds) != k - 1:
        raise CircuitError(f"{gadget}: {len(bounds)} bounds need {len(bounds) + 1} weights, got {k}")
    if not 1 <= bits <= 251:
        raise CircuitError(f"{gadget}: bits must be in [1, 251], got {bits}")
    return k


def progressive(api: API, x: VarLike, bounds: Sequence[VarLike], weights: Sequence[VarLike], bits: int) -> Var:
    """The progressive bracket function P(x) of ``zkmargin.margin.engine`` on wires.

    ``P(x) = sum_b w_b * (min(x, u_b) - min(x, u_{b-1}))`` with u_{-1} = 0 and u_{K-1} = infinity:
    each weight applies to the part of x inside its bracket. Two equivalent evaluations; the
    cheaper one for K is used (``progressive_method``):

    * marginal (K <= 3 at 128 bits): ``c_b = min(x, u_b)`` by K - 1 comparisons of width ``bits``,
      then ``sum_b w_b * (c_b - c_{b-1})``;
    * selection: the "maintenance amount" / max-of-lines form. On bracket b (u_{b-1} <= x <= u_b)
      ``P(x) = base_b + w_b * (x - u_{b-1})`` with ``base_b = sum_{a<b} w_a * (u_a - u_{a-1})``
      (which is the line ``w_b * x - d_b`` that is the maximum of all lines when the weights are
      nondecreasing). A one-hot selector (hint "margin.bracket") picks b; booleanity and
      ``sum == 1`` make it one-hot, and ``x - u_{b-1}`` and ``u_b - x`` (u_{K-1} := 2**bits - 1)
      in [0, 2**bits) make x lie in the selected bracket. At a shared bound x = u_b both brackets
      qualify and give the same value (P is continuous), so P(x) is determined whatever the
      selector: a lying selector that points at a bracket not containing x fails a range check.

    Args:
        x: the value, a wire.
        bounds: the K - 1 finite bracket bounds u_0 <= ... <= u_{K-2} (wires or ints).
        weights: the K per-bracket weights (rates, or RS - haircut), wires or ints.
        bits: the comparison width: x and every bound in [0, 2**bits), bits <= 251.
    Returns:
        P(x), a wire or linear combination; |P(x)| <= max_b |w_b| * x.
    Cost: ``progressive_cost(K, bits)`` constraints.
    Soundness preconditions (NOT constrained here): x in [0, 2**bits) (the caller derives it from
        range-checked inputs); bounds nondecreasing and in [0, 2**bits) (market: the loader makes
        them strictly increasing values below 2**VALUE_BITS; padding slots are all 0, for which
        both forms give the same value). The weights need no bound for the identity, only for the
        caller's no-wrap argument.
    Raises:
        CircuitError: len(weights) != len(bounds) + 1, or bits out of range.
    """
    k = _check_schedule("progressive", bounds, weights, bits)
    xv = as_var(api, x)
    us = [as_var(api, u) for u in bounds]
    ws = [as_var(api, w) for w in weights]
    with api.scope("progressive"):
        if k == 1:
            return api.mul(ws[0], xv, label="w*x")
        if progressive_method(k, bits) == "marginal":
            return _progressive_marginal(api, xv, us, ws, bits)
        return _progressive_selection(api, xv, us, ws, bits)


def _progressive_marginal(api: API, x: Var, us: list[Var], ws: list[Var], bits: int) -> Var:
    total, prev = api.const(0), api.const(0)
    for b, w in enumerate(ws):
        with api.scope(f"bracket[{b}]"):
            if b < len(us):
                # preconditions of is_less_unchecked: x, u_b in [0, 2**bits) (see the docstring)
                c = select_unchecked(api, cmp.is_less_unchecked(api, x, us[b], bits=bits), x, us[b])
            else:
                c = x
            total = total + api.mul(w, c - prev, label="w*part")
            prev = c
    return total


def _progressive_selection(api: API, x: Var, us: list[Var], ws: list[Var], bits: int) -> Var:
    k = len(ws)
    sel = api.hint("margin.bracket", [x, *us], n_out=k)
    with api.scope("selector"):
        for b, s in enumerate(sel):
            api.assert_r1cs(s, s - 1, 0, label=f"boolean[{b}]")
        api.assert_equal(api.sum(sel), 1, label="one_hot")
    lows: list[Var] = [api.const(0), *us]  # u_{b-1}
    highs: list[Var] = [*us, api.const((1 << bits) - 1)]  # u_b, the last unbounded
    bases: list[Var] = [api.const(0)]
    for b in range(1, k):
        with api.scope(f"base[{b}]"):
            bases.append(bases[-1] + api.mul(ws[b - 1], lows[b] - lows[b - 1], label="w*width"))

    def pick(vals: list[Var], what: str) -> Var:
        return api.sum([api.mul(s, v, label=f"{what}[{b}]") for b, (s, v) in enumerate(zip(sel, vals, strict=True))])

    lo, hi, w, base = pick(lows, "low"), pick(highs, "high"), pick(ws, "weight"), pick(bases, "base")
    with api.scope("in_bracket"):
        # x - lo and hi - x in [0, 2**bits): with lo, hi, x in [0, 2**bits) this is lo <= x <= hi
        rangecheck.assert_bits(api, x - lo, bits=bits)
        rangecheck.assert_bits(api, hi - x, bits=bits)
    return base + api.mul(w, x - lo, label="w*(x-low)")


# --- the tier rate on the whole notional (initial margin) -----------------------------------------

def tier_rate_cost(k: int, bits: int) -> int:
    """Constraints of ``tier_rate`` with K tiers, non-constant wires: 1 for K = 1, else
    (K - 1) * (bits + 3) + 1."""
    if k < 1:
        raise CircuitError(f"tier_rate: need at least one tier, got {k}")
    return 1 if k == 1 else (k - 1) * (bits + 3) + 1


def tier_rate(api: API, x: VarLike, bounds: Sequence[VarLike], weights: Sequence[VarLike], bits: int) -> Var:
    """``w_b * x`` for the tier b that contains x (``zkmargin.margin.engine.tier_rate``) on wires.

    Tiers are (u_{b-1}, u_b] (u_{-1} = 0, u_{K-1} = infinity): ``gt_b = [x > u_b]`` by K - 1
    comparisons, and ``w = w_0 + sum_b gt_b * (w_{b+1} - w_b)``. With increasing bounds the gt_b
    are a prefix of ones, so w telescopes to the weight of the tier containing x; every gt_b is a
    constrained comparison (no selector hint a prover could lie with), so the tier is determined.

    Args:
        x: the value, a wire. bounds: the K - 1 finite bounds (wires or ints). weights: the K
            per-tier weights. bits: the comparison width, x and the bounds in [0, 2**bits).
    Returns:
        ``w_b * x``, a wire; at most ``max_b w_b * x``.
    Cost: ``tier_rate_cost(K, bits)``.
    Soundness preconditions (NOT constrained here): x in [0, 2**bits) (derived from range-checked
        inputs); bounds strictly increasing in [0, 2**bits) (market data, validated by the loader;
        a padding slot's bounds and weights are all 0, giving 0).
    Raises:
        CircuitError: len(weights) != len(bounds) + 1, or bits out of range.
    """
    _check_schedule("tier_rate", bounds, weights, bits)
    xv = as_var(api, x)
    ws = [as_var(api, w) for w in weights]
    with api.scope("tier_rate"):
        w = ws[0]
        for b, u in enumerate(bounds):
            with api.scope(f"tier[{b + 1}]"):
                # preconditions of is_less_unchecked: u_b, x in [0, 2**bits) (see the docstring)
                above = cmp.is_less_unchecked(api, as_var(api, u), xv, bits=bits)
                w = w + api.mul(above, ws[b + 1] - ws[b], label="step")
        return api.mul(w, xv, label="w*x")


# --- exact division by a constant ----------------------------------------------------------------

def _divmod_hint(ceil: bool) -> Callable[[Sequence[int]], list[int]]:
    """Inputs (n, d): floor: (n // d, n - q * d); ceil: (ceil(n / d), q * d - n)."""

    def hint(ins: Sequence[int]) -> list[int]:
        n, d = ins
        q = -(-n // d) if ceil else n // d
        return [q, q * d - n if ceil else n - q * d]
    return hint


register_hint("margin.divmod_floor")(_divmod_hint(False))
register_hint("margin.divmod_ceil")(_divmod_hint(True))


def _widths(d: int, n_max: int, ceil: bool) -> tuple[int, int]:
    """(q_bits, r_bits) of a division by d of a numerator in [0, n_max], after checking the bounds."""
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise CircuitError(f"division by a constant needs an int divisor >= 1, got {d!r}")
    if isinstance(n_max, bool) or not isinstance(n_max, int) or n_max < 0:
        raise CircuitError(f"division: the numerator bound must be a non-negative int, got {n_max!r}")
    q_max = -(-n_max // d) if ceil else n_max // d
    q_bits, r_bits = max(q_max.bit_length(), 1), max((d - 1).bit_length(), 1)
    if (1 << q_bits) * d + d >= 1 << 252:
        raise CircuitError(f"division: q * d + rem may reach 2**252 (n_max = {n_max}, d = {d}); it could wrap")
    return q_bits, r_bits


def div_const_cost(d: int, n_max: int, ceil: bool = False) -> int:
    """Constraints of ``div_floor_const`` / ``div_ceil_const``: 0 for d = 1, else
    ``(q_bits + 1) + 2 * (r_bits + 1) + 1`` with q_bits the width of the largest quotient and
    r_bits that of d - 1."""
    q_bits, r_bits = _widths(d, n_max, ceil)
    return 0 if d == 1 else (q_bits + 1) + 2 * (r_bits + 1) + 1


def _div_const(api: API, n: VarLike, d: int, n_max: int, ceil: bool) -> Var:
    q_bits, r_bits = _widths(d, n_max, ceil)
    nv = as_var(api, n)
    if d == 1:
        return nv
    q, rem = api.hint("margin.divmod_ceil" if ceil else "margin.divmod_floor", [nv, d], n_out=2)
    with api.scope("quotient"):
        rangecheck.assert_bits(api, q, bits=q_bits)
    with api.scope("remainder"):
        rangecheck.assert_in_range(api, rem, 0, d - 1, bits=r_bits)
    # floor: n = q*d + rem; ceil: n + rem = q*d. Both sides are integers below
    # 2**q_bits * d + d < 2**252 < r (checked in _widths), so the equation holds over the integers
    # and Euclid's uniqueness makes q the floor (ceil) of n / d.
    if ceil:
        api.assert_equal(nv + rem, q.scale(d), label="n+rem==q*d")
    else:
        api.assert_equal(nv, q.scale(d) + rem, label="n==q*d+rem")
    return q


def div_floor_const(api: API, n: VarLike, d: int, n_max: int) -> Var:
    """``floor(n / d)`` for a compile-time divisor d >= 1, with a hinted quotient.

    Hint "margin.divmod_floor" gives (q, rem); constrained: q in [0, 2**q_bits) (q_bits the
    width of n_max // d), rem in [0, d - 1], and n == q * d + rem (linear).
    Args:
        n: the numerator wire; d: the divisor; n_max: an inclusive bound on n (an int).
    Cost: ``div_const_cost(d, n_max)``; 0 when d == 1 (returns n).
    Soundness precondition (NOT constrained): n is an integer in [0, n_max] (the caller derives it
        from range-checked inputs). Then a lying quotient or a remainder >= d fails: see the
        comment at the equation.
    Raises:
        CircuitError: d < 1, or n_max so large that the no-wrap argument fails.
    """
    with api.scope("div_floor"):
        return _div_const(api, n, d, n_max, ceil=False)


def div_ceil_const(api: API, n: VarLike, d: int, n_max: int) -> Var:
    """``ceil(n / d)`` for a compile-time divisor d >= 1: n + rem == q * d, rem in [0, d - 1].

    Hint "margin.divmod_ceil". Cost and precondition as ``div_floor_const`` (q_bits the width of
    ceil(n_max / d)).
    """
    with api.scope("div_ceil"):
        return _div_const(api, n, d, n_max, ceil=True)


# --- the final check -----------------------------------------------------------------------------

def assert_surplus(api: API, difference: VarLike, bits: int = SURPLUS_BITS) -> None:
    """Constrain the final difference D (surplus - threshold) to be >= 0: D in [0, 2**bits).

    Args:
        bits: the width, SURPLUS_BITS (204) unless a model's bound needs more (at most 250).
    Cost: bits + 1 constraints (205 at the default).
    Soundness precondition: |D| < 2**(bits - 1) as an integer (each model's docstring derives
        it). A negative D is then the field element r - |D| > 2**253 > 2**bits, which has no
        decomposition: a shortfall cannot wrap around the field.
    """
    if not SURPLUS_BITS <= bits <= 250:
        raise CircuitError(f"assert_surplus: bits must lie in [{SURPLUS_BITS}, 250], got {bits}")
    with api.scope("surplus"):
        rangecheck.assert_bits(api, difference, bits=bits)


@register_hint("margin.divmod_wire")
def _hint_divmod_wire(ins: Sequence[int]) -> list[int]:
    """Inputs (n, d): (n // d, n % d), or (0, n) for d = 0."""
    n, d = ins
    return [n // d, n % d] if d else [0, n]


def div_floor_wire_cost(q_bits: int, d_bits: int) -> int:
    """Constraints of ``div_floor_wire``: ``(q_bits + 1) + 2 * (d_bits + 1) + 2 + 2``."""
    return (q_bits + 1) + 2 * (d_bits + 1) + 2 + 2


def div_floor_wire(api: API, n: VarLike, d: VarLike, q_bits: int, d_bits: int) -> Var:
    """``floor(n / d)`` for a divisor that is a wire (0 when d = 0).

    A hinted quotient q and remainder rem with ``n == q * d + rem``, q in [0, 2**q_bits),
    ``0 <= rem < max(d, 1)`` (``d + [d == 0] - rem - 1`` in [0, 2**d_bits)) and ``q * [d == 0] == 0``.
    Cost: ``div_floor_wire_cost(q_bits, d_bits)``.
    Soundness preconditions (NOT constrained here): 0 <= d < 2**d_bits, 0 <= n, and the true
        quotient below 2**q_bits; q_bits + d_bits + 1 <= 250, so q * d + rem cannot wrap and the
        decomposition is unique: a lying quotient or remainder fails. With d = 0 it forces n = 0
        (rem < 1), which the caller's data guarantees (the numerator is a sum over the same zeros).
    """
    if q_bits + d_bits + 1 > 250:
        raise CircuitError(f"div_floor_wire: q_bits + d_bits = {q_bits + d_bits} could wrap")
    nv, dv = as_var(api, n), as_var(api, d)
    with api.scope("div_wire"):
        q, rem = api.hint("margin.divmod_wire", [nv, dv], n_out=2)
        rangecheck.assert_bits(api, q, bits=q_bits)
        rangecheck.assert_bits(api, rem, bits=d_bits)
        dz = is_zero(api, dv)
        with api.scope("rem_below_d"):
            rangecheck.assert_bits(api, dv + dz - rem - 1, bits=d_bits)
        api.assert_r1cs(q, dv, nv - rem, label="n=q*d+rem")
        api.assert_r1cs(q, dz, 0, label="q=0_when_d=0")
    return q
