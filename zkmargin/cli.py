"""The ``zkmargin`` command line.

Every command reads and writes snarkjs-compatible files. Errors print one line naming the file
and the field at fault and exit with status 2; ``verify`` exits 0 for a valid proof and 1 for an
invalid one. Heavy modules (numba, the prover) are imported only by the commands that need them,
so ``zkmargin verify`` runs on the base install (py_ecc + click).
"""

from __future__ import annotations

import functools
import importlib
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from zkmargin.errors import ZkMarginError

__all__ = ["main", "BUILTIN_CIRCUITS"]

F = TypeVar("F", bound=Callable[..., Any])

#: Built-in circuits by short name (``module:Class`` works for any other).
BUILTIN_CIRCUITS = {
    "cross-simple": "zkmargin.circuits.margin.cross_simple:CrossMarginSimple",
}


class CliError(click.ClickException):
    """A one-line error (exit status 2)."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"zkmargin: error: {self.format_message()}", err=True)


def _friendly(fn: F) -> F:
    """Turn the errors a user can cause into one line naming the file or field, exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ZkMarginError as e:
            raise CliError(str(e)) from e
        except FileNotFoundError as e:
            raise CliError(f"{e.filename}: file not found") from e
        except IsADirectoryError as e:
            raise CliError(f"{e.filename}: is a directory, expected a file") from e
        except PermissionError as e:
            raise CliError(f"{e.filename}: permission denied") from e
        except OSError as e:
            raise CliError(f"{getattr(e, 'filename', '') or ''}: {e.strerror or e}") from e

    return wrapper  # type: ignore[return-value]


def _echo_kv(pairs: list[tuple[str, Any]]) -> None:
    width = max(len(k) for k, _ in pairs)
    for k, v in pairs:
        click.echo(f"  {k:<{width}}  {v}")


