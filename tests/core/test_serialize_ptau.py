"""The .ptau container (zkmargin/serialize/ptau_file.py): structure, round trip, and every malformed
file named by its section. Points here are made with py_ecc (no numba needed); byte equality with
snarkjs's own files is in tests/crosscheck/test_ceremony_snarkjs.py."""

from __future__ import annotations

import struct

import pytest

from zkmargin import curve
from zkmargin.errors import FileFormatError
from zkmargin.field import Q
from zkmargin.serialize.ptau_file import (
    G1_SIZE,
    G2_SIZE,
    encode_ptau,
    lagrange_offset,
    read_ptau,
    section_points,
    write_ptau,
)
from zkmargin.serialize.zkey_file import _enc_g1, _enc_g2

POWER = 2
TAU = 12345


def _sections(power=POWER, contributions=b"\x00\x00\x00\x00", prepared=False):
    n = 1 << power
    g1 = [curve.g1_mul(curve.G1_GENERATOR, pow(TAU, i, curve.R)) for i in range(2 * n - 1)]
    g2 = [curve.g2_mul(curve.G2_GENERATOR, pow(TAU, i, curve.R)) for i in range(n)]
    secs = {
        2: b"".join(_enc_g1(p, "") for p in g1),
        3: b"".join(_enc_g2(p, "") for p in g2),
        4: b"".join(_enc_g1(p, "") for p in g1[:n]),
        5: b"".join(_enc_g1(p, "") for p in g1[:n]),
        6: _enc_g2(g2[1], ""),
        7: contributions,
    }
    if prepared:  # placeholder contents of the right sizes (structure only)
        for sid in (12, 13, 14, 15):
            secs[sid] = bytes(section_points(sid, power) * (G2_SIZE if sid == 13 else G1_SIZE))
    return secs


def _contribution(name=b"alice", ctype=0, params=None):
    fixed = bytes(4 * G1_SIZE + 2 * G2_SIZE - G1_SIZE) + bytes(6 * G1_SIZE + 3 * G2_SIZE) + bytes(216 + 64)
    if params is None:
        params = bytes([1, len(name)]) + name
        if ctype == 1:
            params += bytes([2, 10, 3, 2, 0xAB, 0xCD])
    return fixed + struct.pack("<II", ctype, len(params)) + params


def _bytes(secs, power=POWER, **kw):
    return b"".join(encode_ptau(power, secs, **kw))


def test_round_trip_and_fields(tmp_path):
    contribs = struct.pack("<I", 2) + _contribution() + _contribution(b"beacon", 1)
    write_ptau(tmp_path / "p.ptau", POWER, _sections(contributions=contribs), ceremony_power=5)
    p = read_ptau(tmp_path / "p.ptau")
    assert (p.power, p.ceremony_power, p.prepared) == (POWER, 5, False)
    assert [c.name for c in p.contributions] == ["alice", "beacon"]
    assert p.contributions[1].type == 1 and p.contributions[1].num_iterations_exp == 10
    assert p.contributions[1].beacon_hash == b"\xab\xcd"
    assert bytes(p.points(2, 1, 1)) == _enc_g1(curve.g1_mul(curve.G1_GENERATOR, TAU), "")
    # the same bytes in memory
    data = (tmp_path / "p.ptau").read_bytes()
    assert read_ptau(data).contributions == p.contributions
    # section order 1..7 and the header
    assert data[:12] == b"ptau" + struct.pack("<II", 1, 7)
    assert struct.unpack_from("<IQI", data, 12) == (1, 4 + 32 + 8, 32)


def test_prepared_structure():
    data = _bytes(_sections(prepared=True))
    p = read_ptau(data)
    assert p.prepared
    assert len(p.lagrange(12, 8)) == 8 * G1_SIZE and lagrange_offset(8) == 7
    assert len(p.lagrange(13, 4)) == 4 * G2_SIZE
    with pytest.raises(FileFormatError, match="section 13 .*points 7..15 requested"):
        p.lagrange(13, 8)  # tauG2 Lagrange goes up to 2^power only


