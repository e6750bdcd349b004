"""``zkmargin serve`` end to end: a real server on 127.0.0.1, real proofs, a real ledger.

Each test starts its own server (a subprocess, about a second) on a fresh database; contexts for
the ready-made proofs are issued straight into that database with the Ledger API, as the venue's
backend would have done before the traders proved.
"""

from __future__ import annotations

import csv
import io
import json
import random
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from zkmargin.cli import main
from zkmargin.verifier.ledger import Ledger

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _post(url: str, body, path: str = "/v1/proofs", **kw) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(url + path, content=content, headers={"content-type": "application/json", **kw}, timeout=60)


def test_issue_prove_submit_once_and_after_restart(h, proofs, serve, tmp_path: Path):
    """The venue issues a context over HTTP, the trader proves for it, the proof is accepted once."""
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    cfg = h.write_config(tmp_path / "venue.toml", proofs, db)
    srv = serve(cfg)
    r = _post(srv.url, {"commitment": str(proofs.commitment)}, "/v1/contexts")
    assert r.status_code == 201, r.text
    issued = r.json()
    assert issued["statement"]["threshold"] == str(proofs.expected(proofs.take(1)[0])[2])
    nonce = int(issued["context"]["nonce"])
    item = proofs.prove(issued["context"]["venue"], nonce)
    first = _post(srv.url, item.body()).json()
    assert first["accepted"] and first["reason"] == "accepted" and first["context_id"] == issued["id"], first
    again = _post(srv.url, item.body()).json()
    assert again["reason"] == "replay" and first["id"] in again["detail"]
    assert httpx.get(f"{srv.url}/v1/proofs/{first['id']}").json()["accepted"] is True
    by_hash = httpx.get(f"{srv.url}/v1/proofs/{first['proof_hash']}").json()
    assert [v["reason"] for v in by_hash["verdicts"]] == ["accepted", "replay"]
    assert httpx.get(f"{srv.url}/v1/proofs/{'0' * 32}").status_code == 404
    assert httpx.get(f"{srv.url}/v1/proofs/nothex").status_code == 400
    # a restart on the same database: still answered
    srv.stop()
    srv2 = serve(cfg)
    assert _post(srv2.url, item.body()).json()["reason"] == "replay"
    assert httpx.get(f"{srv2.url}/v1/proofs/{first['id']}").json()["accepted"] is True
    # the operator's view
    run = CliRunner().invoke
    shown = run(main, ["ledger", "show", "--config", str(cfg)])
    assert shown.exit_code == 0 and "integrity: every accepted verdict" in shown.output, shown.output
    out = tmp_path / "accepted.csv"
    exported = run(main, ["ledger", "export", "--config", str(cfg), "--epoch", str(proofs.market.epoch), "-o",
                          str(out)])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["verdict_id"], r["nonce"], r["proof_hash"]) for r in rows] == [(first["id"], str(nonce),
                                                                                first["proof_hash"])]
    assert rows[0]["public"].split() == item.public
    other_epoch = run(main, ["ledger", "export", "--database", db, "--epoch", str(proofs.market.epoch + 1)])
    assert other_epoch.exit_code == 0 and other_epoch.output.strip().count("\n") == 0  # the header only


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_every_reason_is_named(h, proofs, serve, tmp_path: Path, request, database):
    db = (f"sqlite:///{tmp_path / 'ledger.sqlite'}" if database == "sqlite"
          else request.getfixturevalue("postgres").create_database())
    srv = serve(h.write_config(tmp_path / "venue.toml", proofs, db))
    ok, thr, com, exp, inv_a, inv_b = proofs.take(6)
    with Ledger(db) as ledger:
        proofs.register(ledger, ok)
        proofs.register(ledger, thr, threshold="2000")
        proofs.register(ledger, com, commitment=proofs.commitment + 1)
        proofs.register(ledger, exp, now=time.time() - 7200, ttl_s=60)
        proofs.register(ledger, inv_b)
        assert proofs.other_venue is not None
        proofs.register(ledger, proofs.other_venue)
    got = {}
    got["accepted"] = _post(srv.url, ok.body()).json()
    got["threshold"] = _post(srv.url, thr.body()).json()
    got["commitment"] = _post(srv.url, com.body()).json()
    got["expired"] = _post(srv.url, exp.body()).json()
    got["invalid"] = _post(srv.url, {"proof": inv_a.proof, "public": inv_b.public}).json()
    got["other_venue"] = _post(srv.url, proofs.other_venue.body()).json()
    got["unknown"] = _post(srv.url, inv_a.body()).json()  # its context was never issued here
    assert got["accepted"]["accepted"] is True
    assert got["threshold"]["reason"] == "wrong_statement"
    assert "threshold differs (expected" in got["threshold"]["detail"]
    assert "commitment differs" in got["commitment"]["detail"] and "threshold" not in got["commitment"]["detail"]
    assert got["expired"]["reason"] == "expired_context"
    assert got["invalid"]["reason"] == "invalid_proof"
    assert got["other_venue"]["reason"] == "other_venue" and h.OTHER_VENUE in got["other_venue"]["detail"]
    assert got["unknown"]["reason"] == "unknown_context"
    assert all(not v["accepted"] for k, v in got.items() if k != "accepted")
    # the invalid proof consumed nothing: the right proof for that context is still accepted
    assert _post(srv.url, inv_b.body()).json()["accepted"] is True
    # a batch: one verdict per item, errors per item
    batch = _post(srv.url, {"proofs": [ok.body(), thr.body(), {"proof": ok.proof}]}).json()["results"]
    assert [b.get("reason") for b in batch[:2]] == ["replay", "wrong_statement"]
    assert batch[2]["status"] == 400 and batch[2]["field"] == "proofs[2].public"
    with Ledger(db, create=False) as ledger:
        assert ledger.check_integrity() == []
        assert ledger.counts()["accepted"] == 2


