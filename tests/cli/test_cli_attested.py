"""The venue-attested flows on the command line: key new, accounts build / setup, prove --opening,
verify --root (single and batch), and what each refuses. Small trees (depth 5) in the default tier;
the acceptance run at >= 100,000 accounts and depth 20 is in tests/cli/test_attested_large.py (slow).
"""

from __future__ import annotations

import json
import os
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkmargin.cli import main
from zkmargin.prover import backend

EX = Path(__file__).resolve().parents[2] / "examples" / "cross"
DEPTH = 5

if not backend.fast_available():
    pytest.skip("the attested flow at this size needs the numba prover", allow_module_level=True)


def _entry(pf: Path, account_id: str, kc: str, **extra) -> dict:
    return dict(json.loads(pf.read_text()), account_id=account_id, key_commitment=kc, **extra)


def _kc(output: str) -> str:
    return output.split("key commitment ")[1].split()[0]


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    d = tmp_path_factory.mktemp("attested_cli")
    run = CliRunner().invoke
    market = json.loads((EX / "market.json").read_text())
    epoch = market["epoch"]
    r_alice = run(main, ["key", "new", "-o", str(d / "alice.key")])
    r_bob = run(main, ["key", "new", "-o", str(d / "bob.key")])
    assert r_alice.exit_code == 0 and r_bob.exit_code == 0, r_alice.output + r_bob.output
    kc_a, kc_b = _kc(r_alice.output), _kc(r_bob.output)
    other = json.loads((EX / "portfolio_pass.json").read_text())
    other["collateral"][0]["amount"] = str(Decimal(other["collateral"][0]["amount"]) + 1000)  # richer than alice
    (d / "bob.json").write_text(json.dumps(other))
    entries = [_entry(EX / "portfolio_pass.json", "alice", kc_a), _entry(d / "bob.json", "bob", kc_b),
               _entry(EX / "portfolio_fail.json", "carol", kc_b)]
    entries += [_entry(d / "bob.json", f"filler-{i}", kc_b) for i in range(9)]
    (d / "snap.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    steps = [
        ["accounts", "build", str(EX / "model.json"), str(d / "snap.jsonl"), "-o", str(d / "tree"), "--epoch",
         str(epoch), "--depth", str(DEPTH)],
        ["accounts", "setup", str(EX / "model.json"), "--depth", str(DEPTH), "--zkey", str(d / "att.zkey"),
         "--vk", str(d / "att_vk.json")],
        ["context", "--venue", market["venue"], "--epoch", str(epoch), "--nonce", "77", "-o", str(d / "ctx.json")],
    ]
    results = [run(main, s) for s in steps]
    for r in results:
        assert r.exit_code == 0, r.output
    return d, run


def _prove(d, run, who="alice", portfolio=None, key=None, out="p", context="ctx.json", threshold="1000", opening=None):
    return run(main, ["prove", "--model", str(EX / "model.json"), "--market", str(EX / "market.json"),
                      "--portfolio", str(portfolio or EX / "portfolio_pass.json"),
                      "--opening", str(opening or d / "tree" / "openings" / f"{who}.json"),
                      "--root", str(d / "tree" / "root.json"), "--key", str(key or d / f"{who}.key"),
                      "--threshold", threshold, "--context", str(d / context), "--zkey", str(d / "att.zkey"),
                      "--proof", str(d / f"{out}.proof.json"), "--public", str(d / f"{out}.public.json")])


def _verify(d, run, out="p", root="tree/root.json", context="ctx.json", threshold="1000"):
    return run(main, ["verify", str(d / "att_vk.json"), str(d / f"{out}.public.json"), str(d / f"{out}.proof.json"),
                      "--root", str(d / root), "--model", str(EX / "model.json"), "--market", str(EX / "market.json"),
                      "--threshold", threshold, "--context", str(d / context)])


def test_key_new_is_private_and_never_overwritten(flow):
    d, run = flow
    assert stat.S_IMODE(os.stat(d / "alice.key").st_mode) == 0o600
    before = (d / "alice.key").read_bytes()
    r = run(main, ["key", "new", "-o", str(d / "alice.key")])
    assert r.exit_code == 2 and "never overwritten" in r.output
    assert (d / "alice.key").read_bytes() == before


def test_trader_proves_and_venue_accepts(flow):
    d, run = flow
    r = _prove(d, run)
    assert r.exit_code == 0, r.output
    assert "passes: cross margin" in r.output
    public = json.loads((d / "p.public.json").read_text())
    assert len(public) == 5
    v = _verify(d, run)
    assert v.exit_code == 0 and v.output.startswith("OK"), v.output
    assert f"nullifier {public[4]}" in v.output


def test_the_same_account_gets_the_same_nullifier_per_context_and_a_fresh_one_elsewhere(flow):
    d, run = flow
    assert _prove(d, run, out="again").exit_code == 0
    ctx = json.loads((d / "ctx.json").read_text())
    (d / "ctx2.json").write_text(json.dumps(dict(ctx, nonce="78")))
    assert _prove(d, run, out="ctx2", context="ctx2.json").exit_code == 0
    n1, n2, n3 = (json.loads((d / f"{o}.public.json").read_text())[4] for o in ("p", "again", "ctx2"))
    assert n1 == n2 != n3


