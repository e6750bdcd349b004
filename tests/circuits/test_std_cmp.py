"""std.cmp: every comparison, checked and unchecked -- honest, malicious and error paths."""

from __future__ import annotations

import itertools
import operator
import random

import pytest

from zkmargin.circuits import compile, solve
from zkmargin.circuits.std import cmp
from zkmargin.circuits.std._testing import GadgetCircuit, gadget_cost, run_gadget, search_lies
from zkmargin.errors import CircuitError
from zkmargin.field import R

ORACLE = {"less": operator.lt, "less_eq": operator.le, "greater": operator.gt, "greater_eq": operator.ge}
NAMES = [f"{kind}_{rel}{suffix}" for kind in ("is", "assert") for rel in ORACLE for suffix in ("", "_unchecked")]


def gadget(name, n):
    f = getattr(cmp, name)
    return lambda api, a, b: f(api, a, b, bits=n)


def oracle(name):
    rel = name.removeprefix("is_").removeprefix("assert_").removesuffix("_unchecked")
    return ORACLE[rel]


def outcome(name, n, a, b):
    """Run the gadget claiming the Python answer: (claim honoured?, the opposite claim honoured?)."""
    want = oracle(name)(a, b)
    if name.startswith("is_"):
        return run_gadget(gadget(name, n), [a, b], [int(want)]).ok, run_gadget(gadget(name, n), [a, b], [1 - want]).ok
    ok = run_gadget(gadget(name, n), [a, b]).ok
    return ok == want, False


def test_all_exported():
    assert sorted(NAMES) == sorted(cmp.__all__)


# --- shape ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 4, 64, 251, 252])
@pytest.mark.parametrize("name", NAMES)
def test_cost(name, n):
    unchecked = name.endswith("_unchecked")
    if name.startswith("is_"):
        want = n + 2 if unchecked else 3 * n + 4
    else:
        want = n + 1 if unchecked else 3 * n + 3
    assert gadget_cost(gadget(name, n), 2) == want


# --- honest provers -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_exhaustive_4_bits(name):
    n = 4
    circ = dict(fn=gadget(name, n), n_in=2, n_out=1 if name.startswith("is_") else 0)
    cs = compile(GadgetCircuit(**circ))
    for a, b in itertools.product(range(16), repeat=2):
        want = oracle(name)(a, b)
        if name.startswith("is_"):
            cs.check(solve(GadgetCircuit(**circ, xs=[a, b], expected=[int(want)]), cs))
            assert not run_gadget(gadget(name, n), [a, b], [1 - want]).ok
        else:
            assert run_gadget(gadget(name, n), [a, b]).ok == want, (a, b)


@pytest.mark.parametrize("n", [64, 128, 252])
@pytest.mark.parametrize("name", ["is_less", "is_greater_eq", "assert_less", "assert_less_eq",
                                  "assert_greater_eq", "is_less_eq_unchecked"])
def test_wide_random(name, n):
    rng = random.Random(f"{name}-{n}")
    top = (1 << n) - 1
    pairs = [(0, 0), (0, top), (top, 0), (top, top), (top - 1, top)]
    for _ in range(3):
        a = rng.randrange(1 << n)
        pairs += [(a, rng.randrange(1 << n)), (a, a), (a, min(a + 1, top)), (a, max(a - 1, 0))]
    for a, b in pairs:
        assert outcome(name, n, a, b) == (True, False), (a, b)


# --- malicious provers ----------------------------------------------------------------------------
OUT_OF_RANGE = [16, 17, 31, R - 1, R - 5, R - 16]


@pytest.mark.parametrize("name", [n for n in NAMES if not n.endswith("_unchecked")])
def test_checked_rejects_out_of_range_and_wrapped(name):
    # whatever the prover claims, an input outside [0, 16) makes the circuit unsatisfiable
    for a, b in [*((x, 3) for x in OUT_OF_RANGE), *((3, x) for x in OUT_OF_RANGE), (R - 1, R - 2)]:
        claims = [[0], [1]] if name.startswith("is_") else [None]
        for claim in claims:
            assert not run_gadget(gadget(name, 4), [a, b], claim).ok, (name, a, b, claim)


