"""``zkmargin.benchmarks`` (the library of ``zkmargin bench``) at tiny sizes: the real code path, no timings.

Checks the synthetic circuit's exact constraint counts, then one sweep end to end (subprocesses
for setup and proving, files written, proofs verified; a synthetic size and a margin model at a
portfolio size), the report's structure, and the CSV, markdown, JSON and PNG outputs.
"""

from __future__ import annotations

import json

import pytest

from zkmargin.benchmarks import margin_cases, report
from zkmargin.benchmarks import prover_bench as bench
from zkmargin.circuits import build, compile
from zkmargin.prover import backend
from zkmargin.serialize import load_proof, load_public_inputs, load_verifying_key
from zkmargin.verifier import verify

fast_only = pytest.mark.skipif(not backend.fast_available(), reason="the numba prover is not active")


@pytest.mark.parametrize("k", [3, 5, 8, 10, 11])
def test_sweep_circuit_fills_the_domain_exactly(k):
    n_blocks, n_pad = bench.sweep_shape(k)
    cs = compile(bench.SweepCircuit(n_blocks=n_blocks, n_pad=n_pad))
    assert cs.n_public == 1
    assert cs.n_constraints == (1 << k) - cs.n_public - 1  # + snarkjs's n_public + 1 rows = 2^k


def test_sweep_witness_satisfies_and_mixes_bits_and_big_values():
    cs, w = build(bench.sweep_circuit(10, seed=7))  # check=True: every constraint holds
    assert cs.is_satisfied(w)
    bits = sum(v in (0, 1) for v in w)
    big = sum(v >= 1 << 128 for v in w)
    assert 0.35 < bits / len(w) < 0.65 and 0.35 < big / len(w) < 0.65


def test_sweep_shape_rejects_bad_sizes():
    for k in (2, 29):
        with pytest.raises(ValueError):
            bench.sweep_shape(k)
    with pytest.raises(ValueError):
        bench.run_bench([8], snarkjs=False, repeat=0, out=lambda s: None)


def test_find_snarkjs_honours_the_environment(tmp_path, monkeypatch):
    pkg = tmp_path / "node_modules" / "snarkjs"
    pkg.mkdir(parents=True)
    (pkg / "package.json").write_text("{}")
    monkeypatch.setenv("ZKMARGIN_SNARKJS", str(tmp_path / "node_modules"))
    assert bench.find_snarkjs() == pkg.resolve()
    monkeypatch.setenv("ZKMARGIN_SNARKJS", str(tmp_path / "nowhere"))
    assert bench.find_snarkjs() is None


@fast_only
def test_run_bench_end_to_end(tmp_path):
    lines: list[str] = []
    steps: list[str] = []
    case = margin_cases.model_case("isolated", 1)
    rows = bench.run_bench([6, 5], snarkjs=False, repeat=2, out=lines.append, progress=steps.append,
                           workdir=tmp_path, cases=[case])
    model_row = rows.pop()  # the margin model's case runs after the synthetic sizes
    assert (model_row.case, model_row.model, model_row.positions) == ("isolated p1", "isolated", 1)
    assert model_row.verified and model_row.constraints > 0 and model_row.domain_size == 1 << model_row.k
    assert model_row.domain_size >= model_row.constraints + model_row.n_public + 1
    assert set(model_row.phases) == set(bench.PHASES) and lines[2].startswith("isolated p1: ")
    assert [r.k for r in rows] == [5, 6]
    assert len(lines) == 3 and lines[0].startswith("2^5: ") and steps
    for r in rows:
        assert r.domain_size == 1 << r.k and r.constraints == (1 << r.k) - 2 and r.n_public == 1
        assert r.verified and r.snarkjs_s is None and r.ratio is None
        assert set(r.phases) == set(bench.PHASES)
        assert all(v >= 0 for v in r.phases.values())
        assert r.files_s >= r.read_s > 0 and r.prove_s > 0 and r.setup_s > 0
        assert r.peak_rss > 1 << 20 and r.setup_rss > 1 << 20
        assert r.calldata_bytes == 256 and r.proof_json_bytes > 256
        assert len(r.samples["files_s"]) == 2
        json.dumps(r.to_dict())
        # the files stay in workdir; the proof verifies against the key written there
        d = tmp_path / f"k{r.k}"
        vk = load_verifying_key(d / "verification_key.json")
        assert verify(vk, load_public_inputs(d / "public.json"), load_proof(d / "proof.json"))
    table = bench.format_table(rows)
    head, *body = table.splitlines()
    assert head.split()[:3] == ["case", "constraints", "setup"]
    assert body[0].split()[0] == "2^5" and body[1].split()[0] == "2^6"


