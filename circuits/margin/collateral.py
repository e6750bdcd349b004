"""Flat-haircut collateral of the cross and scenario models, unsigned or signed (borrowed balances).

Unsigned (the default): each amount is range-checked to [0, 2**AMOUNT_BITS) and counts
``a * p * (RS - h)`` (``collateral_equity``): 65 + 2 = 67 constraints per asset.

Signed collateral (``model.signed_collateral``, header index 14 = 1; unified accounts: Mango v4's
health, 01's account value, portfolio-margin accounts): an amount may be negative, a borrowed
balance, encoded ``v mod r`` (``zkmargin.circuits.std.signed``). Per asset::

    neg  = sign(a)                      the top bit of the (bits + 1)-bit decomposition of
                                        a + 2**64: range-checks |a| < 2**64 and fixes the sign
    w    = (RS - h) + neg * (lw - (RS - h))   the haircut weight for a held balance, the
                                        liability weight lw (>= RS, market) for a borrowed one
    C    = (a * p) * w                  a signed product: a borrowed balance counts negative

The sign is not a free hint: it is a bit of the unique decomposition of a + 2**64 < 2**65 < r
(``signed.sign``; the one value outside the encoding, -2**64, is excluded there), so a prover
cannot call a borrowed balance held (to earn the lower weight) or wrap a negative amount into a
huge positive one. Bounds (``zkmargin.margin.limits``): |a * p| < 2**128, w <= 10 * RS < 2**63.12,
|C| < 2**191.12; the models' final |D| stays below 2**202 < 2**(SURPLUS_BITS - 1).
Cost: AMOUNT_BITS + 3 (sign) + 3 (value, weight select, product) = 70 constraints per asset.

Per-symbol decimals (``model.per_symbol_decimals``: ``decimals.assets``, issue 12 point 1): asset j's
amount is in base units of its own q_j <= QD (the loader), up to 2**WIDE_AMOUNT_BITS (128) of them,
and its value in the model's value unit 10**-(QD+PD) is ``V_j = a_j * p_j * 10**(QD - q_j)`` (the
scale a compile-time constant, free). The amount is range-checked to 128 bits (signed: |a| < 2**128,
its sign a bit of that check) and the value is range-checked to |V_j| < 2**WIDE_VALUE_BITS (128): the
value cap. With it every later bound is the one derived above for 64-bit amounts (there V_j =
a * p < 2**128 by construction): C_j = V_j * (RS - h) < 2**188 (signed |V_j * w| < 2**191.12), the
tiered schedule's value below its 128-bit comparison width. Without the cap a_j * p_j * 10**(QD -
q_j) could reach 2**(128 + 64 + 60) = 2**252 and C_j would wrap. No wrap before the check:
|a_j * p_j * 10**(QD-q_j)| < 2**252 < r, so the checked V_j is the integer value; an account with a
value at or over the cap is outside the model (the engine raises SchemaError, no witness exists).
Cost per asset: unsigned 129 (amount) + 1 (product) + 129 (cap) + 1 (weight) = 260; signed 131
(amount, sign) + 1 (product) + 131 (cap, signed) + 2 (weight select, product) = 265.
"""

from __future__ import annotations

from zkmargin.margin.limits import AMOUNT_BITS, WIDE_AMOUNT_BITS, WIDE_VALUE_BITS
from zkmargin.margin.model import VenueModel

from ..api import API, Var, VarLike
from ..std import rangecheck, signed
from . import gadgets
from .base import Segments

__all__ = ["collateral_equity", "collateral_cost", "SIGNED_COLLATERAL_COST", "asset_scale", "asset_value",
           "asset_value_cost", "wide_asset_value", "WIDE_VALUE_COST", "WIDE_SIGNED_VALUE_COST"]

#: Constraints of one signed collateral slot (module docstring).
SIGNED_COLLATERAL_COST = AMOUNT_BITS + 3 + 3
#: Per-symbol decimals: the constraints of ``wide_asset_value`` (amount 129, product 1, cap 129).
WIDE_VALUE_COST = WIDE_AMOUNT_BITS + 1 + 1 + WIDE_VALUE_BITS + 1
#: ... signed (amount and its sign 131, product 1, signed cap 131).
WIDE_SIGNED_VALUE_COST = WIDE_AMOUNT_BITS + 3 + 1 + WIDE_VALUE_BITS + 3


def asset_scale(model: VenueModel, j: int) -> int:
    """10**(QD - q_j): what turns amount * price of asset slot j into the model's value unit
    10**-(QD+PD) (``VenueModel.asset_scale``; 1 without per-symbol decimals, and for padding slots)."""
    return model.asset_scale(j)


