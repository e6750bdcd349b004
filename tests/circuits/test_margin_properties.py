"""Margin circuits vs the native engine: random portfolios, exact boundaries, rounding.

For every model the honest witness satisfies the circuit exactly when ``evaluate(...).passes``.
Each circuit is compiled once; a case costs one witness run (``build(check=True)``). Every random
portfolio is checked at the largest threshold that passes and at the next one (a boundary on
every case), or at 0 and a random threshold when nothing passes.

Sizes: the small test models, the published examples' models (examples/*/model.json), and models
at the maximum sizes and decimals of ``zkmargin.margin.limits`` (slow tier). At every size a case
is built to sit exactly on the threshold (surplus == threshold: passes; one unit more of
threshold, or one unit less of a secret, fails).

Seeds: every random test prints its seed (``-s`` or the captured output of a failure shows it) and
names it in its failure messages. The default run uses fixed seeds; the slow run rotates them (a
new seed per run, from the clock) so that it explores new cases; ``ZKMARGIN_SEED=<value>`` replays
a run (and fixes the slow run's seeds).
"""

from __future__ import annotations

import collections
import dataclasses
import os
import random
import time
from pathlib import Path

import pytest

from zkmargin.circuits import build, compile_circuit, solve
from zkmargin.circuits.margin import assignment_for, circuit_for
from zkmargin.circuits.margin._testing import (
    evaluate_case,
    random_case,
    replace_asset,
    revalidate,
    small_model,
    thresholds_near,
    witness_passes,
)
from zkmargin.errors import UnsatisfiedConstraintError
from zkmargin.margin import (
    AssetData,
    Holding,
    Market,
    Portfolio,
    Position,
    RateBracket,
    TierBracket,
    VenueModel,
    evaluate,
    load_market,
    load_model,
    load_portfolio,
)
from zkmargin.margin.engine import threshold_bits
from zkmargin.margin.errors import SchemaError
from zkmargin.margin.limits import (
    AMOUNT_BITS,
    DUAL_SHIFT,
    DUAL_THRESHOLD_BITS,
    HEALTH_THRESHOLD_BITS,
    MAX_BRACKETS,
    MAX_DECIMALS,
    MAX_ITEMS,
    MAX_SCENARIOS,
    THRESHOLD_BITS,
    VALUE_BITS,
)
from zkmargin.margin.model import RATIO_DECIMALS

KINDS = ["cross", "isolated", "scenario", "health", "tiered"]
#: Every model of the random-portfolio and exact-threshold tests (simm has no maximum-size model:
#: its limits are zkmargin.margin.simm_params', tested in tests/circuits/test_margin_simm.py).
RANDOM_KINDS = [*KINDS, "simm"]
#: simm's small circuit is twice the others' (two square roots per factor): fewer cases by default.
CASES_PER_KIND = {"simm": 20}
#: Random portfolios per model at fixed seeds (two witness runs each, ~15 s per model on a loaded
#: 2-core machine); the other random run takes ZKMARGIN_MARGIN_CASES (default 200) per model, with
#: seeds that rotate from run to run (500 per model took ~1,000 s of one CI worker, the critical
#: path of the 20-minute CI budget; ZKMARGIN_MARGIN_CASES=500 restores it). Both are in the slow
#: tier (CI runs both): the default tier keeps the random cases of test_exact_threshold_at_small_sizes
#: and test_circuit_agrees_with_engine_at_example_sizes (every model, on and next to the threshold).
PORTFOLIOS = 60
SLOW_PORTFOLIOS = int(os.environ.get("ZKMARGIN_MARGIN_CASES", "200"))
SALT, CONTEXT = 0x5A17, 0xC0FFEE


@pytest.fixture(scope="module")
def compiled():
    """One compiled system per small model (the shape check of solve() uses it)."""
    return {kind: compile_circuit(circuit_for(small_model(kind))) for kind in RANDOM_KINDS}


def _seed(name: str, rotate: bool, report_figure=None) -> str:
    """The seed of one random test, printed: ``name:<base>`` with base from ZKMARGIN_SEED, else the
    clock when ``rotate`` (slow run), else "fixed"."""
    base = os.environ.get("ZKMARGIN_SEED") or (str(time.time_ns()) if rotate else "fixed")
    seed = f"{name}:{base}"
    print(f"seed {seed!r} (replay with ZKMARGIN_SEED={base})")
    if rotate and report_figure is not None:
        report_figure(f"property seed {seed} (replay with ZKMARGIN_SEED={base})")
    return seed


