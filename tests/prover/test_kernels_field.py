"""Field kernels (zkmargin._numba_field) against plain Python ints (prover._naive) and direct formulas.

Runs with and without NUMBA_DISABLE_JIT (sizes shrink when the JIT is off).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest

numba = pytest.importorskip("numba")  # skips without numba (a failure under CI: tests/conftest.py)
np = pytest.importorskip("numpy")

from zkmargin import _numba_field as F  # noqa: E402
from zkmargin.field import Q, R  # noqa: E402
from zkmargin.prover import _msm, _naive, _ntt, kernels  # noqa: E402

JIT = not numba.config.DISABLE_JIT
N_RANDOM = 64 if JIT else 6
M64 = (1 << 64) - 1

EDGE = {
    "r": [0, 1, 2, R - 1, R - 2, (R - 1) // 2, 1 << 253],
    "q": [0, 1, 2, Q - 1, Q - 2, (Q - 1) // 2, R],
}
FIELDS = {
    "r": (R, F.FR_P, F.FR_PINV, F.FR_R2, F.FR_ONE, F.FR_PM2),
    "q": (Q, F.FQ_P, F.FQ_PINV, F.FQ_R2, F.FQ_ONE, F.FQ_PM2),
}


def _limbs(xs: list[int]) -> np.ndarray:
    return np.array([[(x >> (64 * i)) & M64 for i in range(4)] for x in xs], dtype=np.uint64).reshape(-1, 4)


def _ints(a: np.ndarray) -> list[int]:
    return [sum(int(row[i]) << (64 * i) for i in range(4)) for row in a.reshape(-1, 4)]


def _values(name: str, seed: int) -> list[int]:
    p = FIELDS[name][0]
    rng = random.Random(seed)
    return EDGE[name] + [rng.randrange(p) for _ in range(N_RANDOM)]


def _mont(name: str, xs: list[int]) -> np.ndarray:
    _, p, pinv, r2, _, _ = FIELDS[name]
    out = np.empty((len(xs), 4), dtype=np.uint64)
    F.vec_to_mont(_limbs(xs), out, p, pinv, r2)
    return out


def _unmont(name: str, a: np.ndarray) -> list[int]:
    _, p, pinv, _, _, _ = FIELDS[name]
    out = np.empty_like(a)
    F.vec_from_mont(a, out, p, pinv)
    return _ints(out)


# --- 64-bit primitives -----------------------------------------------------------------------
# (intrinsics are callable only from compiled code, hence these small jitted shims; not cached,
# since numba would not notice an edit of the intrinsics they inline)

@numba.njit(cache=False)
def _mac(a, b, c, d):
    return F.mac(a, b, c, d)


@numba.njit(cache=False)
def _adc_sbb_sel(a, b, c):
    s, carry = F.adc(a, b, c)
    d, borrow = F.sbb(a, b, c)
    return s, carry, d, borrow, F.sel(borrow, np.uint64(1), np.uint64(2))


@pytest.mark.parametrize(
    "a,b,c,d", [(M64, M64, M64, M64), (0, 0, 0, 0), (M64, 1, 0, M64), (1 << 63, 2, 5, 0)]
)
def test_mac_limits(a: int, b: int, c: int, d: int) -> None:
    lo, hi = _mac(np.uint64(a), np.uint64(b), np.uint64(c), np.uint64(d))
    assert (int(hi) << 64) | int(lo) == a * b + c + d


@pytest.mark.parametrize("a,b,c", [(M64, M64, 1), (0, 0, 0), (M64, 0, 1), (5, 7, 1)])
def test_adc_sbb_limits(a: int, b: int, c: int) -> None:
    s, carry, d, borrow, picked = _adc_sbb_sel(np.uint64(a), np.uint64(b), np.uint64(c))
    assert (int(carry) << 64) | int(s) == a + b + c
    assert int(d) == (a - b - c) % (1 << 64)
    assert int(borrow) == (1 if a - b - c < 0 else 0)
    assert int(picked) == (1 if borrow else 2)


def test_constants() -> None:
    for p, pl, pinv, r2, one, pm2 in FIELDS.values():
        assert _ints(np.array([pl], dtype=np.uint64)) == [p]
        assert (int(pinv) * p) % (1 << 64) == (1 << 64) - 1  # -p^-1 mod 2^64
        assert _ints(np.array([r2], dtype=np.uint64)) == [pow(2, 512, p)]
        assert _ints(np.array([one], dtype=np.uint64)) == [pow(2, 256, p)]
        assert _ints(np.array([pm2], dtype=np.uint64)) == [p - 2]
        assert p >> 192 < (1 << 63) - 1  # the no-carry CIOS condition


# --- vector kernels --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["r", "q"])
def test_roundtrip_and_arith(name: str) -> None:
    p, pl, pinv, _, _, _ = FIELDS[name]
    xs = _values(name, 1)
    ys = list(reversed(_values(name, 2)))
    a, b = _mont(name, xs), _mont(name, ys)
    assert _unmont(name, a) == xs
    out = np.empty_like(a)
    F.vec_mul(a, b, out, pl, pinv)
    assert _unmont(name, out) == [x * y % p for x, y in zip(xs, ys, strict=True)]
    F.vec_add(a, b, out, pl)
    assert _unmont(name, out) == [(x + y) % p for x, y in zip(xs, ys, strict=True)]
    F.vec_sub(a, b, out, pl)
    assert _unmont(name, out) == [(x - y) % p for x, y in zip(xs, ys, strict=True)]
    # squares of every edge value, including p - 1
    F.vec_mul(a, a, out, pl, pinv)
    assert _unmont(name, out) == [x * x % p for x in xs]


@pytest.mark.parametrize("name", ["r", "q"])
@pytest.mark.parametrize("chunks", [1, 3])
def test_batch_inverse(name: str, chunks: int) -> None:
    p, pl, pinv, _, one, pm2 = FIELDS[name]
    xs = _values(name, 3)
    a = _mont(name, xs)
    out = np.empty_like(a)
    F.vec_batch_inv(a, out, pl, pinv, one, pm2, chunks)
    assert _unmont(name, out) == _naive.batch_inverse(xs, p)


def test_scalar_ops_r() -> None:
    xs = _values("r", 4)[: 4 + N_RANDOM // 4]
    for x in xs:
        (xm,) = _mont("r", [x])
        xt = tuple(xm)
        assert _unmont("r", np.array([F.fr_neg(xt)], dtype=np.uint64)) == [(-x) % R]
        assert _unmont("r", np.array([F.fr_inv(xt)], dtype=np.uint64)) == [pow(x, R - 2, R)]
        assert _unmont("r", np.array([F.fr_pow_small(xt, 13)], dtype=np.uint64)) == [pow(x, 13, R)]
        assert _unmont("r", np.array([F.fr_sqr(xt)], dtype=np.uint64)) == [x * x % R]


def test_scalar_ops_q() -> None:
    for x in _values("q", 5)[: 4 + N_RANDOM // 4]:
        (xm,) = _mont("q", [x])
        xt = tuple(xm)
        assert _unmont("q", np.array([F.fq_neg(xt)], dtype=np.uint64)) == [(-x) % Q]
        assert _unmont("q", np.array([F.fq_inv(xt)], dtype=np.uint64)) == [pow(x, Q - 2, Q)]


@numba.njit(cache=False)
def _products(a, b):
    return (F.fr_mul(a, b), F.mont_mul(a, b, F.FR_P, F.FR_PINV), F.fr_sqr(a),
            F.fq_mul(a, b), F.mont_mul(a, b, F.FQ_P, F.FQ_PINV), F.fq_sqr(a))


def test_mul_paths_agree() -> None:
    """fr_mul/fq_mul (the inline-assembly product when ASM_MUL) against the portable mont_mul and
    against Python ints, on raw limbs below r (valid for both fields): edges and random values."""
    rng = random.Random(77)
    edge = [0, 1, 2, R - 1, R - 2, (R - 1) // 2, 1 << 253, (1 << 192) - 1, (1 << 128) - 1, M64, 1 << 64]
    n = 2000 if JIT else 20
    pairs = [(x, y) for x in edge for y in edge] + [(rng.randrange(R), rng.randrange(R)) for _ in range(n)]
    inv = {p: pow(1 << 256, -1, p) for p in (Q, R)}
    for x, y in pairs:
        a, b = tuple(_limbs([x])[0]), tuple(_limbs([y])[0])
        fr, fr_ref, fr_sq, fq, fq_ref, fq_sq = (_ints(np.array([v], dtype=np.uint64))[0] for v in _products(a, b))
        assert fr == fr_ref == x * y * inv[R] % R
        assert fq == fq_ref == x * y * inv[Q] % Q
        assert fr_sq == x * x * inv[R] % R and fq_sq == x * x * inv[Q] % Q


def test_asm_switch(tmp_path) -> None:
    """ZKMARGIN_NO_ASM=1 selects the portable product (and so does a JIT-less or non-x86 run)."""
    code = "from zkmargin import _numba_field as F; print(F.ASM_MUL)"
    # its own numba cache: the other product's marker would flush the shared cache of the field module
    env = {**os.environ, "ZKMARGIN_NO_ASM": "1", "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                         check=True)
    assert out.stdout.strip() == "False"
    if not JIT:
        assert not F.ASM_MUL


def _fq2(xs: list[int]) -> list[tuple]:
    m = _mont("q", xs)
    return [(tuple(m[i]), tuple(m[i + 1])) for i in range(0, len(xs), 2)]


def _fq2_ints(v: tuple) -> tuple[int, int]:
    a, b = _unmont("q", np.array([v[0], v[1]], dtype=np.uint64))
    return (a, b)


def test_fq2() -> None:
    xs = _values("q", 6)
    pairs = [(xs[i], xs[-1 - i]) for i in range(len(xs))] + [(0, 0), (1, 0), (0, 1), (Q - 1, Q - 1)]
    for a in pairs[:: 1 if JIT else 3]:
        for b in pairs[:: 7 if JIT else 9]:
            (am, bm) = _fq2([a[0], a[1], b[0], b[1]])
            assert _fq2_ints(F.fq2_mul(am, bm)) == _naive.fq2_mul(a, b)
            assert _fq2_ints(F.fe_mul(am, bm)) == _naive.fq2_mul(a, b)
            assert _fq2_ints(F.fq2_add(am, bm)) == ((a[0] + b[0]) % Q, (a[1] + b[1]) % Q)
            assert _fq2_ints(F.fq2_sub(am, bm)) == ((a[0] - b[0]) % Q, (a[1] - b[1]) % Q)
        (am,) = _fq2([a[0], a[1]])
        assert _fq2_ints(F.fq2_sqr(am)) == _naive.fq2_mul(a, a)
        assert _fq2_ints(F.fe_sqr(am)) == _naive.fq2_mul(a, a)
        assert _fq2_ints(F.fq2_inv(am)) == _naive.fq2_inv(a)
        assert _fq2_ints(F.fq2_neg(am)) == ((-a[0]) % Q, (-a[1]) % Q)


def test_all_below() -> None:
    assert F.vec_all_below(_limbs([0, 1, R - 1]), F.FR_P)
    assert not F.vec_all_below(_limbs([0, R]), F.FR_P)
    assert not F.vec_all_below(_limbs([R + 1]), F.FR_P)
    assert not F.vec_all_below(_limbs([M64 << 192]), F.FR_P)
    assert F.vec_all_below(_limbs([]), F.FR_P)


# --- public conversions ----------------------------------------------------------------------

def test_public_conversions() -> None:
    xs = _values("r", 7)
    a = kernels.fr_to_array(xs)
    assert a.shape == (len(xs), 4) and a.dtype == np.uint64
    assert kernels.fr_from_array(a) == xs
    assert _unmont("r", a) == xs
    assert kernels.fr_from_array(kernels.fr_to_array([])) == []
    assert kernels.fr_from_array(kernels.fr_to_array(np.array([3, 5]))) == [3, 5]
    s = kernels.scalars_to_array(xs)
    assert _ints(s) == xs
    inv = kernels.batch_inverse(a)
    assert kernels.fr_from_array(inv) == _naive.batch_inverse(xs)
    ys = list(reversed(xs))
    b = kernels.fr_to_array(ys)
    pairs = list(zip(xs, ys, strict=True))
    assert kernels.fr_from_array(kernels.fr_mul_arrays(a, b)) == [x * y % R for x, y in pairs]
    assert kernels.fr_from_array(kernels.fr_add_arrays(a, b)) == [(x + y) % R for x, y in pairs]
    assert kernels.fr_from_array(kernels.fr_sub_arrays(a, b)) == [(x - y) % R for x, y in pairs]


def test_small_conversion_matches_kernel() -> None:
    """Up to kernels._SMALL_CONVERSION elements, Montgomery conversion runs on Python ints: it must
    give the kernel's limbs (edge values included)."""
    for name, p in (("r", R), ("q", Q)):
        rng = random.Random(11)
        xs = (EDGE[name] + [rng.randrange(p) for _ in range(kernels._SMALL_CONVERSION)])[: kernels._SMALL_CONVERSION]
        assert np.array_equal(kernels._to_mont(_limbs(xs), p), _mont(name, xs))
        assert np.array_equal(kernels._to_mont(_limbs(xs[:1]), p), _mont(name, xs[:1]))


