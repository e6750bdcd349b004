"""Groth16 proving (orchestration): witness -> H -> MSMs -> proof, in snarkjs's convention.

    pi_a = alpha + sum_i w_i A_i(tau) + r*delta                        (G1)
    pi_b = beta  + sum_i w_i B_i(tau) + s*delta                        (G2)
    pi_c = sum_{i private} w_i L_i + sum_k h_k H_k + s*pi_a + r*B1 - r*s*delta   (G1)

with B1 the G1 twin of pi_b and h_k = (a*b - c) on the odd coset (see ``qap``). ``r`` and ``s``
are fresh from the OS CSPRNG for every proof (zero knowledge).
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from zkmargin import curve
from zkmargin.errors import MalformedInputError
from zkmargin.field import R
from zkmargin.groth16 import Proof, ProvingKey
from zkmargin.r1cs import ConstraintSystem

from . import qap

__all__ = ["prove", "prove_reference", "PhaseTimings"]

log = logging.getLogger(__name__)


@dataclass
class PhaseTimings:
    """Seconds spent in each prover phase (filled by ``prove`` when given one)."""

    phases: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + seconds

    @property
    def total(self) -> float:
        return sum(self.phases.values())


def _validate(pk: ProvingKey, witness: Sequence[int], cs: ConstraintSystem | None) -> None:
    if len(witness) != pk.n_wires:
        raise MalformedInputError(
            f"witness has {len(witness)} values but the proving key expects {pk.n_wires} wires"
        )
    if witness[0] != 1:
        raise MalformedInputError(f"witness[0] must be 1 (the constant wire), got {witness[0]}")
    for i, v in enumerate(witness):
        if not isinstance(v, int) or not 0 <= v < R:
            raise MalformedInputError(f"witness value {i} is not an integer in [0, r): {v!r:.80}")
    if cs is not None:
        if cs.n_wires != pk.n_wires or cs.n_public != pk.n_public:
            raise MalformedInputError(
                f"the constraint system ({cs.n_wires} wires, {cs.n_public} public) does not match "
                f"the proving key ({pk.n_wires} wires, {pk.n_public} public)"
            )
        cs.check(witness)


def _limb_witness(pk: ProvingKey, w: object, cs: ConstraintSystem | None, keep_array: bool) -> object:
    """Validate a witness given as an ``(n, 4)`` uint64 limb array (normal form) in vectorised passes:
    the count, wire 0 equal to one, every value below r. Returns it unchanged for the numba prover,
    or as ints (checked against ``cs`` when given) otherwise."""
    import numpy as np

    from zkmargin.serialize._mmap import R_LIMBS, limbs_below

    if not isinstance(w, np.ndarray) or w.dtype != np.uint64 or w.shape[1:] != (4,):
        raise MalformedInputError("a witness array must be (n, 4) uint64 limbs")
    if w.shape[0] != pk.n_wires:
        raise MalformedInputError(f"witness has {w.shape[0]} values but the proving key expects {pk.n_wires} wires")
    if w.shape[0] == 0 or w[0, 0] != 1 or w[0, 1:].any():
        first = int.from_bytes(w[0].tobytes(), "little") if w.shape[0] else None
        raise MalformedInputError(f"witness[0] must be 1 (the constant wire), got {first}")
    ok = limbs_below(w, R_LIMBS)
    if not ok.all():
        i = int(np.argmin(ok))
        bad = int.from_bytes(w[i].tobytes(), "little")
        raise MalformedInputError(f"witness value {i} is not an integer in [0, r): {bad}")
    if keep_array and cs is None:
        return w
    b = np.ascontiguousarray(w, dtype="<u8").tobytes()
    ints = [int.from_bytes(b[k: k + 32], "little") for k in range(0, len(b), 32)]
    if cs is not None:
        _validate(pk, ints, cs)
    return w if keep_array else ints


def _blinding(rng: random.Random | None) -> tuple[int, int]:
    if rng is None:
        return secrets.randbelow(R), secrets.randbelow(R)
    return rng.randrange(R), rng.randrange(R)


def prove_reference(
    pk: ProvingKey,
    witness: Sequence[int],
    cs: ConstraintSystem | None = None,
    rng: random.Random | None = None,
    timings: PhaseTimings | None = None,
) -> tuple[Proof, list[int]]:
    """The pure-Python prover (py_ecc MSMs): the oracle the fast prover is tested against.

    Fit for circuits up to about 2^10 constraints (seconds to a minute).
    """
    _validate(pk, witness, cs)
    if pk.encoded:
        from zkmargin.serialize import decode_sections

        pk = decode_sections(pk)
    tm = timings or PhaseTimings()
    t = time.perf_counter()
    a, b = qap.evaluate_ab(pk.coeffs, witness, pk.domain_size)
    tm.add("witness_eval", time.perf_counter() - t)
    t = time.perf_counter()
    h = qap.h_values(a, b)
    tm.add("ntt", time.perf_counter() - t)
    r, s = _blinding(rng)
    t = time.perf_counter()
    n_pub = pk.n_public
    a_acc = curve.g1_lincomb(pk.a_query, witness)
    b1_acc = curve.g1_lincomb(pk.b_g1_query, witness)
    b2_acc = curve.g2_lincomb(pk.b_g2_query, witness)
    l_acc = curve.g1_lincomb(pk.l_query, witness[n_pub + 1 :])
    h_acc = curve.g1_lincomb(pk.h_query, h)
    tm.add("msm", time.perf_counter() - t)
    proof = _assemble(pk, r, s, a_acc, b1_acc, b2_acc, l_acc, h_acc)
    return proof, list(witness[1 : n_pub + 1])


def _assemble(
    pk: ProvingKey,
    r: int,
    s: int,
    a_acc: curve.G1Point,
    b1_acc: curve.G1Point,
    b2_acc: curve.G2Point,
    l_acc: curve.G1Point,
    h_acc: curve.G1Point,
) -> Proof:
    """Add the blinding terms to the MSM results (shared by every prover backend)."""
    pi_a = curve.g1_add(curve.g1_add(pk.alpha_g1, a_acc), curve.g1_mul(pk.delta_g1, r))
    pi_b = curve.g2_add(curve.g2_add(pk.beta_g2, b2_acc), curve.g2_mul(pk.delta_g2, s))
    b1 = curve.g1_add(curve.g1_add(pk.beta_g1, b1_acc), curve.g1_mul(pk.delta_g1, s))
    pi_c = curve.g1_add(l_acc, h_acc)
    pi_c = curve.g1_add(pi_c, curve.g1_mul(pi_a, s))
    pi_c = curve.g1_add(pi_c, curve.g1_mul(b1, r))
    pi_c = curve.g1_add(pi_c, curve.g1_mul(pk.delta_g1, (-r * s) % R))
    return Proof(a=pi_a, b=pi_b, c=pi_c)


def prove(
    pk: ProvingKey,
    witness: Sequence[int],
    cs: ConstraintSystem | None = None,
    rng: random.Random | None = None,
    timings: PhaseTimings | None = None,
) -> tuple[Proof, list[int]]:
    """A Groth16 proof and its public inputs.

    Args:
        pk: proving key (from ``setup`` or a snarkjs ``.zkey``).
        witness: the full witness [1, public..., private...] (from ``zkmargin.circuits.solve`` or a
            ``.wtns`` file).
        cs: when given, the witness is checked against it first and an unsatisfied constraint is
            reported by its scope path (recommended: a proof of a false statement fails anyway,
            but late and without saying why).
        rng: TESTS ONLY, seeded blinding.
        timings: collects seconds per phase.

    The numba backend runs when ``zkmargin[prover]`` is installed (see ``backend``); both backends
    produce proofs of the same distribution.

    Raises:
        MalformedInputError: the witness does not fit the key.
        UnsatisfiedConstraintError: the witness violates a constraint of ``cs``.
    """
    from .backend import fast_available

    limbs = getattr(witness, "ndim", None) == 2  # (n, 4) uint64 limbs (zkmargin.serialize._mmap.read_wtns_array)
    if limbs:
        witness = _limb_witness(pk, witness, cs, fast_available())  # type: ignore[assignment]
    if not fast_available():
        return prove_reference(pk, witness, cs, rng, timings)
    from .fast import prove_fast

    tm = timings or PhaseTimings()
    t = time.perf_counter()
    if not limbs:  # (a limb array was validated above, vectorised)
        _validate(pk, witness, cs)
    tm.add("check_witness", time.perf_counter() - t)
    return prove_fast(pk, witness, rng=rng, timings=tm.phases)
