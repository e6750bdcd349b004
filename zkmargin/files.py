"""One rule for every command's outputs: never destroy an input, a secret, or keys without --force.

A trader's salt (or secret key) is the only way to open their commitment; a venue's keys are what
every outstanding proof verifies against. So before a command writes anything, ``check_outputs``
refuses, with the option and the path named:

* an output that is also an input of the same command (``prove --proof salt.json --salt
  salt.json``), or two outputs that are the same file;
* an output that is an existing secret file: a JSON document whose ``kind`` is one of
  ``SECRET_KINDS`` (salt files, trader keys), whatever the command;
* an existing output that the command marks as ``protected`` (``setup``'s proving and verifying
  keys), unless the user passed ``--force``.

Secrets themselves are written owner-only from their first byte (``write_secret_text``).
Base install only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from zkmargin.errors import UnsafeOutputError
from zkmargin.serialize._io import PathLike, atomic_write_text

__all__ = ["SECRET_KINDS", "secret_kind", "check_outputs", "write_secret_text"]

#: ``kind`` values of the JSON documents that hold a secret.
SECRET_KINDS = frozenset({"salt", "trader_key", "secret_key"})

_PEEK = 1 << 16  # a secret document is small; larger files are not parsed


def secret_kind(path: PathLike) -> str | None:
    """The secret ``kind`` of the JSON document at ``path``, or None (not a secret, unreadable, absent)."""
    p = Path(path)
    try:
        if not p.is_file() or p.stat().st_size > _PEEK:
            return None
        data = json.loads(p.read_bytes())
    except (OSError, ValueError):
        return None
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if kind in SECRET_KINDS else None


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(outputs: Mapping[str, PathLike | None], inputs: Mapping[str, PathLike | None],
                  protected: Mapping[str, PathLike | None] | None = None, force: bool = False) -> None:
    """Refuse outputs that would destroy an input, a secret or (without ``force``) protected files.

    Args:
        outputs: option name -> path the command will write (None entries are skipped).
        inputs: option name -> path the command reads.
        protected: option name -> output path that must not be replaced unless ``force``.
        force: the user asked to replace the protected outputs.
    Raises:
        UnsafeOutputError: naming the option, the path and why.
    """
    outs = {k: Path(v) for k, v in outputs.items() if v is not None}
    ins = {k: Path(v) for k, v in inputs.items() if v is not None}
    seen: dict[str, str] = {}
    for name, path in outs.items():
        key = os.path.normcase(os.path.abspath(path))
        if key in seen:
            raise UnsafeOutputError(f"{name} {path}: the same file as {seen[key]}; give each output its own path")
        seen[key] = name
        for in_name, in_path in ins.items():
            if _same(path, in_path) or os.path.abspath(path) == os.path.abspath(in_path):
                raise UnsafeOutputError(f"{name} {path}: is also this command's input {in_name}; writing it would "
                                        f"destroy the input: choose another path")
        kind = secret_kind(path)
        if kind is not None:
            raise UnsafeOutputError(f"{name} {path}: holds a secret ({kind}); refusing to overwrite it: losing it "
                                    f"makes what it opens worthless: choose another path")
        for others in outs.items():
            if others[0] != name and _same(path, others[1]):
                raise UnsafeOutputError(f"{name} {path}: the same file as {others[0]}")
    if protected and not force:
        for pname, ppath in protected.items():
            if ppath is not None and Path(ppath).exists():
                raise UnsafeOutputError(f"{pname} {ppath}: exists; replacing it invalidates everything made with it "
                                        f"(every outstanding proof, for keys): pass --force to replace it")


def write_secret_text(path: PathLike, text: str) -> None:
    """Write a secret atomically, owner-only (0600) from its first byte; never over an existing file.

    Raises:
        FileExistsError: the file exists (it may hold the only copy of a secret).
    """
    p = Path(path)
    if p.exists() or p.is_symlink():
        raise FileExistsError(17, "refusing to overwrite an existing file with a secret", str(p))
    atomic_write_text(p, text, mode=0o600)
