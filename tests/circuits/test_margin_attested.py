"""The venue-attested statement: honest witnesses for every model, pinned cost, malicious provers.

Every forgery starts from an honest witness (a published example placed in a small random tree)
and changes one thing a cheating trader (or the venue, which knows every salt and account but no
key) controls; the test asserts the exact set of violated constraints, so each one is shown to
be the one that stops the attack.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from zkmargin import merkle as M
from zkmargin.circuits import compile
from zkmargin.circuits.margin import constraint_count
from zkmargin.circuits.margin._testing import build_unchecked, small_model
from zkmargin.circuits.margin.attested import (
    ATTESTED_CIRCUITS,
    ATTESTED_PUBLIC_INPUTS,
    attested_assign_vectors,
    attested_circuit_for,
    attested_cost,
)
from zkmargin.circuits.std._testing import violated
from zkmargin.encoding import account_leaf, key_commitment, market_digest, nullifier
from zkmargin.field import R
from zkmargin.margin import (
    account_layout,
    layout_length,
    load_market,
    load_model,
    load_portfolio,
    model_digest,
    parse_threshold,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MANIFEST = {e["name"]: e for e in json.loads((EXAMPLES / "manifest.json").read_text())["examples"]}
NAME = {"cross": "cross", "isolated": "isolated", "scenario": "span_covered_write", "health": "lending",
        "tiered": "tiered"}
KINDS = list(NAME)
SEED = 20261208
DEPTH = 4
KEY, SALT, CONTEXT, INDEX = 0x5EC12E7, 0xABCDEF0123, 0x77, 9


def _example(kind: str, case: int = 0):
    ex = MANIFEST[NAME[kind]]
    c = ex["cases"][case]
    model = load_model(EXAMPLES / ex["model"])
    market = load_market(EXAMPLES / ex["market"], model)
    pf = load_portfolio(EXAMPLES / c["portfolio"], model)
    return model, market, pf.to_field_elements(model), market.to_field_elements(model), parse_threshold(
        model, c["threshold"])


def _tree(model, account, *, key=KEY, digest=None, index=INDEX, count=13):
    """A tree of ``count`` random leaves with the account's leaf at ``index``: (root, path, levels)."""
    rng = random.Random(SEED + index)
    leaves = [rng.randrange(R) for _ in range(count)]
    leaves[index] = account_leaf(model_digest(model) if digest is None else digest, account, SALT, key_commitment(key))
    levels = M.tree_levels(leaves, DEPTH)
    return levels[DEPTH][0], M.merkle_path(levels, index), levels


def _run(model, acc, mkt, t, *, key=KEY, index=INDEX, path=None, root=None, hints=None, salt=SALT,
         context=CONTEXT, **public):
    if root is None:
        root, tree_path, _ = _tree(model, acc)
        path = tree_path if path is None else path
    circ = attested_assign_vectors(model, acc, salt, mkt, t, context, key, index, path, account_root=root, **public)
    cs, w = build_unchecked(circ, hints)
    return violated(cs, w), cs, w


@pytest.mark.parametrize("kind", KINDS)
def test_honest_attested_witness_passes_and_a_failing_account_fails(kind):
    model, market, acc, mkt, t = _example(kind)
    bad, cs, w = _run(model, acc, mkt, t)
    assert bad == []
    root, _, _ = _tree(model, acc)
    assert w[1 : 1 + 5] == [root, market_digest(mkt), t, CONTEXT, nullifier(KEY, CONTEXT)]
    assert cs.n_public == 5
    model, market, acc, mkt, t = _example(kind, len(MANIFEST[NAME[kind]]["cases"]) - 1)
    bad, _, _ = _run(model, acc, mkt, t)
    assert bad and all(not b.startswith("statement/attested") for b in bad)  # the rule fails, not the anchor


def test_public_inputs_in_the_documented_order():
    for cls in ATTESTED_CIRCUITS.values():
        assert [k for k, v in cls._fields.items() if v.kind == "public"] == list(ATTESTED_PUBLIC_INPUTS)
        assert "commitment" not in cls._fields


