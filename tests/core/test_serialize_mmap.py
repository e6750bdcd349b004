"""The memory-mapped readers (zkmargin.serialize._mmap) against the structured readers.

Same key and witness from the same file (both section orders), and the same refusals: a coordinate
not below q, a coefficient out of range, a witness value not below r, a wrong size, a missing or
duplicated section, truncation, bad magic; each error names the file and the section.
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path

import numpy as np
import pytest

from zkmargin.curve import G1_GENERATOR, G2_GENERATOR, g1_mul, g2_mul
from zkmargin.errors import FileFormatError
from zkmargin.field import Q, R
from zkmargin.groth16 import ProvingKey, VerifyingKey
from zkmargin.serialize import (
    CONTRIBUTE_SECTION_ORDER,
    SETUP_SECTION_ORDER,
    read_wtns,
    read_zkey,
    write_wtns,
    zkey_to_bytes,
)
from zkmargin.serialize._mmap import Q_LIMBS, R_LIMBS, limbs_below, read_wtns_array, read_zkey_mapped


@functools.cache
def _pk() -> ProvingKey:
    """A small key (built once: a dozen py_ecc scalar multiplications)."""
    g1 = lambda k: g1_mul(G1_GENERATOR, k)  # noqa: E731
    g2 = lambda k: g2_mul(G2_GENERATOR, k)  # noqa: E731
    vk = VerifyingKey(alpha_g1=g1(11), beta_g2=g2(12), gamma_g2=G2_GENERATOR, delta_g2=g2(13),
                      gamma_abc_g1=(g1(14), None))
    return ProvingKey(vk=vk, beta_g1=g1(12), delta_g1=G1_GENERATOR, n_wires=4, n_public=1, domain_size=4,
                      a_query=[g1(21), None, g1(22), g1(23)], b_g1_query=[None, g1(31), None, g1(32)],
                      b_g2_query=[None, g2(31), None, g2(32)], h_query=[g1(41), g1(42), None, g1(43)],
                      l_query=[g1(51), None],
                      coeffs=[(0, 0, 2, 1), (1, 0, 3, 2), (0, 1, 3, R - 5), (0, 2, 0, 1), (0, 3, 1, 1)], n_rows=4)


def _sections(data: bytes) -> list[tuple[int, bytes]]:
    n = struct.unpack_from("<I", data, 8)[0]
    pos, out = 12, []
    for _ in range(n):
        sid, size = struct.unpack_from("<IQ", data, pos)
        pos += 12
        out.append((sid, data[pos: pos + size]))
        pos += size
    return out


def _join(sections: list[tuple[int, bytes]], magic: bytes = b"zkey") -> bytes:
    out = magic + struct.pack("<II", 1, len(sections))
    for sid, body in sections:
        out += struct.pack("<IQ", sid, len(body)) + body
    return out


def _patch(data: bytes, sid: int, body: bytes) -> bytes:
    return _join([(s, body if s == sid else b) for s, b in _sections(data)])


def _body(data: bytes, sid: int) -> bytes:
    return next(b for s, b in _sections(data) if s == sid)


@pytest.mark.parametrize("order", [SETUP_SECTION_ORDER, CONTRIBUTE_SECTION_ORDER])
def test_mapped_key_equals_the_structured_reader(tmp_path: Path, order) -> None:
    path = tmp_path / "k.zkey"
    path.write_bytes(zkey_to_bytes(_pk(), section_order=order))
    ref = read_zkey(path, keep_encoded=True)
    got = read_zkey_mapped(path)
    assert got.vk == ref.vk
    assert (got.beta_g1, got.delta_g1, got.n_wires, got.n_public, got.domain_size) == (
        ref.beta_g1, ref.delta_g1, ref.n_wires, ref.n_public, ref.domain_size)
    assert sorted(got.encoded) == sorted(ref.encoded) == [4, 5, 6, 7, 8, 9]
    for sid in ref.encoded:
        assert bytes(got.encoded[sid]) == ref.encoded[sid], sid


def test_mapped_witness_equals_the_structured_reader(tmp_path: Path) -> None:
    values = [1, 0, 5, R - 1, 2**200 + 7, 2**64, 2**128 - 1]
    write_wtns(values, tmp_path / "w.wtns")
    arr = read_wtns_array(tmp_path / "w.wtns")
    assert arr.shape == (len(values), 4) and arr.dtype == np.uint64 and arr.flags.writeable
    as_ints = [int.from_bytes(row.tobytes(), "little") for row in arr]
    assert as_ints == read_wtns(tmp_path / "w.wtns") == values


def test_limbs_below_is_exact_at_the_boundary() -> None:
    def arr(vals: list[int]) -> np.ndarray:
        return np.frombuffer(b"".join(v.to_bytes(32, "little") for v in vals), dtype="<u8").reshape(-1, 4)

    for p, limbs in ((Q, Q_LIMBS), (R, R_LIMBS)):
        vals = [0, 1, p - 1, p, p + 1, 2**256 - 1, p - 2**64, p + 2**64, p - 2**192, p + 2**192]
        assert limbs_below(arr(vals), limbs).tolist() == [v < p for v in vals]


def _write(tmp_path: Path, data: bytes, name: str = "bad.zkey") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_a_coordinate_not_below_q_is_named(tmp_path: Path) -> None:
    data = zkey_to_bytes(_pk())
    for sid, what in ((5, "A"), (7, "B2"), (9, "H")):
        body = bytearray(_body(data, sid))
        body[32:64] = Q.to_bytes(32, "little")  # point 0, coordinate 1
        with pytest.raises(FileFormatError, match=rf"bad\.zkey: section {sid} \({what}\): {what}\[0\]: coordinate 1 "
                                                  r"is not below q"):
            read_zkey_mapped(_write(tmp_path, _patch(data, sid, bytes(body))))
        with pytest.raises(FileFormatError, match="not below q"):
            read_zkey(_write(tmp_path, _patch(data, sid, bytes(body))))


@pytest.mark.parametrize("field,offset,value", [
    ("matrix", 0, 2), ("row", 4, 4), ("wire", 8, 4), ("value", 12, R),
])
def test_a_coefficient_out_of_range_is_refused(tmp_path: Path, field: str, offset: int, value: int) -> None:
    data = zkey_to_bytes(_pk())
    body = bytearray(_body(data, 4))
    rec = 4 + 44 * 2  # the third record
    size = 32 if field == "value" else 4
    body[rec + offset: rec + offset + size] = value.to_bytes(size, "little")
    with pytest.raises(FileFormatError, match=r"section 4 \(coefficients\): coefficient 2 .* out of range"):
        read_zkey_mapped(_write(tmp_path, _patch(data, 4, bytes(body))))


def test_sizes_sections_and_container_are_checked(tmp_path: Path) -> None:
    data = zkey_to_bytes(_pk())
    with pytest.raises(FileFormatError, match=r"section 6 \(B1\): size mismatch"):
        read_zkey_mapped(_write(tmp_path, _patch(data, 6, _body(data, 6)[:-64])))
    with pytest.raises(FileFormatError, match=r"section 4 \(coefficients\): size mismatch"):
        read_zkey_mapped(_write(tmp_path, _patch(data, 4, _body(data, 4) + b"\0")))
    with pytest.raises(FileFormatError, match=r"missing section 8 \(C\)"):
        read_zkey_mapped(_write(tmp_path, _join([(s, b) for s, b in _sections(data) if s != 8])))
    with pytest.raises(FileFormatError, match=r"section 9 \(H\) appears 2 times"):
        read_zkey_mapped(_write(tmp_path, _join(_sections(data) + [(9, _body(data, 9))])))
    with pytest.raises(FileFormatError, match="truncated"):
        read_zkey_mapped(_write(tmp_path, data[:-10]))
    with pytest.raises(FileFormatError, match="unexpected bytes after the last"):
        read_zkey_mapped(_write(tmp_path, data + b"\0"))
    with pytest.raises(FileFormatError, match="bad magic"):
        read_zkey_mapped(_write(tmp_path, b"wtns" + data[4:]))
    with pytest.raises(FileFormatError, match="truncated"):
        read_zkey_mapped(_write(tmp_path, b"zkey"))
    with pytest.raises(FileFormatError, match="expected groth16"):
        read_zkey_mapped(_write(tmp_path, _patch(data, 1, struct.pack("<I", 2))))


def test_a_witness_value_not_below_r_is_named(tmp_path: Path) -> None:
    write_wtns([1, 2, 3], tmp_path / "w.wtns")
    data = bytearray((tmp_path / "w.wtns").read_bytes())
    data[-32:] = R.to_bytes(32, "little")
    (tmp_path / "bad.wtns").write_bytes(bytes(data))
    msg = r"bad\.wtns: section 2 \(witness values\): value of wire 2 is not below r"
    with pytest.raises(FileFormatError, match=msg):
        read_wtns_array(tmp_path / "bad.wtns")
    with pytest.raises(FileFormatError, match="value of wire 2 is not below r"):
        read_wtns(tmp_path / "bad.wtns")
    (tmp_path / "short.wtns").write_bytes(bytes(data[:-32]))
    with pytest.raises(FileFormatError, match="size mismatch|truncated"):
        read_wtns_array(tmp_path / "short.wtns")
