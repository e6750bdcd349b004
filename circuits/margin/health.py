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

Per-symbol decimals (``decimals.assets``; ``zkmargin.margin.limits`` re-derives the bounds): Z_j =
10**(q_j + PD - BD) is a compile-time constant per slot; amounts are range-checked to 128 bits
(2 * 129 per asset) and each value quotient to 128 bits (``_value``: a product of up to 2**192
whose quotient must stay below 2**WIDE_VALUE_BITS), so everything after the per-asset values keeps
the 64-bit derivation above.

The Aave formulas (``model.health_formula``, the engine's docstring has them): aave-v3.5 checks
``S * WAD + floor(D / 2) - h * RS * D >= 0`` (one division of D by 2, the final check at
AAVE_SURPLUS_BITS = 218 since S * WAD < 2**212 and h * RS * D < 2**216 with RD <= 4, HD <= 18);
aave-v3 floors the debts, divides S by the collateral total C (a wire: ``gadgets.div_floor_wire``,
quotient <= RS), ``X = floor((C * L + floor(RS / 2)) / RS)``, and checks ``X * WAD + floor(D / 2)
- h * D >= 0`` (|.| < 2**203). No debt passes in both (D = 0 leaves a non-negative left side).
"""

from __future__ import annotations

from typing import ClassVar

from zkmargin.margin.engine import health_divisor
from zkmargin.margin.limits import AMOUNT_BITS, PRICE_BITS, WIDE_AMOUNT_BITS, WIDE_VALUE_BITS
from zkmargin.margin.model import VenueModel

from ..api import API, Var
from ..std import rangecheck, select
from . import gadgets
from .base import MarginCircuit, Segments, statement_cost

__all__ = ["HealthFactor", "health_cost", "health_bounds", "emode_thresholds", "emode_cost", "AAVE_SURPLUS_BITS"]

#: Width of the aave-v3.5 final check (module docstring).
AAVE_SURPLUS_BITS = 218


def _asset_bounds(model: VenueModel, j: int) -> tuple[int, int, int, int]:
    """(Z_j, n_max, cv_max, dv_max) of asset slot j: its divisor, the bound handed to the division
    (the largest product, or with per-symbol decimals the largest product whose quotient is below
    2**WIDE_VALUE_BITS), and the largest collateral and debt values the circuit admits."""
    z = health_divisor(model, j)
    if not model.per_symbol_decimals:
        pmax = ((1 << AMOUNT_BITS) - 1) * ((1 << PRICE_BITS) - 1)
        return z, pmax, pmax // z, -(-pmax // z)
    cap = (1 << WIDE_VALUE_BITS) - 1
    pmax = ((1 << WIDE_AMOUNT_BITS) - 1) * ((1 << PRICE_BITS) - 1)
    return z, min(pmax, cap * z), min(pmax // z, cap), min(-(-pmax // z), cap)


def _debt_max(model: VenueModel) -> int:
    return sum(_asset_bounds(model, j)[3] for j in range(model.n_assets))


def _collateral_bits(model: VenueModel) -> int:
    return sum(_asset_bounds(model, j)[2] for j in range(model.n_assets)).bit_length()


def health_bounds(model: VenueModel) -> tuple[int, int, int, int]:
    """(Z, product_max, RS, weighted_sum_max) of the first asset slot and the rule: the divisor and
    the numerator bounds (with per-symbol decimals Z and product_max are per slot: ``_asset_bounds``)."""
    z, n_max, _, _ = _asset_bounds(model, 0)
    smax = sum(_asset_bounds(model, j)[2] for j in range(model.n_assets)) * model.rate_scale
    return z, n_max, model.rate_scale, smax


def _value_cost(model: VenueModel, j: int, ceil: bool) -> int:
    z, n_max, _, _ = _asset_bounds(model, j)
    wide_exact = model.per_symbol_decimals and z == 1  # no division: the product itself is range-checked
    return WIDE_VALUE_BITS + 1 if wide_exact else gadgets.div_const_cost(z, n_max, ceil=ceil)


def _value(api: API, model: VenueModel, j: int, product: Var, ceil: bool) -> Var:
    """floor (ceil) of product / Z_j: the asset's value in base-currency units.

    With per-symbol decimals the quotient is range-checked to WIDE_VALUE_BITS (128) even though
    the product may reach 2**192: the division's equation ``n == q * Z + rem`` (``n + rem == q * Z``)
    then has both sides below 2**192 + 2**248 < r, so it holds over the integers and q is the true
    quotient; an account whose value is 2**128 or more has no witness (the engine refuses it too).
    With Z_j = 1 the product is the value and is range-checked itself.
    """
    z, n_max, _, _ = _asset_bounds(model, j)
    if model.per_symbol_decimals and z == 1:
        with api.scope("value"):
            rangecheck.assert_bits(api, product, bits=WIDE_VALUE_BITS)
        return product
    if ceil:
        return gadgets.div_ceil_const(api, product, z, n_max)
    return gadgets.div_floor_const(api, product, z, n_max)


def emode_cost(model: VenueModel) -> int:
    """Constraints of ``emode_thresholds``: 0 without e-mode; with C categories and n_A assets
    2C (selectors) + 1 (the category recomposed) + C (its threshold) + n_A * (C + 1)."""
    c = model.n_emode
    return 0 if c == 0 else 3 * c + 1 + model.n_assets * (c + 1)


def emode_thresholds(api: API, model: VenueModel, account: Segments, market: Segments) -> list[Var]:
    """Each asset's liquidation threshold for this account (``zkmargin.margin.engine._health``).

    Without e-mode the market's. With C categories the account's category e (a secret account
    value) gives selectors ``s_c = [e == c]`` (``is_equal``: exact whatever its hint says) and
    ``e == sum_c c * s_c``, so e lies in [0, C] (a value outside has every s_c = 0 and fails);
    the category's threshold ``lt_e = sum_c s_c * lt_c`` and per asset ``m_j = sum_c s_c *
    member[j][c]`` (0 or 1: at most one s_c is 1 and the market's bits are 0/1, bound by its
    digest), ``lt'_j = lt_j + m_j * (lt_e - lt_j)``. Cost: ``emode_cost(model)``.
    """
    lts = list(market["liquidation_thresholds"])
    c_max = model.n_emode
    if c_max == 0:
        return lts
    with api.scope("emode"):
        e = account["emode"][0]
        sel = []
        for c in range(1, c_max + 1):
            with api.scope(f"category[{c}]"):
                sel.append(select.is_equal(api, e, c))
        api.assert_equal(sum((s.scale(c) for c, s in enumerate(sel, start=1)), api.const(0)), e, label="in_range")
        lt_e = api.const(0)
        for c, s in enumerate(sel):
            lt_e = lt_e + api.mul(s, market["emode_thresholds"][c], label=f"lt[{c + 1}]")
        out = []
        for j in range(model.n_assets):
            with api.scope(f"asset[{j}]"):
                m = api.const(0)
                for c, s in enumerate(sel):
                    m = m + api.mul(s, market["emode_collateral"][j][c], label=f"member[{c + 1}]")
                out.append(lts[j] + api.mul(m, lt_e - lts[j], label="lt"))
        return out


def health_cost(model: VenueModel) -> int:
    """Constraints of ``HealthFactor(model=model)`` (a test pins it against the compiled count)."""
    _, _, rs, smax = health_bounds(model)
    formula = model.health_formula
    amount = (WIDE_AMOUNT_BITS if model.per_symbol_decimals else AMOUNT_BITS) + 1
    per_asset = sum(2 * amount + 2 + _value_cost(model, j, False) + _value_cost(model, j, formula != "aave-v3") + 1
                    for j in range(model.n_assets))
    base = statement_cost(model) + per_asset + 1 + emode_cost(model)
    if formula == "floor-weighted":
        return base + gadgets.div_const_cost(rs, smax) + gadgets.SURPLUS_COST
    half = gadgets.div_const_cost(2, _debt_max(model))
    if formula == "aave-v3.5":
        return base + half + AAVE_SURPLUS_BITS + 1
    c_bits = _collateral_bits(model)
    percent = gadgets.div_const_cost(rs, ((1 << c_bits) - 1) * rs + rs // 2)
    return (base + gadgets.div_floor_wire_cost(rs.bit_length(), c_bits) + 1 + percent + half
            + gadgets.SURPLUS_COST)


class HealthFactor(MarginCircuit):
    """Health-factor check (module docstring). Public: commitment, market_digest, threshold (h), context."""

    kind: ClassVar[str] = "health"

    def margin(self, api: API, account: Segments, market: Segments) -> None:
        model = self.model
        _, _, rs, smax = health_bounds(model)
        formula, wad = model.health_formula, 10**model.health_decimals
        bits = WIDE_AMOUNT_BITS if model.per_symbol_decimals else AMOUNT_BITS
        weighted, debt, collateral = api.const(0), api.const(0), api.const(0)
        lts = emode_thresholds(api, model, account, market)
        for j in range(model.n_assets):
            with api.scope(f"asset[{j}]"):
                price = market["prices"][j]
                with api.scope("collateral"):
                    a = gadgets.checked_amount(api, account["collateral"][j], bits=bits)
                    cv = _value(api, model, j, api.mul(a, price, label="amount*price"), ceil=False)
                with api.scope("debt"):
                    d = gadgets.checked_amount(api, account["debts"][j], bits=bits)
                    dv = _value(api, model, j, api.mul(d, price, label="amount*price"), ceil=formula != "aave-v3")
                weighted = weighted + api.mul(cv, lts[j], label="cv*lt")
                debt = debt + dv
                collateral = collateral + cv
        h_debt = api.mul(self.threshold, debt, label="h*debt")
        if formula == "floor-weighted":
            with api.scope("weighted"):
                w = gadgets.div_floor_const(api, weighted, rs, smax)
            gadgets.assert_surplus(api, w.scale(wad) - h_debt)
            return
        with api.scope("half_debt"):
            half = gadgets.div_floor_const(api, debt, 2, _debt_max(model))  # wadDiv rounds half up
        if formula == "aave-v3.5":
            gadgets.assert_surplus(api, weighted.scale(wad) + half - h_debt.scale(rs), bits=AAVE_SURPLUS_BITS)
            return
        c_bits = _collateral_bits(model)
        with api.scope("avg_liquidation_threshold"):  # floor(S / C): the earlier V3 floors it first
            avg = gadgets.div_floor_wire(api, weighted, collateral, q_bits=rs.bit_length(), d_bits=c_bits)
        with api.scope("percent_mul"):  # floor((C * L + RS / 2) / RS)
            x = gadgets.div_floor_const(api, api.mul(collateral, avg, label="C*L") + rs // 2, rs,
                                        ((1 << c_bits) - 1) * rs + rs // 2)
        gadgets.assert_surplus(api, x.scale(wad) + half - h_debt)
