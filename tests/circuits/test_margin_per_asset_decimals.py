"""Per-asset decimals and 128-bit amounts (issue 12, point 1): the health model with ``decimals.assets``.

Covers the model document (validation, round trip), the model digest (domain separation from a
model without per-symbol decimals, a pinned value), the engine (per-asset divisors, the 2**128
value cap), the circuit against the engine on random 128-bit portfolios (all three formulas,
divisors from 1 to 10**36), exact boundaries at the new maxima, malicious provers against every
new range check and hint (wrapped and out-of-range amounts, quotients that hide a value over the
cap, lying roundings), and the pinned constraint costs per asset.
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
from pathlib import Path

import pytest

from zkmargin.circuits import compile_circuit
from zkmargin.circuits.margin import assign_vectors, assignment_for, circuit_for
from zkmargin.circuits.margin._testing import build_unchecked, random_value, witness_passes
from zkmargin.circuits.margin.health import health_cost
from zkmargin.circuits.std._testing import violated
from zkmargin.encoding import commitment
from zkmargin.field import R
from zkmargin.margin import (
    AssetData,
    Holding,
    Market,
    Portfolio,
    account_layout,
    evaluate,
    load_market,
    load_model,
    load_portfolio,
    model_digest,
)
from zkmargin.margin.decimal import format_decimal
from zkmargin.margin.engine import health_divisor
from zkmargin.margin.errors import SchemaError
from zkmargin.margin.limits import PRICE_BITS, WIDE_AMOUNT_BITS, WIDE_VALUE_BITS

EX = Path(__file__).resolve().parents[2] / "examples" / "per_asset_decimals_onchain"
SALT, CONTEXT = 0x5EED, 0xC0DE
CAP = 1 << WIDE_VALUE_BITS


def _doc(decimals: dict[str, int] | None, *, formula: str = "aave-v3.5", qd: int = 18, pd: int = 8, rd: int = 4,
         bd: int = 8, hd: int = 18, n_assets: int | None = None, model_id: str = "test-wide") -> dict:
    symbols = list(decimals or {"A0": 0, "A1": 0})
    dec: dict[str, object] = {"quantity": qd, "price": pd, "rate": rd, "base": bd, "health": hd}
    if decimals is not None:
        dec["assets"] = dict(decimals)
    return {"version": 1, "kind": "venue_model", "model_id": model_id, "venue": "test-venue",
            "margin_model": "health", "sizes": {"n_assets": n_assets or len(symbols) + 1},  # one padding slot
            "assets": symbols, "decimals": dec, "parameters": {"formula": formula}}


def _model(decimals: dict[str, int] | None, **kw) -> object:
    return load_model(_doc(decimals, **kw))


#: Models of the property test: every formula; divisors Z_j = 10**(q_j + PD - BD) from 1 (no
#: division: the product itself is range-checked) to 10**36 (q = PD = 18, BD = 0).
WIDE_MODELS = {
    "onchain-aave-v3.5": lambda: load_model(EX / "model_aave_v3.5.json"),
    "floor-weighted-z-1-to-1e36": lambda: _model({"A0": 18, "A1": 0, "A2": 9}, formula="floor-weighted", qd=18,
                                                pd=18, rd=18, bd=0, hd=18, model_id="test-wide-fw"),
    "aave-v3-z-1": lambda: _model({"A0": 0, "A1": 8, "A2": 18}, formula="aave-v3", model_id="test-wide-v3"),
    "aave-v3.5-z-1": lambda: _model({"A0": 0, "A1": 6, "A2": 18}, formula="aave-v3.5", model_id="test-wide-v35"),
}


def _seed(name: str) -> str:
    base = os.environ.get("ZKMARGIN_SEED") or "fixed"
    seed = f"{name}:{base}"
    print(f"seed {seed!r} (replay with ZKMARGIN_SEED={base})")
    return seed


def _random_case(rng: random.Random, model) -> tuple[Market, Portfolio]:
    """Amounts anywhere in [0, 2**128) (0, small, mid, within 1,000 of the top), prices in [0, 2**64),
    liquidation thresholds in [0, RS]; revalidated by the loaders."""
    rs = model.rate_scale
    collateral = tuple(Holding(a, random_value(rng, WIDE_AMOUNT_BITS)) for a in model.assets if rng.random() < 0.85)
    debts = tuple(Holding(a, random_value(rng, WIDE_AMOUNT_BITS, zero=0.4)) for a in model.assets)
    assets = tuple(AssetData(a, random_value(rng, PRICE_BITS), liquidation_threshold=rng.randrange(0, rs + 1))
                   for a in model.assets)
    market = Market(model.venue, model.model_id, rng.randrange(1 << 64), (), assets)
    pf = Portfolio(model.model_id, collateral=collateral, debts=debts)
    return load_market(market.to_dict(model), model), load_portfolio(pf.to_dict(model), model)


def _engine(model, market, pf, t):
    """``evaluate(...).passes``, or None when the engine refuses the account (a value over the cap)."""
    try:
        return evaluate(model, market, pf, t).passes
    except SchemaError:
        return None


def _circuit(model, market, pf, t) -> bool:
    return witness_passes(assignment_for(model, market, pf, SALT, t, CONTEXT))


def _near(model, market, pf) -> tuple[int, int] | None:
    """(largest passing h, the next one) from the engine's exact health factor, if in range."""
    hf = evaluate(model, market, pf, 0).health_factor
    if hf is None:
        return None
    t = hf.numerator * 10**model.health_decimals // hf.denominator
    return (t, t + 1) if t + 1 < 1 << 64 else None


