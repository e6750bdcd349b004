"""MSM, fixed-base and normalisation kernels (prover._msm via prover.kernels) against py_ecc
(zkmargin.curve) and the plain-int twins of prover._naive, on random inputs and edge cases."""

from __future__ import annotations

import random
from functools import cache

import pytest

numba = pytest.importorskip("numba")  # skips without numba (a failure under CI: tests/conftest.py)
np = pytest.importorskip("numpy")

from zkmargin import curve  # noqa: E402
from zkmargin._numba_field import fe_neg  # noqa: E402
from zkmargin.field import Q, R  # noqa: E402
from zkmargin.prover import _glv, _msm, _naive, kernels  # noqa: E402

JIT = not numba.config.DISABLE_JIT
G1 = curve.G1_GENERATOR
G2 = curve.G2_GENERATOR
GROUPS = {
    1: (G1, curve.g1_mul, curve.g1_lincomb, _naive.g1_msm, kernels.g1_points_to_array, kernels.msm_g1),
    2: (G2, curve.g2_mul, curve.g2_lincomb, _naive.g2_msm, kernels.g2_points_to_array, kernels.msm_g2),
}


@cache
def _points(group: int, k: int) -> tuple:
    """k distinct random points of the group (py_ecc scalar multiplications of the generator)."""
    g, mul = GROUPS[group][0], GROUPS[group][1]
    rng = random.Random(1000 + group)
    return tuple(mul(g, rng.randrange(1, R)) for _ in range(k))


def _neg(group: int, p):
    return curve.g1_neg(p) if group == 1 else curve.g2_neg(p)


def _check(group: int, points: list, scalars: list[int], naive: bool = True, **overrides) -> None:
    """Kernel MSM (public API, and both bucket variants with any overrides) == py_ecc == twin."""
    _, _, lincomb, naive_msm, to_array, msm = GROUPS[group]
    expected = lincomb(points, scalars)
    if naive:
        assert naive_msm(points, scalars) == expected
    bases = to_array(points)
    assert msm(bases, scalars) == expected
    s = kernels.scalars_to_array(scalars)
    for affine in (True, False):
        for glv in ((False, True) if group == 1 else (False,)):  # GLV split: G1 only
            res = _msm.msm(bases, s, affine=affine, glv=glv, **overrides)
            out = kernels._result_point(res, group)
            got = (kernels.g1_points_from_array if group == 1 else kernels.g2_points_from_array)(out)[0]
            assert got == expected, (affine, glv, overrides)


# --- XYZZ formulas --------------------------------------------------------------------------

# not cached: numba would not notice edits to _msm/_field, which this helper inlines
@numba.njit(cache=False)
def _formula_cases(aff, out):
    x, y = _msm._load_affine(aff, 0)
    u, v = _msm._load_affine(aff, 1)
    P = _msm._from_affine(x, y)
    nP = (P[0], fe_neg(P[1]), P[2], P[3])
    inf = _msm._inf(x)
    PQ = _msm._madd(P, u, v)
    _msm._store_xyzz(out, 0, _msm._add(P, P))
    _msm._store_xyzz(out, 1, _msm._add(P, nP))
    _msm._store_xyzz(out, 2, _msm._add(inf, P))
    _msm._store_xyzz(out, 3, _msm._add(P, inf))
    _msm._store_xyzz(out, 4, _msm._madd(P, x, fe_neg(y)))
    _msm._store_xyzz(out, 5, _msm._madd(inf, x, y))
    _msm._store_xyzz(out, 6, _msm._dbl(P))
    _msm._store_xyzz(out, 7, _msm._add(_msm._dbl(P), _msm._from_affine(u, v)))
    _msm._store_xyzz(out, 8, _msm._add(PQ, PQ))
    _msm._store_xyzz(out, 9, _msm._madd(_msm._dbl(P), x, y))
    _msm._store_xyzz(out, 10, _msm._dbl(inf))
    _msm._store_xyzz(out, 11, _msm._add(_msm._dbl(PQ), _msm._dbl(_msm._madd(PQ, x, fe_neg(y)))))
    _msm._store_xyzz(out, 12, _msm._from_affine(_msm._load_affine(aff, 2)[0], _msm._load_affine(aff, 2)[1]))
    return _msm._xyzz_eq(PQ, _msm._madd(_msm._from_affine(u, v), x, y)), _msm._xyzz_eq(P, PQ)


