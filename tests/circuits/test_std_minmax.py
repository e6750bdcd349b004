"""std.minmax: max_of, min_of, argmax_of, argmin_of -- honest, malicious and error paths."""

from __future__ import annotations

import itertools
import random

import pytest

from zkmargin.circuits import compile, solve
from zkmargin.circuits.std import minmax as MM
from zkmargin.circuits.std._testing import GadgetCircuit, gadget_cost, run_gadget, search_lies
from zkmargin.errors import CircuitError
from zkmargin.field import R

NAMES = ["max_of", "min_of", "argmax_of", "argmin_of"]


def g(name, n):
    f = getattr(MM, name)
    return lambda api, *xs: f(api, list(xs), bits=n)


def want(name, xs):
    """Expected outputs, plain Python: the value, then the one-hot of its FIRST occurrence."""
    m = max(xs) if "max" in name else min(xs)
    if not name.startswith("arg"):
        return [m]
    return [m] + [int(i == xs.index(m)) for i in range(len(xs))]


@pytest.mark.parametrize("bits", [1, 8, 64, 252])
@pytest.mark.parametrize("k", [1, 2, 5])
def test_costs(k, bits):
    for name in ["max_of", "min_of"]:
        assert gadget_cost(g(name, bits), k) == k * (bits + 1) + (k - 1) * (bits + 3)
    for name in ["argmax_of", "argmin_of"]:
        assert gadget_cost(g(name, bits), k) == k * (2 * bits + 4) + 1


@pytest.mark.parametrize("name", NAMES)
def test_exhaustive_3_bits_length_3(name):
    n, k = 3, 3
    exp_len = len(want(name, [0] * k))
    circ = dict(fn=g(name, n), n_in=k, n_out=exp_len)
    cs = compile(GadgetCircuit(**circ))
    for xs in itertools.product(range(8), repeat=k):
        xs = list(xs)
        cs.check(solve(GadgetCircuit(**circ, xs=xs, expected=want(name, xs)), cs))
    for xs in [[8, 0, 0], [0, 0, R - 1], [3, R - 5, 2]]:  # one element out of range
        assert not run_gadget(g(name, n), xs, want(name, [x if x < 8 else 0 for x in xs])).ok
        assert not run_gadget(g(name, n), xs, want(name, xs)).ok


@pytest.mark.parametrize("bits", [64, 252])
@pytest.mark.parametrize("name", NAMES)
def test_wide_random(name, bits):
    rng = random.Random(f"{name}-{bits}")
    for _ in range(3):
        xs = [rng.randrange(1 << bits) for _ in range(4)]
        xs[rng.randrange(4)] = xs[rng.randrange(4)]  # sometimes a tie
        run = run_gadget(g(name, bits), xs, want(name, xs), check=True)
        assert run.outs == want(name, xs)
    edge = [0, (1 << bits) - 1, (1 << bits) - 1, 0]
    assert run_gadget(g(name, bits), edge, want(name, edge)).ok


def test_single_element():
    for name in NAMES:
        assert run_gadget(g(name, 8), [42], want(name, [42]), check=True).ok


