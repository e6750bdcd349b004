"""The numba BN254 pairing (verifier/_pairing_numba.py, verifier/fast.py) against py_ecc, the
pure-Python twin (verifier/_pairing_naive.py) and the base-install verifier.

py_ecc is the independent oracle for values: its FQ12 is Fq[w]/(w^12 - 18 w^6 + 82) with the same
w as our tower's (w^2 = v, w^6 = xi = 9 + u), so u = w^6 - 9 and a tower element converts by the
linear map in :func:`to_py_ecc`. The twin is compared value by value (lines, Miller loop outputs),
py_ecc on reduced pairings, final exponentiations and Fq12 products.

Runs under NUMBA_DISABLE_JIT=1 too (the kernels then run as Python on limbs, well under a second
per pairing); the heaviest py_ecc comparisons use fewer samples there.
"""

from __future__ import annotations

import random
from types import ModuleType

import pytest
from py_ecc.optimized_bn128 import optimized_curve as pc
from py_ecc.optimized_bn128 import optimized_pairing as pp

from zkmargin import curve
from zkmargin.curve import G1_GENERATOR, G2_GENERATOR, g1_mul, g1_neg, g2_mul, g2_neg
from zkmargin.errors import (
    IdentityPointError,
    MalformedInputError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
    PublicInputCountError,
    PublicInputOutOfRangeError,
)
from zkmargin.field import Q, R
from zkmargin.groth16 import Proof
from zkmargin.verifier import _pairing_naive as N
from zkmargin.verifier import fast, verify

np = pytest.importorskip("numpy")
_field = pytest.importorskip("zkmargin._numba_field")  # needs numba
K = pytest.importorskip("zkmargin.verifier._pairing_numba")

SLOW = _field.DISABLE_JIT
X = N.BN_X


# --- helpers -----------------------------------------------------------------------------------


def to_py_ecc(c: N.Fq12) -> pp.FQ12:
    """Tower coefficients -> py_ecc's FQ12: c_ij (a0 + a1 u) w^(2j+i) with u = w^6 - 9."""
    out = [0] * 12
    for i in range(2):
        for j in range(3):
            a0, a1 = c[i][j]
            k = 2 * j + i
            out[k] += a0 - 9 * a1
            out[k + 6] += a1
    return pp.FQ12([v % Q for v in out])


def rand_f12(rng: random.Random) -> N.Fq12:
    def f2() -> N.Fq2:
        return (rng.randrange(Q), rng.randrange(Q))

    return ((f2(), f2(), f2()), (f2(), f2(), f2()))


def f12_pow(a: N.Fq12, e: int) -> N.Fq12:
    r = N.F12_ONE
    for bit in bin(e)[2:]:
        r = N.f12_mul(r, r)
        if bit == "1":
            r = N.f12_mul(r, a)
    return r


def py_ecc_pairing(p: curve.G1Point, q: curve.G2Point) -> pp.FQ12:
    return pp.pairing(curve._g2_to_py(q), curve._g1_to_py(p))


def rand_g1(rng: random.Random) -> tuple[int, int]:
    return g1_mul(G1_GENERATOR, rng.randrange(1, R))  # type: ignore[return-value]


def rand_g2(rng: random.Random) -> curve.G2Point:
    return g2_mul(G2_GENERATOR, rng.randrange(1, R))


def op(code: int, a: N.Fq12, b: N.Fq12 | None = None) -> N.Fq12:
    """Run one f12_op_kernel operation on tower coefficients."""
    fa = fast.Fq12.from_coeffs(*a)
    fb = fast.Fq12.from_coeffs(*(b if b is not None else a))
    out = np.empty((12, 4), dtype=np.uint64)
    K.f12_op_kernel(code, fa._rows, fb._rows, out)
    return fast.Fq12(out).coeffs()


