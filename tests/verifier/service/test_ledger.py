"""The ledger on SQLite and on a real PostgreSQL server: contexts, verdicts, atomic consumption.

Tokens here are plain field elements: the bilateral statement's token is the context's nonce, the
attested statement's is the proof's nullifier (issue 9's circuit will supply them; the ledger does
not care where they come from).
"""

from __future__ import annotations

import random
import threading

import pytest

from zkmargin.field import R
from zkmargin.verifier.ledger import (
    ACCEPTED,
    EXPIRED_CONTEXT,
    REPLAY,
    SCHEMA_VERSION,
    UNKNOWN_CONTEXT,
    Ledger,
    LedgerError,
    VerdictRequest,
    meta_table,
    spent,
)

H = "ab" * 32


def _bilateral(ledger: Ledger, nonce: int | None = None, **kw):
    return ledger.issue_context("venue-a", 7, expected=[11, 22, 33, 0], threshold="1000", nonce=nonce, **kw)


def _accept(ledger: Ledger, ctx, token: int, proof_hash: str = H):
    return ledger.record(proof_hash=proof_hash, public=[*ctx.expected], accepted=True, reason=ACCEPTED,
                         detail="ok", context=ctx, token=token)


def test_issue_find_and_answer_once(db_url):
    with Ledger(db_url) as ledger:
        ctx = _bilateral(ledger, nonce=5)
        assert ctx.expected[3] == ctx.value and ctx.token_of([]) == 5
        assert ledger.find_context(ctx.value) == ctx
        assert ledger.context(ctx.id) == ctx
        assert ledger.find_context(ctx.value + 1) is None
        first = _accept(ledger, ctx, ctx.nonce)
        assert first.accepted and first.reason == ACCEPTED
        again = _accept(ledger, ctx, ctx.nonce, proof_hash="cd" * 32)
        assert not again.accepted and again.reason == REPLAY and first.id in again.detail
        assert ledger.spent_by(ctx.id, ctx.nonce) == first.id
        assert [v.id for v in ledger.verdicts_for_proof(H)] == [first.id]
        assert ledger.counts() == {"contexts": 1, "verdicts": 2, "accepted": 1, "spent": 1}
        assert ledger.check_integrity() == []
    # answered once, also after the ledger is reopened (a restart)
    with Ledger(db_url, create=False) as ledger:
        assert ledger.verdict(first.id).accepted
        late = _accept(ledger, ctx, ctx.nonce, proof_hash="ef" * 32)
        assert late.reason == REPLAY
        rows = list(ledger.accepted(epoch=7))
        assert [r["verdict_id"] for r in rows] == [first.id] and rows[0]["nonce"] == "5"
        assert list(ledger.accepted(epoch=8)) == []
        summary = ledger.summary()
        assert summary[0]["accepted"] == 1 and summary[0]["replay"] == 2 and summary[0]["contexts"] == 1


def test_rejections_are_recorded_and_consume_nothing(db_url):
    with Ledger(db_url) as ledger:
        ctx = _bilateral(ledger)
        v = ledger.record(proof_hash=H, public=[1, 2, 3, 4], accepted=False, reason=EXPIRED_CONTEXT,
                          detail="expired", context=ctx, token=ctx.nonce)
        assert not v.accepted and ledger.spent_by(ctx.id, ctx.nonce) is None
        assert _accept(ledger, ctx, ctx.nonce).accepted
        with pytest.raises(LedgerError, match="reason"):
            ledger.record(proof_hash=H, public=[], accepted=True, reason=REPLAY, detail="", context=ctx, token=1)
        with pytest.raises(LedgerError, match="context and token"):
            ledger.record(proof_hash=H, public=[], accepted=True, reason=ACCEPTED, detail="")


def test_group_commit_keeps_each_acceptance_single(db_url):
    """record_many: one transaction for the group, each acceptance in its own savepoint."""
    with Ledger(db_url) as ledger:
        a, b = _bilateral(ledger), _bilateral(ledger)
        _accept(ledger, b, b.nonce)
        reqs = [VerdictRequest(H, a.expected, True, ACCEPTED, "ok", a, a.nonce),
                VerdictRequest("cd" * 32, a.expected, True, ACCEPTED, "ok", a, a.nonce),  # same token, same group
                VerdictRequest("ef" * 32, b.expected, True, ACCEPTED, "ok", b, b.nonce),  # spent before
                VerdictRequest("12" * 32, (1, 2), False, UNKNOWN_CONTEXT, "not issued here")]
        out = ledger.record_many(reqs)
        assert [v.reason for v in out] == [ACCEPTED, REPLAY, REPLAY, UNKNOWN_CONTEXT]
        assert out[0].id in out[1].detail and out[0].accepted and not out[1].accepted
        assert ledger.counts() == {"contexts": 2, "verdicts": 5, "accepted": 2, "spent": 2}
        assert ledger.check_integrity() == []
        # one bad request: nothing of the group is written
        c = _bilateral(ledger)
        with pytest.raises(LedgerError, match="proof_hash"):
            ledger.record_many([VerdictRequest(H, c.expected, True, ACCEPTED, "ok", c, c.nonce),
                                VerdictRequest("zz", c.expected, False, REPLAY, "")])
        assert ledger.spent_by(c.id, c.nonce) is None and ledger.counts()["verdicts"] == 5
        ctx, token, winner = ledger.admission(a.value, a.expected)
        assert ctx == a and token == a.nonce and winner == out[0].id
        assert ledger.admission(c.value, c.expected) == (c, c.nonce, None)
        assert ledger.admission(12345, []) == (None, None, None)


