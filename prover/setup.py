"""Groth16 development setup (key generation) in snarkjs's key layout.

``setup(cs)`` draws the toxic waste (tau, alpha, beta, gamma, delta) from the operating system's
CSPRNG, uses it, and lets it go out of scope: it is never written anywhere. Whoever knew it could
forge proofs, so keys from this function are for development and testing. Production keys come
from a public powers-of-tau ceremony plus phase-2 contributions (snarkjs ``groth16 setup`` and
``zkey contribute``; zkmargin reads the resulting ``.zkey``).
"""

from __future__ import annotations

import logging
import random
import secrets
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from zkmargin import curve
from zkmargin.field import R
from zkmargin.groth16 import MatrixEntry, ProvingKey, VerifyingKey
from zkmargin.r1cs import ConstraintSystem

from .qap import domain_size_for, qap_coefficients, root_of_unity

__all__ = ["setup", "DevelopmentSetupWarning", "Toxic", "KeyScalars", "lagrange_at"]

log = logging.getLogger(__name__)


class DevelopmentSetupWarning(UserWarning):
    """Keys from a local setup: fine for development, never for production."""


class Toxic:
    """The setup's secret scalars. Exists only inside ``setup`` (and in tests that forge proofs)."""

    __slots__ = ("tau", "alpha", "beta", "gamma", "delta")

    def __init__(self, rng: random.Random | None = None) -> None:
        draw: Callable[[], int]
        if rng is None:
            def draw() -> int:
                return secrets.randbelow(R - 1) + 1
        else:
            def draw() -> int:
                return rng.randrange(1, R)
        self.tau, self.alpha, self.beta, self.gamma, self.delta = (draw() for _ in range(5))


def lagrange_at(n: int, x: int) -> list[int]:
    """L_j(x) for the n-point domain: (x^n - 1)/n * w^j / (x - w^j). Precondition: x^n != 1."""
    w = root_of_unity(n)
    zx = (pow(x, n, R) - 1) % R
    if zx == 0:
        raise ValueError("evaluation point lies on the domain")
    pts = [1] * n
    for j in range(1, n):
        pts[j] = pts[j - 1] * w % R
    dens = [(x - p) % R for p in pts]
    invs = _batch_inverse(dens)
    k = zx * pow(n, R - 2, R) % R
    return [k * p % R * i % R for p, i in zip(pts, invs, strict=True)]


def _batch_inverse(xs: Sequence[int]) -> list[int]:
    prefix = [1] * (len(xs) + 1)
    for i, x in enumerate(xs):
        prefix[i + 1] = prefix[i] * x % R
    inv = pow(prefix[-1], R - 2, R)
    out = [0] * len(xs)
    for i in range(len(xs) - 1, -1, -1):
        out[i] = prefix[i] * inv % R
        inv = inv * xs[i] % R
    return out


@dataclass(frozen=True)
class KeyScalars:
    """Every scalar a proving key encodes, as Python ints, and the QAP it came from.

    ``a``/``b``: A_i(tau), B_i(tau) per wire; ``ic``: (beta A_i + alpha B_i + C_i)/gamma for the
    public wires and wire 0; ``l``: the same over delta for the private wires; ``h``: the odd
    Lagrange basis of the 2n domain at tau, over delta. Both setup backends encode these.
    """

    a: list[int]
    b: list[int]
    ic: list[int]
    l: list[int]
    h: list[int]
    domain_size: int
    n_rows: int
    entries: list[MatrixEntry]


