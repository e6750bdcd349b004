"""The trusted setup against snarkjs 0.7.6, both ways (provenance: snarkjs from npm, driven through
its CLI; the ptau files are made here by ``snarkjs powersoftau new bn128 K / contribute / prepare
phase2`` once per session and shared by the tests).

- ``zkmargin ptau prepare`` output is byte-identical to ``snarkjs powersoftau prepare phase2``;
- ``zkmargin setup --ptau`` writes the same .zkey as ``snarkjs groth16 setup`` (csHash included),
  from a prepared or an unprepared ptau, including at domain = 2^power;
- our contributions pass ``snarkjs zkey verify``; snarkjs's ceremony passes ``zkmargin zkey verify``;
  a mixed ceremony (snarkjs, zkmargin, snarkjs, beacon) passes both; beacons are byte-identical;
- proofs under a ceremony key verify in both; tampered keys fail ours with their reason (exit 1).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkmargin.circuits import build, compile
from zkmargin.circuits.std._testing import ChainCircuit as Chain
from zkmargin.circuits.std._testing import chain_values as _values
from zkmargin.cli import main
from zkmargin.field import R
from zkmargin.prover import backend, prove
from zkmargin.serialize import (
    load_proof,
    load_public_inputs,
    load_verifying_key,
    read_zkey,
    read_zkey_mpc_params,
    write_proof,
    write_public_inputs,
    write_r1cs,
    write_wtns,
)
from zkmargin.verifier import verify

# slow: heavy by nature (a whole snarkjs ceremony (powers of tau, phase 2, contributions, beacon) in node:
# ~160 s of the default run under load); the full run (scripts/test.sh, CI) keeps it
pytestmark = [pytest.mark.node, pytest.mark.slow]

if not backend.fast_available():
    pytest.skip("the numba kernels are not active", allow_module_level=True)

BEACON = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"


def _ok(p):
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def _zk(*args: object, code: int = 0):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == code, f"exit {r.exit_code}: {r.output}"
    return r


def _make_ptau(snarkjs, d: Path, power: int) -> tuple[Path, Path]:
    p0, p1, pp = d / f"p{power}_0.ptau", d / f"p{power}_1.ptau", d / f"p{power}_final.ptau"
    _ok(snarkjs("powersoftau", "new", "bn128", power, p0))
    _ok(snarkjs("powersoftau", "contribute", p0, p1, "--name=phase1", "-e=zkmargin ceremony test"))
    _ok(snarkjs("powersoftau", "prepare", "phase2", p1, pp, timeout=1800))
    return p1, pp


@pytest.fixture(scope="session")
def ptau10(tmp_path_factory, snarkjs):
    """(unprepared, prepared) power-10 ptau files made by snarkjs (about 20 s)."""
    return _make_ptau(snarkjs, tmp_path_factory.mktemp("ptau10"), 10)


@pytest.fixture(scope="session")
def ptau12(tmp_path_factory, snarkjs):
    """(unprepared, prepared) power-12 ptau files made by snarkjs (minutes: prepare phase2)."""
    return _make_ptau(snarkjs, tmp_path_factory.mktemp("ptau12"), 12)


@pytest.fixture(scope="module")
def circ(tmp_path_factory):
    """Chain(1018): 1,019 constraints + 3 public rows, a 2^10 domain = the ptau's full power."""
    d = tmp_path_factory.mktemp("ceremony_circuit")
    n = 1018
    cs = compile(Chain(n=n))
    _, w = build(Chain(n=n, **_values(n)))
    write_r1cs(cs, d / "c.r1cs")
    write_wtns(w, d / "c.wtns")
    small = compile(Chain(n=1000))  # another circuit with the same domain
    write_r1cs(small, d / "other.r1cs")
    return d, cs, w


def test_prepare_phase2_byte_identical(ptau10, tmp_path):
    p1, pp = ptau10
    r = _zk("ptau", "prepare", p1, tmp_path / "ours.ptau")
    assert "prepared" in r.output
    assert (tmp_path / "ours.ptau").read_bytes() == pp.read_bytes()


def test_setup_from_ptau_byte_identical(ptau10, circ, snarkjs):
    (p1, pp), (d, *_) = ptau10, circ
    _ok(snarkjs("groth16", "setup", d / "c.r1cs", pp, d / "sj_0.zkey"))
    for src, out in ((pp, "ours_0.zkey"), (p1, "ours_0u.zkey")):
        _zk("setup", d / "c.r1cs", "--ptau", src, "--zkey", d / out, "--vk", d / f"{out}.vk.json")
        assert (d / out).read_bytes() == (d / "sj_0.zkey").read_bytes(), src
    assert read_zkey_mpc_params(d / "ours_0.zkey").cs_hash != bytes(64)


