"""BN254 optimal ate pairing on Python ints: the readable reference for ``_pairing_numba``.

Private module. Every function here has a twin of the same name in ``_pairing_numba`` that follows
the same formulas on Montgomery limbs, so intermediate values (line coefficients, Miller loop
outputs, final exponentiations) can be compared exactly in the tests; py_ecc is the independent
oracle for the reduced pairing values. Slow (tens of ms per pairing): never on a hot path.

Tower (the usual BN254 one, also py_ecc's, go-ethereum's and arkworks'):

- Fq2 = Fq[u]/(u^2 + 1): a pair ``(a0, a1)`` = ``a0 + a1*u``;
- Fq6 = Fq2[v]/(v^3 - xi) with ``xi = 9 + u``: a triple of Fq2 ``(c0, c1, c2)`` = ``c0 + c1*v + c2*v^2``;
- Fq12 = Fq6[w]/(w^2 - v): a pair of Fq6 ``(c0, c1)`` = ``c0 + c1*w``. So ``w^6 = xi`` and the
  Fq2 coefficient ``c_i.c_j`` multiplies ``w^(2j + i)``.

G2 lives on the sextic D-type twist ``E': y^2 = x^3 + 3/xi`` over Fq2; the untwisting map to
``E(Fq12)`` is ``(x, y) -> (x*w^2, y*w^3)``.

The pairing is the optimal ate pairing of Vercauteren ("Optimal pairings", IEEE Trans. IT 2010)
for BN curves: ``f_{6x+2,Q}(P) * l_{[6x+2]Q, pi(Q)}(P) * l_{[6x+2]Q + pi(Q), -pi^2(Q)}(P)`` raised to
``(q^12 - 1)/r``, with the loop over the non-adjacent form of ``6x + 2``. Its value equals
py_ecc's ``pairing(Q, P)`` exactly (vertical lines and the Fq2 scalings of the projective line
formulas lie in proper subfields, which the final exponentiation sends to 1).
"""

from __future__ import annotations

from collections.abc import Sequence

from zkmargin.field import Q, R

__all__ = [
    "BN_X",
    "ATE_LOOP_NAF",
    "X_NAF",
    "XI",
    "TWIST_B",
    "FROB_GAMMA",
    "PSI_X",
    "PSI_Y",
    "Fq2",
    "Fq6",
    "Fq12",
    "naf",
    "f2_add",
    "f2_sub",
    "f2_neg",
    "f2_mul",
    "f2_sqr",
    "f2_inv",
    "f2_conj",
    "f2_mul_xi",
    "f2_mul_fq",
    "f6_add",
    "f6_sub",
    "f6_neg",
    "f6_mul",
    "f6_sqr",
    "f6_inv",
    "f6_mul_by_v",
    "f6_mul_by_01",
    "F12_ONE",
    "f12_add",
    "f12_sub",
    "f12_mul",
    "f12_sqr",
    "f12_inv",
    "f12_conj",
    "f12_frobenius",
    "f12_cyclotomic_sqr",
    "f12_mul_by_034",
    "f12_cyclotomic_exp_x",
    "double_step",
    "add_step",
    "psi",
    "prepare_g2",
    "ell",
    "miller_loop",
    "final_exponentiation_easy",
    "final_exponentiation",
    "pairing",
    "pairing_product_is_one",
]

Fq2 = tuple[int, int]
Fq6 = tuple[Fq2, Fq2, Fq2]
Fq12 = tuple[Fq6, Fq6]
_G1 = tuple[int, int]
_G2 = tuple[Fq2, Fq2]
_Line = tuple[Fq2, Fq2, Fq2]

#: The BN254 seed (positive): q = 36x^4 + 36x^3 + 24x^2 + 6x + 1, r = 36x^4 + 36x^3 + 18x^2 + 6x + 1.
BN_X = 4965661367192848881
if 36 * BN_X**4 + 36 * BN_X**3 + 24 * BN_X**2 + 6 * BN_X + 1 != Q:  # pragma: no cover
    raise ImportError("BN_X does not generate the base field modulus")
