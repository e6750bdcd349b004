"""std.merkle: gadget == native tree, pinned cost, malicious provers (lying bits, wrapped index).

Each forgery keeps everything else honest and asserts which constraint it violates, so the test
shows that that constraint (and not some other one) stops it.
"""

from __future__ import annotations

import random

import pytest

from zkmargin import merkle as M
from zkmargin.circuits.std import merkle as GM
from zkmargin.circuits.std._testing import gadget_cost, run_gadget
from zkmargin.errors import CircuitError
from zkmargin.field import R

SEED = 20261207


def incl_fn(api, leaf, index, root, *path):
    GM.assert_inclusion(api, leaf, index, path, root)


def root_fn(api, leaf, index, *path):
    return GM.merkle_root(api, leaf, index, path)


def tree(depth: int, count: int, seed: int) -> tuple[list[int], list[list[int]]]:
    rng = random.Random(seed)
    leaves = [rng.randrange(R) for _ in range(count)]
    return leaves, M.tree_levels(leaves, depth)


@pytest.mark.parametrize("depth", [1, 2, 3, 5, 8])
def test_gadget_root_equals_native_for_every_slot(depth: int) -> None:
    leaves, levels = tree(depth, min(1 << depth, 6), SEED + depth)
    root = levels[depth][0]
    for i in sorted({0, 1, len(leaves) - 1, (1 << depth) - 1}):
        leaf = leaves[i] if i < len(leaves) else M.EMPTY_LEAF
        path = M.merkle_path(levels, i)
        run = run_gadget(root_fn, [leaf, i, *path], [root], check=True)
        assert run.ok and run.outs == [root]
        assert run_gadget(incl_fn, [leaf, i, root, *path], check=True).ok


def test_constraint_cost_pinned_per_level() -> None:
    assert GM.LEVEL_COST == 242
    for depth in (1, 2, 20, 32):
        assert gadget_cost(incl_fn, 3 + depth) == GM.inclusion_cost(depth) == 242 * depth + 2
    assert gadget_cost(root_fn, 2 + 20) == 242 * 20 + 1


def _bits_hint(bits):
    return {"bits.decompose": lambda _ins, b=list(bits): b}


def test_lying_direction_bit_fails() -> None:
    depth = 4
    leaves, levels = tree(depth, 10, SEED)
    root, i = levels[depth][0], 6
    path = M.merkle_path(levels, i)
    honest = M.index_bits(i, depth)
    assert run_gadget(incl_fn, [leaves[i], i, root, *path], hints=_bits_hint(honest)).ok
    # a boolean but flipped bit with the index moved to match: another slot, another root
    for k in range(depth):
        j = i ^ (1 << k)
        run = run_gadget(incl_fn, [leaves[i], j, root, *path])
        assert run.violated() == ["merkle/root"], k
    # the bit flipped but the index kept: the recomposition no longer holds (nor the root)
    lie = list(honest)
    lie[1] ^= 1
    run = run_gadget(incl_fn, [leaves[i], i, root, *path], hints=_bits_hint(lie))
    assert "merkle/index/to_bits/recompose" in run.violated()
    # a non-boolean bit: the booleanity constraint names it
    lie = list(honest)
    lie[2] = 2
    run = run_gadget(incl_fn, [leaves[i], i, root, *path], hints=_bits_hint(lie))
    assert "merkle/index/to_bits/boolean[2]" in run.violated()


def test_non_boolean_bit_that_reaches_the_root_is_stopped_by_booleanity_alone() -> None:
    """A prover who solves for a 'mixing' bit b not in {0, 1}: the swap then gives an affine mix
    of the two children. Choose a fake leaf x' and sibling s' whose mix under b = 3 is exactly the
    honest pair (l0, l1), with the index recomposed consistently (index = b): only the booleanity
    of the bit fails."""
    leaves, levels = tree(1, 2, SEED + 1)
    root = levels[1][0]
    b = 3
    # left = x' + b (s' - x') = l0 and right = x' + s' - left = l1, so x' + s' = l0 + l1 and
    # x' (1 - 2b) = l0 - b (l0 + l1).
    total = (leaves[0] + leaves[1]) % R
    xp = (leaves[0] - b * total) * pow(1 - 2 * b, -1, R) % R
    sp = (total - xp) % R
    assert xp not in leaves and sp not in leaves
    run = run_gadget(incl_fn, [xp, b, root, sp], hints=_bits_hint([b]))
    assert run.violated() == ["merkle/index/to_bits/boolean[0]"]


def test_wrapped_index_fails_recomposition() -> None:
    depth = 5
    leaves, levels = tree(depth, 20, SEED + 2)
    root, i = levels[depth][0], 13
    path = M.merkle_path(levels, i)
    honest = M.index_bits(i, depth)
    for wrapped in (i + (1 << depth), (i - (1 << depth)) % R, (i + (1 << 40)) % R, R - 1):
        run = run_gadget(incl_fn, [leaves[i], wrapped, root, *path], hints=_bits_hint(honest))
        assert run.violated() == ["merkle/index/to_bits/recompose"], wrapped


def test_a_leaf_outside_the_tree_or_a_changed_sibling_fails() -> None:
    depth = 3
    leaves, levels = tree(depth, 5, SEED + 3)
    root = levels[depth][0]
    path = M.merkle_path(levels, 2)
    assert run_gadget(incl_fn, [(leaves[2] + 1) % R, 2, root, *path]).violated() == ["merkle/root"]
    assert run_gadget(incl_fn, [M.EMPTY_LEAF, 6, root, *M.merkle_path(levels, 6)]).ok  # the empty slot hashes
    for k in range(depth):
        bad = list(path)
        bad[k] = (bad[k] + 1) % R
        assert run_gadget(incl_fn, [leaves[2], 2, root, *bad]).violated() == ["merkle/root"]


def test_depth_limits() -> None:
    with pytest.raises(CircuitError, match="depth"):
        gadget_cost(incl_fn, 3)  # no path
    with pytest.raises(CircuitError, match="depth"):
        gadget_cost(incl_fn, 3 + 33)
    with pytest.raises(CircuitError):
        GM.inclusion_cost(0)
