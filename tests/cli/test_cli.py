"""The zkmargin command line: help texts, a full round trip on files, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkmargin.cli import main

HERE = Path(__file__).parent
COMMANDS = ["compile", "setup", "prove", "verify", "digest", "context", "commit", "bench"]


@pytest.fixture()
def runner(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    return CliRunner()


def test_help_texts(runner):
    r = runner.invoke(main, ["--help"])
    assert r.exit_code == 0
    for c in COMMANDS:
        assert c in r.output
    for c in COMMANDS:
        r = runner.invoke(main, [c, "--help"])
        assert r.exit_code == 0, r.output
        assert "Example" in r.output and f"zkmargin {c}" in r.output
    for group, sub in (("export", "solidity"), ("export", "calldata")):
        r = runner.invoke(main, [group, sub, "--help"])
        assert r.exit_code == 0 and "Example" in r.output, r.output


@pytest.fixture(scope="module")
def roundtrip(tmp_path_factory):
    import sys

    sys.path.insert(0, str(HERE))
    try:
        d = tmp_path_factory.mktemp("cli")
        run = CliRunner().invoke
        (d / "input.json").write_text(json.dumps({"threshold": "500", "price": 3, "amounts": ["100", 90]}))
        r1 = run(main, ["compile", "cli_tiny_circuit:Tiny", "-o", str(d / "t.r1cs")])
        r2 = run(main, ["setup", str(d / "t.r1cs"), "--zkey", str(d / "t.zkey"), "--vk", str(d / "vk.json")])
        r3 = run(main, ["prove", "cli_tiny_circuit:Tiny", "--input", str(d / "input.json"), "--zkey", str(d / "t.zkey"),
                        "--proof", str(d / "proof.json"), "--public", str(d / "public.json")])
        return d, run, (r1, r2, r3)
    finally:
        sys.path.remove(str(HERE))


def test_round_trip(roundtrip):
    d, run, results = roundtrip
    for r in results:
        assert r.exit_code == 0, r.output
    assert "constraints" in results[0].output
    assert json.loads((d / "public.json").read_text()) == ["500", "3"]
    r = run(main, ["verify", str(d / "vk.json"), str(d / "public.json"), str(d / "proof.json")])
    assert r.exit_code == 0 and r.output.startswith("OK"), r.output
    (d / "public_bad.json").write_text(json.dumps(["501", "3"]))
    r = run(main, ["verify", str(d / "vk.json"), str(d / "public_bad.json"), str(d / "proof.json")])
    assert r.exit_code == 1 and r.output.startswith("INVALID"), r.output


def test_failing_input_refused_without_proof(roundtrip, tmp_path):
    d, run, _ = roundtrip
    (tmp_path / "input.json").write_text(json.dumps({"threshold": 10**6, "price": 3, "amounts": [1, 2]}))
    out = tmp_path / "proof.json"
    import sys

    sys.path.insert(0, str(HERE))
    try:
        r = run(main, ["prove", "cli_tiny_circuit:Tiny", "--input", str(tmp_path / "input.json"),
                       "--zkey", str(d / "t.zkey"), "--proof", str(out), "--public", str(tmp_path / "p.json")])
    finally:
        sys.path.remove(str(HERE))
    assert r.exit_code == 2
    assert "solvency/" in r.output and "not satisfied" in r.output
    assert not out.exists()


def _one_line_error(r, *needles):
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("zkmargin: error:"), r.output
    assert "Traceback" not in r.output
    for n in needles:
        assert n in lines[0], lines[0]


def test_missing_and_corrupt_files(roundtrip, tmp_path):
    d, run, _ = roundtrip
    # click's own check for a missing argument file (exit 2, names the path)
    r = run(main, ["verify", str(tmp_path / "nope.json"), str(d / "public.json"), str(d / "proof.json")])
    assert r.exit_code == 2 and "nope.json" in r.output
    (tmp_path / "broken.json").write_text('{"pi_a": [')
    r = run(main, ["verify", str(d / "vk.json"), str(d / "public.json"), str(tmp_path / "broken.json")])
    _one_line_error(r, "broken.json")
    proof = json.loads((d / "proof.json").read_text())
    proof["pi_c"][0] = "12abc"
    (tmp_path / "badfield.json").write_text(json.dumps(proof))
    r = run(main, ["verify", str(d / "vk.json"), str(d / "public.json"), str(tmp_path / "badfield.json")])
    _one_line_error(r, "badfield.json", "pi_c")
    (tmp_path / "junk.zkey").write_bytes(b"zkey\x01\x00\x00\x00garbage")
    r = run(main, ["prove", "--witness", str(d / "t.r1cs"), "--zkey", str(tmp_path / "junk.zkey")])
    _one_line_error(r)
    (tmp_path / "junk.r1cs").write_bytes(b"not an r1cs file")
    r = run(main, ["setup", str(tmp_path / "junk.r1cs"),
                   "--zkey", str(tmp_path / "k.zkey"), "--vk", str(tmp_path / "v.json")])
    _one_line_error(r, "junk.r1cs")
    assert not (tmp_path / "k.zkey").exists()


def test_bad_parameters_and_circuits(runner, tmp_path):
    r = runner.invoke(main, ["compile", "no-such-circuit", "-o", str(tmp_path / "x.r1cs")])
    _one_line_error(r, "no-such-circuit")
    r = runner.invoke(main, ["compile", "cli_tiny_circuit:Tiny", "-p", "n=abc", "-o", str(tmp_path / "x.r1cs")])
    _one_line_error(r, "n", "abc")
    (tmp_path / "in.json").write_text(json.dumps({"threshold": 1, "price": 1, "amounts": [1, "x"]}))
    r = runner.invoke(main, ["prove", "cli_tiny_circuit:Tiny", "--input", str(tmp_path / "in.json"),
                             "--zkey", str(tmp_path / "in.json")])
    _one_line_error(r, "amounts[1]")
