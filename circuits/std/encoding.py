"""In-circuit twins of :mod:`zkmargin.encoding`: commitment, market digest, context hash.

Each gadget computes the same function as its native namesake, by the same steps (the
specification is in :mod:`zkmargin.encoding`): the sponge IV ``poseidon([tag, L])`` is a constant
computed natively (the tag and the length L are fixed when the circuit is compiled), then the
values are absorbed 16 at a time into a width-17 Poseidon sponge, the last block zero-padded,
and the digest is state[1].

Cost (:func:`hash_vector_cost`): ``612 * blocks - 3 * (1 + max(0, 16 - L))`` constraints for
L >= 1 non-constant values, blocks = ``max(1, ceil(L / 16))``: 564 for L = 1, 609 for L = 16,
1221 for L = 17, 4281 for L = 100; 0 when every value is a constant. Outputs are linear
combinations of 17 wires; comparing one with a public input (``api.assert_equal``) adds 1.

Soundness: no hint and no precondition: the digest is a deterministic function of the values,
each a field element (whatever range the values are meant to have is the caller's to check).
"""

from __future__ import annotations

from collections.abc import Sequence

from zkmargin.encoding import (
    SPONGE_RATE,
    SPONGE_WIDTH,
    TAG_ACCOUNT_LEAF,
    TAG_COMMITMENT,
    TAG_CONTEXT,
    TAG_KEY,
    TAG_MARKET_DIGEST,
    TAG_NULLIFIER,
    n_blocks,
    sponge_iv,
)
from zkmargin.errors import CircuitError

from ..api import API, Var, VarLike
from ._common import as_var
from .poseidon import permutation_cost, poseidon_permutation

__all__ = ["hash_vector", "hash_vector_cost", "commitment", "commitment_cost", "account_leaf", "key_commitment",
           "nullifier", "market_digest", "context_hash"]


def hash_vector_cost(length: int) -> int:
    """Constraints of ``hash_vector`` on ``length`` non-constant values (0 for length 0).

    Raises:
        CircuitError: a negative length.
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise CircuitError(f"a vector length is a non-negative int, got {length!r}")
    if length == 0:
        return 0
    return permutation_cost(SPONGE_WIDTH) * n_blocks(length) - 3 * (1 + max(0, SPONGE_RATE - length))


def hash_vector(api: API, tag: int, values: Sequence[VarLike]) -> Var:
    """``zkmargin.encoding.hash_vector(tag, values)`` on wires.

    Args:
        api: the circuit builder.
        tag: the domain tag, a compile-time int in [0, r) (``zkmargin.encoding.TAG_*``).
        values: wires or int constants; the length is part of the circuit's shape.
    Returns:
        The digest, a linear combination of 17 wires (a constant if every value is constant).
    Cost: :func:`hash_vector_cost` constraints (see the module docstring).
    Soundness: none needed; the digest is determined by the values.
    Raises:
        CircuitError: tag outside [0, r) or not an int, or a wire of another circuit.
    """
    xs = [as_var(api, v) for v in values]
    try:
        iv = sponge_iv(tag, len(xs))
    except (TypeError, ValueError) as e:
        raise CircuitError(f"hash_vector: {e}") from e
    state: list[Var] = [api.const(iv)] + [api.const(0)] * SPONGE_RATE
    with api.scope("hash_vector"):
        for b in range(n_blocks(len(xs))):
            block = xs[b * SPONGE_RATE : (b + 1) * SPONGE_RATE]
            for i, v in enumerate(block):
                state[1 + i] = state[1 + i] + v
            with api.scope(f"block{b}"):
                state = poseidon_permutation(api, state)
    return state[1]


def commitment(api: API, model_digest: int, account_values: Sequence[VarLike], salt: VarLike) -> Var:
    """``Commit(model, A, salt) = hash_vector(TAG_COMMITMENT, [model_digest, salt, *account_values])``.

    Args:
        model_digest: a compile-time int (``zkmargin.margin.model_digest``): the circuit's model.
    Cost: ``commitment_cost(len(account_values))``.
    Soundness: none needed. The caller binds the result to the public commitment
    (``api.assert_equal``, 1 constraint) and range-checks the account values it uses.
    """
    with api.scope("commitment"):
        return hash_vector(api, TAG_COMMITMENT, [api.const(model_digest), salt, *account_values])


def commitment_cost(n_account: int) -> int:
    """Constraints of ``commitment`` with ``n_account`` non-constant account values and a wire salt.

    The constant model digest saves its round-0 S-box (3 constraints) against
    ``hash_vector_cost(n_account + 2)``.
    """
    return hash_vector_cost(n_account + 2) - 3


def account_leaf(api: API, model_digest: int, account_values: Sequence[VarLike], salt: VarLike,
                 key_commitment: VarLike) -> Var:
    """``zkmargin.encoding.account_leaf`` on wires (model digest a compile-time constant).

    Cost: ``hash_vector_cost(n + 3) - 3``. Soundness: none needed.
    """
    with api.scope("account_leaf"):
        return hash_vector(api, TAG_ACCOUNT_LEAF, [api.const(model_digest), salt, key_commitment,
                                                   *account_values])


def key_commitment(api: API, secret_key: VarLike) -> Var:
    """``zkmargin.encoding.key_commitment`` on wires. Cost: ``hash_vector_cost(1)``. Soundness: none needed."""
    with api.scope("key_commitment"):
        return hash_vector(api, TAG_KEY, [secret_key])


def nullifier(api: API, secret_key: VarLike, context: VarLike) -> Var:
    """``zkmargin.encoding.nullifier`` on wires. Cost: ``hash_vector_cost(2)``. Soundness: none needed."""
    with api.scope("nullifier"):
        return hash_vector(api, TAG_NULLIFIER, [secret_key, context])


def market_digest(api: API, market_values: Sequence[VarLike]) -> Var:
    """``Digest(M) = hash_vector(TAG_MARKET_DIGEST, market_values)`` on wires.

    Cost: ``hash_vector_cost(len(market_values))``.
    Soundness: none needed; the caller binds the result to the public digest.
    """
    with api.scope("market_digest"):
        return hash_vector(api, TAG_MARKET_DIGEST, market_values)


def context_hash(api: API, venue_id: VarLike, epoch: VarLike, nonce: VarLike, chain_id: VarLike) -> Var:
    """``hash_vector(TAG_CONTEXT, [venue_id, epoch, nonce, chain_id])`` on wires.

    Usually unnecessary: a public ``context`` input is bound by the proof as it is, and the
    verifier computes it natively. Use this when the circuit needs the parts themselves.
    Cost: ``hash_vector_cost(4)`` = 573 constraints (fewer for constant parts).
    Soundness: none needed.
    """
    with api.scope("context"):
        return hash_vector(api, TAG_CONTEXT, [venue_id, epoch, nonce, chain_id])
