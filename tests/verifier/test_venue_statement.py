"""The venue's statement check in Python: one comparison for the single and the batch path, before any pairing.

Proofs are real (the cross example, development keys); each batch item carries the statement the
venue expects of that item (its own commitment and context).
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import pytest

from zkmargin.circuits import compile_circuit, solve
from zkmargin.circuits.margin import assignment_for, circuit_for
from zkmargin.errors import PublicInputCountError, PublicInputOutOfRangeError
from zkmargin.field import R
from zkmargin.margin import account_commitment, load_market, load_model, load_portfolio
from zkmargin.margin.documents import Context
from zkmargin.margin.errors import SchemaError
from zkmargin.margin.statement import key_statement_info
from zkmargin.prover import DevelopmentSetupWarning, backend, prove, setup
from zkmargin.verifier.venue import (
    ExpectedStatement,
    KeyModelMismatchError,
    MarginItem,
    check_margin_proof,
    check_margin_proofs,
    expected_statement,
)

EX = Path(__file__).resolve().parents[2] / "examples" / "cross"

if not backend.fast_available():
    pytest.skip("proving the cross example needs the numba prover", allow_module_level=True)


@pytest.fixture(scope="module")
def world():
    model = load_model(EX / "model.json")
    market = load_market(EX / "market.json", model)
    portfolio = load_portfolio(EX / "portfolio_pass.json", model)
    cs = compile_circuit(circuit_for(model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentSetupWarning)
        pk, vk = setup(cs)
    vk = dataclasses.replace(vk, statement=key_statement_info(model))
    traders = {}
    for name, salt, nonce in (("alice", 11, 101), ("bob", 22, 202)):
        ctx = Context(market.venue, market.epoch, nonce, 0)
        proof, public = prove(pk, solve(assignment_for(model, market, portfolio, salt, "1000", ctx.field_value()),
                                        cs), cs)
        traders[name] = (proof, public, account_commitment(model, portfolio, salt), ctx)
    return model, market, vk, traders


def _expected(world, name, **over):
    model, market, _, traders = world
    _, _, commitment, ctx = traders[name]
    return expected_statement(model, market, over.get("commitment", commitment), over.get("threshold", "1000"),
                              over.get("context", ctx), label=name)


def test_each_trader_is_checked_against_their_own_commitment_in_one_batch(world):
    _, _, vk, traders = world
    items = [MarginItem(traders[n][1], traders[n][0], _expected(world, n), n) for n in ("alice", "bob")]
    res = check_margin_proofs(vk, items)
    assert res.ok and res.n == 2 and res.checks == 1
    # swap the statements: each proof is valid, but not about the account the venue names
    swapped = [MarginItem(traders["alice"][1], traders["alice"][0], _expected(world, "bob"), "alice"),
               MarginItem(traders["bob"][1], traders["bob"][0], _expected(world, "bob"), "bob")]
    res = check_margin_proofs(vk, swapped)
    assert res.bad == [0]
    names = [m[0] for m in res.verdicts[0].mismatches]
    assert names == ["commitment", "context"]
    assert res.verdicts[0].proof_valid is None  # never paired
    assert res.explain_bad()[0].startswith("alice: the proof is about another statement: commitment differs")


@pytest.mark.parametrize("field", ["threshold", "context", "market_digest"])
def test_single_and_batch_name_the_same_mismatch(world, field):
    model, market, vk, traders = world
    proof, public, _, ctx = traders["alice"]
    over = {}
    if field == "threshold":
        over["threshold"] = "999"
    elif field == "context":
        over["context"] = Context(ctx.venue, ctx.epoch, ctx.nonce + 1, ctx.chain_id)
    exp = _expected(world, "alice", **over)
    if field == "market_digest":
        exp = dataclasses.replace(exp, values=(exp.values[0], exp.values[1] + 1, *exp.values[2:]))
    single = check_margin_proof(vk, public, proof, exp)
    batch = check_margin_proofs(vk, [MarginItem(public, proof, exp, "alice")])
    assert [m[0] for m in single.mismatches] == [field] == [m[0] for m in batch.verdicts[0].mismatches]
    assert not single.ok and not batch.ok


def test_no_pairing_runs_before_every_statement_is_compared(world, monkeypatch):
    """Patch every pairing entry point the batch can reach; a positive control shows the guard fires."""
    import zkmargin.verifier.batch as batch_mod

    _, _, vk, traders = world
    calls = []

    def guard(*a, **k):
        calls.append(1)
        raise AssertionError("a pairing ran")

    monkeypatch.setattr(batch_mod, "_check", guard)
    monkeypatch.setattr(batch_mod, "_verify_validated", lambda *a, **k: guard())
    import zkmargin.verifier.venue as venue_mod

    monkeypatch.setattr(venue_mod, "_verify_validated", lambda *a, **k: guard())
    monkeypatch.setattr(venue_mod, "verify", lambda *a, **k: guard())
    bad = _expected(world, "alice", threshold="5")
    items = [MarginItem(traders["alice"][1], traders["alice"][0], bad, "a"),
             MarginItem(traders["bob"][1], traders["bob"][0], _expected(world, "bob", threshold="5"), "b")]
    with pytest.raises(AssertionError, match="a pairing ran"):  # positive control: matching items pair
        check_margin_proofs(vk, [MarginItem(traders["bob"][1], traders["bob"][0], _expected(world, "bob"), "b")])
    calls.clear()
    # every item differs: the batch pairs an empty set only (no pairing call reaches the guard's
    # single-item paths) and the single check never calls verify
    monkeypatch.setattr(venue_mod, "_verify_validated", lambda pvk, checked, rng: (
        guard() if checked else batch_mod.BatchResult(ok=True, bad=[], n=0, checks=0)))
    res = check_margin_proofs(vk, items)
    assert calls == [] and res.bad == [0, 1]
    assert not check_margin_proof(vk, traders["alice"][1], traders["alice"][0], bad).ok and calls == []


def test_malformed_public_inputs_and_wrong_count_are_named_errors(world):
    _, _, vk, traders = world
    proof, public, _, _ = traders["alice"]
    exp = _expected(world, "alice")
    with pytest.raises(PublicInputCountError, match="commitment, market_digest, threshold, context"):
        check_margin_proof(vk, public[:3], proof, exp)
    with pytest.raises(PublicInputOutOfRangeError):
        check_margin_proof(vk, [*public[:3], public[3] + R], proof, exp)
    with pytest.raises(PublicInputCountError, match="^bob: "):
        check_margin_proofs(vk, [MarginItem(public[:2], proof, exp, "bob")])


def test_key_of_another_model_is_refused(world):
    model, market, vk, traders = world
    proof, public, _, _ = traders["alice"]
    exp = _expected(world, "alice")
    other = dataclasses.replace(vk, statement={**vk.statement, "model_id": "x", "model_digest": "5"})
    with pytest.raises(KeyModelMismatchError, match="model 'x'"):
        check_margin_proof(other, public, proof, exp)
    with pytest.raises(KeyModelMismatchError, match="^alice: "):
        check_margin_proofs(other, [MarginItem(public, proof, exp, "alice")])
    attested = dataclasses.replace(vk, statement={**vk.statement, "kind": "attested"})
    with pytest.raises(KeyModelMismatchError, match="attested"):
        check_margin_proof(attested, public, proof, exp)
    # a key that records nothing (snarkjs's) is accepted: the model digest is a circuit constant
    assert check_margin_proof(dataclasses.replace(vk, statement=None), public, proof, exp).ok


def test_context_must_be_for_the_market_venue_and_epoch(world):
    model, market, _, traders = world
    _, _, commitment, ctx = traders["alice"]
    for bad, field in ((Context("elsewhere", ctx.epoch, 1, 0), "venue"), (Context(ctx.venue, ctx.epoch + 1, 1, 0),
                                                                           "epoch")):
        with pytest.raises(SchemaError, match=field):
            expected_statement(model, market, commitment, "1000", bad)


def test_free_input_is_taken_from_the_proof_only_when_declared_free():
    st = ExpectedStatement(("a", "b"), (5, None), kind="attested")
    assert st.bind([5, 9]) == [5, 9]
    with pytest.raises(ValueError):
        st.as_list()
    with pytest.raises(ValueError):
        ExpectedStatement(("a",), (1, 2))
