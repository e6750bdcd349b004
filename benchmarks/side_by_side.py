"""zkmargin's command line, zkmargin in-process, rapidsnark's and snarkjs's command lines, side by side.

    python -P -m zkmargin.benchmarks.side_by_side --sizes 10-20 --rapidsnark /path/to/prover
    python -P benchmarks/side_by_side.py --sizes 16 --repeat 7 --no-snarkjs --workdir /tmp/sbs
    python -P -m zkmargin.benchmarks.side_by_side --sizes 10-20 --repeat 5 --repeat-large 2 --large-from 18 \\
        --rapidsnark /opt/rapidsnark/bin/prover --json sbs.json --md sbs.md

For each size 2^k the synthetic circuit of ``zkmargin bench`` (exactly 2^k - 2 constraints, a 2^k
QAP domain: :class:`~zkmargin.benchmarks.prover_bench.SweepCircuit`) is built and set up once in a
worker process, its ``c.zkey``, ``c.wtns`` and ``verification_key.json`` written once (kept and
reused with ``--workdir``), then every tool proves from those two files, in rounds interleaved
so that all of them see the same machine load (the order rotates from round to round):

- **zkmargin CLI**: ``zkmargin prove --witness c.wtns --zkey c.zkey``, a new process each round
  (interpreter, imports, numba's cached kernels, reading, proving, the self-check, writing), with
  ``ZKMARGIN_RESIDENT=0`` (never a resident prover);
- **zkmargin CLI (resident)**: the same command, a new process each round, with a resident prover
  running (``zkmargin prover start``, one for the whole run, in a private runtime folder): the
  client starts, finds the server, which reads the witness, proves with the key it parsed at the
  untimed warm-up run, self-checks (numba pairing) and writes the files (``--no-resident-column``
  leaves it out; the server's request count is checked, so a silent fallback cannot pass as it);
- **zkmargin in-process**: one long-lived process (the bench's prover worker,
  ``prover_bench._serve_main`` in its ``cli`` mode) that reads the files with the CLI's own readers
  and proves with the CLI's own prover call: *files* (read + prove, each round) and *prove* (from
  the key and witness already in memory);
- **rapidsnark CLI**: its ``prover zkey wtns proof public`` (a C++ build: ``benchmarks/build_rapidsnark.sh``),
  when ``--rapidsnark`` or ``$ZKMARGIN_RAPIDSNARK`` names it or ``rapidsnark`` is on PATH (never required);
- **snarkjs CLI**: ``node snarkjs/build/cli.cjs groth16 prove zkey wtns proof public`` with the
  pinned snarkjs of tests/node (``cd tests/node && npm ci``) or ``$ZKMARGIN_SNARKJS``, else
  ``snarkjs`` on PATH.

One untimed warm-up run of each tool but snarkjs precedes the rounds (numba's cache, the page
cache). Every tool's last proof is verified with ``zkmargin.verifier`` and its public inputs
compared with the witness's: a size whose proof fails stops the run (a timing of a wrong proof is
worthless). Reported per size: constraints, the median seconds of each tool, the ratio rapidsnark /
zkmargin CLI (above 1: the CLI is faster), the peak RSS of each tool's process (``wait4``'s
``ru_maxrss``; the in-process worker's over all its rounds) and the 1-minute load average before
and after the rounds. Then a warm ``zkmargin verify --pairing-only`` of a 4-input proof (the cross
margin model's bilateral statement at one position: commitment, digest, threshold, context), each
a new process after one untimed run, beside a bare interpreter start.

Prints a markdown table (also ``--md``) and writes every sample as JSON (``--json``). Goals
(issue 13): the CLI at 2^16 at most 0.2 s above the in-process prove; the CLI faster than
rapidsnark's CLI at every size; a warm verify in at most 0.3 s; each is printed as met or not.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zkmargin.benchmarks.prover_bench import (
    BenchError,
    _py,
    _verify_files,
    _worker,
    find_snarkjs,
    sweep_shape,
    work_folder,
)

__all__ = ["TOOLS", "SizeRow", "VerifyRow", "run_side_by_side", "run_size", "run_verify", "markdown_table",
           "goals", "load_results", "report_text", "find_rapidsnark", "snarkjs_command", "parse_sizes", "main"]

#: The columns, in table order: zkmargin's CLI, its CLI with a resident prover, in-process (read + prove;
#: prove from a loaded key), rapidsnark's CLI, snarkjs's CLI.
TOOLS = ("zkmargin_cli", "zkmargin_resident", "inproc_files", "inproc_prove", "rapidsnark", "snarkjs")

#: Goals of issue 13 (seconds).
CLI_OVER_INPROC_GOAL_S = 0.2
VERIFY_GOAL_S = 0.3


# --- running a command: wall time and its peak RSS ---------------------------------------------------

#: A small launcher (``python -S``): starts the command, waits for it, writes its wall time and
#: ``ru_maxrss`` as JSON into argv[1]. A child's ``ru_maxrss`` on Linux starts from the RSS of the
#: process it was forked from, so the bench (which has numba and keys loaded) does not start the
#: tools itself; the launcher's own few MiB are the floor of what is reported.
_LAUNCH = r"""
import json, os, sys, time
t0 = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as fh:
    json.dump({"wall": wall, "rc": os.waitstatus_to_exitcode(status), "maxrss": ru.ru_maxrss}, fh)
