"""The native margin engine and the margin file formats (venue model, market data, portfolio).

Base install only (py_ecc + click): venues validate market files and traders evaluate portfolios
without numpy, numba or galois. The circuits in ``zkmargin.circuits.margin`` implement exactly
the semantics of ``zkmargin.margin.engine`` and hash the vectors of
``Market.to_field_elements`` / ``Portfolio.to_field_elements``.

- ``decimal``: exact decimal strings <-> integers with declared decimals;
- ``limits``: the bound of every integer (bit widths the circuits rely on);
- ``model``: the documents as dataclasses, their canonical dicts and field-element vectors;
- ``schema``: validating loaders (a path or a dict) and the document writer;
- ``engine``: ``evaluate(model, market, portfolio, threshold) -> MarginReport`` for the five models;
- ``statement``: the public inputs of a margin proof (commitment, market digest, threshold, context).
"""

from __future__ import annotations

from .decimal import format_amount, format_decimal, parse_decimal
from .engine import AssetLine, MarginReport, PositionLine, evaluate, parse_threshold, progressive
from .errors import SchemaError
from .model import (
    MODEL_KINDS,
    AssetData,
    Holding,
    InstrumentData,
    Market,
    Portfolio,
    Position,
    RateBracket,
    TierBracket,
    VenueModel,
    account_layout,
    layout_length,
    market_layout,
    model_digest,
    padding_slots,
)
from .schema import load_market, load_model, load_portfolio, write_document
from .statement import account_commitment, market_digest_of, public_inputs, threshold_field_value

__all__ = [
    "SchemaError",
    "parse_decimal",
    "format_decimal",
    "format_amount",
    "MODEL_KINDS",
    "VenueModel",
    "Market",
    "InstrumentData",
    "AssetData",
    "RateBracket",
    "TierBracket",
    "Portfolio",
    "Position",
    "Holding",
    "market_layout",
    "account_layout",
    "layout_length",
    "model_digest",
    "padding_slots",
    "load_model",
    "load_market",
    "load_portfolio",
    "write_document",
    "evaluate",
    "parse_threshold",
    "progressive",
    "MarginReport",
    "PositionLine",
    "AssetLine",
    "account_commitment",
    "market_digest_of",
    "threshold_field_value",
    "public_inputs",
]
