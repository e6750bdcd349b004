"""Solidity export of a Groth16 verifying key, and the calldata that calls it.

:func:`export_solidity` writes a self-contained contract with the key inlined as constants and one
function, ``verifyProof``, whose ABI is snarkjs's (``uint[2] _pA, uint[2][2] _pB, uint[2] _pC,
uint[N] _pubSignals``), so the calldata of ``snarkjs zkey export soliditycalldata`` and of
:func:`export_calldata` work with either contract. The contract body is our own (written for this
project, not derived from snarkjs's template) and cheaper: the work happens in one assembly block
that uses memory from offset 0 as a fixed pairing buffer, so vk_x is accumulated in place by the
EIP-196 ecMul (0x07) and ecAdd (0x06) precompiles, the proof is copied with two ``calldatacopy``,
and the EIP-197 pairing precompile (0x08) writes its answer where ``return`` reads it. The key's G2
points are negated here, at export, so the contract negates nothing:

    e(A, B) * e(C, -delta) * e(alpha, -beta) * e(vk_x, -gamma) == 1,
    vk_x = IC_0 + sum_i x_i * IC_i   (IC = gamma_abc_g1; the ecMul is skipped when x_i == 0).

Execution gas of ``verifyProof`` (solc 0.8.37, optimizer runs=200, py-evm Prague rules, without the
intrinsic and calldata cost), against snarkjs 0.7.6's template on the same key and proof: n = 1:
188,317 vs 188,922; n = 2: 194,825 vs 195,611; n = 4: 207,914 vs 208,946. A public input equal to
0 skips its ecMul and ecAdd (about 6,500 gas less). Almost all of the cost is the precompiles
(181,000 for the pairing, 6,150 + 200 per public input); most of the rest is Solidity's ABI decoder.

Results, following the project's verifier convention (``False`` means a well-formed proof failed
the pairing check; malformed input is an error):

- ``true``: the pairing check holds;
- ``false``: every input is well formed and the pairing check fails;
- revert ``PublicInputNotInField()``: some public input is >= r (snarkjs's contract returns false
  here instead);
- revert ``PrecompileFailed()``: a precompile call failed: a proof coordinate >= q, a point that is
  not on its curve, B outside the order-r subgroup, or too little gas. Reverting on too little gas
  (rather than returning false, as snarkjs's contract does) means a relayer cannot make a valid
  proof look invalid by starving the call of gas.

- revert ``IdentityPoint()``: A or C is (0, 0) or B is (0, 0, 0, 0), the encodings of the point at
  infinity. The precompiles would accept them (a valid proof never has one: A and C are blinded
  by random r, s), and the Python verifier rejects them with ``IdentityPointError``: the two
  verifiers agree that a proof with an identity point is malformed, not merely false.

The key itself is validated by the Python verifier's own check (``prepare_verifying_key``): the
export refuses, with the same named error, every key that ``verify`` refuses (a point off its
curve or outside its subgroup, any point at infinity, an IC point at infinity included, which would
leave that public input unbound in the contract).

Format conventions live only here (rule 6): calldata carries G2 coordinates imaginary part first,
``[[x1, x0], [y1, y0]]`` for ``x = x0 + x1*u``, which is also the precompile's order; snarkjs's
JSON files write the real part first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from string import Template

from zkmargin.curve import (
    G1Point,
    G2Point,
    g2_neg,
)
from zkmargin.errors import (
    PublicInputCountError,
)
from zkmargin.field import R
from zkmargin.groth16 import Proof, VerifyingKey
from zkmargin.verifier.groth16_verify import prepare_verifying_key

__all__ = [
    "export_solidity",
    "export_calldata",
    "calldata_args",
    "CalldataArgs",
    "PUBLIC_INPUT_NOT_IN_FIELD_SELECTOR",
    "PRECOMPILE_FAILED_SELECTOR",
    "IDENTITY_POINT_SELECTOR",
]

#: ``bytes4(keccak256("PublicInputNotInField()"))``, the revert data for a public input >= r.
PUBLIC_INPUT_NOT_IN_FIELD_SELECTOR = 0xA54F8E27
#: ``bytes4(keccak256("PrecompileFailed()"))``, the revert data when a precompile call failed.
PRECOMPILE_FAILED_SELECTOR = 0x84E81692
#: ``bytes4(keccak256("IdentityPoint()"))``, the revert data for a proof point at infinity.
IDENTITY_POINT_SELECTOR = 0xBE2F55AA

#: ``(a, b, c, public)`` as ints in calldata order: ``a = (x, y)``, ``b = ((x1, x0), (y1, y0))``,
#: ``c = (x, y)``; the point at infinity is (0, 0) (G1) or ((0, 0), (0, 0)) (G2).
CalldataArgs = tuple[
    tuple[int, int], tuple[tuple[int, int], tuple[int, int]], tuple[int, int], tuple[int, ...]
]

_UINT256_LIMIT = 1 << 256
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")

# Memory layout of the pairing buffer (0x300 bytes from offset 0; the function never returns to
# compiled Solidity, so it may ignore the free-memory pointer and the zero slot):
#   0x000 A          0x040 B          (pair 1) \ one calldatacopy: A, B and C are contiguous in
#   0x0c0 C          0x100 -delta     (pair 2) /  calldata (offsets 0x04, 0x44, 0xc4)
#   0x180 alpha      0x1c0 -beta      (pair 3)
#   0x240 vk_x       0x280 -gamma     (pair 4; 0x280..0x2e0 is the ecMul scratch before -gamma)
_TEMPLATE = Template(
    """\
