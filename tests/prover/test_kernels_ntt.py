"""NTT kernels (prover._ntt via prover.kernels) against the O(n^2) twins of prover._naive."""

from __future__ import annotations

import random

import pytest

numba = pytest.importorskip("numba")  # skips without numba (a failure under CI: tests/conftest.py)
np = pytest.importorskip("numpy")

from zkmargin.field import R  # noqa: E402
from zkmargin.prover import _naive, _ntt, kernels  # noqa: E402

JIT = not numba.config.DISABLE_JIT
SIZES = [1, 2, 4, 8, 16, 32, 64] if JIT else [1, 2, 4, 8]


def _vec(n: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    edge = [0, 1, R - 1, 2]
    return [edge[i] if i < len(edge) and n > 4 else rng.randrange(R) for i in range(n)]


def test_roots_match_naive_and_ffjavascript_convention() -> None:
    for k in range(0, 29):
        n = 1 << k
        w = kernels.root_of_unity(n)
        assert w == _naive.root_of_unity(n)
        assert pow(w, n, R) == 1
        if n > 1:
            assert pow(w, n // 2, R) == R - 1  # primitive
    # ffjavascript: w[s] = nqr^t with nqr = 5 the smallest non-residue, w[k] = w[k+1]^2
    assert pow(5, (R - 1) // 2, R) == R - 1
    assert all(pow(g, (R - 1) // 2, R) == 1 for g in (2, 3, 4))
    assert kernels.root_of_unity(1 << 27) == pow(kernels.root_of_unity(1 << 28), 2, R)


@pytest.mark.parametrize("n", SIZES)
def test_ntt_intt(n: int) -> None:
    xs = _vec(n, n)
    a = kernels.fr_to_array(xs)
    ev = kernels.ntt(a)
    assert kernels.fr_from_array(ev) == _naive.dft(xs)
    assert kernels.fr_from_array(a) == xs  # not in place by default
    assert kernels.fr_from_array(kernels.intt(ev)) == xs
    assert kernels.fr_from_array(kernels.intt(a)) == _naive.idft(xs)


@pytest.mark.parametrize("n", SIZES)
def test_odd_coset_values(n: int) -> None:
    xs = _vec(n, 100 + n)
    out = kernels.odd_coset_values(kernels.fr_to_array(xs))
    assert kernels.fr_from_array(out) == _naive.odd_coset_values(xs)


@pytest.mark.parametrize("n", SIZES[:5])
def test_coset_ntt(n: int) -> None:
    xs = _vec(n, 200 + n)
    out = kernels.coset_ntt(kernels.fr_to_array(xs), 7)
    assert kernels.fr_from_array(out) == _naive.coset_dft(xs, 7)


def test_inplace() -> None:
    xs = _vec(8, 3)
    a = kernels.fr_to_array(xs)
    b = kernels.ntt(a, inplace=True)
    assert b is a
    assert kernels.fr_from_array(a) == _naive.dft(xs)
    kernels.intt(a, inplace=True)
    assert kernels.fr_from_array(a) == xs
    kernels.odd_coset_values(a, inplace=True)
    assert kernels.fr_from_array(a) == _naive.odd_coset_values(xs)


@pytest.mark.skipif(not JIT, reason="[no-jit] too slow without the JIT (small sizes reach every stage there)")
def test_large_parallel_path_roundtrip() -> None:
    """n = 2^14 > 2^LOCAL_LOG runs both the block-local and the global parallel stages: check
    against linear-time identities (the ntt of a delta at position 1 is the table of powers of w;
    the odd coset values of a degree-1 polynomial) and the intt round trip."""
    n = 1 << 14
    assert n > 1 << _ntt.LOCAL_LOG
    rng = np.random.default_rng(0)
    xs = [int(v) for v in rng.integers(0, 1 << 62, size=n)]
    a = kernels.fr_to_array(xs)
    assert kernels.fr_from_array(kernels.intt(kernels.ntt(a))) == xs
    delta = [0] * n
    delta[1] = 1
    w = kernels.root_of_unity(n)
    ev = kernels.fr_from_array(kernels.ntt(kernels.fr_to_array(delta)))
    x = 1
    for k in range(n):
        assert ev[k] == x
        x = x * w % R
    # odd coset of a polynomial of degree 1 (P(x) = 3 + 5x), checked pointwise
    coeffs = [3, 5] + [0] * (n - 2)
    evals = kernels.ntt(kernels.fr_to_array(coeffs))
    odd = kernels.fr_from_array(kernels.odd_coset_values(evals))
    w2 = kernels.root_of_unity(2 * n)
    for i in range(0, n, 97):
        assert odd[i] == (3 + 5 * pow(w2, 2 * i + 1, R)) % R


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((3, 4), dtype=np.uint64),
        np.zeros((4, 3), dtype=np.uint64),
        np.zeros((4, 4), dtype=np.int64),
        np.zeros((4, 4), dtype=np.uint64),
    ],
)
def test_rejects(bad: np.ndarray) -> None:
    if bad.dtype == np.uint64 and bad.shape == (4, 4):
        bad[1, 3] = np.uint64(1 << 63)  # not reduced
    with pytest.raises(ValueError):
        kernels.ntt(bad)
    with pytest.raises(ValueError):
        kernels.odd_coset_values(bad)
