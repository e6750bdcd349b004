"""Margin circuits vs the native engine: random portfolios, exact boundaries, rounding.

For every model the honest witness satisfies the circuit exactly when ``evaluate(...).passes``.
Each circuit is compiled once; a case costs one witness run (``build(check=True)``). Every random
portfolio is checked at the largest threshold that passes and at the next one (a boundary on
every case), or at 0 and a random threshold when nothing passes.
"""

from __future__ import annotations

import collections
import os
import random

import pytest

from zkmargin.circuits import compile_circuit, solve
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
from zkmargin.margin import (
    AssetData,
    Holding,
    Market,
    Portfolio,
    Position,
    RateBracket,
    TierBracket,
    evaluate,
)

KINDS = ["cross", "isolated", "scenario", "health", "tiered"]
#: Random portfolios per model in the default run (two witness runs each, ~8 s per model); the
#: slow run takes ZKMARGIN_MARGIN_CASES (default 500) per model.
PORTFOLIOS = 60
SLOW_PORTFOLIOS = int(os.environ.get("ZKMARGIN_MARGIN_CASES", "500"))
SALT, CONTEXT = 0x5A17, 0xC0FFEE


@pytest.fixture(scope="module")
def compiled():
    """One compiled system per small model (the shape check of solve() uses it)."""
    return {kind: compile_circuit(circuit_for(small_model(kind))) for kind in KINDS}


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
            assert got is expected, (kind, n, t, market, portfolio)
            seen[(expected, t == thresholds[0] and near is not None)] += 1
    # both outcomes occur, and the "largest passing threshold" of each case passes
    assert seen[(True, True)] > count // 6 and seen[(False, False)] > count // 6, seen


@pytest.mark.parametrize("kind", KINDS)
def test_circuit_agrees_with_engine_on_random_portfolios(kind, compiled):
    _agree(kind, compiled, PORTFOLIOS, f"margin-circuit-{kind}")


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_circuit_agrees_with_engine_on_many_random_portfolios(kind, compiled):
    _agree(kind, compiled, SLOW_PORTFOLIOS, f"margin-circuit-many-{kind}")


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
