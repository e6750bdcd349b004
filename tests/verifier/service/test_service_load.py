"""The acceptance load: 2,000+ submissions from 16 clients, and kill -9 in the middle of it.

Slow tier (CI runs it; ``-m "not slow"`` leaves it out). Bounded: each run stops by itself
(``deadline_s``), and all traffic goes to 127.0.0.1.

Kill -9: the server (and its worker processes) is SIGKILLed after a sixth of the answers have come
back, while 16 clients keep sending; the clients' requests in flight fail. Then a new server starts
on the same database and every submission that got no answer is sent again, plus every valid
proof once more. Afterwards:

- no accepted verdict lost: every verdict a client was told was accepted is in the ledger, accepted;
- nothing accepted twice: each valid context has exactly one accepted verdict in the ledger, and
  the ledger's integrity check (accepted verdict <-> spent token, one transaction) is clean;
- no half-written row: every row is complete (the integrity check parses each one), and every
  spent token belongs to an accepted verdict;
- zero 5xx, and every answer right for its kind (replays and wrong statements with their reason).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from zkmargin.verifier.ledger import Ledger

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

PLAN = dict(n_valid=32, copies=25, n_wrong=8, wrong_copies=40, n_invalid=200, n_unknown=100, n_malformed=580)
# For the kill: few copies per context, so that first submissions (acceptances) run through the whole
# load and the kill cuts through them.
KILL_PLAN = dict(n_valid=40, copies=3, n_wrong=8, wrong_copies=40, n_invalid=300, n_unknown=200, n_malformed=1060)


def _db(database: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if database == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return request.getfixturevalue("postgres").create_database()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_load_2000_from_16_clients(h, proofs, serve, tmp_path, request, database, report_figure):
    db = _db(database, tmp_path, request)
    srv = serve(h.write_config(tmp_path / "venue.toml", proofs, db))
    with Ledger(db) as ledger:
        shots = h.plan_shots(proofs, ledger, seed=2000, **PLAN)
    assert len(shots) >= 2000
    t = time.perf_counter()
    h.run_load(srv.url, shots, clients=16, deadline_s=600)
    dt = time.perf_counter() - t
    counts = h.check_shots(shots)
    assert counts["accepted contexts"] == PLAN["n_valid"] == counts["accepted"], counts
    assert counts["wrong_statement"] == PLAN["n_wrong"] * PLAN["wrong_copies"], counts
    assert counts["unknown_context"] == PLAN["n_unknown"], counts
    with Ledger(db, create=False) as ledger:
        assert ledger.check_integrity() == []
        assert ledger.counts()["accepted"] == PLAN["n_valid"]
    report_figure(f"service load ({database}): {len(shots)} submissions from 16 clients in {dt:.1f} s "
                  f"({len(shots) / dt:.0f} req/s); {counts}")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_kill9_mid_load_then_restart(h, proofs, serve, tmp_path, request, database, report_figure):
    db = _db(database, tmp_path, request)
    cfg = h.write_config(tmp_path / "venue.toml", proofs, db)
    srv = serve(cfg)
    with Ledger(db) as ledger:
        shots = h.plan_shots(proofs, ledger, seed=9, **KILL_PLAN)
    assert len(shots) >= 2000
    h.run_load(srv.url, shots, clients=16, deadline_s=600, after=(len(shots) // 6, srv.kill9))
    answered = [s for s in shots if s.status is not None]
    lost = [s for s in shots if s.status is None]
    assert len(answered) >= len(shots) // 6 and lost, (len(answered), len(lost))
    told_accepted = [s.answer["id"] for s in answered if s.status == 200 and s.answer and s.answer.get("accepted")]
    assert 0 < len(told_accepted) < KILL_PLAN["n_valid"], len(told_accepted)  # the kill cut through acceptances
    h.check_shots(answered)  # everything answered before the kill was right, no 5xx

    srv2 = serve(cfg)  # the same database
    with Ledger(db, create=False) as ledger:
        for vid in told_accepted:  # no accepted verdict lost
            v = ledger.verdict(vid)
            assert v is not None and v.accepted, vid
        assert ledger.check_integrity() == []  # no half-written row left by the kill
    # resend what got no answer, and every valid proof once more (all must now be replays or the one acceptance)
    retry = [h.Shot(s.kind, s.key, s.body) for s in lost]
    valid_bodies = {s.key: s.body for s in shots if s.kind == "valid"}
    again = [h.Shot("valid", k, b) for k, b in valid_bodies.items()]
    h.run_load(srv2.url, retry + again, clients=16, deadline_s=600)
    h.check_shots(retry + again)
    with Ledger(db, create=False) as ledger:
        assert ledger.check_integrity() == []
        accepted = list(ledger.accepted())
        per_nonce = Counter(int(r["nonce"]) for r in accepted)
        assert set(per_nonce) == set(valid_bodies) and set(per_nonce.values()) == {1}, per_nonce
        assert set(told_accepted) <= {r["verdict_id"] for r in accepted}
    assert all(s.answer and s.answer.get("reason") == "replay" for s in again), [s.answer for s in again][:3]
    report_figure(f"service kill -9 ({database}): killed after {len(answered)} of {len(shots)} answers "
                  f"({len(told_accepted)} acceptances told), {len(lost)} resent after restart; "
                  f"{len(per_nonce)} contexts each accepted once")
