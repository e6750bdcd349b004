"""Bounds of every integer in the margin models: what the loaders enforce and circuits rely on.

All quantities are Python ints (exact); the margin engine never uses floats. The loaders in
``zkmargin.margin.schema`` refuse any value outside these bounds, so every document they return
satisfies them, and every intermediate of ``zkmargin.margin.engine`` stays below the bounds stated
here (derivations in the engine's docstrings).

Notation: QD, PD, RD = quantity, price and rate decimals of the venue model; RS = 10**RD (the
rate scale: a rate of 1 = 100 % is the integer RS); n_I, n_A = instrument and asset slots.

Secret (account) values, which a circuit MUST range-check before use:

* position size: signed, ``|size| < 2**SIZE_BITS`` (``zkmargin.circuits.std.signed`` width 63); with
  per-instrument decimals ``|size| < 2**WIDE_SIZE_BITS`` (128) base units of the instrument's own
  decimals, its notional and entry value capped below 2**NOTIONAL_BITS (re-derivation below);
* entry price: ``0 <= entry < 2**PRICE_BITS``;
* collateral and debt amount: ``0 <= amount < 2**AMOUNT_BITS`` (signed collateral: a collateral
  amount is signed, ``|amount| < 2**AMOUNT_BITS``); with per-symbol decimals
  ``< 2**WIDE_AMOUNT_BITS`` (128) base units of the asset's own decimals, and each asset's value
  below 2**WIDE_VALUE_BITS (re-derivation below);
* isolated margin: ``0 <= margin < 2**VALUE_BITS``.

Public (market) values are bound by the market digest to a document these loaders validated, so
their bounds hold without in-circuit checks (a circuit may still check them):

* marks, asset prices, short option minimums: ``0 <= x < 2**PRICE_BITS``;
* risk array entries: signed, ``|x| < 2**RISK_BITS``;
* rates, haircuts, liquidation thresholds: ``0 <= x <= RS``, RD <= MAX_DECIMALS so RS < 2**60;
  liability weights (signed collateral): ``RS <= x <= MAX_LIABILITY_WEIGHT * RS``;
* bracket bounds (``up_to``): ``0 < x < 2**VALUE_BITS``;
* the public threshold: ``0 <= t < 2**THRESHOLD_BITS`` (value models), ``< 2**HEALTH_THRESHOLD_BITS``
  (health).

Shape: ``n_I + n_A <= MAX_ITEMS`` (2**10), brackets and tiers ``<= MAX_BRACKETS``, scenarios
``<= MAX_SCENARIOS``, scenario groups ``<= MAX_GROUPS``. Every model's final comparison is
``D >= 0`` for an integer D with ``|D| < 2**(SURPLUS_BITS - 1)``; a circuit checks it as
``D in [0, 2**SURPLUS_BITS)``, which also rejects a negative D (as a field element it is r - |D| > 2**253).

Re-derivation for 128-bit amounts (per-symbol decimals; health model). With a_j, d_j < 2**128 and
p_j < 2**64 the products a_j * p_j, d_j * p_j are below 2**192 (no wrap: 192 < 253). Z_j =
10**(q_j + PD - BD) <= 10**36 < 2**120. The quotients cv_j, dv_j are range-checked to 128 bits,
so q * Z_j + rem < 2**128 * 2**120 + 2**120 < 2**249 < r: the division's equation holds over the
integers and the quotient is the exact floor (ceil). From there on every intermediate has the bound
the 64-bit derivation gives (cv, dv < 2**128): S = sum cv * lt < 2**(128 + 10 + 60) = 2**198,
W * 10**HD < 2**198, h * D < 2**(64 + 138) = 2**202, |D_final| < 2**203 < 2**(SURPLUS_BITS - 1);
aave-v3.5 (RD <= 4, HD <= 18): S * WAD < 2**(152 + 60) = 2**212, h * RS * D < 2**(64 + 14 + 138) =
2**216 < 2**217 (AAVE_SURPLUS_BITS = 218). Every width stays far below the field's 253 bits.
Without a cap the weighted sum would reach 2**(192 + 10 + 60) = 2**262 > r: that is why the value,
not only the amount, is bounded.

The value models (cross, scenario, tiered) with per-symbol decimals: asset j's value in value units
is V_j = a_j * p_j * 10**(QD - q_j) with q_j <= QD; |a_j| < 2**128, p_j < 2**64 and 10**(QD - q_j) <=
10**MAX_DECIMALS < 2**60 give |V_j| < 2**252 < r (no wrap), and V_j is range-checked below
2**WIDE_VALUE_BITS, which is the bound V_j = a_j * p_j < 2**128 that 64-bit amounts had; so
C_j < 2**188 (signed |C_j| < 2**191.12), the tiered schedule's 128-bit width and every later bound
(``zkmargin.margin.engine._pooled``, ``circuits.margin.collateral``) hold unchanged.

Per-instrument decimals (cross, tiered, isolated, scenario; ``decimals.instruments``, q_i <= QD): a size s_i is
in base units of 10**-q_i, signed, |s_i| < 2**WIDE_SIZE_BITS (128), and every formula reads the size
in the model's quantity unit S_i = s_i * 10**(QD - q_i) (a compile-time scale, free in-circuit).
|S_i| < 2**(128 + 60) and mark, entry < 2**64, so |S_i| * m_i and |S_i| * e_i are below 2**252 < r
(no wrap); both are range-checked below 2**NOTIONAL_BITS (128): the notional cap and the entry-value
cap. Then N_i = |S_i| * m_i < 2**128, the brackets' 128-bit comparison width, and |S_i * (m_i - e_i)|
< 2**128, so RS * uPnL < 2**188 and P_rates(N) <= RS * N < 2**188 (64-bit sizes: 2**187); the sums
over 2**10 slots stay below 2**198, E < 2**199, Q < 2**198 and the final |D| < 2**200 (cross, tiered;
isolated |D_i| < 2**191), all below 2**(SURPLUS_BITS - 1) = 2**203 and the ratio form's 2**203 on
|E| and Q. An account over a cap is outside the model (the engine raises SchemaError, the circuit
has no witness). Scenario (without SPAN spreads): its risk arrays are P&L per unit of size, and a
128-bit S times a 64-bit risk entry, summed and scaled by RS, would wrap; so |S_i| * R_i is capped
below 2**128 too, R_i the largest |risk_i[s]| (and som_i with the floor: ``model.risk_bound``, which the
loader derives into the market vector). Then every P&L and floor term is below 2**128, |loss_s| and
the floor below 2**138 (compared at LOSS_BITS + 1 + 1 bits), RS * Q < 2**199, |E| < 2**199 and
|D| < 2**200.
"""

