"""Margin models as circuits: cross, isolated, scenario, health, tiered, simm (and the demo cross_simple).

Each circuit proves docs/design.md's statement for one venue model. Public inputs, in order:

1. ``commitment``: ``Commit(model_digest, account, salt)``; the circuit hashes the model digest
   (a constant), its secret salt and account vector (``zkmargin.margin.account_layout``) and
   constrains the result equal to it;
2. ``market_digest``: ``Digest(market)``; the circuit hashes its secret market vector
   (``zkmargin.margin.market_layout``) and constrains the result equal to it; the header's
   constants (model, venue, decimals, sizes, parameters; all but the epoch) are pinned to the
   venue model's;
3. ``threshold``: range-checked (< 2**128, health < 2**64) and used by the rule; its encoding is
   the integer ``zkmargin.margin.parse_threshold`` returns (``zkmargin.margin.statement``);
4. ``context``: ``zkmargin.encoding.context_hash(venue_id, epoch, nonce, chain_id)``, computed by
   the caller. No constraint uses it: Groth16 with snarkjs's public-input rows (one QAP row per
   public wire) binds every public input, so a proof for one context fails for any other
   (a test proves this).

Secrets: the account vector, the salt, the market vector. The circuit implements exactly
``zkmargin.margin.engine``: the witness of an honest prover satisfies the constraints if and only
if ``evaluate(model, market, portfolio, threshold).passes``.

Range checks and the precondition on market data
------------------------------------------------

Every account value is range-checked before use at the widths of ``zkmargin.margin.limits``
(sizes signed 63 bits, entries 64, amounts 64, isolated margins 128), and so is the threshold.
Market values are NOT range-checked. They are witness values a malicious prover types in, but
the in-circuit digest binds them exactly (Poseidon collision resistance) to the public
``market_digest``, so they are the values of whatever market the verifier's digest stands for.

    PRECONDITION (soundness): the verifier computes ``market_digest`` itself from the venue's
    published market file, loaded and validated with ``zkmargin.margin.load_market`` against
    the venue model (``public_inputs_for`` does exactly that), or takes it from the venue, which
    publishes digests of validated market files only. A digest chosen by the prover proves
    nothing: whoever picks the prices picks the outcome, range checks or not.

Under the precondition every market value satisfies the loaders' bounds (prices < 2**64,
|risk| < 2**64, rates <= RS < 2**60, bounds < 2**128 and increasing), which is all the no-wrap
arguments in each model's docstring need. Range-checking them again would add no soundness and
would more than double the scenario model at 64 x 16 x 8 (66,038 constraints; the 1,024 signed
risk entries alone would add 1,024 * 67 = 68,608). The header pin (15 constraints) is kept
because it is cheap and makes a digest of a market for another model shape (other decimals,
sizes, basis) unusable with this circuit.

The account vector is fully constrained (``base``): padding slots (instrument or asset slots
beyond the model's symbols) are constrained to zero in every segment, and any account value the
model's rule does not read is constrained to zero too; a portfolio document always has zeros
there. The commitment hashes the model digest (``zkmargin.margin.model_digest``: id, header,
symbols) first, and every circuit has it as a constant: an account committed under one model never
opens under another, and a circuit (so a key) belongs to exactly one model.

Modules: ``base`` (the shared statement), ``gadgets`` (positions, brackets, exact division, the
final check), one module per model, ``build`` (the builder API re-exported here).
"""

from zkmargin.margin.model import VenueModel

from .base import MarginCircuit, statement_cost
from .build import (
    CIRCUITS,
    assign_vectors,
    assignment_for,
    circuit_class,
    circuit_for,
    public_inputs_for,
    report_values,
    threshold_field_value,
)
from .cross import CrossMargin, cross_cost
from .health import HealthFactor, health_cost
from .isolated import IsolatedMargin, isolated_cost
from .scenario import BINDING_WIRE, ScenarioMargin, scenario_cost
from .simm import SimmMargin, simm_cost
from .tiered import TieredMargin, tiered_cost

__all__ = [
    "MarginCircuit",
    "CrossMargin",
    "IsolatedMargin",
    "ScenarioMargin",
    "HealthFactor",
    "TieredMargin",
    "SimmMargin",
    "CIRCUITS",
    "circuit_class",
    "circuit_for",
    "assignment_for",
    "assign_vectors",
    "public_inputs_for",
    "threshold_field_value",
    "report_values",
    "constraint_count",
    "statement_cost",
    "cross_cost",
    "isolated_cost",
    "scenario_cost",
    "health_cost",
    "tiered_cost",
    "simm_cost",
    "BINDING_WIRE",
]

_COSTS = {"cross": cross_cost, "isolated": isolated_cost, "scenario": scenario_cost, "health": health_cost,
          "tiered": tiered_cost, "simm": simm_cost}


def constraint_count(model: VenueModel) -> int:
    """The number of constraints of ``circuit_for(model)`` by formula, without compiling.

    Raises:
        KeyError: an unknown margin model.
    """
    return _COSTS[model.margin_model](model)
