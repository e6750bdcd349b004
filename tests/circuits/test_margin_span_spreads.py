"""SPAN spreads (issue 12, point 5): intra-commodity spread charges and inter-commodity spread credits.

The published examples (examples/span_spread_charges_and_credits/cases.json) are reproduced, proved
and verified by the generic tests/circuits/test_margin_published_rules.py; here: the held-out
published figures against the engine, the circuit against the engine on random spread models at the
exact threshold, the priority order, the loader's rules, the model digest, the pinned costs, and a
malicious prover lying through every hint the spread part asks for (the comparison bits of a
minimum, the sign split of a remaining delta, the ratio and credit quotients, tier membership) and
through the count wire itself.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from zkmargin.circuits import compile_circuit
from zkmargin.circuits.margin import assignment_for, circuit_for, constraint_count
from zkmargin.circuits.margin._testing import build_unchecked, revalidate, small_model, witness_passes
from zkmargin.circuits.margin.span import spread_cost
from zkmargin.circuits.std._testing import violated
from zkmargin.margin import SchemaError, evaluate, load_market, load_model, load_portfolio, model_digest, parse_decimal
from zkmargin.margin.model import Holding, Portfolio, Position
from zkmargin.margin.span import DELTA_BITS, NET_DELTA_BITS

FOLDER = Path(__file__).resolve().parents[2] / "examples" / "span_spread_charges_and_credits"
SALT, CONTEXT = 0x5A17, 0x99
NB = NET_DELTA_BITS


def _case_docs(case: dict):
    model = load_model(FOLDER / case["model"])
    return model, load_market(FOLDER / case["market"], model), load_portfolio(FOLDER / case["portfolio"], model)


def _cases(name: str) -> list[dict]:
    return json.loads((FOLDER / name).read_text())["cases"]


# --- published figures -----------------------------------------------------------------------------

@pytest.mark.parametrize("case", _cases("held_out.json"), ids=lambda c: c["portfolio"])
def test_held_out_published_figures_reproduced_by_the_engine(case):
    model, market, pf = _case_docs(case)
    assert "http" in case["source"]  # provenance next to the figure
    rep = evaluate(model, market, pf, case["threshold"])
    assert rep.requirement == parse_decimal(case["requirement"], model.report_decimals, path="requirement")
    assert rep.passes is case["passes"]
    assert witness_passes(assignment_for(model, market, pf, SALT, case["threshold"], CONTEXT)) is case["passes"]


def test_published_examples_break_down_as_the_page_says():
    """Intra: scan risk $250 + charge $50 (spread Month 2 vs 4, one spread); inter: credits 55 % of
    $3,500 and of $2,500 (one spread of 2:1 deltas)."""
    scale = 10**6  # report decimals QD + PD + RD = 0 + 2 + 4
    model, market, pf = _case_docs(_cases("cases.json")[0])
    rep = evaluate(model, market, pf, 0)
    assert rep.spreads is not None
    assert rep.spreads.intra_counts == (0, 10**4, 0) and rep.spreads.intra_charges == (0, 50 * scale, 0)
    assert rep.scenario_losses[10] == 250 * scale  # scenario 11: Month 4 up $750, Month 2 up $500
    assert rep.explain().endswith("binding scenario 11 + intra-commodity spread charge 50.00")
    model, market, pf = _case_docs(_cases("cases.json")[2])
    rep = evaluate(model, market, pf, 0)
    assert rep.spreads is not None
    assert rep.spreads.inter_counts == (10**4,)
    assert rep.spreads.inter_credits == ((1925 * scale, 1375 * scale),)
    assert rep.group_requirements == (1575 * scale, 1125 * scale)
    assert "group 1: scenario 13 - inter-commodity spread credit 1,925.00" in rep.explain()


def test_priority_order_decides_which_spread_forms():
    """+1 Month 2, -1 Month 3, -1 Month 4: Month 2's delta goes to the first spread listed (charge
    $200); listed the other way round, Month 2 vs 4 forms first ($50)."""
    case = _cases("cases.json")[4]
    model, market, pf = _case_docs(case)
    assert evaluate(model, market, pf, 0).requirement == 950 * 10**6
    doc = model.to_dict()
    doc["model_id"] = "cme-intra-product-x"  # same id: the digest still differs (test_spread_table_binds_...)
    intra = doc["parameters"]["spreads"]["intra"]
    doc["parameters"]["spreads"]["intra"] = [intra[1], intra[0], intra[2]]
    swapped = load_model(doc)
    mdoc = market.to_dict(model)
    mdoc["spreads"]["intra_charges"] = ["50", "200", "0"]
    swapped_market = load_market(mdoc, swapped)
    assert evaluate(swapped, swapped_market, pf, 0).requirement == 800 * 10**6
    assert model_digest(swapped) != model_digest(model)
    assert witness_passes(assignment_for(swapped, swapped_market, pf, SALT, "0", CONTEXT))
    assert not witness_passes(assignment_for(model, market, pf, SALT, "0.01", CONTEXT))


def test_reverse_orientation_and_same_side_pattern():
    """A vs B forms with either leg long; with both legs long it does not form (no credit)."""
    case = _cases("cases.json")[2]
    model, market, _ = _case_docs(case)
    scale = 10**6

    def req(corn: str, soy: str, m=model, mk=market) -> int:
        pf = load_portfolio({"version": 1, "kind": "portfolio", "model_id": m.model_id,
                             "positions": [{"instrument": "CORN", "size": corn, "entry": "1000"},
                                           {"instrument": "SOYBEANS", "size": soy, "entry": "1000"}],
                             "collateral": []}, m)
        return evaluate(m, mk, pf, 0).requirement

    assert req("-2", "1") == 2700 * scale
    assert req("2", "1") == 6000 * scale  # same sign: the A vs B spread does not form
    # +4 corn, -1 soybeans: one spread uses half the corn deltas (55 % of half of $7,000)
    assert req("4", "-1") == (7000 - 1925 + 2500 - 1375) * scale
    doc = model.to_dict()
    doc["parameters"]["spreads"]["inter"][0]["sides"] = ["A", "A"]
    same = load_model(doc)
    same_market = load_market(market.to_dict(model), same)
    assert req("2", "1", same, same_market) == 2700 * scale
    assert req("2", "-1", same, same_market) == 6000 * scale


def test_partial_use_credits_the_used_share_of_the_weighted_price_risk():
    """+3 corn, -1 soybeans: one 2:1 spread uses 2 of 3 corn deltas: corn's credit is 55 % of 2/3 of
    its $5,250 scan risk (exactly $1,925), soybeans' 55 % of $2,500."""
    model, market, _ = _case_docs(_cases("cases.json")[2])
    pf = Portfolio(model.model_id, (Position("CORN", 3, 100_000), Position("SOYBEANS", -1, 100_000)))
    rep = evaluate(model, market, pf, 0)
    assert rep.spreads is not None and rep.spreads.inter_credits == ((1925 * 10**6, 1375 * 10**6),)
    assert rep.requirement == (5250 - 1925 + 2500 - 1375) * 10**6