def test_our_contribution_passes_snarkjs_verify(ptau10, circ, snarkjs):
    (_, pp), (d, *_) = ptau10, circ
    _zk("setup", d / "c.r1cs", "--ptau", pp, "--zkey", d / "k0.zkey", "--vk", d / "k0.json")
    r = _zk("zkey", "contribute", d / "k0.zkey", d / "k1.zkey", "--name", "zkmargin alice", "--entropy", "x")
    assert "contribution #1 zkmargin alice hash:" in r.output
    p = _ok(snarkjs("zkey", "verify", d / "c.r1cs", pp, d / "k1.zkey"))
    assert "ZKey Ok!" in p.stdout
    # snarkjs prints the same contribution hash as ours (four lines of hex groups)
    ours = " ".join(ln.strip() for ln in r.output.splitlines() if ln.startswith("\t\t"))
    theirs = " ".join(ln.strip() for ln in p.stdout.splitlines() if ln.startswith("\t\t"))
    assert len(ours) == 143 and ours in theirs


def test_snarkjs_ceremony_passes_ours(ptau10, circ, snarkjs):
    (_, pp), (d, *_) = ptau10, circ
    _ok(snarkjs("groth16", "setup", d / "c.r1cs", pp, d / "s0.zkey"))
    _ok(snarkjs("zkey", "contribute", d / "s0.zkey", d / "s1.zkey", "--name=sj one", "-e=e1"))
    _ok(snarkjs("zkey", "contribute", d / "s1.zkey", d / "s2.zkey", "--name=sj two", "-e=e2"))
    _ok(snarkjs("zkey", "beacon", d / "s2.zkey", d / "s3.zkey", BEACON, "10", "-n=final"))
    r = _zk("zkey", "verify", d / "c.r1cs", pp, d / "s3.zkey")
    assert "ZKey OK: 3 contribution(s)" in r.output and "beacon generator " + BEACON in r.output


def test_beacon_byte_identical(ptau10, circ, snarkjs):
    (_, pp), (d, *_) = ptau10, circ
    _ok(snarkjs("groth16", "setup", d / "c.r1cs", pp, d / "b0.zkey"))
    _ok(snarkjs("zkey", "contribute", d / "b0.zkey", d / "b1.zkey", "--name=sj", "-e=e"))
    _ok(snarkjs("zkey", "beacon", d / "b1.zkey", d / "b2_sj.zkey", BEACON, "11", "-n=beacon"))
    _zk("zkey", "beacon", d / "b1.zkey", d / "b2_ours.zkey", BEACON, "11", "--name", "beacon")
    assert (d / "b2_ours.zkey").read_bytes() == (d / "b2_sj.zkey").read_bytes()


@pytest.fixture(scope="module")
def mixed(ptau10, circ, snarkjs):
    """snarkjs setup -> snarkjs contribute -> zkmargin contribute -> snarkjs contribute -> zkmargin beacon."""
    (_, pp), (d, *_) = ptau10, circ
    _ok(snarkjs("groth16", "setup", d / "c.r1cs", pp, d / "m0.zkey"))
    _ok(snarkjs("zkey", "contribute", d / "m0.zkey", d / "m1.zkey", "--name=sj first", "-e=one"))
    _zk("zkey", "contribute", d / "m1.zkey", d / "m2.zkey", "--name", "zkmargin second", "--entropy", "two")
    _ok(snarkjs("zkey", "contribute", d / "m2.zkey", d / "m3.zkey", "--name=sj third", "-e=three"))
    _zk("zkey", "beacon", d / "m3.zkey", d / "m4.zkey", BEACON, "10", "--name", "beacon")
    return d, pp


def test_mixed_ceremony_verifies_in_both(mixed, circ, snarkjs):
    d, pp = mixed
    p = _ok(snarkjs("zkey", "verify", d / "c.r1cs", pp, d / "m4.zkey"))
    assert "ZKey Ok!" in p.stdout
    r = _zk("zkey", "verify", d / "c.r1cs", pp, d / "m4.zkey")
    assert "ZKey OK: 4 contribution(s)" in r.output
    for name in ("sj first", "zkmargin second", "sj third", "beacon"):
        assert name in r.output


