"""The three margin documents as data: venue model, market data, portfolio.

Objects here are plain frozen dataclasses of ints and strings. Build them with the validating
loaders of ``zkmargin.margin.schema`` (which accept a path or a dict); an object the loaders
returned satisfies every bound of ``zkmargin.margin.limits`` and every cross-document rule (known
symbols, sizes), which the engine and ``to_field_elements`` rely on.

Units. QD, PD, RD are the model's quantity, price and rate decimals; RS = 10**RD.

* sizes, collateral and debt amounts: integers in base units of 10**-QD (one "unit" of an
  instrument is 10**QD base units: one contract, one coin);
* prices (marks, entries, asset prices, risk array entries, short option minimums): quote per
  unit, integers of 10**-PD;
* values (quantity x price; bracket bounds, isolated margins, value thresholds): integers of
  10**-(QD+PD) quote, the *value unit*;
* rates, haircuts, liquidation thresholds: integers of 10**-RD (RS is 100 %).

Signed collateral (``parameters.signed_collateral``, cross, scenario and tiered; header index 14 is 1):
a collateral amount may be negative, a balance borrowed in a unified account (Mango v4, 01,
portfolio-margin accounts), encoded ``v mod r`` like sizes; the market then carries one liability
weight per asset (10**-RD, at least RS = 100 %) in a ``liability_weights`` segment after the
haircuts, and a negative balance counts ``amount * price * liability_weight`` (a positive one
``amount * price * (RS - haircut)`` as before). Without the flag nothing changes.

Per-symbol decimals (``decimals.assets`` in the model document: health, cross, scenario and tiered;
``decimals.instruments``: cross, tiered, isolated and scenario without spreads): asset j's amounts are
in base units of 10**-q_j with its own q_j <= QD (WETH 18, WBTC 8, USDC 6, as the token contracts
declare them), so an on-chain balance is taken as it is, and likewise instrument i's sizes at its
q_i (``instrument_scale``); such a model allows amounts up to 2**WIDE_AMOUNT_BITS (2**128) base units
and, with instrument decimals, sizes up to 2**WIDE_SIZE_BITS (``zkmargin.margin.limits``). Its market
header is unchanged (QD is the largest q); the q are bound by the model digest and are compile-time
constants of the circuit (one scale per slot).

Field-element vectors (what the circuits hash)
-----------------------------------------------

``Market.to_field_elements(model)`` is the preimage of the public ``market_digest``
(``zkmargin.encoding.market_digest``), ``Portfolio.to_field_elements(model)`` the account state
that ``zkmargin.encoding.commitment(model_digest(model), values, salt)`` binds. Every element is an
int in [0, r); signed values (sizes, risk array entries) are encoded as ``v mod r``. Vectors are dense over the
model's slots in the model's order (``model.instruments`` then zero padding up to
``n_instruments``; ``model.assets`` then padding up to ``n_assets``); padding slots are all 0.
2-D segments are row-major, one row per slot. ``market_layout`` / ``account_layout`` give the
segments by name and shape; the vector is their concatenation in that order.

Market header (16 elements, always first; unused entries 0):

====  ==============================================================================
 0    format version (1)
 1    model code: cross 1, isolated 2, scenario 3, health 4, tiered 5, simm 6
 2    venue id: ``zkmargin.encoding.short_string(venue)``
 3    epoch
 4-6  quantity, price, rate decimals (QD, PD, RD)
 7-8  n_instruments, n_assets (0 where the model has none)
 9    n_rate_brackets K (cross, isolated, tiered); intra-commodity spreads (scenario with spreads);
      n_emode e-mode categories C (health)
 10   requirement basis: initial 1, maintenance 2, both 3 (cross, isolated, tiered; both: one
      proof of the initial and the maintenance check, two thresholds);
      inter-commodity spreads (scenario with spreads)
 11   n_tiers T (tiered); n_groups G (scenario: combined commodities, 1 = one group)
 12   n_scenarios S (scenario)
 13   short option floor: 1 on, 0 off (scenario); health formula (health: floor-weighted 0,
      aave-v3.5 1, aave-v3 2)
 14   base decimals BD (health); signed collateral: 1 on, 0 off (cross, scenario,
      tiered)
 15   health decimals HD (health); statement form (the other models): surplus 0, ratio 1,
      ratio-above 2
====  ==============================================================================

Market segments after the header, by model (K-1 bounds per row: the last bracket is unbounded):

* cross:    marks[n_I], rate_bounds[n_I][K-1], initial_rates[n_I][K], maintenance_rates[n_I][K],
            prices[n_A], haircuts[n_A]
* isolated: marks[n_I], rate_bounds[n_I][K-1], initial_rates[n_I][K], maintenance_rates[n_I][K]
* scenario: marks[n_I], risk[n_I][S] (signed), short_option_minimums[n_I] (only when the floor is
            on), groups[n_I] (only when G > 1: each instrument's 0-based group), risk_bounds[n_I]
            (only with per-instrument decimals: ``risk_bound``, derived by the loader), with spreads
            (``zkmargin.margin.span``) tiers[n_I], deltas[n_I] (signed), intra_charges[n_intra],
            inter_rates[n_inter]; prices[n_A], haircuts[n_A]
* health:   prices[n_A], liquidation_thresholds[n_A], with e-mode (C > 0) emode_thresholds[C],
            emode_collateral[n_A][C] (1: the asset is collateral in category c + 1)
* tiered:   marks[n_I], rate_bounds[n_I][K-1], initial_rates[n_I][K], maintenance_rates[n_I][K],
            prices[n_A], tier_bounds[n_A][T-1], tier_haircuts[n_A][T]
* simm:     prices[n_A], haircuts[n_A] (header 9: n_buckets, 11: correlation decimals; the SIMM
            constants are bound by the model digest, ``zkmargin.margin.simm``)

Model digest (``model_digest``): ``hash_vector(TAG_MODEL, [*header(epoch=0),
*string_elements(model_id), len(instruments), *string_elements(s) for each instrument symbol,
len(assets), *string_elements(s) for each asset symbol])``, followed, only in a model that declares
per-symbol decimals, by ``[PER_SYMBOL_DECIMALS_MARKER, len(instrument_decimals),
*instrument_decimals, len(asset_decimals), *asset_decimals]`` (so a model with them and one
without never share a preimage: the prefix parses uniquely and the sponge binds the length). The
header fixes the format version (and with it the layouts below), the kind, the venue, the decimals,
the sizes and the parameters; the id and the symbol lists fix which model and which slot means
what. The commitment hashes it first (``zkmargin.encoding.commitment``), so an account committed
under one model cannot be opened under another, and every margin circuit has it as a compile-time
constant. A scenario model with spreads appends ``[short_string("span-spreads"),
*spreads.digest_elements()]`` last (``zkmargin.margin.span``).

Account segments (no header; the model digest and the commitment's length fix the domain):

* cross, scenario, tiered: sizes[n_I] (signed), entries[n_I], amounts[n_A]
* isolated:                sizes[n_I] (signed), entries[n_I], margins[n_I]
* health:                  collateral[n_A], debts[n_A], with e-mode emode[1] (the category, 0 = none)
* simm:                    delta[n_I] (signed), vega[n_I] (signed), amounts[n_A] (factor slots)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zkmargin.encoding import TAG_MODEL, hash_vector, short_string, string_elements
from zkmargin.field import from_signed

from .decimal import format_decimal
from .errors import SchemaError
from .simm_params import Sensitivity, SimmParameters
from .span import SPREADS_MARKER_TEXT, SpreadSpec

__all__ = [
    "risk_bound",
    "FORMAT_VERSION",
    "MODEL_KINDS",
    "MODEL_CODES",
    "REQUIREMENT_CODES",
    "HEADER_LENGTH",
    "HEALTH_FORMULA_CODES",
    "STATEMENT_CODES",
    "RATIO_DECIMALS",
    "ModelSpec",
    "MODEL_SPECS",
    "VenueModel",
    "RateBracket",
    "TierBracket",
    "InstrumentData",
    "AssetData",
    "EModeCategory",
    "Market",
    "Position",
    "Holding",
    "Portfolio",
    "market_layout",
    "account_layout",
    "layout_length",
    "model_digest",
    "padding_slots",
    "PER_SYMBOL_DECIMALS_MARKER",
]

#: Version of the three document formats and of the field-element vectors.
FORMAT_VERSION = 1
#: The margin models, in code order.
MODEL_KINDS = ("cross", "isolated", "scenario", "health", "tiered", "simm")
#: Header code of each margin model.
MODEL_CODES = {kind: i + 1 for i, kind in enumerate(MODEL_KINDS)}
#: Header code of the requirement basis (0: the model has no margin rates).
REQUIREMENT_CODES = {"initial": 1, "maintenance": 2, "initial+maintenance": 3}
#: Header code (index 15, value models) of the statement form: ``surplus`` (equity - requirement >=
#: threshold, in quote), ``ratio`` (equity / requirement >= threshold, at RATIO_DECIMALS) or
#: ``ratio-above`` (equity / requirement > threshold: venues that act at "ratio <= 105 %").
STATEMENT_CODES = {"surplus": 0, "ratio": 1, "ratio-above": 2}
#: Decimals of a ratio threshold (1.05 is 10500).
RATIO_DECIMALS = 4
#: Elements of the market header.
HEADER_LENGTH = 16
#: Header code of each health-factor formula (``VenueModel.health_formula``).
HEALTH_FORMULA_CODES = {"floor-weighted": 0, "aave-v3.5": 1, "aave-v3": 2}


@dataclass(frozen=True)
class ModelSpec:
    """Which parts of the documents a margin model uses."""

    instruments: bool  # instrument slots, positions with sizes and entries
    assets: bool  # asset slots, collateral
    rates: bool  # per-instrument rate brackets and the initial/maintenance choice
    haircuts: bool  # flat per-asset haircut
    tiers: bool  # per-asset haircut tiers
    scenarios: bool  # risk arrays (and the optional short option floor)
    health: bool  # liquidation thresholds, debts, base and health decimals
    margins: bool  # per-position isolated margin
    sensitivities: bool = False  # per-factor delta and vega sensitivities (simm: zkmargin.margin.simm)


MODEL_SPECS: dict[str, ModelSpec] = {
    "cross": ModelSpec(True, True, True, True, False, False, False, False),
    "isolated": ModelSpec(True, False, True, False, False, False, False, True),
    "scenario": ModelSpec(True, True, False, True, False, True, False, False),
    "health": ModelSpec(False, True, False, False, False, False, True, False),
    "tiered": ModelSpec(True, True, True, False, True, False, False, False),
    "simm": ModelSpec(False, True, False, True, False, False, False, False, sensitivities=True),
}


@dataclass(frozen=True)
class VenueModel:
    """A venue's margin model: kind, circuit sizes, symbols, decimals, parameters.

    Sizes a model does not use are 0 (``n_assets`` of isolated, ``n_scenarios`` of cross, ...);
    ``requirement`` is "" and ``short_option_floor`` False where they do not apply.
    """

    model_id: str
    venue: str
    margin_model: str
    instruments: tuple[str, ...]
    assets: tuple[str, ...]
    n_instruments: int
    n_assets: int
    n_rate_brackets: int
    n_tiers: int
    n_scenarios: int
    quantity_decimals: int
    price_decimals: int
    rate_decimals: int
    base_decimals: int = 0
    health_decimals: int = 0
    asset_decimals: tuple[int, ...] = ()  # per-symbol quantity decimals, one per asset symbol (or none)
    signed_collateral: bool = False  # cross, scenario, tiered: negative (borrowed) balances, liability weights
    instrument_decimals: tuple[int, ...] = ()  # likewise per instrument symbol (not with SPAN spreads)
    requirement: str = ""
    short_option_floor: bool = False
    n_groups: int = 1
    spreads: SpreadSpec | None = None  # scenario only: SPAN spread table (zkmargin.margin.span)
    health_formula: str = "floor-weighted"
    n_emode: int = 0  # health: e-mode categories (Aave V3 efficiency mode), 0 = none
    statement: str = "surplus"
    simm: SimmParameters | None = None  # the simm model's constants (zkmargin.margin.simm_params)
    description: str = ""
    _index: dict[str, dict[str, int]] = field(default_factory=dict, init=False, repr=False, compare=False)
    # Values derived from the (immutable) fields, computed once per instance: "digest" (model_digest).
    _derived: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.instrument_decimals and (self.margin_model not in ("cross", "tiered", "isolated", "scenario")
                                         or len(self.instrument_decimals) != len(self.instruments)
                                         or self.spreads is not None):
            raise ValueError("instrument_decimals: one per instrument symbol, for the cross, tiered, isolated and "
                             f"scenario (without spreads) models only (got {len(self.instrument_decimals)} for "
                             f"{len(self.instruments)} {self.margin_model} instruments)")
        self._index["instruments"] = {s: i for i, s in enumerate(self.instruments)}
        self._index["assets"] = {s: i for i, s in enumerate(self.assets)}

    @property
    def spec(self) -> ModelSpec:
        """What the margin model uses (``MODEL_SPECS[margin_model]``)."""
        return MODEL_SPECS[self.margin_model]

    @property
    def rate_scale(self) -> int:
        """RS = 10**rate_decimals: the integer that stands for a rate of 100 %."""
        return 10**self.rate_decimals

    @property
    def value_decimals(self) -> int:
        """QD + PD: decimals of values (quantity x price), bracket bounds, isolated margins."""
        return self.quantity_decimals + self.price_decimals

    @property
    def threshold_decimals(self) -> int:
        """Decimals of the public threshold (of each, with two): HD for health, RATIO_DECIMALS for a
        ratio statement, QD + PD for the other models."""
        if self.margin_model == "health":
            return self.health_decimals
        return RATIO_DECIMALS if self.statement.startswith("ratio") else self.value_decimals

    @property
    def bases(self) -> tuple[str, ...]:
        """The requirement bases the statement checks, one threshold each: ("initial", "maintenance")
        for ``requirement == "initial+maintenance"``, else the one basis ("" without rates)."""
        if self.requirement == "initial+maintenance":
            return ("initial", "maintenance")
        return (self.requirement,)

    @property
    def report_decimals(self) -> int:
        """Decimals of the money amounts of a MarginReport: BD + HD (health; BD + RD + HD with the
        aave-v3.5 formula, whose check is on the unweighted sum), QD + PD + RD (others)."""
        if self.margin_model == "health":
            extra = self.rate_decimals if self.health_formula == "aave-v3.5" else 0
            return self.base_decimals + self.health_decimals + extra
        return self.value_decimals + self.rate_decimals

    @property
    def per_symbol_decimals(self) -> bool:
        """True when the model declares quantity decimals per symbol (``decimals.assets`` or
        ``decimals.instruments``): its amounts are then up to 2**WIDE_AMOUNT_BITS base units
        (``zkmargin.margin.limits``), its sizes too with ``decimals.instruments`` (``wide_sizes``)."""
        return bool(self.asset_decimals or self.instrument_decimals)

    def asset_quantity_decimals(self, j: int) -> int:
        """The quantity decimals of asset slot j: its declared decimals, else QD (padding slots: QD)."""
        return self.asset_decimals[j] if j < len(self.asset_decimals) else self.quantity_decimals

    def asset_scale(self, j: int) -> int:
        """10**(QD - q_j): turns amount * price of asset slot j (base units of its own decimals) into the
        value unit 10**-(QD+PD) (1 without per-asset decimals, and for padding slots)."""
        return 10 ** (self.quantity_decimals - self.asset_quantity_decimals(j))

    def instrument_quantity_decimals(self, i: int) -> int:
        """The size decimals of instrument slot i: its declared decimals, else QD (padding slots: QD)."""
        return self.instrument_decimals[i] if i < len(self.instrument_decimals) else self.quantity_decimals

    def instrument_scale(self, i: int) -> int:
        """10**(QD - q_i): turns a size of instrument slot i (base units of its own decimals) into the
        model's quantity unit 10**-QD (1 without per-instrument decimals, and for padding slots)."""
        return 10 ** (self.quantity_decimals - self.instrument_quantity_decimals(i))

    @property
    def wide_sizes(self) -> bool:
        """True when the model declares per-instrument decimals (``decimals.instruments``): sizes are
        then up to 2**WIDE_SIZE_BITS base units, notional and entry value capped at 2**128
        (``zkmargin.margin.limits``)."""
        return bool(self.instrument_decimals)

    def instrument_index(self, symbol: str) -> int:
        """The 0-based slot of an instrument symbol. Raises KeyError for an unknown symbol."""
        return self._index["instruments"][symbol]

    def asset_index(self, symbol: str) -> int:
        """The 0-based slot of an asset symbol. Raises KeyError for an unknown symbol."""
        return self._index["assets"][symbol]

    def header(self, epoch: int) -> list[int]:
        """The 16-element market header for ``epoch`` (see the module docstring)."""
        if self.simm is not None:
            return _simm_header(self, epoch)
        return [
            FORMAT_VERSION,
            MODEL_CODES[self.margin_model],
            short_string(self.venue),
            epoch,
            self.quantity_decimals,
            self.price_decimals,
            self.rate_decimals,
            self.n_instruments,
            self.n_assets,
            (len(self.spreads.intra) if self.spreads
             else self.n_emode if self.margin_model == "health" else self.n_rate_brackets),
            len(self.spreads.inter) if self.spreads else REQUIREMENT_CODES.get(self.requirement, 0),
            self.n_groups if self.margin_model == "scenario" else self.n_tiers,
            self.n_scenarios,
            (HEALTH_FORMULA_CODES[self.health_formula] if self.margin_model == "health"
             else int(self.short_option_floor)),
            self.base_decimals if self.margin_model == "health" else int(self.signed_collateral),
            self.health_decimals if self.margin_model == "health" else STATEMENT_CODES[self.statement],
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``kind: "venue_model"``), canonical: ``load_model(m.to_dict()) == m``."""
        if self.simm is not None:
            from .simm import simm_model_dict
            return simm_model_dict(self)
        spec = self.spec
        sizes: dict[str, int] = {}
        if spec.instruments:
            sizes["n_instruments"] = self.n_instruments
        if spec.assets:
            sizes["n_assets"] = self.n_assets
        if spec.rates:
            sizes["n_rate_brackets"] = self.n_rate_brackets
        if spec.tiers:
            sizes["n_tiers"] = self.n_tiers
        if self.n_emode:
            sizes["n_emode"] = self.n_emode
        if spec.scenarios:
            sizes["n_scenarios"] = self.n_scenarios
            if self.n_groups > 1:
                sizes["n_groups"] = self.n_groups
        decimals: dict[str, Any] = {"quantity": self.quantity_decimals, "price": self.price_decimals,
                                    "rate": self.rate_decimals}
        if spec.health:
            decimals |= {"base": self.base_decimals, "health": self.health_decimals}
        if self.instrument_decimals:
            decimals["instruments"] = dict(zip(self.instruments, self.instrument_decimals, strict=True))
        if self.asset_decimals:
            decimals["assets"] = dict(zip(self.assets, self.asset_decimals, strict=True))
        params: dict[str, Any] = {}
        if spec.rates:
            params["requirement"] = self.requirement
        if spec.scenarios:
            params["short_option_floor"] = self.short_option_floor
            if self.spreads:
                params["spreads"] = self.spreads.to_dict()
        if self.signed_collateral:
            params["signed_collateral"] = True
        if spec.health and self.health_formula != "floor-weighted":
            params["formula"] = self.health_formula
        if self.statement != "surplus":
            params["statement"] = self.statement
        doc: dict[str, Any] = {"version": FORMAT_VERSION, "kind": "venue_model", "model_id": self.model_id,
                               "venue": self.venue, "margin_model": self.margin_model}
        if self.description:
            doc["description"] = self.description
        doc["sizes"] = sizes
        if spec.instruments:
            doc["instruments"] = list(self.instruments)
        if spec.assets:
            doc["assets"] = list(self.assets)
        doc["decimals"] = decimals
        doc["parameters"] = params
        return doc


@dataclass(frozen=True)
class RateBracket:
    """One margin-rate bracket of an instrument: rates on the part of the notional up to ``up_to``.

    ``up_to`` is a value (10**-(QD+PD) quote), None for the last, unbounded bracket; the rates are
    integers of 10**-RD.
    """

    up_to: int | None
    initial: int
    maintenance: int


@dataclass(frozen=True)
class TierBracket:
    """One haircut tier of a collateral asset: ``haircut`` on the part of the value up to ``up_to``."""

    up_to: int | None
    haircut: int


@dataclass(frozen=True)
class InstrumentData:
    """Market data of one instrument. Fields a model does not use keep their defaults."""

    symbol: str
    mark: int
    rate_brackets: tuple[RateBracket, ...] = ()
    risk_array: tuple[int, ...] = ()
    short_option_minimum: int = 0
    group: int = 0
    tier: int = 0  # scenario with spreads: the delta tier
    delta: int = 0  # scenario with spreads: composite delta per unit (rate decimals, signed)


@dataclass(frozen=True)
class EModeCategory:
    """An e-mode category of a health model (Aave V3 efficiency mode): the liquidation threshold
    (10**-RD) that replaces an asset's own for an account in this category, on the assets that are
    collateral in it (``AssetData.emode``)."""

    label: str
    liquidation_threshold: int


@dataclass(frozen=True)
class AssetData:
    """Market data of one asset. Fields a model does not use keep their defaults."""

    symbol: str
    price: int
    haircut: int = 0
    liquidation_threshold: int = 0
    tiers: tuple[TierBracket, ...] = ()
    liability_weight: int = 0  # signed collateral: the weight of a negative balance, >= RS
    emode: tuple[int, ...] = ()  # health with e-mode: the categories (1-based) it is collateral in


def _bounds(brackets: tuple[RateBracket, ...] | tuple[TierBracket, ...], k: int) -> list[int]:
    """The k-1 finite ``up_to`` bounds of a bracket list (0s for a padding slot)."""
    if not brackets:
        return [0] * (k - 1)
    return [b.up_to or 0 for b in brackets[: k - 1]]


@dataclass(frozen=True)
class Market:
    """Market data of one epoch; ``instruments`` and ``assets`` in the model's order."""

    venue: str
    model_id: str
    epoch: int
    instruments: tuple[InstrumentData, ...]
    assets: tuple[AssetData, ...]
    description: str = ""
    intra_charges: tuple[int, ...] = ()  # scenario with spreads: charge per intra spread (price)
    inter_rates: tuple[int, ...] = ()  # scenario with spreads: credit rate per inter spread (rate)
    emode: tuple[EModeCategory, ...] = ()  # health with e-mode: categories 1..n_emode, in order

    def to_field_elements(self, model: VenueModel) -> list[int]:
        """The market vector (module docstring): header, then the model's segments, zero-padded.

        Args:
            model: the venue model this market data was loaded against.
        Returns:
            ``layout_length(market_layout(model))`` ints in [0, r).
        Raises:
            SchemaError: the market belongs to another model.
        """
        _check_same(model, self.model_id, "market")
        spec, n_i, n_a = model.spec, model.n_instruments, model.n_assets
        ins = list(self.instruments) + [None] * (n_i - len(self.instruments))
        ast = list(self.assets) + [None] * (n_a - len(self.assets))
        seg: dict[str, list[int]] = {"header": model.header(self.epoch)}
        if spec.instruments:
            seg["marks"] = [x.mark if x else 0 for x in ins]
        if spec.rates:
            k = model.n_rate_brackets
            seg["rate_bounds"] = [u for x in ins for u in _bounds(x.rate_brackets if x else (), k)]
            seg["initial_rates"] = [b.initial for x in ins for b in (x.rate_brackets if x else _ZERO_RATES * k)]
            seg["maintenance_rates"] = [b.maintenance for x in ins
                                        for b in (x.rate_brackets if x else _ZERO_RATES * k)]
        if spec.scenarios:
            s = model.n_scenarios
            seg["risk"] = [from_signed(v) for x in ins for v in (x.risk_array if x else (0,) * s)]
            if model.short_option_floor:
                seg["short_option_minimums"] = [x.short_option_minimum if x else 0 for x in ins]
            if model.n_groups > 1:
                seg["groups"] = [x.group if x else 0 for x in ins]
            if model.wide_sizes:
                seg["risk_bounds"] = [risk_bound(model, x) if x else 0 for x in ins]
            if model.spreads:
                seg["tiers"] = [x.tier if x else 0 for x in ins]
                seg["deltas"] = [from_signed(x.delta) if x else 0 for x in ins]
                seg["intra_charges"] = list(self.intra_charges)
                seg["inter_rates"] = list(self.inter_rates)
        if spec.assets:
            seg["prices"] = [a.price if a else 0 for a in ast]
        if spec.haircuts:
            seg["haircuts"] = [a.haircut if a else 0 for a in ast]
        if model.signed_collateral:
            seg["liability_weights"] = [a.liability_weight if a else 0 for a in ast]
        if spec.health:
            seg["liquidation_thresholds"] = [a.liquidation_threshold if a else 0 for a in ast]
            if model.n_emode:
                seg["emode_thresholds"] = [c.liquidation_threshold for c in self.emode]
                seg["emode_collateral"] = [int(c in a.emode) if a else 0 for a in ast
                                           for c in range(1, model.n_emode + 1)]
        if spec.tiers:
            t = model.n_tiers
            seg["tier_bounds"] = [u for a in ast for u in _bounds(a.tiers if a else (), t)]
            seg["tier_haircuts"] = [b.haircut for a in ast for b in (a.tiers if a else _ZERO_TIERS * t)]
        return _concat(seg, market_layout(model))

    def to_dict(self, model: VenueModel) -> dict[str, Any]:
        """The JSON document (``kind: "market"``), canonical: ``load_market(m.to_dict(model), model) == m``."""
        spec, pd, rd, vd = model.spec, model.price_decimals, model.rate_decimals, model.value_decimals

        def bound(u: int | None) -> str | None:
            return None if u is None else format_decimal(u, vd)

        instruments = []
        for x in self.instruments:
            d: dict[str, Any] = {"symbol": x.symbol, "mark": format_decimal(x.mark, pd)}
            if spec.rates:
                d["rate_brackets"] = [{"up_to": bound(b.up_to), "initial": format_decimal(b.initial, rd),
                                       "maintenance": format_decimal(b.maintenance, rd)} for b in x.rate_brackets]
            if spec.scenarios:
                d["risk_array"] = [format_decimal(v, pd) for v in x.risk_array]
                if model.short_option_floor:
                    d["short_option_minimum"] = format_decimal(x.short_option_minimum, pd)
                if model.n_groups > 1:
                    d["group"] = x.group
                if model.spreads:
                    d["tier"] = x.tier
                    d["delta"] = format_decimal(x.delta, rd)
            instruments.append(d)
        assets = []
        for a in self.assets:
            e: dict[str, Any] = {"symbol": a.symbol, "price": format_decimal(a.price, pd)}
            if spec.haircuts:
                e["haircut"] = format_decimal(a.haircut, rd)
            if model.signed_collateral:
                e["liability_weight"] = format_decimal(a.liability_weight, rd)
            if spec.health:
                e["liquidation_threshold"] = format_decimal(a.liquidation_threshold, rd)
            if spec.tiers:
                e["tiers"] = [{"up_to": bound(b.up_to), "haircut": format_decimal(b.haircut, rd)} for b in a.tiers]
            assets.append(e)
        doc: dict[str, Any] = {"version": FORMAT_VERSION, "kind": "market", "venue": self.venue,
                               "model_id": self.model_id, "epoch": self.epoch}
        if self.description:
            doc["description"] = self.description
        if spec.instruments:
            doc["instruments"] = instruments
        if spec.assets:
            doc["assets"] = assets
        if model.n_emode:
            doc["emode_categories"] = [
                {"id": k, "label": c.label, "liquidation_threshold": format_decimal(c.liquidation_threshold, rd),
                 "collateral": [x.symbol for x in self.assets if k in x.emode]}
                for k, c in enumerate(self.emode, start=1)]
        if model.spreads:
            doc["spreads"] = {"intra_charges": [format_decimal(c, pd) for c in self.intra_charges],
                              "inter_rates": [format_decimal(r, rd) for r in self.inter_rates]}
        return doc


