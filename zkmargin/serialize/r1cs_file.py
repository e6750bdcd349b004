"""The iden3 ``.r1cs`` constraint-system file (version 1), and circom's ``.sym`` names file.

``.r1cs`` layout (little-endian; field elements in normal form, ``n8`` = 32 bytes for BN254)::

    section 1 (header):      n8 u32 | prime r | nWires u32 | nPubOut u32 | nPubIn u32 | nPrvIn u32
                             | nLabels u64 | nConstraints u32
    section 2 (constraints): per constraint, for A, B, C in turn:
                             nTerms u32 | nTerms times (wire u32 | coefficient n8 bytes)
    section 3 (wire map):    nWires times u64, the label id of each wire

Wires are ordered one, public outputs, public inputs, private wires: a circuit's public count is
``nPubOut + nPubIn``. zkmargin circuits have no separate outputs, so the writer puts every public
wire in ``nPubIn``, sets ``nPrvIn`` to the number of private wires, and maps wire i to label i
(``nLabels = nWires``). Terms are written in increasing wire order, as circom does (and as
snarkjs's own writer does, since JavaScript iterates integer keys in order), so reading a circom
file and writing it back reproduces its constraint section.

Constraint scope labels and wire names have no place in ``.r1cs``; ``write_sym``/``read_sym`` keep
wire names in circom's ``.sym`` text format (``labelId,wireId,componentId,name`` per line), which
``snarkjs r1cs print`` and ``snarkjs wtns debug`` read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from zkmargin.errors import FileFormatError
from zkmargin.field import R
from zkmargin.r1cs import ConstraintSystem, LinearCombination
from zkmargin.serialize._io import PathLike, atomic_write_bytes, atomic_write_text
from zkmargin.serialize.binfile import (
    BinFile,
    encode_binfile,
    field_n8,
    read_binfile,
    read_field_header,
)

__all__ = [
    "R1csHeader",
    "r1cs_to_bytes",
    "write_r1cs",
    "read_r1cs_header",
    "read_r1cs",
    "read_r1cs_wire_map",
    "write_sym",
    "read_sym",
]

_MAGIC = "r1cs"
_VERSION = 1
_LABELS = {
    1: "header",
    2: "constraints",
    3: "wire-to-label map",
    4: "custom gates list",
    5: "custom gates uses",
}
_N8 = field_n8(R)
_U32 = struct.Struct("<I")
_TERM = struct.Struct("<I")
_MATRIX = "ABC"


@dataclass(frozen=True)
class R1csHeader:
    """The header section of a ``.r1cs`` file (counts as the file states them)."""

    n8: int
    prime: int
    n_wires: int
    n_pub_out: int
    n_pub_in: int
    n_prv_in: int
    n_labels: int
    n_constraints: int

    @property
    def n_public(self) -> int:
        """Public wires after wire 0: outputs and public inputs."""
        return self.n_pub_out + self.n_pub_in


# --- writing ---------------------------------------------------------------------------------

def _encode_lc(lc: LinearCombination, n_wires: int, where: str, out: list[bytes]) -> None:
    out.append(_U32.pack(len(lc)))
    for w in sorted(lc):
        c = lc[w]
        if not 0 <= w < n_wires:
            raise ValueError(f"{where}: wire {w} is not in [0, {n_wires})")
        if not 0 <= c < R:
            raise ValueError(f"{where}: coefficient of wire {w} is not in [0, r): {c}")
        out.append(_TERM.pack(w) + c.to_bytes(_N8, "little"))


def _sections(cs: ConstraintSystem) -> list[tuple[int, bytes | list[bytes]]]:
    if cs.prime != R:
        raise ValueError(f"only BN254's scalar field is supported, the system's prime is {cs.prime}")
    if cs.n_wires < 1 or not 0 <= cs.n_public <= cs.n_wires - 1:
        raise ValueError(f"inconsistent counts: n_wires={cs.n_wires}, n_public={cs.n_public}")
    header = b"".join(
        [
            _U32.pack(_N8),
            R.to_bytes(_N8, "little"),
            struct.pack("<IIII", cs.n_wires, 0, cs.n_public, cs.n_private),
            struct.pack("<Q", cs.n_wires),
            _U32.pack(cs.n_constraints),
        ]
    )
    body: list[bytes] = []
    for i, constraint in enumerate(cs.constraints):
        for m, lc in enumerate(constraint):
            _encode_lc(lc, cs.n_wires, f"constraint #{i} {_MATRIX[m]}", body)
    wire_map = struct.pack(f"<{cs.n_wires}Q", *range(cs.n_wires))
    return [(1, header), (2, body), (3, wire_map)]


def r1cs_to_bytes(cs: ConstraintSystem) -> bytes:
    """Encode a constraint system as a ``.r1cs`` file (see the module docstring).

    Raises:
        ValueError: the system is inconsistent (prime not BN254's r, a wire index out of range,
            a coefficient outside [0, r)).
    """
    return b"".join(encode_binfile(_MAGIC, _VERSION, _sections(cs)))


def write_r1cs(cs: ConstraintSystem, path: PathLike) -> None:
    """Write ``cs`` as a ``.r1cs`` file, atomically.

    Raises:
        ValueError: as ``r1cs_to_bytes``; nothing is written.
        OSError: the file cannot be written.
    """
    atomic_write_bytes(path, r1cs_to_bytes(cs))


# --- reading ---------------------------------------------------------------------------------

def _open(src: PathLike | bytes, name: str | None) -> BinFile:
    return read_binfile(src, _MAGIC, _VERSION, name=name, section_labels=_LABELS)


def _parse_header(bf: BinFile) -> R1csHeader:
    rd = bf.reader(1)
    n8 = read_field_header(rd, R, "prime r")
    n_wires = rd.u32("nWires")
    n_pub_out = rd.u32("nPubOut")
    n_pub_in = rd.u32("nPubIn")
    n_prv_in = rd.u32("nPrvIn")
    n_labels = rd.u64("nLabels")
    n_constraints = rd.u32("nConstraints")
    rd.expect_end()
    if n_wires < 1:
        raise rd.error("nWires is 0: wire 0 (the constant one) is always present")
    if 1 + n_pub_out + n_pub_in + n_prv_in > n_wires:
        raise rd.error(
            f"counts exceed the wires: 1 + nPubOut {n_pub_out} + nPubIn {n_pub_in} + nPrvIn {n_prv_in} "
            f"> nWires {n_wires}"
        )
    return R1csHeader(n8, R, n_wires, n_pub_out, n_pub_in, n_prv_in, n_labels, n_constraints)


def read_r1cs_header(src: PathLike | bytes, *, name: str | None = None) -> R1csHeader:
    """Read only the header of a ``.r1cs`` file.

    Args:
        src: a path or the file's bytes.
        name: how error messages name the file (default: the path).

    Raises:
        FileFormatError: not a version-1 ``.r1cs`` file, a wrong field size or prime (only BN254's
            r), inconsistent counts, truncation.
    """
    return _parse_header(_open(src, name))


def _parse_constraints(bf: BinFile, h: R1csHeader) -> list[tuple[LinearCombination, ...]]:
    rd = bf.reader(2)
    body = rd.body
    size = len(body)
    n8 = h.n8
    step = 4 + n8
    n_wires = h.n_wires
    unpack_u32 = _U32.unpack_from
    from_bytes = int.from_bytes
    pos = 0
    out: list[tuple[LinearCombination, ...]] = []
    for i in range(h.n_constraints):
        lcs = []
        for m in range(3):
            where = f"constraint #{i} {_MATRIX[m]}"
            if pos + 4 > size:
                rd.pos = pos
                rd.take(4, f"{where} term count")
            n = unpack_u32(body, pos)[0]
            pos += 4
            if pos + n * step > size:
                rd.pos = pos
                rd.take(n * step, f"{where} ({n} terms)")
            lc: LinearCombination = {}
            for _ in range(n):
                w = unpack_u32(body, pos)[0]
                c = from_bytes(body[pos + 4 : pos + step], "little")
                pos += step
                if w >= n_wires:
                    raise rd.error(f"{where}: wire {w} is not below nWires {n_wires}")
                if c >= R:
                    raise rd.error(f"{where}: coefficient of wire {w} is not below r: {c}")
                if w in lc:
                    raise rd.error(f"{where}: wire {w} appears twice")
                lc[w] = c
            lcs.append(lc)
        out.append(tuple(lcs))
    rd.pos = pos
    rd.expect_end()
    return out


def _parse_map(bf: BinFile, h: R1csHeader) -> list[int]:
    rd = bf.reader(3)
    if len(rd.body) != 8 * h.n_wires:
        raise rd.error(f"size mismatch: {len(rd.body)} bytes, expected 8 * nWires = {8 * h.n_wires}")
    labels = list(struct.unpack(f"<{h.n_wires}Q", rd.body))
    for w, lab in enumerate(labels):
        if lab >= h.n_labels:
            raise rd.error(f"wire {w} maps to label {lab}, not below nLabels {h.n_labels}")
    return labels


def read_r1cs_wire_map(src: PathLike | bytes, *, name: str | None = None) -> list[int]:
    """The label id of every wire (section 3 of a ``.r1cs`` file).

    Raises:
        FileFormatError: as ``read_r1cs_header``, the section is missing, or its size or a label id
            disagrees with the header.
    """
    bf = _open(src, name)
    return _parse_map(bf, _parse_header(bf))


def read_r1cs(
    src: PathLike | bytes, *, name: str | None = None, sym: PathLike | None = None
) -> ConstraintSystem:
    """Read a ``.r1cs`` file into a ConstraintSystem.

    Args:
        src: a path or the file's bytes.
        name: how error messages name the file (default: the path).
        sym: optional circom ``.sym`` file giving wire names (see ``read_sym``).

    Returns:
        The system with ``n_public = nPubOut + nPubIn`` and coefficients in [0, r). Without ``sym``
        ``wire_names`` is empty; ``labels`` (per-constraint scope paths) is always empty, since
        the format does not store them.

    Raises:
        FileFormatError: wrong magic/version, wrong field size or prime, counts that disagree with
            the section sizes, a wire index or coefficient out of range, a wire repeated in one
            linear combination, custom gates (a PLONK-only extension), truncation.
    """
    bf = _open(src, name)
    h = _parse_header(bf)
    if bf.has_section(4) or bf.has_section(5):
        raise FileFormatError(f"{bf.name}: custom gates (sections 4 and 5) are not supported for Groth16")
    constraints = _parse_constraints(bf, h)
    if bf.has_section(3):
        _parse_map(bf, h)
    names = read_sym(sym, h.n_wires) if sym is not None else []
    return ConstraintSystem(
        n_wires=h.n_wires,
        n_public=h.n_public,
        constraints=[(a, b, c) for a, b, c in constraints],
        labels=[],
        wire_names=names,
        prime=R,
    )


# --- .sym names ------------------------------------------------------------------------------

def write_sym(cs: ConstraintSystem, path: PathLike) -> None:
    """Write the wire names of ``cs`` as a circom ``.sym`` file, atomically.

    One line ``i,i,0,name`` per wire i >= 1, matching the identity wire-to-label map that
    ``write_r1cs`` writes; wire 0 is implicit ("one"), as in circom's output.

    Raises:
        ValueError: ``cs.wire_names`` does not name every wire, or a name contains a comma or a
            line break (the format cannot hold them).
    """
    if len(cs.wire_names) != cs.n_wires:
        raise ValueError(f"wire_names has {len(cs.wire_names)} names for {cs.n_wires} wires")
    lines = []
    for i in range(1, cs.n_wires):
        nm = cs.wire_names[i]
        if any(ch in nm for ch in ",\r\n"):
            raise ValueError(f"wire {i} name {nm!r} contains a comma or line break")
        lines.append(f"{i},{i},0,{nm}\n")
    atomic_write_text(path, "".join(lines))


def read_sym(src: PathLike, n_wires: int) -> list[str]:
    """Wire names from a circom ``.sym`` file.

    Args:
        src: path of the ``.sym`` file.
        n_wires: number of wires of the matching ``.r1cs``.

    Returns:
        ``n_wires`` names: "one" for wire 0, the first name the file gives each wire, and
        ``w<i>`` for a wire it does not name. Lines for eliminated signals (wire -1) are skipped.

    Raises:
        FileFormatError: a line does not have 4 comma-separated fields, or its wire id is not an
            integer in [-1, n_wires).
    """
    fname = str(src)
    names: list[str | None] = [None] * n_wires
    if n_wires:
        names[0] = "one"
    text = Path(src).read_text(encoding="utf-8")
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(",")
        if len(parts) != 4:
            raise FileFormatError(f"{fname}: line {lineno}: expected 4 comma-separated fields, got {line!r}")
        try:
            w = int(parts[1])
        except ValueError:
            raise FileFormatError(f"{fname}: line {lineno}: wire id {parts[1]!r} is not an integer") from None
        if w == -1:
            continue
        if not 0 <= w < n_wires:
            raise FileFormatError(f"{fname}: line {lineno}: wire id {w} is not in [0, {n_wires})")
        if names[w] is None:
            names[w] = parts[3]
    return [nm if nm is not None else f"w{i}" for i, nm in enumerate(names)]
