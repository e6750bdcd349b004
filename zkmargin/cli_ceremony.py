"""``zkmargin ptau ...`` and ``zkmargin zkey ...``: the production trusted setup (a ceremony).

Registered by one import at the bottom of ``zkmargin.cli``. The heavy modules (numba, the
kernels) are imported inside the commands. Files are snarkjs 0.7.6's, so a ceremony may mix
zkmargin and snarkjs participants freely. Exit status: 0 success, 1 an invalid key (``zkey
verify``), 2 a usage or file error.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from zkmargin.cli import CliError, _echo_kv, _friendly, _Phase, main

__all__ = ["ptau_group", "zkey_group", "setup_from_ptau_cli"]

_path_in = click.Path(exists=True, dir_okay=False, path_type=Path)
_path_out = click.Path(dir_okay=False, path_type=Path)


class _Bar:
    """A progress bar on stderr for ``Progress`` callbacks: label, bar, percent, elapsed time."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.t0 = time.perf_counter()
        self.last = -1
        self.tty = sys.stderr.isatty()

    def __call__(self, label: str, done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 100
        step = 1 if self.tty else 10
        if pct // step == self.last // step and pct < 100:
            return
        self.last = pct
        width = 30
        fill = width * pct // 100
        secs = time.perf_counter() - self.t0
        line = f"  {self.title} [{'#' * fill}{'.' * (width - fill)}] {pct:3d}% {secs:6.1f}s  {label}"
        if self.tty:
            click.echo("\r" + line.ljust(100), err=True, nl=pct >= 100)
        else:
            click.echo(line, err=True)

    def close(self) -> None:
        if self.tty and self.last < 100:
            click.echo("", err=True)


def _check_out(out: Path, force: bool, *inputs: Path) -> None:
    for p in inputs:
        if out.resolve() == p.resolve():
            raise CliError(f"{out}: the output would overwrite an input; choose another file")
    if out.exists() and not force:
        raise CliError(f"{out}: exists; refusing to overwrite it (use --force)")
    out.parent.mkdir(parents=True, exist_ok=True)


_force_opt = click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")


def _as_written(cs: Any) -> Any:
    """``cs`` as its .r1cs file holds it (terms sorted by wire): the ceremony's key and csHash are
    then the ones snarkjs computes from ``zkmargin compile``'s output."""
    from zkmargin.serialize import r1cs_to_bytes, read_r1cs

    return read_r1cs(r1cs_to_bytes(cs), name="compiled circuit")


def _load_circuit(path: Path) -> Any:
    """A constraint system from a venue model (.json, compiled) or a .r1cs file."""
    from zkmargin.serialize import read_r1cs

    if path.suffix.lower() == ".json":
        from zkmargin.circuits import compile_circuit
        from zkmargin.circuits.margin import circuit_for
        from zkmargin.margin import load_model

        model = load_model(path)
        with _Phase(f"compiling the {model.margin_model} circuit of {model.model_id}"):
            return _as_written(compile_circuit(circuit_for(model)))
    return read_r1cs(path)


def setup_from_ptau_cli(cs: Any, ptau: Path) -> tuple[Any, Any, Any]:
    """``zkmargin setup --ptau``: the initial phase-2 key (pk, vk, section 10) with a progress bar."""
    from zkmargin.prover import ceremony
    from zkmargin.serialize import ZkeyMpcParams

    click.echo(f"production setup from {ptau}: the initial key of a phase-2 ceremony (as snarkjs groth16 setup); "
               "add contributions with zkmargin zkey contribute and a final zkey beacon", err=True)
    bar = _Bar("setup")
    key = ceremony.setup_from_ptau(_as_written(cs), ptau, progress=bar)
    bar.close()
    click.echo("circuit hash:", err=True)
    click.echo(ceremony.format_hash(key.cs_hash), err=True)
    if key.snarkjs_hash_quirk:
        click.echo(f"warning: the circuit's domain equals {ptau}'s power (>= 2^15): snarkjs 0.7.6 computes this "
                   "circuit hash from bytes past the ptau's tauG1 section, so snarkjs will not accept this key's "
                   "hash; for a ceremony shared with snarkjs use a ptau of one power more", err=True)
    return key.pk, key.vk, ZkeyMpcParams(cs_hash=key.cs_hash)


# --- ptau ------------------------------------------------------------------------------------------

@main.group("ptau")
def ptau_group() -> None:
    """Powers-of-tau files (.ptau, snarkjs format): phase 1 of a ceremony."""


@ptau_group.command("prepare")
@click.argument("src", metavar="IN", type=_path_in)
@click.argument("dst", metavar="OUT", type=_path_out)
@_force_opt
@_friendly
def ptau_prepare_cmd(src: Path, dst: Path, force: bool) -> None:
    """Add the Lagrange-basis sections to a powers-of-tau file (snarkjs: powersoftau prepare phase2).

    Every point of IN is checked (on its curve, G2 points in G2). OUT is byte-identical to
    snarkjs's output. Not needed for zkmargin setup --ptau, which computes the Lagrange points
    it needs from an unprepared file, but snarkjs's groth16 setup requires it.

    \b
    Example:
      zkmargin ptau prepare pot16_final.ptau pot16_prepared.ptau
    """
    from zkmargin.prover import ceremony

    _check_out(dst, force, src)
    t = time.perf_counter()
    bar = _Bar("prepare")
    out = ceremony.prepare_phase2(src, dst, progress=bar)
    bar.close()
    click.echo(f"prepared {src} -> {dst} in {time.perf_counter() - t:.2f}s")
    _echo_kv([("power", out.power), ("contributions", len(out.contributions))])


@ptau_group.command("info")
@click.argument("src", metavar="PTAU", type=_path_in)
@_friendly
def ptau_info_cmd(src: Path) -> None:
    """Print a .ptau file's power, whether it is prepared, and its phase-1 contributions."""
    from zkmargin.serialize.ptau_file import read_ptau

    p = read_ptau(src)
    _echo_kv([("power", p.power), ("ceremony power", p.ceremony_power), ("prepared", p.prepared),
              ("contributions", len(p.contributions))])
    for i, c in enumerate(p.contributions, 1):
        kind = "beacon" if c.type == 1 else "contribution"
        click.echo(f"  #{i} {kind} {c.name or ''}")


# --- zkey ------------------------------------------------------------------------------------------

@main.group("zkey")
def zkey_group() -> None:
    """Phase-2 ceremony on a proving key (.zkey, snarkjs format): contribute, beacon, verify, export."""


def _print_contribution(info: Any, cs_hash: bytes | None = None) -> None:
    from zkmargin.prover.ceremony import format_hash

    if cs_hash is not None:
        click.echo("circuit hash:")
        click.echo(format_hash(cs_hash))
    kind = "beacon" if info.type == 1 else "contribution"
    click.echo(f"{kind} #{info.index}{' ' + info.name if info.name else ''} hash:")
    click.echo(format_hash(info.hash))


@zkey_group.command("contribute")
@click.argument("src", metavar="IN", type=_path_in)
@click.argument("dst", metavar="OUT", type=_path_out)
@click.option("-n", "--name", default=None, help="Your name or handle, recorded in the transcript (64 chars).")
@click.option("-e", "--entropy", default="", help="Extra random text, mixed with 64 bytes of OS randomness.")
@_force_opt
@_friendly
def zkey_contribute_cmd(src: Path, dst: Path, name: str | None, entropy: str, force: bool) -> None:
    """Add your phase-2 contribution to IN, writing OUT (snarkjs: zkey contribute).

    Your secret comes from the OS's random generator mixed with --entropy; it multiplies delta and
    divides the L and H points, and is forgotten: nothing writes it. Publish the printed hash so
    anyone can find your contribution in the final transcript (zkmargin zkey verify lists them).

    \b
    Example:
      zkmargin zkey contribute cross_0000.zkey cross_0001.zkey --name alice --entropy "$(head -c32 /dev/urandom|base64)"
    """
    from zkmargin.prover import ceremony

    _check_out(dst, force, src)
    t = time.perf_counter()
    bar = _Bar("contribute")
    info = ceremony.contribute(src, dst, name=name, entropy=entropy, progress=bar)
    bar.close()
    click.echo(f"contributed {src} -> {dst} in {time.perf_counter() - t:.2f}s")
    _print_contribution(info)


@zkey_group.command("beacon")
@click.argument("src", metavar="IN", type=_path_in)
@click.argument("dst", metavar="OUT", type=_path_out)
@click.argument("beacon_hash", metavar="HEX")
@click.argument("iterations", metavar="ITERATIONS", type=int)
@click.option("-n", "--name", default=None, help="A name recorded with the beacon.")
@_force_opt
@_friendly
def zkey_beacon_cmd(src: Path, dst: Path, beacon_hash: str, iterations: int, name: str | None, force: bool) -> None:
    """Apply a random beacon to IN, writing OUT (snarkjs: zkey beacon).

    HEX is a public random value fixed after the last contribution (e.g. a future block hash);
    the secret is SHA-256 iterated 2^ITERATIONS times over it (ITERATIONS in 10..63), so anyone
    can recompute it. The result is byte-identical to snarkjs's.

    \b
    Example:
      zkmargin zkey beacon cross_0003.zkey cross_final.zkey 0102...1f20 10 --name "block 19000000"
    """
    from zkmargin.prover import ceremony

    _check_out(dst, force, src)
    try:
        bytes.fromhex(beacon_hash[2:] if beacon_hash.startswith("0x") else beacon_hash)
    except ValueError as e:
        raise CliError(f"HEX {beacon_hash!r} is not a hexadecimal byte string") from e
    if not 10 <= iterations <= 63:
        raise CliError(f"ITERATIONS {iterations} is outside 10..63")
    t = time.perf_counter()
    bar = _Bar("beacon")
    info = ceremony.beacon(src, dst, beacon_hash, iterations, name=name, progress=bar)
    bar.close()
    click.echo(f"beacon applied {src} -> {dst} in {time.perf_counter() - t:.2f}s")
    _print_contribution(info)


@zkey_group.command("verify")
@click.argument("circuit", metavar="CIRCUIT", type=_path_in)
@click.argument("ptau", metavar="PTAU", type=_path_in)
@click.argument("zkey", metavar="ZKEY", type=_path_in)
@_friendly
def zkey_verify_cmd(circuit: Path, ptau: Path, zkey: Path) -> None:
    """Verify ZKEY's whole ceremony against CIRCUIT (.r1cs or a venue model .json) and PTAU.

    Recomputes the initial key from the circuit and the ptau, then checks every contribution's
    proof of knowledge and chaining, beacons, and that the key's points are the initial ones with
    delta applied (snarkjs: zkey verify). Exit 0 if valid, 1 with the reason if not.

    \b
    Example:
      zkmargin zkey verify build/cross.r1cs pot16_final.ptau cross_final.zkey
    """
    from zkmargin.prover import ceremony

    cs = _load_circuit(circuit)
    t = time.perf_counter()
    bar = _Bar("initial key")
    res = ceremony.verify_zkey(cs, ptau, zkey, progress=bar)
    bar.close()
    click.echo("circuit hash:")
    click.echo(ceremony.format_hash(res.cs_hash))
    for c in res.contributions:
        _print_contribution(c)
        if c.type == 1 and c.beacon_hash is not None:
            click.echo(f"  beacon generator {c.beacon_hash.hex()}, iterations exp {c.num_iterations_exp}")
    if not res.ok:
        click.echo(f"INVALID: {res.reason}", err=True)
        raise SystemExit(1)
    click.echo(f"ZKey OK: {len(res.contributions)} contribution(s) verified in {time.perf_counter() - t:.2f}s")


@zkey_group.group("export")
def zkey_export_group() -> None:
    """Export parts of a .zkey."""


@zkey_export_group.command("vk")
@click.argument("zkey", metavar="ZKEY", type=_path_in)
@click.argument("out", metavar="OUT", type=_path_out)
@_friendly
def zkey_export_vk_cmd(zkey: Path, out: Path) -> None:
    """Write ZKEY's verifying key as verification_key.json (snarkjs: zkey export verificationkey).

    \b
    Example:
      zkmargin zkey export vk cross_final.zkey venue/verification_key.json
    """
    from zkmargin.prover.ceremony import export_verifying_key
    from zkmargin.serialize import write_verifying_key

    vk = export_verifying_key(zkey)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_verifying_key(vk, out)
    click.echo(f"wrote {out}: {vk.n_public} public inputs")
