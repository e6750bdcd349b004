"""Groth16 .zkey proving keys (zkmargin.serialize.zkey_file).

Stored vectors (hex) were sliced from a key written by snarkjs 0.7.6:
``snarkjs powersoftau new bn128 5 p0.ptau; snarkjs powersoftau contribute p0.ptau p1.ptau -e=...;
snarkjs powersoftau prepare phase2 p1.ptau pot.ptau; snarkjs groth16 setup c.r1cs pot.ptau s.zkey``
for the 4-constraint circuit of tests/crosscheck/test_formats_snarkjs.py. In a fresh key
delta_1 is the G1 generator and gamma_2 the G2 generator; section 4 holds coefficients 1, 2, r-5.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from zkmargin.curve import G1_GENERATOR, G2_GENERATOR, g1_mul, g2_mul
from zkmargin.errors import FileFormatError
from zkmargin.field import Q, R
from zkmargin.groth16 import ProvingKey, VerifyingKey
from zkmargin.serialize import (
    CONTRIBUTE_SECTION_ORDER,
    SETUP_SECTION_ORDER,
    ZkeyMpcParams,
    read_zkey,
    read_zkey_mpc_params,
    write_zkey,
    zkey_to_bytes,
)

# snarkjs 0.7.6 (see module docstring): G1 generator (1, 2) and G2 generator in Montgomery LE.
SNARKJS_G1_GEN = bytes.fromhex(
    "9d0d8fc58d435dd33d0bc7f528eb780a2c4679786fa36e662fdf079ac1770a0e"
    "3a1b1e8b1b87baa67b168eeb51d6f114588cf2f0de46ddcc5ebe0f3483ef141c"
)
SNARKJS_G2_GEN = bytes.fromhex(
    "2620bc02d1b5838e72017b493519ebdcdf1a81974726b8fb3b5096af41385719"
    "40614ca87d73b4afc4d802585add4360862fa052fc50e9096b7bea3a83f0fe14"
    "f6e96b889dfa9d61789b9ef597d27ffefe7d1b23621a9eff06429eaeeb7efd28"
    "ee5618c7565b0964bb3c7d3222f957dc76103533be35f9558264fd93e6a0a40d"
)
# Section-4 values as snarkjs stores them (c * R^2 mod r) for c = 1, 2, r - 5.
SNARKJS_COEF = {
    1: bytes.fromhex("a76d21ae45e6b81be3595ce3b13afe538580bb533d83498ca5444e7fb1d01602"),
    2: bytes.fromhex("4edb425c8bcc7137c6b3b8c66375fca70a0177a77a0693184b899cfe62a12d04"),
    R - 5: bytes.fromhex("bedb5889377645b921afeb08cfc23c84c2d5d7de83b5e0faed48aa64fb3af225"),
}


def _g1(k: int):
    return g1_mul(G1_GENERATOR, k)


def _g2(k: int):
    return g2_mul(G2_GENERATOR, k)


def _pk() -> ProvingKey:
    """A small key with the shape snarkjs gives a 2-constraint, 1-public circuit (points arbitrary)."""
    vk = VerifyingKey(alpha_g1=_g1(11), beta_g2=_g2(12), gamma_g2=G2_GENERATOR, delta_g2=_g2(13),
                      gamma_abc_g1=(_g1(14), None))
    return ProvingKey(
        vk=vk,
        beta_g1=_g1(12),
        delta_g1=G1_GENERATOR,
        n_wires=4,
        n_public=1,
        domain_size=4,
        a_query=[_g1(21), None, _g1(22), _g1(23)],
        b_g1_query=[None, _g1(31), None, _g1(32)],
        b_g2_query=[None, _g2(31), None, _g2(32)],
        h_query=[_g1(41), _g1(42), None, _g1(43)],
        l_query=[_g1(51), None],
        coeffs=[(0, 0, 2, 1), (1, 0, 3, 2), (0, 1, 3, R - 5), (0, 2, 0, 1), (0, 3, 1, 1)],
        n_rows=4,
    )


def _sections(data: bytes) -> list[tuple[int, bytes]]:
    """Independent container split (struct only), in file order."""
    n = struct.unpack_from("<I", data, 8)[0]
    pos, out = 12, []
    for _ in range(n):
        sid, size = struct.unpack_from("<IQ", data, pos)
        pos += 12
        out.append((sid, data[pos : pos + size]))
        pos += size
    assert pos == len(data)
    return out


def _join(sections: list[tuple[int, bytes]], magic: bytes = b"zkey", version: int = 1) -> bytes:
    out = magic + struct.pack("<II", version, len(sections))
    for sid, body in sections:
        out += struct.pack("<IQ", sid, len(body)) + body
    return out


def _patch(data: bytes, sid: int, body: bytes) -> bytes:
    return _join([(s, body if s == sid else b) for s, b in _sections(data)])


def _drop(data: bytes, sid: int) -> bytes:
    return _join([(s, b) for s, b in _sections(data) if s != sid])


# --- layout against snarkjs's bytes ------------------------------------------------------------

def test_section_order_and_sizes() -> None:
    data = zkey_to_bytes(_pk())
    assert data[:8] == b"zkey" + struct.pack("<I", 1)
    secs = _sections(data)
    assert [s for s, _ in secs] == [1, 2, 4, 3, 9, 8, 5, 6, 7, 10]
    sizes = dict((s, len(b)) for s, b in secs)
    assert sizes == {1: 4, 2: 4 + 32 + 4 + 32 + 12 + 64 * 3 + 128 * 3, 3: 2 * 64, 4: 4 + 5 * 44, 5: 4 * 64,
                     6: 4 * 64, 7: 4 * 128, 8: 2 * 64, 9: 4 * 64, 10: 64 + 4}
    assert [s for s, _ in _sections(zkey_to_bytes(_pk(), section_order=CONTRIBUTE_SECTION_ORDER))] == list(
        range(1, 11)
    )


def test_points_and_coefficients_match_snarkjs_encoding() -> None:
    secs = dict(_sections(zkey_to_bytes(_pk())))
    h = secs[2]
    assert h[:4] == struct.pack("<I", 32) and int.from_bytes(h[4:36], "little") == Q
    assert h[36:40] == struct.pack("<I", 32) and int.from_bytes(h[40:72], "little") == R
    assert struct.unpack_from("<III", h, 72) == (4, 1, 4)
    o = 84
    gamma2 = h[o + 64 * 2 + 128 : o + 64 * 2 + 256]
    delta1 = h[o + 64 * 2 + 256 : o + 64 * 3 + 256]
    assert delta1 == SNARKJS_G1_GEN
    assert gamma2 == SNARKJS_G2_GEN
    c = secs[4]
    assert struct.unpack_from("<I", c)[0] == 5
    entries = [c[4 + 44 * i : 4 + 44 * (i + 1)] for i in range(5)]
    assert entries[0] == struct.pack("<III", 0, 0, 2) + SNARKJS_COEF[1]
    assert entries[1] == struct.pack("<III", 1, 0, 3) + SNARKJS_COEF[2]
    assert entries[2] == struct.pack("<III", 0, 1, 3) + SNARKJS_COEF[R - 5]


def test_infinity_is_all_zero_bytes() -> None:
    secs = dict(_sections(zkey_to_bytes(_pk())))
    assert secs[3][64:] == bytes(64)  # gamma_abc_g1[1]
    assert secs[7][:128] == bytes(128)  # b_g2_query[0]
    assert secs[8][64:] == bytes(64)  # l_query[1]


def test_reads_snarkjs_generator_bytes() -> None:
    data = zkey_to_bytes(_pk())
    secs = _sections(data)
    # Put snarkjs's bytes for the generators into A[0] and B2[0].
    patch = {5: lambda b: SNARKJS_G1_GEN + b[64:], 7: lambda b: SNARKJS_G2_GEN + b[128:]}
    secs = [(s, patch[s](b) if s in patch else b) for s, b in secs]
    pk = read_zkey(_join(secs))
    assert pk.a_query[0] == G1_GENERATOR
    assert pk.b_g2_query[0] == G2_GENERATOR


# --- round trips -------------------------------------------------------------------------------

def test_round_trip_with_infinity_points(tmp_path: Path) -> None:
    pk = _pk()
    write_zkey(pk, tmp_path / "k.zkey")
    assert read_zkey(tmp_path / "k.zkey") == pk
    mpc = read_zkey_mpc_params(tmp_path / "k.zkey")
    assert mpc == ZkeyMpcParams(cs_hash=bytes(64), contributions=())


def test_round_trip_with_contributions_is_byte_identical() -> None:
    # delta_after, g1_s, g1_sx (G1), g2_spx (G2), transcript (64), type u32, params length u32, params
    fixed = bytes(i % 251 for i in range(3 * 64 + 128 + 64))
    named = fixed + struct.pack("<II", 0, 3) + b"\x01\x01A"
    bare = fixed + struct.pack("<II", 0, 0)
    mpc = ZkeyMpcParams(cs_hash=bytes(range(64)), contributions=(named, bare))
    for order in (SETUP_SECTION_ORDER, CONTRIBUTE_SECTION_ORDER):
        data = zkey_to_bytes(_pk(), mpc=mpc, section_order=order)
        assert read_zkey_mpc_params(data) == mpc
        assert zkey_to_bytes(read_zkey(data), mpc=read_zkey_mpc_params(data), section_order=order) == data


def test_n_rows_is_highest_row_plus_one() -> None:
    pk = _pk()
    pk.coeffs = [(0, 2, 1, 1)]
    assert read_zkey(zkey_to_bytes(pk)).n_rows == 3
    pk.coeffs = []
    assert read_zkey(zkey_to_bytes(pk)).n_rows == 0


# --- malformed files ---------------------------------------------------------------------------

def test_other_protocols_are_rejected(tmp_path: Path) -> None:
    p = tmp_path / "plonk.zkey"
    p.write_bytes(_patch(zkey_to_bytes(_pk()), 1, struct.pack("<I", 2)))
    with pytest.raises(FileFormatError, match=r"plonk\.zkey: section 1 \(header\): protocol is plonk \(id 2"):
        read_zkey(p)


def test_wrong_primes() -> None:
    data = zkey_to_bytes(_pk())
    h = dict(_sections(data))[2]
    bad_q = h[:4] + (Q + 2).to_bytes(32, "little") + h[36:]
    with pytest.raises(FileFormatError, match=r"section 2 \(groth16 header\): wrong base field prime q"):
        read_zkey(_patch(data, 2, bad_q))
    bad_r = h[:40] + Q.to_bytes(32, "little") + h[72:]
    with pytest.raises(FileFormatError, match=r"wrong scalar field prime r: " + str(Q)):
        read_zkey(_patch(data, 2, bad_r))


def test_header_counts_are_checked() -> None:
    data = zkey_to_bytes(_pk())
    h = dict(_sections(data))[2]
    with pytest.raises(FileFormatError, match=r"domainSize 6 is not a power of two"):
        read_zkey(_patch(data, 2, h[:72] + struct.pack("<III", 4, 1, 6) + h[84:]))
    with pytest.raises(FileFormatError, match=r"nPublic 4 \+ 1 exceeds nVars 4"):
        read_zkey(_patch(data, 2, h[:72] + struct.pack("<III", 4, 4, 4) + h[84:]))
    with pytest.raises(FileFormatError, match=r"section 2 \(groth16 header\): truncated: delta_g2 needs 128"):
        read_zkey(_patch(data, 2, h[:-1]))


def test_section_sizes_must_match_counts() -> None:
    data = zkey_to_bytes(_pk())
    secs = dict(_sections(data))
    with pytest.raises(FileFormatError, match=r"section 3 \(IC\): size mismatch: 192 bytes, expected 2 G1"):
        read_zkey(_patch(data, 3, secs[3] + bytes(64)))
    with pytest.raises(FileFormatError, match=r"section 9 \(H\): size mismatch"):
        read_zkey(_patch(data, 9, secs[9][:-64]))
    with pytest.raises(FileFormatError, match=r"section 7 \(B2\): size mismatch"):
        read_zkey(_patch(data, 7, secs[7][:-1]))
    msg = r"section 4 \(coefficients\): size mismatch: 180 bytes, expected 4 \+"
    with pytest.raises(FileFormatError, match=msg):
        read_zkey(_patch(data, 4, secs[4][:-44]))


def test_missing_section() -> None:
    with pytest.raises(FileFormatError, match=r"missing section 8 \(C\)"):
        read_zkey(_drop(zkey_to_bytes(_pk()), 8))


def test_coordinate_not_below_q() -> None:
    data = zkey_to_bytes(_pk())
    a = dict(_sections(data))[5]
    bad = a[:64 * 2 + 32] + Q.to_bytes(32, "little") + a[64 * 3 :]
    with pytest.raises(FileFormatError, match=r"section 5 \(A\): A\[2\]: coordinate 1 is not below q"):
        read_zkey(_patch(data, 5, bad))


@pytest.mark.parametrize(
    "entry, what",
    [
        ((2, 0, 1, 1), "matrix 2"),
        ((0, 4, 1, 1), "row 4"),
        ((1, 0, 4, 1), "wire 4"),
    ],
)
def test_coefficient_entries_out_of_range(entry: tuple[int, int, int, int], what: str) -> None:
    data = zkey_to_bytes(_pk())
    body = struct.pack("<I", 1) + struct.pack("<III", *entry[:3]) + SNARKJS_COEF[1]
    msg = rf"section 4 \(coefficients\): coefficient #0 \(.*{what}.*range"
    with pytest.raises(FileFormatError, match=msg):
        read_zkey(_patch(data, 4, body))


def test_coefficient_value_not_below_r() -> None:
    data = zkey_to_bytes(_pk())
    body = struct.pack("<I", 1) + struct.pack("<III", 0, 0, 0) + R.to_bytes(32, "little")
    with pytest.raises(FileFormatError, match=r"stored value < r \(got " + str(R)):
        read_zkey(_patch(data, 4, body))


def test_contributions_section_checked() -> None:
    data = zkey_to_bytes(_pk())
    with pytest.raises(FileFormatError, match=r"section 10 \(contributions\): truncated: contribution #0"):
        read_zkey_mpc_params(_patch(data, 10, bytes(64) + struct.pack("<I", 1) + bytes(100)))
    with pytest.raises(FileFormatError, match=r"section 10 \(contributions\): size mismatch"):
        read_zkey_mpc_params(_patch(data, 10, bytes(64) + struct.pack("<I", 0) + b"x"))
    with pytest.raises(FileFormatError, match=r"missing section 10"):
        read_zkey_mpc_params(_drop(data, 10))
    # The proving key itself does not need section 10.
    assert read_zkey(_drop(data, 10)) == _pk()


def test_bad_magic_and_truncation() -> None:
    data = zkey_to_bytes(_pk())
    with pytest.raises(FileFormatError, match=r"bad magic b'ptau'"):
        read_zkey(b"ptau" + data[4:])
    with pytest.raises(FileFormatError, match=r"truncated"):
        read_zkey(data[:-10])


# --- writer validation -------------------------------------------------------------------------

def test_writer_rejects_inconsistent_keys(tmp_path: Path) -> None:
    pk = _pk()
    pk.l_query = pk.l_query[:1]
    with pytest.raises(ValueError, match=r"l_query has 1 points, expected 2"):
        write_zkey(pk, tmp_path / "k.zkey")
    pk = _pk()
    pk.a_query[1] = (Q, 1)
    with pytest.raises(ValueError, match=r"a_query\[1\]: coordinate is not an integer in \[0, q\)"):
        write_zkey(pk, tmp_path / "k.zkey")
    pk = _pk()
    pk.coeffs = [(0, 4, 0, 1)]
    with pytest.raises(ValueError, match=r"coeffs\[0\]"):
        write_zkey(pk, tmp_path / "k.zkey")
    pk = _pk()
    pk.domain_size = 3
    with pytest.raises(ValueError, match="domain_size 3"):
        write_zkey(pk, tmp_path / "k.zkey")
    with pytest.raises(ValueError, match="permutation"):
        write_zkey(_pk(), tmp_path / "k.zkey", section_order=[1, 2, 3])
    with pytest.raises(ValueError, match="cs_hash must be 64 bytes"):
        write_zkey(_pk(), tmp_path / "k.zkey", mpc=ZkeyMpcParams(cs_hash=b"short"))
    assert list(tmp_path.iterdir()) == []
