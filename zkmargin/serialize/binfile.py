"""The iden3 binary container shared by ``.r1cs``, ``.wtns``, ``.zkey`` and ``.ptau`` files.

Layout (all integers little-endian)::

    magic      4 bytes ASCII ("r1cs", "wtns", "zkey", "ptau")
    version    u32
    n_sections u32
    n_sections times:  section id u32 | body size u64 | body

Sections may come in any order (snarkjs writes a ``.zkey``'s sections as 1, 2, 4, 3, 9, 8, 5, 6, 7,
10). The reader loads the whole file, checks that the section table covers the file exactly, and
hands out bounds-checked readers over section bodies. Every error is a ``FileFormatError`` whose
message names the file, the section and what is wrong.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from zkmargin.errors import FileFormatError
from zkmargin.serialize._io import PathLike, atomic_write_bytes

__all__ = [
    "Section",
    "BinFile",
    "SectionReader",
    "read_binfile",
    "encode_binfile",
    "write_binfile",
    "field_n8",
    "read_field_header",
]

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_SECTION_HEADER = struct.Struct("<IQ")


def field_n8(prime: int) -> int:
    """Bytes per field element as iden3 files size them: whole 64-bit limbs (32 for BN254)."""
    return ((prime.bit_length() - 1) // 64 + 1) * 8


def read_field_header(reader: SectionReader, expected_prime: int, what: str) -> int:
    """Read ``n8 u32 | prime (n8 bytes)`` and check both against ``expected_prime``.

    Args:
        reader: positioned at the field size.
        expected_prime: the only prime accepted.
        what: how messages name the prime, e.g. "prime r".

    Returns:
        n8, the bytes per field element.

    Raises:
        FileFormatError: the field size or the prime differ from the expected ones.
    """
    want_n8 = field_n8(expected_prime)
    n8 = reader.u32(f"field size of the {what}")
    if n8 != want_n8:
        raise reader.error(f"field size n8 of the {what} is {n8}, expected {want_n8}")
    prime = reader.bigint(n8, what)
    if prime != expected_prime:
        raise reader.error(f"wrong {what}: {prime}, expected the BN254 value {expected_prime}")
    return n8


@dataclass(frozen=True)
class Section:
    """One section of a binary file: its id, the offset of its body in the file, its size."""

    id: int
    offset: int
    size: int


class SectionReader:
    """A bounds-checked cursor over one section body.

    Every read past the end raises ``FileFormatError`` naming the file and section.
    """

    def __init__(self, file_name: str, section_id: int, label: str, body: bytes) -> None:
        self.file_name = file_name
        self.section_id = section_id
        self.label = label
        self.body = body
        self.pos = 0

    def error(self, what: str) -> FileFormatError:
        """A FileFormatError naming the file and this section (the caller raises it)."""
        return FileFormatError(f"{self.file_name}: {self.where}: {what}")

    @property
    def where(self) -> str:
        label = f" ({self.label})" if self.label else ""
        return f"section {self.section_id}{label}"

    @property
    def remaining(self) -> int:
        return len(self.body) - self.pos

    def take(self, n: int, what: str = "data") -> bytes:
        """The next ``n`` bytes; raises FileFormatError if the section ends first."""
        if n < 0 or self.pos + n > len(self.body):
            raise self.error(
                f"truncated: {what} needs {n} bytes at offset {self.pos}, "
                f"the section has {len(self.body)} bytes"
            )
        out = self.body[self.pos : self.pos + n]
        self.pos += n
        return out

    def u32(self, what: str = "u32") -> int:
        return int(_U32.unpack(self.take(4, what))[0])

    def u64(self, what: str = "u64") -> int:
        return int(_U64.unpack(self.take(8, what))[0])

    def bigint(self, n8: int, what: str = "integer") -> int:
        """An ``n8``-byte little-endian unsigned integer."""
        return int.from_bytes(self.take(n8, what), "little")

    def expect_end(self) -> None:
        """Raise FileFormatError if bytes are left over (the section is longer than its content)."""
        if self.pos != len(self.body):
            raise self.error(
                f"size mismatch: the content ends at byte {self.pos} but the section has "
                f"{len(self.body)} bytes"
            )


@dataclass
class BinFile:
    """A parsed iden3 container: header fields and the section table over the raw bytes."""

    name: str
    magic: str
    version: int
    data: bytes
    sections: dict[int, list[Section]] = field(default_factory=dict)
    section_labels: Mapping[int, str] = field(default_factory=dict)

    def has_section(self, section_id: int) -> bool:
        return bool(self.sections.get(section_id))

    def _label(self, section_id: int) -> str:
        return self.section_labels.get(section_id, "")

    def section(self, section_id: int) -> bytes:
        """The body of the unique section ``section_id``.

        Raises:
            FileFormatError: the section is missing or appears more than once.
        """
        found = self.sections.get(section_id)
        label = self._label(section_id)
        desc = f"section {section_id}" + (f" ({label})" if label else "")
        if not found:
            raise FileFormatError(f"{self.name}: missing {desc}")
        if len(found) > 1:
            raise FileFormatError(f"{self.name}: {desc} appears {len(found)} times")
        s = found[0]
        return self.data[s.offset : s.offset + s.size]

    def reader(self, section_id: int) -> SectionReader:
        """A bounds-checked reader over the unique section ``section_id`` (see ``section``)."""
        return SectionReader(self.name, section_id, self._label(section_id), self.section(section_id))


def _source_bytes(src: PathLike | bytes | bytearray | memoryview, name: str | None) -> tuple[bytes, str]:
    if isinstance(src, bytes | bytearray | memoryview):
        return bytes(src), name or "<bytes>"
    return Path(src).read_bytes(), name or str(src)


def read_binfile(
    src: PathLike | bytes | bytearray | memoryview,
    magic: str,
    max_version: int,
    *,
    name: str | None = None,
    section_labels: Mapping[int, str] | None = None,
    min_version: int = 1,
) -> BinFile:
    """Parse the container header and section table of an iden3 binary file.

    Args:
        src: a path, or the file's bytes.
        magic: the expected 4-character file type ("r1cs", "wtns", "zkey", "ptau").
        max_version: the newest version understood; ``min_version`` the oldest.
        name: how error messages name the file (default: the path, or "<bytes>").
        section_labels: human names of section ids, used in error messages.

    Returns:
        A ``BinFile`` over the whole file's bytes.

    Raises:
        FileFormatError: bad magic, unsupported version, a truncated header or section, or bytes
            after the last section.
        OSError: the path cannot be read.
    """
    data, fname = _source_bytes(src, name)
    if len(data) < 12:
        raise FileFormatError(f"{fname}: truncated: {len(data)} bytes, a {magic} file has a 12-byte header")
    got = data[:4]
    if got != magic.encode("ascii"):
        raise FileFormatError(
            f"{fname}: bad magic {got!r}, expected {magic.encode('ascii')!r} (not a .{magic} file)"
        )
    version = int(_U32.unpack_from(data, 4)[0])
    if not min_version <= version <= max_version:
        raise FileFormatError(
            f"{fname}: unsupported {magic} version {version} (supported: {min_version}..{max_version})"
        )
    n_sections = int(_U32.unpack_from(data, 8)[0])
    labels = dict(section_labels or {})
    sections: dict[int, list[Section]] = {}
    pos = 12
    for k in range(n_sections):
        if pos + _SECTION_HEADER.size > len(data):
            raise FileFormatError(
                f"{fname}: truncated: header of section #{k} (of {n_sections}) at byte {pos} is past the "
                f"end of the file ({len(data)} bytes)"
            )
        sid, size = _SECTION_HEADER.unpack_from(data, pos)
        pos += _SECTION_HEADER.size
        if pos + size > len(data):
            label = f" ({labels[sid]})" if sid in labels else ""
            raise FileFormatError(
                f"{fname}: section {sid}{label}: truncated: declares {size} bytes at byte {pos}, the file "
                f"has only {len(data) - pos} more"
            )
        sections.setdefault(int(sid), []).append(Section(int(sid), pos, int(size)))
        pos += size
    if pos != len(data):
        raise FileFormatError(
            f"{fname}: {len(data) - pos} unexpected bytes after the last of {n_sections} sections"
        )
    return BinFile(fname, magic, version, data, sections, labels)


def encode_binfile(
    magic: str, version: int, sections: Sequence[tuple[int, bytes | Sequence[bytes]]]
) -> Iterator[bytes]:
    """The chunks of an iden3 binary file, sections in the given order.

    Args:
        magic: 4-character file type.
        version: container version to write.
        sections: (section id, body) pairs; a body is bytes or a sequence of byte chunks.

    Returns:
        An iterator of byte chunks whose concatenation is the file.
    """
    magic_b = magic.encode("ascii")
    if len(magic_b) != 4:
        raise ValueError(f"magic must be 4 ASCII characters, got {magic!r}")
    yield magic_b + _U32.pack(version) + _U32.pack(len(sections))
    for sid, body in sections:
        chunks: Iterable[bytes] = [body] if isinstance(body, bytes | bytearray) else body
        chunks = list(chunks)
        yield _SECTION_HEADER.pack(sid, sum(len(c) for c in chunks))
        yield from chunks


def write_binfile(
    path: PathLike, magic: str, version: int, sections: Sequence[tuple[int, bytes | Sequence[bytes]]]
) -> None:
    """Write an iden3 binary file atomically (see ``encode_binfile`` for the arguments).

    Raises:
        OSError: the file cannot be written (the target is left as it was).
    """
    atomic_write_bytes(path, encode_binfile(magic, version, sections))
