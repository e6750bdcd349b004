"""Per-instrument size decimals and 128-bit sizes (issue 12, point 1, instruments): cross, tiered,
isolated and scenario with ``decimals.instruments``.

A size is in base units of its instrument's own decimals q_i <= QD, signed, |s| < 2**128; every
formula reads S = s * 10**(QD - q_i), and both |S| * mark (the notional) and |S| * entry (the entry
value) are capped below 2**128 value units (``circuits.margin.gadgets.model_position``,
``zkmargin.margin.limits``); scenario also caps |S| * R_i, R_i the instrument's largest |risk| (and its
short option minimum), which the market vector carries (``risk_bounds``). Covers the documents, the
engine's caps (SchemaError), the circuit against the engine on random portfolios around the caps,
exact boundaries at each cap, malicious provers (a size outside 128 bits, a size finer than the
instrument's resolution wrapped mod r, a notional over the cap whose bits lie, an entry value over its
cap), the pinned costs, and that a model without them is unchanged.
"""

from __future__ import annotations

import os
import random
from dataclasses import replace
from pathlib import Path

import pytest

from zkmargin.circuits import compile_circuit
from zkmargin.circuits.margin import assign_vectors, assignment_for, circuit_for
from zkmargin.circuits.margin._testing import build_unchecked, lying_bits, random_case, small_model, witness_passes
from zkmargin.circuits.margin.cross import cross_cost
from zkmargin.circuits.margin.gadgets import CHECKED_POSITION_COST, WIDE_POSITION_COST
from zkmargin.circuits.margin.isolated import isolated_cost
from zkmargin.circuits.margin.scenario import RISK_CAP_COST, scenario_cost
from zkmargin.circuits.margin.tiered import tiered_cost
from zkmargin.circuits.std._testing import violated
from zkmargin.field import R
from zkmargin.margin import (
    Portfolio,
    Position,
    account_layout,
    evaluate,
    load_market,
    load_model,
    load_portfolio,
    model_digest,
)
from zkmargin.margin.decimal import format_decimal
from zkmargin.margin.engine import threshold_bits
from zkmargin.margin.errors import SchemaError
from zkmargin.margin.limits import NOTIONAL_BITS, WIDE_SIZE_BITS

EX = Path(__file__).resolve().parents[2] / "examples" / "per_instrument_decimals_onchain_perps"
SALT, CONTEXT = 0x5EED, 0xC0DE
CAP = 1 << NOTIONAL_BITS
COSTS = {"cross": cross_cost, "isolated": isolated_cost, "tiered": tiered_cost, "scenario": scenario_cost}


def _wide(kind: str, decimals: tuple[int, ...] | None, *, qd: int = 18, requirement: str | None = None,
          model_id: str | None = None):
    """The small model of ``kind`` with QD = qd and, unless None, ``decimals.instruments`` (one per
    used instrument symbol, in order; the model's last slot stays padding)."""
    doc = small_model(kind).to_dict()
    doc["model_id"] = model_id or f"test-wide-size-{kind}{'-both' if requirement else ''}"
    doc["decimals"]["quantity"] = qd
    if requirement:
        doc["parameters"]["requirement"] = requirement
    if decimals is not None:
        doc["decimals"]["instruments"] = dict(zip(doc["instruments"], decimals, strict=True))
    return load_model(doc)


#: The property test's models: scales 10**(QD - q_i) from 1 to 10**18.
WIDE_MODELS = {
    "cross": lambda: _wide("cross", (18, 0)),
    "cross-both-bases": lambda: _wide("cross", (7, 18), requirement="initial+maintenance"),
    "isolated": lambda: _wide("isolated", (0, 10, 18)),
    "tiered": lambda: _wide("tiered", (18, 8)),
    "scenario": lambda: _wide("scenario", (0, 7, 18)),  # short option floor on: R_i covers som_i too
    "example": lambda: load_model(EX / "model_quantums.json"),  # AVAX 7, BTC 10, ETH 18; USDC at 6 (scale 10**12)
}


def _seed(name: str) -> str:
    base = os.environ.get("ZKMARGIN_SEED") or "fixed"
    print(f"seed {name}:{base!r} (replay with ZKMARGIN_SEED={base})")
    return f"{name}:{base}"