// SPDX-License-Identifier: MIT
// Generated by zkmargin (zkmargin.verifier.solidity.export_solidity) for one Groth16 verifying key
// over BN254. Do not edit: re-export from the key instead.
pragma solidity $pragma;

/// @title Groth16 verifier (BN254) for a fixed verifying key with $n_public public input(s)
/// @notice verifyProof returns true for a valid proof, false when a well-formed proof fails the
///         pairing check, and reverts on malformed input (see the errors below).
contract $contract_name {
    /// @notice A public input is not below the scalar field order r.
    error PublicInputNotInField();
    /// @notice An EIP-196/197 precompile call failed: a proof coordinate >= q, a point off its
    ///         curve, B outside the order-r subgroup of the twist, or too little gas.
    error PrecompileFailed();
    /// @notice A proof point is the point at infinity (A or C = (0, 0), B = (0, 0, 0, 0)).
    error IdentityPoint();

    // BN254 scalar field order r.
    uint256 internal constant R = $r;

    // Verifying key. G2 points are stored negated and imaginary part first (the precompile's
    // order), so that the check reads e(A, B) e(C, -delta) e(alpha, -beta) e(vk_x, -gamma) == 1.
$constants
    // Pairing buffer (bytes from memory offset 0): A 0x000, B 0x040, C 0x0c0, -delta 0x100,
    // alpha 0x180, -beta 0x1c0, vk_x 0x240, -gamma 0x280, end 0x300.

    /// @param _pA proof point A (x, y)
    /// @param _pB proof point B ((x1, x0), (y1, y0)) for x = x0 + x1*u: imaginary part first
    /// @param _pC proof point C (x, y)
    /// @param _pubSignals the public inputs, each below r
    /// @return true when the proof is valid for these public inputs
    function verifyProof(
        uint[2] calldata _pA,
        uint[2][2] calldata _pB,
        uint[2] calldata _pC,
        uint[$n_public] calldata _pubSignals
    ) public view returns (bool) {
        // The arguments are static, so the ABI fixes where they lie in calldata: _pA at 0x04,
        // _pB at 0x44, _pC at 0xc4, _pubSignals at 0x104. The assembly reads them at those
        // offsets (the decoder has already checked that calldata is long enough).
        _pA; _pB; _pC; _pubSignals;
        assembly {
            // A, C at infinity ((0, 0)) or B at infinity ((0, 0, 0, 0)): malformed, as in Python.
            if or(or(iszero(or(calldataload(0x04), calldataload(0x24))),
                     iszero(or(calldataload(0xc4), calldataload(0xe4)))),
                  iszero(or(or(calldataload(0x44), calldataload(0x64)), or(calldataload(0x84), calldataload(0xa4))))) {
                mstore(0, $sel_identity)
                revert(0, 4)
            }
            // The range flag is accumulated without branching and checked once.
            let inField := 1
            let x

            // vk_x = IC0 + sum x_i * IC_i, accumulated at 0x240: ecMul writes x_i * IC_i to
            // 0x280, right after the accumulator, so ecAdd reads both from 0x240..0x2c0.
            // The results of these calls are not checked, on purpose: with constant valid points
            // they can fail only for lack of gas, and then the pairing below (181,000 gas, far
            // more than either) fails too and the function reverts.
            mstore(0x240, IC0_X)
            mstore(0x260, IC0_Y)
$accumulate
            if iszero(inField) {
                mstore(0, $sel_field)
                revert(0, 4)
            }

            calldatacopy(0x000, 0x04, 0x100) // A, B, C
            mstore(0x100, NEG_DELTA_X1)
            mstore(0x120, NEG_DELTA_X0)
            mstore(0x140, NEG_DELTA_Y1)
            mstore(0x160, NEG_DELTA_Y0)
            mstore(0x180, ALPHA_X)
            mstore(0x1a0, ALPHA_Y)
            mstore(0x1c0, NEG_BETA_X1)
            mstore(0x1e0, NEG_BETA_X0)
            mstore(0x200, NEG_BETA_Y1)
            mstore(0x220, NEG_BETA_Y0)
            mstore(0x280, NEG_GAMMA_X1)
            mstore(0x2a0, NEG_GAMMA_X0)
            mstore(0x2c0, NEG_GAMMA_Y1)
            mstore(0x2e0, NEG_GAMMA_Y0)

            // One pairing call over the 4 pairs; it writes 1 or 0 to memory 0. It fails (and
            // the function reverts) on a proof coordinate >= q, a point off its curve, B outside
            // G2, or too little gas.
            if iszero(staticcall(gas(), 0x08, 0x000, 0x300, 0x000, 0x20)) {
                mstore(0, $sel_failed)
                revert(0, 4)
            }
            return(0x000, 0x20)
        }
    }
}
"""
)

# One public input's step of the vk_x accumulation.
_ACCUMULATE_STEP = Template(
    """\
            // x_$i (IC$k)
            x := calldataload($offset)
            inField := and(inField, lt(x, R))
            if x {
                mstore(0x280, IC${k}_X)
                mstore(0x2a0, IC${k}_Y)
                mstore(0x2c0, x)
                pop(staticcall(gas(), 0x07, 0x280, 0x60, 0x280, 0x40))
                pop(staticcall(gas(), 0x06, 0x240, 0x80, 0x240, 0x40))
            }
