"""Test helpers for the Solidity verifier: solcjs compilation, a py-evm chain, trapdoor proofs.

- :func:`compile_solidity` compiles sources with solcjs (tests/node/node_modules/solc) through
  node, from a standard-JSON input (optimizer on, runs=200, evmVersion "prague").
- :class:`EvmChain` is an in-memory py-evm chain under Prague rules (the BN254 precompiles
  0x06-0x08 are present from Byzantium on, with EIP-1108 prices from Istanbul on). ``call`` runs a
  signed transaction in a throw-away state (``eth_call``-like) and reports the **execution gas**:
  the gas the call's message consumed, without the 21,000 intrinsic gas and the calldata cost
  (and before refunds, of which a view call has none).
- :func:`trapdoor_groth16` and :func:`trapdoor_prove` make a verifying key and valid proofs
  without a prover, from known toxic waste.

Names here are prefixed by what they do (``trapdoor_*``) so they do not clash with other helpers.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkmargin.curve import (
    G1_GENERATOR,
    G2_GENERATOR,
    TWIST_B,
    G1Point,
    G2Point,
    g1_lincomb,
    g1_mul,
    g1_neg,
    g2_is_on_curve,
    g2_mul,
    pairing_product_is_one,
)
from zkmargin.field import Q, R, fr_inv
from zkmargin.groth16 import Proof, VerifyingKey

__all__ = [
    "CompiledContract",
    "CompileResult",
    "CallResult",
    "EvmChain",
    "compile_solidity",
    "encode_words",
    "TrapdoorKey",
    "trapdoor_groth16",
    "trapdoor_prove",
    "trapdoor_check",
    "random_g1",
    "random_g2",
    "g2_point_outside_subgroup",
]

EVM_VERSION = "prague"
CHAIN_ID = 1337
_SENDER_KEY = b"\x11" * 32


# --- compilation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CompiledContract:
    abi: list[dict[str, Any]]
    bytecode: bytes  # creation code
    runtime: bytes  # deployed code
    method_ids: dict[str, bytes]  # "verifyProof(uint256[2],...)" -> 4-byte selector


_COMPILE_JS = r"""
const fs = require('fs');
const solc = require('solc');
const input = fs.readFileSync(%s, 'utf8');
const out = JSON.parse(solc.compile(input));
process.stdout.write(JSON.stringify({version: solc.version(), out: out}));
"""


@dataclass(frozen=True)
class CompileResult:
    version: str  # solc's long version string
    contracts: dict[tuple[str, str], CompiledContract]  # (file name, contract name) -> output
    warnings: list[str]  # formatted warning messages, "file:line: message" style


def compile_solidity(
    sources: dict[str, str], node_eval: Callable[..., Any], evm_version: str = EVM_VERSION
) -> CompileResult:
    """Compile ``{file name: source}`` in one solcjs run (optimizer on, runs=200).

    ``node_eval`` is the conftest fixture (runs a JS snippet with NODE_PATH at the tools'
    node_modules and parses its stdout as JSON). Raises RuntimeError listing the messages when
    solc reports an error.
    """
    std_input = {
        "language": "Solidity",
        "sources": {name: {"content": src} for name, src in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "evmVersion": evm_version,
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.methodIdentifiers"]}
            },
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.json"
        path.write_text(json.dumps(std_input))
        res = node_eval(_COMPILE_JS % json.dumps(str(path)), timeout=300)
    out = res["out"]
    messages = out.get("errors", [])
    errors = [e["formattedMessage"] for e in messages if e.get("severity") == "error"]
    if errors:
        raise RuntimeError("solc failed:\n" + "\n".join(errors))
    contracts: dict[tuple[str, str], CompiledContract] = {}
    for fname, per_file in out["contracts"].items():
        for cname, c in per_file.items():
            contracts[(fname, cname)] = CompiledContract(
                abi=c["abi"],
                bytecode=bytes.fromhex(c["evm"]["bytecode"]["object"]),
                runtime=bytes.fromhex(c["evm"]["deployedBytecode"]["object"]),
                method_ids={k: bytes.fromhex(v) for k, v in c["evm"]["methodIdentifiers"].items()},
            )
    warnings = [e["formattedMessage"] for e in messages if e.get("severity") != "error"]
    return CompileResult(res["version"], contracts, warnings)


def encode_words(selector: bytes, *values: Any) -> bytes:
    """ABI-encode a call whose arguments are all static uint256 arrays: the selector followed by
    every int in ``values`` (nested tuples/lists flattened in order) as a 32-byte word."""

    def flat(v: Any) -> list[int]:
        if isinstance(v, int):
            return [v]
        return [w for item in v for w in flat(item)]

    words = flat(values)
    return selector + b"".join(w.to_bytes(32, "big") for w in words)


# --- chain -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CallResult:
    success: bool
    output: bytes  # return data, or revert data when not success
    gas_used: int  # execution gas (see the module docstring)


class EvmChain:
    """An in-memory py-evm chain (PragueVM) with one funded sender account."""

    def __init__(self) -> None:
        from eth import constants
        from eth.chains.base import MiningChain
        from eth.db.atomic import AtomicDB
        from eth.vm.forks import PragueVM
        from eth_keys import keys

        self._key = keys.PrivateKey(_SENDER_KEY)
        self.sender: Any = self._key.public_key.to_canonical_address()  # eth_typing.Address
        chain_class = MiningChain.configure(
            __name__="ZkMarginTestChain", vm_configuration=((0, PragueVM),), chain_id=CHAIN_ID
        )
        genesis_params: dict[str, Any] = {
            "difficulty": 0,
            "gas_limit": 30_000_000,
            "timestamp": 1,
            "coinbase": constants.ZERO_ADDRESS,
            "extra_data": b"",
            "nonce": b"\x00" * 8,
            "mix_hash": constants.ZERO_HASH32,
        }
        genesis_state: Any = {self.sender: {"balance": 10**24, "nonce": 0, "code": b"", "storage": {}}}
        self.chain: Any = chain_class.from_genesis(AtomicDB(), genesis_params, genesis_state)
        self.vm_name = type(self.chain.get_vm()).__name__

    def _signed_tx(self, to: Any, data: bytes, gas: int) -> Any:
        vm = self.chain.get_vm()
        nonce = vm.state.get_nonce(self.sender)
        tx = vm.create_unsigned_transaction(
            nonce=nonce, gas_price=10**10, gas=gas, to=to, value=0, data=data
        )
        return tx.as_signed_transaction(self._key, chain_id=CHAIN_ID)

    def deploy(self, creation_code: bytes, gas: int = 10_000_000) -> bytes:
        """Deploy ``creation_code`` in a mined block; returns the contract's address."""
        from eth._utils.address import generate_contract_address

        nonce = self.chain.get_vm().state.get_nonce(self.sender)
        _, _, computation = self.chain.apply_transaction(self._signed_tx(b"", creation_code, gas))
        if not computation.is_success:
            raise RuntimeError(f"deployment failed: {computation.error!r}")
        self.chain.mine_block()
        address = generate_contract_address(self.sender, nonce)
        if not self.chain.get_vm().state.get_code(address):
            raise RuntimeError("deployment left no code")
        return address

    def call(self, to: bytes, data: bytes, gas: int = 5_000_000) -> CallResult:
        """Run a transaction to ``to`` without persisting it; ``gas`` is the transaction's limit."""
        tx = self._signed_tx(to, data, gas)
        state = self.chain.get_vm().state
        snapshot = state.snapshot()
        try:
            computation = state.apply_transaction(tx)
        finally:
            state.revert(snapshot)
        return CallResult(
            success=computation.is_success,
            output=bytes(computation.output),
            gas_used=computation.get_gas_used(),
        )

    def precompile_addresses(self) -> set[int]:
        vm = self.chain.get_vm()
        return {int.from_bytes(a, "big") for a in vm.state.computation_class.get_precompiles()}


