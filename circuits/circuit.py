"""Declaring circuits: a class with ``public()``, ``secret()`` and ``param()`` fields.

Example::

    class Product(Circuit):
        n = param(doc="number of factors")
        out = public(doc="the product")
        xs = secret(shape="n", doc="the factors, each < 2**32")

        def define(self, api):
            acc = api.const(1)
            for x in self.xs:
                rangecheck.assert_bits(api, x, bits=32)
                acc = acc * x
            api.assert_equal(acc, self.out)

    cs = compile(Product(n=3))                                # shape only
    w = solve(Product(n=3, out=30, xs=[2, 3, 5]), cs)        # witness

Public fields become the public-input wires 1..n_public in declaration order (row-major for
arrays); then secret fields; then wires created by ``define``. Shapes may name params
(``shape="n"`` or ``shape=("n", "s")``). Inside ``define``, a field is a ``Var`` (scalars) or
nested lists of ``Var``; params are plain Python values.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zkmargin.errors import CircuitError
from zkmargin.field import R

from .api import API

__all__ = ["Circuit", "public", "secret", "param", "FieldSpec", "ParamSpec"]

ShapeSpec = None | int | str | tuple[int | str, ...]
_MISSING: Any = object()


@dataclass(frozen=True)
class FieldSpec:
    """A public or secret input: its kind, shape (possibly naming params) and documentation."""

    kind: str  # "public" | "secret"
    shape: ShapeSpec = None
    doc: str = ""


@dataclass(frozen=True)
class ParamSpec:
    """A compile-time parameter (sizes, constants) with an optional default."""

    default: Any = _MISSING
    doc: str = ""


def public(shape: ShapeSpec = None, doc: str = "") -> Any:
    """A public input field (bound into the proof; the verifier supplies it)."""
    return FieldSpec("public", shape, doc)


def secret(shape: ShapeSpec = None, doc: str = "") -> Any:
    """A secret input field (known to the prover only)."""
    return FieldSpec("secret", shape, doc)


def param(default: Any = _MISSING, doc: str = "") -> Any:
    """A compile-time parameter: changes the shape of the circuit, not a wire."""
    return ParamSpec(default, doc)


class Circuit:
    """Base class of every circuit. Subclasses declare fields and implement ``define(api)``."""

    _fields: dict[str, FieldSpec]
    _params: dict[str, ParamSpec]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, FieldSpec] = {}
        params: dict[str, ParamSpec] = {}
        for klass in reversed(cls.__mro__):
            for name, v in vars(klass).items():
                if isinstance(v, FieldSpec):
                    fields[name] = v
                elif isinstance(v, ParamSpec):
                    params[name] = v
                elif v is None and name in fields:
                    del fields[name]  # a subclass removes an inherited field by setting it to None
        # public fields first, in declaration order (or the class's ``public_order``), then secret ones
        publics = {k: v for k, v in fields.items() if v.kind == "public"}
        order = getattr(cls, "public_order", None)
        if order is not None:
            if sorted(order) != sorted(publics):
                raise CircuitError(f"{cls.__name__}.public_order {list(order)} must list exactly the public "
                                   f"fields {list(publics)}")
            publics = {k: publics[k] for k in order}
        cls._fields = publics | {k: v for k, v in fields.items() if v.kind == "secret"}
        cls._params = params

    def __init__(self, **kwargs: Any) -> None:
        self._assignment: dict[str, Any] = {}
        for name, spec in self._params.items():
            if name in kwargs:
                setattr(self, name, kwargs.pop(name))
            elif spec.default is not _MISSING:
                setattr(self, name, copy.deepcopy(spec.default))
            else:
                raise CircuitError(f"{type(self).__name__}: missing parameter {name!r}")
        for name in list(kwargs):
            if name in self._fields:
                self._assignment[name] = kwargs.pop(name)
        if kwargs:
            raise CircuitError(
                f"{type(self).__name__}: unknown field or parameter {sorted(kwargs)}; "
                f"fields are {list(self._fields)}, parameters {list(self._params)}"
            )

    def define(self, api: API) -> None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement define(self, api)")

    # --- introspection ----------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._params}

    def shape_of(self, name: str) -> tuple[int, ...]:
        """The resolved shape of a field, e.g. () for a scalar, (n,) for a vector."""
        spec = self._fields[name].shape
        if spec is None:
            return ()
        items = spec if isinstance(spec, tuple) else (spec,)
        dims = []
        for d in items:
            v = getattr(self, d) if isinstance(d, str) else d
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise CircuitError(f"{type(self).__name__}.{name}: shape dimension {d!r} is {v!r}")
            dims.append(v)
        return tuple(dims)

    def is_assigned(self) -> bool:
        return all(k in self._assignment for k in self._fields)

    def public_values(self) -> list[int]:
        """The public inputs in wire order (requires the public fields to be assigned)."""
        out: list[int] = []
        for name, spec in self._fields.items():
            if spec.kind != "public":
                continue
            if name not in self._assignment:
                raise CircuitError(f"{type(self).__name__}: public field {name!r} is not assigned")
            out.extend(_flatten(name, self._assignment[name], self.shape_of(name)))
        return out


def _flatten(name: str, value: Any, shape: tuple[int, ...]) -> list[int]:
    """Row-major flattening with shape and type validation; values reduced mod r."""
    if not shape:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CircuitError(f"field {name!r}: expected an int, got {type(value).__name__}: {value!r}")
        return [value % R]
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise CircuitError(f"field {name!r}: expected a list of length {shape[0]}, got {value!r:.80}")
    if len(value) != shape[0]:
        raise CircuitError(f"field {name!r}: expected length {shape[0]}, got {len(value)}")
    out: list[int] = []
    for i, v in enumerate(value):
        out.extend(_flatten(f"{name}[{i}]", v, shape[1:]))
    return out


def _alloc_field(api: API, name: str, kind: str, shape: tuple[int, ...], flat: list[int] | None) -> Any:
    """Allocate wires for a field; returns a Var or nested lists of Vars."""
    counter = iter(range(10**12))

    def build(prefix: str, dims: tuple[int, ...]) -> Any:
        if not dims:
            v = None if flat is None else flat[next(counter)]
            return api.alloc_public(prefix, v) if kind == "public" else api.alloc_secret(prefix, v)
        return [build(f"{prefix}[{i}]", dims[1:]) for i in range(dims[0])]

    return build(name, shape)
