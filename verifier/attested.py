"""The venue's check of a venue-attested margin proof: the statement it expects, from its own files.

An attested proof (``zkmargin.circuits.margin.attested``) has the public inputs
``(account_root, market_digest, threshold, context, nullifier)``. The venue (or any third party
that trusts the venue's published root) computes the first four from its own data: the root from
the ``root.json`` it published for the epoch, the market digest from its validated market file,
the threshold from its rule, the context from the challenge it issued. The nullifier it cannot
compute (it is made from the trader's secret key): the statement leaves it free (``None``), the
comparison takes it from the proof, and the venue's ledger records it and refuses it the second
time (one account answers one context once).

Every verification path checks an attested proof with ``check_margin_proof`` /
``check_margin_proofs`` (``zkmargin.verifier.venue``) and the statement from
:func:`expected_attested_statement`. Base install only (py_ecc + click).
"""

from __future__ import annotations

from zkmargin.accounts import ATTESTED_PUBLIC_INPUTS, RootDocument
from zkmargin.margin.documents import Context
from zkmargin.margin.errors import SchemaError
from zkmargin.margin.model import Market, VenueModel, model_digest
from zkmargin.margin.statement import market_digest_of, threshold_field_value

from .venue import ExpectedStatement, check_context_matches_market

__all__ = ["ATTESTED_PUBLIC_INPUTS", "expected_attested_statement", "check_root_matches"]


def check_root_matches(root: RootDocument, model: VenueModel, market: Market) -> None:
    """The published root must be for this model and for the market data's epoch.

    Raises:
        SchemaError: naming the root document's field that differs (model_id, model_digest, epoch).
    """
    if root.model_id != model.model_id:
        raise SchemaError("root", "model_id", f"is {root.model_id!r}, the venue model is {model.model_id!r}")
    if root.model_digest != model_digest(model):
        raise SchemaError("root", "model_digest", f"is {root.model_digest}, the venue model's is {model_digest(model)}"
                                                  " (the tree was built under another version of the model)")
    if root.epoch != market.epoch:
        raise SchemaError("root", "epoch", f"is {root.epoch} but the market data is for epoch {market.epoch}")


def expected_attested_statement(model: VenueModel, market: Market, root: RootDocument, threshold: int | str,
                                context: Context, label: str = "") -> ExpectedStatement:
    """The attested statement a valid proof must carry for this root, epoch, rule and challenge.

    Args:
        model: the venue model; market: the epoch's market data, loaded (validated) against it.
        root: the root document the venue published for the epoch (``zkmargin.accounts.load_root``).
        threshold: as ``parse_threshold`` takes it; context: the challenge the verifier issued.
        label: what to call the proof in messages.
    Returns:
        An ``ExpectedStatement`` of kind "attested" whose nullifier is free (taken from the proof).
    Raises:
        SchemaError: the root is for another model or epoch, the context for another venue or
            epoch than the market data, a malformed threshold.
    """
    check_context_matches_market(context, market)
    check_root_matches(root, model, market)
    values: tuple[int | None, ...] = (root.root, market_digest_of(model, market),
                                      threshold_field_value(model, threshold), context.field_value(), None)
    return ExpectedStatement(ATTESTED_PUBLIC_INPUTS, values, "attested", model.model_id, model_digest(model), label)