def test_bad_magic_version_prime():
    data = bytearray(_bytes(_sections()))
    with pytest.raises(FileFormatError, match="bad magic"):
        read_ptau(b"zkey" + bytes(data[4:]))
    bad = bytearray(data)
    bad[4] = 2
    with pytest.raises(FileFormatError, match="unsupported ptau version 2"):
        read_ptau(bytes(bad))
    bad = bytearray(data)
    bad[12 + 12 + 4] ^= 1  # the prime's first byte
    with pytest.raises(FileFormatError, match=r"section 1 \(header\).*wrong base field prime"):
        read_ptau(bytes(bad))


def test_power_checks():
    with pytest.raises(FileFormatError, match="ceremonyPower 1 is below power 2"):
        read_ptau(_bytes(_sections(), ceremony_power=1))
    secs = _sections()
    header = struct.pack("<I", 32) + Q.to_bytes(32, "little") + struct.pack("<II", 0, 0)
    data = bytearray(_bytes(secs))
    data[12 + 12 : 12 + 12 + len(header)] = header
    with pytest.raises(FileFormatError, match="power 0 is outside"):
        read_ptau(bytes(data))


def test_section_size_mismatch_is_named():
    secs = _sections()
    data = bytearray(_bytes(secs))
    # declare power 3 in the header: every section is then too small; section 2 is named first
    off = 12 + 12 + 4 + 32
    data[off : off + 8] = struct.pack("<II", 3, 3)
    with pytest.raises(FileFormatError, match=r"section 2 \(tauG1\): size mismatch: 448 bytes, a power-3 file has 15"):
        read_ptau(bytes(data))


def test_missing_duplicate_partial_sections():
    secs = _sections()
    del secs[5]
    with pytest.raises(FileFormatError, match=r"missing section 5 \(betaTauG1\)"):
        read_ptau(_bytes(secs))
    secs = _sections(prepared=True)
    del secs[14]
    with pytest.raises(FileFormatError, match="partly prepared"):
        read_ptau(_bytes(secs))
    data = _bytes(_sections())
    # append a second section 6
    body = _enc_g2(curve.G2_GENERATOR, "")
    dup = bytearray(data[:8]) + struct.pack("<I", 8) + data[12:] + struct.pack("<IQ", 6, len(body)) + body
    with pytest.raises(FileFormatError, match=r"section 6 \(betaG2\) appears more than once"):
        read_ptau(bytes(dup))


def test_truncation_and_trailing_bytes():
    data = _bytes(_sections())
    with pytest.raises(FileFormatError, match="truncated"):
        read_ptau(data[:-10])
    with pytest.raises(FileFormatError, match="unexpected bytes after the last"):
        read_ptau(data + b"\x00")
    with pytest.raises(FileFormatError, match="truncated"):
        read_ptau(data[:8])


def test_bad_contributions():
    for contrib, msg in (
        (struct.pack("<I", 1) + _contribution()[:-3], "truncated"),
        (struct.pack("<I", 1) + _contribution(params=bytes([2, 10, 1, 1, 65])), "not sorted"),
        (struct.pack("<I", 1) + _contribution(params=bytes([9, 0])), "unknown parameter type 9"),
        (struct.pack("<I", 1) + _contribution(params=bytes([1, 9, 65])), "parameter 1 is truncated"),
        (struct.pack("<I", 0) + b"\x00", "size mismatch"),
    ):
        with pytest.raises(FileFormatError, match=rf"section 7 \(contributions\).*{msg}"):
            read_ptau(_bytes(_sections(contributions=contrib)))


def test_encode_rejects_wrong_sizes():
    secs = _sections()
    secs[3] = secs[3][:-1]
    with pytest.raises(ValueError, match="section 3"):
        _bytes(secs)
    with pytest.raises(ValueError, match="not a ptau section"):
        _bytes({**_sections(), 9: b""})
