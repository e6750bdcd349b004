"""Margin-model cases for ``zkmargin bench``: each model at portfolio sizes (positions x scenarios x assets).

A case builds the model's circuit (:func:`zkmargin.circuits.margin.circuit_for`) at the given sizes,
draws a random valid market and portfolio with the test suite's generator
(:func:`zkmargin.circuits.margin._testing.random_case`, every document round-tripped through the
validating loaders) until the portfolio passes the rule at threshold 0, solves the witness
(:func:`~zkmargin.circuits.margin.assignment_for`) and runs the development setup, in a worker
process of :mod:`~zkmargin.benchmarks.prover_bench` (which then proves and times it like a synthetic
circuit). Sizes per model:

==========  =======================================================================
cross       ``positions`` instruments, ``assets`` collateral assets, 2 rate brackets
isolated    ``positions`` instruments (each with its own margin), 2 rate brackets
scenario    ``positions`` instruments, ``scenarios`` scenarios, ``assets`` assets
health      ``positions`` assets (collateral and debt per asset; lending has no positions)
tiered      ``positions`` instruments, ``assets`` assets, 3 rate brackets, 4 haircut tiers
==========  =======================================================================
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zkmargin.benchmarks.prover_bench import BenchError, Case, _peak_rss, _reporting_errors, _send

__all__ = ["MODELS", "model_case", "sweep_cases"]

#: The margin models a sweep can take, in the order they are run.
MODELS = ("cross", "isolated", "scenario", "health", "tiered")


def model_case(model: str, positions: int, *, scenarios: int = 16, assets: int = 2, seed: int = 1) -> Case:
    """The case of ``model`` at these sizes (see the module's table for what each size means).

    Raises:
        ValueError: an unknown model or a size below 1.
    """
    if model not in MODELS:
        raise ValueError(f"unknown margin model {model!r}: expected one of {', '.join(MODELS)}")
    if min(positions, scenarios, assets) < 1:
        raise ValueError("positions, scenarios and assets must be at least 1")
    if model == "health":
        label, sc, a, p = f"health a{positions}", None, positions, None
    elif model == "isolated":
        label, sc, a, p = f"isolated p{positions}", None, None, positions
    elif model == "scenario":
        label, sc, a, p = f"scenario p{positions} s{scenarios} a{assets}", scenarios, assets, positions
    else:
        label, sc, a, p = f"{model} p{positions} a{assets}", None, assets, positions
    spec = {"model": model, "positions": positions, "scenarios": scenarios, "assets": assets, "seed": seed}
    return Case(label=label, model=model, spec=json.dumps(spec), prepare=f"{__name__}:_prepare_model_main",
                positions=p, scenarios=sc, assets=a)


def sweep_cases(models: Sequence[str], positions: Sequence[int], *, scenarios: int = 16, assets: int = 2,
                seed: int = 1) -> list[Case]:
    """One case per model and position count, models in :data:`MODELS` order, sizes increasing."""
    return [model_case(m, p, scenarios=scenarios, assets=assets, seed=seed)
            for m in MODELS if m in models for p in sorted(set(positions))]


def _venue_model(spec: dict[str, Any]) -> Any:
    from zkmargin.circuits.margin._testing import SMALL_SIZES, small_model

    kind, p, s, a = spec["model"], spec["positions"], spec["scenarios"], spec["assets"]
    sizes = dict(SMALL_SIZES[kind]["sizes"])
    if kind == "health":
        sizes["n_assets"], n_symbols = p, (0, p)
    elif kind == "isolated":
        sizes["n_instruments"], n_symbols = p, (p, 0)
    else:
        sizes["n_instruments"], sizes["n_assets"] = p, a
        if kind == "scenario":
            sizes["n_scenarios"] = s
        n_symbols = (p, a)
    return small_model(kind, model_id=f"bench-{kind}", sizes=sizes, n_symbols=n_symbols)


@_reporting_errors
def _prepare_model_main(args: list[str]) -> None:
    """Worker: the model's circuit, a random passing portfolio, its witness and development keys, written
    as c.zkey / c.wtns / verification_key.json (as ``prover_bench._prepare_main`` does for 2^k)."""
    import warnings

    from zkmargin.circuits import build
    from zkmargin.circuits.margin import assignment_for
    from zkmargin.circuits.margin._testing import random_case
    from zkmargin.margin import evaluate
    from zkmargin.prover import DevelopmentSetupWarning, setup
    from zkmargin.serialize import write_verifying_key, write_wtns, write_zkey

    d, spec = Path(args[0]), json.loads(args[1])
    model = _venue_model(spec)
    rng = random.Random(spec["seed"])
    t0 = time.perf_counter()
    for _ in range(200):  # a random valid case that passes the rule at threshold 0
        market, portfolio = random_case(rng, model)
        if evaluate(model, market, portfolio, 0).passes:
            break
    else:
        raise BenchError(f"{spec['model']}: no passing random portfolio in 200 draws")
    cs, witness = build(assignment_for(model, market, portfolio, rng.randrange(1, 1 << 128), 0,
                                       rng.randrange(1, 1 << 128)))
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentSetupWarning)
        pk, vk = setup(cs, warn=False)
    t2 = time.perf_counter()
    info = {"constraints": cs.n_constraints, "n_wires": cs.n_wires, "n_public": cs.n_public,
            "domain_size": pk.domain_size, "build_s": t1 - t0, "setup_s": t2 - t1}
    del cs
    write_zkey(pk, d / "c.zkey")
    write_wtns(witness, d / "c.wtns")
    write_verifying_key(vk, d / "verification_key.json")
    _send({**info, "write_s": time.perf_counter() - t2, "rss": _peak_rss()})
