"""Cross margin with collateral valued by haircut tiers (concentration haircuts).

As ``cross`` except the collateral: asset j's value V_j = a_j * p_j counts progressively over the
asset's tiers, at weight RS - haircut_{j,b} on the part of V_j inside tier b
(``zkmargin.margin.engine._tier_value``)::

    E = sum_j P_tiers_j(a_j * p_j) + RS * sum_i s_i * (m_i - e_i)
    Q = sum_i R_i(|s_i| * m_i)        R_i: as in ``cross`` (initial: tier rate; maintenance: marginal)
    check: D = E - Q - RS * T >= 0

Bounds: V_j = a_j * p_j < 2**128 (the tier comparison width, NOTIONAL_BITS), tier bounds below
2**VALUE_BITS = 2**128 (market); P_tiers_j(V) <= RS * V < 2**188; the rest as ``cross``:
|D| < 2**199.

Cost (``tiered_cost``): the shared statement, per instrument as ``cross``, per asset 65 + 1
(value) + ``progressive_cost(T, 128)``, plus 205.

Signed collateral (``parameters.signed_collateral``, unified accounts): an amount may be negative, a
borrowed balance; its sign is a bit of the amount's own range check (``signed.sign``), and with V the
signed value and |V| = V * (1 - 2 * neg) < 2**128 (the schedule's comparison width)::

    C_j = (1 - neg) * P_tiers_j(|V|) - neg * |V| * lw_j

so a held balance counts through its tiers and a borrowed one at its liability weight (>= RS), as in
the engine (``_pooled``). |C_j| < 2**191.12 as for cross (``circuits.margin.collateral``). Cost per asset
AMOUNT_BITS + 3 (sign) + 1 (value) + 1 (|V|) + 1 (|V| * lw) + 1 (select) = 71 + the schedule (wide:
WIDE_SIGNED_VALUE_COST + 3 + the schedule).

Per-symbol decimals (``decimals.assets``): V_j = a_j * p_j * 10**(QD - q_j) with a_j < 2**128 base
units of the asset's own decimals, range-checked below 2**128 (``collateral.wide_asset_value``: the
value cap, so the schedule's 128-bit comparison width and every bound above hold as derived); per
asset ``WIDE_VALUE_COST`` (259) + ``progressive_cost(T, 128)`` instead of 66 + the schedule.
"""

from __future__ import annotations

from typing import ClassVar

from zkmargin.margin.limits import NOTIONAL_BITS
from zkmargin.margin.model import VenueModel

from ..api import API
from . import gadgets
from .base import MarginCircuit, Segments, check_cost, statement_cost
from .collateral import asset_value, asset_value_cost
from .cross import position_slot_cost, positions_upnl_and_requirement, rate_requirement_cost

__all__ = ["TieredMargin", "tiered_cost"]


def tiered_cost(model: VenueModel) -> int:
    """Constraints of ``TieredMargin(model=model)`` (a test pins it against the compiled count)."""
    return (statement_cost(model)
            + model.n_instruments * (position_slot_cost(model) + rate_requirement_cost(model))
            + model.n_assets * (asset_value_cost(model) + (3 if model.signed_collateral else 0)
                                + gadgets.progressive_cost(model.n_tiers, NOTIONAL_BITS))
            + check_cost(model))


class TieredMargin(MarginCircuit):
    """Tiered-collateral cross margin (module docstring). Public: commitment, market_digest, threshold, context."""

    kind: ClassVar[str] = "tiered"

    def margin(self, api: API, account: Segments, market: Segments) -> None:
        model = self.model
        rs = model.rate_scale
        equity = api.const(0)
        for j in range(model.n_assets):
            with api.scope(f"asset[{j}]"):
                value, neg = asset_value(api, model, j, account["amounts"][j], market["prices"][j])
                if neg is not None:  # |V|: the schedule reads the magnitude; a borrowed balance skips it
                    value = api.mul(value, 1 - 2 * neg, label="|value|")
                weights = [rs - h for h in market["tier_haircuts"][j]]
                with api.scope("tiers"):
                    held = gadgets.progressive(api, value, market["tier_bounds"][j], weights, bits=NOTIONAL_BITS)
                if neg is None:
                    equity = equity + held
                else:
                    borrowed = api.mul(value, market["liability_weights"][j], label="|value|*weight")
                    equity = equity + held - api.mul(neg, held + borrowed, label="select")
        upnl, requirement = positions_upnl_and_requirement(api, model, account, market)
        self.assert_statement(api, equity + upnl, requirement)
