"""The command line's own overhead: ``zkmargin prove`` and ``zkmargin verify`` against the same work in-process.

    python -P benchmarks/cli_overhead.py --k 16 --repeat 5            # builds a 2^16 key in a temp folder
    python -P benchmarks/cli_overhead.py --workdir /tmp/k16 --repeat 7 # reuses c.zkey / c.wtns there

Builds (or reuses) the synthetic 2^k circuit's ``c.zkey``, ``c.wtns`` and ``verification_key.json``
(``zkmargin.benchmarks.prover_bench``), then, in rounds interleaved so that both see the same load:

- in-process: one long-lived process reads the files through the CLI's readers (mapped, validated)
  and proves: the *files* time, and the prove time alone from the loaded key;
- CLI: ``zkmargin prove --witness c.wtns --zkey c.zkey`` as a new process each round (interpreter,
  imports, numba's cache, reading, proving, the self-check, writing): its wall time;
- ``zkmargin verify`` of the proof (``--pairing-only``), a new process each round.

Prints the medians, the CLI's overhead over the in-process files time, and the 1-minute load
averages before and after (a shared machine: compare within one run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_INPROC = r"""
import json, sys, time
from pathlib import Path
from zkmargin.cli_perf import read_witness_for_prove, read_zkey_for_prove
from zkmargin.prover import prove
d = Path(sys.argv[1])
def files():
    t = time.perf_counter()
    pk = read_zkey_for_prove(d / "c.zkey"); w = read_witness_for_prove(d / "c.wtns")
    t1 = time.perf_counter()
    prove(pk, w)
    t2 = time.perf_counter()
    return pk, w, t1 - t, t2 - t
pk, w, _, _ = files()  # warm-up: numba's cache loaded
print("@@ready", flush=True)
for line in sys.stdin:
    pk, w, read_s, files_s = files()
    t = time.perf_counter(); prove(pk, w); prove_s = time.perf_counter() - t
    print("@@" + json.dumps({"read_s": read_s, "files_s": files_s, "prove_s": prove_s}), flush=True)
"""


def _median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", type=int, default=16, help="circuit size 2^k (default 16)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--workdir", type=Path, help="reuse/keep c.zkey, c.wtns, verification_key.json here")
    a = ap.parse_args(argv)
    exe = shutil.which("zkmargin")
    if exe is None:
        raise SystemExit("zkmargin is not on PATH")
    tmp = None
    if a.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="zkmargin-cli-overhead-")
        d = Path(tmp.name)
    else:
        d = a.workdir
        d.mkdir(parents=True, exist_ok=True)
    try:
        if not (d / "c.zkey").exists():
            print(f"building the 2^{a.k} circuit and its keys in {d} ...", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, "-P", "-c", "import sys; from zkmargin.benchmarks.prover_bench import "
                            "_prepare_main; _prepare_main(sys.argv[1:])", str(d), str(a.k)], check=True,
                           stdout=subprocess.DEVNULL)
        srv = subprocess.Popen([sys.executable, "-P", "-c", _INPROC, str(d)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
        assert srv.stdin is not None and srv.stdout is not None
        assert srv.stdout.readline().startswith("@@ready")
        prove_cmd = [exe, "prove", "--witness", str(d / "c.wtns"), "--zkey", str(d / "c.zkey"), "--proof",
                     str(d / "proof.json"), "--public", str(d / "public.json")]
        verify_cmd = [exe, "verify", str(d / "verification_key.json"), str(d / "public.json"), str(d / "proof.json"),
                      "--pairing-only"]
        subprocess.run(prove_cmd, check=True, capture_output=True)  # the CLI's own first run
        rows: dict[str, list[float]] = {"cli_prove": [], "cli_verify": [], "files_s": [], "prove_s": [], "read_s": []}
        load_before = os.getloadavg()[0]
        for i in range(a.repeat):
            print(f"  round {i + 1}/{a.repeat}", file=sys.stderr, flush=True)
            srv.stdin.write("go\n")
            srv.stdin.flush()
            msg = json.loads(srv.stdout.readline()[2:])
            for key in ("files_s", "prove_s", "read_s"):
                rows[key].append(msg[key])
            t = time.perf_counter()
            subprocess.run(prove_cmd, check=True, capture_output=True)
            rows["cli_prove"].append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run(verify_cmd, check=True, capture_output=True)
            rows["cli_verify"].append(time.perf_counter() - t)
        load_after = os.getloadavg()[0]
        srv.stdin.close()
        srv.wait()
        med = {k: _median(v) for k, v in rows.items()}
        print(f"2^{a.k}, {a.repeat} rounds, medians (s), {os.cpu_count()} CPUs, load {load_before:.2f} -> "
              f"{load_after:.2f}:")
        print(f"  in-process: read {med['read_s']:.3f}, read + prove {med['files_s']:.3f}, prove from a loaded key "
              f"{med['prove_s']:.3f}")
        print(f"  zkmargin prove (new process): {med['cli_prove']:.3f}  -> overhead over in-process read + prove: "
              f"{med['cli_prove'] - med['files_s']:.3f}")
        print(f"  zkmargin verify (new process, 1 proof): {med['cli_verify']:.3f}")
        print("  samples: " + json.dumps({k: [round(x, 3) for x in v] for k, v in rows.items()}))
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