def test_attested_nullifiers_once_per_context(db_url):
    """The attested statement consumes nullifiers: each (context, nullifier) is accepted once."""
    with Ledger(db_url) as ledger:
        a = ledger.issue_context("venue-a", 7, statement="attested", expected=[9, 8, 7, 0], threshold="1.30")
        b = ledger.issue_context("venue-a", 7, statement="attested", expected=[9, 8, 7, 0], threshold="1.30")
        assert a.names[-1] == "nullifier" and a.token_of([9, 8, 7, a.value, 4242]) == 4242
        rng = random.Random(1)
        nullifiers = [rng.randrange(1, R) for _ in range(5)]
        for n in nullifiers:  # many accounts answer the same context, once each
            assert _accept(ledger, a, n).accepted
        assert all(_accept(ledger, a, n).reason == REPLAY for n in nullifiers)
        assert _accept(ledger, b, nullifiers[0]).accepted  # unique per context
        assert "nullifier was already used" in _accept(ledger, b, nullifiers[0]).detail
        assert ledger.counts()["accepted"] == 6 and ledger.check_integrity() == []


def test_concurrent_submissions_exactly_one_accepted(db_url):
    """16 threads with their own connection pools race to consume each token: one wins, 15 are replays."""
    with Ledger(db_url) as setup:
        bil = [_bilateral(setup) for _ in range(6)]
        att = setup.issue_context("venue-a", 7, statement="attested", expected=[1, 2, 3, 0], threshold="1")
    targets = [(c, c.nonce) for c in bil] + [(att, 777), (att, 778)]
    ledgers = [Ledger(db_url, create=False) for _ in range(4)]
    barrier = threading.Barrier(16)
    results: list[list] = [[] for _ in range(16)]
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            lg = ledgers[k % 4]
            for ctx, token in targets:
                barrier.wait(timeout=60)
                results[k].append(_accept(lg, ctx, token, proof_hash=f"{k:02x}" * 32))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    for lg in ledgers:
        lg.close()
    for i, (ctx, _token) in enumerate(targets):
        verdicts = [results[k][i] for k in range(16)]
        winners = [v for v in verdicts if v.accepted]
        assert len(winners) == 1, (ctx.statement, [v.reason for v in verdicts])
        assert all(v.reason == REPLAY and winners[0].id in v.detail for v in verdicts if not v.accepted)
    with Ledger(db_url, create=False) as ledger:
        assert ledger.counts() == {"contexts": 7, "verdicts": 16 * len(targets), "accepted": len(targets),
                                   "spent": len(targets)}
        assert ledger.check_integrity() == []


def test_integrity_check_sees_a_damaged_ledger(db_url):
    """Positive control: check_integrity reports an accepted verdict whose spent row is gone."""
    with Ledger(db_url) as ledger:
        ctx = _bilateral(ledger)
        v = _accept(ledger, ctx, ctx.nonce)
        with ledger.engine.begin() as conn:
            conn.execute(spent.delete())
        assert ledger.check_integrity() == [f"accepted verdict {v.id} consumed no token"]


def test_malformed_requests_name_the_field(db_url):
    with Ledger(db_url) as ledger:
        cases = [
            (dict(venue="", epoch=1), "venue"),
            (dict(venue="x" * 32, epoch=1), "venue"),
            (dict(venue="v", epoch=-1), "epoch"),
            (dict(venue="v", epoch=2**64), "epoch"),
            (dict(venue="v", epoch=1, chain_id=True), "chain_id"),
            (dict(venue="v", epoch=1, nonce=2**254 * 8), "nonce"),
            (dict(venue="v", epoch=1, ttl_s=0), "ttl_s"),
            (dict(venue="v", epoch=1, statement="other"), "statement"),
            (dict(venue="v", epoch=1, expected=[1, 2, 3]), "expected"),
            (dict(venue="v", epoch=1, expected=[1, 2, 3, 4]), "expected.context"),
        ]
        for kw, name in cases:
            args = {"expected": [1, 2, 3, 0], "threshold": "1", **kw}
            with pytest.raises(LedgerError, match=f"^{name}"):
                ledger.issue_context(args.pop("venue"), args.pop("epoch"), **args)
        _bilateral(ledger, nonce=3)
        with pytest.raises(LedgerError, match="already issued"):
            _bilateral(ledger, nonce=3)
        ctx = _bilateral(ledger, nonce=4)
        with pytest.raises(LedgerError, match="proof_hash"):
            ledger.record(proof_hash="zz", public=[], accepted=False, reason=REPLAY, detail="", context=ctx)


def test_schema_is_checked(db_url, tmp_path):
    with pytest.raises(LedgerError, match="no zkmargin ledger"):
        Ledger(db_url, create=False)
    with Ledger(db_url) as ledger:
        with ledger.engine.begin() as conn:
            conn.execute(meta_table.update().values(value=str(SCHEMA_VERSION + 1)))
    with pytest.raises(LedgerError, match=f"schema version {SCHEMA_VERSION + 1}"):
        Ledger(db_url)
    with pytest.raises(LedgerError, match="database"):
        Ledger("mysql://nobody@localhost/x")
    with pytest.raises(LedgerError, match="in-memory"):
        Ledger("sqlite:///:memory:")
