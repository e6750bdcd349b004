"""Test support for gadgets (private): a circuit that runs one gadget, its cost, lying provers.

Shared by tests/circuits/test_std_*.py (pytest's importlib mode gives test files no shared
helper module) and handy when writing a new gadget: ``gadget_cost`` pins its shape,
``run_gadget`` plays an honest or a lying prover, ``search_lies`` tries every combination of
lying hint outputs from a candidate set.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zkmargin.errors import CircuitError
from zkmargin.field import R
from zkmargin.r1cs import ConstraintSystem, eval_lc

from ..api import API
from ..circuit import Circuit, param, public, secret
from ..compiler import build, compile_circuit
from ..hints import HintFn, override_hints

__all__ = ["GadgetCircuit", "Run", "gadget_cost", "run_gadget", "search_lies", "violated", "flatten",
           "ChainCircuit", "chain_values"]

Gadget = Callable[..., Any]


def flatten(out: Any) -> list[Any]:
    """Nested tuples / lists of Vars (or ints) as one flat list; None as []."""
    if out is None:
        return []
    if isinstance(out, list | tuple):
        return [v for o in out for v in flatten(o)]
    return [out]


class GadgetCircuit(Circuit):
    """``fn(api, *xs)``; when ``n_out`` > 0 its flattened outputs must equal ``expected``."""

    fn = param(doc="the gadget under test: fn(api, *xs) -> Var | nested sequence of Var | None")
    n_in = param(doc="number of secret inputs")
    n_out = param(default=0, doc="number of outputs constrained equal to the public 'expected'")
    sink = param(default=None, doc="a list that receives the output values (witness mode)")
    expected = public(shape="n_out", doc="the outputs the prover claims")
    xs = secret(shape="n_in", doc="the gadget's inputs")

    def define(self, api: API) -> None:
        flat = flatten(self.fn(api, *self.xs))
        if self.sink is not None:
            self.sink[:] = [api.value(o) for o in flat]
        if not self.n_out:
            return
        if len(flat) != self.n_out:
            raise CircuitError(f"gadget returned {len(flat)} outputs, expected {self.n_out}")
        for i, (o, e) in enumerate(zip(flat, self.expected, strict=True)):
            api.assert_equal(o, e, label=f"expected[{i}]")


@dataclass
class Run:
    """One witness run: the system, the witness, the gadget's output values."""

    cs: ConstraintSystem
    w: list[int]
    outs: list[int]

    @property
    def ok(self) -> bool:
        return self.cs.is_satisfied(self.w)

    def violated(self) -> list[str]:
        return violated(self.cs, self.w)


def gadget_cost(fn: Gadget, n_in: int) -> int:
    """Constraints of ``fn`` alone, on ``n_in`` non-constant secret inputs."""
    return compile_circuit(GadgetCircuit(fn=fn, n_in=n_in)).n_constraints


def run_gadget(fn: Gadget, xs: Sequence[int], expected: Sequence[int] | None = None, *,
               check: bool = False, hints: Mapping[str, HintFn] | None = None) -> Run:
    """Run ``fn`` on ``xs`` in witness mode, claiming ``expected`` outputs (if given).

    ``hints`` replaces named hints (a lying prover); with ``check=False`` an unsatisfying
    witness comes back as is, for the caller to test with ``Run.ok``.
    """
    exp = list(expected) if expected is not None else []
    sink: list[int] = []
    circ = GadgetCircuit(fn=fn, n_in=len(xs), n_out=len(exp), sink=sink, xs=list(xs), expected=exp)
    with override_hints(dict(hints or {})):
        cs, w = build(circ, check=check)
    return Run(cs, w, list(sink))


def search_lies(fn: Gadget, xs: Sequence[int], space: Mapping[str, Sequence[Sequence[int]]]) -> list[Run]:
    """Every run, over all combinations of the candidate outputs for each named hint, that
    SATISFIES the constraints. Each named hint returns its chosen vector at every call."""
    names = list(space)
    found = []
    for combo in itertools.product(*(space[n] for n in names)):
        hints = {n: (lambda _ins, v=list(v): v) for n, v in zip(names, combo, strict=True)}
        run = run_gadget(fn, xs, hints=hints)
        if run.ok:
            found.append(run)
    return found


def violated(cs: ConstraintSystem, w: Sequence[int]) -> list[str]:
    """Labels of every constraint the witness violates (empty when satisfied)."""
    return [cs.labels[i] for i, (a, b, c) in enumerate(cs.constraints)
            if (eval_lc(a, w) * eval_lc(b, w) - eval_lc(c, w)) % cs.prime]


class ChainCircuit(Circuit):
    """x_{i+1} = x_i^2 + k for n steps; x_0 secret, k and x_n public: n + 1 constraints, 2 public
    inputs, a circuit of any size for the prover, ceremony and interop tests and benchmarks."""

    n = param(doc="number of squaring steps")
    out = public(doc="x_n")
    k = public(doc="the constant added at every step")
    x0 = secret(doc="the secret start")

    def define(self, api: API) -> None:
        x = self.x0
        for _ in range(self.n):
            x = x * x + self.k
        api.assert_equal(x, self.out)


def chain_values(n: int, x0: int = 3, k: int = 7) -> dict[str, int]:
    """The field values of a ``ChainCircuit(n=n)`` that start at ``x0``: ``{out, k, x0}``."""
    x = x0
    for _ in range(n):
        x = (x * x + k) % R
    return {"out": x, "k": k, "x0": x0}
