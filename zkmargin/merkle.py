"""A binary Poseidon Merkle tree over field elements: the venue's account tree, natively.

Specification (version 1; ``zkmargin.circuits.std.merkle`` is the in-circuit twin)
-------------------------------------------------------------------------------------

* A tree of ``depth`` d (1 <= d <= ``MAX_DEPTH`` = 32) has ``2**d`` leaf slots, indices
  ``0 .. 2**d - 1``. A venue fills slots ``0 .. count - 1`` with its account leaves
  (``zkmargin.encoding.account_leaf``); every other slot holds ``EMPTY_LEAF``.
* ``EMPTY_LEAF = domain_tag("empty_leaf")``, i.e. ``short_string("zkmargin.empty_leaf.v1")``: a
  fixed constant below 2**248. A real leaf is a Poseidon output, so equal to it only with
  negligible probability; and the empty leaf opens to no account (the circuit recomputes the
  leaf from the account, so it cannot claim an empty slot).
* An inner node is ``hash_pair(left, right) = poseidon([left, right])`` (circomlib's
  ``Poseidon(2)``, width 3), the same hash at every level: leaves are width-17 sponge outputs of a
  tagged, length-bound vector and nodes width-3 permutations of two elements, so a leaf and a
  node never share a preimage form.
* ``zero_hashes(d)[k]`` is the root of an all-empty subtree of height k: ``Z_0 = EMPTY_LEAF``,
  ``Z_{k+1} = hash_pair(Z_k, Z_k)``.
* The opening of slot ``index`` is its ``path``: the d siblings from the leaf level up, and the
  index bits, least significant first: bit k = 1 means that the node on the path at level k is
  a right child (its sibling is on the left). ``root_from_path`` walks it up.

Pure Python ints (base install). Bulk building (a million leaves) is in ``zkmargin.accounts``,
which uses the numba Poseidon when it is installed and this module as its oracle.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import lru_cache

from zkmargin.encoding import domain_tag
from zkmargin.errors import MalformedInputError
from zkmargin.field import R
from zkmargin.poseidon import poseidon

__all__ = [
    "MAX_DEPTH",
    "EMPTY_LEAF",
    "hash_pair",
    "zero_hashes",
    "check_depth",
    "tree_levels",
    "merkle_root",
    "merkle_path",
    "index_bits",
    "root_from_path",
]

#: Deepest tree supported (2**32 leaf slots); the in-circuit gadget has the same limit.
MAX_DEPTH = 32
#: The leaf of an empty slot: short_string("zkmargin.empty_leaf.v1").
EMPTY_LEAF = domain_tag("empty_leaf")


def hash_pair(left: int, right: int) -> int:
    """An inner node: circomlib ``Poseidon(2)`` of (left, right).

    Raises:
        ValueError: a child outside [0, r) (MalformedInputError).
    """
    return poseidon([left, right])


def check_depth(depth: object) -> int:
    """``depth`` as an int in [1, MAX_DEPTH].

    Raises:
        ValueError: not an int in range (bools refused).
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"a tree depth is an int in 1..{MAX_DEPTH}, got {depth!r}")
    return depth


@lru_cache(maxsize=4)
def _zero_hashes(depth: int) -> tuple[int, ...]:
    z = [EMPTY_LEAF]
    for _ in range(depth):
        z.append(hash_pair(z[-1], z[-1]))
    return tuple(z)


def zero_hashes(depth: int = MAX_DEPTH) -> tuple[int, ...]:
    """``(Z_0, ..., Z_depth)``: roots of all-empty subtrees of height 0..depth (cached)."""
    return _zero_hashes(check_depth(depth))


def _element(v: object, what: str) -> int:
    try:
        x = operator.index(v)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} is {type(v).__name__}, not an integer") from None
    if isinstance(v, bool) or not 0 <= x < R:
        raise MalformedInputError(f"{what} is not a field element: {v!r:.80}")
    return x


def tree_levels(leaves: Sequence[int], depth: int) -> list[list[int]]:
    """Every level of the tree: ``levels[0]`` the leaves, ``levels[depth] == [root]``.

    Level k keeps only its ``ceil(len(leaves) / 2**k)`` non-empty-subtree nodes; a missing right
    sibling is ``zero_hashes()[k]``. Cost: about ``len(leaves)`` Poseidon(2) hashes (pure Python:
    some 25,000 a second); use ``zkmargin.accounts`` for large trees.

    Raises:
        ValueError: depth out of range, more leaves than ``2**depth``, a leaf outside [0, r).
        TypeError: a leaf is not an int.
    """
    d = check_depth(depth)
    if len(leaves) > 1 << d:
        raise ValueError(f"{len(leaves)} leaves do not fit a tree of depth {d} ({1 << d} slots)")
    z = zero_hashes(d)
    level = [_element(v, f"leaf {i}") for i, v in enumerate(leaves)]
    levels = [level]
    for k in range(d):
        if len(level) % 2:
            level = [*level, z[k]]
        level = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        levels.append(level)
    if not levels[d]:
        levels[d] = [z[d]]
    return levels


def merkle_root(leaves: Sequence[int], depth: int) -> int:
    """The root of the depth-``depth`` tree with ``leaves`` in slots 0.. and ``EMPTY_LEAF`` elsewhere.

    Raises:
        ValueError, TypeError: as ``tree_levels``.
    """
    return tree_levels(leaves, depth)[depth][0]


def merkle_path(levels: Sequence[Sequence[int]], index: int) -> list[int]:
    """The siblings of slot ``index``, leaf level first (``levels`` from ``tree_levels``).

    Raises:
        ValueError: ``index`` outside the tree (``0 <= index < 2**depth``).
    """
    depth = len(levels) - 1
    check_depth(depth)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 1 << depth:
        raise ValueError(f"leaf index {index!r} is outside a tree of depth {depth}")
    z = zero_hashes(depth)
    path = []
    for k in range(depth):
        sib = (index >> k) ^ 1
        level = levels[k]
        path.append(level[sib] if sib < len(level) else z[k])
    return path


def index_bits(index: int, depth: int) -> list[int]:
    """The ``depth`` direction bits of ``index``, least significant (leaf level) first.

    Raises:
        ValueError: ``index`` outside [0, 2**depth) or depth out of range.
    """
    d = check_depth(depth)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 1 << d:
        raise ValueError(f"leaf index {index!r} is outside a tree of depth {d}")
    return [(index >> k) & 1 for k in range(d)]


def root_from_path(leaf: int, index: int, path: Sequence[int]) -> int:
    """The root that ``leaf`` at slot ``index`` with siblings ``path`` (leaf level first) gives.

    A leaf is in the tree of root ``root`` when ``root_from_path(leaf, index, path) == root``.

    Raises:
        ValueError: ``index`` outside [0, 2**len(path)), a bad depth, or a value outside [0, r).
    """
    cur = _element(leaf, "the leaf")
    for k, (bit, sib) in enumerate(zip(index_bits(index, len(path)), path, strict=True)):
        s = _element(sib, f"path[{k}]")
        cur = hash_pair(s, cur) if bit else hash_pair(cur, s)
    return cur
