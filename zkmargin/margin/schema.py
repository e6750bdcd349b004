"""Validating loaders of the three margin documents (JSON; a path or an already parsed dict).

Every document is a JSON object with ``"version": 1`` and a ``"kind"``; an optional
``"description"`` (a string) is kept and written back; any other unknown field is an error (a
misspelt field must not be silently ignored). Amounts, prices and rates are decimal strings
(``zkmargin.margin.decimal``); counts, decimals and the epoch are JSON integers.

Venue model (``kind: "venue_model"``)::

    {"version": 1, "kind": "venue_model", "model_id": "demo-cross", "venue": "zkmargin-demo",
     "margin_model": "cross",                  # cross | isolated | scenario | health | tiered
     "sizes": {"n_instruments": 4, "n_assets": 3, "n_rate_brackets": 2},
     "instruments": ["BTC-PERP", "ETH-PERP"],  # at most n_instruments; the rest are padding
     "assets": ["USDC", "BTC", "ETH"],         # at most n_assets
     "decimals": {"quantity": 6, "price": 2, "rate": 4},
     "parameters": {"requirement": "maintenance"}}

  sizes by model (all required, nothing else allowed): cross n_instruments, n_assets,
  n_rate_brackets; isolated n_instruments, n_rate_brackets; scenario n_instruments, n_assets,
  n_scenarios (and optionally n_groups, default 1: SPAN's combined commodities, each with its own
  worst scenario); health n_assets; tiered n_instruments, n_assets, n_rate_brackets, n_tiers.
  "instruments" is required exactly when the model has instruments, "assets" when it has assets.
  decimals: quantity, price, rate in [0, 18]; health also base in [0, quantity + price] and
  health in [0, 18]. parameters: cross, isolated, tiered {"requirement": "initial" |
  "maintenance"} (cross, tiered and isolated also "initial+maintenance": one proof of both checks,
  two thresholds); scenario {"short_option_floor": true | false}; health {} or {"formula":
  "floor-weighted" (the default) | "aave-v3.5" | "aave-v3"} (see ``zkmargin.margin.engine``; the
  Aave formulas need rate decimals <= 4 and health decimals <= 18). cross, scenario, tiered and
  isolated (each position's own ratio) may also give {"statement": "surplus" (the default: equity -
  requirement >= threshold, in quote) |
  "ratio" (equity / requirement >= threshold, a ratio at 4 decimals, as unified and portfolio
  margin accounts report it) | "ratio-above" (the same, strictly above: for a venue that acts at
  "ratio <= 105 %")}.

  Signed collateral (cross, scenario, tiered): ``"parameters": {..., "signed_collateral": true}`` lets a
  collateral amount be negative (a borrowed balance of a unified account, signed, |amount| < 2**64)
  and gives every market asset a ``liability_weight`` in [1, 10] (100 % to 1,000 %, rate
  decimals): a negative balance counts amount * price * liability_weight.

  Per-symbol decimals (health, cross, scenario, tiered): ``"decimals": {..., "assets": {"WETH": 18,
  "WBTC": 8, "USDC": 6}}`` gives every asset symbol its own quantity decimals, each in [0, quantity]
  (quantity is then the largest; health also base <= its decimals + price); amounts of that asset
  are read at its decimals and may reach 2**128 base units (``zkmargin.margin.limits.WIDE_AMOUNT_BITS``;
  signed collateral: |amount| < 2**128); each asset's value is capped below 2**WIDE_VALUE_BITS.
  Per-instrument decimals (cross, tiered, isolated, scenario without spreads): ``"decimals": {...,
  "instruments": {"ETH-PERP": 18, "BTC-PERP": 8}}`` likewise gives every instrument symbol its own size
  decimals in [0, quantity]; sizes are then signed, |size| < 2**128 base units
  (``zkmargin.margin.limits.WIDE_SIZE_BITS``), read in the model's quantity unit as size *
  10**(quantity - q_i), with notional and entry value capped below 2**128 value units (scenario:
  |S| times the instrument's largest |risk| and short option minimum too,
  ``zkmargin.margin.model.risk_bound``); amounts take 128 bits as with ``decimals.assets``.

  SPAN spreads (scenario): ``"parameters": {..., "spreads": {"tier_groups": [0, 0, 1], "intra":
  [{"tiers": [0, 1]}, ...], "inter": [{"groups": [0, 1], "ratios": [2, 1], "sides": ["A", "B"]},
  ...]}}``: delta tiers and spreads in priority order (``zkmargin.margin.span`` states the rules;
  rate decimals <= 4). The market data then gives every instrument "tier" (a JSON integer, a tier
  of the instrument's group) and "delta" (signed, at rate decimals, |delta| < 2**20), and a
  top-level ``"spreads": {"intra_charges": [prices], "inter_rates": [rates in [0, 1]]}``, one per
  spread of the model, in its order.

Market data (``kind: "market"``), one entry per model symbol, in any order::

    {"version": 1, "kind": "market", "venue": "zkmargin-demo", "model_id": "demo-cross", "epoch": 42,
     "instruments": [{"symbol": "BTC-PERP", "mark": "65000",
                      "rate_brackets": [{"up_to": "1000000", "initial": "0.02", "maintenance": "0.01"},
                                        {"up_to": null, "initial": "0.05", "maintenance": "0.025"}]}],
     "assets": [{"symbol": "USDC", "price": "1", "haircut": "0"}]}

  instrument fields: symbol, mark; rate_brackets (cross, isolated, tiered: exactly
  n_rate_brackets, ``up_to`` strictly increasing values, the last null; rates nondecreasing from
  bracket to bracket; maintenance <= initial); risk_array (scenario: exactly n_scenarios signed
  prices); short_option_minimum (scenario with the floor on); group (scenario with n_groups > 1:
  the instrument's 0-based group, a JSON integer below n_groups). asset fields: symbol, price;
  haircut (cross, scenario); liquidation_threshold (health); tiers (tiered: exactly n_tiers
  {"up_to", "haircut"}, bounds as for rate brackets, haircuts nondecreasing). Rates, haircuts and
  thresholds are fractions in [0, 1] at rate decimals ("0.025" = 2.5 %).

Portfolio (``kind: "portfolio"``)::

    {"version": 1, "kind": "portfolio", "model_id": "demo-cross",
     "positions": [{"instrument": "BTC-PERP", "size": "-0.5", "entry": "64000"}],
     "collateral": [{"asset": "USDC", "amount": "25000"}]}

  positions (models with instruments): instrument, size (signed, quantity decimals), entry
  (price decimals) and, isolated only, margin (value decimals); at most one position per
  instrument. collateral (models with assets) and debts (health): asset, amount (quantity
  decimals), at most one entry per asset. Each list is optional (empty by default) where the
  model has it, and an error where it does not.

The market and portfolio must name the venue model's ``model_id`` (the market also its venue).
Errors are ``SchemaError`` (``<file>: <path>: <reason>``); a file that is not JSON raises
``MalformedJSONError`` from ``zkmargin.serialize.read_json_file``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from zkmargin.serialize import read_json_file
from zkmargin.serialize._io import atomic_write_text

from .decimal import parse_decimal, show_value
from .errors import SchemaError
from .limits import (
    AMOUNT_BITS,
    EPOCH_BITS,
    MAX_BRACKETS,
    MAX_DECIMALS,
    MAX_EMODE,
    MAX_GROUPS,
    MAX_ITEMS,
    MAX_LIABILITY_WEIGHT,
    MAX_SCENARIOS,
    PRICE_BITS,
    RISK_BITS,
    SIZE_BITS,
    VALUE_BITS,
    WIDE_AMOUNT_BITS,
    WIDE_SIZE_BITS,
)
from .model import (
    FORMAT_VERSION,
    HEALTH_FORMULA_CODES,
    MODEL_KINDS,
    MODEL_SPECS,
    REQUIREMENT_CODES,
    STATEMENT_CODES,
    AssetData,
    EModeCategory,
    Holding,
    InstrumentData,
    Market,
    Portfolio,
    Position,
    RateBracket,
    TierBracket,
    VenueModel,
)
from .span import DELTA_BITS, parse_spread_spec

__all__ = ["load_model", "load_market", "load_portfolio", "write_document", "Source"]

#: What a loader accepts: a path (str or PathLike) or the parsed JSON object.
Source = str | os.PathLike[str] | Mapping[str, Any]

_T = TypeVar("_T")
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+-]{0,63}")
_LABEL = re.compile(r"[ -~]{1,64}")
_VENUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,30}")  # a short_string: at most 31 ASCII characters
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_MAX_DESCRIPTION = 10_000


class _Doc:
    """Reading context: the source name (for messages) and typed field accessors."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, reason: str) -> SchemaError:
        return SchemaError(self.source, path, reason)

    def as_obj(self, v: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...] = (),
               why: Callable[[str], str] | None = None) -> dict[str, Any]:
        """A JSON object with exactly the ``required`` keys, plus any of ``optional``."""
        if not isinstance(v, Mapping):
            raise self.fail(path, f"expected a JSON object, got {show_value(v)}")
        for k in v:
            if k not in required and k not in optional:
                extra = why(k) if why else ""
                raise self.fail(_join(path, str(k)), f"unknown field{extra}")
        for k in required:
            if k not in v:
                raise self.fail(_join(path, k), "missing (required)")
        return dict(v)

    def as_list(self, v: Any, path: str) -> list[Any]:
        if not isinstance(v, list):
            raise self.fail(path, f"expected a JSON list, got {show_value(v)}")
        return v

    def as_int(self, v: Any, path: str, lo: int, hi: int) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(path, f"expected an integer, got {show_value(v)}")
        if not lo <= v <= hi:
            raise self.fail(path, f"{v} is out of range [{lo}, {hi}]")
        return v

    def as_str(self, v: Any, path: str, pattern: re.Pattern[str], what: str) -> str:
        if not isinstance(v, str) or not pattern.fullmatch(v):
            raise self.fail(path, f"expected {what}, got {show_value(v)}")
        return v

    def start(self, v: Any, kind: str) -> None:
        """Check that ``v`` is a JSON object of this ``kind`` and format version, before any other field."""
        if not isinstance(v, Mapping):
            raise self.fail("", f"expected a JSON object, got {show_value(v)}")
        d = v
        if d.get("version") != FORMAT_VERSION or isinstance(d.get("version"), bool):
            raise self.fail("version", f"unsupported version {show_value(d.get('version'))}, expected {FORMAT_VERSION}")
        if d.get("kind") != kind:
            raise self.fail("kind", f"expected {json.dumps(kind)}, got {show_value(d.get('kind'))}")

    def description(self, d: dict[str, Any]) -> str:
        v = d.get("description", "")
        if not isinstance(v, str) or len(v) > _MAX_DESCRIPTION:
            raise self.fail("description", f"expected a string of at most {_MAX_DESCRIPTION} characters")
        return v

    def dec(self, v: Any, path: str, decimals: int, **kw: Any) -> int:
        return parse_decimal(v, decimals, path=path, source=self.source, **kw)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _absent(kind: str, parts: tuple[str, ...]) -> Callable[[str], str]:
    """The note on an unknown field that names a part the model lacks: " (the health model has no debts)"."""
    return lambda k: f" (the {kind} model has no {k})" if k in parts else ""


