"""``zkmargin.benchmarks.side_by_side`` (the CLI / in-process / rapidsnark / snarkjs table): its logic, no timings.

The end-to-end test proves a 2^10 circuit with zkmargin's CLI and in-process columns only (rapidsnark and
snarkjs are never needed) and checks that every proof was verified; a stand-in "rapidsnark" that writes
a well-formed but wrong proof must stop the run. The goal verdicts and the table are checked on rows
made up for the purpose.
"""

from __future__ import annotations

import json
import stat

import pytest

from zkmargin import curve
from zkmargin.benchmarks import side_by_side as sbs
from zkmargin.benchmarks.prover_bench import BenchError
from zkmargin.groth16 import Proof
from zkmargin.prover import backend
from zkmargin.serialize import load_proof, load_public_inputs, load_verifying_key, write_proof
from zkmargin.verifier import verify

fast_only = pytest.mark.skipif(not backend.fast_available(), reason="the numba prover is not active")


def _row(k: int, cli: float, prove: float, rapidsnark: float | None, resident: float | None = None) -> sbs.SizeRow:
    median = {"zkmargin_cli": cli, "inproc_files": prove + 0.01, "inproc_prove": prove}
    if rapidsnark is not None:
        median["rapidsnark"] = rapidsnark
    if resident is not None:
        median["zkmargin_resident"] = resident
    return sbs.SizeRow(k=k, constraints=(1 << k) - 2, repeat=3, median=median,
                       samples={t: [v] for t, v in median.items()}, rss={"zkmargin_cli": 1 << 27},
                       verified={"zkmargin_cli": True, "inproc": True}, load_before=1.0, load_after=2.0)


def test_parse_sizes_takes_ranges_and_lists():
    assert sbs.parse_sizes("10-12,16, 12") == [10, 11, 12, 16]
    assert sbs.parse_sizes("20") == [20]


def test_goals_say_met_only_when_every_figure_is_within_its_goal():
    v = sbs.VerifyRow(n_public=4, constraints=2000, samples=[0.25, 0.29, 0.40], bare_python=[0.03],
                      load_before=1.0, load_after=1.0)
    # goals: CLI at 2^16, CLI (resident) at 2^16, CLI vs rapidsnark, CLI (resident) vs rapidsnark, verify
    rows = [_row(10, 1.0, 0.05, 2.0, 0.3), _row(16, 2.05, 1.9, 3.0, 1.95)]  # 0.15 s over; resident 0.05 s over
    g = sbs.goals(rows, v)
    assert [ok for _, ok, _ in g] == [True, True, True, True, True]
    assert "+0.150" in g[0][2] and "+0.050" in g[1][2]
    rows = [_row(10, 1.0, 0.05, 0.06, 0.07), _row(16, 2.11, 1.9, 3.0, 2.2)]  # slower than rapidsnark at 2^10
    v.samples, v.median = [0.31], 0.31
    g = sbs.goals(rows, v)
    assert [ok for _, ok, _ in g] == [False, False, False, False, False]
    assert "2^10" in g[2][2] and "2^16" not in g[2][2] and "2^10 (0.86x)" in g[3][2]
    rows = [_row(10, 1.0, 0.05, 0.06, 0.05), _row(16, 2.11, 1.9, 3.0, 2.0)]  # the resident column is faster
    assert [ok for _, ok, _ in sbs.goals(rows, None)] == [False, True, False, True, None]
    assert [ok for _, ok, _ in sbs.goals([_row(12, 1.0, 0.1, None)], None)] == [None] * 5
    assert [ok for _, ok, _ in sbs.goals([_row(16, 2.05, 1.9, 3.0)], None)] == [True, None, True, None, None]


def test_markdown_table_has_one_row_per_size_and_names_missing_tools():
    text = sbs.markdown_table([_row(10, 1.0, 0.05, 2.0, 0.25), _row(11, 1.2, 0.08, None)], None)
    lines = [ln for ln in text.splitlines() if ln.startswith("| 2^")]
    assert len(lines) == 2
    cells = [c.strip() for c in lines[0].strip("|").split("|")]
    assert cells[:5] == ["2^10", "1,022", "3", "1.000", "0.250"] and cells[7:9] == ["+0.950", "+0.200"]
    assert cells[11:13] == ["2.00x", "8.00x"]
    cells = [c.strip() for c in lines[1].strip("|").split("|")]
    assert cells[4] == "-" and cells[8] == "-" and cells[9:13] == ["-", "-", "-", "-"]


