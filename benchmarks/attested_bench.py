"""Prove time of the venue-attested statement at depth 20 and 32, side by side with the bilateral one.

    python -P benchmarks/attested_bench.py                       # examples/cross, 3 proofs each
    python -P benchmarks/attested_bench.py --example lending --repeat 5 --json out.json

For one published example (model, market, passing portfolio), builds the bilateral circuit and the
attested circuit at each depth, runs a development setup for each, then proves ``--repeat`` times
in this process (numba warm after a first untimed proof) and prints, per statement: constraints,
the setup time, the witness time, the median prove time and its ratio to the bilateral one. The
attested witness is for an account at a random slot of a random tree of that depth (the tree
itself is not built: its path is random siblings, its root computed from them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import warnings
from pathlib import Path

from zkmargin import merkle as M
from zkmargin.accounts import new_key
from zkmargin.circuits import build
from zkmargin.circuits.margin import assignment_for
from zkmargin.circuits.margin.attested import attested_assignment_for
from zkmargin.encoding import account_leaf, random_salt
from zkmargin.field import R
from zkmargin.margin import load_market, load_model, load_portfolio, model_digest
from zkmargin.prover import DevelopmentSetupWarning, prove, setup
from zkmargin.prover.backend import backend_name

ROOT = Path(__file__).resolve().parents[1] / "examples"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--example", default="cross", help="a folder of examples/ (cross, isolated, lending, ...)")
    ap.add_argument("--depths", default="20,32")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", dest="json_path", type=Path)
    a = ap.parse_args()
    manifest = {e["name"]: e for e in json.loads((ROOT / "manifest.json").read_text())["examples"]}[a.example]
    model = load_model(ROOT / manifest["model"])
    market = load_market(ROOT / manifest["market"], model)
    case = manifest["cases"][0]
    pf = load_portfolio(ROOT / case["portfolio"], model)
    threshold, context = case["threshold"], 0x1234
    rng = random.Random(20261213)
    key, salt = new_key(), random_salt()
    circuits = {"bilateral": assignment_for(model, market, pf, salt, threshold, context)}
    leaf = account_leaf(model_digest(model), pf.to_field_elements(model), salt, key.key_commitment)
    for d in (int(x) for x in a.depths.split(",")):
        index = rng.randrange(1 << d)
        path = [rng.randrange(R) for _ in range(d)]
        root = M.root_from_path(leaf, index, path)
        circuits[f"attested d={d}"] = attested_assignment_for(model, market, pf, salt, key.key, index, path, root,
                                                              threshold, context)
    rows = []
    for name, circ in circuits.items():
        t = time.perf_counter()
        cs, w = build(circ)
        t_wit = time.perf_counter() - t
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DevelopmentSetupWarning)
            t = time.perf_counter()
            pk, _ = setup(cs)
            t_setup = time.perf_counter() - t
        prove(pk, w, cs)  # warm
        times = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            prove(pk, w, cs)
            times.append(time.perf_counter() - t)
        rows.append({"statement": name, "constraints": cs.n_constraints, "public": cs.n_public,
                     "domain": pk.domain_size, "setup_s": round(t_setup, 2), "witness_s": round(t_wit, 3),
                     "prove_ms": round(statistics.median(times) * 1000, 1), "prove_all_ms": [round(x * 1000, 1)
                                                                                            for x in times]})
    base = rows[0]["prove_ms"]
    print(f"{a.example} ({model.margin_model}); {backend_name()} backend; {os.cpu_count()} CPUs; "
          f"load {os.getloadavg()[0]:.2f}; median of {a.repeat}")
    print(f"{'statement':<16}{'constraints':>12}{'domain':>9}{'witness s':>11}{'prove ms':>10}{'vs bilateral':>14}")
    for r in rows:
        print(f"{r['statement']:<16}{r['constraints']:>12,}{r['domain']:>9,}{r['witness_s']:>11.3f}"
              f"{r['prove_ms']:>10.1f}{r['prove_ms'] / base:>13.2f}x")
    if a.json_path:
        a.json_path.write_text(json.dumps({"example": a.example, "rows": rows, "load": os.getloadavg()}, indent=2))


if __name__ == "__main__":
    main()