def _load(src: Source, kind: str, parse: Callable[[_Doc, Any], _T]) -> _T:
    if isinstance(src, str | os.PathLike):
        return parse(_Doc(str(src)), read_json_file(src))
    return parse(_Doc(kind), src)


# --- venue model ---------------------------------------------------------------------------------

_SIZE_KEYS = {
    "cross": ("n_instruments", "n_assets", "n_rate_brackets"),
    "isolated": ("n_instruments", "n_rate_brackets"),
    "scenario": ("n_instruments", "n_assets", "n_scenarios"),
    "health": ("n_assets",),
    "tiered": ("n_instruments", "n_assets", "n_rate_brackets", "n_tiers"),
}
_SIZE_LIMITS = {"n_instruments": MAX_ITEMS, "n_assets": MAX_ITEMS, "n_rate_brackets": MAX_BRACKETS,
                "n_tiers": MAX_BRACKETS, "n_scenarios": MAX_SCENARIOS, "n_groups": MAX_GROUPS,
                "n_emode": MAX_EMODE}
#: Sizes a model may give (the default in brackets): scenario n_groups (1).
_OPTIONAL_SIZE_KEYS = {"scenario": ("n_groups",), "health": ("n_emode",)}
_PARAM_KEYS = {"cross": ("requirement",), "isolated": ("requirement",), "tiered": ("requirement",),
               "scenario": ("short_option_floor",), "health": ()}
