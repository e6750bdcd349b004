"""Poseidon hash over the BN254 scalar field, compatible with circomlib's ``Poseidon(n)``.

``poseidon(inputs)`` equals circomlib's ``Poseidon(n)`` circuit and circomlibjs's ``poseidon``
for ``n = len(inputs)`` in 1..16: width ``t = n + 1``, initial state ``[0, *inputs]``, the
permutation below, output ``state[0]``.

The permutation is the straightforward reference form of the Poseidon paper
(https://eprint.iacr.org/2019/458): ``R_F / 2`` full rounds, ``R_P`` partial rounds, ``R_F / 2``
full rounds; each round is ARK (add the round's t constants), S-box (x^5 on every element in a
full round, on element 0 only in a partial round), MIX (multiply by the MDS matrix). R_F = 8 and
R_P depends on t (circomlib's table). The constants come from the paper's Grain LFSR procedure,
regenerated at first use; see :mod:`zkmargin._poseidon_constants` for the provenance.

Pure Python ints only (no numpy/numba/galois), so the base install can hash.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from zkmargin._poseidon_constants import (
    ALPHA,
    MAX_WIDTH,
    MIN_WIDTH,
    N_ROUNDS_F,
    N_ROUNDS_P,
    generate_parameters,
)
from zkmargin.errors import MalformedInputError
from zkmargin.field import R

__all__ = [
    "ALPHA",
    "N_ROUNDS_F",
    "N_ROUNDS_P",
    "MIN_WIDTH",
    "MAX_WIDTH",
    "MAX_INPUTS",
    "PoseidonParams",
    "poseidon_params",
    "poseidon_permutation",
    "poseidon",
]

#: Most inputs one ``poseidon`` call takes (width 17); longer vectors are hashed in chunks.
MAX_INPUTS = MAX_WIDTH - 1


@dataclass(frozen=True)
class PoseidonParams:
    """The constants of the Poseidon permutation of width ``t`` over BN254's Fr.

    Attributes:
        t: state width (number of field elements).
        n_rounds_f: total full rounds R_F (8); ``n_rounds_f // 2`` come first, the rest last.
        n_rounds_p: partial rounds R_P.
        round_constants: ``round_constants[r][i]`` is added to ``state[i]`` at the start of round
            ``r`` (``n_rounds_f + n_rounds_p`` rounds); every value is in [0, r).
        mds: the t x t MDS matrix as rows: MIX sets ``state[i] = sum_j mds[i][j] * state[j]``.
        alpha: the S-box exponent (5).

    Tuples, not lists: the instances are cached and shared, so they must not be mutated.
    """

    t: int
    n_rounds_f: int
    n_rounds_p: int
    round_constants: tuple[tuple[int, ...], ...]
    mds: tuple[tuple[int, ...], ...]
    alpha: int = ALPHA

    @property
    def n_rounds(self) -> int:
        """Total number of rounds, R_F + R_P."""
        return self.n_rounds_f + self.n_rounds_p

    @property
    def round_constants_flat(self) -> tuple[int, ...]:
        """All round constants in circomlib's flat order: constant ``i`` of round ``r`` at ``r*t + i``."""
        return tuple(c for row in self.round_constants for c in row)

    def is_full_round(self, r: int) -> bool:
        """Whether round ``r`` (0-based) applies the S-box to the whole state."""
        half = self.n_rounds_f // 2
        return r < half or r >= half + self.n_rounds_p


@cache
def poseidon_params(t: int) -> PoseidonParams:
    """The (cached) Poseidon parameters for state width ``t`` in 2..17.

    Generated on first use with the Grain LFSR procedure (a few ms to ~25 ms per width).

    Raises:
        ValueError: ``t`` outside 2..17.
    """
    if not isinstance(t, int) or not MIN_WIDTH <= t <= MAX_WIDTH:
        raise ValueError(f"Poseidon width t={t!r} is not supported: t must be in {MIN_WIDTH}..{MAX_WIDTH}")
    n_rounds_p = N_ROUNDS_P[t - MIN_WIDTH]
    flat, mds = generate_parameters(t, N_ROUNDS_F, n_rounds_p, R)
    rounds = tuple(tuple(flat[r * t : (r + 1) * t]) for r in range(N_ROUNDS_F + n_rounds_p))
    return PoseidonParams(
        t=t,
        n_rounds_f=N_ROUNDS_F,
        n_rounds_p=n_rounds_p,
        round_constants=rounds,
        mds=tuple(tuple(row) for row in mds),
    )