# --- circuit against engine on random spread models --------------------------------------------

def _spread_model(rng: random.Random, n_groups: int, floor: bool, ratios: bool):
    base = small_model("scenario", parameters={"short_option_floor": floor})
    n_i = len(base.instruments)
    groups = [rng.randrange(n_groups) for _ in range(n_i)]
    n_t = rng.randrange(n_groups, n_groups + 3)
    tier_groups = list(range(n_groups)) + [rng.randrange(n_groups) for _ in range(n_t - n_groups)]
    intra = [{"tiers": [a, b]} for a in range(n_t) for b in range(n_t)
             if a != b and tier_groups[a] == tier_groups[b] and rng.random() < 0.7]
    inter = []
    for _ in range(rng.randrange(1, 4)):
        g1, g2 = rng.sample(range(n_groups), 2)
        inter.append({"groups": [g1, g2], "ratios": [rng.randrange(1, 4), rng.randrange(1, 4)] if ratios else [1, 1],
                      "sides": rng.choice((["A", "B"], ["A", "A"]))})
    doc = base.to_dict()
    doc["model_id"] = f"spreads-{n_groups}-{int(floor)}-{int(ratios)}"
    doc["sizes"] = {**doc["sizes"], "n_groups": n_groups}
    doc["parameters"] = {"short_option_floor": floor,
                         "spreads": {"tier_groups": tier_groups, "intra": intra, "inter": inter}}
    model = load_model(doc)
    return base, model, groups


