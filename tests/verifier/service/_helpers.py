"""Helpers for the ledger and service tests (loaded by conftest.py by path, as ``h``).

Real proofs (:class:`ProofSet`), the throw-away PostgreSQL cluster (:func:`start_postgres`), the
server as a subprocess (:class:`ServiceProcess`), and the load generator (:func:`plan_shots`,
:func:`run_load`, :func:`check_shots`).
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "cross"
THRESHOLD = "1000"
OTHER_VENUE = "other-venue"


def _ci() -> bool:
    return os.environ.get("CI") == "true"


def _unavailable(msg: str) -> None:
    if _ci():
        pytest.fail(msg + " -- under CI this test must run")
    pytest.skip(msg)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- proofs --------------------------------------------------------------------------------------

@dataclass
class ProofItem:
    """One real proof: the context it is bound to and its snarkjs JSON."""

    venue: str
    epoch: int
    nonce: int
    proof: dict[str, Any]
    public: list[str]

    def body(self) -> dict[str, Any]:
        return {"proof": self.proof, "public": self.public}


@dataclass
class ProofSet:
    """Keys, documents and a growing list of proofs (``take(n)`` proves more on demand)."""

    dir: Path
    model_path: Path
    market_path: Path
    vk_path: Path
    model: Any
    market: Any
    commitment: int
    salt: int
    cs: Any
    pk: Any
    portfolio: Any
    items: list[ProofItem] = field(default_factory=list)
    other_venue: ProofItem | None = None

    def prove(self, venue: str, nonce: int) -> ProofItem:
        from zkmargin.circuits import build
        from zkmargin.circuits.margin import assignment_for
        from zkmargin.margin.documents import Context
        from zkmargin.prover import prove
        from zkmargin.serialize import dump_proof

        ctx = Context(venue, self.market.epoch, nonce, 1)
        _, witness = build(assignment_for(self.model, self.market, self.portfolio, self.salt, THRESHOLD,
                                          ctx.field_value()))
        proof, public = prove(self.pk, witness, self.cs)
        return ProofItem(venue, self.market.epoch, nonce, dump_proof(proof), [str(x) for x in public])

    def take(self, n: int) -> list[ProofItem]:
        while len(self.items) < n:
            self.items.append(self.prove(self.model.venue, 1000 + len(self.items)))
        return self.items[:n]

    def expected(self, item: ProofItem, threshold: str = THRESHOLD, commitment: int | None = None,
                 venue: str | None = None) -> list[int]:
        """The statement a venue expects for ``item``'s context (optionally another threshold, ...),
        computed here with the margin package's own ``public_inputs`` (not the service's code)."""
        from zkmargin.margin.documents import Context
        from zkmargin.margin.statement import public_inputs

        ctx = Context(venue or item.venue, item.epoch, item.nonce, 1)
        return public_inputs(self.model, self.market, self.commitment if commitment is None else commitment,
                             threshold, ctx.field_value())

    def register(self, ledger: Any, item: ProofItem, *, threshold: str = THRESHOLD, commitment: int | None = None,
                 ttl_s: float = 3600.0, now: float | None = None) -> Any:
        """Issue ``item``'s context in ``ledger`` (as the venue would have before the proof was made)."""
        return ledger.issue_context(item.venue, item.epoch, expected=self.expected(item, threshold, commitment),
                                    threshold=threshold, nonce=item.nonce, ttl_s=ttl_s, now=now)


# --- PostgreSQL ----------------------------------------------------------------------------------

def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
                   if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("initdb")
    return Path(exe).resolve().parent if exe else None


