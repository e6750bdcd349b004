"""The builder API the CLI and the benchmarks call: circuits, assignments, public inputs, report wires.

* ``circuit_for(model)``: the shape-only circuit of a venue model (compile it for setup);
* ``assignment_for(model, market, portfolio, salt, threshold, context)``: the assigned circuit
  (solve it for the witness);
* ``assign_vectors(...)``: the same from raw field-element vectors (tests that play a malicious
  prover, tools that hold vectors rather than documents);
* ``public_inputs_for(model, market, commitment, threshold, context)``: what a verifier passes
  to ``verify``: ``[commitment, market_digest, threshold, context]``;
* ``report_values(cs, witness)``: the private report wires of a solved witness
  (``report/binding_scenario`` for the scenario model).

The threshold's field value is ``threshold_field_value(model, t)`` (``zkmargin.margin.statement``):
the decimal threshold times 10**model.threshold_decimals, an integer (value models: quote at
QD + PD decimals, < 2**128; health: the health factor at HD decimals, < 2**64).
"""

from __future__ import annotations

from collections.abc import Sequence

from zkmargin.encoding import commitment as native_commitment
from zkmargin.encoding import market_digest as native_market_digest
from zkmargin.errors import CircuitError
from zkmargin.margin.model import (
    Market,
    Portfolio,
    VenueModel,
    account_layout,
    layout_length,
    market_layout,
    model_digest,
)
from zkmargin.margin.statement import field_element, public_inputs, threshold_field_value
from zkmargin.r1cs import ConstraintSystem

from .base import MarginCircuit
from .cross import CrossMargin
from .health import HealthFactor
from .isolated import IsolatedMargin
from .scenario import ScenarioMargin
from .simm import SimmMargin
from .tiered import TieredMargin

__all__ = [
    "CIRCUITS",
    "circuit_class",
    "circuit_for",
    "assignment_for",
    "assign_vectors",
    "public_inputs_for",
    "threshold_field_value",
    "report_values",
]

#: The circuit class of each margin model.
CIRCUITS: dict[str, type[MarginCircuit]] = {
    "cross": CrossMargin,
    "isolated": IsolatedMargin,
    "scenario": ScenarioMargin,
    "health": HealthFactor,
    "tiered": TieredMargin,
    "simm": SimmMargin,
}


def circuit_class(model: VenueModel) -> type[MarginCircuit]:
    """The circuit class of ``model.margin_model``. Raises CircuitError for an unknown model."""
    try:
        return CIRCUITS[model.margin_model]
    except KeyError:
        raise CircuitError(f"no circuit for the margin model {model.margin_model!r}") from None


def circuit_for(model: VenueModel) -> MarginCircuit:
    """The shape-only circuit of ``model`` (pass it to ``zkmargin.circuits.compile``).

    Its shape depends on what the market header records (kind, venue, decimals, sizes,
    requirement basis, floor), not on the symbol lists.
    """
    return circuit_class(model)(model=model)


def assign_vectors(model: VenueModel, account: Sequence[int], salt: int, market: Sequence[int], threshold: int,
                   context: int, *, commitment: int | None = None, market_digest: int | None = None) -> MarginCircuit:
    """The assigned circuit from raw vectors (field elements), no document validation.

    Args:
        account, market: the account and market vectors (lengths of ``account_layout`` /
            ``market_layout``), ints in [0, r).
        salt, threshold, context: field elements (threshold already encoded).
        commitment, market_digest: the public values; default: computed natively from the
            vectors (a test passes other values to play a prover whose witness does not match).
    Raises:
        CircuitError: a vector of the wrong length. MalformedInputError: a value not in [0, r).
    """
    for name, vec, layout in (("account", account, account_layout(model)), ("market", market, market_layout(model))):
        if len(vec) != layout_length(layout):
            raise CircuitError(f"the {name} vector has {len(vec)} values, the model needs {layout_length(layout)}")
    acc = [field_element(v, f"account[{i}]") for i, v in enumerate(account)]
    mkt = [field_element(v, f"market[{i}]") for i, v in enumerate(market)]
    s = field_element(salt, "salt")
    return circuit_class(model)(
        model=model,
        commitment=(native_commitment(model_digest(model), acc, s) if commitment is None
                    else field_element(commitment, "commitment")),
        market_digest=native_market_digest(mkt) if market_digest is None else field_element(market_digest,
                                                                                              "market_digest"),
        threshold=field_element(threshold, "threshold"),
        context=field_element(context, "context"),
        account=acc, salt=s, market=mkt,
    )


def assignment_for(model: VenueModel, market: Market, portfolio: Portfolio, salt: int, threshold: int | str,
                   context: int) -> MarginCircuit:
    """The assigned circuit of a portfolio against one epoch's market data.

    Args:
        model, market, portfolio: documents loaded with ``zkmargin.margin`` (validated).
        salt: the commitment's blinding (``zkmargin.encoding.random_salt``).
        threshold: an int at ``model.threshold_decimals`` or a decimal string (``parse_threshold``).
        context: ``zkmargin.encoding.context_hash(...)``, computed by the caller.
    Returns:
        The circuit, every field assigned; ``zkmargin.circuits.solve`` gives the witness, which
        satisfies the constraints exactly when ``zkmargin.margin.evaluate(...).passes``.
    Raises:
        SchemaError: market or portfolio of another model, a bad threshold.
        MalformedInputError: salt or context not in [0, r).
    """
    return assign_vectors(model, portfolio.to_field_elements(model), salt, market.to_field_elements(model),
                          threshold_field_value(model, threshold), context)


def public_inputs_for(model: VenueModel, market: Market, commitment: int, threshold: int | str,
                      context: int) -> list[int]:
    """``[commitment, market_digest, threshold, context]``: what ``verify`` takes for this statement.

    See ``zkmargin.margin.statement.public_inputs`` (the same function; base install only).
    """
    return public_inputs(model, market, commitment, threshold, context)


def report_values(cs: ConstraintSystem, witness: Sequence[int]) -> dict[str, int]:
    """The private ``report/*`` wires of a solved witness, by name without the prefix.

    Scenario: ``{"binding_scenario": 0-based index of the worst scenario}``; other models: {}.
    """
    return {name.removeprefix("report/"): witness[i] for i, name in enumerate(cs.wire_names)
            if name.startswith("report/")}
