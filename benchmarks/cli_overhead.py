"""The command line's own overhead: ``zkmargin prove`` and ``zkmargin verify`` against the same work in-process.

    python -P benchmarks/cli_overhead.py --k 16 --repeat 5            # builds a 2^16 key in a temp folder
    python -P benchmarks/cli_overhead.py --workdir /tmp/k16 --repeat 7 # reuses c.zkey / c.wtns there

The zkmargin columns of the side-by-side bench (:mod:`zkmargin.benchmarks.side_by_side`, which also
runs rapidsnark and snarkjs) at one size: rounds interleaved of ``zkmargin prove --witness c.wtns
--zkey c.zkey`` (a new process each round) and of one long-lived process that reads the same files
with the CLI's readers and proves (read + prove; prove from a loaded key), every proof verified,
then a warm ``zkmargin verify`` of a 4-input proof. Prints the table, the overhead and the loads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zkmargin.benchmarks import side_by_side


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", type=int, default=16, help="circuit size 2^k (default 16)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--workdir", type=Path, help="reuse/keep the keys here (one folder per size below it)")
    a = ap.parse_args(argv)
    args = ["--sizes", str(a.k), "--repeat", str(a.repeat), "--repeat-large", str(a.repeat), "--no-rapidsnark",
            "--no-snarkjs", "--verify-repeat", str(a.repeat)]
    if a.workdir is not None:
        args += ["--workdir", str(a.workdir)]
    return side_by_side.main(args)


if __name__ == "__main__":
    sys.exit(main())