def _field_elements(values: Sequence[int], what: str) -> list[int]:
    """Validate that every value is an integer in [0, r); return them as a list of ints."""
    out: list[int] = []
    for i, v in enumerate(values):
        try:
            x = operator.index(v)
        except TypeError:
            raise TypeError(f"{what} at index {i} is {type(v).__name__}, not an integer") from None
        if not 0 <= x < R:
            raise MalformedInputError(
                f"{what} at index {i} is not a field element: {x} is outside [0, r) "
                f"(r = BN254 scalar field order)"
            )
        out.append(x)
    return out


def _permute(state: list[int], params: PoseidonParams) -> list[int]:
    """The permutation on a validated state (a fresh list of ints in [0, r)); returns a new list."""
    p = R
    mds = params.mds
    mul = operator.mul
    half = params.n_rounds_f // 2
    first_partial, first_last_full = half, half + params.n_rounds_p
    for r, constants in enumerate(params.round_constants):
        if r < first_partial or r >= first_last_full:
            # ARK + x^5 on every element; values stay < p after each product.
            sboxed = []
            for x, c in zip(state, constants, strict=True):
                x = x + c
                x2 = x * x % p
                sboxed.append(x2 * x2 % p * x % p)
        else:
            # ARK everywhere, x^5 on element 0 only; the others stay unreduced (< 2p) until MIX.
            sboxed = list(map(operator.add, state, constants))
            x = sboxed[0]
            x2 = x * x % p
            sboxed[0] = x2 * x2 % p * x % p
        state = [sum(map(mul, row, sboxed)) % p for row in mds]
    return state


def poseidon_permutation(state: Sequence[int]) -> list[int]:
    """Apply the Poseidon permutation of width ``t = len(state)`` (2..17) to ``state``.

    Args:
        state: t field elements, each an integer in [0, r).

    Returns:
        The permuted state, a new list of t integers in [0, r).

    Raises:
        ValueError: ``len(state)`` outside 2..17, or an element outside [0, r) (the message
            names its index; the error is a :class:`zkmargin.errors.MalformedInputError`).
        TypeError: an element is not an integer.
    """
    t = len(state)
    if not MIN_WIDTH <= t <= MAX_WIDTH:
        raise ValueError(f"Poseidon state has {t} elements; the width must be in {MIN_WIDTH}..{MAX_WIDTH}")
    return _permute(_field_elements(state, "Poseidon state element"), poseidon_params(t))


def poseidon(inputs: Sequence[int]) -> int:
    """circomlib's ``Poseidon(n)`` hash of ``n = len(inputs)`` field elements, n in 1..16.

    The state ``[0, *inputs]`` of width ``n + 1`` is permuted and element 0 is returned. Inputs
    are not reduced modulo r: a value outside [0, r) is an error, so that two different integer
    vectors never silently hash alike.

    Args:
        inputs: 1 to 16 field elements, each an integer in [0, r).

    Returns:
        The hash, an integer in [0, r).

    Raises:
        ValueError: no inputs, more than 16, or an input outside [0, r) (the message names its
            index; the error is a :class:`zkmargin.errors.MalformedInputError`).
        TypeError: an input is not an integer.
    """
    n = len(inputs)
    if not 1 <= n <= MAX_INPUTS:
        raise ValueError(f"poseidon takes 1..{MAX_INPUTS} inputs, got {n}")
    state = [0, *_field_elements(inputs, "Poseidon input")]
    return _permute(state, poseidon_params(n + 1))[0]
