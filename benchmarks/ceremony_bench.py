"""The trusted-setup steps side by side with snarkjs 0.7.6, in one run (the README's ceremony table).

    python -P benchmarks/ceremony_bench.py                       # powers 12 and 16
    python -P benchmarks/ceremony_bench.py --powers 12 16 20 --snarkjs-max 16 --prepare-snarkjs-max 12

For each power K it makes a power-K powers-of-tau file (from a known tau with the fixed-base
kernels: the timings do not depend on the secret; never use such a file for keys) and a circuit
with 2^K - 4 constraints (a squaring chain: a 2^K domain, the largest the ptau supports), then
times, each as a fresh process of the command-line tool, ours first and snarkjs's second:

- ``ptau prepare`` vs ``powersoftau prepare phase2`` (the outputs are compared byte for byte);
- ``setup --ptau`` (prepared ptau) vs ``groth16 setup`` (outputs compared byte for byte); ours
  also from the unprepared ptau (snarkjs cannot);
- ``zkey contribute`` vs ``zkey contribute``, each on its own initial key (identical but for the
  csHash at domain = 2^power >= 2^15, where snarkjs hashes bytes past the ptau's tauG1 section);
- ``zkey verify`` vs ``zkey verify``, each of its own contributed key.

snarkjs needs a prepared ptau for groth16 setup: it gets ours (byte-identical to its own). Steps
whose snarkjs run would take too long are skipped (``--snarkjs-max``, ``--prepare-snarkjs-max``)
and say so. The 1-minute load average is printed before every run: the machine is shared, and
a number without its load means little.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNARKJS = ROOT / "tests" / "node" / "node_modules" / "snarkjs" / "build" / "cli.cjs"


def _load() -> float:
    return os.getloadavg()[0]


def _run(argv: list[str], what: str) -> dict:
    load = _load()
    t0 = time.perf_counter()
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{what} failed ({p.returncode}):\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
    print(f"    {what}: {wall:8.2f} s   (load before {load:.2f})", flush=True)
    return {"seconds": round(wall, 3), "load": round(load, 2)}


def _make_inputs(d: Path, power: int, ptau: bool = True) -> tuple[Path, Path]:
    """A power-`power` ptau from a known tau and a 2^power-domain chain circuit (.r1cs)."""
    from zkmargin.circuits import compile
    from zkmargin.circuits.std._testing import ChainCircuit as Chain
    from zkmargin.prover import ceremony
    from zkmargin.serialize import write_r1cs
    from zkmargin.serialize.ptau_file import write_ptau

    ptau_path = d / f"p{power}.ptau"
    if ptau and not ptau_path.exists():
        t = time.perf_counter()
        write_ptau(ptau_path, power, ceremony._toy_ptau_sections(power, 0x5EED1234567 + power, 77, 99))
        print(f"  made {ptau_path.name} in {time.perf_counter() - t:.1f}s (known tau: for timing only)", flush=True)
    r1cs = d / f"c{power}.r1cs"
    if not r1cs.exists():
        cs = compile(Chain(n=(1 << power) - 5))
        assert cs.n_constraints + cs.n_public + 1 <= 1 << power < 2 * (cs.n_constraints + cs.n_public + 1)
        write_r1cs(cs, r1cs)
        print(f"  made {r1cs.name}: {cs.n_constraints:,} constraints, {cs.n_wires:,} wires", flush=True)
    return ptau_path, r1cs


def _make_dev_key(work: Path, power: int, dst: Path) -> None:
    """A development key for a 2^power-domain chain (the fixed-base setup: fast at any size)."""
    import warnings

    from zkmargin.prover import DevelopmentSetupWarning, setup
    from zkmargin.serialize import read_r1cs, write_zkey

    _, r1cs = _make_inputs_circuit_only(work, power)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentSetupWarning)
        pk, _ = setup(read_r1cs(r1cs))
    write_zkey(pk, dst)
    print(f"  development key {dst.name} in {time.perf_counter() - t:.1f}s", flush=True)


def _make_inputs_circuit_only(work: Path, power: int) -> tuple[None, Path]:
    r1cs = work / f"c{power}.r1cs"
    if not r1cs.exists():
        _make_inputs(work, power, ptau=False)
    return None, r1cs


def _same_key(a: Path, b: Path) -> str:
    """'identical', or which sections differ (csHash alone at domain = 2^power >= 2^15: snarkjs's quirk)."""
    from zkmargin.serialize.binfile import read_binfile

    if a.read_bytes() == b.read_bytes():
        return "identical"
    fa, fb = read_binfile(a, "zkey", 2), read_binfile(b, "zkey", 2)
    diff = [sid for sid in range(1, 11) if fa.section(sid) != fb.section(sid)]
    note = " (csHash: snarkjs hashes bytes past the ptau's tauG1 section at domain = 2^power)" if diff == [10] else ""
    if diff != [10]:
        raise SystemExit(f"initial keys differ in sections {diff}")
    return f"sections 1-9 identical, section 10 differs{note}"


def _ratio(ours: dict | None, theirs: dict | None) -> str:
    if not ours or not theirs:
        return "-"
    return f"{theirs['seconds'] / ours['seconds']:.1f}x"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--powers", type=int, nargs="+", default=[12, 16])
    ap.add_argument("--snarkjs-max", type=int, default=16, help="largest power at which snarkjs runs at all")
    ap.add_argument("--prepare-snarkjs-max", type=int, default=12,
                    help="largest power for snarkjs's prepare phase2 (26.5 min at 2^16 on the 2-core test machine)")
    ap.add_argument("--model", type=Path, action="append", default=[],
                    help="also run setup/contribute/verify on this venue model (its circuit compiled by "
                         "zkmargin compile; dense Poseidon coefficients, unlike the chain)")
    ap.add_argument("--contribute-only", type=int, nargs="*", default=[],
                    help="powers at which only our contribution is timed, on a development key (no ptau)")
    ap.add_argument("--unprepared-max", type=int, default=12,
                    help="largest power at which ours is also timed from the unprepared ptau")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--json", type=Path, help="also write the results here")
    a = ap.parse_args(argv)
    zk = shutil.which("zkmargin")
    node = shutil.which("node")
    if zk is None:
        raise SystemExit("zkmargin is not on PATH (source scripts/_env.sh)")
    if node is None or not SNARKJS.exists():
        print("node/snarkjs not found: ours only", flush=True)
    work = a.workdir or Path(tempfile.mkdtemp(prefix="ceremony-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    sj = [node, str(SNARKJS)] if node and SNARKJS.exists() else None
    print(f"ceremony bench in {work}; {os.cpu_count()} CPUs; python {sys.version.split()[0]}", flush=True)

    # warm numba's on-disk cache so no row pays compilation
    wp, wr = _make_inputs(work, 5)
    for f in [*work.glob("w5*"), *work.glob("*w5.json")]:
        f.unlink()
    _run([zk, "ptau", "prepare", wp, work / "w5p.ptau"], "warm-up prepare (2^5)")
    _run([zk, "setup", wr, "--ptau", wp, "--zkey", work / "w5_0.zkey", "--vk", work / "w5.json"], "warm-up setup")
    _run([zk, "zkey", "contribute", work / "w5_0.zkey", work / "w5_1.zkey", "-e", "w"], "warm-up contribute")
    _run([zk, "zkey", "verify", wr, wp, work / "w5_1.zkey"], "warm-up verify")

    rows: list[dict] = []
    for k in a.powers:
        print(f"\n== power {k} ==", flush=True)
        ptau, r1cs = _make_inputs(work, k)
        pp = work / f"p{k}_ours_prepared.ptau"
        for f in (pp, work / f"z{k}_0.zkey", work / f"z{k}_0u.zkey", work / f"z{k}_1.zkey", work / f"s{k}_0.zkey",
                  work / f"s{k}_1.zkey", work / f"s{k}_prepared.ptau", work / f"z{k}_0.json", work / f"z{k}_0u.json"):
            f.unlink(missing_ok=True)
        use_sj = sj is not None and k <= a.snarkjs_max
        res: dict[str, dict | None] = {}
        res["prepare/ours"] = _run([zk, "ptau", "prepare", ptau, pp], "zkmargin ptau prepare")
        res["prepare/snarkjs"] = None
        if use_sj and k <= a.prepare_snarkjs_max:
            res["prepare/snarkjs"] = _run([*sj, "powersoftau", "prepare", "phase2", ptau, work / f"s{k}_prepared.ptau"],
                                          "snarkjs powersoftau prepare phase2")
            same = (work / f"s{k}_prepared.ptau").read_bytes() == pp.read_bytes()
            print(f"    prepared files identical: {same}", flush=True)
            assert same
        res["setup/ours"] = _run([zk, "setup", r1cs, "--ptau", pp, "--zkey", work / f"z{k}_0.zkey",
                                  "--vk", work / f"z{k}_0.json"], "zkmargin setup --ptau (prepared)")
        if k <= a.unprepared_max:
            res["setup-unprepared/ours"] = _run([zk, "setup", r1cs, "--ptau", ptau, "--zkey",
                                                 work / f"z{k}_0u.zkey", "--vk", work / f"z{k}_0u.json"],
                                                "zkmargin setup --ptau (unprepared)")
        res["setup/snarkjs"] = None
        if use_sj:
            res["setup/snarkjs"] = _run([*sj, "groth16", "setup", r1cs, pp, work / f"s{k}_0.zkey"],
                                        "snarkjs groth16 setup")
            same = _same_key(work / f"s{k}_0.zkey", work / f"z{k}_0.zkey")
            print(f"    initial keys: {same}", flush=True)
        res["contribute/ours"] = _run([zk, "zkey", "contribute", work / f"z{k}_0.zkey", work / f"z{k}_1.zkey",
                                       "-n", "bench", "-e", "bench"], "zkmargin zkey contribute")
        res["contribute/snarkjs"] = None
        if use_sj:
            res["contribute/snarkjs"] = _run([*sj, "zkey", "contribute", work / f"s{k}_0.zkey", work / f"s{k}_1.zkey",
                                              "-n=bench", "-e=bench"], "snarkjs zkey contribute")
        res["verify/ours"] = _run([zk, "zkey", "verify", r1cs, pp, work / f"z{k}_1.zkey"], "zkmargin zkey verify")
        res["verify/snarkjs"] = None
        if use_sj:
            # each tool verifies its own chain (at domain = 2^power snarkjs's csHash reads past the ptau)
            res["verify/snarkjs"] = _run([*sj, "zkey", "verify", r1cs, pp, work / f"s{k}_1.zkey"],
                                         "snarkjs zkey verify")
        rows.append({"power": k, "circuit": "chain", **res})

    for model in a.model:
        from zkmargin.serialize import read_r1cs

        r1cs = work / f"{model.parent.name}.r1cs"
        r1cs.unlink(missing_ok=True)
        _run([zk, "compile", model, "-o", r1cs], f"zkmargin compile {model}")
        cs = read_r1cs(r1cs)
        k = (cs.n_constraints + cs.n_public).bit_length()
        print(f"\n== model {model} ({cs.n_constraints:,} constraints, domain 2^{k}) ==", flush=True)
        ptau, _ = _make_inputs(work, k)
        pp = work / f"p{k}_ours_prepared.ptau"
        if not pp.exists():
            _run([zk, "ptau", "prepare", ptau, pp], "zkmargin ptau prepare")
        tag = model.parent.name
        for f in work.glob(f"{tag}_*"):
            f.unlink()
        res = {}
        res["setup/ours"] = _run([zk, "setup", model, "--ptau", pp, "--zkey", work / f"{tag}_z0.zkey",
                                  "--vk", work / f"{tag}_z0.json"], "zkmargin setup MODEL --ptau")
        res["setup/snarkjs"] = _run([*sj, "groth16", "setup", r1cs, pp, work / f"{tag}_s0.zkey"],
                                    "snarkjs groth16 setup") if sj else None
        if sj:
            assert (work / f"{tag}_s0.zkey").read_bytes() == (work / f"{tag}_z0.zkey").read_bytes()
            print("    initial keys identical: True", flush=True)
        res["contribute/ours"] = _run([zk, "zkey", "contribute", work / f"{tag}_z0.zkey", work / f"{tag}_z1.zkey",
                                       "-e", "b"], "zkmargin zkey contribute")
        res["contribute/snarkjs"] = _run([*sj, "zkey", "contribute", work / f"{tag}_z0.zkey",
                                          work / f"{tag}_s1.zkey", "-e=b"], "snarkjs zkey contribute") if sj else None
        res["verify/ours"] = _run([zk, "zkey", "verify", model, pp, work / f"{tag}_z1.zkey"], "zkmargin zkey verify")
        res["verify/snarkjs"] = _run([*sj, "zkey", "verify", r1cs, pp, work / f"{tag}_z1.zkey"],
                                     "snarkjs zkey verify") if sj else None
        rows.append({"power": k, "circuit": tag, **res})

    for k in a.contribute_only:
        print(f"\n== contribution at 2^{k} (ours; the initial key from the development setup) ==", flush=True)
        z0, z1 = work / f"dev{k}_0.zkey", work / f"dev{k}_1.zkey"
        if not z0.exists():
            _make_dev_key(work, k, z0)
        z1.unlink(missing_ok=True)
        res = {"contribute/ours": _run([zk, "zkey", "contribute", z0, z1, "-e", "b"], "zkmargin zkey contribute")}
        rows.append({"power": k, "circuit": "chain (dev key)", **res})

    print("\n| step | circuit | size | zkmargin s (load) | snarkjs s (load) | speed-up |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        k = r["power"]
        for step in ("prepare", "setup", "setup-unprepared", "contribute", "verify"):
            if f"{step}/ours" not in r:
                continue
            ours, theirs = r.get(f"{step}/ours"), r.get(f"{step}/snarkjs")
            o = f"{ours['seconds']:.2f} ({ours['load']:.2f})" if ours else "-"
            t = f"{theirs['seconds']:.2f} ({theirs['load']:.2f})" if theirs else "not run"
            print(f"| {step} | {r['circuit']} | 2^{k} | {o} | {t} | {_ratio(ours, theirs)} |")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
