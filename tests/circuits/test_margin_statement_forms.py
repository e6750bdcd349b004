"""Statement forms (issue 12 point 4): a margin ratio (equity / requirement >= t, or > t) and the
initial and maintenance checks in one proof (two thresholds, one packed public input); isolated:
each held position's own ratio, each position against both thresholds.

The circuit must be satisfiable exactly when the engine passes (random portfolios, thresholds
placed at each check's boundary); a lying split of the packed threshold, a threshold part out of
range and a ratio threshold out of range must fail; costs are pinned against the compiled count.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from zkmargin.circuits import compile_circuit
from zkmargin.circuits.margin import assign_vectors, assignment_for, circuit_for, constraint_count
from zkmargin.circuits.margin._testing import build_unchecked, random_case, small_model, witness_passes
from zkmargin.circuits.std._testing import violated
from zkmargin.field import R
from zkmargin.margin import (
    SchemaError,
    evaluate,
    load_market,
    load_model,
    load_portfolio,
    model_digest,
    parse_threshold,
)
from zkmargin.margin.engine import split_threshold, threshold_bits
from zkmargin.margin.limits import DUAL_SHIFT, DUAL_THRESHOLD_BITS, RATIO_THRESHOLD_BITS
from zkmargin.margin.model import RATIO_DECIMALS, Holding

SALT, CONTEXT = 0x77, 0x55
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BOTH = {"requirement": "initial+maintenance"}

FORMS = {
    "cross-both": ("cross", BOTH),
    "tiered-both": ("tiered", {"requirement": "initial+maintenance"}),
    "cross-ratio": ("cross", {"requirement": "maintenance", "statement": "ratio"}),
    "cross-both-ratio-above": ("cross", BOTH | {"statement": "ratio-above"}),
    "scenario-ratio": ("scenario", {"short_option_floor": True, "statement": "ratio"}),
    "scenario-ratio-above": ("scenario", {"short_option_floor": False, "statement": "ratio-above"}),
    "tiered-ratio-above": ("tiered", {"requirement": "maintenance", "statement": "ratio-above"}),
    "isolated-ratio": ("isolated", {"requirement": "maintenance", "statement": "ratio"}),
    "isolated-both": ("isolated", BOTH),
    "isolated-both-ratio-above": ("isolated", BOTH | {"statement": "ratio-above"}),
    "simm-ratio": ("simm", {"statement": "ratio"}),
    "simm-ratio-above": ("simm", {"statement": "ratio-above"}),
}


def _model(name: str):
    kind, params = FORMS[name]
    return small_model(kind, model_id=f"form-{name}", parameters=params)


@pytest.fixture(scope="module")
def compiled():
    return {name: compile_circuit(circuit_for(_model(name))) for name in FORMS}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_cost_pinned_against_the_compiled_count(name, compiled):
    assert compiled[name].n_constraints == constraint_count(_model(name))


def test_cost_of_each_form_relative_to_the_surplus_form():
    """What a form adds to the one-threshold surplus statement: ratio +34 (the t * Q product and a
    wider check, a narrower threshold), two bases: the other basis's schedule per instrument, a
    second check and the threshold split."""
    base = small_model("cross", model_id="form-base", parameters={"requirement": "maintenance"})
    ratio = small_model("cross", model_id="form-r", parameters={"requirement": "maintenance", "statement": "ratio"})
    assert constraint_count(ratio) - constraint_count(base) == (1 + 238) - 205 + (33 - 129)
    both = small_model("cross", model_id="form-b", parameters=BOTH)
    initial = small_model("cross", model_id="form-i", parameters={"requirement": "initial"})
    from zkmargin.circuits.margin import gadgets
    from zkmargin.margin.limits import NOTIONAL_BITS
    k = both.n_rate_brackets
    extra = both.n_instruments * gadgets.progressive_cost(k, NOTIONAL_BITS) + 205 + (2 * 126 + 1 - 129)
    assert constraint_count(both) - constraint_count(initial) == extra


def _thresholds(model, rep, rng) -> list[int | str]:
    """Public thresholds around each check's boundary (ints: the public input itself)."""
    def around(part) -> list[int]:
        if model.margin_model == "isolated":  # every held position checked on its own: the least bound
            lines = part.positions
            if model.statement == "surplus":
                t = min((x.surplus for x in lines), default=0) // model.rate_scale
            else:
                t = min(((x.margin + x.upnl) * 10**RATIO_DECIMALS // x.requirement for x in lines if x.requirement),
                        default=0)
            return [c for c in (t - 1, t, t + 1, 0) if 0 <= c < 1 << threshold_bits(model)]
        if model.statement == "surplus":
            t = (part.equity - part.requirement) // model.rate_scale
            cands = [t - 1, t, t + 1, 0]
        else:
            q = part.requirement
            t = part.equity * 10**RATIO_DECIMALS // q if q else 0
            cands = [t - 1, t, t + 1, 0, rng.randrange(0, 1 << RATIO_THRESHOLD_BITS)]
        return [c for c in cands if 0 <= c < 1 << threshold_bits(model)]
    parts = rep.parts or (rep,)
    per = [around(p) for p in parts]
    if len(per) == 1:
        return list(per[0])
    return [(a << DUAL_SHIFT) + b for a in per[0] for b in per[1]]


def _with_amount(model, portfolio, asset: str, amount: int):
    holdings = [h for h in portfolio.collateral if h.asset != asset] + [Holding(asset, amount)]
    return replace(portfolio, collateral=tuple(holdings))


def _first_equity_reaches(model, market, portfolio, asset: str, amount: int, target: int, q: int) -> bool:
    rep = evaluate(model, market, _with_amount(model, portfolio, asset, amount), 0)
    return (rep.parts or (rep,))[0].equity * 10**RATIO_DECIMALS >= target * q


def _ratio_case(model, rng):
    """A random case whose (first) ratio lies in the threshold's range: one collateral amount found
    by bisection so that equity / requirement crosses a random target ratio."""
    while True:
        market, portfolio = random_case(rng, model)
        q = evaluate(model, market, portfolio, 0)
        q = (q.parts or (q,))[0].requirement
        if q == 0 or not model.assets:
            continue
        asset, target = rng.choice(model.assets), rng.randrange(1, 10**6)
        lo, hi = 0, (1 << 64) - 1
        if (not _first_equity_reaches(model, market, portfolio, asset, hi, target, q)
                or _first_equity_reaches(model, market, portfolio, asset, lo, target, q)):
            continue
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if _first_equity_reaches(model, market, portfolio, asset, mid, target, q) else (mid, hi)
        return market, _with_amount(model, portfolio, asset, rng.choice((lo, hi)))


def _with_margin(portfolio, symbol: str, margin: int):
    return replace(portfolio, positions=tuple(replace(p, margin=margin) if p.instrument == symbol else p
                                              for p in portfolio.positions))


def _isolated_reaches(model, market, portfolio, symbol: str, target: int, margin: int) -> bool:
    """Whether position ``symbol`` with ``margin`` reaches ``target`` (its surplus / RS, or its ratio)."""
    rep = evaluate(model, market, _with_margin(portfolio, symbol, margin), 0)
    line = next(x for x in (rep.parts or (rep,))[0].positions if x.instrument == symbol)
    if model.statement == "surplus":
        return line.margin + line.upnl - line.requirement >= target * model.rate_scale
    return (line.margin + line.upnl) * 10**RATIO_DECIMALS >= target * line.requirement


def _isolated_case(model, rng):
    """isolated: one held position's margin found by bisection so that its own ratio (surplus) crosses
    a random target; the other held positions get margins large enough not to bind."""
    while True:
        market, portfolio = random_case(rng, model)
        held = [p.instrument for p in portfolio.positions if p.size]
        if not held:
            continue
        pick, big, target = rng.choice(held), (1 << 127) - 1, rng.randrange(1, 10**6)
        for other in held:
            if other != pick:
                portfolio = _with_margin(portfolio, other, big)
        lo, hi = 0, big
        if (not _isolated_reaches(model, market, portfolio, pick, target, hi)
                or _isolated_reaches(model, market, portfolio, pick, target, lo)):
            continue
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if _isolated_reaches(model, market, portfolio, pick, target, mid) else (mid, hi)
        return market, _with_margin(portfolio, pick, rng.choice((lo, hi)))


@pytest.mark.parametrize("name", sorted(FORMS))
def test_circuit_agrees_with_engine_at_every_boundary(name, compiled):
    model = _model(name)
    rng = random.Random(f"forms-{name}")
    seen = set()
    cases = 0
    while cases < 6:
        if model.margin_model == "isolated":
            market, portfolio = _isolated_case(model, rng)
        elif model.statement == "surplus":
            market, portfolio = random_case(rng, model)
        else:
            market, portfolio = _ratio_case(model, rng)
        rep = evaluate(model, market, portfolio, 0)
        for t in _thresholds(model, rep, rng)[:6]:
            want = evaluate(model, market, portfolio, t).passes
            got = witness_passes(assignment_for(model, market, portfolio, SALT, t, CONTEXT))
            assert got is want, (name, t, evaluate(model, market, portfolio, t).explain())
            seen.add(want)
        cases += 1
    assert seen == {True, False}, f"{name}: the boundary thresholds should give both outcomes"


def _load_as(path: Path, model, loader):
    """A document of the example, loaded against ``model`` (its model id replaced)."""
    d = json.loads(path.read_text())
    d["model_id"] = model.model_id
    return loader(d, model)


def test_ratio_is_exact_at_the_boundary():
    """equity / requirement == t exactly (735 / 700 = 1.05 on the published HIVEUSDT tier): 'ratio'
    passes, 'ratio-above' does not; 0.01 less equity fails both, 0.01 more passes both."""
    folder = EXAMPLES / "margin_ratio_portfolio_margin"
    for statement in ("ratio", "ratio-above"):
        doc = json.loads((folder / "model.json").read_text())
        doc["model_id"], doc["parameters"]["statement"] = f"exact-{statement}", statement
        model = load_model(doc)

        market = _load_as(folder / "market.json", model, load_market)
        for amount, want in (("735", statement == "ratio"), ("734.99", False), ("735.01", True)):
            portfolio = _load_as(folder / f"equity_{'735' if amount == '734.99' else amount}.json", model,
                                 load_portfolio)
            if amount == "734.99":
                portfolio = _with_amount(model, portfolio, "USDT", 73499 * 10**model.quantity_decimals // 100)
            rep = evaluate(model, market, portfolio, "1.05")
            assert rep.passes is want, rep.explain()
            assert witness_passes(assignment_for(model, market, portfolio, SALT, "1.05", CONTEXT)) is want


def _failing_initial_passing_maintenance(model):
    rng = random.Random("split")
    for _ in range(400):
        market, portfolio = random_case(rng, model)
        rep = evaluate(model, market, portfolio, 0)
        ini, mnt = rep.parts
        if not ini.passes and mnt.passes and mnt.surplus // model.rate_scale >= 1:
            return market, portfolio, rep
    raise AssertionError("no case with the initial check failing and the maintenance check holding")


def test_lying_threshold_split_cannot_move_the_shortfall_to_the_other_check():
    """The packed threshold 0 * 2**128 + 0 with a failing initial check: a prover claiming the split
    (-k, k * 2**128) (the same field element) would make the initial check pass; the parts' range
    checks refuse every such split."""
    model = small_model("cross", model_id="split", parameters=BOTH)
    market, portfolio, rep = _failing_initial_passing_maintenance(model)
    circuit = assignment_for(model, market, portfolio, SALT, 0, CONTEXT)
    assert not witness_passes(circuit)
    for k in (1, 2, 1 << 64):
        lie = {"margin.split_threshold": lambda ins, k=k: [(-k) % R, (k << DUAL_SHIFT) % R]}
        bad = violated(*build_unchecked(circuit, lie))
        assert "statement/threshold/maintenance/assert_bits/recompose" in bad, bad


def test_threshold_parts_out_of_range_fail():
    model = small_model("cross", model_id="range", parameters=BOTH)
    rng = random.Random("range")
    market, portfolio = random_case(rng, model)
    acc, mkt = portfolio.to_field_elements(model), market.to_field_elements(model)
    for packed in ((1 << DUAL_THRESHOLD_BITS) << DUAL_SHIFT, 1 << DUAL_THRESHOLD_BITS, R - 1):
        circuit = assign_vectors(model, acc, SALT, mkt, packed, CONTEXT)
        bad = violated(*build_unchecked(circuit))
        assert any("statement/threshold" in label for label in bad), bad
        with pytest.raises(SchemaError):
            evaluate(model, market, portfolio, packed)


def test_ratio_threshold_out_of_range_fails():
    model = small_model("cross", model_id="ratio-range", parameters={"requirement": "maintenance",
                                                                     "statement": "ratio"})
    market, portfolio = random_case(random.Random("rr"), model)
    circuit = assign_vectors(model, portfolio.to_field_elements(model), SALT, market.to_field_elements(model),
                             1 << RATIO_THRESHOLD_BITS, CONTEXT)
    assert any("statement/threshold" in label for label in violated(*build_unchecked(circuit)))
    with pytest.raises(SchemaError, match="threshold"):
        evaluate(model, market, portfolio, 1 << RATIO_THRESHOLD_BITS)


def test_thresholds_parse_and_pack():
    model = small_model("cross", model_id="pack", parameters=BOTH)
    t = parse_threshold(model, "1000,500.5")
    scale = 10**model.value_decimals
    assert split_threshold(model, t) == (1000 * scale, 5005 * scale // 10)
    for bad in ("1000", "1,2,3", "-1,0", "1,x"):
        with pytest.raises(SchemaError, match="threshold"):
            evaluate(model, *random_case(random.Random(bad), model), bad)


def test_forms_are_refused_where_they_do_not_apply_and_change_the_digest():
    base = small_model("cross", model_id="digest", parameters={"requirement": "maintenance"})
    ratio = small_model("cross", model_id="digest", parameters={"requirement": "maintenance", "statement": "ratio"})
    above = small_model("cross", model_id="digest",
                        parameters={"requirement": "maintenance", "statement": "ratio-above"})
    both = small_model("cross", model_id="digest", parameters=BOTH)
    assert len({model_digest(m) for m in (base, ratio, above, both)}) == 4
    doc = base.to_dict()
    simm = small_model("simm", model_id="digest-simm")
    simm_ratio = small_model("simm", model_id="digest-simm", parameters={"statement": "ratio"})
    assert model_digest(simm) != model_digest(simm_ratio) and load_model(simm_ratio.to_dict()) == simm_ratio
    for kind, params, field in (("scenario", {"short_option_floor": True, **BOTH}, "parameters.requirement"),
                                ("simm", {"statement": "ratios"}, "parameters.statement"),
                                ("simm", BOTH, "parameters.requirement"),
                                ("health", {"statement": "ratio"}, "statement"),
                                ("cross", {"requirement": "maintenance", "statement": "ratios"},
                                 "parameters.statement")):
        with pytest.raises(SchemaError, match=field.replace(".", r"\.")):
            small_model(kind, model_id="refused", parameters=params)
    assert load_model(ratio.to_dict()) == ratio and load_model(both.to_dict()) == both and load_model(doc) == base


def test_a_threshold_mismatch_names_both_thresholds():
    from zkmargin.verifier.venue import explain_mismatches
    model = small_model("cross", model_id="msg", parameters=BOTH)
    want, got = parse_threshold(model, "1000,500"), parse_threshold(model, "1000,499")
    msg = explain_mismatches([("threshold", want, got)])
    scale = 10**model.value_decimals
    assert f"initial {1000 * scale} * 2^128 + maintenance {500 * scale}" in msg
    assert f"maintenance {499 * scale})" in msg
