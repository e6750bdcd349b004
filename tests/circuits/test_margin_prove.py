"""End to end: setup, prove and verify each margin model at its smallest size (2.3k - 3.1k constraints).

Every public input is bound: the proof fails verification when the context, the threshold, the
commitment or the market digest differs from the one it was made for. The context in particular
appears in no constraint; it is bound by the QAP's public-input rows (snarkjs convention).

With the numba prover (``zkmargin[prover]``) each case takes 2-4 s once the kernels are compiled
(numba caches them on disk; the first run on a machine compiles for about a minute and a half).
Without it ``prove`` falls back to the pure-Python reference prover, 2-4 minutes per case: then
the cases are marked slow.
"""

from __future__ import annotations

import random
import warnings

import pytest

from zkmargin.circuits import compile_circuit, solve
from zkmargin.circuits.margin import assignment_for, circuit_for, public_inputs_for
from zkmargin.circuits.margin._testing import random_case, small_model, thresholds_near
from zkmargin.encoding import context_hash, short_string
from zkmargin.margin import account_commitment, evaluate
from zkmargin.prover import DevelopmentSetupWarning, prove, setup
from zkmargin.prover.backend import fast_available
from zkmargin.verifier import verify

DEC = {"quantity": 2, "price": 2, "rate": 2}
TINY = {
    "cross": {"sizes": {"n_instruments": 1, "n_assets": 1, "n_rate_brackets": 1}, "decimals": DEC,
              "n_symbols": (1, 1)},
    "isolated": {"sizes": {"n_instruments": 1, "n_rate_brackets": 1}, "decimals": DEC, "n_symbols": (1, 0)},
    "scenario": {"sizes": {"n_instruments": 1, "n_assets": 1, "n_scenarios": 2}, "decimals": DEC,
                 "parameters": {"short_option_floor": False}, "n_symbols": (1, 1)},
    "health": {"sizes": {"n_assets": 1}, "decimals": {**DEC, "base": 2, "health": 2}, "n_symbols": (0, 1)},
    "tiered": {"sizes": {"n_instruments": 1, "n_assets": 1, "n_rate_brackets": 1, "n_tiers": 2}, "decimals": DEC,
               "n_symbols": (1, 1)},
}


def _passing_case(model):
    rng = random.Random(f"prove-{model.margin_model}")
    while True:
        market, portfolio = random_case(rng, model)
        near = thresholds_near(model, evaluate(model, market, portfolio, 0))
        if near is not None:
            return market, portfolio, near[0]


#: Slow only on the reference prover.
SPEED = [] if fast_available() else [pytest.mark.slow]


@pytest.mark.parametrize("kind", [pytest.param(k, marks=SPEED) for k in TINY])
def test_prove_and_verify_every_public_input_bound(kind):
    model = small_model(kind, **TINY[kind])
    market, portfolio, threshold = _passing_case(model)
    assert evaluate(model, market, portfolio, threshold).passes
    salt = 0x5EED + len(kind)
    context = context_hash(short_string(model.venue), market.epoch, 7, 1)
    cs = compile_circuit(circuit_for(model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentSetupWarning)
        pk, vk = setup(cs)
    witness = solve(assignment_for(model, market, portfolio, salt, threshold, context), cs)
    proof, public = prove(pk, witness, cs)
    commitment = account_commitment(model, portfolio, salt)
    expected = public_inputs_for(model, market, commitment, threshold, context)
    assert public == expected
    assert verify(vk, expected, proof)
    # every public input is bound, the context included (no constraint uses it)
    assert not verify(vk, public_inputs_for(model, market, commitment, threshold, context + 1), proof)
    assert not verify(vk, public_inputs_for(model, market, commitment, threshold + 1, context), proof)
    if kind == "health":
        assert not verify(vk, public_inputs_for(model, market, commitment + 1, threshold, context), proof)
        assert not verify(vk, [commitment, expected[1] + 1, threshold, context], proof)


@pytest.mark.slow
@pytest.mark.skipif(not fast_available(), reason="a 2^17-domain proof needs the numba prover")
def test_scenario_64_instruments_16_scenarios_8_assets_proves_and_verifies():
    """The headline size: compile (count pinned in test_margin_shape), set up, prove, verify."""
    from zkmargin.margin.model import VenueModel

    model = VenueModel(model_id="big-scenario", venue="bench", margin_model="scenario",
                       instruments=tuple(f"I{i}" for i in range(64)), assets=tuple(f"A{j}" for j in range(8)),
                       n_instruments=64, n_assets=8, n_rate_brackets=0, n_tiers=0, n_scenarios=16,
                       quantity_decimals=6, price_decimals=2, rate_decimals=4, short_option_floor=True)
    cs = compile_circuit(circuit_for(model))
    assert cs.n_constraints == 66038
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentSetupWarning)
        pk, vk = setup(cs)
    market, portfolio, threshold = _passing_case(model)
    salt, context = 987654321, context_hash(short_string("bench"), market.epoch, 5, 1)
    w = solve(assignment_for(model, market, portfolio, salt, threshold, context), cs)
    proof, public = prove(pk, w, cs)
    assert public == public_inputs_for(model, market, account_commitment(model, portfolio, salt), threshold, context)
    assert verify(vk, public, proof)
    assert not verify(vk, [public[0], public[1], (public[2] + 1), public[3]], proof)
