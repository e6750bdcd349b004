"""The venue's batch inputs on disk: a folder of proofs or a manifest, each item with its own statement.

A venue checks many traders' proofs at once, each against that trader's own commitment (and, when
it issued one challenge per trader, that trader's own context). Two ways to say which is which:

Folder (``zkmargin verify VK --batch DIR``): for each proof NAME, either ``NAME.proof.json`` +
``NAME.public.json`` (+ optional ``NAME.commitment.json``, ``NAME.context.json``) or a sub-folder
``NAME/`` with ``proof.json`` + ``public.json`` (+ optional ``commitment.json``, ``context.json``).

Manifest (``zkmargin verify VK --manifest FILE``)::

    {"version": 1, "kind": "verify_manifest",
     "items": [{"label": "alice", "proof": "alice/proof.json", "public": "alice/public.json",
                "commitment": "alice/commitment.json", "context": "ctx/alice.json", "threshold": "1000"}]}

Paths are relative to the manifest's folder. An item's own commitment, context and threshold
override the command's ``--commitment``, ``--context`` and ``--threshold``; every item must end
with all three (a missing one is an error naming the item, never a silent default). Base install.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkmargin.errors import MalformedInputError
from zkmargin.serialize import read_json_file

__all__ = ["BatchEntry", "ITEM_FILES", "entries_from_folder", "entries_from_manifest"]

#: The per-item statement files a batch folder may hold beside each proof, by statement input.
ITEM_FILES = ("commitment", "context")


@dataclass
class BatchEntry:
    """One proof of a batch on disk: its label, its files, and its own statement files or values."""

    label: str
    public: Path
    proof: Path
    own: dict[str, Any] = field(default_factory=dict)  # "commitment"/"context": Path, "threshold": str


def entries_from_folder(directory: str | os.PathLike[str]) -> list[BatchEntry]:
    """Every proof in ``directory`` (module docstring), sorted by NAME.

    Raises:
        MalformedInputError: no proofs, a proof without its public inputs, a NAME given twice.
        NotADirectoryError: not a folder.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    found: dict[str, BatchEntry] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.name.endswith(".proof.json"):
            label = p.name[: -len(".proof.json")]
            entry = BatchEntry(label, p.with_name(label + ".public.json"), p)
            extras = {k: p.with_name(f"{label}.{k}.json") for k in ITEM_FILES}
        elif p.is_dir() and (p / "proof.json").is_file():
            label = p.name
            entry = BatchEntry(label, p / "public.json", p / "proof.json")
            extras = {k: p / f"{k}.json" for k in ITEM_FILES}
        else:
            continue
        if not entry.public.is_file():
            raise MalformedInputError(f"{entry.proof}: no matching public inputs file {entry.public.name}")
        if label in found:
            raise MalformedInputError(f"{folder}: proof {label!r} is given both as a file and as a folder")
        entry.own = {k: v for k, v in extras.items() if v.is_file()}
        found[label] = entry
    if not found:
        raise MalformedInputError(
            f"{folder}: no proofs found (expected NAME.proof.json + NAME.public.json, or NAME/proof.json)")
    return [found[k] for k in sorted(found)]


def entries_from_manifest(path: str | os.PathLike[str]) -> list[BatchEntry]:
    """The items of a verify manifest (module docstring), in file order.

    Raises:
        MalformedInputError: a malformed manifest, naming the item and the field.
    """
    src = Path(path)
    doc = read_json_file(src)
    if not isinstance(doc, dict) or doc.get("kind") != "verify_manifest":
        raise MalformedInputError(f"{src}: kind: expected 'verify_manifest'")
    if doc.get("version") != 1:
        raise MalformedInputError(f"{src}: version: expected 1, got {doc.get('version')!r}")
    items = doc.get("items")
    if not isinstance(items, list) or not items:
        raise MalformedInputError(f"{src}: items: expected a non-empty list")
    base = src.parent
    out: list[BatchEntry] = []
    labels: set[str] = set()
    for i, it in enumerate(items):
        where = f"{src}: items[{i}]"
        if not isinstance(it, dict):
            raise MalformedInputError(f"{where}: expected an object")
        unknown = set(it) - {"label", "proof", "public", "commitment", "context", "threshold"}
        if unknown:
            raise MalformedInputError(f"{where}: unknown field(s) {sorted(unknown)}")
        label = it.get("label", f"item {i}")
        if not isinstance(label, str) or not label:
            raise MalformedInputError(f"{where}.label: expected a non-empty string")
        if label in labels:
            raise MalformedInputError(f"{where}.label: {label!r} is used twice")
        labels.add(label)
        files: dict[str, Path] = {}
        for key in ("proof", "public", "commitment", "context"):
            v = it.get(key)
            if v is None and key in ("commitment", "context"):
                continue
            if not isinstance(v, str) or not v:
                raise MalformedInputError(f"{where}.{key}: expected a path (a string)")
            p = base / v
            if not p.is_file():
                raise MalformedInputError(f"{where}.{key}: {p}: file not found")
            files[key] = p
        entry = BatchEntry(label, files["public"], files["proof"],
                           {k: files[k] for k in ITEM_FILES if k in files})
        if "threshold" in it:
            t = it["threshold"]
            if not isinstance(t, str | int) or isinstance(t, bool):
                raise MalformedInputError(f"{where}.threshold: expected a decimal string, got {t!r:.60}")
            entry.own["threshold"] = str(t)
        out.append(entry)
    return out
