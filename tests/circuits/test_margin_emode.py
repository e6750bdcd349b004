"""E-mode categories of the health model (issue 12 point 7; Aave V3 efficiency mode).

The account's category is a secret account value: the circuit must be satisfiable exactly when the
engine passes (random portfolios, every formula, the boundary thresholds), a category outside
[0, n_emode] (too large, or wrapped around the field) and a lying selector hint must fail, and the
cost is pinned. The published leverage figures are examples/emode_correlated_leverage/cases.json,
reproduced, proved and verified by tests/circuits/test_margin_published_rules.py.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from zkmargin.circuits import compile_circuit
from zkmargin.circuits.margin import assign_vectors, assignment_for, circuit_for, constraint_count
from zkmargin.circuits.margin._testing import (
    build_unchecked,
    random_case,
    small_model,
    thresholds_near,
    witness_passes,
)
from zkmargin.circuits.margin.health import emode_cost
from zkmargin.circuits.std._testing import violated
from zkmargin.field import R
from zkmargin.margin import SchemaError, evaluate, load_market, load_portfolio, model_digest
from zkmargin.margin.model import account_layout, layout_length

SALT, CONTEXT = 0x3E, 0x11
FORMULAS = ("floor-weighted", "aave-v3.5", "aave-v3")


def _model(n_emode: int, formula: str = "floor-weighted", model_id: str | None = None):
    base = small_model("health")
    doc = base.to_dict()
    if n_emode:
        doc["sizes"]["n_emode"] = n_emode
    doc["model_id"] = model_id or f"emode-{n_emode}-{formula}"
    if formula != "floor-weighted":
        doc["parameters"] = {"formula": formula}
    from zkmargin.margin import load_model
    return load_model(doc)


@pytest.mark.parametrize("n_emode", [1, 3])
@pytest.mark.parametrize("formula", FORMULAS)
def test_cost_pinned(n_emode, formula):
    model = _model(n_emode, formula)
    assert compile_circuit(circuit_for(model)).n_constraints == constraint_count(model)
    plain = _model(0, formula)
    assert constraint_count(model) - constraint_count(plain) == emode_cost(model) + _statement_growth(model, plain)
    c, n_a = n_emode, model.n_assets
    assert emode_cost(model) == 3 * c + 1 + n_a * (c + 1)


def _statement_growth(model, plain) -> int:
    """What the longer vectors add to the hashing (the account's category, the market's e-mode part)."""
    from zkmargin.circuits.margin import statement_cost
    return statement_cost(model) - statement_cost(plain)


def test_a_model_without_emode_is_unchanged():
    model = small_model("health")
    assert model.n_emode == 0 and model.header(0)[9] == 0
    assert "emode" not in dict(account_layout(model))
    assert model_digest(_model(1)) != model_digest(_model(2))


@pytest.mark.parametrize("formula", FORMULAS)
def test_circuit_agrees_with_engine_on_random_portfolios(formula):
    model = _model(3, formula)
    rng = random.Random(f"emode-{formula}")
    seen, categories = set(), set()
    for _ in range(8):
        market, portfolio = random_case(rng, model)
        categories.add(portfolio.emode)
        near = thresholds_near(model, evaluate(model, market, portfolio, 0))
        for t in near if near is not None else (0, rng.randrange(1 << 40)):
            want = evaluate(model, market, portfolio, t).passes
            assert witness_passes(assignment_for(model, market, portfolio, SALT, t, CONTEXT)) is want
            seen.add(want)
    assert seen == {True, False} and len(categories) > 1


def test_category_changes_the_outcome_exactly_as_the_engine_says():
    """One account, every category: the engine and the circuit agree on each; the categories where the
    collateral is a member use the category's threshold."""
    model = _model(3)
    rng = random.Random("emode-each")
    changed = False
    for _ in range(20):
        market, portfolio = random_case(rng, model)
        outcomes = []
        for e in range(4):
            pf = replace(portfolio, emode=e)
            near = thresholds_near(model, evaluate(model, market, pf, 0))
            t = near[0] if near else 0
            want = evaluate(model, market, portfolio if e == portfolio.emode else pf, t).passes
            assert witness_passes(assignment_for(model, market, pf, SALT, t, CONTEXT)) is want
            outcomes.append(evaluate(model, market, pf, 0).equity)
        changed |= len(set(outcomes)) > 1
    assert changed, "the category should change the weighted collateral in some portfolio"


def _vectors(model, market, portfolio):
    return portfolio.to_field_elements(model), market.to_field_elements(model)


@pytest.mark.parametrize("bad", [4, 5, 1 << 64, R - 1, R - 3])
def test_a_category_outside_the_range_fails(bad):
    """e = n_emode + 1, a large value, or one wrapped around the field (-1, -3): every selector is 0,
    so the recomposition ``e == sum c * s_c`` fails (and nothing else is needed to refuse it)."""
    model = _model(3)
    market, portfolio = random_case(random.Random("emode-range"), model)
    acc, mkt = _vectors(model, market, portfolio)
    k = layout_length(account_layout(model)) - 1  # the category is the account's last value
    acc = acc[:k] + [bad]
    bad_labels = violated(*build_unchecked(assign_vectors(model, acc, SALT, mkt, 0, CONTEXT)))
    assert "emode/in_range" in bad_labels, bad_labels


def test_a_lying_selector_hint_fails():
    """The prover claims every category at once (inverse hint 0: each s_c = 1): ``x * out == 0``
    refuses every category that is not the account's."""
    model = _model(3)
    market, portfolio = random_case(random.Random("emode-lie"), model)
    portfolio = replace(portfolio, emode=2)
    circuit = assignment_for(model, market, portfolio, SALT, 0, CONTEXT)
    labels = violated(*build_unchecked(circuit, {"is_zero.inverse": lambda ins: [0]}))
    emode_labels = {x for x in labels if x.startswith("emode/")}
    assert emode_labels >= {"emode/category[1]/is_equal/is_zero/x*out", "emode/category[3]/is_equal/is_zero/x*out"}
    assert "emode/category[2]/is_equal/is_zero/x*out" not in emode_labels


def test_schema_refuses_bad_emode_documents():
    model = _model(2)
    market, portfolio = random_case(random.Random("emode-schema"), model)
    doc = market.to_dict(model)
    for mutate, field in (
        (lambda d: d.pop("emode_categories"), "emode_categories"),
        (lambda d: d["emode_categories"].pop(), "emode_categories"),
        (lambda d: d["emode_categories"][0].update(id=2), r"emode_categories\[0\]\.id"),
        (lambda d: d["emode_categories"][1].update(collateral=["NOPE"]), r"emode_categories\[1\]\.collateral\[0\]"),
        (lambda d: d["emode_categories"][0].update(liquidation_threshold="1.5"),
         r"emode_categories\[0\]\.liquidation_threshold"),
    ):
        bad = {**doc, "emode_categories": [dict(c) for c in doc["emode_categories"]]}
        mutate(bad)
        with pytest.raises(SchemaError, match=field):
            load_market(bad, model)
    pdoc = portfolio.to_dict(model)
    for e in (-1, 3, "1"):
        with pytest.raises(SchemaError, match="emode"):
            load_portfolio({**pdoc, "emode": e}, model)
    plain = small_model("health")
    with pytest.raises(SchemaError, match="emode"):
        load_portfolio({**pdoc, "model_id": plain.model_id, "emode": 0}, plain)
    assert load_market(doc, model) == market and load_portfolio(pdoc, model) == portfolio