def _agree(kind: str, compiled, count: int, seed: str) -> None:
    model = small_model(kind)
    rng = random.Random(seed)
    seen: collections.Counter[tuple[bool, bool]] = collections.Counter()
    for n in range(count):
        market, portfolio = random_case(rng, model)
        report = evaluate(model, market, portfolio, 0)
        near = thresholds_near(model, report)
        thresholds = near if near is not None else (0, rng.randrange(1 << 40))
        for t in thresholds:
            expected = evaluate_case(model, market, portfolio, t)
            circuit = assignment_for(model, market, portfolio, SALT + n, t, CONTEXT)
            if n == 0:  # the witness run has the compiled shape (define() does not branch on values)
                solve(circuit, compiled[kind], check=False)
            got = witness_passes(circuit)
            assert got is expected, (f"seed {seed!r}", kind, n, t, market, portfolio)
            seen[(expected, t == thresholds[0] and near is not None)] += 1
    # both outcomes occur, and the "largest passing threshold" of each case passes
    assert seen[(True, True)] > count // 6 and seen[(False, False)] > count // 6, (f"seed {seed!r}", seen)


@pytest.mark.slow  # ~90 s of the default tier for six models; CI runs it with the rotating-seed run
@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_circuit_agrees_with_engine_on_random_portfolios(kind, compiled):
    _agree(kind, compiled, CASES_PER_KIND.get(kind, PORTFOLIOS), _seed(f"margin-circuit-{kind}", rotate=False))


@pytest.mark.slow
@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_circuit_agrees_with_engine_on_many_random_portfolios(kind, compiled, report_figure):
    _agree(kind, compiled, SLOW_PORTFOLIOS, _seed(f"margin-circuit-many-{kind}", rotate=True,
                                                   report_figure=report_figure))


def test_scenario_without_floor_agrees_with_engine():
    model = small_model("scenario", parameters={"short_option_floor": False}, model_id="test-scenario-nofloor")
    rng = random.Random("margin-circuit-scenario-nofloor")
    outcomes = set()
    for n in range(25):
        market, portfolio = random_case(rng, model)
        near = thresholds_near(model, evaluate(model, market, portfolio, 0))
        for t in near or (0,):
            expected = evaluate_case(model, market, portfolio, t)
            assert witness_passes(assignment_for(model, market, portfolio, n, t, CONTEXT)) is expected
            outcomes.add(expected)
    assert outcomes == {True, False}


# --- exact boundaries: D == 0 passes, one unit below fails ---------------------------------------

def _filler(model, market):
    """Asset slot 1 as a 'filler': price 1 and weight 1 (haircut RS - 1, every tier), so one unit of
    its amount adds exactly 1 to the scaled surplus D."""
    rs = model.rate_scale
    if model.margin_model == "tiered":
        tiers = tuple(TierBracket(t.up_to, rs - 1) for t in market.assets[1].tiers)
        return replace_asset(market, 1, price=1, tiers=tiers)
    return replace_asset(market, 1, price=1, haircut=rs - 1)


def _with_amount(portfolio, asset, amount):
    rest = tuple(h for h in portfolio.collateral if h.asset != asset)
    return Portfolio(portfolio.model_id, portfolio.positions, rest + (Holding(asset, amount),))