_ZERO_RATES = (RateBracket(0, 0, 0),)
_ZERO_TIERS = (TierBracket(0, 0),)


@dataclass(frozen=True)
class Position:
    """A position: instrument symbol, signed size (base units), entry price, isolated margin (value)."""

    instrument: str
    size: int
    entry: int
    margin: int = 0


@dataclass(frozen=True)
class Holding:
    """An amount (base units) of an asset: collateral or debt."""

    asset: str
    amount: int


@dataclass(frozen=True)
class Portfolio:
    """A trader's account state: positions, collateral and (health) debts, in file order."""

    model_id: str
    positions: tuple[Position, ...] = ()
    collateral: tuple[Holding, ...] = ()
    debts: tuple[Holding, ...] = ()
    description: str = ""
    sensitivities: tuple[Sensitivity, ...] = ()  # simm: per-factor delta and vega
    emode: int = 0  # health with e-mode: the account's category, 0 = none

    def sizes(self, model: VenueModel) -> list[int]:
        """Signed sizes, dense over the model's instrument slots (0 where no position)."""
        return self._dense(model, "size")

    def entries(self, model: VenueModel) -> list[int]:
        """Entry prices, dense over the instrument slots (0 where no position)."""
        return self._dense(model, "entry")

    def margins(self, model: VenueModel) -> list[int]:
        """Isolated margins, dense over the instrument slots (0 where no position)."""
        return self._dense(model, "margin")

    def collateral_amounts(self, model: VenueModel) -> list[int]:
        """Collateral amounts, dense over the model's asset slots."""
        return _dense_holdings(model, self.collateral, "collateral")

    def debt_amounts(self, model: VenueModel) -> list[int]:
        """Debt amounts, dense over the model's asset slots."""
        return _dense_holdings(model, self.debts, "debts")

    def _dense(self, model: VenueModel, attr: str) -> list[int]:
        out = [0] * model.n_instruments
        for k, p in enumerate(self.positions):
            try:
                out[model.instrument_index(p.instrument)] = getattr(p, attr)
            except KeyError:
                raise SchemaError("portfolio", f"positions[{k}].instrument",
                                  f"unknown instrument {p.instrument!r}") from None
        return out

    def to_field_elements(self, model: VenueModel) -> list[int]:
        """The account vector the commitment binds (module docstring), signed sizes mod r.

        Args:
            model: the venue model this portfolio was loaded against.
        Returns:
            ``layout_length(account_layout(model))`` ints in [0, r).
        Raises:
            SchemaError: the portfolio belongs to another model, or names an unknown symbol.
        """
        _check_same(model, self.model_id, "portfolio")
        spec = model.spec
        seg: dict[str, list[int]] = {}
        if spec.instruments:
            seg["sizes"] = [from_signed(s) for s in self.sizes(model)]
            seg["entries"] = self.entries(model)
        if spec.margins:
            seg["margins"] = self.margins(model)
        if spec.sensitivities:
            from .simm import account_segments
            seg |= account_segments(model, self)
        if spec.health:
            seg["collateral"] = self.collateral_amounts(model)
            seg["debts"] = self.debt_amounts(model)
            if model.n_emode:
                seg["emode"] = [self.emode]
        elif spec.assets:
            seg["amounts"] = [from_signed(a) for a in self.collateral_amounts(model)]  # signed collateral
        return _concat(seg, account_layout(model))

    def to_dict(self, model: VenueModel) -> dict[str, Any]:
        """The JSON document (``kind: "portfolio"``), canonical: ``load_portfolio(p.to_dict(model), model) == p``."""
        if model.spec.sensitivities:
            from .simm import simm_portfolio_dict
            return simm_portfolio_dict(model, self)
        spec, pd, vd = model.spec, model.price_decimals, model.value_decimals
        doc: dict[str, Any] = {"version": FORMAT_VERSION, "kind": "portfolio", "model_id": self.model_id}
        if self.description:
            doc["description"] = self.description
        if spec.instruments:
            positions = []
            for p in self.positions:
                size_decimals = model.instrument_quantity_decimals(model.instrument_index(p.instrument))
                d = {"instrument": p.instrument, "size": format_decimal(p.size, size_decimals),
                     "entry": format_decimal(p.entry, pd)}
                if spec.margins:
                    d["margin"] = format_decimal(p.margin, vd)
                positions.append(d)
            doc["positions"] = positions
        def holding(h: Holding) -> dict[str, str]:
            return {"asset": h.asset, "amount": format_decimal(h.amount, model.asset_quantity_decimals(
                model.asset_index(h.asset)))}
        if spec.assets:
            doc["collateral"] = [holding(h) for h in self.collateral]
        if spec.health:
            doc["debts"] = [holding(h) for h in self.debts]
        if model.n_emode:
            doc["emode"] = self.emode
        return doc


