"""Start-up performance on the command line: ``zkmargin warmup`` and the choices that keep a first run short.

Registered on :data:`zkmargin.cli.main` by one import line at the bottom of ``zkmargin/cli.py``; also
``zkmargin bench`` (its library is ``zkmargin.benchmarks``, imported only when it runs).

numba compiles a kernel the first time a process calls it and keeps the machine code in its on-disk
cache (``cache=True``; ``NUMBA_CACHE_DIR`` or ``__pycache__`` next to the sources). On a fresh
machine that first compilation takes a minute or more, so:

- ``zkmargin warmup`` compiles, once per machine and visibly, the kernels the flows need: the
  prover's (development setup, proving from a .zkey and a witness) in one process and the pairing's
  (batch verification, the service) in another, side by side on two cores, by running those flows
  on a tiny circuit. The README's set-up (scripts/_env.sh) runs it.
- A ``zkmargin setup`` or ``zkmargin prove`` that finds the prover's kernels missing from the cache
  says so on stderr before it compiles them (:func:`announce_compile`).
- ``zkmargin verify`` never waits for numba: a single proof is checked with the pure-Python pairing
  (tens of milliseconds, less than importing numba and loading its cached kernels would take), and
  a batch uses the numba pairing only when its kernels are already compiled; otherwise it says on
  stderr that it falls back to the pure-Python pairing (:func:`choose_verify_backend`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zkmargin._warm import PARTS, cache_dir, kernels_cached
from zkmargin.cli import CliError, _friendly, main

__all__ = ["warmup_cmd", "announce_compile", "choose_verify_backend", "read_zkey_for_prove", "read_witness_for_prove",
           "witness_ints", "bench_cmd"]

def announce_compile(part: str) -> None:
    """On stderr, before a first compilation: what is happening and that it happens once.

    Called by ``zkmargin setup`` and ``zkmargin prove`` with the fast prover active.
    """
    if kernels_cached(part):
        return
    what = "the development setup's" if part == "setup" else "the prover's"
    click.echo(f"  compiling {what} kernels once for this machine (numba; a minute or more, cached in "
               f"{cache_dir()}; `zkmargin warmup` does this ahead of time) ...", err=True)


def choose_verify_backend(n_proofs_hint: int) -> str:
    """Pick the pairing for this ``zkmargin verify`` process (unless ZKMARGIN_VERIFY_BACKEND is set).

    One proof: the pure-Python pairing (no numba import: faster end to end than loading numba and
    its cached kernels). Several: the numba pairing when its kernels are compiled, else the
    pure-Python pairing, with a note on stderr. Returns the backend's name.
    """
    chosen = os.environ.get("ZKMARGIN_VERIFY_BACKEND", "").strip().lower()
    if chosen and chosen != "auto":
        return chosen
    import importlib.util

    if n_proofs_hint <= 1 or importlib.util.find_spec("numba") is None:
        backend = "pure"
    elif kernels_cached("verifier"):
        backend = "auto"
    else:
        backend = "pure"
        click.echo("  numba's pairing kernels are not compiled on this machine yet: verifying with the "
                   "pure-Python pairing (`zkmargin warmup` compiles them once)", err=True)
    _set_verify_backend(backend)
    return backend


def _set_verify_backend(backend: str) -> None:
    """ZKMARGIN_VERIFY_BACKEND for the rest of this command; the previous value comes back when the
    command's click context closes (tests run commands in-process)."""
    from zkmargin.verifier import groth16_verify

    before = os.environ.get("ZKMARGIN_VERIFY_BACKEND")
    os.environ["ZKMARGIN_VERIFY_BACKEND"] = backend
    groth16_verify.fast_backend.cache_clear()

    def restore() -> None:
        if before is None:
            os.environ.pop("ZKMARGIN_VERIFY_BACKEND", None)
        else:
            os.environ["ZKMARGIN_VERIFY_BACKEND"] = before
        groth16_verify.fast_backend.cache_clear()

    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.find_root().call_on_close(restore)


# --- reading a proving key and a witness for zkmargin prove -----------------------------------------


#: Set by the resident prover (zkmargin.prover.resident.KeyCache): called as ``zkey_cache(path, reader)``, it
#: returns the parsed key it keeps for an unchanged file, else reads it with ``reader``.
zkey_cache: Callable[[Path, Callable[[Path], Any]], Any] | None = None


