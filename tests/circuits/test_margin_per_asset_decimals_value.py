"""Per-asset decimals and 128-bit amounts for the value models (issue 12, point 1): cross (unsigned and
signed collateral), scenario and tiered with ``decimals.assets``.

Each collateral asset's amount is in base units of its own decimals q_j <= QD, up to 2**128 of them
(signed: |a| < 2**128); its value ``V_j = a_j * p_j * 10**(QD - q_j)`` is capped below 2**128 value
units (``circuits.margin.collateral.wide_asset_value``), so every later bound is the one derived for
64-bit amounts. Covers the documents, the engine's cap (SchemaError), the circuit against the engine on
random portfolios at the new maxima, exact boundaries at the cap, malicious provers (wrapped and
out-of-range amounts, a value over the cap whose bits lie, a lying sign), the pinned per-asset costs
before / after, and that a model without per-symbol decimals keeps its layout, digest and count.
"""

from __future__ import annotations

import dataclasses
import os
import random
from pathlib import Path

import pytest

from zkmargin.circuits import compile_circuit
from zkmargin.circuits.margin import assign_vectors, assignment_for, circuit_for
from zkmargin.circuits.margin._testing import (
    _tiers,
    build_unchecked,
    lying_bits,
    random_case,
    random_value,
    small_model,
    witness_passes,
)
from zkmargin.circuits.margin.collateral import asset_scale, collateral_cost
from zkmargin.circuits.margin.cross import cross_cost
from zkmargin.circuits.margin.scenario import scenario_cost
from zkmargin.circuits.margin.tiered import tiered_cost
from zkmargin.circuits.std._testing import violated
from zkmargin.field import R
from zkmargin.margin import (
    Holding,
    Market,
    Portfolio,
    account_layout,
    evaluate,
    load_market,
    load_model,
    load_portfolio,
    market_layout,
    model_digest,
)
from zkmargin.margin.engine import collateral_scale
from zkmargin.margin.errors import SchemaError
from zkmargin.margin.limits import PRICE_BITS, WIDE_AMOUNT_BITS, WIDE_VALUE_BITS

EX = Path(__file__).resolve().parents[2] / "examples" / "per_asset_decimals_cross"
SALT, CONTEXT = 0x5EED, 0xC0DE
CAP = 1 << WIDE_VALUE_BITS
COSTS = {"cross": cross_cost, "scenario": scenario_cost, "tiered": tiered_cost}


def _wide(kind: str, decimals: dict[str, int] | None, *, qd: int = 18, signed: bool = False,
          model_id: str | None = None):
    """The small model of ``kind`` with QD = qd, three asset slots (A0, A1 and one padding slot) and,
    unless None, ``decimals.assets``."""
    doc = small_model(kind).to_dict()
    doc["model_id"] = model_id or f"test-wide-{kind}{'-signed' if signed else ''}"
    doc["sizes"]["n_assets"] = 3
    doc["decimals"]["quantity"] = qd
    if decimals is not None:
        doc["decimals"]["assets"] = dict(decimals)
    if signed:
        doc["parameters"]["signed_collateral"] = True
    return load_model(doc)


#: The property test's models: scales 10**(QD - q_j) from 1 to 10**18, and a padding slot (scale 1).
WIDE_MODELS = {
    "cross": lambda: _wide("cross", {"A0": 18, "A1": 0}),
    "cross-signed": lambda: _wide("cross", {"A0": 6, "A1": 18}, signed=True),
    "scenario": lambda: _wide("scenario", {"A0": 0, "A1": 9}),
    "tiered": lambda: _wide("tiered", {"A0": 8, "A1": 18}),
}


def _seed(name: str) -> str:
    base = os.environ.get("ZKMARGIN_SEED") or "fixed"
    print(f"seed {name}:{base!r} (replay with ZKMARGIN_SEED={base})")
    return f"{name}:{base}"


def _narrow(model):
    return model if not model.signed_collateral else dataclasses.replace(model, signed_collateral=False)