def test_rapidsnark_is_optional_and_an_explicit_wrong_path_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("ZKMARGIN_RAPIDSNARK", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert sbs.find_rapidsnark() is None
    with pytest.raises(BenchError, match="not an executable"):
        sbs.find_rapidsnark(str(tmp_path / "nowhere"))
    exe = tmp_path / "rapidsnark"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    assert sbs.find_rapidsnark() == exe.resolve()


@fast_only
@pytest.mark.slow  # builds a 2^10 key and starts about ten processes (numba's cache loads in each): 30-60 s
def test_side_by_side_at_2_10_verifies_every_proof_and_refuses_a_wrong_one(tmp_path):
    steps: list[str] = []
    row = sbs.run_size(10, tmp_path / "k10", repeat=1, rapidsnark=None, snarkjs=None, progress=steps.append)
    assert row.constraints == 1022 and row.repeat == 1 and steps
    assert set(row.median) == {"zkmargin_cli", "inproc_files", "inproc_prove"}
    assert row.verified == {"zkmargin_cli": True, "inproc": True} and row.ratio is None
    assert all(v > 0 for v in row.median.values()) and row.rss["zkmargin_cli"] > 1 << 20
    d = tmp_path / "k10"
    vk = load_verifying_key(d / "verification_key.json")
    for proof, public in ((d / "zkmargin_cli_proof.json", d / "zkmargin_cli_public.json"),
                          (d / "proof.json", d / "public.json")):  # the CLI's, the in-process worker's
        assert verify(vk, load_public_inputs(public), load_proof(proof))
    json.dumps(row.to_dict())

    # a stand-in rapidsnark that writes a well-formed proof (points on the curve) that does not verify,
    # with the right public inputs: the run must stop, not time it
    bad = tmp_path / "bad_proof.json"
    write_proof(Proof(curve.G1_GENERATOR, curve.G2_GENERATOR, curve.G1_GENERATOR), bad)
    public = tmp_path / "public.json"
    public.write_bytes((d / "public.json").read_bytes())
    fake = tmp_path / "rapidsnark"
    fake.write_text(f"#!/bin/sh\ncp {bad} \"$3\"\ncp {public} \"$4\"\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(BenchError, match="did not verify"):
        sbs.run_size(10, d, repeat=1, rapidsnark=fake, snarkjs=None)


@fast_only
@pytest.mark.slow  # a resident prover and a 2^10 key: about ten processes
def test_the_resident_column_is_served_by_the_resident_prover_and_verified(tmp_path):
    with sbs.resident_prover() as rt:
        assert (rt / "prover.sock").exists()
        row = sbs.run_size(10, tmp_path / "k10", repeat=2, rapidsnark=None, snarkjs=None, resident=rt)
        assert sbs._resident_status(rt)["requests"] == 3  # the warm-up run and two rounds
    assert not rt.exists()  # stopped and removed
    assert set(row.median) == {"zkmargin_cli", "zkmargin_resident", "inproc_files", "inproc_prove"}
    assert row.verified == {"zkmargin_cli": True, "zkmargin_resident": True, "inproc": True}
    assert row.rss["resident_server"] > 1 << 20 and row.resident_overhead is not None
    d = tmp_path / "k10"
    vk = load_verifying_key(d / "verification_key.json")
    assert verify(vk, load_public_inputs(d / "zkmargin_resident_public.json"),
                  load_proof(d / "zkmargin_resident_proof.json"))


@fast_only
@pytest.mark.slow  # a cross-model key and five `zkmargin verify` processes
def test_warm_verify_uses_a_four_input_proof(tmp_path):
    v = sbs.run_verify(tmp_path / "v", repeat=2)
    assert v.n_public == 4 and len(v.samples) == 2 and len(v.bare_python) == 2 and v.median > 0
    pub = load_public_inputs(tmp_path / "v" / "public.json")
    assert len(pub) == 4
    assert verify(load_verifying_key(tmp_path / "v" / "verification_key.json"), pub,
                  load_proof(tmp_path / "v" / "proof.json"))


def test_saved_results_merge_by_size_and_give_the_same_report(tmp_path):
    v = sbs.VerifyRow(n_public=4, constraints=2000, samples=[0.2, 0.4, 0.3], bare_python=[0.03],
                      load_before=1.0, load_after=1.0)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({"rows": [_row(10, 1.0, 0.05, 2.0).to_dict(), _row(16, 9.0, 1.0, 3.0).to_dict()],
                                 "verify": None}))
    second.write_text(json.dumps({"rows": [_row(16, 1.1, 1.0, 3.0).to_dict()], "verify": v.to_dict()}))
    rows, verify = sbs.load_results([first, second])
    assert [r.k for r in rows] == [10, 16] and rows[1].median["zkmargin_cli"] == 1.1  # the later file wins
    assert verify is not None and verify.median == 0.3
    assert sbs.report_text(rows, verify) == sbs.report_text([_row(10, 1.0, 0.05, 2.0), _row(16, 1.1, 1.0, 3.0)], v)
