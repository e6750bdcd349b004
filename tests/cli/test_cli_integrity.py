"""Issue 8 on the command line: every path checks the venue's statement, and no command destroys a secret.

The batch folders hold real proofs made by the trader's own `zkmargin prove`, each honest about
what it proves but about the wrong statement for the venue: a market the prover invented, another
account's commitment, threshold 0, a stale context. Each must be named with the input that
differs; honest proofs of two different accounts must pass in one batch.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkmargin.cli import main
from zkmargin.prover import backend

EX = Path(__file__).resolve().parents[2] / "examples" / "cross"

if not backend.fast_available():
    pytest.skip("the margin flow at this size needs the numba prover", allow_module_level=True)

EPOCH = json.loads((EX / "market.json").read_text())["epoch"]


def _ok(r):
    assert r.exit_code == 0, r.output
    return r


@pytest.fixture(scope="module")
def venue(tmp_path_factory):
    """Keys, two traders (alice, bob) with their own commitments, and proofs of several kinds."""
    d = tmp_path_factory.mktemp("integrity")
    run = CliRunner().invoke
    _ok(run(main, ["setup", str(EX / "model.json"), "--zkey", str(d / "k.zkey"), "--vk", str(d / "vk.json")]))
    for name, nonce in (("ctx", 77), ("stale", 76)):
        _ok(run(main, ["context", "--venue", "zkmargin-demo", "--epoch", str(EPOCH), "--nonce", str(nonce),
                       "-o", str(d / f"{name}.json")]))
    # bob: a smaller passing portfolio (half the positions' sizes, the same collateral)
    bob = json.loads((EX / "portfolio_pass.json").read_text())
    bob["positions"] = bob["positions"][:1]
    (d / "bob_portfolio.json").write_text(json.dumps(bob))
    invented = json.loads((EX / "market.json").read_text())
    invented["assets"][0]["price"] = "1000"  # the prover's own prices: USDC at 1,000
    (d / "invented_market.json").write_text(json.dumps(invented))
    for who, pf in (("alice", EX / "portfolio_pass.json"), ("bob", d / "bob_portfolio.json")):
        _ok(run(main, ["commit", str(EX / "model.json"), str(pf), "--salt", str(d / f"{who}_salt.json"),
                       "-o", str(d / f"{who}_commitment.json")]))

    def prove(tag, who, portfolio, threshold="1000", context="ctx.json", market=EX / "market.json"):
        _ok(run(main, ["prove", "--model", str(EX / "model.json"), "--market", str(market),
                       "--portfolio", str(portfolio), "--salt", str(d / f"{who}_salt.json"), "--threshold", threshold,
                       "--context", str(d / context), "--zkey", str(d / "k.zkey"),
                       "--proof", str(d / f"{tag}.proof.json"), "--public", str(d / f"{tag}.public.json")]))

    prove("alice", "alice", EX / "portfolio_pass.json")
    prove("bob", "bob", d / "bob_portfolio.json")
    prove("invented_market", "alice", EX / "portfolio_pass.json", market=d / "invented_market.json")
    prove("threshold_zero", "alice", EX / "portfolio_pass.json", threshold="0")
    prove("stale_context", "alice", EX / "portfolio_pass.json", context="stale.json")
    return d, run


def _folder(d: Path, dest: Path, items: dict[str, tuple[str, str]]) -> Path:
    """A batch folder: NAME.proof/public.json from proof TAG, NAME.commitment.json from trader WHO."""
    dest.mkdir()
    for name, (tag, who) in items.items():
        shutil.copy(d / f"{tag}.proof.json", dest / f"{name}.proof.json")
        shutil.copy(d / f"{tag}.public.json", dest / f"{name}.public.json")
        shutil.copy(d / f"{who}_commitment.json", dest / f"{name}.commitment.json")
    return dest


def _venue_batch(run, d, folder, *extra):
    return run(main, ["verify", str(d / "vk.json"), "--batch", str(folder), "--model", str(EX / "model.json"),
                      "--market", str(EX / "market.json"), "--threshold", "1000", "--context", str(d / "ctx.json"),
                      *extra])


def test_batch_of_honest_proofs_from_different_accounts_passes_in_one_call(venue, tmp_path):
    d, run = venue
    folder = _folder(d, tmp_path / "inbox", {"alice": ("alice", "alice"), "bob": ("bob", "bob")})
    r = _venue_batch(run, d, folder)
    assert r.exit_code == 0 and r.output.startswith("OK: all 2 proofs"), r.output
    assert "each for its own statement" in r.output


def test_batch_names_each_kind_of_mismatch_and_exits_1(venue, tmp_path):
    d, run = venue
    folder = _folder(d, tmp_path / "inbox", {
        "honest": ("alice", "alice"),
        "market": ("invented_market", "alice"),
        "commitment": ("bob", "alice"),  # bob's (valid) proof presented as alice's account
        "threshold": ("threshold_zero", "alice"),
        "context": ("stale_context", "alice"),
    })
    r = _venue_batch(run, d, folder)
    assert r.exit_code == 1, r.output
    assert "4 of 5 proofs" in r.output
    lines = {ln.strip().split(":")[0]: ln for ln in r.output.splitlines()[1:]}
    assert set(lines) == {"market", "commitment", "threshold", "context"}, r.output
    for name, field in (("market", "market_digest"), ("commitment", "commitment"), ("threshold", "threshold"),
                        ("context", "context")):
        assert f"{field} differs" in lines[name], lines[name]
        others = {"market_digest", "commitment", "threshold", "context"} - {field}
        assert not any(f"{o} differs" in lines[name] for o in others), lines[name]
    # the same proofs pass the pairing alone: the statement check is what rejects them
    r = run(main, ["verify", str(d / "vk.json"), "--batch", str(folder), "--pairing-only"])
    assert r.exit_code == 0, r.output


def test_manifest_gives_each_item_its_own_statement(venue, tmp_path):
    d, run = venue
    man = {"version": 1, "kind": "verify_manifest", "items": [
        {"label": "alice", "proof": "alice.proof.json", "public": "alice.public.json",
         "commitment": "alice_commitment.json", "context": "ctx.json", "threshold": "1000"},
        {"label": "bob", "proof": "bob.proof.json", "public": "bob.public.json",
         "commitment": "bob_commitment.json", "context": "ctx.json", "threshold": "1000"},
        {"label": "carol-zero", "proof": "threshold_zero.proof.json", "public": "threshold_zero.public.json",
         "commitment": "alice_commitment.json", "context": "ctx.json", "threshold": "1000"},
    ]}
    path = d / "manifest.json"
    path.write_text(json.dumps(man))
    base = ["verify", str(d / "vk.json"), "--manifest", str(path), "--model", str(EX / "model.json"),
            "--market", str(EX / "market.json")]
    r = run(main, base)
    assert r.exit_code == 1 and "1 of 3 proofs" in r.output and "carol-zero: " in r.output, r.output
    man["items"] = man["items"][:2]
    path.write_text(json.dumps(man))
    assert run(main, base).exit_code == 0
    # an option every item overrides would be silently ignored: refused
    r = run(main, [*base, "--threshold", "5"])
    assert r.exit_code == 2 and "--threshold" in r.output and "ignored" in r.output, r.output


def test_batch_item_without_a_commitment_is_an_error_not_a_default(venue, tmp_path):
    d, run = venue
    folder = _folder(d, tmp_path / "inbox", {"alice": ("alice", "alice")})
    shutil.copy(d / "bob.proof.json", folder / "bob.proof.json")
    shutil.copy(d / "bob.public.json", folder / "bob.public.json")
    r = _venue_batch(run, d, folder)
    assert r.exit_code == 2 and "bob: no commitment" in r.output, r.output


def test_margin_key_is_never_used_without_the_statement(venue):
    """A key that records its model refuses a bare pairing check unless --pairing-only says so."""
    d, run = venue
    r = run(main, ["verify", str(d / "vk.json"), str(d / "threshold_zero.public.json"),
                   str(d / "threshold_zero.proof.json")])
    assert r.exit_code == 2 and "--pairing-only" in r.output, r.output
    r = run(main, ["verify", str(d / "vk.json"), str(d / "alice.public.json"), str(d / "alice.proof.json"),
                   "--pairing-only", "--threshold", "1000"])
    assert r.exit_code == 2 and "cannot be combined" in r.output, r.output
    vk = json.loads((d / "vk.json").read_text())
    assert vk["zkmargin"]["kind"] == "bilateral" and vk["zkmargin"]["model_id"] == "demo-cross"


def test_verify_refuses_a_key_of_another_model(venue, tmp_path):
    d, run = venue
    other = json.loads((EX / "model.json").read_text())
    other["model_id"] = "demo-cross-2"
    (tmp_path / "model.json").write_text(json.dumps(other))
    vk = json.loads((d / "vk.json").read_text())
    from zkmargin.margin import load_model, model_digest

    vk["zkmargin"]["model_digest"] = str(model_digest(load_model(tmp_path / "model.json")))
    vk["zkmargin"]["model_id"] = "demo-cross-2"
    (tmp_path / "vk.json").write_text(json.dumps(vk))
    r = run(main, ["verify", str(tmp_path / "vk.json"), str(d / "alice.public.json"), str(d / "alice.proof.json"),
                   "--model", str(EX / "model.json"), "--market", str(EX / "market.json"),
                   "--commitment", str(d / "alice_commitment.json"), "--threshold", "1000",
                   "--context", str(d / "ctx.json")])
    assert r.exit_code == 2 and "demo-cross-2" in r.output and "model digest" in r.output, r.output


# --- point 4: a prover never writes a proof of a false statement ------------------------------

def test_prove_from_a_tampered_witness_is_refused_and_writes_nothing(venue, tmp_path):
    d, run = venue
    _ok(run(main, ["prove", "--model", str(EX / "model.json"), "--market", str(EX / "market.json"),
                   "--portfolio", str(EX / "portfolio_pass.json"), "--salt", str(d / "alice_salt.json"),
                   "--threshold", "1000", "--context", str(d / "ctx.json"), "--zkey", str(d / "k.zkey"),
                   "--proof", str(tmp_path / "p.json"), "--public", str(tmp_path / "x.json"),
                   "--save-witness", str(tmp_path / "w.wtns")]))
    raw = bytearray((tmp_path / "w.wtns").read_bytes())
    raw[-40] ^= 0x01  # one flipped bit in a private wire
    (tmp_path / "bad.wtns").write_bytes(bytes(raw))
    args = ["prove", "--witness", str(tmp_path / "bad.wtns"), "--zkey", str(d / "k.zkey"),
            "--proof", str(tmp_path / "bad_proof.json"), "--public", str(tmp_path / "bad_public.json")]
    r = run(main, args)
    assert r.exit_code == 1 and "refused" in r.output and "does not verify" in r.output, r.output
    assert not (tmp_path / "bad_proof.json").exists() and not (tmp_path / "bad_public.json").exists()
    # the honest witness still proves through the same path
    args_ok = ["prove", "--witness", str(tmp_path / "w.wtns"), "--zkey", str(d / "k.zkey"),
               "--proof", str(tmp_path / "ok_proof.json"), "--public", str(tmp_path / "ok_public.json")]
    assert run(main, args_ok).exit_code == 0
    # --no-self-check (benchmarks) writes what the prover made, which does not verify
    r = run(main, [*args, "--no-self-check"])
    assert r.exit_code == 0
    r = run(main, ["verify", str(d / "vk.json"), str(tmp_path / "bad_public.json"), str(tmp_path / "bad_proof.json"),
                   "--pairing-only"])
    assert r.exit_code == 1


# --- point 6: no command destroys a secret or an input ----------------------------------------

def test_prove_refuses_to_write_over_the_salt_or_any_input(venue, tmp_path):
    d, run = venue
    salt = tmp_path / "salt.json"
    shutil.copy(d / "alice_salt.json", salt)
    before = salt.read_bytes()
    base = ["prove", "--model", str(EX / "model.json"), "--market", str(EX / "market.json"),
            "--portfolio", str(EX / "portfolio_pass.json"), "--salt", str(salt), "--threshold", "1000",
            "--context", str(d / "ctx.json"), "--zkey", str(d / "k.zkey")]
    for opt in ("--proof", "--public"):
        other = "--public" if opt == "--proof" else "--proof"
        r = run(main, [*base, opt, str(salt), other, str(tmp_path / "o.json")])
        assert r.exit_code == 2 and opt in r.output and "--salt" in r.output, r.output
        assert salt.read_bytes() == before
    r = run(main, [*base, "--proof", str(d / "ctx.json"), "--public", str(tmp_path / "o.json")])
    assert r.exit_code == 2 and "--context" in r.output
    r = run(main, [*base, "--proof", str(tmp_path / "same.json"), "--public", str(tmp_path / "same.json")])
    assert r.exit_code == 2 and "same file" in r.output
    # a secret that is not this command's input (another trader's salt) is never overwritten either
    r = run(main, [*base, "--proof", str(d / "bob_salt.json"), "--public", str(tmp_path / "o.json")])
    assert r.exit_code == 2 and "holds a secret (salt)" in r.output, r.output


def test_commit_refuses_to_write_the_commitment_over_the_salt(venue, tmp_path):
    d, run = venue
    salt = tmp_path / "salt.json"
    shutil.copy(d / "alice_salt.json", salt)
    before = salt.read_bytes()
    r = run(main, ["commit", str(EX / "model.json"), str(EX / "portfolio_pass.json"), "--salt", str(salt),
                   "-o", str(salt)])
    assert r.exit_code == 2 and "-o" in r.output and salt.read_bytes() == before, r.output
    # a new salt and the commitment at one path: refused before anything is written
    r = run(main, ["commit", str(EX / "model.json"), str(EX / "portfolio_pass.json"),
                   "--salt", str(tmp_path / "n.json"), "-o", str(tmp_path / "n.json")])
    assert r.exit_code == 2 and not (tmp_path / "n.json").exists(), r.output
    r = run(main, ["context", "--venue", "v", "--epoch", "1", "-o", str(salt)])
    assert r.exit_code == 2 and salt.read_bytes() == before


def test_new_salt_is_owner_only_from_the_first_byte(venue, tmp_path, monkeypatch):
    """The temporary file the salt is written to is already 0600 (no chmod after the fact)."""
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    d, run = venue
    from zkmargin.serialize import _io

    seen = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *a, **k):
        seen.append((str(path), mode))
        return real_open(path, flags, mode, *a, **k)

    monkeypatch.setattr(_io.os, "open", spy)
    _ok(run(main, ["commit", str(EX / "model.json"), str(EX / "portfolio_pass.json"),
                   "--salt", str(tmp_path / "s.json"), "-o", str(tmp_path / "c.json")]))
    salt_modes = [m for p, m in seen if ".s.json." in p]
    assert salt_modes == [0o600], seen
    assert (tmp_path / "s.json").stat().st_mode & 0o077 == 0


def test_setup_does_not_replace_keys_without_force(venue, tmp_path):
    d, run = venue
    zkey, vk = tmp_path / "k.zkey", tmp_path / "vk.json"
    shutil.copy(d / "k.zkey", zkey)
    shutil.copy(d / "vk.json", vk)
    before = (zkey.read_bytes(), vk.read_bytes())
    r = run(main, ["setup", str(EX / "model.json"), "--zkey", str(zkey), "--vk", str(vk)])
    assert r.exit_code == 2 and "--force" in r.output and (zkey.read_bytes(), vk.read_bytes()) == before, r.output
    r = run(main, ["setup", str(EX / "model.json"), "--zkey", str(zkey), "--vk", str(vk), "--force"])
    assert r.exit_code == 0 and (zkey.read_bytes(), vk.read_bytes()) != before
    r = run(main, ["setup", str(EX / "model.json"), "--zkey", str(EX / "model.json"), "--vk", str(tmp_path / "v2")])
    assert r.exit_code == 2 and "MODEL_OR_R1CS" in r.output


def test_readme_python_api_example_runs(venue, tmp_path):
    """examples/venue_api.py (shown in the README) accepts the honest proof and names the stricter item."""
    import subprocess
    import sys

    d, _ = venue
    out = tmp_path / "demo-out"
    (out / "venue").mkdir(parents=True)
    (out / "trader").mkdir()
    shutil.copy(d / "vk.json", out / "venue" / "verification_key.json")
    shutil.copy(d / "ctx.json", out / "venue" / "context.json")
    shutil.copy(d / "alice_commitment.json", out / "trader" / "commitment.json")
    shutil.copy(d / "alice.proof.json", out / "trader" / "proof.json")
    shutil.copy(d / "alice.public.json", out / "trader" / "public.json")
    script = Path(__file__).resolve().parents[2] / "examples" / "venue_api.py"
    p = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "single: True - valid" in p.stdout
    assert "not accepted: trader-1 at 2,000: the proof is about another statement: threshold differs" in p.stdout