# --- documents ---------------------------------------------------------------------------------

def test_example_model_reads_each_reserve_at_its_token_decimals():
    model = load_model(EX / "model_aave_v3.5.json")
    assert model.assets == ("WETH", "WBTC", "USDC", "GHO") and model.asset_decimals == (18, 8, 6, 18)
    assert model.per_symbol_decimals and load_model(model.to_dict()) == model
    pf = load_portfolio(EX / "portfolio_mixed.json", model)
    assert pf.collateral_amounts(model) == [1234567890123456789, 12345678, 1000000001, 0]
    assert pf.debt_amounts(model) == [0, 0, 7000123456, 0]
    assert load_portfolio(pf.to_dict(model), model) == pf
    assert [health_divisor(model, j) for j in range(4)] == [10**18, 10**8, 10**6, 10**18]


@pytest.mark.parametrize("decimals,kw,field", [
    ({"A0": 6}, {"n_assets": 3}, "decimals.assets"),  # A1 missing (the doc lists A0 only: fixed below)
    ({"A0": 19, "A1": 6}, {}, "decimals.assets.A0"),  # above MAX_DECIMALS and the quantity decimals
    ({"A0": 8, "A1": 6}, {"qd": 7}, "decimals.assets.A0"),  # above the quantity decimals
    ({"A0": 8, "A1": 0}, {"pd": 8, "bd": 9}, "decimals.assets.A1"),  # 0 + 8 < base 9: Z would be 1/10
])
def test_bad_per_symbol_decimals_are_refused(decimals, kw, field):
    doc = _doc(decimals, **kw)
    if field == "decimals.assets":
        doc["assets"] = ["A0", "A1"]
    with pytest.raises(SchemaError, match=field.replace(".", r"\.")):
        load_model(doc)


def test_unknown_symbol_and_other_models_are_refused():
    doc = _doc({"A0": 6, "A1": 6})
    doc["decimals"]["assets"]["ZZZ"] = 6
    with pytest.raises(SchemaError, match=r"decimals\.assets\.ZZZ.*not a symbol"):
        load_model(doc)
    isolated = load_model(Path(__file__).resolve().parents[2] / "examples" / "isolated" / "model.json").to_dict()
    isolated["decimals"]["assets"] = {}
    with pytest.raises(SchemaError, match=r"decimals"):  # no collateral assets: not a field of isolated
        load_model(isolated)
    # cross, scenario and tiered take it too: tests/circuits/test_margin_per_asset_decimals_value.py