"""


def _timed(argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run ``argv`` (output appended to ``log``) through :data:`_LAUNCH`; returns (wall seconds from its
    start to its exit, peak RSS bytes of that process).

    Raises:
        BenchError: it exited with a non-zero status.
    """
    exe = shutil.which(argv[0]) or argv[0]
    res = log.with_suffix(".last.json")
    res.unlink(missing_ok=True)
    with open(log, "ab") as fh:
        fh.write(("$ " + " ".join(argv) + "\n").encode())
        fh.flush()
        subprocess.run([sys.executable, "-S", "-c", _LAUNCH, str(res), exe, *argv[1:]], stdout=fh,
                       stderr=subprocess.STDOUT, env=env, check=False)
    msg = json.loads(res.read_text()) if res.is_file() else {"rc": "unknown (the launcher failed)"}
    if msg["rc"] != 0:
        tail = log.read_text(errors="replace")[-1500:]
        raise BenchError(f"{argv[0]} exited with status {msg['rc']}:\n{tail}")
    return float(msg["wall"]), int(msg["maxrss"] * (1 if sys.platform == "darwin" else 1024))


def find_rapidsnark(explicit: str | None = None) -> Path | None:
    """rapidsnark's ``prover`` binary: ``explicit`` (a path or a name on PATH), else ``$ZKMARGIN_RAPIDSNARK``,
    else ``rapidsnark`` on PATH (``benchmarks/build_rapidsnark.sh`` links it so); None when absent: it
    is never required.

    Raises:
        BenchError: ``explicit`` names no executable.
    """
    for cand in (explicit, os.environ.get("ZKMARGIN_RAPIDSNARK"), "rapidsnark"):
        if not cand:
            continue
        p = Path(cand)
        if p.is_file() and os.access(p, os.X_OK):
            return p.resolve()
        hit = shutil.which(cand)
        if hit:
            return Path(hit).resolve()
        if cand == explicit:
            raise BenchError(f"--rapidsnark {explicit}: not an executable file")
    return None


def snarkjs_command() -> list[str] | None:
    """How to run snarkjs's command line: ``node .../build/cli.cjs`` of the package :func:`find_snarkjs`
    finds (the pinned one of tests/node), else ``snarkjs`` on PATH; None when neither exists."""
    pkg = find_snarkjs()
    node = shutil.which("node")
    if pkg is not None and node is not None and (pkg / "build" / "cli.cjs").is_file():
        return [node, str(pkg / "build" / "cli.cjs")]
    exe = shutil.which("snarkjs")
    return [exe] if exe else None


def _zkmargin_exe() -> list[str]:
    exe = shutil.which("zkmargin")
    if exe is not None:
        return [exe]
    # the same interpreter's console script (a checkout's .venv not on PATH)
    return [sys.executable, "-P", "-c", "from zkmargin.resident import console_main; console_main()"]