@pytest.mark.parametrize("bad", [[R], [-1], [1, R + 5]])
def test_conversion_rejects_out_of_range(bad: list[int]) -> None:
    """Field elements must be canonical; MSM scalars are reduced mod r like zkmargin.curve does."""
    with pytest.raises(ValueError):
        kernels.fr_to_array(bad)
    assert _ints(kernels.scalars_to_array(bad)) == [v % R for v in bad]


def test_scalar_form_conversions() -> None:
    xs = _values("r", 8)
    a = kernels.fr_to_array(xs)
    s = kernels.fr_to_scalars(a)
    assert _ints(s) == xs
    assert kernels.fr_from_array(kernels.scalars_to_fr(s)) == xs
    with pytest.raises(ValueError):
        kernels.scalars_to_fr(_limbs([R]))


def test_sparse_matvec() -> None:
    """A sparse matrix times a vector against plain ints (repeated rows, ones, zero entries)."""
    rng = random.Random(9)
    n, m = 8, 6
    vec = [0, 1, R - 1, 5] + [rng.randrange(R) for _ in range(m - 4)]
    coeff_choices = [1, 1, R - 1, rng.randrange(R)]
    entries = [(rng.randrange(n), rng.randrange(m), rng.choice(coeff_choices)) for _ in range(30)]
    entries += [(0, 0, 7), (n - 1, 1, 1), (n - 1, 1, 1)]
    expected = [0] * n
    for r_, c_, k in entries:
        expected[r_] = (expected[r_] + k * vec[c_]) % R
    rows = np.array([e[0] for e in entries])
    cols = np.array([e[1] for e in entries])
    coeffs = kernels.fr_to_array([e[2] for e in entries])
    out = kernels.sparse_matvec(rows, cols, coeffs, kernels.fr_to_array(vec), n)
    assert kernels.fr_from_array(out) == expected
    with pytest.raises(ValueError):
        kernels.sparse_matvec(rows, cols, coeffs, kernels.fr_to_array(vec), 2)
    with pytest.raises(ValueError):
        kernels.sparse_matvec(rows[:-1], cols, coeffs, kernels.fr_to_array(vec), n)


