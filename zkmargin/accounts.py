"""The venue's account tree: trader keys, account snapshots, ``accounts build``, root and openings.

Who holds what:

* a **trader** draws a secret key k (``new_key``; ``zkmargin key new -o trader.key``, written
  owner-only and never overwritten) and registers only ``key_commitment(k)`` with the venue;
* the **venue** snapshots every account each epoch (a folder of portfolio files and/or a JSONL
  file, each with an ``account_id`` and the registered ``key_commitment``), gives each account a
  salt (uniform in [0, r), or the account's own ``salt`` when the snapshot carries one), puts
  ``account_leaf(model_digest, A, salt, key_commitment)`` at slot i (the snapshot order) of a
  Poseidon tree (``zkmargin.merkle``), publishes ``root.json`` and hands each trader only their
  ``openings/<account_id>.json`` (salt, leaf index, path).

Documents (JSON, ``version`` 1; field elements as decimal strings):

    root.json     {"kind": "account_root", "model_id", "model_digest", "epoch", "depth", "count",
                   "root"}
    opening.json  {"kind": "account_opening", "account_id", "model_id", "epoch", "depth", "root",
                   "leaf_index", "salt", "key_commitment", "leaf", "path": [depth siblings]}
    trader.key    {"kind": "trader_key", "key", "key_commitment"}       (0600, the trader's only)

A snapshot entry is a portfolio document (``zkmargin.margin.load_portfolio``) with the extra
fields ``account_id`` (1..128 characters of ``[A-Za-z0-9._-]``, not starting with a dot: it
names the opening file), ``key_commitment`` and, optionally, ``salt``. Every error names the
source, the account and the field.

``build_accounts`` writes everything into a fresh temporary folder beside the destination and
renames it into place at the end: the destination is either absent or complete. It hashes with
the numba Poseidon (``zkmargin._numba_poseidon``) when numba is installed, else in pure Python;
the two give identical trees (a test builds both). Base install: this module imports neither
numba nor numpy unless ``build_accounts`` is asked to use them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkmargin.encoding import (
    TAG_ACCOUNT_LEAF,
    account_leaf,
    key_commitment,
    random_salt,
    sponge_iv,
)
from zkmargin.errors import MalformedInputError
from zkmargin.field import R
from zkmargin.margin.errors import SchemaError
from zkmargin.margin.model import VenueModel, account_layout, layout_length, model_digest
from zkmargin.margin.schema import load_portfolio
from zkmargin.merkle import MAX_DEPTH, check_depth, merkle_path, root_from_path, tree_levels, zero_hashes
from zkmargin.serialize import read_json_file
from zkmargin.serialize._io import atomic_write_text

__all__ = [
    "TraderKey",
    "new_key",
    "write_key",
    "load_key",
    "RootDocument",
    "Opening",
    "load_root",
    "load_opening",
    "SnapshotAccount",
    "read_snapshots",
    "build_accounts",
    "BuildResult",
    "ACCOUNT_ID",
    "ATTESTED_PUBLIC_INPUTS",
    "leaves_of",
    "check_opening_for",
]

log = logging.getLogger(__name__)

#: The public inputs of a venue-attested proof, in order (``zkmargin.circuits.margin.attested``).
ATTESTED_PUBLIC_INPUTS = ("account_root", "market_digest", "threshold", "context", "nullifier")

#: What an account id may look like (it names the account's opening file).
ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")

Progress = Callable[[str, int, int], None]  # (stage, done, total)


# --- the trader's key ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TraderKey:
    """A trader's secret key and its public commitment (what the venue registers)."""

    key: int
    key_commitment: int

    def __repr__(self) -> str:  # never print the key by accident
        return f"TraderKey(key=<secret>, key_commitment={self.key_commitment})"


def new_key() -> TraderKey:
    """A fresh key, uniform in [1, r) from the OS CSPRNG (``secrets``)."""
    k = 1 + secrets.randbelow(R - 1)
    return TraderKey(k, key_commitment(k))


