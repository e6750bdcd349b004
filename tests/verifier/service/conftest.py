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

import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="the ledger needs zkmargin[service]")

_NAME = "zkmargin_tests_service_helpers"


def _load_helpers() -> ModuleType:
    # --import-mode=importlib keeps this folder off sys.path: load the helper module by path.
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(_NAME, Path(__file__).with_name("_helpers.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


h_mod = _load_helpers()
ProofSet = h_mod.ProofSet
ServiceProcess = h_mod.ServiceProcess
EXAMPLE = h_mod.EXAMPLE
OTHER_VENUE = h_mod.OTHER_VENUE


@pytest.fixture(scope="session")
def h() -> ModuleType:
    """The helper module (_helpers.py)."""
    return h_mod


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


@pytest.fixture(scope="session")
def postgres() -> Any:
    bindir = h_mod._pg_bindir()
    if bindir is None:
        h_mod._unavailable("PostgreSQL server not installed (apt-get install postgresql)")
    assert bindir is not None
    runas = h_mod._pg_user()
    root = Path(tempfile.mkdtemp(prefix="zkmargin-pg-"))
    data, sock, log = root / "data", root / "sock", root / "server.log"
    sock.mkdir()
    if runas is not None:
        ent = pwd.getpwnam(runas)
        for p in (root, sock):
            os.chown(p, ent.pw_uid, ent.pw_gid)
    prefix = ["runuser", "-u", runas, "--"] if runas is not None else []
    port = h_mod.free_port()
    env = dict(os.environ, LC_ALL="C", LANG="C")
    started = False
    try:
        r = subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "zkmargin", "--auth=trust",
                            "--encoding=UTF8", "--no-instructions"], capture_output=True, text=True, timeout=120,
                           env=env)
        if r.returncode != 0:
            h_mod._unavailable(f"initdb failed: {r.stderr.strip()[-800:]}")
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c max_connections=200 -c fsync=on"
        r = subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w",
                            "-t", "60", "start"], capture_output=True, text=True, timeout=90, env=env)
        if r.returncode != 0:
            tail = log.read_text()[-800:] if log.exists() else ""
            h_mod._unavailable(f"PostgreSQL did not start: {r.stderr.strip()[-400:]} {tail}")
        started = True
        yield h_mod.Postgres("127.0.0.1", port, "zkmargin")
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