from __future__ import annotations

__all__ = [
    "MAX_DECIMALS",
    "MAX_ITEMS",
    "MAX_BRACKETS",
    "MAX_SCENARIOS",
    "MAX_GROUPS",
    "MAX_EMODE",
    "SIZE_BITS",
    "PRICE_BITS",
    "AMOUNT_BITS",
    "WIDE_AMOUNT_BITS",
    "WIDE_VALUE_BITS",
    "WIDE_SIZE_BITS",
    "MAX_LIABILITY_WEIGHT",
    "RISK_BITS",
    "VALUE_BITS",
    "EPOCH_BITS",
    "THRESHOLD_BITS",
    "HEALTH_THRESHOLD_BITS",
    "NOTIONAL_BITS",
    "LOSS_BITS",
    "SURPLUS_BITS",
    "RATIO_THRESHOLD_BITS",
    "RATIO_SURPLUS_BITS",
    "DUAL_THRESHOLD_BITS",
    "DUAL_SHIFT",
    "MAX_DECIMAL_STRING",
]

#: Largest quantity, price, rate and health-factor decimals (so RS = 10**RD < 2**60).
MAX_DECIMALS = 18
#: Largest n_instruments + n_assets of one venue model.
MAX_ITEMS = 1 << 10
#: Largest number of rate brackets per instrument, and of haircut tiers per asset.
MAX_BRACKETS = 16
#: Largest number of scenarios of a risk array.
MAX_SCENARIOS = 256
#: Largest number of scenario groups (SPAN combined commodities) of a scenario model.
MAX_GROUPS = 64
#: Largest number of e-mode categories of a health model.
MAX_EMODE = 32
#: |size| < 2**SIZE_BITS (signed position sizes, in base units).
SIZE_BITS = 63
#: Prices (marks, entries, asset prices, short option minimums) are below 2**PRICE_BITS.
PRICE_BITS = 64
#: Collateral and debt amounts are below 2**AMOUNT_BITS.
AMOUNT_BITS = 64
#: Collateral and debt amounts of a model with per-symbol decimals: below 2**WIDE_AMOUNT_BITS base
#: units of the asset's own decimals (ERC-20 balances as they are; Aave V3 stores scaled balances in a
#: uint128, in aave-dao/aave-v3-origin a uint120: IncentivizedERC20.UserState).
WIDE_AMOUNT_BITS = 128
#: With per-symbol decimals, each asset's value in base-currency units (health: cv_j = floor(a_j *
#: p_j / Z_j), dv_j = ceil(d_j * p_j / Z_j)) must be below 2**WIDE_VALUE_BITS: the product a_j * p_j
#: may reach 2**192, and capping the quotient at 128 bits keeps every later bound of the health rule
#: exactly as derived for 64-bit amounts (whose values are below 2**128 by construction). An
#: account over the cap is outside the model (the engine raises SchemaError, the circuit has no
#: witness); it means a value above 2**128 * 10**-BD base currency (3.4e30 USD at BD = 8).
WIDE_VALUE_BITS = 128
#: Position sizes of a model with per-instrument decimals (``decimals.instruments``): signed, |size| <
#: 2**WIDE_SIZE_BITS base units of the instrument's own decimals (an on-chain perp's int128 size, e.g.
#: Synthetix perps v2's ``int128 size`` at 18 decimals). The size in the model's quantity unit is
#: S = size * 10**(QD - q_i), and both |S| * mark and |S| * entry must stay below 2**NOTIONAL_BITS
#: (re-derivation in the module docstring).
WIDE_SIZE_BITS = 128
#: Signed collateral: a liability weight is at most MAX_LIABILITY_WEIGHT * RS (1,000 %), below
#: 10 * 10**18 < 2**63.12; with |amount| < 2**64 and price < 2**64 a borrowed balance counts
#: |a * p * lw| < 2**191.12, a held one a * p * (RS - h) < 2**188, so the collateral sum over at
#: most 2**10 slots stays below 2**201.12, and with |RS * uPnL| < 2**197, Q < 2**197 and
#: RS * T < 2**188 the final |D| < 2**201.12 + 2**198 + 2**188 < 2**202 < 2**(SURPLUS_BITS - 1).
MAX_LIABILITY_WEIGHT = 10
#: |risk array entry| < 2**RISK_BITS (signed P&L per unit).
RISK_BITS = 64
#: Values (bracket bounds, isolated margins) are below 2**VALUE_BITS, in value units 10**-(QD+PD).
VALUE_BITS = 128
#: Market epochs are below 2**EPOCH_BITS.
EPOCH_BITS = 64
#: The public threshold of the value models (cross, isolated, scenario, tiered): below 2**128.
THRESHOLD_BITS = 128
#: The public threshold of the health model (the required health factor): below 2**64.
HEALTH_THRESHOLD_BITS = 64
#: |size| * price < 2**NOTIONAL_BITS: notionals and collateral values (a bracket comparison width).
NOTIONAL_BITS = 128
#: |portfolio scenario loss| and the short option floor are below 2**LOSS_BITS (signed width).
LOSS_BITS = 137
#: Width of every model's final range check; every final difference D has |D| < 2**203.
SURPLUS_BITS = 204
#: A ratio threshold (``statement: "ratio"``, 4 decimals) is below 2**32 (a ratio below 429,496.7296).
RATIO_THRESHOLD_BITS = 32
#: Width of a ratio statement's final check ``D = E * 10**4 - t * Q >= 0``: every model keeps |E| and
#: Q below 2**(SURPLUS_BITS - 1) = 2**203 (the bound its docstring derives for the surplus form), so
#: |E * 10**4| < 2**217, t * Q < 2**32 * 2**203 = 2**235 and |D| < 2**236 = 2**(RATIO_SURPLUS_BITS - 1).
RATIO_SURPLUS_BITS = 237
#: With two thresholds (``requirement: "initial+maintenance"``) each is below 2**DUAL_THRESHOLD_BITS
#: and the public input is ``t_initial * 2**DUAL_SHIFT + t_maintenance`` < 2**253 < r: an integer
#: below r, so its decomposition is unique and no packing can wrap around the field.
DUAL_THRESHOLD_BITS = 125
DUAL_SHIFT = 128
#: Longest decimal string accepted (far above any value in range; bounds int() work).
MAX_DECIMAL_STRING = 100