"""
)

def _g1_words(p: G1Point) -> tuple[int, int]:
    """A G1 point as the precompiles encode it; infinity is (0, 0)."""
    return (0, 0) if p is None else (p[0], p[1])


def _g2_words(p: G2Point) -> tuple[int, int, int, int]:
    """A G2 point in the precompile's (and calldata's) order x1, x0, y1, y0; infinity is zeros."""
    if p is None:
        return (0, 0, 0, 0)
    (x0, x1), (y0, y1) = p
    return (x1, x0, y1, y0)


def _check_vk(vk: VerifyingKey) -> None:
    """The Python verifier's own key validation (one rule for both verifiers), plus n_public >= 1."""
    prepare_verifying_key(vk)
    n = vk.n_public
    if n < 1:
        raise PublicInputCountError(
            f"the verifying key has {n} public inputs; Solidity has no uint[0], so the snarkjs ABI "
            "needs at least one"
        )


def export_solidity(
    vk: VerifyingKey, contract_name: str = "Groth16Verifier", pragma: str = ">=0.8.4 <0.9.0"
) -> str:
    """Solidity source of a verifier contract for ``vk``, with the key inlined as constants.

    Args:
        vk: the verifying key; it must have at least one public input (Solidity has no
            ``uint[0]``).
        contract_name: the contract's name, a Solidity identifier.
        pragma: the version range written after ``pragma solidity`` (the contract needs >= 0.8.4
            for custom errors).

    Returns:
        The source text. ``verifyProof(uint[2] _pA, uint[2][2] _pB, uint[2] _pC, uint[N]
        _pubSignals)`` returns true or false, or reverts on malformed input, as the module
        docstring describes.

    Raises:
        ValueError: ``contract_name`` is not an identifier, or ``pragma`` spans lines.
        PublicInputCountError: the key has no public input.
        IdentityPointError, PointNotOnCurveError, PointNotInSubgroupError: the key is malformed.
    """
    if not _IDENTIFIER.fullmatch(contract_name):
        raise ValueError(f"contract_name {contract_name!r} is not a Solidity identifier")
    if not pragma.strip() or any(ch in pragma for ch in ";\n\r"):
        raise ValueError(f"pragma {pragma!r} must be a one-line version range without ';'")
    _check_vk(vk)

    lines: list[str] = []

    def const(name: str, value: int) -> None:
        lines.append(f"    uint256 internal constant {name} = {value};")

    ax, ay = _g1_words(vk.alpha_g1)
    const("ALPHA_X", ax)
    const("ALPHA_Y", ay)
    for name, point in (("BETA", vk.beta_g2), ("GAMMA", vk.gamma_g2), ("DELTA", vk.delta_g2)):
        x1, x0, y1, y0 = _g2_words(g2_neg(point))
        const(f"NEG_{name}_X1", x1)
        const(f"NEG_{name}_X0", x0)
        const(f"NEG_{name}_Y1", y1)
        const(f"NEG_{name}_Y0", y0)
    for k, p in enumerate(vk.gamma_abc_g1):
        px, py = _g1_words(p)
        const(f"IC{k}_X", px)
        const(f"IC{k}_Y", py)

    steps: list[str] = []
    for i in range(vk.n_public):
        steps.append(_ACCUMULATE_STEP.substitute(i=i, k=i + 1, offset=f"0x{0x104 + 32 * i:x}"))

    return _TEMPLATE.substitute(
        pragma=pragma.strip(),
        contract_name=contract_name,
        n_public=vk.n_public,
        r=R,
        constants="\n".join(lines) + "\n",
        accumulate="".join(steps),
        sel_field=f"0x{PUBLIC_INPUT_NOT_IN_FIELD_SELECTOR << 224:064x}",
        sel_failed=f"0x{PRECOMPILE_FAILED_SELECTOR << 224:064x}",
        sel_identity=f"0x{IDENTITY_POINT_SELECTOR << 224:064x}",
    )


