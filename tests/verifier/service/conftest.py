"""Fixtures for the ledger and the verification service.

- ``proofs``: real margin proofs on the cross example (examples/cross), made once per test session
  for fixed contexts (nonces 1000, 1001, ...), plus one bound to another venue. Proving needs the
  numba prover (``zkmargin[prover]``): about half a second a proof once its kernels are compiled.
- ``postgres``: a throw-away PostgreSQL cluster (Debian's ``postgresql`` package: initdb and pg_ctl
  from /usr/lib/postgresql/*/bin) in a temporary folder, on 127.0.0.1 and a free port, trust
  authentication, stopped and deleted at the end of the session. initdb refuses to run as root, so
  as root the cluster is made and run by the ``postgres`` system user (Debian's package creates it)
  or, failing that, a ``zkmargin-pg`` user created for the purpose. Skipped on a machine without
  the server; under CI (CI=true) that is a failure, never a skip.
- ``db_url``: a fresh, empty database for one test, parametrised over ``sqlite`` and ``postgresql``.
- ``ServiceProcess``: ``zkmargin serve`` in a subprocess on 127.0.0.1 (the real server, so a test
  can kill -9 it), with a ``venue.toml`` written for the proofs' key and market.
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
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="the ledger needs zkmargin[service]")

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
        """The statement a venue expects for ``item``'s context (optionally another threshold, ...)."""
        from zkmargin.margin.documents import Context
        from zkmargin.verifier.service import _bilateral_expected

        ctx = Context(venue or item.venue, item.epoch, item.nonce, 1)
        return _bilateral_expected(self.model, self.market, self.commitment if commitment is None else commitment,
                                   threshold, ctx)

    def register(self, ledger: Any, item: ProofItem, *, threshold: str = THRESHOLD, commitment: int | None = None,
                 ttl_s: float = 3600.0, now: float | None = None) -> Any:
        """Issue ``item``'s context in ``ledger`` (as the venue would have before the proof was made)."""
        return ledger.issue_context(item.venue, item.epoch, expected=self.expected(item, threshold, commitment),
                                    threshold=threshold, nonce=item.nonce, ttl_s=ttl_s, now=now)


@pytest.fixture(scope="session")
def proofs(tmp_path_factory: pytest.TempPathFactory) -> ProofSet:
    from zkmargin.prover import backend

    if not backend.fast_available():
        pytest.skip("the service tests prove with the numba prover (zkmargin[prover])")
    from zkmargin.circuits import compile_circuit
    from zkmargin.circuits.margin import circuit_for
    from zkmargin.margin import account_commitment, load_market, load_model, load_portfolio
    from zkmargin.prover import setup
    from zkmargin.serialize import write_verifying_key

    d = tmp_path_factory.mktemp("service_proofs")
    model = load_model(EXAMPLE / "model.json")
    market = load_market(EXAMPLE / "market.json", model)
    portfolio = load_portfolio(EXAMPLE / "portfolio_pass.json", model)
    cs = compile_circuit(circuit_for(model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pk, vk = setup(cs)
    write_verifying_key(vk, d / "verification_key.json")
    salt = 0x5A17
    ps = ProofSet(dir=d, model_path=EXAMPLE / "model.json", market_path=EXAMPLE / "market.json",
                  vk_path=d / "verification_key.json", model=model, market=market,
                  commitment=account_commitment(model, portfolio, salt), salt=salt, cs=cs, pk=pk, portfolio=portfolio)
    ps.take(12)
    ps.other_venue = ps.prove(OTHER_VENUE, 999)
    return ps


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


@pytest.fixture(scope="session")
def postgres() -> Any:
    bindir = _pg_bindir()
    if bindir is None:
        _unavailable("PostgreSQL server not installed (apt-get install postgresql)")
    assert bindir is not None
    runas = _pg_user()
    root = Path(tempfile.mkdtemp(prefix="zkmargin-pg-"))
    data, sock, log = root / "data", root / "sock", root / "server.log"
    sock.mkdir()
    if runas is not None:
        ent = pwd.getpwnam(runas)
        for p in (root, sock):
            os.chown(p, ent.pw_uid, ent.pw_gid)
    prefix = ["runuser", "-u", runas, "--"] if runas is not None else []
    port = free_port()
    env = dict(os.environ, LC_ALL="C", LANG="C")
    started = False
    try:
        r = subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "zkmargin", "--auth=trust",
                            "--encoding=UTF8", "--no-instructions"], capture_output=True, text=True, timeout=120,
                           env=env)
        if r.returncode != 0:
            _unavailable(f"initdb failed: {r.stderr.strip()[-800:]}")
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c max_connections=200 -c fsync=on"
        r = subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w",
                            "-t", "60", "start"], capture_output=True, text=True, timeout=90, env=env)
        if r.returncode != 0:
            tail = log.read_text()[-800:] if log.exists() else ""
            _unavailable(f"PostgreSQL did not start: {r.stderr.strip()[-400:]} {tail}")
        started = True
        yield Postgres("127.0.0.1", port, "zkmargin")
    finally:
        if started:
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60, env=env)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return request.getfixturevalue("postgres").create_database()


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


@pytest.fixture
def serve(tmp_path: Path) -> Any:
    """``serve(config)`` starts a ServiceProcess; every one is stopped at the end of the test."""
    started: list[ServiceProcess] = []

    def start(config: Path) -> ServiceProcess:
        sp = ServiceProcess(config, tmp_path / f"serve{len(started)}.log").start()
        started.append(sp)
        return sp

    yield start
    for sp in started:
        sp.stop()
