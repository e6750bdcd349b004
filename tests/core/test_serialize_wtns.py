"""iden3 .wtns witness files (zkmargin.serialize.wtns_file); snarkjs cross-checks are in tests/crosscheck."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from zkmargin.errors import FileFormatError
from zkmargin.field import R
from zkmargin.serialize import read_wtns, write_wtns, wtns_to_bytes


def _wtns(values: list[int], n: int | None = None, prime: int = R, n8: int = 32, version: int = 2) -> bytes:
    """Hand-built: magic | version | 2 sections; header n8 | prime | nWitness; values LE n8 each."""
    count = len(values) if n is None else n
    header = struct.pack("<I", n8) + prime.to_bytes(n8, "little") + struct.pack("<I", count)
    body = b"".join(v.to_bytes(n8, "little") for v in values)
    return (
        b"wtns" + struct.pack("<II", version, 2)
        + struct.pack("<IQ", 1, len(header)) + header
        + struct.pack("<IQ", 2, len(body)) + body
    )


WITNESS = [1, 12, 10, 3, 4, 110, 105, 7, R - 1, 0]


def test_writer_matches_hand_built_bytes() -> None:
    assert wtns_to_bytes(WITNESS) == _wtns(WITNESS)


def test_round_trip(tmp_path: Path) -> None:
    write_wtns(WITNESS, tmp_path / "w.wtns")
    assert read_wtns(tmp_path / "w.wtns") == WITNESS
    assert read_wtns(wtns_to_bytes([])) == []


def test_reads_version_1() -> None:
    assert read_wtns(_wtns([1, 2], version=1)) == [1, 2]


def test_writer_accepts_index_types_and_rejects_bad_values(tmp_path: Path) -> None:
    class Idx:
        def __index__(self) -> int:
            return 5

    assert read_wtns(wtns_to_bytes([1, Idx()])) == [1, 5]
    with pytest.raises(ValueError, match=r"wire 2 is not in \[0, r\): " + str(R)):
        write_wtns([1, 2, R], tmp_path / "w.wtns")
    with pytest.raises(ValueError, match=r"wire 1 is not an integer: 2\.0"):
        write_wtns([1, 2.0], tmp_path / "w.wtns")
    with pytest.raises(ValueError, match=r"wire 0 is not in \[0, r\): -1"):
        write_wtns([-1], tmp_path / "w.wtns")
    assert list(tmp_path.iterdir()) == []


def test_wrong_prime_names_file(tmp_path: Path) -> None:
    p = tmp_path / "w.wtns"
    p.write_bytes(_wtns([1], prime=R + 2))
    with pytest.raises(FileFormatError, match=r"w\.wtns: section 1 \(header\): wrong prime r"):
        read_wtns(p)


def test_wrong_field_size() -> None:
    with pytest.raises(FileFormatError, match=r"field size n8 of the prime r is 40, expected 32"):
        read_wtns(_wtns([1], n8=40))


def test_value_count_disagrees_with_section() -> None:
    msg = r"section 2 \(witness values\): size mismatch: 64 bytes, expected"
    with pytest.raises(FileFormatError, match=msg):
        read_wtns(_wtns([1, 2], n=3))


def test_value_not_below_r() -> None:
    bad = _wtns([1, 2]).replace((2).to_bytes(32, "little"), R.to_bytes(32, "little"))
    with pytest.raises(FileFormatError, match=r"value of wire 1 is not below r"):
        read_wtns(bad)


def test_truncated_and_bad_magic() -> None:
    with pytest.raises(FileFormatError, match="truncated"):
        read_wtns(_wtns([1, 2])[:-1])
    with pytest.raises(FileFormatError, match="bad magic"):
        read_wtns(b"zkey" + _wtns([1])[4:])
