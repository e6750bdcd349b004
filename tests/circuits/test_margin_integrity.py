"""Issue 8, points 2 and 3, in every margin model: the account vector is fully constrained and the
commitment binds the model.

Each forgery is what a malicious trader controls (the account vector they commit to, the salt),
built so that everything else holds; the test asserts the exact set of violated constraints, so
the rule under test is shown to be the one that stops it. The exploit that motivated point 2 (a
short position in a spare instrument slot, mark 0 and no brackets, adds equity with no requirement)
is reproduced on a portfolio the engine refuses.
"""

from __future__ import annotations

import random

import pytest

from zkmargin.circuits import compile_circuit
from zkmargin.circuits.margin import CIRCUITS, assign_vectors, circuit_for, statement_cost
from zkmargin.circuits.margin._testing import SMALL_SIZES, build_unchecked, random_case, small_model
from zkmargin.circuits.margin.base import padding_cost
from zkmargin.circuits.margin.cross import CrossMargin
from zkmargin.circuits.std._testing import violated
from zkmargin.encoding import commitment
from zkmargin.field import R
from zkmargin.margin import (
    account_layout,
    evaluate,
    layout_length,
    model_digest,
    padding_slots,
    parse_threshold,
)

SALT, CONTEXT = 0x5A17, 0xC0
KINDS = list(CIRCUITS)

#: Which account segments are indexed by instrument, which by asset.
BY_INSTRUMENT = ("sizes", "entries", "margins")


def spare_model(kind: str, **kw):
    """The small model of ``kind`` with one symbol fewer in each list that it has: a spare slot in
    every account segment."""
    n_i, n_a = SMALL_SIZES[kind]["n_symbols"]
    sizes = SMALL_SIZES[kind]["sizes"]
    n_i = min(n_i, sizes.get("n_instruments", 0) - 1) if n_i else 0
    n_a = min(n_a, sizes.get("n_assets", 0) - 1) if n_a else 0
    return small_model(kind, n_symbols=(n_i, n_a), **kw)


def _offset(model, segment: str, index: int) -> int:
    pos = 0
    for name, shape in account_layout(model):
        if name == segment:
            return pos + index
        pos += layout_length([(name, shape)])
    raise KeyError(segment)


def _run(model, acc, mkt, threshold, **public):
    cs, w = build_unchecked(assign_vectors(model, acc, SALT, mkt, threshold, CONTEXT, **public))
    return violated(cs, w)


def _passing_case(model, seed: int):
    """A random case and a threshold it passes at exactly (surplus == threshold, the tightest pass)."""
    rng = random.Random(seed)
    for _ in range(200):
        market, pf = random_case(rng, model)
        rep = evaluate(model, market, pf, 0)
        if rep.passes:
            return market, pf, 0
    raise AssertionError("no passing case found")


@pytest.mark.parametrize("kind", KINDS)
def test_every_model_has_a_spare_slot_in_every_segment_here(kind):
    model = spare_model(kind)
    slots = padding_slots(model)
    assert set(slots) == {name for name, _ in account_layout(model)}
    assert all(slots.values()), slots
    cs = compile_circuit(circuit_for(model))
    labels = [lab for lab in cs.labels if lab.startswith("statement/padding/")]
    assert len(labels) == padding_cost(model) == sum(len(v) for v in slots.values())
    # fewer symbols change the circuit only by the padding constraints (and the model digest constant)
    full = small_model(kind)
    assert statement_cost(model) - padding_cost(model) == statement_cost(full) - padding_cost(full)


@pytest.mark.parametrize("kind", KINDS)
def test_a_value_in_any_spare_slot_violates_only_the_padding_rule(kind):
    model = spare_model(kind)
    market, pf, t = _passing_case(model, 8)
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    assert _run(model, acc, mkt, t) == []
    for segment, idx in padding_slots(model).items():
        for k in idx:
            forged = list(acc)
            # a short position (size -5), an entry, a margin, or an amount in the spare slot
            forged[_offset(model, segment, k)] = (-5) % R if segment == "sizes" else 10**4
            want = [f"statement/padding/{segment}[{k}]"]
            if segment in ("delta", "vega"):  # simm: the rule does not read a spare factor slot, so the
                want.append(f"statement/unread/account[{_offset(model, segment, k)}]")  # base pins it again
            assert _run(model, forged, mkt, t) == want, (segment, k)


