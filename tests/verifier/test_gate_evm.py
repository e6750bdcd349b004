"""The on-chain gate (verifier/gate.py) compiled with solc and run in py-evm (Prague rules) on real
attested proofs from the prover (depth 4 here; the depth-20 tree of >= 100,000 accounts is in
tests/cli/test_attested_large.py, slow).

A valid submission is accepted once and its replay refused; a proof for another root, digest or
epoch is refused; a non-owner cannot post; every public input, changed, fails; gas is reported.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from zkmargin import merkle as M
from zkmargin.accounts import new_key
from zkmargin.encoding import account_leaf, context_hash, short_string
from zkmargin.field import R
from zkmargin.margin import load_market, load_model, load_portfolio, market_digest_of, model_digest
from zkmargin.verifier.gate import export_gate
from zkmargin.verifier.solidity import calldata_args

pytestmark = pytest.mark.node

EX = Path(__file__).resolve().parents[2] / "examples" / "cross"
DEPTH = 4
GAS: dict[str, int] = {}


def _load_evm_helpers() -> ModuleType:
    name = "zkmargin_tests_verifier_evm"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("_evm.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


evm = _load_evm_helpers()


def _keccak4(sig: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=sig)[:4]


@pytest.fixture(scope="module")
def proofs() -> dict[str, Any]:
    from zkmargin.circuits import build
    from zkmargin.circuits.margin.attested import attested_assignment_for
    from zkmargin.prover import DevelopmentSetupWarning, prove, setup

    model = load_model(EX / "model.json")
    market = load_market(EX / "market.json", model)
    pf = load_portfolio(EX / "portfolio_pass.json", model)
    key = new_key()
    rng = random.Random(20261211)
    salt = rng.randrange(R)
    leaves = [rng.randrange(R) for _ in range(11)]
    leaves[6] = account_leaf(model_digest(model), pf.to_field_elements(model), salt, key.key_commitment)
    levels = M.tree_levels(leaves, DEPTH)
    root, path = levels[DEPTH][0], M.merkle_path(levels, 6)
    other_leaves = list(leaves)
    other_leaves[0] = (other_leaves[0] + 1) % R
    other_root = M.merkle_root(other_leaves, DEPTH)
    ctx = [context_hash(short_string("zkmargin-demo"), market.epoch, n, evm.CHAIN_ID) for n in (1, 2)]
    out: dict[str, Any] = {"root": root, "other_root": other_root, "digest": market_digest_of(model, market),
                           "epoch": market.epoch}
    cs = None
    pk = None
    for name, r, lv, c in (("p1", root, levels, ctx[0]), ("p2", root, levels, ctx[1]),
                           ("other", other_root, M.tree_levels(other_leaves, DEPTH), ctx[0])):
        circ = attested_assignment_for(model, market, pf, salt, key.key, 6, M.merkle_path(lv, 6), r, "1000", c)
        cs, w = build(circ)
        if pk is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DevelopmentSetupWarning)
                pk, vk = setup(cs)
            out["vk"] = vk
        out[name] = prove(pk, w, cs)
    assert path == M.merkle_path(levels, 6)
    return out


@pytest.fixture(scope="module")
def gate(node_eval, proofs) -> dict[str, Any]:
    pytest.importorskip("eth", reason="py-evm not installed (pip install -e .[dev])")
    src = export_gate(proofs["vk"])
    build = evm.compile_solidity({"MarginGate.sol": src}, node_eval)
    assert not [w for w in build.warnings if "MarginGate" in w], build.warnings
    return {"build": build, "contract": build.contracts[("MarginGate.sol", "MarginGate")]}


class Chain:
    """A py-evm chain whose transactions persist (the gate keeps state between calls)."""

    def __init__(self) -> None:
        self.evm = evm.EvmChain()
        self.sender = self.evm.sender

    def send(self, to: bytes, data: bytes, gas: int = 3_000_000) -> Any:
        _, _, comp = self.evm.chain.apply_transaction(self.evm._signed_tx(to, data, gas))
        self.evm.chain.mine_block()
        return comp

    def deploy_gate(self, contract: Any, owner: bytes) -> bytes:
        return self.evm.deploy(contract.bytecode + bytes(12) + owner)


def _sel(contract: Any, prefix: str) -> bytes:
    (sig,) = [k for k in contract.method_ids if k.startswith(prefix + "(")]
    return contract.method_ids[sig]


def _submit(chain: Chain, gate_addr: bytes, contract: Any, proof: Any, public: list[int], epoch: int,
            **change: int) -> Any:
    a, b, c, _ = calldata_args(proof, public)
    threshold, context, nullifier = public[2], public[3], public[4]
    threshold = change.get("threshold", threshold)
    context = change.get("context", context)
    nullifier = change.get("nullifier", nullifier)
    data = evm.encode_words(_sel(contract, "submit"), a, b, c, epoch, threshold, context, nullifier)
    return chain.send(gate_addr, data)


def _post(chain: Chain, gate_addr: bytes, contract: Any, epoch: int, root: int, digest: int) -> Any:
    return chain.send(gate_addr, evm.encode_words(_sel(contract, "postEpoch"), epoch, root, digest))


def _reverted_with(comp: Any, sig: str) -> bool:
    return (not comp.is_success) and bytes(comp.output)[:4] == _keccak4(sig)


def test_gate_accepts_once_and_refuses_what_it_must(gate, proofs):
    contract = gate["contract"]
    chain = Chain()
    addr = chain.deploy_gate(contract, chain.sender)
    (proof1, pub1), (proof2, pub2) = proofs["p1"], proofs["p2"]
    epoch = proofs["epoch"]
    # nothing posted: unknown epoch
    assert _reverted_with(_submit(chain, addr, contract, proof1, pub1, epoch), "UnknownEpoch(uint64)")
    comp = _post(chain, addr, contract, epoch, proofs["root"], proofs["digest"])
    assert comp.is_success, comp.error
    GAS["postEpoch"] = comp.get_gas_used()
    assert _reverted_with(_post(chain, addr, contract, epoch, proofs["other_root"], proofs["digest"]),
                          "EpochAlreadyPosted(uint64)")
    # every changed public input the caller chooses fails the proof
    for index, field in ((2, "threshold"), (3, "context"), (4, "nullifier")):
        bad = _submit(chain, addr, contract, proof1, pub1, epoch, **{field: (pub1[index] + 1) % R})
        assert _reverted_with(bad, "InvalidProof()"), field
    # accepted once, with its event
    comp = _submit(chain, addr, contract, proof1, pub1, epoch)
    assert comp.is_success, comp.error
    GAS["submit"] = comp.get_gas_used()
    logs = comp.get_log_entries()
    from eth_utils import keccak

    topic = int.from_bytes(keccak(text="MarginProved(uint64,uint256,uint256,uint256,address)"), "big")
    (entry,) = [e for e in logs if e[1][0] == topic]
    assert entry[1][1] == epoch and entry[1][2] == pub1[4]
    # the replay is refused; the same account in another context has another nullifier: accepted
    assert _reverted_with(_submit(chain, addr, contract, proof1, pub1, epoch), "NullifierSpent(uint256)")
    assert pub2[4] != pub1[4]
    assert _submit(chain, addr, contract, proof2, pub2, epoch).is_success


def test_a_proof_for_another_root_digest_or_epoch_is_refused(gate, proofs):
    contract = gate["contract"]
    chain = Chain()
    addr = chain.deploy_gate(contract, chain.sender)
    epoch = proofs["epoch"]
    proof, pub = proofs["p1"]
    other_proof, other_pub = proofs["other"]
    assert _post(chain, addr, contract, epoch, proofs["root"], proofs["digest"]).is_success
    assert _post(chain, addr, contract, epoch + 1, proofs["root"], (proofs["digest"] + 1) % R).is_success
    assert _post(chain, addr, contract, epoch + 2, proofs["other_root"], proofs["digest"]).is_success
    # a proof made against another tree's root, submitted for this epoch
    assert _reverted_with(_submit(chain, addr, contract, other_proof, other_pub, epoch), "InvalidProof()")
    # this proof under an epoch with another digest, or another root
    assert _reverted_with(_submit(chain, addr, contract, proof, pub, epoch + 1), "InvalidProof()")
    assert _reverted_with(_submit(chain, addr, contract, proof, pub, epoch + 2), "InvalidProof()")
    # and the right epoch still takes it
    assert _submit(chain, addr, contract, proof, pub, epoch).is_success


def test_only_the_owner_posts(gate, proofs):
    contract = gate["contract"]
    chain = Chain()
    stranger_owned = chain.deploy_gate(contract, b"\x00" * 19 + b"\x01")
    assert _reverted_with(_post(chain, stranger_owned, contract, 1, proofs["root"], proofs["digest"]), "NotOwner()")
    mine = chain.deploy_gate(contract, chain.sender)
    assert _reverted_with(_post(chain, mine, contract, 1, 0, proofs["digest"]), "NotAFieldElement()")
    assert _reverted_with(_post(chain, mine, contract, 1, R, proofs["digest"]), "NotAFieldElement()")
    transfer = chain.send(mine, evm.encode_words(_sel(contract, "transferOwnership"), int.from_bytes(b"\x02", "big")))
    assert transfer.is_success
    assert _reverted_with(_post(chain, mine, contract, 1, proofs["root"], proofs["digest"]), "NotOwner()")


def test_gas_per_submission_reported(gate, proofs):
    if "submit" not in GAS:
        test_gate_accepts_once_and_refuses_what_it_must(gate, proofs)
    print(f"\nMarginGate gas (execution, py-evm Prague): submit {GAS['submit']:,}, postEpoch {GAS['postEpoch']:,}")
    assert 200_000 < GAS["submit"] < 320_000  # the pairing alone is 181,000; see the README


def test_export_refuses_a_key_of_another_shape(proofs):
    import dataclasses

    from zkmargin.errors import MalformedInputError, PublicInputCountError

    vk = proofs["vk"]
    with pytest.raises(PublicInputCountError):
        export_gate(dataclasses.replace(vk, gamma_abc_g1=vk.gamma_abc_g1[:5]))
    with pytest.raises(MalformedInputError, match="bilateral"):
        export_gate(dataclasses.replace(vk, statement={"kind": "bilateral", "model_id": "m", "model_digest": "1"}))
    with pytest.raises(ValueError):
        export_gate(vk, gate_name="X", verifier_name="X")
