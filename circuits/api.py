"""The builder a circuit's ``define`` receives: wires, linear algebra and constraints.

A ``Var`` is a linear combination of wires (``{wire: coeff}``) together with its value when a
witness is being computed. ``+``, ``-`` and multiplication by a constant are free (no constraint);
``Var * Var`` allocates one wire and one constraint. There is deliberately no ``==`` or ``<`` on
wires (docs/style.md rule 3): use ``api.assert_equal`` and the comparison gadgets with explicit ``bits=``.

The same ``define`` code runs in two modes: shape only (values are ``None``) and witness (every
wire gets a value). ``define`` must not branch on values, or the two modes would disagree; the
solver checks that they do not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from zkmargin.errors import CircuitError, HintError, UnsatisfiedConstraintError
from zkmargin.field import R

from .hints import get_hint

__all__ = ["Var", "API", "VarLike"]


class Var:
    """A linear combination of wires, with its value in witness mode (else None)."""

    __slots__ = ("api", "lc", "value")

    def __init__(self, api: API, lc: dict[int, int], value: int | None) -> None:
        self.api = api
        self.lc = lc
        self.value = value

    # --- helpers ----------------------------------------------------------------------------
    def _coerce(self, other: VarLike) -> Var:
        if isinstance(other, Var):
            if other.api is not self.api:
                raise CircuitError("cannot combine wires of two different circuits")
            return other
        return self.api.const(other)

    def is_constant(self) -> bool:
        """True when the combination involves no wire other than the constant one."""
        return all(w == 0 for w in self.lc)

    def constant_value(self) -> int:
        """The value of a constant combination (precondition: ``is_constant()``)."""
        return self.lc.get(0, 0) % R

    @property
    def wire(self) -> int | None:
        """The wire index when this Var is exactly one wire with coefficient 1, else None."""
        if len(self.lc) == 1:
            (w, c), = self.lc.items()
            if c == 1 and w != 0:
                return w
        return None

    # --- linear operations (free) -----------------------------------------------------------
    def __add__(self, other: VarLike) -> Var:
        o = self._coerce(other)
        lc = dict(self.lc)
        for w, c in o.lc.items():
            v = (lc.get(w, 0) + c) % R
            if v:
                lc[w] = v
            else:
                lc.pop(w, None)
        val = None if self.value is None or o.value is None else (self.value + o.value) % R
        return Var(self.api, lc, val)

    __radd__ = __add__

    def __neg__(self) -> Var:
        return Var(self.api, {w: (-c) % R for w, c in self.lc.items()},
                   None if self.value is None else (-self.value) % R)

    def __sub__(self, other: VarLike) -> Var:
        return self + (-self._coerce(other))

    def __rsub__(self, other: VarLike) -> Var:
        return self._coerce(other) - self

    def scale(self, k: int) -> Var:
        """Multiply by a constant (free)."""
        k %= R
        if k == 0:
            return Var(self.api, {}, None if self.value is None else 0)
        return Var(self.api, {w: c * k % R for w, c in self.lc.items()},
                   None if self.value is None else self.value * k % R)

    def __mul__(self, other: VarLike) -> Var:
        if isinstance(other, int):
            return self.scale(other)
        return self.api.mul(self, other)

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:  # pragma: no cover - guard
        raise TypeError("'==' on wires is not a constraint: use api.assert_equal or api.is_equal")

    def __hash__(self) -> int:
        return id(self)

    def __lt__(self, other: object) -> bool:  # pragma: no cover - guard
        raise TypeError("'<' on wires is not a constraint: use the cmp gadgets with bits=")

    __le__ = __gt__ = __ge__ = __lt__

    def __bool__(self) -> bool:
        raise TypeError("a wire has no truth value at circuit-definition time; use api.select")

    def __repr__(self) -> str:
        return f"Var(lc={self.lc}, value={self.value})"


VarLike = Var | int


class API:
    """Collects wires and constraints; computes values when ``compute`` is True.

    Args:
        compute: witness mode (every wire gets a value) if True, shape-only if False.
        check: in witness mode, raise UnsatisfiedConstraintError as soon as a constraint added
            by the circuit does not hold (the error names its scope path and values). Tests
            that play a malicious prover turn this off and check the finished system instead.
    """

    def __init__(self, compute: bool, check: bool = True) -> None:
        self.compute = compute
        self.check = check and compute
        self.wire_names: list[str] = ["one"]
        self.values: list[int | None] = [1]
        self.constraints: list[tuple[dict[int, int], dict[int, int], dict[int, int]]] = []
        self.labels: list[str] = []
        self._scope: list[str] = []
        self.n_public = 0
        self._sealed_public = False

    # --- wires ------------------------------------------------------------------------------
    def const(self, c: int) -> Var:
        if not isinstance(c, int) or isinstance(c, bool):
            raise CircuitError(f"expected a wire or an int constant, got {type(c).__name__}: {c!r}")
        c %= R
        return Var(self, {0: c} if c else {}, c)

    def one(self) -> Var:
        return self.const(1)

    def _alloc(self, name: str, value: int | None) -> Var:
        if self.compute:
            if value is None:
                raise CircuitError(f"wire {name!r} has no value in witness mode")
            value %= R
        else:
            value = None
        idx = len(self.wire_names)
        self.wire_names.append(self._path(name))
        self.values.append(value)
        return Var(self, {idx: 1}, value)

    def alloc_public(self, name: str, value: int | None) -> Var:
        """Allocate a public-input wire (the compiler does this for ``public()`` fields)."""
        if self._sealed_public:
            raise CircuitError(f"public input {name!r} declared after private wires")
        self.n_public += 1
        return self._alloc(name, value)

    def alloc_secret(self, name: str, value: int | None) -> Var:
        """Allocate a private wire (the compiler does this for ``secret()`` fields)."""
        self._sealed_public = True
        return self._alloc(name, value)

    def hint(self, name: str, inputs: Sequence[VarLike], n_out: int = 1) -> list[Var]:
        """Run the named hint on the inputs' values and return ``n_out`` new UNCONSTRAINED wires.

        The caller must constrain every output in the same function (docs/style.md rule 5).
        """
        self._sealed_public = True
        vals: list[int | None]
        if self.compute:
            ins = [self._as_var(x) for x in inputs]
            args = [x.value for x in ins]
            try:
                out = list(get_hint(name)(args))  # type: ignore[arg-type]
            except HintError:
                raise
            except Exception as e:  # a hint is user code; report which one failed
                raise HintError(f"hint {name!r} failed at {self._path('')!r}: {e}") from e
            if len(out) != n_out:
                raise HintError(f"hint {name!r} returned {len(out)} values, expected {n_out}")
            vals = [int(v) % R for v in out]
        else:
            vals = [None] * n_out
        return [self._alloc(f"{name}[{i}]", v) for i, v in enumerate(vals)]

    # --- constraints ------------------------------------------------------------------------
    def _as_var(self, x: VarLike) -> Var:
        if isinstance(x, Var):
            if x.api is not self:
                raise CircuitError("cannot combine wires of two different circuits")
            return x
        return self.const(x)

    def assert_r1cs(self, a: VarLike, b: VarLike, c: VarLike, label: str = "r1cs") -> None:
        """Add the constraint a * b == c."""
        av, bv, cv = self._as_var(a), self._as_var(b), self._as_var(c)
        path = self._path(label)
        self.constraints.append((dict(av.lc), dict(bv.lc), dict(cv.lc)))
        self.labels.append(path)
        if self.check:
            assert av.value is not None and bv.value is not None and cv.value is not None
            if (av.value * bv.value - cv.value) % R:
                raise UnsatisfiedConstraintError(
                    f"constraint #{len(self.constraints) - 1} '{path}' is not satisfied: "
                    f"A*B != C with A={av.value}, B={bv.value}, C={cv.value}",
                    index=len(self.constraints) - 1,
                    label=path,
                )

    def mul(self, a: VarLike, b: VarLike, label: str = "mul") -> Var:
        """a * b: free when either side is constant, else one new wire and one constraint."""
        av, bv = self._as_var(a), self._as_var(b)
        if av.is_constant():
            return bv.scale(av.constant_value())
        if bv.is_constant():
            return av.scale(bv.constant_value())
        val = None if av.value is None or bv.value is None else av.value * bv.value % R
        self._sealed_public = True
        out = self._alloc(label, val)
        self.assert_r1cs(av, bv, out, label)
        return out

    def assert_equal(self, a: VarLike, b: VarLike, label: str = "assert_equal") -> None:
        """Constrain a == b (one constraint: (a - b) * 1 == 0)."""
        d = self._as_var(a) - self._as_var(b)
        if d.is_constant():
            if d.constant_value() != 0:
                raise CircuitError(f"{self._path(label)}: asserting two different constants equal")
            return
        self.assert_r1cs(d, self.one(), self.const(0), label)

    def assert_zero(self, a: VarLike, label: str = "assert_zero") -> None:
        self.assert_equal(a, 0, label)

    def materialize(self, a: VarLike, label: str = "materialize") -> Var:
        """A single wire equal to the combination ``a`` (one constraint; free if it is one already)."""
        av = self._as_var(a)
        if av.wire is not None:
            return av
        out = self._alloc(label, av.value)
        self.assert_r1cs(av, self.one(), out, label)
        return out

    def sum(self, xs: Sequence[VarLike]) -> Var:
        """Sum of a list (free)."""
        acc = self.const(0)
        for x in xs:
            acc = acc + x
        return acc

    def value(self, x: VarLike) -> int | None:
        """The value of x in witness mode, None in shape-only mode."""
        return self._as_var(x).value

    # --- scopes -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def scope(self, name: str) -> Iterator[None]:
        """Name the constraints (and wires) created inside, for error messages: 'a/b/label'."""
        self._scope.append(name)
        try:
            yield
        finally:
            self._scope.pop()

    def _path(self, label: str) -> str:
        return "/".join([*self._scope, label]) if label else "/".join(self._scope)
