"""The statement every margin-model circuit shares: inputs, commitment, market digest, header, padding.

``MarginCircuit`` declares the inputs (public: commitment, market_digest, threshold, context, in
that order; secret: the account vector, the salt, the market vector), binds the account to the
public commitment under the model digest, the market vector to the public market digest, pins the
market header to the venue model, range-checks the public threshold, constrains every unused
account slot to zero, and hands the named segments of both vectors to the model's ``margin``
method. Each model module (cross, isolated, scenario, health, tiered) subclasses it.

The account-vector rule (in this base, so that no model can forget it):

1. every padding slot (``zkmargin.margin.padding_slots``: instrument slots beyond the model's
   instruments, asset slots beyond its assets, in every account segment) is constrained to zero
   before the model's rule runs: a position in a spare slot (mark 0, no brackets) would otherwise
   add equity with no requirement;
2. after the model's rule, every account value that no constraint of the rule mentions is
   constrained to zero: a field a model does not read cannot carry anything.

The model digest (``zkmargin.margin.model_digest``) is a compile-time constant hashed first into
the commitment: an account committed under another model (even one of equal vector length) does
not open here.

Cost of this shared part (``statement_cost``): ``commitment_cost(n_account)`` (commitment, the
model digest a constant) + ``hash_vector_cost(n_market)`` (digest) + 2 (the two equalities) + 15
(header) + the threshold's range check (``threshold_cost``: THRESHOLD_BITS + 1 = 129, health
HEALTH_THRESHOLD_BITS + 1 = 65, a ratio 33; two thresholds 2 * 126 + 1 = 253) + one constraint per
padding slot (``len`` of every ``padding_slots`` list) + one per unread account value (none for the
five models: each reads every slot). The final check (``assert_statement``, ``check_cost``) is
counted by each model.

The statement forms (``model.statement``, ``model.bases``; ``zkmargin.margin.engine``), checked by
``assert_statement`` with E the equity and Q_b the requirement of basis b, both scaled by RS:

* surplus: ``E - Q_b - RS * t_b`` in [0, 2**SURPLUS_BITS) (SURPLUS_BITS + 1 constraints);
* ratio: ``E * 10**RATIO_DECIMALS - t_b * Q_b`` in [0, 2**RATIO_SURPLUS_BITS) (1 + 238); ratio-above
  (strictly above t) the same minus 1;
* two bases (initial and maintenance): one check per basis, each against its own threshold; the
  public threshold is ``t_initial * 2**DUAL_SHIFT + t_maintenance``, split by a hint into two
  125-bit range-checked parts and recomposed (below 2**253 < r, so a lying split fails).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from typing import Any, ClassVar

from zkmargin.errors import CircuitError
from zkmargin.margin.engine import threshold_bits
from zkmargin.margin.limits import (
    DUAL_SHIFT,
    MAX_BRACKETS,
    MAX_DECIMALS,
    MAX_ITEMS,
    MAX_SCENARIOS,
    RATIO_SURPLUS_BITS,
    SURPLUS_BITS,
)
from zkmargin.margin.model import (
    HEADER_LENGTH,
    RATIO_DECIMALS,
    VenueModel,
    account_layout,
    layout_length,
    market_layout,
    model_digest,
    padding_slots,
)

from ..api import API, Var
from ..circuit import Circuit, param, public, secret
from ..hints import register_hint
from ..std import encoding, rangecheck
from . import gadgets

__all__ = ["MarginCircuit", "Segments", "statement_cost", "padding_cost", "threshold_cost", "check_cost",
           "EPOCH_INDEX"]

#: Index of the epoch in the market header: the one header entry the circuit leaves free.
EPOCH_INDEX = 3

#: A vector cut into its layout's segments: name -> list of wires (1-D) or list of rows (2-D).
Segments = dict[str, Any]


def _split(values: list[Var], layout: list[tuple[str, tuple[int, ...]]]) -> Segments:
    out: Segments = {}
    pos = 0
    for name, shape in layout:
        n = layout_length([(name, shape)])
        flat = values[pos : pos + n]
        pos += n
        if len(shape) == 1:
            out[name] = flat
        else:
            cols = shape[1]
            out[name] = [flat[i * cols : (i + 1) * cols] for i in range(shape[0])]
    return out


@register_hint("margin.split_threshold")
def _hint_split_threshold(ins: Sequence[int]) -> list[int]:
    """Input: the packed threshold; outputs (t_initial, t_maintenance)."""
    hi, lo = divmod(ins[0], 1 << DUAL_SHIFT)
    return [hi, lo]


def threshold_cost(model: VenueModel) -> int:
    """Constraints of the public threshold's range check (one or two thresholds)."""
    bits = threshold_bits(model)
    return len(model.bases) * (bits + 1) + (1 if len(model.bases) > 1 else 0)