def _engine(model, market, pf, t):
    """``evaluate(...).passes``, or None when the engine refuses the account (a cap reached)."""
    try:
        return evaluate(model, market, pf, t).passes
    except SchemaError:
        return None


def _circuit(model, market, pf, t) -> bool:
    return witness_passes(assignment_for(model, market, pf, SALT, t, CONTEXT))


def _thresholds(model, surplus: int, rng: random.Random) -> list[int]:
    """The exact threshold and one unit above (clipped to the threshold's range), or 0 and a random one."""
    rs, top = model.rate_scale, 1 << min(threshold_bits(model), 125)
    if surplus < 0:
        return [0, rng.randrange(top)]
    exact = surplus // rs
    return [t for t in (exact, exact + 1) if t < top] or [top - 1]


def _pack(model, t: int) -> int:
    return (t << 128) + t if len(model.bases) == 2 else t


def _agree(model, count: int, seed: str) -> dict[str, int]:
    rng = random.Random(seed)
    seen = {"pass": 0, "fail": 0, "over_cap": 0, "wide": 0}
    for n in range(count):
        market, pf = random_case(rng, model)
        seen["wide"] += any(abs(p.size) >> 63 for p in pf.positions)
        try:
            report = evaluate(model, market, pf, 0)
        except SchemaError as e:
            assert "outside the model's bounds" in str(e), e
            assert not _circuit(model, market, pf, 0), (seed, n)  # a cap reached: no witness either
            seen["over_cap"] += 1
            continue
        surplus = min(p.surplus for p in report.parts) if report.parts else report.surplus
        for t in _thresholds(model, surplus, rng):
            t = _pack(model, t)
            expected = _engine(model, market, pf, t)
            assert _circuit(model, market, pf, t) is expected, (seed, model.model_id, n, t)
            seen["pass" if expected else "fail"] += 1
    return seen


@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_circuit_agrees_with_engine_on_random_128_bit_sizes(name):
    seen = _agree(WIDE_MODELS[name](), 12, _seed(f"margin-wide-size-{name}"))
    assert seen["pass"] and seen["fail"] and seen["over_cap"] and seen["wide"], seen


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_circuit_agrees_with_engine_on_many_random_128_bit_sizes(name):
    import time
    base = os.environ.get("ZKMARGIN_SEED") or str(time.time_ns())
    seed = f"margin-wide-size-many-{name}:{base}"
    print(f"seed {seed!r} (replay with ZKMARGIN_SEED={base})")
    seen = _agree(WIDE_MODELS[name](), 60, seed)
    assert seen["pass"] and seen["fail"] and seen["over_cap"], seen


# --- documents ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_sizes_read_at_each_instrument_own_decimals(name):
    model = WIDE_MODELS[name]()
    assert model.wide_sizes and model.per_symbol_decimals and load_model(model.to_dict()) == model
    qd, n_used = model.quantity_decimals, len(model.instruments)
    assert [model.instrument_scale(i) for i in range(model.n_instruments)] == \
        [10 ** (qd - q) for q in model.instrument_decimals] + [1] * (model.n_instruments - n_used)
    q0 = model.instrument_decimals[0]
    sym = model.instruments[0]

    def size(v: str) -> int:
        pos = {"instrument": sym, "size": v, "entry": "1"}
        if model.spec.margins:
            pos["margin"] = "1"
        return load_portfolio({"version": 1, "kind": "portfolio", "model_id": model.model_id,
                               "positions": [pos]}, model).positions[0].size

    top = (1 << WIDE_SIZE_BITS) - 1
    assert size(format_decimal(top, q0)) == top and size(format_decimal(-top, q0)) == -top
    over = 1 << WIDE_SIZE_BITS
    for bad in (format_decimal(over, q0), format_decimal(-over, q0), "0." + "0" * q0 + "1"):
        with pytest.raises(SchemaError, match=r"positions\[0\]\.size"):
            size(bad)
    pf = Portfolio(model.model_id, (Position(sym, -top, 3, 5 if model.spec.margins else 0),))
    assert load_portfolio(pf.to_dict(model), model) == pf  # written at the instrument's decimals


