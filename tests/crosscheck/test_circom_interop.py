"""circom interop, both ways, on a circuit compiled by the real circom compiler.

Provenance: circom 2 from npm (``circom2`` 0.2.23, the circom compiler built to WebAssembly; it
reports "circom compiler 2.2.3"), snarkjs 0.7.6, both pinned in tests/node/package.json. The
circuit below was written for this test (products, a sum, bit decompositions for range checks, a
public output); no circomlib template is used.

circom -> zkmargin: circom compiles it to ``.r1cs`` + wasm; snarkjs computes the witness with the
wasm (``wtns calculate``); we read circom's ``.r1cs``/``.sym``/``.wtns``, prove with our prover on a
key from ``snarkjs groth16 setup``, and both verifiers accept the proof; snarkjs's own proof of the
same witness verifies with ours; ``zkmargin prove --witness W --zkey K`` (the README's "a circom
witness with a snarkjs key") works on these files; a tampered circom witness is refused.

zkmargin -> circom tools: the circom system and witness written back by our writers are accepted by
snarkjs against circom's own files (``wtns check`` both ways, ``r1cs export json`` equal).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from zkmargin.errors import UnsatisfiedConstraintError
from zkmargin.field import R
from zkmargin.prover import prove
from zkmargin.serialize import (
    load_proof,
    load_public_inputs,
    load_verifying_key,
    read_r1cs,
    read_wtns,
    read_zkey,
    write_proof,
    write_public_inputs,
    write_r1cs,
    write_wtns,
)
from zkmargin.verifier import verify

# slow: heavy by nature (circom (wasm) compiles and snarkjs runs in node: ~60 s of the default run under load);
# the full run (scripts/test.sh, CI) keeps it
pytestmark = [pytest.mark.node, pytest.mark.slow]

CIRCUIT = """\
pragma circom 2.0.0;

// zkmargin interop test: sum(amount_i * price_i) = value >= threshold, amounts below 2^16.
// Written for this test (no circomlib): bit decompositions constrain the ranges.

template Bits(n) {
    signal input in;
    signal bit[n];
    var acc = 0;
    var weight = 1;
    for (var i = 0; i < n; i++) {
        bit[i] <-- (in >> i) & 1;
        bit[i] * (bit[i] - 1) === 0;
        acc += bit[i] * weight;
        weight *= 2;
    }
    acc === in;
}

template Solvency(n) {
    signal input threshold;
    signal input prices[n];
    signal input amounts[n];
    signal output value;

    signal terms[n];
    component amountRange[n];
    var sum = 0;
    for (var i = 0; i < n; i++) {
        amountRange[i] = Bits(16);
        amountRange[i].in <== amounts[i];
        terms[i] <== amounts[i] * prices[i];
        sum += terms[i];
    }
    value <== sum;
    signal square;
    square <== value * value;  // an unused product: a wire only the witness generator fills
    component surplus = Bits(40);
    surplus.in <== value - threshold;
}

component main {public [threshold, prices]} = Solvency(2);
"""

INPUT = {"threshold": "1000", "prices": ["7", "11"], "amounts": ["100", "50"]}  # 700 + 550 = 1250
PUBLIC = [1250, 1000, 7, 11]  # circom's order: public outputs, then public inputs
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _ok(p: subprocess.CompletedProcess, what: str) -> str:
    out = _ANSI.sub("", p.stdout + p.stderr)
    assert p.returncode == 0, f"{what} failed ({p.returncode}): {out[-3000:]}"
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, circom: Any, snarkjs: Any) -> dict[str, Path]:
    """circom's .r1cs/.sym/wasm and witness, and a snarkjs Groth16 key for it."""
    d = tmp_path_factory.mktemp("circom")
    (d / "solvency.circom").write_text(CIRCUIT)
    version = _ok(circom("--version"), "circom --version")
    assert "circom compiler 2." in version, version
    _ok(circom("solvency.circom", "--r1cs", "--wasm", "--sym", "-o", ".", cwd=d), "circom")
    (d / "input.json").write_text(json.dumps(INPUT))
    _ok(snarkjs("wtns", "calculate", d / "solvency_js" / "solvency.wasm", d / "input.json", d / "solvency.wtns"),
        "snarkjs wtns calculate")
    _ok(snarkjs("powersoftau", "new", "bn128", "8", d / "p0.ptau"), "powersoftau new")
    _ok(snarkjs("powersoftau", "contribute", d / "p0.ptau", d / "p1.ptau", "-e=zkmargin circom test", "--name=t"),
        "powersoftau contribute")
    _ok(snarkjs("powersoftau", "prepare", "phase2", d / "p1.ptau", d / "pot.ptau"), "prepare phase2")
    _ok(snarkjs("groth16", "setup", d / "solvency.r1cs", d / "pot.ptau", d / "solvency.zkey"), "groth16 setup")
    _ok(snarkjs("zkey", "export", "verificationkey", d / "solvency.zkey", d / "vk.json"), "export vk")
    return {
        "dir": d, "r1cs": d / "solvency.r1cs", "sym": d / "solvency.sym", "wtns": d / "solvency.wtns",
        "zkey": d / "solvency.zkey", "vk": d / "vk.json",
    }


def test_we_read_circoms_r1cs_sym_and_witness(built: dict[str, Path]) -> None:
    cs = read_r1cs(built["r1cs"], sym=built["sym"])
    witness = read_wtns(built["wtns"])
    assert cs.n_public == 4 and len(witness) == cs.n_wires
    assert cs.first_unsatisfied(witness) is None
    assert witness[: 1 + cs.n_public] == [1, *PUBLIC]
    names = {name: witness[i] for i, name in enumerate(cs.wire_names)}
    assert names["main.value"] == 1250 and names["main.amounts[1]"] == 50 and names["main.square"] == 1250**2
    # 2 * 16 + 40 bits, each with its boolean constraint, and the products
    assert cs.n_constraints >= 2 * 16 + 40 + 3


