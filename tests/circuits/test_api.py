"""The circuit API: one define() for shape and witness, errors that name the place."""

from __future__ import annotations

import pytest

from zkmargin.circuits import Circuit, build, compile, override_hints, param, public, register_hint, secret, solve
from zkmargin.errors import CircuitError, HintError, UnsatisfiedConstraintError
from zkmargin.field import R


class Product(Circuit):
    n = param(doc="number of factors")
    out = public()
    xs = secret(shape="n")

    def define(self, api):
        acc = api.const(1)
        with api.scope("product"):
            for i, x in enumerate(self.xs):
                with api.scope(f"x[{i}]"):
                    acc = acc * x
        api.assert_equal(acc, self.out, "result")


def test_compile_and_solve_agree():
    cs = compile(Product(n=3))
    assert (cs.n_constraints, cs.n_public, cs.n_wires) == (3, 1, 7)
    w = solve(Product(n=3, out=30, xs=[2, 3, 5]), cs)
    assert w[:5] == [1, 30, 2, 3, 5]
    assert cs.is_satisfied(w)
    assert cs.public_inputs(w) == [30]
    assert compile(Product(n=3)).digest() == cs.digest()
    assert compile(Product(n=4)).digest() != cs.digest()


def test_unsatisfied_constraint_named_by_scope():
    with pytest.raises(UnsatisfiedConstraintError) as e:
        solve(Product(n=2, out=7, xs=[2, 3]))
    assert e.value.label == "result"
    assert "A=" in str(e.value) and "'result'" in str(e.value)


def test_check_false_returns_bad_witness_that_cs_rejects():
    cs, w = build(Product(n=2, out=7, xs=[2, 3]), check=False)
    assert not cs.is_satisfied(w)
    with pytest.raises(UnsatisfiedConstraintError, match="result"):
        cs.check(w)


def test_negative_values_wrap_mod_r():
    cs, w = build(Product(n=2, out=-6, xs=[-2, 3]))
    assert w[1] == R - 6 and w[2] == R - 2
    assert cs.is_satisfied(w)


class Branchy(Circuit):
    x = secret()
    y = public()

    def define(self, api):
        if api.value(self.x) == 5:  # forbidden: branches on a value
            api.assert_equal(self.x * self.x, 25)
        api.assert_equal(self.x, self.y)


def test_value_dependent_shape_detected():
    cs = compile(Branchy())
    with pytest.raises(CircuitError, match="must not branch on values"):
        solve(Branchy(x=5, y=5), cs)


def test_field_errors_name_the_field():
    with pytest.raises(CircuitError, match="missing parameter 'n'"):
        Product(out=1)
    with pytest.raises(CircuitError, match="field 'xs': expected length 3, got 2"):
        solve(Product(n=3, out=1, xs=[1, 2]))
    with pytest.raises(CircuitError, match=r"field 'xs\[1\]': expected an int, got str"):
        solve(Product(n=2, out=1, xs=[1, "2"]))
    with pytest.raises(CircuitError, match="'out' is not assigned"):
        solve(Product(n=1, xs=[1]))
    with pytest.raises(CircuitError, match="unknown field or parameter"):
        Product(n=1, bogus=3)


def test_no_comparison_operators_on_wires():
    class Eq(Circuit):
        x = secret()

        def define(self, api):
            return self.x == 3

    with pytest.raises(TypeError, match="assert_equal"):
        compile(Eq())


@register_hint("test.double")
def _double(args):
    return [2 * args[0]]


class Doubler(Circuit):
    x = public()
    y = secret()

    def define(self, api):
        (d,) = api.hint("test.double", [self.y])
        api.assert_equal(d, self.y * 2, "double")
        api.assert_equal(d, self.x, "matches")


def test_hint_and_lying_hint():
    cs, w = build(Doubler(x=10, y=5))
    assert cs.is_satisfied(w)
    with override_hints({"test.double": lambda a: [a[0] * 3]}):
        cs2, w2 = build(Doubler(x=15, y=5), check=False)
    assert cs2.digest() == cs.digest()
    assert cs.first_unsatisfied(w2) == 0
    with override_hints({"test.double": lambda a: [1, 2]}), pytest.raises(HintError, match="returned 2 values"):
        build(Doubler(x=10, y=5))


def test_hint_names_are_unique():
    with pytest.raises(HintError, match="already registered"):
        register_hint("test.double")(lambda a: a)


def test_tampered_wire_detected():
    cs, w = build(Product(n=2, out=6, xs=[2, 3]))
    w[cs.wire_index("xs[0]")] = 4
    i = cs.first_unsatisfied(w)
    assert i is not None and cs.labels[i].startswith("product/x[1]")
