"""The venue-attested statement: the account is a leaf of the venue's published account tree.

Public inputs, in order: ``(account_root, market_digest, threshold, context, nullifier)``.
The prover knows an account vector A, the venue's salt, a secret key k, a leaf index and a path
such that

* ``leaf = account_leaf(model_digest, A, salt, key_commitment(k))`` (``zkmargin.encoding``)
  sits at ``leaf_index`` of the depth-``depth`` Poseidon tree of root ``account_root``
  (``zkmargin.merkle``; the in-circuit walk is ``std.merkle.assert_inclusion``);
* ``nullifier == nullifier(k, context)``;
* and everything the bilateral statement asks of A and the market: the shared
  ``MarginCircuit.margin_core`` (market digest, header pin, threshold range, padding and unread
  account slots zero, the model's rule). Only ``bind_account`` differs.

Every margin model has its attested circuit (``ATTESTED_CIRCUITS``): the model's class with
:class:`AttestedStatement` in front, which replaces the public ``commitment`` by ``account_root``
and ``nullifier`` and adds the secrets ``secret_key``, ``leaf_index`` and ``path``. The tree depth
is a compile-time parameter (1..32): a venue's key is for one depth.

Why each part. The key commitment in the leaf ties the account to a secret the venue never sees:
the venue knows every salt and account, but cannot open any leaf itself (it would need k with
``key_commitment(k)`` equal to the registered value), so it cannot compute a nullifier either,
and a nullifier from anything it knows (a salt, a key commitment, a leaf) is not the circuit's
``nullifier(k, context)``. The nullifier is deterministic in (k, context): one account (one key)
answers one context once; for two contexts the two nullifiers are unlinkable Poseidon outputs.
The verifier cannot compute it, so its statement takes the nullifier from the proof and the
ledger consumes it (``zkmargin.verifier.attested``).

Cost: ``attested_cost(model, depth) = constraint_count(model) + attested_extra(n_account, depth)``
where the extra over the bilateral circuit is the inclusion (``242 * depth + 2``), the key
commitment (564), the nullifier and its equality (567 + 1), and the leaf's one extra hashed value
over the commitment (0, 3 or 612 depending on the sponge's block boundary), less the commitment's
equality (1). So 242 constraints per level, plus 1,133 + the leaf difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from zkmargin.accounts import ATTESTED_PUBLIC_INPUTS
from zkmargin.encoding import account_leaf as native_account_leaf
from zkmargin.encoding import key_commitment as native_key_commitment
from zkmargin.encoding import market_digest as native_market_digest
from zkmargin.encoding import nullifier as native_nullifier
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
from zkmargin.margin.statement import field_element, threshold_field_value
from zkmargin.merkle import MAX_DEPTH, check_depth, root_from_path

from ..api import API, Var
from ..circuit import param, public, secret
from ..std import encoding, merkle
from .base import MarginCircuit
from .build import CIRCUITS

__all__ = [
    "AttestedStatement",
    "ATTESTED_CIRCUITS",
    "ATTESTED_PUBLIC_INPUTS",
    "attested_class",
    "attested_circuit_for",
    "attested_assign_vectors",
    "attested_assignment_for",
    "attested_extra",
    "attested_cost",
]



class AttestedStatement(MarginCircuit):
    """Mixin: put it before a model's circuit class (``class X(AttestedStatement, CrossMargin)``).

    Replaces the bilateral anchor (``commitment``) by inclusion in the venue's account tree and a
    nullifier; the margin core is inherited unchanged (see the module docstring).
    """

    public_order: ClassVar[tuple[str, ...]] = ATTESTED_PUBLIC_INPUTS

    depth = param(doc="the account tree's depth, 1..32 (2**depth leaf slots)")

    commitment = None  # removed: the anchor is the venue's tree
    account_root = public(doc="the venue's published account root for the epoch (zkmargin.merkle)")
    nullifier = public(doc="nullifier(secret_key, context): one per account key and context")

    secret_key = secret(doc="the trader's secret key; its key_commitment is in the leaf")
    leaf_index = secret(doc="the account's slot in the tree, < 2**depth")
    path = secret(shape="depth", doc="the siblings of the leaf, leaf level first")

    def bind_account(self, api: API, model: VenueModel, account: list[Var]) -> None:
        """leaf(A, salt, key_commitment(k)) under ``account_root``, and ``nullifier == nullifier(k, context)``."""
        depth = self.depth
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
            raise CircuitError(f"{type(self).__name__}: depth must be an int in 1..{MAX_DEPTH}, got {depth!r}")
        with api.scope("attested"):
            kc = encoding.key_commitment(api, self.secret_key)
            leaf = encoding.account_leaf(api, model_digest(model), account, self.salt, kc)
            merkle.assert_inclusion(api, leaf, self.leaf_index, self.path, self.account_root)
            api.assert_equal(encoding.nullifier(api, self.secret_key, self.context), self.nullifier,
                             label="nullifier")


def _make(base: type[MarginCircuit]) -> type[MarginCircuit]:
    name = f"Attested{base.__name__}"
    doc = f"The venue-attested statement for the {base.kind} model (``AttestedStatement`` + ``{base.__name__}``)."
    return type(name, (AttestedStatement, base), {"__doc__": doc, "__module__": __name__})


#: The attested circuit class of each margin model.
ATTESTED_CIRCUITS: dict[str, type[MarginCircuit]] = {kind: _make(cls) for kind, cls in CIRCUITS.items()}


def attested_class(model: VenueModel) -> type[MarginCircuit]:
    """The attested circuit class of ``model.margin_model``. Raises CircuitError for an unknown model."""
    try:
        return ATTESTED_CIRCUITS[model.margin_model]
    except KeyError:
        raise CircuitError(f"no circuit for the margin model {model.margin_model!r}") from None


def attested_circuit_for(model: VenueModel, depth: int) -> MarginCircuit:
    """The shape-only attested circuit of ``model`` for a tree of ``depth`` (compile it for setup)."""
    return attested_class(model)(model=model, depth=check_depth(depth))


def attested_assign_vectors(model: VenueModel, account: Sequence[int], salt: int, market: Sequence[int],
                            threshold: int, context: int, secret_key: int, leaf_index: int, path: Sequence[int], *,
                            account_root: int | None = None, market_digest: int | None = None,
                            nullifier: int | None = None, key_commitment: int | None = None) -> MarginCircuit:
    """The assigned attested circuit from raw vectors (field elements), no document validation.

    Args:
        account, market: the vectors (lengths of ``account_layout`` / ``market_layout``).
        salt: the venue's salt of the leaf; secret_key: the trader's key; leaf_index, path: the
            opening (the depth is ``len(path)``).
        threshold, context: field elements (threshold already encoded).
        account_root, market_digest, nullifier: the public values; default: computed natively
            (the root from the leaf and the path). A test passes others to play a lying prover.
        key_commitment: the key commitment hashed into the leaf when computing the default
            root; default ``key_commitment(secret_key)`` (a test passes the registered one of
            another key).
    Raises:
        CircuitError: a vector of the wrong length. MalformedInputError: a value not in [0, r).
        ValueError: a leaf index outside the tree (when the root is computed here).
    """
    for name, vec, layout in (("account", account, account_layout(model)), ("market", market, market_layout(model))):
        if len(vec) != layout_length(layout):
            raise CircuitError(f"the {name} vector has {len(vec)} values, the model needs {layout_length(layout)}")
    acc = [field_element(v, f"account[{i}]") for i, v in enumerate(account)]
    mkt = [field_element(v, f"market[{i}]") for i, v in enumerate(market)]
    s, k, ctx = field_element(salt, "salt"), field_element(secret_key, "secret_key"), field_element(context, "context")
    sib = [field_element(v, f"path[{i}]") for i, v in enumerate(path)]
    depth = check_depth(len(sib))
    if account_root is None:
        kc = native_key_commitment(k) if key_commitment is None else field_element(key_commitment, "key_commitment")
        account_root = root_from_path(native_account_leaf(model_digest(model), acc, s, kc), leaf_index, sib)
    return attested_class(model)(
        model=model, depth=depth,
        account_root=field_element(account_root, "account_root"),
        market_digest=native_market_digest(mkt) if market_digest is None else field_element(market_digest,
                                                                                              "market_digest"),
        threshold=field_element(threshold, "threshold"),
        context=ctx,
        nullifier=native_nullifier(k, ctx) if nullifier is None else field_element(nullifier, "nullifier"),
        account=acc, salt=s, market=mkt, secret_key=k, leaf_index=field_element(leaf_index, "leaf_index"), path=sib,
    )


def attested_assignment_for(model: VenueModel, market: Market, portfolio: Portfolio, salt: int, secret_key: int,
                            leaf_index: int, path: Sequence[int], account_root: int, threshold: int | str,
                            context: int) -> MarginCircuit:
    """The assigned attested circuit of a portfolio in the venue's tree, against one epoch's market data.

    Args:
        model, market, portfolio: documents loaded with ``zkmargin.margin`` (validated); the
            portfolio must be the venue's snapshot of the account (the leaf hashes it).
        salt, leaf_index, path, account_root: from the venue's opening and root documents
            (``zkmargin.accounts``); secret_key: the trader's key (``zkmargin.accounts.load_key``).
        threshold: an int at ``model.threshold_decimals`` or a decimal string.
        context: ``zkmargin.encoding.context_hash(...)``.
    Returns:
        The circuit, every field assigned; the witness satisfies the constraints exactly when the
        leaf opens to ``account_root`` and ``evaluate(...).passes``.
    Raises:
        SchemaError: market or portfolio of another model, a bad threshold.
        MalformedInputError: a value not in [0, r).
    """
    return attested_assign_vectors(model, portfolio.to_field_elements(model), salt, market.to_field_elements(model),
                                   threshold_field_value(model, threshold), context, secret_key, leaf_index, path,
                                   account_root=account_root)


def attested_extra(n_account: int, depth: int) -> int:
    """Constraints the attested circuit adds to the bilateral one (module docstring)."""
    from ..std.encoding import hash_vector_cost

    leaf_minus_commitment = hash_vector_cost(n_account + 3) - hash_vector_cost(n_account + 2)
    return (merkle.inclusion_cost(depth) + hash_vector_cost(1) + hash_vector_cost(2) + 1
            + leaf_minus_commitment - 1)


def attested_cost(model: VenueModel, depth: int) -> int:
    """Constraints of ``attested_circuit_for(model, depth)`` by formula (a test pins it against the compiler)."""
    from . import constraint_count  # the package imports the model modules; no circle at call time

    return constraint_count(model) + attested_extra(layout_length(account_layout(model)), depth)