def _scalars(cs: ConstraintSystem, t: Toxic) -> KeyScalars:
    """All the scalars the key needs (the group encodings come afterwards)."""
    entries, n_rows = qap_coefficients(cs)
    n = domain_size_for(n_rows)
    lag = lagrange_at(n, t.tau)
    n_w = cs.n_wires
    a_t = [0] * n_w
    b_t = [0] * n_w
    c_t = [0] * n_w
    for m, row, wire, k in entries:
        if m == 0:
            a_t[wire] = (a_t[wire] + k * lag[row]) % R
        else:
            b_t[wire] = (b_t[wire] + k * lag[row]) % R
    for row, (_a, _b, c) in enumerate(cs.constraints):
        for wire, k in c.items():
            c_t[wire] = (c_t[wire] + k * lag[row]) % R
    gamma_inv = pow(t.gamma, R - 2, R)
    delta_inv = pow(t.delta, R - 2, R)
    combo = [(t.beta * a_t[i] + t.alpha * b_t[i] + c_t[i]) % R for i in range(n_w)]
    n_pub = cs.n_public
    lag2 = lagrange_at(2 * n, t.tau)
    return KeyScalars(
        a=a_t,
        b=b_t,
        ic=[c * gamma_inv % R for c in combo[: n_pub + 1]],
        l=[c * delta_inv % R for c in combo[n_pub + 1 :]],
        h=[lag2[2 * k + 1] * delta_inv % R for k in range(n)],
        domain_size=n,
        n_rows=n_rows,
        entries=entries,
    )


def setup(
    cs: ConstraintSystem,
    rng: random.Random | None = None,
    toxic: Toxic | None = None,
    warn: bool = True,
) -> tuple[ProvingKey, VerifyingKey]:
    """Development setup: a proving key and a verifying key for ``cs``.

    Args:
        cs: the constraint system (its public inputs are wires 1..n_public).
        rng: TESTS ONLY, a seeded generator for reproducible keys; default is the OS CSPRNG.
        toxic: TESTS ONLY, explicit toxic waste (soundness tests use it to forge proofs).
        warn: emit DevelopmentSetupWarning (on by default).
    Returns:
        (pk, vk) in snarkjs's layout (see zkmargin.groth16).
    """
    if warn:
        warnings.warn(
            "development setup: the keys come from local randomness, not from a ceremony; "
            "use a powers-of-tau ceremony and phase-2 contributions for production keys",
            DevelopmentSetupWarning,
            stacklevel=2,
        )
    t0 = time.perf_counter()
    t = toxic if toxic is not None else Toxic(rng)
    s = _scalars(cs, t)
    n = s.domain_size
    from .backend import fast_available

    if fast_available():
        from .fast import setup_fast

        pk, vk = setup_fast(cs, t, s)
    else:
        pk, vk = _setup_reference(cs, t, s)
    log.info("setup: %d constraints, domain 2^%d, %.2fs", cs.n_constraints, n.bit_length() - 1,
             time.perf_counter() - t0)
    return pk, vk


def _setup_reference(cs: ConstraintSystem, t: Toxic, s: KeyScalars) -> tuple[ProvingKey, VerifyingKey]:
    """The group encodings with py_ecc scalar multiplications (the twin of ``fast.setup_fast``)."""
    g1, g2 = curve.G1_GENERATOR, curve.G2_GENERATOR

    def mul1(ks: Sequence[int]) -> list[curve.G1Point]:
        return [curve.g1_mul(g1, k) for k in ks]

    vk = VerifyingKey(
        alpha_g1=curve.g1_mul(g1, t.alpha),
        beta_g2=curve.g2_mul(g2, t.beta),
        gamma_g2=curve.g2_mul(g2, t.gamma),
        delta_g2=curve.g2_mul(g2, t.delta),
        gamma_abc_g1=tuple(mul1(s.ic)),
    )
    pk = ProvingKey(
        vk=vk,
        beta_g1=curve.g1_mul(g1, t.beta),
        delta_g1=curve.g1_mul(g1, t.delta),
        n_wires=cs.n_wires,
        n_public=cs.n_public,
        domain_size=s.domain_size,
        a_query=mul1(s.a),
        b_g1_query=mul1(s.b),
        b_g2_query=[curve.g2_mul(g2, k) for k in s.b],
        h_query=mul1(s.h),
        l_query=mul1(s.l),
        coeffs=s.entries,
        n_rows=s.n_rows,
    )
    return pk, vk
