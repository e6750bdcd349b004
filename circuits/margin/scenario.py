"""Scenario (SPAN-style portfolio) margin: the worst scenario loss of the whole portfolio.

The rule (``zkmargin.margin.engine._pooled``, scenario branch), scaled by RS = 10**RD, with
risk_i[s] the venue's P&L per unit of instrument i in scenario s (signed, |risk| < 2**RISK_BITS)
and som_i its short option minimum::

    E      = sum_j a_j * p_j * (RS - h_j) + RS * sum_i s_i * (m_i - e_i)      (as cross)
    loss_s = -sum_i s_i * risk_i[s]                  (value units; a gain is negative)
    floor  = sum_i max(-s_i, 0) * som_i              (only when the model's floor is on)
    Q      = RS * max(0, max_s loss_s, floor)
    check: D = E - Q - RS * T >= 0

In-circuit: the losses are shifted to unsigned, ``loss_s + 2**LOSS_BITS`` in [0, 2**(LOSS_BITS+1)),
and ``std.minmax.argmax_of`` picks the worst with a constrained one-hot selector that points at
the FIRST maximal scenario (the engine's binding scenario: first on ties); a lying selector
fails. The binding scenario's 0-based index is exposed as the private wire
``report/binding_scenario`` (``zkmargin.circuits.margin.report_values``), not as a public
input. Then max with the floor and with 0 by two unchecked comparisons of width LOSS_BITS + 1
(their inputs are in range: the argmax output is one of its range-checked elements, and
0 <= floor < 2**LOSS_BITS).

Scenario groups (SPAN's combined commodities, ``model.n_groups`` = G > 1): instrument i belongs to
group g_i (market data, ``groups[i]``); each group has its own losses, floor and worst scenario,
and Q = RS * sum_g max(0, max_s loss_{g,s}, floor_g). In-circuit, ``in_{i,g} = is_equal(g_i, g)``
(G per instrument, with ``sum_g in_{i,g} == 1`` so that no instrument can fall outside every group,
whatever the market vector), ``loss_{g,s} = -sum_i in_{i,g} * s_i * risk_i[s]``, and the argmax and
maxes above per group (scopes ``group[g]/...``; the binding scenario of group g is the private wire
``group[g]/report/binding_scenario``). With G = 1 the circuit is exactly the single-group one.

Bounds: |s_i * risk_i[s]| < 2**127 and at most 2**10 instruments, so |loss_s| < 2**137 =
2**LOSS_BITS; likewise 0 <= floor < 2**137 (max(-s, 0) < 2**63, som < 2**64); the groups partition
the instruments, so the same holds for every group and sum_g max(0, loss, floor) < 2**138. Q < 2**198,
|E| < 2**198, RS * T < 2**188: |D| < 2**199.

Per-instrument decimals (``decimals.instruments``, not with spreads): s_i above reads S_i = s_i *
10**(QD - q_i) (``gadgets.model_position``: |s| < 2**128 base units, notional and entry value capped
below 2**128) and |S_i| * R_i is range-checked below 2**128, with R_i = ``risk_bound`` (the largest
|risk_i[s]|, and som_i with the floor) from the market vector's ``risk_bounds`` segment, which the
loader derives from the document (bound by the market digest). Then every |S_i * risk_i[s]| and
max(-S_i, 0) * som_i is below 2**128, |loss|, floor < 2**138, and the losses are compared at width
``loss_bits(model) + 1`` = 139 + 1; Q < 2**199, |E| < 2**199, |D| < 2**200. Cost per instrument
``WIDE_POSITION_COST`` + 130 (the risk cap) instead of 132, and 2 more per scenario comparison.

Cost (``scenario_cost``): the shared statement; per instrument 132 (position) + 1 (uPnL) + S
(one product per scenario) + 1 with the floor on; per asset 65 + 2; the argmax over S losses
``S * (2 * 138 + 4) + 1``; 1 (binding wire); (140 + 1) per max (two with the floor, one without);
205 (final check). With G > 1 groups: per instrument also 2 * G (membership) + 1 (one group) +
G * S (group losses) + G with the floor on; the argmax, binding wire and maxes once per group.
"""

from __future__ import annotations

from typing import ClassVar

from zkmargin.margin.limits import LOSS_BITS, NOTIONAL_BITS
from zkmargin.margin.model import VenueModel

from ..api import API, Var
from ..std import minmax, rangecheck
from ..std.cmp import is_less_unchecked
from ..std.select import is_equal, select_unchecked
from . import gadgets
from .base import MarginCircuit, Segments, check_cost, statement_cost
from .collateral import collateral_cost, collateral_equity
from .span import spread_cost, spread_requirement

__all__ = ["ScenarioMargin", "scenario_cost", "BINDING_WIRE", "loss_bits", "RISK_CAP_COST"]

#: Name of the private wire holding the 0-based index of the binding (worst) scenario.
BINDING_WIRE = "report/binding_scenario"


def loss_bits(model: VenueModel) -> int:
    """Signed width of the losses and floors: LOSS_BITS (137), one more with per-instrument decimals
    (|S_i| * R_i < 2**128 per instrument, so |loss| and floor < 2**138)."""
    return LOSS_BITS + (1 if model.wide_sizes else 0)