def check_cost(model: VenueModel) -> int:
    """Constraints of ``assert_statement``: per basis, SURPLUS_BITS + 1 (surplus) or
    1 + RATIO_SURPLUS_BITS + 1 (ratio)."""
    per = 1 + RATIO_SURPLUS_BITS + 1 if model.statement != "surplus" else SURPLUS_BITS + 1
    return len(model.bases) * per


def padding_cost(model: VenueModel) -> int:
    """Constraints of the padding rule: one per padding slot of the account vector."""
    return sum(len(v) for v in padding_slots(model).values())


def _flatten_segment(seg: Any) -> list[Var]:
    if seg and isinstance(seg[0], list):
        return [v for row in seg for v in row]
    return list(seg)


def statement_cost(model: VenueModel) -> int:
    """Constraints of the shared part of a margin circuit for ``model`` (module docstring)."""
    n_acc = layout_length(account_layout(model))
    n_mkt = layout_length(market_layout(model))
    return (encoding.commitment_cost(n_acc) + encoding.hash_vector_cost(n_mkt) + 2
            + (HEADER_LENGTH - 1) + threshold_cost(model) + padding_cost(model))


class MarginCircuit(Circuit):
    """Base of the margin-model circuits (see the module docstring and ``zkmargin.circuits.margin``).

    Subclasses set ``kind`` and implement ``margin(api, account, market)``, which range-checks
    every account value it uses and constrains the model's final difference to be >= 0.
    The shape depends only on what the market header records (model kind, venue, decimals,
    sizes, requirement basis, short option floor), not on the symbol lists: a venue can fill a
    spare slot with a new symbol without a new setup.
    """

    kind: ClassVar[str] = ""

    model = param(doc="the VenueModel: its sizes, decimals and parameters fix the circuit's shape")

    commitment = public(doc="Commit(account, salt): zkmargin.encoding.commitment of the account vector")
    market_digest = public(doc="Digest(market vector): zkmargin.encoding.market_digest")
    threshold = public(doc="the public threshold at model.threshold_decimals (value models: quote; health: h)")
    context = public(doc="context_hash(venue_id, epoch, nonce, chain_id); bound by the proof, no constraint")

    account = secret(shape="n_account", doc="the account vector (zkmargin.margin.account_layout)")
    salt = secret(doc="the commitment's blinding, a field element")
    market = secret(shape="n_market", doc="the market vector (zkmargin.margin.market_layout), bound by the digest")

    @property
    def n_account(self) -> int:
        """Length of the account vector."""
        return layout_length(account_layout(self.model))

    @property
    def n_market(self) -> int:
        """Length of the market vector (header included)."""
        return layout_length(market_layout(self.model))

    def _check_model(self) -> VenueModel:
        m = self.model
        if not isinstance(m, VenueModel):
            raise CircuitError(f"{type(self).__name__}: model must be a VenueModel, got {type(m).__name__}")
        if m.margin_model != self.kind:
            raise CircuitError(f"{type(self).__name__} is the {self.kind} circuit; the model is {m.margin_model}")
        # The loaders enforce these; the no-wrap bounds of every model rely on them.
        if m.n_instruments + m.n_assets > MAX_ITEMS:
            raise CircuitError(f"n_instruments + n_assets = {m.n_instruments + m.n_assets} exceeds {MAX_ITEMS}")
        if max(m.n_rate_brackets, m.n_tiers) > MAX_BRACKETS or m.n_scenarios > MAX_SCENARIOS:
            raise CircuitError("too many brackets, tiers or scenarios for the documented bounds")
        if max(m.quantity_decimals, m.price_decimals, m.rate_decimals, m.health_decimals) > MAX_DECIMALS:
            raise CircuitError(f"decimals above {MAX_DECIMALS} break the documented bounds")
        if not 0 <= m.base_decimals <= m.value_decimals:
            raise CircuitError("base decimals must lie in [0, quantity + price decimals]")
        return m

    def define(self, api: API) -> None:
        model = self._check_model()
        account: list[Var] = self.account
        with api.scope("statement"):
            self.bind_account(api, model, account)
        self.margin_core(api, model, account, self.market, self.threshold)

    def bind_account(self, api: API, model: VenueModel, account: list[Var]) -> None:
        """Bind the secret account vector to the public inputs: here ``commitment == Commit(model_digest,
        account, salt)``. A statement with another anchor (a venue's account tree) overrides this."""
        with api.scope("commitment"):
            api.assert_equal(encoding.commitment(api, model_digest(model), account, self.salt), self.commitment,
                             label="bind")

    def margin_core(self, api: API, model: VenueModel, account: list[Var], market: list[Var], threshold: Var) -> None:
        """Everything but the account's anchor: market digest, header pin, threshold range, the
        account-vector rule (padding slots and unread values zero) and the model's rule."""
        with api.scope("statement"):
            with api.scope("market_digest"):
                api.assert_equal(encoding.market_digest(api, market), self.market_digest, label="bind")
            with api.scope("header"):
                # Pins the compile-time constants the arithmetic uses (decimals, sizes, basis) to
                # the digested market: a digest of another model's market cannot be used here.
                for k, want in enumerate(model.header(0)):
                    if k != EPOCH_INDEX:
                        api.assert_equal(market[k], want, label=f"h[{k}]")
            with api.scope("threshold"):
                self._thresholds = self._split_thresholds(api, model, threshold)
            with api.scope("padding"):
                segments = _split(account, account_layout(model))
                for name, idx in padding_slots(model).items():
                    flat = _flatten_segment(segments[name])
                    for k in idx:
                        api.assert_zero(flat[k], label=f"{name}[{k}]")
        # self.context: a public input and nothing else. The QAP's public-input rows (snarkjs
        # convention) bind it: a proof made for one context does not verify for another.
        first = len(api.constraints)
        self.margin(api, _split(account, account_layout(model)), _split(market, market_layout(model)))
        read: set[int] = set()
        for a, b, c in api.constraints[first:]:
            read.update(a)
            read.update(b)
            read.update(c)
        with api.scope("statement"), api.scope("unread"):
            for k, v in enumerate(account):
                if v.wire is None or v.wire not in read:
                    api.assert_zero(v, label=f"account[{k}]")

    @staticmethod
    def _split_thresholds(api: API, model: VenueModel, threshold: Var) -> list[Var]:
        """The range-checked threshold of each basis (module docstring)."""
        bits = threshold_bits(model)
        if len(model.bases) == 1:
            rangecheck.assert_bits(api, threshold, bits=bits)
            return [threshold]
        hi, lo = api.hint("margin.split_threshold", [threshold], n_out=2)
        for name, v in (("initial", hi), ("maintenance", lo)):
            with api.scope(name):
                rangecheck.assert_bits(api, v, bits=bits)
        api.assert_equal(hi.scale(1 << DUAL_SHIFT) + lo, threshold, label="packed")
        return [hi, lo]

    def assert_statement(self, api: API, equity: Var, requirement: Var | Mapping[str, Var],
                         gate: Var | None = None) -> None:
        """The model's final check (module docstring): ``equity`` and the requirement (one Var, or
        one per basis of ``model.bases``) both scaled by RS, each with |x| < 2**(SURPLUS_BITS - 1).
        ``gate`` (a boolean wire, isolated: the slot is held) multiplies each difference first, so a
        gate of 0 checks nothing. Cost: ``check_cost(model)``, plus one per basis with a gate."""
        model = self.model
        bases = model.bases
        for basis, t in zip(bases, self._thresholds, strict=True):
            q = requirement[basis] if isinstance(requirement, Mapping) else requirement
            with api.scope(basis) if len(bases) > 1 else nullcontext():
                if model.statement != "surplus":
                    d = equity.scale(10**RATIO_DECIMALS) - api.mul(t, q, label="t*requirement")
                    if model.statement == "ratio-above":
                        d = d - 1
                    bits = RATIO_SURPLUS_BITS
                else:
                    d, bits = equity - q - t.scale(model.rate_scale), SURPLUS_BITS
                if gate is not None:
                    d = api.mul(gate, d, label="active*D")
                gadgets.assert_surplus(api, d, bits=bits)

    def margin(self, api: API, account: Segments, market: Segments) -> None:  # pragma: no cover - abstract
        """The model's rule on the segments; must end in ``assert_statement`` (or, for a model with
        its own statement form, ``gadgets.assert_surplus``)."""
        raise NotImplementedError
