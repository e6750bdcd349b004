"""std.poseidon and std.encoding: gadget == native, pinned shapes, malicious witnesses.

The native side (zkmargin.poseidon, zkmargin.encoding) is itself checked against circomlibjs
(tests/crosscheck) and against a restatement of the spec (tests/core/test_encoding.py).
"""

from __future__ import annotations

import random

import pytest

from zkmargin import encoding as E
from zkmargin.circuits import API, Circuit, build, compile, param, public, secret, solve
from zkmargin.circuits.std import encoding as GE
from zkmargin.circuits.std import poseidon as GP
from zkmargin.circuits.std._testing import GadgetCircuit, gadget_cost, run_gadget
from zkmargin.errors import CircuitError
from zkmargin.field import R
from zkmargin.poseidon import N_ROUNDS_P, poseidon, poseidon_permutation

SEED = 20240612


def hash_fn(api, *xs):
    return GP.poseidon(api, xs)


def perm_fn(api, *xs):
    return GP.poseidon_permutation(api, xs)


def vectors(n: int, rng: random.Random) -> list[list[int]]:
    return [[rng.randrange(R) for _ in range(n)], [rng.randrange(1 << 64) for _ in range(n)], [0] * n, [R - 1] * n]


# --- Poseidon ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 17))
def test_poseidon_gadget_equals_native(n: int) -> None:
    rng = random.Random(SEED + n)
    for xs in vectors(n, rng):
        want = poseidon(xs)
        run = run_gadget(hash_fn, xs, [want], check=True)
        assert run.ok and run.outs == [want]
        assert not run_gadget(hash_fn, xs, [(want + 1) % R]).ok


@pytest.mark.parametrize("t", range(2, 18))
def test_permutation_gadget_equals_native(t: int) -> None:
    rng = random.Random(SEED * 3 + t)
    for xs in vectors(t, rng)[:2]:
        want = poseidon_permutation(xs)
        run = run_gadget(perm_fn, xs, want, check=True)
        assert run.ok and run.outs == want


def test_constraint_counts_pinned() -> None:
    assert {n: gadget_cost(hash_fn, n) for n in (1, 2, 4, 16)} == {1: 213, 2: 240, 4: 297, 16: 609}
    assert {t: gadget_cost(perm_fn, t) for t in (2, 3, 17)} == {2: 216, 3: 243, 17: 612}
    for n in range(1, 17):
        t = n + 1
        assert GP.permutation_cost(t) == 24 * t + 3 * N_ROUNDS_P[t - 2]
        assert GP.poseidon_cost(n) == GP.permutation_cost(t) - 3
    for n in (3, 8, 12):
        assert gadget_cost(hash_fn, n) == GP.poseidon_cost(n)


def test_constant_inputs_fold() -> None:
    # all-constant: no constraint at all, the constant is the native hash
    api = API(compute=False)
    out = GP.poseidon(api, [1, 2, 3])
    assert out.is_constant() and out.constant_value() == poseidon([1, 2, 3])
    assert api.constraints == []
    # one constant input saves its round-0 S-box (3 constraints)
    assert gadget_cost(lambda api, x: GP.poseidon(api, [x, 5]), 1) == 240 - 3
    run = run_gadget(lambda api, x: GP.poseidon(api, [x, 5]), [7], [poseidon([7, 5])], check=True)
    assert run.ok


def test_same_shape_in_both_modes() -> None:
    circ = GadgetCircuit(fn=hash_fn, n_in=3, n_out=1)
    cs = compile(circ)
    xs = [11, 22, 33]
    w = solve(GadgetCircuit(fn=hash_fn, n_in=3, n_out=1, xs=xs, expected=[poseidon(xs)]), cs)
    cs.check(w)


def test_lc_length_bounded() -> None:
    # partial rounds: no LC longer than t + R_P + 1 terms (the constant included)
    run = run_gadget(hash_fn, list(range(1, 17)), [poseidon(list(range(1, 17)))])
    longest = max(len(lc) for con in run.cs.constraints for lc in con)
    assert longest <= 17 + N_ROUNDS_P[-1] + 1


