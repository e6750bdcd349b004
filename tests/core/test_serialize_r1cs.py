"""iden3 .r1cs files and circom .sym names (zkmargin.serialize.r1cs_file).

Byte layouts are built by hand here from the format description (iden3 r1csfile's README and
snarkjs 0.7.6's reader); tests/crosscheck/test_formats_snarkjs.py checks them against snarkjs.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from zkmargin.errors import FileFormatError
from zkmargin.field import R
from zkmargin.r1cs import ConstraintSystem
from zkmargin.serialize import (
    r1cs_to_bytes,
    read_r1cs,
    read_r1cs_header,
    read_r1cs_wire_map,
    read_sym,
    write_r1cs,
    write_sym,
)

N8 = 32


def _lc(terms: list[tuple[int, int]]) -> bytes:
    body = b"".join(struct.pack("<I", w) + c.to_bytes(N8, "little") for w, c in terms)
    return struct.pack("<I", len(terms)) + body


def _header(n_wires: int, n_out: int, n_pub: int, n_prv: int, n_labels: int, n_constraints: int,
            prime: int = R, n8: int = N8) -> bytes:
    return (
        struct.pack("<I", n8) + prime.to_bytes(n8, "little")
        + struct.pack("<IIIIQI", n_wires, n_out, n_pub, n_prv, n_labels, n_constraints)
    )


def _file(sections: list[tuple[int, bytes]], version: int = 1) -> bytes:
    out = b"r1cs" + struct.pack("<II", version, len(sections))
    for sid, body in sections:
        out += struct.pack("<IQ", sid, len(body)) + body
    return out


# One constraint (3*w3 + w0) * (w2) = (R-1)*w1 over wires [one, pub1, priv2, priv3].
TINY_CONSTRAINTS = _lc([(0, 1), (3, 3)]) + _lc([(2, 1)]) + _lc([(1, R - 1)])
TINY = ConstraintSystem(n_wires=4, n_public=1, constraints=[({3: 3, 0: 1}, {2: 1}, {1: R - 1})])
TINY_BYTES = _file(
    [
        (1, _header(4, 0, 1, 2, 4, 1)),
        (2, _lc([(0, 1), (3, 3)]) + _lc([(2, 1)]) + _lc([(1, R - 1)])),
        (3, struct.pack("<4Q", 0, 1, 2, 3)),
    ]
)


def _system() -> ConstraintSystem:
    """Wires [one, out, pub2, a, b, c, d, e]; includes an all-empty A*B side and a large coefficient."""
    return ConstraintSystem(
        n_wires=8,
        n_public=2,
        constraints=[
            ({3: 1}, {4: 1}, {1: 1}),
            ({3: 1, 4: 2}, {2: 1}, {5: 1}),
            ({5: 1, 0: R - 5}, {0: 1}, {6: 1}),
            ({}, {}, {7: 1, 0: R - 7}),
            ({}, {}, {}),
        ],
        labels=["mul", "lin", "sub", "const", "empty"],
        wire_names=["one", "out", "pub2", "a", "b", "c", "d", "e"],
    )


def test_writer_matches_hand_built_bytes() -> None:
    assert r1cs_to_bytes(TINY) == TINY_BYTES


def test_reader_parses_hand_built_bytes() -> None:
    cs = read_r1cs(TINY_BYTES)
    assert (cs.n_wires, cs.n_public, cs.prime) == (4, 1, R)
    assert cs.constraints == [({0: 1, 3: 3}, {2: 1}, {1: R - 1})]
    assert cs.labels == [] and cs.wire_names == []


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    cs = _system()
    write_r1cs(cs, tmp_path / "c.r1cs")
    back = read_r1cs(tmp_path / "c.r1cs")
    assert (back.n_wires, back.n_public, back.n_constraints) == (8, 2, 5)
    assert back.constraints == cs.constraints
    assert back.digest() == cs.digest()
    h = read_r1cs_header(tmp_path / "c.r1cs")
    assert (h.n_pub_out, h.n_pub_in, h.n_prv_in, h.n_labels, h.n_constraints) == (0, 2, 5, 8, 5)
    assert read_r1cs_wire_map(tmp_path / "c.r1cs") == list(range(8))
    # Writing what was read reproduces the file byte for byte.
    assert r1cs_to_bytes(back) == (tmp_path / "c.r1cs").read_bytes()


def test_round_trip_no_public_no_constraints() -> None:
    cs = ConstraintSystem(n_wires=1, n_public=0)
    back = read_r1cs(r1cs_to_bytes(cs))
    assert (back.n_wires, back.n_public, back.constraints) == (1, 0, [])


def test_names_round_trip_through_sym(tmp_path: Path) -> None:
    cs = _system()
    write_r1cs(cs, tmp_path / "c.r1cs")
    write_sym(cs, tmp_path / "c.sym")
    assert (tmp_path / "c.sym").read_text().splitlines()[:2] == ["1,1,0,out", "2,2,0,pub2"]
    back = read_r1cs(tmp_path / "c.r1cs", sym=tmp_path / "c.sym")
    assert back.wire_names == cs.wire_names


def test_read_sym_circom_style(tmp_path: Path) -> None:
    # circom lists eliminated signals with wire -1 and may name a wire twice; the first name wins.
    p = tmp_path / "c.sym"
    p.write_text("1,1,0,main.out\n2,-1,0,main.tmp\n3,2,1,main.sub.x\n4,2,0,main.x\n\n")
    assert read_sym(p, 4) == ["one", "main.out", "main.sub.x", "w3"]
    p.write_text("1,9,0,main.out\n")
    with pytest.raises(FileFormatError, match=r"c\.sym: line 1: wire id 9 is not in \[0, 4\)"):
        read_sym(p, 4)
    p.write_text("1,1,main.out\n")
    with pytest.raises(FileFormatError, match=r"line 1: expected 4 comma-separated fields"):
        read_sym(p, 4)


def test_circom_outputs_count_as_public() -> None:
    # nPubOut = 1, nPubIn = 1: wires [one, out, in, priv, internal]; map to sparse labels.
    data = _file(
        [
            (2, _lc([(2, 1)]) + _lc([(3, 1)]) + _lc([(1, 1)])),
            (1, _header(5, 1, 1, 1, 9, 1)),
            (3, struct.pack("<5Q", 0, 1, 2, 5, 8)),
        ]
    )
    cs = read_r1cs(data)
    assert (cs.n_wires, cs.n_public) == (5, 2)
    assert read_r1cs_wire_map(data) == [0, 1, 2, 5, 8]


def test_map_section_is_optional_for_the_system() -> None:
    body = _lc([(0, 1), (3, 3)]) + _lc([(2, 1)]) + _lc([(1, R - 1)])
    data = _file([(1, _header(4, 0, 1, 2, 4, 1)), (2, body)])
    assert read_r1cs(data).constraints == TINY.constraints
    with pytest.raises(FileFormatError, match=r"missing section 3 \(wire-to-label map\)"):
        read_r1cs_wire_map(data)


# --- malformed files ---------------------------------------------------------------------------

def _tiny(header: bytes | None = None, constraints: bytes | None = None, wire_map: bytes | None = None,
          extra: list[tuple[int, bytes]] | None = None) -> bytes:
    return _file(
        [
            (1, header if header is not None else _header(4, 0, 1, 2, 4, 1)),
            (2, constraints if constraints is not None else TINY_CONSTRAINTS),
            (3, wire_map if wire_map is not None else struct.pack("<4Q", 0, 1, 2, 3)),
            *(extra or []),
        ]
    )


def test_wrong_prime_names_file_and_section(tmp_path: Path) -> None:
    p = tmp_path / "bls.r1cs"
    bls_r = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
    p.write_bytes(_tiny(header=_header(4, 0, 1, 2, 4, 1, prime=bls_r)))
    with pytest.raises(FileFormatError, match=r"bls\.r1cs: section 1 \(header\): wrong prime r: 5243587"):
        read_r1cs(p)


def test_wrong_field_size() -> None:
    msg = r"section 1 \(header\): field size n8 of the prime r is 48, exp"
    with pytest.raises(FileFormatError, match=msg):
        read_r1cs_header(_tiny(header=_header(4, 0, 1, 2, 4, 1, prime=R, n8=48)))


def test_bad_magic_and_version() -> None:
    with pytest.raises(FileFormatError, match=r"bad magic b'wtns', expected b'r1cs'"):
        read_r1cs(b"wtns" + TINY_BYTES[4:])
    with pytest.raises(FileFormatError, match=r"unsupported r1cs version 2"):
        read_r1cs(_file([(1, _header(4, 0, 1, 2, 4, 1))], version=2))


def test_truncated_file() -> None:
    with pytest.raises(FileFormatError, match=r"truncated"):
        read_r1cs(TINY_BYTES[:-5])


def test_counts_exceeding_wires() -> None:
    with pytest.raises(FileFormatError, match=r"counts exceed the wires: 1 \+ nPubOut 0 \+ nPubIn 3"):
        read_r1cs(_tiny(header=_header(4, 0, 3, 2, 4, 1)))


def test_header_with_extra_bytes() -> None:
    with pytest.raises(FileFormatError, match=r"section 1 \(header\): size mismatch"):
        read_r1cs(_tiny(header=_header(4, 0, 1, 2, 4, 1) + b"\0"))


def test_constraint_wire_out_of_range() -> None:
    msg = r"section 2 \(constraints\): constraint #0 B: wire 4 is not below"
    with pytest.raises(FileFormatError, match=msg):
        read_r1cs(_tiny(constraints=_lc([(0, 1)]) + _lc([(4, 1)]) + _lc([])))


def test_coefficient_not_below_r() -> None:
    with pytest.raises(FileFormatError, match=r"constraint #0 C: coefficient of wire 1 is not below r"):
        read_r1cs(_tiny(constraints=_lc([]) + _lc([]) + _lc([(1, R)])))


def test_duplicate_wire_in_a_combination() -> None:
    with pytest.raises(FileFormatError, match=r"constraint #0 A: wire 3 appears twice"):
        read_r1cs(_tiny(constraints=_lc([(3, 1), (3, 2)]) + _lc([]) + _lc([])))


def test_fewer_constraints_than_declared() -> None:
    with pytest.raises(FileFormatError, match=r"truncated: constraint #1 A term count needs 4 bytes"):
        read_r1cs(_tiny(header=_header(4, 0, 1, 2, 4, 2)))


def test_term_list_cut_short() -> None:
    body = struct.pack("<I", 5) + struct.pack("<I", 1) + (1).to_bytes(N8, "little")
    with pytest.raises(FileFormatError, match=r"truncated: constraint #0 A \(5 terms\) needs 180 bytes"):
        read_r1cs(_tiny(constraints=body))


def test_more_constraint_bytes_than_declared() -> None:
    extra = _lc([]) * 3
    with pytest.raises(FileFormatError, match=r"section 2 \(constraints\): size mismatch"):
        read_r1cs(_tiny(constraints=_lc([(0, 1)]) + _lc([(2, 1)]) + _lc([(1, 1)]) + extra))


def test_wire_map_size_and_labels() -> None:
    with pytest.raises(FileFormatError, match=r"section 3 \(wire-to-label map\): size mismatch: 24 bytes"):
        read_r1cs(_tiny(wire_map=struct.pack("<3Q", 0, 1, 2)))
    with pytest.raises(FileFormatError, match=r"wire 3 maps to label 4, not below nLabels 4"):
        read_r1cs(_tiny(wire_map=struct.pack("<4Q", 0, 1, 2, 4)))


def test_custom_gates_are_rejected() -> None:
    with pytest.raises(FileFormatError, match=r"custom gates"):
        read_r1cs(_tiny(extra=[(4, struct.pack("<I", 0)), (5, struct.pack("<I", 0))]))


def test_missing_constraints_section() -> None:
    data = _file([(1, _header(4, 0, 1, 2, 4, 1))])
    with pytest.raises(FileFormatError, match=r"missing section 2 \(constraints\)"):
        read_r1cs(data)


# --- writer validation -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "cs, message",
    [
        (ConstraintSystem(4, 1, [({3: R}, {}, {})]), r"constraint #0 A: coefficient of wire 3 is not in \["),
        (ConstraintSystem(4, 1, [({}, {}, {4: 1})]), r"constraint #0 C: wire 4 is not in \[0, 4\)"),
        (ConstraintSystem(4, 1, [({}, {-1: 1}, {})]), r"constraint #0 B: wire -1"),
        (ConstraintSystem(4, 4, []), r"inconsistent counts"),
        (ConstraintSystem(4, 1, [], prime=101), r"only BN254's scalar field"),
    ],
)
def test_writer_rejects_inconsistent_systems(tmp_path: Path, cs: ConstraintSystem, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_r1cs(cs, tmp_path / "bad.r1cs")
    assert list(tmp_path.iterdir()) == []


def test_write_sym_rejects_unnamed_wires_and_commas(tmp_path: Path) -> None:
    cs = _system()
    cs.wire_names = cs.wire_names[:-1]
    with pytest.raises(ValueError, match="7 names for 8 wires"):
        write_sym(cs, tmp_path / "c.sym")
    cs.wire_names = [*cs.wire_names, "a,b"]
    with pytest.raises(ValueError, match="contains a comma"):
        write_sym(cs, tmp_path / "c.sym")
    assert list(tmp_path.iterdir()) == []