@pytest.fixture(scope="module")
def points() -> dict[str, object]:
    rng = random.Random(2024)
    return {"p": [rand_g1(rng) for _ in range(3)], "q": [rand_g2(rng) for _ in range(3)]}


# --- constants and the twin --------------------------------------------------------------------


def test_loop_and_exponent_constants() -> None:
    for n, digits in ((6 * X + 2, N.ATE_LOOP_NAF), (X, N.X_NAF)):
        assert sum(d << i for i, d in enumerate(digits)) == n
        assert all(d in (-1, 0, 1) for d in digits)
        assert all(not (digits[i] and digits[i + 1]) for i in range(len(digits) - 1))
    assert K.N_LINES == len(N.prepare_g2(G2_GENERATOR))
    # the twist and Frobenius constants from their definitions
    assert N.f2_mul(N.TWIST_B, N.XI) == (3, 0)
    assert N.TWIST_B == curve.TWIST_B
    g11 = N.FROB_GAMMA[1][1]
    assert N._f2_pow(g11, 6) == N._f2_pow(N.XI, Q - 1)
    for n in (1, 2, 3):
        assert N.FROB_GAMMA[n][0] == (1, 0)
    # the hard part's decomposition (Scott et al. 2009): (q^4 - q^2 + 1)/r = l0 + l1 q + l2 q^2 + l3 q^3
    assert (Q**4 - Q**2 + 1) % R == 0
    l3, l2 = 1, 6 * X**2 + 1
    l1 = -36 * X**3 - 18 * X**2 - 12 * X + 1
    l0 = -36 * X**3 - 30 * X**2 - 18 * X - 2
    assert l0 + l1 * Q + l2 * Q**2 + l3 * Q**3 == (Q**4 - Q**2 + 1) // R


def test_twin_tower_is_py_ecc_field() -> None:
    """The basis conversion is a ring isomorphism: products, inverses and Frobenius agree."""
    rng = random.Random(1)
    a, b = rand_f12(rng), rand_f12(rng)
    assert to_py_ecc(N.f12_mul(a, b)) == to_py_ecc(a) * to_py_ecc(b)
    assert to_py_ecc(N.f12_sqr(a)) == to_py_ecc(a) * to_py_ecc(a)
    assert to_py_ecc(N.f12_inv(a)) == to_py_ecc(a).inv()
    assert to_py_ecc(N.f12_mul_by_034(a, (5, 6), (7, 8), (9, 10))) == to_py_ecc(a) * to_py_ecc(
        (((5, 6), (0, 0), (0, 0)), ((7, 8), (9, 10), (0, 0)))
    )
    assert N.f12_frobenius(a, 1) == f12_pow(a, Q)
    assert N.f12_frobenius(a, 2) == N.f12_frobenius(N.f12_frobenius(a, 1), 1)
    assert N.f12_frobenius(a, 3) == N.f12_frobenius(N.f12_frobenius(a, 2), 1)
    assert N.f12_conj(a) == N.f12_frobenius(N.f12_frobenius(N.f12_frobenius(a, 3), 2), 1)


def test_twin_pairing_matches_py_ecc(points: dict) -> None:
    p, q = points["p"][0], points["q"][0]
    assert to_py_ecc(N.pairing(p, q)) == py_ecc_pairing(p, q)


# --- kernels against the twin --------------------------------------------------------------------


def test_tower_kernels_match_twin() -> None:
    rng = random.Random(3)
    a, b = rand_f12(rng), rand_f12(rng)
    zero6 = ((0, 0), (0, 0), (0, 0))
    assert op(0, a, b) == N.f12_mul(a, b)
    assert op(1, a) == N.f12_sqr(a)
    assert op(2, a) == N.f12_inv(a)
    assert op(3, a) == N.f12_conj(a)
    for n in (1, 2, 3):
        assert op(5 + n, a) == N.f12_frobenius(a, n)
    line = ((b[0][0], b[0][1], b[0][2]), zero6)
    assert op(9, a, line) == N.f12_mul_by_034(a, b[0][0], b[0][1], b[0][2])
    assert op(10, a, b) == (N.f6_mul(a[0], b[0]), zero6)
    assert op(11, a) == (N.f6_sqr(a[0]), zero6)
    assert op(12, a) == (N.f6_inv(a[0]), zero6)
    assert N.f12_mul(op(2, a), a) == N.F12_ONE


