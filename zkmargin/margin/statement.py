"""The public statement of a margin proof, computed natively: what a verifier checks a proof against.

A margin proof (``zkmargin.circuits.margin``) has four public inputs, in this order:

1. ``commitment = zkmargin.encoding.commitment(model_digest(model), portfolio.to_field_elements(model),
   salt)``;
2. ``market_digest = zkmargin.encoding.market_digest(market.to_field_elements(model))``;
3. ``threshold``: the threshold as the integer ``parse_threshold`` returns, i.e. the decimal
   threshold times ``10**model.threshold_decimals``: for the value models (cross, isolated,
   scenario, tiered) the required surplus in quote at QD + PD decimals ("1000" quote with
   QD = 6, PD = 2 is 1000 * 10**8), below 2**128; for health the required health factor at HD
   decimals ("1.30" with HD = 18 is 13 * 10**17), below 2**64. Never reduced mod r: out of range
   is an error;
4. ``context = zkmargin.encoding.context_hash(venue_id, epoch, nonce, chain_id)``, computed by
   the caller (the verifier chooses nonce and chain id).

Soundness precondition of every margin circuit: the market digest a verifier uses is computed
here from a ``Market`` returned by ``zkmargin.margin.schema.load_market`` (a validated market
file), never taken from the prover. Base install only (no circuits, numpy or numba needed).
"""

from __future__ import annotations

import operator

from zkmargin.encoding import commitment as _commitment
from zkmargin.encoding import market_digest as _market_digest
from zkmargin.errors import MalformedInputError
from zkmargin.field import R

from .engine import parse_threshold
from .model import Market, Portfolio, VenueModel, model_digest

__all__ = ["account_commitment", "market_digest_of", "threshold_field_value", "public_inputs", "field_element",
           "key_statement_info"]


def field_element(value: object, what: str) -> int:
    """``value`` as an int in [0, r).

    Raises:
        MalformedInputError: not in [0, r). TypeError: not an integer (bools refused).
    """
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an integer, got a bool")
    try:
        x = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be an integer, got {type(value).__name__}") from None
    if not 0 <= x < R:
        raise MalformedInputError(f"{what} is not a field element: {x} is outside [0, r)")
    return x


def account_commitment(model: VenueModel, portfolio: Portfolio, salt: int) -> int:
    """``Commit(model_digest, A, salt)`` of the portfolio's account vector (``Portfolio.to_field_elements``).

    Raises:
        SchemaError: the portfolio belongs to another model. MalformedInputError: salt not in [0, r).
    """
    return _commitment(model_digest(model), portfolio.to_field_elements(model), field_element(salt, "salt"))


def market_digest_of(model: VenueModel, market: Market) -> int:
    """``Digest(M)`` of the market vector (``Market.to_field_elements``).

    Raises:
        SchemaError: the market belongs to another model.
    """
    return _market_digest(market.to_field_elements(model))


def threshold_field_value(model: VenueModel, threshold: int | str) -> int:
    """The public ``threshold`` input: ``parse_threshold(model, threshold)`` (module docstring).

    Raises:
        SchemaError: malformed or out of range. TypeError: neither int nor str.
    """
    return parse_threshold(model, threshold)


def public_inputs(model: VenueModel, market: Market, commitment: int, threshold: int | str,
                  context: int) -> list[int]:
    """The public inputs a verifier expects: ``[commitment, market_digest, threshold, context]``.

    Args:
        model: the venue model; market: the epoch's market data, loaded (validated) against it.
        commitment: the account commitment the verifier holds; threshold: as ``parse_threshold``
            takes it; context: the ``context_hash`` the verifier chose.
    Raises:
        SchemaError: market of another model, bad threshold. MalformedInputError: commitment or
            context not in [0, r).
    """
    return [field_element(commitment, "commitment"), market_digest_of(model, market),
            threshold_field_value(model, threshold), field_element(context, "context")]


def key_statement_info(model: VenueModel, kind: str = "bilateral") -> dict[str, str]:
    """What a verification key made for ``model`` records (``VerifyingKey.statement``; the JSON's
    ``zkmargin`` field): the statement kind, the model id and the model digest."""
    return {"kind": kind, "model_id": model.model_id, "model_digest": str(model_digest(model))}