def _with_liability_weights(rng: random.Random, model, market: Market) -> Market:
    """Signed collateral: a liability weight in [RS, 10 * RS] per asset (the loader's range)."""
    if not model.signed_collateral:
        return market
    rs = model.rate_scale
    assets = tuple(dataclasses.replace(x, liability_weight=rng.randrange(rs, 10 * rs + 1)) for x in market.assets)
    return dataclasses.replace(market, assets=assets)


def _random_case(rng: random.Random, model) -> tuple[Market, Portfolio]:
    """``random_case`` with the collateral redrawn over the new range: amounts anywhere in [0, 2**128)
    (signed: either sign), tiers (tiered) redrawn around the new value; revalidated by the loaders."""
    market, pf = random_case(rng, _narrow(model))  # random_case draws no liability weights
    market = _with_liability_weights(rng, model, market)
    collateral = []
    for a in model.assets:
        if rng.random() < 0.85:
            v = random_value(rng, WIDE_AMOUNT_BITS)
            collateral.append(Holding(a, -v if model.signed_collateral and rng.random() < 0.4 else v))
    assets = list(market.assets)
    if model.margin_model == "tiered":
        amounts = {h.asset: h.amount for h in collateral}
        for j, x in enumerate(assets):
            near = min(amounts.get(x.symbol, 0) * x.price * collateral_scale(model, j), CAP - 1)
            assets[j] = dataclasses.replace(x, tiers=_tiers(rng, model.n_tiers, model.rate_scale, near))
    market = Market(market.venue, market.model_id, market.epoch, market.instruments, tuple(assets))
    pf = Portfolio(pf.model_id, pf.positions, tuple(collateral), pf.debts)
    return load_market(market.to_dict(model), model), load_portfolio(pf.to_dict(model), model)


def _engine(model, market, pf, t):
    """``evaluate(...).passes``, or None when the engine refuses the account (a value over the cap)."""
    try:
        return evaluate(model, market, pf, t).passes
    except SchemaError:
        return None


def _circuit(model, market, pf, t) -> bool:
    return witness_passes(assignment_for(model, market, pf, SALT, t, CONTEXT))


