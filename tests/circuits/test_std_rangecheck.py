"""std.rangecheck: assert_bits, assert_in_range -- honest, malicious and error paths."""

from __future__ import annotations

import random

import pytest

from zkmargin.circuits import compile, solve
from zkmargin.circuits.std import rangecheck as RC
from zkmargin.circuits.std._testing import GadgetCircuit, gadget_cost, run_gadget
from zkmargin.errors import CircuitError, UnsatisfiedConstraintError
from zkmargin.field import R

WRAPPED = [R - 1, R - 5, R - 255, R - 256]


def ab(n):
    return lambda api, x: RC.assert_bits(api, x, bits=n)


def air(lo, hi, n):
    return lambda api, x: RC.assert_in_range(api, x, lo, hi, bits=n)


@pytest.mark.parametrize("n", [1, 8, 64, 252])
def test_costs(n):
    assert gadget_cost(ab(n), 1) == n + 1
    assert gadget_cost(air(0, 1, n), 1) == 2 * (n + 1)


def test_assert_bits_exhaustive_8_bits():
    cs = compile(GadgetCircuit(fn=ab(8), n_in=1))
    for x in range(256):
        cs.check(solve(GadgetCircuit(fn=ab(8), n_in=1, xs=[x], expected=[]), cs))
    for x in [*range(256, 600), *WRAPPED]:
        run = run_gadget(ab(8), [x])
        assert not run.ok, x
        assert run.violated() == ["assert_bits/recompose"]


@pytest.mark.parametrize("n", [64, 128, 252])
def test_assert_bits_wide_random(n):
    rng = random.Random(1000 + n)
    for x in [0, (1 << n) - 1, *(rng.randrange(1 << n) for _ in range(5))]:
        assert run_gadget(ab(n), [x], check=True).ok
    for x in [1 << n, (1 << n) + rng.randrange(1 << 20), *WRAPPED, R - (1 << n)]:
        assert not run_gadget(ab(n), [x]).ok


def test_assert_bits_lying_decomposition_of_negative():
    # "-5" with bits (r-5, 0, ..., 0) recomposes but is not boolean
    lie = {"bits.decompose": lambda ins: [R - 5] + [0] * (ins[1] - 1)}
    run = run_gadget(ab(8), [R - 5], hints=lie)
    assert run.violated() == ["assert_bits/boolean[0]"]
    # "-5" = 2**8 - 5 - 2**8: the low bits of 251 plus a bit worth -256 in position 7 ... needs
    # bit 7 = 1 - 2 = -1, again not boolean
    lie = {"bits.decompose": lambda ins: [1, 1, 0, 1, 1, 1, 1, R - 1]}
    assert sum(b << i for i, b in enumerate([1, 1, 0, 1, 1, 1, 1, R - 1])) % R == R - 5
    assert run_gadget(ab(8), [R - 5], hints=lie).violated() == ["assert_bits/boolean[7]"]


def test_assert_in_range_exhaustive():
    lo, hi, n = 3, 10, 3
    for x in [*range(0, 20), *WRAPPED, R - 3, R + 3 - 11]:
        run = run_gadget(air(lo, hi, n), [x])
        assert run.ok == (lo <= x <= hi), x
    # a singleton range and a full-width one
    for x in range(0, 4):
        assert run_gadget(air(2, 2, 1), [x]).ok == (x == 2)
    for x in [0, 255, 256, R - 1]:
        assert run_gadget(air(0, 255, 8), [x]).ok == (x <= 255)


def test_assert_in_range_wide():
    lo, hi = 10**30, 10**30 + (1 << 100)
    for x, ok in [(lo, True), (hi, True), (lo + 12345, True), (lo - 1, False), (hi + 1, False),
                  (R - 1, False), (0, False)]:
        assert run_gadget(air(lo, hi, 101), [x]).ok == ok


def test_assert_in_range_names_the_failing_side():
    with pytest.raises(UnsatisfiedConstraintError, match="assert_in_range/above_lo/recompose"):
        run_gadget(air(3, 6, 3), [2], check=True)
    with pytest.raises(UnsatisfiedConstraintError, match="assert_in_range/below_hi/recompose"):
        run_gadget(air(3, 6, 3), [7], check=True)


@pytest.mark.parametrize("n, msg", [(0, ">= 1"), (253, "exceeds the maximum 252"), (None, "must be an int")])
def test_bad_width(n, msg):
    with pytest.raises(CircuitError, match=msg):
        gadget_cost(ab(n), 1)
    with pytest.raises(CircuitError, match=msg):
        gadget_cost(air(0, 1, n), 1)


def test_assert_in_range_bad_bounds():
    for lo, hi, n, msg in [(5, 4, 8, "lo <= hi"), (-1, 4, 8, "lo <= hi"), (0, R, 252, "hi < r"),
                           (0, 256, 8, "does not fit in bits=8")]:
        with pytest.raises(CircuitError, match=msg):
            gadget_cost(air(lo, hi, n), 1)
    with pytest.raises(CircuitError, match="the constant 11 is not in"):
        gadget_cost(lambda api, x: RC.assert_in_range(api, 11, 3, 10, bits=3), 1)
    with pytest.raises(CircuitError, match="does not fit in 8 bits"):
        gadget_cost(lambda api, x: RC.assert_bits(api, R - 1, bits=8), 1)
    assert gadget_cost(lambda api, x: RC.assert_in_range(api, 7, 3, 10, bits=3), 1) == 0
