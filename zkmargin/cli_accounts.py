"""Venue-attested accounts on the command line: ``key new``, ``accounts build``, ``accounts setup``,
``export gate``, and the attested flows of ``prove --opening`` / ``verify --root``.

Registered on :data:`zkmargin.cli.main` by one import line at the bottom of ``zkmargin/cli.py``.
Heavy modules (numba, the prover, the circuits) are imported inside the commands, so
``zkmargin verify`` stays on the base install.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from zkmargin.cli import CliError, _echo_kv, _friendly, _Phase, export_group, main

__all__ = ["key_group", "accounts_group", "export_gate_cmd", "attested_witness", "verify_attested"]

_path_in = click.Path(exists=True, dir_okay=False, path_type=Path)


# --- key -----------------------------------------------------------------------------------------

@main.group("key")
def key_group() -> None:
    """A trader's secret key for venue-attested proofs."""


@key_group.command("new")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the key (created owner-only; an existing file is never replaced).")
@_friendly
def key_new_cmd(output: Path) -> None:
    """Draw a secret key and print the key commitment to register with the venue.

    The key never leaves this file: the venue only ever sees its commitment, so not even the
    venue can make a proof (or a nullifier) for your account. Losing the file means you can no
    longer prove for the accounts registered under it; nobody can recover it.

    \b
    Example:
      zkmargin key new -o trader.key
    """
    from zkmargin.accounts import new_key, write_key

    output.parent.mkdir(parents=True, exist_ok=True)
    k = new_key()
    try:
        write_key(k, output)
    except FileExistsError:
        raise CliError(f"{output}: exists; a key file is never overwritten (it may be the only copy of a key): "
                       "choose another path") from None
    click.echo(f"key commitment {k.key_commitment}")
    _echo_kv([("secret key", f"{output} (owner-only; keep it private, back it up)"),
              ("register", "the key commitment above with your venue")])


# --- accounts ------------------------------------------------------------------------------------

@main.group("accounts")
def accounts_group() -> None:
    """The venue's account tree: build it from snapshots, and the keys of its attested statement."""


