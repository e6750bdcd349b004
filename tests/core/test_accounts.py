"""zkmargin.accounts: trader keys, snapshots, accounts build (numba == pure Python), documents.

Each property the issue names gets its own test: 0600 keys never overwritten, every opening opens
to the published root with the account's own leaf, validation errors naming the account and the
field, nothing half-written on failure, the venue's salt or the account's own.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from zkmargin import accounts as A
from zkmargin import merkle as M
from zkmargin.encoding import account_leaf, key_commitment
from zkmargin.field import R
from zkmargin.margin import load_model, load_portfolio, model_digest
from zkmargin.margin.errors import SchemaError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MODEL = load_model(EXAMPLES / "cross" / "model.json")
BASE = json.loads((EXAMPLES / "cross" / "portfolio_pass.json").read_text())


def entry(i: int, kc: int, **extra) -> dict:
    e = dict(BASE, account_id=f"acct-{i:05d}", key_commitment=str(kc))
    e["collateral"] = [{"asset": "USDC", "amount": str(1000 + i)}, {"asset": "ETH", "amount": str(i % 7)}]
    e.update(extra)
    return e


def write_jsonl(path: Path, entries: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return path


def counter_salts(start: int = 1):
    it = iter(range(start, start + 10**7))
    return lambda: next(it)


# --- keys ----------------------------------------------------------------------------------------

def test_key_file_is_owner_only_never_overwritten_and_checked(tmp_path: Path) -> None:
    k = A.new_key()
    assert 0 < k.key < R and k.key_commitment == key_commitment(k.key)
    assert str(k.key) not in repr(k)
    p = tmp_path / "trader.key"
    A.write_key(k, p)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    assert A.load_key(p) == k
    before = p.read_bytes()
    with pytest.raises(FileExistsError):
        A.write_key(A.new_key(), p)
    assert p.read_bytes() == before
    link = tmp_path / "link.key"
    link.symlink_to(tmp_path / "elsewhere.key")
    with pytest.raises(FileExistsError):
        A.write_key(k, link)  # O_EXCL never follows a dangling link
    assert not (tmp_path / "elsewhere.key").exists()
    bad = json.loads(before)
    bad["key_commitment"] = str(key_commitment(k.key + 1))
    with pytest.raises(SchemaError, match="key_commitment"):
        A.load_key(bad)


# --- build ---------------------------------------------------------------------------------------

def test_numba_and_python_builds_are_identical_and_every_opening_opens(tmp_path: Path) -> None:
    pytest.importorskip("numba")
    keys = [A.new_key() for _ in range(3)]
    entries = [entry(i, keys[i % 3].key_commitment) for i in range(45)]
    src = write_jsonl(tmp_path / "snap.jsonl", entries)
    r_py = A.build_accounts(MODEL, [src], tmp_path / "py", epoch=42, depth=6, backend="python",
                            salt_source=counter_salts())
    r_nb = A.build_accounts(MODEL, [src], tmp_path / "nb", epoch=42, depth=6, backend="numba",
                            salt_source=counter_salts())
    assert r_py.root == r_nb.root
    assert sorted(os.listdir(tmp_path / "py" / "openings")) == sorted(os.listdir(tmp_path / "nb" / "openings"))
    for name in os.listdir(tmp_path / "py" / "openings"):
        assert (tmp_path / "py" / "openings" / name).read_bytes() == (tmp_path / "nb" / "openings" / name).read_bytes()
    root = A.load_root(tmp_path / "nb" / "root.json")
    assert (root.count, root.depth, root.epoch, root.model_digest) == (45, 6, 42, model_digest(MODEL))
    leaves = []
    for i, e in enumerate(entries):
        op = A.load_opening(tmp_path / "nb" / "openings" / f"{e['account_id']}.json")
        assert stat.S_IMODE(os.stat(tmp_path / "nb" / "openings" / f"{e['account_id']}.json").st_mode) == 0o600
        A.check_opening_for(op, root)
        pf = load_portfolio({k: v for k, v in e.items() if k not in ("account_id", "key_commitment")}, MODEL)
        leaf = account_leaf(model_digest(MODEL), pf.to_field_elements(MODEL), op.salt, int(e["key_commitment"]))
        assert (op.leaf_index, op.salt, op.leaf) == (i, i + 1, leaf)
        assert M.root_from_path(leaf, op.leaf_index, op.path) == root.root
        leaves.append(leaf)
    assert M.merkle_root(leaves, 6) == root.root  # the independent pure-Python tree


def test_folder_and_jsonl_sources_and_the_accounts_own_salt(tmp_path: Path) -> None:
    folder = tmp_path / "snap"
    folder.mkdir()
    kc = A.new_key().key_commitment
    for i in (3, 1, 2):  # read in file-name order
        (folder / f"p{i}.json").write_text(json.dumps(entry(i, kc)))
    src = write_jsonl(tmp_path / "more.jsonl", [entry(9, kc, salt="12345"), entry(8, kc)])
    res = A.build_accounts(MODEL, [folder, src], tmp_path / "out", epoch=1, depth=3, backend="python",
                           salt_source=counter_salts(100))
    ops = {p.stem: A.load_opening(p) for p in (tmp_path / "out" / "openings").iterdir()}
    assert {k: v.leaf_index for k, v in ops.items()} == {"acct-00001": 0, "acct-00002": 1, "acct-00003": 2,
                                                         "acct-00009": 3, "acct-00008": 4}
    assert ops["acct-00009"].salt == 12345 and ops["acct-00008"].salt == 103  # drawn only where none is given
    assert res.root.count == 5


@pytest.mark.parametrize("mutate,field", [
    (lambda e: e.pop("key_commitment"), "key_commitment"),
    (lambda e: e.update(key_commitment=str(R)), "key_commitment"),
    (lambda e: e.update(key_commitment=5), "key_commitment"),
    (lambda e: e.update(salt="-1"), "salt"),
    (lambda e: e.update(account_id="../escape"), "account_id"),
    (lambda e: e.update(account_id=".hidden"), "account_id"),
    (lambda e: e.pop("account_id"), "account_id"),
    (lambda e: e["collateral"].append({"asset": "USDC", "amount": "1"}), "collateral[2].asset"),
    (lambda e: e.update(collateral=[{"asset": "USDC", "amount": "1.0000001"}]), "collateral[0].amount"),
    (lambda e: e.update(model_id="other"), "model_id"),
])
def test_validation_errors_name_the_account_and_the_field(tmp_path: Path, mutate, field: str) -> None:
    kc = A.new_key().key_commitment
    entries = [entry(i, kc) for i in range(4)]
    mutate(entries[2])
    src = write_jsonl(tmp_path / "snap.jsonl", entries)
    with pytest.raises(SchemaError) as exc:
        A.build_accounts(MODEL, [src], tmp_path / "out", epoch=1, depth=3, backend="python")
    msg = str(exc.value)
    assert exc.value.path == field, msg
    assert "snap.jsonl:3" in msg
    if field != "account_id":
        assert "acct-00002" in msg
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["snap.jsonl"]  # no temporary folder left


def test_duplicates_capacity_existing_output_and_failure_mid_write(tmp_path: Path, monkeypatch) -> None:
    kc = A.new_key().key_commitment
    src = write_jsonl(tmp_path / "snap.jsonl", [entry(1, kc), entry(2, kc), entry(1, kc)])
    with pytest.raises(SchemaError, match="appears twice"):
        A.build_accounts(MODEL, [src], tmp_path / "out", epoch=1, depth=3, backend="python")
    src = write_jsonl(tmp_path / "snap.jsonl", [entry(i, kc) for i in range(5)])
    with pytest.raises(SchemaError, match="do not fit a tree of depth 2"):
        A.build_accounts(MODEL, [src], tmp_path / "out", epoch=1, depth=2, backend="python")
    (tmp_path / "exists").mkdir()
    with pytest.raises(FileExistsError):
        A.build_accounts(MODEL, [src], tmp_path / "exists", epoch=1, depth=3, backend="python")
    # a failure while writing the openings (disk full, ...) leaves neither the output nor a temporary folder
    real_write = os.write
    calls = {"n": 0}

    def failing_write(fd, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(A.os, "write", failing_write)
    with pytest.raises(OSError, match="No space"):
        A.build_accounts(MODEL, [src], tmp_path / "out", epoch=1, depth=3, backend="python")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists", "snap.jsonl"]


def test_documents_are_validated(tmp_path: Path) -> None:
    kc = A.new_key().key_commitment
    src = write_jsonl(tmp_path / "snap.jsonl", [entry(i, kc) for i in range(3)])
    A.build_accounts(MODEL, [src], tmp_path / "out", epoch=5, depth=4, backend="python")
    op = json.loads((tmp_path / "out" / "openings" / "acct-00001.json").read_text())
    for key, value, field in (("leaf_index", 2, "path"), ("path", op["path"][:-1], "path"),
                              ("leaf_index", 16, "leaf_index"), ("salt", str(R), "salt"),
                              ("leaf", "1", "path")):
        bad = dict(op, **{key: value})
        with pytest.raises(SchemaError) as exc:
            A.load_opening(bad)
        assert exc.value.path == field, (key, str(exc.value))
    bad_path = list(op["path"])
    bad_path[1] = str((int(bad_path[1]) + 1) % R)
    with pytest.raises(SchemaError, match="do not lead to the root"):
        A.load_opening(dict(op, path=bad_path))
    root = json.loads((tmp_path / "out" / "root.json").read_text())
    with pytest.raises(SchemaError, match="depth"):
        A.load_root(dict(root, depth=33))
    with pytest.raises(SchemaError, match="count"):
        A.load_root(dict(root, count=17))
    other = A.load_opening(dict(op, epoch=6))
    with pytest.raises(ValueError, match="epoch"):
        A.check_opening_for(other, A.load_root(root))


def test_a_million_slot_tree_from_few_accounts_is_cheap(tmp_path: Path) -> None:
    """Depth 32 with three accounts: the sparse levels hash 3 nodes per level, not 2**32."""
    kc = A.new_key().key_commitment
    src = write_jsonl(tmp_path / "snap.jsonl", [entry(i, kc) for i in range(3)])
    res = A.build_accounts(MODEL, [src], tmp_path / "out", epoch=5, depth=32, backend="python")
    op = A.load_opening(tmp_path / "out" / "openings" / "acct-00002.json")
    assert op.depth == 32 and res.root.root == op.root
