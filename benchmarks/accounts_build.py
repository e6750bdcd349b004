"""Time and peak memory of ``zkmargin accounts build`` on N generated accounts (the 1,000,000 figure).

    python -P benchmarks/accounts_build.py --accounts 1000000 --depth 20 --workdir /tmp/acc-bench
    python -P benchmarks/accounts_build.py --accounts 100000 --depth 20 --keep   # keep the tree

Generates a JSONL snapshot of N cross-margin accounts (the examples/cross model: 11 account
values, so one width-17 sponge block per leaf), each a variation of examples/cross/portfolio_pass.json
with its own sizes and amounts and a random registered key commitment, then runs the CLI in a
fresh process and reports its wall time (with the phase lines it prints on stderr) and the peak
resident memory of that process (``getrusage(RUSAGE_CHILDREN).ru_maxrss``), the size of the
output, and the load average. Deletes the output unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples" / "cross"
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617


def write_snapshot(path: Path, n: int, seed: int) -> None:
    base = json.loads((EX / "portfolio_pass.json").read_text())
    base.pop("description", None)
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            e = dict(base)
            e["account_id"] = f"acct-{i:07d}"
            e["key_commitment"] = str(rng.randrange(R))
            e["positions"] = [dict(p, size=str(int(p["size"]) + (i % 5) * (1 if int(p["size"]) > 0 else -1)))
                              for p in base["positions"]]
            e["collateral"] = [{"asset": "USDC", "amount": str(8000 + i % 100_000)},
                               {"asset": "BTC", "amount": "0.05"}, {"asset": "ETH", "amount": str(1 + i % 3)}]
            f.write(json.dumps(e, separators=(",", ":")) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/zkmargin-accounts-bench"))
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    a.workdir.mkdir(parents=True, exist_ok=True)
    snap = a.workdir / f"snapshot_{a.accounts}.jsonl"
    if not snap.exists():
        t = time.perf_counter()
        write_snapshot(snap, a.accounts, a.seed)
        mib = snap.stat().st_size / 2**20
        print(f"generated {a.accounts:,} accounts in {time.perf_counter() - t:.1f}s ({mib:.0f} MiB)")
    out = a.workdir / f"tree_{a.accounts}_{a.depth}"
    if out.exists():
        shutil.rmtree(out)
    epoch = json.loads((EX / "market.json").read_text())["epoch"]
    exe = shutil.which("zkmargin") or str(Path(sys.executable).with_name("zkmargin"))
    argv = [exe, "accounts", "build", str(EX / "model.json"), str(snap),
            "-o", str(out), "--epoch", str(epoch), "--depth", str(a.depth)]
    t = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - t
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB -> MiB on Linux
    du = subprocess.run(["du", "-sm", str(out)], capture_output=True, text=True).stdout.split()[0]
    n_open = len(os.listdir(out / "openings"))
    print(p.stdout.strip())
    print(json.dumps({"accounts": a.accounts, "depth": a.depth, "wall_s": round(wall, 1), "peak_rss_mib": round(peak),
                      "output_mib": int(du), "openings": n_open, "loadavg": os.getloadavg(), "cpus": os.cpu_count()}))
    if not a.keep:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