@pytest.mark.parametrize("group", [1, 2])
def test_xyzz_formulas(group: int) -> None:
    """Every special case of the addition formulas (doubling, P + (-P), infinity) vs py_ecc."""
    p, q = _points(group, 2)
    add = curve.g1_add if group == 1 else curve.g2_add
    elem = kernels._ELEM[group]
    out = np.empty((13, 4) + elem, dtype=np.uint64)
    same, different = _formula_cases(GROUPS[group][4]([p, q, None]), out)
    assert same and not different
    aff = np.empty((13, 2) + elem, dtype=np.uint64)
    _msm.batch_normalize(out, aff, np.empty((13, 1) + elem, dtype=np.uint64), 1)
    got = (kernels.g1_points_from_array if group == 1 else kernels.g2_points_from_array)(aff)
    p2 = add(p, p)
    pq = add(p, q)
    assert got[:7] == [p2, None, p, p, None, p, p2]
    assert got[7:] == [add(p2, q), add(pq, pq), add(p2, p), None, add(add(pq, pq), add(q, q)), None]


# --- MSM: edge cases -------------------------------------------------------------------------

@pytest.mark.parametrize("group", [1, 2])
@pytest.mark.parametrize("k", [0, 1, 2, R - 1, R - 2, 12345])
def test_msm_size_one(group: int, k: int) -> None:
    (p,) = _points(group, 1)
    _check(group, [p], [k])


@pytest.mark.parametrize("group", [1, 2])
def test_msm_empty_zero_and_infinity(group: int) -> None:
    _, _, _, _, to_array, msm = GROUPS[group]
    assert msm(to_array([]), []) is None
    pts = list(_points(group, 3))
    assert msm(to_array(pts), [0, 0, 0]) is None
    _check(group, [None, pts[0], None], [5, 7, R - 1])
    _check(group, [None, None], [1, 3])


@pytest.mark.parametrize("group", [1, 2])
def test_msm_repeated_points_double_in_buckets(group: int) -> None:
    """The same point with the same digit lands twice in a bucket: P + P must double."""
    p, q = _points(group, 2)
    _check(group, [p, p, p, q, q], [9, 9, 9, 9, R - 9], c=4, batch=4)
    _check(group, [p] * 6, [3, 3, 3, 3, 3, 3], c=3, batch=2)


@pytest.mark.parametrize("group", [1, 2])
def test_msm_cancelling_points(group: int) -> None:
    """P and -P with equal scalars cancel in their bucket (P + (-P) = infinity), whole sum too."""
    p, q = _points(group, 2)
    np_ = _neg(group, p)
    _check(group, [p, np_], [7, 7], c=3, batch=2)
    _check(group, [p, np_, q], [R - 1, R - 1, 2], c=4, batch=2)
    _check(group, [p, p], [5, R - 5], c=3)


@pytest.mark.parametrize("group", [1, 2])
def test_msm_zero_one_big_mix(group: int) -> None:
    """Witness-like scalars: mostly 0 and 1, a few big, at a non-power-of-two size."""
    n = 23 if JIT else 7
    pts = list(_points(group, 5))
    rng = random.Random(group)
    points = [pts[rng.randrange(5)] for _ in range(n)]
    scalars = [rng.choice([0, 0, 0, 1, 1, 1, 1, 1, R - 1, rng.randrange(R)]) for _ in range(n)]
    scalars[0] = 1
    scalars[-1] = R - 1
    _check(group, points, scalars, naive=JIT)
    _check(group, points, [1] * n, naive=False)


