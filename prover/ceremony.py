"""The production trusted setup: powers of tau -> phase-2 ceremony -> proving key (snarkjs 0.7.6).

A venue's keys come from a public powers-of-tau file (phase 1, e.g. the Perpetual Powers of Tau
or Hermez ceremony, in snarkjs's ``.ptau`` format) and a per-circuit phase-2 ceremony in which
each participant multiplies delta by a secret and proves it did. One honest participant (or the
final random beacon nobody controls) suffices for soundness. Every function here reads and writes
files byte-compatible with snarkjs 0.7.6, both ways:

- :func:`prepare_phase2`: the Lagrange-basis sections 12..15 of a ``.ptau`` (``snarkjs powersoftau
  prepare phase2``), by an inverse DFT over the group (the numba group FFT of ``_group``).
- :func:`setup_from_ptau` / :func:`write_initial_zkey`: the initial phase-2 key of a circuit
  (``snarkjs groth16 setup``), with snarkjs's circuit hash (csHash).
- :func:`contribute`, :func:`beacon`: one phase-2 contribution (``snarkjs zkey contribute`` /
  ``zkey beacon``; a beacon is reproducible from its public parameters).
- :func:`verify_zkey`: the whole transcript against the circuit and the ptau (``snarkjs zkey
  verify``): every contribution's proof of knowledge and chaining, the untouched sections, and L
  and H against the initial key by random linear combinations and two pairings.

The transcript is snarkjs's: BLAKE2b-512 over points in "uncompressed" form (coordinates
big-endian, normal form; infinity all zero), a ChaCha20 stream seeded from a hash for the
points of a beacon and for hashToG2, and ``Fr.fromRng``/``G.fromRng`` as ffjavascript defines
them (a 254-bit draw read in Montgomery form; a point from a random x, the square root's sign
chosen by a random bit, G2 multiplied by its cofactor).

Secrets (the contribution's delta) live only in local variables of :func:`_contribute`; nothing
ever writes them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from zkmargin import _numba_field as _field
from zkmargin import curve
from zkmargin.curve import G1_GENERATOR, G2_GENERATOR, TWIST_B, G1Point, G2Point
from zkmargin.errors import FileFormatError, ZkMarginError
from zkmargin.field import Q, R
from zkmargin.groth16 import ProvingKey, VerifyingKey
from zkmargin.r1cs import ConstraintSystem
from zkmargin.serialize._io import PathLike
from zkmargin.serialize.ptau_file import PtauFile, read_ptau, section_points, write_ptau
from zkmargin.serialize.zkey_file import (
    CONTRIBUTE_SECTION_ORDER,
    SETUP_SECTION_ORDER,
    ZkeyContribution,
    ZkeyMpcParams,
    decode_contribution,
    read_zkey,
    read_zkey_mpc_params,
    write_zkey,
    zkey_to_bytes,
)

from . import _group, _msm, kernels
from ._glv import lattice_basis
from .fast import _coeff_records
from .qap import TWO_ADICITY, domain_size_for

__all__ = [
    "Progress",
    "CeremonyError",
    "InitialKey",
    "ContributionInfo",
    "VerifyResult",
    "load_ptau",
    "lagrange_points",
    "prepare_phase2",
    "setup_from_ptau",
    "write_initial_zkey",
    "contribute",
    "beacon",
    "verify_zkey",
    "contribution_hash",
    "scale_points",
    "hash_to_g2",
    "ChaCha",
    "beacon_rng",
    "to_uncompressed_g1",
    "to_uncompressed_g2",
]

log = logging.getLogger(__name__)

class CeremonyError(ZkMarginError, ValueError):
    """A ceremony step that cannot run on these inputs (e.g. a circuit too large for the ptau)."""


#: progress(label, done, total): called as long steps advance (the CLI draws a bar from it).
Progress = Callable[[str, int, int], None]

_M32 = 0xFFFFFFFF
_RM = 1 << 256  # Montgomery radix of both fields
#: The G2 cofactor of BN254 (2q - r), by which ffjavascript's G2.fromRng clears a random point.
G2_COFACTOR = 2 * Q - R


# --- encodings -----------------------------------------------------------------------------------

def _arr_g1(buf: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(buf, dtype="<u8").reshape(-1, 2, 4).astype(np.uint64)


def _arr_g2(buf: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(buf, dtype="<u8").reshape(-1, 2, 2, 4).astype(np.uint64)


def to_uncompressed_g1(arr: np.ndarray) -> bytes:
    """snarkjs's uncompressed form (``toRprUncompressed``) of a Montgomery G1 array: x|y big-endian."""
    normal = kernels._from_mont(np.ascontiguousarray(arr), Q).astype("<u8")
    b = normal.view(np.uint8).reshape(arr.shape[0], 2, 32)[:, :, ::-1]
    return np.ascontiguousarray(b).tobytes()


def to_uncompressed_g2(arr: np.ndarray) -> bytes:
    """The same for G2: each Fq2 coordinate as c1|c0 big-endian (its 64 bytes reversed)."""
    normal = kernels._from_mont(np.ascontiguousarray(arr), Q).astype("<u8")
    b = normal.view(np.uint8).reshape(arr.shape[0], 2, 64)[:, :, ::-1]
    return np.ascontiguousarray(b).tobytes()


def _u_g1(p: G1Point) -> bytes:
    if p is None:
        return bytes(64)
    return p[0].to_bytes(32, "big") + p[1].to_bytes(32, "big")


def _u_g2(p: G2Point) -> bytes:
    if p is None:
        return bytes(128)
    (x0, x1), (y0, y1) = p
    return b"".join(v.to_bytes(32, "big") for v in (x1, x0, y1, y0))


def _hash_pubkey(h: hashlib.blake2b, c: ZkeyContribution) -> None:
    """snarkjs's hashPubKey: deltaAfter, g1_s, g1_sx, g2_spx (uncompressed), then the transcript."""
    h.update(_u_g1(c.delta_after) + _u_g1(c.g1_s) + _u_g1(c.g1_sx) + _u_g2(c.g2_spx) + c.transcript)


def contribution_hash(c: ZkeyContribution) -> bytes:
    """The 64-byte hash snarkjs prints for a contribution (BLAKE2b-512 of its public key)."""
    h = hashlib.blake2b(digest_size=64)
    _hash_pubkey(h, c)
    return h.digest()


# --- ChaCha20 stream and ffjavascript's fromRng ------------------------------------------------

class ChaCha:
    """The ChaCha20 block function as a stream of u32 words (ffjavascript's ``ChaCha``).

    The 8-word seed is the key; the counter (words 12..15) starts at zero, no nonce. Written from
    RFC 8439's quarter round; ``nextU64`` takes the high word first, as ffjavascript does.
    """

    def __init__(self, seed: Sequence[int]) -> None:
        if len(seed) != 8:
            raise ValueError("ChaCha seed must be 8 u32 words")
        self.state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574, *(s & _M32 for s in seed), 0, 0, 0, 0]
        self.buf: list[int] = []
        self.idx = 16

    @staticmethod
    def _qr(x: list[int], a: int, b: int, c: int, d: int) -> None:
        x[a] = (x[a] + x[b]) & _M32
        v = x[d] ^ x[a]
        x[d] = ((v << 16) | (v >> 16)) & _M32
        x[c] = (x[c] + x[d]) & _M32
        v = x[b] ^ x[c]
        x[b] = ((v << 12) | (v >> 20)) & _M32
        x[a] = (x[a] + x[b]) & _M32
        v = x[d] ^ x[a]
        x[d] = ((v << 8) | (v >> 24)) & _M32
        x[c] = (x[c] + x[d]) & _M32
        v = x[b] ^ x[c]
        x[b] = ((v << 7) | (v >> 25)) & _M32

    def _update(self) -> None:
        x = list(self.state)
        for _ in range(10):
            for a, b, c, d in ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
                               (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14)):
                self._qr(x, a, b, c, d)
        self.buf = [(x[i] + self.state[i]) & _M32 for i in range(16)]
        self.idx = 0
        for k in range(12, 16):  # 128-bit counter
            self.state[k] = (self.state[k] + 1) & _M32
            if self.state[k]:
                break

    def next_u32(self) -> int:
        if self.idx == 16:
            self._update()
        v = self.buf[self.idx]
        self.idx += 1
        return v

    def next_u64(self) -> int:
        hi = self.next_u32()
        return (hi << 32) | self.next_u32()

    def next_bool(self) -> bool:
        return bool(self.next_u32() & 1)