@pytest.mark.parametrize("index,what", [(0, "account_root"), (1, "market_digest"), (2, "threshold"), (3, "context")])
def test_tampered_public_input_is_named(flow, index, what):
    d, run = flow
    pub = json.loads((d / "p.public.json").read_text())
    pub[index] = str(int(pub[index]) + 1)
    (d / f"t{index}.public.json").write_text(json.dumps(pub))
    (d / f"t{index}.proof.json").write_text((d / "p.proof.json").read_text())
    r = _verify(d, run, out=f"t{index}")
    assert r.exit_code == 1 and f"{what} differs" in r.output, r.output


def test_tampered_nullifier_fails_the_pairing(flow):
    d, run = flow
    pub = json.loads((d / "p.public.json").read_text())
    pub[4] = str(int(pub[4]) + 1)
    (d / "tn.public.json").write_text(json.dumps(pub))
    (d / "tn.proof.json").write_text((d / "p.proof.json").read_text())
    r = _verify(d, run, out="tn")
    assert r.exit_code == 1 and "does not verify" in r.output, r.output


def test_tampered_opening_path_or_index_is_refused(flow):
    d, run = flow
    op = json.loads((d / "tree" / "openings" / "alice.json").read_text())
    for i, bad in enumerate([dict(op, leaf_index=op["leaf_index"] ^ 1),
                             dict(op, path=[str(int(op["path"][0]) + 1)] + op["path"][1:])]):
        (d / f"bad_op{i}.json").write_text(json.dumps(bad))
        r = _prove(d, run, opening=d / f"bad_op{i}.json", out=f"badop{i}")
        assert r.exit_code == 2 and "do not lead to the root" in r.output, r.output
        assert not (d / f"badop{i}.proof.json").exists()


def test_refusals(flow):
    d, run = flow
    # a failing account: refused before proving, exit 1, no file
    r = _prove(d, run, who="carol", key=d / "bob.key", portfolio=EX / "portfolio_fail.json", out="carol")
    assert r.exit_code == 1 and "refused" in r.output and not (d / "carol.proof.json").exists()
    # another trader's key
    r = _prove(d, run, key=d / "bob.key", out="wrongkey")
    assert r.exit_code == 2 and "registered under key commitment" in r.output
    # a portfolio that is not the venue's snapshot of the account
    r = _prove(d, run, portfolio=d / "bob.json", out="notsnap")
    assert r.exit_code == 2 and "not the venue's snapshot" in r.output
    # --salt belongs to the bilateral flow
    r = run(main, ["prove", "--model", str(EX / "model.json"), "--salt", str(d / "alice.key"), "--opening",
                   str(d / "tree" / "openings" / "alice.json"), "--zkey", str(d / "att.zkey")])
    assert r.exit_code == 2
    assert not any((d / f"{o}.proof.json").exists() for o in ("wrongkey", "notsnap"))


def test_a_proof_for_another_root_is_refused(flow):
    d, run = flow
    root = json.loads((d / "tree" / "root.json").read_text())
    (d / "root_other.json").write_text(json.dumps(dict(root, root=str(int(root["root"]) + 1))))
    r = _verify(d, run, root="root_other.json")
    assert r.exit_code == 1 and "account_root differs" in r.output
    (d / "root_epoch.json").write_text(json.dumps(dict(root, epoch=root["epoch"] + 1)))
    r = _verify(d, run, root="root_epoch.json")
    assert r.exit_code == 2 and "epoch" in r.output


def test_batch_names_a_replayed_nullifier(flow):
    d, run = flow
    assert _prove(d, run, who="bob", portfolio=d / "bob.json", out="bob").exit_code == 0
    inbox = d / "inbox"
    inbox.mkdir()
    for name, src in (("alice", "p"), ("bob", "bob"), ("alice_again", "again")):
        (inbox / f"{name}.proof.json").write_text((d / f"{src}.proof.json").read_text())
        (inbox / f"{name}.public.json").write_text((d / f"{src}.public.json").read_text())
    base = ["verify", str(d / "att_vk.json"), "--batch", str(inbox), "--root", str(d / "tree" / "root.json"),
            "--model", str(EX / "model.json"), "--market", str(EX / "market.json"), "--threshold", "1000",
            "--context", str(d / "ctx.json")]
    r = run(main, base)
    assert r.exit_code == 1 and "already answered this context" in r.output, r.output
    assert "alice_again" in r.output or "alice:" in r.output
    os.remove(inbox / "alice_again.proof.json")
    os.remove(inbox / "alice_again.public.json")
    r = run(main, base)
    assert r.exit_code == 0 and "all 2 proofs" in r.output, r.output


def test_bilateral_key_is_refused_for_the_attested_check(flow, tmp_path):
    d, run = flow
    vk = json.loads((d / "att_vk.json").read_text())
    assert vk["zkmargin"]["kind"] == "attested"
    vk["zkmargin"]["kind"] = "bilateral"
    (tmp_path / "vk.json").write_text(json.dumps(vk))
    r = run(main, ["verify", str(tmp_path / "vk.json"), str(d / "p.public.json"), str(d / "p.proof.json"), "--root",
                   str(d / "tree" / "root.json"), "--model", str(EX / "model.json"), "--market",
                   str(EX / "market.json"), "--threshold", "1000", "--context", str(d / "ctx.json")])
    assert r.exit_code != 0 and "attested" in r.output
