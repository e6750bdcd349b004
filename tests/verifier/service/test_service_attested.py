"""The service on the venue-attested statement: one context, many accounts, each answers once.

The attested proof's one-time token is its nullifier (Poseidon of the trader's key and the
context): two accounts answer the same context once each, and the same account answering again
(a fresh proof, the same nullifier) is a replay. Keys, tree (depth 5) and proofs are made with
the CLI, as in tests/cli/test_cli_attested.py.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from zkmargin.cli import main
from zkmargin.prover import backend

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EX = Path(__file__).resolve().parents[3] / "examples" / "cross"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    if not backend.fast_available():
        pytest.skip("the attested flow needs the numba prover (zkmargin[prover])")
    d = tmp_path_factory.mktemp("attested_service")
    run = CliRunner().invoke
    epoch = json.loads((EX / "market.json").read_text())["epoch"]
    kcs = {}
    for who in ("alice", "bob"):
        r = run(main, ["key", "new", "-o", str(d / f"{who}.key")])
        assert r.exit_code == 0, r.output
        kcs[who] = r.output.split("key commitment ")[1].split()[0]
    richer = json.loads((EX / "portfolio_pass.json").read_text())
    richer["collateral"][0]["amount"] = str(Decimal(richer["collateral"][0]["amount"]) + 1000)
    (d / "bob.json").write_text(json.dumps(richer))
    alice = json.loads((EX / "portfolio_pass.json").read_text())
    entries = [dict(alice, account_id="alice", key_commitment=kcs["alice"]),
               dict(richer, account_id="bob", key_commitment=kcs["bob"])]
    (d / "snap.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    for step in (["accounts", "build", str(EX / "model.json"), str(d / "snap.jsonl"), "-o", str(d / "tree"),
                  "--epoch", str(epoch), "--depth", "5"],
                 ["accounts", "setup", str(EX / "model.json"), "--depth", "5", "--zkey", str(d / "att.zkey"),
                  "--vk", str(d / "att_vk.json")]):
        r = run(main, step)
        assert r.exit_code == 0, r.output
    return d


def _prove(d: Path, who: str, context: Path, out: str, threshold: str = "1000") -> dict:
    portfolio = EX / "portfolio_pass.json" if who == "alice" else d / "bob.json"
    r = CliRunner().invoke(main, [
        "prove", "--model", str(EX / "model.json"), "--market", str(EX / "market.json"), "--portfolio", str(portfolio),
        "--opening", str(d / "tree" / "openings" / f"{who}.json"), "--root", str(d / "tree" / "root.json"),
        "--key", str(d / f"{who}.key"), "--threshold", threshold, "--context", str(context), "--zkey",
        str(d / "att.zkey"), "--proof", str(d / f"{out}.proof.json"), "--public", str(d / f"{out}.public.json")])
    assert r.exit_code == 0, r.output
    return {"proof": json.loads((d / f"{out}.proof.json").read_text()),
            "public": json.loads((d / f"{out}.public.json").read_text())}


def test_attested_context_answered_once_per_account(h, tree: Path, serve, tmp_path: Path):
    cfg = tmp_path / "venue.toml"
    cfg.write_text("\n".join([
        'venue = "zkmargin-demo"', f"model = {json.dumps(str(EX / 'model.json'))}",
        f"verifying_key = {json.dumps(str(tree / 'att_vk.json'))}",
        f"markets = [{json.dumps(str(EX / 'market.json'))}]",
        f"database = {json.dumps('sqlite:///' + str(tmp_path / 'ledger.sqlite'))}", 'threshold = "1000"',
        'statement = "attested"', f"roots = [{json.dumps(str(tree / 'tree' / 'root.json'))}]",
        "[server]", f"port = {h.free_port()}", "[workers]", "processes = 1"]) + "\n")
    srv = serve(cfg)

    def post(path, body):
        return httpx.post(srv.url + path, content=json.dumps(body), timeout=60)

    r = post("/v1/contexts", {"commitment": "1"})
    assert r.status_code == 400 and r.json()["field"] == "commitment", r.text
    issued = post("/v1/contexts", {}).json()
    assert list(issued["statement"]) == ["account_root", "market_digest", "threshold", "context"]
    ctx = tmp_path / "ctx.json"
    ctx.write_text(json.dumps(issued["context"]))
    alice, bob = _prove(tree, "alice", ctx, "a"), _prove(tree, "bob", ctx, "b")
    alice_again = _prove(tree, "alice", ctx, "a2")  # a fresh proof: other points, the same nullifier
    assert alice_again["proof"] != alice["proof"] and alice_again["public"][4] == alice["public"][4]
    first = post("/v1/proofs", alice).json()
    assert first["accepted"] and first["token"] == alice["public"][4], first
    assert post("/v1/proofs", bob).json()["accepted"] is True  # another account, the same context
    again = post("/v1/proofs", alice_again).json()
    assert again["reason"] == "replay" and "nullifier was already used" in again["detail"] and first["id"] in \
        again["detail"], again
    low = _prove(tree, "alice", ctx, "low", threshold="900")
    wrong = post("/v1/proofs", low).json()
    assert wrong["reason"] == "replay"  # the nullifier is spent whatever the threshold: refused before the pairing
    issued2 = post("/v1/contexts", {"threshold": "1200"}).json()
    ctx2 = tmp_path / "ctx2.json"
    ctx2.write_text(json.dumps(issued2["context"]))
    wrong = post("/v1/proofs", _prove(tree, "alice", ctx2, "w", threshold="1000")).json()
    assert wrong["reason"] == "wrong_statement" and "threshold differs" in wrong["detail"], wrong
    right = post("/v1/proofs", _prove(tree, "alice", ctx2, "r", threshold="1200")).json()
    assert right["accepted"], right  # the wrong-threshold proof consumed nothing
    tampered = dict(bob, public=[*bob["public"][:4], str(int(bob["public"][4]) + 1)])
    assert post("/v1/proofs", tampered).json()["reason"] == "invalid_proof"  # a made-up nullifier
    run = CliRunner().invoke
    shown = run(main, ["ledger", "show", "--config", str(cfg)])
    assert shown.exit_code == 0 and "integrity:" in shown.output, shown.output
    exported = run(main, ["ledger", "export", "--config", str(cfg)])
    rows = exported.output.strip().splitlines()[1:]
    assert len(rows) == 3 and all(",attested," in row for row in rows), exported.output