def _spread_case(rng: random.Random, base, model, groups: list[int]):
    from zkmargin.circuits.margin._testing import random_case

    rs = model.rate_scale
    market, pf = random_case(rng, base)
    tiers_of = {g: [t for t, tg in enumerate(model.spreads.tier_groups) if tg == g] for g in range(model.n_groups)}
    ins = []
    for i, x in enumerate(market.instruments):
        delta = rng.choice((rs, -rs, 0, rng.randrange(-(1 << DELTA_BITS) + 1, 1 << DELTA_BITS),
                            (1 << DELTA_BITS) - 1, rng.randrange(1, rs)))
        ins.append(replace(x, group=groups[i], tier=rng.choice(tiers_of[groups[i]]), delta=delta))
    # small sizes too, so spreads form, use up whole deltas or leave some, and meet exactly
    if rng.random() < 0.6:
        positions = tuple(replace(p, size=rng.choice((1, -1, 2, -2, 3, -3)) * 10**model.quantity_decimals)
                          for p in pf.positions)
        pf = replace(pf, positions=positions)
    charges = tuple(rng.choice((0, 1, rng.randrange(1, 10**6), (1 << 64) - 1)) for _ in model.spreads.intra)
    rates = tuple(rng.choice((0, rs, rng.randrange(0, rs + 1))) for _ in model.spreads.inter)
    market = replace(market, model_id=model.model_id, instruments=tuple(ins), intra_charges=charges,
                     inter_rates=rates)
    pf = replace(pf, model_id=model.model_id)
    return revalidate(model, market, pf)


