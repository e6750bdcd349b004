"""Groth16 ``.zkey`` proving keys, byte-compatible with snarkjs 0.7.6.

Layout (little-endian; ``G1`` = 64 bytes x|y, ``G2`` = 128 bytes x0|x1|y0|y1, every coordinate in
Montgomery form ``x * 2^256 mod q``; the point at infinity is all zero bytes)::

    1  header          protocol id u32 (1 = Groth16; 2 PLONK and 10 FFLONK are rejected)
    2  groth header    n8q u32 | q | n8r u32 | r | nVars u32 | nPublic u32 | domainSize u32
                       | alpha_g1 | beta_g1 | beta_g2 | gamma_g2 | delta_g1 | delta_g2
    3  IC              nPublic + 1 G1: gamma_abc_g1
    4  coefficients    nCoefs u32 | nCoefs times (matrix u32 | row u32 | wire u32 | value n8r bytes)
    5  A               nVars G1: a_query
    6  B1              nVars G1: b_g1_query
    7  B2              nVars G2: b_g2_query
    8  C               nVars - nPublic - 1 G1: l_query (private wires only)
    9  H               domainSize G1: h_query
    10 contributions   csHash (64 bytes) | n u32 | n contributions (the MPC transcript)

Section 4's values are stored as ``c * R^2 mod r`` with ``R = 2^256 mod r`` (snarkjs's prover
multiplies them in Montgomery form with witness values in normal form, which yields the Montgomery
form of ``c * w``); the reader returns plain coefficients in [0, r). snarkjs's ``groth16 setup``
writes the sections in the order 1 2 4 3 9 8 5 6 7 10 and ``zkey contribute`` in the order 1..10;
``write_zkey`` takes either (default: the setup order), so both kinds of file round-trip
byte-for-byte.

Section 10 is carried as ``ZkeyMpcParams``. Its csHash is the BLAKE2b-512 hash snarkjs computes
from the r1cs and the powers of tau during ``groth16 setup``; it cannot be recomputed from a
proving key (it hashes tau powers that the key does not contain). Writing without ``mpc`` stores
64 zero bytes and no contributions: snarkjs proves, exports and accepts further contributions on
such a key, but ``snarkjs zkey verify`` against an r1cs and ptau reports a hash mismatch.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from zkmargin.curve import G1Point, G2Point
from zkmargin.field import Q, R
from zkmargin.groth16 import MatrixEntry, ProvingKey, VerifyingKey
from zkmargin.serialize._io import PathLike, atomic_write_bytes
from zkmargin.serialize.binfile import (
    BinFile,
    SectionReader,
    encode_binfile,
    field_n8,
    read_binfile,
    read_field_header,
)

__all__ = [
    "ZkeyMpcParams",
    "SETUP_SECTION_ORDER",
    "CONTRIBUTE_SECTION_ORDER",
    "zkey_to_bytes",
    "write_zkey",
    "read_zkey",
    "read_zkey_mpc_params",
    "decode_sections",
    "ZkeyContribution",
    "decode_contribution",
]

_MAGIC = "zkey"
_VERSION = 1
_MAX_VERSION = 2  # snarkjs reads versions up to 2 when proving and exporting
_LABELS = {
    1: "header",
    2: "groth16 header",
    3: "IC",
    4: "coefficients",
    5: "A",
    6: "B1",
    7: "B2",
    8: "C",
    9: "H",
    10: "contributions",
}
_PROTOCOLS = {1: "groth16", 2: "plonk", 10: "fflonk"}
_GROTH16 = 1

#: Section order of a key written by ``snarkjs groth16 setup`` (``zkey new``).
SETUP_SECTION_ORDER: tuple[int, ...] = (1, 2, 4, 3, 9, 8, 5, 6, 7, 10)
#: Section order of a key written by ``snarkjs zkey contribute`` / ``beacon``.
CONTRIBUTE_SECTION_ORDER: tuple[int, ...] = tuple(range(1, 11))

_N8Q = field_n8(Q)
_N8R = field_n8(R)
_G1_SIZE = 2 * _N8Q
_G2_SIZE = 4 * _N8Q
_COEF_SIZE = 12 + _N8R
#: BN254's scalar field has 2-adicity 28: no radix-2 domain is larger.
_MAX_DOMAIN = 1 << 28

# Montgomery constants. Base field: a coordinate x is stored as x * RQ mod q.
_RQ = (1 << (8 * _N8Q)) % Q
_RQ_INV = pow(_RQ, -1, Q)
# Scalar field: a section-4 coefficient c is stored as c * RR^2 mod r.
_RR = (1 << (8 * _N8R)) % R
_RR2 = _RR * _RR % R
_RR2_INV = pow(_RR2, -1, R)

_CONTRIB_FIXED = 3 * _G1_SIZE + _G2_SIZE + 64 + 4  # points, transcript, type
_CS_HASH_SIZE = 64


@dataclass(frozen=True)
class ZkeyMpcParams:
    """Section 10 of a ``.zkey``: the circuit hash and the phase-2 contributions.

    Attributes:
        cs_hash: 64-byte BLAKE2b hash of the circuit's initial key (see the module docstring).
        contributions: each contribution's encoded bytes, oldest first (delta_after G1, g1_s G1,
            g1_sx G1, g2_spx G2, 64-byte transcript, type u32, params length u32, params).
    """

    cs_hash: bytes = bytes(_CS_HASH_SIZE)
    contributions: tuple[bytes, ...] = ()


# --- points ------------------------------------------------------------------------------------

def _check_coord(v: int, what: str) -> None:
    if not isinstance(v, int) or not 0 <= v < Q:
        raise ValueError(f"{what}: coordinate is not an integer in [0, q): {v!r}")


def _enc_g1(p: G1Point, what: str) -> bytes:
    if p is None:
        return bytes(_G1_SIZE)
    x, y = p
    _check_coord(x, what)
    _check_coord(y, what)
    return (x * _RQ % Q).to_bytes(_N8Q, "little") + (y * _RQ % Q).to_bytes(_N8Q, "little")


def _enc_g2(p: G2Point, what: str) -> bytes:
    if p is None:
        return bytes(_G2_SIZE)
    (x0, x1), (y0, y1) = p
    out = []
    for v in (x0, x1, y0, y1):
        _check_coord(v, what)
        out.append((v * _RQ % Q).to_bytes(_N8Q, "little"))
    return b"".join(out)


def _enc_g1_list(points: Sequence[G1Point], what: str) -> bytes:
    return b"".join(_enc_g1(p, f"{what}[{i}]") for i, p in enumerate(points))


def _enc_g2_list(points: Sequence[G2Point], what: str) -> bytes:
    return b"".join(_enc_g2(p, f"{what}[{i}]") for i, p in enumerate(points))


def _dec_coords(rd: SectionReader, buf: bytes, what: str, per_point: int) -> list[int]:
    """Decode Montgomery coordinates to normal form; FileFormatError names the first one >= q."""
    n8 = _N8Q
    raw = [int.from_bytes(buf[k : k + n8], "little") for k in range(0, len(buf), n8)]
    if raw and max(raw) >= Q:
        k = next(k for k, v in enumerate(raw) if v >= Q)
        raise rd.error(f"{what}[{k // per_point}]: coordinate {k % per_point} is not below q: {raw[k]}")
    inv = _RQ_INV
    return [v * inv % Q for v in raw]


def _dec_g1_list(rd: SectionReader, buf: bytes, what: str) -> list[G1Point]:
    c = _dec_coords(rd, buf, what, 2)
    return [(x, y) if x or y else None for x, y in zip(c[0::2], c[1::2], strict=True)]


def _dec_g2_list(rd: SectionReader, buf: bytes, what: str) -> list[G2Point]:
    c = _dec_coords(rd, buf, what, 4)
    return [
        ((x0, x1), (y0, y1)) if (x0 or x1 or y0 or y1) else None
        for x0, x1, y0, y1 in zip(c[0::4], c[1::4], c[2::4], c[3::4], strict=True)
    ]


# --- writing -----------------------------------------------------------------------------------

#: Sections that ``raw_sections`` may supply pre-encoded: sid -> (what, bytes per item).
_RAW_ITEM = {
    4: ("coeffs", 0),
    5: ("a_query", 64),
    6: ("b_g1_query", 64),
    7: ("b_g2_query", 128),
    8: ("l_query", 64),
    9: ("h_query", 64),
}


def _raw_counts(pk: ProvingKey) -> dict[int, int]:
    n_vars, n_pub, dom = pk.n_wires, pk.n_public, pk.domain_size
    return {5: n_vars, 6: n_vars, 7: n_vars, 8: n_vars - n_pub - 1, 9: dom}


def _check_lengths(pk: ProvingKey, raw: Mapping[int, bytes] | None = None) -> None:
    n_vars, n_pub, dom = pk.n_wires, pk.n_public, pk.domain_size
    if not 0 <= n_pub <= n_vars - 1:
        raise ValueError(f"inconsistent counts: n_wires={n_vars}, n_public={n_pub}")
    if pk.vk.n_public != n_pub:
        raise ValueError(
            f"vk.gamma_abc_g1 has {len(pk.vk.gamma_abc_g1)} points, expected n_public + 1 = {n_pub + 1}"
        )
    if dom < 1 or dom & (dom - 1) or dom > _MAX_DOMAIN:
        raise ValueError(f"domain_size {dom} is not a power of two up to 2^28")
    raw = raw or {}
    counts = _raw_counts(pk)
    if 4 in raw:
        n = int.from_bytes(raw[4][:4], "little") if len(raw[4]) >= 4 else -1
        if n < 0 or len(raw[4]) != 4 + n * _COEF_SIZE:
            raise ValueError(f"raw coefficient section has {len(raw[4])} bytes, not 4 + n * {_COEF_SIZE}")
    for sid, seq in ((5, pk.a_query), (6, pk.b_g1_query), (7, pk.b_g2_query), (8, pk.l_query), (9, pk.h_query)):
        what, size = _RAW_ITEM[sid]
        if sid in raw:
            if len(raw[sid]) != counts[sid] * size:
                raise ValueError(f"raw {what} has {len(raw[sid])} bytes, expected {counts[sid]} x {size}")
        elif len(seq) != counts[sid]:
            raise ValueError(f"{what} has {len(seq)} points, expected {counts[sid]}")


def _enc_coeffs(coeffs: Sequence[MatrixEntry], n_vars: int, dom: int) -> list[bytes]:
    out = [struct.pack("<I", len(coeffs))]
    head = struct.Struct("<III")
    for i, (m, row, wire, c) in enumerate(coeffs):
        if m not in (0, 1) or not 0 <= row < dom or not 0 <= wire < n_vars or not 0 <= c < R:
            raise ValueError(
                f"coeffs[{i}] = {(m, row, wire, c)}: needs matrix 0/1, row < {dom}, wire < {n_vars}, "
                "coefficient in [0, r)"
            )
        out.append(head.pack(m, row, wire) + (c * _RR2 % R).to_bytes(_N8R, "little"))
    return out


def _enc_mpc(mpc: ZkeyMpcParams) -> bytes:
    if len(mpc.cs_hash) != _CS_HASH_SIZE:
        raise ValueError(f"cs_hash must be {_CS_HASH_SIZE} bytes, got {len(mpc.cs_hash)}")
    return bytes(mpc.cs_hash) + struct.pack("<I", len(mpc.contributions)) + b"".join(mpc.contributions)


def _zkey_sections(
    pk: ProvingKey, mpc: ZkeyMpcParams | None, raw: Mapping[int, bytes] | None = None
) -> dict[int, bytes | list[bytes]]:
    _check_lengths(pk, raw)
    vk = pk.vk
    groth_header = b"".join(
        [
            struct.pack("<I", _N8Q),
            Q.to_bytes(_N8Q, "little"),
            struct.pack("<I", _N8R),
            R.to_bytes(_N8R, "little"),
            struct.pack("<III", pk.n_wires, pk.n_public, pk.domain_size),
            _enc_g1(vk.alpha_g1, "alpha_g1"),
            _enc_g1(pk.beta_g1, "beta_g1"),
            _enc_g2(vk.beta_g2, "beta_g2"),
            _enc_g2(vk.gamma_g2, "gamma_g2"),
            _enc_g1(pk.delta_g1, "delta_g1"),
            _enc_g2(vk.delta_g2, "delta_g2"),
        ]
    )
    raw = raw or {}
    secs: dict[int, bytes | list[bytes]] = {
        1: struct.pack("<I", _GROTH16),
        2: groth_header,
        3: _enc_g1_list(vk.gamma_abc_g1, "gamma_abc_g1"),
        10: _enc_mpc(mpc if mpc is not None else ZkeyMpcParams()),
    }
    if 4 not in raw:
        secs[4] = _enc_coeffs(pk.coeffs, pk.n_wires, pk.domain_size)
    for sid, g1s in ((5, pk.a_query), (6, pk.b_g1_query), (8, pk.l_query), (9, pk.h_query)):
        if sid not in raw:
            secs[sid] = _enc_g1_list(g1s, _RAW_ITEM[sid][0])
    if 7 not in raw:
        secs[7] = _enc_g2_list(pk.b_g2_query, _RAW_ITEM[7][0])
    secs.update(raw)  # sections the caller (or pk.encoded) holds already encoded
    return secs


def zkey_to_bytes(
    pk: ProvingKey,
    *,
    mpc: ZkeyMpcParams | None = None,
    section_order: Sequence[int] = SETUP_SECTION_ORDER,
    raw_sections: Mapping[int, bytes] | None = None,
) -> bytes:
    """Encode a proving key as a snarkjs ``.zkey`` file.

    Args:
        pk: the key; its ``coeffs`` are written in the given order (snarkjs's setup writes them by
            constraint row, A entries before B entries within a row, public-input rows last).
        mpc: section 10; default: a zero csHash and no contributions (see the module docstring).
        section_order: a permutation of 1..10 (``SETUP_SECTION_ORDER`` or
            ``CONTRIBUTE_SECTION_ORDER`` reproduce snarkjs's files).
        raw_sections: already encoded bodies of sections 4..9 (coefficients, and points in
            Montgomery little-endian as the fast prover holds them), added to ``pk.encoded``; the
            matching lists of ``pk`` are then ignored (they may be empty). Only their sizes are
            checked: the caller vouches for the content.

    Raises:
        ValueError: list lengths disagree with the counts, a coordinate is not in [0, q), a
            coefficient entry is out of range, domain_size is not a power of two, a bad
            section order or cs_hash length.
    """
    if sorted(section_order) != list(range(1, 11)):
        raise ValueError(f"section_order must be a permutation of 1..10, got {list(section_order)}")
    if raw_sections and not set(raw_sections) <= set(_RAW_ITEM):
        raise ValueError(f"raw_sections may only hold sections {sorted(_RAW_ITEM)}, got {sorted(raw_sections)}")
    secs = _zkey_sections(pk, mpc, {**pk.encoded, **(raw_sections or {})})
    return b"".join(encode_binfile(_MAGIC, _VERSION, [(sid, secs[sid]) for sid in section_order]))


def write_zkey(
    pk: ProvingKey,
    path: PathLike,
    *,
    mpc: ZkeyMpcParams | None = None,
    section_order: Sequence[int] = SETUP_SECTION_ORDER,
    raw_sections: Mapping[int, bytes] | None = None,
) -> None:
    """Write a proving key as a ``.zkey`` file, atomically (arguments as ``zkey_to_bytes``).

    Raises:
        ValueError: as ``zkey_to_bytes``; nothing is written.
        OSError: the file cannot be written.
    """
    atomic_write_bytes(path, zkey_to_bytes(pk, mpc=mpc, section_order=section_order, raw_sections=raw_sections))


# --- reading -----------------------------------------------------------------------------------

def _open(src: PathLike | bytes, name: str | None) -> BinFile:
    bf = read_binfile(src, _MAGIC, _MAX_VERSION, name=name, section_labels=_LABELS)
    rd = bf.reader(1)
    proto = rd.u32("protocol id")
    rd.expect_end()
    if proto != _GROTH16:
        pname = _PROTOCOLS.get(proto, "unknown")
        raise rd.error(f"protocol is {pname} (id {proto}), expected groth16 (id 1)")
    return bf


def _sized(bf: BinFile, sid: int, count: int, item: int, what: str) -> tuple[SectionReader, bytes]:
    rd = bf.reader(sid)
    if len(rd.body) != count * item:
        raise rd.error(
            f"size mismatch: {len(rd.body)} bytes, expected {count} {what} of {item} bytes = {count * item}"
        )
    return rd, rd.body


def read_zkey(src: PathLike | bytes, *, name: str | None = None, keep_encoded: bool = False) -> ProvingKey:
    """Read a Groth16 ``.zkey`` file (snarkjs's layout, see the module docstring).

    Args:
        src: a path or the file's bytes.
        name: how error messages name the file (default: the path).
        keep_encoded: leave sections 4..9 (coefficients and point queries) encoded in
            ``pk.encoded`` instead of decoding them to lists (the numba prover maps them straight
            into arrays). Only their sizes are checked here; the prover range-checks the values.

    Returns:
        The ProvingKey: points in affine normal form (None for infinity), ``coeffs`` as plain
        (matrix, row, wire, coefficient) entries in file order, ``n_rows`` = highest row + 1 (the
        R1CS constraints plus the n_public + 1 appended public-input rows).

    Raises:
        FileFormatError: wrong magic or version, a protocol other than groth16, a field size or
            prime other than BN254's, a missing or duplicated section, a section whose size
            disagrees with the header's counts, a coordinate or coefficient not below its modulus,
            a coefficient entry out of range, a domain size that is not a power of two,
            truncation. Points are not checked to be on the curve.
    """
    bf = _open(src, name)
    rd = bf.reader(2)
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

    ic_rd, ic = _sized(bf, 3, n_pub + 1, _G1_SIZE, "G1 points (nPublic + 1)")
    gamma_abc = _dec_g1_list(ic_rd, ic, "IC")

    if keep_encoded:
        rd4 = bf.reader(4)
        n_coef = rd4.u32("nCoefs")
        if len(rd4.body) != 4 + n_coef * _COEF_SIZE:
            raise rd4.error(f"size mismatch: {len(rd4.body)} bytes, expected 4 + nCoefs {n_coef} * {_COEF_SIZE}")
        counts = {5: n_vars, 6: n_vars, 7: n_vars, 8: n_vars - n_pub - 1, 9: dom}
        encoded = {4: bytes(rd4.body)}
        for sid, cnt in counts.items():
            size = _G2_SIZE if sid == 7 else _G1_SIZE
            encoded[sid] = bytes(_sized(bf, sid, cnt, size, f"points ({_LABELS[sid]})")[1])
        vk = VerifyingKey(alpha_g1=alpha_g1, beta_g2=beta_g2, gamma_g2=gamma_g2, delta_g2=delta_g2,
                          gamma_abc_g1=tuple(gamma_abc))
        return ProvingKey(vk=vk, beta_g1=beta_g1, delta_g1=delta_g1, n_wires=n_vars, n_public=n_pub,
                          domain_size=dom, a_query=[], b_g1_query=[], b_g2_query=[], h_query=[], l_query=[],
                          coeffs=[], n_rows=0, encoded=encoded)

    coeffs = _read_coeffs(bf, n_vars, dom)
    n_rows = max((row for _, row, _, _ in coeffs), default=-1) + 1

    a_rd, a = _sized(bf, 5, n_vars, _G1_SIZE, "G1 points (nVars)")
    b1_rd, b1 = _sized(bf, 6, n_vars, _G1_SIZE, "G1 points (nVars)")
    b2_rd, b2 = _sized(bf, 7, n_vars, _G2_SIZE, "G2 points (nVars)")
    c_rd, c = _sized(bf, 8, n_vars - n_pub - 1, _G1_SIZE, "G1 points (nVars - nPublic - 1)")
    h_rd, h = _sized(bf, 9, dom, _G1_SIZE, "G1 points (domainSize)")

    vk = VerifyingKey(
        alpha_g1=alpha_g1,
        beta_g2=beta_g2,
        gamma_g2=gamma_g2,
        delta_g2=delta_g2,
        gamma_abc_g1=tuple(gamma_abc),
    )
    return ProvingKey(
        vk=vk,
        beta_g1=beta_g1,
        delta_g1=delta_g1,
        n_wires=n_vars,
        n_public=n_pub,
        domain_size=dom,
        a_query=_dec_g1_list(a_rd, a, "A"),
        b_g1_query=_dec_g1_list(b1_rd, b1, "B1"),
        b_g2_query=_dec_g2_list(b2_rd, b2, "B2"),
        h_query=_dec_g1_list(h_rd, h, "H"),
        l_query=_dec_g1_list(c_rd, c, "C"),
        coeffs=coeffs,
        n_rows=n_rows,
    )


def decode_sections(pk: ProvingKey, *, name: str = "proving key") -> ProvingKey:
    """A copy of ``pk`` with every section held in ``pk.encoded`` decoded into its list.

    Raises:
        FileFormatError: a coordinate or coefficient out of range (as ``read_zkey``).
    """
    if not pk.encoded:
        return pk
    secs = _zkey_sections(pk, None, pk.encoded)
    data = b"".join(encode_binfile(_MAGIC, _VERSION, [(sid, secs[sid]) for sid in CONTRIBUTE_SECTION_ORDER]))
    return read_zkey(data, name=name)


def _read_coeffs(bf: BinFile, n_vars: int, dom: int) -> list[MatrixEntry]:
    rd = bf.reader(4)
    n = rd.u32("nCoefs")
    body = rd.body
    if len(body) != 4 + n * _COEF_SIZE:
        raise rd.error(
            f"size mismatch: {len(body)} bytes, expected 4 + nCoefs {n} * {_COEF_SIZE} = {4 + n * _COEF_SIZE}"
        )
    heads = struct.Struct("<III")
    out: list[MatrixEntry] = []
    inv = _RR2_INV
    for i in range(n):
        o = 4 + i * _COEF_SIZE
        m, row, wire = heads.unpack_from(body, o)
        v = int.from_bytes(body[o + 12 : o + _COEF_SIZE], "little")
        if m > 1 or row >= dom or wire >= n_vars or v >= R:
            raise rd.error(
                f"coefficient #{i} (matrix {m}, row {row}, wire {wire}) is out of range: needs matrix "
                f"0 or 1, row < domainSize {dom}, wire < nVars {n_vars}, stored value < r (got {v})"
            )
        out.append((m, row, wire, v * inv % R))
    return out


def read_zkey_mpc_params(src: PathLike | bytes, *, name: str | None = None) -> ZkeyMpcParams:
    """Read section 10 (circuit hash and contributions) of a Groth16 ``.zkey`` file.

    Raises:
        FileFormatError: as ``read_zkey`` for the container and header; the section is missing,
            truncated, or longer than its contributions.
    """
    bf = _open(src, name)
    rd = bf.reader(10)
    cs_hash = rd.take(_CS_HASH_SIZE, "csHash")
    n = rd.u32("number of contributions")
    contributions = []
    for i in range(n):
        start = rd.pos
        rd.take(_CONTRIB_FIXED, f"contribution #{i}")
        plen = rd.u32(f"contribution #{i} parameters length")
        rd.take(plen, f"contribution #{i} parameters")
        contributions.append(rd.body[start : rd.pos])
    rd.expect_end()
    return ZkeyMpcParams(cs_hash=cs_hash, contributions=tuple(contributions))


# --- phase-2 contributions (section 10) --------------------------------------------------------

@dataclass(frozen=True)
class ZkeyContribution:
    """One decoded phase-2 contribution of section 10 (snarkjs ``zkey contribute`` / ``beacon``).

    Attributes:
        delta_after: delta_g1 after this contribution.
        g1_s, g1_sx: the contributor's proof of knowledge in G1 (a random point s and x * s).
        g2_spx: x * hashToG2(transcript) in G2.
        transcript: BLAKE2b-512 of the csHash, the earlier contributions, g1_s and g1_sx.
        type: 0 for a contribution, 1 for a random beacon.
        name: optional (at most 64 characters are stored).
        num_iterations_exp, beacon_hash: the beacon's parameters (type 1 only).
    """

    delta_after: G1Point
    g1_s: G1Point
    g1_sx: G1Point
    g2_spx: G2Point
    transcript: bytes
    type: int = 0
    name: str | None = None
    num_iterations_exp: int | None = None
    beacon_hash: bytes | None = None

    def encode(self) -> bytes:
        """The contribution's bytes in section 10 (points in Montgomery form, snarkjs's params)."""
        if len(self.transcript) != 64:
            raise ValueError(f"transcript must be 64 bytes, got {len(self.transcript)}")
        params = bytearray()
        if self.name:
            nb = self.name[:64].encode("utf-8")
            if len(nb) > 255:
                raise ValueError("contribution name is longer than 255 bytes in UTF-8")
            params += bytes([1, len(nb)]) + nb
        if self.type == 1:
            bh = self.beacon_hash or b""
            if self.num_iterations_exp is None or not 0 <= self.num_iterations_exp <= 255 or len(bh) > 255:
                raise ValueError("a beacon contribution needs num_iterations_exp in 0..255 and a hash of <= 255 bytes")
            params += bytes([2, self.num_iterations_exp, 3, len(bh)]) + bh
        return b"".join([
            _enc_g1(self.delta_after, "deltaAfter"),
            _enc_g1(self.g1_s, "g1_s"),
            _enc_g1(self.g1_sx, "g1_sx"),
            _enc_g2(self.g2_spx, "g2_spx"),
            bytes(self.transcript),
            struct.pack("<II", self.type, len(params)),
            bytes(params),
        ])


def decode_contribution(raw: bytes, *, name: str = "contribution") -> ZkeyContribution:
    """Decode one contribution of ``ZkeyMpcParams.contributions`` (see ``ZkeyContribution``).

    Raises:
        FileFormatError: truncated, a coordinate not below q, or malformed parameters (unsorted,
            unknown type, lengths past the end).
    """
    rd = SectionReader(name, 10, _LABELS[10], raw)
    pts = rd.take(3 * _G1_SIZE, "deltaAfter, g1_s, g1_sx")
    g2 = rd.take(_G2_SIZE, "g2_spx")
    delta_after, g1_s, g1_sx = _dec_g1_list(rd, pts, "contribution G1 points")
    (g2_spx,) = _dec_g2_list(rd, g2, "g2_spx")
    transcript = rd.take(64, "transcript")
    ctype = rd.u32("type")
    plen = rd.u32("parameters length")
    params = rd.take(plen, "parameters")
    rd.expect_end()
    cname: str | None = None
    exp: int | None = None
    beacon: bytes | None = None
    pos, last = 0, 0
    while pos < len(params):
        kind = params[pos]
        if kind <= last:
            raise rd.error(f"parameters are not sorted (type {kind} after {last})")
        last = kind
        if kind in (1, 3):
            if pos + 2 > len(params) or pos + 2 + params[pos + 1] > len(params):
                raise rd.error(f"parameter {kind} is truncated")
            val = bytes(params[pos + 2 : pos + 2 + params[pos + 1]])
            pos += 2 + params[pos + 1]
            if kind == 1:
                cname = val.decode("utf-8", errors="replace")
            else:
                beacon = val
        elif kind == 2:
            if pos + 2 > len(params):
                raise rd.error("parameter 2 is truncated")
            exp = params[pos + 1]
            pos += 2
        else:
            raise rd.error(f"unknown parameter type {kind}")
    return ZkeyContribution(delta_after, g1_s, g1_sx, g2_spx, bytes(transcript), ctype, cname, exp, beacon)