def test_malformed_bodies_get_4xx_naming_the_field(h, proofs, serve, tmp_path: Path, sim):
    srv = serve(h.write_config(tmp_path / "venue.toml", proofs, f"sqlite:///{tmp_path / 'l.sqlite'}",
                             max_body_bytes=20_000, max_batch=4))
    a = proofs.take(1)[0]
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as ledger:
        proofs.register(ledger, a)
    x, y = sim.twist_point_outside_g2(random.Random(3))
    outside_g2 = [[str(x[0]), str(x[1])], [str(y[0]), str(y[1])], ["1", "0"]]
    cases = [
        (b"", 400, "body"),
        (b"{not json", 400, "body"),
        (b"[" * 3000, 400, "body"),
        (b"1" * 5000, 400, "body"),  # an integer past Python's int-parsing limit
        (b"\xff\xfe", 400, "body"),
        (b"[]", 400, "body"),
        (json.dumps({"proof": a.proof}).encode(), 400, "public"),
        (json.dumps({"public": a.public}).encode(), 400, "proof"),
        (json.dumps({"proof": a.proof, "public": a.public, "extra": 1}).encode(), 400, "extra"),
        (json.dumps({"proof": "x", "public": a.public}).encode(), 400, "proof"),
        (json.dumps({"proof": a.proof, "public": "x"}).encode(), 400, "public"),
        (json.dumps({"proof": {**a.proof, "pi_a": [1, 2, 3]}, "public": a.public}).encode(), 422, "proof"),
        (json.dumps({"proof": {**a.proof, "pi_b": [["1"]]}, "public": a.public}).encode(), 422, "proof"),
        (json.dumps({"proof": {**a.proof, "pi_a": ["1", "3", "1"]}, "public": a.public}).encode(), 422, "proof"),
        (json.dumps({"proof": {**a.proof, "pi_b": outside_g2}, "public": a.public}).encode(), 422, "proof"),
        (json.dumps({"proof": a.proof, "public": a.public[:3]}).encode(), 422, "public"),
        (json.dumps({"proof": a.proof, "public": [*a.public[:2], "9" * 79, a.public[3]]}).encode(), 422,
         "public[2]"),
        (json.dumps({"proof": a.proof, "public": [*a.public[:3], "-1"]}).encode(), 422, "public"),
        (json.dumps({"proof": a.proof, "public": a.public, "pad": "x" * 30_000}).encode(), 413, "body"),
        (json.dumps({"proofs": []}).encode(), 400, "proofs"),
        (json.dumps({"proofs": [a.body()] * 5}).encode(), 400, "proofs"),
        (json.dumps({"proofs": [a.body()], "x": 1}).encode(), 400, "x"),
    ]
    for body, status, field in cases:
        r = _post(srv.url, body)
        assert r.status_code == status and r.json()["field"] == field, (body[:80], r.status_code, r.text)
        assert r.json()["error"], r.text
    # the point outside G2 is named
    r = _post(srv.url, {"proof": {**a.proof, "pi_b": outside_g2}, "public": a.public})
    assert "proof.b" in r.json()["error"] and "subgroup" in r.json()["error"].lower(), r.text
    # contexts: named fields, and the service is still well
    for body, field in [({}, "commitment"), ({"commitment": "12x"}, "commitment"),
                        ({"commitment": str(2**254 * 5)}, "commitment"),
                        ({"commitment": "1", "epoch": 99}, "epoch"), ({"commitment": "1", "ttl_s": -1}, "ttl_s"),
                        ({"commitment": "1", "threshold": "lots"}, "threshold"), ({"commitment": "1", "x": 1}, "x")]:
        r = _post(srv.url, body, "/v1/contexts")
        assert r.status_code == 400 and r.json()["field"] == field, (body, r.text)
    assert _post(srv.url, a.body()).json()["accepted"] is True
    assert httpx.get(srv.url + "/v1/health").json()["status"] == "ok"


