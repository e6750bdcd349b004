"""Accepted proofs per second through ``zkmargin serve``, next to the raw verifier's rates.

    python -P benchmarks/service_load.py [--proofs 2000] [--clients 16] [--processes 2] [--database URL]

Prints, on the same machine and in the same run:

- single: one proof at a time with :func:`zkmargin.verifier.verify` (numba pairing), proofs/s;
- batch: :func:`zkmargin.verifier.verify_batch` over all the proofs at once, proofs/s (one core);
- service: accepted proofs/s end to end: ``--clients`` concurrent HTTP clients on 127.0.0.1 each
  POSTing one proof at a time to a real ``zkmargin serve`` (SQLite ledger in a temporary folder
  unless ``--database``), every proof for its own issued context, each accepted once; the
  service's statement checks, ledger transactions and pairing batches all included.

The proofs are valid Groth16 proofs for a key whose trapdoor the benchmark knows (as in
verify_batch_bench.py), made for the exact statements the venue expects (commitment, market
digest of examples/cross, threshold 1000, each context's value): the service does the same work
for them as for proofs from the prover, and thousands can be made in seconds. Needs
``zkmargin[prover,service]`` and httpx. Not a test: nothing here is asserted except that every
proof is accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zkmargin import curve
from zkmargin.field import R
from zkmargin.groth16 import Proof, VerifyingKey
from zkmargin.margin import load_market, load_model
from zkmargin.margin.documents import Context
from zkmargin.margin.statement import public_inputs
from zkmargin.prover import kernels
from zkmargin.serialize import dump_proof, write_verifying_key
from zkmargin.verifier import prepare_verifying_key, verify, verify_batch
from zkmargin.verifier.ledger import Ledger

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cross"


def trapdoor_key(rng: random.Random, n_public: int) -> tuple[VerifyingKey, tuple[int, ...]]:
    alpha, beta, gamma, delta = (rng.randrange(1, R) for _ in range(4))
    u = tuple(rng.randrange(1, R) for _ in range(n_public + 1))
    g1, g2 = curve.G1_GENERATOR, curve.G2_GENERATOR
    vk = VerifyingKey(alpha_g1=curve.g1_mul(g1, alpha), beta_g2=curve.g2_mul(g2, beta),
                      gamma_g2=curve.g2_mul(g2, gamma), delta_g2=curve.g2_mul(g2, delta),
                      gamma_abc_g1=tuple(kernels.fixed_base_g1(g1, list(u))))
    return vk, (alpha, beta, gamma, delta, *u)


def trapdoor_proofs(trap: tuple[int, ...], publics: list[list[int]], rng: random.Random) -> list[Proof]:
    """Valid proofs for ``publics`` under the trapdoor key (B drawn from 16 points, A and C fresh)."""
    alpha, beta, gamma, delta, *u = trap
    k = len(publics)
    a_s = [rng.randrange(1, R) for _ in range(k)]
    b_pool = [rng.randrange(1, R) for _ in range(16)]  # 16 G2 points reused: py_ecc's G2 scalar mul is slow
    b_s = [b_pool[i % 16] for i in range(k)]
    d_inv = pow(delta, R - 2, R)
    c_s = [(a * b - alpha * beta - gamma * (u[0] + sum(x * ui for x, ui in zip(xs, u[1:], strict=True)))) * d_inv % R
           for a, b, xs in zip(a_s, b_s, publics, strict=True)]
    g1, g2 = curve.G1_GENERATOR, curve.G2_GENERATOR
    A = kernels.fixed_base_g1(g1, a_s)
    C = kernels.fixed_base_g1(g1, c_s)
    b_points = {b: curve.g2_mul(g2, b) for b in b_pool}
    B = [b_points[b] for b in b_s]
    return [Proof(a=a, b=b, c=c) for a, b, c in zip(A, B, C, strict=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def send_all(url: str, bodies: list[bytes], clients: int) -> list[dict]:
    import httpx

    queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    for i, b in enumerate(bodies):
        queue.put_nowait((i, b))
    out: list[dict] = [{}] * len(bodies)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            while not queue.empty():
                i, b = queue.get_nowait()
                r = await http.post("/v1/proofs", content=b, headers={"content-type": "application/json"})
                out[i] = {"status": r.status_code, **r.json()}

    await asyncio.gather(*(client() for _ in range(clients)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--proofs", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--database", default=None, help="ledger URL (default: SQLite in a temporary folder)")
    ap.add_argument("--single", type=int, default=200, help="proofs timed one by one for the single rate")
    args = ap.parse_args()

    rng = random.Random(0x5E21)
    model = load_model(EXAMPLE / "model.json")
    market = load_market(EXAMPLE / "market.json", model)
    commitment = rng.randrange(1, R)
    work = Path(tempfile.mkdtemp(prefix="zkmargin-service-bench-"))
    db = args.database or f"sqlite:///{work / 'ledger.sqlite'}"
    t = time.perf_counter()
    vk, trap = trapdoor_key(rng, 4)
    write_verifying_key(vk, work / "verification_key.json")
    nonces = [10_000 + i for i in range(args.proofs)]
    publics = [public_inputs(model, market, commitment, "1000", Context(model.venue, market.epoch, n, 1).field_value())
               for n in nonces]
    proofs = trapdoor_proofs(trap, publics, rng)
    with Ledger(db) as ledger:
        for n, pub in zip(nonces, publics, strict=True):
            ledger.issue_context(model.venue, market.epoch, expected=pub, threshold="1000", nonce=n, ttl_s=3600)
    print(f"{args.proofs} proofs and contexts made in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    pvk = prepare_verifying_key(vk)
    verify(pvk, publics[0], proofs[0])  # load the numba kernels
    m = min(args.single, args.proofs)
    t = time.perf_counter()
    assert all(verify(pvk, publics[i], proofs[i]) for i in range(m))
    single = m / (time.perf_counter() - t)
    t = time.perf_counter()
    res = verify_batch(pvk, list(zip(publics, proofs, strict=True)))
    batch = args.proofs / (time.perf_counter() - t)
    assert res.ok

    port = free_port()
    (work / "venue.toml").write_text("\n".join([
        f"venue = {json.dumps(model.venue)}", f"model = {json.dumps(str(EXAMPLE / 'model.json'))}",
        'verifying_key = "verification_key.json"', f"markets = [{json.dumps(str(EXAMPLE / 'market.json'))}]",
        f"database = {json.dumps(db)}", 'threshold = "1000"', "[server]", f"port = {port}",
        "[workers]", f"processes = {args.processes}"]) + "\n")
    env = dict(os.environ, PYTHONSAFEPATH="1")
    log = open(work / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-c", "from zkmargin.cli import main; main()", "serve", "--config",
                             str(work / "venue.toml"), "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT,
                            cwd=work, env=env, start_new_session=True)
    try:
        import httpx

        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            if proc.poll() is not None:
                raise SystemExit(f"zkmargin serve exited with {proc.returncode}; see {work / 'serve.log'}")
            try:
                if httpx.get(url + "/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"the service did not start; see {work / 'serve.log'}")
        bodies = [json.dumps({"proof": dump_proof(p), "public": [str(x) for x in pub]}).encode()
                  for p, pub in zip(proofs, publics, strict=True)]
        t = time.perf_counter()
        answers = asyncio.run(send_all(url, bodies, args.clients))
        wall = time.perf_counter() - t
        health = httpx.get(url + "/v1/health").json()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    accepted = sum(1 for a in answers if a.get("accepted"))
    if accepted != args.proofs:
        reasons = sorted({a.get("reason", a.get("error")) for a in answers if not a.get("accepted")})
        raise SystemExit(f"only {accepted} of {args.proofs} accepted: {reasons}")
    nb = health["batches"]
    print(f"machine: {os.cpu_count()} cores; ledger {health['database']}; {args.processes} worker processes; "
          f"{args.clients} clients")
    print(f"{'path':<44} {'proofs/s':>10}")
    print(f"{'single verify (numba, one core)':<44} {single:>10,.0f}")
    print(f"{f'verify_batch of {args.proofs} (one core)':<44} {batch:>10,.0f}")
    print(f"{'service: accepted end to end (HTTP + ledger)':<44} {accepted / wall:>10,.0f}")
    print(f"service: {accepted} accepted in {wall:.2f} s; {nb['count']} pairing batches, "
          f"{nb['proofs'] / max(1, nb['count']):.1f} proofs per batch on average; {health['commits']} ledger commits "
          f"({health['ledger']['verdicts'] / max(1, health['commits']):.1f} verdicts per commit)")


if __name__ == "__main__":
    main()
