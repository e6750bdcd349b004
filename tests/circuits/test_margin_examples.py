"""The published examples (examples/manifest.json) through the margin circuits.

SPAN covered write: passes with $7,000, fails with $5,000, binding scenario 13 (wire value 12);
lending: HF 1.333... passes at 1.30, fails at 1.34; and every other manifest case.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkmargin.circuits import compile_circuit, solve
from zkmargin.circuits.margin import (
    BINDING_WIRE,
    assignment_for,
    circuit_for,
    public_inputs_for,
    report_values,
)
from zkmargin.circuits.margin._testing import witness_passes
from zkmargin.encoding import context_hash, short_string
from zkmargin.margin import account_commitment, evaluate, load_market, load_model, load_portfolio

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MANIFEST = json.loads((EXAMPLES / "manifest.json").read_text())
CASES = [(ex, case) for ex in MANIFEST["examples"] for case in ex["cases"]]
SALT = 0x1234_5678_9ABC
CONTEXT = context_hash(short_string("zkmargin-demo"), 1, 42, 0)


def _docs(ex, case):
    model = load_model(EXAMPLES / ex["model"])
    return model, load_market(EXAMPLES / ex["market"], model), load_portfolio(EXAMPLES / case["portfolio"], model)


@pytest.mark.parametrize("ex,case", CASES, ids=[f"{e['name']}:{c['portfolio']}@{c['threshold']}" for e, c in CASES])
def test_manifest_case_through_the_circuit(ex, case):
    model, market, portfolio = _docs(ex, case)
    circuit = assignment_for(model, market, portfolio, SALT, case["threshold"], CONTEXT)
    assert witness_passes(circuit) is case["passes"]
    assert evaluate(model, market, portfolio, case["threshold"]).passes is case["passes"]


def test_span_covered_write_binding_scenario_13_and_public_inputs():
    ex = next(e for e in MANIFEST["examples"] if e["name"] == "span_covered_write")
    for case, passes in zip(ex["cases"], (True, False), strict=True):
        model, market, portfolio = _docs(ex, case)
        cs = compile_circuit(circuit_for(model))
        w = solve(assignment_for(model, market, portfolio, SALT, "0", CONTEXT), cs, check=False)
        assert cs.is_satisfied(w) is passes
        assert report_values(cs, w) == {"binding_scenario": 12}  # "scenario 13", 1-based
        assert w[cs.wire_index(BINDING_WIRE)] == evaluate(model, market, portfolio, "0").binding
        # what a verifier computes natively is exactly the witness's public part
        expected = public_inputs_for(model, market, account_commitment(model, portfolio, SALT), "0", CONTEXT)
        assert cs.public_inputs(w) == expected


@pytest.mark.parametrize("threshold,passes", [("1.30", True), ("1.3333", True), ("1.3334", False), ("1.34", False)])
def test_lending_health_factor_four_thirds(threshold, passes):
    ex = next(e for e in MANIFEST["examples"] if e["name"] == "lending")
    model, market, portfolio = _docs(ex, ex["cases"][0])
    assert witness_passes(assignment_for(model, market, portfolio, SALT, threshold, CONTEXT)) is passes
    assert evaluate(model, market, portfolio, threshold).passes is passes


PASSING = [(ex, case) for ex, case in CASES if case["passes"]]


@pytest.mark.parametrize("ex,case", PASSING, ids=[f"{e['name']}@{c['threshold']}" for e, c in PASSING])
def test_published_example_proved_and_verified_by_the_venue(ex, case):
    """Engine -> proof -> the venue's check against its own market file, commitment, threshold, context."""
    import warnings

    from zkmargin.margin.documents import Context
    from zkmargin.prover import DevelopmentSetupWarning, backend, prove, setup
    from zkmargin.verifier.venue import check_margin_proof, expected_statement

    if not backend.fast_available():
        pytest.skip("proving the published examples needs the numba prover")
    model, market, portfolio = _docs(ex, case)
    report = evaluate(model, market, portfolio, case["threshold"])
    assert report.passes
    cs = compile_circuit(circuit_for(model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentSetupWarning)
        pk, vk = setup(cs)
    ctx = Context(venue=market.venue, epoch=market.epoch, nonce=42, chain_id=0)
    w = solve(assignment_for(model, market, portfolio, SALT, case["threshold"], ctx.field_value()), cs)
    proof, public = prove(pk, w, cs)
    commitment = account_commitment(model, portfolio, SALT)
    expected = expected_statement(model, market, commitment, case["threshold"], ctx)
    verdict = check_margin_proof(vk, public, proof, expected)
    assert verdict.ok, verdict.explain()
    other = Context(venue=market.venue, epoch=market.epoch, nonce=43, chain_id=0)
    verdict = check_margin_proof(vk, public, proof, expected_statement(model, market, commitment, case["threshold"],
                                                                       other))
    assert not verdict.ok and [m[0] for m in verdict.mismatches] == ["context"]
