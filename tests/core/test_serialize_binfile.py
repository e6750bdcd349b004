"""The iden3 binary container (zkmargin.serialize.binfile) and the atomic-write helper."""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest

from zkmargin.errors import FileFormatError
from zkmargin.serialize import encode_binfile, read_binfile, write_binfile
from zkmargin.serialize._io import atomic_write_bytes, atomic_write_text
from zkmargin.serialize.binfile import field_n8


def _container(magic: bytes, version: int, sections: list[tuple[int, bytes]], n: int | None = None) -> bytes:
    """Hand-built from the format description: magic | version | n | (id u32 | size u64 | body)*."""
    out = magic + struct.pack("<II", version, len(sections) if n is None else n)
    for sid, body in sections:
        out += struct.pack("<IQ", sid, len(body)) + body
    return out


SAMPLE = _container(b"wtns", 2, [(2, b"\x01\x02\x03"), (1, b""), (7, b"abcd"), (7, b"xy")])


def test_parses_sections_in_any_order_with_duplicates() -> None:
    bf = read_binfile(SAMPLE, "wtns", 2)
    assert (bf.magic, bf.version) == ("wtns", 2)
    assert bf.section(2) == b"\x01\x02\x03"
    assert bf.section(1) == b""
    assert [s.size for s in bf.sections[7]] == [4, 2]
    assert bf.has_section(7) and not bf.has_section(3)


def test_encode_matches_hand_built_bytes(tmp_path: Path) -> None:
    secs = [(2, b"\x01\x02\x03"), (1, b""), (7, [b"ab", b"cd"]), (7, b"xy")]
    assert b"".join(encode_binfile("wtns", 2, secs)) == SAMPLE
    write_binfile(tmp_path / "x.wtns", "wtns", 2, secs)
    assert (tmp_path / "x.wtns").read_bytes() == SAMPLE


def test_field_n8_uses_whole_64_bit_limbs() -> None:
    assert field_n8(21888242871839275222246405745257275088548364400416034343698204186575808495617) == 32
    assert field_n8(2**64 - 59) == 8
    assert field_n8(2**64 + 13) == 16


def test_reader_cursor_reads_little_endian_and_checks_bounds() -> None:
    body = struct.pack("<IQ", 7, 2**40 + 3) + (5).to_bytes(32, "little")
    data = _container(b"zkey", 1, [(4, body)])
    bf = read_binfile(data, "zkey", 1, name="k.zkey", section_labels={4: "coefs"})
    rd = bf.reader(4)
    assert rd.u32() == 7 and rd.u64() == 2**40 + 3 and rd.bigint(32) == 5
    rd.expect_end()
    with pytest.raises(FileFormatError, match=r"^k\.zkey: section 4 \(coefs\): truncated: nCoefs needs 4 "):
        rd.u32("nCoefs")
    rd2 = bf.reader(4)
    rd2.u32()
    with pytest.raises(FileFormatError, match=r"k\.zkey: section 4 \(coefs\): size mismatch"):
        rd2.expect_end()


# --- malformed containers ----------------------------------------------------------------------

def test_error_names_the_path(tmp_path: Path) -> None:
    p = tmp_path / "c.wtns"
    p.write_bytes(b"r1cs" + SAMPLE[4:])
    with pytest.raises(FileFormatError, match=rf"^{re.escape(str(p))}: bad magic b'r1cs', expected b'wtns'"):
        read_binfile(p, "wtns", 2)


def test_header_too_short() -> None:
    with pytest.raises(FileFormatError, match=r"<bytes>: truncated: 7 bytes, a wtns file has a 12-byte"):
        read_binfile(SAMPLE[:7], "wtns", 2)


@pytest.mark.parametrize("version", [0, 3, 2**32 - 1])
def test_unsupported_version(version: int) -> None:
    with pytest.raises(FileFormatError, match=rf"unsupported wtns version {version} \(supported: 1\.\.2\)"):
        read_binfile(_container(b"wtns", version, []), "wtns", 2)


def test_section_table_truncated() -> None:
    data = _container(b"wtns", 2, [(1, b"ab")], n=2)
    with pytest.raises(FileFormatError, match=r"truncated: header of section #1 \(of 2\)"):
        read_binfile(data, "wtns", 2)


def test_section_body_truncated() -> None:
    data = _container(b"wtns", 2, [(1, b"abcdef")])[:-2]
    with pytest.raises(FileFormatError, match=r"x\.wtns: section 1 \(header\): truncated: declares 6 bytes"):
        read_binfile(data, "wtns", 2, name="x.wtns", section_labels={1: "header"})


def test_huge_declared_size_is_truncation_not_memory_error() -> None:
    data = b"wtns" + struct.pack("<IIIQ", 2, 1, 1, 2**63) + b"ab"
    with pytest.raises(FileFormatError, match="truncated"):
        read_binfile(data, "wtns", 2)


def test_trailing_bytes_are_rejected() -> None:
    with pytest.raises(FileFormatError, match=r"3 unexpected bytes after the last of 4 sections"):
        read_binfile(SAMPLE + b"zzz", "wtns", 2)


def test_missing_and_duplicated_sections() -> None:
    bf = read_binfile(SAMPLE, "wtns", 2, name="w.wtns", section_labels={3: "map", 7: "seven"})
    with pytest.raises(FileFormatError, match=r"^w\.wtns: missing section 3 \(map\)$"):
        bf.section(3)
    with pytest.raises(FileFormatError, match=r"^w\.wtns: section 7 \(seven\) appears 2 times$"):
        bf.reader(7)


# --- atomic writes -----------------------------------------------------------------------------

def test_atomic_write_replaces_and_respects_umask(tmp_path: Path) -> None:
    p = tmp_path / "f.bin"
    atomic_write_bytes(p, b"one")
    atomic_write_bytes(p, [b"tw", b"o"])
    assert p.read_bytes() == b"two"
    atomic_write_text(p, "drei\u00df")
    assert p.read_text(encoding="utf-8") == "drei\u00df"
    old = os.umask(0o022)
    os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o666 & ~old
    assert [x.name for x in tmp_path.iterdir()] == ["f.bin"]


def test_failure_mid_write_keeps_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "f.bin"
    p.write_bytes(b"old")

    def chunks():
        yield b"new data, half"
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write_bytes(p, chunks())
    assert p.read_bytes() == b"old"
    assert [x.name for x in tmp_path.iterdir()] == ["f.bin"]


def test_missing_folder_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(tmp_path / "nope" / "f.bin", b"x")
