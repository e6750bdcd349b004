"""The venue's and the trader's command-line flows on the cross-margin example."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkmargin.cli import main
from zkmargin.prover import backend

EX = Path(__file__).resolve().parents[2] / "examples" / "cross"

if not backend.fast_available():
    pytest.skip("the margin flow at this size needs the numba prover", allow_module_level=True)


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    d = tmp_path_factory.mktemp("margin_cli")
    run = CliRunner().invoke
    epoch = json.loads((EX / "market.json").read_text())["epoch"]
    steps = [
        ["setup", str(EX / "model.json"), "--zkey", str(d / "k.zkey"), "--vk", str(d / "vk.json")],
        ["context", "--venue", "zkmargin-demo", "--epoch", str(epoch), "--nonce", "77", "-o", str(d / "ctx.json")],
        ["commit", str(EX / "model.json"), str(EX / "portfolio_pass.json"), "--salt", str(d / "salt.json"),
         "-o", str(d / "commitment.json")],
        ["prove", "--model", str(EX / "model.json"), "--market", str(EX / "market.json"),
         "--portfolio", str(EX / "portfolio_pass.json"), "--salt", str(d / "salt.json"), "--threshold", "1000",
         "--context", str(d / "ctx.json"), "--zkey", str(d / "k.zkey"), "--proof", str(d / "proof.json"),
         "--public", str(d / "public.json")],
    ]
    results = [run(main, s) for s in steps]
    for r in results:
        assert r.exit_code == 0, r.output
    return d, run, results


def _venue_verify(d, run, threshold="1000", context="ctx.json", commitment="commitment.json", market=None):
    return run(main, ["verify", str(d / "vk.json"), str(d / "public.json"), str(d / "proof.json"),
                      "--model", str(EX / "model.json"), "--market", str(market or EX / "market.json"),
                      "--commitment", str(d / commitment), "--threshold", threshold, "--context", str(d / context)])


def test_flow_outputs(flow):
    d, _, results = flow
    assert "passes: cross margin" in results[3].output and "surplus 3,837.50" in results[3].output
    assert len(json.loads((d / "public.json").read_text())) == 4
    if os.name == "posix":
        assert (d / "salt.json").stat().st_mode & 0o077 == 0  # the salt is private


def test_venue_accepts_the_right_statement(flow):
    d, run, _ = flow
    r = _venue_verify(d, run)
    assert r.exit_code == 0 and r.output.startswith("OK"), r.output


@pytest.mark.parametrize("what", ["threshold", "context", "commitment", "market"])
def test_venue_names_the_public_input_that_differs(flow, what):
    d, run, _ = flow
    kwargs = {}
    if what == "threshold":
        kwargs["threshold"] = "999"
    elif what == "context":
        ctx = json.loads((d / "ctx.json").read_text())
        ctx["nonce"] = "78"
        (d / "ctx2.json").write_text(json.dumps(ctx))
        kwargs["context"] = "ctx2.json"
    elif what == "commitment":
        run(main, ["commit", str(EX / "model.json"), str(EX / "portfolio_fail.json"), "--salt", str(d / "salt.json"),
                   "-o", str(d / "other_commitment.json")])
        kwargs["commitment"] = "other_commitment.json"
    else:
        m = json.loads((EX / "market.json").read_text())
        m["instruments"][0]["mark"] = str(int(float(m["instruments"][0]["mark"])) + 1)
        (d / "market2.json").write_text(json.dumps(m))
        kwargs["market"] = d / "market2.json"
    r = _venue_verify(d, run, **kwargs)
    name = {"market": "market_digest"}.get(what, what)
    assert r.exit_code == 1 and f"{name} differs" in r.output, r.output


def test_failing_portfolio_refused_without_proof(flow):
    d, run, _ = flow
    r = run(main, ["prove", "--model", str(EX / "model.json"), "--market", str(EX / "market.json"),
                   "--portfolio", str(EX / "portfolio_fail.json"), "--salt", str(d / "salt.json"),
                   "--threshold", "1000", "--context", str(d / "ctx.json"), "--zkey", str(d / "k.zkey"),
                   "--proof", str(d / "bad_proof.json"), "--public", str(d / "bad_public.json")])
    assert r.exit_code == 1
    assert "refused: cross margin: requirement 16,400.00 exceeds equity 8,237.50 by 8,162.50" in r.output
    assert not (d / "bad_proof.json").exists() and not (d / "bad_public.json").exists()


def test_malformed_portfolio_names_the_field(flow, tmp_path):
    d, run, _ = flow
    p = json.loads((EX / "portfolio_pass.json").read_text())
    p["positions"][1]["size"] = "-30.1234567"
    (tmp_path / "bad.json").write_text(json.dumps(p))
    r = run(main, ["prove", "--model", str(EX / "model.json"), "--market", str(EX / "market.json"),
                   "--portfolio", str(tmp_path / "bad.json"), "--salt", str(d / "salt.json"), "--threshold", "1000",
                   "--context", str(d / "ctx.json"), "--zkey", str(d / "k.zkey"), "--proof", str(tmp_path / "p.json")])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "positions[1].size" in lines[0] and "-30.1234567" in lines[0], r.output
    assert not (tmp_path / "p.json").exists()


def test_malformed_market_names_the_field(flow, tmp_path):
    d, run, _ = flow
    m = json.loads((EX / "market.json").read_text())
    m["assets"][0]["price"] = "1e5"
    (tmp_path / "m.json").write_text(json.dumps(m))
    r = run(main, ["digest", str(EX / "model.json"), str(tmp_path / "m.json")])
    assert r.exit_code == 2 and "assets[0].price" in r.output and "1e5" in r.output, r.output


def test_salt_never_overwritten_and_model_checked(flow, tmp_path):
    d, run, _ = flow
    before = (d / "salt.json").read_text()
    r = run(main, ["commit", str(EX / "model.json"), str(EX / "portfolio_pass.json"), "--salt", str(d / "salt.json"),
                   "-o", str(tmp_path / "c.json")])
    assert r.exit_code == 0 and "reused" in r.output
    assert (d / "salt.json").read_text() == before
    assert json.loads((tmp_path / "c.json").read_text()) == json.loads((d / "commitment.json").read_text())


def test_verify_batch_folder_pairing_only_names_the_bad_proof(flow, tmp_path):
    """--pairing-only: the pairing alone, said so in the output; the venue's checks are in test_cli_integrity."""
    d, run, _ = flow
    for name in ("alice", "bob", "carol"):
        (tmp_path / f"{name}.proof.json").write_text((d / "proof.json").read_text())
        (tmp_path / f"{name}.public.json").write_text((d / "public.json").read_text())
    r = run(main, ["verify", str(d / "vk.json"), "--batch", str(tmp_path), "--pairing-only"])
    assert r.exit_code == 0 and r.output.startswith("OK (pairing only, no statement checked): all 3 proofs"), r.output
    public = json.loads((tmp_path / "bob.public.json").read_text())
    public[2] = str(int(public[2]) + 1)
    (tmp_path / "bob.public.json").write_text(json.dumps(public))
    r = run(main, ["verify", str(d / "vk.json"), "--batch", str(tmp_path), "--pairing-only"])
    assert r.exit_code == 1 and "1 of 3 proofs do not verify: bob" in r.output, r.output
    r = run(main, ["verify", str(d / "vk.json"), str(d / "public.json"), "--batch", str(tmp_path)])
    assert r.exit_code == 2 and "--batch" in r.output