if 36 * BN_X**4 + 36 * BN_X**3 + 18 * BN_X**2 + 6 * BN_X + 1 != R:  # pragma: no cover
    raise ImportError("BN_X does not generate the group order")


def naf(n: int) -> tuple[int, ...]:
    """Non-adjacent form of ``n > 0``, least significant digit first, digits in {-1, 0, 1}."""
    digits = []
    while n > 0:
        if n & 1:
            d = 2 - (n & 3)
            n -= d
        else:
            d = 0
        digits.append(d)
        n >>= 1
    return tuple(digits)


#: NAF of the optimal ate loop length 6x + 2 (66 digits, 22 non-zero), least significant first.
ATE_LOOP_NAF = naf(6 * BN_X + 2)
#: NAF of x (63 digits, 24 non-zero), for the exponentiations by x of the final exponentiation.
X_NAF = naf(BN_X)

# --- Fq2 -------------------------------------------------------------------------------------


def f2_add(a: Fq2, b: Fq2) -> Fq2:
    return ((a[0] + b[0]) % Q, (a[1] + b[1]) % Q)


def f2_sub(a: Fq2, b: Fq2) -> Fq2:
    return ((a[0] - b[0]) % Q, (a[1] - b[1]) % Q)


def f2_neg(a: Fq2) -> Fq2:
    return ((-a[0]) % Q, (-a[1]) % Q)


