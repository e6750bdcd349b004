"""Prover benchmarks: the library behind ``zkmargin bench`` (and ``benchmarks/prover_sweep.py``).

Lives in ``benchmarks/`` (installed as ``zkmargin.benchmarks``), outside the core package. A
benchmark *case* is either a synthetic circuit of size 2^k or a margin model at a portfolio size
(positions x scenarios x assets, :mod:`~zkmargin.benchmarks.margin_cases`). For each case,
:func:`run_bench`

1. builds the circuit (synthetic: exactly ``2^k - n_public - 1`` constraints, :class:`SweepCircuit`,
   so that with snarkjs's appended public-input rows the QAP domain is exactly 2^k; a margin model:
   its circuit at those sizes with a random passing portfolio, the test suite's generator), solves
   its witness and runs the development setup, then writes ``c.zkey``, ``c.wtns`` and
   ``verification_key.json`` (a subprocess: its time and peak memory do not pollute what follows);
2. starts one prover process that loads the files, proves once to warm up (numba's on-disk
   cache, or compilation on a first run), then proves ``repeat`` times; each round is timed twice:
   *from files* (read the .zkey and .wtns, map them into arrays, prove: what ``snarkjs groth16
   prove`` does in each call) and *from a loaded key* (the key and witness already in memory),
   with the prover's phases (``witness_eval``: A*w and B*w on the domain, ``ntt``: the three
   odd-coset transforms and H, ``msm_g1``: A, B1, C and H, ``msm_g2``: B2, ``assemble``: blinding);
3. when asked, runs snarkjs's prover in-process in node (one process that loads snarkjs once, warms
   up, and calls ``groth16.prove(zkey, wtns)``), its rounds interleaved with ours so that both see
   the same machine load, and reports the ratio snarkjs / ours (from files);
4. verifies our last proof (and snarkjs's) with ``zkmargin.verifier``.

Figures are medians over the rounds. Peak RSS is the prover process's ``ru_maxrss`` (it holds one
key at a time). The load average (1 min) is sampled before and after the rounds: on a shared
machine a wall time well above the CPU time per core means the prover waited for a core.

Cold start (``cold_start=True``, on the smallest size): a fresh interpreter with an empty numba
cache (``NUMBA_CACHE_DIR`` = a new folder) imports, reads the files and proves once (numba compiles
every kernel), then a second fresh interpreter with that cache does the same (loads them).

Everything heavy runs in subprocesses (``python -P -c ...``: no working-directory shadowing of the
package); they talk to this process in JSON lines prefixed with ``@@bench``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from zkmargin.circuits import API, Circuit, build, param, public, secret
from zkmargin.circuits.std import rangecheck
from zkmargin.errors import ZkMarginError
from zkmargin.field import R

__all__ = [
    "BenchError",
    "Case",
    "synthetic_case",
    "SweepCircuit",
    "sweep_shape",
    "sweep_circuit",
    "sweep_witness_digest",
    "BenchRow",
    "PHASES",
    "run_bench",
    "format_table",
    "find_snarkjs",
    "SNARKJS_SCRIPT",
    "BENCH_HELP",
    "work_folder",
]

#: The prover phases reported per size, in order (``zkmargin.prover.fast``'s names).
PHASES = ("witness_eval", "ntt", "msm_g1", "msm_g2", "assemble")

#: Suggested ``--help`` text of ``zkmargin bench``.
BENCH_HELP = """Measure the prover: a sweep over circuit sizes, optionally side by side with snarkjs.

For each size 2^K (--sizes, default 10,12,14,16) a synthetic circuit of exactly 2^K - 2
constraints (half range-check bits, half products and x^5 rounds, like the margin circuits'
witnesses) is built and set up (development keys), its .zkey and .wtns are written, and a fresh
process proves with them --repeat times after one warm-up proof. Printed per size:

\b
  constraints, setup seconds;
  seconds per prover phase: witness (A*w, B*w), ntt (three odd-coset
  transforms), msm_g1 (A, B1, C, H), msm_g2 (B2), assemble (blinding);
  prove: from a key already in memory, and its CPU seconds (all threads);
  read: the .zkey and .wtns; files: read + prove, what snarkjs's
  groth16.prove does per call;
  peak RSS of the prover process, proof size (proof.json, calldata);
  with --snarkjs: snarkjs's groth16.prove in-process in node on the same
  files (median after a warm-up, rounds interleaved with ours) and the
  ratio snarkjs / files;
  the 1-minute load average before/after (the machine may be shared).