#: Parameters a model may give: health formula (floor-weighted).
_OPTIONAL_PARAM_KEYS = {"health": ("formula",), "cross": ("statement",), "scenario": ("statement", "spreads"),
                        "tiered": ("statement",), "isolated": ("statement",)}
#: Models whose rule may check both bases in one proof (``"requirement": "initial+maintenance"``).
_BOTH_BASES = ("cross", "tiered", "isolated")


def load_model(src: Source) -> VenueModel:
    """Load and validate a venue model document.

    Args:
        src: a path (str or PathLike) or the parsed JSON object.
    Returns:
        The VenueModel.
    Raises:
        SchemaError: a missing, unknown or mistyped field, a size out of range, more symbols than
            slots, a duplicate or malformed symbol, bad decimals or parameters. Names the field.
        MalformedJSONError: the file is not JSON. OSError: the file cannot be read.
    """
    return _load(src, "venue_model", _parse_model)


def _parse_model(doc: _Doc, v: Any) -> VenueModel:
    top = ("version", "kind", "model_id", "venue", "margin_model", "sizes", "decimals", "parameters")
    doc.start(v, "venue_model")
    kind = v.get("margin_model")
    if kind not in MODEL_KINDS:
        raise doc.fail("margin_model", f"expected one of {', '.join(MODEL_KINDS)}, got {show_value(kind)}")
    if kind == "simm":
        from .simm import parse_simm_model
        return parse_simm_model(doc, v)
    spec = MODEL_SPECS[kind]
    required = top + (("instruments",) if spec.instruments else ()) + (("assets",) if spec.assets else ())
    d = doc.as_obj(v, "", required, ("description",), why=_absent(kind, ("instruments", "assets")))
    model_id = doc.as_str(d["model_id"], "model_id", _ID, "an identifier (letters, digits, ._:-; at most 64)")
    venue = doc.as_str(d["venue"], "venue", _VENUE, "a venue id (letters, digits, ._:-; 1 to 31 characters)")

    size_keys = _SIZE_KEYS[kind]
    optional = _OPTIONAL_SIZE_KEYS.get(kind, ())
    sd = doc.as_obj(d["sizes"], "sizes", size_keys, optional, why=lambda k: f" (not a size of the {kind} model)")
    sizes = {k: doc.as_int(sd[k], f"sizes.{k}", 1, _SIZE_LIMITS[k]) for k in (*size_keys, *optional) if k in sd}
    n_i, n_a = sizes.get("n_instruments", 0), sizes.get("n_assets", 0)
    if n_i + n_a > MAX_ITEMS:
        raise doc.fail("sizes", f"n_instruments + n_assets = {n_i + n_a} exceeds {MAX_ITEMS}")

    instruments = _symbols(doc, d, "instruments", n_i) if spec.instruments else ()
    assets = _symbols(doc, d, "assets", n_a) if spec.assets else ()

    dec_keys = ("quantity", "price", "rate") + (("base", "health") if spec.health else ())
    dd = doc.as_obj(d["decimals"], "decimals", dec_keys, _PER_SYMBOL_DECIMALS.get(kind, ()),
                    why=lambda k: f" (not a decimals setting of the {kind} model)")
    qd, pd, rd = (doc.as_int(dd[k], f"decimals.{k}", 0, MAX_DECIMALS) for k in ("quantity", "price", "rate"))
    bd = doc.as_int(dd["base"], "decimals.base", 0, qd + pd) if spec.health else 0
    hd = doc.as_int(dd["health"], "decimals.health", 0, MAX_DECIMALS) if spec.health else 0
    asset_decimals = _symbol_decimals(doc, dd, "assets", assets, qd) if "assets" in dd else ()
    instrument_decimals = _symbol_decimals(doc, dd, "instruments", instruments, qd) if "instruments" in dd else ()
    if spec.health and asset_decimals and bd > min(asset_decimals) + pd:
        j = asset_decimals.index(min(asset_decimals))
        raise doc.fail(f"decimals.assets.{assets[j]}", f"{asset_decimals[j]} + price decimals {pd} is below "
                                                       f"the base decimals {bd}: the value would need a fraction")

    pdict = doc.as_obj(d["parameters"], "parameters", _PARAM_KEYS[kind],
                       _OPTIONAL_PARAM_KEYS.get(kind, ()) + _SIGNED_COLLATERAL.get(kind, ()),
                       why=lambda k: f" (not a parameter of the {kind} model)")
    requirement, floor = "", False
    if spec.rates:
        requirement = pdict["requirement"]
        allowed = tuple(k for k in REQUIREMENT_CODES if kind in _BOTH_BASES or "+" not in k)
        if requirement not in allowed:
            raise doc.fail("parameters.requirement",
                           f"expected one of {', '.join(allowed)} for the {kind} model, got {show_value(requirement)}")
    statement = _statement(doc, pdict)
    if spec.scenarios:
        floor = pdict["short_option_floor"]
        if not isinstance(floor, bool):
            raise doc.fail("parameters.short_option_floor", f"expected true or false, got {show_value(floor)}")
    signed = pdict.get("signed_collateral", False)
    if not isinstance(signed, bool):
        raise doc.fail("parameters.signed_collateral", f"expected true or false, got {show_value(signed)}")
    formula = "floor-weighted"
    if spec.health:
        formula = pdict.get("formula", formula)
        if formula not in HEALTH_FORMULA_CODES:
            raise doc.fail("parameters.formula", f"expected one of {', '.join(HEALTH_FORMULA_CODES)}, "
                                                 f"got {show_value(formula)}")
        if formula != "floor-weighted" and (rd > 4 or hd > 18):
            raise doc.fail("decimals", f"the {formula} formula needs rate decimals <= 4 and health decimals <= 18 "
                                       f"(percentages in basis points, a wad health factor), got {rd} and {hd}")
    spreads = (parse_spread_spec(doc, pdict["spreads"], "parameters.spreads", sizes.get("n_groups", 1), rd)
               if "spreads" in pdict else None)
    if spreads is not None and instrument_decimals:
        raise doc.fail("decimals.instruments", "not with SPAN spreads (parameters.spreads): the spreads' net deltas "
                                               "are derived for 63-bit sizes (zkmargin.margin.span)")
    return VenueModel(
        model_id=model_id, venue=venue, margin_model=kind, instruments=instruments, assets=assets,
        n_instruments=n_i, n_assets=n_a, n_rate_brackets=sizes.get("n_rate_brackets", 0),
        n_tiers=sizes.get("n_tiers", 0), n_scenarios=sizes.get("n_scenarios", 0), n_groups=sizes.get("n_groups", 1),
        n_emode=sizes.get("n_emode", 0),
        quantity_decimals=qd, price_decimals=pd, rate_decimals=rd, base_decimals=bd, health_decimals=hd,
        asset_decimals=asset_decimals, instrument_decimals=instrument_decimals, signed_collateral=signed,
        requirement=requirement, short_option_floor=floor, health_formula=formula, statement=statement,
        spreads=spreads,
        description=doc.description(d),
    )