def test_every_internal_wire_is_determined() -> None:
    """A malicious prover changes any one S-box wire (x2, x4, x5 of any round) or the claimed
    output: some constraint fails."""
    xs = [123456789, R - 42]
    run = run_gadget(hash_fn, xs, [poseidon(xs)], check=True)
    cs, w = run.cs, run.w
    names = cs.wire_names
    internal = [i for i, name in enumerate(names) if name.startswith("poseidon2/")]
    assert len(internal) == 240  # one wire per constraint: x2, x4, x5 of each S-box
    assert {names[i].rsplit("/", 1)[1][:2] for i in internal} == {"x2", "x4", "x5"}
    assert cs.wire_index("poseidon2/r0/x5[1]") in internal
    assert cs.wire_index("poseidon2/r4/x2[0]") in internal  # first partial round
    assert cs.wire_index("poseidon2/r64/x5[2]") in internal  # last full round
    rng = random.Random(SEED)
    for i in [*internal, 1]:  # wire 1 is the public output "expected[0]"
        bad = list(w)
        bad[i] = (bad[i] + rng.randrange(1, R)) % R
        assert cs.first_unsatisfied(bad) is not None, names[i]


def assert_determined_in_order(cs, first_internal: int) -> None:
    """Every wire from ``first_internal`` on is the C side (coefficient 1) of one constraint whose
    other terms use only earlier wires: by induction each is a function of the inputs, so an
    honest witness is the only one (no free wire a lying prover could choose)."""
    defined = set()
    for k, (a, b, c) in enumerate(cs.constraints):
        new = max(c, default=0)
        if new < first_internal:
            continue  # a check on existing wires (e.g. an output equal to a public input)
        assert c[new] == 1 and new not in defined, cs.labels[k]
        assert max([*a, *b, *(w for w in c if w != new)], default=0) < new, cs.labels[k]
        defined.add(new)
    assert defined == set(range(first_internal, cs.n_wires))


@pytest.mark.parametrize("n", [1, 2, 16])
def test_outputs_are_functions_of_inputs(n: int) -> None:
    cs = compile(GadgetCircuit(fn=hash_fn, n_in=n, n_out=1))
    assert_determined_in_order(cs, 2 + n)  # wires: one, expected, xs, internal
    cs = compile(GadgetCircuit(fn=digest_fn, n_in=40, n_out=1))
    assert_determined_in_order(cs, 2 + 40)


def test_poseidon_errors() -> None:
    api = API(compute=False)
    with pytest.raises(CircuitError, match="1..16 inputs"):
        GP.poseidon(api, [])
    with pytest.raises(CircuitError, match="1..16 inputs"):
        GP.poseidon(api, [1] * 17)
    for t in (1, 18):
        with pytest.raises(CircuitError, match="width"):
            GP.poseidon_permutation(api, [1] * t)
    with pytest.raises(CircuitError, match="two different circuits"):
        GP.poseidon(api, [API(compute=False).alloc_secret("x", None)])
    with pytest.raises(CircuitError):
        GP.poseidon_cost(0)


# --- encodings -----------------------------------------------------------------------------------

LENGTHS = [0, 1, 15, 16, 17, 100]


def digest_fn(api, *xs):
    return GE.market_digest(api, xs)


@pytest.mark.parametrize("n", LENGTHS)
def test_hash_vector_gadget_equals_native(n: int) -> None:
    rng = random.Random(SEED + 100 + n)
    for tag in (E.TAG_MARKET_DIGEST, E.TAG_CONTEXT, 0, R - 1):
        xs = [rng.randrange(R) for _ in range(n)]
        want = E.hash_vector(tag, xs)
        run = run_gadget(lambda api, *v, tag=tag: GE.hash_vector(api, tag, v), xs, [want], check=True)
        assert run.ok and run.outs == [want]
    xs = [rng.randrange(R) for _ in range(n)]
    assert run_gadget(digest_fn, xs, [E.market_digest(xs)], check=True).outs == [E.market_digest(xs)]
    assert not run_gadget(digest_fn, xs, [(E.market_digest(xs) + 1) % R]).ok


