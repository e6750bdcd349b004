"""The numba bulk Poseidon (zkmargin._numba_poseidon) against the pure-Python oracle.

The pure-Python side (zkmargin.poseidon / encoding / merkle) is itself checked against circomlibjs
(tests/crosscheck); tests/crosscheck/test_merkle_circomlibjs.py checks the numba tree against
circomlibjs directly.
"""

from __future__ import annotations

import random

import pytest

numba = pytest.importorskip("numba")  # skips without numba (a failure under CI: tests/conftest.py)
np = pytest.importorskip("numpy")

from zkmargin import _numba_poseidon as P  # noqa: E402
from zkmargin import merkle as M  # noqa: E402
from zkmargin.encoding import TAG_ACCOUNT_LEAF, TAG_KEY, hash_vector, sponge_iv  # noqa: E402
from zkmargin.field import R  # noqa: E402
from zkmargin.poseidon import poseidon  # noqa: E402

SEED = 20261209


def _sponge(rows: list[list[int]], tag: int) -> list[int]:
    n, m = len(rows), len(rows[0])
    arr = P.ints_to_limbs((v for row in rows for v in row), (n * m,))
    mont = P.to_mont(arr).reshape(n, m, 4)
    return P.limbs_to_ints(P.from_mont(P.sponge_hashes(mont, sponge_iv(tag, m))))


@pytest.mark.parametrize("m", [1, 2, 14, 16, 17, 33])
def test_sponge_equals_hash_vector(m: int) -> None:
    rng = random.Random(SEED + m)
    rows = [[rng.randrange(R) for _ in range(m)] for _ in range(5)] + [[0] * m, [R - 1] * m,
                                                                       [rng.randrange(1 << 64) for _ in range(m)]]
    assert _sponge(rows, TAG_ACCOUNT_LEAF) == [hash_vector(TAG_ACCOUNT_LEAF, r) for r in rows]
    assert _sponge(rows[:2], TAG_KEY) == [hash_vector(TAG_KEY, r) for r in rows[:2]]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 600])  # 600: several chunks of the parallel loop
def test_hash_level_equals_poseidon2_with_padding(n: int) -> None:
    rng = random.Random(SEED * 7 + n)
    level = [rng.randrange(R) for _ in range(n - 2)] + [0, R - 1]
    pad = rng.randrange(R)
    got = P.limbs_to_ints(P.from_mont(P.hash_level(P.to_mont(P.ints_to_limbs(level)), pad)))
    padded = level + [pad] * (n % 2)
    assert got == [poseidon([padded[i], padded[i + 1]]) for i in range(0, n, 2)]


@pytest.mark.parametrize("t", [2, 3, 5, 17])
def test_sparse_partial_rounds_match_the_plain_permutation(t: int) -> None:
    """The sparse-form permutation against zkmargin.poseidon's round-by-round form."""
    from zkmargin.poseidon import poseidon_permutation

    rng = random.Random(SEED + t)
    tb = P.tables(t)
    for state in ([rng.randrange(R) for _ in range(t)], [0] * t, [R - 1] * t):
        st = P.to_mont(P.ints_to_limbs(state))
        P._permute(st, np.empty_like(st), *tb.args())
        assert P.limbs_to_ints(P.from_mont(st)) == poseidon_permutation(state)


def test_levels_equal_the_pure_python_tree() -> None:
    rng = random.Random(SEED + 1)
    leaves = [rng.randrange(R) for _ in range(37)]
    z = M.zero_hashes(8)
    cur = P.to_mont(P.ints_to_limbs(leaves))
    levels = [leaves]
    for k in range(8):
        cur = P.hash_level(cur, z[k])
        levels.append(P.limbs_to_ints(P.from_mont(cur)))
    assert levels == M.tree_levels(leaves, 8)