def test_cyclotomic_squaring_and_exp_by_x() -> None:
    rng = random.Random(4)
    g = N.final_exponentiation_easy(rand_f12(rng))  # in the cyclotomic subgroup
    assert N.f12_mul(g, N.f12_conj(g)) == N.F12_ONE
    assert N.f12_cyclotomic_sqr(g) == N.f12_sqr(g)
    assert op(4, g) == N.f12_sqr(g)
    gx = N.f12_cyclotomic_exp_x(g)
    assert gx == f12_pow(g, X)
    assert op(5, g) == gx


def test_prepared_lines_match_twin(points: dict) -> None:
    q = points["q"][1]
    prepared = fast.PreparedG2(q)
    rows = prepared._coeffs
    got = [
        tuple(tuple(fast._unrows(rows[6 * k + 2 * c : 6 * k + 2 * c + 2])) for c in range(3))
        for k in range(K.N_LINES)
    ]
    assert got == [tuple(line) for line in N.prepare_g2(q)]


def test_miller_loop_matches_twin_prepared_and_not(points: dict) -> None:
    ps, qs = points["p"][:2], points["q"][:2]
    ref = N.miller_loop([(p, N.prepare_g2(q)) for p, q in zip(ps, qs, strict=True)])
    unprepared = fast.multi_miller_loop(ps, qs)
    prepared = fast.multi_miller_loop(ps, [fast.PreparedG2(q) for q in qs])
    mixed = fast.multi_miller_loop(ps, [fast.PreparedG2(qs[0]), qs[1]])
    assert unprepared.coeffs() == ref
    assert prepared == unprepared
    assert mixed == unprepared


def test_parallel_miller_loop_matches_serial() -> None:
    rng = random.Random(5)
    n = 4 if SLOW else fast.PARALLEL_MIN_PAIRS + 1
    ps = [rand_g1(rng) for _ in range(n)]
    qs = [rand_g2(rng) for _ in range(n)]
    pp_, coeffs, pv, qv = fast._split_pairs(ps[:1] + ps, [fast.PreparedG2(qs[0])] + qs)
    serial = np.empty((12, 4), dtype=np.uint64)
    K.miller_loop_kernel(pp_, coeffs, pv, qv, serial)
    # The shared loop's value is exactly the product of the per-pair loops ((ab)^2 = a^2 b^2), so
    # splitting the pairs into chunks and multiplying the chunks' loops changes nothing.
    for chunks in (1, 2, 3):
        par = np.empty((12, 4), dtype=np.uint64)
        fast._miller_chunks(pp_, coeffs, pv, qv, chunks, par)
        assert np.array_equal(par, serial)
    assert fast.multi_miller_loop(ps[:1] + ps, [fast.PreparedG2(qs[0])] + qs) == fast.Fq12(serial)


# --- pairing values against py_ecc ----------------------------------------------------------------


def test_pairing_matches_py_ecc(points: dict) -> None:
    n = 1 if SLOW else 2
    for p, q in list(zip(points["p"], points["q"], strict=True))[:n]:
        assert to_py_ecc(fast.pairing(p, q).coeffs()) == py_ecc_pairing(p, q)


def test_final_exponentiation_matches_py_ecc_on_random_element() -> None:
    f = rand_f12(random.Random(6))
    ours = fast.final_exponentiation(fast.Fq12.from_coeffs(*f))
    assert ours.coeffs() == N.final_exponentiation(f)
    assert to_py_ecc(ours.coeffs()) == pp.final_exponentiate(to_py_ecc(f))


