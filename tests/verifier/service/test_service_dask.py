"""The pairing workers on a Dask cluster (``[workers] engine = "dask"``).

The test starts a local cluster itself (one scheduler and one worker process on 127.0.0.1, no
dashboard) and points the service at its scheduler; the service's own process then does no
pairing at all.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import pytest

from zkmargin.verifier.ledger import Ledger

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def dask_scheduler():
    distributed = pytest.importorskip("distributed", reason="the dask engine needs zkmargin[dask]")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                                       dashboard_address=None, protocol="tcp")
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close(timeout=30)


def test_service_on_a_dask_cluster(h, proofs, serve, tmp_path: Path, dask_scheduler, sim):
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    srv = serve(h.write_config(tmp_path / "venue.toml", proofs, db, engine="dask", dask_scheduler=dask_scheduler))
    health = httpx.get(srv.url + "/v1/health").json()
    assert health["workers"]["engine"] == "dask" and health["workers"]["scheduler"] == dask_scheduler
    a, b, c = proofs.take(3)
    with Ledger(db) as ledger:
        for it in (a, b, c):
            proofs.register(ledger, it)

    def post(body):
        return httpx.post(srv.url + "/v1/proofs", content=json.dumps(body), timeout=120)

    assert post(a.body()).json()["reason"] == "accepted"
    assert post({"proof": a.proof, "public": b.public}).json()["reason"] == "invalid_proof"
    x, y = sim.twist_point_outside_g2(random.Random(5))
    outside = {**b.proof, "pi_b": [[str(x[0]), str(x[1])], [str(y[0]), str(y[1])], ["1", "0"]]}
    r = post({"proof": outside, "public": b.public})
    assert r.status_code == 422 and "proof.b" in r.json()["error"], r.text
    batch = post({"proofs": [b.body(), c.body(), a.body()]}).json()["results"]
    assert [v["reason"] for v in batch] == ["accepted", "accepted", "replay"]
    assert httpx.get(srv.url + "/v1/health").json()["batches"]["proofs"] >= 4
