"""The venue's ledger: the contexts it issued, every verdict it gave, and the one-time tokens spent.

A verification without memory is not enough: a valid proof verifies again and again. The ledger
remembers which contexts (challenges) the venue issued, for which statement, until when; records
every verdict (proof hash, public inputs, accepted or the reason for refusal, time); and consumes a
proof's one-time token atomically, so that among any number of concurrent submissions for the
same token exactly one is accepted:

- the **bilateral** statement ``(commitment, market_digest, threshold, context)`` consumes the
  context's nonce: a context is answered at most once;
- the **venue-attested** statement ``(account_root, market_digest, threshold, context,
  nullifier)`` consumes the proof's nullifier: one account answers one context once, many
  accounts may answer the same context.

Both are one table, ``spent``, whose primary key ``(context_id, token)`` is the guard: the accepted
verdict and its ``spent`` row are written in one transaction, and a second writer of the same key
gets a unique-constraint violation from the database itself (no read-then-write race), rolls back,
and is recorded as a replay naming the verdict that won. A crash at any point leaves either both
rows or neither.

The database sits behind this one small class, :class:`Ledger`, on SQLAlchemy Core: one code path
for SQLite (the embedded default: a file, WAL journal, ``synchronous=FULL``, writers serialised with
``BEGIN IMMEDIATE``) and PostgreSQL (``postgresql+psycopg://`` URLs, psycopg 3). The schema carries
its version in ``zkmargin_meta`` and names every constraint (a naming convention), so that a
migration tool (Alembic) can take it over later.

Needs ``zkmargin[service]`` (SQLAlchemy, psycopg); nothing in ``zkmargin.verifier`` imports this
module, so the base install still verifies with py_ecc alone.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from zkmargin.encoding import context_hash, short_string
from zkmargin.errors import MalformedInputError
from zkmargin.field import R

__all__ = [
    "SCHEMA_VERSION",
    "STATEMENTS",
    "ACCEPTED",
    "REPLAY",
    "UNKNOWN_CONTEXT",
    "EXPIRED_CONTEXT",
    "OTHER_VENUE",
    "WRONG_STATEMENT",
    "INVALID_PROOF",
    "REASONS",
    "IssuedContext",
    "Verdict",
    "VerdictRequest",
    "Ledger",
    "LedgerError",
    "sqlite_url",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1

#: The public inputs of each statement, in order. The attested statement's last input, the
#: nullifier, is chosen by the proof (it is the one-time token), not by the venue.
STATEMENTS: dict[str, tuple[str, ...]] = {
    "bilateral": ("commitment", "market_digest", "threshold", "context"),
    "attested": ("account_root", "market_digest", "threshold", "context", "nullifier"),
}

# Verdict reasons (stable codes: the service's JSON and ``ledger export`` use them).
ACCEPTED = "accepted"
REPLAY = "replay"  # the context's nonce or the nullifier was already consumed
UNKNOWN_CONTEXT = "unknown_context"
EXPIRED_CONTEXT = "expired_context"
OTHER_VENUE = "other_venue"
WRONG_STATEMENT = "wrong_statement"  # a public input differs from what the venue expects
INVALID_PROOF = "invalid_proof"  # the statement matches, the pairing check fails
REASONS = (ACCEPTED, REPLAY, UNKNOWN_CONTEXT, EXPIRED_CONTEXT, OTHER_VENUE, WRONG_STATEMENT, INVALID_PROOF)

_U64 = 1 << 64


class LedgerError(MalformedInputError):
    """A ledger request is malformed (names the field), or the database holds another schema."""


# --- schema ------------------------------------------------------------------------------------

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=_NAMING)

_DEC = sa.String(80)  # a field element or u64 as a decimal string (PostgreSQL's bigint is signed 63-bit)

meta_table = sa.Table(
    "zkmargin_meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

contexts = sa.Table(
    "contexts", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("venue", sa.String(31), nullable=False),
    sa.Column("epoch", _DEC, nullable=False),
    sa.Column("chain_id", _DEC, nullable=False),
    sa.Column("nonce", _DEC, nullable=False),
    sa.Column("value", _DEC, nullable=False, unique=True),  # the proof's public ``context`` input
    sa.Column("statement", sa.String(16), nullable=False),
    sa.Column("expected", sa.Text, nullable=False),  # JSON: decimal strings, in STATEMENTS order
    sa.Column("threshold", sa.String(80), nullable=False),  # as the venue wrote it, for people
    sa.Column("issued_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.CheckConstraint("statement IN ('bilateral', 'attested')", name="statement"),
)

verdicts = sa.Table(
    "verdicts", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("proof_hash", sa.String(64), nullable=False, index=True),
    sa.Column("context_id", sa.String(32), sa.ForeignKey("contexts.id"), nullable=True, index=True),
    sa.Column("token", _DEC, nullable=True),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("public", sa.Text, nullable=False),  # JSON list of decimal strings, as submitted
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("decided_at", sa.Float, nullable=False),
    sa.CheckConstraint("accepted = (reason = 'accepted')", name="accepted_reason"),
)

spent = sa.Table(
    "spent", metadata,
    sa.Column("context_id", sa.String(32), sa.ForeignKey("contexts.id"), primary_key=True),
    sa.Column("token", _DEC, primary_key=True),  # bilateral: the context's nonce; attested: the nullifier
    sa.Column("verdict_id", sa.String(32), sa.ForeignKey("verdicts.id"), nullable=False, unique=True),
    sa.Column("spent_at", sa.Float, nullable=False),
)


# --- records -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedContext:
    """A context the venue issued: the challenge, its statement and what the venue expects.

    Attributes:
        id: the ledger's id (32 hex digits).
        venue, epoch, chain_id, nonce: the context (as in ``context.json``).
        value: its field value, the proof's public ``context`` input.
        statement: ``"bilateral"`` or ``"attested"``.
        expected: the public inputs the venue expects, in :data:`STATEMENTS` order; for the
            attested statement without the nullifier (the proof chooses it).
        threshold: the threshold as the venue wrote it (``expected`` holds its field value).
        issued_at, expires_at: Unix times (seconds).
    """

    id: str
    venue: str
    epoch: int
    chain_id: int
    nonce: int
    value: int
    statement: str
    expected: tuple[int, ...]
    threshold: str
    issued_at: float
    expires_at: float

    @property
    def names(self) -> tuple[str, ...]:
        """The statement's public-input names, in order."""
        return STATEMENTS[self.statement]

    def token_of(self, public: Sequence[int]) -> int:
        """The one-time token a proof with these public inputs consumes.

        Bilateral: the context's nonce (one answer per context). Attested: the proof's nullifier
        (the last public input; one answer per account and context).
        """
        return self.nonce if self.statement == "bilateral" else int(public[len(STATEMENTS["attested"]) - 1])

    def document(self) -> dict[str, Any]:
        """The ``context.json`` document a prover binds the proof to."""
        return {"version": 1, "kind": "context", "venue": self.venue, "epoch": self.epoch,
                "nonce": str(self.nonce), "chain_id": self.chain_id}