# --- results -----------------------------------------------------------------------------------------

@dataclass
class SizeRow:
    """One size: medians (seconds) per tool in :data:`TOOLS` (absent: not run), samples, peak RSS bytes."""

    k: int
    constraints: int
    repeat: int
    median: dict[str, float]
    samples: dict[str, list[float]]
    rss: dict[str, int]
    verified: dict[str, bool]
    load_before: float
    load_after: float
    setup_s: float = 0.0
    inproc_read_s: float = 0.0

    @property
    def ratio(self) -> float | None:
        """rapidsnark's CLI time over zkmargin's CLI time (above 1: zkmargin's CLI is faster)."""
        if "rapidsnark" not in self.median or "zkmargin_cli" not in self.median:
            return None
        return self.median["rapidsnark"] / self.median["zkmargin_cli"]

    @property
    def cli_overhead(self) -> float:
        """zkmargin's CLI time minus the in-process prove from a loaded key."""
        return self.median["zkmargin_cli"] - self.median["inproc_prove"]

    @property
    def ratio_resident(self) -> float | None:
        """rapidsnark's CLI time over zkmargin's CLI time with a resident prover."""
        if "rapidsnark" not in self.median or "zkmargin_resident" not in self.median:
            return None
        return self.median["rapidsnark"] / self.median["zkmargin_resident"]

    @property
    def resident_overhead(self) -> float | None:
        """zkmargin's CLI time with a resident prover minus the in-process prove from a loaded key."""
        if "zkmargin_resident" not in self.median:
            return None
        return self.median["zkmargin_resident"] - self.median["inproc_prove"]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "cli_overhead": self.cli_overhead,
                "ratio_resident": self.ratio_resident, "resident_overhead": self.resident_overhead}


@dataclass
class VerifyRow:
    """Warm ``zkmargin verify`` of one proof, new processes; a bare interpreter start for scale."""

    n_public: int
    constraints: int
    samples: list[float]
    bare_python: list[float]
    load_before: float
    load_after: float
    rss: int = 0
    median: float = field(init=False)

    def __post_init__(self) -> None:
        self.median = float(statistics.median(self.samples))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- one size ----------------------------------------------------------------------------------------

def _prepare(d: Path, k: int, progress: Callable[[str], None]) -> dict[str, Any]:
    """Build and set up the 2^k circuit once (or reuse the folder's files); its prepare.json."""
    info_path = d / "prepare.json"
    if info_path.is_file() and all((d / n).is_file() for n in ("c.zkey", "c.wtns", "verification_key.json")):
        info: dict[str, Any] = json.loads(info_path.read_text())
        if info.get("k") == k:
            progress(f"2^{k}: reusing the keys in {d}")
            return info
    progress(f"2^{k}: building the circuit and the keys in {d}")
    with _worker(_py("_prepare_main", str(d), str(k)), f"2^{k} setup", d / "prepare.log") as wk:
        info = {**wk.recv(), "k": k}
    info_path.write_text(json.dumps(info))
    return info


def _ordered(tools: list[str], i: int) -> list[str]:
    """The round's order: rotated by one tool each round."""
    j = i % len(tools)
    return tools[j:] + tools[:j]


