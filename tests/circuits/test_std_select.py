"""std.select: select, is_zero, is_equal, assert_nonzero -- honest, malicious and error paths."""

from __future__ import annotations

import itertools
import random

import pytest

from zkmargin.circuits.std import select as S
from zkmargin.circuits.std._testing import gadget_cost, run_gadget, search_lies
from zkmargin.errors import CircuitError, UnsatisfiedConstraintError
from zkmargin.field import R


def sel(api, c, a, b):
    return S.select(api, c, a, b)


def sel_u(api, c, a, b):
    return S.select_unchecked(api, c, a, b)


def isz(api, x):
    return S.is_zero(api, x)


def iseq(api, a, b):
    return S.is_equal(api, a, b)


def nz(api, x):
    S.assert_nonzero(api, x)


def test_costs():
    assert gadget_cost(sel, 3) == 2
    assert gadget_cost(sel_u, 3) == 1
    assert gadget_cost(isz, 1) == 2
    assert gadget_cost(iseq, 2) == 2
    assert gadget_cost(nz, 1) == 1
    # constants: free
    assert gadget_cost(lambda api, a, b: S.select(api, 1, a, b), 2) == 0
    assert gadget_cost(lambda api, x: S.is_zero(api, 0), 1) == 0


# --- select ---------------------------------------------------------------------------------------
def test_select_exhaustive_small():
    for c, a, b in itertools.product([0, 1], range(8), [0, 5, R - 1]):
        want = a if c else b
        for g in (sel, sel_u):
            assert run_gadget(g, [c, a, b], [want], check=True).ok
            assert not run_gadget(g, [c, a, b], [(want + 1) % R]).ok


def test_select_wide():
    rng = random.Random(7)
    for _ in range(5):
        a, b = rng.randrange(R), rng.randrange(R)
        assert run_gadget(sel, [1, a, b], [a]).ok and run_gadget(sel, [0, a, b], [b]).ok


def test_select_rejects_non_boolean_condition():
    # with cond = 2 the unchecked mix is b + 2 (a - b): a prover could pick a value outside {a, b}
    a, b = 10, 3
    assert run_gadget(sel_u, [2, a, b], [b + 2 * (a - b)]).ok  # the documented precondition
    for c in [2, R - 1, (R + 1) // 2]:
        mix = (b + c * (a - b)) % R
        run = run_gadget(sel, [c, a, b], [mix])
        assert run.violated() == ["select/boolean"]
    with pytest.raises(CircuitError, match="not 0 or 1"):
        gadget_cost(lambda api, a, b: S.select(api, 2, a, b), 2)


# --- is_zero / is_equal ---------------------------------------------------------------------------
def test_is_zero_values():
    for x in [*range(0, 256), R - 1, R - 5, (R + 1) // 2, R - 2**200]:
        want = int(x == 0)
        assert run_gadget(isz, [x], [want], check=True).ok
        assert not run_gadget(isz, [x], [1 - want]).ok
        assert not run_gadget(isz, [x], [2]).ok


def test_is_zero_lying_inverse():
    # any "inverse" from a candidate set: the output is still correct (and never 2, never flipped)
    for x in [0, 1, 5, R - 1, 12345678901234567890]:
        inv = pow(x, -1, R) if x else 0
        cands = [[0], [1], [2], [R - 1], [inv], [(inv + 1) % R], [random.Random(x).randrange(R)]]
        found = search_lies(isz, [x], {"is_zero.inverse": cands})
        assert found and all(r.outs == [int(x == 0)] for r in found), x
    # x = 5 claimed zero with the wrong inverse: which constraint catches it
    run = run_gadget(isz, [5], [1], hints={"is_zero.inverse": lambda ins: [0]})
    assert run.violated() == ["is_zero/x*out"]  # out = 1 - 5*0 = 1, but 5 * 1 != 0


def test_is_zero_tampered_inverse_wire():
    run = run_gadget(isz, [7], [0])
    assert run.ok
    w = list(run.w)
    w[run.cs.wire_index("is_zero/is_zero.inverse[0]")] += 1
    assert run.cs.first_unsatisfied(w) is not None


def test_is_equal():
    for a, b in itertools.product([0, 1, 2, 255, R - 1], repeat=2):
        want = int(a == b)
        assert run_gadget(iseq, [a, b], [want], check=True).ok
        assert not run_gadget(iseq, [a, b], [1 - want]).ok
    # equality is in the field: -1 and r - 1 are the same element
    assert run_gadget(iseq, [-1, R - 1], [1]).ok


# --- assert_nonzero -------------------------------------------------------------------------------
def test_assert_nonzero():
    for x in [1, 2, R - 1, 2**200]:
        assert run_gadget(nz, [x], check=True).ok
    with pytest.raises(UnsatisfiedConstraintError, match="assert_nonzero/x\\*inv"):
        run_gadget(nz, [0], check=True)
    for inv in [0, 1, R - 1]:
        assert not run_gadget(nz, [0], hints={"is_zero.inverse": lambda ins, v=inv: [v]}).ok
    with pytest.raises(CircuitError, match="the constant is 0"):
        gadget_cost(lambda api, x: S.assert_nonzero(api, 0), 1)