def test_unchecked_trusts_its_precondition():
    # why the checked variants exist: "-1" < 0 and "-1" <= 0 pass when the inputs are unchecked
    assert run_gadget(gadget("is_less_unchecked", 4), [R - 1, 0], [1]).ok
    assert run_gadget(gadget("assert_less_eq_unchecked", 4), [R - 1, 0]).ok
    assert not run_gadget(gadget("is_less", 4), [R - 1, 0], [1]).ok
    assert not run_gadget(gadget("is_less", 4), [R - 1, 0], [0]).ok
    assert not run_gadget(gadget("assert_less_eq", 4), [R - 1, 0]).ok


def test_negative_collateral_cannot_meet_a_threshold():
    # the attack: collateral "-5" checked against threshold 100 at 64 bits
    for name in ["assert_greater_eq", "assert_greater"]:
        assert not run_gadget(gadget(name, 64), [R - 5, 100]).ok
        assert run_gadget(gadget(name, 64), [105, 100]).ok


def test_non_boolean_bits_that_fake_a_comparison():
    # assert 5 <= 3: b - a = -2 recomposes with a single "bit" r - 2
    lie = {"bits.decompose": lambda ins: [R - 2, 0, 0, 0]}
    run = run_gadget(gadget("assert_less_eq_unchecked", 4), [5, 3], hints=lie)
    assert run.violated() == ["assert_less_eq/boolean[0]"]
    # is_less(5, 3) == 1: d = 5 - 3 + 16 = 18 = 0b10010; a top bit of 0 needs 18 in the low bits:
    # 18 = 2 * 1 + 16 * 1 -> put 9 in bit 1
    lie = {"bits.decompose": lambda ins: [0, 9, 0, 0, 0]}
    run = run_gadget(gadget("is_less_unchecked", 4), [5, 3], [1], hints=lie)
    assert run.violated() == ["is_less/boolean[1]"]
    assert run_gadget(gadget("is_less_unchecked", 4), [5, 3], [0]).ok


def test_lying_range_check_in_checked_comparison():
    # lie only in the range check of a = "-1": one non-boolean bit, the comparison itself honest
    def lie(ins):
        x, n = ins
        return [R - 1] + [0] * (n - 1) if x == R - 1 else [(x >> i) & 1 for i in range(n)]

    run = run_gadget(gadget("is_less", 4), [R - 1, 0], [1], hints={"bits.decompose": lie})
    assert run.violated() == ["is_less/a/boolean[0]"]


def test_tampered_top_bit_is_caught():
    run = run_gadget(gadget("is_less", 8), [7, 200], [1])
    assert run.ok
    w = list(run.w)
    w[run.cs.wire_index("is_less/bits.decompose[8]")] ^= 1
    assert run.cs.first_unsatisfied(w) is not None


@pytest.mark.parametrize("name", ["is_less_unchecked", "is_greater_eq_unchecked"])
def test_no_lying_decomposition_from_a_candidate_set_passes(name):
    cand = [0, 1, 2, R - 1]
    space = {"bits.decompose": [list(v) for v in itertools.product(cand, repeat=3)]}
    for a, b in itertools.product(range(4), repeat=2):
        found = search_lies(gadget(name, 2), [a, b], space)
        assert [r.outs for r in found] == [[int(oracle(name)(a, b))]], (a, b)


# --- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, msg", [(0, ">= 1"), (-1, ">= 1"), (253, "exceeds the maximum 252"),
                                    ("8", "must be an int")])
@pytest.mark.parametrize("name", NAMES)
def test_bad_width(name, n, msg):
    with pytest.raises(CircuitError, match=msg):
        gadget_cost(gadget(name, n), 2)


def test_constant_inputs():
    # constants are range-checked in Python, for free
    assert gadget_cost(lambda api, a, b: cmp.assert_less(api, 3, 5, bits=4), 2) == 0
    assert run_gadget(lambda api, a, b: cmp.is_less(api, 3, b, bits=4), [0, 9], [1]).ok
    with pytest.raises(CircuitError, match="does not fit in 4 bits"):
        gadget_cost(lambda api, a, b: cmp.is_less(api, 16, b, bits=4), 2)
    with pytest.raises(CircuitError, match="does not fit"):
        gadget_cost(lambda api, a, b: cmp.assert_less(api, 5, 3, bits=4), 2)