def test_refusals_name_the_field():
    with pytest.raises(SchemaError, match=r"decimals\.instruments\.I0"):
        _wide("cross", (19, 0))
    with pytest.raises(SchemaError, match=r"decimals\.instruments\.I1"):
        _wide("cross", (6, 7), qd=6)
    span = load_model(Path(__file__).resolve().parents[2] / "examples" / "span_spread_charges_and_credits"
                      / "model_intra.json").to_dict()
    span["decimals"]["instruments"] = {s: 0 for s in span["instruments"]}
    with pytest.raises(SchemaError, match=r"decimals\.instruments: not with SPAN spreads"):
        load_model(span)
    doc = small_model("health").to_dict()
    doc["decimals"]["instruments"] = {}
    with pytest.raises(SchemaError, match=r"decimals\.instruments: unknown field"):
        load_model(doc)
    doc = small_model("cross").to_dict()
    doc["decimals"]["instruments"] = {"I0": 6}
    with pytest.raises(SchemaError, match=r"decimals\.instruments\.I1"):
        load_model(doc)  # every instrument symbol needs its decimals
    with pytest.raises(ValueError, match="instrument_decimals"):
        replace(small_model("scenario"), instrument_decimals=(0, 0))  # one per symbol


@pytest.mark.parametrize("kind", ["cross", "isolated", "tiered"])
def test_model_without_instrument_decimals_is_unchanged(kind):
    """The narrow model keeps its 63-bit sizes, cost and digest; with the decimals (even all equal to QD)
    the digest differs (the commitment binds it) and the cost grows by exactly the wide slots'."""
    narrow = small_model(kind)
    assert not narrow.wide_sizes and COSTS[kind](narrow) == compile_circuit(circuit_for(narrow)).n_constraints
    doc = narrow.to_dict()
    doc["decimals"]["instruments"] = {s: narrow.quantity_decimals for s in doc["instruments"]}
    wide = load_model(doc)
    assert model_digest(wide) != model_digest(narrow)
    # per instrument slot the wide position less the notional's own product (the caps compute it); per
    # asset slot the 128-bit amount and value cap of per-symbol decimals (193: test_margin_per_asset_decimals_value)
    assert COSTS[kind](wide) - COSTS[kind](narrow) == (
        narrow.n_instruments * (WIDE_POSITION_COST - CHECKED_POSITION_COST - 1) + narrow.n_assets * 193)


def test_scenario_cost_with_instrument_decimals():
    """scenario: per instrument the wide position (less nothing: scenario computes no notional) and the
    risk cap; per scenario comparison one more bit on each of its two decompositions; per asset 193;
    and the market vector's risk_bounds segment in its digest."""
    from zkmargin.circuits.std.encoding import hash_vector_cost
    from zkmargin.margin import layout_length, market_layout

    narrow = small_model("scenario")
    doc = narrow.to_dict()
    doc["decimals"]["instruments"] = {s: narrow.quantity_decimals for s in doc["instruments"]}
    wide = load_model(doc)
    assert [name for name, _ in market_layout(wide)] == [
        *(name for name, _ in market_layout(narrow) if name not in ("prices", "haircuts")), "risk_bounds",
        "prices", "haircuts"] or "risk_bounds" in dict(market_layout(wide))
    digest = (hash_vector_cost(layout_length(market_layout(wide)))
              - hash_vector_cost(layout_length(market_layout(narrow))))
    s, maxes = narrow.n_scenarios, 2  # the floor is on: two maxes
    assert scenario_cost(wide) - scenario_cost(narrow) == (
        narrow.n_instruments * (WIDE_POSITION_COST - CHECKED_POSITION_COST + RISK_CAP_COST)
        + narrow.n_assets * 193 + 2 * s + maxes + digest)
    assert compile_circuit(circuit_for(wide)).n_constraints == scenario_cost(wide)


# --- exact boundaries at the caps ---------------------------------------------------------------

