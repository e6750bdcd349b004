"""The venue's check of a margin proof: the proof verifies AND it speaks about the right statement.

A Groth16 proof is only as good as the public inputs it is checked against. A venue must not take
them from the prover's ``public.json``: it recomputes each one from its own data: the market digest
from its own validated market file, the threshold from its rule, the context from the challenge it
issued, and the commitment it holds for the account. ``check_margin_proof`` compares the prover's
public inputs with those, names every one that differs, and only then runs the pairing check.

Base install only (py_ecc + click).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from zkmargin.groth16 import Proof, VerifyingKey
from zkmargin.margin.documents import Context
from zkmargin.margin.model import Market, VenueModel
from zkmargin.margin.statement import public_inputs

from .groth16_verify import PreparedVerifyingKey, verify

__all__ = ["PUBLIC_INPUT_NAMES", "ExpectedStatement", "expected_statement", "MarginVerdict", "check_margin_proof"]

#: The public inputs of every margin proof, in order.
PUBLIC_INPUT_NAMES = ("commitment", "market_digest", "threshold", "context")


@dataclass(frozen=True)
class ExpectedStatement:
    """The four public inputs the venue expects, computed from its own data."""

    commitment: int
    market_digest: int
    threshold: int
    context: int

    def as_list(self) -> list[int]:
        return [self.commitment, self.market_digest, self.threshold, self.context]


def expected_statement(model: VenueModel, market: Market, commitment: int, threshold: int | str,
                       context: Context) -> ExpectedStatement:
    """The statement a valid margin proof must carry for this account, epoch, rule and challenge.

    Raises:
        SchemaError: the market belongs to another model, or the threshold is malformed.
    """
    if market.epoch != context.epoch:
        from zkmargin.margin.errors import SchemaError

        raise SchemaError("context", "epoch", f"is {context.epoch} but the market data is for epoch {market.epoch}")
    return ExpectedStatement(*public_inputs(model, market, commitment, threshold, context.field_value()))


@dataclass
class MarginVerdict:
    """Outcome of ``check_margin_proof``: ``ok`` only when the statement matches and the proof verifies."""

    mismatches: list[tuple[str, int, int]] = field(default_factory=list)  # (name, expected, got)
    proof_valid: bool | None = None  # None: not checked because the statement differs

    @property
    def ok(self) -> bool:
        return not self.mismatches and bool(self.proof_valid)

    def explain(self) -> str:
        if self.mismatches:
            parts = [f"{name} differs (expected {exp}, proof carries {got})" for name, exp, got in self.mismatches]
            return "the proof is about another statement: " + "; ".join(parts)
        if self.proof_valid:
            return "valid: the account meets the rule for this market, threshold and context"
        return "invalid: the proof does not verify for this statement"


def check_margin_proof(vk: VerifyingKey | PreparedVerifyingKey, public: Sequence[int], proof: Proof,
                       expected: ExpectedStatement) -> MarginVerdict:
    """Compare the proof's public inputs with the venue's expected ones, then verify the proof.

    Raises:
        MalformedInputError (and subclasses): malformed public inputs, proof or key (see ``verify``).
    """
    want = expected.as_list()
    verdict = MarginVerdict()
    if len(public) != len(want):
        from zkmargin.errors import PublicInputCountError

        raise PublicInputCountError(f"a margin proof has {len(want)} public inputs "
                                    f"({', '.join(PUBLIC_INPUT_NAMES)}), got {len(public)}")
    for name, exp, got in zip(PUBLIC_INPUT_NAMES, want, public, strict=True):
        if exp != got:
            verdict.mismatches.append((name, exp, got))
    if verdict.mismatches:
        return verdict
    verdict.proof_valid = verify(vk, want, proof)
    return verdict