def _dense_holdings(model: VenueModel, holdings: tuple[Holding, ...], name: str) -> list[int]:
    out = [0] * model.n_assets
    for k, h in enumerate(holdings):
        try:
            out[model.asset_index(h.asset)] = h.amount
        except KeyError:
            raise SchemaError("portfolio", f"{name}[{k}].asset", f"unknown asset {h.asset!r}") from None
    return out


def _check_same(model: VenueModel, model_id: str, what: str) -> None:
    if model_id != model.model_id:
        raise SchemaError(what, "model_id", f"{model_id!r} does not match the venue model {model.model_id!r}")


def risk_bound(model: VenueModel, ins: InstrumentData) -> int:
    """R_i: the largest |risk_i[s]| over the scenarios, and the short option minimum when the floor is
    on (scenario). With per-instrument decimals the market vector carries it (``risk_bounds``, derived
    from the document by the loader, so bound by the market digest) and |S_i| * R_i is capped below
    2**NOTIONAL_BITS: every scenario P&L and floor term of the instrument is then below 2**128."""
    bound = max((abs(r) for r in ins.risk_array), default=0)
    return max(bound, ins.short_option_minimum) if model.short_option_floor else bound


def market_layout(model: VenueModel) -> list[tuple[str, tuple[int, ...]]]:
    """The segments of the market vector, in order: ``[(name, shape), ...]`` (module docstring)."""
    spec, n_i, n_a = model.spec, model.n_instruments, model.n_assets
    out: list[tuple[str, tuple[int, ...]]] = [("header", (HEADER_LENGTH,))]
    if spec.instruments:
        out.append(("marks", (n_i,)))
    if spec.rates:
        k = model.n_rate_brackets
        out += [("rate_bounds", (n_i, k - 1)), ("initial_rates", (n_i, k)), ("maintenance_rates", (n_i, k))]
    if spec.scenarios:
        out.append(("risk", (n_i, model.n_scenarios)))
        if model.short_option_floor:
            out.append(("short_option_minimums", (n_i,)))
        if model.n_groups > 1:
            out.append(("groups", (n_i,)))
        if model.wide_sizes:
            out.append(("risk_bounds", (n_i,)))
        if model.spreads:
            out += [("tiers", (n_i,)), ("deltas", (n_i,)), ("intra_charges", (len(model.spreads.intra),)),
                    ("inter_rates", (len(model.spreads.inter),))]
    if spec.assets:
        out.append(("prices", (n_a,)))
    if spec.haircuts:
        out.append(("haircuts", (n_a,)))
    if model.signed_collateral:
        out.append(("liability_weights", (n_a,)))
    if spec.health:
        out.append(("liquidation_thresholds", (n_a,)))
        if model.n_emode:
            out += [("emode_thresholds", (model.n_emode,)), ("emode_collateral", (n_a, model.n_emode))]
    if spec.tiers:
        out += [("tier_bounds", (n_a, model.n_tiers - 1)), ("tier_haircuts", (n_a, model.n_tiers))]
    return out


