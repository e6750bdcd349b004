"""Wall time of ``zkmargin prove`` from a fresh interpreter (the CLI figure of the acceptance notes).

    python -P benchmarks/cli_prove_timing.py                 # cross-simple, 1 position + 1 asset: 2^10
    python -P benchmarks/cli_prove_timing.py --repeat 7 --workdir /tmp/cli-bench

Compiles and sets up the built-in ``cross-simple`` circuit once (682 constraints + 6 public rows:
a 2^10 domain), proves once to warm numba's on-disk cache, then runs ``zkmargin prove`` --repeat
times, each a new process (interpreter start, imports, cache loading, witness, proof, files), and
prints every wall time, the median, the 1-minute load average, and the last run's own phase line.
Also times ``zkmargin verify`` the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from zkmargin.benchmarks.prover_bench import work_folder

INPUT = {
    "threshold": "1000", "asset_prices": ["2000"], "haircuts": ["500"], "marks": ["100"], "rates": ["1000"],
    "amounts": ["50"], "sizes": ["-3"], "entries": ["90"],
}
PARAMS = ["-p", "n_positions=1", "-p", "n_assets=1"]


def _run(argv: list[str], cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return wall, p.stdout + p.stderr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--workdir", type=Path)
    a = ap.parse_args(argv)
    exe = shutil.which("zkmargin")
    if exe is None:
        raise SystemExit("zkmargin is not on PATH (pip install -e '.[prover]')")
    with work_folder(a.workdir, "zkmargin-cli-bench-") as d:
        (d / "input.json").write_text(json.dumps(INPUT))
        print(_run([exe, "compile", "cross-simple", *PARAMS, "-o", "c.r1cs"], d)[1].rstrip())
        print(_run([exe, "setup", "c.r1cs", "--zkey", "c.zkey", "--vk", "vk.json"], d)[1].rstrip())
        prove = [exe, "prove", "cross-simple", *PARAMS, "--input", "input.json", "--zkey", "c.zkey",
                 "--proof", "proof.json", "--public", "public.json"]
        verify = [exe, "verify", "vk.json", "public.json", "proof.json"]
        _run(prove, d)  # warm the numba cache (a no-op when it is warm already)
        print(f"$ cd {d} && {' '.join(['zkmargin', *prove[1:]])}")
        walls, text = [], ""
        load0 = os.getloadavg()[0]
        for _ in range(a.repeat):
            w, text = _run(prove, d)
            walls.append(w)
        load1 = os.getloadavg()[0]
        print(text.rstrip())
        print(f"zkmargin prove wall: median {statistics.median(walls):.2f}s over {a.repeat} fresh processes "
              f"({', '.join(f'{w:.2f}' for w in walls)}); load {load0:.1f}/{load1:.1f}, {os.cpu_count()} CPUs")
        vw = [_run(verify, d)[0] for _ in range(a.repeat)]
        print(f"zkmargin verify wall: median {statistics.median(vw):.2f}s ({', '.join(f'{w:.2f}' for w in vw)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
