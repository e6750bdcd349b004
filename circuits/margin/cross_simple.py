"""A first cross-margin circuit (the walking skeleton's demo).

One pool of collateral backs every position:

    equity      = sum_j amount_j * price_j * (1 - haircut_j) + sum_i size_i * (mark_i - entry_i)
    requirement = sum_i |size_i| * mark_i * rate_i
    statement:    equity - requirement >= threshold

Units (all integers): quantities (collateral amounts and signed position sizes) in base units,
prices in quote units per base unit with the same scale everywhere, haircuts and margin rates in
basis points (1/10,000). To stay exact, both sides are compared scaled by 10,000:

    E = 10^4 * equity      = sum amount*price*(10^4 - haircut) + 10^4 * sum size*(mark - entry)
    Q = 10^4 * requirement = sum |size| * mark * rate
    assert E - Q - 10^4 * threshold in [0, 2^SURPLUS_BITS)

Bounds (documented, and enforced by range checks): amounts, entries, marks, prices < 2^64;
|size| < 2^63; haircut, rate <= 10^4; threshold < 2^128; at most 2^10 positions plus assets.
Then every term is below 2^142, E and Q below 2^152, and E - Q - 10^4*threshold lies in
(-2^155, 2^155). A negative difference is r - |d| > 2^253 as a field element, so the final range
check with SURPLUS_BITS = 160 rejects it: a prover cannot wrap a shortfall around the field.

Positions and collateral are secret; prices, haircuts, marks, rates and the threshold are public.
The full models (commitment, market digest, context) are in the margin-model modules.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..api import API
from ..circuit import Circuit, param, public, secret
from ..std import cmp, rangecheck, signed

__all__ = ["CrossMarginSimple", "cross_simple_report", "CrossReport", "BPS", "SURPLUS_BITS"]

BPS = 10_000
AMOUNT_BITS = 64
PRICE_BITS = 64
SIZE_BITS = 63
BPS_BITS = 14
THRESHOLD_BITS = 128
SURPLUS_BITS = 160
MAX_ITEMS = 1 << 10


class CrossMarginSimple(Circuit):
    """Cross margin over ``n_positions`` positions and ``n_assets`` collateral assets."""

    n_positions = param(doc="number of position slots (zero-padded)")
    n_assets = param(doc="number of collateral asset slots (zero-padded)")

    threshold = public(doc="required surplus, in quote units")
    asset_prices = public(shape="n_assets", doc="collateral prices")
    haircuts = public(shape="n_assets", doc="collateral haircuts in basis points (<= 10,000)")
    marks = public(shape="n_positions", doc="mark prices")
    rates = public(shape="n_positions", doc="margin rates in basis points (<= 10,000)")

    amounts = secret(shape="n_assets", doc="collateral amounts (< 2^64)")
    sizes = secret(shape="n_positions", doc="signed position sizes (|size| < 2^63)")
    entries = secret(shape="n_positions", doc="entry prices (< 2^64)")

    def define(self, api: API) -> None:
        if self.n_positions + self.n_assets > MAX_ITEMS:
            raise ValueError(f"at most {MAX_ITEMS} positions plus assets")
        equity = api.const(0)
        requirement = api.const(0)
        with api.scope("threshold"):
            rangecheck.assert_bits(api, self.threshold, bits=THRESHOLD_BITS)
        for j in range(self.n_assets):
            with api.scope(f"asset[{j}]"):
                amount, price, hc = self.amounts[j], self.asset_prices[j], self.haircuts[j]
                rangecheck.assert_bits(api, amount, bits=AMOUNT_BITS)
                rangecheck.assert_bits(api, price, bits=PRICE_BITS)
                cmp.assert_less_eq(api, hc, BPS, bits=BPS_BITS)
                equity = equity + (amount * price) * (BPS - hc)
        for i in range(self.n_positions):
            with api.scope(f"position[{i}]"):
                size, mark, entry, rate = self.sizes[i], self.marks[i], self.entries[i], self.rates[i]
                rangecheck.assert_bits(api, mark, bits=PRICE_BITS)
                rangecheck.assert_bits(api, entry, bits=PRICE_BITS)
                cmp.assert_less_eq(api, rate, BPS, bits=BPS_BITS)
                magnitude = signed.abs(api, size, bits=SIZE_BITS)  # range-checks size
                equity = equity + (size * (mark - entry)).scale(BPS)
                requirement = requirement + (magnitude * mark) * rate
        with api.scope("surplus"):
            rangecheck.assert_bits(api, equity - requirement - self.threshold * BPS, bits=SURPLUS_BITS)


@dataclass(frozen=True)
class CrossReport:
    """The native computation of the same rule, in quote units (fractions exact)."""

    equity_scaled: int  # 10^4 * equity
    requirement_scaled: int  # 10^4 * requirement
    threshold: int

    @property
    def surplus_scaled(self) -> int:
        return self.equity_scaled - self.requirement_scaled

    @property
    def shortfall_scaled(self) -> int:
        """How far below the threshold (0 when the rule holds), times 10^4."""
        return max(0, self.threshold * BPS - self.surplus_scaled)

    @property
    def passes(self) -> bool:
        return self.shortfall_scaled == 0


def cross_simple_report(values: dict) -> CrossReport:
    """Evaluate the rule natively on the same field values a CrossMarginSimple is assigned."""
    eq = sum(a * p * (BPS - h) for a, p, h in zip(values["amounts"], values["asset_prices"], values["haircuts"],
                                                   strict=True))
    eq += BPS * sum(s * (m - e) for s, m, e in zip(values["sizes"], values["marks"], values["entries"], strict=True))
    req = sum(abs(s) * m * r for s, m, r in zip(values["sizes"], values["marks"], values["rates"], strict=True))
    return CrossReport(eq, req, values["threshold"])