# --- trapdoor proofs -------------------------------------------------------------------------

@dataclass(frozen=True)
class TrapdoorKey:
    """A verifying key together with its toxic waste, so anyone can make valid proofs."""

    vk: VerifyingKey
    alpha: int
    beta: int
    gamma: int
    delta: int
    u: tuple[int, ...]  # gamma_abc_g1[i] = u[i] * G1


def _nonzero(rng: random.Random) -> int:
    return rng.randrange(1, R)


def trapdoor_groth16(n_public: int, rng: random.Random) -> TrapdoorKey:
    """A random verifying key with ``n_public`` inputs whose trapdoor we know."""
    alpha, beta, gamma, delta = (_nonzero(rng) for _ in range(4))
    u = tuple(_nonzero(rng) for _ in range(n_public + 1))
    vk = VerifyingKey(
        alpha_g1=g1_mul(G1_GENERATOR, alpha),
        beta_g2=g2_mul(G2_GENERATOR, beta),
        gamma_g2=g2_mul(G2_GENERATOR, gamma),
        delta_g2=g2_mul(G2_GENERATOR, delta),
        gamma_abc_g1=tuple(g1_mul(G1_GENERATOR, ui) for ui in u),
    )
    return TrapdoorKey(vk, alpha, beta, gamma, delta, u)


