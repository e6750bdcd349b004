"""Memory-mapped readers of ``.zkey`` and ``.wtns`` files for the prover (numpy, no Python ints).

Private module; the command line's ``zkmargin prove`` reads through it. The structured readers
(:func:`zkmargin.serialize.read_zkey`, :func:`~zkmargin.serialize.read_wtns`) read the whole file
and turn every value into a Python int: 92 ms at 2^16 and 1.7 s at 2^20 measured, against a few
milliseconds here. These readers map the file (the operating system pages it in as the prover
touches it), parse the container's section table, decode only the small header sections to ints,
and hand the bulk sections to the prover as read-only views, after a vectorised validation that the
structured readers do value by value:

- every section present once, with the size the header's counts give;
- every point coordinate (sections 5-9) below q, every coefficient value (section 4) below r, every
  coefficient's matrix, row and wire in range;
- every witness value below r (``.wtns``).

Errors are the same ``FileFormatError``s, naming the file, the section and the first bad value.
Points are not checked to be on the curve here (neither does ``read_zkey``): a wrong point gives a
proof that the prover's self-check refuses.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any

import numpy as np

from zkmargin.errors import FileFormatError
from zkmargin.field import Q, R
from zkmargin.groth16 import ProvingKey, VerifyingKey
from zkmargin.serialize._io import PathLike
from zkmargin.serialize.binfile import SectionReader, read_field_header
from zkmargin.serialize.zkey_file import (
    _G1_SIZE,
    _G2_SIZE,
    _GROTH16,
    _LABELS,
    _MAX_DOMAIN,
    _MAX_VERSION,
    _PROTOCOLS,
    _dec_g1_list,
    _dec_g2_list,
)

__all__ = ["map_sections", "read_wtns_array", "read_zkey_mapped", "limbs_below", "Q_LIMBS", "R_LIMBS"]

_U32 = struct.Struct("<I")
_SECTION_HEADER = struct.Struct("<IQ")
#: One record of section 4: matrix, row, wire (u32 each), value (c * R^2 mod r, four u64 limbs).
_COEF_DTYPE = np.dtype([("m", "<u4"), ("row", "<u4"), ("wire", "<u4"), ("v", "<u8", (4,))])
_WTNS_LABELS = {1: "header", 2: "witness values"}


def _limbs(x: int) -> np.ndarray:
    return np.array([(x >> (64 * i)) & ((1 << 64) - 1) for i in range(4)], dtype=np.uint64)


Q_LIMBS = _limbs(Q)
R_LIMBS = _limbs(R)


def limbs_below(a: np.ndarray, p_limbs: np.ndarray) -> np.ndarray:
    """Row-wise ``a[i] < p`` for an ``(n, 4)`` little-endian uint64 limb array, vectorised.

    Lexicographic from the top limb: below when the top limb is smaller, or equal and the rest below.
    """
    below = a[:, 0] < p_limbs[0]
    for k in range(1, 4):
        below = (a[:, k] < p_limbs[k]) | ((a[:, k] == p_limbs[k]) & below)
    return below


def _first_bad(ok: np.ndarray) -> int:
    return int(np.argmin(ok))


class _Mapped:
    """An iden3 binary file mapped read-only, with its section table (same checks as read_binfile)."""

    def __init__(self, path: PathLike, magic: str, max_version: int, labels: dict[int, str],
                 name: str | None = None) -> None:
        self.name = name or str(path)
        self.labels = labels
        with open(path, "rb") as f:
            size = Path(path).stat().st_size
            if size < 12:
                raise FileFormatError(f"{self.name}: truncated: {size} bytes, a {magic} file has a 12-byte header")
            self.mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        data = self.view = memoryview(self.mm)
        if bytes(data[:4]) != magic.encode("ascii"):
            raise FileFormatError(
                f"{self.name}: bad magic {bytes(data[:4])!r}, expected {magic.encode('ascii')!r} (not a .{magic} file)")
        version = _U32.unpack_from(data, 4)[0]
        if not 1 <= version <= max_version:
            raise FileFormatError(f"{self.name}: unsupported {magic} version {version} (supported: 1..{max_version})")
        n_sections = _U32.unpack_from(data, 8)[0]
        self.sections: dict[int, list[tuple[int, int]]] = {}
        pos = 12
        for k in range(n_sections):
            if pos + _SECTION_HEADER.size > size:
                raise FileFormatError(f"{self.name}: truncated: header of section #{k} (of {n_sections}) at byte "
                                      f"{pos} is past the end of the file ({size} bytes)")
            sid, sz = _SECTION_HEADER.unpack_from(data, pos)
            pos += _SECTION_HEADER.size
            if pos + sz > size:
                raise FileFormatError(f"{self.name}: {self._where(sid)}: truncated: declares {sz} bytes at byte "
                                      f"{pos}, the file has only {size - pos} more")
            self.sections.setdefault(int(sid), []).append((pos, int(sz)))
            pos += sz
        if pos != size:
            raise FileFormatError(f"{self.name}: {size - pos} unexpected bytes after the last of {n_sections} sections")

    def _where(self, sid: int) -> str:
        label = self.labels.get(sid)
        return f"section {sid}" + (f" ({label})" if label else "")

    def body(self, sid: int) -> memoryview:
        found = self.sections.get(sid)
        if not found:
            raise FileFormatError(f"{self.name}: missing {self._where(sid)}")
        if len(found) > 1:
            raise FileFormatError(f"{self.name}: {self._where(sid)} appears {len(found)} times")
        off, sz = found[0]
        return self.view[off: off + sz]

    def reader(self, sid: int) -> SectionReader:
        """A bounds-checked reader over a small section (copied to bytes)."""
        return SectionReader(self.name, sid, self.labels.get(sid, ""), bytes(self.body(sid)))

    def error(self, sid: int, what: str) -> FileFormatError:
        return FileFormatError(f"{self.name}: {self._where(sid)}: {what}")


def map_sections(path: PathLike, magic: str, *, name: str | None = None) -> dict[int, list[tuple[int, int]]]:
    """The section table ``{id: [(offset, size), ...]}`` of an iden3 binary file, read by mapping it."""
    labels = _LABELS if magic == "zkey" else _WTNS_LABELS if magic == "wtns" else {}
    return _Mapped(path, magic, 2, labels, name).sections


def read_wtns_array(path: PathLike, *, name: str | None = None) -> np.ndarray:
    """A ``.wtns`` file's witness as an ``(n, 4)`` uint64 array of little-endian limbs (normal form).

    The values are validated (each below r) in one vectorised pass and copied out of the mapping
    (one memory copy: the array is writeable and the file is closed).

    Raises:
        FileFormatError: as :func:`zkmargin.serialize.read_wtns`: wrong magic or version, a field other
            than BN254's r, a values section of the wrong size, a value not below r, truncation.
    """
    f = _Mapped(path, "wtns", 2, _WTNS_LABELS, name)
    try:
        rd = f.reader(1)
        n8 = read_field_header(rd, R, "prime r")
        n = rd.u32("nWitness")
        rd.expect_end()
        body = f.body(2)
        if len(body) != n * n8:
            raise f.error(2, f"size mismatch: {len(body)} bytes, expected nWitness * n8 = {n} * {n8}")
        w = np.frombuffer(body, dtype="<u8").reshape(n, 4).astype(np.uint64, copy=True)
        del body
    finally:
        f.view.release()
        f.mm.close()
    ok = limbs_below(w, R_LIMBS)
    if not ok.all():
        i = _first_bad(ok)
        v = int.from_bytes(w[i].tobytes(), "little")
        raise FileFormatError(f"{f.name}: section 2 (witness values): value of wire {i} is not below r: {v}")
    return w


def _coord_check(f: _Mapped, sid: int, body: memoryview, per_point: int) -> None:
    arr = np.frombuffer(body, dtype="<u8").reshape(-1, 4)
    ok = limbs_below(arr, Q_LIMBS)
    if not ok.all():
        k = _first_bad(ok)
        v = int.from_bytes(arr[k].tobytes(), "little")
        raise f.error(sid, f"{_LABELS[sid]}[{k // per_point}]: coordinate {k % per_point} is not below q: {v}")


def read_zkey_mapped(path: PathLike, *, name: str | None = None) -> ProvingKey:
    """A Groth16 ``.zkey`` as the prover needs it: header decoded, bulk sections mapped and validated.

    Returns the same key as ``read_zkey(path, keep_encoded=True)`` (sections 4-9 in ``pk.encoded``,
    here as read-only memoryviews of the mapped file, which stays mapped while the key lives), with
    every coordinate checked below q and every coefficient record in range in vectorised passes.

    Raises:
        FileFormatError: as :func:`zkmargin.serialize.read_zkey`.
    """
    f = _Mapped(path, "zkey", _MAX_VERSION, _LABELS, name)
    rd = f.reader(1)
    proto = rd.u32("protocol id")
    rd.expect_end()
    if proto != _GROTH16:
        raise rd.error(f"protocol is {_PROTOCOLS.get(proto, 'unknown')} (id {proto}), expected groth16 (id 1)")
    rd = f.reader(2)
    read_field_header(rd, Q, "base field prime q")
    read_field_header(rd, R, "scalar field prime r")
    n_vars = rd.u32("nVars")
    n_pub = rd.u32("nPublic")
    dom = rd.u32("domainSize")
    g1s = rd.take(2 * _G1_SIZE, "alpha_g1, beta_g1")
    g2s = rd.take(2 * _G2_SIZE, "beta_g2, gamma_g2")
    d1 = rd.take(_G1_SIZE, "delta_g1")
    d2 = rd.take(_G2_SIZE, "delta_g2")
    rd.expect_end()
    if n_pub + 1 > n_vars:
        raise rd.error(f"nPublic {n_pub} + 1 exceeds nVars {n_vars}")
    if dom < 1 or dom & (dom - 1) or dom > _MAX_DOMAIN:
        raise rd.error(f"domainSize {dom} is not a power of two up to 2^28")
    alpha_g1, beta_g1 = _dec_g1_list(rd, g1s, "alpha_g1/beta_g1")
    beta_g2, gamma_g2 = _dec_g2_list(rd, g2s, "beta_g2/gamma_g2")
    (delta_g1,) = _dec_g1_list(rd, d1, "delta_g1")
    (delta_g2,) = _dec_g2_list(rd, d2, "delta_g2")
    ic_rd = f.reader(3)
    if len(ic_rd.body) != (n_pub + 1) * _G1_SIZE:
        raise ic_rd.error(f"size mismatch: {len(ic_rd.body)} bytes, expected {n_pub + 1} G1 points (nPublic + 1) "
                          f"of {_G1_SIZE} bytes = {(n_pub + 1) * _G1_SIZE}")
    gamma_abc = _dec_g1_list(ic_rd, ic_rd.body, "IC")

    encoded: dict[int, Any] = {}
    body4 = f.body(4)
    if len(body4) < 4:
        raise f.error(4, f"truncated: nCoefs needs 4 bytes, the section has {len(body4)}")
    n_coef = _U32.unpack_from(body4, 0)[0]
    if len(body4) != 4 + n_coef * _COEF_DTYPE.itemsize:
        raise f.error(4, f"size mismatch: {len(body4)} bytes, expected 4 + nCoefs {n_coef} * {_COEF_DTYPE.itemsize}")
    rec = np.frombuffer(body4, dtype=_COEF_DTYPE, offset=4)
    if n_coef:
        bad = (rec["m"] > 1) | (rec["row"] >= dom) | (rec["wire"] >= n_vars)
        bad |= ~limbs_below(np.ascontiguousarray(rec["v"]).reshape(-1, 4), R_LIMBS)
        if bad.any():
            k = int(np.argmax(bad))
            m, row, wire = int(rec["m"][k]), int(rec["row"][k]), int(rec["wire"][k])
            raise f.error(4, f"coefficient {k} (matrix {m}, row {row}, wire {wire}) is out of range: the matrix "
                             f"must be 0 or 1, the row below domainSize {dom}, the wire below nVars {n_vars}, the "
                             "value below r")
    encoded[4] = body4
    counts = {5: n_vars, 6: n_vars, 7: n_vars, 8: n_vars - n_pub - 1, 9: dom}
    for sid, cnt in counts.items():
        size = _G2_SIZE if sid == 7 else _G1_SIZE
        body = f.body(sid)
        if len(body) != cnt * size:
            raise f.error(sid, f"size mismatch: {len(body)} bytes, expected {cnt} points ({_LABELS[sid]}) of "
                               f"{size} bytes = {cnt * size}")
        _coord_check(f, sid, body, 4 if sid == 7 else 2)
        encoded[sid] = body
    vk = VerifyingKey(alpha_g1=alpha_g1, beta_g2=beta_g2, gamma_g2=gamma_g2, delta_g2=delta_g2,
                      gamma_abc_g1=tuple(gamma_abc))
    pk = ProvingKey(vk=vk, beta_g1=beta_g1, delta_g1=delta_g1, n_wires=n_vars, n_public=n_pub, domain_size=dom,
                    a_query=[], b_g1_query=[], b_g2_query=[], h_query=[], l_query=[], coeffs=[], n_rows=0,
                    encoded=encoded)
    pk._mapping = f  # type: ignore[attr-defined]  # keeps the file mapped while the key's views live
    return pk