Every proof is verified. --cold also measures a fresh process with an empty numba cache (JIT
compilation included) and then with a warm one, on the smallest size. Figures are medians.
"""


class BenchError(ZkMarginError):
    """A benchmark step failed (a worker process died, snarkjs is missing, a proof did not verify)."""


# --- the synthetic circuit -------------------------------------------------------------------

#: Constraints of one block: a 64-bit range check (65), one product (1), ROUNDS x^5 rounds (3 each).
ROUNDS = 21
_BLOCK = 65 + 1 + 3 * ROUNDS
_N_PUBLIC = 1


class SweepCircuit(Circuit):
    """A cost model of a margin circuit with an exact constraint count.

    ``n_blocks`` blocks, each: ``amount`` range-checked to 64 bits (65 constraints, 64 boolean
    wires), ``state += amount * price`` (one product, a ~128-bit value), then ``ROUNDS`` rounds of
    ``state = (state + c)^5`` (3 constraints each, full-size values, like Poseidon's S-boxes); then
    ``n_pad`` squarings ``state = state^2 + 1``; the final state must equal the public ``digest``.
    A witness is about half bits (0/1 in equal parts) and half full-size values, close to what
    the margin circuits' witnesses measure (25-40% zeros, 5-10% ones, 50-65% large values; their
    Poseidon hashes supply the large ones).

    Not a statement anyone needs proved: prices are not range-checked, the digest is no hash.
    """

    n_blocks = param(doc="number of blocks (129 constraints each)")
    n_pad = param(doc="number of padding squarings (1 constraint each)")

    digest = public(doc="the final state")
    amounts = secret(shape="n_blocks", doc="64-bit values (range-checked)")
    prices = secret(shape="n_blocks", doc="multipliers")
    seed = secret(doc="the initial state")

    def define(self, api: API) -> None:
        state = self.seed
        for b in range(self.n_blocks):
            with api.scope(f"block[{b}]"):
                rangecheck.assert_bits(api, self.amounts[b], bits=64)
                state = state + self.amounts[b] * self.prices[b]
                for r in range(ROUNDS):
                    t = state + (b * ROUNDS + r + 1)
                    t2 = t * t
                    state = (t2 * t2) * t
        with api.scope("pad"):
            for _ in range(self.n_pad):
                state = state * state + 1
        api.assert_equal(state, self.digest, label="digest")


def sweep_shape(k: int) -> tuple[int, int]:
    """(n_blocks, n_pad) for exactly ``2^k - n_public - 1`` constraints (a 2^k QAP domain).

    Raises:
        ValueError: k outside [3, 28].
    """
    if not 3 <= k <= 28:
        raise ValueError(f"circuit size 2^{k}: k must lie in [3, 28]")
    target = (1 << k) - _N_PUBLIC - 1
    n_blocks = (target - 1) // _BLOCK
    return n_blocks, target - 1 - n_blocks * _BLOCK


def sweep_witness_digest(amounts: Sequence[int], prices: Sequence[int], seed: int, n_pad: int) -> int:
    """The public ``digest`` of :class:`SweepCircuit` for these secrets (computed natively)."""
    s = seed % R
    for b, (a, p) in enumerate(zip(amounts, prices, strict=True)):
        s = (s + a * p) % R
        for r in range(ROUNDS):
            s = pow(s + b * ROUNDS + r + 1, 5, R)
    for _ in range(n_pad):
        s = (s * s + 1) % R
    return s


def sweep_circuit(k: int, seed: int = 1) -> SweepCircuit:
    """An assigned :class:`SweepCircuit` of size 2^k with random (seeded) secrets."""
    n_blocks, n_pad = sweep_shape(k)
    rng = random.Random(seed)
    amounts = [rng.getrandbits(64) for _ in range(n_blocks)]
    prices = [rng.getrandbits(64) for _ in range(n_blocks)]
    s0 = rng.randrange(R)
    digest = sweep_witness_digest(amounts, prices, s0, n_pad)
    return SweepCircuit(n_blocks=n_blocks, n_pad=n_pad, digest=digest, amounts=amounts, prices=prices, seed=s0)


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One benchmark case: a label, the model ("synthetic" or a margin model) and its sizes, and the
    worker that builds its files (``module:function`` run with (folder, spec))."""

    label: str
    model: str
    spec: str  # the worker's second argument: k for synthetic circuits, a JSON spec for margin models
    prepare: str = "_prepare_main"
    positions: int | None = None
    scenarios: int | None = None
    assets: int | None = None

    @property
    def slug(self) -> str:
        return "".join(ch if ch.isalnum() else "_" for ch in self.label)