def _leaf_minus_commitment(n_acc: int) -> int:
    """The leaf hashes one value more than the commitment (n + 3 vs n + 2): a new sponge block costs
    612; inside a single block one zero-padding slot less costs 3 (its S-box is no longer free)."""
    blocks = lambda n: max(1, -(-n // 16))  # noqa: E731
    if blocks(n_acc + 3) > blocks(n_acc + 2):
        return 612
    return 3 if n_acc + 3 <= 16 else 0


@pytest.mark.parametrize("kind", KINDS)
def test_constraint_cost_pinned_per_level(kind):
    """attested = bilateral + 242 per level + 2 (recomposition, root equality) + 564 (key commitment)
    + 568 (nullifier and its equality) - 1 (no commitment equality) + the leaf's extra value."""
    model = small_model(kind)
    n_acc = layout_length(account_layout(model))
    counts = {d: compile(attested_circuit_for(model, d)).n_constraints for d in (1, 2, 20)}
    assert counts == {d: attested_cost(model, d) for d in counts}
    for d, c in counts.items():
        assert c - constraint_count(model) == 242 * d + 2 + 564 + 568 - 1 + _leaf_minus_commitment(n_acc)


def test_pinned_totals_of_the_examples_at_depth_20_and_32():
    want = {"cross": (4048, 10024, 12928), "isolated": (2893, 8869, 11773), "scenario": (8506, 14482, 17386),
            "health": (4047, 10023, 12927), "tiered": (3698, 9674, 12578)}
    for kind, (bilateral, d20, d32) in want.items():
        model = _example(kind)[0]
        assert (constraint_count(model), attested_cost(model, 20), attested_cost(model, 32)) == (bilateral, d20, d32)
    assert compile(attested_circuit_for(_example("cross")[0], 20)).n_constraints == 10024


# --- the inclusion: a malicious prover -----------------------------------------------------------

def _bits(honest_index: int, flip: int | None = None, value: int | None = None):
    bits = M.index_bits(honest_index, DEPTH)
    if flip is not None:
        bits[flip] ^= 1
    if value is not None:
        bits[0] = value
    return {"bits.decompose": lambda ins, b=bits: b if ins[1] == DEPTH else [(ins[0] >> i) & 1 for i in range(ins[1])]}


def test_lying_path_direction_bit_fails():
    model, _, acc, mkt, t = _example("cross")
    root, path, _ = _tree(model, acc)
    for k in range(DEPTH):
        bad, _, _ = _run(model, acc, mkt, t, root=root, path=path, index=INDEX ^ (1 << k))
        assert bad == ["statement/attested/merkle/root"], k
    bad, _, _ = _run(model, acc, mkt, t, root=root, path=path, hints=_bits(INDEX, flip=2))
    assert "statement/attested/merkle/index/to_bits/recompose" in bad
    bad, _, _ = _run(model, acc, mkt, t, root=root, path=path, hints=_bits(INDEX, value=2))
    assert "statement/attested/merkle/index/to_bits/boolean[0]" in bad


def test_wrapped_leaf_index_fails_only_the_recomposition():
    model, _, acc, mkt, t = _example("cross")
    root, path, _ = _tree(model, acc)
    for wrapped in (INDEX + (1 << DEPTH), (INDEX - (1 << DEPTH)) % R, INDEX + (1 << 32)):
        bad, _, _ = _run(model, acc, mkt, t, root=root, path=path, index=wrapped, hints=_bits(INDEX))
        assert bad == ["statement/attested/merkle/index/to_bits/recompose"], wrapped


def test_a_leaf_from_another_model_does_not_open():
    """The venue's tree holds the same account vector committed under another model (equal length):
    the circuit hashes its own model digest into the leaf, so only the root equality fails."""
    model, _, acc, mkt, t = _example("cross")
    other = load_model({**model.to_dict(), "model_id": "another-cross-model"})
    assert model_digest(other) != model_digest(model)
    root, path, _ = _tree(model, acc, digest=model_digest(other))
    bad, _, _ = _run(model, acc, mkt, t, root=root, path=path)
    assert bad == ["statement/attested/merkle/root"]


def test_an_account_outside_the_tree_cannot_prove():
    model, _, acc, mkt, t = _example("cross")
    root, path, levels = _tree(model, acc)
    acc2 = list(acc)
    acc2[-1] = (acc2[-1] + 1) % R  # not the venue's snapshot of the account
    bad, _, _ = _run(model, acc2, mkt, t, root=root, path=path)
    assert "statement/attested/merkle/root" in bad
    for k in range(DEPTH):  # a tampered sibling
        p = list(path)
        p[k] = (p[k] + 1) % R
        bad, _, _ = _run(model, acc, mkt, t, root=root, path=p)
        assert bad == ["statement/attested/merkle/root"]


# --- the nullifier -------------------------------------------------------------------------------

def test_a_free_choice_of_nullifier_fails():
    model, _, acc, mkt, t = _example("cross")
    for n in (0, 1, nullifier(KEY, CONTEXT + 1), nullifier(KEY + 1, CONTEXT), R - 1):
        bad, _, _ = _run(model, acc, mkt, t, nullifier=n)
        assert bad == ["statement/attested/nullifier"], n


def test_a_nullifier_from_what_the_venue_knows_does_not_open():
    """The venue knows the salt, the account, the leaf and the key commitment, but not the key.
    A nullifier made from any of them fails with the honest key; and using one of them AS the key
    (so that the nullifier is consistent) breaks the leaf: key_commitment(x) is not the registered
    key commitment, so only the root equality fails."""
    model, _, acc, mkt, t = _example("cross")
    root, path, levels = _tree(model, acc)
    leaf = levels[0][INDEX]
    known = {"salt": SALT, "key commitment": key_commitment(KEY), "leaf": leaf, "root": root}
    for what, x in known.items():
        bad, _, _ = _run(model, acc, mkt, t, root=root, path=path, nullifier=nullifier(x, CONTEXT))
        assert bad == ["statement/attested/nullifier"], what
        bad, _, _ = _run(model, acc, mkt, t, root=root, path=path, key=x)
        assert bad == ["statement/attested/merkle/root"], what


def test_the_nullifier_is_bound_to_the_context():
    model, _, acc, mkt, t = _example("cross")
    root, path, _ = _tree(model, acc)
    # a proof's context changed, its nullifier kept: the nullifier equality fails
    bad, _, _ = _run(model, acc, mkt, t, root=root, path=path, context=CONTEXT + 1, nullifier=nullifier(KEY, CONTEXT))
    assert bad == ["statement/attested/nullifier"]
    assert nullifier(KEY, CONTEXT) == nullifier(KEY, CONTEXT) != nullifier(KEY, CONTEXT + 1)


def test_tampered_public_inputs_fail():
    model, _, acc, mkt, t = _example("cross")
    root, path, _ = _tree(model, acc)
    assert _run(model, acc, mkt, t, root=(root + 1) % R, path=path)[0] == ["statement/attested/merkle/root"]
    assert _run(model, acc, mkt, t, root=root, path=path, market_digest=market_digest(mkt) + 1)[0] == [
        "statement/market_digest/bind"]
