"""std.bits: to_bits, from_bits, assert_boolean -- honest, malicious and error paths."""

from __future__ import annotations

import itertools
import random

import pytest

from zkmargin.circuits import compile, solve
from zkmargin.circuits.std import bits as B
from zkmargin.circuits.std._testing import GadgetCircuit, gadget_cost, run_gadget, search_lies
from zkmargin.errors import CircuitError, UnsatisfiedConstraintError
from zkmargin.field import R

WRAPPED = [R - 1, R - 5, R - 256]  # "-1", "-5", "-256" as field elements


def expect_bits(x: int, n: int) -> list[int]:
    return [(x >> i) & 1 for i in range(n)]


def tb(n):
    return lambda api, x: B.to_bits(api, x, bits=n)


# --- shape ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 8, 64, 128, 252])
def test_to_bits_cost_is_bits_plus_one(n):
    assert gadget_cost(tb(n), 1) == n + 1


def test_from_bits_and_assert_boolean_cost():
    assert gadget_cost(lambda api, *bs: B.from_bits(api, bs), 8) == 0
    assert gadget_cost(lambda api, b: B.assert_boolean(api, b), 1) == 1


def test_constants_cost_nothing_and_are_checked():
    assert gadget_cost(lambda api, x: B.to_bits(api, 5, bits=3), 1) == 0
    assert gadget_cost(lambda api, x: B.assert_boolean(api, 1), 1) == 0
    with pytest.raises(CircuitError, match="the constant 8 does not fit in 3 bits"):
        gadget_cost(lambda api, x: B.to_bits(api, 8, bits=3), 1)
    with pytest.raises(CircuitError, match="the constant 2 is not 0 or 1"):
        gadget_cost(lambda api, x: B.assert_boolean(api, 2), 1)
    run = run_gadget(lambda api, x: B.to_bits(api, 6, bits=3), [0], [0, 1, 1])
    assert run.ok and run.outs == [0, 1, 1]


# --- honest provers -------------------------------------------------------------------------------
def test_to_bits_exhaustive_8_bits():
    circ = dict(fn=tb(8), n_in=1, n_out=8)
    cs = compile(GadgetCircuit(**circ))
    for x in range(256):
        w = solve(GadgetCircuit(**circ, xs=[x], expected=expect_bits(x, 8)), cs)
        cs.check(w)
        # claiming other bits fails
        wrong = expect_bits(x ^ 1, 8)
        assert not run_gadget(tb(8), [x], wrong).ok


@pytest.mark.parametrize("n", [64, 128, 252])
def test_to_bits_wide_random(n):
    rng = random.Random(n)
    for x in [0, 1, (1 << n) - 1, *(rng.randrange(1 << n) for _ in range(5))]:
        run = run_gadget(tb(n), [x], expect_bits(x, n), check=True)
        assert run.ok and run.outs == expect_bits(x, n)
    for x in [1 << n, (1 << n) + 7, *WRAPPED]:
        run = run_gadget(tb(n), [x])
        assert not run.ok and run.violated() == ["to_bits/recompose"]


def test_from_bits_recomposes():
    for bs in ([1, 0, 1], [0, 0, 0, 1], [1] * 8):
        x = sum(b << i for i, b in enumerate(bs))
        assert run_gadget(lambda api, *v: B.from_bits(api, v), bs, [x]).ok
        assert not run_gadget(lambda api, *v: B.from_bits(api, v), bs, [x + 1]).ok


def test_assert_boolean():
    ab = lambda api, b: B.assert_boolean(api, b)  # noqa: E731
    assert run_gadget(ab, [0]).ok and run_gadget(ab, [1]).ok
    for b in [2, 3, R - 1, (R + 1) // 2]:
        assert not run_gadget(ab, [b]).ok


# --- malicious provers ----------------------------------------------------------------------------
def test_out_of_range_value_has_no_decomposition():
    for x in [256, 1000, *WRAPPED]:
        assert not run_gadget(tb(8), [x]).ok
        with pytest.raises(UnsatisfiedConstraintError, match="to_bits/recompose"):
            run_gadget(tb(8), [x], check=True)


def test_non_boolean_bit_with_compensation_is_rejected():
    # 5 = 3*1 + 1*2: the recomposition holds, only booleanity of bit 0 catches it
    assert run_gadget(tb(4), [5], [1, 0, 1, 0]).ok  # honest
    run = run_gadget(tb(4), [5], [3, 1, 0, 0], hints={"bits.decompose": lambda ins: [3, 1, 0, 0]})
    assert run.violated() == ["to_bits/boolean[0]"]


def test_wrapped_negative_with_non_boolean_bit_is_rejected():
    # "-1" = (r-1)*1: recomposes, needs a bit equal to r - 1
    lie = {"bits.decompose": lambda ins: [R - 1, 0, 0, 0]}
    run = run_gadget(tb(4), [R - 1], hints=lie)
    assert run.violated() == ["to_bits/boolean[0]"]
    # the same lie in the top bit: (r-1) * 8 == -8
    lie = {"bits.decompose": lambda ins: [0, 0, 0, R - 1]}
    assert run_gadget(tb(4), [R - 8], hints=lie).violated() == ["to_bits/boolean[3]"]


def test_decomposition_of_x_plus_r_is_impossible():
    # x + r needs 254 bits; the widest decomposition (253 bits, private) cannot hold it
    assert 1 << 253 < R < 1 << 254
    x = 3
    assert (x + R).bit_length() == 254
    lie = {"bits.decompose": lambda ins: expect_bits(x + R, ins[1])}
    run = run_gadget(tb(252), [x], hints=lie)
    assert run.violated() == ["to_bits/recompose"]
    assert run_gadget(tb(252), [x], expect_bits(x, 252)).ok


def test_tampered_bit_wire_is_caught():
    run = run_gadget(tb(8), [0b10110010], expect_bits(0b10110010, 8))
    assert run.ok
    for i in range(8):
        w = list(run.w)
        w[run.cs.wire_index(f"to_bits/bits.decompose[{i}]")] ^= 1
        assert run.cs.first_unsatisfied(w) is not None


def test_no_lying_hint_from_a_candidate_set_passes():
    cand = [0, 1, 2, R - 1, (R + 1) // 2]  # (r+1)/2 is 1/2
    space = {"bits.decompose": [list(v) for v in itertools.product(cand, repeat=3)]}
    for x in [*range(10), R - 1, R - 2]:
        found = search_lies(tb(3), [x], space)
        if x < 8:
            assert [r.outs for r in found] == [expect_bits(x, 3)]
        else:
            assert found == []


# --- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, msg", [(0, "bits must be >= 1"), (-3, "bits must be >= 1"),
                                    (253, "exceeds the maximum 252"), (254, "exceeds the maximum 252"),
                                    (True, "must be an int"), (8.0, "must be an int")])
def test_bad_width_is_refused(n, msg):
    with pytest.raises(CircuitError, match=msg):
        gadget_cost(lambda api, x: B.to_bits(api, x, bits=n), 1)


def test_internal_decomposition_stops_at_253_bits():
    # comparisons decompose bits + 1 <= 253 bits; 254 would admit x + r, so the guard refuses it
    assert gadget_cost(lambda api, x: B._decompose(api, x, 253, "t"), 1) == 254
    with pytest.raises(CircuitError, match="internal decomposition width 254"):
        gadget_cost(lambda api, x: B._decompose(api, x, 254, "t"), 1)
    # and with 254 bits x + r really would recompose to x: the reason for the guard
    x = 3
    assert sum(b << i for i, b in enumerate(expect_bits(x + R, 254))) % R == x