def run_size(k: int, d: Path, *, repeat: int, rapidsnark: Path | None, snarkjs: list[str] | None,
             progress: Callable[[str], None] = lambda _m: None, resident: Path | None = None) -> SizeRow:
    """Prove the 2^k circuit ``repeat`` rounds with each tool (see the module docstring); verify every tool's proof.

    ``resident``: the runtime folder of a running resident prover (:func:`resident_prover`) for the
    ``zkmargin_resident`` column; None: no such column.

    Raises:
        BenchError: a tool failed, a proof did not verify / has other public inputs, or the resident
            prover did not serve every round of its column.
    """
    sweep_shape(k)
    d.mkdir(parents=True, exist_ok=True)
    info = _prepare(d, k, progress)
    zkey, wtns = d / "c.zkey", d / "c.wtns"
    log = d / "tools.log"
    env = dict(os.environ, PYTHONSAFEPATH="1")
    envs = {"zkmargin_cli": dict(env, ZKMARGIN_RESIDENT="0")}
    commands: dict[str, Callable[[str, str], list[str]]] = {
        "zkmargin_cli": lambda pr, pu: [*_zkmargin_exe(), "prove", "--witness", str(wtns), "--zkey", str(zkey),
                                        "--proof", pr, "--public", pu],
    }
    if resident is not None:
        commands["zkmargin_resident"] = commands["zkmargin_cli"]
        envs["zkmargin_resident"] = _resident_env(resident)
        served_before = _resident_status(resident)["requests"]
    if rapidsnark is not None:
        commands["rapidsnark"] = lambda pr, pu: [str(rapidsnark), str(zkey), str(wtns), pr, pu]
    if snarkjs is not None:
        commands["snarkjs"] = lambda pr, pu: [*snarkjs, "groth16", "prove", str(zkey), str(wtns), pr, pu]
    outs = {t: (d / f"{t}_proof.json", d / f"{t}_public.json") for t in commands}
    outs["inproc"] = (d / "proof.json", d / "public.json")  # the worker writes each round's proof there
    samples: dict[str, list[float]] = {t: [] for t in [*commands, "inproc_files", "inproc_prove"]}
    rss: dict[str, int] = {t: 0 for t in commands}
    read_s: list[float] = []
    with _worker(_py("_serve_main", str(d), "cli"), f"2^{k} in-process prover", d / "inproc.log") as wk:
        wk.recv()
        for t in commands:  # warm-up: numba's cache, the page cache (snarkjs: too slow to repeat at 2^20)
            if t != "snarkjs":
                _timed(commands[t](*map(str, outs[t])), log, envs.get(t, env))
        progress(f"2^{k}: {info['constraints']:,} constraints; {repeat} round(s) of {', '.join([*commands, 'inproc'])}")
        load_before = os.getloadavg()[0]
        for i in range(repeat):
            last = i == repeat - 1
            for t in _ordered([*commands, "inproc"], i):
                pr, pu = outs[t]
                if last:
                    pr.unlink(missing_ok=True)
                    pu.unlink(missing_ok=True)
                if t == "inproc":
                    msg = wk.ask({"op": "prove"})
                    samples["inproc_files"].append(msg["files_s"])
                    samples["inproc_prove"].append(msg["prove_s"])
                    read_s.append(msg["read_zkey_s"] + msg["read_wtns_s"])
                else:
                    wall, peak = _timed(commands[t](str(pr), str(pu)), log, envs.get(t, env))
                    samples[t].append(wall)
                    rss[t] = max(rss[t], peak)
        load_after = os.getloadavg()[0]
        rss["inproc"] = int(wk.ask({"op": "quit"})["rss"])
    if resident is not None:
        st = _resident_status(resident)
        if st["requests"] - served_before != repeat + 1:
            raise BenchError(f"2^{k}: the resident prover served {st['requests'] - served_before} of the "
                             f"{repeat + 1} runs of its column (see {log})")
        rss["resident_server"] = _vm_hwm(int(st["pid"]))
    progress(f"2^{k}: verifying every tool's proof")
    vk_path = d / "verification_key.json"
    expected = _witness_public(wtns, int(info["n_public"]))
    verified: dict[str, bool] = {}
    for t, (pr, pu) in outs.items():
        if not pr.is_file():
            raise BenchError(f"2^{k}: {t} wrote no proof")
        got = [int(x) for x in json.loads(pu.read_text())]
        verified[t] = got == expected and _verify_files(vk_path, pu, pr)
    if not all(verified.values()):
        raise BenchError(f"2^{k}: a proof did not verify or has other public inputs: {verified}")
    return SizeRow(k=k, constraints=int(info["constraints"]), repeat=repeat,
                   median={t: float(statistics.median(v)) for t, v in samples.items()}, samples=samples, rss=rss,
                   verified=verified, load_before=load_before, load_after=load_after,
                   setup_s=float(info.get("setup_s", 0.0)), inproc_read_s=float(statistics.median(read_s)))


