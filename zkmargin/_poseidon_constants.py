"""Poseidon round constants and MDS matrices, generated with the Poseidon paper's Grain procedure.

Provenance (STYLE rule 12). The constants are not copied from anywhere: they are produced here
by the parameter-generation procedure of the Poseidon paper (Grassi, Khovratovich, Rechberger,
Roy, Schofnegger, "Poseidon: A New Hash Function for Zero-Knowledge Proof Systems", USENIX
Security 2021, https://eprint.iacr.org/2019/458, Appendix E / F) as implemented by the authors'
reference script ``generate_parameters_grain.sage`` (https://extgit.iaik.tugraz.at/krypto/
hadeshash, ``code/generate_parameters_grain.sage``), invoked for BN254 the way circomlib/
circomlibjs document it::

    sage generate_parameters_grain.sage 1 0 254 <t> 8 <R_P> \
        0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001

i.e. field GF(p) (field bit 1), S-box x^alpha (S-box code 0; alpha = 5 for BN254), field size
n = 254 bits, width t, R_F = 8, R_P from :data:`N_ROUNDS_P` below. The procedure:

1. Grain LFSR, 80-bit state b_0..b_79 initialised (most significant bit first) with: 2 bits field
   type (1 = GF(p)), 4 bits S-box type (0 = x^alpha), 12 bits n, 12 bits t, 10 bits R_F, 10 bits
   R_P, then 30 ones. Update b_{i+80} = b_{i+62} ^ b_{i+51} ^ b_{i+38} ^ b_{i+23} ^ b_{i+13} ^ b_i.
2. The first 160 *new* bits (b_80..b_239) are discarded; the stream used starts at b_240.
3. Self-shrinking: bits are read in pairs; if the first is 1 the second is output, else both are
   dropped.
4. Round constants: (R_F + R_P) * t field elements, each read as n output bits, most significant
   bit first; a value >= p is rejected and the next n bits are read instead.
5. MDS matrix: 2t more n-bit values, each reduced mod p (no rejection); redrawn while any two are
   equal. x = first t, y = last t; M[i][j] = 1 / (x_i + y_j) (a Cauchy matrix), redrawn if some
   x_i + y_j = 0.

The reference script then runs its invariant-subspace checks ("algorithm 1-3") on the matrix and
redraws when one fails. Those checks are not re-implemented here: for BN254 and t = 2..17 the
first candidate passes them, which tests/crosscheck/test_poseidon_circomlibjs.py confirms by
comparing every constant and matrix entry with circomlibjs 0.1.7 (whose ``poseidon_constants.json``
was produced by that script), and tests/core/test_poseidon_native.py pins a digest of all of them.

Search results this module was written from (the ``search`` tool of the development session):
the Orochi Network notes "Concrete POSEIDON instantiation" (https://docs.orochi.network/
poseidon-hash/poseidon-permutation-design/concrete-poseidon-instantiation.html: Grain init layout,
update rule, 160-bit discard, self-shrinking, rejection >= p, MSB first), and a public copy of the
reference script (repository VictorColomb/stark-snark-recursive-proofs, path
crypto/src/hash/poseidon/generate_parameters_grain.sage.py: ``init_generator``,
``grain_sr_generator``, ``generate_constants``, ``create_mds_p``, ``generate_matrix``). The
round counts R_P are those circomlib uses (paper table 2/8, rounded up; circomlibjs
``N_ROUNDS_P``). This module is an independent pure-Python re-implementation; the LFSR is
evaluated many bits at a time (see :func:`_lfsr_extend`) but yields exactly the bit sequence of
the recurrence above, which the core tests check against a bit-by-bit twin.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress

from zkmargin.field import R

__all__ = [
    "ALPHA",
    "N_ROUNDS_F",
    "N_ROUNDS_P",
    "MIN_WIDTH",
    "MAX_WIDTH",
    "FIELD_SIZE_BITS",
    "grain_init_bits",
    "GrainSelfShrinking",
    "generate_parameters",
]

#: S-box exponent: x^5 is a permutation of Fr because gcd(5, r - 1) = 1 for BN254.
ALPHA = 5
#: Number of full rounds (R_F), half before and half after the partial rounds.
N_ROUNDS_F = 8
#: Partial rounds R_P for widths t = 2..17 (index t - 2), as in circomlib / circomlibjs.
N_ROUNDS_P: tuple[int, ...] = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
#: Smallest and largest supported state width t.
MIN_WIDTH = 2
MAX_WIDTH = MIN_WIDTH + len(N_ROUNDS_P) - 1
#: n in the Grain initialisation: bit length of the field order (254 for BN254).
FIELD_SIZE_BITS = R.bit_length()

_FIELD_GF_P = 1  # field-type code of the reference script: 0 = GF(2^n), 1 = GF(p)
_SBOX_POW = 0  # S-box code of the reference script: 0 = x^alpha, 1 = x^(-1)
_STATE_BITS = 80
_TAPS = (62, 51, 38, 23, 13, 0)  # b_{i+80} = XOR of b_{i+tap}
_DISCARD = 160  # new bits clocked out and thrown away before the stream is used
# Raw LFSR bits produced per refill of the shrinking generator (bit strings of this size are cheap).
_REFILL_RAW_BITS = 1 << 16


def grain_init_bits(field: int, sbox: int, n: int, t: int, n_rounds_f: int, n_rounds_p: int) -> list[int]:
    """The 80 initial Grain LFSR bits b_0..b_79 for the given parameters (each field MSB first).

    Raises:
        ValueError: a parameter does not fit its bit field (2, 4, 12, 12, 10, 10 bits).
    """
    fields = (
        (field, 2, "field"),
        (sbox, 4, "sbox"),
        (n, 12, "n"),
        (t, 12, "t"),
        (n_rounds_f, 10, "R_F"),
        (n_rounds_p, 10, "R_P"),
    )
    bits: list[int] = []
    for value, width, name in fields:
        if not 0 <= value < (1 << width):
            raise ValueError(f"Grain parameter {name}={value} does not fit in {width} bits")
        bits.extend((value >> (width - 1 - k)) & 1 for k in range(width))
    bits.extend([1] * 30)
    return bits


def _lfsr_extend(seq: int, n: int, target: int) -> tuple[int, int]:
    """Extend the LFSR sequence to at least ``target`` bits.

    ``seq`` holds bits b_0..b_{n-1}, b_k at integer bit position k. The feedback polynomial
    P(x) = x^80 + x^62 + x^51 + x^38 + x^23 + x^13 + 1 over GF(2) satisfies P(x)^s = P(x^s) for
    s a power of two, so the sequence also obeys b_{k+80s} = XOR_tap b_{k+tap*s}; with 80s <= n
    the next 18s bits (80s - 62s) depend only on known bits and come out of one XOR of six
    shifted slices. Returns the new (seq, n).
    """
    while n < target:
        s = 1
        while 160 * s <= n:
            s *= 2
        length = 18 * s
        mask = (1 << length) - 1
        base = n - _STATE_BITS * s
        block = 0
        for tap in _TAPS:
            block ^= (seq >> (base + tap * s)) & mask
        seq |= block << n
        n += length
    return seq, n


class GrainSelfShrinking:
    """The Grain LFSR in self-shrinking mode, as the Poseidon reference script uses it.

    Args:
        init_bits: the 80 initial bits b_0..b_79 (see :func:`grain_init_bits`).
    """

    def __init__(self, init_bits: Sequence[int]) -> None:
        if len(init_bits) != _STATE_BITS or any(b not in (0, 1) for b in init_bits):
            raise ValueError(f"Grain needs exactly {_STATE_BITS} initial bits (0 or 1)")
        self._seq = sum(b << k for k, b in enumerate(init_bits))
        self._n = _STATE_BITS
        self._raw_pos = _STATE_BITS + _DISCARD  # next raw bit to feed the shrinking step (even offset)
        self._out = ""  # shrunk output bits, in stream order
        self._pos = 0  # first bit of self._out not yet consumed
        self._translate = bytes.maketrans(b"01", b"\x00\x01")

    def _refill(self) -> None:
        start, stop = self._raw_pos, self._raw_pos + _REFILL_RAW_BITS  # even length: whole pairs
        self._seq, self._n = _lfsr_extend(self._seq, self._n, stop)
        raw = format((self._seq >> start) & ((1 << (stop - start)) - 1), f"0{stop - start}b")[::-1]
        selectors = raw[0::2].encode("ascii").translate(self._translate)  # b"\x00"/b"\x01" are falsy/truthy
        self._out = self._out[self._pos :] + "".join(compress(raw[1::2], selectors))
        self._pos = 0
        self._raw_pos = stop

    def next_int(self, n_bits: int) -> int:
        """The next ``n_bits`` output bits read as an unsigned integer, first bit most significant."""
        while len(self._out) - self._pos < n_bits:
            self._refill()
        start, self._pos = self._pos, self._pos + n_bits
        return int(self._out[start : self._pos], 2)


def generate_parameters(
    t: int, n_rounds_f: int, n_rounds_p: int, prime: int = R
) -> tuple[list[int], list[list[int]]]:
    """Round constants and MDS matrix of Poseidon over GF(prime), x^alpha S-box, width ``t``.

    Returns:
        ``(round_constants, mds)``: ``(n_rounds_f + n_rounds_p) * t`` constants in round-major
        order (constant ``i`` of round ``r`` at index ``r * t + i``) and the t x t matrix as rows,
        applied as ``new[i] = sum_j mds[i][j] * state[j]``.

    Raises:
        ValueError: ``t < 2`` or a parameter does not fit the Grain initialisation.
    """
    if t < 2:
        raise ValueError(f"Poseidon width t={t} must be at least 2")
    n = prime.bit_length()
    grain = GrainSelfShrinking(grain_init_bits(_FIELD_GF_P, _SBOX_POW, n, t, n_rounds_f, n_rounds_p))

    constants: list[int] = []
    while len(constants) < (n_rounds_f + n_rounds_p) * t:
        value = grain.next_int(n)
        if value < prime:  # rejection sampling: values >= p are skipped
            constants.append(value)

    while True:
        points = [grain.next_int(n) % prime for _ in range(2 * t)]
        if len(set(points)) != 2 * t:
            continue  # the reference redraws all 2t values on a duplicate
        xs, ys = points[:t], points[t:]
        if any((x + y) % prime == 0 for x in xs for y in ys):
            continue
        mds = [[pow(x + y, -1, prime) for y in ys] for x in xs]
        return constants, mds
