"""Test support for the margin circuits (private): small venue models and random valid documents.

Shared by tests/circuits/test_margin_*.py (pytest's importlib mode gives test files no shared
helper module). Every document is built from ints and then round-tripped through the validating
loaders (``load_market(market.to_dict(model), model)``), so it satisfies every bound and rule of
``zkmargin.margin.schema``: a generator bug shows up as a SchemaError, never as a bogus case.

Values mix zeros, small numbers, mid-sized ones and values at the very top of their ranges
(sizes near +-2**63, amounts and prices near 2**64, bracket bounds near 2**128), and bracket
bounds are sometimes placed exactly at (or one off) the notional they will be compared with.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from zkmargin.errors import UnsatisfiedConstraintError
from zkmargin.field import R
from zkmargin.margin.engine import MarginReport, evaluate, threshold_bits
from zkmargin.margin.limits import (
    AMOUNT_BITS,
    DUAL_SHIFT,
    NOTIONAL_BITS,
    PRICE_BITS,
    RISK_BITS,
    SIZE_BITS,
    VALUE_BITS,
    WIDE_SIZE_BITS,
)
from zkmargin.margin.model import (
    RATIO_DECIMALS,
    AssetData,
    EModeCategory,
    Holding,
    InstrumentData,
    Market,
    Portfolio,
    Position,
    RateBracket,
    TierBracket,
    VenueModel,
    risk_bound,
)
from zkmargin.margin.schema import load_market, load_model, load_portfolio

from ..compiler import build
from ..hints import HintFn, override_hints
from .base import MarginCircuit

__all__ = [
    "SMALL_SIZES",
    "small_model",
    "random_case",
    "random_value",
    "thresholds_near",
    "witness_passes",
    "build_unchecked",
    "revalidate",
    "replace_asset",
    "replace_instrument",
    "evaluate_case",
]

#: The small sizes of the property tests, per model: (sizes, decimals, parameters, symbols used).
SMALL_SIZES: dict[str, dict[str, Any]] = {
    # 3 instrument slots, 2 used (one padding slot); 2 brackets: the marginal bracket form
    "cross": {"sizes": {"n_instruments": 3, "n_assets": 2, "n_rate_brackets": 2},
              "decimals": {"quantity": 4, "price": 2, "rate": 4}, "parameters": {"requirement": "initial"},
              "n_symbols": (2, 2)},
    # 4 brackets: the selection (hinted bracket) form
    "isolated": {"sizes": {"n_instruments": 3, "n_rate_brackets": 4},
                 "decimals": {"quantity": 4, "price": 2, "rate": 4}, "parameters": {"requirement": "maintenance"},
                 "n_symbols": (3, 0)},
    "scenario": {"sizes": {"n_instruments": 3, "n_assets": 2, "n_scenarios": 4},
                 "decimals": {"quantity": 2, "price": 2, "rate": 4}, "parameters": {"short_option_floor": True},
                 "n_symbols": (3, 2)},
    # Z = 10**(6 + 4 - 6) = 10**4, RS = 10**4
    "health": {"sizes": {"n_assets": 3},
               "decimals": {"quantity": 6, "price": 4, "rate": 4, "base": 6, "health": 4}, "parameters": {},
               "n_symbols": (0, 3)},
    # 3 rate brackets (marginal form, two comparisons), 4 tiers (selection form)
    "tiered": {"sizes": {"n_instruments": 2, "n_assets": 2, "n_rate_brackets": 3, "n_tiers": 4},
               "decimals": {"quantity": 4, "price": 2, "rate": 4}, "parameters": {"requirement": "maintenance"},
               "n_symbols": (2, 2)},
    # 5 factor slots, 4 used: two in bucket "1", one in "2", one in "Residual"; bucket "3" empty
    # (``small_model`` writes the simm document: sizes.n_instruments becomes n_factors)
    "simm": {"sizes": {"n_instruments": 5, "n_assets": 2},
             "decimals": {"quantity": 2, "price": 2, "rate": 4}, "parameters": {},
             "n_symbols": (4, 2)},
}

#: The small simm model's buckets (equity-like: ISDA SIMM v2.5 weights; thresholds scaled down so
#: random sensitivities cross them) and each listed factor's bucket.
SIMM_BUCKETS = [
    {"name": "1", "delta_risk_weight": "26", "vega_risk_weight": "0.45", "delta_threshold": "10000",
     "vega_threshold": "21000", "correlation": "0.18"},
    {"name": "2", "delta_risk_weight": "28", "vega_risk_weight": "0.96", "delta_threshold": "1.5",
     "vega_threshold": "40", "correlation": "0.23"},
    {"name": "3", "delta_risk_weight": "34", "vega_risk_weight": "0.45", "delta_threshold": "600",
     "vega_threshold": "200", "correlation": "0.3"},
    {"name": "Residual", "delta_risk_weight": "34", "vega_risk_weight": "0.45", "delta_threshold": "60",
     "vega_threshold": "40", "correlation": "0", "residual": True},
]
SIMM_GAMMA = [["1", "0.2", "0.3"], ["0.2", "1", "0.25"], ["0.3", "0.25", "1"]]
SIMM_FACTOR_BUCKETS = ["1", "1", "2", "Residual"]


def small_model(kind: str, *, model_id: str | None = None, **overrides: Any) -> VenueModel:
    """A validated venue model of ``kind`` at the SMALL_SIZES (``overrides`` replace top-level keys)."""
    spec = dict(SMALL_SIZES[kind])
    spec.update(overrides)
    n_i, n_a = spec["n_symbols"]
    if kind == "simm":
        return load_model(_simm_doc(spec, model_id or "test-simm", n_i, n_a))
    doc: dict[str, Any] = {"version": 1, "kind": "venue_model", "model_id": model_id or f"test-{kind}",
                           "venue": "test-venue", "margin_model": kind, "sizes": spec["sizes"],
                           "decimals": spec["decimals"], "parameters": spec["parameters"]}
    if n_i:
        doc["instruments"] = [f"I{i}" for i in range(n_i)]
    if n_a:
        doc["assets"] = [f"A{j}" for j in range(n_a)]
    return load_model(doc)


def _simm_doc(spec: dict[str, Any], model_id: str, n_i: int, n_a: int) -> dict[str, Any]:
    sizes = spec["sizes"]
    return {"version": 1, "kind": "venue_model", "model_id": model_id, "venue": "test-venue", "margin_model": "simm",
            "sizes": {"n_factors": sizes["n_instruments"], "n_assets": sizes["n_assets"]},
            "factors": [{"symbol": f"F{i}", "bucket": SIMM_FACTOR_BUCKETS[i % len(SIMM_FACTOR_BUCKETS)]}
                        for i in range(n_i)],
            "assets": [f"A{j}" for j in range(n_a)], "decimals": spec["decimals"],
            "parameters": {"risk_class": "equity", "calibration": "test (ISDA SIMM v2.5 weights)",
                           "correlation_decimals": 2, "buckets": SIMM_BUCKETS, "inter_bucket_correlations": SIMM_GAMMA,
                           **spec.get("parameters", {})}}


def _simm_sensitivity(rng: random.Random, threshold: int) -> int:
    """0, small, at or next to the bucket's concentration threshold, mid-sized, or near the 2**48 top."""
    x = rng.random()
    if x < 0.2:
        v = 0
    elif x < 0.45:
        v = rng.randrange(1, 10**6)
    elif x < 0.7:
        v = max(0, threshold + rng.choice((-1, 0, 1, rng.randrange(-threshold, 4 * threshold + 1))))
    elif x < 0.9:
        v = rng.randrange(1, 1 << 30)
    else:
        v = (1 << 48) - rng.randrange(1, 1000)
    v = min(v, (1 << 48) - 1)  # a threshold near the top (up to 5 T) must not leave the loader's |x| < 2**48
    return -v if rng.random() < 0.5 else v


