"""Flat-haircut collateral of the cross and scenario models, unsigned or signed (borrowed balances).

Unsigned (the default): each amount is range-checked to [0, 2**AMOUNT_BITS) and counts
``a * p * (RS - h)`` (``flat_collateral``): 65 + 2 = 67 constraints per asset.

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
"""

from __future__ import annotations

from zkmargin.margin.limits import AMOUNT_BITS
from zkmargin.margin.model import VenueModel

from ..api import API, Var, VarLike
from ..std import signed
from . import gadgets
from .base import Segments

__all__ = ["collateral_equity", "collateral_cost", "signed_flat_collateral", "SIGNED_COLLATERAL_COST"]

#: Constraints of one signed collateral slot (module docstring).
SIGNED_COLLATERAL_COST = AMOUNT_BITS + 3 + 3


def signed_flat_collateral(api: API, amount: VarLike, price: Var, haircut: Var, liability_weight: Var,
                           rs: int) -> Var:
    """``a * p * (RS - h)`` for a >= 0, ``a * p * lw`` for a < 0 (a signed amount of width AMOUNT_BITS).

    Cost: SIGNED_COLLATERAL_COST (70) constraints.
    Soundness: the amount is range-checked here (|a| < 2**AMOUNT_BITS) and its sign is a bit of
        that range check; precondition (market): price < 2**PRICE_BITS, haircut <= RS <= lw <=
        10 * RS.
    """
    with api.scope("amount"):
        neg = signed.sign(api, amount, bits=AMOUNT_BITS)
    value = api.mul(amount, price, label="amount*price")
    held = rs - haircut
    weight = held + api.mul(neg, liability_weight - held, label="weight")
    return api.mul(value, weight, label="value*weight")


def collateral_equity(api: API, model: VenueModel, account: Segments, market: Segments) -> Var:
    """The collateral part of the equity, scaled by RS: ``sum_j C_j`` over every asset slot.

    Unsigned: ``gadgets.checked_amount`` then ``a * p * (RS - h)`` (the constraints and labels the
    cross and scenario circuits always had); signed: ``signed_flat_collateral``.
    Cost: ``collateral_cost(model)``.
    """
    rs = model.rate_scale
    equity = api.const(0)
    for j in range(model.n_assets):
        with api.scope(f"asset[{j}]"):
            price, haircut = market["prices"][j], market["haircuts"][j]
            if model.signed_collateral:
                equity = equity + signed_flat_collateral(api, account["amounts"][j], price, haircut,
                                                         market["liability_weights"][j], rs)
            else:
                a = gadgets.checked_amount(api, account["amounts"][j])
                value = api.mul(a, price, label="amount*price")
                equity = equity + api.mul(value, rs - haircut, label="value*weight")
    return equity


def collateral_cost(model: VenueModel) -> int:
    """Constraints of ``collateral_equity``: 67 per asset unsigned, 70 signed."""
    return model.n_assets * (SIGNED_COLLATERAL_COST if model.signed_collateral else 65 + 2)