@pytest.mark.parametrize("group", [1, 2])
def test_msm_random_small_windows(group: int) -> None:
    """Random scalars with tiny windows and batches: many flushes and bucket collisions."""
    n = 13 if JIT else 4
    pts = list(_points(group, 4))
    rng = random.Random(10 + group)
    points = [pts[i % 4] for i in range(n)]
    scalars = [rng.randrange(R) for _ in range(n)]
    _check(group, points, scalars, naive=False, c=2, batch=3)
    if JIT:
        _check(group, points, scalars, naive=False, c=7, batch=5)
        _check(group, points, scalars, naive=False)


@pytest.mark.skipif(not JIT, reason="[no-jit] too slow without the JIT")
@pytest.mark.parametrize("group,n", [(1, 3001), (2, 517)])
def test_msm_large_against_discrete_log(group: int, n: int) -> None:
    """Bases k_i * G (fixed-base kernel) and scalars s_i: the MSM is (sum k_i s_i) * G."""
    g, mul = GROUPS[group][0], GROUPS[group][1]
    rng = random.Random(group)
    ks = [rng.randrange(R) for _ in range(n)]
    ss = [rng.choice([0, 1, 1, rng.randrange(R)]) for _ in range(n)]
    ss[0] = R - 1
    bases = (kernels.fixed_base_g1_array if group == 1 else kernels.fixed_base_g2_array)(g, ks)
    expected = mul(g, sum(k * s for k, s in zip(ks, ss, strict=True)) % R)
    msm = GROUPS[group][5]
    assert msm(bases, ss) == expected
    assert msm(bases, kernels.scalars_to_array(ss)) == expected
    for affine in (True, False):
        for glv in ((False, True) if group == 1 else (False,)):
            res = _msm.msm(bases, kernels.scalars_to_array(ss), affine=affine, glv=glv)
            got = (kernels.g1_points_from_array if group == 1 else kernels.g2_points_from_array)(
                kernels._result_point(res, group))[0]
            assert got == expected