@dataclass(frozen=True)
class Verdict:
    """One recorded verification.

    Attributes:
        id: the verdict's id (32 hex digits).
        proof_hash: SHA-256 (hex) of the submitted proof and public inputs in canonical form.
        context_id: the context the proof named (None when unknown to this ledger).
        token: the one-time token (None unless the context was found).
        accepted: True only for the single verdict that consumed the token.
        reason: one of :data:`REASONS`; ``detail`` says it in words (which input differs, which
            verdict already answered the context, ...).
        public: the submitted public inputs.
        received_at, decided_at: Unix times.
    """

    id: str
    proof_hash: str
    context_id: str | None
    token: int | None
    accepted: bool
    reason: str
    detail: str
    public: tuple[int, ...]
    received_at: float
    decided_at: float

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "proof_hash": self.proof_hash, "accepted": self.accepted, "reason": self.reason,
                "detail": self.detail, "context_id": self.context_id,
                "token": None if self.token is None else str(self.token),
                "public": [str(x) for x in self.public], "received_at": self.received_at,
                "decided_at": self.decided_at}


@dataclass(frozen=True)
class VerdictRequest:
    """A verdict to record (the arguments of :meth:`Ledger.record`), for :meth:`Ledger.record_many`."""

    proof_hash: str
    public: tuple[int, ...]
    accepted: bool
    reason: str
    detail: str
    context: IssuedContext | None = None
    token: int | None = None
    received_at: float | None = None


