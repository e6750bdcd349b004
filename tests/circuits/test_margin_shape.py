"""Shape of the margin circuits: pinned constraint counts, cost formulas, public inputs, the
builder API's validation, and the shared gadgets (brackets in both forms, exact division).

A change of any count shows in this file's diff (docs/style.md rule 9).
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from zkmargin.circuits import compile_circuit, solve
from zkmargin.circuits.margin import (
    CIRCUITS,
    HealthFactor,
    assign_vectors,
    assignment_for,
    circuit_for,
    constraint_count,
    gadgets,
    public_inputs_for,
    statement_cost,
    threshold_field_value,
)
from zkmargin.circuits.margin._testing import random_case, small_model
from zkmargin.circuits.std._testing import gadget_cost, run_gadget
from zkmargin.errors import CircuitError, MalformedInputError
from zkmargin.field import R
from zkmargin.margin import (
    SchemaError,
    VenueModel,
    account_commitment,
    account_layout,
    layout_length,
    load_model,
    market_layout,
    progressive,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MANIFEST = json.loads((EXAMPLES / "manifest.json").read_text())["examples"]

#: Compiled constraint counts, pinned.
SMALL_COUNTS = {"cross": 3706, "isolated": 5435, "scenario": 4724, "health": 3521, "tiered": 4868, "simm": 8497}
EXAMPLE_COUNTS = {"cross": 4048, "isolated": 2893, "span_covered_write": 8506, "lending": 4047, "tiered": 3698}
#: Scenario model, 64 instruments x 16 scenarios x 8 collateral assets (floor on / off).
BIG_SCENARIO_COUNTS = {True: 66038, False: 63385}


def _big_scenario(floor: bool) -> VenueModel:
    return VenueModel(model_id="big-scenario", venue="bench", margin_model="scenario",
                      instruments=tuple(f"I{i}" for i in range(64)), assets=tuple(f"A{j}" for j in range(8)),
                      n_instruments=64, n_assets=8, n_rate_brackets=0, n_tiers=0, n_scenarios=16,
                      quantity_decimals=6, price_decimals=2, rate_decimals=4, short_option_floor=floor)


@pytest.mark.parametrize("kind", list(SMALL_COUNTS))
def test_small_model_counts_pinned(kind):
    model = small_model(kind)
    cs = compile_circuit(circuit_for(model))
    assert cs.n_constraints == SMALL_COUNTS[kind] == constraint_count(model)
    assert cs.n_public == 4
    assert cs.wire_names[1:5] == ["commitment", "market_digest", "threshold", "context"]
    n_acc, n_mkt = layout_length(account_layout(model)), layout_length(market_layout(model))
    assert cs.wire_names[5:5 + n_acc + 1 + n_mkt] == (
        [f"account[{i}]" for i in range(n_acc)] + ["salt"] + [f"market[{i}]" for i in range(n_mkt)])


@pytest.mark.parametrize("ex", MANIFEST, ids=[e["name"] for e in MANIFEST])
def test_example_model_counts_pinned(ex):
    model = load_model(EXAMPLES / ex["model"])
    assert compile_circuit(circuit_for(model)).n_constraints == EXAMPLE_COUNTS[ex["name"]] == constraint_count(model)


@pytest.mark.parametrize("floor", [True, False])
def test_scenario_64_instruments_16_scenarios_8_assets_count_pinned(floor):
    model = _big_scenario(floor)
    cs = compile_circuit(circuit_for(model))
    assert cs.n_constraints == BIG_SCENARIO_COUNTS[floor] == constraint_count(model)
    # the hashes are most of it: 75 + 9 Poseidon blocks of 612
    assert statement_cost(model) == (50933 if floor else 48485)


def test_circuit_is_bound_to_the_whole_model_symbols_included():
    """The model digest (id, header, symbols) is a circuit constant: a symbol added in a spare slot,
    another model id or other decimals each give another circuit (a new setup), never the same one,
    so no key of one model verifies an account of another. Padding shrinks by the new symbol."""
    from zkmargin.circuits.margin.base import padding_cost

    base = small_model("cross")  # 3 instrument slots, 2 symbols
    assert len(base.instruments) < base.n_instruments
    more = load_model({**base.to_dict(), "instruments": [*base.instruments, "NEW-PERP"]})
    renamed = load_model({**base.to_dict(), "model_id": base.model_id + "-b"})
    other = load_model({**base.to_dict(), "decimals": {"quantity": 4, "price": 2, "rate": 5}})
    digest = compile_circuit(circuit_for(base)).digest()
    for m in (more, renamed, other):
        assert compile_circuit(circuit_for(m)).digest() != digest
    assert padding_cost(base) == 2 and padding_cost(more) == 0  # sizes and entries of the spare slot
    assert constraint_count(more) == constraint_count(base) - 2


@pytest.mark.parametrize("kind", list(SMALL_COUNTS))
def test_witness_has_the_compiled_shape_and_the_public_inputs_a_verifier_computes(kind):
    model = small_model(kind)
    cs = compile_circuit(circuit_for(model))
    market, portfolio = random_case(random.Random(f"shape-{kind}"), model)
    for threshold in (0, 12345):
        w = solve(assignment_for(model, market, portfolio, 99, threshold, 5), cs, check=False)
        assert cs.public_inputs(w) == public_inputs_for(model, market, account_commitment(model, portfolio, 99),
                                                        threshold, 5)


def test_threshold_field_values():
    cross = load_model(EXAMPLES / "cross" / "model.json")  # QD 6, PD 2
    lending = load_model(EXAMPLES / "lending" / "model.json")  # HD 18
    assert threshold_field_value(cross, "1000") == 1000 * 10**8
    assert threshold_field_value(cross, 7) == 7
    assert threshold_field_value(lending, "1.30") == 13 * 10**17
    with pytest.raises(SchemaError):
        threshold_field_value(lending, "18.5")  # 18.5 * 10**18 >= 2**64
    with pytest.raises(SchemaError):
        threshold_field_value(cross, -1)


def test_builder_api_validation():
    model = small_model("health")
    n_acc, n_mkt = layout_length(account_layout(model)), layout_length(market_layout(model))
    with pytest.raises(CircuitError, match="account vector has 2 values"):
        assign_vectors(model, [0, 0], 1, [0] * n_mkt, 0, 0)
    with pytest.raises(MalformedInputError, match="salt"):
        assign_vectors(model, [0] * n_acc, R, [0] * n_mkt, 0, 0)
    with pytest.raises(MalformedInputError, match="context"):
        assign_vectors(model, [0] * n_acc, 1, [0] * n_mkt, 0, -1)
    with pytest.raises(CircuitError, match="health circuit; the model is cross"):
        compile_circuit(HealthFactor(model=small_model("cross")))
    assert set(CIRCUITS) == {"cross", "isolated", "scenario", "health", "tiered", "simm"}
    market, portfolio = random_case(random.Random(1), model)
    with pytest.raises(SchemaError):
        assignment_for(model, market, portfolio, 1, "-1", 0)


# --- gadgets: progressive brackets ----------------------------------------------------------------

def _progressive_gadget(k: int, bits: int = 128):
    def fn(api, x, *rest):
        return gadgets.progressive(api, x, list(rest[: k - 1]), list(rest[k - 1 :]), bits=bits)
    return fn


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 8])
def test_progressive_cost_and_method(k):
    assert gadget_cost(_progressive_gadget(k), 2 * k) == gadgets.progressive_cost(k, 128)
    assert gadgets.progressive_method(k, 128) == ("marginal" if k <= 3 else "selection")


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_progressive_matches_the_engine_exhaustively_small(k):
    """Every x in [0, 12] against (up to 12) strictly increasing bound choices in [1, 10]: both forms."""
    fn = _progressive_gadget(k, bits=8)
    rng = random.Random(k)
    checked = 0
    choices = list(itertools.combinations(range(1, 11), k - 1))
    for bounds in rng.sample(choices, min(12, len(choices))):
        weights = sorted(rng.randrange(0, 20) for _ in range(k))
        for x in range(13):
            want = progressive(x, [*bounds, None], weights)
            run = run_gadget(fn, [x, *bounds, *weights], [want])
            assert run.ok, (x, bounds, weights)
            checked += 1
    assert checked > 50


@pytest.mark.parametrize("k", [2, 4])
def test_progressive_matches_the_engine_at_128_bits(k):
    rng = random.Random(f"prog-{k}")
    top = (1 << 128) - 1
    for _ in range(40):
        bounds = sorted({rng.randrange(1, top) for _ in range(k - 1)})
        if len(bounds) < k - 1:
            continue
        weights = sorted(rng.randrange(0, 10**18 + 1) for _ in range(k))
        x = rng.choice([0, rng.randrange(top), bounds[0], bounds[-1], bounds[-1] + 1, bounds[0] - 1, top - 1])
        want = progressive(x, [*bounds, None], weights)
        assert run_gadget(_progressive_gadget(k), [x, *bounds, *weights], [want]).ok
        assert not run_gadget(_progressive_gadget(k), [x, *bounds, *weights], [want + 1]).ok


@pytest.mark.parametrize("k", [2, 4])
def test_progressive_padding_slot_all_zero_bounds_and_weights(k):
    for x in (0, 5, (1 << 127) - 1):
        assert run_gadget(_progressive_gadget(k), [x] + [0] * (2 * k - 1), [0]).ok


# --- gadgets: exact division by a constant --------------------------------------------------------

@pytest.mark.parametrize("ceil", [False, True])
@pytest.mark.parametrize("d,n_max", [(1, 2**128), (10, 2**20), (10**8, (2**64 - 1) ** 2), (10**36, 2**128)])
def test_division_by_a_constant(ceil, d, n_max):
    div = gadgets.div_ceil_const if ceil else gadgets.div_floor_const
    fn = lambda api, n: div(api, n, d, n_max)  # noqa: E731
    assert gadget_cost(fn, 1) == gadgets.div_const_cost(d, n_max, ceil=ceil)
    rng = random.Random(f"div-{d}-{ceil}")
    for n in [0, 1, d - 1, d, d + 1, n_max, n_max - 1] + [rng.randrange(n_max + 1) for _ in range(10)]:
        if not 0 <= n <= n_max:
            continue
        q = -(-n // d) if ceil else n // d
        assert run_gadget(fn, [n], [q]).ok
        assert not run_gadget(fn, [n], [q + 1]).ok


def test_division_refuses_bounds_that_could_wrap():
    with pytest.raises(CircuitError, match="could wrap"):
        gadgets.div_const_cost(3, 2**252)
    with pytest.raises(CircuitError, match="divisor"):
        gadgets.div_const_cost(0, 5)
