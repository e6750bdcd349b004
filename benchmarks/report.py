"""The bench's outputs: CSV, markdown and JSON tables, and matplotlib plots (PNG).

:func:`write_reports` writes, into one folder,

- ``bench.csv`` (one row per case, the phases as columns), ``bench.md`` (a markdown table with the
  machine, the load averages and the legend), ``bench.json`` (every field of every row, samples
  included);
- with matplotlib (``pip install 'zkmargin[bench]'``): ``time_vs_size.png`` (prove time against
  constraints, one line per model, log-log), ``constraints_vs_size.png`` (constraints against the
  portfolio size, one line per model), ``phases.png`` (a stacked bar of the prover's phases per
  case) and, when snarkjs ran, ``vs_snarkjs.png`` (zkmargin's CLI-like time and snarkjs's per case).

Without matplotlib the tables are written and the plots are skipped with a note.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path

from zkmargin.benchmarks.prover_bench import PHASES, BenchRow
from zkmargin.serialize._io import atomic_write_text

__all__ = ["write_reports", "csv_text", "markdown_text", "plot_rows", "COLUMNS"]

#: The CSV columns (seconds, bytes), in order.
COLUMNS = ("case", "model", "positions", "scenarios", "assets", "constraints", "n_wires", "domain_size", "setup_s",
           *PHASES, "prove_s", "prove_cpu_s", "read_s", "files_s", "snarkjs_s", "ratio", "peak_rss",
           "setup_rss", "zkey_bytes", "proof_json_bytes", "calldata_bytes", "repeat", "load_before", "load_after")


def _value(r: BenchRow, col: str) -> object:
    if col in PHASES:
        return round(r.phases.get(col, 0.0), 6)
    v = r.ratio if col == "ratio" else getattr(r, col)
    return round(v, 6) if isinstance(v, float) else v


def csv_text(rows: Sequence[BenchRow]) -> str:
    """The rows as CSV (header :data:`COLUMNS`; empty cells for values that do not apply)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(["" if (v := _value(r, c)) is None else v for c in COLUMNS])
    return buf.getvalue()


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def markdown_text(rows: Sequence[BenchRow]) -> str:
    """A markdown table of the rows with the machine, the loads and a legend."""
    head = ["case", "constraints", "domain", "setup s", *(f"{p} s" for p in PHASES), "prove s", "files s",
            "snarkjs s", "snarkjs/ours", "peak RSS MiB", "proof.json B", "load"]
    out = [f"zkmargin bench on {_machine()}", "", "| " + " | ".join(head) + " |",
           "|" + "|".join("---:" if i else ":---" for i in range(len(head))) + "|"]
    for r in rows:
        cells = [r.case or f"2^{r.k}", f"{r.constraints:,}", f"2^{r.k}", f"{r.setup_s:.2f}",
                 *(f"{r.phases.get(p, 0.0):.3f}" for p in PHASES), f"{r.prove_s:.3f}", f"{r.files_s:.3f}",
                 "-" if r.snarkjs_s is None else f"{r.snarkjs_s:.3f}",
                 "-" if r.ratio is None else f"{r.ratio:.1f}x", f"{r.peak_rss / 2**20:.0f}", str(r.proof_json_bytes),
                 f"{r.load_before:.1f}/{r.load_after:.1f}"]
        out.append("| " + " | ".join(cells) + " |")
    if rows:
        out += ["", f"Seconds: median of {rows[0].repeat} round(s) after a warm-up proof. prove = from a key in "
                "memory (the sum of the phases); files = reading the .zkey and .wtns and proving (what snarkjs's "
                "groth16.prove does per call); snarkjs/ours = snarkjs's time over files. load = 1-minute load "
                "average before/after the rounds (the machine may be shared: compare within one run)."]
    return "\n".join(out) + "\n"


def _groups(rows: Sequence[BenchRow]) -> dict[str, list[BenchRow]]:
    groups: dict[str, list[BenchRow]] = {}
    for r in rows:
        groups.setdefault(r.model, []).append(r)
    return groups


def _size_of(r: BenchRow) -> int:
    """The portfolio size a model's curve runs over (positions; assets for health)."""
    return int(r.positions if r.positions is not None else (r.assets or 0))