def test_issuing_contexts_can_require_a_token(h, proofs, serve, tmp_path: Path):
    srv = serve(h.write_config(tmp_path / "venue.toml", proofs, f"sqlite:///{tmp_path / 'l.sqlite'}",
                             issue_token="s3cret"))
    body = {"commitment": str(proofs.commitment), "threshold": h.THRESHOLD}
    assert _post(srv.url, body, "/v1/contexts").status_code == 401
    assert _post(srv.url, body, "/v1/contexts", authorization="Bearer wrong").status_code == 401
    assert _post(srv.url, body, "/v1/contexts", authorization="Bearer s3cret").status_code == 201


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_small_load_each_context_accepted_once(h, proofs, serve, tmp_path: Path, request, database,
                                               report_figure):
    """The default tier's version of the load test: 240 submissions from 16 concurrent clients."""
    db = (f"sqlite:///{tmp_path / 'ledger.sqlite'}" if database == "sqlite"
          else request.getfixturevalue("postgres").create_database())
    srv = serve(h.write_config(tmp_path / "venue.toml", proofs, db))
    with Ledger(db) as ledger:
        shots = h.plan_shots(proofs, ledger, n_valid=8, copies=10, n_wrong=2, wrong_copies=20, n_invalid=30,
                           n_unknown=20, n_malformed=70, seed=7)
    t = time.perf_counter()
    h.run_load(srv.url, shots, clients=16, deadline_s=240)
    dt = time.perf_counter() - t
    counts = h.check_shots(shots)
    assert counts["accepted contexts"] == 8 and counts["accepted"] == 8, counts
    assert counts["wrong_statement"] == 40 and counts["unknown_context"] == 20, counts
    with Ledger(db, create=False) as ledger:
        assert ledger.check_integrity() == []
        assert ledger.counts()["accepted"] == 8
    report_figure(f"service small load ({database}): {len(shots)} submissions, 16 clients, {dt:.1f} s, "
                  f"{len(shots) / dt:.0f} req/s; {counts}")


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_services_on_one_ledger_accept_each_context_once(h, proofs, serve, tmp_path: Path, request, database):
    """Two servers (separate processes, separate writers) share one database; 16 clients split
    between them send each valid proof 8 times: the database's unique key alone decides."""
    db = (f"sqlite:///{tmp_path / 'ledger.sqlite'}" if database == "sqlite"
          else request.getfixturevalue("postgres").create_database())
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    srv_a = serve(h.write_config(tmp_path / "a" / "venue.toml", proofs, db))
    srv_b = serve(h.write_config(tmp_path / "b" / "venue.toml", proofs, db))
    items = proofs.take(8)
    with Ledger(db) as ledger:
        for it in items:
            proofs.register(ledger, it)
    shots_a = [h.Shot("valid", it.nonce, json.dumps(it.body()).encode()) for it in items for _ in range(4)]
    shots_b = [h.Shot("valid", it.nonce, json.dumps(it.body()).encode()) for it in items for _ in range(4)]
    random.Random(1).shuffle(shots_a)
    random.Random(2).shuffle(shots_b)
    import threading

    ta = threading.Thread(target=h.run_load, args=(srv_a.url, shots_a), kwargs={"clients": 8, "deadline_s": 120})
    ta.start()
    h.run_load(srv_b.url, shots_b, clients=8, deadline_s=120)
    ta.join(timeout=180)
    counts = h.check_shots(shots_a + shots_b)
    assert counts["accepted"] == 8 == counts["accepted contexts"] and counts["replay"] == 56, counts
    with Ledger(db, create=False) as ledger:
        assert ledger.check_integrity() == [] and ledger.counts()["accepted"] == 8