def write_key(key: TraderKey, path: str | os.PathLike[str]) -> None:
    """Write a key file readable by its owner only, from the first byte; never overwrites.

    ``os.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)``: an existing file (or a link) is
    refused, and the file never exists with wider permissions.

    Raises:
        FileExistsError: the file exists (it may be the only copy of a key).
        OSError: the folder is missing or not writable (nothing is left behind).
    """
    text = json.dumps({"version": 1, "kind": "trader_key", "key": str(key.key),
                       "key_commitment": str(key.key_commitment)}, indent=2) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(path)
        raise


def _doc(src: str | os.PathLike[str] | dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    if isinstance(src, dict):
        name, data = kind, src
    else:
        name, data = str(src), read_json_file(src)
    if not isinstance(data, dict):
        raise SchemaError(name, "", f"expected a JSON object (a {kind} document)")
    if data.get("kind") != kind:
        raise SchemaError(name, "kind", f"expected {kind!r}, got {data.get('kind')!r:.60}")
    if data.get("version") != 1:
        raise SchemaError(name, "version", f"expected 1, got {data.get('version')!r:.60}")
    return name, data


def _fe(name: str, d: dict[str, Any], key: str, what: str = "a field element") -> int:
    if key not in d:
        raise SchemaError(name, key, "missing field")
    v = d[key]
    if not isinstance(v, str) or not v.isascii() or not v.isdigit():
        raise SchemaError(name, key, f"expected {what} as a decimal string, got {v!r:.60}")
    x = int(v)
    if x >= R:
        raise SchemaError(name, key, f"{x} is not {what} (not below r)")
    return x


def _int(name: str, d: dict[str, Any], key: str, lo: int, hi: int) -> int:
    if key not in d:
        raise SchemaError(name, key, "missing field")
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise SchemaError(name, key, f"expected an integer in [{lo}, {hi}], got {v!r:.60}")
    return v


def _str(name: str, d: dict[str, Any], key: str) -> str:
    v = d.get(key)
    if not isinstance(v, str) or not v:
        raise SchemaError(name, key, f"expected a non-empty string, got {v!r:.60}")
    return v


def load_key(src: str | os.PathLike[str] | dict[str, Any]) -> TraderKey:
    """Load a key file; checks that the stored key commitment is the key's.

    Raises:
        SchemaError: malformed, or the commitment does not match the key (names the field).
    """
    name, d = _doc(src, "trader_key")
    k = _fe(name, d, "key", "a key (a field element)")
    kc = _fe(name, d, "key_commitment")
    if key_commitment(k) != kc:
        raise SchemaError(name, "key_commitment", "is not the commitment of this key (the file is corrupt)")
    return TraderKey(k, kc)


# --- root and opening documents ------------------------------------------------------------------

@dataclass(frozen=True)
class RootDocument:
    """What the venue publishes per epoch: the account root and what it is a root of."""

    model_id: str
    model_digest: int
    epoch: int
    depth: int
    count: int
    root: int

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "kind": "account_root", "model_id": self.model_id,
                "model_digest": str(self.model_digest), "epoch": self.epoch, "depth": self.depth,
                "count": self.count, "root": str(self.root)}


@dataclass(frozen=True)
class Opening:
    """What the venue hands one trader: where the account's leaf is and how it opens."""

    account_id: str
    model_id: str
    epoch: int
    depth: int
    root: int
    leaf_index: int
    salt: int
    key_commitment: int
    leaf: int
    path: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "kind": "account_opening", "account_id": self.account_id, "model_id": self.model_id,
                "epoch": self.epoch, "depth": self.depth, "root": str(self.root), "leaf_index": self.leaf_index,
                "salt": str(self.salt), "key_commitment": str(self.key_commitment), "leaf": str(self.leaf),
                "path": [str(p) for p in self.path]}


_U64 = (1 << 64) - 1