def test_amounts_at_their_own_decimals_and_up_to_2_128():
    model = load_model(EX / "model_aave_v3.5.json")

    def holding(asset, amount):
        return load_portfolio({"version": 1, "kind": "portfolio", "model_id": model.model_id,
                               "collateral": [{"asset": asset, "amount": amount}]}, model).collateral[0].amount

    assert holding("USDC", "1.000001") == 1000001 and holding("WBTC", "0.00000001") == 1
    for asset, bad in (("USDC", "1.0000001"), ("WBTC", "0.000000001")):  # finer than the token's decimals
        with pytest.raises(SchemaError, match="amount"):
            holding(asset, bad)
    top = (1 << 128) - 1
    assert holding("WETH", "340282366920938463463.374607431768211455") == top
    with pytest.raises(SchemaError, match="amount"):
        holding("WETH", "340282366920938463463.374607431768211456")  # 2**128 wei
    # a model without per-symbol decimals keeps its 64-bit amounts
    narrow = _model(None, qd=6)
    with pytest.raises(SchemaError, match="amount"):
        load_portfolio({"version": 1, "kind": "portfolio", "model_id": narrow.model_id,
                        "collateral": [{"asset": "A0", "amount": str(1 << 58)}]}, narrow)  # 2**58 * 10**6 > 2**64


# --- the model digest ---------------------------------------------------------------------------

#: model_digest of examples/per_asset_decimals_onchain/model_aave_v3.5.json (a regression pin of this
#: implementation; hash_vector itself is cross-checked against circomlibjs in tests/crosscheck).
ONCHAIN_DIGEST = 11194689829627714625000577818712593488096431136239481010261778264232432066069


def test_digest_binds_the_decimals_and_never_meets_a_model_without_them():
    model = load_model(EX / "model_aave_v3.5.json")
    assert model_digest(model) == ONCHAIN_DIGEST
    same_as_qd = _model({"A0": 18, "A1": 18}, qd=18)  # every declared decimal equals QD
    without = _model(None, qd=18)
    assert same_as_qd.to_dict()["assets"] == without.to_dict()["assets"]
    assert model_digest(same_as_qd) != model_digest(without)
    other = _model({"A0": 18, "A1": 17}, qd=18)
    swapped = _model({"A0": 17, "A1": 18}, qd=18)
    assert len({model_digest(m) for m in (same_as_qd, without, other, swapped)}) == 4


def test_account_committed_without_per_symbol_decimals_does_not_open_with_them():
    """Same symbols, same vector length, same header: only the model digest differs, and the
    circuit's commitment binding rejects the account committed under the other model."""
    wide, narrow = _model({"A0": 18, "A1": 18}, qd=18), _model(None, qd=18)
    market = load_market({"version": 1, "kind": "market", "venue": "test-venue", "model_id": wide.model_id,
                          "epoch": 1, "assets": [{"symbol": "A0", "price": "1", "liquidation_threshold": "0.8"},
                                                 {"symbol": "A1", "price": "1", "liquidation_threshold": "0.8"}]},
                         wide)
    pf = load_portfolio({"version": 1, "kind": "portfolio", "model_id": wide.model_id,
                         "collateral": [{"asset": "A0", "amount": "2"}], "debts": [{"asset": "A1", "amount": "1"}]},
                        wide)
    acc, mkt = pf.to_field_elements(wide), market.to_field_elements(wide)
    assert acc == pf.to_field_elements(narrow) and mkt == market.to_field_elements(narrow)
    honest = assign_vectors(wide, acc, SALT, mkt, 10**18, CONTEXT)
    cs, w = build_unchecked(honest)
    assert violated(cs, w) == []
    forged = assign_vectors(wide, acc, SALT, mkt, 10**18, CONTEXT,
                            commitment=commitment(model_digest(narrow), acc, SALT))
    cs, w = build_unchecked(forged)
    assert violated(cs, w) == ["statement/commitment/bind"]


# --- engine and circuit -------------------------------------------------------------------------

def _agree(model, count: int, seed: str) -> dict[str, int]:
    rng = random.Random(seed)
    seen = {"pass": 0, "fail": 0, "over_cap": 0}
    for n in range(count):
        market, pf = _random_case(rng, model)
        expected0 = _engine(model, market, pf, 0)
        if expected0 is None:  # a value at or over 2**128: no witness either
            assert not _circuit(model, market, pf, 0), (f"seed {seed!r}", n)
            seen["over_cap"] += 1
            continue
        near = _near(model, market, pf)
        for t in near if near is not None else (0, rng.randrange(1 << 64)):
            expected = _engine(model, market, pf, t)
            assert _circuit(model, market, pf, t) is expected, (f"seed {seed!r}", model.model_id, n, t)
            seen["pass" if expected else "fail"] += 1
    return seen


