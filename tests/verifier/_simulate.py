"""Valid Groth16 proofs without a circuit or a prover, from the setup's trapdoor.

Whoever knows the toxic waste (alpha, beta, gamma, delta and the input-commitment scalars) can
produce a proof for ANY public inputs: choose random ``a``, ``b`` and solve the verification
equation for ``c``::

    a*b = alpha*beta + gamma*(u_0 + sum_i x_i*u_i) + c*delta   (mod r)

With ``A = a*G1``, ``B = b*G2``, ``C = c*G1`` and ``gamma_abc_g1[i] = u_i*G1`` the pairing check
``e(A, B) == e(alpha, beta) * e(vk_x, gamma) * e(C, delta)`` holds. (A real setup stores
``gamma_abc_g1[i] = (beta*A_i + alpha*B_i + C_i)(tau)/gamma * G1``; here ``u_i`` plays that role.)

The expected values come from scalar arithmetic mod r, not from the verifier under test.

Importing from other test folders (tests are collected with --import-mode=importlib, so this
folder is not on sys.path): load by path, as tests/verifier/conftest.py does::

    spec = importlib.util.spec_from_file_location("zkmargin_test_simulate", path_to_this_file)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from zkmargin.curve import G1_GENERATOR, G2_GENERATOR, g1_mul, g2_mul
from zkmargin.field import Q, R, fr_inv
from zkmargin.groth16 import Proof, VerifyingKey

__all__ = [
    "VkTrapdoor",
    "random_vk_with_trapdoor",
    "simulated_proof",
    "fq2_sqrt",
    "twist_b",
    "twist_point_outside_g2",
]


@dataclass(frozen=True)
class VkTrapdoor:
    """A verifying key together with the secret scalars it was built from."""

    vk: VerifyingKey
    alpha: int
    beta: int
    gamma: int
    delta: int
    #: u_0 .. u_n: gamma_abc_g1[i] = u[i] * G1.
    u: tuple[int, ...]
    rng: random.Random


def _nonzero(rng: random.Random) -> int:
    return rng.randrange(1, R)


def random_vk_with_trapdoor(n_public: int, rng: random.Random) -> VkTrapdoor:
    """A random verifying key with ``n_public`` public inputs, and its trapdoor.

    Args:
        n_public: number of public inputs (>= 0).
        rng: source of the secret scalars (seed it for reproducible tests); kept in the trapdoor
            and used again by :func:`simulated_proof` unless it is given another.

    Cost: 1 + n_public G1 and 3 G2 scalar multiplications (well under a second).
    """
    alpha, beta, gamma, delta = (_nonzero(rng) for _ in range(4))
    u = tuple(_nonzero(rng) for _ in range(n_public + 1))
    vk = VerifyingKey(
        alpha_g1=g1_mul(G1_GENERATOR, alpha),
        beta_g2=g2_mul(G2_GENERATOR, beta),
        gamma_g2=g2_mul(G2_GENERATOR, gamma),
        delta_g2=g2_mul(G2_GENERATOR, delta),
        gamma_abc_g1=tuple(g1_mul(G1_GENERATOR, ui) for ui in u),
    )
    return VkTrapdoor(vk=vk, alpha=alpha, beta=beta, gamma=gamma, delta=delta, u=u, rng=rng)


def simulated_proof(
    trapdoor: VkTrapdoor, public: list[int] | tuple[int, ...], rng: random.Random | None = None
) -> Proof:
    """A proof that verifies under ``trapdoor.vk`` for the given public inputs.

    Args:
        trapdoor: from :func:`random_vk_with_trapdoor`.
        public: ``len(trapdoor.u) - 1`` public inputs (reduced mod r here, so only pass values
            in [0, r) if you want the proof to be for exactly those inputs).
        rng: randomness for ``a`` and ``b``; defaults to the trapdoor's.

    Raises:
        ValueError: wrong number of public inputs. (In the rare case ``c == 0``, new ``a``,
            ``b`` are drawn so that C is never the point at infinity.)
    """
    if len(public) != len(trapdoor.u) - 1:
        raise ValueError(f"expected {len(trapdoor.u) - 1} public inputs, got {len(public)}")
    rng = rng or trapdoor.rng
    ic = (trapdoor.u[0] + sum(x * ui for x, ui in zip(public, trapdoor.u[1:], strict=True))) % R
    while True:
        a, b = _nonzero(rng), _nonzero(rng)
        c = (a * b - trapdoor.alpha * trapdoor.beta - trapdoor.gamma * ic) * fr_inv(trapdoor.delta) % R
        if c != 0:
            break
    return Proof(a=g1_mul(G1_GENERATOR, a), b=g2_mul(G2_GENERATOR, b), c=g1_mul(G1_GENERATOR, c))


# --- points on the twist outside G2 ----------------------------------------------------------
# Fq2 = Fq[u]/(u^2 + 1) on (c0, c1) int pairs, written out here so that the construction does not
# rely on the curve module under test.

def _fq2_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    q = Q
    return ((a[0] * b[0] - a[1] * b[1]) % q, (a[0] * b[1] + a[1] * b[0]) % q)


def _fq_sqrt(n: int) -> int | None:
    """Square root in Fq (q = 3 mod 4, so n^((q+1)/4)); None for a non-residue."""
    q = Q
    n %= q
    s = pow(n, (q + 1) // 4, q)
    return s if s * s % q == n else None


def fq2_sqrt(a: tuple[int, int]) -> tuple[int, int] | None:
    """A square root of ``a`` in Fq2, or None when ``a`` is not a square.

    For ``a = a0 + a1*u`` with norm ``n = a0^2 + a1^2``: if ``x = x0 + x1*u`` squares to ``a``
    then ``x0^2 = (a0 +- sqrt(n)) / 2`` and ``x1 = a1 / (2*x0)``. The result is checked by
    squaring, so a wrong branch can only give None, never a wrong root.
    """
    q = Q
    a0, a1 = a[0] % q, a[1] % q
    if a1 == 0:
        s = _fq_sqrt(a0)
        cand = [(s, 0)] if s is not None else []
        s = _fq_sqrt(-a0)
        cand += [(0, s)] if s is not None else []  # (s*u)^2 = -s^2 = a0
    else:
        cand = []
        s = _fq_sqrt(a0 * a0 + a1 * a1)
        if s is not None:
            half = pow(2, q - 2, q)
            for t in ((a0 + s) * half, (a0 - s) * half):
                x0 = _fq_sqrt(t)
                if x0:
                    cand.append((x0, a1 * pow(2 * x0, q - 2, q) % q))
    for x in cand:
        if _fq2_mul(x, x) == (a0, a1):
            return x
    return None


def twist_b() -> tuple[int, int]:
    """b' = 3 / (9 + u) = 3 * (9 - u) / 82, computed from its definition."""
    q = Q
    inv82 = pow(82, q - 2, q)
    return (27 * inv82 % q, (-3 * inv82) % q)


def twist_point_outside_g2(rng: random.Random) -> tuple[tuple[int, int], tuple[int, int]]:
    """A random point on the twist ``y^2 = x^3 + 3/(9+u)`` over Fq2, as ``((x0, x1), (y0, y1))``.

    The twist's group has order ``r * c`` with cofactor ``c = 2q - r`` (254 bits), so a random
    point lies in the order-r subgroup G2 with probability ``1/c``: for all purposes never. Tests
    still confirm ``r * P != infinity`` with an independent implementation.
    """
    q = Q
    b = twist_b()
    while True:
        x = (rng.randrange(q), rng.randrange(q))
        x3 = _fq2_mul(_fq2_mul(x, x), x)
        y = fq2_sqrt(((x3[0] + b[0]) % q, (x3[1] + b[1]) % q))
        if y is not None:
            return (x, y)