def _case(model, mark: int, entry: int, size: int, risk: int = 1, margin: int = 10**30):
    """One position in the first instrument (the others empty) at ``mark`` and ``entry``; scenario: its
    risk array within [-risk, risk] with one entry at -risk, its short option minimum at most risk."""
    market, _ = random_case(random.Random(3), small_model(model.margin_model))
    first = {"mark": mark}
    if model.spec.scenarios:
        first |= {"risk_array": tuple(-risk if k == 0 else random.Random(k).randrange(-risk, risk + 1)
                                      for k in range(model.n_scenarios)),
                  "short_option_minimum": risk // 2}
    instruments = tuple(replace(x, **first) if k == 0 else x for k, x in enumerate(market.instruments))
    market = load_market(replace(market, model_id=model.model_id, instruments=instruments).to_dict(model), model)
    pos = Position(model.instruments[0], size, entry, margin if model.spec.margins else 0)
    return market, Portfolio(model.model_id, (pos,))


CAP_CASES = [(n, c) for n in ("cross", "isolated", "tiered", "scenario") for c in ("notional", "entry value")]
CAP_LABELS = {"notional": "notional_cap", "entry value": "entry_value_cap", "risk": "risk_cap"}


@pytest.mark.parametrize("name,cap", [*CAP_CASES, ("scenario", "risk")])
def test_size_exactly_at_each_cap_and_one_over(name, cap):
    """The largest size whose notional (entry value; scenario: |S| times its largest |risk|) stays below
    2**128 value units is admitted and the circuit agrees with the engine at its exact threshold; one
    base unit more is refused by the engine (SchemaError naming the cap) and has no witness: that cap's
    range check fails (and, the value being out of range, what reads it downstream)."""
    model = WIDE_MODELS[name]()
    scale = model.instrument_scale(0)
    rng = random.Random(f"{name}-{cap}")
    for _ in range(2):
        big, small_ = rng.randrange(1 << 40, 1 << 64), rng.randrange(1, 1 << 20)
        mark, entry, risk = {"notional": (big, small_, small_), "entry value": (small_, big, small_),
                             "risk": (small_, small_, big)}[cap]
        room = (CAP - 1) // (big * scale)  # the largest |size| with |S| * big < 2**128
        for sign in (1, -1):
            market, pf = _case(model, mark, entry, sign * room, risk)
            report = evaluate(model, market, pf, 0)
            t = max(report.surplus, 0) // model.rate_scale
            assert _circuit(model, market, pf, t) is evaluate(model, market, pf, t).passes
            if report.surplus >= 0:
                assert evaluate(model, market, pf, t).passes and not _circuit(model, market, pf, t + 1)
            market, pf = _case(model, mark, entry, sign * (room + 1), risk)
            with pytest.raises(SchemaError, match=rf"position I0.*its {cap}.*NOTIONAL_BITS"):
                evaluate(model, market, pf, 0)
            bad = _run(model, pf.to_field_elements(model), market.to_field_elements(model), 0)
            assert f"position[0]/{CAP_LABELS[cap]}/assert_bits/recompose" in bad, bad


# --- malicious provers --------------------------------------------------------------------------

def _example():
    model = load_model(EX / "model_quantums.json")
    return model, load_market(EX / "market_quantums.json", model), load_portfolio(EX / "portfolio_quantums.json", model)


def _run(model, acc, mkt, t, hints=None):
    cs, w = build_unchecked(assign_vectors(model, acc, SALT, mkt, t, CONTEXT), hints)
    return violated(cs, w)


def _offset(model, i: int) -> int:
    pos = 0
    for name, shape in account_layout(model):
        if name == "sizes":
            return pos + i
        pos += shape[0]
    raise KeyError("sizes")


@pytest.mark.parametrize("value", [1 << 128, R - (1 << 128) - 1, R // 2, (1 << 200) + 3])
def test_size_outside_128_bits_or_wrapped_is_rejected(value):
    model, market, pf = _example()
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    assert _run(model, acc, mkt, 0) == []
    acc[_offset(model, 2)] = value  # ETH-PERP (scale 1)
    bad = _run(model, acc, mkt, 0)
    assert any(b.startswith("position[2]/size/split_signed/") for b in bad), bad


def test_size_finer_than_the_instrument_resolution_wrapped_mod_r_is_rejected():
    """AVAX-PERP (7 decimals, scale 10**11): s' = S / 10**11 mod r for S = -(50 AVAX - 10**-8) in the
    model's quantity unit, a size finer than the instrument's resolution (less notional, less loss
    than the honest -50, which fails this threshold by one unit): s' * 10**11 = S in the field, but
    s' is no 128-bit signed integer, so the size's split cannot recompose it."""
    model, market, pf = _example()
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    report = evaluate(model, market, pf, 0)
    t = report.surplus // model.rate_scale + 1  # fails honestly by one unit
    assert _run(model, acc, mkt, t) == ["surplus/assert_bits/recompose"]
    scale = model.instrument_scale(0)
    target = -(50 * 10**18 - 10**10)
    acc[_offset(model, 0)] = target * pow(scale, -1, R) % R
    assert (1 << 128) <= acc[_offset(model, 0)] < R - (1 << 128)
    assert "position[0]/size/split_signed/recompose" in _run(model, acc, mkt, t)


def test_notional_over_the_cap_cannot_be_hidden_by_lying_bits():
    """2**128 - 1 base units of ETH-PERP at 2,500.00: the notional is ~2**145.9 value units; the engine
    refuses it, the honest witness fails the cap's recomposition, and bits that recompose to the
    notional fail booleanity, inside the cap."""
    model, market, _ = _example()
    pf = Portfolio(model.model_id, (Position("ETH-PERP", (1 << 128) - 1, 1),))  # entry value in its cap
    with pytest.raises(SchemaError, match="position ETH-PERP.*notional"):
        evaluate(model, market, pf, 0)
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    assert _run(model, acc, mkt, 0) == ["position[2]/notional_cap/assert_bits/recompose"]
    bad = _run(model, acc, mkt, 0, lying_bits(NOTIONAL_BITS))
    assert bad and all(b.startswith("position[2]/notional_cap/assert_bits/") for b in bad), bad
    assert "position[2]/notional_cap/assert_bits/recompose" not in bad, bad


def test_entry_value_cap_bounds_the_upnl():
    """A short ETH-PERP of 10**34 base units at mark 0.01 (notional 10**34 * 1 = 10**34 value units, in
    the cap) entered at 2**63 (entry value ~2**176): without the entry cap RS * s * (m - e) would pass
    2**236 and the equity would wrap; the engine refuses it and the circuit fails that cap."""
    model, market, _ = _example()
    instruments = tuple(replace(x, mark=1) if x.symbol == "ETH-PERP" else x for x in market.instruments)
    market = load_market(replace(market, instruments=instruments).to_dict(model), model)
    pf = Portfolio(model.model_id, (Position("ETH-PERP", -(10**34), 1 << 63),))
    with pytest.raises(SchemaError, match="position ETH-PERP.*entry value"):
        evaluate(model, market, pf, 0)
    bad = _run(model, pf.to_field_elements(model), market.to_field_elements(model), 0)
    assert "position[2]/entry_value_cap/assert_bits/recompose" in bad, bad


# --- costs --------------------------------------------------------------------------------------

def test_wide_position_cost_pinned():
    """Per position: size 128 + 4, entry 65, notional and entry value 130 each: 457 (63-bit: 132)."""
    assert (CHECKED_POSITION_COST, WIDE_POSITION_COST) == (132, 457)


@pytest.mark.parametrize("name", sorted(WIDE_MODELS))
def test_cost_matches_the_compiled_count(name):
    model = WIDE_MODELS[name]()
    assert compile_circuit(circuit_for(model)).n_constraints == COSTS[model.margin_model](model)


def test_example_cost_pinned():
    from zkmargin.circuits.margin import constraint_count

    model = load_model(EX / "model_quantums.json")
    assert compile_circuit(circuit_for(model)).n_constraints == constraint_count(model) == 3794


def test_lowered_risk_bound_fails_the_market_digest():
    """scenario: a prover who lowers an instrument's risk bound R_i in the secret market vector (to let a
    size past the risk cap) breaks the digest binding: R_i is bound like every market value; nothing
    else changes (the honest vector's only violation, if any, is the verdict)."""
    from zkmargin.encoding import market_digest
    from zkmargin.margin import market_layout

    model = WIDE_MODELS["scenario"]()
    market, pf = _case(model, 1, 1, 1000, risk=1 << 40)
    acc, honest = pf.to_field_elements(model), market.to_field_elements(model)
    pos = 0
    for name, shape in market_layout(model):
        if name == "risk_bounds":
            break
        pos += shape[0] if len(shape) == 1 else shape[0] * shape[1]
    assert honest[pos] == 1 << 40
    verdict = _run(model, acc, honest, 0)
    assert verdict in ([], ["surplus/assert_bits/recompose"])  # honest: at most the verdict itself
    mkt = list(honest)
    mkt[pos] = 1  # R_0: 2**40 -> 1
    cs, w = build_unchecked(assign_vectors(model, acc, SALT, mkt, 0, CONTEXT, market_digest=market_digest(honest)))
    assert sorted(violated(cs, w)) == sorted(["statement/market_digest/bind", *verdict])
