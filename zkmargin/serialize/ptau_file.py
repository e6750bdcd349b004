"""Powers-of-tau ``.ptau`` files, byte-compatible with snarkjs 0.7.6 (format only, no arithmetic).

Layout (iden3 container, magic "ptau", version 1; little-endian; points as in ``.zkey`` files:
G1 = x|y, G2 = x0|x1|y0|y1, each coordinate 32 bytes in Montgomery form, infinity all zero)::

    1  header       n8 u32 (32) | q (n8 bytes) | power u32 | ceremonyPower u32
    2  tauG1        2^(power+1) - 1 G1: tau^i * G1
    3  tauG2        2^power G2: tau^i * G2
    4  alphaTauG1   2^power G1: alpha * tau^i * G1
    5  betaTauG1    2^power G1: beta * tau^i * G1
    6  betaG2       1 G2: beta * G2
    7  contributions  n u32 | n phase-1 contributions (see ``PtauContribution``)
    12 tauG1 Lagrange       for p = 0..power+1: the 2^p points L_k(tau) * G1 of the 2^p-point
                            domain (the last block from 2^(power+1) - 1 powers and infinity)
    13 tauG2 Lagrange       for p = 0..power: L_k(tau) * G2
    14 alphaTauG1 Lagrange  for p = 0..power: alpha * L_k(tau) * G1
    15 betaTauG1 Lagrange   for p = 0..power: beta * L_k(tau) * G1

Sections 12..15 exist in a "prepared" file (``snarkjs powersoftau prepare phase2``), which snarkjs
writes with the sections in the order 1..7, 12..15 and ceremonyPower set to power. The block of the
2^p-point domain starts at point 2^p - 1 of a Lagrange section.

The reader maps the file (a 2^20 file is over a gigabyte) and checks its structure: the header's
field and power, the size of every section against the power, the contributions' framing. It
returns raw section bytes; the numeric checks (coordinates below q, points on the curve and in
their subgroup) belong to ``zkmargin.prover.ceremony``, which has the kernels for them.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from zkmargin.errors import FileFormatError
from zkmargin.field import Q
from zkmargin.serialize._io import PathLike, atomic_write_bytes
from zkmargin.serialize.binfile import SectionReader, encode_binfile, field_n8, read_field_header

__all__ = [
    "G1_SIZE",
    "G2_SIZE",
    "MAX_POWER",
    "LABELS",
    "PtauContribution",
    "PtauFile",
    "read_ptau",
    "section_points",
    "lagrange_offset",
    "encode_ptau",
    "write_ptau",
]

_MAGIC = b"ptau"
_VERSION = 1
_N8 = field_n8(Q)
G1_SIZE = 2 * _N8
G2_SIZE = 4 * _N8
#: Largest power read: BN254's 2-adicity is 28, and section 12 needs the 2^(power+1) domain.
MAX_POWER = 27

LABELS: dict[int, str] = {
    1: "header",
    2: "tauG1",
    3: "tauG2",
    4: "alphaTauG1",
    5: "betaTauG1",
    6: "betaG2",
    7: "contributions",
    12: "tauG1 Lagrange",
    13: "tauG2 Lagrange",
    14: "alphaTauG1 Lagrange",
    15: "betaTauG1 Lagrange",
}
_PREPARED = (12, 13, 14, 15)


def section_points(sid: int, power: int) -> int:
    """How many points section ``sid`` of a power-``power`` file holds."""
    n = 1 << power
    return {2: 2 * n - 1, 3: n, 4: n, 5: n, 6: 1, 12: 4 * n - 1, 13: 2 * n - 1, 14: 2 * n - 1, 15: 2 * n - 1}[sid]


def _point_size(sid: int) -> int:
    return G2_SIZE if sid in (3, 6, 13) else G1_SIZE


def lagrange_offset(domain_size: int) -> int:
    """Index of the first point of the ``domain_size`` block in a Lagrange section (12..15)."""
    return domain_size - 1


@dataclass(frozen=True)
class PtauContribution:
    """One phase-1 contribution as the file records it (points stay encoded).

    Attributes:
        raw: the contribution's bytes exactly as stored.
        tau_g1, tau_g2, alpha_g1, beta_g1, beta_g2: the accumulator's first points after it.
        pubkey: the encoded public key (6 G1 then 3 G2 points).
        partial_hash: snarkjs's saved BLAKE2b state (216 bytes) of the response hash.
        next_challenge: 64-byte hash of the next challenge.
        type: 0 = contribution, 1 = beacon.
        name, num_iterations_exp, beacon_hash: optional parameters.
    """

    raw: bytes
    tau_g1: bytes
    tau_g2: bytes
    alpha_g1: bytes
    beta_g1: bytes
    beta_g2: bytes
    pubkey: bytes
    partial_hash: bytes
    next_challenge: bytes
    type: int
    name: str | None = None
    num_iterations_exp: int | None = None
    beacon_hash: bytes | None = None


@dataclass
class PtauFile:
    """A structurally checked ``.ptau`` file over its mapped bytes.

    Attributes:
        name: how messages name the file.
        power: log2 of the largest circuit domain the file supports.
        ceremony_power: the power of the ceremony it was cut from (>= power).
        contributions: the phase-1 contributions, oldest first.
        sections: section id -> (offset, size) of its body.
    """

    name: str
    power: int
    ceremony_power: int
    contributions: tuple[PtauContribution, ...]
    data: bytes | mmap.mmap
    sections: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def prepared(self) -> bool:
        """True when the Lagrange sections 12..15 are present (``prepare phase2`` was run)."""
        return all(s in self.sections for s in _PREPARED)

    def section(self, sid: int) -> memoryview:
        """The body of section ``sid``; FileFormatError if the file lacks it."""
        if sid not in self.sections:
            raise FileFormatError(f"{self.name}: missing section {sid} ({LABELS.get(sid, '?')})")
        off, size = self.sections[sid]
        return memoryview(self.data)[off : off + size]

    def points(self, sid: int, start: int, count: int) -> memoryview:
        """Encoded points ``start .. start + count`` of section ``sid`` (bounds-checked)."""
        size = _point_size(sid)
        body = self.section(sid)
        if start < 0 or count < 0 or (start + count) * size > len(body):
            raise FileFormatError(
                f"{self.name}: section {sid} ({LABELS.get(sid, '?')}): points {start}..{start + count} requested, "
                f"the section holds {len(body) // size}"
            )
        return body[start * size : (start + count) * size]

    def lagrange(self, sid: int, domain_size: int) -> memoryview:
        """The ``domain_size`` block of Lagrange section ``sid`` (12..15)."""
        return self.points(sid, lagrange_offset(domain_size), domain_size)


def _parse_contribution(rd: SectionReader, i: int) -> PtauContribution:
    start = rd.pos
    g1, g2 = G1_SIZE, G2_SIZE
    tau_g1 = rd.take(g1, f"contribution #{i} tauG1")
    tau_g2 = rd.take(g2, f"contribution #{i} tauG2")
    alpha_g1 = rd.take(g1, f"contribution #{i} alphaG1")
    beta_g1 = rd.take(g1, f"contribution #{i} betaG1")
    beta_g2 = rd.take(g2, f"contribution #{i} betaG2")
    pubkey = rd.take(6 * g1 + 3 * g2, f"contribution #{i} public key")
    partial = rd.take(216, f"contribution #{i} partial hash")
    nxt = rd.take(64, f"contribution #{i} next challenge")
    ctype = rd.u32(f"contribution #{i} type")
    plen = rd.u32(f"contribution #{i} parameters length")
    params = rd.take(plen, f"contribution #{i} parameters")
    name = None
    exp = None
    beacon = None
    pos, last = 0, 0
    while pos < len(params):
        kind = params[pos]
        if kind <= last:
            raise rd.error(f"contribution #{i}: parameters are not sorted (type {kind} after {last})")
        last = kind
        if kind in (1, 3):
            if pos + 2 > len(params) or pos + 2 + params[pos + 1] > len(params):
                raise rd.error(f"contribution #{i}: parameter {kind} is truncated")
            val = bytes(params[pos + 2 : pos + 2 + params[pos + 1]])
            pos += 2 + params[pos + 1]
            if kind == 1:
                name = val.decode("utf-8", errors="replace")
            else:
                beacon = val
        elif kind == 2:
            if pos + 2 > len(params):
                raise rd.error(f"contribution #{i}: parameter 2 is truncated")
            exp = params[pos + 1]
            pos += 2
        else:
            raise rd.error(f"contribution #{i}: unknown parameter type {kind}")
    return PtauContribution(
        raw=bytes(rd.body[start : rd.pos]), tau_g1=tau_g1, tau_g2=tau_g2, alpha_g1=alpha_g1, beta_g1=beta_g1,
        beta_g2=beta_g2, pubkey=pubkey, partial_hash=partial, next_challenge=nxt, type=ctype, name=name,
        num_iterations_exp=exp, beacon_hash=beacon,
    )


def _map(path: PathLike) -> bytes | mmap.mmap:
    p = Path(path)
    size = p.stat().st_size
    if size < 12:
        return p.read_bytes()
    with open(p, "rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def read_ptau(src: PathLike | bytes, *, name: str | None = None) -> PtauFile:
    """Read and structurally check a ``.ptau`` file (see the module docstring).

    Args:
        src: a path (mapped, not read into memory) or the file's bytes.
        name: how error messages name the file (default: the path).

    Returns:
        A PtauFile; ``prepared`` tells whether the Lagrange sections are there.

    Raises:
        FileFormatError: bad magic or version, a field other than BN254's base field, a power
            outside 1..27 or above the ceremony power, a missing or duplicated section 1..7, a
            section whose size disagrees with the power, only some of sections 12..15, a
            malformed contribution, truncation or trailing bytes. Messages name the section.
        OSError: the path cannot be read.
    """
    if isinstance(src, bytes | bytearray | memoryview):
        data: bytes | mmap.mmap = bytes(src)
        fname = name or "<bytes>"
    else:
        data = _map(src)
        fname = name or str(src)
    if len(data) < 12:
        raise FileFormatError(f"{fname}: truncated: {len(data)} bytes, a ptau file has a 12-byte header")
    if data[:4] != _MAGIC:
        raise FileFormatError(f"{fname}: bad magic {bytes(data[:4])!r}, expected {_MAGIC!r} (not a .ptau file)")
    version, n_sections = struct.unpack_from("<II", data, 4)
    if version != _VERSION:
        raise FileFormatError(f"{fname}: unsupported ptau version {version} (supported: 1)")
    sections: dict[int, tuple[int, int]] = {}
    pos = 12
    for k in range(n_sections):
        if pos + 12 > len(data):
            raise FileFormatError(f"{fname}: truncated: header of section #{k} (of {n_sections}) at byte {pos}")
        sid, size = struct.unpack_from("<IQ", data, pos)
        pos += 12
        label = f" ({LABELS[sid]})" if sid in LABELS else ""
        if pos + size > len(data):
            raise FileFormatError(
                f"{fname}: section {sid}{label}: truncated: declares {size} bytes at byte {pos}, the file has "
                f"only {len(data) - pos} more"
            )
        if sid in sections:
            raise FileFormatError(f"{fname}: section {sid}{label} appears more than once")
        sections[sid] = (pos, size)
        pos += size
    if pos != len(data):
        raise FileFormatError(f"{fname}: {len(data) - pos} unexpected bytes after the last of {n_sections} sections")

    def reader(sid: int) -> SectionReader:
        if sid not in sections:
            raise FileFormatError(f"{fname}: missing section {sid} ({LABELS[sid]})")
        off, size = sections[sid]
        return SectionReader(fname, sid, LABELS[sid], bytes(data[off : off + size]))

    rd = reader(1)
    read_field_header(rd, Q, "base field prime q")
    power = rd.u32("power")
    ceremony_power = rd.u32("ceremonyPower")
    rd.expect_end()
    if not 1 <= power <= MAX_POWER:
        raise rd.error(f"power {power} is outside 1..{MAX_POWER}")
    if ceremony_power < power:
        raise rd.error(f"ceremonyPower {ceremony_power} is below power {power}")
    for sid in (2, 3, 4, 5, 6):
        if sid not in sections:
            raise FileFormatError(f"{fname}: missing section {sid} ({LABELS[sid]})")
    present = [s for s in _PREPARED if s in sections]
    if present and len(present) != len(_PREPARED):
        missing = [s for s in _PREPARED if s not in sections]
        raise FileFormatError(
            f"{fname}: partly prepared: has Lagrange section(s) {present} but not {missing} (sections 12..15 "
            "come together)"
        )
    for sid in (2, 3, 4, 5, 6, *present):
        want = section_points(sid, power) * _point_size(sid)
        size = sections[sid][1]
        if size != want:
            raise FileFormatError(
                f"{fname}: section {sid} ({LABELS[sid]}): size mismatch: {size} bytes, a power-{power} file has "
                f"{section_points(sid, power)} points of {_point_size(sid)} bytes = {want}"
            )
    rd7 = reader(7)
    n = rd7.u32("number of contributions")
    contribs = tuple(_parse_contribution(rd7, i) for i in range(n))
    rd7.expect_end()
    return PtauFile(fname, power, ceremony_power, contribs, data, sections)


def encode_ptau(
    power: int,
    sections: Mapping[int, bytes | Sequence[bytes | memoryview] | memoryview],
    *,
    ceremony_power: int | None = None,
) -> Iterator[bytes]:
    """The chunks of a ``.ptau`` file: a fresh header (section 1), then ``sections`` in id order.

    ``sections`` maps ids 2..7 (and 12..15 for a prepared file) to encoded bodies (bytes or a
    sequence of chunks). ``ceremony_power`` defaults to ``power``, as snarkjs's prepare writes it.

    Raises:
        ValueError: a section id outside 2..7, 12..15, or a body whose size disagrees with the power.
    """
    cp = power if ceremony_power is None else ceremony_power
    header = struct.pack("<I", _N8) + Q.to_bytes(_N8, "little") + struct.pack("<II", power, cp)
    out: list[tuple[int, bytes | Sequence[bytes]]] = [(1, header)]
    for sid in sorted(sections):
        if sid not in LABELS or sid == 1:
            raise ValueError(f"section id {sid} is not a ptau section (2..7, 12..15)")
        body = sections[sid]
        chunks: list[bytes] = [body] if isinstance(body, bytes | bytearray | memoryview) else list(body)  # type: ignore[list-item,arg-type]
        if sid != 7:
            size = sum(len(c) for c in chunks)
            want = section_points(sid, power) * _point_size(sid)
            if size != want:
                raise ValueError(f"section {sid} ({LABELS[sid]}) has {size} bytes, expected {want}")
        out.append((sid, chunks))
    return encode_binfile("ptau", _VERSION, out)


def write_ptau(
    path: PathLike,
    power: int,
    sections: Mapping[int, bytes | Sequence[bytes | memoryview] | memoryview],
    *,
    ceremony_power: int | None = None,
) -> None:
    """Write a ``.ptau`` file atomically (arguments as ``encode_ptau``)."""
    atomic_write_bytes(path, encode_ptau(power, sections, ceremony_power=ceremony_power))
