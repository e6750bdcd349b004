"""The venue operator's commands: ``zkmargin serve`` and ``zkmargin ledger show/export``.

Registered on :data:`zkmargin.cli.main` by one import line at the bottom of ``zkmargin/cli.py``.
The service's libraries (SQLAlchemy, Starlette, uvicorn: ``zkmargin[service]``) are imported inside
the commands, so ``zkmargin verify`` stays on the base install.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import click

from zkmargin.cli import CliError, _echo_kv, _friendly, main

__all__ = ["serve_cmd", "ledger_group"]


def _need_service_extra() -> None:
    try:
        import sqlalchemy  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise CliError(f"the verification service needs zkmargin[service] (pip install 'zkmargin[service]'): "
                       f"{e.name} is not installed") from None


class _JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"t": round(record.created, 3), "level": record.levelname.lower(),
                               "logger": record.name, "msg": record.getMessage()}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def _json_logging(level: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True


@main.command("serve")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The service configuration (venue.toml).")
@click.option("--host", default=None, help="Override [server] host.")
@click.option("--port", type=int, default=None, help="Override [server] port.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info", show_default=True,
              help="Structured (JSON lines) log level on stderr.")
@_friendly
def serve_cmd(config_path: Path, host: str | None, port: int | None, log_level: str) -> None:
    """Run the venue's verification service (HTTP) with its ledger.

    It issues contexts (POST /v1/contexts), checks proofs against the statement the venue expects
    and answers each context once (POST /v1/proofs), and keeps every verdict in the ledger
    database (SQLite file or PostgreSQL), so answered-once holds across restarts. Logs are JSON
    lines on stderr. Needs zkmargin[service].

    \b
    Example venue.toml:
      venue = "zkmargin-demo"
      model = "examples/cross/model.json"
      verifying_key = "venue/verification_key.json"
      markets = ["examples/cross/market.json"]
      database = "sqlite:///venue/ledger.sqlite"
      threshold = "1000"

    \b
    Examples:
      zkmargin serve --config venue.toml
      curl -s localhost:8080/v1/health
    """
    _need_service_extra()
    import uvicorn

    from zkmargin.verifier.service import create_app, load_config

    cfg = load_config(config_path)
    if host is not None:
        cfg.host = host
    if port is not None:
        cfg.port = port
    _json_logging(getattr(logging, log_level.upper()))
    app = create_app(cfg)
    svc = app.state.service
    click.echo(f"zkmargin serve: venue {cfg.venue}, epochs {', '.join(str(e) for e in sorted(svc.markets))}, "
               f"ledger {svc.ledger!r}, workers {cfg.engine} on http://{cfg.host}:{cfg.port}", err=True)
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_config=None, access_log=False, lifespan="on",
                timeout_graceful_shutdown=5)


def _open_ledger(config_path: Path | None, database: str | None) -> Any:
    _need_service_extra()
    from zkmargin.verifier.ledger import Ledger

    if (config_path is None) == (database is None):
        raise CliError("give exactly one of --config venue.toml or --database URL")
    if config_path is not None:
        from zkmargin.verifier.service import load_config

        database = load_config(config_path).database
    assert database is not None
    return Ledger(database, create=False)


_config_opt = click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                           help="Take the database from this venue.toml.")
_db_opt = click.option("--database", help="The ledger's URL (sqlite:///path or postgresql://...).")


@main.group("ledger")
def ledger_group() -> None:
    """Read the venue's ledger: contexts issued, verdicts, accepted proofs."""


@ledger_group.command("show")
@_config_opt
@_db_opt
@_friendly
def ledger_show_cmd(config_path: Path | None, database: str | None) -> None:
    """Per venue and epoch: contexts issued and verdicts by reason; then an integrity check.

    \b
    Examples:
      zkmargin ledger show --config venue.toml
      zkmargin ledger show --database sqlite:///venue/ledger.sqlite
    """
    with _open_ledger(config_path, database) as ledger:
        from zkmargin.verifier.ledger import REASONS

        rows = ledger.summary()
        counts = ledger.counts()
        problems = ledger.check_integrity()
    click.echo(f"ledger {ledger!r}")
    _echo_kv([(k, f"{v:,}") for k, v in counts.items()])
    if rows:
        cols = ["venue", "epoch", "contexts", *REASONS]
        table = [[str(r[c]) if r[c] is not None else "-" for c in cols] for r in rows]
        widths = [max(len(c), *(len(t[i]) for t in table)) for i, c in enumerate(cols)]
        click.echo("  " + "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
        for t in table:
            click.echo("  " + "  ".join(v.ljust(w) for v, w in zip(t, widths, strict=True)))
    if problems:
        for p in problems:
            click.echo(f"INCONSISTENT: {p}")
        sys.exit(1)
    click.echo("integrity: every accepted verdict consumed exactly one token; no token consumed twice")


@ledger_group.command("export")
@_config_opt
@_db_opt
@click.option("--epoch", type=int, default=None, help="Only this epoch.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the CSV here (atomically); default stdout.")
@_friendly
def ledger_export_cmd(config_path: Path | None, database: str | None, epoch: int | None, output: Path | None) -> None:
    """The accepted proofs (per epoch with --epoch) as CSV, oldest first.

    Columns: verdict_id, decided_at (UTC, ISO 8601), venue, epoch, statement, context_id, nonce,
    token, threshold, proof_hash, public (space-separated decimal public inputs).

    \b
    Examples:
      zkmargin ledger export --config venue.toml --epoch 20241124 -o accepted.csv
      zkmargin ledger export --database postgresql://venue@db/ledger
    """
    buf = io.StringIO()
    cols = ["verdict_id", "decided_at", "venue", "epoch", "statement", "context_id", "nonce", "token", "threshold",
            "proof_hash", "public"]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    n = 0
    with _open_ledger(config_path, database) as ledger:
        for r in ledger.accepted(epoch=epoch):
            r = dict(r)
            r["decided_at"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(r["decided_at"])) + \
                f".{int((r['decided_at'] % 1) * 1e6):06d}Z"
            r["public"] = " ".join(r["public"])
            w.writerow([r[c] for c in cols])
            n += 1
    if output is None:
        click.echo(buf.getvalue(), nl=False)
        return
    from zkmargin.serialize._io import atomic_write_text

    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output, buf.getvalue())
    click.echo(f"wrote {output}: {n} accepted proof{'s' if n != 1 else ''}"
               + (f" of epoch {epoch}" if epoch is not None else ""), err=True)
