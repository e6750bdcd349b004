"""Compile a circuit to R1CS and solve its witness, with one code path for both.

``compile(circuit)`` runs ``define`` in shape-only mode; ``solve(circuit)`` runs it in witness
mode with the assignment given to the circuit's constructor. Both produce the same constraint
system (checked by digest when the compiled system is passed to ``solve``).
"""

from __future__ import annotations

import copy
import logging
import time

from zkmargin.errors import CircuitError
from zkmargin.r1cs import ConstraintSystem

from .api import API
from .circuit import Circuit, _alloc_field, _flatten

__all__ = ["compile_circuit", "solve", "build"]

log = logging.getLogger(__name__)


def _run(circuit: Circuit, compute: bool, check: bool) -> API:
    api = API(compute=compute, check=check)
    view = copy.copy(circuit)
    for name, spec in circuit._fields.items():
        shape = circuit.shape_of(name)
        flat = None
        if compute:
            if name not in circuit._assignment:
                raise CircuitError(f"{type(circuit).__name__}: field {name!r} is not assigned")
            flat = _flatten(name, circuit._assignment[name], shape)
        view.__dict__[name] = _alloc_field(api, name, spec.kind, shape, flat)
    type(circuit).define(view, api)
    return api


def _to_cs(api: API) -> ConstraintSystem:
    return ConstraintSystem(
        n_wires=len(api.wire_names),
        n_public=api.n_public,
        constraints=api.constraints,
        labels=api.labels,
        wire_names=api.wire_names,
    )


def compile_circuit(circuit: Circuit) -> ConstraintSystem:
    """The constraint system of ``circuit`` (its params fix the shape; values are ignored).

    Raises:
        CircuitError: a parameter or a field is inconsistent.
    """
    t = time.perf_counter()
    cs = _to_cs(_run(circuit, compute=False, check=False))
    log.info("compiled %s: %d constraints, %d public, %d wires in %.3fs", type(circuit).__name__,
             cs.n_constraints, cs.n_public, cs.n_wires, time.perf_counter() - t)
    return cs


def build(circuit: Circuit, check: bool = True) -> tuple[ConstraintSystem, list[int]]:
    """Run ``define`` once in witness mode: the constraint system and the full witness.

    Args:
        check: raise UnsatisfiedConstraintError (scope path, values) at the first constraint
            that the assignment violates. With ``check=False`` an unsatisfying witness is
            returned as is (for tests that play a malicious prover).
    """
    api = _run(circuit, compute=True, check=check)
    witness = [int(v) for v in api.values]  # type: ignore[arg-type]
    return _to_cs(api), witness


def solve(circuit: Circuit, cs: ConstraintSystem | None = None, check: bool = True) -> list[int]:
    """The full witness for an assigned circuit: [1, public..., secret..., internal...].

    Args:
        cs: the compiled system; when given, the witness run must produce the same shape
            (``define`` must not branch on values), else CircuitError.
        check: see ``build``.
    Raises:
        CircuitError: a field is missing or malformed, or the shapes differ.
        UnsatisfiedConstraintError: the assignment violates a constraint (with check=True).
    """
    t = time.perf_counter()
    got, witness = build(circuit, check=check)
    if cs is not None and (got.n_wires != cs.n_wires or got.n_public != cs.n_public
                           or got.n_constraints != cs.n_constraints or got.digest() != cs.digest()):
        raise CircuitError(
            f"{type(circuit).__name__}: the witness run produced a different constraint system "
            f"({got.n_constraints} constraints, {got.n_wires} wires vs {cs.n_constraints}, {cs.n_wires}); "
            "define() must not branch on values"
        )
    log.info("solved witness for %s: %d wires in %.3fs", type(circuit).__name__, len(witness),
             time.perf_counter() - t)
    return witness