def trapdoor_prove(key: TrapdoorKey, public: Sequence[int], rng: random.Random) -> Proof:
    """A valid proof for ``public``: random a, b and c = (ab - alpha beta - gamma vk_x) / delta.

    Then ab = alpha beta + gamma (u_0 + sum x_i u_i) + delta c, which is the verifier's equation
    e(A, B) = e(alpha, beta) e(vk_x, gamma) e(C, delta) in the exponent.
    """
    if len(public) != len(key.u) - 1:
        raise ValueError("wrong number of public inputs")
    a, b = _nonzero(rng), _nonzero(rng)
    x = key.u[0] + sum(xi * ui for xi, ui in zip(public, key.u[1:], strict=True))
    c = (a * b - key.alpha * key.beta - key.gamma * x) * fr_inv(key.delta) % R
    return Proof(a=g1_mul(G1_GENERATOR, a), b=g2_mul(G2_GENERATOR, b), c=g1_mul(G1_GENERATOR, c))


def trapdoor_check(vk: VerifyingKey, public: Sequence[int], proof: Proof) -> bool:
    """The Groth16 equation checked with zkmargin.curve (an oracle independent of the EVM)."""
    vk_x = g1_lincomb(vk.gamma_abc_g1, [1, *public])
    return pairing_product_is_one(
        [
            (g1_neg(proof.a), proof.b),
            (vk.alpha_g1, vk.beta_g2),
            (vk_x, vk.gamma_g2),
            (proof.c, vk.delta_g2),
        ]
    )


def random_g1(rng: random.Random) -> G1Point:
    return g1_mul(G1_GENERATOR, _nonzero(rng))


def random_g2(rng: random.Random) -> G2Point:
    return g2_mul(G2_GENERATOR, _nonzero(rng))


# --- a point on the twist outside G2 ---------------------------------------------------------

def _fq_sqrt(a: int) -> int | None:
    s = pow(a, (Q + 1) // 4, Q)  # q = 3 mod 4
    return s if s * s % Q == a % Q else None


def _fq2_sqrt(a0: int, a1: int) -> tuple[int, int] | None:
    """A square root of a0 + a1*u in Fq2 = Fq[u]/(u^2 + 1), or None."""
    norm = _fq_sqrt((a0 * a0 + a1 * a1) % Q)
    if norm is None:
        return None
    inv2 = pow(2, Q - 2, Q)
    for t in (norm, -norm % Q):
        x0 = _fq_sqrt((a0 + t) * inv2 % Q)
        if x0 is None or x0 == 0:
            continue
        x1 = a1 * pow(2 * x0, Q - 2, Q) % Q
        if ((x0 * x0 - x1 * x1 - a0) % Q, (2 * x0 * x1 - a1) % Q) == (0, 0):
            return x0, x1
    return None


def g2_point_outside_subgroup(rng: random.Random) -> G2Point:
    """A random point on the twist y^2 = x^3 + b' that (with overwhelming probability, checked by
    the caller) is not in the order-r subgroup: the twist's group order is r times a large
    cofactor."""
    b0, b1 = TWIST_B
    while True:
        x0, x1 = rng.randrange(Q), rng.randrange(Q)
        # x^3 for x = x0 + x1 u with u^2 = -1
        sq0, sq1 = (x0 * x0 - x1 * x1) % Q, (2 * x0 * x1) % Q
        cu0, cu1 = (sq0 * x0 - sq1 * x1) % Q, (sq0 * x1 + sq1 * x0) % Q
        y = _fq2_sqrt((cu0 + b0) % Q, (cu1 + b1) % Q)
        if y is not None:
            p: G2Point = ((x0, x1), y)
            assert g2_is_on_curve(p)
            return p