def _witness_public(wtns: Path, n_public: int) -> list[int]:
    from zkmargin.serialize import read_wtns

    return read_wtns(wtns)[1: 1 + n_public]


# --- the resident prover's column ------------------------------------------------------------------

def _resident_env(rt: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONSAFEPATH="1", ZKMARGIN_RUNTIME_DIR=str(rt), ZKMARGIN_RESIDENT="1")


def _resident_status(rt: Path) -> dict[str, Any]:
    from zkmargin import resident as rs

    with rs.connect(rt / "prover.sock", timeout=30) as s:
        rs.send_msg(s, {"op": "status"})
        ans: dict[str, Any] = rs.recv_msg(s)
    return ans


def _vm_hwm(pid: int) -> int:
    """A process's peak RSS in bytes (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextlib.contextmanager
def resident_prover(progress: Callable[[str], None] = lambda _m: None) -> Iterator[Path]:
    """A resident prover (``zkmargin prover start``) in a private runtime folder of its own (never the
    user's server), stopped at the end; yields the folder."""
    rt = Path(tempfile.mkdtemp(prefix="zkr-"))  # short: a socket path has at most 107 bytes
    log = rt / "start.log"
    try:
        progress(f"starting a resident prover in {rt}")
        _timed([*_zkmargin_exe(), "prover", "start", "--idle-timeout", "7200"], log, _resident_env(rt))
        yield rt
    finally:
        with open(log, "ab") as fh:
            subprocess.run([*_zkmargin_exe(), "prover", "stop"], stdout=fh, stderr=subprocess.STDOUT,
                           env=_resident_env(rt), check=False, timeout=120)
        shutil.rmtree(rt, ignore_errors=True)


# --- warm verify of a 4-input proof -----------------------------------------------------------------

def run_verify(d: Path, *, repeat: int, progress: Callable[[str], None] = lambda _m: None) -> VerifyRow:
    """Warm ``zkmargin verify --pairing-only`` of the cross model's bilateral proof (4 public inputs).

    Raises:
        BenchError: the proof does not have 4 public inputs, or verify does not print OK.
    """
    from zkmargin.benchmarks.margin_cases import model_case

    d.mkdir(parents=True, exist_ok=True)
    case = model_case("cross", 1, assets=1)
    if not (d / "c.zkey").is_file():
        progress(f"verify: building {case.label} and its keys in {d}")
        with _worker(_py(case.prepare, str(d), case.spec), "verify setup", d / "prepare.log") as wk:
            (d / "prepare.json").write_text(json.dumps(wk.recv()))
    info = json.loads((d / "prepare.json").read_text())
    if info["n_public"] != 4:
        raise BenchError(f"{case.label}: {info['n_public']} public inputs, expected 4")
    log = d / "tools.log"
    env = dict(os.environ, PYTHONSAFEPATH="1")
    _timed([*_zkmargin_exe(), "prove", "--witness", str(d / "c.wtns"), "--zkey", str(d / "c.zkey"),
            "--proof", str(d / "proof.json"), "--public", str(d / "public.json")], log, env)
    argv = [*_zkmargin_exe(), "verify", str(d / "verification_key.json"), str(d / "public.json"),
            str(d / "proof.json"), "--pairing-only"]
    progress(f"verify: {repeat} warm runs of zkmargin verify (4 public inputs)")
    _timed(argv, log, env)  # untimed: the page cache, Python's bytecode cache
    load_before = os.getloadavg()[0]
    samples, bare, peak = [], [], 0
    for _ in range(repeat):
        size = log.stat().st_size
        wall, rss = _timed(argv, log, env)
        with open(log, "rb") as fh:
            fh.seek(size)
            if b"OK" not in fh.read():
                raise BenchError("zkmargin verify did not print OK")
        samples.append(wall)
        peak = max(peak, rss)
        bare.append(_timed([sys.executable, "-c", "pass"], log, env)[0])
    return VerifyRow(n_public=4, constraints=int(info["constraints"]), samples=samples, bare_python=bare,
                     load_before=load_before, load_after=os.getloadavg()[0], rss=peak)


# --- the whole run -----------------------------------------------------------------------------------

def parse_sizes(text: str) -> list[int]:
    """``"10-20"``, ``"10,12,16"`` or a mix -> sorted unique exponents."""
    ks: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        ks.update(range(int(lo), int(hi or lo) + 1))
    return sorted(ks)


def run_side_by_side(sizes: Sequence[int], *, repeat: int, repeat_large: int, large_from: int, workdir: Path,
                     rapidsnark: Path | None, snarkjs: list[str] | None, verify_repeat: int,
                     out: Callable[[str], None], progress: Callable[[str], None], snarkjs_up_to: int = 99,
                     saved: Callable[[list[SizeRow], VerifyRow | None], None] = lambda _r, _v: None,
                     resident: bool = True) -> tuple[list[SizeRow], VerifyRow | None]:
    """Every size (:func:`run_size`; snarkjs only up to 2^snarkjs_up_to; with one resident prover for the
    whole run unless ``resident`` is False), then the warm verify (:func:`run_verify`; skipped when
    verify_repeat is 0); ``saved`` receives the results so far after each."""
    rows: list[SizeRow] = []
    with contextlib.ExitStack() as stack:
        rt = stack.enter_context(resident_prover(progress)) if resident else None
        for k in sizes:
            r = run_size(k, workdir / f"k{k}", repeat=repeat if k < large_from else repeat_large,
                         rapidsnark=rapidsnark, snarkjs=snarkjs if k <= snarkjs_up_to else None, progress=progress,
                         resident=rt)
            out(_row_line(r))
            rows.append(r)
            saved(rows, None)
    v = run_verify(workdir / "verify4", repeat=verify_repeat, progress=progress) if verify_repeat else None
    saved(rows, v)
    return rows, v


def load_results(paths: Sequence[Path]) -> tuple[list[SizeRow], VerifyRow | None]:
    """The rows and the verify line of saved ``--json`` files, merged (a size in a later file replaces it)."""
    by_k: dict[int, SizeRow] = {}
    verify = None
    for path in paths:
        doc = json.loads(Path(path).read_text())
        for d in doc["rows"]:
            by_k[d["k"]] = SizeRow(**{f: d[f] for f in SizeRow.__dataclass_fields__})
        if doc.get("verify"):
            v = doc["verify"]
            verify = VerifyRow(**{f: v[f] for f in VerifyRow.__dataclass_fields__ if f != "median"})
    return [by_k[k] for k in sorted(by_k)], verify


def report_text(rows: Sequence[SizeRow], verify: VerifyRow | None) -> str:
    """The markdown table, the verify line and the goals."""
    return markdown_table(rows, verify) + "\nGoals (issue 13):\n\n" + _goal_text(goals(rows, verify))


def _row_line(r: SizeRow) -> str:
    cells = ", ".join(f"{t} {r.median[t]:.3f}" for t in TOOLS if t in r.median)
    return f"2^{r.k}: {cells} s [load {r.load_before:.2f}/{r.load_after:.2f}]"


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _mib(n: int | None) -> str:
    return "-" if not n else f"{n / 2**20:,.0f}"


def markdown_table(rows: Sequence[SizeRow], verify: VerifyRow | None) -> str:
    """The side-by-side table, the verify line and the legend, in markdown."""
    head = ["size", "constraints", "rounds", "zkmargin CLI s", "zkmargin CLI (resident) s", "in-process read + prove s",
            "in-process prove s", "CLI - prove s", "resident - prove s", "rapidsnark CLI s", "snarkjs CLI s",
            "rapidsnark / CLI", "rapidsnark / resident",
            "peak RSS MiB (CLI / in-proc / resident server / rapidsnark / snarkjs)", "load 1 min"]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(["---:"] * len(head)) + "|"]
    for r in rows:
        m = r.median
        out.append("| " + " | ".join([
            f"2^{r.k}", f"{r.constraints:,}", str(r.repeat), _fmt(m.get("zkmargin_cli")),
            _fmt(m.get("zkmargin_resident")), _fmt(m.get("inproc_files")), _fmt(m.get("inproc_prove")),
            f"{r.cli_overhead:+.3f}", "-" if r.resident_overhead is None else f"{r.resident_overhead:+.3f}",
            _fmt(m.get("rapidsnark")), _fmt(m.get("snarkjs")), "-" if r.ratio is None else f"{r.ratio:.2f}x",
            "-" if r.ratio_resident is None else f"{r.ratio_resident:.2f}x",
            " / ".join(_mib(r.rss.get(t)) for t in ("zkmargin_cli", "inproc", "resident_server", "rapidsnark",
                                                    "snarkjs")),
            f"{r.load_before:.2f} / {r.load_after:.2f}",
        ]) + " |")
    out.append("")
    out.append(f"Seconds: medians over the rounds, tools interleaved (order rotating); {os.cpu_count()} CPUs, "
               f"{platform.machine()}, Python {platform.python_version()}. Every tool's proof verified with "
               "zkmargin.verifier. rapidsnark / CLI above 1: zkmargin's CLI is faster. CLI (resident): the same "
               "command with a resident prover running (zkmargin prover start; the key parsed at the untimed "
               "warm-up run). load: 1-minute load average before / after the size's rounds.")
    if verify is not None:
        v = verify
        out.append("")
        out.append(f"Warm `zkmargin verify --pairing-only`, {v.n_public} public inputs ({v.constraints:,} "
                   f"constraints), {len(v.samples)} new processes: median {v.median:.3f} s (min "
                   f"{min(v.samples):.3f}, max {max(v.samples):.3f}; peak RSS {_mib(v.rss)} MiB); a bare "
                   f"`python -c pass`: median {statistics.median(v.bare_python):.3f} s; load "
                   f"{v.load_before:.2f} / {v.load_after:.2f}.")
    return "\n".join(out) + "\n"


