"""Cross margin: one pool of collateral, after flat haircuts, against the whole portfolio.

The rule (``zkmargin.margin.engine._pooled``), scaled by RS = 10**RD, with a_j, p_j, h_j the
collateral amount, price and haircut of asset j and s_i, m_i, e_i the size, mark and entry of
instrument i::

    E = sum_j a_j * p_j * (RS - h_j) + RS * sum_i s_i * (m_i - e_i)
    Q = sum_i P_i(|s_i| * m_i)        P_i: maintenance: progressive over the instrument's rate
                                      brackets; initial: the rate of the notional's tier on the
                                      whole notional (``zkmargin.margin.engine``)
    check: D = E - Q - RS * T >= 0    (T: the public threshold, quote at QD + PD decimals)

Bounds (the loaders' limits; sizes, entries and amounts range-checked here; market values by the
digest precondition): a * p * (RS - h) < 2**188; |RS * s * (m - e)| < 2**187; |E| < 2**198 (at
most 2**10 slots); P_i(N) <= RS * N < 2**187, Q < 2**197; RS * T < 2**188; so |D| < 2**199 <
2**(SURPLUS_BITS - 1) and ``assert_surplus`` is exact.

Cost (``cross_cost``): the shared statement, plus per instrument 132 (position) + 2 (uPnL,
notional) + ``rate_requirement_cost(model)`` (``progressive_cost(K, 128)`` for maintenance,
``tier_rate_cost(K, 128)`` for initial), per asset 65 (amount) + 2, plus 205 (final check).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import ClassVar

from zkmargin.margin.limits import NOTIONAL_BITS
from zkmargin.margin.model import VenueModel

from ..api import API, Var
from . import gadgets
from .base import MarginCircuit, Segments, check_cost, statement_cost
from .collateral import collateral_cost, collateral_equity

__all__ = ["CrossMargin", "cross_cost", "rate_requirements", "rate_requirement_cost", "position_slot_cost"]

def position_slot_cost(model: VenueModel) -> int:
    """Constraints of one position slot besides its bracket schedule: ``gadgets.position_cost`` plus
    the uPnL (1) and the notional (1; 0 for a wide position, whose notional the caps computed)."""
    return gadgets.position_cost(model) + 1 + (0 if model.wide_sizes else 1)


def _basis_requirement(api: API, basis: str, market: Segments, i: int, n: Var) -> Var:
    if basis == "initial":
        return gadgets.tier_rate(api, n, market["rate_bounds"][i], market["initial_rates"][i], bits=NOTIONAL_BITS)
    return gadgets.progressive(api, n, market["rate_bounds"][i], market["maintenance_rates"][i], bits=NOTIONAL_BITS)


def rate_requirements(api: API, model: VenueModel, market: Segments, i: int, pos: gadgets.Position) -> dict[str, Var]:
    """Instrument i's requirement scaled by RS for each basis of ``model.bases`` (both for
    "initial+maintenance"), the notional computed once: initial, the initial rate of the notional's
    tier on the whole notional (``gadgets.tier_rate``); maintenance, ``P_i(|s_i| * m_i)`` over the
    marginal brackets.

    Cost: ``rate_requirement_cost(model)``.
    Soundness: the notional is below 2**128 (``gadgets.model_position``), within the 128-bit
        comparison width; bounds are the market's.
    """
    n = gadgets.notional(api, pos, market["marks"][i])
    out: dict[str, Var] = {}
    for basis in model.bases:
        with api.scope(basis) if len(model.bases) > 1 else nullcontext():
            out[basis] = _basis_requirement(api, basis, market, i, n)
    return out


def rate_requirement_cost(model: VenueModel) -> int:
    """Constraints of ``rate_requirements`` besides the notional (counted in ``position_slot_cost``)."""
    k = model.n_rate_brackets
    return sum(gadgets.tier_rate_cost(k, NOTIONAL_BITS) if b == "initial"
               else gadgets.progressive_cost(k, NOTIONAL_BITS) for b in model.bases)


def positions_upnl_and_requirement(api: API, model: VenueModel, account: Segments,
                                   market: Segments) -> tuple[Var, dict[str, Var]]:
    """(RS * sum of uPnL, the sum of rate requirements per basis of ``model.bases``) over every
    instrument slot, sizes and entries range-checked (shared by the cross and tiered models)."""
    rs = model.rate_scale
    upnl = api.const(0)
    requirement = {b: api.const(0) for b in model.bases}
    for i in range(model.n_instruments):
        with api.scope(f"position[{i}]"):
            pos = gadgets.model_position(api, model, i, account["sizes"][i], account["entries"][i], market["marks"][i])
            upnl = upnl + gadgets.upnl_scaled(api, pos, market["marks"][i], rs)
            for b, q in rate_requirements(api, model, market, i, pos).items():
                requirement[b] = requirement[b] + q
    return upnl, requirement


def cross_cost(model: VenueModel) -> int:
    """Constraints of ``CrossMargin(model=model)`` (a test pins it against the compiled count)."""
    return (statement_cost(model) + model.n_instruments * (position_slot_cost(model) + rate_requirement_cost(model))
            + collateral_cost(model) + check_cost(model))


class CrossMargin(MarginCircuit):
    """Cross margin (module docstring). Public: commitment, market_digest, threshold, context."""

    kind: ClassVar[str] = "cross"

    def margin(self, api: API, account: Segments, market: Segments) -> None:
        model = self.model
        equity = api.const(0)
        equity = equity + collateral_equity(api, model, account, market)  # signed: borrowed balances
        upnl, requirement = positions_upnl_and_requirement(api, model, account, market)
        self.assert_statement(api, equity + upnl, requirement)