def _agree(model, count: int, seed: str) -> dict[str, int]:
    rng = random.Random(seed)
    seen = {"pass": 0, "fail": 0, "over_cap": 0, "wide": 0}
    for n in range(count):
        market, pf = _random_case(rng, model)
        seen["wide"] += any(abs(h.amount) >> 64 for h in pf.collateral)
        report = None
        try:
            report = evaluate(model, market, pf, 0)
        except SchemaError as e:
            assert "WIDE_VALUE_BITS" in str(e)
        if report is None:  # a value at or over 2**128: no witness either
            assert not _circuit(model, market, pf, 0), (seed, n)
            seen["over_cap"] += 1
            continue
        surplus = report.surplus
        ts = ((surplus // model.rate_scale, surplus // model.rate_scale + 1) if surplus >= 0
              else (0, rng.randrange(1 << 64)))
        for t in ts:
            expected = _engine(model, market, pf, t)
            assert _circuit(model, market, pf, t) is expected, (seed, model.model_id, n, t)
            seen["pass" if expected else "fail"] += 1
    return seen


@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_circuit_agrees_with_engine_on_random_128_bit_collateral(name):
    model = WIDE_MODELS[name]()
    seen = _agree(model, 10, _seed(f"margin-wide-value-{name}"))
    assert seen["pass"] and seen["fail"] and seen["over_cap"] and seen["wide"], seen


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_circuit_agrees_with_engine_on_many_random_128_bit_collateral(name):
    import time
    base = os.environ.get("ZKMARGIN_SEED") or str(time.time_ns())
    seed = f"margin-wide-value-many-{name}:{base}"
    print(f"seed {seed!r} (replay with ZKMARGIN_SEED={base})")
    seen = _agree(WIDE_MODELS[name](), 50, seed)
    assert seen["pass"] and seen["fail"], seen


# --- documents ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_value_models_read_each_asset_at_its_own_decimals(name):
    model = WIDE_MODELS[name]()
    assert model.per_symbol_decimals and load_model(model.to_dict()) == model
    qd = model.quantity_decimals
    assert [asset_scale(model, j) for j in range(3)] == [10 ** (qd - q) for q in model.asset_decimals] + [1]
    assert [collateral_scale(model, j) for j in range(3)] == [asset_scale(model, j) for j in range(3)]
    q0 = model.asset_decimals[0]

    def amount(v: str) -> int:
        return load_portfolio({"version": 1, "kind": "portfolio", "model_id": model.model_id,
                               "collateral": [{"asset": "A0", "amount": v}]}, model).collateral[0].amount

    top = (1 << 128) - 1
    assert amount(_fmt(top, q0)) == top
    with pytest.raises(SchemaError, match="amount"):
        amount(_fmt(1 << 128, q0))
    with pytest.raises(SchemaError, match="amount"):
        amount("0." + "0" * q0 + "1")  # finer than the asset's decimals
    if model.signed_collateral:
        assert amount("-" + _fmt(top, q0)) == -top
        with pytest.raises(SchemaError, match="amount"):
            amount("-" + _fmt(1 << 128, q0))
    else:
        with pytest.raises(SchemaError, match="amount"):
            amount("-1")


def _fmt(v: int, d: int) -> str:
    s = str(v).rjust(d + 1, "0")
    return f"{s[:-d]}.{s[-d:]}" if d else s


def test_decimals_above_qd_and_unknown_kinds_are_refused():
    for bad in ({"A0": 19, "A1": 0}, {"A0": 6, "A1": 7}):
        with pytest.raises(SchemaError, match=r"decimals\.assets\.A"):
            _wide("cross", bad, qd=6 if bad["A0"] == 6 else 18)
    doc = small_model("isolated").to_dict()
    doc["decimals"]["assets"] = {}
    with pytest.raises(SchemaError, match=r"decimals"):
        load_model(doc)


@pytest.mark.parametrize("kind", ["cross", "scenario", "tiered"])
def test_model_without_per_symbol_decimals_is_unchanged(kind):
    """The same symbols without ``decimals.assets``: same vector layouts, a different digest (the
    marker), and the old 64-bit amounts and constraint count; with every q_j = QD the layouts match."""
    narrow, wide = _wide(kind, None), _wide(kind, {"A0": 18, "A1": 18})
    assert not narrow.per_symbol_decimals
    assert account_layout(narrow) == account_layout(wide) and market_layout(narrow) == market_layout(wide)
    assert model_digest(narrow) != model_digest(wide)
    base = small_model(kind)
    assert compile_circuit(circuit_for(base)).n_constraints == COSTS[kind](base)
    with pytest.raises(SchemaError, match="amount"):
        load_portfolio({"version": 1, "kind": "portfolio", "model_id": narrow.model_id,
                        "collateral": [{"asset": "A0", "amount": _fmt(1 << 64, 18)}]}, narrow)


# --- the cap ------------------------------------------------------------------------------------

def _market(model, prices: list[int]):
    market, _ = random_case(random.Random(1), _narrow(model))
    market = _with_liability_weights(random.Random(2), model, market)
    assets = tuple(dataclasses.replace(x, price=p) for x, p in zip(market.assets, prices, strict=True))
    return load_market(Market(market.venue, market.model_id, 1, market.instruments, assets).to_dict(model), model)


def _pf(model, amounts: dict[str, int]) -> Portfolio:
    return Portfolio(model.model_id, (), tuple(Holding(a, v) for a, v in amounts.items()))


@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_value_exactly_at_the_cap_and_one_over(name):
    """Asset A1 (cross: scale 10**18; else the slot's own scale): a value of 2**128 - 1 value units is
    admitted; 2**128 is refused by the engine (SchemaError naming the asset) and has no witness."""
    model = WIDE_MODELS[name]()
    j = max(range(2), key=lambda k: asset_scale(model, k))
    z = asset_scale(model, j)
    sym = model.assets[j]
    # amount * price * z: (CAP - 1) needs z | CAP - 1 - k; use price 1 and the largest admitted amount
    cases = [((CAP - 1) // z, 1, True), (CAP // z + 1, 1, False), ((1 << 127) // z + 1, 2, False)]
    if z == 1:
        cases.append(((1 << 128) - 1, 1, True))
    for amount, price, admitted in cases:
        if amount >> WIDE_AMOUNT_BITS:
            continue
        prices = [price if k == j else 1 for k in range(2)]
        market = _market(model, prices)
        for sign in ((1, -1) if model.signed_collateral else (1,)):
            pf = _pf(model, {sym: sign * amount})
            assert (abs(amount * price * z) < CAP) is admitted
            if admitted:
                expected = _engine(model, market, pf, 0)
                assert expected is not None and _circuit(model, market, pf, 0) is expected
            else:
                with pytest.raises(SchemaError, match=rf"collateral {sym}.*WIDE_VALUE_BITS"):
                    evaluate(model, market, pf, 0)
                assert _circuit(model, market, pf, 0) is False


def test_exact_threshold_at_the_maxima():
    """cross, haircut h on A0 (q = 0, scale 10**18): the largest amount under the cap; the surplus
    is exact at its threshold and one unit more fails, in the engine and the circuit."""
    model = WIDE_MODELS["cross"]()
    z = asset_scale(model, 1)  # A1 has q = 0: scale 10**18
    rng = random.Random(7)
    for _ in range(3):
        price = rng.randrange(1, 1 << PRICE_BITS)
        amount = min((CAP - 1) // (price * z), (1 << 128) - 1)
        market = _market(model, [1, price])
        pf = _pf(model, {"A1": amount, "A0": (1 << 128) - rng.randrange(1, 1000)})
        report = evaluate(model, market, pf, 0)
        t = report.surplus // model.rate_scale
        assert report.surplus >= 0 and _circuit(model, market, pf, t) and evaluate(model, market, pf, t).passes
        assert not _circuit(model, market, pf, t + 1) and not evaluate(model, market, pf, t + 1).passes


# --- malicious provers --------------------------------------------------------------------------

def _example(name: str):
    model = load_model(EX / f"model_{name}.json")
    market = load_market(EX / ("market_01.json" if name == "01_lamports" else "market_erc20.json"), model)
    pf = load_portfolio(EX / ("portfolio_01_alice.json" if name == "01_lamports" else "portfolio_erc20_mixed.json"),
                        model)
    return model, market, pf


def _run(model, acc, mkt, t, hints=None):
    cs, w = build_unchecked(assign_vectors(model, acc, SALT, mkt, t, CONTEXT), hints)
    return violated(cs, w)


def _offset(model, j: int) -> int:
    pos = 0
    for name, shape in account_layout(model):
        if name == "amounts":
            return pos + j
        pos += shape[0]
    raise KeyError("amounts")


@pytest.mark.parametrize("value", [1 << 128, (1 << 128) + 7, R - 1, R - (1 << 127)])
def test_amount_outside_128_bits_or_wrapped_is_rejected(value):
    """An unsigned amount of 2**128 or more, or a "negative" one, fails the amount's 128-bit range check."""
    model, market, pf = _example("erc20")
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    acc[_offset(model, 2)] = value
    bad = _run(model, acc, mkt, 0)
    assert any(label.startswith("asset[2]/amount/assert_bits/") for label in bad), bad


def test_wrapped_amount_with_a_legitimate_value_only_the_range_check_stops_it():
    """a' = V / (p * 10**(QD - q)) mod r for an in-range V just below the cap: a' * p * scale = V,
    the value passes its cap and the account (which fails at this threshold) would pass; only the
    amount's 128-bit range check rejects it."""
    model, market, pf = _example("erc20")
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    t = 10**30  # far above the equity: fails honestly
    assert _run(model, acc, mkt, t) == ["surplus/assert_bits/recompose"]
    j = 2  # USDC: q = 6, scale 10**12
    acc[_offset(model, j)] = (CAP - 1) * pow(market.assets[j].price * asset_scale(model, j), -1, R) % R
    assert acc[_offset(model, j)] >= 1 << 128
    assert _run(model, acc, mkt, t) == [f"asset[{j}]/amount/assert_bits/recompose"]


def test_value_over_the_cap_cannot_be_hidden_by_lying_bits():
    """2**128 - 1 wei of WETH at 2,500.00: V = a * p ~ 2**145.9, over the cap; the engine refuses it
    and the honest witness fails the cap's recomposition; bits that recompose to V fail booleanity."""
    model, market, _ = _example("erc20")
    pf = _pf(model, {"WETH": (1 << 128) - 1})
    with pytest.raises(SchemaError, match="collateral WETH"):
        evaluate(model, market, pf, 0)
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    assert _run(model, acc, mkt, 0) == ["asset[0]/value_cap/assert_bits/recompose"]
    bad = _run(model, acc, mkt, 0, lying_bits(WIDE_VALUE_BITS))
    assert bad and all(b.startswith("asset[0]/value_cap/assert_bits/") for b in bad), bad
    assert "asset[0]/value_cap/assert_bits/recompose" not in bad, bad


def test_lying_sign_of_a_borrowed_balance_fails():
    """01's example on native units: -1 SOL (borrowed) counted as held would not change the weight
    here (weights 1) but would flip the value's sign; the sign is a bit of the amount's own
    decomposition, so a hint that drops it fails there."""
    model, market, pf = _example("01_lamports")
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    t = 300 * 10**11
    assert _run(model, acc, mkt, t) == [] and _run(model, acc, mkt, t + 1) == ["surplus/assert_bits/recompose"]

    def hint(ins):  # the amount's 129-bit decomposition of a + 2**128: claim the top (sign) bit is 1
        x, n = ins
        out = [(x >> i) & 1 for i in range(n)]
        if n == WIDE_AMOUNT_BITS + 1 and out[-1] == 0:
            out[-1] = 1
        return out
    bad = _run(model, acc, mkt, t + 10**13, {"bits.decompose": hint})  # +100 USD: what the lie would win
    assert any(b.startswith("asset[1]/amount/sign/") for b in bad), bad


# --- costs --------------------------------------------------------------------------------------

#: Marginal constraints of one more asset slot (a padding slot: its share of the commitment's and the
#: market digest's hashing and the padding rule, 4 here, included), (without, with per-symbol
#: decimals). The collateral part: unsigned 65 + 2 -> 129 (amount) + 1 (product) + 129 (value cap) +
#: 1 (weight) = 260; signed 70 -> 131 + 1 + 131 + 2 = 265; tiered (T = 4 tiers, the 128-bit schedule
#: P) 66 + P -> 259 + P. The README's table.
PER_ASSET = {"cross": (71, 264), "cross-signed": (74, 269), "scenario": (71, 264), "tiered": (962, 1155)}


@pytest.mark.parametrize("name", sorted(PER_ASSET))
def test_per_asset_cost_pinned(name):
    kind = name.split("-")[0]
    signed = name.endswith("signed")
    cost = COSTS[kind]

    def marginal(decimals):
        m2 = _wide(kind, decimals, signed=signed)
        doc = m2.to_dict()
        doc["sizes"]["n_assets"] = 4
        return cost(load_model(doc)) - cost(m2)

    before, after = marginal(None), marginal({"A0": 18, "A1": 6})
    assert (before, after) == PER_ASSET[name] and after - before == (195 if signed else 193)
    if kind != "tiered":
        per_slot = PER_ASSET[name][1] - 4  # the collateral part alone, without the slot's hashing share
        assert collateral_cost(_wide(kind, {"A0": 1, "A1": 2}, signed=signed)) == 3 * per_slot


@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_cost_matches_the_compiled_count(name):
    model = WIDE_MODELS[name]()
    assert compile_circuit(circuit_for(model)).n_constraints == COSTS[model.margin_model](model)


def test_example_costs_pinned():
    counts = {n: compile_circuit(circuit_for(load_model(EX / f"model_{n}.json"))).n_constraints
              for n in ("01_lamports", "erc20")}
    assert counts == {"01_lamports": 2813, "erc20": 3066}
    assert counts == {n: cross_cost(load_model(EX / f"model_{n}.json")) for n in counts}