#: Constraints of one instrument's risk cap with per-instrument decimals (|S| * R_i, 128 bits).
RISK_CAP_COST = NOTIONAL_BITS + 2


def scenario_cost(model: VenueModel) -> int:
    """Constraints of ``ScenarioMargin(model=model)`` (a test pins it against the compiled count)."""
    s, floor, g = model.n_scenarios, model.short_option_floor, model.n_groups
    width = loss_bits(model) + 1
    per_instrument = gadgets.position_cost(model) + 1 + s + (1 if floor else 0)
    if model.wide_sizes:
        per_instrument += RISK_CAP_COST
    if g > 1:
        per_instrument += 2 * g + 1 + g * s + (g if floor else 0)
    maxes = (2 if floor and model.spreads is None else 1) * (width + 3)
    per_group = s * (2 * width + 4) + 1 + 1 + maxes
    return (statement_cost(model) + model.n_instruments * per_instrument + collateral_cost(model)
            + g * per_group + check_cost(model) + spread_cost(model))


def _group_requirement(api: API, model: VenueModel, losses: list[Var], floor: Var | None) -> Var:
    """``max(0, max_s loss_s, floor)`` of one group (unscaled), with its binding scenario as a report wire."""
    shift, width = 1 << loss_bits(model), loss_bits(model) + 1
    with api.scope("worst"):
        worst, sel = minmax.argmax_of(api, [x + shift for x in losses], bits=width)
    with api.scope("report"):
        api.materialize(api.sum([s.scale(k) for k, s in enumerate(sel)]), label="binding_scenario")
    with api.scope("requirement"):
        # max(worst, floor, 0) on shifted values; inputs in [0, 2**width) (module docstring)
        m = worst
        if floor is not None:
            with api.scope("floor"):
                f = floor + shift
                m = select_unchecked(api, is_less_unchecked(api, m, f, bits=width), f, m)
        with api.scope("zero"):
            m = select_unchecked(api, is_less_unchecked(api, m, shift, bits=width), shift, m)
        return m - shift


class ScenarioMargin(MarginCircuit):
    """Scenario margin (module docstring). Public: commitment, market_digest, threshold, context."""

    kind: ClassVar[str] = "scenario"

    def margin(self, api: API, account: Segments, market: Segments) -> None:
        model = self.model
        rs, n_s = model.rate_scale, model.n_scenarios
        equity = api.const(0)
        equity = equity + collateral_equity(api, model, account, market)  # signed: borrowed balances
        n_g = model.n_groups
        losses = [[api.const(0) for _ in range(n_s)] for _ in range(n_g)]
        floors = [api.const(0) for _ in range(n_g)]
        sizes: list[Var] = []
        for i in range(model.n_instruments):
            with api.scope(f"position[{i}]"):
                pos = gadgets.model_position(api, model, i, account["sizes"][i], account["entries"][i],
                                             market["marks"][i])
                sizes.append(pos.size)
                if model.wide_sizes:  # |S| * R_i < 2**128 bounds every scenario P&L and floor term
                    with api.scope("risk_cap"):
                        rangecheck.assert_bits(api, api.mul(pos.magnitude, market["risk_bounds"][i], label="risk"),
                                               bits=NOTIONAL_BITS)
                equity = equity + gadgets.upnl_scaled(api, pos, market["marks"][i], rs)
                row = market["risk"][i]
                pnl = [api.mul(pos.size, row[sc], label=f"pnl[{sc}]") for sc in range(n_s)]
                som = (api.mul(pos.short_size(), market["short_option_minimums"][i], label="floor")
                       if model.short_option_floor else None)
                if n_g == 1:
                    losses[0] = [x - p for x, p in zip(losses[0], pnl, strict=True)]
                    if som is not None:
                        floors[0] = floors[0] + som
                    continue
                with api.scope("group"):
                    member = [is_equal(api, market["groups"][i], g) for g in range(n_g)]
                    api.assert_equal(api.sum(member), 1, label="one_group")
                    for g in range(n_g):
                        losses[g] = [x - api.mul(member[g], p, label=f"in[{g}]*pnl[{sc}]")
                                     for sc, (x, p) in enumerate(zip(losses[g], pnl, strict=True))]
                        if som is not None:
                            floors[g] = floors[g] + api.mul(member[g], som, label=f"in[{g}]*floor")
        floor_on = model.short_option_floor
        if model.spreads:  # SPAN spread charges and credits: circuits/margin/span.py
            scans = []
            for g in range(n_g):
                with api.scope(f"group[{g}]"):
                    scans.append(_group_requirement(api, model, losses[g], None))
            self.assert_statement(api, equity, spread_requirement(api, model, market, sizes, scans,
                                                                  floors if floor_on else None))
            return
        if n_g == 1:
            requirement = _group_requirement(api, model, losses[0], floors[0] if floor_on else None)
        else:
            requirement = api.const(0)
            for g in range(n_g):
                with api.scope(f"group[{g}]"):
                    floor = floors[g] if floor_on else None
                    requirement = requirement + _group_requirement(api, model, losses[g], floor)
        self.assert_statement(api, equity, requirement.scale(rs))
