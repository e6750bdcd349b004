"""Merkle inclusion in-circuit: the twin of :mod:`zkmargin.merkle` (binary, Poseidon(2) nodes).

``merkle_root(api, leaf, index, path)`` walks a leaf up its path exactly as
``zkmargin.merkle.root_from_path`` does, and ``assert_inclusion`` constrains the result equal to
a root. The tree's depth is ``len(path)`` (1..32), fixed when the circuit is compiled.

Per level k: the direction bit ``b_k`` (1: the path node is a right child) picks the order of
the pair with one product, ``left = cur + b_k * (sib - cur)``, ``right = cur + sib - left``,
then ``hash_pair`` = circomlib ``Poseidon(2)`` (240 constraints). The bits are not separate
inputs: they are the ``to_bits`` decomposition of the secret leaf index, each constrained
boolean and recomposed to the index.

Cost (:func:`inclusion_cost`): ``depth * (1 + 1 + 240) + 1`` = ``242 * depth + 1`` constraints
(boolean + swap + hash per level, one recomposition), plus 1 for ``assert_inclusion``'s
equality: 4,842 at depth 20, 7,746 at depth 32.

Soundness:

* a direction bit that is not 0 or 1 (a "lying" bit that mixes the two children) fails its
  booleanity constraint; with boolean bits the swap is exact;
* the index is recomposed from the bits with ``depth <= 32`` bits, so it is below ``2**depth``:
  an index that wraps (``index + 2**depth``, or ``index - r``) has no decomposition, and the
  index and the path directions cannot disagree;
* the root is a deterministic function of (leaf, bits, siblings); finding another opening of a
  given root is a Poseidon collision or second preimage. Leaves and nodes are different hash
  forms (``zkmargin.merkle``), so an inner node cannot pose as a leaf of a shorter path when the
  caller computes the leaf itself (as the attested statement does).
"""

from __future__ import annotations

from collections.abc import Sequence

from zkmargin.errors import CircuitError
from zkmargin.merkle import MAX_DEPTH

from ..api import API, Var, VarLike
from ._common import as_var
from .bits import to_bits
from .poseidon import poseidon, poseidon_cost

__all__ = ["merkle_root", "assert_inclusion", "inclusion_cost", "LEVEL_COST"]

#: Constraints per level: booleanity of the direction bit, the swap product, Poseidon(2).
LEVEL_COST = 1 + 1 + poseidon_cost(2)


def inclusion_cost(depth: int) -> int:
    """Constraints of ``assert_inclusion`` at ``depth``: ``242 * depth + 2`` (``merkle_root`` is 1 less)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise CircuitError(f"a tree depth is an int in 1..{MAX_DEPTH}, got {depth!r}")
    return LEVEL_COST * depth + 2


def merkle_root(api: API, leaf: VarLike, index: VarLike, path: Sequence[VarLike]) -> Var:
    """The root that ``leaf`` at slot ``index`` with siblings ``path`` (leaf level first) gives.

    Args:
        leaf: the leaf wire (the caller computes it, e.g. ``encoding.account_leaf``).
        index: the slot, a secret wire; constrained to ``[0, 2**len(path))`` here.
        path: the siblings, leaf level first; the depth is ``len(path)``, 1..32.
    Returns:
        The root, a linear combination of 3 wires.
    Cost: ``242 * depth + 1`` constraints (module docstring).
    Soundness: every direction bit is constrained boolean and recomposed to ``index``; no
        precondition.
    Raises:
        CircuitError: depth outside 1..32, or a constant index that does not fit.
    """
    depth = len(path)
    if not 1 <= depth <= MAX_DEPTH:
        raise CircuitError(f"merkle_root: a path of {depth} siblings; the depth must be in 1..{MAX_DEPTH}")
    with api.scope("merkle"):
        with api.scope("index"):
            bits = to_bits(api, index, bits=depth)  # booleanity of every bit + recomposition
        cur = as_var(api, leaf)
        for k, (b, s) in enumerate(zip(bits, path, strict=True)):
            sib = as_var(api, s)
            with api.scope(f"level{k}"):
                left = cur + api.mul(b, sib - cur, label="swap")
                right = cur + sib - left
                cur = poseidon(api, [left, right])
        return cur


def assert_inclusion(api: API, leaf: VarLike, index: VarLike, path: Sequence[VarLike], root: VarLike) -> None:
    """Constrain ``leaf`` to sit at slot ``index`` of the tree of ``root`` (siblings ``path``).

    Cost: ``inclusion_cost(len(path))`` = ``242 * depth + 2`` constraints.
    Soundness: as ``merkle_root``; the final equality binds the root (typically a public input).
    Raises:
        CircuitError: as ``merkle_root``.
    """
    r = merkle_root(api, leaf, index, path)
    with api.scope("merkle"):
        api.assert_equal(r, root, label="root")