def test_conversion_rejects_bad_arrays() -> None:
    with pytest.raises(TypeError):
        kernels.fr_from_array(np.zeros((2, 4), dtype=np.int64))
    with pytest.raises(ValueError):
        kernels.fr_from_array(np.zeros((2, 3), dtype=np.uint64))
    with pytest.raises(ValueError):
        kernels.fr_mul_arrays(np.zeros((2, 4), dtype=np.uint64), np.zeros((3, 4), dtype=np.uint64))
    with pytest.raises(TypeError):
        kernels.fr_to_array(["1"])
    with pytest.raises(ValueError, match="reduced"):
        kernels.batch_inverse(_limbs([R]))


def test_generator_is_primitive() -> None:
    """5 generates Fr* (so 5^((r-1)/2^28) has order exactly 2^28), by the factorisation of r - 1."""
    factors = {
        2: 28,
        3: 2,
        13: 1,
        29: 1,
        983: 1,
        11003: 1,
        237073: 1,
        405928799: 1,
        1670836401704629: 1,
        13818364434197438864469338081: 1,
    }
    prod = 1
    for f, e in factors.items():
        prod *= f**e
    assert prod == R - 1
    galois = pytest.importorskip("galois")
    for f in factors:
        assert galois.is_prime(f)
        assert pow(5, (R - 1) // f, R) != 1
    w = kernels.root_of_unity(1 << 28)
    assert pow(w, 1 << 27, R) == R - 1
    assert kernels.root_of_unity(1) == 1
    with pytest.raises(ValueError):
        kernels.root_of_unity(3)
    with pytest.raises(ValueError):
        kernels.root_of_unity(1 << 29)


def test_every_kernel_is_cached() -> None:
    """Rule 7: every numba function of the private kernel modules is compiled with cache=True."""
    if not JIT:
        pytest.skip("[no-jit] no dispatchers without the JIT")
    from numba.core.caching import NullCache

    found = 0
    for mod in (F, _ntt, _msm):
        for name, obj in vars(mod).items():
            if isinstance(obj, numba.core.registry.CPUDispatcher) and obj.py_func.__module__ == mod.__name__:
                found += 1
                assert not isinstance(obj._cache, NullCache), f"{mod.__name__}.{name} lacks cache=True"
    assert found > 30


def test_cache_reused_by_a_new_process() -> None:
    """A second process loads the compiled kernels (intrinsics included) instead of recompiling."""
    if not JIT:
        pytest.skip("[no-jit] no cache without the JIT")
    values = list(range(1, 40))  # above kernels._SMALL_CONVERSION: the kernels run
    kernels.fr_from_array(kernels.fr_to_array(values))  # make sure the cache files exist
    code = (
        "from zkmargin.prover import kernels\nfrom zkmargin import _numba_field as _field\n"
        f"kernels.fr_from_array(kernels.fr_to_array({values!r}))\n"
        "s = _field.vec_to_mont.stats\n"
        "print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    hits, misses = map(int, out.stdout.split())
    assert hits >= 1 and misses == 0


def test_stale_cache_stamp() -> None:
    """Each kernel module keeps a hash of its source and of the sources it inlines next to numba's
    cache: an edit of the field module alone (which _msm/_ntt kernels inline) must drop their
    cached machine code too."""
    if not JIT:
        pytest.skip("[no-jit] no cache without the JIT")
    import hashlib
    from pathlib import Path

    for mod, deps in ((_msm, (F,)), (_ntt, (F,)), (F, ())):
        digest = hashlib.sha256(b"asm-mul" if F.ASM_MUL else b"portable-mul")
        for d in (*deps, mod):
            digest.update(Path(d.__file__).read_bytes())
        disp = next(v for v in vars(mod).values()
                    if isinstance(v, numba.core.registry.CPUDispatcher) and v.py_func.__module__ == mod.__name__)
        marker = Path(disp._cache.cache_path) / f"zkmargin-{mod.__name__}.stamp"
        assert marker.read_text() == digest.hexdigest(), mod.__name__


_CACHED = """
import sys
from zkmargin._warm import _dispatcher_cached
from zkmargin import _numba_field as F
from zkmargin.prover import _ntt
print(int(_dispatcher_cached(F.vec_all_below)), int(_dispatcher_cached(_ntt.reverse_tail)))
"""


def _in_cache(cache: str, code: str) -> str:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, timeout=600,
                         env=env, check=True)
    return out.stdout.strip()


def test_stale_marker_flushes_only_its_own_module(tmp_path) -> None:
    """A consumer seen for the first time (the pairing, Poseidon) must not flush the shared field
    module's kernels that another consumer (the prover) compiled; a stale marker flushes the
    kernels of its own module only. (The old single marker per consumer flushed the field module's
    cache from every consumer whose marker was missing: the prover recompiled after a first verify.)"""
    if not JIT:
        pytest.skip("[no-jit] no cache without the JIT")
    from pathlib import Path

    cache = str(tmp_path / "nbcache")
    compile_both = ("import numpy as np\nfrom zkmargin.prover import kernels, _ntt\n"
                    "from zkmargin import _numba_field as F\n"
                    "F.vec_all_below(np.zeros((1, 4), np.uint64), F.FR_P)\n"
                    "_ntt.reverse_tail(np.zeros((4, 4), np.uint64))\n")
    _in_cache(cache, compile_both)
    assert _in_cache(cache, _CACHED) == "1 1"
    # first imports of the two other consumers of the field module
    _in_cache(cache, "import zkmargin.verifier.fast, zkmargin._numba_poseidon")
    assert _in_cache(cache, _CACHED) == "1 1", "a new consumer flushed the field module's cache"
    # an edit of a dependency (simulated: _ntt's marker no longer matches) flushes _ntt only
    markers = list(Path(cache).rglob("zkmargin-zkmargin.prover._ntt.stamp"))
    assert len(markers) == 1
    markers[0].write_text("stale")
    _in_cache(cache, "import zkmargin.prover.kernels")
    assert _in_cache(cache, _CACHED) == "1 0"
    assert markers[0].read_text() != "stale"