def _check_request(r: VerdictRequest) -> None:
    if r.reason not in REASONS or (r.reason == ACCEPTED) != bool(r.accepted):
        raise LedgerError(f"reason: {r.reason!r:.40} does not fit accepted={r.accepted}")
    if r.accepted and (r.context is None or r.token is None):
        raise LedgerError("an accepted verdict needs its context and token")
    if not isinstance(r.proof_hash, str) or len(r.proof_hash) != 64:
        raise LedgerError(f"proof_hash: expected 64 hex digits, got {r.proof_hash!r:.80}")
    if r.token is not None:
        _field(r.token, "token")


def _ctx_from_row(row: Any) -> IssuedContext:
    return IssuedContext(id=row.id, venue=row.venue, epoch=int(row.epoch), chain_id=int(row.chain_id),
                         nonce=int(row.nonce), value=int(row.value), statement=row.statement,
                         expected=tuple(int(x) for x in json.loads(row.expected)), threshold=row.threshold,
                         issued_at=row.issued_at, expires_at=row.expires_at)


def _verdict_from_row(row: Any) -> Verdict:
    return Verdict(id=row.id, proof_hash=row.proof_hash, context_id=row.context_id,
                   token=None if row.token is None else int(row.token), accepted=bool(row.accepted),
                   reason=row.reason, detail=row.detail, public=tuple(int(x) for x in json.loads(row.public)),
                   received_at=row.received_at, decided_at=row.decided_at)


def _new_id() -> str:
    return uuid.uuid4().hex