def _pg_user() -> str | None:
    """The unprivileged user that runs the cluster when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "zkmargin-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "zkmargin-pg"],
                   check=True, capture_output=True, timeout=30)
    return "zkmargin-pg"


@dataclass
class Postgres:
    host: str
    port: int
    user: str

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{db}"

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(host=self.host, port=self.port, user=self.user, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


# --- the service in a subprocess -----------------------------------------------------------------

def write_config(path: Path, proofs: ProofSet, database: str, **extra: Any) -> Path:
    """A venue.toml for the proofs' key, model and market; ``extra`` sets [limits]/[workers] keys."""
    limits = {k: v for k, v in extra.items() if k in ("max_body_bytes", "max_batch", "max_pending",
                                                       "context_ttl_s", "issue_token")}
    workers = {k: v for k, v in extra.items() if k in ("engine", "processes", "dask_scheduler")}
    workers.setdefault("processes", 2)
    lines = [f"venue = {json.dumps(proofs.model.venue)}",
             f"model = {json.dumps(str(proofs.model_path))}",
             f"verifying_key = {json.dumps(str(proofs.vk_path))}",
             f"markets = [{json.dumps(str(proofs.market_path))}]",
             f"database = {json.dumps(database)}",
             f"threshold = {json.dumps(THRESHOLD)}",
             "[server]", 'host = "127.0.0.1"', f"port = {extra.get('port', free_port())}",
             "[limits]", *(f"{k} = {json.dumps(v)}" for k, v in limits.items()),
             "[workers]", *(f"{k} = {json.dumps(v)}" for k, v in workers.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


class ServiceProcess:
    """``zkmargin serve --config CONFIG`` as a child process; ``url`` once healthy."""

    def __init__(self, config: Path, log: Path) -> None:
        import tomllib

        self.config = config
        self.log_path = log
        port = tomllib.loads(config.read_text())["server"]["port"]
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> ServiceProcess:
        import httpx

        env = dict(os.environ, PYTHONSAFEPATH="1")
        env.pop("PYTHONPATH", None)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from zkmargin.cli import main; main()", "serve", "--config", str(self.config)],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=self.config.parent, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"zkmargin serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/v1/health", timeout=2.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"zkmargin serve not healthy after {timeout} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def kill9(self) -> None:
        """SIGKILL the server and its worker processes (its whole process group)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._log.close()


# --- load ----------------------------------------------------------------------------------------

@dataclass
class Shot:
    """One planned submission and, after the run, its outcome."""

    kind: str  # valid | wrong | invalid | unknown | malformed
    key: Any  # valid/invalid: the context's nonce; wrong: the expected differing input; malformed: the field
    body: bytes
    status: int | None = None  # None: no answer (connection refused or cut, e.g. by kill -9)
    answer: dict[str, Any] | None = None


def run_load(url: str, shots: list[Shot], clients: int = 16, deadline_s: float = 300.0,
             after: tuple[int, Any] | None = None) -> None:
    """Send ``shots`` in order from ``clients`` concurrent HTTP clients; fills status and answer.

    ``after=(n, fn)`` calls ``fn()`` (in a thread) once n answers have come back: the kill -9 hook.
    Stops by itself after ``deadline_s`` (unsent shots keep status None).
    """
    import asyncio

    import httpx

    async def main() -> None:
        queue: asyncio.Queue[Shot] = asyncio.Queue()
        for s in shots:
            queue.put_nowait(s)
        done = 0
        fired = False
        stop = time.monotonic() + deadline_s

        async def client() -> None:
            nonlocal done, fired
            async with httpx.AsyncClient(base_url=url, timeout=60.0) as http:
                while not queue.empty() and time.monotonic() < stop:
                    s = queue.get_nowait()
                    try:
                        r = await http.post("/v1/proofs", content=s.body,
                                            headers={"content-type": "application/json"})
                        s.status = r.status_code
                        try:
                            s.answer = r.json()
                        except ValueError:
                            s.answer = {"raw": r.text[:200]}
                    except httpx.HTTPError:
                        s.status = None
                    done += 1
                    if after is not None and not fired and done >= after[0]:
                        fired = True
                        await asyncio.to_thread(after[1])

        await asyncio.gather(*(client() for _ in range(clients)))

    asyncio.run(main())


def plan_shots(proofs: ProofSet, ledger: Any, n_valid: int, copies: int, n_wrong: int, wrong_copies: int,
               n_invalid: int, n_unknown: int, n_malformed: int, seed: int) -> list[Shot]:
    """Register contexts in ``ledger`` and plan a shuffled mix of submissions.

    - valid: ``n_valid`` proofs, each registered for its own statement and sent ``copies`` times
      (exactly one copy may be accepted; the others are replays);
    - wrong: ``n_wrong`` further proofs whose contexts the venue issued with another threshold
      (even ones) or another commitment (odd ones), each sent ``wrong_copies`` times;
    - invalid: a valid proof's points with another valid proof's public inputs (the statement
      matches, the pairing fails; or it is a replay once that context is answered);
    - unknown: a valid proof whose context input was changed to one never issued;
    - malformed: bodies that must get a 4xx naming the field.
    """
    import random

    rng = random.Random(seed)
    items = proofs.take(n_valid + n_wrong)
    valid, wrong = items[:n_valid], items[n_valid:]
    for it in valid:
        proofs.register(ledger, it)
    for k, it in enumerate(wrong):
        if k % 2 == 0:
            proofs.register(ledger, it, threshold="2000")
        else:
            proofs.register(ledger, it, commitment=proofs.commitment + 1)
    shots: list[Shot] = []
    for it in valid:
        shots += [Shot("valid", it.nonce, json.dumps(it.body()).encode()) for _ in range(copies)]
    for k, it in enumerate(wrong):
        what = "threshold" if k % 2 == 0 else "commitment"
        shots += [Shot("wrong", what, json.dumps(it.body()).encode()) for _ in range(wrong_copies)]
    for _ in range(n_invalid):
        a, b = rng.sample(valid, 2)
        shots.append(Shot("invalid", b.nonce, json.dumps({"proof": a.proof, "public": b.public}).encode()))
    for _ in range(n_unknown):
        a = rng.choice(valid)
        pub = list(a.public)
        pub[3] = str(rng.randrange(1, 2**250))
        shots.append(Shot("unknown", None, json.dumps({"proof": a.proof, "public": pub}).encode()))
    bad: list[tuple[str, bytes]] = []
    a = valid[0]
    for _ in range(n_malformed):
        k = rng.randrange(8)
        if k == 0:
            bad.append(("body", b"{not json"))
        elif k == 1:
            bad.append(("public", json.dumps({"proof": a.proof}).encode()))
        elif k == 2:
            bad.append(("proof", json.dumps({"proof": {**a.proof, "pi_a": ["x", "1", "1"]},
                                             "public": a.public}).encode()))
        elif k == 3:
            bad.append(("public", json.dumps({"proof": a.proof, "public": a.public[:3]}).encode()))
        elif k == 4:
            bad.append(("public[1]", json.dumps({"proof": a.proof, "public": [a.public[0], str(2**254 * 5),
                                                                              *a.public[2:]]}).encode()))
        elif k == 5:
            bad.append(("body", b"[" * 5000))  # nested far too deep (under the size limit)
        elif k == 6:
            bad.append(("body", json.dumps({"proof": a.proof, "public": a.public, "pad": "x" * 70_000}).encode()))
        else:
            bad.append(("proof", json.dumps({"proof": {**a.proof, "pi_c": [a.proof["pi_c"][0], "5", "1"]},
                                             "public": a.public}).encode()))
    shots += [Shot("malformed", f, b) for f, b in bad]
    rng.shuffle(shots)
    return shots


def check_shots(shots: list[Shot], allow_unanswered: bool = False) -> dict[str, int]:
    """Every answer is right for its kind; no 5xx. Returns counts by reason/status."""
    from collections import Counter

    counts: Counter[str] = Counter()
    accepted_by_nonce: Counter[Any] = Counter()
    for s in shots:
        if s.status is None:
            assert allow_unanswered, f"no answer for a {s.kind} submission"
            counts["unanswered"] += 1
            continue
        assert s.status < 500, (s.kind, s.status, s.answer)
        a = s.answer or {}
        if s.kind == "malformed":
            assert 400 <= s.status < 500 and a.get("field", "").startswith(s.key.split("[")[0]), (s.key, s.status, a)
            counts[f"malformed {s.status}"] += 1
            continue
        assert s.status == 200, (s.kind, s.status, a)
        reason = a["reason"]
        counts[reason] += 1
        if s.kind == "valid":
            assert reason in ("accepted", "replay"), a
            if reason == "accepted":
                accepted_by_nonce[s.key] += 1
            else:
                assert "already answered" in a["detail"], a
        elif s.kind == "wrong":
            assert reason in ("wrong_statement",), a
            assert f"{s.key} differs" in a["detail"], a
        elif s.kind == "invalid":
            assert reason in ("invalid_proof", "replay"), a
        elif s.kind == "unknown":
            assert reason == "unknown_context", a
    assert all(v == 1 for v in accepted_by_nonce.values()), accepted_by_nonce
    counts["accepted contexts"] = len(accepted_by_nonce)
    return dict(counts)
