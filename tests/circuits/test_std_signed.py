"""std.signed: the signed encoding (|v| < 2**bits, stored v mod r) -- honest, malicious, errors."""

from __future__ import annotations

import itertools
import random

import pytest

from zkmargin.circuits import compile, solve
from zkmargin.circuits.std import signed as SG
from zkmargin.circuits.std._testing import GadgetCircuit, gadget_cost, run_gadget, search_lies
from zkmargin.errors import CircuitError, UnsatisfiedConstraintError
from zkmargin.field import R


def fits(v: int, n: int) -> bool:
    return -(1 << n) < v < (1 << n)


def g(name, n):
    f = getattr(SG, name)
    return lambda api, x: f(api, x, bits=n)


def want(name, v):
    """Expected outputs, plain Python."""
    return {"assert_signed": [], "sign": [int(v < 0)], "abs": [v if v >= 0 else -v],
            "split_signed": [int(v < 0), v if v >= 0 else -v]}[name]


NAMES = ["assert_signed", "sign", "abs", "split_signed"]


@pytest.mark.parametrize("n", [1, 8, 64, 252])
def test_costs(n):
    assert gadget_cost(g("assert_signed", n), 1) == n + 3
    assert gadget_cost(g("sign", n), 1) == n + 3
    assert gadget_cost(g("abs", n), 1) == n + 4
    assert gadget_cost(g("split_signed", n), 1) == n + 4


@pytest.mark.parametrize("name", NAMES)
def test_exhaustive_8_bits(name):
    n = 8
    exp = want(name, 0)
    circ = dict(fn=g(name, n), n_in=1, n_out=len(exp))
    cs = compile(GadgetCircuit(**circ))
    for v in range(-300, 301):
        x = v % R
        if fits(v, n):
            cs.check(solve(GadgetCircuit(**circ, xs=[x], expected=want(name, v)), cs))
            if exp:  # a wrong claim fails
                bad = [(e + 1) % R for e in want(name, v)]
                assert not run_gadget(g(name, n), [x], bad).ok
        else:
            run = run_gadget(g(name, n), [x], want(name, v))
            assert not run.ok, v


@pytest.mark.parametrize("n", [64, 128, 252])
def test_wide_random(n):
    rng = random.Random(n)
    top = (1 << n) - 1
    vals = [0, 1, -1, top, -top, *(rng.randrange(-top, top + 1) for _ in range(6))]
    for v in vals:
        run = run_gadget(g("split_signed", n), [v % R], want("split_signed", v), check=True)
        assert run.outs == want("split_signed", v)
    for v in [1 << n, -(1 << n), (1 << n) + 5, -(1 << n) - 5]:
        for name in NAMES:
            assert not run_gadget(g(name, n), [v % R]).ok, (name, v)
    if n < 252:  # "positive" field elements just above the window, and r // 2
        assert not run_gadget(g("assert_signed", n), [R // 2]).ok


def test_minus_two_pow_bits_is_excluded_by_the_nonzero_rule():
    # -2**bits is inside the decomposed window (y = 0) but outside the symmetric encoding
    n = 8
    run = run_gadget(g("abs", n), [(-256) % R], [256])
    assert run.violated() == ["abs/negative_nonzero"]
    with pytest.raises(UnsatisfiedConstraintError, match="assert_signed/negative_nonzero"):
        run_gadget(g("assert_signed", n), [(-256) % R], check=True)
    # no inverse makes 0 * inv == 1
    cands = [[0], [1], [2], [R - 1], [(R + 1) // 2]]
    assert search_lies(g("sign", n), [(-256) % R], {"signed.low_inverse": cands}) == []


def test_zero_has_one_sign():
    # a prover wanting sign(0) = 1 (e.g. to pick a short-side rate) has no witness
    assert run_gadget(g("sign", 8), [0], [0]).ok
    assert not run_gadget(g("sign", 8), [0], [1]).ok
    assert not run_gadget(g("split_signed", 8), [0], [1, 0]).ok


def test_lying_hints_from_candidate_sets():
    n = 2
    cand = [0, 1, 2, R - 1]
    space = {
        "bits.decompose": [list(v) for v in itertools.product(cand, repeat=n + 1)],
        "signed.low_inverse": [[0], [1], [2], [R - 1], [(R + 1) // 2], [pow(3, -1, R)]],
    }
    for v in range(-6, 7):
        found = search_lies(g("split_signed", n), [v % R], space)
        if fits(v, n):
            assert found and all(r.outs == want("split_signed", v) for r in found), v
        else:
            assert found == [], v


def test_non_boolean_decomposition_of_a_huge_value():
    # x = 2**100 with bits=8: y = 2**100 + 256 recomposes with one "bit" equal to y
    x = 1 << 100
    lie = {"bits.decompose": lambda ins: [(x + 256) % R] + [0] * (ins[1] - 1)}
    run = run_gadget(g("assert_signed", 8), [x], hints=lie)
    assert "assert_signed/boolean[0]" in run.violated()


def test_tampered_sign_bit_is_caught():
    run = run_gadget(g("sign", 8), [(-77) % R], [1])
    assert run.ok
    w = list(run.w)
    w[run.cs.wire_index("sign/bits.decompose[8]")] ^= 1
    assert run.cs.first_unsatisfied(w) is not None


def test_constants():
    assert gadget_cost(lambda api, x: SG.abs(api, -5, bits=8), 1) == 0
    assert run_gadget(lambda api, x: SG.split_signed(api, -5, bits=8), [0], [1, 5]).ok
    assert run_gadget(lambda api, x: SG.split_signed(api, 7, bits=8), [0], [0, 7]).ok
    with pytest.raises(CircuitError, match="not a signed value of width 8"):
        gadget_cost(lambda api, x: SG.sign(api, -256, bits=8), 1)


@pytest.mark.parametrize("n, msg", [(0, ">= 1"), (253, "exceeds the maximum 252"), (1.5, "must be an int")])
@pytest.mark.parametrize("name", NAMES)
def test_bad_width(name, n, msg):
    with pytest.raises(CircuitError, match=msg):
        gadget_cost(g(name, n), 1)