def load_root(src: str | os.PathLike[str] | dict[str, Any]) -> RootDocument:
    """Load and validate a root document. Raises SchemaError naming the field."""
    name, d = _doc(src, "account_root")
    depth = _int(name, d, "depth", 1, MAX_DEPTH)
    return RootDocument(model_id=_str(name, d, "model_id"), model_digest=_fe(name, d, "model_digest"),
                        epoch=_int(name, d, "epoch", 0, _U64), depth=depth,
                        count=_int(name, d, "count", 0, 1 << depth), root=_fe(name, d, "root"))


def load_opening(src: str | os.PathLike[str] | dict[str, Any]) -> Opening:
    """Load and validate an opening; checks that its leaf and path reach its root.

    Raises:
        SchemaError: malformed, or the path does not lead from the leaf to the root (names the field).
    """
    name, d = _doc(src, "account_opening")
    depth = _int(name, d, "depth", 1, MAX_DEPTH)
    index = _int(name, d, "leaf_index", 0, (1 << depth) - 1)
    path = d.get("path")
    if not isinstance(path, list) or len(path) != depth:
        raise SchemaError(name, "path", f"expected a list of {depth} siblings (the depth), got {str(path):.60}")
    sib = tuple(_fe(name, {f"path[{i}]": v}, f"path[{i}]") for i, v in enumerate(path))
    op = Opening(account_id=_str(name, d, "account_id"), model_id=_str(name, d, "model_id"),
                 epoch=_int(name, d, "epoch", 0, _U64), depth=depth, root=_fe(name, d, "root"), leaf_index=index,
                 salt=_fe(name, d, "salt"), key_commitment=_fe(name, d, "key_commitment"), leaf=_fe(name, d, "leaf"),
                 path=sib)
    if root_from_path(op.leaf, op.leaf_index, op.path) != op.root:
        raise SchemaError(name, "path", "the leaf, leaf_index and path do not lead to the root (a damaged opening)")
    return op


# --- snapshots -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SnapshotAccount:
    """One account of a venue snapshot: its id, account vector, registered key commitment, salt."""

    account_id: str
    values: list[int]
    key_commitment: int
    salt: int | None
    source: str


def _parse_entry(model: VenueModel, obj: Any, source: str) -> SnapshotAccount:
    if not isinstance(obj, dict):
        raise SchemaError(source, "", "expected a JSON object (a portfolio with account_id and key_commitment)")
    d = dict(obj)
    aid = d.pop("account_id", None)
    if not isinstance(aid, str) or not ACCOUNT_ID.fullmatch(aid):
        raise SchemaError(source, "account_id", f"expected 1..128 characters of [A-Za-z0-9._-] not starting with "
                                                f"a dot, got {aid!r:.60}")
    where = f"{source}: account {aid!r}"
    kc = _fe(where, d, "key_commitment", "a key commitment (a field element)")
    del d["key_commitment"]
    salt = None
    if "salt" in d:
        salt = _fe(where, d, "salt", "a salt (a field element)")
        del d["salt"]
    pf = load_portfolio(d, model)  # its SchemaError says "portfolio: <field>: ..."; add the account
    return SnapshotAccount(aid, pf.to_field_elements(model), kc, salt, source)