def _statement(doc: _Doc, params: dict[str, Any]) -> str:
    """``parameters.statement`` (optional, default "surplus"): one of ``STATEMENT_CODES``."""
    statement = params.get("statement", "surplus")
    if statement not in STATEMENT_CODES:
        raise doc.fail("parameters.statement",
                       f"expected one of {', '.join(STATEMENT_CODES)}, got {show_value(statement)}")
    return str(statement)


#: Models that accept signed collateral (``parameters.signed_collateral``: borrowed balances).
_SIGNED_COLLATERAL = {"cross": ("signed_collateral",), "scenario": ("signed_collateral",),
                      "tiered": ("signed_collateral",)}
#: Models that accept per-symbol quantity decimals (``decimals.assets``).
_PER_SYMBOL_DECIMALS = {"health": ("assets",), "cross": ("instruments", "assets"),
                        "scenario": ("instruments", "assets"), "tiered": ("instruments", "assets"),
                        "isolated": ("instruments",)}


def _symbol_decimals(doc: _Doc, dd: dict[str, Any], key: str, symbols: tuple[str, ...], qd: int) -> tuple[int, ...]:
    """``decimals.<key>``: {symbol: decimals} for every symbol of the model, each in [0, QD]."""
    m = doc.as_obj(dd[key], f"decimals.{key}", symbols,
                   why=lambda k: f" (not a symbol of the model's {key}: {', '.join(symbols)})")
    return tuple(doc.as_int(m[s], f"decimals.{key}.{s}", 0, qd) for s in symbols)