def test_our_proof_of_a_circom_witness_verifies_in_snarkjs_and_ours(built: dict[str, Path], snarkjs: Any) -> None:
    cs = read_r1cs(built["r1cs"])
    pk = read_zkey(built["zkey"])
    proof, public = prove(pk, read_wtns(built["wtns"]), cs)
    assert public == PUBLIC
    d = built["dir"]
    write_proof(proof, d / "ours.proof.json")
    write_public_inputs(public, d / "ours.public.json")
    out = _ok(snarkjs("groth16", "verify", built["vk"], d / "ours.public.json", d / "ours.proof.json"), "verify")
    assert "OK" in out
    vk = load_verifying_key(built["vk"])
    assert verify(vk, public, proof)
    wrong = [PUBLIC[0] + 1, *PUBLIC[1:]]
    (d / "wrong.public.json").write_text(json.dumps([str(v) for v in wrong]))
    p = snarkjs("groth16", "verify", built["vk"], d / "wrong.public.json", d / "ours.proof.json")
    assert p.returncode != 0 and "Invalid proof" in _ANSI.sub("", p.stdout)
    assert not verify(vk, wrong, proof)


def test_snarkjs_proof_of_the_circom_circuit_verifies_with_ours(built: dict[str, Path], snarkjs: Any) -> None:
    d = built["dir"]
    _ok(snarkjs("groth16", "prove", built["zkey"], built["wtns"], d / "sj.proof.json", d / "sj.public.json"),
        "snarkjs groth16 prove")
    public = load_public_inputs(d / "sj.public.json")
    assert public == PUBLIC
    vk = load_verifying_key(built["vk"])
    proof = load_proof(d / "sj.proof.json")
    assert verify(vk, public, proof)
    assert not verify(vk, [*PUBLIC[:3], (PUBLIC[3] + 1) % R], proof)


def test_cli_proves_a_circom_witness_with_a_snarkjs_key(built: dict[str, Path], snarkjs: Any) -> None:
    """README: ``zkmargin prove --witness x.wtns --zkey K.zkey``, e.g. a circom witness with a snarkjs key."""
    d = built["dir"]
    p = subprocess.run(
        [sys.executable, "-c", "from zkmargin.cli import main; main()", "prove", "--witness", str(built["wtns"]),
         "--zkey", str(built["zkey"]), "--proof", str(d / "cli.proof.json"), "--public", str(d / "cli.public.json")],
        capture_output=True, text=True, timeout=600,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert load_public_inputs(d / "cli.public.json") == PUBLIC
    out = _ok(snarkjs("groth16", "verify", built["vk"], d / "cli.public.json", d / "cli.proof.json"), "verify")
    assert "OK" in out


def test_a_tampered_circom_witness_is_refused_by_both(built: dict[str, Path], snarkjs: Any) -> None:
    cs = read_r1cs(built["r1cs"], sym=built["sym"])
    witness = read_wtns(built["wtns"])
    bad = list(witness)
    bad[cs.wire_names.index("main.amounts[0]")] += 1  # the products and the sum no longer hold
    write_wtns(bad, built["dir"] / "bad.wtns")
    p = snarkjs("wtns", "check", built["r1cs"], built["dir"] / "bad.wtns")
    assert "WITNESS IS CORRECT" not in _ANSI.sub("", p.stdout)
    assert cs.first_unsatisfied(bad) is not None
    with pytest.raises(UnsatisfiedConstraintError):
        prove(read_zkey(built["zkey"]), bad, cs)


def test_our_writers_round_trip_circoms_files_for_snarkjs(built: dict[str, Path], snarkjs: Any) -> None:
    """Our .r1cs and .wtns writers, on circom's system and witness, give files snarkjs accepts
    against circom's originals: same constraints, and each witness checks against the other r1cs."""
    d = built["dir"]
    cs = read_r1cs(built["r1cs"], sym=built["sym"])
    write_r1cs(cs, d / "ours.r1cs")
    write_wtns(read_wtns(built["wtns"]), d / "ours.wtns")
    _ok(snarkjs("r1cs", "export", "json", built["r1cs"], d / "circom.r1cs.json"), "r1cs export (circom)")
    _ok(snarkjs("r1cs", "export", "json", d / "ours.r1cs", d / "ours.r1cs.json"), "r1cs export (ours)")
    theirs, ours = (json.loads((d / f).read_text()) for f in ("circom.r1cs.json", "ours.r1cs.json"))
    for key in ("n8", "prime", "nVars", "nConstraints", "constraints"):
        assert ours[key] == theirs[key], key
    # The header's split of the public wires (outputs, inputs) and of the private ones (inputs,
    # intermediates) is not kept: a ConstraintSystem has only n_public, and our writer counts
    # every public wire as an input and every private wire as a private input. Proving and
    # verifying depend on the total public count only, which round-trips.
    assert ours["nOutputs"] + ours["nPubInputs"] == theirs["nOutputs"] + theirs["nPubInputs"] == len(PUBLIC)
    assert (theirs["nOutputs"], theirs["nPubInputs"], theirs["nPrvInputs"]) == (1, 3, 2)
    assert ours["nPrvInputs"] == ours["nVars"] - 1 - len(PUBLIC)
    for r1cs, wtns in ((built["r1cs"], d / "ours.wtns"), (d / "ours.r1cs", built["wtns"])):
        out = _ok(snarkjs("wtns", "check", r1cs, wtns), f"wtns check {r1cs.name} {wtns.name}")
        assert "WITNESS IS CORRECT" in out