def test_proofs_under_ceremony_key_verify_in_both(mixed, circ, snarkjs):
    d, _ = mixed
    _, cs, w = circ
    _zk("zkey", "export", "vk", d / "m4.zkey", d / "m4_vk.json")
    _ok(snarkjs("zkey", "export", "verificationkey", d / "m4.zkey", d / "m4_vk_sj.json"))
    ours, theirs = json.loads((d / "m4_vk.json").read_text()), json.loads((d / "m4_vk_sj.json").read_text())
    for k in ("protocol", "curve", "nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC"):
        assert ours[k] == theirs[k], k
    # our prover -> snarkjs verifies (with its own export of the key)
    pk = read_zkey(d / "m4.zkey", keep_encoded=True)
    proof, public = prove(pk, w, cs, rng=random.Random(11))
    write_proof(proof, d / "proof.json")
    write_public_inputs(public, d / "public.json")
    p = snarkjs("groth16", "verify", d / "m4_vk_sj.json", d / "public.json", d / "proof.json")
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout + p.stderr
    # snarkjs's prover -> our verifier
    _ok(snarkjs("groth16", "prove", d / "m4.zkey", d / "c.wtns", d / "sj_proof.json", d / "sj_public.json"))
    vk = load_verifying_key(d / "m4_vk.json")
    sj_public = load_public_inputs(d / "sj_public.json")
    assert verify(vk, sj_public, load_proof(d / "sj_proof.json"))
    assert not verify(vk, [sj_public[0] + 1, sj_public[1]], load_proof(d / "sj_proof.json"))


def _tamper(src: Path, dst: Path, **changes) -> None:
    from dataclasses import replace

    from zkmargin.serialize import write_zkey
    from zkmargin.serialize.zkey_file import CONTRIBUTE_SECTION_ORDER

    pk = read_zkey(src, keep_encoded=True)
    mpc = changes.pop("mpc", read_zkey_mpc_params(src))
    vk_ch = {k: changes.pop(k) for k in list(changes) if k == "delta_g2"}
    write_zkey(replace(pk, vk=replace(pk.vk, **vk_ch), **changes), dst, mpc=mpc,
               section_order=CONTRIBUTE_SECTION_ORDER)


def test_tampered_keys_fail_ours_with_reason(mixed, circ):
    from dataclasses import replace

    from zkmargin import curve
    from zkmargin.serialize.zkey_file import ZkeyMpcParams, decode_contribution

    d, pp = mixed
    k = 31337
    g1k, g2k = curve.g1_mul(curve.G1_GENERATOR, k), curve.g2_mul(curve.G2_GENERATOR, k)
    _tamper(d / "m4.zkey", d / "t_delta.zkey", delta_g1=g1k, delta_g2=g2k)
    r = _zk("zkey", "verify", d / "c.r1cs", pp, d / "t_delta.zkey", code=1)
    assert "INVALID: invalid delta_g1" in r.output
    mpc = read_zkey_mpc_params(d / "m4.zkey")
    c2 = decode_contribution(mpc.contributions[1])
    forged = ZkeyMpcParams(mpc.cs_hash, (mpc.contributions[0], replace(c2, delta_after=g1k).encode(),
                                         *mpc.contributions[2:]))
    _tamper(d / "m4.zkey", d / "t_forged.zkey", mpc=forged)
    r = _zk("zkey", "verify", d / "c.r1cs", pp, d / "t_forged.zkey", code=1)
    assert "INVALID: contribution #2: deltaAfter does not follow" in r.output
    r = _zk("zkey", "verify", d / "other.r1cs", pp, d / "m4.zkey", code=1)
    assert "INVALID: different circuit parameters" in r.output


def test_contribute_refuses_to_overwrite(mixed):
    d, _ = mixed
    before = (d / "m3.zkey").read_bytes()
    r = _zk("zkey", "contribute", d / "m2.zkey", d / "m3.zkey", code=2)
    assert "refusing to overwrite" in r.output
    r = _zk("zkey", "contribute", d / "m3.zkey", d / "m3.zkey", "--force", code=2)
    assert "overwrite an input" in r.output
    assert (d / "m3.zkey").read_bytes() == before