def goals(rows: Sequence[SizeRow], verify: VerifyRow | None) -> list[tuple[str, bool | None, str]]:
    """Issue 13's goals as (goal, met: True/False/None when not measured, the figures)."""
    res: list[tuple[str, bool | None, str]] = []
    r16 = next((r for r in rows if r.k == 16), None)
    res.append((f"CLI prove at 2^16 at most {CLI_OVER_INPROC_GOAL_S} s above the in-process prove",
                None if r16 is None else r16.cli_overhead <= CLI_OVER_INPROC_GOAL_S,
                "-" if r16 is None else f"{r16.median['zkmargin_cli']:.3f} - {r16.median['inproc_prove']:.3f} = "
                f"{r16.cli_overhead:+.3f} s (over read + prove: "
                f"{r16.median['zkmargin_cli'] - r16.median['inproc_files']:+.3f} s)"))
    ro = None if r16 is None else r16.resident_overhead
    res.append((f"CLI prove with a resident prover at 2^16 at most {CLI_OVER_INPROC_GOAL_S} s above the in-process "
                "prove", None if ro is None else ro <= CLI_OVER_INPROC_GOAL_S,
                "-" if r16 is None or ro is None else f"{r16.median['zkmargin_resident']:.3f} - "
                f"{r16.median['inproc_prove']:.3f} = {ro:+.3f} s"))
    for label, ratio in (("CLI prove", lambda r: r.ratio), ("CLI prove with a resident prover",
                                                           lambda r: r.ratio_resident)):
        with_rs = [(r, ratio(r)) for r in rows if ratio(r) is not None]
        slower = [f"2^{r.k} ({x:.2f}x)" for r, x in with_rs if x <= 1.0]
        res.append((f"{label} faster than rapidsnark's CLI at every size",
                    None if not with_rs else not slower,
                    "rapidsnark not run" if not with_rs else
                    (f"slower or equal at {', '.join(slower)}" if slower else
                     f"faster at all {len(with_rs)} sizes (min ratio {min(x for _r, x in with_rs):.2f}x)")))
    res.append((f"warm CLI verify of a 4-input proof in at most {VERIFY_GOAL_S} s",
                None if verify is None else verify.median <= VERIFY_GOAL_S,
                "-" if verify is None else f"median {verify.median:.3f} s"))
    return res