def read_zkey_for_prove(path: Path) -> Any:
    """The proving key as the prover needs it: memory-mapped with vectorised validation when the numba
    prover runs (zkmargin.serialize._mmap), else the structured reader's encoded sections; through
    :data:`zkey_cache` when one is set."""
    if zkey_cache is not None:
        return zkey_cache(path, _read_zkey)
    return _read_zkey(path)


def _read_zkey(path: Path) -> Any:
    from zkmargin.prover.backend import fast_available

    if fast_available():
        from zkmargin.serialize._mmap import read_zkey_mapped

        return read_zkey_mapped(path)
    from zkmargin.serialize import read_zkey

    return read_zkey(path, keep_encoded=True)


def read_witness_for_prove(path: Path) -> Any:
    """A .wtns file's witness: an (n, 4) limb array, mapped and validated in one pass, for the numba
    prover; a list of ints otherwise."""
    from zkmargin.prover.backend import fast_available

    if fast_available():
        from zkmargin.serialize._mmap import read_wtns_array

        return read_wtns_array(path)
    from zkmargin.serialize import read_wtns

    return read_wtns(path)


def witness_ints(witness: Any) -> list[int]:
    """A witness as ints, whether it is a list or a limb array from :func:`read_witness_for_prove`."""
    if isinstance(witness, list):
        return witness
    b = witness.astype("<u8").tobytes()
    return [int.from_bytes(b[k: k + 32], "little") for k in range(0, len(b), 32)]


# --- the command -----------------------------------------------------------------------------------


