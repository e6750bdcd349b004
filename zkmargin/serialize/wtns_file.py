"""The iden3 ``.wtns`` witness file (version 2), as circom's witness generators and snarkjs write it.

Layout (little-endian)::

    section 1 (header): n8 u32 | prime r (n8 bytes) | nWitness u32
    section 2 (values): nWitness times an n8-byte value in normal (not Montgomery) form

The witness is the full wire assignment, wire 0 (the constant one) first.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Sequence

from zkmargin.field import R
from zkmargin.serialize._io import PathLike, atomic_write_bytes
from zkmargin.serialize.binfile import encode_binfile, field_n8, read_binfile, read_field_header

__all__ = ["wtns_to_bytes", "write_wtns", "read_wtns"]

_MAGIC = "wtns"
_VERSION = 2
_LABELS = {1: "header", 2: "witness values"}
_N8 = field_n8(R)


def wtns_to_bytes(witness: Sequence[int]) -> bytes:
    """Encode a full witness as a ``.wtns`` file.

    Args:
        witness: the full assignment, wire 0 first; ints or objects with ``__index__`` (numpy).

    Raises:
        ValueError: a value is not an integer in [0, r).
    """
    ints: list[int] = []
    for i, v in enumerate(witness):
        try:
            iv = operator.index(v)
        except TypeError:
            raise ValueError(f"witness value of wire {i} is not an integer: {v!r}") from None
        if not 0 <= iv < R:
            raise ValueError(f"witness value of wire {i} is not in [0, r): {iv}")
        ints.append(iv)
    header = struct.pack("<I", _N8) + R.to_bytes(_N8, "little") + struct.pack("<I", len(ints))
    values = b"".join(v.to_bytes(_N8, "little") for v in ints)
    return b"".join(encode_binfile(_MAGIC, _VERSION, [(1, header), (2, values)]))


def write_wtns(witness: Sequence[int], path: PathLike) -> None:
    """Write a full witness as a ``.wtns`` file, atomically.

    Raises:
        ValueError: as ``wtns_to_bytes``; nothing is written.
        OSError: the file cannot be written.
    """
    atomic_write_bytes(path, wtns_to_bytes(witness))


def read_wtns(src: PathLike | bytes, *, name: str | None = None) -> list[int]:
    """Read a ``.wtns`` file (version 1 or 2).

    Args:
        src: a path or the file's bytes.
        name: how error messages name the file (default: the path).

    Returns:
        The witness values, wire 0 first, each in [0, r).

    Raises:
        FileFormatError: wrong magic/version, wrong field size or prime, a values section whose
            size is not nWitness * n8, a value not below r, truncation.
    """
    bf = read_binfile(src, _MAGIC, _VERSION, name=name, section_labels=_LABELS)
    rd = bf.reader(1)
    n8 = read_field_header(rd, R, "prime r")
    n = rd.u32("nWitness")
    rd.expect_end()
    vr = bf.reader(2)
    if len(vr.body) != n * n8:
        raise vr.error(f"size mismatch: {len(vr.body)} bytes, expected nWitness * n8 = {n} * {n8}")
    body = vr.body
    values = [int.from_bytes(body[k : k + n8], "little") for k in range(0, n * n8, n8)]
    for i, v in enumerate(values):
        if v >= R:
            raise vr.error(f"value of wire {i} is not below r: {v}")
    return values