def _symbols(doc: _Doc, d: dict[str, Any], key: str, slots: int) -> tuple[str, ...]:
    items = doc.as_list(d[key], key)
    if not items:
        raise doc.fail(key, "must list at least one symbol")
    if len(items) > slots:
        raise doc.fail(key, f"{len(items)} symbols exceed sizes.n_{key} = {slots}")
    seen: set[str] = set()
    for k, s in enumerate(items):
        doc.as_str(s, f"{key}[{k}]", _SYMBOL, "a symbol (letters, digits, ._:/+-; at most 64)")
        if s in seen:
            raise doc.fail(f"{key}[{k}]", f"duplicate symbol {show_value(s)}")
        seen.add(s)
    return tuple(items)


# --- market data ---------------------------------------------------------------------------------

def load_market(src: Source, model: VenueModel) -> Market:
    """Load and validate a market data document against its venue model.

    Args:
        src: a path (str or PathLike) or the parsed JSON object.
        model: the venue model (decimals, symbols, sizes, parameters).
    Returns:
        The Market, instruments and assets in the model's order.
    Raises:
        SchemaError: a missing, unknown or mistyped field, another venue or model_id, an unknown,
            duplicate or missing symbol, a value that does not fit its decimals or bounds, a wrong
            number of brackets / tiers / scenarios, bracket bounds not increasing, decreasing
            rates. Names the field and the value.
        MalformedJSONError: the file is not JSON. OSError: the file cannot be read.
    """
    return _load(src, "market", lambda doc, v: _parse_market(doc, v, model))


def _parse_market(doc: _Doc, v: Any, model: VenueModel) -> Market:
    spec = model.spec
    required = ("version", "kind", "venue", "model_id", "epoch")
    lists = (("instruments",) if spec.instruments else ()) + (("assets",) if spec.assets else ())
    doc.start(v, "market")
    d = doc.as_obj(v, "", required + lists + (("spreads",) if model.spreads else ())
                   + (("emode_categories",) if model.n_emode else ()), ("description",),
                   why=_absent(model.margin_model, ("instruments", "assets")))
    if d["venue"] != model.venue:
        raise doc.fail("venue", f"{show_value(d['venue'])} is not the model's venue {show_value(model.venue)}")
    if d["model_id"] != model.model_id:
        raise doc.fail("model_id", f"{show_value(d['model_id'])} is not the venue model {show_value(model.model_id)}")
    epoch = doc.as_int(d["epoch"], "epoch", 0, (1 << EPOCH_BITS) - 1)
    instruments = _by_symbol(doc, d, "instruments", model.instruments,
                             lambda x, p: _instrument(doc, x, p, model)) if spec.instruments else ()
    assets = _by_symbol(doc, d, "assets", model.assets,
                        lambda x, p: _asset(doc, x, p, model)) if spec.assets else ()
    charges: tuple[int, ...] = ()
    rates: tuple[int, ...] = ()
    if model.spreads:  # the day's spread rates, one per spread of the model's table, in its order
        sp = doc.as_obj(d["spreads"], "spreads", ("intra_charges", "inter_rates"))
        for key, n in (("intra_charges", len(model.spreads.intra)), ("inter_rates", len(model.spreads.inter))):
            if len(doc.as_list(sp[key], f"spreads.{key}")) != n:
                raise doc.fail(f"spreads.{key}", f"expected {n} values (one per spread of the model), "
                                                 f"got {len(sp[key])}")
        charges = tuple(doc.dec(c, f"spreads.intra_charges[{k}]", model.price_decimals, bits=PRICE_BITS)
                        for k, c in enumerate(sp["intra_charges"]))
        rates = tuple(_rate(doc, r, f"spreads.inter_rates[{k}]", model) for k, r in enumerate(sp["inter_rates"]))
    categories: tuple[EModeCategory, ...] = ()
    if model.n_emode:
        categories, assets = _emode_categories(doc, d["emode_categories"], model, assets)
    return Market(venue=d["venue"], model_id=d["model_id"], epoch=epoch, instruments=instruments, assets=assets,
                  description=doc.description(d), intra_charges=charges, inter_rates=rates, emode=categories)