def _uint256(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if not 0 <= value < _UINT256_LIMIT:
        raise ValueError(f"{what} = {value} does not fit a uint256")
    return value


def calldata_args(proof: Proof, public: Sequence[int]) -> CalldataArgs:
    """The arguments of ``verifyProof`` as ints, in calldata order.

    Returns ``(a, b, c, public)`` with ``b = ((x1, x0), (y1, y0))`` (imaginary part first) and the
    point at infinity encoded as zeros. Values are passed through unreduced, so a caller can also
    build malformed calls (a public input >= r) on purpose.

    Raises:
        TypeError: a value is not an int.
        ValueError: a value is negative or does not fit 256 bits.
    """
    ax, ay = (_uint256(v, f"proof.a[{i}]") for i, v in enumerate(_g1_words(proof.a)))
    bx1, bx0, by1, by0 = (_uint256(v, f"proof.b word {i}") for i, v in enumerate(_g2_words(proof.b)))
    cx, cy = (_uint256(v, f"proof.c[{i}]") for i, v in enumerate(_g1_words(proof.c)))
    pub = tuple(_uint256(v, f"public[{i}]") for i, v in enumerate(public))
    return (ax, ay), ((bx1, bx0), (by1, by0)), (cx, cy), pub


def _hex_word(v: int) -> str:
    return f'"0x{v:064x}"'


def export_calldata(proof: Proof, public: Sequence[int]) -> str:
    """The arguments of ``verifyProof`` as text, byte for byte what ``snarkjs zkey export
    soliditycalldata public.json proof.json`` prints (without its trailing newline).

    Every value is a quoted 0x-prefixed 64-digit hex word; pairs are separated by ``", "``, the
    public inputs by ``","``: ``["0x..", "0x.."],[["0x..", "0x.."],["0x..", "0x.."]],["0x..",
    "0x.."],["0x..","0x.."]``. Wrapped in ``[...]`` it is a JSON array equal to
    :func:`calldata_args`.

    Raises:
        TypeError, ValueError: as :func:`calldata_args`.
    """
    (ax, ay), ((bx1, bx0), (by1, by0)), (cx, cy), pub = calldata_args(proof, public)
    h = _hex_word
    return (
        f"[{h(ax)}, {h(ay)}],"
        f"[[{h(bx1)}, {h(bx0)}],[{h(by1)}, {h(by0)}]],"
        f"[{h(cx)}, {h(cy)}],"
        f"[{','.join(h(v) for v in pub)}]"
    )