@pytest.mark.slow
def test_prepare_and_model_ceremony_at_2_12(ptau12, snarkjs, tmp_path):
    """A margin model compiled from its file (2^12 domain) through the whole flow at power 12."""
    p1, pp = ptau12
    _zk("ptau", "prepare", p1, tmp_path / "ours.ptau")
    assert (tmp_path / "ours.ptau").read_bytes() == pp.read_bytes()
    model = Path(__file__).parents[2] / "examples" / "cross" / "model.json"
    _zk("compile", model, "-o", tmp_path / "cross.r1cs")
    _ok(snarkjs("groth16", "setup", tmp_path / "cross.r1cs", pp, tmp_path / "sj0.zkey"))
    _zk("setup", model, "--ptau", p1, "--zkey", tmp_path / "z0.zkey", "--vk", tmp_path / "vk0.json")
    assert (tmp_path / "z0.zkey").read_bytes() == (tmp_path / "sj0.zkey").read_bytes()
    _zk("zkey", "contribute", tmp_path / "z0.zkey", tmp_path / "z1.zkey", "--name", "venue")
    _ok(snarkjs("zkey", "contribute", tmp_path / "z1.zkey", tmp_path / "z2.zkey", "--name=auditor", "-e=a"))
    _zk("zkey", "beacon", tmp_path / "z2.zkey", tmp_path / "z3.zkey", BEACON, "10")
    assert "ZKey Ok!" in _ok(snarkjs("zkey", "verify", tmp_path / "cross.r1cs", pp, tmp_path / "z3.zkey")).stdout
    r = _zk("zkey", "verify", model, p1, tmp_path / "z3.zkey")
    assert "ZKey OK: 3 contribution(s)" in r.output


def _toy_prepared_ptau(path: Path, power: int, tau: int, alpha: int, beta: int) -> None:
    """A prepared ptau from known secrets: the Lagrange sections by fixed-base multiplication of
    the Lagrange basis at tau (seconds, where a group FFT at 2^16 takes minutes). Tests only."""
    from zkmargin import curve
    from zkmargin.prover import ceremony, kernels
    from zkmargin.prover.setup import lagrange_at
    from zkmargin.serialize.ptau_file import write_ptau

    secs: dict = dict(ceremony._toy_ptau_sections(power, tau, alpha, beta))
    g1, g2 = curve.G1_GENERATOR, curve.G2_GENERATOR
    n = 1 << power
    lag = {m: (lagrange_at(m, tau) if m > 1 else [1]) for m in (1 << p for p in range(power + 1))}
    secs[12] = []
    for p in range(power + 2):
        m = 1 << p
        if m <= n:
            secs[12].append(kernels.fixed_base_g1_array(g1, lag[m]).tobytes())
        else:  # the last block: from 2n - 1 powers and infinity, as snarkjs prepares it
            pw = [1] * (m - 1)
            for j in range(1, m - 1):
                pw[j] = pw[j - 1] * tau % R
            inv_m = pow(m, -1, R)
            sums = kernels.fr_from_array(kernels.ntt(kernels.fr_to_array(pw + [0])))  # sum_j pw_j w^(jk)
            scal = [sums[(-k) % m] * inv_m % R for k in range(m)]  # (1/m) sum_j pw_j w^(-jk)
            secs[12].append(kernels.fixed_base_g1_array(g1, scal).tobytes())
    secs[13] = [kernels.fixed_base_g2_array(g2, lag[1 << p]).tobytes() for p in range(power + 1)]
    secs[14] = [kernels.fixed_base_g1_array(g1, [alpha * x % R for x in lag[1 << p]]).tobytes()
                for p in range(power + 1)]
    secs[15] = [kernels.fixed_base_g1_array(g1, [beta * x % R for x in lag[1 << p]]).tobytes()
                for p in range(power + 1)]
    write_ptau(path, power, secs)


@pytest.mark.slow
def test_cs_hash_from_2_15_matches_snarkjs(snarkjs, tmp_path):
    """From domain 2^15 on snarkjs's csHash covers one more H point (its chunked hashing); a power-16
    ptau (prepared from a known tau) and a 2^15 circuit: our key is byte-identical to snarkjs's."""
    _toy_prepared_ptau(tmp_path / "p16.ptau", 16, 0xC0FFEE1234567, 5, 7)
    n = (1 << 15) - 5
    cs = compile(Chain(n=n))
    write_r1cs(cs, tmp_path / "c.r1cs")
    _ok(snarkjs("groth16", "setup", tmp_path / "c.r1cs", tmp_path / "p16.ptau", tmp_path / "sj.zkey", timeout=1800))
    _zk("setup", tmp_path / "c.r1cs", "--ptau", tmp_path / "p16.ptau", "--zkey", tmp_path / "z.zkey",
        "--vk", tmp_path / "z.json")
    assert (tmp_path / "z.zkey").read_bytes() == (tmp_path / "sj.zkey").read_bytes()