class _PartProcess:
    """One warm-up part in a subprocess; its progress lines are echoed as they arrive."""

    def __init__(self, part: str, echo: Callable[[str], None]) -> None:
        self.part = part
        self.t0 = time.perf_counter()
        env = dict(os.environ, PYTHONSAFEPATH="1")
        import subprocess  # (here: every command imports this module; subprocess costs ~15 ms)

        self.proc = subprocess.Popen([sys.executable, "-P", "-m", "zkmargin._warm", part],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.tail: list[str] = []
        self.imported = threading.Event()
        self.thread = threading.Thread(target=self._pump, args=(echo,), daemon=True)
        self.thread.start()

    def _pump(self, echo: Callable[[str], None]) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("@@step "):
                _, part, name = line.split(" ", 2)
                if name != "import":
                    echo(f"  [{part}] {name} ...")
            elif line.startswith("@@done "):
                _, part, rest = line.split(" ", 2)
                name, secs = rest.rsplit(" ", 1)
                if name == "import":
                    self.imported.set()
                else:
                    echo(f"  [{part}] {name} done in {float(secs):.1f}s")
            else:
                self.tail = (self.tail + [line])[-20:]
        self.imported.set()

    def wait(self) -> int:
        rc = self.proc.wait()
        self.thread.join()
        return rc


@main.command("warmup")
@click.option("--part", "parts", type=click.Choice(PARTS), multiple=True,
              help="Compile only this part (repeatable; default: all).")
@click.option("--force", is_flag=True, help="Compile again even when numba's cache already has the kernels.")
@_friendly
def warmup_cmd(parts: tuple[str, ...], force: bool) -> None:
    """Compile the numba kernels once for this machine (the prover's and the pairing's).

    numba compiles each kernel the first time a process uses it (a minute or more in all) and keeps
    the machine code in its on-disk cache, so this is needed once per machine (again after an
    upgrade of zkmargin or numba). The prover's kernels and the pairing's compile in two processes
    side by side; progress is printed as each step ends. Without it, the first `zkmargin setup` or
    `zkmargin prove` compiles what it needs (and says so), and `zkmargin verify` uses the
    pure-Python pairing.

    \b
    Examples:
      zkmargin warmup                 # both parts, once per machine
      zkmargin warmup --part prover   # a trader's machine that never batch-verifies
      NUMBA_CACHE_DIR=/opt/zkmargin-cache zkmargin warmup
    """
    import importlib.util

    if importlib.util.find_spec("numba") is None:
        raise CliError("nothing to compile: the numba kernels come with zkmargin[prover] "
                       "(pip install 'zkmargin[prover]'); verification runs without them")
    if os.environ.get("NUMBA_DISABLE_JIT", "0").strip() not in ("", "0"):
        click.echo("NUMBA_DISABLE_JIT is set: nothing is compiled")
        return
    todo = list(parts or PARTS)
    t0 = time.perf_counter()
    _compile_bytecode()
    # Each check imports its part's kernel modules once, which settles their cache markers
    # (_numba_field.refresh_stale_caches: a stale marker flushes its own module's kernels only).
    have = [part for part in ("verifier", "prover") if part in todo and _part_cached_subprocess(part)]
    if not force:
        for part in have:
            click.echo(f"  [{part}] already compiled (numba cache: {cache_dir()})")
        todo = [part for part in todo if part not in have]
    if not todo:
        click.echo("warm: every kernel is in numba's cache")
        return
    click.echo(f"compiling zkmargin's numba kernels ({', '.join(todo)}): once per machine, cached in {cache_dir()}",
               err=True)
    lock = threading.Lock()

    def echo(line: str) -> None:
        with lock:
            click.echo(f"{line}  [{time.perf_counter() - t0:.0f}s]", err=True)

    procs: list[_PartProcess] = []
    for p in todo:
        procs.append(_PartProcess(p, echo))
        # the second process starts once the first has imported its kernels: both may settle the shared
        # field module's cache marker at import (refresh_stale_caches), never at the same moment
        procs[-1].imported.wait(timeout=120)
    failed = []
    for pp in procs:
        if pp.wait() != 0:
            failed.append(pp)
    if failed:
        for pp in failed:
            click.echo(f"  [{pp.part}] failed:\n    " + "\n    ".join(pp.tail), err=True)
        raise CliError(f"warm-up of {', '.join(pp.part for pp in failed)} failed (see above)")
    click.echo(f"warm: compiled {', '.join(todo)} in {time.perf_counter() - t0:.1f}s; later runs load the kernels "
               "from numba's cache")


# --- zkmargin bench (the library: zkmargin.benchmarks) ------------------------------------------------

_BENCH_HELP = """Measure the prover over circuit sizes and margin models, with tables and plots.

\b
Cases, each built, set up (development keys) and written as .zkey/.wtns
by a worker process, then proved --repeat times after a warm-up proof:
  synthetic circuits of exactly 2^K - 2 constraints (--sizes K,...);
  the margin models (--models) at portfolio sizes: --positions P,...
  positions (assets for health), --scenarios S (scenario), --assets A,
  with a random passing portfolio from the test suite's generator.
Per case: constraints, setup seconds, seconds per prover phase (witness,
ntt, msm_g1, msm_g2, assemble), prove from a loaded key, read + prove
from the files (what snarkjs's groth16.prove does), peak RSS, proof size,
snarkjs's time on the same files (rounds interleaved) when it is found or
--snarkjs, and the load average before/after (the machine may be shared).
Every proof is verified. --out DIR receives bench.csv, bench.md,
bench.json and, with matplotlib (zkmargin[bench]), time_vs_size.png,
constraints_vs_size.png, phases.png and vs_snarkjs.png.

\b
Examples:
  zkmargin bench                                   # 2^10..2^16 and every model at 2, 8 positions
  zkmargin bench --sizes none --models scenario --positions 4,16,64 --scenarios 16 --assets 8
  zkmargin bench --sizes 16 --models none --repeat 7 --cold
  zkmargin bench --sizes 18,20 --models none --repeat 3 --out sweep/
"""


def _int_list(text: str, opt: str) -> list[int]:
    if text.strip().lower() in ("", "none"):
        return []
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise CliError(f"{opt} {text!r}: expected comma-separated integers, e.g. 10,12,14") from None


@main.command("bench", help=_BENCH_HELP, short_help="Measure the prover over sizes and margin models (tables, plots).")
@click.option("--sizes", default="10,12,14,16", show_default=True,
              help="Synthetic circuits: comma-separated K for 2^K - 2 constraints (K from 5 to 22), or none.")
@click.option("--models", default="cross,isolated,scenario,health,tiered", show_default=True,
              help="Margin models to sweep (comma-separated), or none.")
@click.option("--positions", default="2,8", show_default=True,
              help="Portfolio sizes of the model sweep: positions (assets for the health model).")
@click.option("--scenarios", default=16, show_default=True, type=click.IntRange(1),
              help="Scenarios of the scenario model.")
@click.option("--assets", default=2, show_default=True, type=click.IntRange(1), help="Collateral assets.")
@click.option("--repeat", default=5, show_default=True, type=click.IntRange(1), help="Timed proofs per case.")
@click.option("--snarkjs/--no-snarkjs", default=None, help="Time snarkjs too (default: when it is found).")
@click.option("--cold", is_flag=True, help="Also a cold start (empty numba cache) on the first case.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the keys and witnesses here (default: a temporary folder, removed).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("bench-out"),
              show_default=True, help="Where bench.csv, bench.md, bench.json and the PNG plots go.")
@click.option("--no-plots", is_flag=True, help="Tables only (no matplotlib).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the rows as JSON here.")
@_friendly
def bench_cmd(sizes: str, models: str, positions: str, scenarios: int, assets: int, repeat: int,
              snarkjs: bool | None, cold: bool, workdir: Path | None, out_dir: Path, no_plots: bool,
              json_path: Path | None) -> None:
    import json

    from zkmargin.benchmarks.margin_cases import MODELS, sweep_cases
    from zkmargin.benchmarks.prover_bench import find_snarkjs, format_table, run_bench
    from zkmargin.benchmarks.report import write_reports
    from zkmargin.serialize._io import atomic_write_text

    ks = _int_list(sizes, "--sizes")
    if any(not 5 <= k <= 22 for k in ks):
        raise CliError(f"--sizes {sizes!r}: each K must lie in 5..22")
    chosen = [] if models.strip().lower() in ("", "none") else [m.strip() for m in models.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in MODELS]
    if unknown:
        raise CliError(f"--models: unknown model {unknown[0]!r}; expected some of {', '.join(MODELS)}, or none")
    ps = _int_list(positions, "--positions")
    if chosen and (not ps or min(ps) < 1):
        raise CliError(f"--positions {positions!r}: give at least one count, each >= 1")
    cases = sweep_cases(chosen, ps, scenarios=scenarios, assets=assets) if chosen else []
    if not ks and not cases:
        raise CliError("nothing to measure: give --sizes or --models")
    use = (find_snarkjs() is not None) if snarkjs is None else snarkjs
    t0 = time.perf_counter()
    rows = run_bench(ks, snarkjs=use, repeat=repeat, out=click.echo, cases=cases, cold_start=cold, workdir=workdir,
                     progress=lambda m: click.echo(f"  .. [{time.perf_counter() - t0:.0f}s] {m}", err=True))
    click.echo(format_table(rows))
    paths, note = write_reports(rows, out_dir, plots=not no_plots)
    if note:
        click.echo(note, err=True)
    if json_path is not None:
        atomic_write_text(json_path, json.dumps([r.to_dict() for r in rows], indent=1) + "\n")
        paths.append(json_path)
    click.echo("wrote " + ", ".join(str(p) for p in paths))


def _compile_bytecode() -> None:
    """Write the bytecode (.pyc) of zkmargin's packages, once, like a regular (non-editable) install.

    Python compiles a module's source on every import when no up-to-date .pyc exists, which is the
    case in an environment with ``PYTHONDONTWRITEBYTECODE`` set (or a source tree it cannot write):
    0.1-0.3 s of every ``zkmargin`` command's start-up, measured. Up-to-date files are skipped; an
    unwritable folder is left as it is.
    """
    import compileall
    import importlib.util

    for name in ("zkmargin", "zkmargin.circuits", "zkmargin.prover", "zkmargin.verifier"):
        spec = importlib.util.find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            try:
                compileall.compile_dir(folder, maxlevels=2, quiet=2, workers=1)
            except OSError:
                pass


def _part_cached_subprocess(part: str) -> bool:
    """:func:`kernels_cached` in a fresh interpreter (this process stays free of numba)."""
    code = (f"import sys; from zkmargin._warm import kernels_cached; "
            f"sys.exit(0 if kernels_cached({part!r}) else 3)")
    import subprocess

    return subprocess.run([sys.executable, "-P", "-c", code], capture_output=True).returncode == 0