def test_bilinearity_and_order(points: dict) -> None:
    rng = random.Random(7)
    p, q = points["p"][0], points["q"][0]
    a, b = rng.randrange(1, R), rng.randrange(1, R)
    e = fast.pairing(p, q).coeffs()
    assert e != N.F12_ONE  # non-degenerate
    assert fast.pairing(g1_mul(p, a), g2_mul(q, b)).coeffs() == f12_pow(e, a * b % R)
    assert fast.pairing(g1_mul(p, 2), q) == fast.pairing(p, g2_mul(q, 2))
    assert f12_pow(e, R) == N.F12_ONE
    assert fast.pairing(g1_neg(p), q) == fast.pairing(p, q).conjugate()


def test_infinity_is_degenerate(points: dict) -> None:
    p, q = points["p"][0], points["q"][0]
    assert fast.is_one(fast.pairing(None, q))
    assert fast.is_one(fast.pairing(p, None))
    assert fast.is_one(fast.pairing(p, fast.PreparedG2(None)))
    assert fast.multi_miller_loop([None, p], [q, q]) == fast.multi_miller_loop([p], [q])
    assert fast.pairing_product_is_one_fast([(None, q), (p, None)])
    assert fast.pairing_product_is_one_fast([])


def test_multi_pairing_is_product_of_pairings(points: dict) -> None:
    ps, qs = points["p"], points["q"]
    whole = fast.final_exponentiation(fast.multi_miller_loop(ps, [qs[0], fast.PreparedG2(qs[1]), qs[2]]))
    product = fast.Fq12.one()
    for p, q in zip(ps, qs, strict=True):
        product = product * fast.pairing(p, q)
    assert whole == product
    with pytest.raises(ValueError):
        fast.multi_miller_loop(ps, qs[:2])


def test_pairing_product_is_one_fast(points: dict) -> None:
    p, q = points["p"][0], points["q"][0]
    assert fast.pairing_product_is_one_fast([(p, q), (g1_neg(p), q)])
    assert fast.pairing_product_is_one_fast([(g1_mul(p, 6), q), (p, g2_neg(g2_mul(q, 6)))])
    assert fast.pairing_product_is_one_fast([(g1_mul(p, 6), q), (p, fast.PreparedG2(g2_neg(g2_mul(q, 6))))])
    assert not fast.pairing_product_is_one_fast([(g1_mul(p, 6), q), (p, g2_neg(g2_mul(q, 5)))])
    assert not fast.pairing_product_is_one_fast([(p, q)])


def test_fq12_wrapper() -> None:
    f = rand_f12(random.Random(8))
    x = fast.Fq12.from_coeffs(*f)
    assert x.coeffs() == f
    assert (x * x.inverse()).is_one()
    assert fast.Fq12.one().is_one() and not x.is_one()
    assert x.conjugate().coeffs() == N.f12_conj(f)
    assert x != x.conjugate()
    assert "Fq12" in repr(x)


def test_fast_pairing_available() -> None:
    assert fast.fast_pairing_available() is (not SLOW)


# --- curve helpers ------------------------------------------------------------------------------


def test_g2_subgroup_check_agrees_with_curve(sim: ModuleType) -> None:
    rng = random.Random(9)
    inside = [G2_GENERATOR, rand_g2(rng), g2_neg(rand_g2(rng))]
    outside = [sim.twist_point_outside_g2(random.Random(s)) for s in range(2 if SLOW else 4)]
    # a point of the cofactor's torsion (r * P for P outside G2) and a cleared one (c * P, in G2)
    c = 2 * Q - R
    base = curve._g2_to_py(outside[0])
    torsion = curve._g2_from_py(pc.multiply(base, R))
    cleared = curve._g2_from_py(pc.multiply(base, c))
    # psi-image and sum of an inside and an outside point
    mixed = curve.g2_add(inside[1], outside[1])
    points = inside + [cleared, curve.g2_psi(inside[1])] + outside + [torsion, mixed]
    expected = [True] * 5 + [False] * (len(outside) + 2)
    assert [curve.g2_in_subgroup(p) for p in points] == expected
    assert [curve._g2_in_subgroup_by_order(p) for p in points[:6] + points[-2:]] == expected[:6] + expected[-2:]
    assert [fast.g2_in_subgroup_fast(p) for p in points] == expected
    assert fast.g2_in_subgroup_many_fast(points + [None]) == expected + [True]
    many = (points * 3)[: fast.PARALLEL_MIN_PAIRS + 1]  # the parallel kernel
    assert fast.g2_in_subgroup_many_fast(many) == (expected * 3)[: len(many)]


