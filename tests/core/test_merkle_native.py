"""zkmargin.merkle: the tree spec restated densely, paths, empty slots, validation.

The oracle below builds the full 2**depth-leaf tree with plain Poseidon(2) calls (no zero-hash
shortcut, no sparse levels), so it checks the sparse builder's padding rule independently.
circomlibjs's Poseidon checks the hash itself (tests/crosscheck/test_merkle_circomlibjs.py).
"""

from __future__ import annotations

import random

import pytest

from zkmargin import merkle as M
from zkmargin.encoding import short_string
from zkmargin.errors import MalformedInputError
from zkmargin.field import R
from zkmargin.poseidon import poseidon

SEED = 20261206


def dense_levels(leaves: list[int], depth: int) -> list[list[int]]:
    level = leaves + [short_string("zkmargin.empty_leaf.v1")] * ((1 << depth) - len(leaves))
    out = [level]
    while len(level) > 1:
        level = [poseidon([level[i], level[i + 1]]) for i in range(0, len(level), 2)]
        out.append(level)
    return out


@pytest.mark.parametrize("depth,count", [(1, 0), (1, 1), (1, 2), (2, 3), (3, 5), (4, 16), (5, 7), (5, 32)])
def test_sparse_tree_equals_dense_tree_and_every_path_opens(depth: int, count: int) -> None:
    rng = random.Random(SEED + depth * 100 + count)
    leaves = [rng.randrange(R) for _ in range(count)]
    dense = dense_levels(leaves, depth)
    levels = M.tree_levels(leaves, depth)
    assert M.merkle_root(leaves, depth) == dense[depth][0] == levels[depth][0]
    for k in range(depth + 1):
        assert levels[k] == dense[k][: len(levels[k])]
    for i in range(1 << depth):  # filled and empty slots alike
        path = M.merkle_path(levels, i)
        assert path == [dense[k][(i >> k) ^ 1] for k in range(depth)]
        assert M.root_from_path(dense[0][i], i, path) == dense[depth][0]


def test_empty_leaf_and_zero_hashes() -> None:
    assert M.EMPTY_LEAF == int.from_bytes(b"zkmargin.empty_leaf.v1", "big")
    z = M.zero_hashes(32)
    assert len(z) == 33 and z[0] == M.EMPTY_LEAF
    assert all(z[k + 1] == poseidon([z[k], z[k]]) for k in range(32))
    assert M.merkle_root([], 6) == z[6] == dense_levels([], 6)[6][0]
    # pinned: changes only with the spec (then bump the empty leaf's tag version)
    assert z[20] == M.merkle_root([], 20)


def test_a_wrong_path_or_index_gives_another_root() -> None:
    rng = random.Random(SEED)
    leaves = [rng.randrange(R) for _ in range(11)]
    levels = M.tree_levels(leaves, 4)
    root = levels[4][0]
    path = M.merkle_path(levels, 5)
    assert M.root_from_path(leaves[5], 5, path) == root
    assert M.root_from_path(leaves[5], 4, path) != root  # lying direction bit 0
    assert M.root_from_path(leaves[5], 7, path) != root  # lying direction bit 1
    assert M.root_from_path(leaves[6], 5, path) != root  # another leaf
    for k in range(4):
        bad = list(path)
        bad[k] = (bad[k] + 1) % R
        assert M.root_from_path(leaves[5], 5, bad) != root


def test_validation_names_the_value() -> None:
    with pytest.raises(ValueError, match="depth"):
        M.tree_levels([1], 0)
    with pytest.raises(ValueError, match="depth"):
        M.tree_levels([1], 33)
    with pytest.raises(ValueError, match="do not fit"):
        M.tree_levels([1, 2, 3], 1)
    with pytest.raises(MalformedInputError, match="leaf 1"):
        M.tree_levels([1, R], 2)
    with pytest.raises(MalformedInputError, match=r"path\[1\]"):
        M.root_from_path(1, 0, [0, R])
    with pytest.raises(ValueError, match="outside a tree of depth 2"):
        M.root_from_path(1, 4, [0, 0])  # a wrapped index
    with pytest.raises(ValueError, match="outside"):
        M.merkle_path(M.tree_levels([1, 2], 2), -1)
    with pytest.raises(ValueError, match="depth"):
        M.check_depth(True)
