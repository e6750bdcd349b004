"""Isolated margin: every held position carries its own margin and must pass on its own.

The rule (``zkmargin.margin.engine._isolated``), scaled by RS = 10**RD: for every slot i with
s_i != 0, with M_i the position's margin (value units, secret, < 2**VALUE_BITS)::

    D_i = RS * M_i + RS * s_i * (m_i - e_i) - P_i(|s_i| * m_i) - RS * T  >= 0

A slot with s_i = 0 is not held and not checked: ``active_i = 1 - is_zero(s_i)`` gates it, and
the circuit checks ``active_i * D_i`` in [0, 2**SURPLUS_BITS) (0 for an empty slot). With no held
position the check is vacuous, as in the engine.

Bounds: RS * M_i < 2**188, |RS * s * (m - e)| < 2**187, P_i < 2**187, RS * T < 2**188, so
|D_i| < 2**190 < 2**(SURPLUS_BITS - 1).

Statement forms (``parameters.statement``, ``requirement: "initial+maintenance"``; ``base.assert_statement``
with the gate): every held position's own ratio ``(M_i + uPnL_i) / P_i >= t`` (``ratio``; ``> t`` for
``ratio-above``), checked as ``active_i * (E_i * 10**4 - t * P_i) >= 0`` at RATIO_SURPLUS_BITS, and
both bases with two thresholds, each position against each (E_i, P_i < 2**191: the ratio bound holds).

Cost (``isolated_cost``): the shared statement, plus per slot 132 (position) + 129 (margin range
check) + 2 (is_zero) + 2 (uPnL, notional) + ``rate_requirement_cost(model)`` + per basis 1 (gate) +
``check_cost`` (205 each surplus, 239 ratio).
"""

from __future__ import annotations

from typing import ClassVar

from zkmargin.margin.limits import VALUE_BITS
from zkmargin.margin.model import VenueModel

from ..api import API
from ..std import rangecheck
from ..std.select import is_zero
from . import gadgets
from .base import MarginCircuit, Segments, check_cost, statement_cost
from .cross import position_slot_cost, rate_requirement_cost, rate_requirements

__all__ = ["IsolatedMargin", "isolated_cost"]


def isolated_cost(model: VenueModel) -> int:
    """Constraints of ``IsolatedMargin(model=model)`` (a test pins it against the compiled count)."""
    per_slot = (position_slot_cost(model) + (VALUE_BITS + 1) + 2 + rate_requirement_cost(model)
                + len(model.bases) + check_cost(model))
    return statement_cost(model) + model.n_instruments * per_slot


class IsolatedMargin(MarginCircuit):
    """Isolated margin (module docstring). Public: commitment, market_digest, threshold, context."""

    kind: ClassVar[str] = "isolated"

    def margin(self, api: API, account: Segments, market: Segments) -> None:
        model = self.model
        rs = model.rate_scale
        for i in range(model.n_instruments):
            with api.scope(f"position[{i}]"):
                pos = gadgets.model_position(api, model, i, account["sizes"][i], account["entries"][i],
                                             market["marks"][i])
                m = account["margins"][i]
                with api.scope("margin"):
                    rangecheck.assert_bits(api, m, bits=VALUE_BITS)
                active = 1 - is_zero(api, pos.magnitude)
                equity = m.scale(rs) + gadgets.upnl_scaled(api, pos, market["marks"][i], rs)
                self.assert_statement(api, equity, rate_requirements(api, model, market, i, pos), gate=active)