def test_g1_lincomb_and_mul_many_agree_with_curve() -> None:
    rng = random.Random(10)
    pts = [rand_g1(rng) for _ in range(4)]
    scalars = [0, 1, R - 1, rng.randrange(R), 1 << 128, R + 5]
    pts6 = pts + [pts[0], None]
    assert fast.g1_lincomb_fast(pts6, scalars) == curve.g1_lincomb(pts6, scalars)
    assert fast.g1_lincomb_fast([pts[0], pts[0]], [1, R - 1]) is None  # P + (-P)
    assert fast.g1_lincomb_fast([pts[0], g1_neg(pts[0])], [3, 5]) == g1_mul(pts[0], R - 2)
    assert fast.g1_lincomb_fast([], []) is None
    expected_each = [g1_mul(p, k) if p else None for p, k in zip(pts6, scalars, strict=True)]
    assert fast.g1_mul_many_fast(pts6, scalars) == expected_each
    n = fast.PARALLEL_MIN_PAIRS + 1  # the parallel kernel
    many_k = [rng.randrange(1 << 128) for _ in range(n)]
    many_p = (pts * 3)[:n]
    expected = [g1_mul(p, k) for p, k in zip(many_p, many_k, strict=True)]
    assert fast.g1_mul_many_fast(many_p, many_k) == expected
    with pytest.raises(ValueError):
        fast.g1_mul_many_fast(pts, scalars)


# --- Groth16 ------------------------------------------------------------------------------------


def test_verify_fast_agrees_with_verify(sim: ModuleType, trapdoor3, public3, proof3, pvk3) -> None:
    other = sim.simulated_proof(trapdoor3, (1, 2, 3))
    swapped = Proof(a=proof3.c, b=proof3.b, c=proof3.a)
    changed = (public3[0], public3[1] + 1, public3[2])
    cases = [(public3, proof3), (changed, proof3), (public3, swapped), (public3, other), ((1, 2, 3), other)]
    expected = [True, False, False, False, True]
    assert [fast.verify_fast(pvk3, xs, pr) for xs, pr in cases] == expected
    fvk = fast.prepare_fast(pvk3)
    assert fast.prepare_fast(pvk3) is fvk and fast.prepare_fast(fvk) is fvk  # cached by identity
    assert fast.verify_fast(fvk, public3, proof3)
    assert fast.groth16_check_fast(fvk, public3, *fast.validate_proof_fast(proof3))
    assert not fast.groth16_check_fast(fvk, changed, *fast.validate_proof_fast(proof3))
    assert fast.verify_fast(trapdoor3.vk, public3, proof3)  # plain key: validated on the call
    # the base-install verifier, on a subset (py_ecc costs ~0.5 s per proof)
    subset = [0, 1] if SLOW else [0, 1, 2]
    assert [verify(pvk3, *cases[i]) for i in subset] == [expected[i] for i in subset]


def test_verify_fast_vk_x_at_infinity(sim: ModuleType) -> None:
    """Public inputs that make vk_x the point at infinity (its pair then contributes 1)."""
    td = sim.random_vk_with_trapdoor(1, random.Random(11))
    x = (-td.u[0]) * pow(td.u[1], -1, R) % R  # u_0 + x u_1 = 0
    proof = sim.simulated_proof(td, (x,))
    assert fast.verify_fast(td.vk, (x,), proof)
    assert not fast.verify_fast(td.vk, ((x + 1) % R,), proof)