def _seed_from(h: bytes) -> list[int]:
    """8 big-endian u32 words from the first 32 bytes of a hash (snarkjs's seeding)."""
    return list(struct.unpack(">8I", h[:32]))


def _field_from_rng(rng: ChaCha, p: int) -> int:
    """ffjavascript's ``F.fromRng``: four u64 draws, masked to p's bit length, rejected until < p,
    then read as a Montgomery form, so the element is ``v / 2^256 mod p``."""
    mask = (1 << p.bit_length()) - 1
    while True:
        v = 0
        for i in range(4):
            v += rng.next_u64() << (64 * i)
        v &= mask
        if v < p:
            return v * pow(_RM, -1, p) % p


def _is_neg(x: int) -> bool:
    return x > (Q - 1) // 2


def _fq_sqrt(a: int) -> int | None:
    s = pow(a, (Q + 1) // 4, Q)  # q = 3 mod 4
    return s if s * s % Q == a % Q else None


def _fq2_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return ((a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q)


def _fq2_sqrt(a: tuple[int, int]) -> tuple[int, int] | None:
    """A square root in Fq2 = Fq[u]/(u^2 + 1), or None (the "complex method")."""
    a0, a1 = a[0] % Q, a[1] % Q
    if a1 == 0:
        s = _fq_sqrt(a0)
        if s is not None:
            return (s, 0)
        s = _fq_sqrt(-a0 % Q)
        return None if s is None else (0, s)
    n = _fq_sqrt((a0 * a0 + a1 * a1) % Q)
    if n is None:
        return None
    half = pow(2, -1, Q)
    for t in ((a0 + n) * half % Q, (a0 - n) * half % Q):
        x0 = _fq_sqrt(t)
        if x0:
            x1 = a1 * pow(2 * x0, -1, Q) % Q
            if _fq2_mul((x0, x1), (x0, x1)) == (a0, a1):
                return (x0, x1)
    return None


def g1_from_rng(rng: ChaCha) -> tuple[int, int]:
    """ffjavascript's ``G1.fromRng``: x from the stream, a sign bit, y = +-sqrt(x^3 + 3)."""
    while True:
        x = _field_from_rng(rng, Q)
        greatest = rng.next_bool()
        y = _fq_sqrt((x * x * x + 3) % Q)
        if y is not None:
            break
    if greatest != _is_neg(y):
        y = -y % Q
    return (x, y)


def g2_from_rng(rng: ChaCha) -> G2Point:
    """ffjavascript's ``G2.fromRng``: a random point of the twist times the cofactor (in G2)."""
    while True:
        x = (_field_from_rng(rng, Q), _field_from_rng(rng, Q))
        greatest = rng.next_bool()
        x3b = _fq2_mul(_fq2_mul(x, x), x)
        x3b = ((x3b[0] + TWIST_B[0]) % Q, (x3b[1] + TWIST_B[1]) % Q)
        y = _fq2_sqrt(x3b)
        if y is not None:
            break
    neg = _is_neg(y[1]) if y[1] else _is_neg(y[0])
    if greatest != neg:
        y = (-y[0] % Q, -y[1] % Q)
    p: G2Point = (x, y)
    # h * P for P outside G2: split h so that g2_mul's reduction mod r never applies
    return curve.g2_add(curve.g2_mul(p, R - 1), curve.g2_mul(p, G2_COFACTOR - (R - 1)))


def hash_to_g2(h: bytes) -> G2Point:
    """snarkjs's ``hashToG2``: G2.fromRng of a ChaCha stream seeded with the hash's first 32 bytes."""
    return g2_from_rng(ChaCha(_seed_from(h)))


def beacon_rng(beacon_hash: bytes, num_iterations_exp: int) -> ChaCha:
    """snarkjs's ``rngFromBeaconParams``: SHA-256 iterated 2^exp times, then a ChaCha seed."""
    if not 1 <= num_iterations_exp <= 63:
        raise ValueError(f"num_iterations_exp {num_iterations_exp} is outside 1..63")
    h = bytes(beacon_hash)
    for _ in range(1 << num_iterations_exp):
        h = hashlib.sha256(h).digest()
    return ChaCha(_seed_from(h))


# --- pairings ------------------------------------------------------------------------------------

def _pairing_is_one(pairs: list[tuple[G1Point, G2Point]]) -> bool:
    from zkmargin.verifier.groth16_verify import fast_backend

    fast = fast_backend()
    if fast is not None:
        return bool(fast.pairing_product_is_one_fast(pairs))
    return curve.pairing_product_is_one(pairs)


def _same_ratio(g1s: G1Point, g1sx: G1Point, g2s: G2Point, g2sx: G2Point) -> bool:
    """e(g1s, g2sx) == e(g1sx, g2s), and no point at infinity (snarkjs's sameRatio)."""
    if g1s is None or g1sx is None or g2s is None or g2sx is None:
        return False
    return _pairing_is_one([(g1s, g2sx), (curve.g1_neg(g1sx), g2s)])


def _g2_in_subgroup(p: G2Point) -> bool:
    from zkmargin.verifier.groth16_verify import fast_backend

    fast = fast_backend()
    if p is None:
        return True
    return bool(fast.g2_in_subgroup_fast(p)) if fast is not None else curve.g2_in_subgroup(p)


# --- point checks and the group kernels' wrappers -----------------------------------------------

def _check_points(arr: np.ndarray, group: int, what: str, *, infinity_ok: bool = False,
                  subgroup: bool = True) -> None:
    """Coordinates below q, on the curve, (G2) in the subgroup, no infinity unless allowed.

    Raises:
        FileFormatError: naming ``what`` and the first bad point.
    """
    n = arr.shape[0]
    if n == 0:
        return
    flat = arr.reshape(n, -1, 4)
    if not _field.vec_all_below(np.ascontiguousarray(arr).reshape(-1, 4), _field.FQ_P):
        bad = int(np.argmax([not _field.vec_all_below(np.ascontiguousarray(flat[i]), _field.FQ_P) for i in range(n)]))
        raise FileFormatError(f"{what}: point {bad} has a coordinate that is not below q")
    zero = ~flat.reshape(n, -1).any(axis=1)
    if zero.any() and not infinity_ok:
        raise FileFormatError(f"{what}: point {int(np.argmax(zero))} is the point at infinity")
    ok = np.empty(n, dtype=np.bool_)
    _msm.on_curve(np.ascontiguousarray(arr), kernels._curve_b(group), ok)
    if not ok.all():
        curve_name = "y^2 = x^3 + 3" if group == 1 else "the twist y^2 = x^3 + 3/(9+u)"
        raise FileFormatError(f"{what}: point {int(np.argmin(ok))} is not on {curve_name}")
    if group == 2 and subgroup:
        from zkmargin.verifier.groth16_verify import fast_backend

        pts = kernels.g2_points_from_array(np.ascontiguousarray(arr))
        fast = fast_backend()
        flags = fast.g2_in_subgroup_many_fast(pts) if fast is not None else [curve.g2_in_subgroup(p) for p in pts]
        if not all(flags):
            raise FileFormatError(f"{what}: point {flags.index(False)} is on the twist but not in G2")


def _threads() -> int:
    return _msm._threads()


def _normalize(xyzz: np.ndarray) -> np.ndarray:
    n = xyzz.shape[0]
    elem = xyzz.shape[2:]
    out = np.empty((n, 2) + elem, dtype=np.uint64)
    if n:
        scratch = np.empty((n, 1) + elem, dtype=np.uint64)
        _msm.batch_normalize(xyzz, out, scratch, max(1, min(n, 4 * _threads())))
    return out


# --- endomorphisms (GLV): k * P = k1 * P + k2 * phi(P) with |k1|, |k2| < 2^128 -------------------

def _fq2_pow(a: tuple[int, int], e: int) -> tuple[int, int]:
    out = (1, 0)
    while e:
        if e & 1:
            out = _fq2_mul(out, a)
        a = _fq2_mul(a, a)
        e >>= 1
    return out


@dataclass(frozen=True)
class _Endo:
    lam: int
    v1: tuple[int, int]
    v2: tuple[int, int]
    consts: np.ndarray  # (2, 1, ...) Montgomery (cx, cy) for _group._endo_xyzz

    def split(self, k: int) -> tuple[int, int] | None:
        """(k1, k2) with k1 + k2 * lam = k mod r and both below 2^128 in size, or None."""
        (a1, b1), (a2, b2) = self.v1, self.v2
        det = a1 * b2 - a2 * b1
        c1 = (2 * k * b2 + det) // (2 * det)
        c2 = (-2 * k * b1 + det) // (2 * det)
        k1 = k - c1 * a1 - c2 * a2
        k2 = -c1 * b1 - c2 * b2
        if abs(k1) >> 128 or abs(k2) >> 128:
            return None
        return k1, k2


def _mont_limbs(vals: Sequence[int]) -> np.ndarray:
    return kernels._ints_to_limbs([v * _RM % Q for v in vals], Q, "constants")


_ENDO: dict[int, _Endo | None] = {}


def _endo(group: int) -> _Endo | None:
    """The endomorphism of G1 ((x, y) -> (beta x, y)) or G2 (psi), with its eigenvalue found and
    checked against py_ecc on the generator; None if the check fails (then no GLV)."""
    if group in _ENDO:
        return _ENDO[group]
    e: _Endo | None = None
    if group == 1:
        beta = next(b for b in (pow(g, (Q - 1) // 3, Q) for g in range(2, 50)) if b != 1)
        lam0 = next(x for x in (pow(g, (R - 1) // 3, R) for g in range(2, 50)) if x != 1)
        gx, gy = G1_GENERATOR
        for lam in (lam0, lam0 * lam0 % R):
            if curve.g1_mul(G1_GENERATOR, lam) == (beta * gx % Q, gy):
                e = _Endo(lam, *lattice_basis(lam), _mont_limbs([beta, 1]).reshape(2, 1, 4))
    else:
        xi = (9, 1)
        cx, cy = _fq2_pow(xi, (Q - 1) // 3), _fq2_pow(xi, (Q - 1) // 2)
        (x0, x1), (y0, y1) = G2_GENERATOR
        psi_g = (_fq2_mul((x0, -x1 % Q), cx), _fq2_mul((y0, -y1 % Q), cy))
        for lam in (Q % R, pow(Q, -1, R), -Q % R):
            if curve.g2_mul(G2_GENERATOR, lam) == psi_g:
                e = _Endo(lam, *lattice_basis(lam), _mont_limbs([*cx, *cy]).reshape(2, 1, 2, 4))
    _ENDO[group] = e
    return e


def _encode_scalars(coefs: Sequence[int], group: int) -> tuple[np.ndarray, np.ndarray]:
    """Scalars and flags for the ``_group`` kernels: a coefficient c > r/2 becomes r - c on the
    negated base (short -1, -2, ...); one of more than 128 bits is split by the endomorphism."""
    from . import _group as g

    half = R // 2
    end = _endo(group)
    vals: list[int] = []
    flags = np.zeros(len(coefs), dtype=np.uint8)
    m128 = (1 << 128) - 1
    for i, c in enumerate(coefs):
        c %= R
        f = 0
        if c > half:
            c = R - c
            f = g.PLAIN_NEG
        if end is not None and c >> 128:
            sp = end.split(c)
            if sp is not None:
                k1, k2 = sp
                f |= g.GLV | (g._K1_NEG if k1 < 0 else 0) | (g._K2_NEG if k2 < 0 else 0)
                c = abs(k1) | (abs(k2) << 128)
                if not (abs(k1) <= m128 and abs(k2) <= m128):  # pragma: no cover - split() bounds it
                    raise AssertionError("GLV halves out of range")
        vals.append(c)
        flags[i] = f
    return kernels._ints_to_limbs(vals, 1 << 256, "scalars"), flags


def _endo_consts(group: int) -> np.ndarray:
    e = _endo(group)
    if e is not None:
        return e.consts
    return np.zeros((2, 1, 4) if group == 1 else (2, 1, 2, 4), dtype=np.uint64)


def _combine(bases: np.ndarray, out_idx: np.ndarray, base_idx: np.ndarray, coefs: Sequence[int],
             m: int) -> np.ndarray:
    """Affine out[k] = sum of coefs[e] * bases[base_idx[e]] over the entries with out_idx[e] == k."""
    elem = bases.shape[2:]
    out_idx = np.asarray(out_idx, dtype=np.int64)
    order = np.argsort(out_idx, kind="stable")
    ptr = np.zeros(m + 1, dtype=np.int64)
    if out_idx.size:
        np.cumsum(np.bincount(out_idx, minlength=m), out=ptr[1:])
    group = 1 if len(elem) == 1 else 2
    scal, flags = _encode_scalars([coefs[i] for i in order], group) if len(coefs) else (
        np.zeros((0, 4), dtype=np.uint64), np.zeros(0, dtype=np.uint8))
    xyzz = np.empty((m, 4) + elem, dtype=np.uint64)
    if m:
        src = bases if bases.shape[0] else np.zeros((1, 2) + elem, dtype=np.uint64)
        _group.sparse_combine(np.ascontiguousarray(src), ptr, np.ascontiguousarray(np.asarray(base_idx)[order],
                              dtype=np.int64), scal, flags, _endo_consts(group), xyzz)
    return _normalize(xyzz)


def scale_points(arr: np.ndarray, k: int) -> np.ndarray:
    """k * P for every affine point of ``arr`` (G1 or G2 Montgomery array), in parallel."""
    n = arr.shape[0]
    elem = arr.shape[2:]
    xyzz = np.empty((n, 4) + elem, dtype=np.uint64)
    if n:
        group = 1 if len(elem) == 1 else 2
        s1, f1 = _encode_scalars([k], group)
        scal = np.ascontiguousarray(np.broadcast_to(s1, (n, 4)))
        _group.sparse_combine(np.ascontiguousarray(arr), np.arange(n + 1, dtype=np.int64),
                              np.arange(n, dtype=np.int64), scal, np.full(n, f1[0], dtype=np.uint8),
                              _endo_consts(group), xyzz)
    return _normalize(xyzz)


_TW_CACHE: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _twiddle_table(n: int, group: int) -> tuple[np.ndarray, np.ndarray]:
    """w_n^(-j) for j < n/2, encoded for the kernels (GLV halves); the table of the largest size
    seen so far serves smaller ones by striding (w_(n/2)^j = w_n^(2j))."""
    for (m, g), (tab, fl) in _TW_CACHE.items():
        if g == group and m >= n:
            step, half = m // n, max(1, n // 2)
            return np.ascontiguousarray(tab[::step][:half]), np.ascontiguousarray(fl[::step][:half])
    tw = kernels._limbs_to_ints(kernels.fr_to_scalars(kernels._twiddles(n, inverse=True)))
    enc = _encode_scalars(tw, group)
    _TW_CACHE[(n, group)] = enc
    return enc


def _fft_work(n: int) -> int:
    return max(1, (n // 2) * max(1, n.bit_length() - 1) + n)


def lagrange_points(points: np.ndarray, progress: Callable[[int], None] | None = None) -> np.ndarray:
    """L_k(tau) * G for k < n from tau^j * G for j < n: the inverse DFT over the group.

    ``out[k] = (1/n) sum_j w_n^(-jk) points[j]`` with snarkjs's roots of unity (``w_n =
    5^((r-1)/n)``), what ffjavascript's ``G.lagrangeEvaluations`` computes, so outputs are the
    same points. Radix 2, decimation in time on bit-reversed input; each stage's n/2 butterflies
    run in parallel (one variable-base scalar multiplication each, none for twiddle 1), points
    are normalised to affine between stages with one shared inversion per chunk.

    Args:
        points: affine ``(n, 2, 4)`` (G1) or ``(n, 2, 2, 4)`` (G2) Montgomery array, n a power of
            two up to 2^28; infinity (0, 0) allowed.
        progress: called with the number of work units done after each stage (``_fft_work(n)``
            in all: one unit per butterfly and per final scaling).
    """
    n = points.shape[0]
    if n < 1 or n & (n - 1) or n > 1 << TWO_ADICITY:
        raise ValueError(f"lagrange_points: length must be a power of two up to 2^28, got {n}")
    if n == 1:
        return np.array(points, dtype=np.uint64, copy=True)
    bits = n.bit_length() - 1
    a = np.ascontiguousarray(points[kernels._rev_perm(bits)], dtype=np.uint64)
    elem = points.shape[2:]
    group = 1 if len(elem) == 1 else 2
    tw, tw_flags = _twiddle_table(n, group)
    endo = _endo_consts(group)
    xyzz = np.empty((n, 4) + elem, dtype=np.uint64)
    scratch = np.empty((n, 1) + elem, dtype=np.uint64)
    chunks = max(1, min(n, 4 * _threads()))
    h = 1
    while h < n:
        _group.group_fft_stage(a, tw, tw_flags, endo, h, xyzz)
        _msm.batch_normalize(xyzz, a, scratch, chunks)
        if progress:
            progress(n // 2)
        h *= 2
    out = scale_points(a, pow(n, -1, R))
    if progress:
        progress(n)
    return out


# --- powers of tau -------------------------------------------------------------------------------

def load_ptau(path: PathLike) -> PtauFile:
    """Read a ``.ptau`` file's structure (``zkmargin.serialize.ptau_file.read_ptau``)."""
    return read_ptau(path)


def _ptau_array(ptau: PtauFile, sid: int, start: int, count: int, *, check: bool = True,
                infinity_ok: bool = False) -> np.ndarray:
    g2 = sid in (3, 6, 13)
    buf = ptau.points(sid, start, count)
    arr = _arr_g2(buf) if g2 else _arr_g1(buf)
    if check:
        from zkmargin.serialize.ptau_file import LABELS

        _check_points(arr, 2 if g2 else 1, f"{ptau.name}: section {sid} ({LABELS[sid]}), points {start}..",
                      infinity_ok=infinity_ok)
    return arr


def prepare_phase2(src: PathLike, dst: PathLike, progress: Progress | None = None) -> PtauFile:
    """Write ``dst``: the ptau ``src`` with its Lagrange sections 12..15 (``snarkjs powersoftau
    prepare phase2``, byte for byte).

    Every point of sections 2..6 is checked first (below q, on its curve, G2 points in G2, none at
    infinity). The output header says ceremonyPower = power, as snarkjs writes it.

    Raises:
        FileFormatError: the input is malformed (the message names the section and point).
        OSError: reading or writing failed (``dst`` is then untouched).
    """
    ptau = read_ptau(src)
    power = ptau.power
    if power + 1 > TWO_ADICITY:
        raise FileFormatError(f"{ptau.name}: power {power}: section 12 would need a 2^{power + 1} domain, above "
                              f"BN254's 2^{TWO_ADICITY}")
    arrays = {sid: _ptau_array(ptau, sid, 0, section_points(sid, power)) for sid in (2, 3, 4, 5, 6)}
    plan = [(2, 12, power + 1), (3, 13, power), (4, 14, power), (5, 15, power)]
    weight = {2: 1, 3: 3, 4: 1, 5: 1}  # a G2 multiplication costs about three G1 ones
    total = sum(weight[s] * _fft_work(1 << p) for s, _, top in plan for p in range(top + 1))
    done = 0

    def tick(label: str, w: int) -> Callable[[int], None]:
        def f(units: int) -> None:
            nonlocal done
            done += w * units
            if progress:
                progress(label, done, total)
        return f

    out: dict[int, bytes | list[bytes] | memoryview] = {sid: ptau.section(sid) for sid in (2, 3, 4, 5, 6, 7)}
    from zkmargin.serialize.ptau_file import LABELS

    for sid, new, top in plan:
        t0 = time.perf_counter()
        src_arr = arrays[sid]
        blocks = []
        for p in range(top + 1):
            n = 1 << p
            if n <= src_arr.shape[0]:
                pts = src_arr[:n]
            else:  # section 12's last block: 2^(power+1) - 1 powers and the point at infinity
                pts = np.concatenate([src_arr, np.zeros((1,) + src_arr.shape[1:], dtype=np.uint64)])
            blocks.append(lagrange_points(pts, tick(LABELS[new], weight[sid])).tobytes())
        out[new] = blocks
        log.info("prepare: section %d (%s) in %.2fs", new, LABELS[new], time.perf_counter() - t0)
    write_ptau(dst, power, out, ceremony_power=power)
    return read_ptau(dst)


# --- phase 2: the initial key --------------------------------------------------------------------

@dataclass
class InitialKey:
    """The initial phase-2 key of a circuit (delta = gamma = 1), as ``snarkjs groth16 setup`` makes it.

    Attributes:
        pk: the proving key, sections 4..9 held encoded (``pk.encoded``).
        cs_hash: snarkjs's 64-byte circuit hash (section 10).
    """

    pk: ProvingKey
    cs_hash: bytes
    #: True when snarkjs would hash bytes past the ptau's tauG1 section for this circuit (domain =
    #: 2^power >= 2^15): the points agree with snarkjs but this csHash does not.
    snarkjs_hash_quirk: bool = False

    @property
    def vk(self) -> VerifyingKey:
        return self.pk.vk


def _check_lagrange_block(ptau: PtauFile, sid_raw: int, sid_lag: int, lag: np.ndarray, n: int) -> None:
    """The n-point block of a Lagrange section really is the inverse DFT of the first n powers
    (a prepared ptau's sections 12..15 are otherwise taken on trust): with random r (128-bit),
    sum_k r_k L_k == sum_j s_j tau^j G where s = (1/n) sum_k r_k w^(-jk) (one scalar NTT and two
    MSMs). Section 12's last block was made with the missing power 2n - 1 as infinity, so the
    same check drops that term.

    Raises:
        FileFormatError: naming the section and the block.
    """
    from zkmargin.serialize.ptau_file import LABELS

    g2 = sid_raw == 3
    avail = section_points(sid_raw, ptau.power)
    m = min(n, avail)
    raw = _ptau_array(ptau, sid_raw, 0, m, check=False)
    r = [secrets.randbits(128) for _ in range(n)]
    s = kernels.fr_to_scalars(kernels.intt(kernels.fr_to_array(r)))[:m] if n > 1 else kernels.scalars_to_array(r)
    msm = kernels.msm_g2 if g2 else kernels.msm_g1
    if msm(np.ascontiguousarray(lag), r) != msm(np.ascontiguousarray(raw), s):
        raise FileFormatError(
            f"{ptau.name}: section {sid_lag} ({LABELS[sid_lag]}): the block of {n} points is not the Lagrange "
            f"basis of section {sid_raw} ({LABELS[sid_raw]}): a corrupt or forged prepared ptau"
        )


def _lagrange_block(ptau: PtauFile, sid_raw: int, sid_lag: int, n: int, check: bool,
                    progress: Callable[[int], None] | None) -> np.ndarray:
    """The n-point Lagrange block of a ptau section: read when prepared, else computed here."""
    g2 = sid_raw == 3
    if ptau.prepared:
        buf = ptau.lagrange(sid_lag, n)
        arr = _arr_g2(buf) if g2 else _arr_g1(buf)
        if check:
            from zkmargin.serialize.ptau_file import LABELS

            _check_points(arr, 2 if g2 else 1, f"{ptau.name}: section {sid_lag} ({LABELS[sid_lag]}), "
                          f"block of {n}", infinity_ok=True)
            _check_lagrange_block(ptau, sid_raw, sid_lag, arr, n)
        if progress:
            progress(_fft_work(n))
        return arr
    avail = section_points(sid_raw, ptau.power)
    raw = _ptau_array(ptau, sid_raw, 0, min(n, avail), check=check)
    if raw.shape[0] < n:
        raw = np.concatenate([raw, np.zeros((n - raw.shape[0],) + raw.shape[1:], dtype=np.uint64)])
    return lagrange_points(raw, progress)


def _snarkjs_entries(cs: ConstraintSystem) -> tuple[list[tuple[int, int, int, int]], int]:
    """Section 4's entries as snarkjs's groth16 setup lists them from the .r1cs: per constraint
    its A terms then its B terms in file order (zero coefficients included), then one A entry per
    public input and wire 0 on the appended rows. (``qap.qap_coefficients`` drops zero terms.)"""
    out: list[tuple[int, int, int, int]] = []
    for row, (a, b, _c) in enumerate(cs.constraints):
        out.extend((0, row, w, k % R) for w, k in a.items())
        out.extend((1, row, w, k % R) for w, k in b.items())
    n_c = cs.n_constraints
    out.extend((0, n_c + s, s, 1) for s in range(cs.n_public + 1))
    return out, n_c + cs.n_public + 1


#: snarkjs hashes the H points in chunks of this many.
_H_CHUNK = 1 << 14


def _h_points_hashed(pt: PtauFile, n: int, check: bool) -> bytes:
    """The points (tau^(n+i) - tau^i) G1 that snarkjs's csHash covers, uncompressed.

    snarkjs 0.7.6 (zkey_new.js, hashHPoints) announces n - 1 points but reads them in chunks of
    ``min(n - 1, 2^14)`` points from i = 0 while i < n - 1, so from n = 2^15 on it hashes n points:
    the extra i = n - 1 is (tau^(2n-1) - tau^(n-1)) G1, reproduced here (checked against snarkjs
    at n = 2^15 with a power-16 ptau). When also n = 2^power, tau^(2n-1) is one point past the end
    of section 2 and snarkjs reads the next 64 bytes of the file (the following section's header
    and first bytes) as that point, with field arithmetic on unreduced values: that hash is not
    reproduced (``snarkjs_hash_quirk``); the chord formula on those coordinates mod q stands in.
    """
    total = n - 1
    if n - 1 > _H_CHUNK:
        total = -(-(n - 1) // _H_CHUNK) * _H_CHUNK
    avail = section_points(2, pt.power)
    real = min(total, avail - n)
    hi = _ptau_array(pt, 2, n, real, check=check)
    lo = _ptau_array(pt, 2, 0, real, check=check)
    diff = _combine(np.concatenate([hi, lo]), np.concatenate([np.arange(real), np.arange(real)]),
                    np.arange(2 * real), [1] * real + [R - 1] * real, real)
    out = [to_uncompressed_g1(diff)]
    for i in range(real, total):  # past the end of section 2 (only i = n - 1 when n = 2^power)
        off, size = pt.sections[2]
        at = off + (n + i) * 64
        raw = bytes(pt.data[at : at + 64]).ljust(64, b"\0")
        rinv = pow(_RM, -1, Q)
        x1 = int.from_bytes(raw[:32], "little") * rinv % Q
        y1 = int.from_bytes(raw[32:], "little") * rinv % Q
        p2 = kernels.g1_points_from_array(_ptau_array(pt, 2, i, 1, check=check))[0]
        assert p2 is not None
        x2, y2 = p2[0], (-p2[1]) % Q
        lam = (y2 - y1) * pow((x2 - x1) % Q, -1, Q) % Q
        x3 = (lam * lam - x1 - x2) % Q
        y3 = (lam * (x1 - x3) - y1) % Q
        out.append(_u_g1((x3, y3)))
    return b"".join(out)


def setup_from_ptau(cs: ConstraintSystem, ptau: PtauFile | PathLike, *, check: bool = True,
                    progress: Progress | None = None) -> InitialKey:
    """The initial phase-2 key of ``cs`` from a powers-of-tau file (``snarkjs groth16 setup``).

    The key is snarkjs's, point for point and hash for hash: alpha, beta from the ptau, gamma =
    delta = the generators; A, B1, B2 and IC/L the QAP's polynomials at tau through the Lagrange
    points (sections 12..15, read from a prepared ptau or computed here from an unprepared one,
    only at the circuit's domain size); H the odd points of the 2n-point Lagrange basis; csHash
    BLAKE2b-512 over the key's points and the points (tau^(n+i) - tau^i) G1 in snarkjs's order.

    Args:
        cs: the constraint system, its terms in the order of its .r1cs file (a circuit compiled
            in memory: round-trip it through ``r1cs_to_bytes``/``read_r1cs`` first, as the CLI
            does, so that the key is the one snarkjs makes from the written .r1cs).
        ptau: a PtauFile or a path.
        check: validate every ptau point used (below q, on the curve, G2 in G2).
        progress: see ``Progress``.

    Raises:
        CeremonyError: the circuit needs a larger domain than the ptau's 2^power.
        FileFormatError: a malformed ptau (naming section and point).
    """
    pt = ptau if isinstance(ptau, PtauFile) else read_ptau(ptau)
    entries, n_rows = _snarkjs_entries(cs)
    n = domain_size_for(n_rows)
    if n > 1 << pt.power:
        raise CeremonyError(
            f"the circuit needs a domain of 2^{n.bit_length() - 1} points ({cs.n_constraints} constraints + "
            f"{cs.n_public + 1} public rows) but {pt.name} has power {pt.power}: use a ptau of power >= "
            f"{n.bit_length() - 1}"
        )
    total = 3 * _fft_work(n) + 3 * _fft_work(n) + _fft_work(2 * n) + 1
    done = 0

    def tick(label: str, w: int = 1) -> Callable[[int], None]:
        def f(units: int) -> None:
            nonlocal done
            done += w * units
            if progress:
                progress(label, done, total)
        return f

    t0 = time.perf_counter()
    l_tau = _lagrange_block(pt, 2, 12, n, check, tick("Lagrange tauG1"))
    l_tau2 = _lagrange_block(pt, 3, 13, n, check, tick("Lagrange tauG2", 3))
    l_alpha = _lagrange_block(pt, 4, 14, n, check, tick("Lagrange alphaTauG1"))
    l_beta = _lagrange_block(pt, 5, 15, n, check, tick("Lagrange betaTauG1"))
    l_2n = _lagrange_block(pt, 2, 12, 2 * n, check, tick("Lagrange tauG1 (2n)"))
    h_arr = np.ascontiguousarray(l_2n[1::2])
    head1 = _ptau_array(pt, 4, 0, 1, check=check)
    beta1 = _ptau_array(pt, 5, 0, 1, check=check)
    beta2 = _ptau_array(pt, 6, 0, 1, check=check)
    log.info("setup from ptau: Lagrange points in %.2fs", time.perf_counter() - t0)

    # --- sparse sums of Lagrange points per wire (snarkjs's composeAndWritePoints) ---
    n_w, n_pub = cs.n_wires, cs.n_public
    a_r: list[int] = []
    a_w: list[int] = []
    a_c: list[int] = []
    b_r: list[int] = []
    b_w: list[int] = []
    b_c: list[int] = []
    for m, row, wire, k in entries:
        if m == 0:
            a_r.append(row)
            a_w.append(wire)
            a_c.append(k)
        else:
            b_r.append(row)
            b_w.append(wire)
            b_c.append(k)
    c_r: list[int] = []
    c_w: list[int] = []
    c_c: list[int] = []
    for row, (_a, _b, c) in enumerate(cs.constraints):
        for wire, k in c.items():
            c_r.append(row)
            c_w.append(wire)
            c_c.append(k % R)
    ar, aw, br, bw, cr, cw = (np.asarray(v, dtype=np.int64) for v in (a_r, a_w, b_r, b_w, c_r, c_w))
    a_sec = _combine(l_tau, aw, ar, a_c, n_w)
    tick("A")(0)
    b1_sec = _combine(l_tau, bw, br, b_c, n_w)
    b2_sec = _combine(l_tau2, bw, br, b_c, n_w)
    tick("B")(0)
    # IC (public wires and wire 0) and L (private wires): beta*A + alpha*B + C
    bases = np.concatenate([l_tau, l_alpha, l_beta])
    ow = np.concatenate([aw, bw, cw])
    bi = np.concatenate([ar + 2 * n, br + n, cr])
    coefs = [*a_c, *b_c, *c_c]
    abc = _combine(bases, ow, bi, coefs, n_w)
    ic_arr, l_arr = abc[: n_pub + 1], abc[n_pub + 1:]
    tick("IC, L")(1)

    # --- csHash ---
    g1u = _u_g1(G1_GENERATOR)
    g2u = _u_g2(G2_GENERATOR)
    hsh = hashlib.blake2b(digest_size=64)
    hsh.update(to_uncompressed_g1(head1) + to_uncompressed_g1(beta1) + to_uncompressed_g2(beta2))
    hsh.update(g2u + g1u + g2u)  # gamma2, delta1, delta2

    def sec(arr: np.ndarray, g2: bool = False) -> None:
        hsh.update(struct.pack(">I", arr.shape[0]))
        hsh.update(to_uncompressed_g2(arr) if g2 else to_uncompressed_g1(arr))

    sec(ic_arr)
    hsh.update(struct.pack(">I", n - 1))
    if n > 1:
        hsh.update(_h_points_hashed(pt, n, check))
    sec(l_arr)
    sec(a_sec)
    sec(b1_sec)
    sec(b2_sec, g2=True)
    cs_hash = hsh.digest()

    alpha_g1 = kernels.g1_points_from_array(head1)[0]
    beta_g1 = kernels.g1_points_from_array(beta1)[0]
    beta_g2 = kernels.g2_points_from_array(beta2)[0]
    vk = VerifyingKey(alpha_g1=alpha_g1, beta_g2=beta_g2, gamma_g2=G2_GENERATOR, delta_g2=G2_GENERATOR,
                      gamma_abc_g1=tuple(kernels.g1_points_from_array(ic_arr)))
    rec = _coeff_records(entries)
    encoded = {
        4: len(entries).to_bytes(4, "little") + rec.tobytes(),
        5: a_sec.tobytes(), 6: b1_sec.tobytes(), 7: b2_sec.tobytes(), 8: l_arr.tobytes(), 9: h_arr.tobytes(),
    }
    pk = ProvingKey(vk=vk, beta_g1=beta_g1, delta_g1=G1_GENERATOR, n_wires=n_w, n_public=n_pub, domain_size=n,
                    a_query=[], b_g1_query=[], b_g2_query=[], h_query=[], l_query=[], coeffs=[], n_rows=n_rows,
                    encoded=encoded)
    if progress:
        progress("done", total, total)
    log.info("setup from ptau: %d constraints, domain 2^%d, %.2fs", cs.n_constraints, n.bit_length() - 1,
             time.perf_counter() - t0)
    quirk = n > _H_CHUNK and 2 * n - 1 >= section_points(2, pt.power)
    if quirk:
        log.warning(
            "domain 2^%d = the ptau's power: snarkjs 0.7.6 hashes bytes past the ptau's tauG1 section into "
            "csHash here (a bug), so snarkjs's csHash of this circuit cannot be reproduced; the key's points "
            "are snarkjs's. For a ceremony shared with snarkjs, use a ptau of power %d or more.",
            n.bit_length() - 1, n.bit_length())
    return InitialKey(pk=pk, cs_hash=cs_hash, snarkjs_hash_quirk=quirk)


def write_initial_zkey(key: InitialKey, path: PathLike) -> None:
    """Write the initial key as snarkjs's ``groth16 setup`` does (section order, csHash, no
    contributions), atomically."""
    write_zkey(key.pk, path, mpc=ZkeyMpcParams(cs_hash=key.cs_hash), section_order=SETUP_SECTION_ORDER)


# --- phase 2: contributions ----------------------------------------------------------------------

@dataclass(frozen=True)
class ContributionInfo:
    """What a contributor publishes: its index (1-based), name, type and hash."""

    index: int
    name: str | None
    type: int
    hash: bytes
    beacon_hash: bytes | None = None
    num_iterations_exp: int | None = None

    @property
    def hash_hex(self) -> str:
        return self.hash.hex()


def format_hash(h: bytes) -> str:
    """A 64-byte hash as snarkjs prints it: four lines of four 8-hex-digit groups."""
    words = [h[i : i + 4].hex() for i in range(0, 64, 4)]
    return "\n".join("\t\t" + " ".join(words[4 * r : 4 * r + 4]) for r in range(4))


def _read_key(src: PathLike) -> tuple[bytes, ProvingKey, ZkeyMpcParams, list[ZkeyContribution]]:
    data = Path(src).read_bytes()
    pk = read_zkey(data, name=str(src), keep_encoded=True)
    mpc = read_zkey_mpc_params(data, name=str(src))
    contribs = [decode_contribution(c, name=f"{src}: contribution #{i + 1}") for i, c in enumerate(mpc.contributions)]
    return data, pk, mpc, contribs


def _contribute(src: PathLike, dst: PathLike, rng: ChaCha, ctype: int, name: str | None,
                beacon: tuple[bytes, int] | None, progress: Progress | None) -> ContributionInfo:
    _, pk, mpc, contribs = _read_key(src)
    if pk.delta_g1 is None or pk.vk.delta_g2 is None:
        raise FileFormatError(f"{src}: delta is the point at infinity")
    th = hashlib.blake2b(mpc.cs_hash, digest_size=64)
    for c in contribs:
        _hash_pubkey(th, c)
    prv = _field_from_rng(rng, R)  # the secret: never leaves this function
    if prv == 0:
        raise RuntimeError("drew a zero secret (probability 2^-254)")
    g1_s = g1_from_rng(rng)
    g1_sx = curve.g1_mul(g1_s, prv)
    th.update(_u_g1(g1_s) + _u_g1(g1_sx))
    transcript = th.digest()
    g2_spx = curve.g2_mul(hash_to_g2(transcript), prv)
    delta1 = curve.g1_mul(pk.delta_g1, prv)
    delta2 = curve.g2_mul(pk.vk.delta_g2, prv)
    inv = pow(prv, -1, R)
    if progress:
        progress("scale L and H by 1/delta", 0, 2)
    l_arr = _arr_g1(pk.encoded[8])
    h_arr = _arr_g1(pk.encoded[9])
    _check_points(l_arr, 1, f"{src}: section 8 (C)", infinity_ok=True)
    _check_points(h_arr, 1, f"{src}: section 9 (H)", infinity_ok=True)
    new_l = scale_points(l_arr, inv).tobytes()
    if progress:
        progress("scale L and H by 1/delta", 1, 2)
    new_h = scale_points(h_arr, inv).tobytes()
    if progress:
        progress("scale L and H by 1/delta", 2, 2)
    del prv, inv
    contrib = ZkeyContribution(
        delta_after=delta1, g1_s=g1_s, g1_sx=g1_sx, g2_spx=g2_spx, transcript=transcript, type=ctype,
        name=name or None, num_iterations_exp=beacon[1] if beacon else None, beacon_hash=beacon[0] if beacon else None,
    )
    new_pk = replace(pk, vk=replace(pk.vk, delta_g2=delta2), delta_g1=delta1,
                     encoded={**pk.encoded, 8: new_l, 9: new_h})
    new_mpc = ZkeyMpcParams(cs_hash=mpc.cs_hash, contributions=(*mpc.contributions, contrib.encode()))
    write_zkey(new_pk, dst, mpc=new_mpc, section_order=CONTRIBUTE_SECTION_ORDER)
    return ContributionInfo(len(contribs) + 1, contrib.name, ctype, contribution_hash(contrib),
                            contrib.beacon_hash, contrib.num_iterations_exp)


def contribute(src: PathLike, dst: PathLike, *, name: str | None = None, entropy: str | bytes = b"",
               progress: Progress | None = None) -> ContributionInfo:
    """Add a phase-2 contribution to the key ``src``, written to ``dst`` (``snarkjs zkey contribute``).

    The secret delta is drawn from a ChaCha20 stream seeded by BLAKE2b-512 of 64 bytes of OS
    randomness and the ``entropy`` text (as snarkjs mixes them); it scales delta and divides L
    and H, and is then dropped. Publish the returned hash: anyone can check it is in the final
    transcript (``zkmargin zkey verify`` lists them).

    Raises:
        FileFormatError: ``src`` is malformed (no output is written).
        OSError: reading or writing failed.
    """
    ent = entropy.encode("utf-8") if isinstance(entropy, str) else bytes(entropy)
    seed = hashlib.blake2b(os.urandom(64) + ent, digest_size=64).digest()
    return _contribute(src, dst, ChaCha(_seed_from(seed)), 0, name, None, progress)


def beacon(src: PathLike, dst: PathLike, beacon_hash: bytes | str, num_iterations_exp: int, *,
           name: str | None = None, progress: Progress | None = None) -> ContributionInfo:
    """A random-beacon contribution (``snarkjs zkey beacon``): the secret comes from SHA-256
    iterated 2^num_iterations_exp times over a public value nobody controlled in advance (a
    future block hash), so the result is reproducible by anyone and identical to snarkjs's.

    Raises:
        ValueError: a hash that is not 1..255 bytes of hex, an exponent outside 10..63.
    """
    bh = bytes.fromhex(beacon_hash[2:] if beacon_hash.startswith("0x") else beacon_hash) \
        if isinstance(beacon_hash, str) else bytes(beacon_hash)
    if not 1 <= len(bh) <= 255:
        raise ValueError(f"beacon hash must be 1..255 bytes, got {len(bh)}")
    if not 10 <= num_iterations_exp <= 63:
        raise ValueError(f"num_iterations_exp must be in 10..63 (snarkjs's range), got {num_iterations_exp}")
    return _contribute(src, dst, beacon_rng(bh, num_iterations_exp), 1, name, (bh, num_iterations_exp), progress)


# --- phase 2: verification -----------------------------------------------------------------------

@dataclass
class VerifyResult:
    """The outcome of :func:`verify_zkey`.

    Attributes:
        ok: True when the whole transcript checks out.
        reason: why not (None when ok).
        cs_hash: the circuit hash computed from the circuit and the ptau.
        contributions: every contribution, oldest first (those checked before a failure).
    """

    ok: bool
    reason: str | None
    cs_hash: bytes
    contributions: list[ContributionInfo] = field(default_factory=list)


def _rlc(arr: np.ndarray, scalars: np.ndarray) -> G1Point:
    return kernels.msm_g1(arr, scalars)


def verify_zkey(cs: ConstraintSystem, ptau: PtauFile | PathLike, zkey: PathLike, *,
                progress: Progress | None = None, initial: InitialKey | None = None) -> VerifyResult:
    """Verify a phase-2 key's whole transcript against the circuit and the ptau (``snarkjs zkey verify``).

    Checks, in order (the first failure is the reason): the initial key recomputed from ``cs``
    and the ptau has the key's csHash and shape; each contribution's transcript hash, its proof of
    knowledge e(g1_s, g2_spx) = e(g1_sx, hashToG2(transcript)), its chaining (deltaAfter follows
    the previous delta by the same secret), a beacon's points regenerated from its parameters;
    alpha, beta, gamma unchanged, delta_g1 the last deltaAfter and delta_g2 its G2 twin; sections
    IC, coefficients, A, B1, B2 identical to the initial key; L and H equal to the initial ones
    over delta, by random linear combinations (128-bit scalars) and one pairing check each.

    Returns:
        VerifyResult (ok or the reason). Raises only for unreadable files.

    Raises:
        FileFormatError: a malformed zkey or ptau.
    """
    data, pk, mpc, contribs = _read_key(zkey)
    n_rows = cs.n_constraints + cs.n_public + 1
    if (pk.n_wires, pk.n_public, pk.domain_size) != (cs.n_wires, cs.n_public, domain_size_for(n_rows)):
        return VerifyResult(False, f"different circuit parameters: the key has nVars {pk.n_wires}, nPublic "
                            f"{pk.n_public}, domain {pk.domain_size}; the circuit has {cs.n_wires}, {cs.n_public}, "
                            f"{domain_size_for(n_rows)} (wrong circuit)", bytes(64))
    try:
        init = initial if initial is not None else setup_from_ptau(cs, ptau, progress=progress)
    except CeremonyError as e:
        return VerifyResult(False, str(e), bytes(64))
    res = VerifyResult(ok=False, reason=None, cs_hash=init.cs_hash)

    def fail(why: str) -> VerifyResult:
        res.reason = why
        return res

    if mpc.cs_hash != init.cs_hash:
        why = (" (or a key made by snarkjs: at domain = 2^power >= 2^15 snarkjs hashes bytes past the ptau's "
               "tauG1 section; verify with a ptau of higher power)" if init.snarkjs_hash_quirk else "")
        return fail(
            f"circuit hash mismatch: the key's csHash {mpc.cs_hash.hex()[:16]}... is not "
            f"{init.cs_hash.hex()[:16]}..., the hash of this circuit and ptau (wrong circuit or ptau){why}"
        )
    ip = init.pk
    if (pk.n_wires, pk.n_public, pk.domain_size) != (ip.n_wires, ip.n_public, ip.domain_size):
        return fail(f"different circuit parameters: the key has nVars {pk.n_wires}, nPublic {pk.n_public}, "
                    f"domain {pk.domain_size}; the circuit gives {ip.n_wires}, {ip.n_public}, {ip.domain_size}")
    # the contribution chain
    acc = hashlib.blake2b(mpc.cs_hash, digest_size=64)
    cur_delta: G1Point = G1_GENERATOR
    for i, c in enumerate(contribs, 1):
        for pt, nm in ((c.delta_after, "deltaAfter"), (c.g1_s, "g1_s"), (c.g1_sx, "g1_sx")):
            if pt is None or not curve.g1_is_on_curve(pt):
                return fail(f"contribution #{i}: {nm} is not a point of G1")
        if c.g2_spx is None or not curve.g2_is_on_curve(c.g2_spx) or not _g2_in_subgroup(c.g2_spx):
            return fail(f"contribution #{i}: g2_spx is not a point of G2")
        ours = acc.copy()
        ours.update(_u_g1(c.g1_s) + _u_g1(c.g1_sx))
        if ours.digest() != c.transcript:
            return fail(f"contribution #{i}: inconsistent transcript (its hash does not cover the earlier "
                        "contributions and its public key)")
        g2_sp = hash_to_g2(c.transcript)
        if not _same_ratio(c.g1_s, c.g1_sx, g2_sp, c.g2_spx):
            return fail(f"contribution #{i}: the proof of knowledge fails (g1_s, g1_sx and g2_spx do not have "
                        "the same ratio)")
        if not _same_ratio(cur_delta, c.delta_after, g2_sp, c.g2_spx):
            return fail(f"contribution #{i}: deltaAfter does not follow the previous delta by the "
                        "contributor's secret (forged contribution)")
        if c.type == 1:
            if c.beacon_hash is None or c.num_iterations_exp is None or not 1 <= c.num_iterations_exp <= 63:
                return fail(f"contribution #{i}: a beacon without valid beacon parameters")
            rng = beacon_rng(c.beacon_hash, c.num_iterations_exp)
            k = _field_from_rng(rng, R)
            s = g1_from_rng(rng)
            if s != c.g1_s:
                return fail(f"contribution #{i}: the beacon's g1_s does not match its parameters")
            if curve.g1_mul(s, k) != c.g1_sx:
                return fail(f"contribution #{i}: the beacon's g1_sx does not match its parameters")
        _hash_pubkey(acc, c)
        res.contributions.append(ContributionInfo(i, c.name, c.type, contribution_hash(c), c.beacon_hash,
                                                  c.num_iterations_exp))
        cur_delta = c.delta_after
    # the header
    for got, want, nm in ((pk.vk.alpha_g1, ip.vk.alpha_g1, "alpha_g1"), (pk.beta_g1, ip.beta_g1, "beta_g1"),
                          (pk.vk.beta_g2, ip.vk.beta_g2, "beta_g2"), (pk.vk.gamma_g2, ip.vk.gamma_g2, "gamma_g2")):
        if got != want:
            return fail(f"invalid {nm}: it differs from the initial key's")
    if pk.delta_g1 != cur_delta:
        return fail("invalid delta_g1: it is not the last contribution's deltaAfter (replaced delta)")
    d2 = pk.vk.delta_g2
    if d2 is None or not curve.g2_is_on_curve(d2) or not _g2_in_subgroup(d2):
        return fail("invalid delta_g2: not a point of G2")
    if not _same_ratio(G1_GENERATOR, cur_delta, G2_GENERATOR, d2):
        return fail("invalid delta_g2: it does not match delta_g1 (replaced delta)")
    # untouched sections
    init_bytes = zkey_to_bytes(ip, mpc=ZkeyMpcParams(cs_hash=init.cs_hash), section_order=CONTRIBUTE_SECTION_ORDER)
    from zkmargin.serialize.binfile import read_binfile

    got_bf = read_binfile(data, "zkey", 2, name=str(zkey))
    want_bf = read_binfile(init_bytes, "zkey", 2, name="initial key")
    names = {3: "IC", 4: "coefficients", 5: "A", 6: "B1", 7: "B2"}
    for sid, nm in names.items():
        if got_bf.section(sid) != want_bf.section(sid):
            return fail(f"section {sid} ({nm}) is not identical to the initial key's (wrong circuit or tampered key)")
    # L and H: random linear combinations, e(R_init, G2) == e(R_key, delta_g2)
    for sid, nm in ((8, "L"), (9, "H")):
        got_arr = _arr_g1(got_bf.section(sid))
        want_arr = _arr_g1(want_bf.section(sid))
        if got_arr.shape != want_arr.shape:
            return fail(f"section {sid} ({nm}) has {got_arr.shape[0]} points, expected {want_arr.shape[0]}")
        if got_arr.shape[0] == 0:
            continue
        try:
            _check_points(got_arr, 1, f"section {sid} ({nm})", infinity_ok=True)
        except FileFormatError as e:
            return fail(str(e))
        rs = kernels.scalars_to_array([secrets.randbits(128) for _ in range(got_arr.shape[0])])
        r_init = _rlc(want_arr, rs)
        r_key = _rlc(got_arr, rs)
        if r_init is None and r_key is None:
            continue
        if not _same_ratio(r_init, r_key, d2, G2_GENERATOR):
            return fail(f"section {sid} ({nm}) does not match the initial key over delta")
    res.ok = True
    return res


def export_verifying_key(zkey: PathLike) -> VerifyingKey:
    """The verifying key of a ``.zkey`` (``snarkjs zkey export verificationkey``)."""
    return read_zkey(Path(zkey).read_bytes(), name=str(zkey), keep_encoded=True).vk


# helpers for tests: a ptau from a known tau (never for production)
def _toy_ptau_sections(power: int, tau: int, alpha: int, beta: int) -> dict[int, bytes]:
    """Sections 2..7 of a ptau made from known secrets with the fixed-base kernels (tests only)."""
    n = 1 << power
    pw = [1] * (2 * n - 1)
    for i in range(1, 2 * n - 1):
        pw[i] = pw[i - 1] * tau % R
    g1, g2 = G1_GENERATOR, G2_GENERATOR
    return {
        2: kernels.fixed_base_g1_array(g1, pw).tobytes(),
        3: kernels.fixed_base_g2_array(g2, pw[:n]).tobytes(),
        4: kernels.fixed_base_g1_array(g1, [alpha * p % R for p in pw[:n]]).tobytes(),
        5: kernels.fixed_base_g1_array(g1, [beta * p % R for p in pw[:n]]).tobytes(),
        6: kernels.fixed_base_g2_array(g2, [beta]).tobytes(),
        7: struct.pack("<I", 0),
    }