def _entries(model: VenueModel, source: Path) -> Iterator[SnapshotAccount]:
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        for p in files:
            yield _wrap(model, read_json_file(p), str(p))
    elif source.suffix == ".jsonl":
        with open(source, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{source}:{n}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise SchemaError(where, "", f"not JSON: {e.msg} at column {e.colno}") from None
                yield _wrap(model, obj, where)
    else:
        raise SchemaError(str(source), "", "expected a folder of portfolio .json files or a .jsonl file")


def _wrap(model: VenueModel, obj: Any, where: str) -> SnapshotAccount:
    try:
        return _parse_entry(model, obj, where)
    except SchemaError as e:
        if e.source != "portfolio":
            raise
        aid = obj.get("account_id") if isinstance(obj, dict) else None
        raise SchemaError(f"{where}: account {aid!r}", e.path, e.reason) from None


def read_snapshots(model: VenueModel, sources: Sequence[str | os.PathLike[str]]) -> Iterator[SnapshotAccount]:
    """Every account of the snapshot sources, in order (folders: files sorted by name).

    Raises:
        SchemaError: a malformed entry (names the source, the account and the field), or an
            account id seen twice.
    """
    seen: dict[str, str] = {}
    for src in sources:
        for acc in _entries(model, Path(src)):
            if acc.account_id in seen:
                raise SchemaError(acc.source, "account_id", f"{acc.account_id!r} appears twice (also in "
                                                            f"{seen[acc.account_id]})")
            seen[acc.account_id] = acc.source
            yield acc


# --- build ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BuildResult:
    """What ``build_accounts`` wrote."""

    root: RootDocument
    out_dir: Path
    backend: str


def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


class _LeafHasher:
    """Leaves of a stream of accounts, hashed in chunks (numba) or one by one (pure Python)."""

    def __init__(self, digest: int, length: int, backend: str) -> None:
        self.digest, self.length, self.backend = digest, length, backend
        self.leaves: list[int] = []
        self._rows: list[list[int]] = []
        if backend == "numba":
            from zkmargin import _numba_poseidon

            self._np = _numba_poseidon
            self._iv = sponge_iv(TAG_ACCOUNT_LEAF, length + 3)

    def add(self, values: list[int], salt: int, kc: int) -> None:
        if self.backend == "python":
            self.leaves.append(account_leaf(self.digest, values, salt, kc))
            return
        self._rows.append([self.digest, salt, kc, *values])
        if len(self._rows) >= 1 << 15:
            self.flush()

    def flush(self) -> None:
        if self.backend == "python" or not self._rows:
            return
        P = self._np
        n, m = len(self._rows), self.length + 3
        arr = P.ints_to_limbs((v for row in self._rows for v in row), (n * m,))
        mont = P.to_mont(arr).reshape(n, m, 4)
        self.leaves.extend(P.limbs_to_ints(P.from_mont(P.sponge_hashes(mont, self._iv))))
        self._rows = []


def _levels(leaves: list[int], depth: int, backend: str, progress: Progress | None) -> list[list[int]]:
    if backend == "python":
        return tree_levels(leaves, depth)
    from zkmargin import _numba_poseidon as P

    z = zero_hashes(depth)
    levels = [leaves]
    cur = P.to_mont(P.ints_to_limbs(leaves)) if leaves else None
    for k in range(depth):
        if cur is None:
            levels.append([])
            continue
        cur = P.hash_level(cur, z[k])
        levels.append(P.limbs_to_ints(P.from_mont(cur)))
        if progress:
            progress("tree", k + 1, depth)
    if not levels[depth]:
        levels[depth] = [z[depth]]
    return levels


def build_accounts(model: VenueModel, sources: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str], *,
                   epoch: int, depth: int = 20, backend: str = "auto", progress: Progress | None = None,
                   salt_source: Callable[[], int] = random_salt) -> BuildResult:
    """Build the venue's account tree from snapshots and write ``out_dir/root.json`` and the openings.

    Args:
        model: the venue model every account is read under (its digest goes into each leaf).
        sources: snapshot folders (portfolio ``.json`` files) and/or ``.jsonl`` files.
        out_dir: the destination folder; must not exist yet (written via a temporary folder and
            renamed into place, so it is either absent or complete).
        epoch: the epoch the root is for (the market data's epoch). depth: 1..32.
        backend: "numba", "python" or "auto" (numba when installed).
        progress: called as ``progress(stage, done, total)`` on long work ("accounts", "tree", "openings").
        salt_source: where fresh salts come from (default ``random_salt``: uniform in [0, r)).
    Returns:
        The root document and where it was written.
    Raises:
        SchemaError: a malformed snapshot entry (names the account and the field), a duplicate
            account id, more accounts than ``2**depth``, no accounts.
        FileExistsError: ``out_dir`` exists. ValueError: bad depth, epoch or backend.
    """
    d = check_depth(depth)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch <= _U64:
        raise ValueError(f"an epoch is an integer in [0, 2**64), got {epoch!r}")
    if backend == "auto":
        backend = "numba" if _numba_available() else "python"
    if backend not in ("numba", "python"):
        raise ValueError(f"backend is 'numba', 'python' or 'auto', got {backend!r}")
    out = Path(out_dir)
    if out.exists():
        raise FileExistsError(17, "the output folder exists; choose a new folder per epoch", str(out))
    digest = model_digest(model)
    length = layout_length(account_layout(model))
    hasher = _LeafHasher(digest, length, backend)
    ids: list[str] = []
    salts: list[int] = []
    kcs: list[int] = []
    for acc in read_snapshots(model, sources):
        if len(ids) >= 1 << d:
            raise SchemaError(acc.source, "", f"more than {1 << d} accounts do not fit a tree of depth {d}")
        salt = salt_source() if acc.salt is None else acc.salt
        ids.append(acc.account_id)
        salts.append(salt)
        kcs.append(acc.key_commitment)
        hasher.add(acc.values, salt, acc.key_commitment)
        if progress and len(ids) % 10000 == 0:
            progress("accounts", len(ids), 0)
    hasher.flush()
    if not ids:
        raise SchemaError(", ".join(map(str, sources)), "", "no accounts in the snapshot")
    if progress:
        progress("accounts", len(ids), len(ids))
    levels = _levels(hasher.leaves, d, backend, progress)
    root = RootDocument(model.model_id, digest, epoch, d, len(ids), levels[d][0])
    _write_outputs(out, root, ids, salts, kcs, levels, progress)
    log.info("built the account tree of %d accounts at depth %d (%s backend): root %d", len(ids), d, backend, root.root)
    return BuildResult(root, out, backend)