def _error(fn, *args) -> tuple[type, str]:
    with pytest.raises(MalformedInputError) as info:
        fn(*args)
    return type(info.value), str(info.value)


def test_verify_fast_validates_like_verify(
    no_pairing, monkeypatch: pytest.MonkeyPatch, pvk3, public3, proof3, outside_g2
) -> None:
    fast.prepare_fast(pvk3)  # (its e(alpha, beta) is a pairing: compute it before the patch)

    def _forbidden(*_args: object) -> bool:
        raise AssertionError("pairing reached: validation should have rejected the input first")

    monkeypatch.setattr(K, "pairing_check_kernel", _forbidden)
    cases = [
        ((0, 1), proof3, PublicInputCountError),
        ((0, 1, R), proof3, PublicInputOutOfRangeError),
        (public3, "proof", MalformedInputError),
        (public3, Proof(a=None, b=proof3.b, c=proof3.c), IdentityPointError),
        (public3, Proof(a=proof3.a, b=proof3.b, c=(1, 3)), PointNotOnCurveError),
        (public3, Proof(a=proof3.a, b=((1, 2), (3, 4)), c=proof3.c), PointNotOnCurveError),
        (public3, Proof(a=proof3.a, b=outside_g2, c=proof3.c), PointNotInSubgroupError),
    ]
    for xs, pr, kind in cases:
        got = _error(fast.verify_fast, pvk3, xs, pr)
        assert got[0] is kind
        assert got == _error(verify, pvk3, xs, pr)  # same error, same message (no_pairing: no pairing)
    with pytest.raises(PointNotInSubgroupError):
        fast.PreparedG2(outside_g2)


def test_batch_check_fast(sim: ModuleType, trapdoor3, pvk3) -> None:
    rng = random.Random(12)
    fvk = fast.prepare_fast(pvk3)
    publics = [(i, 2 * i, R - i - 1) for i in range(3)]
    items: list[tuple] = []
    for xs in publics:
        pr = sim.simulated_proof(trapdoor3, xs, random.Random(len(items)))
        items.append((xs, *fast.validate_proof_fast(pr)))
    rhos = [rng.randrange(1, 1 << 128) for _ in items]
    assert fast.groth16_batch_check_fast(fvk, items, rhos)
    assert fast.groth16_batch_check_fast(fvk, items[:1], [1])
    assert fast.groth16_batch_check_fast(fvk, [], [])
    bad = list(items)
    bad[1] = ((1, 2, 4), *items[1][1:])
    assert not fast.groth16_batch_check_fast(fvk, bad, rhos)
    assert not fast.groth16_batch_check_fast(fvk, bad[1:2], [1])
    with pytest.raises(ValueError):
        fast.groth16_batch_check_fast(fvk, items, rhos[:2])


def test_verify_fast_from_threads(sim: ModuleType, trapdoor3, pvk3) -> None:
    """The kernels release the GIL; concurrent calls must not interfere."""
    from concurrent.futures import ThreadPoolExecutor

    publics = [(i, i + 1, i + 2) for i in range(2 if SLOW else 6)]
    proofs = [sim.simulated_proof(trapdoor3, xs, random.Random(100 + i)) for i, xs in enumerate(publics)]
    jobs = [(xs, pr) for xs, pr in zip(publics, proofs, strict=True)]
    jobs += [((xs[0] + 1, *xs[1:]), pr) for xs, pr in jobs]  # wrong inputs: False
    with ThreadPoolExecutor(max_workers=3) as pool:
        got = list(pool.map(lambda job: fast.verify_fast(pvk3, *job), jobs))
    assert got == [True] * len(publics) + [False] * len(publics)
