"""The numba Groth16 prover and development setup (``zkmargin[prover]``).

Same protocol and conventions as the reference path (``groth16.prove_reference``, ``setup``): the
QAP of ``qap`` (public rows appended, H on the odd coset), snarkjs's key layout. What changes is the
representation: the proving key's coefficient and point sections are numpy arrays in the .zkey's
own encoding (Montgomery little-endian), mapped straight from the file, and every heavy step runs
in the kernels of ``kernels`` (NTT, Pippenger MSM, fixed-base tables) on both cores.

Phases (``PhaseTimings`` names): ``key_arrays`` (mapping and range-checking the key's sections,
once per key object), ``witness_eval`` (A*w, B*w), ``ntt`` (three odd-coset transforms),
``msm_g1`` (A, B1, L, H), ``msm_g2`` (B2), ``assemble`` (blinding terms).
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zkmargin import _numba_field as _field
from zkmargin import curve
from zkmargin.errors import FileFormatError, MalformedInputError
from zkmargin.field import R
from zkmargin.groth16 import Proof, ProvingKey, VerifyingKey
from zkmargin.r1cs import ConstraintSystem

from . import kernels
from .setup import KeyScalars, Toxic, _scalars

__all__ = ["KeyArrays", "key_arrays", "prove_fast", "setup_fast", "COEF_DTYPE"]

log = logging.getLogger(__name__)

#: One record of the .zkey's section 4: matrix, row, wire (u32 each), value (c * R^2 mod r).
COEF_DTYPE = np.dtype([("m", "<u4"), ("row", "<u4"), ("wire", "<u4"), ("v", "<u8", (4,))])
_R2 = pow(2, 512, R)


@dataclass
class KeyArrays:
    """A proving key's bulk in the kernels' layout (see ``kernels``), ready for ``prove_fast``."""

    n_wires: int
    n_public: int
    domain_size: int
    a_rows: np.ndarray  # (k_a,) int64: the A entries of the QAP (coefficients section)
    a_wires: np.ndarray  # (k_a,) int64
    a_coeffs: np.ndarray  # (k_a, 4) uint64: c * R^2 mod r (see below)
    b_rows: np.ndarray  # (k_b,) int64: the B entries
    b_wires: np.ndarray
    b_coeffs: np.ndarray
    a_query: np.ndarray  # (n_wires, 2, 4)
    b_g1_query: np.ndarray  # (n_wires, 2, 4)
    b_g2_query: np.ndarray  # (n_wires, 2, 2, 4)
    l_query: np.ndarray  # (n_wires - n_public - 1, 2, 4)
    h_query: np.ndarray  # (domain_size, 2, 4)


def _split_records(rec: np.ndarray, n_wires: int, domain_size: int) -> dict[str, np.ndarray]:
    """The A and B entries of section-4 records, validated, as the arrays ``sparse_matvec`` takes.

    Coefficients stay as stored (``c * R^2 mod r``): multiplied in Montgomery form by a witness in
    normal form they give the Montgomery form of ``c * w`` (snarkjs's trick), so neither side is
    converted.

    Raises:
        FileFormatError: a record whose matrix, row, wire or value is out of range.
    """
    # The records are 44 bytes, so their 8-byte values are unaligned: numpy's field access
    # (rec["v"]) copies those element by element (0.2 s at 2^16). Byte columns copy as rows instead.
    raw = np.ascontiguousarray(rec).view(np.uint8).reshape(-1, COEF_DTYPE.itemsize)
    ints = np.ascontiguousarray(raw[:, :12]).view("<u4").astype(np.uint32, copy=False)
    m, rows, wires = ints[:, 0], ints[:, 1], ints[:, 2]
    vals = np.ascontiguousarray(raw[:, 12:]).view("<u8").astype(np.uint64, copy=False)
    if rec.size and (m.max() > 1 or rows.max() >= domain_size or wires.max() >= n_wires
                     or not _field.vec_all_below(vals, _field.FR_P)):
        raise FileFormatError("proving key: a coefficient record is out of range (matrix, row, wire or value)")
    out: dict[str, np.ndarray] = {}
    for name, sel in (("a", m == 0), ("b", m == 1)):
        out[f"{name}_rows"] = np.ascontiguousarray(rows[sel], dtype=np.int64)
        out[f"{name}_wires"] = np.ascontiguousarray(wires[sel], dtype=np.int64)
        out[f"{name}_coeffs"] = np.ascontiguousarray(vals[sel])
    return out


def _coeff_records(entries: Sequence[tuple[int, int, int, int]]) -> np.ndarray:
    rec = np.zeros(len(entries), dtype=COEF_DTYPE)
    if entries:
        arr = np.array([(m, row, wire) for m, row, wire, _ in entries], dtype=np.uint32).reshape(-1, 3)
        rec["m"], rec["row"], rec["wire"] = arr[:, 0], arr[:, 1], arr[:, 2]
        rec["v"] = kernels.scalars_to_array([c * _R2 % R for *_, c in entries])
    return rec


def _points(buf: bytes, shape_tail: tuple[int, ...], what: str, checked: bool = False) -> np.ndarray:
    arr = np.frombuffer(buf, dtype="<u8").reshape((-1, *shape_tail))
    if arr.size and not checked and not _field.vec_all_below(arr.reshape(-1, 4), _field.FQ_P):
        raise FileFormatError(f"proving key: a coordinate of {what} is not below q")
    return arr


def key_arrays(pk: ProvingKey) -> KeyArrays:
    """The arrays of ``pk`` (cached on the key object; encoded sections are mapped, not decoded).

    Raises:
        FileFormatError: a coordinate >= q or a coefficient record out of range.
    """
    cached = getattr(pk, "_key_arrays", None)
    if isinstance(cached, KeyArrays):
        return cached
    enc = pk.encoded
    # a key from zkmargin.serialize._mmap.read_zkey_mapped had every coordinate checked below q (numpy)
    checked = getattr(pk, "_mapping", None) is not None
    if 4 in enc:
        rec = np.frombuffer(enc[4], dtype=COEF_DTYPE, offset=4)
    else:
        rec = _coeff_records(pk.coeffs)
    coeffs = _split_records(rec, pk.n_wires, pk.domain_size)

    def g1(sid: int, pts: list[curve.G1Point], what: str) -> np.ndarray:
        return _points(enc[sid], (2, 4), what, checked) if sid in enc else kernels.g1_points_to_array(pts, check=False)

    ka = KeyArrays(
        n_wires=pk.n_wires, n_public=pk.n_public, domain_size=pk.domain_size,
        **coeffs,
        a_query=g1(5, pk.a_query, "A"),
        b_g1_query=g1(6, pk.b_g1_query, "B1"),
        b_g2_query=_points(enc[7], (2, 2, 4), "B2", checked) if 7 in enc
        else kernels.g2_points_to_array(pk.b_g2_query, check=False),
        l_query=g1(8, pk.l_query, "C"),
        h_query=g1(9, pk.h_query, "H"),
    )
    counts = [(ka.a_query, pk.n_wires), (ka.b_g1_query, pk.n_wires), (ka.b_g2_query, pk.n_wires),
              (ka.l_query, pk.n_wires - pk.n_public - 1), (ka.h_query, pk.domain_size)]
    if any(arr.shape[0] != n for arr, n in counts):
        raise FileFormatError("proving key: a point section has the wrong number of points")
    pk._key_arrays = ka  # type: ignore[attr-defined]
    return ka


def _msm1(bases: np.ndarray, scalars: np.ndarray) -> curve.G1Point:
    return kernels.msm_g1(bases, scalars)


def _small_g1(points: Sequence[curve.G1Point], scalars: Sequence[int]) -> curve.G1Point:
    return kernels.msm_g1(kernels.g1_points_to_array(list(points), check=False), [k % R for k in scalars])


def prove_fast(
    pk: ProvingKey,
    witness: Sequence[int] | np.ndarray,
    rng: random.Random | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[Proof, list[int]]:
    """A Groth16 proof with the numba kernels (validate the witness first: see ``groth16.prove``).

    Args:
        pk: proving key (lists or encoded sections).
        witness: ints in [0, r), or an (n, 4) uint64 array of them in normal form.
        rng: TESTS ONLY, seeded blinding.
        timings: filled with seconds per phase.
    """
    tm = timings if timings is not None else {}

    def lap(name: str, t0: float) -> float:
        t1 = time.perf_counter()
        tm[name] = tm.get(name, 0.0) + t1 - t0
        return t1

    t = time.perf_counter()
    ka = key_arrays(pk)
    t = lap("key_arrays", t)
    w = witness if isinstance(witness, np.ndarray) else kernels.scalars_to_array(list(witness))
    if w.shape != (ka.n_wires, 4):
        raise MalformedInputError(f"witness has {w.shape[0]} values but the proving key expects {ka.n_wires} wires")
    n = ka.domain_size
    a = np.zeros((n, 4), dtype=np.uint64)
    b = np.zeros((n, 4), dtype=np.uint64)
    _field.sparse_matvec(ka.a_rows, ka.a_wires, ka.a_coeffs, w, a)
    _field.sparse_matvec(ka.b_rows, ka.b_wires, ka.b_coeffs, w, b)
    t = lap("witness_eval", t)
    c = kernels.fr_mul_arrays(a, b)
    a = kernels.odd_coset_values(a, inplace=True)
    b = kernels.odd_coset_values(b, inplace=True)
    c = kernels.odd_coset_values(c, inplace=True)
    h = kernels.fr_sub_arrays(kernels.fr_mul_arrays(a, b), c)
    h = kernels.fr_to_scalars(h)  # MSM scalars are in normal form
    del a, b, c
    t = lap("ntt", t)
    a_acc = _msm1(ka.a_query, w)
    b1_acc = _msm1(ka.b_g1_query, w)
    l_acc = _msm1(ka.l_query, w[ka.n_public + 1:])
    h_acc = _msm1(ka.h_query, h)
    t = lap("msm_g1", t)
    b2_acc = kernels.msm_g2(ka.b_g2_query, w)
    t = lap("msm_g2", t)
    if rng is None:
        r, s = secrets.randbelow(R), secrets.randbelow(R)
    else:
        r, s = rng.randrange(R), rng.randrange(R)
    vk = pk.vk
    pi_a = _small_g1([vk.alpha_g1, a_acc, pk.delta_g1], [1, 1, r])
    b1 = _small_g1([pk.beta_g1, b1_acc, pk.delta_g1], [1, 1, s])
    pi_b = kernels.msm_g2(kernels.g2_points_to_array([vk.beta_g2, b2_acc, vk.delta_g2], check=False), [1, 1, s])
    pi_c = _small_g1([l_acc, h_acc, pi_a, b1, pk.delta_g1], [1, 1, s, r, (-r * s) % R])
    lap("assemble", t)
    public = kernels._limbs_to_ints(w[1: ka.n_public + 1])
    return Proof(a=pi_a, b=pi_b, c=pi_c), public


def setup_fast(
    cs: ConstraintSystem, toxic: Toxic, scalars: KeyScalars | None = None
) -> tuple[ProvingKey, VerifyingKey]:
    """The development setup's group encodings with fixed-base tables (see ``setup.setup``).

    Returns a key whose sections 4..9 are held encoded (``ProvingKey.encoded``), ready to be
    written as a .zkey or proved with, without a round trip through Python ints.
    """
    t = toxic
    sc = scalars if scalars is not None else _scalars(cs, t)
    n, n_rows, entries = sc.domain_size, sc.n_rows, sc.entries
    g1, g2 = curve.G1_GENERATOR, curve.G2_GENERATOR
    a_arr = kernels.fixed_base_g1_array(g1, sc.a)
    b1_arr = kernels.fixed_base_g1_array(g1, sc.b)
    b2_arr = kernels.fixed_base_g2_array(g2, sc.b)
    l_arr = kernels.fixed_base_g1_array(g1, sc.l)
    h_arr = kernels.fixed_base_g1_array(g1, sc.h)
    ic = kernels.fixed_base_g1(g1, sc.ic)
    small1 = kernels.fixed_base_g1(g1, [t.alpha, t.beta, t.delta])
    small2 = kernels.fixed_base_g2(g2, [t.beta, t.gamma, t.delta])
    vk = VerifyingKey(alpha_g1=small1[0], beta_g2=small2[0], gamma_g2=small2[1], delta_g2=small2[2],
                      gamma_abc_g1=tuple(ic))
    rec = _coeff_records(entries)
    encoded = {
        4: len(entries).to_bytes(4, "little") + rec.tobytes(),
        5: a_arr.tobytes(), 6: b1_arr.tobytes(), 7: b2_arr.tobytes(), 8: l_arr.tobytes(), 9: h_arr.tobytes(),
    }
    pk = ProvingKey(vk=vk, beta_g1=small1[1], delta_g1=small1[2], n_wires=cs.n_wires, n_public=cs.n_public,
                    domain_size=n, a_query=[], b_g1_query=[], b_g2_query=[], h_query=[], l_query=[], coeffs=[],
                    n_rows=n_rows, encoded=encoded)
    pk._key_arrays = KeyArrays(  # type: ignore[attr-defined]
        n_wires=cs.n_wires, n_public=cs.n_public, domain_size=n,
        **_split_records(rec, cs.n_wires, n),
        a_query=a_arr, b_g1_query=b1_arr, b_g2_query=b2_arr, l_query=l_arr, h_query=h_arr,
    )
    return pk, vk