def wide_asset_value(api: API, model: VenueModel, j: int, amount: VarLike, price: Var) -> tuple[Var, Var | None]:
    """(V_j, sign) for a model with per-symbol decimals (module docstring): the amount range-checked
    to 128 bits (signed collateral: |a| < 2**128 and its sign, else sign None), V_j = a * p * 10**(QD
    - q_j) range-checked below 2**WIDE_VALUE_BITS (signed: |V_j|).

    Cost: WIDE_VALUE_COST (259) unsigned, WIDE_SIGNED_VALUE_COST (263) signed.
    Soundness: precondition (market) price < 2**PRICE_BITS; |a * p * scale| < 2**252 < r before the
        cap, so the cap bounds the integer value (no wrap).
    """
    neg: Var | None = None
    with api.scope("amount"):
        if model.signed_collateral:
            neg = signed.sign(api, amount, bits=WIDE_AMOUNT_BITS)
        else:
            rangecheck.assert_bits(api, amount, bits=WIDE_AMOUNT_BITS)
    value = api.mul(amount, price, label="amount*price")
    scale = asset_scale(model, j)
    if scale != 1:
        value = value.scale(scale)
    with api.scope("value_cap"):
        if model.signed_collateral:
            signed.sign(api, value, bits=WIDE_VALUE_BITS)
        else:
            rangecheck.assert_bits(api, value, bits=WIDE_VALUE_BITS)
    return value, neg


def asset_value(api: API, model: VenueModel, j: int, amount: VarLike, price: Var) -> tuple[Var, Var | None]:
    """(V_j, sign) of asset slot j, the amount range-checked: with per-symbol decimals
    ``wide_asset_value``; signed collateral the sign of the amount (the top bit of its AMOUNT_BITS
    range check: |a| < 2**64) and a * p; else the amount in [0, 2**AMOUNT_BITS) and a * p, sign None.
    The one reading of a collateral slot the cross, scenario and tiered circuits share.

    Cost: ``asset_value_cost(model)``.
    Soundness: the amount is range-checked here and its sign is a bit of that check (a prover cannot
        call a borrowed balance held); precondition (market): price < 2**PRICE_BITS.
    """
    if model.per_symbol_decimals:
        return wide_asset_value(api, model, j, amount, price)
    if model.signed_collateral:
        with api.scope("amount"):
            neg = signed.sign(api, amount, bits=AMOUNT_BITS)
        return api.mul(amount, price, label="amount*price"), neg
    a = gadgets.checked_amount(api, amount)
    return api.mul(a, price, label="amount*price"), None


def asset_value_cost(model: VenueModel) -> int:
    """Constraints of ``asset_value``: 66 unsigned, 68 signed; per-symbol decimals WIDE_VALUE_COST (259)
    or WIDE_SIGNED_VALUE_COST (263)."""
    if model.per_symbol_decimals:
        return WIDE_SIGNED_VALUE_COST if model.signed_collateral else WIDE_VALUE_COST
    return AMOUNT_BITS + (3 if model.signed_collateral else 1) + 1


def collateral_equity(api: API, model: VenueModel, account: Segments, market: Segments) -> Var:
    """The collateral part of the equity, scaled by RS: ``sum_j C_j`` over every asset slot, each
    ``V_j * w_j`` (``asset_value``) with the weight ``w_j = RS - h_j`` for a held balance and, signed,
    ``w_j = (RS - h_j) + neg_j * (lw_j - (RS - h_j))``: the liability weight for a borrowed one.

    Cost: ``collateral_cost(model)``.
    Soundness: precondition (market) haircut <= RS <= lw <= 10 * RS; bounds in the module docstring.
    """
    rs = model.rate_scale
    equity = api.const(0)
    for j in range(model.n_assets):
        with api.scope(f"asset[{j}]"):
            value, neg = asset_value(api, model, j, account["amounts"][j], market["prices"][j])
            held = rs - market["haircuts"][j]
            weight = held if neg is None else held + api.mul(neg, market["liability_weights"][j] - held,
                                                             label="weight")
            equity = equity + api.mul(value, weight, label="value*weight")
    return equity


def collateral_cost(model: VenueModel) -> int:
    """Constraints of ``collateral_equity``: 67 per asset unsigned, 70 signed; with per-symbol
    decimals 260 unsigned, 265 signed (``wide_asset_value`` plus the weight)."""
    return model.n_assets * (asset_value_cost(model) + (2 if model.signed_collateral else 1))
