"""``zkmargin.bench`` (the library of ``zkmargin bench``) at tiny sizes: the real code path, no timings.

Checks the synthetic circuit's exact constraint counts, then one sweep end to end (subprocesses
for setup and proving, files written, proofs verified) and the report's structure.
"""

from __future__ import annotations

import json

import pytest

from zkmargin import bench
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
    rows = bench.run_bench([6, 5], snarkjs=False, repeat=2, out=lines.append, progress=steps.append,
                           workdir=tmp_path)
    assert [r.k for r in rows] == [5, 6]
    assert len(lines) == 2 and lines[0].startswith("2^5: ") and steps
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
    assert head.split()[:3] == ["size", "constraints", "setup"]
    assert body[0].split()[0] == "2^5" and body[1].split()[0] == "2^6"


@fast_only
@pytest.mark.node
def test_run_bench_against_snarkjs(tmp_path):
    if bench.find_snarkjs() is None:
        pytest.skip("snarkjs not installed (npm install --prefix tests/node)")
    (row,) = bench.run_bench([6], snarkjs=True, repeat=1, out=lambda s: None, workdir=tmp_path)
    assert row.verified and row.snarkjs_verified
    assert row.snarkjs_s is not None and row.snarkjs_s > 0 and row.ratio is not None
    assert "x" in bench.format_table([row]).splitlines()[1]
