"""The native margin engine (zkmargin.margin.engine): published examples, boundaries, rounding, and a
second implementation in exact fractions (natural units) on random portfolios of every model."""

from __future__ import annotations

import copy
import json
import random
from fractions import Fraction
from pathlib import Path

import pytest

from zkmargin.margin import (
    Market,
    Portfolio,
    SchemaError,
    VenueModel,
    evaluate,
    format_decimal,
    load_market,
    load_model,
    load_portfolio,
    parse_threshold,
    progressive,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MANIFEST = json.loads((EXAMPLES / "manifest.json").read_text())


def _doc(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def _load(folder: str, portfolio: dict | str = "portfolio_pass.json", market: dict | None = None,
          model: dict | None = None) -> tuple[VenueModel, Market, Portfolio]:
    m = load_model(model if model is not None else EXAMPLES / folder / "model.json")
    mk = load_market(market if market is not None else EXAMPLES / folder / "market.json", m)
    pf = load_portfolio(portfolio if isinstance(portfolio, dict) else EXAMPLES / folder / portfolio, m)
    return m, mk, pf


def _portfolio(model_id: str, **lists) -> dict:
    return {"version": 1, "kind": "portfolio", "model_id": model_id, **lists}


# --- the examples --------------------------------------------------------------------------------

CASES = [(ex, case) for ex in MANIFEST["examples"] for case in ex["cases"]]


@pytest.mark.parametrize("ex,case", CASES, ids=[f"{e['name']}:{c['portfolio']}@{c['threshold']}" for e, c in CASES])
def test_manifest_cases(ex, case):
    model = load_model(EXAMPLES / ex["model"])
    market = load_market(EXAMPLES / ex["market"], model)
    r = evaluate(model, market, load_portfolio(EXAMPLES / case["portfolio"], model), case["threshold"])
    assert r.passes is case["passes"]
    assert format_decimal(r.surplus, r.decimals) == case["surplus"]
    assert (r.shortfall == 0) is r.passes
    assert r.explain().startswith("health factor" if r.model == "health" else r.model)
    assert ("passes" in r.explain()) is r.passes


# --- SPAN covered write (the published example) --------------------------------------------------

SPAN = "span_covered_write"
FUT, CALL = "SP-DEC-FUT", "SP-DEC-410C"


def _span(positions: list[tuple[str, str]], usd: str = "0", market: dict | None = None, model: dict | None = None):
    entries = {FUT: "202500", CALL: "1250"}
    pf = _portfolio("span-covered-write", positions=[{"instrument": s, "size": z, "entry": entries[s]}
                                                     for s, z in positions],
                    collateral=[{"asset": "USD", "amount": usd}])
    return evaluate(*_load(SPAN, pf, market, model), 0)


def test_span_covered_write_requirement_6620_scenario_13():
    r = _span([(FUT, "1"), (CALL, "-1")], "5000")
    dollar = 10**r.decimals
    assert r.requirement == 6620 * dollar
    assert r.binding == 12 and r.binding_label == "scenario 13"
    # loss in scenario 13 = -(1 * future[12] - 1 * call[12]) = -(-10000 + 3380)
    assert r.scenario_losses[12] == 6620 * dollar
    assert max(r.scenario_losses) == 6620 * dollar
    assert r.explain() == ("scenario margin: requirement 6,620.00 exceeds equity 5,000.00 by 1,620.00; "
                           "binding scenario 13")


def test_span_long_future_alone_10000_scenario_13():
    r = _span([(FUT, "1")])
    assert r.requirement == 10000 * 10**r.decimals and r.binding_label == "scenario 13"


def test_span_long_call_alone_3990_scenario_14():
    r = _span([(CALL, "1")])
    assert r.requirement == 3990 * 10**r.decimals and r.binding == 13 and r.binding_label == "scenario 14"


def test_span_short_call_floor_not_binding_then_binding():
    r = _span([(CALL, "-2")])
    assert r.requirement == 2 * 8060 * 10**r.decimals and r.binding_label == "scenario 11"
    assert r.floor == 2 * 500 * 10**r.decimals
    market = _doc(f"{SPAN}/market.json")
    market["instruments"][1]["short_option_minimum"] = "9000"
    r = _span([(CALL, "-2")], market=market)
    assert r.requirement == r.floor == 18000 * 10**r.decimals
    assert r.binding_label == "short option minimum"
    assert "binding short option minimum" in r.explain()
    # a long option never counts towards the floor
    assert _span([(CALL, "2")], market=market).floor == 0


def test_span_floor_off_and_gains_only_requirement_zero():
    model = _doc(f"{SPAN}/model.json")
    model["parameters"]["short_option_floor"] = False
    market = _doc(f"{SPAN}/market.json")
    for ins in market["instruments"]:
        del ins["short_option_minimum"]
        ins["risk_array"] = [str(abs(int(x))) for x in ins["risk_array"]]  # every scenario a gain for a long
    r = _span([(CALL, "1")], "10", market=market, model=model)
    assert r.requirement == 0 and r.binding_label == "" and r.floor == 0
    assert r.surplus == 10 * 10**r.decimals and r.passes


def test_span_upnl_counts_in_equity():
    pf = _portfolio("span-covered-write", positions=[{"instrument": FUT, "size": "1", "entry": "202000"}],
                    collateral=[{"asset": "USD", "amount": "9600"}])
    r = evaluate(*_load(SPAN, pf), 0)
    assert r.equity == (9600 + 500) * 10**r.decimals and r.passes


# --- lending (the published example) and the health rounding ------------------------------------

def test_lending_health_factor_four_thirds():
    m, mk, pf = _load("lending")
    ok = evaluate(m, mk, pf, "1.30")
    assert ok.health_factor == Fraction(4, 3) and ok.passes
    bad = evaluate(m, mk, pf, "1.34")
    assert not bad.passes and bad.shortfall == 40 * 10**bad.decimals
    assert bad.explain() == ("health factor: 1.3333 is below the required 1.34: weighted collateral 8,000.00 is "
                             "short of 1.34 x debt 6,000.00 = 8,040.00 by 40.00")
    assert evaluate(m, mk, pf, 13 * 10**17).passes and not evaluate(m, mk, pf, 134 * 10**16).passes


def _health_model(base: int = 2) -> dict:
    model = _doc("lending/model.json")
    model["decimals"]["base"] = base
    return model


def test_health_rounds_collateral_down_and_debt_up():
    pf = _portfolio("demo-lending", collateral=[{"asset": "USDC", "amount": "1.00999999"}],
                    debts=[{"asset": "WETH", "amount": "0.00000001"}])  # $0.00002 of debt
    r = evaluate(*_load("lending", pf, model=_health_model(base=2)), 0)
    hd = 10**18
    coll, debt = (next(x for x in r.assets if x.asset == s) for s in ("USDC", "WETH"))
    assert coll.value == 100 * hd  # $1.00999999 -> 100 cents, down
    assert debt.debt_value == 1 * hd  # $0.00002 -> 1 cent, up
    assert r.equity == (100 * 78 // 100) * hd  # floor(100 cents * 0.78) = 78 cents


def test_health_weighted_collateral_floors_once_over_the_sum():
    market = _doc("lending/market.json")
    for a in market["assets"]:
        a["price"], a["liquidation_threshold"] = "0.01", "0.5"
    pf = _portfolio("demo-lending", collateral=[{"asset": "WETH", "amount": "1"}, {"asset": "USDC", "amount": "1"}])
    r = evaluate(*_load("lending", pf, market=market, model=_health_model(base=2)), 0)
    assert r.equity == 1 * 10**18  # 1 cent * 0.5 + 1 cent * 0.5 = 1 cent, not 0 + 0


def test_health_without_debt_passes():
    pf = _portfolio("demo-lending", collateral=[{"asset": "WETH", "amount": "1"}])
    r = evaluate(*_load("lending", pf), "18")
    assert r.passes and r.health_factor is None and r.requirement == 0
    assert r.explain().startswith("health factor: passes: no debt")


# --- cross, isolated, tiered ---------------------------------------------------------------------

def test_cross_brackets_initial_and_maintenance():
    m, mk, pf = _load("cross")
    r = evaluate(m, mk, pf, 0)
    usd = 10**r.decimals
    # initial: the rate of each notional's tier on the whole notional (130,000 in tier 1 at 2%;
    # 105,000 above 100,000: 6%; 75,000 above 50,000: 10%), not the marginal 2,600 + 3,300 + 5,000
    assert [p.requirement for p in r.positions] == [2600 * usd, 6300 * usd, 7500 * usd]
    assert [p.upnl for p in r.positions] == [2000 * usd, 3000 * usd, -5000 * usd]
    assert [a.weighted for a in r.assets] == [14000 * usd, 3087_50 * usd // 100, 3150 * usd]
    model = _doc("cross/model.json")
    model["parameters"]["requirement"] = "maintenance"
    r = evaluate(*_load("cross", model=model), 0)
    assert r.requirement == (1300 + 1650 + 2500) * usd


def test_cross_fractional_surplus_one_scaled_unit_below_fails():
    # 1 base unit of collateral at price 1 unit with a 1 bps haircut is worth 9999/10^4 of a value unit
    model = _doc("cross/model.json")
    model["decimals"] = {"quantity": 0, "price": 0, "rate": 4}
    market = _doc("cross/market.json")
    market["assets"][0] = {"symbol": "USDC", "price": "1", "haircut": "0.0001"}
    for ins in market["instruments"]:
        ins["mark"] = "1"
        ins["rate_brackets"][0]["up_to"] = "1"
    pf = _portfolio("demo-cross", collateral=[{"asset": "USDC", "amount": "1"}])
    m, mk, p = _load("cross", pf, market, model)
    assert evaluate(m, mk, p, 0).surplus == 9999
    r = evaluate(m, mk, p, 1)
    assert not r.passes and r.shortfall == 1 and r.threshold == 10_000


def test_progressive_equals_max_of_lines_form():
    rng = random.Random(4)
    for _ in range(300):
        k = rng.randint(1, 5)
        bounds = sorted(rng.sample(range(1, 10**6), k - 1)) + [None]
        rates = sorted(rng.randint(0, 10**4) for _ in range(k))
        x = rng.randint(0, 2 * 10**6)
        # the exchanges' form: max_b (rate_b * x - d_b), d_b = sum_{a<b} (rate_b - rate_a) * width_a
        lows = [0] + bounds[:-1]
        d = [sum((rates[b] - rates[a]) * (lows[a + 1] - lows[a]) for a in range(b)) for b in range(k)]
        assert progressive(x, bounds, rates) == max(rates[b] * x - d[b] for b in range(k))
    assert progressive(123, [None], [7]) == 861
    with pytest.raises(ValueError):
        progressive(1, [None, None], [1])


def test_tiered_brackets_first_1000_at_100_next_at_90_rest_at_80():
    m, mk, _ = _load("tiered")
    value_unit = 10**m.value_decimals
    for alt_amount, counted in [("500", 1000), ("5000", 1000 + 8100), ("10000", 1000 + 8100 + 8000)]:
        pf = load_portfolio(_portfolio("demo-tiered", collateral=[{"asset": "ALT", "amount": alt_amount}]), m)
        r = evaluate(m, mk, pf, 0)
        assert r.assets[0].weighted == counted * value_unit * m.rate_scale
        assert r.assets[0].value == 2 * int(alt_amount) * value_unit * m.rate_scale


def test_isolated_names_the_failing_position():
    m, mk, pf = _load("isolated", "portfolio_fail.json")
    r = evaluate(m, mk, pf, 0)
    assert not r.passes and r.binding == 1 and r.binding_label == "position 2 (ETH-PERP)"
    assert r.explain() == ("isolated margin: position 2 (ETH-PERP): requirement 700.00 exceeds margin + uPnL "
                           "500.00 by 200.00")
    assert [p.surplus for p in r.positions] == [350 * 10**r.decimals, -200 * 10**r.decimals]


def test_isolated_zero_size_slot_is_not_checked_and_empty_passes():
    pf = _portfolio("demo-isolated", positions=[
        {"instrument": "BTC-PERP", "size": "0", "entry": "0", "margin": "0"},
        {"instrument": "ETH-PERP", "size": "-10", "entry": "3400", "margin": "2000"}])
    r = evaluate(*_load("isolated", pf), "300")
    assert r.passes and [p.index for p in r.positions] == [1]
    r = evaluate(*_load("isolated", _portfolio("demo-isolated")), "1000")
    assert r.passes and r.binding is None and r.explain() == "isolated margin: passes: no open position"


# --- boundaries: exactly at the threshold passes, one unit above it fails -------------------------

@pytest.mark.parametrize("folder", ["cross", "isolated", SPAN, "tiered"])
def test_boundary_value_models(folder):
    m, mk, pf = _load(folder)
    s = evaluate(m, mk, pf, 0).surplus
    assert s > 0 and s % m.rate_scale == 0
    t = s // m.rate_scale
    at = evaluate(m, mk, pf, t)
    assert at.passes and at.shortfall == 0 and at.surplus == at.threshold
    above = evaluate(m, mk, pf, t + 1)
    assert not above.passes and above.shortfall == m.rate_scale


def test_boundary_health():
    pf = _portfolio("demo-lending", collateral=[{"asset": "WETH", "amount": "5"}],
                    debts=[{"asset": "USDC", "amount": "6400"}])  # health factor exactly 1.25
    m, mk, p = _load("lending", pf)
    at = evaluate(m, mk, p, "1.25")
    assert at.passes and at.surplus == 0 and at.health_factor == Fraction(5, 4)
    above = evaluate(m, mk, p, 125 * 10**16 + 1)
    assert not above.passes and above.shortfall == 6400 * 10**8


# --- thresholds and consistency checks -----------------------------------------------------------

def test_threshold_parsing_and_bounds():
    m = load_model(EXAMPLES / "cross/model.json")
    assert parse_threshold(m, "12.5") == 125 * 10**7 and parse_threshold(m, 7) == 7
    for bad in ("-1", "1e3", " 1"):
        with pytest.raises(SchemaError, match="threshold"):
            parse_threshold(m, bad)
    with pytest.raises(SchemaError, match="threshold"):
        parse_threshold(m, 1 << 128)
    with pytest.raises(SchemaError, match="threshold"):
        parse_threshold(m, -1)
    with pytest.raises(TypeError):
        parse_threshold(m, True)
    h = load_model(EXAMPLES / "lending/model.json")
    assert parse_threshold(h, "1.3") == 13 * 10**17
    with pytest.raises(SchemaError, match="2\\^64"):
        parse_threshold(h, "19")


def test_evaluate_refuses_documents_of_another_model():
    m, mk, pf = _load("cross")
    other = load_model(EXAMPLES / "tiered/model.json")
    with pytest.raises(SchemaError, match="model_id"):
        evaluate(other, mk, pf, 0)


# --- a second implementation: natural units, exact fractions, on random portfolios ---------------

def _dec(s: str) -> Fraction:
    return Fraction(s)


def _ref_tier_rate(x: Fraction, brackets: list[dict], key: str) -> Fraction:
    """The venues' initial margin: the rate of the tier (u_{b-1}, u_b] holding x, on all of x."""
    for b in brackets:
        if b["up_to"] is None or x <= _dec(b["up_to"]):
            return _dec(b[key]) * x
    raise AssertionError("the last bracket is unbounded")


def _ref_requirement(x: Fraction, brackets: list[dict], key: str) -> Fraction:
    return _ref_tier_rate(x, brackets, key) if key == "initial" else _ref_progressive(x, brackets, key)


def _ref_progressive(x: Fraction, brackets: list[dict], key: str, weight=lambda r: r) -> Fraction:
    total, prev = Fraction(0), Fraction(0)
    for b in brackets:
        c = x if b["up_to"] is None else min(x, _dec(b["up_to"]))
        total += weight(_dec(b[key])) * (c - prev)
        prev = c
    return total


def _reference(model: dict, market: dict, pf: dict, threshold: str) -> tuple[Fraction, bool]:
    """(surplus in quote, passes) straight from the formulas of docs/design.md (margin models), in Fractions."""
    kind = model["margin_model"]
    ins = {x["symbol"]: x for x in market.get("instruments", [])}
    ast = {a["symbol"]: a for a in market.get("assets", [])}
    t = _dec(threshold)
    if kind == "health":
        unit = Fraction(1, 10 ** model["decimals"]["base"])
        import math
        cv = sum(math.floor(_dec(h["amount"]) * _dec(ast[h["asset"]]["price"]) / unit) * unit
                 * _dec(ast[h["asset"]]["liquidation_threshold"]) for h in pf.get("collateral", []))
        w = math.floor(cv / unit) * unit
        debt = sum(math.ceil(_dec(h["amount"]) * _dec(ast[h["asset"]]["price"]) / unit) * unit
                   for h in pf.get("debts", []))
        return w - t * debt, w >= t * debt
    req_key = model.get("parameters", {}).get("requirement")
    upnl = sum(_dec(p["size"]) * (_dec(ins[p["instrument"]]["mark"]) - _dec(p["entry"]))
               for p in pf.get("positions", []))
    if kind == "isolated":
        surpluses = []
        for p in pf.get("positions", []):
            size = _dec(p["size"])
            if size == 0:
                continue
            i = ins[p["instrument"]]
            notional = abs(size) * _dec(i["mark"])
            surpluses.append(_dec(p["margin"]) + size * (_dec(i["mark"]) - _dec(p["entry"]))
                             - _ref_requirement(notional, i["rate_brackets"], req_key))
        if not surpluses:
            return Fraction(0), True
        return min(surpluses), min(surpluses) >= t
    coll = Fraction(0)
    for h in pf.get("collateral", []):
        a = ast[h["asset"]]
        value = _dec(h["amount"]) * _dec(a["price"])
        coll += _ref_progressive(value, a["tiers"], "haircut", lambda r: 1 - r) if kind == "tiered" \
            else value * (1 - _dec(a["haircut"]))
    equity = coll + upnl
    if kind == "scenario":
        s_count = model["sizes"]["n_scenarios"]
        losses = [-sum(_dec(p["size"]) * _dec(ins[p["instrument"]]["risk_array"][s]) for p in pf.get("positions", []))
                  for s in range(s_count)]
        floor = Fraction(0)
        if model["parameters"]["short_option_floor"]:
            floor = sum(max(-_dec(p["size"]), Fraction(0)) * _dec(ins[p["instrument"]]["short_option_minimum"])
                        for p in pf.get("positions", [])) + Fraction(0)
        requirement = max([Fraction(0), floor, *losses])
    else:
        requirement = sum((_ref_requirement(abs(_dec(p["size"])) * _dec(ins[p["instrument"]]["mark"]),
                                            ins[p["instrument"]]["rate_brackets"], req_key)
                           for p in pf.get("positions", [])), Fraction(0))
    return equity - requirement, equity - requirement >= t


def _num(rng: random.Random, decimals: int, lo: int, hi: int) -> str:
    return format_decimal(rng.randint(lo, hi), decimals)


def _random_case(rng: random.Random, folder: str) -> tuple[dict, dict, dict, str]:
    """Perturb an example: random marks, prices, rates, risk arrays, sizes, amounts, threshold."""
    model, market = _doc(f"{folder}/model.json"), _doc(f"{folder}/market.json")
    qd, pd, rd = (model["decimals"][k] for k in ("quantity", "price", "rate"))
    vd = qd + pd
    for ins in market.get("instruments", []):
        ins["mark"] = _num(rng, pd, 0, 10**(pd + 5))
        if "rate_brackets" in ins:
            k = len(ins["rate_brackets"])
            bounds = sorted(rng.sample(range(1, 10**(vd + 6)), k - 1))
            ini = sorted(rng.randint(0, 10**rd) for _ in range(k))
            mnt = sorted(rng.randint(0, x) for x in ini)
            for b, br in enumerate(ins["rate_brackets"]):
                br["up_to"] = format_decimal(bounds[b], vd) if b < k - 1 else None
                br["initial"], br["maintenance"] = format_decimal(ini[b], rd), format_decimal(mnt[b], rd)
        if "risk_array" in ins:
            ins["risk_array"] = [_num(rng, pd, -10**(pd + 4), 10**(pd + 4)) for _ in ins["risk_array"]]
            if "short_option_minimum" in ins:
                ins["short_option_minimum"] = _num(rng, pd, 0, 10**(pd + 3))
    for a in market.get("assets", []):
        a["price"] = _num(rng, pd, 0, 10**(pd + 5))
        for key in ("haircut", "liquidation_threshold"):
            if key in a:
                a[key] = _num(rng, rd, 0, 10**rd)
        if "tiers" in a:
            k = len(a["tiers"])
            bounds = sorted(rng.sample(range(1, 10**(vd + 6)), k - 1))
            hcs = sorted(rng.randint(0, 10**rd) for _ in range(k))
            a["tiers"] = [{"up_to": format_decimal(bounds[b], vd) if b < k - 1 else None,
                           "haircut": format_decimal(hcs[b], rd)} for b in range(k)]
    pf = _portfolio(model["model_id"])
    if "instruments" in model:
        pf["positions"] = []
        for sym in rng.sample(model["instruments"], rng.randint(0, len(model["instruments"]))):
            p = {"instrument": sym, "size": _num(rng, qd, -10**(qd + 3), 10**(qd + 3)),
                 "entry": _num(rng, pd, 0, 10**(pd + 5))}
            if model["margin_model"] == "isolated":
                p["margin"] = _num(rng, vd, 0, 10**(vd + 6))
            pf["positions"].append(p)
    for key in ("collateral", "debts"):
        if "assets" in model and (key == "collateral" or model["margin_model"] == "health"):
            pf[key] = [{"asset": s, "amount": _num(rng, qd, 0, 10**(qd + 4))}
                       for s in rng.sample(model["assets"], rng.randint(0, len(model["assets"])))]
    td = model["decimals"]["health"] if model["margin_model"] == "health" else vd
    threshold = _num(rng, td, 0, 3 * 10**td if model["margin_model"] == "health" else 10**(vd + 4))
    return model, market, pf, threshold


@pytest.mark.parametrize("folder", ["cross", "isolated", SPAN, "lending", "tiered"])
def test_engine_matches_fraction_reference_on_random_portfolios(folder):
    rng = random.Random(f"margin-{folder}")
    outcomes = set()
    for _ in range(150):
        model_d, market_d, pf_d, threshold = _random_case(rng, folder)
        m = load_model(model_d)
        r = evaluate(m, load_market(market_d, m), load_portfolio(pf_d, m), threshold)
        surplus, passes = _reference(model_d, market_d, pf_d, threshold)
        assert Fraction(r.surplus, 10**r.decimals) == surplus
        assert r.passes is passes
        assert r.shortfall == (0 if passes else r.threshold - r.surplus)
        outcomes.add(passes)
    assert outcomes == {True, False}  # the random cases exercise both sides


def test_reference_detects_a_wrong_engine():
    """The reference is sharp: a one-unit change of one input changes the compared surplus."""
    model_d, market_d = _doc("cross/model.json"), _doc("cross/market.json")
    pf_d = _doc("cross/portfolio_pass.json")
    base, _ = _reference(model_d, market_d, pf_d, "0")
    pf2 = copy.deepcopy(pf_d)
    pf2["collateral"][0]["amount"] = "14000.000001"
    changed, _ = _reference(model_d, market_d, pf2, "0")
    assert changed - base == Fraction(1, 10**6)