def synthetic_case(k: int) -> Case:
    """The synthetic circuit of size 2^k (:class:`SweepCircuit`)."""
    sweep_shape(k)
    return Case(label=f"2^{k}", model="synthetic", spec=str(k))


@dataclass
class BenchRow:
    """One size of the sweep (seconds unless named otherwise; medians over ``repeat`` rounds)."""

    k: int  # the QAP domain is 2^k
    constraints: int
    n_wires: int
    n_public: int
    domain_size: int
    build_s: float  # compile + solve the circuit (Python circuit API)
    setup_s: float  # development setup (fixed-base tables, numba)
    setup_rss: int  # bytes, peak of the build + setup process
    zkey_bytes: int
    wtns_bytes: int
    repeat: int
    phases: dict[str, float]  # PHASES -> seconds (from a loaded key)
    prove_s: float  # from a loaded key: sum of the phases, timed around the call
    prove_cpu_s: float  # process CPU seconds of that call (all threads)
    read_s: float  # read the .zkey (+ map its sections into arrays, validated) and the .wtns
    read_zkey_s: float
    read_wtns_s: float
    files_s: float  # read_s + proving: the figure comparable with snarkjs's groth16.prove
    peak_rss: int  # bytes, the prover process
    proof_json_bytes: int
    calldata_bytes: int  # the proof's part of verifyProof's calldata (8 words)
    verified: bool
    snarkjs_s: float | None = None
    snarkjs_verified: bool | None = None
    snarkjs_rss: int | None = None
    load_before: float = 0.0
    load_after: float = 0.0
    import_s: float = 0.0  # the prover process: imports (numba, numpy, zkmargin.prover)
    warmup_s: float = 0.0  # its first proof (cache loading of the kernels included)
    cold_start_s: float | None = None  # fresh interpreter, empty numba cache: import + read + prove
    warm_start_s: float | None = None  # the same with the cache the cold run filled
    cold_detail: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    case: str = ""  # "2^k" (synthetic) or e.g. "scenario 8x16x4" (model positions x scenarios x assets)
    model: str = "synthetic"
    positions: int | None = None
    scenarios: int | None = None
    assets: int | None = None

    @property
    def ratio(self) -> float | None:
        """snarkjs's time over ours, both reading the files (None without snarkjs)."""
        return None if self.snarkjs_s is None else self.snarkjs_s / self.files_s

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``ratio``)."""
        return {**asdict(self), "ratio": self.ratio}


# --- node / snarkjs --------------------------------------------------------------------------

#: The node side of the comparison: loads snarkjs once (path in argv[2]), then serves
#: ``{"op": "prove", "zkey", "wtns", "proof"?, "public"?}`` lines; answers carry seconds and maxRSS.
SNARKJS_SCRIPT = r"""
'use strict';
const fs = require('fs');
const readline = require('readline');
const { performance } = require('perf_hooks');
const snarkjs = require(process.argv[2]);
function send(obj) { process.stdout.write('@@bench ' + JSON.stringify(obj) + '\n'); }
async function main() {
  send({ ready: true, version: require(process.argv[2] + '/package.json').version });
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = JSON.parse(line);
    if (cmd.op === 'prove') {
      const t0 = performance.now();
      const { proof, publicSignals } = await snarkjs.groth16.prove(cmd.zkey, cmd.wtns);
      const s = (performance.now() - t0) / 1000;
      if (cmd.proof) fs.writeFileSync(cmd.proof, JSON.stringify(proof));
      if (cmd.public) fs.writeFileSync(cmd.public, JSON.stringify(publicSignals));
      send({ s: s, rss: process.resourceUsage().maxRSS * 1024 });
    } else {
      send({ bye: true, rss: process.resourceUsage().maxRSS * 1024 });
      process.exit(0);
    }
  }
}
main().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(1); });
"""


def find_snarkjs(start: Path | None = None) -> Path | None:
    """The snarkjs package folder to ``require``, or None.

    ``$ZKMARGIN_SNARKJS`` or ``$ZKMARGIN_NODE_MODULES`` (the package folder, or a node_modules
    folder holding it; the test suite's variable) wins; else
    ``node_modules/snarkjs`` or ``tests/node/node_modules/snarkjs`` in ``start`` (default: the
    working directory), this source tree, or any folder above them.
    """
    for var in ("ZKMARGIN_SNARKJS", "ZKMARGIN_NODE_MODULES"):
        env = os.environ.get(var)
        if env:
            p = Path(env)
            for cand in (p, p / "snarkjs"):
                if (cand / "package.json").is_file():
                    return cand.resolve()
            return None
    roots = [start or Path.cwd(), Path(__file__).resolve().parent]
    for root in roots:
        for d in (root, *root.resolve().parents):
            for rel in ("node_modules/snarkjs", "tests/node/node_modules/snarkjs"):
                if (d / rel / "package.json").is_file():
                    return (d / rel).resolve()
    return None


# --- subprocess plumbing ---------------------------------------------------------------------

_TAG = "@@bench "


def _send(obj: dict[str, Any]) -> None:
    """Worker side: one protocol line on stdout."""
    sys.stdout.write(_TAG + json.dumps(obj) + "\n")
    sys.stdout.flush()


def _reporting_errors(fn: Callable[[list[str]], None]) -> Callable[[list[str]], None]:
    """Worker side: an exception becomes an ``error`` message (the driver raises it) and status 1."""

    def run(args: list[str]) -> None:
        try:
            fn(args)
        except Exception as e:
            traceback.print_exc()  # into the worker's log file
            _send({"error": f"{type(e).__name__}: {e}"})
            raise SystemExit(1) from e

    run.__doc__ = fn.__doc__
    return run


def _require_fast() -> None:
    from zkmargin.prover.backend import fast_available

    if not fast_available():
        raise BenchError("the numba prover is not available (zkmargin[prover] not installed, NUMBA_DISABLE_JIT=1 "
                         "or ZKMARGIN_BACKEND=python): nothing to benchmark")


class _Worker:
    """A subprocess that answers JSON lines; its stderr goes to a file (named in errors)."""

    def __init__(self, argv: list[str], name: str, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                     text=True, bufsize=1, env=env)

    def recv(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(_TAG):
                msg: dict[str, Any] = json.loads(line[len(_TAG):])
                if "error" in msg:
                    raise BenchError(f"{self.name}: {msg['error']}")
                return msg
        self.proc.wait()
        self._log.flush()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise BenchError(f"{self.name} exited with status {self.proc.returncode}: {tail.strip() or '(no output)'}")

    def ask(self, obj: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(obj) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # recv reports the exit
        return self.recv()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@contextmanager
def _worker(argv: list[str], name: str, log_path: Path, env: dict[str, str] | None = None) -> Iterator[_Worker]:
    w = _Worker(argv, name, log_path, env)
    try:
        yield w
    finally:
        w.close()


@contextmanager
def work_folder(workdir: Path | None, prefix: str) -> Iterator[Path]:
    """``workdir`` (created if needed, kept afterwards), or a new temporary folder removed afterwards."""
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
        yield Path(workdir)
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def _py(entry: str, *args: str) -> list[str]:
    """argv running ``<module>.<entry>(*args)`` in a fresh interpreter (-P: no cwd on sys.path); the module is
    this one unless ``entry`` names another (``module:entry``)."""
    mod, _, fn = entry.rpartition(":")
    mod = mod or __name__
    return [sys.executable, "-P", "-c", f"import sys; from {mod} import {fn}; {fn}(sys.argv[1:])", *args]


def _peak_rss() -> int:
    """This process's peak resident set size in bytes (0 where the OS does not say)."""
    try:
        import resource
    except ImportError:  # not a Unix
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # macOS reports bytes, Linux KiB


# --- worker entry points (run in subprocesses) -----------------------------------------------

@_reporting_errors
def _prepare_main(args: list[str]) -> None:
    """Worker: build the size-2^k circuit, set up, write c.zkey / c.wtns / verification_key.json."""
    import warnings

    from zkmargin.prover import DevelopmentSetupWarning, setup
    from zkmargin.serialize import write_verifying_key, write_wtns, write_zkey

    _require_fast()
    d, k = Path(args[0]), int(args[1])
    t0 = time.perf_counter()
    cs, witness = build(sweep_circuit(k))
    t1 = time.perf_counter()
    expected = (1 << k) - _N_PUBLIC - 1
    if cs.n_constraints != expected:
        raise BenchError(f"sweep circuit 2^{k}: {cs.n_constraints} constraints, expected {expected}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentSetupWarning)
        pk, vk = setup(cs, warn=False)
    t2 = time.perf_counter()
    info = {"constraints": cs.n_constraints, "n_wires": cs.n_wires, "n_public": cs.n_public,
            "domain_size": pk.domain_size, "build_s": t1 - t0, "setup_s": t2 - t1}
    del cs
    write_zkey(pk, d / "c.zkey")
    write_wtns(witness, d / "c.wtns")
    write_verifying_key(vk, d / "verification_key.json")
    _send({**info, "write_s": time.perf_counter() - t2, "rss": _peak_rss()})


def _load(d: Path) -> tuple[Any, Any, dict[str, float]]:
    """Read c.zkey (sections kept encoded, mapped into validated arrays) and c.wtns, timed."""
    import numpy as np

    from zkmargin.prover import kernels
    from zkmargin.prover.fast import key_arrays
    from zkmargin.serialize import read_wtns, read_zkey

    t0 = time.perf_counter()
    pk = read_zkey(d / "c.zkey", keep_encoded=True)
    key_arrays(pk)
    t1 = time.perf_counter()
    w = kernels.scalars_to_array(read_wtns(d / "c.wtns"))
    if w.shape[0] == 0 or not (w[0, 0] == 1 and not np.any(w[0, 1:])):
        raise BenchError("c.wtns: witness[0] must be 1")
    t2 = time.perf_counter()
    return pk, w, {"read_zkey_s": t1 - t0, "read_wtns_s": t2 - t1}


def _load_cli(d: Path) -> tuple[Any, Any, dict[str, float]]:
    """Read c.zkey and c.wtns with ``zkmargin prove``'s own readers (memory-mapped, validated in numpy
    passes; the key's arrays are split on its first proof, as in the CLI), timed."""
    from zkmargin.cli_perf import read_witness_for_prove, read_zkey_for_prove

    t0 = time.perf_counter()
    pk = read_zkey_for_prove(d / "c.zkey")
    t1 = time.perf_counter()
    w = read_witness_for_prove(d / "c.wtns")
    return pk, w, {"read_zkey_s": t1 - t0, "read_wtns_s": time.perf_counter() - t1}


def _prove_as_cli(pk: Any, w: Any, timings: dict[str, float] | None = None) -> tuple[Any, list[int]]:
    """``zkmargin prove``'s own prover call (``zkmargin.prover.prove``: the witness array validated, then
    the numba prover), with ``prove_fast``'s signature."""
    from zkmargin.prover import PhaseTimings, prove

    tm = PhaseTimings()
    out = prove(pk, w, timings=tm)
    if timings is not None:
        timings.update(tm.phases)
    return out


def _write_proof(d: Path, proof: Any, public: list[int]) -> None:
    from zkmargin.serialize import write_proof, write_public_inputs

    write_proof(proof, d / "proof.json")
    write_public_inputs(public, d / "public.json")


@_reporting_errors
def _serve_main(args: list[str]) -> None:
    """Worker: load, warm up, then answer ``prove`` requests (files round + loaded-key round).

    ``args``: the folder, then optionally ``cli``: read the files and prove as ``zkmargin prove`` does
    (:func:`_load_cli`, :func:`_prove_as_cli`: the side-by-side bench) instead of the structured
    reader (:func:`_load`) and ``prove_fast``.
    """
    t0 = time.perf_counter()
    from zkmargin.prover.fast import prove_fast

    _require_fast()
    d = Path(args[0])
    cli = args[1:] == ["cli"]
    load, prove_one = (_load_cli, _prove_as_cli) if cli else (_load, prove_fast)
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pk, w, _ = load(d)
    proof, public = prove_one(pk, w)
    _write_proof(d, proof, public)
    _send({"ready": True, "import_s": import_s, "warmup_s": time.perf_counter() - t0})
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("op") != "prove":
            break
        del pk, w
        t0 = time.perf_counter()
        pk, w, reads = load(d)
        tm: dict[str, float] = {}
        proof, public = prove_one(pk, w, timings=tm)
        files_s = time.perf_counter() - t0
        tm = {}
        c0, t0 = time.process_time(), time.perf_counter()
        proof, public = prove_one(pk, w, timings=tm)
        prove_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        _write_proof(d, proof, public)
        _send({"files_s": files_s, "prove_s": prove_s, "prove_cpu_s": cpu_s, "phases": tm, **reads})
    _send({"bye": True, "rss": _peak_rss()})


@_reporting_errors
def _once_main(args: list[str]) -> None:
    """Worker: import, read the files, prove once, write the proof (a cold or warm CLI-like run)."""
    t0 = time.perf_counter()
    from zkmargin.prover.fast import prove_fast

    _require_fast()
    d = Path(args[0])
    t1 = time.perf_counter()
    pk, w, reads = _load(d)
    t2 = time.perf_counter()
    proof, public = prove_fast(pk, w)
    t3 = time.perf_counter()
    _write_proof(d, proof, public)
    _send({"import_s": t1 - t0, "read_s": t2 - t1, "prove_s": t3 - t2, "rss": _peak_rss()})


# --- the driver ------------------------------------------------------------------------------

def _median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def _verify_files(vk_path: Path, public_path: Path, proof_path: Path) -> bool:
    from zkmargin.serialize import load_proof, load_public_inputs, load_verifying_key
    from zkmargin.verifier import verify

    return bool(verify(load_verifying_key(vk_path), load_public_inputs(public_path), load_proof(proof_path)))


def _calldata_bytes(proof_path: Path, public_path: Path) -> int:
    from zkmargin.serialize import load_proof, load_public_inputs
    from zkmargin.verifier import calldata_args

    a, b, c, _ = calldata_args(load_proof(proof_path), load_public_inputs(public_path))
    return 32 * (len(a) + 2 * len(b) + len(c))  # uint256 words of pA, pB, pC


def _cold_start(d: Path, progress: Callable[[str], None]) -> tuple[float, float, dict[str, float]]:
    """(cold wall, warm wall, details): a fresh process with an empty numba cache, then warm."""
    cache = Path(tempfile.mkdtemp(prefix="zkmargin-numba-cold-"))
    try:
        env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
        walls: list[float] = []
        detail: dict[str, float] = {}
        for label in ("cold", "warm"):
            progress(f"cold start: {label} process (NUMBA_CACHE_DIR={cache})")
            t0 = time.perf_counter()
            with _worker(_py("_once_main", str(d)), f"{label}-start prover", d / f"{label}.log", env) as wk:
                msg = wk.recv()
                wk.proc.wait()
            walls.append(time.perf_counter() - t0)
            detail.update({f"{label}_{k}": v for k, v in msg.items()})
        return walls[0], walls[1], detail
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _bench_case(case: Case, d: Path, snarkjs: Path | None, repeat: int,
                progress: Callable[[str], None]) -> BenchRow:
    name = case.label
    progress(f"{name}: building the circuit and the keys")
    with _worker(_py(case.prepare, str(d), case.spec), f"{name} setup", d / "prepare.log") as wk:
        prep = wk.recv()
    k = int(prep["domain_size"]).bit_length() - 1
    progress(f"{name}: {prep['constraints']:,} constraints (2^{k}); proving ({repeat} rounds"
             f"{' interleaved with snarkjs' if snarkjs else ''})")
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    with _worker(_py("_serve_main", str(d)), f"{name} prover", d / "prover.log") as wk:
        ready = wk.recv()
        sj_ctx = _node_worker(snarkjs, d) if snarkjs else None
        try:
            if sj_ctx is not None:
                sj_ctx.recv()
                sj_ctx.ask({"op": "prove", "zkey": str(d / "c.zkey"), "wtns": str(d / "c.wtns")})  # warm-up
            load_before = os.getloadavg()[0]
            for i in range(repeat):
                ours.append(wk.ask({"op": "prove"}))
                if sj_ctx is not None:
                    last = i == repeat - 1
                    theirs.append(sj_ctx.ask({
                        "op": "prove", "zkey": str(d / "c.zkey"), "wtns": str(d / "c.wtns"),
                        **({"proof": str(d / "sj_proof.json"), "public": str(d / "sj_public.json")} if last else {}),
                    }))
            load_after = os.getloadavg()[0]
            sj_rss = sj_ctx.ask({"op": "quit"})["rss"] if sj_ctx is not None else None
        finally:
            if sj_ctx is not None:
                sj_ctx.close()
        bye = wk.ask({"op": "quit"})
    (d / "rounds.json").write_text(json.dumps({"prepare": prep, "ready": ready, "ours": ours, "snarkjs": theirs,
                                                "prover_rss": bye["rss"], "snarkjs_rss": sj_rss}, indent=1))
    progress(f"{name}: verifying")
    vk_path = d / "verification_key.json"
    verified = _verify_files(vk_path, d / "public.json", d / "proof.json")
    sj_ok = _verify_files(vk_path, d / "sj_public.json", d / "sj_proof.json") if snarkjs else None
    if not verified or sj_ok is False:
        raise BenchError(f"{name}: a proof did not verify (ours: {verified}, snarkjs: {sj_ok})")
    med = {key: _median([r[key] for r in ours])
           for key in ("files_s", "prove_s", "prove_cpu_s", "read_zkey_s", "read_wtns_s")}
    samples = {"files_s": [r["files_s"] for r in ours], "prove_s": [r["prove_s"] for r in ours]}
    if theirs:
        samples["snarkjs_s"] = [r["s"] for r in theirs]
    return BenchRow(
        k=k, constraints=prep["constraints"], n_wires=prep["n_wires"], n_public=prep["n_public"],
        domain_size=prep["domain_size"], build_s=prep["build_s"], setup_s=prep["setup_s"], setup_rss=prep["rss"],
        zkey_bytes=(d / "c.zkey").stat().st_size, wtns_bytes=(d / "c.wtns").stat().st_size, repeat=repeat,
        phases={p: _median([r["phases"].get(p, 0.0) for r in ours]) for p in PHASES},
        prove_s=med["prove_s"], prove_cpu_s=med["prove_cpu_s"],
        read_s=med["read_zkey_s"] + med["read_wtns_s"], read_zkey_s=med["read_zkey_s"],
        read_wtns_s=med["read_wtns_s"], files_s=med["files_s"], peak_rss=bye["rss"],
        proof_json_bytes=(d / "proof.json").stat().st_size,
        calldata_bytes=_calldata_bytes(d / "proof.json", d / "public.json"), verified=verified,
        snarkjs_s=_median(samples["snarkjs_s"]) if theirs else None, snarkjs_verified=sj_ok, snarkjs_rss=sj_rss,
        load_before=load_before, load_after=load_after, import_s=ready["import_s"], warmup_s=ready["warmup_s"],
        samples=samples, case=case.label, model=case.model, positions=case.positions, scenarios=case.scenarios,
        assets=case.assets,
    )


def _node_worker(snarkjs: Path, d: Path) -> _Worker:
    node = shutil.which("node")
    if node is None:
        raise BenchError("snarkjs comparison: node is not on PATH")
    script = d / "snarkjs_prove.js"
    script.write_text(SNARKJS_SCRIPT)
    return _Worker([node, str(script), str(snarkjs)], "snarkjs (node)", d / "snarkjs.log")


def run_bench(
    sizes: Sequence[int],
    snarkjs: bool,
    repeat: int,
    out: Callable[[str], None],
    progress: Callable[[str], None] | None = None,
    *,
    cold_start: bool = False,
    workdir: Path | None = None,
    cases: Sequence[Case] = (),
) -> list[BenchRow]:
    """Benchmark the prover at circuit sizes 2^k for k in ``sizes``, then ``cases`` (see the module docstring).

    Args:
        sizes: the exponents k (3 <= k <= 28) of synthetic circuits, run in increasing order.
        snarkjs: also time snarkjs's ``groth16.prove`` in node on the same files (needs ``node`` and
            the snarkjs package: see :func:`find_snarkjs`).
        repeat: timed rounds per size (>= 1), after one warm-up proof.
        out: receives one summary line per size as it completes (the caller prints it).
        progress: receives a short status line before each step (e.g. for a spinner).
        cold_start: also measure a cold (empty numba cache) and a warm fresh-process proof at the
            smallest size (fills ``cold_start_s`` and ``warm_start_s`` of that row).
        workdir: where the keys and proofs go (kept: one folder per case); default a temporary
            folder, removed afterwards.
        cases: more cases after the synthetic sizes (margin models: ``margin_cases.model_case``).

    Returns:
        One :class:`BenchRow` per size.

    Raises:
        BenchError: snarkjs requested but not found, a worker failed, a proof did not verify.
        ValueError: bad sizes or repeat.
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    all_cases = [synthetic_case(k) for k in sorted(set(sizes))] + list(cases)
    progress = progress or (lambda _msg: None)
    # everything this process needs later, imported now (a long run should not meet a half-edited tree)
    import zkmargin.serialize  # noqa: F401
    import zkmargin.verifier  # noqa: F401

    sj: Path | None = None
    if snarkjs:
        sj = find_snarkjs()
        if sj is None:
            raise BenchError("snarkjs not found: set ZKMARGIN_SNARKJS to its folder (npm install snarkjs), "
                             "or run from a checkout with tests/node/node_modules")
        if shutil.which("node") is None:
            raise BenchError("snarkjs comparison: node is not on PATH")
    rows: list[BenchRow] = []
    with work_folder(workdir, "zkmargin-bench-") as root:
        for i, case in enumerate(all_cases):
            d = root / (f"k{case.spec}" if case.model == "synthetic" else case.slug)
            d.mkdir(parents=True, exist_ok=True)
            progress(f"case {i + 1} of {len(all_cases)}: {case.label}")
            row = _bench_case(case, d, sj, repeat, progress)
            if cold_start and i == 0:
                row.cold_start_s, row.warm_start_s, row.cold_detail = _cold_start(d, progress)
            rows.append(row)
            out(_summary(row))
    return rows


# --- formatting ------------------------------------------------------------------------------

def _mib(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:.0f}"


def _summary(row: BenchRow) -> str:
    s = (f"{row.case or f'2^{row.k}'}: {row.constraints} constraints (2^{row.k}), prove {row.prove_s:.3f}s "
         f"(cpu {row.prove_cpu_s:.3f}s; "
         f"files {row.files_s:.3f}s), "
         f"peak RSS {_mib(row.peak_rss)} MiB")
    if row.snarkjs_s is not None:
        s += f", snarkjs {row.snarkjs_s:.3f}s ({row.ratio:.1f}x)"
    if row.cold_start_s is not None:
        s += f", cold start {row.cold_start_s:.1f}s, warm start {row.warm_start_s:.1f}s"
    return s + f" [load {row.load_before:.1f}/{row.load_after:.1f}]"


def format_table(rows: Sequence[BenchRow]) -> str:
    """The sweep as a fixed-width text table (seconds; MiB; bytes), with a legend and cold-start lines."""
    head = ["case", "constraints", "setup", "witness", "ntt", "msm_g1", "msm_g2", "assemble", "prove", "cpu",
            "read", "files", "snarkjs", "ratio", "RSS MiB", "proof B", "load"]
    lines = []
    for r in rows:
        p = r.phases
        lines.append([
            r.case or f"2^{r.k}", str(r.constraints), f"{r.setup_s:.2f}",
            *(f"{p.get(name, 0.0):.3f}" for name in PHASES),
            f"{r.prove_s:.3f}", f"{r.prove_cpu_s:.3f}", f"{r.read_s:.3f}", f"{r.files_s:.3f}",
            "-" if r.snarkjs_s is None else f"{r.snarkjs_s:.3f}",
            "-" if r.ratio is None else f"{r.ratio:.1f}x",
            _mib(r.peak_rss), f"{r.proof_json_bytes}/{r.calldata_bytes}",
            f"{r.load_before:.1f}/{r.load_after:.1f}",
        ])
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    text = [fmt.format(*head), *(fmt.format(*line) for line in lines)]
    if rows:
        rep = rows[0].repeat
        text.append(
            f"seconds, median of {rep} round(s) after a warm-up; prove = from a loaded key (the phases); cpu = its "
            "process CPU seconds, all threads (cpu/prove = cores actually used); read = .zkey + .wtns; files = "
            "read + prove (like snarkjs's groth16.prove); ratio = snarkjs / files; RSS = peak of the prover "
            f"process; proof B = proof.json / calldata bytes; load = 1-min load average before/after; "
            f"{os.cpu_count()} CPUs"
        )
    for r in rows:
        if r.cold_start_s is not None:
            d = r.cold_detail
            text.append(
                f"cold start at 2^{r.k} (fresh process, empty numba cache): {r.cold_start_s:.1f}s wall "
                f"(import {d.get('cold_import_s', 0):.1f}s, read {d.get('cold_read_s', 0):.2f}s, first proof with "
                f"JIT compilation {d.get('cold_prove_s', 0):.1f}s); warm start (same cache): "
                f"{r.warm_start_s:.2f}s wall (import {d.get('warm_import_s', 0):.2f}s, read "
                f"{d.get('warm_read_s', 0):.2f}s, proof {d.get('warm_prove_s', 0):.2f}s)"
            )
    return "\n".join(text)