@pytest.mark.parametrize("kind", ["cross", "scenario", "tiered"])
def test_pooled_models_exact_boundary(kind):
    """Surplus exactly at the threshold passes; one unit of D below fails; threshold + 1 fails."""
    model = small_model(kind)
    rs = model.rate_scale
    rng = random.Random(f"boundary-{kind}")
    done = 0
    while done < 4:
        market, portfolio = random_case(rng, model)
        market = _filler(model, market)
        portfolio = _with_amount(portfolio, "A1", 0)
        market, portfolio = revalidate(model, market, portfolio)
        surplus = evaluate(model, market, portfolio, 0).surplus
        t = max(0, surplus // rs + 1)
        need = rs * t - surplus  # filler amount that makes D == 0
        if not 0 < need < 1 << 64:
            continue
        exact = _with_amount(portfolio, "A1", need)
        below = _with_amount(portfolio, "A1", need - 1)
        report = evaluate(model, market, exact, t)
        assert report.passes and report.surplus == report.threshold == rs * t
        assert witness_passes(assignment_for(model, market, exact, 1, t, CONTEXT))
        assert not evaluate_case(model, market, below, t)
        assert not witness_passes(assignment_for(model, market, below, 1, t, CONTEXT))
        assert not evaluate_case(model, market, exact, t + 1)
        assert not witness_passes(assignment_for(model, market, exact, 1, t + 1, CONTEXT))
        done += 1


def test_isolated_exact_boundary_every_position():
    """Margins set so every held position has D_i == 0 exactly: passes; any one margin one unit
    lower, or the threshold one unit higher, fails. (Rates in whole percent, marks and bounds in
    hundreds of units, so every requirement is a multiple of RS.)"""
    model = small_model("isolated")
    rs = model.rate_scale
    rng = random.Random("boundary-isolated")
    done = 0
    while done < 3:
        market, portfolio = random_case(rng, model)
        ins = []
        for x in market.instruments:
            bounds = sorted(rng.sample(range(1, 10**6), len(x.rate_brackets) - 1))
            brackets = tuple(RateBracket(None if b.up_to is None else 100 * bounds[k], b.initial // 100 * 100,
                                         b.maintenance // 100 * 100) for k, b in enumerate(x.rate_brackets))
            ins.append(type(x)(x.symbol, x.mark // 100 * 100, brackets))
        market = Market(market.venue, market.model_id, market.epoch, tuple(ins), ())
        held = [p for p in portfolio.positions if p.size]
        if not held:
            continue
        portfolio = Portfolio(model.model_id, tuple(Position(p.instrument, p.size, p.entry, 0) for p in held))
        market, portfolio = revalidate(model, market, portfolio)
        lines = evaluate(model, market, portfolio, 0).positions
        assert all(line.requirement % rs == 0 for line in lines)
        t = max([0] + [-(-(line.upnl - line.requirement) // rs) for line in lines])
        margins = {line.instrument: (line.requirement - line.upnl) // rs + t for line in lines}
        if max(margins.values()) >= 1 << 128:
            continue

        def with_margins(ms, positions=portfolio.positions):
            return Portfolio(model.model_id, tuple(Position(p.instrument, p.size, p.entry, ms[p.instrument])
                                                   for p in positions))
        exact = with_margins(margins)
        report = evaluate(model, market, exact, t)
        assert report.passes and report.surplus == rs * t
        assert witness_passes(assignment_for(model, market, exact, 2, t, CONTEXT))
        assert not witness_passes(assignment_for(model, market, exact, 2, t + 1, CONTEXT))
        for sym in margins:
            if margins[sym] == 0:
                continue
            below = with_margins({**margins, sym: margins[sym] - 1})
            assert not evaluate_case(model, market, below, t)
            assert not witness_passes(assignment_for(model, market, below, 2, t, CONTEXT))
        done += 1


def _lending(prices, lts, collateral, debts):
    model = small_model("health")  # QD 6, PD 4, RD 4, BD 6, HD 4: Z = 10**4, RS = 10**4
    market = Market(model.venue, model.model_id, 1, (),
                    tuple(AssetData(f"A{j}", p, 0, lt) for j, (p, lt) in enumerate(zip(prices, lts, strict=True))))
    pf = Portfolio(model.model_id, (), tuple(Holding(f"A{j}", a) for j, a in collateral.items()),
                   tuple(Holding(f"A{j}", d) for j, d in debts.items()))
    return (model, *revalidate(model, market, pf))


def _both(model, market, pf, h):
    """(engine passes, circuit passes) at threshold h."""
    return evaluate_case(model, market, pf, h), witness_passes(assignment_for(model, market, pf, 3, h, CONTEXT))


def test_health_exact_threshold_boundary():
    """h exactly W * 10**HD / D passes, h + 1 fails (price = Z makes the debt value exact)."""
    rng = random.Random("boundary-health")
    done = 0
    while done < 4:
        d = rng.choice((1, 2, 4, 5, 8, 10, 16, 20, 25))  # divides 10**HD = 10**4
        model, market, pf = _lending([10**4, rng.randrange(1, 10**9), rng.randrange(1, 10**9)],
                                     [rng.randrange(1, 10**4 + 1) for _ in range(3)],
                                     {1: rng.randrange(1, 10**9), 2: rng.randrange(1, 10**9)}, {0: d})
        w = evaluate(model, market, pf, 0).equity  # W * 10**HD
        h = w // d
        if w % d or not 0 < h < (1 << 64) - 1:
            continue
        assert evaluate(model, market, pf, h).surplus == 0
        assert _both(model, market, pf, h) == (True, True)
        assert _both(model, market, pf, h + 1) == (False, False)
        done += 1


def test_health_rounding_collateral_down_debt_up_weighting_once():
    z, one = 10**4, 10**4  # Z; h = 1.0 at HD = 4
    # collateral value 100.9999 rounds down to 100; debt value exactly 100: HF 1.0 passes exactly
    model, market, pf = _lending([1, 1, 1], [10**4, 10**4, 10**4], {0: 101 * z - 1}, {1: 100 * z})
    assert _both(model, market, pf, one) == (True, True)
    # debt value 100.0001 rounds UP to 101: fails (it would pass rounded down, or unrounded)
    model, market, pf = _lending([1, 1, 1], [10**4, 10**4, 10**4], {0: 101 * z - 1}, {1: 100 * z + 1})
    assert _both(model, market, pf, one) == (False, False)
    # two collateral values of 1 at LT 0.5 weigh 1 together (floored once over the sum, not per asset)
    model, market, pf = _lending([1, 1, 1], [5000, 5000, 10**4], {0: z, 1: z}, {2: z})
    assert _both(model, market, pf, one) == (True, True)
    assert _both(model, market, pf, one + 1) == (False, False)


# --- the examples' sizes and the maximum sizes, each with an exact-threshold case -----------------

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_MODELS = sorted(p.parent.name for p in EXAMPLES.glob("*/model.json"))
#: Random portfolios per example or maximum-size model in the slow run (each also gets exact cases).
LARGE_CASES = int(os.environ.get("ZKMARGIN_MARGIN_LARGE_CASES", "3"))
_DEC = {"quantity": MAX_DECIMALS, "price": MAX_DECIMALS, "rate": MAX_DECIMALS}
#: Models at the bounds of zkmargin.margin.limits: every size at its maximum somewhere (brackets,
#: tiers, scenarios; n_instruments + n_assets = MAX_ITEMS), decimals at MAX_DECIMALS (health: base
#: and health decimals too, with Z = 10**(QD + PD - BD) a valid price), one padding slot each.
MAX_SPECS: dict[str, tuple[str, dict[str, int], dict[str, int], dict[str, object]]] = {
    "cross-max-brackets": ("cross", {"n_instruments": 3, "n_assets": 2, "n_rate_brackets": MAX_BRACKETS}, _DEC,
                           {"requirement": "initial"}),
    "cross-max-items": ("cross", {"n_instruments": MAX_ITEMS // 2, "n_assets": MAX_ITEMS // 2, "n_rate_brackets": 2},
                        _DEC, {"requirement": "maintenance"}),
    "isolated-max-brackets": ("isolated", {"n_instruments": 3, "n_rate_brackets": MAX_BRACKETS}, _DEC,
                              {"requirement": "maintenance"}),
    "isolated-max-items": ("isolated", {"n_instruments": MAX_ITEMS, "n_rate_brackets": 2}, _DEC,
                           {"requirement": "initial"}),
    "scenario-max-scenarios": ("scenario", {"n_instruments": 3, "n_assets": 2, "n_scenarios": MAX_SCENARIOS}, _DEC,
                               {"short_option_floor": True}),
    "scenario-max-items": ("scenario", {"n_instruments": MAX_ITEMS - 16, "n_assets": 16, "n_scenarios": 2}, _DEC,
                           {"short_option_floor": True}),
    "tiered-max-brackets": ("tiered", {"n_instruments": 2, "n_assets": 2, "n_rate_brackets": MAX_BRACKETS,
                                       "n_tiers": MAX_BRACKETS}, _DEC, {"requirement": "maintenance"}),
    "tiered-max-items": ("tiered", {"n_instruments": MAX_ITEMS // 2, "n_assets": MAX_ITEMS // 2, "n_rate_brackets": 2,
                                    "n_tiers": 2}, _DEC, {"requirement": "initial"}),
    "health-max-decimals": ("health", {"n_assets": 4},
                            {**_DEC, "base": MAX_DECIMALS, "health": MAX_DECIMALS}, {}),
    "health-max-items": ("health", {"n_assets": MAX_ITEMS}, {**_DEC, "base": MAX_DECIMALS, "health": MAX_DECIMALS}, {}),
}


def _max_model(name: str) -> VenueModel:
    kind, sizes, decimals, parameters = MAX_SPECS[name]
    n_i, n_a = sizes.get("n_instruments", 0), sizes.get("n_assets", 0)
    doc: dict[str, object] = {"version": 1, "kind": "venue_model", "model_id": f"test-{name}", "venue": "test-venue",
                              "margin_model": kind, "sizes": sizes, "decimals": decimals, "parameters": parameters}
    if n_i:
        doc["instruments"] = [f"I{i}" for i in range(n_i - 1)]  # the last slot is padding
    if n_a:
        doc["assets"] = [f"A{j}" for j in range(n_a - (0 if n_i else 1))]
    return load_model(doc)


def _example_model(name: str) -> VenueModel:
    return load_model(EXAMPLES / name / "model.json")


def _circuit_passes(model, market, portfolio, threshold) -> bool:
    """Whether the honest witness satisfies every constraint (one witness run, public builder API)."""
    try:
        build(assignment_for(model, market, portfolio, 0x5A17, threshold, CONTEXT), check=True)
    except UnsatisfiedConstraintError:
        return False
    return True


def _valid(model, market, portfolio):
    """The documents round-tripped through the validating loaders (SchemaError if out of bounds)."""
    return load_market(market.to_dict(model), model), load_portfolio(portfolio.to_dict(model), model)


def _set_asset(market: Market, symbol: str, **fields) -> Market:
    return dataclasses.replace(market, assets=tuple(dataclasses.replace(a, **fields) if a.symbol == symbol else a
                                                    for a in market.assets))


def _set_holding(holdings: tuple[Holding, ...], symbol: str, amount: int) -> tuple[Holding, ...]:
    return tuple(h for h in holdings if h.asset != symbol) + ((Holding(symbol, amount),) if amount else ())


def _exact_pooled(model, rng):
    """cross / scenario / tiered: asset A's price 1 and weight 1 (haircut RS - 1 in every tier), so
    one unit of its amount adds exactly 1 to the scaled surplus; its amount fills the gap to the
    next multiple of RS. Returns (market, exact, one unit less, threshold)."""
    rs, filler = model.rate_scale, model.assets[0]
    market, portfolio = random_case(rng, model)
    if model.margin_model == "tiered":
        tiers = tuple(TierBracket(t.up_to, rs - 1) for t in next(a for a in market.assets if a.symbol == filler).tiers)
        market = _set_asset(market, filler, price=1, tiers=tiers)
    else:
        market = _set_asset(market, filler, price=1, haircut=rs - 1)
    without = dataclasses.replace(portfolio, collateral=_set_holding(portfolio.collateral, filler, 0))
    market, without = _valid(model, market, without)
    s0 = evaluate(model, market, without, 0).surplus
    t = max(0, s0 // rs + 1)
    need = rs * t - s0  # in (0, RS] when s0 >= 0
    if not 0 < need < 1 << AMOUNT_BITS or t + 1 >= 1 << THRESHOLD_BITS:
        return None
    exact = dataclasses.replace(without, collateral=_set_holding(without.collateral, filler, need))
    below = dataclasses.replace(without, collateral=_set_holding(without.collateral, filler, need - 1))
    return market, exact, below, t


def _multiples_of(rs: int, bounds: list[int]) -> list[int] | None:
    """Strictly increasing positive multiples of ``rs`` below 2**VALUE_BITS, each near its bound
    (rounded down, then moved up or down just enough); None when they do not fit."""
    out: list[int] = []
    for u in bounds:  # upward: at least RS, strictly increasing
        out.append(max(u // rs * rs, (out[-1] if out else 0) + rs))
    top = ((1 << VALUE_BITS) - 1) // rs * rs
    for k in reversed(range(len(out))):  # downward: below 2**VALUE_BITS, still increasing
        out[k] = min(out[k], top if k == len(out) - 1 else out[k + 1] - rs)
    return out if all(v >= rs for v in out) else None


def _exact_isolated(model, rng):
    """isolated: marks and bracket bounds at multiples of RS make every requirement a multiple of RS;
    each held margin is raised so that its position surplus is a positive multiple of RS, and the
    smallest is the threshold. One unit less of the binding position's margin fails."""
    rs = model.rate_scale
    market, portfolio = random_case(rng, model)
    instruments = []
    for ins in market.instruments:
        bounds = _multiples_of(rs, [b.up_to for b in ins.rate_brackets if b.up_to is not None])
        if bounds is None:
            return None
        brackets = tuple(dataclasses.replace(b, up_to=bounds[k] if b.up_to is not None else None)
                         for k, b in enumerate(ins.rate_brackets))
        instruments.append(dataclasses.replace(ins, mark=rs * (ins.mark // rs), rate_brackets=brackets))
    market = dataclasses.replace(market, instruments=tuple(instruments))
    held = tuple(p for p in portfolio.positions if p.size)
    if not held:
        return None
    portfolio = dataclasses.replace(portfolio, positions=held)
    market, portfolio = _valid(model, market, portfolio)
    lines = {model.instruments[line.index]: line.surplus for line in evaluate(model, market, portfolio, 0).positions}
    assert all(d % rs == 0 for d in lines.values()), "every requirement is a multiple of RS here"
    margins = {p.instrument: p.margin + max(rng.randrange(1, 4), 1 - lines[p.instrument] // rs) for p in held}
    if max(margins.values()) >= 1 << VALUE_BITS:
        return None
    exact = dataclasses.replace(portfolio, positions=tuple(dataclasses.replace(p, margin=margins[p.instrument])
                                                           for p in held))
    report = evaluate(model, market, exact, 0)
    t = report.surplus // rs
    if t + 1 >= 1 << THRESHOLD_BITS:  # t + 1 must be a valid threshold too
        return None
    binding = model.instruments[report.binding]
    below = dataclasses.replace(exact, positions=tuple(
        dataclasses.replace(p, margin=p.margin - 1) if p.instrument == binding else p for p in exact.positions))
    return market, exact, below, t


def _exact_health(model, rng):
    """health: the debt is in asset A at price Z (so its value is exact); with weighted collateral
    W * 10**HD = X, debt D = X / 10**k and h = 10**k give W * 10**HD == h * D exactly. One more
    unit of debt fails."""
    z = 10 ** (model.value_decimals - model.base_decimals)
    debt_asset = model.assets[0]
    market, portfolio = random_case(rng, model)
    market = _set_asset(market, debt_asset, price=z)
    collateral = tuple(Holding(h.asset, h.amount % 10**9) for h in portfolio.collateral if h.amount % 10**9)
    without = dataclasses.replace(portfolio, collateral=collateral, debts=())
    market, without = _valid(model, market, without)
    x = evaluate(model, market, without, 0).equity  # W * 10**HD
    for k in range(model.health_decimals + 1):
        if x % 10**k == 0 and 0 < x // 10**k < (1 << AMOUNT_BITS) - 1 and 10**k < (1 << HEALTH_THRESHOLD_BITS) - 1:
            d, h = x // 10**k, 10**k
            exact = dataclasses.replace(without, debts=(Holding(debt_asset, d),))
            below = dataclasses.replace(without, debts=(Holding(debt_asset, d + 1),))
            return market, exact, below, h
    return None


def _exact_simm(model, rng):
    """simm: one collateral asset at price 1 with haircut RS - 1 (each base unit is worth 1 value unit
    after the haircut), so collateral Q + RS * t puts the surplus exactly at the threshold t."""
    market, pf = random_case(rng, model)
    rs = model.rate_scale
    assets = tuple(dataclasses.replace(a, price=1, haircut=rs - 1) if j == 0 else dataclasses.replace(a, price=0)
                   for j, a in enumerate(market.assets))
    market = dataclasses.replace(market, assets=assets)
    q = evaluate(model, market, dataclasses.replace(pf, collateral=()), 0).requirement
    t = rng.choice((0, 1, rng.randrange(0, 10**6)))
    amount = q + rs * t
    if not 0 < amount < 1 << 64:
        return None
    sym = model.assets[0]
    exact = dataclasses.replace(pf, collateral=(Holding(sym, amount),))
    below = dataclasses.replace(pf, collateral=(Holding(sym, amount - 1),))
    return market, exact, below, t


def _exact_form(model, rng):
    """A ratio statement, or two bases: (market, exact, below, t_pass, t_fail). Two bases: the exact
    case of the initial check (``_exact_pooled`` or the ratio one on the initial basis), the
    maintenance threshold 0 (the maintenance requirement never exceeds the initial one, so that
    check holds), t_fail one unit more of initial threshold. A ratio: positions with small sizes at
    entry = mark and one filler asset worth 1 per unit; t_pass a random target, the filler amount
    the least that meets it (so one unit less fails), t_fail = t_pass + 1."""
    if len(model.bases) > 1:
        single = dataclasses.replace(model, requirement="initial")
        case = _exact_form(single, rng) if model.statement != "surplus" else _EXACT[model.margin_model](single, rng)
        if case is None:
            return None
        market, exact, below, t, *rest = case
        t_fail = rest[0] if rest else t + 1
        if t_fail >= 1 << DUAL_THRESHOLD_BITS:
            return None
        return market, exact, below, t << DUAL_SHIFT, t_fail << DUAL_SHIFT
    if model.margin_model == "isolated":
        return _exact_isolated_ratio(model, rng)
    rs, filler = model.rate_scale, model.assets[0]
    market, portfolio = random_case(rng, model)
    marks = {ins.symbol: ins.mark for ins in market.instruments}
    positions = tuple(dataclasses.replace(p, size=rng.randrange(-10**4, 10**4) or 1, entry=marks[p.instrument])
                      for p in portfolio.positions)
    if model.margin_model == "tiered":
        tiers = tuple(TierBracket(t.up_to, rs - 1) for t in next(a for a in market.assets if a.symbol == filler).tiers)
        market = _set_asset(market, filler, price=1, tiers=tiers)
    else:
        market = _set_asset(market, filler, price=1, haircut=rs - 1)
    without = dataclasses.replace(portfolio, positions=positions, collateral=())
    market, without = _valid(model, market, without)
    rep = evaluate(model, market, without, 0)
    e0, q = rep.equity, rep.requirement
    above = int(model.statement == "ratio-above")
    t = rng.randrange(1, 10**6)
    need = -(-(t * q + above) // 10**RATIO_DECIMALS) - e0  # the least amount with (e0 + a) * 10**4 >= t*q + above
    if q < 10**RATIO_DECIMALS or not 0 < need < 1 << AMOUNT_BITS:
        return None
    exact = dataclasses.replace(without, collateral=(Holding(filler, need),))
    below = dataclasses.replace(without, collateral=(Holding(filler, need - 1),))
    return market, exact, below, t, t + 1


def _exact_isolated_ratio(model, rng):
    """isolated ratio: every position at entry = mark (no uPnL); the others with margins too large to
    bind; one held position's margin the least with M * RS * 10**4 >= t * P (+ 1 above), so one unit
    less fails, and t + 1 fails too when P > RS * 10**4 (the slack is below RS * 10**4)."""
    rs, big = model.rate_scale, (1 << 127) - 1
    market, portfolio = random_case(rng, model)
    marks = {ins.symbol: ins.mark for ins in market.instruments}
    held = [p.instrument for p in portfolio.positions if p.size]
    if not held:
        return None
    pick = rng.choice(held)
    positions = tuple(dataclasses.replace(p, entry=marks[p.instrument], margin=0 if p.instrument == pick else big)
                      for p in portfolio.positions)
    market, portfolio = _valid(model, market, dataclasses.replace(portfolio, positions=positions))
    line = next(x for x in evaluate(model, market, portfolio, 0).positions if x.instrument == pick)
    above, q, t = int(model.statement == "ratio-above"), line.requirement, rng.randrange(1, 10**6)
    need = -(-(t * q + above) // (rs * 10**RATIO_DECIMALS))
    if q <= rs * 10**RATIO_DECIMALS or not 0 < need < 1 << VALUE_BITS:
        return None

    def with_margin(m: int):
        return dataclasses.replace(portfolio, positions=tuple(
            dataclasses.replace(p, margin=m) if p.instrument == pick else p for p in portfolio.positions))
    return market, with_margin(need), with_margin(need - 1), t, t + 1


_EXACT = {"cross": _exact_pooled, "scenario": _exact_pooled, "tiered": _exact_pooled,
          "isolated": _exact_isolated, "health": _exact_health, "simm": _exact_simm}


def _exact_threshold_case(model: VenueModel, seed: str, cases: int = 1) -> None:
    """Engine and circuit both pass with the surplus exactly at the threshold, and both fail with one
    unit more of threshold and with one unit less of the secret that set it."""
    rng = random.Random(seed)
    done = tries = 0
    while done < cases:
        tries += 1
        assert tries < 400, f"seed {seed!r}: no exact-threshold case found for {model.model_id}"
        form = model.statement != "surplus" or len(model.bases) > 1
        try:
            case = (_exact_form if form else _EXACT[model.margin_model])(model, rng)
        except SchemaError:
            continue  # a rounded bound left its range: draw again
        if case is None:
            continue
        market, exact, below, t, *rest = case
        t_fail = rest[0] if rest else t + 1
        where = f"seed {seed!r}, case {done}, {model.model_id}, threshold {t}"
        report = evaluate(model, market, exact, t)
        assert report.passes, where
        if model.statement == "surplus":
            assert report.surplus == report.threshold, where  # exactly at the threshold
        assert _circuit_passes(model, market, exact, t), where
        assert not evaluate(model, market, exact, t_fail).passes, where
        assert not _circuit_passes(model, market, exact, t_fail), where
        market, below = _valid(model, market, below)
        assert not evaluate(model, market, below, t).passes, where
        assert not _circuit_passes(model, market, below, t), where
        done += 1


def _agree_model(model: VenueModel, count: int, seed: str) -> None:
    """Random portfolios: the circuit passes exactly when the engine does, at the boundary thresholds."""
    rng = random.Random(seed)
    for n in range(count):
        market, portfolio = random_case(rng, model)
        try:
            report = evaluate(model, market, portfolio, 0)
        except SchemaError as e:  # per-symbol decimals: a value, notional or entry value over its cap
            assert "outside the model's bounds" in str(e), e
            assert not _circuit_passes(model, market, portfolio, 0), (f"seed {seed!r}", model.model_id, n, "cap")
            continue
        near = thresholds_near(model, report)
        for t in near if near is not None else (0, rng.randrange(1 << min(40, threshold_bits(model)))):
            expected = evaluate(model, market, portfolio, t).passes
            assert _circuit_passes(model, market, portfolio, t) is expected, (f"seed {seed!r}", model.model_id, n, t)


def test_example_models_cover_every_kind():
    assert {_example_model(name).margin_model for name in EXAMPLE_MODELS} == set(RANDOM_KINDS)


@pytest.mark.parametrize("name", EXAMPLE_MODELS)
def test_circuit_agrees_with_engine_at_example_sizes(name):
    model = _example_model(name)
    _agree_model(model, 2, _seed(f"margin-example-{name}", rotate=False))
    _exact_threshold_case(model, _seed(f"margin-example-exact-{name}", rotate=False))


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLE_MODELS)
def test_circuit_agrees_with_engine_at_example_sizes_rotating_seeds(name, report_figure):
    model = _example_model(name)
    _agree_model(model, LARGE_CASES * 4, _seed(f"margin-example-many-{name}", rotate=True,
                                               report_figure=report_figure))
    _exact_threshold_case(model, _seed(f"margin-example-exact-many-{name}", rotate=True,
                                       report_figure=report_figure), cases=LARGE_CASES)


@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_exact_threshold_at_small_sizes(kind):
    _exact_threshold_case(small_model(kind), _seed(f"margin-exact-{kind}", rotate=False), cases=3)


def test_max_models_are_at_the_limits():
    models = [_max_model(name) for name in MAX_SPECS]
    assert {m.margin_model for m in models} == set(KINDS)
    assert max(m.n_rate_brackets for m in models) == MAX_BRACKETS
    assert max(m.n_tiers for m in models) == MAX_BRACKETS
    assert max(m.n_scenarios for m in models) == MAX_SCENARIOS
    assert {m.margin_model for m in models if m.n_instruments + m.n_assets == MAX_ITEMS} == set(KINDS)
    assert all(m.rate_decimals == m.quantity_decimals == m.price_decimals == MAX_DECIMALS for m in models)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MAX_SPECS))
def test_circuit_agrees_with_engine_at_maximum_sizes(name, report_figure):
    model = _max_model(name)
    count = 1 if name.endswith("max-items") else LARGE_CASES  # ~10 s a witness run at 1,024 items
    _agree_model(model, count, _seed(f"margin-max-{name}", rotate=True, report_figure=report_figure))
    _exact_threshold_case(model, _seed(f"margin-max-exact-{name}", rotate=True, report_figure=report_figure))


#: The statement forms (a ratio, strictly above a ratio, initial and maintenance in one proof) on
#: the small models: random portfolios at the boundary thresholds and exact-threshold cases.
FORM_MODELS = {
    "cross-both": ("cross", {"requirement": "initial+maintenance"}),
    "tiered-both-ratio": ("tiered", {"requirement": "initial+maintenance", "statement": "ratio"}),
    "cross-ratio-above": ("cross", {"requirement": "maintenance", "statement": "ratio-above"}),
    "scenario-ratio": ("scenario", {"short_option_floor": True, "statement": "ratio"}),
    "tiered-ratio-above": ("tiered", {"requirement": "initial", "statement": "ratio-above"}),
    "isolated-ratio-above": ("isolated", {"requirement": "maintenance", "statement": "ratio-above"}),
    "isolated-both": ("isolated", {"requirement": "initial+maintenance"}),
    "isolated-both-ratio": ("isolated", {"requirement": "initial+maintenance", "statement": "ratio"}),
    "simm-ratio-above": ("simm", {"statement": "ratio-above"}),
}


@pytest.mark.parametrize("name", sorted(FORM_MODELS))
def test_statement_forms_agree_with_engine(name):
    kind, params = FORM_MODELS[name]
    model = small_model(kind, model_id=f"form-{name}", parameters=params)
    _agree_model(model, 4, _seed(f"margin-form-{name}", rotate=False))
    _exact_threshold_case(model, _seed(f"margin-form-exact-{name}", rotate=False), cases=2)
