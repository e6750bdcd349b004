"""The issue's headline model: SPAN-style scenario margin, 64 instruments x 16 scenarios x 8 assets.

    python benchmarks/scenario_64x16.py [--no-floor] [--seed N]

Compiles the circuit, runs the development setup, builds a random passing portfolio and its
market data (the test-suite's generators), evaluates the rule natively, solves the witness,
proves and verifies; prints constraints, domain, and seconds per step, and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import time
import warnings

from zkmargin.circuits import compile_circuit, solve
from zkmargin.circuits.margin import assignment_for, circuit_for, public_inputs_for
from zkmargin.circuits.margin._testing import random_case
from zkmargin.encoding import random_salt
from zkmargin.margin import account_commitment, evaluate
from zkmargin.margin.model import VenueModel
from zkmargin.prover import DevelopmentSetupWarning, PhaseTimings, prove, setup
from zkmargin.prover.backend import backend_name
from zkmargin.verifier import prepare_verifying_key, verify


def big_scenario(floor: bool) -> VenueModel:
    return VenueModel(model_id="big-scenario", venue="bench", margin_model="scenario",
                      instruments=tuple(f"I{i}" for i in range(64)), assets=tuple(f"A{j}" for j in range(8)),
                      n_instruments=64, n_assets=8, n_rate_brackets=0, n_tiers=0, n_scenarios=16,
                      quantity_decimals=6, price_decimals=2, rate_decimals=4, short_option_floor=floor)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-floor", action="store_true", help="without the short-option floor")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    model = big_scenario(not args.no_floor)
    rng = random.Random(args.seed)
    t = time.perf_counter()
    cs = compile_circuit(circuit_for(model))
    t_compile = time.perf_counter() - t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentSetupWarning)
        t = time.perf_counter()
        pk, vk = setup(cs)
        t_setup = time.perf_counter() - t
    while True:  # a random case that passes at threshold 0
        market, portfolio = random_case(rng, model)
        report = evaluate(model, market, portfolio, 0)
        if report.passes:
            break
    salt = random_salt()
    context = rng.randrange(1, 1 << 128)
    t = time.perf_counter()
    w = solve(assignment_for(model, market, portfolio, salt, 0, context), cs)
    t_witness = time.perf_counter() - t
    tm = PhaseTimings()
    t = time.perf_counter()
    proof, public = prove(pk, w, cs, timings=tm)
    t_prove = time.perf_counter() - t
    expected = public_inputs_for(model, market, account_commitment(model, portfolio, salt), 0, context)
    assert public == expected
    pvk = prepare_verifying_key(vk)
    t = time.perf_counter()
    ok = verify(pvk, public, proof)
    t_verify = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scenario 64 instruments x 16 scenarios x 8 assets (floor {'on' if not args.no_floor else 'off'}), "
          f"{backend_name()} backend, load average {os.getloadavg()[0]:.2f}")
    print(f"  constraints {cs.n_constraints:,}, wires {cs.n_wires:,}, domain 2^{pk.domain_size.bit_length() - 1}")
    print(f"  report: {report.explain()}")
    print(f"  compile {t_compile:.2f}s, setup {t_setup:.2f}s, witness {t_witness:.2f}s, prove {t_prove:.2f}s "
          f"({', '.join(f'{k} {v:.2f}s' for k, v in tm.phases.items())}), verify {t_verify * 1e3:.1f} ms: {ok}")
    print(f"  peak RSS {rss:,.0f} MiB")
    assert ok


if __name__ == "__main__":
    main()
