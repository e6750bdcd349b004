"""The prover sweep of ``zkmargin bench`` as a script (same library: ``zkmargin.benchmarks.prover_bench``).

    python -P benchmarks/prover_sweep.py                          # 2^10 .. 2^16, with snarkjs
    python -P benchmarks/prover_sweep.py --sizes 16 --repeat 7 --cold
    python -P benchmarks/prover_sweep.py --sizes 18,20 --repeat 3 --no-snarkjs --json sweep.json

snarkjs is looked up in $ZKMARGIN_SNARKJS, then node_modules/ and tests/node/node_modules/ (the
test suite's pinned copy: ``cd tests/node && npm install``). Run with ``-P`` (or from another
folder) so that the checkout's ``zkmargin/`` folder does not shadow the installed package.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zkmargin.benchmarks.prover_bench import BENCH_HELP, format_table, run_bench


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=BENCH_HELP.replace("\b\n", ""),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10,12,14,16", help="comma-separated exponents k (domain 2^k)")
    ap.add_argument("--repeat", type=int, default=5, help="timed rounds per size")
    ap.add_argument("--no-snarkjs", action="store_true", help="skip the snarkjs comparison")
    ap.add_argument("--cold", action="store_true", help="measure a cold start (empty numba cache) too")
    ap.add_argument("--workdir", type=Path, help="keep the keys and proofs here")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    a = ap.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",") if s.strip()]

    def say(msg: str) -> None:
        print(msg, flush=True)

    def status(msg: str) -> None:
        print(f"  .. {msg}", file=sys.stderr, flush=True)

    args = argv if argv is not None else sys.argv[1:]
    print("$ python -P benchmarks/prover_sweep.py " + " ".join(args))
    rows = run_bench(sizes, snarkjs=not a.no_snarkjs, repeat=a.repeat, out=say, progress=status,
                     cold_start=a.cold, workdir=a.workdir)
    print(format_table(rows))
    if a.json:
        a.json.write_text(json.dumps([r.to_dict() for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