@accounts_group.command("build")
@click.argument("model_path", metavar="MODEL", type=_path_in)
@click.argument("sources", metavar="ACCOUNTS...", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The output folder (must not exist): root.json and openings/<account_id>.json.")
@click.option("--epoch", type=click.IntRange(0, 2**64 - 1), required=True,
              help="The epoch the root is for (the market data's epoch).")
@click.option("--depth", type=click.IntRange(1, 32), default=20, show_default=True,
              help="Tree depth (2**depth account slots); the attested keys are made for one depth.")
@click.option("--backend", type=click.Choice(["auto", "numba", "python"]), default="auto", show_default=True,
              help="Hash with numba (zkmargin[prover]) or pure Python.")
@_friendly
def accounts_build_cmd(model_path: Path, sources: tuple[Path, ...], output: Path, epoch: int, depth: int,
                       backend: str) -> None:
    """Build the account tree of MODEL from ACCOUNTS (portfolio folders and/or .jsonl files).

    Each account is a portfolio document with two more fields: account_id (names its opening
    file) and key_commitment (the trader's registered `zkmargin key new` commitment); an optional
    salt is used as given, otherwise the venue draws one uniformly in [0, r). Publish
    OUTPUT/root.json; hand OUTPUT/openings/<account_id>.json to that account's trader only (it
    holds the salt). OUTPUT appears only when complete.

    \b
    Examples:
      zkmargin accounts build examples/cross/model.json snapshots/epoch42/ -o venue/tree42 --epoch 42
      zkmargin accounts build examples/cross/model.json accounts.jsonl -o venue/tree42 --epoch 42 --depth 24
    """
    from zkmargin.accounts import build_accounts
    from zkmargin.margin import load_model

    model = load_model(model_path)
    t = time.perf_counter()
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - last[0] > 2:
            last[0] = now
            of = f" of {total:,}" if total else ""
            click.echo(f"  {stage}: {done:,}{of} ({now - t:.1f}s)", err=True)

    res = build_accounts(model, sources, output, epoch=epoch, depth=depth, backend=backend, progress=progress)
    click.echo(f"built the account tree of {res.root.count:,} accounts in {time.perf_counter() - t:.2f}s "
               f"({res.backend} backend)")
    click.echo(f"root {res.root.root}")
    _echo_kv([("root", output / "root.json"), ("openings", f"{output / 'openings'} (one per account; private)"),
              ("depth", depth), ("epoch", epoch)])


@accounts_group.command("setup")
@click.argument("model_path", metavar="MODEL", type=_path_in)
@click.option("--depth", type=click.IntRange(1, 32), default=20, show_default=True,
              help="The depth of the venue's account trees.")
@click.option("--zkey", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the proving key (.zkey).")
@click.option("--vk", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write verification_key.json.")
@click.option("--force", is_flag=True,
              help="Replace existing keys (every proof made with the old ones stops verifying).")
@click.option("--ptau", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Production: the initial phase-2 key from this powers-of-tau file; then run the ceremony.")
@_friendly
def accounts_setup_cmd(model_path: Path, depth: int, zkey: Path, vk: Path, force: bool, ptau: Path | None) -> None:
    """Keys of the venue-attested statement of MODEL for trees of --depth (like `zkmargin setup`).

    \b
    Example:
      zkmargin accounts setup examples/cross/model.json --depth 20 --zkey venue/attested.zkey \\
          --vk venue/attested_vk.json
    """
    import dataclasses
    import warnings

    from zkmargin.circuits import compile_circuit
    from zkmargin.circuits.margin.attested import attested_circuit_for
    from zkmargin.files import check_outputs
    from zkmargin.margin import load_model
    from zkmargin.margin.statement import key_statement_info
    from zkmargin.prover import DevelopmentSetupWarning, setup
    from zkmargin.prover.backend import backend_name
    from zkmargin.serialize import write_verifying_key, write_zkey

    check_outputs({"--zkey": zkey, "--vk": vk}, {"MODEL": model_path, "--ptau": ptau},
                  protected={"--zkey": zkey, "--vk": vk}, force=force)
    t = time.perf_counter()
    model = load_model(model_path)
    with _Phase(f"compiling the attested {model.margin_model} circuit of {model.model_id} at depth {depth}"):
        cs = compile_circuit(attested_circuit_for(model, depth))
    click.echo(f"setup: {cs.n_constraints:,} constraints, {cs.n_public} public inputs ({backend_name()} backend)",
               err=True)
    mpc = None
    if ptau is not None:
        from zkmargin.cli_ceremony import setup_from_ptau_cli

        pk, vkey, mpc = setup_from_ptau_cli(cs, ptau)
    else:
        click.echo("warning: development setup; production keys come from a ceremony", err=True)
        with warnings.catch_warnings(), _Phase("generating keys"):
            warnings.simplefilter("ignore", DevelopmentSetupWarning)
            pk, vkey = setup(cs)
    vkey = dataclasses.replace(vkey, statement=key_statement_info(model, "attested"))
    for p in (zkey, vk):
        p.parent.mkdir(parents=True, exist_ok=True)
    with _Phase("writing keys"):
        write_zkey(pk, zkey, mpc=mpc)
        write_verifying_key(vkey, vk)
    click.echo(f"setup done in {time.perf_counter() - t:.2f}s (domain 2^{pk.domain_size.bit_length() - 1})")
    _echo_kv([("proving key", zkey), ("verifying key", vk), ("depth", depth)])


# --- export gate ---------------------------------------------------------------------------------

@export_group.command("gate")
@click.argument("vk_path", metavar="VERIFICATION_KEY", type=_path_in)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("MarginGate.sol"),
              show_default=True, help="Where to write the Solidity file.")
@click.option("--contract-name", default="MarginGate", show_default=True, help="The gate contract's name.")
@_friendly
def export_gate_cmd(vk_path: Path, output: Path, contract_name: str) -> None:
    """Export the on-chain gate of the attested statement for VERIFICATION_KEY (Solidity).

    One file with the Groth16 verifier and the gate: the venue (owner) posts each epoch's account
    root and market digest; submit(proof, epoch, threshold, context, nullifier) takes them from
    storage, refuses a spent nullifier, verifies, records the nullifier and emits MarginProved.

    \b
    Example:
      zkmargin export gate venue/attested_vk.json -o MarginGate.sol
    """
    from zkmargin.files import check_outputs
    from zkmargin.serialize import load_verifying_key
    from zkmargin.serialize._io import atomic_write_text
    from zkmargin.verifier.gate import export_gate

    check_outputs({"-o": output}, {"VERIFICATION_KEY": vk_path})
    src = export_gate(load_verifying_key(vk_path), gate_name=contract_name, verifier_name=f"{contract_name}Verifier")
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output, src)
    click.echo(f"wrote {output}: contracts {contract_name} (the gate) and {contract_name}Verifier")


# --- prove --opening ... (called by zkmargin.cli.prove_cmd) ----------------------------------------

def attested_witness(model_path: Path, market_path: Path, portfolio_path: Path, opening_path: Path, root_path: Path,
                     key_path: Path, threshold: str, context_path: Path) -> tuple[Any, list[int], Any]:
    """Load and check the documents, evaluate the rule, and solve the attested witness: (cs, witness, report).

    Refuses (exit 1, nothing written) an account that fails the rule; raises CliError (exit 2)
    for documents that do not belong together (another model, epoch, root or key; a portfolio that
    is not the venue's snapshot of the account).
    """
    from zkmargin.accounts import check_opening_for, load_key, load_opening, load_root
    from zkmargin.circuits import build
    from zkmargin.circuits.margin.attested import attested_assignment_for
    from zkmargin.encoding import account_leaf
    from zkmargin.margin import evaluate, load_market, load_model, load_portfolio, model_digest
    from zkmargin.margin.documents import load_context
    from zkmargin.verifier.attested import check_root_matches
    from zkmargin.verifier.venue import check_context_matches_market

    model = load_model(model_path)
    market = load_market(market_path, model)
    portfolio = load_portfolio(portfolio_path, model)
    root = load_root(root_path)
    opening = load_opening(opening_path)
    key = load_key(key_path)
    ctx = load_context(context_path)
    check_context_matches_market(ctx, market)
    check_root_matches(root, model, market)
    try:
        check_opening_for(opening, root)
    except ValueError as e:
        raise CliError(f"{opening_path}: {e} ({root_path})") from None
    if opening.key_commitment != key.key_commitment:
        raise CliError(f"{opening_path}: the account is registered under key commitment {opening.key_commitment}, "
                       f"{key_path} is the key of {key.key_commitment}: use the key you registered for this account")
    leaf = account_leaf(model_digest(model), portfolio.to_field_elements(model), opening.salt, key.key_commitment)
    if leaf != opening.leaf:
        raise CliError(f"{portfolio_path}: is not the venue's snapshot of account {opening.account_id!r} for epoch "
                       f"{root.epoch} (its leaf differs from the opening's): prove the portfolio the venue holds")
    report = evaluate(model, market, portfolio, threshold)
    if not report.passes:
        click.echo(f"refused: {report.explain()}", err=True)
        click.echo("no proof was made: the account does not meet the rule", err=True)
        sys.exit(1)
    with _Phase(f"solving the attested {model.margin_model} witness (depth {root.depth})"):
        cs, witness = build(attested_assignment_for(model, market, portfolio, opening.salt, key.key, opening.leaf_index,
                                                    opening.path, root.root, threshold, ctx.field_value()))
    return cs, witness, report


# --- verify --root ... (called by zkmargin.cli.verify_cmd) -------------------------------------------

def verify_attested(vk: Any, public_path: Path | None, proof_path: Path | None, batch_dir: Path | None,
                    manifest_path: Path | None, model_path: Path | None, market_path: Path | None,
                    root_path: Path, threshold: str | None, context_path: Path | None) -> None:
    """The attested venue check of one proof or a batch; prints OK / INVALID and exits 1 when not accepted.

    Each proof's root, market digest, threshold and context are compared with the venue's own
    (root.json, market file, rule, context), then the pairing. In a batch, two proofs with the same
    context and nullifier are one account answering twice: the second is refused.
    """
    from zkmargin.accounts import load_root
    from zkmargin.margin import load_market, load_model
    from zkmargin.margin.documents import load_context
    from zkmargin.serialize import load_proof, load_public_inputs
    from zkmargin.verifier.attested import expected_attested_statement
    from zkmargin.verifier.venue import MarginItem, check_margin_proof, check_margin_proofs

    missing = [n for n, v in (("--model", model_path), ("--market", market_path)) if v is None]
    if missing:
        raise CliError(f"the attested check also needs {', '.join(missing)}")
    assert model_path is not None and market_path is not None
    model = load_model(model_path)
    market = load_market(market_path, model)
    root = load_root(root_path)
    t = time.perf_counter()
    if public_path is not None and proof_path is not None:
        missing = [n for n, v in (("--threshold", threshold), ("--context", context_path)) if v is None]
        if missing:
            raise CliError(f"the attested check also needs {', '.join(missing)}")
        assert threshold is not None and context_path is not None
        expected = expected_attested_statement(model, market, root, threshold, load_context(context_path))
        public = load_public_inputs(public_path)
        verdict = check_margin_proof(vk, public, load_proof(proof_path), expected)
        dt = time.perf_counter() - t
        if verdict.ok:
            click.echo(f"OK: {verdict.explain()}; an account under root {root.root} (epoch {root.epoch}) "
                       f"({dt:.2f}s)")
            click.echo(f"nullifier {public[-1]}  (record it: the same account answers this context once)")
            return
        click.echo(f"INVALID: {verdict.explain()} ({dt:.2f}s)")
        sys.exit(1)

    from zkmargin.verifier.venue_files import entries_from_folder, entries_from_manifest

    entries = entries_from_folder(batch_dir) if batch_dir is not None else entries_from_manifest(manifest_path)  # type: ignore[arg-type]
    items = []
    for e in entries:
        if "commitment" in e.own:
            raise CliError(f"{e.label}: has a commitment file, but --root checks attested proofs (no commitment)")
        th = e.own.get("threshold", threshold)
        ctx = e.own.get("context", context_path)
        if th is None or ctx is None:
            raise CliError(f"{e.label}: no {'threshold' if th is None else 'context'} for this proof: give "
                           f"--{'threshold' if th is None else 'context'} or the item's own")
        expected = expected_attested_statement(model, market, root, th, load_context(ctx), label=e.label)
        items.append(MarginItem(load_public_inputs(e.public), load_proof(e.proof), expected, e.label))
    res = check_margin_proofs(vk, items)
    seen: dict[tuple[int, int], str] = {}
    replays = []
    for item, v in zip(items, res.verdicts, strict=True):
        if not v.ok:
            continue
        key = (item.public[3], item.public[4])  # (context, nullifier)
        if key in seen:
            replays.append(f"{v.label}: the same account already answered this context in this batch "
                           f"({seen[key]}; nullifier {item.public[4]})")
        else:
            seen[key] = v.label
    dt = time.perf_counter() - t
    where = batch_dir if batch_dir is not None else manifest_path
    if res.ok and not replays:
        click.echo(f"OK: all {res.n} proofs in {where} are valid, each for an account under root {root.root} "
                   f"(epoch {root.epoch}), no nullifier twice ({dt:.2f}s, {res.checks} pairing checks)")
        return
    bad = res.explain_bad() + replays
    click.echo(f"INVALID: {len(bad)} of {res.n} proofs in {where} are not accepted ({dt:.2f}s):")
    for line in bad:
        click.echo(f"  {line}")
    sys.exit(1)