def _goal_text(g: Sequence[tuple[str, bool | None, str]]) -> str:
    word = {True: "MET", False: "NOT MET", None: "not measured"}
    return "\n".join(f"- {name}: **{word[ok]}** ({fig})" for name, ok, fig in g) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10-20", help="exponents k: '10-20', '10,12,16' (default 10-20)")
    ap.add_argument("--repeat", type=int, default=5, help="rounds per size below --large-from (default 5)")
    ap.add_argument("--repeat-large", type=int, default=2, help="rounds per size from --large-from (default 2)")
    ap.add_argument("--large-from", type=int, default=18, help="(default 18)")
    ap.add_argument("--rapidsnark", help="rapidsnark's prover binary (default: $ZKMARGIN_RAPIDSNARK, or "
                    "rapidsnark on PATH; absent: no column)")
    ap.add_argument("--no-rapidsnark", action="store_true")
    ap.add_argument("--no-snarkjs", action="store_true", help="skip snarkjs (default: when it is found)")
    ap.add_argument("--no-resident-column", action="store_true",
                    help="skip the zkmargin CLI (resident) column (default: one resident prover for the run)")
    ap.add_argument("--verify-repeat", type=int, default=9, help="warm verify runs (0: skip; default 9)")
    ap.add_argument("--workdir", type=Path, help="keep (and reuse) the keys and proofs here")
    ap.add_argument("--snarkjs-up-to", type=int, default=99, metavar="K",
                    help="run snarkjs only up to 2^K (its CLI takes minutes a proof at 2^20 on 2 busy cores)")
    ap.add_argument("--json", type=Path, help="write every row and sample as JSON (after each size)")
    ap.add_argument("--md", type=Path, help="write the markdown table and the goals here")
    ap.add_argument("--report", type=Path, nargs="+", metavar="JSON",
                    help="measure nothing: print the table and goals of saved --json files (merged by size)")
    a = ap.parse_args(argv)
    if a.report:
        text = report_text(*load_results(a.report))
        print(text)
        if a.md:
            a.md.write_text(text)
        return 0
    if min(a.repeat, a.repeat_large) < 1 or a.verify_repeat < 0:
        ap.error("--repeat and --repeat-large must be at least 1, --verify-repeat at least 0")
    sizes = parse_sizes(a.sizes)
    for k in sizes:
        sweep_shape(k)
    rapidsnark = None if a.no_rapidsnark else find_rapidsnark(a.rapidsnark)
    snarkjs = None if a.no_snarkjs else snarkjs_command()
    t0 = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"  .. [{time.perf_counter() - t0:.0f}s] {msg}", file=sys.stderr, flush=True)

    def save(rows: list[SizeRow], v: VerifyRow | None) -> None:
        if a.json:
            a.json.write_text(json.dumps({
                "command": command, "rapidsnark": str(rapidsnark) if rapidsnark else None, "snarkjs": snarkjs,
                "cpus": os.cpu_count(), "rows": [r.to_dict() for r in rows], "verify": v.to_dict() if v else None,
                "goals": [{"goal": n, "met": ok, "figures": f} for n, ok, f in goals(rows, v)]}, indent=1) + "\n")

    command = "python -P -m zkmargin.benchmarks.side_by_side " + " ".join(sys.argv[1:] if argv is None else argv)
    print("$ " + command)
    sj = " ".join(snarkjs) if snarkjs else "not found (no column)"
    print(f"rapidsnark: {rapidsnark or 'not found (no column)'}; snarkjs: {sj}; load {os.getloadavg()[0]:.2f}",
          flush=True)
    with work_folder(a.workdir, "zkmargin-side-by-side-") as workdir:
        rows, v = run_side_by_side(sizes, repeat=a.repeat, repeat_large=a.repeat_large, large_from=a.large_from,
                                   workdir=workdir, rapidsnark=rapidsnark, snarkjs=snarkjs,
                                   verify_repeat=a.verify_repeat, out=lambda s: print(s, flush=True),
                                   progress=progress, snarkjs_up_to=a.snarkjs_up_to, saved=save,
                                   resident=not a.no_resident_column)
    text = report_text(rows, v)
    print(text)
    if a.md:
        a.md.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
