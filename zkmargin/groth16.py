"""Groth16 data types, in paper names (Groth 2016; ark-groth16's field names).

Format names (``pi_a``, ``IC``, ``vk_alpha_1`` ...) appear only in ``zkmargin.serialize``.
Points are affine int tuples as defined in ``zkmargin.curve``.

The proving key layout is snarkjs's (its ``.zkey`` sections), so keys interoperate:

- ``a_query[i]   = A_i(tau)`` in G1 for every wire i;
- ``b_g1_query[i] = B_i(tau)`` in G1 and ``b_g2_query[i] = B_i(tau)`` in G2 for every wire;
- ``l_query[j]   = (beta*A_i(tau) + alpha*B_i(tau) + C_i(tau)) / delta`` for private wires
  i = n_public + 1 + j;
- ``h_query[k]   = L^{2n}_{2k+1}(tau) / delta`` for k < n: the Lagrange basis of the 2n-point
  domain at its odd points, so the prover multiplies by (A*B - C) evaluated on the odd coset and
  never divides by the vanishing polynomial (snarkjs's convention);
- ``gamma_abc_g1[i] = (beta*A_i(tau) + alpha*B_i(tau) + C_i(tau)) / gamma`` for i <= n_public.

``A_i`` includes snarkjs's appended rows: for every public wire i (and wire 0) one extra
constraint with A = w_i, B = 0, C = 0, which binds every public input to the proof.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zkmargin.curve import G1Point, G2Point

__all__ = ["Proof", "VerifyingKey", "ProvingKey", "MatrixEntry"]

#: One non-zero coefficient of the QAP matrices as snarkjs stores them in a .zkey:
#: (matrix 0 for A or 1 for B, constraint row, wire, coefficient in [0, r)).
MatrixEntry = tuple[int, int, int, int]


@dataclass(frozen=True)
class Proof:
    a: G1Point
    b: G2Point
    c: G1Point


@dataclass(frozen=True)
class VerifyingKey:
    alpha_g1: G1Point
    beta_g2: G2Point
    gamma_g2: G2Point
    delta_g2: G2Point
    gamma_abc_g1: tuple[G1Point, ...]
    #: What the key is for, when zkmargin made it for a venue model: ``{"kind": "bilateral" |
    #: "attested", "model_id": ..., "model_digest": decimal string}`` (the JSON's ``zkmargin``
    #: field, which snarkjs ignores). Not part of the key's identity (``==`` ignores it).
    statement: dict[str, str] | None = field(default=None, compare=False, hash=False)

    @property
    def n_public(self) -> int:
        return len(self.gamma_abc_g1) - 1


@dataclass
class ProvingKey:
    """A Groth16 proving key in snarkjs's layout (see the module docstring)."""

    vk: VerifyingKey
    beta_g1: G1Point
    delta_g1: G1Point
    n_wires: int
    n_public: int
    domain_size: int
    a_query: list[G1Point]
    b_g1_query: list[G1Point]
    b_g2_query: list[G2Point]
    h_query: list[G1Point]
    l_query: list[G1Point]
    #: Sparse A and B of the QAP including the appended public-input rows (the .zkey's section 4),
    #: which is what a prover needs to evaluate A*w and B*w on the domain without the .r1cs.
    coeffs: list[MatrixEntry] = field(default_factory=list)
    #: Number of constraint rows before padding: R1CS constraints + n_public + 1.
    n_rows: int = 0
    #: Sections kept in their .zkey encoding instead of the lists above (section id -> bytes: 4 the
    #: coefficients, 5..9 the point queries, Montgomery little-endian). Large keys travel this way
    #: between the .zkey file and the numba prover without a round trip through Python ints; the
    #: corresponding lists are then empty. ``zkmargin.serialize.decode_sections`` fills them.
    encoded: dict[int, bytes] = field(default_factory=dict)

    @property
    def alpha_g1(self) -> G1Point:
        return self.vk.alpha_g1

    @property
    def beta_g2(self) -> G2Point:
        return self.vk.beta_g2

    @property
    def delta_g2(self) -> G2Point:
        return self.vk.delta_g2
