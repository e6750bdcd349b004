"""The venue's verification service: issue contexts, check proofs, answer each context once.

``zkmargin serve --config venue.toml`` runs :func:`create_app` (a Starlette ASGI app) on uvicorn.

HTTP API (JSON bodies; proofs and public inputs in snarkjs's ``proof.json`` / ``public.json`` form)::

    POST /v1/contexts     {"commitment": "123...", "threshold": "1000"?, "epoch": 42?, "ttl_s": 600?}
                          (the attested statement: no commitment, the epoch's account root is bound)
                          -> 201 {"id", "context": <context.json>, "statement": {...}, "expires_at"}
    POST /v1/proofs       {"proof": <proof.json>, "public": <public.json>}
                          or {"proofs": [{"proof": ..., "public": ...}, ...]}
                          -> 200 a verdict {"id", "accepted", "reason", "detail", "proof_hash", ...}
                             (or {"results": [verdict or error, ...]} for a batch)
    GET  /v1/proofs/{id}  a verdict by its id (32 hex digits), or every verdict of a proof hash (64)
    GET  /v1/health       venue, statement, database, workers, row counts

A submission is decided in this order, each step naming its reason (:data:`ledger.REASONS`):
the context (the proof's public ``context`` input) must have been issued by this ledger
(``unknown_context``) for this venue (``other_venue``), its one-time token must be unspent
(``replay``), the context unexpired (``expired_context``), every public input equal to what the
venue expects (``wrong_statement``, naming each one that differs), and the pairing check must
pass (``invalid_proof``); then the ledger consumes the token atomically (a concurrent duplicate
loses there and is recorded as a ``replay``). Malformed or oversized bodies get a 4xx whose JSON
names the field (``{"error": "proof: pi_a[0]: expected a decimal string ...", "field": "proof"}``),
never a 5xx; an overloaded service answers 429.

Verification runs off the event loop: ledger reads in threads, pairings in a process pool over the
machine's cores (or Dask workers, ``[workers] engine = "dask"``), verdicts through one writer
thread. Submissions that arrive while the workers are busy are checked together in one batch
(:func:`zkmargin.verifier.verify_batch`), and verdicts that arrive while the ledger commits are
written together in the next transaction (group commit, a savepoint per acceptance), so the
service batches exactly when it is under load. A client is answered after its verdict is durable.

Needs ``zkmargin[service]``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import logging
import multiprocessing
import os
import secrets
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkmargin.errors import MalformedInputError, ZkMarginError
from zkmargin.field import R
from zkmargin.serialize.json_formats import (
    _Ctx,
    _read_json_text,
    dump_proof,
    dump_verifying_key,
    load_proof,
    load_public_inputs,
    load_verifying_key,
)
from zkmargin.verifier import _workers
from zkmargin.verifier.groth16_verify import _check_g1, _check_g2_on_twist
from zkmargin.verifier.ledger import (
    ACCEPTED,
    EXPIRED_CONTEXT,
    INVALID_PROOF,
    OTHER_VENUE,
    REPLAY,
    STATEMENTS,
    UNKNOWN_CONTEXT,
    WRONG_STATEMENT,
    IssuedContext,
    Ledger,
    Verdict,
    VerdictRequest,
)

__all__ = ["ServiceConfig", "ConfigError", "load_config", "VenueService", "BadRequest", "create_app"]

logger = logging.getLogger("zkmargin.service")


class ConfigError(MalformedInputError):
    """The service configuration is malformed; the message names the file, section and key."""


class BadRequest(ZkMarginError):
    """A request the service refuses before any verdict: 4xx, naming the field."""

    def __init__(self, status: int, field_name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field_name

    def to_json(self) -> dict[str, Any]:
        return {"error": str(self), "field": self.field}


# --- configuration -----------------------------------------------------------------------------

@dataclass
class ServiceConfig:
    """What ``venue.toml`` says (paths already resolved against the file's folder).

    Example ``venue.toml``::

        venue = "zkmargin-demo"               # the venue id bound into every context
        model = "model.json"                  # the venue model
        verifying_key = "verification_key.json"
        markets = ["market.json"]             # one market file per epoch served
        database = "sqlite:///ledger.sqlite"  # or "postgresql://user@host:5432/db"
        threshold = "1000"                    # default threshold for new contexts
        chain_id = 1                          # optional (default 1)
        statement = "bilateral"               # or "attested", with roots = ["root.json", ...] (one per epoch)

        [server]                              # optional
        host = "127.0.0.1"
        port = 8080

        [limits]                              # optional
        max_body_bytes = 65536                # larger bodies get 413
        max_batch = 64                        # proofs per POST and per pairing batch
        max_pending = 4096                    # proofs in flight before 429
        context_ttl_s = 600                   # default (and, x10, maximum) context lifetime
        issue_token = ""                      # if set, POST /v1/contexts needs "Authorization: Bearer <it>"

        [workers]                             # optional
        engine = "processes"                  # or "dask"
        processes = 2                         # local worker processes (default: the CPU count)
        dask_scheduler = "tcp://127.0.0.1:8786"
    """

    path: Path
    venue: str
    model: Path
    verifying_key: Path
    markets: list[Path]
    database: str
    threshold: str
    chain_id: int = 1
    statement: str = "bilateral"
    roots: list[Path] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 65536
    max_batch: int = 64
    max_pending: int = 4096
    context_ttl_s: float = 600.0
    issue_token: str = ""
    engine: str = "processes"
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    dask_scheduler: str = ""


def _get(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    if key not in doc:
        if default is ...:
            raise ConfigError(f"{where}{key}: missing")
        return default
    v = doc[key]
    if isinstance(v, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ConfigError(f"{where}{key}: expected {getattr(kind, '__name__', kind)}, got {v!r:.60}")
    if not isinstance(v, kind):
        raise ConfigError(f"{where}{key}: expected {getattr(kind, '__name__', kind)}, got {v!r:.60}")
    return v


def load_config(path: str | os.PathLike[str]) -> ServiceConfig:
    """Read and check ``venue.toml``. Relative paths (and SQLite database paths) are resolved
    against the file's folder.

    Raises:
        ConfigError: the file is not TOML, or a key is missing or mistyped (named as
            ``venue.toml: limits.max_batch: ...``).
        OSError: the file cannot be read.
    """
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from None
    base = p.resolve().parent
    w = f"{p}: "
    known = {"venue", "model", "verifying_key", "markets", "database", "threshold", "chain_id", "statement", "roots",
             "server", "limits", "workers"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ConfigError(f"{w}{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")

    def path_of(v: str) -> Path:
        q = Path(v).expanduser()
        return q if q.is_absolute() else base / q

    markets = _get(doc, "markets", list, w)
    if not markets or not all(isinstance(m, str) for m in markets):
        raise ConfigError(f"{w}markets: expected a non-empty list of market file paths")
    database = _get(doc, "database", str, w)
    if database.startswith("sqlite:///") and not database.startswith("sqlite:////"):
        rel = database[len("sqlite:///"):]
        if rel and rel != ":memory:":
            database = "sqlite:///" + str(path_of(rel))
    statement = _get(doc, "statement", str, w, "bilateral")
    if statement not in STATEMENTS:
        raise ConfigError(f"{w}statement: expected 'bilateral' or 'attested', got {statement!r:.40}")
    roots = _get(doc, "roots", list, w, [])
    if not all(isinstance(r, str) for r in roots) or (statement == "attested") != bool(roots):
        raise ConfigError(f"{w}roots: the attested statement needs the account root file (root.json) of each "
                          "epoch served, as a list of paths; the bilateral statement takes none")
    threshold = _get(doc, "threshold", (str, int), w)
    cfg = ServiceConfig(path=p, venue=_get(doc, "venue", str, w), model=path_of(_get(doc, "model", str, w)),
                        verifying_key=path_of(_get(doc, "verifying_key", str, w)),
                        markets=[path_of(m) for m in markets], database=database, threshold=str(threshold),
                        chain_id=_get(doc, "chain_id", int, w, 1), statement=statement,
                        roots=[path_of(r) for r in roots])
    server = _get(doc, "server", dict, w, {})
    cfg.host = _get(server, "host", str, f"{w}server.", cfg.host)
    cfg.port = _get(server, "port", int, f"{w}server.", cfg.port)
    limits = _get(doc, "limits", dict, w, {})
    lw = f"{w}limits."
    cfg.max_body_bytes = _get(limits, "max_body_bytes", int, lw, cfg.max_body_bytes)
    cfg.max_batch = _get(limits, "max_batch", int, lw, cfg.max_batch)
    cfg.max_pending = _get(limits, "max_pending", int, lw, cfg.max_pending)
    cfg.context_ttl_s = float(_get(limits, "context_ttl_s", (int, float), lw, cfg.context_ttl_s))
    cfg.issue_token = _get(limits, "issue_token", str, lw, "")
    for name in ("max_body_bytes", "max_batch", "max_pending"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{lw}{name}: must be at least 1, got {getattr(cfg, name)}")
    if cfg.context_ttl_s <= 0:
        raise ConfigError(f"{lw}context_ttl_s: must be positive, got {cfg.context_ttl_s}")
    workers = _get(doc, "workers", dict, w, {})
    ww = f"{w}workers."
    cfg.engine = _get(workers, "engine", str, ww, "processes")
    if cfg.engine not in ("processes", "dask"):
        raise ConfigError(f"{ww}engine: expected 'processes' or 'dask', got {cfg.engine!r:.40}")
    cfg.processes = _get(workers, "processes", int, ww, cfg.processes)
    if cfg.processes < 1:
        raise ConfigError(f"{ww}processes: must be at least 1, got {cfg.processes}")
    cfg.dask_scheduler = _get(workers, "dask_scheduler", str, ww, "")
    if cfg.engine == "dask" and not cfg.dask_scheduler:
        raise ConfigError(f"{ww}dask_scheduler: the dask engine needs the scheduler's address (tcp://host:port)")
    return cfg


# --- pairing workers ---------------------------------------------------------------------------

class _ProcessWorkers:
    """Pairing checks in a local process pool (spawned, so no state is shared with the server)."""

    def __init__(self, vk_json: dict[str, Any], processes: int) -> None:
        self.vk_json = vk_json
        self.size = processes
        self.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
            initializer=_workers.warm_up, initargs=(vk_json,))

    async def start(self) -> None:
        # Start every worker now (import, key preparation, numba load), not on the first request.
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self.pool, _workers.warm_up, self.vk_json)
                               for _ in range(self.size)))

    async def check(self, items: list[tuple[list[str], dict[str, Any]]]) -> list[Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, _workers.pairing_check, self.vk_json, items)

    async def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def describe(self) -> dict[str, Any]:
        return {"engine": "processes", "size": self.size}


class _DaskWorkers:
    """Pairing checks on a Dask cluster (``dask.distributed``), for volume beyond one machine."""

    def __init__(self, vk_json: dict[str, Any], address: str) -> None:
        self.vk_json = vk_json
        self.address = address
        self.client: Any = None
        self.vk_future: Any = None
        self.size = 1

    async def start(self) -> None:
        from distributed import Client

        self.client = await Client(self.address, asynchronous=True)
        self.vk_future = await self.client.scatter(self.vk_json, broadcast=True)
        info = self.client.scheduler_info()
        self.size = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    async def check(self, items: list[tuple[list[str], dict[str, Any]]]) -> list[Any]:
        fut = self.client.submit(_workers.pairing_check, self.vk_future, items, pure=False)
        return list(await fut)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()

    def describe(self) -> dict[str, Any]:
        return {"engine": "dask", "scheduler": self.address, "size": self.size}


class _Batcher:
    """Hands pairing checks to the workers, batching whatever queued while they were busy.

    At most ``workers.size`` batches are in flight; a batch takes every waiting item (up to
    ``max_batch``), so a lone request is checked at once and a burst is checked in big batches.
    """

    def __init__(self, workers: Any, max_batch: int) -> None:
        self.workers = workers
        self.max_batch = max_batch
        self.queue: asyncio.Queue[tuple[tuple[list[str], dict[str, Any]], asyncio.Future[Any]]] = asyncio.Queue()
        self.slots = asyncio.Semaphore(max(1, workers.size))
        self.task: asyncio.Task[None] | None = None
        self.batches = 0
        self.items = 0

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def check(self, public: Sequence[int], proof_json: dict[str, Any]) -> Any:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self.queue.put((([str(x) for x in public], proof_json), fut))
        return await fut

    async def _run(self) -> None:
        while True:
            first = await self.queue.get()
            await self.slots.acquire()
            batch = [first]
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            asyncio.create_task(self._dispatch(batch))

    async def _dispatch(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> None:
        try:
            results = await self.workers.check([item for item, _ in batch])
            self.batches += 1
            self.items += len(batch)
            for (_, fut), res in zip(batch, results, strict=True):
                if not fut.done():
                    fut.set_result(res)
        except BaseException as e:  # a worker died: fail these requests, keep serving
            logger.exception("pairing batch of %d failed", len(batch))
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(e if isinstance(e, Exception) else RuntimeError(str(e)))
        finally:
            self.slots.release()

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()


class _LedgerWriter:
    """Writes verdicts through one thread, grouping whatever queued during the previous commit.

    One durable commit then covers many verdicts (:meth:`Ledger.record_many`: one transaction,
    a savepoint per acceptance), so under load the ledger's fsyncs do not cap the throughput;
    each client is answered only after the commit that holds its verdict.
    """

    def __init__(self, ledger: Ledger, max_group: int = 256) -> None:
        self.ledger = ledger
        self.max_group = max_group
        self.queue: asyncio.Queue[tuple[VerdictRequest, asyncio.Future[Verdict]]] = asyncio.Queue()
        self.thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-writer")
        self.task: asyncio.Task[None] | None = None
        self.commits = 0

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def record(self, request: VerdictRequest) -> Verdict:
        fut: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        await self.queue.put((request, fut))
        return await fut

    def _write(self, requests: list[VerdictRequest]) -> list[Verdict]:
        from sqlalchemy.exc import DBAPIError, IntegrityError

        try:
            return self.ledger.record_many(requests)
        except DBAPIError as e:
            if len(requests) == 1 or isinstance(e, IntegrityError):
                raise
            # e.g. two services' groups deadlocked on PostgreSQL: nothing was written; go one by one
            logger.warning("group of %d verdicts failed (%s); writing them one by one", len(requests),
                           type(e.orig).__name__ if e.orig is not None else type(e).__name__)
            return [self.ledger.record_many([r])[0] for r in requests]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            group = [await self.queue.get()]
            while len(group) < self.max_group and not self.queue.empty():
                group.append(self.queue.get_nowait())
            try:
                out = await loop.run_in_executor(self.thread, self._write, [r for r, _ in group])
            except Exception as e:  # the database failed: these requests fail (5xx), the service goes on
                logger.exception("writing %d verdicts failed", len(group))
                for _, fut in group:
                    if not fut.done():
                        fut.set_exception(e)
                continue
            self.commits += 1
            for (_, fut), v in zip(group, out, strict=True):
                if not fut.done():
                    fut.set_result(v)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.thread.shutdown(wait=True)


# --- the venue ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Submission:
    """A parsed proof submission."""

    public: tuple[int, ...]
    proof_json: dict[str, Any]  # normalised snarkjs proof.json
    proof_hash: str
    received_at: float


def _mismatches(statement: str, expected: Sequence[int], public: Sequence[int]) -> list[tuple[str, int, int]]:
    """The public inputs that differ from the venue's, named: ``(name, expected, got)``.

    ``expected`` holds the values the ledger stored when it issued the context (the attested
    statement's nullifier, chosen by the proof, is free). The one statement comparison of
    :mod:`zkmargin.verifier.venue` (``statement_mismatches``); the pairing runs separately, in batches.
    """
    from zkmargin.verifier.venue import ExpectedStatement, statement_mismatches

    names = STATEMENTS[statement]
    values = tuple(expected) + (None,) * (len(names) - len(expected))
    return statement_mismatches(public, ExpectedStatement(names, values, statement))


def _explain_mismatch(mm: list[tuple[str, int, int]]) -> str:
    from zkmargin.verifier.venue import explain_mismatches

    return explain_mismatches(mm)


def _check_key_model(vk: Any, expected: Any, config: ServiceConfig) -> None:
    """Refuse a verifying key that records another model or statement (``venue.check_key_model``)."""
    from zkmargin.verifier.venue import check_key_model

    try:
        check_key_model(vk, expected)
    except MalformedInputError as e:
        raise ConfigError(f"{config.verifying_key}: {e}") from None


class VenueService:
    """The venue's verifier with a ledger: what the HTTP app calls (usable from Python too).

    Args:
        config: the :class:`ServiceConfig`.

    Raises:
        ConfigError, SchemaError, MalformedInputError: the model, a market or the key is malformed
            or does not fit (messages name the file).
    """

    def __init__(self, config: ServiceConfig) -> None:
        from zkmargin.margin import load_market, load_model

        self.config = config
        self.model = load_model(config.model)
        if self.model.venue != config.venue:
            logger.warning("the model's venue %r differs from the service's venue %r", self.model.venue,
                           config.venue)
        self.markets: dict[int, Any] = {}
        for mp in config.markets:
            m = load_market(mp, self.model)
            if m.epoch in self.markets:
                raise ConfigError(f"{config.path}: markets: two files for epoch {m.epoch}")
            if m.venue != config.venue:
                raise ConfigError(f"{config.path}: markets: {mp} is venue {m.venue!r}'s market data, the service is "
                                  f"venue {config.venue!r}")
            self.markets[m.epoch] = m
        self.vk = load_verifying_key(config.verifying_key)
        self.names = STATEMENTS[config.statement]
        if self.vk.n_public != len(self.names):
            raise ConfigError(f"{config.verifying_key}: the key has {self.vk.n_public} public inputs, the "
                              f"{config.statement} statement {len(self.names)} ({', '.join(self.names)})")
        self.roots: dict[int, Any] = {}
        if config.statement == "attested":
            from zkmargin.accounts import load_root

            for rp in config.roots:
                root = load_root(rp)
                if root.epoch in self.roots:
                    raise ConfigError(f"{config.path}: roots: two root files for epoch {root.epoch}")
                self.roots[root.epoch] = root
            missing = sorted(set(self.markets) - set(self.roots))
            if missing:
                raise ConfigError(f"{config.path}: roots: no account root for epoch {missing[0]}")
        from zkmargin.margin.documents import Context

        for epoch in sorted(self.markets):  # every epoch's statement can be formed (root matches model and epoch)
            try:
                probe = self._statement(epoch, 0, config.threshold, Context(config.venue, epoch, 0, config.chain_id))
            except MalformedInputError as e:
                raise ConfigError(f"{config.path}: epoch {epoch}: {e}") from None
        _check_key_model(self.vk, probe, config)
        self.vk_json = dump_verifying_key(self.vk)
        self.ledger = Ledger(config.database)
        self.db_threads = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="ledger")
        self.workers: Any = None
        self.batcher: _Batcher | None = None
        self.writer: _LedgerWriter | None = None
        self.pending = 0
        self.started_at = time.time()

    def _statement(self, epoch: int, commitment: int | None, threshold: str, ctx: Any) -> Any:
        """The venue's expected statement for a new context (``venue.expected_statement`` or
        ``attested.expected_attested_statement``)."""
        if self.config.statement == "attested":
            from zkmargin.verifier.attested import expected_attested_statement

            return expected_attested_statement(self.model, self.markets[epoch], self.roots[epoch], threshold, ctx)
        from zkmargin.verifier.venue import expected_statement

        return expected_statement(self.model, self.markets[epoch], commitment or 0, threshold, ctx)

    async def start(self) -> None:
        if self.config.engine == "dask":
            self.workers = _DaskWorkers(self.vk_json, self.config.dask_scheduler)
        else:
            self.workers = _ProcessWorkers(self.vk_json, self.config.processes)
        await self.workers.start()
        self.batcher = _Batcher(self.workers, self.config.max_batch)
        self.batcher.start()
        self.writer = _LedgerWriter(self.ledger)
        self.writer.start()
        logger.info("service ready", extra={"fields": {"venue": self.config.venue, "workers": self.workers.describe(),
                                                       "database": self.ledger.dialect}})

    async def close(self) -> None:
        if self.batcher is not None:
            await self.batcher.close()
        if self.writer is not None:
            await self.writer.close()
        if self.workers is not None:
            await self.workers.close()
        self.db_threads.shutdown(wait=False)
        self.ledger.close()

    async def _db(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.db_threads, lambda: fn(*args, **kwargs))

    # -- contexts

    async def issue(self, body: Any) -> IssuedContext:
        """Issue a context (body of ``POST /v1/contexts``): for an account's commitment (bilateral),
        or for any account under the epoch's published root (attested: each answers once, by its
        nullifier).

        Raises:
            BadRequest: a field is missing or malformed (named).
        """
        from zkmargin.margin.documents import Context

        if not isinstance(body, dict):
            raise BadRequest(400, "body", "body: expected a JSON object")
        attested = self.config.statement == "attested"
        allowed = {"threshold", "epoch", "ttl_s"} | (set() if attested else {"commitment"})
        extra = sorted(set(body) - allowed)
        if extra == ["commitment"]:
            raise BadRequest(400, "commitment", "commitment: the attested statement binds the venue's account root, "
                                                "not one account's commitment: leave it out")
        if extra:
            raise BadRequest(400, extra[0], f"{extra[0]}: unknown field (expected {', '.join(sorted(allowed))})")
        commitment = None if attested else _field_element(body.get("commitment"), "commitment")
        threshold = body.get("threshold", self.config.threshold)
        if isinstance(threshold, int) and not isinstance(threshold, bool):
            threshold = str(threshold)
        if not isinstance(threshold, str) or not 0 < len(threshold) <= 80:
            raise BadRequest(400, "threshold", f"threshold: expected a decimal string such as \"1000\", got "
                                               f"{threshold!r:.60}")
        epoch = body.get("epoch", max(self.markets))
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch not in self.markets:
            raise BadRequest(400, "epoch", f"epoch: {epoch!r:.40} is not served (served: "
                                           f"{', '.join(str(e) for e in sorted(self.markets))})")
        ttl = body.get("ttl_s", self.config.context_ttl_s)
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 0 < ttl <= 10 * self.config.context_ttl_s:
            raise BadRequest(400, "ttl_s", f"ttl_s: expected seconds in (0, {10 * self.config.context_ttl_s:g}], "
                                           f"got {ttl!r:.40}")
        nonce = secrets.randbits(128)
        ctx = Context(self.config.venue, epoch, nonce, self.config.chain_id)
        try:
            st = self._statement(epoch, commitment, threshold, ctx)
        except MalformedInputError as e:
            raise BadRequest(400, "threshold", f"threshold: {e}") from None
        values = getattr(st, "values", None)
        expected = [int(v) for v in (values if values is not None else st.as_list()) if v is not None]
        return await self._db(self.ledger.issue_context, self.config.venue, epoch, expected=expected,
                              threshold=threshold, statement=self.config.statement, chain_id=self.config.chain_id,
                              nonce=nonce, ttl_s=float(ttl))

    # -- proofs

    def parse(self, item: Any, where: str = "") -> Submission:
        """Parse one ``{"proof": ..., "public": ...}`` object.

        Raises:
            BadRequest: 400/422 naming the field (``proof``, ``public``, ``public[2]``...).
        """
        now = time.time()
        if not isinstance(item, dict):
            raise BadRequest(400, where or "body", f"{where or 'body'}: expected a JSON object with proof and public")
        for key in ("proof", "public"):
            if key not in item:
                raise BadRequest(400, where + key, f"{where}{key}: missing")
        extra = sorted(set(item) - {"proof", "public"})
        if extra:
            raise BadRequest(400, where + extra[0], f"{where}{extra[0]}: unknown field (expected proof, public)")
        try:
            proof = load_proof(item["proof"]) if isinstance(item["proof"], dict) else None
        except MalformedInputError as e:
            raise BadRequest(422, where + "proof", f"{where}{e}") from None
        if proof is None:
            raise BadRequest(400, where + "proof", f"{where}proof: expected a proof.json object")
        try:  # the cheap point checks here; the G2 subgroup check of pi_b runs in the workers
            _check_g1(proof.a, "proof.a")
            _check_g2_on_twist(proof.b, "proof.b")
            _check_g1(proof.c, "proof.c")
        except MalformedInputError as e:
            raise BadRequest(422, where + "proof", f"{where}{e}") from None
        try:
            public = load_public_inputs(item["public"]) if isinstance(item["public"], list) else None
        except MalformedInputError as e:
            raise BadRequest(422, where + "public", f"{where}{str(e).replace('public inputs: ', 'public')}") from None
        if public is None:
            raise BadRequest(400, where + "public", f"{where}public: expected a public.json list of decimal strings")
        if len(public) != len(self.names):
            raise BadRequest(422, where + "public", f"{where}public: the {self.config.statement} statement has "
                                                    f"{len(self.names)} public inputs ({', '.join(self.names)}), "
                                                    f"got {len(public)}")
        for i, x in enumerate(public):
            if x >= R:
                raise BadRequest(422, f"{where}public[{i}]", f"{where}public[{i}] ({self.names[i]}): not below the "
                                                            "field order r")
        proof_json = dump_proof(proof)
        canon = json.dumps({"proof": proof_json, "public": [str(x) for x in public]}, sort_keys=True,
                           separators=(",", ":"))
        return Submission(tuple(public), proof_json, hashlib.sha256(canon.encode()).hexdigest(), now)

    async def submit(self, sub: Submission) -> Verdict:
        """Decide one parsed submission and record the verdict (see the module for the order).

        Raises:
            BadRequest: 422 when a worker finds the proof malformed (e.g. ``pi_b`` outside G2).
        """
        t0 = time.perf_counter()
        slot = self.names.index("context")
        ctx, token, winner = await self._db(self.ledger.admission, sub.public[slot], sub.public)
        reason, detail = ACCEPTED, ""
        if ctx is None:
            reason, detail = UNKNOWN_CONTEXT, "the proof's context was not issued by this venue's ledger"
        elif ctx.venue != self.config.venue:
            reason, detail = OTHER_VENUE, f"the context was issued for venue {ctx.venue!r}, not {self.config.venue!r}"
        elif winner is not None:
            what = "context was already answered" if ctx.statement == "bilateral" else "nullifier was already used"
            reason, detail = REPLAY, f"replay: this {what} (accepted verdict {winner})"
        elif sub.received_at > ctx.expires_at:
            reason, detail = EXPIRED_CONTEXT, f"the context expired {sub.received_at - ctx.expires_at:.0f} s ago"
        else:
            mm = _mismatches(ctx.statement, ctx.expected, sub.public)
            if mm:
                reason, detail = WRONG_STATEMENT, _explain_mismatch(mm)
        if reason == ACCEPTED:
            assert self.batcher is not None
            res = await self.batcher.check(sub.public, sub.proof_json)
            if isinstance(res, str):
                raise BadRequest(422, "proof", res)
            if res is not True:
                reason, detail = INVALID_PROOF, "invalid: the proof does not verify for this statement"
            else:
                detail = "valid: the account meets the rule for this market, threshold and context"
        assert self.writer is not None
        verdict: Verdict = await self.writer.record(VerdictRequest(
            sub.proof_hash, sub.public, reason == ACCEPTED, reason, detail, ctx, token, sub.received_at))
        logger.info("verdict", extra={"fields": {"id": verdict.id, "reason": verdict.reason,
                                                 "context_id": verdict.context_id, "proof_hash": verdict.proof_hash,
                                                 "ms": round(1000 * (time.perf_counter() - t0), 2)}})
        return verdict

    async def lookup(self, ident: str) -> dict[str, Any]:
        """A verdict by id (32 hex) or the verdicts of a proof hash (64 hex). Raises BadRequest 400/404."""
        ident = ident.lower()
        if len(ident) not in (32, 64) or any(c not in "0123456789abcdef" for c in ident):
            raise BadRequest(400, "id", "id: expected a verdict id (32 hex digits) or a proof hash (64 hex digits)")
        if len(ident) == 32:
            v = await self._db(self.ledger.verdict, ident)
            if v is None:
                raise BadRequest(404, "id", f"id: no verdict {ident}")
            return v.to_json()
        vs = await self._db(self.ledger.verdicts_for_proof, ident)
        if not vs:
            raise BadRequest(404, "id", f"id: no verdict for proof hash {ident}")
        return {"proof_hash": ident, "accepted": any(v.accepted for v in vs), "verdicts": [v.to_json() for v in vs]}

    async def health(self) -> dict[str, Any]:
        counts = await self._db(self.ledger.counts)
        return {"status": "ok", "venue": self.config.venue, "statement": self.config.statement,
                "epochs": sorted(self.markets), "database": self.ledger.dialect,
                "workers": self.workers.describe() if self.workers else None,
                "batches": {"count": self.batcher.batches if self.batcher else 0,
                            "proofs": self.batcher.items if self.batcher else 0},
                "commits": self.writer.commits if self.writer else 0,
                "ledger": counts}


def _field_element(v: Any, name: str) -> int:
    if not isinstance(v, str) or not v.isascii() or not v.isdigit() or len(v) > 80:
        raise BadRequest(400, name, f"{name}: expected a field element as a decimal string, got {v!r:.60}")
    x = int(v)
    if x >= R:
        raise BadRequest(400, name, f"{name}: not below the field order r")
    return x


# --- the HTTP app ------------------------------------------------------------------------------

def create_app(config: ServiceConfig) -> Any:
    """The Starlette app for ``config``; workers and ledger start with the app's lifespan."""
    import contextlib

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    service = VenueService(config)

    def error(e: BadRequest) -> JSONResponse:
        return JSONResponse(e.to_json(), status_code=e.status)

    async def read_json(request: Request) -> Any:
        limit = config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise BadRequest(400, "content-length", "content-length: not a number")
            if int(declared) > limit:
                raise BadRequest(413, "body", f"body: {declared} bytes is more than the limit of {limit}")
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BadRequest(413, "body", f"body: more than the limit of {limit} bytes")
            chunks.append(chunk)
        try:
            return _read_json_text(b"".join(chunks), _Ctx("body"))
        except MalformedInputError as e:
            raise BadRequest(400, "body", str(e)) from None

    def admit(n: int) -> None:
        if service.pending + n > config.max_pending:
            raise BadRequest(429, "body", f"body: the service is busy ({service.pending} proofs in flight); retry")

    async def post_contexts(request: Request) -> JSONResponse:
        try:
            if config.issue_token:
                auth = request.headers.get("authorization", "")
                if not secrets.compare_digest(auth.encode(), f"Bearer {config.issue_token}".encode()):
                    raise BadRequest(401, "authorization", "authorization: issuing contexts needs the venue's token")
            ctx = await service.issue(await read_json(request))
        except BadRequest as e:
            return error(e)
        statement = dict(zip(ctx.names, (str(x) for x in ctx.expected), strict=False))
        return JSONResponse({"id": ctx.id, "context": ctx.document(), "statement": statement,
                             "threshold": ctx.threshold, "expires_at": ctx.expires_at}, status_code=201)

    async def post_proofs(request: Request) -> JSONResponse:
        try:
            body = await read_json(request)
            if isinstance(body, dict) and "proofs" in body:
                items = body["proofs"]
                if set(body) != {"proofs"}:
                    other = sorted(set(body) - {"proofs"})[0]
                    raise BadRequest(400, other, f"{other}: unknown field next to proofs")
                if not isinstance(items, list) or not 1 <= len(items) <= config.max_batch:
                    raise BadRequest(400, "proofs", f"proofs: expected a list of 1 to {config.max_batch} submissions")
                batch = True
            else:
                items, batch = [body], False
            admit(len(items))
        except BadRequest as e:
            return error(e)
        service.pending += len(items)
        try:
            if not batch:
                try:
                    return JSONResponse((await service.submit(service.parse(items[0]))).to_json())
                except BadRequest as e:
                    return error(e)

            async def one(i: int, item: Any) -> dict[str, Any]:
                try:
                    return (await service.submit(service.parse(item, f"proofs[{i}]."))).to_json()
                except BadRequest as e:
                    return {**e.to_json(), "status": e.status}

            results = await asyncio.gather(*(one(i, it) for i, it in enumerate(items)))
            return JSONResponse({"results": list(results)})
        finally:
            service.pending -= len(items)

    async def get_proof(request: Request) -> JSONResponse:
        try:
            return JSONResponse(await service.lookup(request.path_params["ident"]))
        except BadRequest as e:
            return error(e)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(await service.health())

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        await service.start()
        try:
            yield
        finally:
            await service.close()

    app = Starlette(routes=[
        Route("/v1/contexts", post_contexts, methods=["POST"]),
        Route("/v1/proofs", post_proofs, methods=["POST"]),
        Route("/v1/proofs/{ident}", get_proof, methods=["GET"]),
        Route("/v1/health", health, methods=["GET"]),
    ], lifespan=lifespan)
    app.state.service = service
    return app