class _Phase:
    """Prints 'name ...' then 'done in X s' on stderr: progress for the steps that can take a while."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> _Phase:
        click.echo(f"  {self.name} ...", err=True, nl=False)
        self.t = time.perf_counter()
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            click.echo(f" done in {time.perf_counter() - self.t:.2f}s", err=True)
        else:
            click.echo(" failed", err=True)


# --- circuit references --------------------------------------------------------------------

def _load_circuit_class(ref: str) -> type:
    target = BUILTIN_CIRCUITS.get(ref, ref)
    if ":" not in target:
        raise CliError(
            f"unknown circuit {ref!r}: use one of {sorted(BUILTIN_CIRCUITS)} or 'package.module:ClassName'"
        )
    mod_name, _, cls_name = target.partition(":")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        raise CliError(f"circuit {ref!r}: cannot import module {mod_name!r}: {e}") from e
    cls = getattr(mod, cls_name, None)
    from zkmargin.circuits import Circuit

    if not (isinstance(cls, type) and issubclass(cls, Circuit)):
        raise CliError(f"circuit {ref!r}: {cls_name!r} in {mod_name!r} is not a zkmargin Circuit class")
    return cls


def _parse_params(items: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise CliError(f"--param {item!r}: expected NAME=VALUE, e.g. -p n_positions=4")
        try:
            out[name] = int(value)
        except ValueError:
            raise CliError(f"--param {name}: expected an integer, got {value!r}") from None
    return out


def _read_json(path: Path) -> Any:
    from zkmargin.serialize import read_json_file

    return read_json_file(path)


def _to_int_tree(value: Any, where: str) -> Any:
    """Decimal strings and ints (possibly nested in lists) to ints; anything else is an error."""
    if isinstance(value, list):
        return [_to_int_tree(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, bool):
        raise CliError(f"{where}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        s = value.strip()
        if s.lstrip("-").isdigit() and s.count("-") <= 1 and not s.startswith("--"):
            return int(s)
    raise CliError(f"{where}: expected an integer or a decimal string, got {value!r:.60}")


def _instantiate(ref: str, params: tuple[str, ...], input_path: Path | None) -> Any:
    cls = _load_circuit_class(ref)
    kwargs: dict[str, Any] = dict(_parse_params(params))
    if input_path is not None:
        data = _read_json(input_path)
        if not isinstance(data, dict):
            raise CliError(f"{input_path}: expected a JSON object of field values")
        fields = getattr(cls, "_fields", {})
        for name, value in data.items():
            if name not in fields:
                raise CliError(f"{input_path}: {name}: not a field of {cls.__name__} (fields: {list(fields)})")
            kwargs[name] = _to_int_tree(value, f"{input_path}: {name}")
    return cls(**kwargs)


# --- the commands --------------------------------------------------------------------------

@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-v phases, -vv debug).")
@click.version_option(package_name="zkmargin")
def main(verbose: int) -> None:
    """zkmargin: prove in zero knowledge that a hidden portfolio meets a margin rule.

    \b
    Groth16 over BN254; every file is snarkjs-compatible (.r1cs, .wtns, .zkey,
    verification_key.json, proof.json, public.json).

    \b
    A whole round trip on the demo circuit:
      zkmargin compile cross-simple -p n_positions=2 -p n_assets=2 -o build/cross.r1cs
      zkmargin setup build/cross.r1cs --zkey build/cross.zkey --vk build/verification_key.json
      zkmargin prove cross-simple -p n_positions=2 -p n_assets=2 --input input.json \\
          --zkey build/cross.zkey --proof build/proof.json --public build/public.json
      zkmargin verify build/verification_key.json build/public.json build/proof.json
    """
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


_circuit_arg = click.argument("circuit", metavar="CIRCUIT")
_param_opt = click.option(
    "-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
    help="A circuit parameter (repeatable), e.g. -p n_positions=4.",
)


@main.command("compile")
@_circuit_arg
@_param_opt
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the .r1cs file.")
@_friendly
def compile_cmd(circuit: str, params: tuple[str, ...], output: Path) -> None:
    """Compile CIRCUIT to an iden3 .r1cs file and print its size.

    CIRCUIT is a built-in name (cross-simple), 'package.module:ClassName', or a venue model file
    (MODEL.json: the margin circuit of its model at its sizes, as setup compiles it).

    \b
    Examples:
      zkmargin compile cross-simple -p n_positions=4 -p n_assets=2 -o build/cross.r1cs
      zkmargin compile examples/cross/model.json -o build/cross.r1cs
    """
    from zkmargin.circuits import compile_circuit
    from zkmargin.serialize import write_r1cs

    if circuit.lower().endswith(".json") and Path(circuit).is_file():
        if params:
            raise CliError("-p/--param does not apply to a model file: its sizes are in the model")
        from zkmargin.circuits.margin import circuit_for
        from zkmargin.margin import load_model

        c = circuit_for(load_model(Path(circuit)))
    else:
        c = _instantiate(circuit, params, None)
    t = time.perf_counter()
    cs = compile_circuit(c)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_r1cs(cs, output)
    click.echo(f"compiled {type(c).__name__} in {time.perf_counter() - t:.2f}s -> {output}")
    _echo_kv([("constraints", cs.n_constraints), ("public inputs", cs.n_public),
              ("private wires", cs.n_private), ("wires", cs.n_wires), ("shape digest", cs.digest()[:16])])


@main.command("setup")
@click.argument("source", metavar="MODEL_OR_R1CS", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--zkey", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the proving key (.zkey, snarkjs format).")
@click.option("--vk", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write verification_key.json.")
@click.option("--force", is_flag=True,
              help="Replace existing keys (every proof made with the old ones stops verifying).")
@click.option("--ptau", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Production setup: the initial phase-2 key from this powers-of-tau file (as snarkjs groth16 "
                   "setup); then run the ceremony (zkmargin zkey contribute, beacon, verify).")
@_friendly
def setup_cmd(source: Path, zkey: Path, vk: Path, force: bool, ptau: Path | None = None) -> None:
    """Development setup: proving and verifying keys for a venue model (.json) or a compiled .r1cs.

    For a venue model file, the margin circuit of its model (cross, isolated, scenario, health,
    tiered) at its sizes is compiled first. The toxic waste comes from the OS's random generator and
    is never written anywhere, but it was on this machine: keys from this command are for
    development. Production keys come from a powers-of-tau ceremony and phase-2 contributions
    (snarkjs groth16 setup + zkey contribute on the .r1cs); zkmargin proves with such a .zkey.

    \b
    Examples:
      zkmargin setup examples/cross/model.json --zkey venue/cross.zkey --vk venue/verification_key.json
      zkmargin setup build/cross.r1cs --zkey build/cross.zkey --vk build/verification_key.json
      zkmargin setup examples/cross/model.json --ptau pot16_final.ptau --zkey venue/cross_0000.zkey --vk venue/vk0.json
    """
    import dataclasses
    import warnings

    from zkmargin.files import check_outputs
    from zkmargin.prover import DevelopmentSetupWarning, setup
    from zkmargin.prover.backend import backend_name
    from zkmargin.serialize import read_r1cs, write_verifying_key, write_zkey

    check_outputs({"--zkey": zkey, "--vk": vk}, {"MODEL_OR_R1CS": source, "--ptau": ptau},
                  protected={"--zkey": zkey, "--vk": vk}, force=force)
    t = time.perf_counter()
    statement = None
    if source.suffix.lower() == ".json":
        from zkmargin.circuits import compile_circuit
        from zkmargin.circuits.margin import circuit_for
        from zkmargin.margin import load_model
        from zkmargin.margin.statement import key_statement_info

        model = load_model(source)
        statement = key_statement_info(model)
        with _Phase(f"compiling the {model.margin_model} circuit of {model.model_id}"):
            cs = compile_circuit(circuit_for(model))
    else:
        cs = read_r1cs(source)
    click.echo(f"setup for {source}: {cs.n_constraints:,} constraints, {cs.n_public} public inputs "
               f"({backend_name()} backend)", err=True)
    mpc = None
    if ptau is not None:  # production: the ceremony's initial key (zkmargin.cli_ceremony)
        from zkmargin.cli_ceremony import setup_from_ptau_cli

        pk, vkey, mpc = setup_from_ptau_cli(cs, ptau)
    else:
        click.echo("warning: development setup; production keys come from a ceremony", err=True)
        from zkmargin.cli_perf import announce_compile

        announce_compile("setup")  # a first run on this machine compiles numba's kernels: say so
        with warnings.catch_warnings(), _Phase("generating keys"):
            warnings.simplefilter("ignore", DevelopmentSetupWarning)
            pk, vkey = setup(cs)
    if statement is not None:
        vkey = dataclasses.replace(vkey, statement=statement)  # the key records its model (verify --model checks)
    for p in (zkey, vk):
        p.parent.mkdir(parents=True, exist_ok=True)
    with _Phase("writing keys"):
        write_zkey(pk, zkey, mpc=mpc)
        write_verifying_key(vkey, vk)
    click.echo(f"setup done in {time.perf_counter() - t:.2f}s (domain 2^{pk.domain_size.bit_length() - 1})")
    _echo_kv([("proving key", zkey), ("verifying key", vk)])


@main.command("digest")
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("market_path", metavar="MARKET", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_friendly
def digest_cmd(model_path: Path, market_path: Path) -> None:
    """Validate MARKET against MODEL and print its digest (the proofs' market_digest input).

    \b
    Example:
      zkmargin digest examples/cross/model.json examples/cross/market.json
    """
    from zkmargin.margin import load_market, load_model, market_digest_of

    model = load_model(model_path)
    market = load_market(market_path, model)
    d = market_digest_of(model, market)
    click.echo(f"market digest of {market_path} (venue {market.venue}, epoch {market.epoch}):")
    click.echo(str(d))


@main.command("context")
@click.option("--venue", required=True, help="The venue id (1-31 printable ASCII characters).")
@click.option("--epoch", type=int, required=True, help="The market-data epoch the proof is for.")
@click.option("--chain-id", type=int, default=1, show_default=True, help="The EVM chain id (0 if off-chain).")
@click.option("--nonce", type=int, default=None, help="The challenge nonce (default: 128 random bits).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write context.json.")
@_friendly
def context_cmd(venue: str, epoch: int, chain_id: int, nonce: int | None, output: Path) -> None:
    """Issue a verification context (venue, epoch, nonce, chain id) that a proof must be bound to.

    The verifier chooses it, so a proof made for one venue, epoch or challenge cannot be replayed
    in another.

    \b
    Example:
      zkmargin context --venue zkmargin-demo --epoch 20241124 -o venue/context.json
    """
    from zkmargin.files import check_outputs
    from zkmargin.margin.documents import new_context, write_context

    check_outputs({"-o": output}, {})
    ctx = new_context(venue, epoch, chain_id=chain_id, nonce=nonce)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_context(ctx, output)
    click.echo(f"wrote {output}: venue {ctx.venue}, epoch {ctx.epoch}, chain {ctx.chain_id}, nonce {ctx.nonce}")


@main.command("commit")
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("portfolio_path", metavar="PORTFOLIO", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--salt", "salt_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The private salt file: reused if it exists, else created (owner-only permissions).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write commitment.json (public: give it to the venue).")
@_friendly
def commit_cmd(model_path: Path, portfolio_path: Path, salt_path: Path, output: Path) -> None:
    """Commit to a PORTFOLIO: a Poseidon commitment the venue holds, the salt kept private.

    Proofs are about the committed account: the venue checks a proof's commitment against the one
    it holds. Keep the salt file: without it the commitment can never be opened or proved about.

    \b
    Example:
      zkmargin commit examples/cross/model.json examples/cross/portfolio_pass.json \\
          --salt trader/salt.json -o trader/commitment.json
    """
    from zkmargin.files import check_outputs
    from zkmargin.margin import account_commitment, load_model, load_portfolio
    from zkmargin.margin.documents import load_salt, new_salt, write_commitment, write_salt

    new_salt_file = not salt_path.exists()
    check_outputs({"-o": output, "--salt": salt_path if new_salt_file else None},
                  {"MODEL": model_path, "PORTFOLIO": portfolio_path, "--salt": None if new_salt_file else salt_path})
    model = load_model(model_path)
    portfolio = load_portfolio(portfolio_path, model)
    if salt_path.exists():
        salt_model, salt = load_salt(salt_path)
        if salt_model != model.model_id:
            raise CliError(f"{salt_path}: model_id is {salt_model!r}, the model is {model.model_id!r}")
        note = "reused"
    else:
        salt = new_salt()
        salt_path.parent.mkdir(parents=True, exist_ok=True)
        write_salt(model.model_id, salt, salt_path)
        note = "new, owner-only; keep it private"
    c = account_commitment(model, portfolio, salt)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_commitment(model.model_id, c, output)
    click.echo(f"commitment {c}")
    _echo_kv([("commitment", output), ("salt", f"{salt_path} ({note})")])


_path_in = click.Path(exists=True, dir_okay=False, path_type=Path)


@main.command("prove")
@click.argument("circuit", metavar="[CIRCUIT]", required=False)
@_param_opt
@click.option("--model", "model_path", type=_path_in, help="Margin flow: the venue model (.json).")
@click.option("--market", "market_path", type=_path_in, help="Margin flow: the epoch's market data (.json).")
@click.option("--portfolio", "portfolio_path", type=_path_in, help="Margin flow: the hidden portfolio (.json).")
@click.option("--salt", "salt_path", type=_path_in, help="Margin flow: the salt file from zkmargin commit.")
@click.option("--threshold", help="Margin flow: the required surplus (quote), health factor or ratio, e.g. 1000, "
                                 "1.30 or 1.05; a model with requirement initial+maintenance takes both, initial "
                                 "first: 1000,500.")
@click.option("--context", "context_path", type=_path_in, help="Margin flow: the venue's context.json.")
@click.option("--opening", "opening_path", type=_path_in,
              help="Attested flow (instead of --salt): your account's opening from the venue's accounts build.")
@click.option("--root", "root_path", type=_path_in, help="Attested flow: the venue's published root.json.")
@click.option("--key", "key_path", type=_path_in, help="Attested flow: your secret key (zkmargin key new).")
@click.option("--input", "input_path", type=_path_in,
              help="Circuit flow: JSON object with a value for every public and secret field of CIRCUIT.")
@click.option("--witness", "wtns", type=_path_in, help="Prove from a .wtns file (e.g. circom's), without CIRCUIT.")
@click.option("--zkey", type=_path_in, required=True, help="The proving key (.zkey) from zkmargin setup or snarkjs.")
@click.option("--proof", "proof_path", type=click.Path(dir_okay=False, path_type=Path), default=Path("proof.json"),
              show_default=True, help="Where to write proof.json.")
@click.option("--public", "public_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("public.json"), show_default=True, help="Where to write public.json.")
@click.option("--save-witness", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the witness as a .wtns file.")
@click.option("--no-self-check", is_flag=True,
              help="Skip verifying the finished proof against the key's own verifying key before writing it "
                   "(about a millisecond; for benchmarks only).")
@click.option("--no-resident", is_flag=True,
              help="Prove in this process even when a resident prover (zkmargin prover start) runs.")
@_friendly
def prove_cmd(circuit: str | None, params: tuple[str, ...], model_path: Path | None, market_path: Path | None,
              portfolio_path: Path | None, salt_path: Path | None, threshold: str | None, context_path: Path | None,
              input_path: Path | None, wtns: Path | None, zkey: Path, proof_path: Path, public_path: Path,
              save_witness: Path | None, no_self_check: bool, opening_path: Path | None = None,
              root_path: Path | None = None, key_path: Path | None = None, no_resident: bool = False) -> None:
    """Prove a statement with the proving key --zkey, in one of three ways.

    \b
    Margin flow (a trader): the portfolio meets the venue's rule for this market
    data, threshold and context. The rule is evaluated first: a portfolio that
    fails is refused with the rule, the binding scenario or position and the
    shortfall, exit status 1, and no proof file is written.
    With --opening, --root and --key instead of --salt (venue-attested flow): an
    account under the venue's published root meets the rule, without saying which;
    the proof carries a nullifier (one per key and context).
    Circuit flow: the values in --input satisfy CIRCUIT (a built-in name or
    'package.module:ClassName'); a violated constraint is named by its scope path.
    Witness flow: a .wtns file (e.g. circom's) for the key's circuit.
    A resident prover of this build (zkmargin prover start) does the work when one
    runs: same files, messages and exit status, without the start-up cost.

    \b
    Examples:
      zkmargin prove --model examples/cross/model.json --market examples/cross/market.json \\
          --portfolio examples/cross/portfolio_pass.json --salt trader/salt.json \\
          --threshold 1000 --context venue/context.json --zkey venue/cross.zkey \\
          --proof trader/proof.json --public trader/public.json
      zkmargin prove --model examples/cross/model.json --market examples/cross/market.json \\
          --portfolio trader/portfolio.json --opening trader/opening.json --root venue/root.json \\
          --key trader.key --threshold 1000 --context venue/context.json --zkey venue/attested.zkey
      zkmargin prove cross-simple -p n_positions=2 -p n_assets=2 --input input.json --zkey build/cross.zkey
      zkmargin prove --witness circom.wtns --zkey circom.zkey
    """
    if not no_resident and (circuit is None or circuit in BUILTIN_CIRCUITS):
        from zkmargin.cli_prover import prove_in_resident

        rc = prove_in_resident(click.get_current_context())
        if rc is not None:
            raise click.exceptions.Exit(rc)
    from zkmargin.files import check_outputs
    from zkmargin.prover import PhaseTimings, prove
    from zkmargin.prover.backend import backend_name
    from zkmargin.serialize import write_proof, write_public_inputs, write_wtns

    check_outputs({"--proof": proof_path, "--public": public_path, "--save-witness": save_witness},
                  {"--model": model_path, "--market": market_path, "--portfolio": portfolio_path, "--salt": salt_path,
                   "--context": context_path, "--input": input_path, "--witness": wtns, "--zkey": zkey,
                   "--opening": opening_path, "--root": root_path, "--key": key_path})
    margin_opts = [model_path, market_path, portfolio_path, salt_path, threshold, context_path]
    attested_opts = {"--opening": opening_path, "--root": root_path, "--key": key_path}
    attested = any(o is not None for o in attested_opts.values())
    flows = [any(o is not None for o in margin_opts) or attested, circuit is not None, wtns is not None]
    if sum(flows) != 1:
        raise CliError("give exactly one of: the margin options (--model ...), CIRCUIT with --input, or --witness")
    cs = None
    t = time.perf_counter()
    report = None
    if flows[0] and attested:  # the venue-attested statement (zkmargin.cli_accounts)
        from zkmargin.cli_accounts import attested_witness

        if salt_path is not None:
            raise CliError("--salt is for the bilateral flow; the attested flow's salt is in --opening")
        need = {"--model": model_path, "--market": market_path, "--portfolio": portfolio_path, **attested_opts,
                "--threshold": threshold, "--context": context_path}
        missing = [n for n, o in need.items() if o is None]
        if missing:
            raise CliError(f"the attested flow also needs {', '.join(missing)}")
        assert model_path and market_path and portfolio_path and opening_path and root_path and key_path
        assert threshold and context_path
        cs, witness, report = attested_witness(model_path, market_path, portfolio_path, opening_path, root_path,
                                               key_path, threshold, context_path)
    elif flows[0]:
        names = ["--model", "--market", "--portfolio", "--salt", "--threshold", "--context"]
        missing = [n for n, o in zip(names, margin_opts, strict=True) if o is None]
        if missing:
            raise CliError(f"the margin flow also needs {', '.join(missing)}")
        assert model_path and market_path and portfolio_path and salt_path and threshold and context_path
        cs, witness, report = _margin_witness(model_path, market_path, portfolio_path, salt_path, threshold,
                                              context_path)
    elif circuit is not None:
        from zkmargin.circuits import build

        if input_path is None:
            raise CliError("CIRCUIT needs --input FILE.json with the field values")
        c = _instantiate(circuit, params, input_path)
        cs, witness = build(c)
    else:
        assert wtns is not None
        from zkmargin.cli_perf import read_witness_for_prove

        witness = read_witness_for_prove(wtns)  # mapped into an array for the numba prover
    t_wit = time.perf_counter() - t
    from zkmargin.cli_perf import read_zkey_for_prove

    pk = read_zkey_for_prove(zkey)  # mapped, vectorised validation (zkmargin.serialize._mmap)
    if cs is not None and (cs.n_wires != pk.n_wires or cs.n_public != pk.n_public):
        raise CliError(
            f"{zkey}: the key is for {pk.n_wires} wires / {pk.n_public} public inputs, the circuit has "
            f"{cs.n_wires} / {cs.n_public}: is it the key of this model / these parameters?"
        )
    from zkmargin.cli_perf import announce_compile

    announce_compile("prover")  # a first run on this machine compiles numba's kernels: say so
    tm = PhaseTimings()
    proof, public = prove(pk, witness, cs, timings=tm)
    if not no_self_check:
        _self_check(pk, public, proof, zkey, cs is not None)
    for p in (proof_path, public_path):
        p.parent.mkdir(parents=True, exist_ok=True)
    write_proof(proof, proof_path)
    write_public_inputs(public, public_path)
    if save_witness is not None:
        from zkmargin.cli_perf import witness_ints

        write_wtns(witness_ints(witness), save_witness)
    if report is not None:
        click.echo(f"passes: {report.explain()}")
    click.echo(f"proved in {time.perf_counter() - t:.2f}s ({backend_name()} backend; witness {t_wit:.2f}s, "
               + ", ".join(f"{k} {v:.2f}s" for k, v in tm.phases.items()) + ")")
    _echo_kv([("proof", proof_path), ("public inputs", public_path)])


def _self_check(pk: Any, public: list[int], proof: Any, zkey: Path, circuit_known: bool) -> None:
    """Verify the finished proof against the key's own verifying key; refuse (exit 1, no file) if it fails.

    A witness that does not satisfy the key's circuit (a flipped byte in a .wtns) gives a proof
    that cannot verify: it must never be written as if it were one.
    """
    from zkmargin.cli_perf import choose_verify_backend
    from zkmargin.verifier import verify

    choose_verify_backend(1)  # one proof: the pure-Python pairing, never a numba compilation
    t = time.perf_counter()
    ok = verify(pk.vk, public, proof)
    logging.getLogger(__name__).info("self-check %s in %.3fs", ok, time.perf_counter() - t)
    if not ok:
        why = ("the key does not belong to this circuit" if circuit_known
               else "the witness does not satisfy the key's circuit (check it with snarkjs wtns check), or the key "
                    "is not the circuit's")
        click.echo(f"refused: the proof does not verify against {zkey}'s own verifying key: {why}", err=True)
        click.echo("no proof was written", err=True)
        sys.exit(1)


def _margin_witness(model_path: Path, market_path: Path, portfolio_path: Path, salt_path: Path, threshold: str,
                    context_path: Path) -> tuple[Any, list[int], Any]:
    """Load and validate the documents, evaluate the rule natively, and solve the witness."""
    from zkmargin.circuits import build
    from zkmargin.circuits.margin import assignment_for
    from zkmargin.margin import evaluate, load_market, load_model, load_portfolio
    from zkmargin.margin.documents import load_context, load_salt

    model = load_model(model_path)
    market = load_market(market_path, model)
    portfolio = load_portfolio(portfolio_path, model)
    salt_model, salt = load_salt(salt_path)
    if salt_model != model.model_id:
        raise CliError(f"{salt_path}: model_id is {salt_model!r}, the model is {model.model_id!r}")
    ctx = load_context(context_path)
    if ctx.epoch != market.epoch or ctx.venue != market.venue:
        raise CliError(f"{context_path}: the context is for venue {ctx.venue!r} epoch {ctx.epoch}, the market data "
                       f"for venue {market.venue!r} epoch {market.epoch}")
    report = evaluate(model, market, portfolio, threshold)
    if not report.passes:
        click.echo(f"refused: {report.explain()}", err=True)
        click.echo("no proof was made: the portfolio does not meet the rule", err=True)
        sys.exit(1)
    with _Phase(f"solving the {model.margin_model} witness"):
        cs, witness = build(assignment_for(model, market, portfolio, salt, threshold, ctx.field_value()))
    return cs, witness, report


@main.command("verify")
@click.argument("vk_path", metavar="VERIFICATION_KEY", type=_path_in)
@click.argument("public_path", metavar="[PUBLIC", type=_path_in, required=False)
@click.argument("proof_path", metavar="PROOF]", type=_path_in, required=False)
@click.option("--batch", "batch_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Verify every proof in this folder at once (NAME.proof.json + NAME.public.json [+ "
                   "NAME.commitment.json, NAME.context.json], or NAME/ with proof.json + public.json [+ "
                   "commitment.json, context.json]); the ones not accepted are named.")
@click.option("--manifest", "manifest_path", type=_path_in,
              help="Verify the proofs a manifest lists, each with its own commitment / context / threshold "
                   "(a JSON file of kind verify_manifest; see the README).")
@click.option("--model", "model_path", type=_path_in, help="Venue check: the venue model (.json).")
@click.option("--market", "market_path", type=_path_in, help="Venue check: the venue's own market data (.json).")
@click.option("--commitment", "commitment_path", type=_path_in,
              help="Venue check: the account's commitment.json the venue holds (batch: for items without their own).")
@click.option("--threshold", help="Venue check: the threshold the venue requires (e.g. 1000, 1.30 or 1.05; "
                                 "initial+maintenance models: both, as 1000,500).")
@click.option("--context", "context_path", type=_path_in,
              help="Venue check: the context.json the venue issued (batch: for items without their own).")
@click.option("--root", "root_path", type=_path_in,
              help="Venue check of attested proofs: the root.json the venue published (instead of --commitment).")
@click.option("--pairing-only", is_flag=True,
              help="Check only the pairing for the public inputs the prover wrote, no statement: proves nothing "
                   "about which account, market, threshold or context (for generic circuits and debugging).")
@_friendly
def verify_cmd(vk_path: Path, public_path: Path | None, proof_path: Path | None, batch_dir: Path | None,
               manifest_path: Path | None, model_path: Path | None, market_path: Path | None,
               commitment_path: Path | None, threshold: str | None, context_path: Path | None,
               pairing_only: bool, root_path: Path | None = None) -> None:
    """Check PROOF (or a folder or manifest of proofs) against VERIFICATION_KEY and the venue's statement.

    With the venue-check options, each proof's public inputs are first compared with the ones the
    venue computes from its own files (commitment, market digest, threshold, context), and every
    one that differs is named: a proof is only meaningful for the statement the venue expects.
    A key made by `zkmargin setup MODEL.json` records its model: such a key is refused for another
    model, and without the venue options it is refused unless --pairing-only says so explicitly.

    With --batch DIR or --manifest FILE, all proofs are compared with their own statements (each
    trader's own commitment and context), then checked together with a random linear combination
    (one Miller loop per proof, one final exponentiation); the ones not accepted are named with
    the reason.

    Exit status 0: every proof valid for its statement. 1: a proof does not verify, or is about
    another statement, or the key is for another model. 2: malformed input (the message names the
    file and field: a point off the curve, a public input >= r, a missing option ...). Needs only
    the base install (py_ecc + click); with zkmargin[prover] the pairing runs in numba (about 1 ms a
    proof instead of 0.5 s).

    \b
    Examples:
      zkmargin verify venue/verification_key.json trader/public.json trader/proof.json \\
          --model examples/cross/model.json --market examples/cross/market.json \\
          --commitment trader/commitment.json --threshold 1000 --context venue/context.json
      zkmargin verify venue/verification_key.json --batch inbox/ --model examples/cross/model.json \\
          --market examples/cross/market.json --threshold 1000 --context venue/context.json
      zkmargin verify venue/verification_key.json --manifest inbox/manifest.json \\
          --model examples/cross/model.json --market examples/cross/market.json
      zkmargin verify venue/attested_vk.json trader/public.json trader/proof.json --root venue/tree42/root.json \\
          --model examples/cross/model.json --market examples/cross/market.json --threshold 1000 \\
          --context venue/context.json
      zkmargin verify build/verification_key.json build/public.json build/proof.json --pairing-only
    """
    from zkmargin.serialize import load_proof, load_public_inputs, load_verifying_key
    from zkmargin.verifier import verify

    sources = [public_path is not None or proof_path is not None, batch_dir is not None, manifest_path is not None]
    if sum(sources) != 1:
        raise CliError("give PUBLIC and PROOF, or --batch DIR, or --manifest FILE (exactly one)")
    if sources[0] and (public_path is None or proof_path is None):
        raise CliError("give both PUBLIC and PROOF")
    from zkmargin.cli_perf import choose_verify_backend

    choose_verify_backend(1 if sources[0] else 2)  # never waits for numba (zkmargin.cli_perf)
    venue_opts = {"--model": model_path, "--market": market_path, "--commitment": commitment_path,
                  "--threshold": threshold, "--context": context_path}
    given = [k for k, v in venue_opts.items() if v is not None]
    if pairing_only and (given or root_path is not None):
        raise CliError(f"--pairing-only checks no statement: it cannot be combined with "
                       f"{', '.join(given + (['--root'] if root_path is not None else []))}")
    vk = load_verifying_key(vk_path)
    if root_path is not None:  # the venue-attested statement (zkmargin.cli_accounts)
        from zkmargin.cli_accounts import verify_attested

        if commitment_path is not None:
            raise CliError("--root checks attested proofs, which carry no commitment: drop --commitment")
        verify_attested(vk, public_path, proof_path, batch_dir, manifest_path, model_path, market_path, root_path,
                        threshold, context_path)
        return
    t = time.perf_counter()
    if not given and not manifest_path:
        if vk.statement and not pairing_only:
            raise CliError(
                f"{vk_path}: this key is for the {vk.statement['kind']} statement of model "
                f"{vk.statement['model_id']!r}; a proof means something only against the statement the venue "
                "expects: give --model, --market, --commitment, --threshold and --context (or --pairing-only to "
                "check the pairing alone)")
        if batch_dir is not None:
            from zkmargin.verifier import verify_batch_files

            res = verify_batch_files(vk_path, batch_dir)
            dt = time.perf_counter() - t
            if res.ok:
                click.echo(f"OK (pairing only, no statement checked): all {res.n} proofs in {batch_dir} verify for "
                           f"the public inputs their provers wrote ({dt:.2f}s, {res.n / dt:,.0f} proofs/s)")
                return
            click.echo(f"INVALID: {len(res.bad)} of {res.n} proofs do not verify: {', '.join(res.bad_labels)} "
                       f"({dt:.2f}s, {res.checks} checks)")
            sys.exit(1)
        assert public_path is not None and proof_path is not None
        public = load_public_inputs(public_path)
        ok = verify(vk, public, load_proof(proof_path))
        dt = time.perf_counter() - t
        if ok:
            click.echo(f"OK (pairing only, no statement checked): the proof is valid for the {len(public)} public "
                       f"inputs in {public_path} ({dt:.2f}s)")
            return
        click.echo(f"INVALID: the proof does not verify for these public inputs ({dt:.2f}s)")
        sys.exit(1)

    from zkmargin.margin import load_market, load_model
    from zkmargin.verifier.venue import MarginItem, check_margin_proof, check_margin_proofs

    missing = [k for k in ("--model", "--market") if venue_opts[k] is None]
    if missing:
        raise CliError(f"the venue check also needs {', '.join(missing)}")
    assert model_path is not None and market_path is not None
    model = load_model(model_path)
    market = load_market(market_path, model)
    if sources[0]:
        missing = [k for k, v in venue_opts.items() if v is None]
        if missing:
            raise CliError(f"the venue check also needs {', '.join(missing)}")
        expected = _expected_for(model, market, commitment_path, threshold, context_path, "")
        assert public_path is not None and proof_path is not None
        verdict = check_margin_proof(vk, load_public_inputs(public_path), load_proof(proof_path), expected)
        dt = time.perf_counter() - t
        if verdict.ok:
            click.echo(f"OK: {verdict.explain()} ({dt:.2f}s)")
            return
        click.echo(f"INVALID: {verdict.explain()} ({dt:.2f}s)")
        sys.exit(1)

    from zkmargin.verifier.venue_files import entries_from_folder, entries_from_manifest

    entries = entries_from_folder(batch_dir) if batch_dir is not None else entries_from_manifest(manifest_path)  # type: ignore[arg-type]
    defaults = {"commitment": commitment_path, "context": context_path, "threshold": threshold}
    used = dict.fromkeys(defaults, False)
    items = []
    for e in entries:
        own = {}
        for key, default in defaults.items():
            value = e.own.get(key, default)
            if value is None:
                raise CliError(f"{e.label}: no {key} for this proof: give --{key} or the item's own "
                               f"{'file' if key != 'threshold' else 'threshold'} ({e.proof.parent})")
            used[key] = used[key] or key not in e.own
            own[key] = value
        expected = _expected_for(model, market, own["commitment"], own["threshold"], own["context"], e.label)
        items.append(MarginItem(load_public_inputs(e.public), load_proof(e.proof), expected, e.label))
    unused = [f"--{k}" for k, v in defaults.items() if v is not None and not used[k]]
    if unused:
        raise CliError(f"{', '.join(unused)} given, but every proof has its own: the option would be ignored; drop it")
    res = check_margin_proofs(vk, items)
    dt = time.perf_counter() - t
    where = batch_dir if batch_dir is not None else manifest_path
    if res.ok:
        click.echo(f"OK: all {res.n} proofs in {where} are valid, each for its own statement (model "
                   f"{model.model_id}, market epoch {market.epoch}) ({dt:.2f}s, {res.checks} pairing checks)")
        return
    click.echo(f"INVALID: {len(res.bad)} of {res.n} proofs in {where} are not accepted ({dt:.2f}s):")
    for line in res.explain_bad():
        click.echo(f"  {line}")
    sys.exit(1)


def _expected_for(model: Any, market: Any, commitment: Any, threshold: Any, context: Any, label: str) -> Any:
    """The venue's expected statement from its files: the commitment and context documents, the threshold."""
    from zkmargin.margin.documents import load_commitment, load_context
    from zkmargin.verifier.venue import expected_statement

    c_model, c = load_commitment(commitment)
    if c_model != model.model_id:
        raise CliError(f"{commitment}: model_id is {c_model!r}, the model is {model.model_id!r}")
    return expected_statement(model, market, c, threshold, load_context(context), label=label)


@main.group("export")
def export_group() -> None:
    """Export for on-chain verification: a Solidity verifier, or calldata for one proof."""


@export_group.command("solidity")
@click.argument("vk_path", metavar="VERIFICATION_KEY", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("Verifier.sol"),
              show_default=True, help="Where to write the contract.")
@click.option("--contract-name", default="Groth16Verifier", show_default=True, help="The contract's name.")
@_friendly
def export_solidity_cmd(vk_path: Path, output: Path, contract_name: str) -> None:
    """Write a Solidity verifier for VERIFICATION_KEY (EIP-196/197 precompiles).

    The contract's verifyProof(uint[2] _pA, uint[2][2] _pB, uint[2] _pC, uint[N] _pubSignals)
    has snarkjs's ABI; it returns true for a valid proof, false for a well-formed proof that fails,
    and reverts on malformed input (a public input >= r, a point the precompiles reject).

    \b
    Example:
      zkmargin export solidity build/verification_key.json -o Verifier.sol
      zkmargin export calldata build/proof.json build/public.json
    """
    from zkmargin.serialize import load_verifying_key
    from zkmargin.serialize._io import atomic_write_text
    from zkmargin.verifier.solidity import export_solidity

    vk = load_verifying_key(vk_path)
    if not contract_name.isidentifier():
        raise CliError(f"--contract-name {contract_name!r}: not a valid Solidity identifier")
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output, export_solidity(vk, contract_name=contract_name))
    click.echo(f"wrote {output}: contract {contract_name}, {vk.n_public} public inputs")


@export_group.command("calldata")
@click.argument("proof_path", metavar="PROOF", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("public_path", metavar="PUBLIC", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_friendly
def export_calldata_cmd(proof_path: Path, public_path: Path) -> None:
    """Print the verifyProof arguments for PROOF and PUBLIC, as snarkjs prints them.

    Note the G2 point: calldata orders each Fq2 coordinate imaginary part first, while
    proof.json writes the real part first; this command does the swap.

    \b
    Example:
      zkmargin export calldata build/proof.json build/public.json
    """
    from zkmargin.serialize import load_proof, load_public_inputs
    from zkmargin.verifier.solidity import export_calldata

    click.echo(export_calldata(load_proof(proof_path), load_public_inputs(public_path)))


from zkmargin import cli_accounts as _cli_accounts  # noqa: E402,F401  (registers key, accounts, export gate)
from zkmargin import cli_ceremony as _cli_ceremony  # noqa: E402,F401  (registers ptau and zkey)
from zkmargin import cli_perf as _cli_perf  # noqa: E402,F401  (registers warmup and bench)
from zkmargin import cli_prover as _cli_prover  # noqa: E402,F401  (registers prover start/stop/status)
from zkmargin import cli_service as _cli_service  # noqa: E402,F401  (registers serve and ledger)

if __name__ == "__main__":  # pragma: no cover
    main()
