"""Named hints: values the prover computes outside the constraints.

A hint is a plain function from input values (ints in [0, r)) to output values. It is registered
under a name so that errors, logs and tests can refer to it ("bits.decompose"). A hint's outputs are
unconstrained wires: the gadget that calls ``api.hint`` must constrain them in the same function
(docs/style.md rule 5). ``override_hints`` lets a test play a malicious prover whose hints lie.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

from zkmargin.errors import HintError

__all__ = ["HintFn", "register_hint", "get_hint", "override_hints", "registered_hints"]

HintFn = Callable[[Sequence[int]], Sequence[int]]

_REGISTRY: dict[str, HintFn] = {}
_OVERRIDES: list[dict[str, HintFn]] = []


def register_hint(name: str) -> Callable[[HintFn], HintFn]:
    """Decorator: register ``fn`` as the hint called ``name`` (names are unique)."""

    def deco(fn: HintFn) -> HintFn:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise HintError(f"hint {name!r} is already registered")
        _REGISTRY[name] = fn
        return fn

    return deco


def get_hint(name: str) -> HintFn:
    """The function for ``name``, honouring active overrides (innermost first)."""
    for layer in reversed(_OVERRIDES):
        if name in layer:
            return layer[name]
    try:
        return _REGISTRY[name]
    except KeyError:
        raise HintError(f"no hint registered under {name!r}") from None


def registered_hints() -> list[str]:
    return sorted(_REGISTRY)


@contextlib.contextmanager
def override_hints(overrides: dict[str, HintFn]) -> Iterator[None]:
    """Replace named hints for the duration of a ``with`` block (tests: lying provers)."""
    _OVERRIDES.append(dict(overrides))
    try:
        yield
    finally:
        _OVERRIDES.pop()