def test_signed_digits_reconstruct() -> None:
    """Digits lie in (-2^(c-1), 2^(c-1)] and recombine to the scalar, r - 1 included (no carry out)."""
    rng = random.Random(3)
    vals = [0, 1, R - 1, R - 2, (1 << 253) + 12345, 2**128 - 1] + [rng.randrange(R) for _ in range(5)]
    s = kernels.scalars_to_array(vals)
    idx = np.arange(len(vals))
    for c in ([2, 3, 5, 8, 13, 16] if JIT else [3, 16]):
        W = -(-255 // c)
        digits = np.empty((W, len(vals)), dtype=np.int32)
        _msm.signed_digits(s, idx, c, digits)
        assert digits.min() > -(1 << (c - 1)) and digits.max() <= 1 << (c - 1)
        for j, v in enumerate(vals):
            assert sum(int(digits[w, j]) << (c * w) for w in range(W)) == v


def _phi(p):
    return (_glv.BETA * p[0] % Q, p[1])


def test_msm_glv_endomorphism_cases() -> None:
    """GLV on G1 where the two halves meet: bases P, phi(P), -phi(P), phi^2(P) with scalars whose
    halves land in the same buckets (doubling and cancellation between a base and an image),
    lambda, r - lambda, lambda^2 and scalars near 2^127 (the halves' bound), tiny windows."""
    p, q = _points(1, 2)
    lam = _glv.LAMBDA
    pts = [p, _phi(p), curve.g1_neg(_phi(p)), _phi(_phi(p)), q]
    for scalars in ([lam, 1 + 1, 2, 3, 4], [2 * lam % R, 2, 2, 2 * lam * lam % R, R - lam],
                    [R - lam, lam, lam, R - 1, (1 << 127) - 1], [(1 << 127) + 1, 1 << 126, R - (1 << 126), 7, 9]):
        for c, batch in ((2, 2), (3, 3), (5, 4)):
            _check(1, pts, scalars, naive=False, c=c, batch=batch)
    _check(1, pts, [lam, lam, lam, lam, lam], naive=False)


def test_msm_glv_g2_refused() -> None:
    bases = kernels.g2_points_to_array(list(_points(2, 1)))
    with pytest.raises(ValueError, match="G1 only"):
        _msm.msm(bases, kernels.scalars_to_array([12345]), glv=True)


def test_glv_digits_kernel_against_twin() -> None:
    """glv_digits (numba) == glv_digits_reference (Python ints) on edge and random scalars, and
    its columns recombine to k = k1 + k2 * lambda mod r (through a subset idx, as msm passes)."""
    rng = random.Random(21)
    lam = _glv.LAMBDA
    vals = [0, 1, 2, R - 1, R - 2, R // 2, lam, R - lam, lam * lam % R, (1 << 127) - 1, 1 << 127, (1 << 128) - 1,
            1 << 253, _glv.A2, _glv.A1]
    vals += [rng.randrange(R) for _ in range(200 if JIT else 10)]
    for b in (_glv.B2, -_glv.B1):  # where the kernel's rounding of k * b / r is tight
        k = ((2 * (b // 3) + 1) * R) // (2 * b)
        vals += [k - 1, k, k + 1]
    s = kernels.scalars_to_array(vals)
    idx = np.arange(len(vals) - 1, -1, -2)  # reversed, every other one
    sub = [vals[i] for i in idx]
    for c in ([2, 3, 7, 11, 13, 16] if JIT else [5, 16]):
        digits = np.zeros((_glv.glv_windows(c), 2 * len(idx)), dtype=np.int32)
        _msm.glv_digits(s, idx, c, _glv.KERNEL_CONSTS, digits)
        assert digits.tolist() == _glv.glv_digits_reference(sub, c), c
        for j, k in enumerate(sub):
            k1, k2 = (sum(int(digits[w, 2 * j + h]) << (c * w) for w in range(digits.shape[0])) for h in (0, 1))
            assert (k1 + k2 * lam) % R == k


def test_choose_glv() -> None:
    """The cost model picks GLV where halving the windows outweighs doubling the points (small and
    middle sizes on two threads) and its windows hold the halves (c * W >= 128)."""
    use, (c0, c1) = _msm.choose_glv(1 << 16, 2)
    assert use and 2 <= c1 <= 16 and c1 * _glv.glv_windows(c1) >= 128
    for m in (1, 100, 1 << 20):
        use, (c0, c1) = _msm.choose_glv(m, 2)
        assert use == (_msm._window_cost(m, c1, 2, True) < _msm._window_cost(m, c0, 2, False))


def test_choose_window_and_batch() -> None:
    for m in (1, 10, 1000, 1 << 16, 1 << 20, 1 << 24):
        c = _msm.choose_window(m, 2)
        assert 2 <= c <= 16
        assert 1 <= _msm.choose_batch(c, m) <= 2048
    assert _msm.choose_window(1 << 20, 2) >= _msm.choose_window(1 << 10, 2)
    assert 2 <= _msm.choose_fixed_window(1) <= _msm.choose_fixed_window(1 << 16) <= 16


# --- fixed base and normalisation ------------------------------------------------------------

FIXED_SCALARS = [0, 1, 2, 3, R - 1, R - 2, 1 << 200, (R - 1) // 2]


@pytest.mark.parametrize("group", [1, 2])
def test_fixed_base_public(group: int) -> None:
    g, mul = GROUPS[group][0], GROUPS[group][1]
    fb = kernels.fixed_base_g1 if group == 1 else kernels.fixed_base_g2
    ks = FIXED_SCALARS + ([random.Random(group).randrange(R) for _ in range(4)] if JIT else [])
    assert fb(g, ks) == [mul(g, k) for k in ks]
    (p,) = _points(group, 1)
    assert fb(p, ks[:5]) == [mul(p, k) for k in ks[:5]]
    assert fb(None, [1, 2]) == [None, None]
    assert fb(g, []) == []


@pytest.mark.parametrize("group", [1, 2])
@pytest.mark.parametrize("w", [2, 5, 8] if JIT else [3])
def test_fixed_base_windows(group: int, w: int) -> None:
    g, mul, _, _, to_array, _ = GROUPS[group]
    table = _msm.fixed_base_table(to_array([g]), w)
    assert table.shape[0] == -(-254 // w) * ((1 << w) - 1)
    ks = FIXED_SCALARS[:: 1 if JIT else 2]
    out = _msm.fixed_base_mul(table, w, kernels.scalars_to_array(ks))
    got = (kernels.g1_points_from_array if group == 1 else kernels.g2_points_from_array)(out)
    assert got == [mul(g, k) for k in ks]


@pytest.mark.parametrize("group", [1, 2])
@pytest.mark.parametrize("chunks", [1, 3])
def test_batch_normalize_against_twin(group: int, chunks: int) -> None:
    """XYZZ outputs of the fixed-base kernel (with infinities) normalised in chunks == plain ints."""
    g, mul, _, _, to_array, _ = GROUPS[group]
    w = 3
    table = _msm.fixed_base_table(to_array([g]), w)
    ks = [5, 0, R - 1, 77, 0, 2]
    elem = kernels._ELEM[group]
    pts = np.empty((len(ks), 4) + elem, dtype=np.uint64)
    _msm._fixed_base_xyzz(table, w, kernels.scalars_to_array(ks), pts)
    out = np.empty((len(ks), 2) + elem, dtype=np.uint64)
    scratch = np.empty((len(ks), 1) + elem, dtype=np.uint64)
    _msm.batch_normalize(pts, out, scratch, chunks)
    from_arr = kernels.g1_points_from_array if group == 1 else kernels.g2_points_from_array
    expected = [mul(g, k) for k in ks]
    assert from_arr(out) == expected
    # the twin, on the raw XYZZ coordinates
    v = kernels._limbs_to_ints(kernels._from_mont(pts, Q))
    if group == 1:
        raw = [tuple(v[4 * i : 4 * i + 4]) for i in range(len(ks))]
        assert _naive.xyzz_to_affine_g1(raw) == expected
    else:
        raw = [tuple((v[8 * i + 2 * j], v[8 * i + 2 * j + 1]) for j in range(4)) for i in range(len(ks))]
        assert _naive.xyzz_to_affine_g2(raw) == expected


# --- conversions and validation --------------------------------------------------------------

@pytest.mark.parametrize("group", [1, 2])
def test_point_conversions_roundtrip(group: int) -> None:
    pts = [None, *_points(group, 3), None]
    to_array = GROUPS[group][4]
    from_arr = kernels.g1_points_from_array if group == 1 else kernels.g2_points_from_array
    arr = to_array(pts)
    assert arr.shape == ((5, 2, 4) if group == 1 else (5, 2, 2, 4))
    assert not arr[0].any() and not arr[4].any()
    assert from_arr(arr) == pts


def test_validation() -> None:
    with pytest.raises(ValueError, match="not on the curve"):
        kernels.g1_points_to_array([(1, 3)])
    with pytest.raises(ValueError):
        kernels.g1_points_to_array([(Q, 2)])
    with pytest.raises(ValueError, match="not on the curve"):
        kernels.g2_points_to_array([((1, 0), (2, 0))])
    assert kernels.g1_points_to_array([(1, 3)], check=False).shape == (1, 2, 4)
    bases = kernels.g1_points_to_array([G1, G1])
    with pytest.raises(ValueError, match="2 bases but 1 scalars"):
        kernels.msm_g1(bases, [1])
    # ints are reduced mod r, as zkmargin.curve.g1_lincomb does
    assert kernels.msm_g1(bases, [1, R + 2]) == curve.g1_mul(G1, 3)
    assert kernels.msm_g1(bases, [-1, 2]) == G1
    assert kernels.fixed_base_g1(G1, [-1, R + 1]) == [curve.g1_neg(G1), G1]
    bad = kernels.scalars_to_array([1, 2])
    bad[1, 3] = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
    with pytest.raises(ValueError, match="< r"):
        kernels.msm_g1(bases, bad)
    with pytest.raises(ValueError):
        kernels.msm_g2(bases, [1, 2])  # G1 layout passed as G2
    with pytest.raises(TypeError):
        kernels.msm_g1(bases.astype(np.int64), [1, 2])