def _emode_categories(doc: _Doc, v: Any, model: VenueModel,
                      assets: tuple[AssetData, ...]) -> tuple[tuple[EModeCategory, ...], tuple[AssetData, ...]]:
    """The health model's e-mode categories: exactly n_emode entries with ids 1..n_emode in order,
    each a label, a liquidation threshold and the assets that are collateral in it."""
    items = doc.as_list(v, "emode_categories")
    if len(items) != model.n_emode:
        raise doc.fail("emode_categories", f"expected {model.n_emode} categories (sizes.n_emode), got {len(items)}")
    cats: list[EModeCategory] = []
    member: dict[str, list[int]] = {a.symbol: [] for a in assets}
    for k, x in enumerate(items):
        p = f"emode_categories[{k}]"
        e = doc.as_obj(x, p, ("id", "label", "liquidation_threshold", "collateral"))
        if doc.as_int(e["id"], f"{p}.id", 1, model.n_emode) != k + 1:
            raise doc.fail(f"{p}.id", f"expected {k + 1} (categories are listed by id, from 1), got {e['id']}")
        label = doc.as_str(e["label"], f"{p}.label", _LABEL, "a label (printable, 1 to 64 characters)")
        lt = _rate(doc, e["liquidation_threshold"], f"{p}.liquidation_threshold", model)
        seen: set[str] = set()
        for i, sym in enumerate(doc.as_list(e["collateral"], f"{p}.collateral")):
            if sym not in member:
                raise doc.fail(f"{p}.collateral[{i}]", f"unknown asset {show_value(sym)} "
                                                       f"(the model lists {', '.join(model.assets)})")
            if sym in seen:
                raise doc.fail(f"{p}.collateral[{i}]", f"duplicate asset {show_value(sym)}")
            seen.add(sym)
            member[sym].append(k + 1)
        cats.append(EModeCategory(label, lt))
    return tuple(cats), tuple(replace(a, emode=tuple(member[a.symbol])) for a in assets)


def _by_symbol(doc: _Doc, d: dict[str, Any], key: str, symbols: tuple[str, ...],
               parse: Callable[[Any, str], _T]) -> tuple[_T, ...]:
    """Parse a list of entries keyed by symbol; return them in the model's order, all present."""
    items = doc.as_list(d[key], key)
    found: dict[str, _T] = {}
    for k, x in enumerate(items):
        path = f"{key}[{k}]"
        if not isinstance(x, Mapping):
            raise doc.fail(path, f"expected a JSON object, got {show_value(x)}")
        s = x.get("symbol")
        if s not in symbols:
            raise doc.fail(f"{path}.symbol",
                           f"unknown symbol {show_value(s)} (the model lists {', '.join(symbols)})")
        if s in found:
            raise doc.fail(f"{path}.symbol", f"duplicate symbol {show_value(s)}")
        found[s] = parse(x, path)
    missing = [s for s in symbols if s not in found]
    if missing:
        raise doc.fail(key, f"no entry for {', '.join(missing)}")
    return tuple(found[s] for s in symbols)


def _brackets(doc: _Doc, v: Any, path: str, count: int, size_key: str,
              parse_rates: Callable[[dict[str, Any], str], tuple[int, ...]], rate_names: tuple[str, ...],
              model: VenueModel) -> list[tuple[int | None, tuple[int, ...]]]:
    """Bracket lists: ``count`` entries, ``up_to`` increasing values, the last null, rates nondecreasing."""
    items = doc.as_list(v, path)
    if len(items) != count:
        raise doc.fail(path, f"expected {count} brackets (sizes.{size_key}), got {len(items)}")
    out: list[tuple[int | None, tuple[int, ...]]] = []
    prev_bound = 0
    prev_rates: tuple[int, ...] | None = None
    for b, x in enumerate(items):
        p = f"{path}[{b}]"
        e = doc.as_obj(x, p, ("up_to",) + rate_names)
        last = b == count - 1
        if last:
            if e["up_to"] is not None:
                raise doc.fail(f"{p}.up_to",
                               f"the last bracket is unbounded: expected null, got {show_value(e['up_to'])}")
            bound = None
        else:
            if e["up_to"] is None:
                raise doc.fail(f"{p}.up_to", "only the last bracket may be unbounded (null)")
            bound = doc.dec(e["up_to"], f"{p}.up_to", model.value_decimals, bits=VALUE_BITS)
            if bound <= prev_bound:
                raise doc.fail(f"{p}.up_to", f"{show_value(e['up_to'])} must exceed the previous bound "
                                            f"({'0' if b == 0 else show_value(items[b - 1]['up_to'])})")
            prev_bound = bound
        rates = parse_rates(e, p)
        if prev_rates is not None:
            for name, r, q in zip(rate_names, rates, prev_rates, strict=True):
                if r < q:
                    raise doc.fail(f"{p}.{name}", f"{show_value(e[name])} is below the previous bracket's "
                                                  f"{show_value(items[b - 1][name])}: rates must not decrease")
        prev_rates = rates
        out.append((bound, rates))
    return out


