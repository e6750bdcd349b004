"""The ceremony commands (zkmargin/cli_ceremony.py, setup --ptau, compile MODEL.json) without node:
exit statuses, messages, refusals. A power-6 ptau from a known tau stands in for a public one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkmargin.circuits import compile
from zkmargin.cli import main
from zkmargin.prover import backend
from zkmargin.serialize import read_zkey, read_zkey_mpc_params, write_r1cs

if not backend.fast_available():
    pytest.skip("the numba kernels are not active", allow_module_level=True)

from zkmargin.circuits.std._testing import ChainCircuit as Chain  # noqa: E402
from zkmargin.prover import ceremony  # noqa: E402
from zkmargin.serialize.ptau_file import write_ptau  # noqa: E402

EXAMPLES = Path(__file__).parents[2] / "examples"


def _zk(*args: object, code: int = 0):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == code, f"exit {r.exit_code}: {r.output}"
    return r


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_ceremony")
    write_ptau(d / "p.ptau", 6, ceremony._toy_ptau_sections(6, 0xABCDEF123, 3, 5))
    write_r1cs(compile(Chain(n=40)), d / "c.r1cs")
    write_r1cs(compile(Chain(n=41)), d / "other.r1cs")
    return d


def test_help_has_examples():
    for cmd in (["ptau", "prepare"], ["zkey", "contribute"], ["zkey", "beacon"], ["zkey", "verify"],
                ["zkey", "export", "vk"]):
        assert "Example" in _zk(*cmd, "--help").output
    assert "--ptau" in _zk("setup", "--help").output


def test_ceremony_flow(files):
    d = files
    r = _zk("ptau", "prepare", d / "p.ptau", d / "pp.ptau")
    assert "prepared" in r.output
    assert "prepared        True" in _zk("ptau", "info", d / "pp.ptau").output
    r = _zk("setup", d / "c.r1cs", "--ptau", d / "p.ptau", "--zkey", d / "k0.zkey", "--vk", d / "vk0.json")
    assert "production setup from" in r.output and "warning: development setup" not in r.output
    assert read_zkey_mpc_params(d / "k0.zkey").cs_hash != bytes(64)
    r = _zk("zkey", "contribute", d / "k0.zkey", d / "k1.zkey", "--name", "alice", "-e", "x")
    assert "contribution #1 alice hash:" in r.output
    r = _zk("zkey", "beacon", d / "k1.zkey", d / "k2.zkey", "ab" * 32, "10", "--name", "b")
    assert "beacon #2 b hash:" in r.output
    r = _zk("zkey", "verify", d / "c.r1cs", d / "pp.ptau", d / "k2.zkey")
    assert "ZKey OK: 2 contribution(s)" in r.output
    _zk("zkey", "export", "vk", d / "k2.zkey", d / "vk.json")
    assert json.loads((d / "vk.json").read_text())["nPublic"] == 2
    assert read_zkey(d / "k2.zkey").vk.delta_g2 != read_zkey(d / "k0.zkey").vk.delta_g2
    # invalid: another circuit, exit 1 with the reason
    r = _zk("zkey", "verify", d / "other.r1cs", d / "pp.ptau", d / "k2.zkey", code=1)
    assert "INVALID: different circuit parameters" in r.output


def test_refusals(files):
    d = files
    _zk("setup", d / "c.r1cs", "--ptau", d / "p.ptau", "--zkey", d / "r0.zkey", "--vk", d / "r0.json")
    before = (d / "r0.zkey").read_bytes()
    r = _zk("zkey", "contribute", d / "r0.zkey", d / "r0.zkey", code=2)
    assert "overwrite an input" in r.output
    _zk("zkey", "contribute", d / "r0.zkey", d / "r1.zkey")
    r = _zk("zkey", "contribute", d / "r0.zkey", d / "r1.zkey", code=2)
    assert "refusing to overwrite" in r.output
    assert (d / "r0.zkey").read_bytes() == before
    r = _zk("zkey", "beacon", d / "r0.zkey", d / "rb.zkey", "xyz", "10", code=2)
    assert "not a hexadecimal" in r.output
    r = _zk("zkey", "beacon", d / "r0.zkey", d / "rb.zkey", "abcd", "5", code=2)
    assert "outside 10..63" in r.output
    # a circuit too big for the ptau: setup refuses (2), verify calls the key invalid (1)
    write_r1cs(compile(Chain(n=70)), d / "big.r1cs")
    r = _zk("setup", d / "big.r1cs", "--ptau", d / "p.ptau", "--zkey", d / "big.zkey", "--vk", d / "big.json", code=2)
    assert "power 6" in r.output
    # a malformed zkey is named
    (d / "junk.zkey").write_bytes(b"zkey" + bytes(20))
    r = _zk("zkey", "contribute", d / "junk.zkey", d / "junk1.zkey", code=2)
    assert "junk.zkey" in r.output


def test_compile_model_file(tmp_path):
    r = _zk("compile", EXAMPLES / "cross" / "model.json", "-o", tmp_path / "cross.r1cs")
    assert "constraints" in r.output and (tmp_path / "cross.r1cs").stat().st_size > 0
    r = _zk("compile", EXAMPLES / "cross" / "model.json", "-p", "n=1", "-o", tmp_path / "x.r1cs", code=2)
    assert "does not apply to a model file" in r.output
