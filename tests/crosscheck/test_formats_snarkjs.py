"""Our .r1cs/.wtns/.zkey and JSON files against snarkjs 0.7.6 (tests/node/node_modules).

Everything here runs the real snarkjs CLI: it reads what we write and we read what it writes.
The circuit is built by hand; the powers of tau (2^5) is made fresh per session with
``powersoftau new`` + one ``contribute`` (so tau is not 1) + ``prepare phase2``.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from zkmargin.curve import (
    G1_GENERATOR,
    G2_GENERATOR,
    g1_is_on_curve,
    g1_neg,
    g2_in_subgroup,
    g2_is_on_curve,
    pairing_product_is_one,
)
from zkmargin.field import R
from zkmargin.groth16 import ProvingKey
from zkmargin.r1cs import ConstraintSystem
from zkmargin.serialize import (
    CONTRIBUTE_SECTION_ORDER,
    SETUP_SECTION_ORDER,
    dump_proof,
    dump_verifying_key,
    load_proof,
    load_public_inputs,
    read_r1cs,
    read_r1cs_header,
    read_r1cs_wire_map,
    read_zkey,
    read_zkey_mpc_params,
    write_proof,
    write_public_inputs,
    write_r1cs,
    write_sym,
    write_verifying_key,
    write_wtns,
    write_zkey,
)

# slow: heavy by nature (snarkjs r1cs/zkey commands in node: ~60 s of the default run under load);
# the full run (scripts/test.sh, CI) keeps it
pytestmark = [pytest.mark.node, pytest.mark.slow]

Runner = Callable[..., subprocess.CompletedProcess]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _ok(p: subprocess.CompletedProcess) -> str:
    out = _ANSI.sub("", p.stdout + p.stderr)
    assert p.returncode == 0, f"snarkjs failed ({p.returncode}): {out[-2000:]}"
    return out


def _circuit() -> tuple[ConstraintSystem, list[int]]:
    """Wires [one, out, pub2, a, b, c, d, e]: a*b = out, (a + 2b)*pub2 = c, (c - 5)*1 = d, 0*0 = e - 7.

    d and e never appear in A or B (their A/B1/B2 points are infinity); the last constraint has
    empty A and B.
    """
    cs = ConstraintSystem(
        n_wires=8,
        n_public=2,
        constraints=[
            ({3: 1}, {4: 1}, {1: 1}),
            ({3: 1, 4: 2}, {2: 1}, {5: 1}),
            ({5: 1, 0: R - 5}, {0: 1}, {6: 1}),
            ({}, {}, {7: 1, 0: R - 7}),
        ],
        labels=["mul", "lin", "sub", "const"],
        wire_names=["one", "main.out", "main.pub2", "main.a", "main.b", "main.c", "main.d", "main.e"],
    )
    witness = [1, 12, 10, 3, 4, 110, 105, 7]
    cs.check(witness)
    return cs, witness


@dataclass
class Files:
    cs: ConstraintSystem
    witness: list[int]
    dir: Path
    r1cs: Path
    wtns: Path
    sym: Path
    setup_zkey: Path  # snarkjs groth16 setup
    zkey: Path  # after one snarkjs zkey contribute
    vk_json: Path  # snarkjs zkey export verificationkey (contributed key)
    proof: Path  # snarkjs groth16 prove (contributed key)
    public: Path


@pytest.fixture(scope="session")
def files(snarkjs: Runner, tmp_path_factory: pytest.TempPathFactory) -> Files:
    d = tmp_path_factory.mktemp("snarkjs_formats")
    cs, witness = _circuit()
    f = Files(cs, witness, d, d / "c.r1cs", d / "c.wtns", d / "c.sym", d / "setup.zkey", d / "c.zkey",
              d / "vk.json", d / "proof.json", d / "public.json")
    write_r1cs(cs, f.r1cs)
    write_wtns(witness, f.wtns)
    write_sym(cs, f.sym)
    _ok(snarkjs("powersoftau", "new", "bn128", "5", d / "p0.ptau"))
    _ok(snarkjs("powersoftau", "contribute", d / "p0.ptau", d / "p1.ptau", "-e=zkmargin test", "--name=t"))
    _ok(snarkjs("powersoftau", "prepare", "phase2", d / "p1.ptau", d / "pot.ptau"))
    _ok(snarkjs("groth16", "setup", f.r1cs, d / "pot.ptau", f.setup_zkey))
    _ok(snarkjs("zkey", "contribute", f.setup_zkey, f.zkey, "-e=more entropy", "--name=c1"))
    _ok(snarkjs("zkey", "export", "verificationkey", f.zkey, f.vk_json))
    _ok(snarkjs("groth16", "prove", f.zkey, f.wtns, f.proof, f.public))
    for p in (f.setup_zkey, f.zkey, f.vk_json, f.proof, f.public):
        assert p.exists(), p
    return f


def _json(p: Path) -> Any:
    return json.loads(p.read_text())


def _verify(snarkjs: Runner, vk: Path, public: Path, proof: Path) -> bool:
    p = snarkjs("groth16", "verify", vk, public, proof)
    out = _ANSI.sub("", p.stdout + p.stderr)
    assert p.returncode in (0, 1), out
    assert ("OK!" in out) == (p.returncode == 0), out
    return p.returncode == 0


# --- .r1cs -------------------------------------------------------------------------------------

def test_r1cs_info_reports_our_counts(snarkjs: Runner, files: Files) -> None:
    out = _ok(snarkjs("r1cs", "info", files.r1cs))
    got = dict(re.findall(r"# of ([A-Za-z ]+): (\d+)", out))
    assert got == {"Wires": "8", "Constraints": "4", "Private Inputs": "5", "Public Inputs": "2",
                   "Labels": "8", "Outputs": "0"}
    assert "Curve: bn-128" in out


def test_r1cs_export_json_matches_every_coefficient(snarkjs: Runner, files: Files) -> None:
    _ok(snarkjs("r1cs", "export", "json", files.r1cs, files.dir / "r1cs.json"))
    d = _json(files.dir / "r1cs.json")
    assert (d["n8"], d["prime"], d["nVars"], d["nOutputs"], d["nPubInputs"], d["nPrvInputs"]) == (
        32, str(R), 8, 0, 2, 5)
    assert (d["nLabels"], d["nConstraints"], d["map"]) == (8, 4, list(range(8)))
    want = [[{str(w): str(c) for w, c in lc.items()} for lc in con] for con in files.cs.constraints]
    assert d["constraints"] == want


def test_r1cs_print_uses_our_sym_names(snarkjs: Runner, files: Files) -> None:
    out = _ok(snarkjs("r1cs", "print", files.r1cs, files.sym))
    assert "[ main.a ] * [ main.b ] - [ main.out ] = 0" in out
    assert "[ main.a +2main.b ] * [ main.pub2 ] - [ main.c ] = 0" in out


def test_read_r1cs_from_iden3_r1csfile_with_outputs(node_eval: Callable[..., Any], tmp_path: Path) -> None:
    # iden3 r1csfile 0.0.48's writer (the one circom-compatible tools use), with nOutputs = 1.
    path = tmp_path / "out.r1cs"
    js = """
        const r = require("r1csfile"); const {F1Field} = require("ffjavascript");
        const p = PRIMEn; const F = new F1Field(p);
        (async () => {
          await r.writeR1cs(PATH, {n8: 32, prime: p, nVars: 5, nOutputs: 1, nPubInputs: 1, nPrvInputs: 1,
            nLabels: 9, F: F, map: [0, 1, 2, 5, 8],
            constraints: [[{2: F.e(1)}, {3: F.e(1)}, {1: F.e(1)}],
                          [{3: F.e(-1n), 0: F.e(7)}, {0: F.e(1)}, {4: F.e(1)}]]});
          console.log("true");
        })();
    """
    node_eval(js.replace("PRIME", str(R)).replace("PATH", json.dumps(str(path))))
    cs = read_r1cs(path)
    assert (cs.n_wires, cs.n_public) == (5, 2)
    assert cs.constraints == [({2: 1}, {3: 1}, {1: 1}), ({0: 7, 3: R - 1}, {0: 1}, {4: 1})]
    h = read_r1cs_header(path)
    assert (h.n_pub_out, h.n_pub_in, h.n_prv_in, h.n_labels) == (1, 1, 1, 9)
    assert read_r1cs_wire_map(path) == [0, 1, 2, 5, 8]


# --- .wtns -------------------------------------------------------------------------------------

def test_wtns_check_accepts_our_witness(snarkjs: Runner, files: Files) -> None:
    out = _ok(snarkjs("wtns", "check", files.r1cs, files.wtns))
    assert "WITNESS IS CORRECT" in out


def test_wtns_check_rejects_tampered_witness(snarkjs: Runner, files: Files, tmp_path: Path) -> None:
    bad = list(files.witness)
    bad[5] += 1  # c
    write_wtns(bad, tmp_path / "bad.wtns")
    p = snarkjs("wtns", "check", files.r1cs, tmp_path / "bad.wtns")
    assert p.returncode != 0
    assert "WITNESS IS NOT CORRECT" in _ANSI.sub("", p.stdout + p.stderr)


def test_wtns_export_json_reads_our_values(snarkjs: Runner, files: Files, tmp_path: Path) -> None:
    values = [1, R - 1, 0, 2**253 + 12345]
    write_wtns(values, tmp_path / "v.wtns")
    _ok(snarkjs("wtns", "export", "json", tmp_path / "v.wtns", tmp_path / "v.json"))
    assert _json(tmp_path / "v.json") == [str(v) for v in values]


# --- .zkey -------------------------------------------------------------------------------------

def test_zkey_round_trip_is_byte_identical(files: Files, tmp_path: Path) -> None:
    for src, order in ((files.setup_zkey, SETUP_SECTION_ORDER), (files.zkey, CONTRIBUTE_SECTION_ORDER)):
        pk, mpc = read_zkey(src), read_zkey_mpc_params(src)
        out = tmp_path / f"rt_{src.name}"
        write_zkey(pk, out, mpc=mpc, section_order=order)
        assert out.read_bytes() == src.read_bytes(), src.name
    assert len(read_zkey_mpc_params(files.setup_zkey).contributions) == 0
    assert len(read_zkey_mpc_params(files.zkey).contributions) == 1


def _obj_g1(p: Any) -> list[str]:
    return ["0", "1", "0"] if p is None else [str(p[0]), str(p[1]), "1"]


def _obj_g2(p: Any) -> list[list[str]]:
    if p is None:
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    return [[str(p[0][0]), str(p[0][1])], [str(p[1][0]), str(p[1][1])], ["1", "0"]]


def test_zkey_reader_matches_snarkjs_export_json(snarkjs: Runner, files: Files) -> None:
    _ok(snarkjs("zkey", "export", "json", files.zkey, files.dir / "zkey.json"))
    d = _json(files.dir / "zkey.json")
    pk = read_zkey(files.zkey)
    assert (d["protocol"], d["nVars"], d["nPublic"], d["domainSize"]) == ("groth16", pk.n_wires, pk.n_public,
                                                                          pk.domain_size)
    assert d["vk_alpha_1"] == _obj_g1(pk.vk.alpha_g1)
    assert d["vk_beta_1"] == _obj_g1(pk.beta_g1)
    assert d["vk_delta_1"] == _obj_g1(pk.delta_g1)
    assert d["vk_beta_2"] == _obj_g2(pk.vk.beta_g2)
    assert d["vk_gamma_2"] == _obj_g2(pk.vk.gamma_g2)
    assert d["vk_delta_2"] == _obj_g2(pk.vk.delta_g2)
    assert d["IC"] == [_obj_g1(p) for p in pk.vk.gamma_abc_g1]
    assert d["A"] == [_obj_g1(p) for p in pk.a_query]
    assert d["B1"] == [_obj_g1(p) for p in pk.b_g1_query]
    assert d["B2"] == [_obj_g2(p) for p in pk.b_g2_query]
    assert d["C"] == [None] * (pk.n_public + 1) + [_obj_g1(p) for p in pk.l_query]
    assert d["hExps"] == [_obj_g1(p) for p in pk.h_query]
    assert [(c["matrix"], c["constraint"], c["signal"], int(c["value"])) for c in d["ccoefs"]] == pk.coeffs
    # The circuit's d and e wires never appear in A or B: infinity survives the trip.
    assert pk.a_query[6] is None and pk.b_g2_query[7] is None


def test_rewritten_zkey_exports_match_original(snarkjs: Runner, files: Files, tmp_path: Path) -> None:
    # Not byte-identical on purpose: other section order, no contributions, zero csHash.
    ours = tmp_path / "ours.zkey"
    write_zkey(read_zkey(files.zkey), ours)
    assert ours.read_bytes() != files.zkey.read_bytes()
    for what in ("verificationkey", "json"):
        _ok(snarkjs("zkey", "export", what, files.zkey, tmp_path / f"orig_{what}.json"))
        _ok(snarkjs("zkey", "export", what, ours, tmp_path / f"ours_{what}.json"))
        assert _json(tmp_path / f"ours_{what}.json") == _json(tmp_path / f"orig_{what}.json"), what


def test_snarkjs_proves_with_our_zkey(snarkjs: Runner, files: Files, tmp_path: Path) -> None:
    ours = tmp_path / "ours.zkey"
    write_zkey(read_zkey(files.zkey), ours, section_order=CONTRIBUTE_SECTION_ORDER)
    _ok(snarkjs("groth16", "prove", ours, files.wtns, tmp_path / "proof.json", tmp_path / "public.json"))
    assert _json(tmp_path / "public.json") == ["12", "10"]
    assert _verify(snarkjs, files.vk_json, tmp_path / "public.json", tmp_path / "proof.json")


# --- JSON --------------------------------------------------------------------------------------

def test_our_vk_json_equals_snarkjs_export_except_alphabeta(files: Files) -> None:
    theirs = _json(files.vk_json)
    del theirs["vk_alphabeta_12"]
    assert dump_verifying_key(read_zkey(files.zkey).vk) == theirs


def test_snarkjs_verifies_with_our_vk_json(snarkjs: Runner, files: Files, tmp_path: Path) -> None:
    write_verifying_key(read_zkey(files.zkey).vk, tmp_path / "vk.json")
    assert _verify(snarkjs, tmp_path / "vk.json", files.public, files.proof)
    write_public_inputs([13, 10], tmp_path / "bad_public.json")
    assert not _verify(snarkjs, tmp_path / "vk.json", tmp_path / "bad_public.json", files.proof)


def test_read_snarkjs_proof_and_public(snarkjs: Runner, files: Files, tmp_path: Path) -> None:
    proof = load_proof(files.proof)
    assert g1_is_on_curve(proof.a) and g1_is_on_curve(proof.c) and g2_is_on_curve(proof.b)
    assert None not in (proof.a, proof.b, proof.c)
    assert load_public_inputs(files.public) == [12, 10]
    assert dump_proof(proof) == _json(files.proof)
    # Our writers' files are accepted by snarkjs too.
    write_proof(proof, tmp_path / "proof.json")
    write_public_inputs(load_public_inputs(files.public), tmp_path / "public.json")
    assert _verify(snarkjs, files.vk_json, tmp_path / "public.json", tmp_path / "proof.json")


def test_jacobian_points_agree_with_snarkjs(snarkjs: Runner, files: Files, tmp_path: Path) -> None:
    # snarkjs's fromObject reads z not in {0, 1} as Jacobian (x/z^2, y/z^3); check it verifies
    # such a proof, and that we normalise it to the same affine points.
    from zkmargin.field import Q

    d = _json(files.proof)
    x, y = int(d["pi_a"][0]), int(d["pi_a"][1])
    z = 123456789
    d["pi_a"] = [str(x * z * z % Q), str(y * z * z * z % Q), str(z)]
    p = tmp_path / "proof.json"
    p.write_text(json.dumps(d))
    assert _verify(snarkjs, files.vk_json, files.public, p)
    assert load_proof(p) == load_proof(files.proof)


# --- internal consistency of a snarkjs key, as read by us --------------------------------------

def test_snarkjs_proving_key_is_consistent(files: Files) -> None:
    pk: ProvingKey = read_zkey(files.zkey)
    cs = files.cs
    assert (pk.n_wires, pk.n_public) == (cs.n_wires, cs.n_public)
    assert pk.n_rows == cs.n_constraints + cs.n_public + 1
    assert pk.domain_size == 8 and pk.domain_size >= pk.n_rows
    g1s = [pk.vk.alpha_g1, pk.beta_g1, pk.delta_g1, *pk.vk.gamma_abc_g1, *pk.a_query, *pk.b_g1_query,
           *pk.l_query, *pk.h_query]
    g2s = [pk.vk.beta_g2, pk.vk.gamma_g2, pk.vk.delta_g2, *pk.b_g2_query]
    assert all(g1_is_on_curve(p) for p in g1s)
    assert all(g2_is_on_curve(p) and g2_in_subgroup(p) for p in g2s)
    # Public-input rows: A[n_constraints + i][i] = 1 for i = 0..n_public, and nothing else there.
    public_rows = [(m, row, w, c) for m, row, w, c in pk.coeffs if row >= cs.n_constraints]
    assert public_rows == [(0, cs.n_constraints + i, i, 1) for i in range(cs.n_public + 1)]
    # The R1CS rows are the circuit's A and B, in order.
    want = [
        (m, i, w, c)
        for i, con in enumerate(cs.constraints)
        for m in (0, 1)
        for w, c in sorted(con[m].items())
    ]
    assert [e for e in pk.coeffs if e[1] < cs.n_constraints] == want
    # Setup leaves gamma at the generator; G1/G2 halves of beta, delta and B_i agree (pairings).
    assert pk.vk.gamma_g2 == G2_GENERATOR
    neg_g1 = g1_neg(G1_GENERATOR)
    pairs = [(pk.beta_g1, pk.vk.beta_g2), (pk.delta_g1, pk.vk.delta_g2)]
    pairs += [(b1, b2) for b1, b2 in zip(pk.b_g1_query, pk.b_g2_query, strict=True) if b1 is not None]
    for p1, p2 in pairs:
        assert pairing_product_is_one([(p1, G2_GENERATOR), (neg_g1, p2)])
    assert [b1 is None for b1 in pk.b_g1_query] == [b2 is None for b2 in pk.b_g2_query]