@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_circuit_agrees_with_engine_on_random_128_bit_portfolios(name):
    model = WIDE_MODELS[name]()
    seen = _agree(model, 12, _seed(f"margin-wide-{name}"))
    assert seen["pass"] and seen["fail"], seen
    if name.endswith("z-1"):  # Z = 1 with 128-bit amounts and 64-bit prices: the cap is reached
        assert seen["over_cap"], seen


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_circuit_agrees_with_engine_on_many_random_128_bit_portfolios(name, report_figure):
    base = os.environ.get("ZKMARGIN_SEED") or str(time.time_ns())
    seed = f"margin-wide-many-{name}:{base}"
    report_figure(f"property seed {seed} (replay with ZKMARGIN_SEED={base})")
    seen = _agree(WIDE_MODELS[name](), 60, seed)
    assert seen["pass"] and seen["fail"], seen


def _cap_market(model, prices, lts=None):
    rs = model.rate_scale
    return load_market({"version": 1, "kind": "market", "venue": "test-venue", "model_id": model.model_id,
                        "epoch": 1, "assets": [
                            {"symbol": s, "price": format_decimal(p, model.price_decimals),
                             "liquidation_threshold": format_decimal(lt, model.rate_decimals)}
                            for s, p, lt in zip(model.assets, prices, lts or [rs] * len(prices), strict=True)]},
                       model)


def _raw_portfolio(model, collateral: dict[str, int], debts: dict[str, int]) -> Portfolio:
    return Portfolio(model.model_id, collateral=tuple(Holding(a, v) for a, v in collateral.items()),
                     debts=tuple(Holding(a, v) for a, v in debts.items()))