def account_layout(model: VenueModel) -> list[tuple[str, tuple[int, ...]]]:
    """The segments of the account vector, in order: ``[(name, shape), ...]`` (module docstring)."""
    spec, n_i, n_a = model.spec, model.n_instruments, model.n_assets
    out: list[tuple[str, tuple[int, ...]]] = []
    if spec.instruments:
        out += [("sizes", (n_i,)), ("entries", (n_i,))]
    if spec.margins:
        out.append(("margins", (n_i,)))
    if spec.sensitivities:
        out += [("delta", (n_i,)), ("vega", (n_i,))]
    if spec.health:
        out += [("collateral", (n_a,)), ("debts", (n_a,))]
        if model.n_emode:
            out.append(("emode", (1,)))
    elif spec.assets:
        out.append(("amounts", (n_a,)))
    return out


def layout_length(layout: list[tuple[str, tuple[int, ...]]]) -> int:
    """Total number of elements of a layout (the product of each shape, summed)."""
    total = 0
    for _, shape in layout:
        n = 1
        for d in shape:
            n *= d
        total += n
    return total


def model_digest(model: VenueModel) -> int:
    """The model digest (module docstring): what the commitment and the circuit bind the account to.

    Computed once per VenueModel instance (the model is frozen: every field the digest reads is
    immutable, and ``dataclasses.replace`` makes a new instance with its own cache)."""
    digest = model._derived.get("digest")
    if digest is None:
        digest = model._derived["digest"] = _model_digest(model)
    return digest