def _random_simm_case(rng: random.Random, model: VenueModel) -> tuple[Market, Portfolio]:
    from zkmargin.margin.simm_params import Sensitivity

    p = model.simm
    assert p is not None
    sens = []
    for k, sym in enumerate(model.instruments):
        if rng.random() < 0.15:
            continue
        b = p.buckets[p.factor_buckets[k]]
        delta, vega = _simm_sensitivity(rng, b.delta_threshold), _simm_sensitivity(rng, b.vega_threshold)
        sens.append(Sensitivity(sym, delta, vega))
    collateral = tuple(Holding(a, random_value(rng, 56, small=10**12)) for a in model.assets if rng.random() < 0.9)
    rs = model.rate_scale
    assets = tuple(AssetData(sym, random_value(rng, 40, small=10**6), rng.randrange(0, rs + 1)) for sym in model.assets)
    market = Market(model.venue, model.model_id, rng.randrange(0, 1 << 64), (), assets)
    return revalidate(model, market, Portfolio(model.model_id, collateral=collateral, sensitivities=tuple(sens)))


def random_value(rng: random.Random, bits: int, small: int = 10**6, zero: float = 0.15) -> int:
    """A value in [0, 2**bits): 0, small, mid-sized, or within 1,000 of the top."""
    x = rng.random()
    if x < zero:
        return 0
    if x < 0.55:
        return rng.randrange(1, small)
    if x < 0.85:
        return rng.randrange(1, 1 << (bits // 2))
    return (1 << bits) - rng.randrange(1, 1000)


def _signed(rng: random.Random, bits: int, small: int = 10**6) -> int:
    v = random_value(rng, bits, small)
    return -v if rng.random() < 0.5 else v


def _bounds(rng: random.Random, k: int, near: int) -> list[int]:
    """k strictly increasing bounds in [1, 2**VALUE_BITS), some at or next to ``near``."""
    top = (1 << VALUE_BITS) - 1
    out: set[int] = set()
    while len(out) < k:
        x = rng.random()
        if x < 0.3 and near > 1:
            u = near + rng.choice((-1, 0, 0, 1))
        elif x < 0.6:
            u = rng.randrange(1, max(2, 2 * near + 2))
        elif x < 0.9:
            u = rng.randrange(1, 10**9)
        else:
            u = rng.randrange(1, top + 1)
        out.add(min(max(u, 1), top))
    return sorted(out)


def _rates(rng: random.Random, k: int, rs: int) -> tuple[list[int], list[int]]:
    """(initial, maintenance): each nondecreasing in [0, RS], maintenance <= initial."""
    maint = sorted(rng.choice((0, rng.randrange(0, rs + 1), rng.randrange(0, rs // 10 + 1))) for _ in range(k))
    initial: list[int] = []
    for m in maint:
        initial.append(min(rs, max(initial[-1] if initial else 0, m + rng.randrange(0, rs // 5 + 1))))
    return initial, maint


def _brackets(rng: random.Random, k: int, rs: int, near: int) -> tuple[RateBracket, ...]:
    bounds = _bounds(rng, k - 1, near)
    initial, maint = _rates(rng, k, rs)
    return tuple(RateBracket(bounds[b] if b < k - 1 else None, initial[b], maint[b]) for b in range(k))


def _tiers(rng: random.Random, t: int, rs: int, near: int) -> tuple[TierBracket, ...]:
    bounds = _bounds(rng, t - 1, near)
    haircuts = sorted(rng.choice((0, rng.randrange(0, rs + 1), rng.randrange(0, rs // 4 + 1))) for _ in range(t))
    return tuple(TierBracket(bounds[b] if b < t - 1 else None, haircuts[b]) for b in range(t))


def revalidate(model: VenueModel, market: Market, portfolio: Portfolio) -> tuple[Market, Portfolio]:
    """Round-trip both documents through the validating loaders (raises SchemaError if invalid)."""
    return (load_market(market.to_dict(model), model), load_portfolio(portfolio.to_dict(model), model))


def random_case(rng: random.Random, model: VenueModel) -> tuple[Market, Portfolio]:
    """A random valid (market, portfolio) pair for ``model``."""
    if model.margin_model == "simm":
        return _random_simm_case(rng, model)
    spec, rs = model.spec, model.rate_scale
    positions, sizes = [], {}
    for sym in model.instruments:
        if rng.random() < 0.2:
            continue  # no position in this instrument
        size = _signed(rng, SIZE_BITS)
        sizes[sym] = size
        margin = random_value(rng, VALUE_BITS, small=10**12) if spec.margins else 0
        positions.append(Position(sym, size, random_value(rng, PRICE_BITS), margin))
    collateral = tuple(Holding(a, random_value(rng, AMOUNT_BITS)) for a in model.assets if rng.random() < 0.85)
    debts = tuple(Holding(a, random_value(rng, AMOUNT_BITS, zero=0.4)) for a in model.assets) if spec.health else ()
    amounts = {h.asset: h.amount for h in collateral}
    instruments = []
    for sym in model.instruments:
        mark = random_value(rng, PRICE_BITS)
        notional = abs(sizes.get(sym, 0)) * mark
        brackets = _brackets(rng, model.n_rate_brackets, rs, notional) if spec.rates else ()
        risk = tuple(_signed(rng, RISK_BITS, small=10**5) for _ in range(model.n_scenarios)) if spec.scenarios else ()
        som = random_value(rng, PRICE_BITS) if spec.scenarios and model.short_option_floor else 0
        instruments.append(InstrumentData(sym, mark, brackets, risk, som))
    c_max = model.n_emode  # health e-mode: random category thresholds and membership bits
    emode = tuple(EModeCategory(f"category {c}", rng.randrange(0, rs + 1)) for c in range(1, c_max + 1))
    member = {sym: tuple(c for c in range(1, c_max + 1) if rng.random() < 0.5) for sym in model.assets}
    assets = []
    for sym in model.assets:
        price = random_value(rng, PRICE_BITS)
        haircut = rng.randrange(0, rs + 1) if spec.haircuts else 0
        lt = rng.randrange(0, rs + 1) if spec.health else 0
        tiers = _tiers(rng, model.n_tiers, rs, amounts.get(sym, 0) * price) if spec.tiers else ()
        assets.append(AssetData(sym, price, haircut, lt, tiers, emode=member[sym]))
    market = Market(model.venue, model.model_id, rng.randrange(0, 1 << 64), tuple(instruments), tuple(assets),
                    emode=emode)
    portfolio = Portfolio(model.model_id, tuple(positions), collateral, debts, emode=rng.randrange(0, c_max + 1))
    if model.wide_sizes:
        market, portfolio = _widen_sizes(rng, model, market, portfolio)
    return revalidate(model, market, portfolio)


def _widen_sizes(rng: random.Random, model: VenueModel, market: Market,
                 portfolio: Portfolio) -> tuple[Market, Portfolio]:
    """Per-instrument decimals: every position's size redrawn over [0, 2**WIDE_SIZE_BITS) base units
    around the caps (|S| * mark and |S| * entry below 2**NOTIONAL_BITS, S = size * 10**(QD - q_i)):
    often just below the larger cap's room, sometimes exactly at it or one over, sometimes anywhere
    (mostly over); brackets redrawn near the new notional. Scenario: the risk cap |S| * R_i too."""
    positions, instruments = [], list(market.instruments)
    for p in portfolio.positions:
        i = model.instrument_index(p.instrument)
        ins, scale = instruments[i], model.instrument_scale(i)
        top = max(ins.mark, p.entry, risk_bound(model, ins) if model.spec.scenarios else 0, 1)
        room = ((1 << NOTIONAL_BITS) - 1) // (top * scale)  # the largest |size| within every cap
        x = rng.random()
        if x < 0.25:
            mag = room + rng.choice((-1, 0, 1, 1))  # at the largest size within the caps, or the first over
        elif x < 0.35:
            mag = rng.randrange(room, 1 << WIDE_SIZE_BITS) if room < 1 << WIDE_SIZE_BITS else room
        elif x < 0.55:
            mag = random_value(rng, WIDE_SIZE_BITS)
        else:
            mag = rng.randrange(0, room + 1)
        mag = max(0, min(mag, (1 << WIDE_SIZE_BITS) - 1))
        positions.append(replace(p, size=-mag if rng.random() < 0.5 else mag))
        if model.spec.rates:
            notional = min(mag * scale * ins.mark, (1 << VALUE_BITS) - 2)
            instruments[i] = replace(ins, rate_brackets=_brackets(rng, model.n_rate_brackets, model.rate_scale,
                                                                  notional))
    return replace(market, instruments=tuple(instruments)), replace(portfolio, positions=tuple(positions))


def thresholds_near(model: VenueModel, report: MarginReport) -> tuple[int, int] | None:
    """(t_pass, t_fail = t_pass + 1): the largest threshold that passes and the next one.

    Value models: ``floor(surplus / RS)``; a ratio statement: the largest t with ``equity * 10**4
    >= t * requirement`` (``>`` for ratio-above); two bases: both parts' largest thresholds packed
    (t_fail raises the maintenance one); health: ``floor(W * 10**HD / D)``. None when no threshold
    in range passes (surplus < 0) or every one does (health without debt, a ratio without
    requirement), or when t_fail would leave the threshold's range.
    """
    if model.margin_model == "health":
        debt = sum(line.debt_value for line in report.assets) // 10**model.health_decimals
        if debt == 0:
            return None
        t = report.equity // debt
        return (t, t + 1) if t + 1 < 1 << 64 else None
    per = []
    for part in report.parts or (report,):
        if model.statement == "surplus":  # the report at threshold 0: surplus (isolated: the binding position's)
            if part.surplus < 0:
                return None
            per.append(part.surplus // model.rate_scale)
        elif model.margin_model == "isolated":  # each held position's own ratio: the least bound
            above = int(model.statement == "ratio-above")
            bounds = []
            for line in part.positions:
                n, q = (line.margin + line.upnl) * 10**RATIO_DECIMALS - above, line.requirement
                if n < 0:
                    return None
                if q:
                    bounds.append(n // q)
            if not bounds:
                return None
            per.append(min(bounds))
        else:
            n, q = part.equity * 10**RATIO_DECIMALS, part.requirement
            if q == 0 or n - (model.statement == "ratio-above") < 0:
                return None
            per.append((n - (model.statement == "ratio-above")) // q)
    if any(t + 1 >= 1 << threshold_bits(model) for t in per):
        return None
    t = (per[0] << DUAL_SHIFT) + per[1] if len(per) == 2 else per[0]
    return t, t + 1


def witness_passes(circuit: MarginCircuit) -> bool:
    """Whether the honest witness of an assigned circuit satisfies every constraint.

    One witness run with the solver's per-constraint check (``build(check=True)``): True when it
    completes, False at the first violated constraint.
    """
    try:
        build(circuit, check=True)
    except UnsatisfiedConstraintError:
        return False
    return True


def lying_bits(target_bits: int) -> dict[str, HintFn]:
    """A malicious "bits.decompose" hint: for a ``target_bits`` decomposition of x >= 2**target_bits it
    returns bits whose weighted sum is x (mod r), the low bits honest and the top 'bit' the rest, so
    the recomposition holds and only booleanity can catch a value over a range check (every other
    decomposition, and an x in range, stays honest)."""
    def hint(ins: Sequence[int]) -> list[int]:
        x, n = ins
        if n != target_bits or x < 1 << n:
            return [(x >> i) & 1 for i in range(n)]
        low = [(x >> i) & 1 for i in range(n - 1)]
        rest = (x - sum(b << i for i, b in enumerate(low))) * pow(1 << (n - 1), -1, R) % R
        return [*low, rest]
    return {"bits.decompose": hint}


def build_unchecked(circuit: MarginCircuit, hints: dict[str, HintFn] | None = None) -> tuple[Any, list[int]]:
    """(cs, witness) of an assigned circuit without checking, with named hints replaced (a lying prover)."""
    with override_hints(dict(hints or {})):
        return build(circuit, check=False)


def replace_asset(market: Market, j: int, **fields: Any) -> Market:
    """The market with asset j's fields replaced (not revalidated)."""
    assets = list(market.assets)
    assets[j] = replace(assets[j], **fields)
    return replace(market, assets=tuple(assets))


def replace_instrument(market: Market, i: int, **fields: Any) -> Market:
    """The market with instrument i's fields replaced (not revalidated)."""
    ins = list(market.instruments)
    ins[i] = replace(ins[i], **fields)
    return replace(market, instruments=tuple(ins))


def evaluate_case(model: VenueModel, market: Market, portfolio: Portfolio, threshold: int) -> bool:
    """``evaluate(...).passes``."""
    return evaluate(model, market, portfolio, threshold).passes