def _field(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < R:
        raise LedgerError(f"{name}: expected a field element (0 <= value < r), got {value!r:.80}")
    return value


def sqlite_url(path: str) -> str:
    """The SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{path}"


# --- the ledger --------------------------------------------------------------------------------

class Ledger:
    """Contexts, verdicts and spent tokens in one database (SQLite file or PostgreSQL).

    Thread-safe: one instance may serve many threads (a connection pool). Several processes may
    share one database; the unique key of ``spent`` keeps acceptance single across all of them.

    Args:
        url: an SQLAlchemy URL: ``sqlite:///path/ledger.sqlite`` or
            ``postgresql+psycopg://user@host:port/db`` (``postgresql://`` is taken as psycopg 3).
        create: create the tables when the database has none (default True).

    Raises:
        LedgerError: the database holds a ledger of another schema version.
        sqlalchemy.exc.OperationalError: the database cannot be reached.
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = _normalise_url(url)
        self.dialect = sa.engine.make_url(self.url).get_backend_name()
        self.engine = _make_engine(self.url)
        if create:
            self._create_schema()
        self._check_schema()

    # -- lifecycle

    def _create_schema(self) -> None:
        with self.engine.begin() as conn:
            metadata.create_all(conn, checkfirst=True)
            if conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first() is None:
                try:
                    with conn.begin_nested():
                        conn.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
                except IntegrityError:  # another process created it at the same moment
                    pass

    def _check_schema(self) -> None:
        with self._reader() as conn:
            try:
                row = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first()
            except sa.exc.ProgrammingError:
                row = None
            except sa.exc.OperationalError as e:
                if "no such table" not in str(e):
                    raise
                row = None
        if row is None:
            raise LedgerError(f"{_safe_url(self.url)}: no zkmargin ledger in this database (create=False)")
        if int(row.value) != SCHEMA_VERSION:
            raise LedgerError(f"{_safe_url(self.url)}: ledger schema version {row.value}, this zkmargin "
                              f"reads version {SCHEMA_VERSION}")

    def _reader(self) -> Any:
        """A connection for reads (SQLite: a deferred BEGIN, so readers never wait for the write lock)."""
        return self.engine.connect().execution_options(zkmargin_read=True)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({_safe_url(self.url)!r})"

    # -- contexts

    def issue_context(self, venue: str, epoch: int, *, expected: Sequence[int], threshold: str,
                      statement: str = "bilateral", chain_id: int = 1, nonce: int | None = None,
                      ttl_s: float = 600.0, now: float | None = None) -> IssuedContext:
        """Issue (record) a context: a fresh challenge for one statement.

        Args:
            venue: the venue id (1-31 printable ASCII characters).
            epoch: the market epoch; chain_id: the EVM chain id (0 off-chain). 0 <= value < 2^64.
            expected: the public inputs the venue expects, in :data:`STATEMENTS` order, with the
                ``context`` slot equal to 0 or to this context's value (it is filled in); for the
                attested statement without the nullifier.
            threshold: the threshold as written by the venue (kept for people; ``expected``
                carries its field value).
            statement: ``"bilateral"`` or ``"attested"``.
            nonce: the challenge; default 128 random bits. Tests pass one to bind ready-made
                proofs.
            ttl_s: seconds until the context expires (> 0).
            now: the issue time (default: now).

        Returns:
            The :class:`IssuedContext`.

        Raises:
            LedgerError: a malformed argument (named), or the context was already issued.
        """
        if statement not in STATEMENTS:
            raise LedgerError(f"statement: expected one of {sorted(STATEMENTS)}, got {statement!r:.40}")
        try:
            venue_id = short_string(venue)
        except ValueError as e:
            raise LedgerError(f"venue: {e}") from None
        for name, v in (("epoch", epoch), ("chain_id", chain_id)):
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < _U64:
                raise LedgerError(f"{name}: expected an integer 0 <= value < 2^64, got {v!r:.40}")
        nonce = secrets.randbits(128) if nonce is None else _field(nonce, "nonce")
        if not (isinstance(ttl_s, (int, float)) and not isinstance(ttl_s, bool) and 0 < ttl_s < 10 * 365 * 86400):
            raise LedgerError(f"ttl_s: expected seconds > 0 (and under ten years), got {ttl_s!r:.40}")
        names = STATEMENTS[statement]
        n_expected = len(names) - (1 if statement == "attested" else 0)
        if len(expected) != n_expected:
            raise LedgerError(f"expected: the {statement} statement fixes {n_expected} public inputs "
                              f"({', '.join(names[:n_expected])}), got {len(expected)}")
        value = context_hash(venue_id, epoch, nonce, chain_id)
        want = [_field(x, f"expected.{n}") for x, n in zip(expected, names, strict=False)]
        slot = names.index("context")
        if want[slot] not in (0, value):
            raise LedgerError(f"expected.context: {want[slot]} is not this context's value {value}")
        want[slot] = value
        t = time.time() if now is None else float(now)
        ctx = IssuedContext(id=_new_id(), venue=venue, epoch=epoch, chain_id=chain_id, nonce=nonce, value=value,
                            statement=statement, expected=tuple(want), threshold=str(threshold)[:80],
                            issued_at=t, expires_at=t + float(ttl_s))
        try:
            with self.engine.begin() as conn:
                conn.execute(contexts.insert().values(
                    id=ctx.id, venue=venue, epoch=str(epoch), chain_id=str(chain_id), nonce=str(nonce),
                    value=str(value), statement=statement, expected=json.dumps([str(x) for x in want]),
                    threshold=ctx.threshold, issued_at=ctx.issued_at, expires_at=ctx.expires_at))
        except IntegrityError:
            raise LedgerError(f"nonce: the context (venue {venue}, epoch {epoch}, nonce {nonce}, chain {chain_id}) "
                              "was already issued") from None
        logger.info("issued context %s: venue %s epoch %d (%s), expires in %.0f s", ctx.id, venue, epoch,
                    statement, ttl_s)
        return ctx

    def context(self, context_id: str) -> IssuedContext | None:
        """The context with this ledger id, or None."""
        with self._reader() as conn:
            row = conn.execute(sa.select(contexts).where(contexts.c.id == context_id)).first()
        return None if row is None else _ctx_from_row(row)

    def find_context(self, value: int) -> IssuedContext | None:
        """The context whose field value (a proof's public ``context`` input) is ``value``, or None."""
        with self._reader() as conn:
            row = conn.execute(sa.select(contexts).where(contexts.c.value == str(value))).first()
        return None if row is None else _ctx_from_row(row)

    # -- verdicts

    def spent_by(self, context_id: str, token: int) -> str | None:
        """The id of the verdict that consumed ``token`` in this context, or None if unspent."""
        with self._reader() as conn:
            return conn.execute(sa.select(spent.c.verdict_id).where(
                spent.c.context_id == context_id, spent.c.token == str(token))).scalar()

    def admission(self, context_value: int, public: Sequence[int]) -> tuple[IssuedContext | None, int | None,
                                                                           str | None]:
        """What the ledger knows of a submission naming ``context_value``, in one read.

        Returns:
            ``(context, token, spent_by)``: the issued context (None if unknown), the token the
            submission would consume (:meth:`IssuedContext.token_of`), and the verdict that has
            already consumed it (None if unspent).
        """
        with self._reader() as conn:
            row = conn.execute(sa.select(contexts).where(contexts.c.value == str(context_value))).first()
            if row is None:
                return None, None, None
            ctx = _ctx_from_row(row)
            token = ctx.token_of(public)
            winner = conn.execute(sa.select(spent.c.verdict_id).where(
                spent.c.context_id == ctx.id, spent.c.token == str(token))).scalar()
        return ctx, token, winner

    def record(self, *, proof_hash: str, public: Sequence[int], accepted: bool, reason: str, detail: str,
               context: IssuedContext | None = None, token: int | None = None,
               received_at: float | None = None) -> Verdict:
        """Record a verdict; an acceptance consumes ``(context, token)`` atomically.

        With ``accepted=True`` the verdict and the ``spent`` row are written together (one
        transaction). If the token was already consumed (by an earlier or a concurrent
        submission), neither row is kept and the submission is recorded instead as a rejected
        :data:`REPLAY` naming the verdict that consumed it. So, whatever the concurrency, one
        token is accepted at most once.

        Args:
            proof_hash: the submission's hash (64 hex digits).
            public: its public inputs.
            accepted: the caller's decision (the statement matched and the proof verified).
            reason: one of :data:`REASONS` (``accepted`` iff ``accepted``); detail: in words.
            context: the context the proof named, if issued by this ledger; token: the one-time
                token (required with ``accepted``; see :meth:`IssuedContext.token_of`).
            received_at: when the submission arrived (default now).

        Returns:
            The :class:`Verdict` as recorded (``accepted`` False and reason ``replay`` when the
            token was taken).

        Raises:
            LedgerError: inconsistent arguments.
        """
        return self.record_many([VerdictRequest(proof_hash, tuple(public), accepted, reason, detail, context, token,
                                                received_at)])[0]

    def record_many(self, requests: Sequence[VerdictRequest]) -> list[Verdict]:
        """Record several verdicts in one transaction: one durable commit for all (group commit).

        Each acceptance is written inside its own savepoint: a token already consumed (before,
        concurrently, or earlier in the same group) rolls back only that item's two rows, which
        is then recorded as a :data:`REPLAY` in the same transaction. Nothing is visible, and
        nothing survives a crash, until the whole group commits.

        Raises:
            LedgerError: an inconsistent request (nothing is written).
            sqlalchemy.exc.DBAPIError: the database failed (nothing is written); e.g. a deadlock
                between two services' groups on PostgreSQL: retry item by item.
        """
        for r in requests:
            _check_request(r)
        with self.engine.begin() as conn:
            return [self._write(conn, r) for r in requests]

    def _write(self, conn: Any, r: VerdictRequest) -> Verdict:
        now = time.time()
        received = now if r.received_at is None else r.received_at
        pub = tuple(int(x) for x in r.public)
        ctx_id = None if r.context is None else r.context.id
        row: dict[str, Any] = {"proof_hash": r.proof_hash, "context_id": ctx_id,
                               "token": None if r.token is None else str(r.token),
                               "public": json.dumps([str(x) for x in pub]), "received_at": received}
        reason, detail = r.reason, r.detail
        if r.accepted:
            assert r.context is not None and r.token is not None
            vid = _new_id()
            try:
                with conn.begin_nested():
                    conn.execute(verdicts.insert().values(id=vid, accepted=True, reason=ACCEPTED, detail=detail,
                                                          decided_at=now, **row))
                    conn.execute(spent.insert().values(context_id=ctx_id, token=str(r.token), verdict_id=vid,
                                                       spent_at=now))
                return Verdict(vid, r.proof_hash, ctx_id, r.token, True, ACCEPTED, detail, pub, received, now)
            except IntegrityError:
                winner = conn.execute(sa.select(spent.c.verdict_id).where(
                    spent.c.context_id == ctx_id, spent.c.token == str(r.token))).scalar()
                if winner is None:  # not the spent key: something else is wrong, do not hide it
                    raise
            reason, detail = REPLAY, _replay_detail(r.context, winner)
        vid = _new_id()
        conn.execute(verdicts.insert().values(id=vid, accepted=False, reason=reason, detail=detail, decided_at=now,
                                              **row))
        return Verdict(vid, r.proof_hash, ctx_id, r.token, False, reason, detail, pub, received, now)

    def verdict(self, verdict_id: str) -> Verdict | None:
        """The verdict with this id, or None."""
        with self._reader() as conn:
            row = conn.execute(sa.select(verdicts).where(verdicts.c.id == verdict_id)).first()
        return None if row is None else _verdict_from_row(row)

    def verdicts_for_proof(self, proof_hash: str) -> list[Verdict]:
        """Every verdict given to this proof hash, oldest first."""
        with self._reader() as conn:
            rows = conn.execute(sa.select(verdicts).where(verdicts.c.proof_hash == proof_hash)
                                .order_by(verdicts.c.decided_at)).all()
        return [_verdict_from_row(r) for r in rows]

    def accepted(self, epoch: int | None = None, venue: str | None = None) -> Iterator[dict[str, Any]]:
        """The accepted verdicts with their contexts (optionally of one epoch / venue), oldest first.

        Yields dicts: verdict_id, decided_at, venue, epoch, statement, context_id, nonce, token,
        threshold, proof_hash, public (list of decimal strings).
        """
        q = (sa.select(verdicts.c.id, verdicts.c.decided_at, contexts.c.venue, contexts.c.epoch,
                       contexts.c.statement, contexts.c.id.label("context_id"), contexts.c.nonce, verdicts.c.token,
                       contexts.c.threshold, verdicts.c.proof_hash, verdicts.c.public)
             .select_from(verdicts.join(contexts, verdicts.c.context_id == contexts.c.id))
             .where(verdicts.c.accepted.is_(True)).order_by(verdicts.c.decided_at, verdicts.c.id))
        if epoch is not None:
            q = q.where(contexts.c.epoch == str(epoch))
        if venue is not None:
            q = q.where(contexts.c.venue == venue)
        with self._reader() as conn:
            for r in conn.execute(q):
                yield {"verdict_id": r.id, "decided_at": r.decided_at, "venue": r.venue, "epoch": int(r.epoch),
                       "statement": r.statement, "context_id": r.context_id, "nonce": r.nonce, "token": r.token,
                       "threshold": r.threshold, "proof_hash": r.proof_hash, "public": json.loads(r.public)}

    def summary(self) -> list[dict[str, Any]]:
        """Per venue and epoch: contexts issued, verdicts by reason. Sorted by venue, epoch."""
        out: dict[tuple[str, int], dict[str, Any]] = {}

        def slot(venue: str, epoch: str) -> dict[str, Any]:
            return out.setdefault((venue, int(epoch)), {"venue": venue, "epoch": int(epoch), "contexts": 0,
                                                        **{r: 0 for r in REASONS}})

        with self._reader() as conn:
            for r in conn.execute(sa.select(contexts.c.venue, contexts.c.epoch, sa.func.count())
                                  .group_by(contexts.c.venue, contexts.c.epoch)):
                slot(r[0], r[1])["contexts"] = r[2]
            for r in conn.execute(sa.select(contexts.c.venue, contexts.c.epoch, verdicts.c.reason, sa.func.count())
                                  .select_from(verdicts.join(contexts, verdicts.c.context_id == contexts.c.id))
                                  .group_by(contexts.c.venue, contexts.c.epoch, verdicts.c.reason)):
                slot(r[0], r[1])[r[2]] = r[3]
            unknown = conn.execute(sa.select(sa.func.count()).select_from(verdicts)
                                   .where(verdicts.c.context_id.is_(None))).scalar() or 0
        rows = [out[k] for k in sorted(out)]
        if unknown:
            rows.append({"venue": "(unknown context)", "epoch": None, "contexts": 0,
                         **{r: 0 for r in REASONS}, UNKNOWN_CONTEXT: unknown})
        return rows

    def counts(self) -> dict[str, int]:
        """Row counts: contexts, verdicts, accepted verdicts, spent tokens."""
        with self._reader() as conn:
            def n(q: Any) -> int:
                return int(conn.execute(q).scalar() or 0)

            return {"contexts": n(sa.select(sa.func.count()).select_from(contexts)),
                    "verdicts": n(sa.select(sa.func.count()).select_from(verdicts)),
                    "accepted": n(sa.select(sa.func.count()).select_from(verdicts)
                                  .where(verdicts.c.accepted.is_(True))),
                    "spent": n(sa.select(sa.func.count()).select_from(spent))}

    def check_integrity(self) -> list[str]:
        """Problems in the stored rows (empty when consistent).

        Checks that every accepted verdict has exactly one ``spent`` row and every ``spent`` row
        belongs to an accepted verdict of the same context and token; no bilateral context has
        more than one acceptance; and every verdict row is complete (its public inputs parse).
        """
        problems: list[str] = []
        with self._reader() as conn:
            q = (sa.select(verdicts.c.id).select_from(verdicts.outerjoin(spent, spent.c.verdict_id == verdicts.c.id))
                 .where(verdicts.c.accepted.is_(True), spent.c.verdict_id.is_(None)))
            problems += [f"accepted verdict {r.id} consumed no token" for r in conn.execute(q)]
            q = (sa.select(spent.c.context_id, spent.c.token, verdicts.c.id, verdicts.c.accepted,
                           verdicts.c.context_id.label("vctx"), verdicts.c.token.label("vtok"))
                 .select_from(spent.outerjoin(verdicts, spent.c.verdict_id == verdicts.c.id)))
            for r in conn.execute(q):
                if r.id is None or not r.accepted or r.vctx != r.context_id or r.vtok != r.token:
                    problems.append(f"spent token {r.token} of context {r.context_id} has no matching accepted "
                                    "verdict")
            q = (sa.select(spent.c.context_id, sa.func.count())
                 .select_from(spent.join(contexts, spent.c.context_id == contexts.c.id))
                 .where(contexts.c.statement == "bilateral").group_by(spent.c.context_id)
                 .having(sa.func.count() > 1))
            problems += [f"bilateral context {r[0]} accepted {r[1]} times" for r in conn.execute(q)]
            for r in conn.execute(sa.select(verdicts.c.id, verdicts.c.public, verdicts.c.proof_hash)):
                try:
                    pub = json.loads(r.public)
                    ok = isinstance(pub, list) and all(isinstance(x, str) and x.isdigit() for x in pub)
                except ValueError:
                    ok = False
                if not ok or len(r.proof_hash) != 64:
                    problems.append(f"verdict {r.id} is incomplete")
        return problems


def _replay_detail(context: IssuedContext, winner: str) -> str:
    what = "context was already answered" if context.statement == "bilateral" else "nullifier was already used"
    return f"replay: this {what} (accepted verdict {winner})"


def _normalise_url(url: str) -> str:
    if not isinstance(url, str) or not url:
        raise LedgerError(f"database: expected an SQLAlchemy URL (sqlite:///path or postgresql://...), got {url!r:.80}")
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        backend = sa.engine.make_url(url).get_backend_name()
    except sa.exc.ArgumentError as e:
        raise LedgerError(f"database: {e}") from None
    if backend not in ("sqlite", "postgresql"):
        raise LedgerError(f"database: {backend!r} is not supported (sqlite or postgresql)")
    return url


def _safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<database>"


def _make_engine(url: str) -> Engine:
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database in (None, "", ":memory:"):
            raise LedgerError("database: an in-memory SQLite ledger forgets everything; give a file path")
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30.0},
                                  pool_size=8, max_overflow=8)

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below), not pysqlite
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # an acknowledged acceptance survives a crash
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Writers take the write lock at BEGIN: two never deadlock upgrading read locks.
            read = conn.get_execution_options().get("zkmargin_read", False)
            conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)
