"""Health factor (lending): weighted collateral must cover h times the debt.

The rule (``zkmargin.margin.engine._health``), with a_j, d_j the collateral and debt amounts of
asset j, p_j its price, lt_j its liquidation threshold (10**-RD, RS = 10**RD), Z = 10**(QD + PD -
BD) and h the public threshold (the required health factor, HD decimals)::

    cv_j = floor(a_j * p_j / Z)           collateral value, rounded down
    dv_j = ceil(d_j * p_j / Z)            debt value, rounded up
    W    = floor(sum_j cv_j * lt_j / RS)  weighted collateral, rounded down once
    D    = sum_j dv_j
    check: W * 10**HD - h * D >= 0

Each floor / ceil is a hinted quotient with a range-checked remainder
(``gadgets.div_floor_const`` / ``div_ceil_const``): ``a * p == cv * Z + rem``,
``d * p + rem == dv * Z``, ``sum cv * lt == W * RS + rem``, each ``0 <= rem < divisor`` and the
quotient range-checked to the width of its largest honest value; a lying quotient fails. With
Z = 1 (or RS = 1) the division is exact and costs nothing.

Bounds: a * p, d * p <= (2**64 - 1)**2 < 2**128, so cv, dv < 2**128 / Z; sum cv * lt <=
n_A * cv_max * RS < 2**198; W <= n_A * cv_max < 2**138; W * 10**HD < 2**198; h < 2**64 (range-
checked public input), h * D < 2**202; |W * 10**HD - h * D| < 2**203 < 2**(SURPLUS_BITS - 1).

Cost (``health_cost``): the shared statement; per asset 2 * 65 (amounts) + 2 (products) +
2 * ``div_const_cost(Z, (2**64 - 1)**2)`` (floor and ceil) + 1 (cv * lt); one division by RS;
1 (h * D); 205 (final check).
"""

from __future__ import annotations

from typing import ClassVar

from zkmargin.margin.limits import AMOUNT_BITS, PRICE_BITS
from zkmargin.margin.model import VenueModel

from ..api import API
from . import gadgets
from .base import MarginCircuit, Segments, statement_cost

__all__ = ["HealthFactor", "health_cost", "health_bounds"]


def health_bounds(model: VenueModel) -> tuple[int, int, int, int]:
    """(Z, product_max, RS, weighted_sum_max): the divisors and the numerator bounds of the rule."""
    z = 10 ** (model.value_decimals - model.base_decimals)
    product_max = ((1 << AMOUNT_BITS) - 1) * ((1 << PRICE_BITS) - 1)
    cv_max = product_max // z
    return z, product_max, model.rate_scale, model.n_assets * cv_max * model.rate_scale


def health_cost(model: VenueModel) -> int:
    """Constraints of ``HealthFactor(model=model)`` (a test pins it against the compiled count)."""
    z, pmax, rs, smax = health_bounds(model)
    per_asset = 2 * 65 + 2 + gadgets.div_const_cost(z, pmax) + gadgets.div_const_cost(z, pmax, ceil=True) + 1
    return (statement_cost(model) + model.n_assets * per_asset + gadgets.div_const_cost(rs, smax) + 1
            + gadgets.SURPLUS_COST)


class HealthFactor(MarginCircuit):
    """Health-factor check (module docstring). Public: commitment, market_digest, threshold (h), context."""

    kind: ClassVar[str] = "health"

    def margin(self, api: API, account: Segments, market: Segments) -> None:
        model = self.model
        z, pmax, rs, smax = health_bounds(model)
        weighted, debt = api.const(0), api.const(0)
        for j in range(model.n_assets):
            with api.scope(f"asset[{j}]"):
                price = market["prices"][j]
                with api.scope("collateral"):
                    a = gadgets.checked_amount(api, account["collateral"][j])
                    cv = gadgets.div_floor_const(api, api.mul(a, price, label="amount*price"), z, pmax)
                with api.scope("debt"):
                    d = gadgets.checked_amount(api, account["debts"][j])
                    dv = gadgets.div_ceil_const(api, api.mul(d, price, label="amount*price"), z, pmax)
                weighted = weighted + api.mul(cv, market["liquidation_thresholds"][j], label="cv*lt")
                debt = debt + dv
        with api.scope("weighted"):
            w = gadgets.div_floor_const(api, weighted, rs, smax)
        h_debt = api.mul(self.threshold, debt, label="h*debt")
        gadgets.assert_surplus(api, w.scale(10**model.health_decimals) - h_debt)