def test_commitment_and_context_gadgets_equal_native() -> None:
    rng = random.Random(SEED + 7)
    for n in (0, 1, 15, 16, 40):
        vals = [rng.randrange(R) for _ in range(n)]
        salt = E.random_salt()
        md = rng.randrange(R)
        want = E.commitment(md, vals, salt)
        run = run_gadget(lambda api, s, *v, md=md: GE.commitment(api, md, v, s), [salt, *vals], [want], check=True)
        assert run.outs == [want]
        key = rng.randrange(R)
        kc = E.key_commitment(key)
        leaf = E.account_leaf(md, vals, salt, kc)
        run = run_gadget(lambda api, s, k, *v, md=md: GE.account_leaf(api, md, v, s, k), [salt, kc, *vals], [leaf],
                         check=True)
        assert run.outs == [leaf]
    key, ctx = rng.randrange(R), rng.randrange(R)
    assert run_gadget(lambda api, k: GE.key_commitment(api, k), [key], [E.key_commitment(key)], check=True).ok
    assert run_gadget(lambda api, k, c: GE.nullifier(api, k, c), [key, ctx], [E.nullifier(key, ctx)], check=True).ok
    assert not run_gadget(lambda api, k, c: GE.nullifier(api, k, c), [key, ctx], [E.nullifier(key, ctx + 1)]).ok
    parts = [E.short_string("venue-A"), 42, rng.randrange(R), 1]
    run = run_gadget(lambda api, *p: GE.context_hash(api, *p), parts, [E.context_hash(*parts)], check=True)
    assert run.outs == [E.context_hash(*parts)]


def test_hash_vector_counts_pinned() -> None:
    pinned = {0: 0, 1: 564, 15: 606, 16: 609, 17: 1221, 100: 4281}
    assert {n: gadget_cost(digest_fn, n) for n in LENGTHS} == pinned
    assert {n: GE.hash_vector_cost(n) for n in LENGTHS} == pinned
    for n in (2, 31, 32, 33):
        assert gadget_cost(digest_fn, n) == GE.hash_vector_cost(n)
    assert gadget_cost(lambda api, *p: GE.context_hash(api, *p), 4) == 573
    # the commitment absorbs the (constant) model digest and the salt too
    for n in (0, 14, 15, 16, 40):
        assert gadget_cost(lambda api, s, *v: GE.commitment(api, 7, v, s), n + 1) == GE.commitment_cost(n)
    assert GE.commitment_cost(14) == GE.hash_vector_cost(16) - 3


def test_hash_vector_gadget_errors() -> None:
    api = API(compute=False)
    for bad in (R, -1):
        with pytest.raises(CircuitError, match="domain tag"):
            GE.hash_vector(api, bad, [1])
    with pytest.raises(CircuitError):
        GE.hash_vector_cost(-1)


MODEL_DIGEST = 0xABCDEF


class Committed(Circuit):
    """The commitment clause of the statement: commitment == Commit(MODEL_DIGEST, values, salt)."""

    n = param(doc="number of account values")
    commitment = public(doc="the account's commitment")
    values = secret(shape="n", doc="the account values")
    salt = secret(doc="the blinding")

    def define(self, api: API) -> None:
        api.assert_equal(GE.commitment(api, MODEL_DIGEST, self.values, self.salt), self.commitment,
                         label="commitment")


def test_commitment_circuit_binds_values_and_salt() -> None:
    rng = random.Random(SEED + 9)
    values = [rng.randrange(1 << 64) for _ in range(5)]
    salt = E.random_salt()
    c = E.commitment(MODEL_DIGEST, values, salt)
    cs = compile(Committed(n=5))
    assert cs.n_public == 1 and cs.n_constraints == GE.commitment_cost(5) + 1
    w = solve(Committed(n=5, commitment=c, values=values, salt=salt), cs)
    cs.check(w)
    assert cs.public_inputs(w) == [c]
    # a different salt (or value) gives a different commitment, and the honest commitment
    # as public input rejects the witness
    other_salt = (salt + 1) % R
    assert E.commitment(MODEL_DIGEST, values, other_salt) != c
    assert E.commitment(MODEL_DIGEST + 1, values, salt) != c
    for vals, s in [(values, other_salt), ([values[0] + 1, *values[1:]], salt), (values[::-1], salt)]:
        got, bad = build(Committed(n=5, commitment=c, values=vals, salt=s), check=False)
        assert got.digest() == cs.digest()
        assert cs.first_unsatisfied(bad) is not None
        assert cs.labels[cs.first_unsatisfied(bad)] == "commitment"
    # tampering any single internal wire of the honest witness breaks it too (sampled)
    for i in rng.sample(range(cs.n_public + 7, cs.n_wires), 50):
        bad = list(w)
        bad[i] = (bad[i] + 1) % R
        assert cs.first_unsatisfied(bad) is not None, cs.wire_names[i]