def _rate(doc: _Doc, v: Any, path: str, model: VenueModel) -> int:
    return doc.dec(v, path, model.rate_decimals, maximum=model.rate_scale)


def _instrument(doc: _Doc, x: Any, path: str, model: VenueModel) -> InstrumentData:
    spec = model.spec
    keys = ("symbol", "mark") + (("rate_brackets",) if spec.rates else ()) + (("risk_array",) if spec.scenarios else ())
    if spec.scenarios and model.short_option_floor:
        keys += ("short_option_minimum",)
    if spec.scenarios and model.n_groups > 1:
        keys += ("group",)
    if model.spreads:
        keys += ("tier", "delta")
    e = doc.as_obj(x, path, keys, why=lambda k: f" (not used by the {model.margin_model} model"
                + (" without the short option floor)" if k == "short_option_minimum"
                   else " with one scenario group)" if k == "group" else ")"))
    mark = doc.dec(e["mark"], f"{path}.mark", model.price_decimals, bits=PRICE_BITS)
    brackets: tuple[RateBracket, ...] = ()
    if spec.rates:
        def rates(b: dict[str, Any], p: str) -> tuple[int, ...]:
            ini = _rate(doc, b["initial"], f"{p}.initial", model)
            mnt = _rate(doc, b["maintenance"], f"{p}.maintenance", model)
            if mnt > ini:
                raise doc.fail(f"{p}.maintenance", f"{show_value(b['maintenance'])} exceeds the initial rate "
                                                   f"{show_value(b['initial'])}")
            return ini, mnt
        brackets = tuple(RateBracket(u, r[0], r[1]) for u, r in _brackets(
            doc, e["rate_brackets"], f"{path}.rate_brackets", model.n_rate_brackets, "n_rate_brackets", rates,
            ("initial", "maintenance"), model))
    risk: tuple[int, ...] = ()
    som = 0
    if spec.scenarios:
        arr = doc.as_list(e["risk_array"], f"{path}.risk_array")
        if len(arr) != model.n_scenarios:
            raise doc.fail(f"{path}.risk_array", f"expected {model.n_scenarios} scenarios (sizes.n_scenarios), "
                                                 f"got {len(arr)}")
        risk = tuple(doc.dec(r, f"{path}.risk_array[{s}]", model.price_decimals, signed=True, bits=RISK_BITS)
                     for s, r in enumerate(arr))
        if model.short_option_floor:
            som = doc.dec(e["short_option_minimum"], f"{path}.short_option_minimum", model.price_decimals,
                          bits=PRICE_BITS)
    group = doc.as_int(e["group"], f"{path}.group", 0, model.n_groups - 1) if "group" in e else 0
    tier = delta = 0
    if model.spreads:  # the tier's group is the instrument's (zkmargin.margin.span)
        tier = doc.as_int(e["tier"], f"{path}.tier", 0, model.spreads.n_tiers - 1)
        if model.spreads.tier_groups[tier] != group:
            raise doc.fail(f"{path}.tier", f"tier {tier} belongs to group {model.spreads.tier_groups[tier]}, "
                                           f"the instrument to group {group}")
        delta = doc.dec(e["delta"], f"{path}.delta", model.rate_decimals, signed=True, bits=DELTA_BITS)
    return InstrumentData(symbol=e["symbol"], mark=mark, rate_brackets=brackets, risk_array=risk,
                          short_option_minimum=som, group=group, tier=tier, delta=delta)


def _asset(doc: _Doc, x: Any, path: str, model: VenueModel) -> AssetData:
    spec = model.spec
    keys = ("symbol", "price") + (("haircut",) if spec.haircuts else ()) + \
        (("liquidation_threshold",) if spec.health else ()) + (("tiers",) if spec.tiers else ()) + \
        (("liability_weight",) if model.signed_collateral else ())
    e = doc.as_obj(x, path, keys, why=lambda k: f" (not used by the {model.margin_model} model)")
    price = doc.dec(e["price"], f"{path}.price", model.price_decimals, bits=PRICE_BITS)
    haircut = _rate(doc, e["haircut"], f"{path}.haircut", model) if spec.haircuts else 0
    lt = _rate(doc, e["liquidation_threshold"], f"{path}.liquidation_threshold", model) if spec.health else 0
    tiers: tuple[TierBracket, ...] = ()
    if spec.tiers:
        tiers = tuple(TierBracket(u, r[0]) for u, r in _brackets(
            doc, e["tiers"], f"{path}.tiers", model.n_tiers, "n_tiers",
            lambda b, p: (_rate(doc, b["haircut"], f"{p}.haircut", model),), ("haircut",), model))
    lw = 0
    if model.signed_collateral:  # a borrowed balance weighs at least its value: [100 %, MAX_LIABILITY_WEIGHT]
        lw = doc.dec(e["liability_weight"], f"{path}.liability_weight", model.rate_decimals,
                     maximum=MAX_LIABILITY_WEIGHT * model.rate_scale)
        if lw < model.rate_scale:
            raise doc.fail(f"{path}.liability_weight", f"{show_value(e['liability_weight'])} is below 1 (100 %): "
                                                       "a borrowed balance must weigh at least its value")
    return AssetData(symbol=e["symbol"], price=price, haircut=haircut, liquidation_threshold=lt, tiers=tiers,
                     liability_weight=lw)


