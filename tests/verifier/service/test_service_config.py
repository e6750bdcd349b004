"""venue.toml and the operator commands' errors: each names the file, the section and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from zkmargin.cli import main
from zkmargin.verifier.ledger import ACCEPTED, Ledger, spent
from zkmargin.verifier.service import ConfigError, load_config

REPO = Path(__file__).resolve().parents[3]
GOOD = f'''venue = "zkmargin-demo"
model = "{REPO / "examples/cross/model.json"}"
verifying_key = "keys/vk.json"
markets = ["{REPO / "examples/cross/market.json"}"]
database = "sqlite:///data/ledger.sqlite"
threshold = "1000"
'''


def _cfg(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "venue.toml"
    p.write_text(text)
    return p


def test_a_good_config_resolves_paths_against_its_folder(tmp_path):
    cfg = load_config(_cfg(tmp_path, GOOD + "[limits]\nmax_batch = 8\n[workers]\nprocesses = 3\n"))
    assert cfg.verifying_key == tmp_path.resolve() / "keys" / "vk.json"
    assert cfg.database == f"sqlite:///{tmp_path.resolve() / 'data' / 'ledger.sqlite'}"
    assert (cfg.max_batch, cfg.processes, cfg.engine, cfg.port) == (8, 3, "processes", 8080)


@pytest.mark.parametrize("edit, where", [
    (lambda t: t.replace('venue = "zkmargin-demo"\n', ""), "venue: missing"),
    (lambda t: t.replace('threshold = "1000"', "threshold = [1]"), "threshold: expected"),
    (lambda t: t.replace("markets = [", "markets = 1 #["), "markets: expected"),
    (lambda t: t + "colour = 1\n", "colour: unknown key"),
    (lambda t: t + 'statement = "attested"\n', "roots: the attested statement needs"),
    (lambda t: t + 'roots = ["root.json"]\n', "roots: the attested statement needs"),
    (lambda t: t + 'statement = "other"\n', "statement: expected 'bilateral' or 'attested'"),
    (lambda t: t + "[limits]\nmax_batch = 0\n", "limits.max_batch: must be at least 1"),
    (lambda t: t + "[limits]\nmax_body_bytes = true\n", "limits.max_body_bytes: expected int"),
    (lambda t: t + '[workers]\nengine = "ray"\n', "workers.engine: expected 'processes' or 'dask'"),
    (lambda t: t + '[workers]\nengine = "dask"\n', "workers.dask_scheduler: the dask engine needs"),
    (lambda t: t + "[server]\nport = \"80\"\n", "server.port: expected int"),
    (lambda t: t + "[[[", "not valid TOML"),
])
def test_config_errors_name_the_key(tmp_path, edit, where):
    p = _cfg(tmp_path, edit(GOOD))
    with pytest.raises(ConfigError, match="venue.toml: .*" + where.replace("[", r"\[").replace("(", r"\(")):
        load_config(p)
    r = CliRunner().invoke(main, ["serve", "--config", str(p)])
    assert r.exit_code == 2 and where.split(":")[0] in r.output, r.output


def test_ledger_commands(tmp_path):
    run = CliRunner().invoke
    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    assert run(main, ["ledger", "show"]).exit_code == 2
    assert run(main, ["ledger", "show", "--database", db, "--config", str(_cfg(tmp_path, GOOD))]).exit_code == 2
    r = run(main, ["ledger", "show", "--database", db])
    assert r.exit_code == 2 and "no zkmargin ledger" in r.output, r.output
    with Ledger(db) as ledger:
        ctx = ledger.issue_context("zkmargin-demo", 3, expected=[1, 2, 3, 0], threshold="1000")
        v = ledger.record(proof_hash="ab" * 32, public=ctx.expected, accepted=True, reason=ACCEPTED, detail="ok",
                          context=ctx, token=ctx.nonce)
    r = run(main, ["ledger", "show", "--database", db])
    assert r.exit_code == 0 and "integrity:" in r.output and "zkmargin-demo" in r.output, r.output
    r = run(main, ["ledger", "export", "--database", db])
    assert r.exit_code == 0 and v.id in r.output and r.output.startswith("verdict_id,decided_at,venue,epoch")
    with Ledger(db, create=False) as ledger, ledger.engine.begin() as conn:
        conn.execute(spent.delete())  # damage it: the acceptance no longer consumed its token
    r = run(main, ["ledger", "show", "--database", db])
    assert r.exit_code == 1 and f"INCONSISTENT: accepted verdict {v.id} consumed no token" in r.output, r.output