@pytest.mark.parametrize("formula", ["floor-weighted", "aave-v3.5", "aave-v3"])
def test_exact_boundary_at_the_128_bit_maxima(formula):
    """2**128 - 1 wei of collateral at a price just below the cap; a debt of exactly the weighted
    value: HF exactly 1 passes at h = 1, and fails at h = 1 + 10**-18 and with the least extra debt
    that the engine fails (one unit for floor-weighted)."""
    model = _model({"A0": 18, "A1": 6}, formula=formula, rd=4 if formula != "floor-weighted" else 18,
                   model_id=f"test-wide-exact-{formula}")
    p0 = 10**18 - 1  # 2**128 - 1 wei * p0 / 10**18 < 2**128: the value sits just below the cap
    market = _cap_market(model, [p0, health_divisor(model, 1)])  # A1 at price Z: its debt value is the amount
    a = (1 << 128) - 1
    cv = a * p0 // health_divisor(model, 0)
    assert CAP - 10**21 < cv < CAP
    exact = _raw_portfolio(model, {"A0": a}, {"A1": cv})
    wad = 10**model.health_decimals
    report = evaluate(model, market, exact, wad)
    assert report.health_factor == 1 and report.passes
    assert _circuit(model, market, exact, wad)
    assert not evaluate(model, market, exact, wad + 1).passes and not _circuit(model, market, exact, wad + 1)
    # the least extra debt that fails: 1 unit for floor-weighted; the Aave formulas round the
    # health factor half up (wadDiv), so at this size a few units more still give HF = 1
    def fails(extra: int) -> bool:
        return not evaluate(model, market, _raw_portfolio(model, {"A0": a}, {"A1": cv + extra}), wad).passes

    lo, hi = 0, 1
    while not fails(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fails(mid) else (mid, hi)
    assert hi == 1 if formula == "floor-weighted" else hi > 1
    assert _circuit(model, market, _raw_portfolio(model, {"A0": a}, {"A1": cv + hi - 1}), wad)
    assert not _circuit(model, market, _raw_portfolio(model, {"A0": a}, {"A1": cv + hi}), wad)


@pytest.mark.parametrize("side", ["collateral", "debts"])
def test_value_exactly_at_the_cap_and_one_over(side):
    """Z = 1 (0 decimals, PD = BD): value = amount * price. 2**128 - 1 is admitted; 2**128 is refused
    by the engine (SchemaError) and has no witness."""
    model = _model({"A0": 0, "A1": 6}, formula="floor-weighted", model_id="test-wide-cap")
    assert health_divisor(model, 0) == 1
    for amount, price, admitted in (((1 << 128) - 1, 1, True), (1 << 127, 2, False), ((1 << 128) - 1, 2, False)):
        market = _cap_market(model, [price, 10**6])
        holdings = {"A0": amount}
        pf = _raw_portfolio(model, holdings if side == "collateral" else {"A1": 1},
                            holdings if side == "debts" else {"A1": 1})
        if admitted:
            assert _engine(model, market, pf, 0) is not None
            assert _circuit(model, market, pf, 0) is True
        else:
            with pytest.raises(SchemaError, match="WIDE_VALUE_BITS"):
                evaluate(model, market, pf, 0)
            assert _circuit(model, market, pf, 0) is False


# --- malicious provers --------------------------------------------------------------------------

def _onchain(portfolio: str, market: str = "market_2500.json"):
    model = load_model(EX / "model_aave_v3.5.json")
    return model, load_market(EX / market, model), load_portfolio(EX / portfolio, model)


def _run(model, acc, mkt, t, hints=None):
    cs, w = build_unchecked(assign_vectors(model, acc, SALT, mkt, t, CONTEXT), hints)
    return violated(cs, w)


def _offset(model, segment: str, j: int) -> int:
    pos = 0
    for name, shape in account_layout(model):
        if name == segment:
            return pos + j
        pos += shape[0]
    raise KeyError(segment)


@pytest.mark.parametrize("segment,j,scope", [("collateral", 0, "asset[0]/collateral/amount"),
                                             ("debts", 3, "asset[3]/debt/amount")])
@pytest.mark.parametrize("value", [1 << 128, (1 << 128) + 7, R - 1, R - (1 << 127)])
def test_amount_outside_128_bits_or_wrapped_is_rejected(segment, j, scope, value):
    """An amount of 2**128 or more, or a "negative" one (r - k: a negative debt would lower the
    requirement), fails the 128-bit range check."""
    model, market, pf = _onchain("portfolio_aave_help.json")
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    acc[_offset(model, segment, j)] = value
    bad = _run(model, acc, mkt, 10**18)
    assert any(label.startswith(f"{scope}/assert_bits/") for label in bad), bad


def test_wrapped_amount_with_a_legitimate_value_only_the_range_check_stops_it():
    """a' = V * Z / p mod r, so a' * p = V * Z: the division gives the (in-range) value V honestly
    and the failing account would pass; the amount's 128-bit range check alone rejects it."""
    model, market, pf = _onchain("portfolio_aave_help.json")
    t = 10**18 * 2  # HF 1.33 fails at h = 2
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    assert _run(model, acc, mkt, t) != []
    value = CAP - 1
    k = _offset(model, "collateral", 0)
    acc[k] = value * health_divisor(model, 0) * pow(market.assets[0].price, -1, R) % R
    assert acc[k] >= 1 << 128
    assert _run(model, acc, mkt, t) == ["asset[0]/collateral/amount/assert_bits/recompose"]


def _divmod(lie_floor=None, lie_ceil=None):
    def make(ceil, lie):
        def hint(ins):
            n, d = ins
            q = -(-n // d) if ceil else n // d
            rem = q * d - n if ceil else n - q * d
            return lie(q, rem, d, n) if lie else (q, rem)
        return hint
    out = {}
    if lie_floor:
        out["margin.divmod_floor"] = make(False, lie_floor)
    if lie_ceil:
        out["margin.divmod_ceil"] = make(True, lie_ceil)
    return out


def test_value_over_the_cap_cannot_be_hidden_by_the_quotient():
    """A debt value of 2**128 or more: the engine refuses it and the honest witness fails the
    quotient's 128-bit range check. Lies that fit the quotient into 128 bits (reduced mod 2**128)
    fail the equation (with the honest remainder) or the remainder's range check (with the
    remainder that keeps the equation): the value cannot wrap into range."""
    model = _model({"A0": 18, "A1": 18}, formula="floor-weighted", model_id="test-wide-over")
    z = health_divisor(model, 1)
    market = _cap_market(model, [10**8, (1 << 64) - 1])
    debt = (1 << 128) - 1  # value (2**128 - 1) * (2**64 - 1) / 10**18 ~ 2**155.6: over the cap
    pf = _raw_portfolio(model, {"A0": 1}, {"A1": debt})
    with pytest.raises(SchemaError):
        evaluate(model, market, pf, 0)
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    honest = _run(model, acc, mkt, 0)
    assert any(label.startswith("asset[1]/debt/div_ceil/quotient/") for label in honest), honest

    def lie(q, rem, d, n, keep_equation):
        if d != z or q < CAP:
            return q, rem
        q2 = q % CAP
        return (q2, (q2 * d - n) % R) if keep_equation else (q2, rem)

    bad = _run(model, acc, mkt, 0, _divmod(lie_ceil=lambda *a: lie(*a, keep_equation=False)))
    assert "asset[1]/debt/div_ceil/n+rem==q*d" in bad and not any("quotient" in b for b in bad), bad
    bad = _run(model, acc, mkt, 0, _divmod(lie_ceil=lambda *a: lie(*a, keep_equation=True)))
    assert bad and all(b.startswith("asset[1]/debt/div_ceil/remainder/") for b in bad), bad


def test_lying_roundings_of_per_asset_values_fail():
    """HF 1.333 fails at h = 1.334. Raise the WETH collateral value (Z = 10**18) by 10**12 base
    units, or lower the GHO debt value by 10**11: either would pass; the remainders' range checks
    stop both."""
    model, market, pf = _onchain("portfolio_aave_help.json")
    t = 1334 * 10**15
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    assert _run(model, acc, mkt, t) == ["surplus/assert_bits/recompose"]
    k = 10**12
    bad = _run(model, acc, mkt, t, _divmod(lie_floor=lambda q, rem, d, n: (q + k, (rem - k * d) % R)
                                           if q and d == 10**18 else (q, rem)))
    assert bad and all("/collateral/div_floor/remainder/" in b for b in bad), bad
    k = 10**11  # the GHO debt value is 6 * 10**11 base units: 1,000 USD less would pass (HF 1.6)
    bad = _run(model, acc, mkt, t, _divmod(lie_ceil=lambda q, rem, d, n: (q - k, (rem - k * d) % R) if q >= k
                                           else (q, rem)))
    assert bad and all("/debt/div_ceil/remainder/" in b for b in bad), bad


def test_z_1_value_over_the_cap_fails_its_range_check():
    """With Z = 1 there is no hint: the product itself is the value and is range-checked."""
    model = _model({"A0": 0, "A1": 6}, formula="floor-weighted", model_id="test-wide-cap")
    market = _cap_market(model, [2, 10**6])
    pf = _raw_portfolio(model, {"A0": 1 << 127}, {"A1": 1})
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    assert _run(model, acc, mkt, 0) == ["asset[0]/collateral/value/assert_bits/recompose"]


# --- constraint costs ---------------------------------------------------------------------------

#: The marginal constraints of one more asset slot (aave-v3.5, PD = BD = 8, so Z = 10**q): both
#: amounts, both products, both value divisions, cv * lt, and the few bits the later divisions
#: widen by. Before: one quantity decimals q for every asset and 64-bit amounts (at q = 18 an amount
#: must stay under 18.44 tokens); after: per-symbol decimals, 128-bit amounts, values capped at
#: 2**128. The figures of the README's cost table. Key: Z.
PER_ASSET = {1: (142, 528), 10**6: (448, 614), 10**8: (462, 642), 10**18: (528, 774)}


def _per_asset_cost(model) -> int:
    one = dataclasses.replace(model, n_assets=1, assets=model.assets[:1], asset_decimals=model.asset_decimals[:1])
    two = dataclasses.replace(model, n_assets=2, assets=model.assets[:1], asset_decimals=model.asset_decimals[:1])
    return health_cost(two) - health_cost(one)


@pytest.mark.parametrize("z_digits", [0, 6, 8, 18])
def test_per_asset_cost_pinned(z_digits):
    """The marginal cost of one more asset slot at divisor 10**z_digits, before and after."""
    narrow = _model(None, qd=z_digits, pd=8, bd=8, formula="aave-v3.5", model_id="test-cost-n")
    wide = _model({"A0": z_digits, "A1": z_digits}, qd=z_digits, pd=8, bd=8, formula="aave-v3.5",
                  model_id="test-cost-w")
    assert health_divisor(narrow, 0) == health_divisor(wide, 0) == 10**z_digits
    assert (_per_asset_cost(narrow), _per_asset_cost(wide)) == PER_ASSET[10**z_digits]


@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_health_cost_matches_the_compiled_count(name):
    model = WIDE_MODELS[name]()
    assert compile_circuit(circuit_for(model)).n_constraints == health_cost(model)


def test_onchain_example_cost_pinned():
    assert health_cost(load_model(EX / "model_aave_v3.5.json")) == 5014