@pytest.mark.parametrize("kind", ["cross", "tiered", "isolated"])
def test_short_position_in_a_spare_slot_no_longer_fakes_solvency(kind):
    """The reviewer's exploit: a failing portfolio plus a short position in a spare instrument slot
    (mark 0, no brackets: uPnL = -size * entry > 0, requirement 0) satisfied every model constraint;
    now only the padding rule stops it (and it does)."""
    model = spare_model(kind)
    spare = padding_slots(model)["sizes"][0]
    rng = random.Random(f"exploit-{kind}")
    for _ in range(500):
        market, pf = random_case(rng, model)
        rep = evaluate(model, market, pf, 0)
        if not rep.passes:
            break
    else:
        raise AssertionError("no failing case")
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    assert _run(model, acc, mkt, 0) != []
    forged = list(acc)
    forged[_offset(model, "sizes", spare)] = (-(1 << 62)) % R  # short 2^62 units ...
    forged[_offset(model, "entries", spare)] = (1 << 64) - 1  # ... entered at the top price
    if kind == "isolated":
        forged[_offset(model, "margins", spare)] = 0
    bad = _run(model, forged, mkt, 0)
    if kind == "isolated":
        # isolated margin is per position: a spare slot cannot lift another position's check, so
        # the failing position still fails too; the padding rule rejects the slot regardless
        assert f"statement/padding/sizes[{spare}]" in bad
    else:
        assert bad == [f"statement/padding/sizes[{spare}]", f"statement/padding/entries[{spare}]"], bad


def test_a_field_the_rule_does_not_read_is_constrained_to_zero():
    """A model that forgets a field (here: collateral slot 0 never used) gets it pinned to zero by the base."""

    class Forgetful(CrossMargin):
        def margin(self, api, account, market):
            amounts = list(account["amounts"])
            amounts[0] = api.const(0)  # the rule never reads amounts[0]
            super().margin(api, {**account, "amounts": amounts}, market)

    model = small_model("cross")
    cs = compile_circuit(Forgetful(model=model))
    k = _offset(model, "amounts", 0)
    assert f"statement/unread/account[{k}]" in cs.labels
    assert cs.n_constraints == compile_circuit(circuit_for(model)).n_constraints - 65 - 2 + 1
    market, pf, t = _passing_case(model, 3)
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    acc[k] = 12345
    circuit = assign_vectors(model, acc, SALT, mkt, t, CONTEXT)
    forged = Forgetful(model=model, **circuit._assignment)
    cs2, w = build_unchecked(forged)
    assert violated(cs2, w) == [f"statement/unread/account[{k}]"]


# --- point 3: the commitment binds the model ----------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_commitment_made_under_another_model_does_not_open(kind):
    """Another model of the same kind, sizes and length (only the id differs): its commitment to the
    very same account vector and salt is rejected; the same vector under this model's digest passes."""
    model = small_model(kind)
    other = small_model(kind, model_id=f"other-{kind}")
    assert layout_length(account_layout(model)) == layout_length(account_layout(other))
    market, pf, t = _passing_case(model, 5)
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    assert _run(model, acc, mkt, t) == []
    theirs = commitment(model_digest(other), acc, SALT)
    assert _run(model, acc, mkt, t, commitment=theirs) == ["statement/commitment/bind"]
    # the model digest covers the symbols too
    renamed = small_model(kind, model_id=model.model_id)
    assert model_digest(renamed) == model_digest(model)


def test_isolated_account_cannot_be_read_as_a_cross_account_of_equal_length():
    """The reviewer's case: an isolated account (sizes, entries, margins) committed under the isolated
    model, presented to a cross circuit whose account (sizes, entries, amounts) has the same length:
    the margins would be read as collateral amounts. The commitment no longer opens."""
    iso = small_model("isolated")  # 3 instruments: 9 values
    cross = small_model("cross", n_symbols=(3, 3), sizes={"n_instruments": 3, "n_assets": 3, "n_rate_brackets": 2})
    assert layout_length(account_layout(iso)) == layout_length(account_layout(cross)) == 9
    rng = random.Random(11)
    c_market, c_pf = random_case(rng, cross)
    i_market, i_pf = random_case(rng, iso)
    iso_acc = i_pf.to_field_elements(iso)
    # read as cross: sizes and entries as they are, margins as amounts (all in range for cross)
    iso_acc = [*iso_acc[:6], *[min(v, (1 << 64) - 1) for v in iso_acc[6:]]]
    iso_commitment = commitment(model_digest(iso), iso_acc, SALT)
    mkt = c_market.to_field_elements(cross)
    t = 0
    honest_under_cross = _run(cross, iso_acc, mkt, t)
    bad = _run(cross, iso_acc, mkt, t, commitment=iso_commitment)
    assert "statement/commitment/bind" in bad
    assert [b for b in bad if b != "statement/commitment/bind"] == honest_under_cross


# --- point 7: range-check forgeries where everything else holds ----------------------------------

#: What stops a negative collateral amount, per model: its range check, and in the tiered model also
#: the tier brackets' range check on the (negative) value it feeds; nothing else.
NEGATIVE_AMOUNT_STOPS = {
    "cross": ["asset[0]/amount/assert_bits/recompose"],
    "scenario": ["asset[0]/amount/assert_bits/recompose"],
    "tiered": ["asset[0]/amount/assert_bits/recompose", "asset[0]/tiers/progressive/in_bracket/assert_bits/recompose"],
}


