"""The venue's check of a margin proof: the proof verifies AND it speaks about the right statement.

A Groth16 proof is only as good as the public inputs it is checked against. A venue must not take
them from the prover's ``public.json``: it recomputes each one from its own data: the market digest
from its own validated market file, the threshold from its rule, the context from the challenge it
issued, and the commitment it holds for the account (or, for the venue-attested statement, the
account root it published). Every verification path (one proof, a batch, the CLI, the Python API,
the service) goes through the one comparison here, :func:`statement_mismatches`, before any
pairing: it names every input that differs, and a proof about another statement never reaches the
pairing check.

A statement is an :class:`ExpectedStatement`: the names of the public inputs in order, the value
the venue expects for each, and the model it belongs to. An expected value of ``None`` means "free:
whatever the proof carries", used only for an input the verifier cannot compute and must record
instead (the attested statement's nullifier, which the venue's ledger consumes once).

Base install only (py_ecc + click).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from zkmargin.errors import MalformedInputError, PublicInputCountError
from zkmargin.groth16 import Proof, VerifyingKey
from zkmargin.margin.documents import Context
from zkmargin.margin.errors import SchemaError
from zkmargin.margin.limits import DUAL_SHIFT
from zkmargin.margin.model import Market, VenueModel, model_digest
from zkmargin.margin.statement import public_inputs

from .batch import _prefixed, _validate_items, _verify_validated
from .groth16_verify import PreparedVerifyingKey, prepare_verifying_key, validate_public_inputs, verify

__all__ = [
    "PUBLIC_INPUT_NAMES",
    "ExpectedStatement",
    "expected_statement",
    "statement_mismatches",
    "check_key_model",
    "KeyModelMismatchError",
    "MarginVerdict",
    "MarginItem",
    "BatchMarginVerdict",
    "check_margin_proof",
    "check_margin_proofs",
    "explain_mismatches",
]

#: The public inputs of a bilateral margin proof, in order.
PUBLIC_INPUT_NAMES = ("commitment", "market_digest", "threshold", "context")


class KeyModelMismatchError(MalformedInputError):
    """The verification key records another model (or statement kind) than the one being checked."""


@dataclass(frozen=True)
class ExpectedStatement:
    """The public inputs the venue expects, computed from its own data, with their names.

    Attributes:
        names: the public inputs' names, in the circuit's order.
        values: the expected value of each (``None``: free, the proof's value is recorded instead).
        kind: "bilateral" or "attested".
        model_id, model_digest: the venue model the statement is about (``None`` when unknown).
        label: what to call this statement in messages (an account id, a file name), optional.
    """

    names: tuple[str, ...]
    values: tuple[int | None, ...]
    kind: str = "bilateral"
    model_id: str | None = None
    model_digest: int | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if len(self.names) != len(self.values):
            raise ValueError(f"a statement has one value per name: {len(self.names)} names, {len(self.values)} values")

    def value(self, name: str) -> int | None:
        """The expected value of the input called ``name``. Raises KeyError for an unknown name."""
        return self.values[self.names.index(name)]

    def as_list(self) -> list[int]:
        """The values as ``verify`` takes them. Raises ValueError when one of them is free."""
        if any(v is None for v in self.values):
            raise ValueError("the statement has a free input (taken from the proof): use bind(public)")
        return [v for v in self.values if v is not None]

    def bind(self, public: Sequence[int]) -> list[int]:
        """The values with every free input taken from ``public`` (call after a clean comparison)."""
        return [p if v is None else v for v, p in zip(self.values, public, strict=True)]

    # the bilateral statement's inputs by name (kept for the callers of the four-input form)
    @property
    def commitment(self) -> int | None:
        return self.value("commitment")

    @property
    def market_digest(self) -> int | None:
        return self.value("market_digest")

    @property
    def threshold(self) -> int | None:
        return self.value("threshold")

    @property
    def context(self) -> int | None:
        return self.value("context")


def expected_statement(model: VenueModel, market: Market, commitment: int, threshold: int | str,
                       context: Context, label: str = "") -> ExpectedStatement:
    """The bilateral statement a valid margin proof must carry for this account, epoch, rule and challenge.

    Raises:
        SchemaError: the market belongs to another model, the context is for another venue or
            epoch than the market data, or the threshold is malformed.
        MalformedInputError: the commitment is not a field element.
    """
    check_context_matches_market(context, market)
    values = public_inputs(model, market, commitment, threshold, context.field_value())
    return ExpectedStatement(PUBLIC_INPUT_NAMES, tuple(values), "bilateral", model.model_id, model_digest(model),
                             label)


def check_context_matches_market(context: Context, market: Market) -> None:
    """The venue's context must be for the venue and epoch of the market data it checks against.

    Raises:
        SchemaError: naming the field (venue or epoch) that differs.
    """
    if context.venue != market.venue:
        raise SchemaError("context", "venue", f"is {context.venue!r} but the market data is {market.venue!r}'s")
    if context.epoch != market.epoch:
        raise SchemaError("context", "epoch", f"is {context.epoch} but the market data is for epoch {market.epoch}")


def statement_mismatches(public: Sequence[int], expected: ExpectedStatement) -> list[tuple[str, int, int]]:
    """Every public input that differs from the venue's expectation, as ``(name, expected, got)``.

    The one comparison every verification path makes before any pairing.

    Raises:
        PublicInputCountError: the proof carries another number of public inputs than the
            statement has (the message names the statement's inputs).
        PublicInputOutOfRangeError: a public input is not a field element.
    """
    if isinstance(public, str | bytes | bytearray) or not isinstance(public, Sequence):
        validate_public_inputs(public, len(expected.names))  # raises, naming the type
    if len(public) != len(expected.names):
        raise PublicInputCountError(f"a {expected.kind} margin proof has {len(expected.names)} public inputs "
                                    f"({', '.join(expected.names)}), got {len(public)}")
    xs = validate_public_inputs(public, len(expected.names))
    return [(name, exp, got) for name, exp, got in zip(expected.names, expected.values, xs, strict=True)
            if exp is not None and exp != got]


def check_key_model(vk: VerifyingKey | PreparedVerifyingKey, expected: ExpectedStatement) -> None:
    """Refuse a verification key that records another model or statement kind than ``expected``.

    Keys written by ``zkmargin setup`` for a venue model record the model (``VerifyingKey.statement``;
    snarkjs ignores the extra field). A key that records nothing (snarkjs's own) passes: the model
    digest is still a constant of the circuit, so a proof of another model cannot open the
    commitment the venue holds.

    Raises:
        KeyModelMismatchError: naming what differs.
    """
    info = getattr(vk.vk if isinstance(vk, PreparedVerifyingKey) else vk, "statement", None)
    if not info:
        return
    digest, kind = info.get("model_digest"), info.get("kind")
    if expected.model_digest is not None and digest is not None and int(digest) != expected.model_digest:
        raise KeyModelMismatchError(
            f"the verification key is for model {info.get('model_id')!r} (model digest {digest}), the statement "
            f"is about model {expected.model_id!r} (model digest {expected.model_digest}): use that model's key")
    if kind is not None and kind != expected.kind:
        raise KeyModelMismatchError(f"the verification key is for the {kind} statement, the check is for the "
                                    f"{expected.kind} statement")


def _show_input(name: str, value: int) -> str:
    """A public input for a message; a packed pair of thresholds (initial * 2**128 + maintenance,
    ``zkmargin.margin.parse_threshold``) is shown split as well."""
    if name == "threshold" and value >> DUAL_SHIFT:
        hi, lo = divmod(value, 1 << DUAL_SHIFT)
        return f"{value} = initial {hi} * 2^{DUAL_SHIFT} + maintenance {lo}"
    return str(value)


def explain_mismatches(mismatches: Sequence[tuple[str, int, int]]) -> str:
    """The one message for a statement mismatch (every path: CLI, Python API, service)."""
    parts = [f"{name} differs (expected {_show_input(name, exp)}, proof carries {_show_input(name, got)})"
             for name, exp, got in mismatches]
    return "the proof is about another statement: " + "; ".join(parts)


@dataclass
class MarginVerdict:
    """Outcome of ``check_margin_proof``: ``ok`` only when the statement matches and the proof verifies."""

    mismatches: list[tuple[str, int, int]] = field(default_factory=list)  # (name, expected, got)
    proof_valid: bool | None = None  # None: not checked because the statement differs
    label: str = ""
    public: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.mismatches and bool(self.proof_valid)

    def explain(self) -> str:
        if self.mismatches:
            return explain_mismatches(self.mismatches)
        if self.proof_valid:
            return "valid: the account meets the rule for this market, threshold and context"
        return "invalid: the proof does not verify for this statement"


def check_margin_proof(vk: VerifyingKey | PreparedVerifyingKey, public: Sequence[int], proof: Proof,
                       expected: ExpectedStatement) -> MarginVerdict:
    """Compare the proof's public inputs with the venue's expected ones, then verify the proof.

    Raises:
        KeyModelMismatchError: the key records another model or statement kind.
        MalformedInputError (and subclasses): malformed public inputs, proof or key (see ``verify``).
    """
    check_key_model(vk, expected)
    verdict = MarginVerdict(label=expected.label, public=tuple(public))
    verdict.mismatches = statement_mismatches(public, expected)
    if verdict.mismatches:
        return verdict
    verdict.proof_valid = verify(vk, expected.bind(public), proof)
    return verdict


@dataclass(frozen=True)
class MarginItem:
    """One proof of a batch, with the statement the venue expects of it (each trader's own)."""

    public: Sequence[int]
    proof: Proof
    expected: ExpectedStatement
    label: str = ""


@dataclass
class BatchMarginVerdict:
    """Outcome of ``check_margin_proofs``: one verdict per item, in order."""

    verdicts: list[MarginVerdict]
    checks: int = 0

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)

    @property
    def n(self) -> int:
        return len(self.verdicts)

    @property
    def bad(self) -> list[int]:
        return [i for i, v in enumerate(self.verdicts) if not v.ok]

    def explain_bad(self) -> list[str]:
        """``label: reason`` for every item that is not accepted."""
        return [f"{v.label or f'item {i}'}: {v.explain()}" for i, v in enumerate(self.verdicts) if not v.ok]


def check_margin_proofs(vk: VerifyingKey | PreparedVerifyingKey, items: Sequence[MarginItem],
                        rng: object = None) -> BatchMarginVerdict:
    """``check_margin_proof`` for many proofs at once: each item's statement compared first, then one
    batch pairing check (``verify_batch``) over the items whose statement matches.

    Args:
        vk: the verifying key (prepared once here when it is not already).
        items: the proofs, each with the statement the venue expects of it (e.g. each trader's own
            commitment).
        rng: as for ``verify_batch`` (tests only).
    Raises:
        KeyModelMismatchError: the key records another model or statement kind than an item's.
        MalformedInputError (and subclasses): a malformed key or item; item errors start with the
            item's label. Every item is compared and validated before any pairing.
    """
    pvk = vk if isinstance(vk, PreparedVerifyingKey) else prepare_verifying_key(vk)
    verdicts: list[MarginVerdict] = []
    to_pair: list[int] = []
    for i, item in enumerate(items):
        name = item.label or item.expected.label or f"item {i}"
        try:
            check_key_model(pvk, item.expected)
            mism = statement_mismatches(item.public, item.expected)
        except MalformedInputError as e:
            raise _prefixed(e, name) from None
        verdicts.append(MarginVerdict(mismatches=mism, label=name, public=tuple(item.public)))
        if not mism:
            to_pair.append(i)
    pairs = [(items[i].expected.bind(items[i].public), items[i].proof) for i in to_pair]
    checked = _validate_items(pvk, pairs, names=[verdicts[i].label for i in to_pair])
    result = _verify_validated(pvk, checked, rng)  # type: ignore[arg-type]
    bad = {to_pair[k] for k in result.bad}
    for i in to_pair:
        verdicts[i].proof_valid = i not in bad
    return BatchMarginVerdict(verdicts, result.checks)
