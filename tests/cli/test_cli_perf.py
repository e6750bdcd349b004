"""zkmargin.cli_perf: `zkmargin verify` never loads numba for one proof, `warmup` compiles once and
says so, a first `setup`/`prove` announces its compilation, and the mapped .zkey/.wtns path proves.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkmargin.cli import main
from zkmargin.serialize import write_proof, write_public_inputs, write_verifying_key

HERE = Path(__file__).parent
SIMULATE = HERE.parent / "verifier" / "_simulate.py"


def _sim():
    import importlib.util

    spec = importlib.util.spec_from_file_location("zkmargin_tests_cli_perf_simulate", SIMULATE)
    assert spec is not None and spec.loader is not None
    if spec.name in sys.modules:
        return sys.modules[spec.name]
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def proof_files(tmp_path_factory):
    """A verifying key with 4 public inputs and a valid proof (simulated with the key's trapdoor)."""
    sim = _sim()
    td = sim.random_vk_with_trapdoor(4, random.Random(44))
    public = [1, 2, 3, 4]
    d = tmp_path_factory.mktemp("perf")
    write_verifying_key(td.vk, d / "vk.json")
    write_public_inputs(public, d / "public.json")
    write_proof(sim.simulated_proof(td, public), d / "proof.json")
    write_public_inputs([1, 2, 3, 5], d / "other.json")
    return d


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONSAFEPATH="1", **extra)
    env.pop("ZKMARGIN_VERIFY_BACKEND", None)
    return env


_NO_NUMBA = """
import sys
from zkmargin.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("numba", "numpy", "galois", "llvmlite", "py_ecc"))
    print("LOADED", heavy)
"""


def test_single_verify_loads_neither_numba_nor_py_ecc(proof_files, tmp_path):
    d = proof_files
    args = [str(d / "vk.json"), str(d / "public.json"), str(d / "proof.json"), "--pairing-only"]
    p = subprocess.run([sys.executable, "-c", _NO_NUMBA, "verify", *args], capture_output=True, text=True,
                       cwd=tmp_path, env=_env(), timeout=300)
    assert p.returncode == 0, p.stderr
    assert "OK (pairing only" in p.stdout and "LOADED []" in p.stdout, p.stdout + p.stderr
    bad = [str(d / "vk.json"), str(d / "other.json"), str(d / "proof.json"), "--pairing-only"]
    p = subprocess.run([sys.executable, "-c", _NO_NUMBA, "verify", *bad], capture_output=True, text=True,
                       cwd=tmp_path, env=_env(), timeout=300)
    assert "INVALID" in p.stdout and "LOADED []" in p.stdout, p.stdout + p.stderr


def test_verify_backend_choice_is_undone_after_the_command(proof_files, monkeypatch):
    import zkmargin.verifier.groth16_verify as gv

    monkeypatch.delenv("ZKMARGIN_VERIFY_BACKEND", raising=False)
    gv.fast_backend.cache_clear()
    d = proof_files
    seen: list[str | None] = []
    real = gv.verify

    def spy(*a, **k):
        seen.append(os.environ.get("ZKMARGIN_VERIFY_BACKEND"))
        return real(*a, **k)

    monkeypatch.setattr("zkmargin.verifier.verify", spy)
    r = CliRunner().invoke(main, ["verify", str(d / "vk.json"), str(d / "public.json"), str(d / "proof.json"),
                                  "--pairing-only"])
    assert r.exit_code == 0, r.output
    assert seen == ["pure"]
    assert "ZKMARGIN_VERIFY_BACKEND" not in os.environ  # a test process keeps its own choice
    # a user's explicit choice is kept
    monkeypatch.setenv("ZKMARGIN_VERIFY_BACKEND", "python")
    seen.clear()
    r = CliRunner().invoke(main, ["verify", str(d / "vk.json"), str(d / "public.json"), str(d / "proof.json"),
                                  "--pairing-only"])
    assert r.exit_code == 0 and seen == ["python"], r.output
    gv.fast_backend.cache_clear()


_CACHED = "import sys; from zkmargin._warm import kernels_cached; print(kernels_cached(sys.argv[1]))"


def test_an_empty_numba_cache_is_seen_and_announced(tmp_path):
    pytest.importorskip("numba")
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "empty-cache"))
    code = ("from zkmargin._warm import kernels_cached; print([kernels_cached(p) for p in ('setup', 'prover', "
            "'verifier')]); from zkmargin.cli_perf import announce_compile; announce_compile('prover'); "
            "announce_compile('setup')")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[False, False, False]", p.stdout
    assert "compiling the prover's kernels once for this machine" in p.stderr
    assert "compiling the development setup's kernels once for this machine" in p.stderr
    assert "zkmargin warmup" in p.stderr