def plot_rows(rows: Sequence[BenchRow], out_dir: Path) -> list[Path]:
    """Write the PNG plots of the module docstring into ``out_dir``; returns their paths.

    Raises:
        ImportError: matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    groups = _groups(rows)
    loads = f"load {min(r.load_before for r in rows):.1f}-{max(r.load_after for r in rows):.1f}" if rows else ""
    sub = f"{_machine()}; {loads}"

    def save(fig: object, name: str) -> None:
        path = out_dir / name
        fig.savefig(path, dpi=110, bbox_inches="tight")  # type: ignore[attr-defined]
        plt.close(fig)  # type: ignore[arg-type]
        written.append(path)

    # 1. prove time against constraints, per model
    colors = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(groups)}  # one colour per model
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for model, rs in groups.items():
        rs = sorted(rs, key=lambda r: r.constraints)
        ax.plot([r.constraints for r in rs], [r.prove_s for r in rs], marker="o", color=colors[model],
                label=f"{model}: zkmargin")
        if any(r.snarkjs_s is not None for r in rs):
            sj = [r for r in rs if r.snarkjs_s is not None]
            ax.plot([r.constraints for r in sj], [r.snarkjs_s for r in sj], marker="x", linestyle="--",
                    color=colors[model], label=f"{model}: snarkjs")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("constraints")
    ax.set_ylabel("prove time, key in memory (s); snarkjs: read + prove")
    ax.set_title(f"Prove time against circuit size\n{sub}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: the lines stay visible
    save(fig, "time_vs_size.png")

    # 2. constraints against portfolio size, per margin model
    models = {m: rs for m, rs in groups.items() if m != "synthetic"}
    if models:
        fig, ax = plt.subplots(figsize=(7.5, 5))
        for model, rs in models.items():
            rs = sorted(rs, key=_size_of)
            ax.plot([_size_of(r) for r in rs], [r.constraints for r in rs], marker="o", color=colors[model],
                    label=model)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("portfolio size (positions; assets for health)")
        ax.set_ylabel("constraints")
        ax.set_title("Constraints against portfolio size per margin model", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, "constraints_vs_size.png")

    # 3. stacked per-phase bar
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(rows) + 2), 5))
    labels = [r.case or f"2^{r.k}" for r in rows]
    bottom = [0.0] * len(rows)
    for p in PHASES:
        vals = [r.phases.get(p, 0.0) for r in rows]
        ax.bar(labels, vals, bottom=bottom, label=p)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    reads = [r.read_s for r in rows]
    ax.bar(labels, reads, bottom=bottom, label="read .zkey+.wtns", hatch="//", alpha=0.6)
    ax.set_ylabel("seconds (median)")
    ax.set_title(f"Prover time per phase\n{sub}", fontsize=10)
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    ax.legend(fontsize=8)
    save(fig, "phases.png")

    # 4. zkmargin against snarkjs
    sj_rows = [r for r in rows if r.snarkjs_s is not None]
    if sj_rows:
        fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(sj_rows) + 2), 5))
        xs = range(len(sj_rows))
        ax.bar([x - 0.2 for x in xs], [r.files_s for r in sj_rows], width=0.4, label="zkmargin (read + prove)")
        ax.bar([x + 0.2 for x in xs], [r.snarkjs_s or 0.0 for r in sj_rows], width=0.4, label="snarkjs groth16.prove")
        for x, r in zip(xs, sj_rows, strict=True):
            ax.annotate(f"{r.ratio:.1f}x", (x + 0.2, r.snarkjs_s or 0.0), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(list(xs), [r.case or f"2^{r.k}" for r in sj_rows], rotation=60, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("seconds (median, same files, rounds interleaved)")
        ax.set_title(f"zkmargin against snarkjs\n{sub}", fontsize=10)
        ax.legend(fontsize=8)
        save(fig, "vs_snarkjs.png")
    return written


def write_reports(rows: Sequence[BenchRow], out_dir: Path, *, plots: bool = True) -> tuple[list[Path], str | None]:
    """Write bench.csv, bench.md, bench.json and (``plots``) the PNGs into ``out_dir``.

    Returns (paths written, a note when the plots were skipped).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in (("bench.csv", csv_text(rows)), ("bench.md", markdown_text(rows)),
                       ("bench.json", json.dumps([r.to_dict() for r in rows], indent=1) + "\n")):
        atomic_write_text(out_dir / name, text)
        paths.append(out_dir / name)
    note = None
    if plots and rows:
        try:
            paths += plot_rows(rows, out_dir)
        except ImportError:
            note = "plots skipped: matplotlib is not installed (pip install 'zkmargin[bench]')"
    return paths, note
