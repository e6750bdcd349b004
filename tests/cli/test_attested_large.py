"""Acceptance: a trader proves against a venue tree of 100,000 accounts at depth 20, and the venue
accepts the proof through the CLI, the Python API and the on-chain gate (py-evm); tampering fails
everywhere. Slow (the tree build, a depth-20 setup), and the contract part needs node (solc).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkmargin.cli import main
from zkmargin.field import R
from zkmargin.prover import backend

pytestmark = [pytest.mark.slow]

EX = Path(__file__).resolve().parents[2] / "examples" / "cross"
N_ACCOUNTS = 100_000
DEPTH = 20
TRADER_INDEX = 73_421

if not backend.fast_available():
    pytest.skip("the large attested flow needs the numba prover", allow_module_level=True)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    d = tmp_path_factory.mktemp("attested_large")
    run = CliRunner().invoke
    r = run(main, ["key", "new", "-o", str(d / "trader.key")])
    assert r.exit_code == 0, r.output
    kc = r.output.split("key commitment ")[1].split()[0]
    base = json.loads((EX / "portfolio_pass.json").read_text())
    base.pop("description", None)
    rng = random.Random(20261214)
    with open(d / "accounts.jsonl", "w") as f:
        for i in range(N_ACCOUNTS):
            own = kc if i == TRADER_INDEX else str(rng.randrange(R))
            e = dict(base, account_id=f"acct-{i:06d}", key_commitment=own)
            if i != TRADER_INDEX:
                e["collateral"] = [{"asset": "USDC", "amount": str(rng.randrange(1, 10**7))}]
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    market = json.loads((EX / "market.json").read_text())
    steps = [
        ["accounts", "build", str(EX / "model.json"), str(d / "accounts.jsonl"), "-o", str(d / "tree"), "--epoch",
         str(market["epoch"]), "--depth", str(DEPTH)],
        ["accounts", "setup", str(EX / "model.json"), "--depth", str(DEPTH), "--zkey", str(d / "att.zkey"),
         "--vk", str(d / "vk.json")],
        ["context", "--venue", market["venue"], "--epoch", str(market["epoch"]), "--nonce", "4242", "--chain-id",
         "1337", "-o", str(d / "ctx.json")],
        ["prove", "--model", str(EX / "model.json"), "--market", str(EX / "market.json"), "--portfolio",
         str(EX / "portfolio_pass.json"), "--opening", str(d / "tree" / "openings" / f"acct-{TRADER_INDEX:06d}.json"),
         "--root", str(d / "tree" / "root.json"), "--key", str(d / "trader.key"), "--threshold", "1000",
         "--context", str(d / "ctx.json"), "--zkey", str(d / "att.zkey"), "--proof", str(d / "proof.json"),
         "--public", str(d / "public.json")],
    ]
    for s in steps:
        r = run(main, s)
        assert r.exit_code == 0, (s[:2], r.output)
    return d, run


def test_tree_has_the_size_the_acceptance_asks(big):
    d, _ = big
    root = json.loads((d / "tree" / "root.json").read_text())
    assert root["count"] == N_ACCOUNTS >= 100_000 and root["depth"] == DEPTH >= 20


def test_cli_accepts_and_names_tampering(big):
    d, run = big
    args = ["--root", str(d / "tree" / "root.json"), "--model", str(EX / "model.json"), "--market",
            str(EX / "market.json"), "--threshold", "1000", "--context", str(d / "ctx.json")]
    r = run(main, ["verify", str(d / "vk.json"), str(d / "public.json"), str(d / "proof.json"), *args])
    assert r.exit_code == 0 and r.output.startswith("OK"), r.output
    pub = json.loads((d / "public.json").read_text())
    for i in range(5):
        bad = list(pub)
        bad[i] = str((int(bad[i]) + 1) % R)
        (d / f"bad{i}.json").write_text(json.dumps(bad))
        r = run(main, ["verify", str(d / "vk.json"), str(d / f"bad{i}.json"), str(d / "proof.json"), *args])
        assert r.exit_code == 1, (i, r.output)


def test_python_api_accepts(big):
    d, _ = big
    from zkmargin.accounts import load_root
    from zkmargin.margin import load_market, load_model
    from zkmargin.margin.documents import load_context
    from zkmargin.serialize import load_proof, load_public_inputs, load_verifying_key
    from zkmargin.verifier.attested import expected_attested_statement
    from zkmargin.verifier.venue import check_margin_proof

    model = load_model(EX / "model.json")
    market = load_market(EX / "market.json", model)
    expected = expected_attested_statement(model, market, load_root(d / "tree" / "root.json"), "1000",
                                           load_context(d / "ctx.json"))
    vk = load_verifying_key(d / "vk.json")
    public, proof = load_public_inputs(d / "public.json"), load_proof(d / "proof.json")
    assert check_margin_proof(vk, public, proof, expected).ok
    assert not check_margin_proof(vk, [*public[:4], (public[4] + 1) % R], proof, expected).ok


@pytest.mark.node
def test_gate_contract_accepts_once(big, node_eval):
    pytest.importorskip("eth", reason="py-evm not installed (pip install -e .[dev])")
    import importlib.util
    import sys

    d, run = big
    r = run(main, ["export", "gate", str(d / "vk.json"), "-o", str(d / "MarginGate.sol")])
    assert r.exit_code == 0, r.output
    spec = importlib.util.spec_from_file_location("zkmargin_tests_gate_evm",
                                                  Path(__file__).parents[1] / "verifier" / "test_gate_evm.py")
    assert spec is not None and spec.loader is not None
    g = importlib.util.module_from_spec(spec)
    sys.modules["zkmargin_tests_gate_evm"] = g
    spec.loader.exec_module(g)
    from zkmargin.serialize import load_proof, load_public_inputs

    build = g.evm.compile_solidity({"MarginGate.sol": (d / "MarginGate.sol").read_text()}, node_eval)
    contract = build.contracts[("MarginGate.sol", "MarginGate")]
    chain = g.Chain()
    addr = chain.deploy_gate(contract, chain.sender)
    public, proof = load_public_inputs(d / "public.json"), load_proof(d / "proof.json")
    root = json.loads((d / "tree" / "root.json").read_text())
    assert g._post(chain, addr, contract, root["epoch"], int(root["root"]), public[1]).is_success
    comp = g._submit(chain, addr, contract, proof, public, root["epoch"])
    assert comp.is_success, comp.error
    assert g._reverted_with(g._submit(chain, addr, contract, proof, public, root["epoch"]), "NullifierSpent(uint256)")