@fast_only
@pytest.mark.node
@pytest.mark.slow  # heavy by nature: snarkjs's prover in node next to ours (about 30 s of the default run)
def test_run_bench_against_snarkjs(tmp_path):
    if bench.find_snarkjs() is None:
        pytest.skip("snarkjs not installed (npm install --prefix tests/node)")
    (row,) = bench.run_bench([6], snarkjs=True, repeat=1, out=lambda s: None, workdir=tmp_path)
    assert row.verified and row.snarkjs_verified
    assert row.snarkjs_s is not None and row.snarkjs_s > 0 and row.ratio is not None
    assert "x" in bench.format_table([row]).splitlines()[1]


def test_model_cases_name_their_sizes_and_reject_bad_ones():
    c = margin_cases.model_case("scenario", 4, scenarios=8, assets=3)
    assert (c.label, c.model, c.positions, c.scenarios, c.assets) == ("scenario p4 s8 a3", "scenario", 4, 8, 3)
    assert margin_cases.model_case("health", 5).label == "health a5"
    assert [x.label for x in margin_cases.sweep_cases(["tiered", "cross"], [4, 1])] == [
        "cross p1 a2", "cross p4 a2", "tiered p1 a2", "tiered p4 a2"]
    with pytest.raises(ValueError, match="unknown margin model"):
        margin_cases.model_case("span", 2)
    with pytest.raises(ValueError):
        margin_cases.model_case("cross", 0)


@pytest.mark.parametrize("kind", margin_cases.MODELS)
def test_model_case_sizes_reach_the_circuit(kind):
    model = margin_cases._venue_model({"model": kind, "positions": 3, "scenarios": 5, "assets": 2, "seed": 1})
    if kind == "health":
        assert model.n_assets == 3
    else:
        assert model.n_instruments == 3
    if kind == "scenario":
        assert model.n_scenarios == 5


def _row(case: str, model: str, constraints: int, positions: int | None, snarkjs: float | None) -> bench.BenchRow:
    k = max(5, constraints.bit_length())
    return bench.BenchRow(
        k=k, constraints=constraints, n_wires=constraints, n_public=1, domain_size=1 << k, build_s=0.1, setup_s=0.5,
        setup_rss=1 << 26, zkey_bytes=1000, wtns_bytes=100, repeat=3,
        phases={p: 0.01 * (i + 1) for i, p in enumerate(bench.PHASES)}, prove_s=0.15, prove_cpu_s=0.25,
        read_s=0.02, read_zkey_s=0.015, read_wtns_s=0.005, files_s=0.17, peak_rss=1 << 27, proof_json_bytes=700,
        calldata_bytes=256, verified=True, snarkjs_s=snarkjs, load_before=1.0, load_after=1.5, case=case,
        model=model, positions=positions)


def test_reports_write_tables_and_plots(tmp_path):
    rows = [_row("2^10", "synthetic", 1022, None, 1.2), _row("cross p2 a2", "cross", 3000, 2, None),
            _row("cross p8 a2", "cross", 9000, 8, 2.5), _row("health a4", "health", 2500, None, None)]
    rows[3].assets = 4
    paths, note = report.write_reports(rows, tmp_path)
    names = {p.name for p in paths}
    assert {"bench.csv", "bench.md", "bench.json"} <= names
    lines = (tmp_path / "bench.csv").read_text().splitlines()
    assert lines[0].split(",") == list(report.COLUMNS) and len(lines) == 5
    assert lines[2].startswith("cross p2 a2,cross,2,")
    md = (tmp_path / "bench.md").read_text()
    assert "| cross p8 a2 | 9,000 |" in md and "load" in md
    assert [r["case"] for r in json.loads((tmp_path / "bench.json").read_text())] == [r.case for r in rows]
    pytest.importorskip("matplotlib")
    assert note is None
    pngs = {"time_vs_size.png", "constraints_vs_size.png", "phases.png", "vs_snarkjs.png"}
    assert pngs <= names
    for name in pngs:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # without snarkjs figures there is no comparison plot; without plots, tables only
    paths, _ = report.write_reports([_row("2^10", "synthetic", 1022, None, None)], tmp_path / "b", plots=True)
    assert "vs_snarkjs.png" not in {p.name for p in paths} and "constraints_vs_size.png" not in {p.name for p in paths}
    paths, _ = report.write_reports(rows, tmp_path / "c", plots=False)
    assert {p.name for p in paths} == {"bench.csv", "bench.md", "bench.json"}
