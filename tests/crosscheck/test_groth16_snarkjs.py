"""Our proofs, keys and R1CS/witness files, checked by snarkjs 0.7.6 (the second implementation).

Provenance: snarkjs 0.7.6 from npm (tests/node/package.json), driven through its CLI:
``snarkjs groth16 verify``, ``snarkjs r1cs info``, ``snarkjs wtns check``.
"""

from __future__ import annotations

import json
import random
import warnings

import pytest

from zkmargin.circuits import Circuit, build, compile, param, public, secret
from zkmargin.circuits.std import rangecheck
from zkmargin.field import R
from zkmargin.prover import DevelopmentSetupWarning, prove, setup
from zkmargin.serialize import write_proof, write_public_inputs, write_r1cs, write_verifying_key, write_wtns
from zkmargin.verifier import verify

pytestmark = pytest.mark.node


class Solvency(Circuit):
    """sum(amount_i * price_i) >= threshold, amounts secret and 16-bit, prices and threshold public."""

    n = param(default=2)
    threshold = public()
    prices = public(shape="n")
    amounts = secret(shape="n")

    def define(self, api):
        value = api.const(0)
        for a, p in zip(self.amounts, self.prices, strict=True):
            rangecheck.assert_bits(api, a, bits=16)
            rangecheck.assert_bits(api, p, bits=16)
            value = value + a * p
        rangecheck.assert_bits(api, value - self.threshold, bits=40)


VALUES = dict(threshold=1000, prices=[7, 11], amounts=[100, 50])  # 700 + 550 = 1250 >= 1000


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    d = tmp_path_factory.mktemp("snarkjs")
    cs = compile(Solvency())
    _, witness = build(Solvency(**VALUES))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentSetupWarning)
        pk, vk = setup(cs, rng=random.Random(5))
    proof, public = prove(pk, witness, cs)
    assert public == [1000, 7, 11]
    write_r1cs(cs, d / "c.r1cs")
    write_wtns(witness, d / "c.wtns")
    write_verifying_key(vk, d / "vk.json")
    write_proof(proof, d / "proof.json")
    write_public_inputs(public, d / "public.json")
    return d, cs, witness, vk, proof, public


def test_snarkjs_accepts_our_proof(artifacts, snarkjs):
    d, _, _, vk, proof, public = artifacts
    assert verify(vk, public, proof)
    p = snarkjs("groth16", "verify", d / "vk.json", d / "public.json", d / "proof.json")
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout + p.stderr


@pytest.mark.parametrize("index", [0, 1, 2])
def test_snarkjs_rejects_changed_public_input(artifacts, snarkjs, index):
    d, _, _, vk, proof, public = artifacts
    changed = list(public)
    changed[index] = (changed[index] + 1) % R
    path = d / f"public_changed_{index}.json"
    path.write_text(json.dumps([str(v) for v in changed]))
    p = snarkjs("groth16", "verify", d / "vk.json", path, d / "proof.json")
    assert p.returncode != 0 and "Invalid proof" in p.stdout, p.stdout + p.stderr
    assert not verify(vk, changed, proof)


def test_snarkjs_reads_our_r1cs(artifacts, snarkjs):
    d, cs, *_ = artifacts
    p = snarkjs("r1cs", "info", d / "c.r1cs")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert f"# of Wires: {cs.n_wires}" in out
    assert f"# of Constraints: {cs.n_constraints}" in out
    assert f"# of Public Inputs: {cs.n_public}" in out
    assert f"# of Private Inputs: {cs.n_private}" in out


def test_snarkjs_wtns_check_accepts_ours_and_rejects_tampered(artifacts, snarkjs):
    d, cs, witness, *_ = artifacts
    p = snarkjs("wtns", "check", d / "c.r1cs", d / "c.wtns")
    assert p.returncode == 0 and "WITNESS IS CORRECT" in p.stdout, p.stdout + p.stderr
    bad = list(witness)
    bad[cs.wire_index("amounts[0]")] += 1
    write_wtns(bad, d / "bad.wtns")
    p = snarkjs("wtns", "check", d / "c.r1cs", d / "bad.wtns")
    assert "WITNESS IS CORRECT" not in p.stdout