@pytest.mark.parametrize("kind", list(NEGATIVE_AMOUNT_STOPS))
def test_negative_collateral_only_the_range_checks_stop_it(kind):
    """amount = r - 1 ("-1 base unit"): on a passing case with room for the loss, the surplus still
    holds, so only the range checks on the forged amount are violated."""
    model = small_model(kind)
    rng = random.Random(f"neg-{kind}")
    for _ in range(2000):
        market, pf = random_case(rng, model)
        rep = evaluate(model, market, pf, 0)
        room = 2 * market.assets[0].price * model.rate_scale
        if rep.passes and rep.surplus > room and market.assets[0].price > 0 and pf.collateral_amounts(model)[0] == 0:
            break
    else:
        raise AssertionError("no roomy passing case without asset 0")
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    acc[_offset(model, "amounts", 0)] = R - 1  # "-1 base unit" where the honest amount is 0
    assert set(_run(model, acc, mkt, 0)) == set(NEGATIVE_AMOUNT_STOPS[kind])


def test_negative_debt_only_the_debt_range_check_stops_it():
    """health: a debt of r - 1 ("-1 base unit") on a passing account: only its range check fails."""
    model = small_model("health")
    rng = random.Random("neg-debt")
    for _ in range(500):
        market, pf = random_case(rng, model)
        if evaluate(model, market, pf, "1").passes and market.assets[1].price > 0:
            break
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    t = parse_threshold(model, "1")
    k = _offset(model, "debts", 1)
    acc[k] = R - 1
    bad = _run(model, acc, mkt, t)
    assert bad and all(b.startswith("asset[1]/debt/") for b in bad), bad
    assert "asset[1]/debt/amount/assert_bits/recompose" in bad


@pytest.mark.parametrize("kind", ["cross", "isolated", "scenario", "tiered"])
def test_size_just_outside_its_range_only_the_size_check_stops_it(kind):
    """size = 2^63 on an instrument whose mark equals the entry and whose rates are zero: no effect on
    equity or requirement, so the signed split of the size is the only violated constraint."""
    from zkmargin.circuits.margin._testing import replace_instrument, revalidate

    model = small_model(kind)
    rng = random.Random(f"size-{kind}")
    market, pf = random_case(rng, model)
    sym = model.instruments[0]
    fields = {"mark": 100}
    if model.spec.rates:
        fields["rate_brackets"] = tuple(type(b)(b.up_to, 0, 0) for b in market.instruments[0].rate_brackets)
    if model.spec.scenarios:
        fields["risk_array"] = (0,) * model.n_scenarios
        fields["short_option_minimum"] = 0
    from dataclasses import replace

    from zkmargin.margin.model import Position

    positions = tuple(p for p in pf.positions if p.instrument != sym) + (Position(sym, 0, 100, 0),)
    market, pf = revalidate(model, replace_instrument(market, 0, **fields), replace(pf, positions=positions))
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    t = 0
    base = _run(model, acc, mkt, t)
    for size in (1 << 63, R - (1 << 63)):
        forged = list(acc)
        forged[_offset(model, "sizes", 0)] = size
        bad = [b for b in _run(model, forged, mkt, t) if b not in base]
        assert bad and all(b.startswith("position[0]/size/split_signed/") for b in bad), (size, bad)


@pytest.mark.parametrize("kind", KINDS)
def test_negative_threshold_only_the_threshold_range_check_stops_it(kind):
    """A failing account and threshold r - k ("-k") with k just large enough that the rule's own check
    passes: the threshold's range check is the only violated constraint."""
    model = small_model(kind)
    rng = random.Random(f"thr-{kind}")
    honest = "2" if kind == "health" else "0"  # health passes any account at h = 0
    for _ in range(500):
        market, pf = random_case(rng, model)
        rep = evaluate(model, market, pf, honest)
        if not rep.passes:
            break
    else:
        raise AssertionError("no failing case")
    acc, mkt = pf.to_field_elements(model), market.to_field_elements(model)
    assert _run(model, acc, mkt, parse_threshold(model, honest)) != []
    # the smallest k that lifts the rule's own check: value models D = surplus + RS * k >= 0;
    # health: W * 10**HD + k * debt >= 0 holds from k = 1
    k = 1 if kind == "health" else -(rep.surplus // model.rate_scale)
    assert k >= 1
    assert _run(model, acc, mkt, R - k) == ["statement/threshold/assert_bits/recompose"]
    if k > 1:  # one less and the rule's own check fails too: the forgery is as tight as it gets
        assert any(b.endswith("surplus/assert_bits/recompose") for b in _run(model, acc, mkt, R - k + 1))