def _write_outputs(out: Path, root: RootDocument, ids: list[str], salts: list[int], kcs: list[int],
                   levels: list[list[int]], progress: Progress | None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{secrets.token_hex(6)}"
    tmp.mkdir(mode=0o700)
    try:
        op_dir = tmp / "openings"
        op_dir.mkdir(mode=0o700)
        head = (f'{{"version": 1, "kind": "account_opening", "model_id": {json.dumps(root.model_id)}, '
                f'"epoch": {root.epoch}, "depth": {root.depth}, "root": "{root.root}", ')
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        n = len(ids)
        for i, aid in enumerate(ids):
            path = merkle_path(levels, i)
            text = (head + f'"account_id": {json.dumps(aid)}, "leaf_index": {i}, "salt": "{salts[i]}", '
                    f'"key_commitment": "{kcs[i]}", "leaf": "{levels[0][i]}", "path": ['
                    + ", ".join(f'"{p}"' for p in path) + "]}\n")
            try:
                fd = os.open(op_dir / f"{aid}.json", flags, 0o600)  # the salt: for that trader only
            except FileExistsError:
                raise SchemaError("snapshot", "account_id", f"{aid!r}: its opening file name is taken by another "
                                  "account's (ids differing only in case, on a case-insensitive file system)") from None
            try:
                os.write(fd, text.encode("ascii"))
            finally:
                os.close(fd)
            if progress and (i + 1) % 50000 == 0:
                progress("openings", i + 1, n)
        if progress:
            progress("openings", n, n)
        atomic_write_text(tmp / "root.json", json.dumps(root.to_dict(), indent=2) + "\n")
        os.sync()  # every opening on disk before the folder appears under its name
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def leaves_of(model: VenueModel, accounts: Iterable[tuple[Sequence[int], int, int]]) -> list[int]:
    """Pure-Python leaves of (account vector, salt, key commitment) triples (a test oracle)."""
    digest = model_digest(model)
    return [account_leaf(digest, list(v), s, kc) for v, s, kc in accounts]


def check_opening_for(opening: Opening, root: RootDocument) -> None:
    """Check that an opening belongs to a published root (same model, epoch, depth and root).

    Raises:
        MalformedInputError: the first field that differs, with both values.
    """
    for name in ("model_id", "epoch", "depth", "root"):
        a, b = getattr(opening, name), getattr(root, name)
        if a != b:
            raise MalformedInputError(f"the opening's {name} is {a}, the published root's is {b}: an opening of "
                                      "another tree")
