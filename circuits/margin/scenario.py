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

Bounds: |s_i * risk_i[s]| < 2**127 and at most 2**10 instruments, so |loss_s| < 2**137 =
2**LOSS_BITS; likewise 0 <= floor < 2**137 (max(-s, 0) < 2**63, som < 2**64). Q < 2**197,
|E| < 2**198, RS * T < 2**188: |D| < 2**199.

Cost (``scenario_cost``): the shared statement; per instrument 132 (position) + 1 (uPnL) + S
(one product per scenario) + 1 with the floor on; per asset 65 + 2; the argmax over S losses
``S * (2 * 138 + 4) + 1``; 1 (binding wire); (140 + 1) per max (two with the floor, one without);
205 (final check).
"""

from __future__ import annotations

from typing import ClassVar

from zkmargin.margin.limits import LOSS_BITS
from zkmargin.margin.model import VenueModel

from ..api import API
from ..std import minmax
from ..std.cmp import is_less_unchecked
from ..std.select import select_unchecked
from . import gadgets
from .base import MarginCircuit, Segments, statement_cost
from .cross import flat_collateral

__all__ = ["ScenarioMargin", "scenario_cost", "BINDING_WIRE"]

#: Name of the private wire holding the 0-based index of the binding (worst) scenario.
BINDING_WIRE = "report/binding_scenario"

_SHIFT = 1 << LOSS_BITS
_WIDTH = LOSS_BITS + 1


def scenario_cost(model: VenueModel) -> int:
    """Constraints of ``ScenarioMargin(model=model)`` (a test pins it against the compiled count)."""
    s, floor = model.n_scenarios, model.short_option_floor
    per_instrument = 132 + 1 + s + (1 if floor else 0)
    maxes = (2 if floor else 1) * (_WIDTH + 3)
    return (statement_cost(model) + model.n_instruments * per_instrument + model.n_assets * (65 + 2)
            + s * (2 * _WIDTH + 4) + 1 + 1 + maxes + gadgets.SURPLUS_COST)


class ScenarioMargin(MarginCircuit):
    """Scenario margin (module docstring). Public: commitment, market_digest, threshold, context."""

    kind: ClassVar[str] = "scenario"

    def margin(self, api: API, account: Segments, market: Segments) -> None:
        model = self.model
        rs, n_s = model.rate_scale, model.n_scenarios
        equity = api.const(0)
        for j in range(model.n_assets):
            with api.scope(f"asset[{j}]"):
                a = gadgets.checked_amount(api, account["amounts"][j])
                equity = equity + flat_collateral(api, a, market["prices"][j], market["haircuts"][j], rs)
        losses = [api.const(0) for _ in range(n_s)]
        floor = api.const(0)
        for i in range(model.n_instruments):
            with api.scope(f"position[{i}]"):
                pos = gadgets.checked_position(api, account["sizes"][i], account["entries"][i])
                equity = equity + gadgets.upnl_scaled(api, pos, market["marks"][i], rs)
                row = market["risk"][i]
                for sc in range(n_s):
                    losses[sc] = losses[sc] - api.mul(pos.size, row[sc], label=f"pnl[{sc}]")
                if model.short_option_floor:
                    floor = floor + api.mul(pos.short_size(), market["short_option_minimums"][i], label="floor")
        with api.scope("worst"):
            worst, sel = minmax.argmax_of(api, [x + _SHIFT for x in losses], bits=_WIDTH)
        with api.scope("report"):
            api.materialize(api.sum([s.scale(k) for k, s in enumerate(sel)]), label="binding_scenario")
        with api.scope("requirement"):
            # max(worst, floor, 0) on shifted values; inputs in [0, 2**_WIDTH) (module docstring)
            m = worst
            if model.short_option_floor:
                with api.scope("floor"):
                    f = floor + _SHIFT
                    m = select_unchecked(api, is_less_unchecked(api, m, f, bits=_WIDTH), f, m)
            with api.scope("zero"):
                m = select_unchecked(api, is_less_unchecked(api, m, _SHIFT, bits=_WIDTH), _SHIFT, m)
            requirement = (m - _SHIFT).scale(rs)
        gadgets.assert_surplus(api, equity - requirement - self.threshold.scale(rs))