# --- portfolio -----------------------------------------------------------------------------------

def load_portfolio(src: Source, model: VenueModel) -> Portfolio:
    """Load and validate a portfolio document against its venue model.

    Args:
        src: a path (str or PathLike) or the parsed JSON object.
        model: the venue model (decimals, symbols).
    Returns:
        The Portfolio (entries in file order).
    Raises:
        SchemaError: a missing, unknown or mistyped field, another model_id, a list the model
            does not have (debts in cross), an unknown symbol, two entries for one symbol, a
            value that does not fit its decimals or bounds. Names the field and the value.
        MalformedJSONError: the file is not JSON. OSError: the file cannot be read.
    """
    return _load(src, "portfolio", lambda doc, v: _parse_portfolio(doc, v, model))


def _parse_portfolio(doc: _Doc, v: Any, model: VenueModel) -> Portfolio:
    spec, kind = model.spec, model.margin_model
    lists = (("positions",) if spec.instruments else ()) + (("collateral",) if spec.assets else ()) + \
        (("debts",) if spec.health else ())
    doc.start(v, "portfolio")
    if spec.sensitivities:
        from .simm import parse_simm_portfolio
        return parse_simm_portfolio(doc, v, model)
    d = doc.as_obj(v, "", ("version", "kind", "model_id"),
                   ("description",) + lists + (("emode",) if model.n_emode else ()),
                   why=_absent(kind, ("positions", "collateral", "debts")))
    if d["model_id"] != model.model_id:
        raise doc.fail("model_id", f"{show_value(d['model_id'])} is not the venue model {show_value(model.model_id)}")
    positions: list[Position] = []
    if spec.instruments:
        seen: set[str] = set()
        for k, x in enumerate(doc.as_list(d.get("positions", []), "positions")):
            p = f"positions[{k}]"
            e = doc.as_obj(x, p, ("instrument", "size", "entry") + (("margin",) if spec.margins else ()),
                        why=lambda f: f" (not used by the {kind} model)")
            sym = e["instrument"]
            if sym not in model.instruments:
                raise doc.fail(f"{p}.instrument", f"unknown instrument {show_value(sym)} "
                                                  f"(the model lists {', '.join(model.instruments)})")
            if sym in seen:
                raise doc.fail(f"{p}.instrument", f"a second position in {show_value(sym)}: "
                                                  "at most one position per instrument")
            seen.add(sym)
            positions.append(Position(
                instrument=sym,
                size=doc.dec(e["size"], f"{p}.size", model.instrument_quantity_decimals(model.instrument_index(sym)),
                             signed=True, bits=WIDE_SIZE_BITS if model.wide_sizes else SIZE_BITS),
                entry=doc.dec(e["entry"], f"{p}.entry", model.price_decimals, bits=PRICE_BITS),
                margin=doc.dec(e["margin"], f"{p}.margin", model.value_decimals, bits=VALUE_BITS)
                if spec.margins else 0,
            ))
    collateral = _holdings(doc, d, "collateral", model) if spec.assets else ()
    debts = _holdings(doc, d, "debts", model) if spec.health else ()
    emode = doc.as_int(d.get("emode", 0), "emode", 0, model.n_emode) if model.n_emode else 0
    return Portfolio(model_id=d["model_id"], positions=tuple(positions), collateral=collateral, debts=debts,
                     description=doc.description(d), emode=emode)


def _holdings(doc: _Doc, d: dict[str, Any], key: str, model: VenueModel) -> tuple[Holding, ...]:
    out: list[Holding] = []
    seen: set[str] = set()
    for k, x in enumerate(doc.as_list(d.get(key, []), key)):
        p = f"{key}[{k}]"
        e = doc.as_obj(x, p, ("asset", "amount"))
        sym = e["asset"]
        if sym not in model.assets:
            raise doc.fail(f"{p}.asset", f"unknown asset {show_value(sym)} (the model lists {', '.join(model.assets)})")
        if sym in seen:
            raise doc.fail(f"{p}.asset", f"a second entry for {show_value(sym)}: at most one per asset")
        seen.add(sym)
        bits = WIDE_AMOUNT_BITS if model.per_symbol_decimals else AMOUNT_BITS
        decimals = model.asset_quantity_decimals(model.asset_index(sym))
        signed = model.signed_collateral and key == "collateral"  # a negative balance: borrowed
        out.append(Holding(sym, doc.dec(e["amount"], f"{p}.amount", decimals, bits=bits, signed=signed)))
    return tuple(out)


# --- writing -------------------------------------------------------------------------------------

def write_document(path: str | os.PathLike[str], document: Mapping[str, Any]) -> None:
    """Write a document dict (from ``to_dict``) as indented JSON, atomically.

    Args:
        path: the destination file; its folder must exist.
        document: the JSON object, e.g. ``market.to_dict(model)``.
    Raises:
        OSError: the file cannot be written (the previous file, if any, is left as it was).
    """
    atomic_write_text(Path(path), json.dumps(document, indent=2) + "\n")
