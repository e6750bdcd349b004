"""The numba prover and snarkjs 0.7.6 on each other's keys and proofs.

- our setup + our fast prover at >= 2^12 constraints: snarkjs groth16 verify accepts;
- snarkjs groth16 prove with a .zkey written by our setup: our verifier accepts its proof;
- snarkjs groth16 setup (from a powers-of-tau file it made) on our .r1cs: our fast prover proves
  with that .zkey and snarkjs verifies with the verification key it exports.
"""

from __future__ import annotations

import random
import warnings

import pytest

from zkmargin.circuits import build, compile
from zkmargin.circuits.std._testing import ChainCircuit as Chain
from zkmargin.circuits.std._testing import chain_values as _chain_values
from zkmargin.prover import DevelopmentSetupWarning, backend, prove, setup
from zkmargin.serialize import (
    load_proof,
    load_public_inputs,
    load_verifying_key,
    read_zkey,
    write_proof,
    write_public_inputs,
    write_r1cs,
    write_verifying_key,
    write_wtns,
    write_zkey,
)
from zkmargin.verifier import verify

# slow: heavy by nature (snarkjs setup and proving in node on a 2^10 key: ~45 s of the default run under load);
# the full run (scripts/test.sh, CI) keeps it
pytestmark = [pytest.mark.node, pytest.mark.slow]

if not backend.fast_available():
    pytest.skip("the numba prover is not active", allow_module_level=True)


def _ok(p):
    assert p.returncode == 0, p.stdout + p.stderr
    return p


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    d = tmp_path_factory.mktemp("fast_big")
    n = 4200  # 4,201 constraints + 3 public rows: a 2^13 domain
    cs = compile(Chain(n=n))
    assert cs.n_constraints >= 1 << 12
    _, w = build(Chain(n=n, **_chain_values(n)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentSetupWarning)
        pk, vk = setup(cs)
    assert pk.domain_size == 1 << 13
    write_r1cs(cs, d / "c.r1cs")
    write_wtns(w, d / "c.wtns")
    write_zkey(pk, d / "c.zkey")
    write_verifying_key(vk, d / "vk.json")
    return d, cs, w, pk, vk


def test_fast_proof_at_2_13_verified_by_snarkjs(big, snarkjs):
    d, cs, w, pk, vk = big
    proof, public = prove(pk, w, cs)
    assert verify(vk, public, proof)
    write_proof(proof, d / "proof.json")
    write_public_inputs(public, d / "public.json")
    p = snarkjs("groth16", "verify", d / "vk.json", d / "public.json", d / "proof.json")
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout + p.stderr


def test_snarkjs_proves_with_our_zkey(big, snarkjs):
    d, *_, vk = big
    _ok(snarkjs("groth16", "prove", d / "c.zkey", d / "c.wtns", d / "sj_proof.json", d / "sj_public.json"))
    proof = load_proof(d / "sj_proof.json")
    public = load_public_inputs(d / "sj_public.json")
    assert verify(vk, public, proof)
    assert not verify(vk, [public[0], public[1] + 1], proof)


@pytest.fixture(scope="module")
def snarkjs_key(tmp_path_factory, snarkjs):
    d = tmp_path_factory.mktemp("snarkjs_key")
    n = 40
    cs = compile(Chain(n=n))
    _, w = build(Chain(n=n, **_chain_values(n, x0=5, k=11)))
    write_r1cs(cs, d / "c.r1cs")
    write_wtns(w, d / "c.wtns")
    _ok(snarkjs("powersoftau", "new", "bn128", "7", d / "p0.ptau"))
    _ok(snarkjs("powersoftau", "contribute", d / "p0.ptau", d / "p1.ptau", "-e=zkmargin fast test", "--name=t"))
    _ok(snarkjs("powersoftau", "prepare", "phase2", d / "p1.ptau", d / "pot.ptau"))
    _ok(snarkjs("groth16", "setup", d / "c.r1cs", d / "pot.ptau", d / "k0.zkey"))
    _ok(snarkjs("zkey", "contribute", d / "k0.zkey", d / "k.zkey", "-e=delta entropy", "--name=d"))
    _ok(snarkjs("zkey", "export", "verificationkey", d / "k.zkey", d / "vk.json"))
    return d, cs, w


def test_fast_prover_with_snarkjs_zkey(snarkjs_key, snarkjs):
    d, cs, w = snarkjs_key
    pk = read_zkey(d / "k.zkey", keep_encoded=True)
    proof, public = prove(pk, w, cs, rng=random.Random(3))
    write_proof(proof, d / "proof.json")
    write_public_inputs(public, d / "public.json")
    p = snarkjs("groth16", "verify", d / "vk.json", d / "public.json", d / "proof.json")
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout + p.stderr
    assert verify(load_verifying_key(d / "vk.json"), public, proof)