@pytest.mark.parametrize("n_groups,floor,ratios", [(2, False, True), (3, True, True), (2, True, False)])
def test_spreads_circuit_satisfiable_exactly_when_the_engine_passes(n_groups, floor, ratios):
    rng = random.Random(f"spreads-{n_groups}-{floor}-{ratios}")
    base, model, groups = _spread_model(rng, n_groups, floor, ratios)
    assert compile_circuit(circuit_for(model)).n_constraints == constraint_count(model)
    seen, formed = set(), 0
    for _ in range(10):
        market, pf = _spread_case(rng, base, model, groups)
        rep = evaluate(model, market, pf, 0)
        assert rep.spreads is not None
        formed += sum(1 for n in rep.spreads.intra_counts + rep.spreads.inter_counts if n)
        t = max(0, rep.surplus // model.rate_scale)  # exactly the surplus passes, one value unit more fails
        for thr in (t, t + 1):
            passes = evaluate(model, market, pf, thr).passes
            seen.add(passes)
            assert witness_passes(assignment_for(model, market, pf, SALT, thr, CONTEXT)) is passes, rep.explain()
        assert sum(rep.group_requirements) == rep.requirement
    assert seen == {True, False} and formed > 0


# --- documents and digest --------------------------------------------------------------------------

def test_model_without_spreads_keeps_header_and_digest():
    """Header slots 9 and 10 hold the spread counts only when the model has spreads; a model without
    them has the same header, digest and layout as before the feature."""
    base = small_model("scenario")
    assert base.spreads is None and base.header(0)[9:11] == [0, 0]
    model = load_model(FOLDER / "model_intra.json")
    assert model.header(0)[9:11] == [3, 0]
    assert load_model(FOLDER / "model_inter.json").header(0)[9:11] == [0, 1]
    doc = model.to_dict()
    del doc["parameters"]["spreads"]
    assert model_digest(load_model(doc)) != model_digest(model)
    assert load_model(model.to_dict()) == model


@pytest.mark.parametrize("edit,field", [
    (lambda d: d["decimals"].update(rate=6), "decimals.rate"),
    (lambda d: d["parameters"]["spreads"].update(tier_groups=[0, 0, 1]), "tier_groups[2]"),
    (lambda d: d["parameters"]["spreads"]["intra"].append({"tiers": [1, 1]}), "intra[3].tiers"),
    (lambda d: d["parameters"]["spreads"].update(intra=[], inter=[]), "spreads"),
])
def test_loader_refuses_bad_spread_tables(edit, field):
    doc = load_model(FOLDER / "model_intra.json").to_dict()
    edit(doc)
    with pytest.raises(SchemaError, match=field.replace("[", r"\[").replace("]", r"\]")):
        load_model(doc)


@pytest.mark.parametrize("edit,field", [
    (lambda d: d["instruments"][0].update(delta=str(1 << DELTA_BITS)), "delta"),
    (lambda d: d["instruments"][0].update(tier=1), "tier"),
    (lambda d: d["spreads"].update(inter_rates=["1.0001"]), "inter_rates"),
    (lambda d: d["spreads"].update(inter_rates=[]), "inter_rates"),
])
def test_loader_refuses_bad_spread_market_data(edit, field):
    model = load_model(FOLDER / "model_inter.json")
    doc = load_market(FOLDER / "market_inter.json", model).to_dict(model)
    edit(doc)
    with pytest.raises(SchemaError, match=field):
        load_market(doc, model)


# --- costs ------------------------------------------------------------------------------------------

#: Compiled counts of the example's models, pinned: intra (3 tiers, 3 intra spreads, 3 instruments,
#: 16 scenarios, one group) and inter (2 groups, one 2:1 spread).
PINNED = {"model_intra.json": 10048, "model_inter.json": 14356}


@pytest.mark.parametrize("name", list(PINNED))
def test_example_counts_pinned(name):
    model = load_model(FOLDER / name)
    assert compile_circuit(circuit_for(model)).n_constraints == PINNED[name] == constraint_count(model)


def test_cost_per_spread():
    """The README's cost table: an intra spread 3 * 93 + 16 = 295; an inter spread at 1:1 between groups
    already in a spread 2 * 97 + 98 + 2 * (3 + 345) = 988, plus the ratio's quotient per leg at a ratio
    r > 1 (98 at r = 2: ``gadgets.div_const_cost``); per instrument 2 + 3 T; the net delta of a group
    in an inter spread 97."""
    model = load_model(FOLDER / "model_inter.json")
    doc = model.to_dict()
    doc["parameters"]["spreads"]["inter"].append({"groups": [1, 0], "ratios": [1, 1], "sides": ["A", "B"]})
    two = load_model(doc)
    assert spread_cost(two) - spread_cost(model) == 988
    doc = load_model(FOLDER / "model_intra.json").to_dict()
    one = load_model(doc)
    doc["parameters"]["spreads"]["intra"].append({"tiers": [2, 0]})
    assert spread_cost(load_model(doc)) - spread_cost(one) == 295
    assert spread_cost(model) == 2 * (2 + 3 * 2) + 2 * 97 + 988 + 98


# --- malicious prover ----------------------------------------------------------------------------

def _inter_attack(corn: int, soy: int, threshold: str, cash: int = 0):
    model = load_model(FOLDER / "model_inter.json")
    market = load_market(FOLDER / "market_inter.json", model)
    pf = Portfolio(model.model_id, (Position("CORN", corn, 100_000), Position("SOYBEANS", soy, 100_000)),
                   (Holding("USD", cash),))
    return model, market, pf, assignment_for(model, market, pf, SALT, threshold, CONTEXT)


def _only_in(bad: list[str], scope: str) -> bool:
    return bool(bad) and all(scope in b for b in bad)


def test_lying_minimum_cannot_form_more_inter_spreads():
    """+4 corn, -1 soybeans: floor(4/2) = 2 against 1 soybean delta, so one spread. A prover who
    flips the comparison bit takes the larger (two spreads: double the soybean credit), which would
    pass $6,199 against the honest $6,200; the comparison's decomposition no longer recomposes, and
    nothing else fails."""
    model, market, pf, circuit = _inter_attack(4, -1, "0", cash=6199)
    assert evaluate(model, market, pf, 0).requirement == 6200 * 10**6
    target = 2 * 10**4 - 10**4 + (1 << NB)  # q_corn - q_soy + 2**NB

    def lie(ins):
        x, n = ins
        bits = [(x >> i) & 1 for i in range(n)]
        if n == NB + 1 and x == target:
            bits[NB] ^= 1
        return bits

    cs, w = build_unchecked(circuit, {"bits.decompose": lie})
    bad = violated(cs, w)
    assert _only_in(bad, "spreads/inter[0]/is_less/"), bad


def test_lying_sign_of_a_remaining_delta_fails():
    """+2 corn, +1 soybeans (same side: no A vs B spread, $6,000): the soybean delta +1 claimed -1 so
    that the spread forms ($2,700 would pass on $2,700 of collateral). split_signed's bits no longer
    recompose the wire; nothing else fails."""
    model, market, pf, circuit = _inter_attack(2, 1, "0", cash=2700)
    assert not evaluate(model, market, pf, 0).passes

    def lie(ins):
        x, n = ins
        if n == NB + 1 and x == (1 << NB) + 10**4:
            x = (1 << NB) - 10**4
        return [(x >> i) & 1 for i in range(n)]

    cs, w = build_unchecked(circuit, {"bits.decompose": lie})
    bad = violated(cs, w)
    assert bad and all("/split_signed/" in b for b in bad), bad


def test_lying_ratio_quotient_fails():
    """+3 corn, -2 soybeans: floor(3 corn deltas / 2) = 1.5 spreads. Claimed one delta unit more
    (more spreads, a little more credit: $5,299.67 instead of $5,300, enough for a threshold of $0.10
    on $5,300): the remainder's range check fails, nothing else."""
    model, market, pf, circuit = _inter_attack(3, -2, "0.1", cash=5300)
    assert evaluate(model, market, pf, 0).requirement == 5300 * 10**6
    assert not evaluate(model, market, pf, "0.1").passes

    def lie(ins):
        n, d = ins
        q = n // d + 1
        return [q, n - q * d]

    cs, w = build_unchecked(circuit, {"margin.divmod_floor": lie})
    bad = violated(cs, w)
    assert _only_in(bad, "spreads/inter[0]/leg[0]/div_floor/"), bad


def test_lying_credit_quotient_cannot_pass_a_failing_account():
    """At a threshold of one cent the published $2,700 account fails; a credit quotient one unit
    higher would cover that cent, and violates only the credit's division."""
    model, market, pf, circuit = _inter_attack(2, -1, "0.01", cash=2700)
    assert not evaluate(model, market, pf, "0.01").passes

    def lie(ins):
        n, d = ins
        if not d:
            return [0, n]
        q = n // d + 10**7  # $10 more credit per leg (report decimals 6)
        return [q, n - q * d]

    cs, w = build_unchecked(circuit, {"margin.divmod_wire": lie})
    bad = violated(cs, w)
    assert _only_in(bad, "/div_wire/"), bad


def test_lying_tier_membership_fails():
    """is_equal's inverse hint claiming 'every tier' (or none): the membership is_zero checks fail."""
    model, market, pf, circuit = _inter_attack(2, -1, "0")
    cs, w = build_unchecked(circuit, {"is_zero.inverse": lambda ins: [0]})
    assert any(b.startswith("spreads/position[") for b in violated(cs, w))


@pytest.mark.parametrize("scope", ["spreads/inter[0]/count", "spreads/intra[1]/count"])
def test_lying_spread_count_fails(scope):
    """The count wire itself raised by one delta (a larger credit / a different consumption): its
    defining constraint (count == fits * min) fails."""
    if "inter" in scope:
        circuit = _inter_attack(2, -1, "0", cash=2700)[3]
    else:
        model, market, pf = _case_docs(_cases("cases.json")[0])
        circuit = assignment_for(model, market, pf, SALT, "0", CONTEXT)
    cs, w = build_unchecked(circuit)
    assert not violated(cs, w)
    (k,) = [i for i, label in enumerate(cs.labels) if label == scope]
    (wire,) = cs.constraints[k][2]
    w = list(w)
    w[wire] += 1
    assert scope in violated(cs, w)


def test_spreads_at_the_bounds_circuit_equals_engine():
    """Spread inputs at the top of their ranges: sizes +-(2**63 - 1), deltas +-(2**20 - 1), risk
    arrays +-(2**64 - 1), charges 2**64 - 1 or 1, credit rates 100 %, ratios 1, 3 and 255, four
    instruments per group (tier deltas near 2**85), the floor on. Unhedged, every account fails
    (the scan risk exceeds any collateral); hedged (losses cancelling, one tier long and one short)
    the largest passing threshold passes and the next fails. The circuit agrees with the engine
    each time: nothing wraps around."""
    from zkmargin.margin.limits import PRICE_BITS, RISK_BITS, SIZE_BITS
    from zkmargin.margin.model import AssetData, InstrumentData, Market

    base = small_model("scenario", sizes={"n_instruments": 8, "n_assets": 1, "n_scenarios": 2}, n_symbols=(8, 1))
    doc = base.to_dict()
    doc["sizes"]["n_groups"] = 2
    doc["parameters"]["spreads"] = {"tier_groups": [0, 0, 1, 1], "intra": [{"tiers": [0, 1]}, {"tiers": [2, 3]}],
                                    "inter": [{"groups": [0, 1], "ratios": [1, 3], "sides": ["A", "B"]},
                                              {"groups": [1, 0], "ratios": [255, 1], "sides": ["A", "A"]}]}
    model = load_model(doc)
    top_s, top_d = (1 << SIZE_BITS) - 1, (1 << DELTA_BITS) - 1
    top_r, top_p = (1 << RISK_BITS) - 1, (1 << PRICE_BITS) - 1
    rng = random.Random("spreads-at-the-bounds")
    seen, formed = set(), set()
    for hedged in (False, False, True, True):
        ins, positions = [], []
        for i, sym in enumerate(model.instruments):
            g = i // 4
            risk = (top_r, -top_r) if hedged else (rng.choice((top_r, -top_r)), rng.choice((top_r, -top_r)))
            size = (top_s if i % 2 == 0 else -top_s) if hedged else rng.choice((top_s, -top_s))
            delta = top_d if hedged else rng.choice((top_d, -top_d))
            ins.append(InstrumentData(sym, top_p, risk_array=risk, short_option_minimum=top_p if not hedged else 0,
                                      group=g, tier=2 * g + i % 2, delta=delta))
            positions.append(Position(sym, size, top_p))
        charge = 1 if hedged else top_p
        market = Market(model.venue, model.model_id, 1, tuple(ins), (AssetData("A0", top_p, 0),),
                        intra_charges=(charge, charge), inter_rates=(model.rate_scale, model.rate_scale))
        pf = Portfolio(model.model_id, tuple(positions), (Holding("A0", top_p),))
        market, pf = revalidate(model, market, pf)
        rep = evaluate(model, market, pf, 0)
        assert rep.spreads is not None
        formed |= {kind for kind, counts in (("intra", rep.spreads.intra_counts), ("inter", rep.spreads.inter_counts))
                   if any(counts)}
        t = max(0, rep.surplus // model.rate_scale)
        for thr in (t, t + 1):
            passes = evaluate(model, market, pf, thr).passes
            seen.add(passes)
            assert witness_passes(assignment_for(model, market, pf, SALT, thr, CONTEXT)) is passes, rep.explain()
    assert seen == {True, False} and formed == {"intra", "inter"}