# --- malicious provers ----------------------------------------------------------------------------
def test_wrapped_negative_element_cannot_lower_the_max_or_min():
    # "-1" as a scenario loss would otherwise be the maximum (r - 1) or a minimum below 0
    for name in NAMES:
        for xs in [[5, R - 1], [R - 1, 5], [5, R - 7, 3]]:
            clean = [x for x in xs if x < R // 2]
            claims = [want(name, [x if x < R // 2 else 0 for x in xs])]
            if not name.startswith("arg"):
                claims += [[max(clean)], [min(clean)], [R - 1], [R - 7]]
            for claim in claims:
                assert not run_gadget(g(name, 64), xs, claim).ok, (name, xs, claim)


def sel_lie(s):
    return {"minmax.argmax": lambda ins: s, "minmax.argmin": lambda ins: s}


def test_argmax_selector_lies():
    xs = [3, 7, 7, 1]
    assert run_gadget(g("argmax_of", 4), xs, [7, 0, 1, 0, 0]).ok  # honest
    B = [f"argmax_of/bound[{i}]/recompose" for i in range(4)]
    cases = {
        # a non-max element: the bound m >= x_i fails for every larger element
        (1, 0, 0, 0): [B[1], B[2]],
        (0, 0, 0, 1): [B[0], B[1], B[2]],
        # a later tie: the strict bound m > x_i before the selected index fails
        (0, 0, 1, 0): [B[1]],
        # two ones: m = 14 passes every bound at this width; only the one-hot sum catches it
        (0, 1, 1, 0): ["argmax_of/selector/one_hot"],
        # compensated non-boolean entries: sum 1 and m = 2*7 - 7 = 7; only booleanity catches it
        (0, 2, R - 1, 0): ["argmax_of/selector/boolean[1]", "argmax_of/selector/boolean[2]"],
        (0, 0, 0, 0): ["argmax_of/selector/one_hot", *B],
    }
    for s, expected_violations in cases.items():
        run = run_gadget(g("argmax_of", 4), xs, hints=sel_lie(list(s)))
        assert run.violated() == expected_violations, s


def test_argmin_selector_pointing_at_non_min():
    xs = [4, 2, 9, 2]
    assert run_gadget(g("argmin_of", 4), xs, [2, 0, 1, 0, 0]).ok
    for s in ([1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]):
        assert not run_gadget(g("argmin_of", 4), xs, hints=sel_lie(s)).ok, s


@pytest.mark.parametrize("name", ["argmax_of", "argmin_of"])
def test_no_lying_selector_from_a_candidate_set_passes(name):
    cand = [0, 1, 2, R - 1]
    hint = "minmax.argmax" if name == "argmax_of" else "minmax.argmin"
    space = {hint: [list(v) for v in itertools.product(cand, repeat=3)]}
    for xs in itertools.product(range(3), repeat=3):
        found = search_lies(g(name, 2), list(xs), space)
        assert [r.outs for r in found] == [want(name, list(xs))], xs


def test_lying_comparison_in_max_of():
    # max_of([9, 3]) claimed 3: the step comparison 9 < 3 must come out 1 -> d = 9 - 3 + 16 = 22
    # with top bit 0 needs 22 in the low four bits: put 11 in bit 1 (non-boolean)
    def lie(ins):
        x, n = ins
        if n == 5:  # the comparison's decomposition (bits + 1); range checks stay honest
            return [0, 11, 0, 0, 0]
        return [(x >> i) & 1 for i in range(n)]

    run = run_gadget(g("max_of", 4), [9, 3], [3], hints={"bits.decompose": lie})
    assert run.violated() == ["max_of/step[1]/is_less/boolean[1]"]
    assert run_gadget(g("max_of", 4), [9, 3], [9]).ok


def test_tampered_selector_wire_is_caught():
    run = run_gadget(g("argmax_of", 8), [1, 200, 3], [200, 0, 1, 0])
    assert run.ok
    for i in range(3):
        w = list(run.w)
        w[run.cs.wire_index(f"argmax_of/minmax.argmax[{i}]")] ^= 1
        assert run.cs.first_unsatisfied(w) is not None


# --- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_errors(name):
    with pytest.raises(CircuitError, match="non-empty list"):
        gadget_cost(lambda api: getattr(MM, name)(api, [], bits=8), 0)
    for bits, msg in [(0, ">= 1"), (253, "exceeds the maximum 252")]:
        with pytest.raises(CircuitError, match=msg):
            gadget_cost(g(name, bits), 2)
    with pytest.raises(CircuitError, match="does not fit in 8 bits"):
        gadget_cost(lambda api, x: getattr(MM, name)(api, [x, 256], bits=8), 1)
