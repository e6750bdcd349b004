"""snarkjs JSON files: verification_key.json, proof.json, public.json (zkmargin.serialize.json_formats).

Cross-checks against snarkjs itself live in tests/crosscheck/test_formats_snarkjs.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkmargin.curve import G1_GENERATOR, G2_GENERATOR, g1_mul, g2_mul
from zkmargin.errors import MalformedJSONError, PointNotOnCurveError
from zkmargin.field import Q, R
from zkmargin.groth16 import Proof, VerifyingKey
from zkmargin.serialize import (
    dump_proof,
    dump_public_inputs,
    dump_verifying_key,
    load_proof,
    load_public_inputs,
    load_verifying_key,
    loads_proof,
    loads_public_inputs,
    loads_verifying_key,
    write_proof,
    write_public_inputs,
    write_verifying_key,
)

G2X0, G2X1 = (str(v) for v in G2_GENERATOR[0])
G2Y0, G2Y1 = (str(v) for v in G2_GENERATOR[1])
G2_JSON = [[G2X0, G2X1], [G2Y0, G2Y1], ["1", "0"]]
G1_INF_JSON = ["0", "1", "0"]
G2_INF_JSON = [["0", "0"], ["1", "0"], ["0", "0"]]

# Hand-written in snarkjs's layout (protocol, curve, nPublic, vk_*, IC), generators as points.
VK_JSON = {
    "protocol": "groth16",
    "curve": "bn128",
    "nPublic": 2,
    "vk_alpha_1": ["1", "2", "1"],
    "vk_beta_2": G2_JSON,
    "vk_gamma_2": G2_JSON,
    "vk_delta_2": G2_INF_JSON,
    "IC": [["1", "2", "1"], G1_INF_JSON, ["1", "2", "1"]],
}
VK = VerifyingKey(
    alpha_g1=G1_GENERATOR,
    beta_g2=G2_GENERATOR,
    gamma_g2=G2_GENERATOR,
    delta_g2=None,
    gamma_abc_g1=(G1_GENERATOR, None, G1_GENERATOR),
)
PROOF_JSON = {
    "pi_a": ["1", "2", "1"],
    "pi_b": G2_JSON,
    "pi_c": G1_INF_JSON,
    "protocol": "groth16",
    "curve": "bn128",
}
PROOF = Proof(a=G1_GENERATOR, b=G2_GENERATOR, c=None)


def _vk(**changes: object) -> dict:
    d = json.loads(json.dumps(VK_JSON))
    d.update(changes)
    return d


# --- known values ------------------------------------------------------------------------------

def test_verifying_key_parses_hand_written_json() -> None:
    assert load_verifying_key(VK_JSON) == VK


def test_verifying_key_dumps_to_snarkjs_layout() -> None:
    assert dump_verifying_key(VK) == VK_JSON


def test_proof_parses_and_dumps() -> None:
    assert load_proof(PROOF_JSON) == PROOF
    assert dump_proof(PROOF) == PROOF_JSON


def test_public_inputs_parse_and_dump() -> None:
    assert load_public_inputs(["0", "12", str(R - 1), "007"]) == [0, 12, R - 1, 7]
    assert dump_public_inputs([0, 12, R - 1]) == ["0", "12", str(R - 1)]


def test_public_inputs_above_r_parse_for_the_verifier_to_reject() -> None:
    assert load_public_inputs([str(R), str(Q + 5)]) == [R, Q + 5]


def test_round_trip_through_files_with_random_points(tmp_path: Path) -> None:
    p1, p2 = g1_mul(G1_GENERATOR, 1234567), g2_mul(G2_GENERATOR, 7654321)
    vk = VerifyingKey(p1, p2, G2_GENERATOR, None, (p1, None, G1_GENERATOR, p1))
    proof = Proof(a=p1, b=p2, c=None)
    write_verifying_key(vk, tmp_path / "vk.json")
    write_proof(proof, tmp_path / "proof.json")
    write_public_inputs([1, R - 1], tmp_path / "public.json")
    assert load_verifying_key(tmp_path / "vk.json") == vk
    assert load_verifying_key(str(tmp_path / "vk.json")) == vk
    assert load_proof(tmp_path / "proof.json") == proof
    assert load_public_inputs(tmp_path / "public.json") == [1, R - 1]
    assert json.loads((tmp_path / "public.json").read_text()) == ["1", str(R - 1)]


def test_loads_from_text() -> None:
    assert loads_verifying_key(json.dumps(VK_JSON)) == VK
    assert loads_proof(json.dumps(PROOF_JSON).encode()) == PROOF
    assert loads_public_inputs('["5"]') == [5]


# --- snarkjs's point forms ---------------------------------------------------------------------

def test_infinity_ignores_x_and_y_when_z_is_zero() -> None:
    assert load_proof({**PROOF_JSON, "pi_a": ["5", "7", "0"]}).a is None
    assert load_proof({**PROOF_JSON, "pi_b": [["3", "4"], ["5", "6"], ["0", "0"]]}).b is None


def test_two_coordinate_points_mean_affine() -> None:
    got = load_proof({**PROOF_JSON, "pi_a": ["1", "2"], "pi_b": G2_JSON[:2]})
    assert got.a == G1_GENERATOR and got.b == G2_GENERATOR


def test_jacobian_z_is_normalised() -> None:
    # Jacobian (X, Y, Z) = (x z^2, y z^3, z) for z = 5 in G1 and z = 2 + 3u in G2 (Fq2, u^2 = -1).
    x, y = G1_GENERATOR
    z = 5
    a = [str(x * z**2 % Q), str(y * z**3 % Q), str(z)]

    def mul(p: tuple[int, int], q: tuple[int, int]) -> tuple[int, int]:
        return ((p[0] * q[0] - p[1] * q[1]) % Q, (p[0] * q[1] + p[1] * q[0]) % Q)

    z2 = (2, 3)
    zz = mul(z2, z2)
    zzz = mul(zz, z2)
    bx, by = mul(G2_GENERATOR[0], zz), mul(G2_GENERATOR[1], zzz)
    b = [[str(bx[0]), str(bx[1])], [str(by[0]), str(by[1])], ["2", "3"]]
    got = load_proof({**PROOF_JSON, "pi_a": a, "pi_b": b})
    assert got.a == G1_GENERATOR and got.b == G2_GENERATOR


def test_curve_name_aliases_accepted() -> None:
    for name in ("bn128", "BN254", "alt_bn128"):
        assert load_verifying_key(_vk(curve=name)) == VK


def test_vk_alphabeta_is_ignored() -> None:
    assert load_verifying_key(_vk(vk_alphabeta_12=[["whatever"]])) == VK


def test_proof_without_protocol_and_curve_is_accepted() -> None:
    d = {k: v for k, v in PROOF_JSON.items() if k not in ("protocol", "curve")}
    assert load_proof(d) == PROOF


# --- malformed input: each names the file, the field and the value ------------------------------

def _write(tmp_path: Path, name: str, obj: object) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(obj))
    return p


def test_invalid_json_names_file_and_position(tmp_path: Path) -> None:
    p = tmp_path / "proof.json"
    p.write_text('{"pi_a": [1, 2,, 3]}')
    with pytest.raises(MalformedJSONError, match=r"proof\.json: invalid JSON at line 1 column 16"):
        load_proof(p)


def test_not_utf8_is_malformed(tmp_path: Path) -> None:
    p = tmp_path / "public.json"
    p.write_bytes(b'["\xff\xfe"]')
    with pytest.raises(MalformedJSONError, match="public.json"):
        load_public_inputs(p)


def test_deeply_nested_json_is_malformed() -> None:
    with pytest.raises(MalformedJSONError, match="nested more than 64 levels"):
        loads_public_inputs("[" * 100000 + "]" * 100000)
    # Brackets inside strings do not count as nesting.
    with pytest.raises(MalformedJSONError, match=r"\[0\]: expected a decimal string"):
        loads_public_inputs('["' + "[{\\\"" * 100 + '"]')


def test_missing_field_names_file_and_field(tmp_path: Path) -> None:
    d = _vk()
    del d["vk_delta_2"]
    with pytest.raises(MalformedJSONError, match=r"vk\.json: vk_delta_2: missing field"):
        load_verifying_key(_write(tmp_path, "vk.json", d))


def test_float_coordinate_is_wrong_type(tmp_path: Path) -> None:
    d = {**PROOF_JSON, "pi_b": [[G2X0, G2X1], [12.5, G2Y1], ["1", "0"]]}
    with pytest.raises(MalformedJSONError) as e:
        load_proof(_write(tmp_path, "proof.json", d))
    assert str(e.value).endswith("proof.json: pi_b[1][0]: expected a decimal string, got 12.5")


@pytest.mark.parametrize("bad", ["-5", "0x1f", "1e3", "", " 1", "12a", "١٢", 7, None, True])
def test_non_decimal_coordinates_are_rejected(bad: object) -> None:
    with pytest.raises(MalformedJSONError, match=r"^proof: pi_c\[1\]: expected a decimal string, got "):
        load_proof({**PROOF_JSON, "pi_c": ["1", bad, "1"]})


def test_wrong_list_length_names_field() -> None:
    with pytest.raises(MalformedJSONError, match=r"vk_alpha_1: expected a list of 2 or 3 elements, got 4"):
        load_verifying_key(_vk(vk_alpha_1=["1", "2", "1", "1"]))
    with pytest.raises(MalformedJSONError, match=r"vk_beta_2\[0\]: expected a list of 2 elements, got 3"):
        load_verifying_key(_vk(vk_beta_2=[["1", "2", "3"], ["1", "2"], ["1", "0"]]))


def test_point_that_is_not_a_list() -> None:
    with pytest.raises(MalformedJSONError, match=r"IC\[1\]: expected a list, got \"1\""):
        load_verifying_key(_vk(IC=[["1", "2", "1"], "1", ["1", "2", "1"]]))


def test_wrong_protocol_and_curve(tmp_path: Path) -> None:
    with pytest.raises(MalformedJSONError, match=r"vk\.json: protocol: expected \"groth16\", got \"plonk\""):
        load_verifying_key(_write(tmp_path, "vk.json", _vk(protocol="plonk")))
    with pytest.raises(MalformedJSONError, match=r"curve: expected \"bn128\" \(BN254\), got \"bls12381\""):
        load_verifying_key(_vk(curve="bls12381"))
    with pytest.raises(MalformedJSONError, match=r"proof: protocol"):
        load_proof({**PROOF_JSON, "protocol": "fflonk"})


def test_vk_requires_protocol() -> None:
    d = _vk()
    del d["protocol"]
    with pytest.raises(MalformedJSONError, match=r"protocol: missing field"):
        load_verifying_key(d)


def test_npublic_must_match_ic() -> None:
    with pytest.raises(MalformedJSONError, match=r"nPublic: is 3 but IC has 3 points"):
        load_verifying_key(_vk(nPublic=3))
    with pytest.raises(MalformedJSONError, match=r"nPublic: expected an integer, got \"2\""):
        load_verifying_key(_vk(nPublic="2"))
    with pytest.raises(MalformedJSONError, match=r"IC: expected a non-empty list"):
        load_verifying_key(_vk(IC=[], nPublic=-1))


def test_top_level_must_be_object_or_list(tmp_path: Path) -> None:
    with pytest.raises(MalformedJSONError, match=r"vk\.json: expected a JSON object"):
        load_verifying_key(_write(tmp_path, "vk.json", [1, 2]))
    with pytest.raises(MalformedJSONError, match=r"public\.json: expected a JSON list"):
        load_public_inputs(_write(tmp_path, "public.json", {"a": "1"}))


def test_coordinate_not_below_q_is_not_on_curve(tmp_path: Path) -> None:
    d = {**PROOF_JSON, "pi_a": ["1", str(Q), "1"]}
    with pytest.raises(PointNotOnCurveError, match=r"proof\.json: pi_a\[1\]: coordinate is not below"):
        load_proof(_write(tmp_path, "proof.json", d))
    with pytest.raises(PointNotOnCurveError, match=r"vk_gamma_2\[0\]\[1\]"):
        load_verifying_key(_vk(vk_gamma_2=[[G2X0, "9" * 5000], [G2Y0, G2Y1], ["1", "0"]]))
    with pytest.raises(PointNotOnCurveError, match=r"pi_a\[2\]"):
        load_proof({**PROOF_JSON, "pi_a": ["1", "2", str(Q + 1)]})


def test_public_input_errors_name_the_index(tmp_path: Path) -> None:
    with pytest.raises(MalformedJSONError, match=r"public\.json: \[1\]: expected a decimal string, got -3"):
        load_public_inputs(_write(tmp_path, "public.json", ["1", -3]))
    with pytest.raises(MalformedJSONError, match=r"\[0\]: expected a decimal string, got \"-3\""):
        load_public_inputs(["-3"])
    with pytest.raises(MalformedJSONError, match=r"\[0\]: public input has 5000 digits"):
        load_public_inputs(["7" * 5000])


# --- writers validate and are atomic -----------------------------------------------------------

def test_dump_rejects_values_that_cannot_be_encoded() -> None:
    with pytest.raises(ValueError, match="alpha_g1"):
        dump_verifying_key(VerifyingKey((Q, 2), G2_GENERATOR, G2_GENERATOR, G2_GENERATOR, (None,)))
    with pytest.raises(ValueError, match=r"public input \[1\]"):
        dump_public_inputs([1, R])
    with pytest.raises(ValueError, match=r"public input \[0\]"):
        dump_public_inputs([-1])
    with pytest.raises(ValueError, match=r"public input \[0\] is not an integer: '5'"):
        dump_public_inputs(["5"])
    with pytest.raises(ValueError, match=r"public input \[1\]"):
        dump_public_inputs([1, True])


def test_failed_write_leaves_previous_file(tmp_path: Path) -> None:
    p = tmp_path / "public.json"
    write_public_inputs([1, 2], p)
    with pytest.raises(ValueError):
        write_public_inputs([1, R], p)
    assert load_public_inputs(p) == [1, 2]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["public.json"]