def f2_mul(a: Fq2, b: Fq2) -> Fq2:
    return ((a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q)


def f2_sqr(a: Fq2) -> Fq2:
    return f2_mul(a, a)


def f2_inv(a: Fq2) -> Fq2:
    """1/a (0 maps to 0, like the limb version's Fermat inversion)."""
    t = pow((a[0] * a[0] + a[1] * a[1]) % Q, Q - 2, Q)
    return (a[0] * t % Q, (-a[1] * t) % Q)


def f2_conj(a: Fq2) -> Fq2:
    """a^q: the Frobenius of Fq2 is conjugation u -> -u."""
    return (a[0], (-a[1]) % Q)


def f2_mul_xi(a: Fq2) -> Fq2:
    """a * (9 + u)."""
    return ((9 * a[0] - a[1]) % Q, (a[0] + 9 * a[1]) % Q)


def f2_mul_fq(a: Fq2, s: int) -> Fq2:
    return (a[0] * s % Q, a[1] * s % Q)


def _f2_pow(a: Fq2, e: int) -> Fq2:
    r: Fq2 = (1, 0)
    for bit in bin(e)[2:]:
        r = f2_mul(r, r)
        if bit == "1":
            r = f2_mul(r, a)
    return r


#: xi = 9 + u, the cubic non-residue defining Fq6 and the sextic twist.
XI: Fq2 = (9, 1)
#: b' = 3/xi, the twist's coefficient.
TWIST_B: Fq2 = f2_mul_fq(f2_inv(XI), 3)

# Frobenius constants, computed from the field parameters (not copied): (c * w^k)^(q^n) =
# conj^n(c) * w^k * w^(k*(q^n - 1)) and w^(k*(q^n - 1)) = xi^(k*(q^n - 1)/6), an element of Fq2
# because 6 divides q - 1. FROB_GAMMA[n][k] = xi^(k*(q^n - 1)/6) for n = 1, 2, 3 and k = 0..5.
if (Q - 1) % 6 != 0:  # pragma: no cover
    raise ImportError("q != 1 mod 6: the Frobenius constants below do not apply")
FROB_GAMMA: dict[int, tuple[Fq2, ...]] = {
    n: tuple(_f2_pow(XI, k * (Q**n - 1) // 6) for k in range(6)) for n in (1, 2, 3)
}
#: psi (untwist-Frobenius-twist, Galbraith and Scott 2008) multiplies conj(x) by xi^((q-1)/3) and
#: conj(y) by xi^((q-1)/2): the Frobenius constants of w^2 and w^3.
PSI_X: Fq2 = FROB_GAMMA[1][2]
PSI_Y: Fq2 = FROB_GAMMA[1][3]

# --- Fq6 = Fq2[v]/(v^3 - xi) -----------------------------------------------------------------


def f6_add(a: Fq6, b: Fq6) -> Fq6:
    return (f2_add(a[0], b[0]), f2_add(a[1], b[1]), f2_add(a[2], b[2]))


def f6_sub(a: Fq6, b: Fq6) -> Fq6:
    return (f2_sub(a[0], b[0]), f2_sub(a[1], b[1]), f2_sub(a[2], b[2]))


def f6_neg(a: Fq6) -> Fq6:
    return (f2_neg(a[0]), f2_neg(a[1]), f2_neg(a[2]))


def f6_mul(a: Fq6, b: Fq6) -> Fq6:
    """Karatsuba over Fq2 (6 Fq2 products; Devegili, O hEigeartaigh, Scott, Dahab 2006)."""
    a0, a1, a2 = a
    b0, b1, b2 = b
    v0 = f2_mul(a0, b0)
    v1 = f2_mul(a1, b1)
    v2 = f2_mul(a2, b2)
    c0 = f2_add(v0, f2_mul_xi(f2_sub(f2_sub(f2_mul(f2_add(a1, a2), f2_add(b1, b2)), v1), v2)))
    c1 = f2_add(f2_sub(f2_sub(f2_mul(f2_add(a0, a1), f2_add(b0, b1)), v0), v1), f2_mul_xi(v2))
    c2 = f2_add(f2_sub(f2_sub(f2_mul(f2_add(a0, a2), f2_add(b0, b2)), v0), v2), v1)
    return (c0, c1, c2)


def f6_sqr(a: Fq6) -> Fq6:
    """Chung-Hasan CH-SQR2 (2 Fq2 products, 3 squarings)."""
    a0, a1, a2 = a
    s0 = f2_sqr(a0)
    ab = f2_mul(a0, a1)
    s1 = f2_add(ab, ab)
    s2 = f2_sqr(f2_add(f2_sub(a0, a1), a2))
    bc = f2_mul(a1, a2)
    s3 = f2_add(bc, bc)
    s4 = f2_sqr(a2)
    c0 = f2_add(s0, f2_mul_xi(s3))
    c1 = f2_add(s1, f2_mul_xi(s4))
    c2 = f2_sub(f2_sub(f2_add(f2_add(s1, s2), s3), s0), s4)
    return (c0, c1, c2)


def f6_mul_by_v(a: Fq6) -> Fq6:
    """a * v: (c0, c1, c2) -> (xi*c2, c0, c1)."""
    return (f2_mul_xi(a[2]), a[0], a[1])


def f6_mul_by_01(a: Fq6, b0: Fq2, b1: Fq2) -> Fq6:
    """a * (b0 + b1*v) with 5 Fq2 products."""
    a0, a1, a2 = a
    v0 = f2_mul(a0, b0)
    v1 = f2_mul(a1, b1)
    c0 = f2_add(v0, f2_mul_xi(f2_mul(a2, b1)))
    c1 = f2_sub(f2_sub(f2_mul(f2_add(a0, a1), f2_add(b0, b1)), v0), v1)
    c2 = f2_add(f2_mul(a2, b0), v1)
    return (c0, c1, c2)


def f6_inv(a: Fq6) -> Fq6:
    a0, a1, a2 = a
    t0 = f2_sub(f2_sqr(a0), f2_mul_xi(f2_mul(a1, a2)))
    t1 = f2_sub(f2_mul_xi(f2_sqr(a2)), f2_mul(a0, a1))
    t2 = f2_sub(f2_sqr(a1), f2_mul(a0, a2))
    d = f2_add(f2_mul(a0, t0), f2_mul_xi(f2_add(f2_mul(a2, t1), f2_mul(a1, t2))))
    di = f2_inv(d)
    return (f2_mul(t0, di), f2_mul(t1, di), f2_mul(t2, di))


# --- Fq12 = Fq6[w]/(w^2 - v) -----------------------------------------------------------------

_F2_ZERO: Fq2 = (0, 0)
_F6_ZERO: Fq6 = (_F2_ZERO, _F2_ZERO, _F2_ZERO)
#: The one of Fq12.
F12_ONE: Fq12 = (((1, 0), _F2_ZERO, _F2_ZERO), _F6_ZERO)


def f12_add(a: Fq12, b: Fq12) -> Fq12:
    return (f6_add(a[0], b[0]), f6_add(a[1], b[1]))


def f12_sub(a: Fq12, b: Fq12) -> Fq12:
    return (f6_sub(a[0], b[0]), f6_sub(a[1], b[1]))


def f12_mul(a: Fq12, b: Fq12) -> Fq12:
    """Karatsuba over Fq6 (3 Fq6 products)."""
    t0 = f6_mul(a[0], b[0])
    t1 = f6_mul(a[1], b[1])
    c1 = f6_sub(f6_sub(f6_mul(f6_add(a[0], a[1]), f6_add(b[0], b[1])), t0), t1)
    return (f6_add(t0, f6_mul_by_v(t1)), c1)


def f12_sqr(a: Fq12) -> Fq12:
    """Complex squaring (2 Fq6 products): (a0 + a1 w)^2 = (a0+a1)(a0+v a1) - ab - v ab + 2ab w."""
    a0, a1 = a
    ab = f6_mul(a0, a1)
    c0 = f6_sub(f6_sub(f6_mul(f6_add(a0, a1), f6_add(a0, f6_mul_by_v(a1))), ab), f6_mul_by_v(ab))
    return (c0, f6_add(ab, ab))


def f12_conj(a: Fq12) -> Fq12:
    """a^(q^6): w -> -w. On the cyclotomic subgroup (after the easy part) it is the inverse."""
    return (a[0], f6_neg(a[1]))


def f12_inv(a: Fq12) -> Fq12:
    a0, a1 = a
    t = f6_inv(f6_sub(f6_sqr(a0), f6_mul_by_v(f6_sqr(a1))))
    return (f6_mul(a0, t), f6_neg(f6_mul(a1, t)))


def f12_frobenius(a: Fq12, n: int) -> Fq12:
    """a^(q^n) for n in {1, 2, 3}: conjugate each Fq2 coefficient n times, scale by FROB_GAMMA."""
    g = FROB_GAMMA[n]
    out: list[list[Fq2]] = [[], []]
    for i in range(2):
        for j in range(3):
            c = a[i][j]
            if n % 2 == 1:
                c = f2_conj(c)
            out[i].append(f2_mul(c, g[2 * j + i]))
    return (tuple(out[0]), tuple(out[1]))  # type: ignore[return-value]


def _f4_sqr(a: Fq2, b: Fq2) -> tuple[Fq2, Fq2]:
    """(a + b*y)^2 in Fq4 = Fq2[y]/(y^2 - xi): (a^2 + xi*b^2, 2ab), with 2 Fq2 products."""
    t = f2_mul(a, b)
    c0 = f2_sub(f2_sub(f2_mul(f2_add(a, b), f2_add(f2_mul_xi(b), a)), t), f2_mul_xi(t))
    return c0, f2_add(t, t)


def f12_cyclotomic_sqr(a: Fq12) -> Fq12:
    """Squaring in the cyclotomic subgroup (Granger and Scott, PKC 2010, "Faster squaring in the
    cyclotomic subgroup of sixth degree extensions").

    Writes ``a = A + B*w + C*w^2`` with A, B, C in Fq4 = Fq2[y], ``y = w^3`` (so ``y^2 = xi``);
    for ``a`` in the cyclotomic subgroup, ``a^(q^4 - q^2 + 1) = 1`` (true after the easy part of
    the final exponentiation, whose output has order dividing ``Phi_12(q) = q^4 - q^2 + 1``)
    ``a^2 = (3A^2 - 2 conj A) + (3y C^2 + 2 conj B) w + (3B^2 - 2 conj C) w^2``, conj being
    ``y -> -y``. Costs 6 Fq2 products (a general squaring costs 12). Wrong outside the subgroup.
    """
    (z0, z4, z3), (z2, z1, z5) = a
    t0, t1 = _f4_sqr(z0, z1)  # A^2, A = z0 + z1 y
    t2, t3 = _f4_sqr(z2, z3)  # B^2, B = z2 + z3 y
    t4, t5 = _f4_sqr(z4, z5)  # C^2, C = z4 + z5 y

    def three_minus_two(t: Fq2, z: Fq2) -> Fq2:  # 3t - 2z
        d = f2_sub(t, z)
        return f2_add(f2_add(d, d), t)

    def three_plus_two(t: Fq2, z: Fq2) -> Fq2:  # 3t + 2z
        s = f2_add(t, z)
        return f2_add(f2_add(s, s), t)

    n0 = three_minus_two(t0, z0)
    n1 = three_plus_two(t1, z1)
    n2 = three_plus_two(f2_mul_xi(t5), z2)
    n3 = three_minus_two(t4, z3)
    n4 = three_minus_two(t2, z4)
    n5 = three_plus_two(t3, z5)
    return ((n0, n4, n3), (n2, n1, n5))


def f12_mul_by_034(f: Fq12, c0: Fq2, c3: Fq2, c4: Fq2) -> Fq12:
    """f * (c0 + c3*w + c4*w^3): the product by a line value (13 Fq2 products instead of 18).

    The line is ``L = (c0, 0, 0) + (c3, c4, 0)*w``, so with ``f = f0 + f1*w``: ``a = f0*c0``,
    ``b = f1*(c3 + c4 v)``, ``f*L = (a + v*b) + ((f0 + f1)(c0 + c3 + c4 v) - a - b)*w``.
    """
    f0, f1 = f
    a = (f2_mul(f0[0], c0), f2_mul(f0[1], c0), f2_mul(f0[2], c0))
    b = f6_mul_by_01(f1, c3, c4)
    e = f6_mul_by_01(f6_add(f0, f1), f2_add(c0, c3), c4)
    return (f6_add(a, f6_mul_by_v(b)), f6_sub(f6_sub(e, a), b))


def f12_cyclotomic_exp_x(a: Fq12) -> Fq12:
    """a^x for a in the cyclotomic subgroup: NAF of x, cyclotomic squarings, conj for -1 digits."""
    a_inv = f12_conj(a)
    r = a
    for i in range(len(X_NAF) - 2, -1, -1):
        r = f12_cyclotomic_sqr(r)
        d = X_NAF[i]
        if d == 1:
            r = f12_mul(r, a)
        elif d == -1:
            r = f12_mul(r, a_inv)
    return r


# --- Miller loop -----------------------------------------------------------------------------

_TWO_INV = pow(2, Q - 2, Q)
_G2Proj = tuple[Fq2, Fq2, Fq2]


def double_step(t: _G2Proj) -> tuple[_G2Proj, _Line]:
    """Double T = (X : Y : Z) (homogeneous projective, x = X/Z, y = Y/Z) on the twist; return the
    tangent line's coefficients.

    Formulas of Costello, Lange and Naehrig ("Faster pairing computations on curves with
    high-degree twists", PKC 2010) as arranged by Aranha, Karabina, Longa, Gebotys and Lopez
    ("Faster explicit formulas for computing pairings over ordinary curves", Eurocrypt 2011,
    eq. (10)). The tangent at T, untwisted and evaluated at P = (xp, yp), is
    ``yp - (3x^2/2y)*xp*w + (3x^3/2y - y)*w^3`` for affine ``x = X/Z``, ``y = Y/Z``; multiplied by
    ``-2YZ`` (an Fq2 factor, which the final exponentiation removes) and using
    ``y^2 = x^3 + b'`` it becomes ``-2YZ*yp + 3X^2*xp*w + (3b'Z^2 - Y^2)*w^3``, returned as
    ``(-2YZ, 3X^2, 3b'Z^2 - Y^2)``; see :func:`ell`.
    """
    x, y, z = t
    a = f2_mul_fq(f2_mul(x, y), _TWO_INV)
    b = f2_sqr(y)
    c = f2_sqr(z)
    e = f2_mul(TWIST_B, f2_add(f2_add(c, c), c))
    f = f2_add(f2_add(e, e), e)
    g = f2_mul_fq(f2_add(b, f), _TWO_INV)
    h = f2_sub(f2_sqr(f2_add(y, z)), f2_add(b, c))
    i = f2_sub(e, b)
    j = f2_sqr(x)
    e2 = f2_sqr(e)
    x3 = f2_mul(a, f2_sub(b, f))
    y3 = f2_sub(f2_sqr(g), f2_add(f2_add(e2, e2), e2))
    z3 = f2_mul(b, h)
    return (x3, y3, z3), (f2_neg(h), f2_add(f2_add(j, j), j), i)


def add_step(t: _G2Proj, q: _G2) -> tuple[_G2Proj, _Line]:
    """T + Q for T projective and Q affine (T != +-Q); return the chord's coefficients.

    Same sources as :func:`double_step`. With ``theta = Y - yq*Z`` and ``lambda = X - xq*Z`` the
    chord through T and Q at P, untwisted and scaled by lambda, is
    ``lambda*yp - theta*xp*w + (theta*xq - lambda*yq)*w^3``.
    """
    x, y, z = t
    qx, qy = q
    theta = f2_sub(y, f2_mul(qy, z))
    lam = f2_sub(x, f2_mul(qx, z))
    c = f2_sqr(theta)
    d = f2_sqr(lam)
    e = f2_mul(lam, d)
    f = f2_mul(z, c)
    g = f2_mul(x, d)
    h = f2_sub(f2_add(e, f), f2_add(g, g))
    x3 = f2_mul(lam, h)
    y3 = f2_sub(f2_mul(theta, f2_sub(g, h)), f2_mul(e, y))
    z3 = f2_mul(z, e)
    j = f2_sub(f2_mul(theta, qx), f2_mul(lam, qy))
    return (x3, y3, z3), (lam, f2_neg(theta), j)


def psi(q: _G2) -> _G2:
    """The untwist-Frobenius-twist endomorphism on affine twist points."""
    return (f2_mul(f2_conj(q[0]), PSI_X), f2_mul(f2_conj(q[1]), PSI_Y))


def prepare_g2(q: _G2) -> list[_Line]:
    """The line coefficients of the Miller loop for Q, in the order :func:`miller_loop` uses them.

    One doubling line per NAF digit below the top one, one addition line (with Q or -Q) after each
    non-zero digit, then the two lines with ``psi(Q)`` and ``-psi^2(Q)``. Precondition: Q in G2,
    not infinity (then T never meets +-Q or infinity inside the loop, since 6x + 2 < r).
    """
    neg_q = (q[0], f2_neg(q[1]))
    t: _G2Proj = (q[0], q[1], (1, 0))
    lines = []
    for i in range(len(ATE_LOOP_NAF) - 2, -1, -1):
        t, line = double_step(t)
        lines.append(line)
        d = ATE_LOOP_NAF[i]
        if d != 0:
            t, line = add_step(t, q if d == 1 else neg_q)
            lines.append(line)
    q1 = psi(q)
    q2 = psi(q1)
    t, line = add_step(t, q1)
    lines.append(line)
    _, line = add_step(t, (q2[0], f2_neg(q2[1])))
    lines.append(line)
    return lines


def ell(f: Fq12, line: _Line, p: _G1) -> Fq12:
    """f * line(P): the first coefficient is scaled by yp, the second by xp (see double_step)."""
    c0, c3, c4 = line
    return f12_mul_by_034(f, f2_mul_fq(c0, p[1]), f2_mul_fq(c3, p[0]), c4)


def miller_loop(pairs: Sequence[tuple[_G1, Sequence[_Line]]]) -> Fq12:
    """prod_i f_{6x+2,Q_i}(P_i) * (the two Frobenius lines): one shared loop, f squared once per step.

    ``pairs`` holds ``(P, prepare_g2(Q))``; P affine in G1, not infinity.
    """
    f = F12_ONE
    k = 0
    top = len(ATE_LOOP_NAF) - 2
    for i in range(top, -1, -1):
        if i != top:
            f = f12_sqr(f)
        for p, lines in pairs:
            f = ell(f, lines[k], p)
        k += 1
        if ATE_LOOP_NAF[i] != 0:
            for p, lines in pairs:
                f = ell(f, lines[k], p)
            k += 1
    for _ in range(2):
        for p, lines in pairs:
            f = ell(f, lines[k], p)
        k += 1
    return f


def final_exponentiation_easy(f: Fq12) -> Fq12:
    """f^((q^6 - 1)(q^2 + 1)): lands in the cyclotomic subgroup (f != 0)."""
    t = f12_mul(f12_conj(f), f12_inv(f))
    return f12_mul(f12_frobenius(t, 2), t)


def final_exponentiation(f: Fq12) -> Fq12:
    """f^((q^12 - 1)/r), exactly (not a power of it).

    Hard part ``(q^4 - q^2 + 1)/r = l0 + l1 q + l2 q^2 + l3 q^3`` with ``l3 = 1``,
    ``l2 = 6x^2 + 1``, ``l1 = -36x^3 - 18x^2 - 12x + 1``, ``l0 = -36x^3 - 30x^2 - 18x - 2``, evaluated
    with the addition chain of Scott, Benger, Charlemagne, Dominguez Perez and Kachisa, "On the
    final exponentiation for calculating pairings on ordinary elliptic curves" (Pairing 2009, IACR
    ePrint 2008/490, section 5): three exponentiations by x, Frobenius maps and a short chain on
    ``y0 .. y6``. (The tests recompute the decomposition and compare with py_ecc's direct power.)
    """
    t = final_exponentiation_easy(f)
    fp = f12_frobenius(t, 1)
    fp2 = f12_frobenius(t, 2)
    fp3 = f12_frobenius(t, 3)
    fu = f12_cyclotomic_exp_x(t)
    fu2 = f12_cyclotomic_exp_x(fu)
    fu3 = f12_cyclotomic_exp_x(fu2)
    y0 = f12_mul(f12_mul(fp, fp2), fp3)
    y1 = f12_conj(t)
    y2 = f12_frobenius(fu2, 2)
    y3 = f12_conj(f12_frobenius(fu, 1))
    y4 = f12_conj(f12_mul(fu, f12_frobenius(fu2, 1)))
    y5 = f12_conj(fu2)
    y6 = f12_conj(f12_mul(fu3, f12_frobenius(fu3, 1)))
    t0 = f12_mul(f12_mul(f12_cyclotomic_sqr(y6), y4), y5)
    t1 = f12_mul(f12_mul(y3, y5), t0)
    t0 = f12_mul(t0, y2)
    t1 = f12_cyclotomic_sqr(f12_mul(f12_cyclotomic_sqr(t1), t0))
    t0 = f12_mul(t1, y1)
    t1 = f12_mul(t1, y0)
    return f12_mul(f12_cyclotomic_sqr(t0), t1)


def pairing(p: _G1 | None, q: _G2 | None) -> Fq12:
    """The reduced optimal ate pairing e(P, Q) (1 when either is infinity); equals py_ecc's."""
    if p is None or q is None:
        return F12_ONE
    return final_exponentiation(miller_loop([(p, prepare_g2(q))]))


def pairing_product_is_one(pairs: Sequence[tuple[_G1 | None, _G2 | None]]) -> bool:
    """True when prod e(P_i, Q_i) == 1 (one shared Miller loop, one final exponentiation)."""
    prepared = [(p, prepare_g2(q)) for p, q in pairs if p is not None and q is not None]
    return final_exponentiation(miller_loop(prepared)) == F12_ONE
