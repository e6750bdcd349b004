"""The native margin engine: each margin model in exact integer fixed point (no floats).

This module defines the semantics the circuits implement: a circuit for a model must accept
exactly the (market, portfolio, threshold) triples for which ``evaluate(...).passes`` is True.

Notation: QD, PD, RD are the model's quantity, price and rate decimals, RS = 10**RD. All inputs
are the integers of ``zkmargin.margin.model`` (sizes and amounts in base units of 10**-QD, prices
in 10**-PD, values in 10**-(QD+PD) quote, rates in 10**-RD), dense over the model's slots
(padding slots are 0 and contribute 0). ``|x|`` is the absolute value; ``min``/``max`` are exact.

Progressive brackets (rate brackets of cross / isolated / tiered, haircut tiers of tiered): for a
value x >= 0, bounds u_0 < u_1 < ... < u_{K-2} (u_{K-1} = infinity) and per-bracket rates w_b,

    P(x) = sum_{b=0}^{K-1} w_b * (c_b - c_{b-1}),   c_b = min(x, u_b),  c_{-1} = 0,  c_{K-1} = x,

i.e. each bracket's rate applies to the part of x inside that bracket (a marginal schedule, like
income tax brackets). With one bracket P(x) = w_0 * x. Because the loaders make the rates
nondecreasing, P is also ``max_b (w_b * x - d_b)`` with ``d_b = sum_{a<b} (w_b - w_a) *
(u_a - u_{a-1})`` (the "maintenance amount" form of exchanges' bracket tables); both forms give
the same integer. In-circuit: K-1 comparisons of width NOTIONAL_BITS (128) per item.

Rate brackets are read per requirement basis, as venues publish them (Binance, Bybit, OKX,
Hyperliquid USDT-margined perpetuals: one leverage-and-margin tier table per instrument):

* maintenance: the marginal schedule above, ``P(N) = max_b (mmr_b * N - d_b)``, i.e. the venues'
  "notional x maintenance margin rate of the tier - maintenance amount of the tier";
* initial: the tier rate on the whole notional, ``I(N) = imr_b * N`` for the tier b that contains N
  (the first b with N <= u_b; tiers are (u_{b-1}, u_b], as "5,000 < Position <= 10,000"), i.e.
  "notional / the tier's maximum leverage". A marginal initial schedule would ask less than the
  venue (1,350 instead of 2,000 on a 20,000 position of the example ``initial_margin_tier_rate``),
  which for a margin proof is a correctness bug; ``tier_rate`` is that function.

Every model compares scaled integers: the report's money amounts (equity, requirement, surplus,
threshold, shortfall, breakdowns) are integers at ``model.report_decimals`` decimals:
QD + PD + RD for the value models (a value times RS), BD + HD for health. The final check is
``surplus - threshold >= 0``, a difference D with |D| < 2**203, checked in-circuit as
``D in [0, 2**SURPLUS_BITS)`` with SURPLUS_BITS = 204 (``zkmargin.margin.limits``).

Bound derivations use the loaders' limits: |size| < 2**63; entries, marks, prices, short option
minimums < 2**64; |risk| < 2**64; amounts < 2**64; margins and bracket bounds < 2**128; rates
<= RS < 2**60 (RD <= 18); n_I + n_A <= 2**10; value thresholds < 2**128, health threshold < 2**64.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from . import limits as _limits
from .decimal import format_amount, parse_decimal
from .errors import SchemaError
from .limits import DUAL_SHIFT, DUAL_THRESHOLD_BITS, HEALTH_THRESHOLD_BITS, RATIO_THRESHOLD_BITS, THRESHOLD_BITS
from .model import (
    RATIO_DECIMALS,
    AssetData,
    InstrumentData,
    Market,
    Portfolio,
    RateBracket,
    TierBracket,
    VenueModel,
    risk_bound,
)
from .span import SpreadReport, evaluate_spreads

__all__ = ["MarginReport", "PositionLine", "AssetLine", "evaluate", "progressive", "tier_rate", "parse_threshold",
           "split_threshold", "threshold_bits"]


@dataclass(frozen=True)
class PositionLine:
    """One held position (size != 0) in a report. Money amounts at the report's decimals.

    Attributes:
        index: the 0-based instrument slot. instrument: its symbol. size: signed, base units.
        notional: |size| * mark * RS. upnl: size * (mark - entry) * RS.
        requirement: the bracket requirement P(|size| * mark) (cross, isolated, tiered; 0 for scenario).
        margin: the isolated margin * RS (isolated; else 0).
        surplus: margin + upnl - requirement (isolated; else None).
    """

    index: int
    instrument: str
    size: int
    notional: int
    upnl: int
    requirement: int
    margin: int = 0
    surplus: int | None = None


@dataclass(frozen=True)
class AssetLine:
    """One asset with collateral or debt in a report. Money amounts at the report's decimals.

    Attributes:
        index: the 0-based asset slot. asset: its symbol.
        amount: collateral amount, base units. value: its value (value models: amount * price * RS;
            health: the rounded-down base value * 10**HD).
        weighted: the value after haircut (cross, scenario) or tiers (tiered); None for health,
            whose weighting is rounded once over the sum.
        debt: debt amount (health), base units. debt_value: its rounded-up base value * 10**HD.
    """

    index: int
    asset: str
    amount: int
    value: int
    weighted: int | None
    debt: int = 0
    debt_value: int = 0


@dataclass(frozen=True)
class MarginReport:
    """The outcome of one margin check.

    Money amounts are ints at ``decimals`` decimals (``model.report_decimals``).

    Attributes:
        model: the margin model (cross, isolated, scenario, health, tiered).
        decimals: decimals of every money amount below.
        equity: cross / scenario / tiered: collateral after haircuts plus uPnL; isolated: the sum of
            margin + uPnL over held positions; health: weighted collateral * 10**HD.
        requirement: cross / tiered: sum of bracket requirements; scenario: max(worst loss, floor, 0);
            isolated: sum over held positions; health: h * debt.
        surplus: equity - requirement, except isolated: the smallest per-position surplus (the
            binding position's), 0 without held positions.
        threshold: what ``surplus`` must reach: the public threshold * RS; 0 for health (there the
            public threshold h is inside the requirement).
        public_threshold: the public input as given, at ``model.threshold_decimals``.
        passes: ``surplus >= threshold`` (isolated without held positions: True).
        shortfall: ``max(0, threshold - surplus)`` (0 when it passes).
        binding: scenario: 0-based index of the worst scenario (first on ties); isolated: 0-based
            instrument slot of the position with the smallest surplus (first on ties); else None.
        binding_label: what sets the requirement or fails, 1-based for people: "scenario 13",
            "short option minimum", "position 2 (ETH-PERP)"; "" when nothing binds.
        health_factor: health only: weighted collateral / debt as an exact Fraction (None: no debt).
        scenario_losses: scenario only: the portfolio loss in each scenario * RS (negative: a gain);
            with scenario groups, group by group (group 0's S losses, then group 1's, ...).
        floor: scenario only: the short option minimum * RS (0 when off), summed over groups.
        group_requirements: scenario with n_groups > 1: each group's requirement * RS
            (``max(0, its worst loss, its floor)``), whose sum is ``requirement``.
        spreads: scenario with spreads: the SpreadReport (``zkmargin.margin.span``: tier and group
            deltas, spread counts, charges and credits); the group requirements are then
            ``max(RS * scan + charges - credits, RS * floor)``.
        positions, assets: per-item breakdowns (held positions; assets with collateral or debt).
        statement: "surplus" or "ratio" (``model.statement``). With "ratio", ``surplus`` is
            equity * 10**RATIO_DECIMALS and ``threshold`` the public ratio t times the requirement
            (both at ``decimals + RATIO_DECIMALS``), so ``passes`` is ``equity / requirement >= t``;
            ``ratio`` is equity / requirement (None: no requirement).
        basis: the requirement basis this report checks ("initial", "maintenance"; "" without rates).
        parts: with two bases (``requirement: "initial+maintenance"``) the initial and the
            maintenance report; the fields above are then the first failing part's (the initial
            part's when both pass) and ``passes`` is both parts'.
    """

    model: str
    decimals: int
    equity: int
    requirement: int
    surplus: int
    threshold: int
    public_threshold: int
    passes: bool
    shortfall: int
    binding: int | None = None
    binding_label: str = ""
    health_factor: Fraction | None = None
    health_decimals: int = 0
    scenario_losses: tuple[int, ...] = ()
    floor: int = 0
    group_requirements: tuple[int, ...] = ()
    spreads: SpreadReport | None = None
    positions: tuple[PositionLine, ...] = ()
    assets: tuple[AssetLine, ...] = ()
    statement: str = "surplus"
    ratio: Fraction | None = None
    basis: str = ""
    parts: tuple[MarginReport, ...] = ()

    def amount(self, x: int) -> str:
        """``x`` (at the report's decimals) as a human amount, e.g. "6,620.00"."""
        return format_amount(x, self.decimals)

    def explain(self) -> str:
        """A one-line human account: which rule failed (or held) and by how much, in decimal units.

        Returns:
            e.g. ``"scenario margin: requirement 6,620.00 exceeds equity 5,000.00 by 1,620.00;
            binding scenario 13"``.
        """
        if self.model == "health":
            return self._explain_health()
        if self.parts:
            return "; ".join(p.explain() for p in self.parts)
        if self.statement != "surplus":
            return self._explain_ratio()
        title = {"cross": "cross margin", "isolated": "isolated margin", "scenario": "scenario margin",
                 "tiered": "tiered-collateral margin", "simm": "SIMM sensitivity margin"}[self.model]
        if self.basis:
            title = f"{title} ({self.basis})"
        a = self.amount
        if self.model == "isolated":
            line = next((p for p in self.positions if p.index == self.binding), None)
            if line is None:
                return f"{title}: passes: no open position"
            title = f"{title}: {self.binding_label}"
            equity, requirement, what = line.margin + line.upnl, line.requirement, "margin + uPnL"
        else:
            equity, requirement, what = self.equity, self.requirement, "equity"
        suffix = f"; binding {self.binding_label}" if self.binding_label and self.model == "scenario" else ""
        if self.model == "simm":
            suffix = f" ({self.binding_label})"
        if self.passes:
            return (f"{title}: passes: {what} {a(equity)} covers requirement {a(requirement)}, surplus "
                    f"{a(self.surplus)} (threshold {a(self.threshold)}){suffix}")
        if self.surplus < 0:
            msg = f"{title}: requirement {a(requirement)} exceeds {what} {a(equity)} by {a(-self.surplus)}"
            if self.threshold:
                msg += f" (short of the threshold {a(self.threshold)} by {a(self.shortfall)})"
            return msg + suffix
        return (f"{title}: surplus {a(self.surplus)} ({what} {a(equity)} - requirement {a(requirement)}) is "
                f"below the threshold {a(self.threshold)} by {a(self.shortfall)}{suffix}")

    def _explain_ratio(self) -> str:
        title = {"cross": "cross margin", "scenario": "scenario margin", "tiered": "tiered-collateral margin"}.get(
            self.model, self.model)
        if self.basis:
            title = f"{title} ({self.basis})"
        t = format_amount(self.public_threshold, RATIO_DECIMALS, min_decimals=2)
        a = self.amount
        if self.ratio is None:
            verdict = "passes" if self.passes else "fails"
            return f"{title} ratio: {verdict}: no requirement (equity {a(self.equity)})"
        r = _ratio(self.ratio, 6) if self.ratio >= 0 else "-" + _ratio(-self.ratio, 6)
        rel = ">" if self.statement == "ratio-above" else ">="
        if self.passes:
            return (f"{title} ratio: passes: equity / requirement = {a(self.equity)} / {a(self.requirement)} = {r} "
                    f"{rel} required {t}")
        return (f"{title} ratio: equity / requirement = {a(self.equity)} / {a(self.requirement)} = {r} is not "
                f"{rel} the required {t}")

    def _explain_health(self) -> str:
        hd = self.health_decimals
        h = format_amount(self.public_threshold, hd)
        weighted = format_amount(self.equity, self.decimals)
        debt = format_amount(sum(line.debt_value for line in self.assets), self.decimals)
        if self.health_factor is None:
            return f"health factor: passes: no debt (weighted collateral {weighted})"
        hf = _ratio(self.health_factor)
        if self.passes:
            return f"health factor: passes: {hf} >= required {h} (weighted collateral {weighted}, debt {debt})"
        return (f"health factor: {hf} is below the required {h}: weighted collateral {weighted} is short of "
                f"{h} x debt {debt} = {self.amount(self.requirement)} by {self.amount(self.shortfall)}")


def _ratio(x: Fraction, digits: int = 4) -> str:
    """A Fraction >= 0 rounded down to ``digits`` decimals (exact values lose no digits)."""
    return format_amount(x.numerator * 10**digits // x.denominator, digits, min_decimals=2)


def progressive(x: int, bounds: Sequence[int | None], rates: Sequence[int]) -> int:
    """The progressive bracket function P(x) of the module docstring.

    Args:
        x: the value (>= 0).
        bounds: the K ``up_to`` bounds, strictly increasing, the last None (unbounded).
        rates: the K per-bracket rates (any ints; the loaders make them nondecreasing).
    Returns:
        ``sum_b rates[b] * (min(x, bounds[b]) - min(x, bounds[b-1]))`` (with min(x, None) = x).
    Raises:
        ValueError: bounds and rates differ in length.
    """
    if len(bounds) != len(rates):
        raise ValueError(f"{len(bounds)} bounds but {len(rates)} rates")
    total = prev = 0
    for u, w in zip(bounds, rates, strict=True):
        c = x if u is None else min(x, u)
        total += w * (c - prev)
        prev = c
    return total


def tier_rate(x: int, bounds: Sequence[int | None], rates: Sequence[int]) -> int:
    """``rates[b] * x`` for the tier b containing x: the first b with ``bounds[b]`` None or x <= bounds[b].

    Args:
        x: the value (>= 0). bounds: the K ``up_to`` bounds, strictly increasing, the last None.
        rates: the K per-tier rates.
    Raises:
        ValueError: bounds and rates differ in length.
    """
    if len(bounds) != len(rates):
        raise ValueError(f"{len(bounds)} bounds but {len(rates)} rates")
    for u, w in zip(bounds, rates, strict=True):
        if u is None or x <= u:
            return w * x
    raise ValueError("the last bound must be None (unbounded)")


def threshold_bits(model: VenueModel) -> int:
    """The width of one public threshold: health 64, a ratio 32, two thresholds 125 each, else 128."""
    if model.margin_model == "health":
        return HEALTH_THRESHOLD_BITS
    if model.statement.startswith("ratio"):
        return RATIO_THRESHOLD_BITS
    return DUAL_THRESHOLD_BITS if len(model.bases) > 1 else THRESHOLD_BITS


def parse_threshold(model: VenueModel, threshold: int | str) -> int:
    """The public threshold input as an integer, range-checked.

    Args:
        model: the venue model. threshold: an int (the public input itself) or a decimal string at
            ``model.threshold_decimals`` ("1.30" for a health factor, "1000" quote for a surplus,
            "1.05" for a ratio). With two bases (``requirement: "initial+maintenance"``) the string
            gives both, initial first: "1000,500"; the int is the packed public input.
    Returns:
        The int: one threshold t, 0 <= t < 2**threshold_bits(model); with two bases the packed
        ``t_initial * 2**DUAL_SHIFT + t_maintenance`` (each below 2**125), an integer below r.
    Raises:
        SchemaError: a malformed string, a negative or too large value, a missing or extra part.
            TypeError: neither int nor str.
    """
    bits = threshold_bits(model)
    dual = len(model.bases) > 1
    if isinstance(threshold, str):
        parts = threshold.split(",")
        if len(parts) != len(model.bases):
            want = "two thresholds, initial and maintenance, as \"1000,500\"" if dual else "one threshold"
            raise SchemaError("", "threshold", f"{threshold!r}: the {model.model_id} statement takes {want}")
        names = ("threshold.initial", "threshold.maintenance") if dual else ("threshold",)
        vals = [parse_decimal(p, model.threshold_decimals, path=n, bits=bits)
                for p, n in zip(parts, names, strict=True)]
        return (vals[0] << DUAL_SHIFT) + vals[1] if dual else vals[0]
    if isinstance(threshold, bool):
        raise TypeError("threshold: expected an int or a decimal string, got a bool")
    t = operator.index(threshold)
    if dual:
        hi, lo = divmod(t, 1 << DUAL_SHIFT) if t >= 0 else (-1, 0)
        for what, v in (("initial", hi), ("maintenance", lo)):
            if not 0 <= v < 1 << bits:
                raise SchemaError("", f"threshold.{what}", f"{v} (of the packed {t}) is out of range [0, 2^{bits})")
        return t
    if not 0 <= t < 1 << bits:
        raise SchemaError("", "threshold", f"{t} is out of range [0, 2^{bits})")
    return t


def split_threshold(model: VenueModel, t: int) -> tuple[int, ...]:
    """The thresholds of a parsed public threshold, one per ``model.bases`` (initial first)."""
    if len(model.bases) > 1:
        return divmod(t, 1 << DUAL_SHIFT)
    return (t,)


def evaluate(model: VenueModel, market: Market, portfolio: Portfolio, threshold: int | str) -> MarginReport:
    """Evaluate a portfolio against a venue's margin rule, exactly.

    Args:
        model: the venue model; market, portfolio: documents loaded against it.
        threshold: the public threshold: an int at ``model.threshold_decimals`` or a decimal string.
            Value models: the surplus required, in quote (value decimals QD + PD). Health: the
            required health factor h (health decimals HD).
    Returns:
        The MarginReport.
    Raises:
        SchemaError: market or portfolio belong to another model; a bad threshold.
    """
    for what, mid in (("market", market.model_id), ("portfolio", portfolio.model_id)):
        if mid != model.model_id:
            raise SchemaError(what, "model_id", f"{mid!r} does not match the venue model {model.model_id!r}")
    t = parse_threshold(model, threshold)
    kind = model.margin_model
    if kind == "simm":
        from .simm import evaluate_simm
        rep = evaluate_simm(model, market, portfolio, t)
        return rep if model.statement == "surplus" else _as_ratio(rep, t, model.statement == "ratio-above")
    if kind == "health":
        return _health(model, market, portfolio, t)
    if kind == "isolated" and len(model.bases) == 1:
        return _isolated(model, market, portfolio, t)  # every statement form per position
    if len(model.bases) == 1 and model.statement == "surplus":
        return _pooled(model, market, portfolio, t)
    parts = []
    for basis, tb in zip(model.bases, split_threshold(model, t), strict=True):
        m = replace(model, requirement=basis) if basis != model.requirement else model
        if kind == "isolated":
            parts.append(replace(_isolated(m, market, portfolio, tb), basis=basis))
            continue
        rep = replace(_pooled(m, market, portfolio, tb), basis=basis)
        parts.append(_as_ratio(rep, tb, model.statement == "ratio-above") if model.statement != "surplus" else rep)
    if len(parts) == 1:
        return parts[0]
    first = next((p for p in parts if not p.passes), parts[0])
    return replace(first, public_threshold=t, passes=all(p.passes for p in parts), basis="", parts=tuple(parts))


def _as_ratio(rep: MarginReport, t: int, above: bool) -> MarginReport:
    """A surplus-form report turned into the ratio statement ``equity / requirement >= t`` (t at
    RATIO_DECIMALS): ``equity * 10**RATIO_DECIMALS - t * requirement >= 0`` (with no requirement it
    passes exactly when equity >= 0); ``above`` (``ratio-above``): ``> t``, i.e. ``... - 1 >= 0``.
    Bounds: ``zkmargin.margin.limits.RATIO_SURPLUS_BITS``."""
    surplus, threshold = rep.equity * 10**RATIO_DECIMALS, t * rep.requirement + int(above)
    passes = surplus >= threshold
    return replace(rep, statement="ratio-above" if above else "ratio", surplus=surplus, threshold=threshold,
                   passes=passes,
                   shortfall=0 if passes else threshold - surplus,
                   ratio=Fraction(rep.equity, rep.requirement) if rep.requirement else None)


def _rates(model: VenueModel, brackets: tuple[RateBracket, ...]) -> list[int]:
    if model.requirement == "initial":
        return [b.initial for b in brackets]
    return [b.maintenance for b in brackets]


def _requirement(model: VenueModel, ins: InstrumentData, notional: int) -> int:
    """The requirement of one position (module docstring): the initial rate of the notional's tier on
    the whole notional, or the marginal maintenance schedule P(notional)."""
    bounds = [b.up_to for b in ins.rate_brackets]
    if model.requirement == "initial":
        return tier_rate(notional, bounds, _rates(model, ins.rate_brackets))
    return progressive(notional, bounds, _rates(model, ins.rate_brackets))


def _tier_value(model: VenueModel, tiers: tuple[TierBracket, ...], value: int) -> int:
    """P(value) with weights RS - haircut_b over the asset's tiers."""
    rs = model.rate_scale
    return progressive(value, [b.up_to for b in tiers], [rs - b.haircut for b in tiers])


def _report(model: VenueModel, t: int, equity: int, requirement: int, surplus: int, threshold: int,
            **kw: object) -> MarginReport:
    passes = bool(kw.pop("passes", surplus >= threshold))
    return MarginReport(model=model.margin_model, decimals=model.report_decimals, equity=equity,
                        requirement=requirement, surplus=surplus, threshold=threshold, public_threshold=t,
                        passes=passes, shortfall=0 if passes else threshold - surplus, **kw)  # type: ignore[arg-type]


def collateral_scale(model: VenueModel, j: int) -> int:
    """10**(QD - q_j): turns amount * price of asset slot j into the value unit 10**-(QD+PD) (cross,
    scenario, tiered; ``VenueModel.asset_scale``: 1 unless the model declares per-symbol decimals)."""
    return model.asset_scale(j)


def model_size(model: VenueModel, i: int, ins: InstrumentData, size: int, entry: int) -> int:
    """Instrument slot i's size in the model's quantity unit: ``size * 10**(QD - q_i)`` (the size
    itself without per-instrument decimals).

    Per-instrument decimals (``decimals.instruments``, ``zkmargin.margin.limits``): |size| < 2**128
    base units, and |S| * mark (the notional), |S| * entry (the entry value) and, scenario, |S| * R_i
    (``risk_bound``: every P&L and floor term) must each stay below 2**NOTIONAL_BITS, the caps the
    circuit range-checks (``circuits.margin.gadgets.model_position``, ``circuits.margin.scenario``).
    Raises:
        SchemaError: a cap reached: the account is outside the model (the circuit has no witness).
    """
    scaled = size * model.instrument_scale(i)
    if model.wide_sizes:
        caps = [("notional", ins.mark), ("entry value", entry)]
        if model.spec.scenarios:
            caps.append(("risk", risk_bound(model, ins)))
        for what, factor in caps:
            if (abs(scaled) * factor) >> _limits.NOTIONAL_BITS:
                raise SchemaError("portfolio", f"position {ins.symbol}",
                                  f"its {what} (size {size} base units times {factor}) reaches "
                                  f"2^{_limits.NOTIONAL_BITS} value units: outside the model's bounds "
                                  "(zkmargin.margin.limits.NOTIONAL_BITS)")
    return scaled


def _pooled(model: VenueModel, market: Market, portfolio: Portfolio, t: int) -> MarginReport:
    """cross, tiered and scenario: one pool of collateral against the whole portfolio.

    Equity (all three), scaled by RS, with a_j, p_j the collateral amount and price of asset j and
    s_i, m_i, e_i the size, mark and entry of instrument i::

        E = sum_j C_j + RS * sum_i s_i * (m_i - e_i)
        cross, scenario: C_j = a_j * p_j * (RS - haircut_j)
                         (signed collateral: C_j = a_j * p_j * lw_j for a_j < 0, a borrowed balance
                         at its liability weight lw_j >= RS; |C_j| < 2**191.12, zkmargin.margin.limits)
        tiered:          C_j = P_tiers_j(a_j * p_j)  with weights RS - haircut_{j,b}
                         (signed collateral: a borrowed balance at its liability weight, as cross)

    (uPnL convention: collateral excludes premiums and variation not yet settled; entry is the
    trade price, so size * (mark - entry) is the position's value change, for futures and options.)

    Requirement, scaled by RS::

        cross, tiered: Q = sum_i P_rates_i(|s_i| * m_i)   (rates: initial or maintenance, per the model)
        scenario:      loss_s = -sum_i s_i * risk_i[s]                 (value units; a gain is negative)
                       floor  = sum_i max(-s_i, 0) * som_i             (0 when the floor is off)
                       Q = RS * max(0, max_s loss_s, floor)
        scenario with G > 1 groups (SPAN's combined commodities: instrument i in group g_i):
                       loss_{g,s} = -sum_{i: g_i = g} s_i * risk_i[s],  floor_g likewise
                       Q = RS * sum_g max(0, max_s loss_{g,s}, floor_g)
                       (each group's worst scenario separately, summed: a gain in one commodity
                       does not offset a loss in another)
        scenario with spreads (``zkmargin.margin.span``: SPAN's intra-commodity spread charges
                       and inter-commodity spread credits, in the published priority order):
                       Q = sum_g max(RS * max(0, max_s loss_{g,s}) + charges_g - credits_g, RS * floor_g)

    Check: ``E - Q >= RS * T``; surplus = E - Q, threshold = RS * T (report decimals QD + PD + RD).

    Per-symbol decimals (``decimals.assets``, q_j <= QD): a_j is in base units of 10**-q_j, up to
    2**128 of them (signed: |a_j| < 2**128), and a_j * p_j above reads a_j * p_j * 10**(QD - q_j)
    (``collateral_scale``), the value V_j in value units; each |V_j| must stay below
    2**WIDE_VALUE_BITS (else SchemaError: outside the model, the circuit has no witness), so every
    bound below holds as derived for 64-bit amounts (where V_j < 2**128 by construction).

    Per-instrument decimals (``decimals.instruments``; cross, tiered, scenario): s_i above is the size
    in the model's quantity unit, ``model_size``: the base-unit size (|s| < 2**128) times 10**(QD - q_i),
    its notional and entry value capped below 2**128, so |RS * s * (m - e)|, P_rates(N) < 2**188 and
    every bound below grows by at most one bit (re-derivation in ``zkmargin.margin.limits``); scenario:
    |s_i| * R_i < 2**128 too (R_i = ``risk_bound``: the largest |risk_i[s]|, and som_i with the floor),
    so |loss_s|, floor < 2**138 (signed width LOSS_BITS + 1).

    Bounds: C_j <= RS * a_j * p_j < 2**188; |RS * s * (m - e)| < 2**187; |E| < 2**198 (at most 2**10
    items); P_rates(N) <= RS * N < 2**187 (N = |s| * m < 2**127), Q < 2**197; |loss_s|, floor <
    2**137 (signed width LOSS_BITS); RS * T < 2**188; |E - Q - RS * T| < 2**199.
    """
    rs, kind = model.rate_scale, model.margin_model
    sizes, entries = portfolio.sizes(model), portfolio.entries(model)
    amounts = portfolio.collateral_amounts(model)
    equity, requirement = 0, 0
    position_lines, asset_lines = [], []
    for j, asset in enumerate(market.assets):
        a = amounts[j]
        value = a * asset.price * collateral_scale(model, j)
        if abs(value) >> _limits.WIDE_VALUE_BITS:  # per-symbol decimals only: else |a * p| < 2**128
            raise SchemaError("portfolio", f"collateral {asset.symbol}",
                              f"its value at price {asset.price} reaches 2^{_limits.WIDE_VALUE_BITS} value units: "
                              "outside the model's bounds (zkmargin.margin.limits.WIDE_VALUE_BITS)")
        weighted = _tier_value(model, asset.tiers, value) if kind == "tiered" else value * (rs - asset.haircut)
        if a < 0:  # signed collateral: a borrowed balance at its liability weight (>= RS)
            weighted = value * asset.liability_weight
        equity += weighted
        if a:
            asset_lines.append(AssetLine(j, asset.symbol, a, value * rs, weighted))
    scaled = []  # sizes in the model's quantity unit (per-instrument decimals: s * 10**(QD - q_i))
    for i, ins in enumerate(market.instruments):
        s = model_size(model, i, ins, sizes[i], entries[i])
        scaled.append(s)
        upnl = rs * s * (ins.mark - entries[i])
        notional = abs(s) * ins.mark
        req = _requirement(model, ins, notional) if kind != "scenario" else 0
        equity += upnl
        requirement += req
        if s:
            position_lines.append(PositionLine(i, ins.symbol, sizes[i], notional * rs, upnl, req))
    extra: dict[str, object] = {}
    if kind == "scenario":
        groups: list[tuple[list[int], int, int]] = []  # (losses, floor, worst) per group
        for g in range(model.n_groups):
            members = [(i, ins) for i, ins in enumerate(market.instruments) if ins.group == g]
            losses = [-sum(scaled[i] * ins.risk_array[sc] for i, ins in members) for sc in range(model.n_scenarios)]
            floor = sum(max(-scaled[i], 0) * ins.short_option_minimum for i, ins in members) \
                if model.short_option_floor else 0
            worst = max(range(len(losses)), key=_first_max_key(losses))  # first index on ties
            groups.append((losses, floor, worst))
        per_group = [rs * max(0, losses[worst], floor) for losses, floor, worst in groups]
        spreads = None
        if model.spreads:  # SPAN spread charges and credits: zkmargin.margin.span
            used = market.instruments
            scans = [max(0, losses[worst]) for losses, _, worst in groups]
            spreads = evaluate_spreads(model.spreads, model.n_groups, sizes[: len(used)], [x.tier for x in used],
                                       [x.delta for x in used], scans, market.intra_charges, market.inter_rates)
            per_group = [max(rs * scan + charge - credit, rs * floor) for scan, charge, credit, (_, floor, _)
                         in zip(scans, spreads.group_charges, spreads.group_credits, groups, strict=True)]
        requirement = sum(per_group)
        labels = []
        for g, (losses, floor, worst) in enumerate(groups):
            if per_group[g] == 0:
                continue
            what = "short option minimum" if rs * floor == per_group[g] and (floor > losses[worst] or spreads) \
                else f"scenario {worst + 1}"
            if spreads and what != "short option minimum":  # name the spread parts that set it
                parts = [what] if losses[worst] > 0 else []
                for name, x, sign in (("intra-commodity spread charge", spreads.group_charges[g], "+"),
                                      ("inter-commodity spread credit", spreads.group_credits[g], "-")):
                    if x:
                        parts.append(f"{sign} {name} {format_amount(x, model.report_decimals)}")
                what = " ".join(parts).removeprefix("+ ")
            labels.append(what if model.n_groups == 1 else f"group {g + 1}: {what}")
        extra = {"binding": groups[0][2] if model.n_groups == 1 else None, "binding_label": "; ".join(labels),
                 "scenario_losses": tuple(rs * x for losses, _, _ in groups for x in losses),
                 "floor": rs * sum(f for _, f, _ in groups),
                 "group_requirements": tuple(per_group) if model.n_groups > 1 else (), "spreads": spreads}
    return _report(model, t, equity, requirement, equity - requirement, rs * t,
                   positions=tuple(position_lines), assets=tuple(asset_lines), **extra)


def _first_max_key(losses: list[int]) -> Callable[[int], tuple[int, int]]:
    """Sort key for ``max`` over scenario indices that prefers the first index on ties."""
    return lambda sc: (losses[sc], -sc)


def _isolated(model: VenueModel, market: Market, portfolio: Portfolio, t: int) -> MarginReport:
    """isolated: every held position carries its own margin and must pass on its own.

    For each slot i with s_i != 0 (a slot with size 0 is not held and is not checked; in-circuit
    ``active_i = 1 - is_zero(s_i)`` selects it), with margin M_i (value units)::

        D_i = RS * M_i + RS * s_i * (m_i - e_i) - P_rates_i(|s_i| * m_i) - RS * T  >= 0

    i.e. the threshold T applies to every held position's surplus. The report's surplus is
    min_i (RS * M_i + RS * s_i * (m_i - e_i) - P_rates_i(|s_i| * m_i)) over held positions, binding
    the first slot attaining it; with no held position the check is vacuous (passes, surplus 0).

    Statement forms: ``ratio`` (``ratio-above``) checks every held position's own ratio
    ``(RS * M_i + RS * uPnL_i) * 10**4 - t * P_i >= 0`` (``- 1``); the report is the binding position's
    (the least such difference, first slot on ties) with its ratio; both bases: one report per basis
    (``evaluate``), each position against each threshold.

    Bounds: RS * M_i < 2**188, |RS * s * (m - e)| < 2**187, P_rates < 2**187, RS * T < 2**188, so
    |D_i| < 2**190.
    """
    rs = model.rate_scale
    sizes, entries, margins = portfolio.sizes(model), portfolio.entries(model), portfolio.margins(model)
    lines = []
    for i, ins in enumerate(market.instruments):
        if not sizes[i]:
            continue
        s = model_size(model, i, ins, sizes[i], entries[i])
        notional = abs(s) * ins.mark
        upnl = rs * s * (ins.mark - entries[i])
        req = _requirement(model, ins, notional)
        margin = rs * margins[i]
        lines.append(PositionLine(i, ins.symbol, sizes[i], notional * rs, upnl, req, margin, margin + upnl - req))
    if not lines:
        return replace(_report(model, t, 0, 0, 0, rs * t, passes=True), statement=model.statement)
    if model.statement != "surplus":  # each position's own ratio; the binding one is the least margin
        above = model.statement == "ratio-above"
        worst = min(lines, key=lambda p: ((p.margin + p.upnl) * 10**RATIO_DECIMALS - t * p.requirement, p.index))
        assert worst.surplus is not None
        rep = _report(model, t, worst.margin + worst.upnl, worst.requirement, worst.surplus, rs * t,
                      binding=worst.index, binding_label=f"position {worst.index + 1} ({worst.instrument})",
                      positions=tuple(lines))
        return _as_ratio(rep, t, above)
    worst = min(lines, key=lambda p: (p.surplus, p.index))
    assert worst.surplus is not None
    return _report(model, t, sum(p.margin + p.upnl for p in lines), sum(p.requirement for p in lines),
                   worst.surplus, rs * t, binding=worst.index,
                   binding_label=f"position {worst.index + 1} ({worst.instrument})", positions=tuple(lines))


def health_divisor(model: VenueModel, j: int) -> int:
    """Z_j = 10**(q_j + PD - BD): what turns amount * price of asset slot j into base-currency units
    (q_j the slot's quantity decimals: its own with per-symbol decimals, else QD)."""
    return 10 ** (model.asset_quantity_decimals(j) + model.price_decimals - model.base_decimals)


def _liquidation_threshold(market: Market, portfolio: Portfolio, asset: AssetData) -> int:
    """The asset's liquidation threshold for this account: its e-mode category's when the account is
    in a category (``portfolio.emode`` > 0) in which the asset is collateral (Aave V3.2+'s
    ``collateralBitmap``; V3.0's one category per asset is the special case of one bit), else its own."""
    e = portfolio.emode
    if e and e in asset.emode:
        return market.emode[e - 1].liquidation_threshold
    return asset.liquidation_threshold


def _health(model: VenueModel, market: Market, portfolio: Portfolio, t: int) -> MarginReport:
    """health (lending): weighted collateral must cover h times the debt, by the venue's formula.

    With a_j, d_j the collateral and debt amounts of asset j, p_j its price, lt_j its liquidation
    threshold (10**-RD, RS = 10**RD), BD the base decimals and Z = 10**(QD + PD - BD) (so a value
    a * p in 10**-(QD+PD) becomes base units of 10**-BD), h the public threshold (10**-HD,
    WAD = 10**HD)::

        cv_j = floor(a_j * p_j / Z)          collateral value, rounded DOWN (against the borrower)
        dv_j = ceil(d_j * p_j / Z)           debt value, rounded UP; aave-v3: rounded DOWN
        S    = sum_j cv_j * lt_j,  C = sum_j cv_j,  D = sum_j dv_j

    and by ``model.health_formula`` (the parameter ``formula``):

    * floor-weighted (the default): ``W = floor(S / RS)``; check ``W * WAD - h * D >= 0`` (the
      health factor W / D compared exactly, never rounded up);
    * aave-v3.5 (Aave's current GenericLogic, aave-dao/aave-v3-origin): ``HF = floor(wadDiv(S, D)
      / RS)`` with ``wadDiv(a, b) = floor((a * WAD + floor(b / 2)) / b)`` (half up); ``HF >= h``
      is exactly ``S * WAD + floor(D / 2) - h * RS * D >= 0``;
    * aave-v3 (the earlier GenericLogic, aave/aave-v3-core): the average liquidation threshold is
      floored first, ``L = floor(S / C)`` (0 without collateral), ``X = percentMul(C, L) =
      floor((C * L + floor(RS / 2)) / RS)``, ``HF = wadDiv(X, D)``; ``HF >= h`` is exactly
      ``X * WAD + floor(D / 2) - h * D >= 0``. Debts are floored as that version did.

    E-mode (``model.n_emode`` > 0, Aave V3's efficiency mode): the account's category e (0 = none)
    is part of the account; lt_j is the category's liquidation threshold when e > 0 and asset j is
    collateral in category e, else the asset's own (``_liquidation_threshold``; GenericLogic's
    ``isInEModeCategory`` / ``collateralBitmap``). E-mode price sources (V3.0-V3.1) are not modelled:
    every asset is priced by the market's one price.

    Values are converted to the base currency as Aave v3's GenericLogic does (amount * price /
    10**asset decimals). With per-symbol decimals (``decimals.assets``) Z is per asset,
    ``Z_j = 10**(q_j + PD - BD)`` (``health_divisor``), amounts reach 2**128 and each cv_j, dv_j
    must stay below 2**WIDE_VALUE_BITS (else SchemaError: the account is outside the model; the
    circuit has no witness for it). The report's equity and requirement are the two sides of the check
    (decimals ``model.report_decimals``), threshold 0; the health factor is W / D
    (floor-weighted) or the protocol's rounded HF (aave). No debt: passes.
    In-circuit each floor / ceil is a hinted quotient with a range-checked remainder.

    Bounds: a * p, d * p < 2**128 so cv, dv < 2**128 (per-symbol decimals: a * p < 2**192, and
    cv, dv < 2**128 by the cap, the re-derivation in ``zkmargin.margin.limits``); S < 2**198
    (RS < 2**60), C, D < 2**138;
    floor-weighted: W * WAD < 2**198, h * D < 2**202, |difference| < 2**203. With the Aave
    formulas RD <= 4 and HD <= 18 (loader): S < 2**152, S * WAD < 2**212, h * RS * D < 2**216
    (aave-v3.5, checked at AAVE_SURPLUS_BITS = 218); X < 2**138, X * WAD < 2**198 (aave-v3).
    """
    rs, hd, formula = model.rate_scale, model.health_decimals, model.health_formula
    wad = 10**hd
    amounts, debts = portfolio.collateral_amounts(model), portfolio.debt_amounts(model)
    weighted_sum, collateral_total, debt_total, lines = 0, 0, 0, []
    for j, asset in enumerate(market.assets):
        z = health_divisor(model, j)
        cv = amounts[j] * asset.price // z
        dv = debts[j] * asset.price // z if formula == "aave-v3" else -(-debts[j] * asset.price // z)
        if max(cv, dv) >> _limits.WIDE_VALUE_BITS:
            what = "collateral" if cv >> _limits.WIDE_VALUE_BITS else "debt"
            raise SchemaError("portfolio", f"{what} {asset.symbol}",
                              f"its value at price {asset.price} reaches 2^{_limits.WIDE_VALUE_BITS} base-currency "
                              "units: outside the model's bounds (zkmargin.margin.limits.WIDE_VALUE_BITS)")
        weighted_sum += cv * _liquidation_threshold(market, portfolio, asset)
        collateral_total += cv
        debt_total += dv
        if amounts[j] or debts[j]:
            lines.append(AssetLine(j, asset.symbol, amounts[j], cv * wad, None, debts[j], dv * wad))
    hf: Fraction | None = None
    if formula == "floor-weighted":
        w = weighted_sum // rs
        hf = Fraction(w, debt_total) if debt_total else None
        equity, requirement = w * wad, t * debt_total
    elif formula == "aave-v3.5":
        equity, requirement = weighted_sum * wad + debt_total // 2, t * rs * debt_total
        if debt_total:
            hf = Fraction((weighted_sum * wad + debt_total // 2) // debt_total // rs, wad)
    else:  # aave-v3
        avg_lt = weighted_sum // collateral_total if collateral_total else 0
        x = (collateral_total * avg_lt + rs // 2) // rs
        equity, requirement = x * wad + debt_total // 2, t * debt_total
        if debt_total:
            hf = Fraction((x * wad + debt_total // 2) // debt_total, wad)
    return _report(model, t, equity, requirement, equity - requirement, 0, health_factor=hf,
                   health_decimals=hd, assets=tuple(lines))
