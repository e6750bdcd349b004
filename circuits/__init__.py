"""Circuit-writing API: declare fields, define constraints, compile to R1CS, solve witnesses.

See ``zkmargin.circuits.circuit`` for an example. Gadgets live in ``zkmargin.circuits.std``;
margin models in ``zkmargin.circuits.margin``.
"""

from .api import API, Var
from .circuit import Circuit, param, public, secret
from .compiler import build, compile_circuit, solve
from .hints import override_hints, register_hint

compile = compile_circuit  # noqa: A001 - the verb the docs use: zkmargin.circuits.compile(circuit)

__all__ = [
    "API",
    "Var",
    "Circuit",
    "public",
    "secret",
    "param",
    "compile",
    "compile_circuit",
    "solve",
    "build",
    "register_hint",
    "override_hints",
]