def test_warmup_under_disabled_jit_compiles_nothing(tmp_path):
    pytest.importorskip("numba")
    p = subprocess.run([sys.executable, "-c", "from zkmargin.cli import main; main()", "warmup"],
                       capture_output=True, text=True, env=_env(NUMBA_DISABLE_JIT="1"), cwd=tmp_path, timeout=300)
    assert p.returncode == 0 and "nothing is compiled" in p.stdout, p.stdout + p.stderr


def test_warmup_help_has_examples():
    r = CliRunner().invoke(main, ["warmup", "--help"])
    assert r.exit_code == 0 and "once per machine" in r.output and "zkmargin warmup" in r.output


@pytest.mark.slow
def test_warmup_compiles_into_an_empty_cache_then_finds_it_warm(tmp_path):
    """The real thing on the prover's part: a cold compile into a fresh cache (a few minutes under load;
    the pairing's part is left to the install's own warm-up, which CI runs on a fresh clone)."""
    pytest.importorskip("numba")
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    warmup = [sys.executable, "-c", "from zkmargin.cli import main; main()", "warmup", "--part", "prover"]
    p = subprocess.run(warmup, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=3000)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "once per machine" in p.stderr and "[prover] setup kernels done" in p.stderr
    assert "[prover] prover kernels done" in p.stderr and "warm: compiled prover" in p.stdout
    p = subprocess.run(warmup, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert p.returncode == 0 and "every kernel is in numba's cache" in p.stdout, p.stdout + p.stderr
    # the verifier's probe first: its module's first import must not flush the shared field module's
    # cache, which the prover's kernels use (it did before the markers were kept per module)
    code = ("from zkmargin._warm import kernels_cached; "
            "print([kernels_cached(p) for p in ('verifier', 'setup', 'prover')])")
    q = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=300)
    assert q.stdout.strip() == "[False, True, True]", q.stdout + q.stderr


def test_prove_from_witness_file_uses_the_mapped_readers(tmp_path, monkeypatch):
    """--witness with a .zkey: the mapped readers feed the prover; the proof verifies; a tampered witness
    value >= r is refused by name."""
    from zkmargin.prover.backend import fast_available

    monkeypatch.syspath_prepend(str(HERE))
    run = CliRunner().invoke
    (tmp_path / "input.json").write_text(json.dumps({"threshold": "500", "price": 3, "amounts": ["100", 90]}))
    assert run(main, ["compile", "cli_tiny_circuit:Tiny", "-o", str(tmp_path / "t.r1cs")]).exit_code == 0
    r = run(main, ["setup", str(tmp_path / "t.r1cs"), "--zkey", str(tmp_path / "t.zkey"), "--vk",
                   str(tmp_path / "vk.json")])
    assert r.exit_code == 0, r.output
    r = run(main, ["prove", "cli_tiny_circuit:Tiny", "--input", str(tmp_path / "input.json"), "--zkey",
                   str(tmp_path / "t.zkey"), "--proof", str(tmp_path / "p0.json"), "--public",
                   str(tmp_path / "pub0.json"), "--save-witness", str(tmp_path / "w.wtns")])
    assert r.exit_code == 0, r.output
    r = run(main, ["prove", "--witness", str(tmp_path / "w.wtns"), "--zkey", str(tmp_path / "t.zkey"), "--proof",
                   str(tmp_path / "p.json"), "--public", str(tmp_path / "pub.json"), "--save-witness",
                   str(tmp_path / "w2.wtns")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "w2.wtns").read_bytes() == (tmp_path / "w.wtns").read_bytes()
    assert json.loads((tmp_path / "pub.json").read_text()) == ["500", "3"]
    r = run(main, ["verify", str(tmp_path / "vk.json"), str(tmp_path / "pub.json"), str(tmp_path / "p.json"),
                   "--pairing-only"])
    assert r.exit_code == 0 and r.output.startswith("OK"), r.output
    from zkmargin.field import R

    data = bytearray((tmp_path / "w.wtns").read_bytes())
    data[-32:] = R.to_bytes(32, "little")
    (tmp_path / "bad.wtns").write_bytes(bytes(data))
    r = run(main, ["prove", "--witness", str(tmp_path / "bad.wtns"), "--zkey", str(tmp_path / "t.zkey"),
                   "--proof", str(tmp_path / "p2.json"), "--public", str(tmp_path / "pub2.json")])
    assert r.exit_code == 2 and "not below r" in r.output, r.output
    assert not (tmp_path / "p2.json").exists()
    if fast_available():  # the mapped key is what the numba prover got
        from zkmargin.cli_perf import read_zkey_for_prove

        pk = read_zkey_for_prove(tmp_path / "t.zkey")
        assert isinstance(pk.encoded[5], memoryview) and pk.encoded[5].readonly