def _model_digest(model: VenueModel) -> int:
    values = list(model.header(0)) + string_elements(model.model_id)
    for symbols in (model.instruments, model.assets):
        values.append(len(symbols))
        for sym in symbols:
            values += string_elements(sym)
    if model.per_symbol_decimals:
        # Appended after a marker: the prefix above parses uniquely (counts and length-prefixed
        # strings) and ends where a model without per-symbol decimals ends, and the sponge binds
        # the length, so no model with them shares a preimage with one without.
        values.append(PER_SYMBOL_DECIMALS_MARKER)
        for decimals in (model.instrument_decimals, model.asset_decimals):
            values += [len(decimals), *decimals]
    if model.spreads:
        # The spread table (zkmargin.margin.span) after its own marker, for the same reason.
        values += [short_string(SPREADS_MARKER_TEXT), *model.spreads.digest_elements()]
    if model.simm is not None:
        # The simm constants (zkmargin.margin.simm_params) after their own marker, likewise.
        values += [short_string("simm-parameters"), *model.simm.elements()]
    return hash_vector(TAG_MODEL, values)


#: Marker element before the per-symbol decimals in the model digest's preimage.
PER_SYMBOL_DECIMALS_MARKER = short_string("per-symbol-decimals")


def padding_slots(model: VenueModel) -> dict[str, list[int]]:
    """For each account segment, the indices (into the flattened segment) that no symbol uses.

    Instrument-indexed segments (sizes, entries, margins) are padding beyond ``len(instruments)``,
    asset-indexed ones (amounts, collateral, debts) beyond ``len(assets)``. A portfolio document
    always has zeros there; every margin circuit constrains them to zero.
    """
    by_instrument = {"sizes", "entries", "margins", "delta", "vega"}
    out: dict[str, list[int]] = {}
    for name, shape in account_layout(model):
        used = len(model.instruments) if name in by_instrument else len(model.assets)
        cols = layout_length([(name, shape[1:])]) if len(shape) > 1 else 1
        out[name] = list(range(used * cols, layout_length([(name, shape)])))
    return out


def _concat(segments: Mapping[str, list[int]], layout: list[tuple[str, tuple[int, ...]]]) -> list[int]:
    out: list[int] = []
    for name, shape in layout:
        values = segments[name]
        assert len(values) == layout_length([(name, shape)]), (name, len(values), shape)
        out.extend(values)
    return out


def _simm_header(model: VenueModel, epoch: int) -> list[int]:
    """The market header of a simm model: 9 n_buckets, 11 correlation decimals, 15 the statement form
    (surplus 0, ratio 1, ratio-above 2, as for the other value models); 10, 12-14 zero
    (``zkmargin.margin.simm``)."""
    assert model.simm is not None
    return [FORMAT_VERSION, MODEL_CODES[model.margin_model], short_string(model.venue), epoch,
            model.quantity_decimals, model.price_decimals, model.rate_decimals, model.n_instruments, model.n_assets,
            len(model.simm.buckets), 0, model.simm.correlation_decimals, 0, 0, 0, STATEMENT_CODES[model.statement]]
