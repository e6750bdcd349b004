"""BN254 field arithmetic for the numba kernels: Fr, Fq and Fq2 in Montgomery form.

Private module shared by the prover kernels (public surface: ``zkmargin.prover.kernels``) and the
verifier's numba pairing; it lives in core so that neither depends on the other. Layout and conventions:

- An element of Fr or Fq is four little-endian 64-bit limbs. Inside kernels it is a tuple of four
  ``uint64`` (kept in registers); in arrays, a vector of n elements has shape ``(n, 4)`` and dtype
  ``uint64``. Kernels work in Montgomery form ``a * 2^256 mod p`` unless a name says otherwise.
- An element of Fq2 = Fq[u]/(u^2 + 1) is a pair ``(c0, c1)`` of Fq elements (``c0 + c1*u``); a
  vector has shape ``(n, 2, 4)``.
- The 64x64 -> 128-bit products come from LLVM ``i128`` arithmetic through ``numba`` intrinsics
  (``mac``, ``adc``, ``sbb``, ``sel``), which compile to ``mulx``/``adc``/``cmov``. Under
  ``NUMBA_DISABLE_JIT=1`` intrinsics do not exist, so the same four primitives are plain Python
  functions on ints: every kernel then runs unchanged (slowly) as Python, limb by limb.
- Multiplication is the "no-carry" CIOS Montgomery product (valid because both moduli have a top
  limb below 2^63 - 1), followed by one conditional subtraction: outputs are fully reduced.
  On x86-64 with BMI2 and ADX (``ASM_MUL``) ``fr_mul``/``fq_mul`` run the same CIOS product as
  inline assembly with two interleaved carry chains (``mulx``/``adcx``/``adox``), which LLVM
  does not emit from i128 code: about 1.3x the throughput. ``ZKMARGIN_NO_ASM=1`` turns it off;
  the generic ``mont_mul`` stays the reference the tests compare it with.

Generic ``fe_*`` functions (used by the curve code in ``_msm``) dispatch on the element type at
compile time: a 4-tuple is Fq, a pair of 4-tuples is Fq2. In ``NUMBA_DISABLE_JIT`` mode they
dispatch at run time on the same shapes.

Caveat: numba's on-disk cache of a kernel is invalidated only by edits to the kernel's own
source file; ``refresh_stale_caches`` (called by each consumer at import, and by this module for
itself) handles edits of this module, one marker per module.
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

# Numba's OpenMP layer lets idle workers spin; on a busy machine every parallel launch then waits
# for a time slice (milliseconds each, measured), while passive waiting costs microseconds. Read
# at the first parallel launch, so setting it at import is early enough; a user's value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

from zkmargin.field import Q, R  # noqa: E402

__all__ = [
    "DISABLE_JIT",
    "ASM_MUL",
    "refresh_stale_caches",
    "FQ_P",
    "FR_P",
    "FQ_ONE",
    "FR_ONE",
    "ZERO",
    "mac",
    "adc",
    "sbb",
    "sel",
    "limbs",
    "fr_mul",
    "fr_sqr",
    "fr_add",
    "fr_sub",
    "fr_neg",
    "fr_inv",
    "fr_pow_small",
    "fq_mul",
    "fq_sqr",
    "fq_add",
    "fq_sub",
    "fq_neg",
    "fq_inv",
    "fq2_add",
    "fq2_sub",
    "fq2_neg",
    "fq2_mul",
    "fq2_sqr",
    "fq2_inv",
    "fe_add",
    "fe_sub",
    "fe_neg",
    "fe_dbl",
    "fe_mul",
    "fe_sqr",
    "fe_inv",
    "fe_is_zero",
    "fe_eq",
    "fe_zero",
    "fe_one",
    "fe_load",
    "fe_store",
    "vec_to_mont",
    "vec_from_mont",
    "vec_mul",
    "vec_add",
    "vec_sub",
    "vec_batch_inv",
    "vec_all_below",
    "sparse_matvec",
]

#: True when numba runs functions as plain Python (``NUMBA_DISABLE_JIT=1``).
DISABLE_JIT = bool(numba.config.DISABLE_JIT)  # type: ignore[attr-defined]

_M64 = (1 << 64) - 1


def limbs(x: int) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """The four little-endian 64-bit limbs of a non-negative int below 2^256."""
    return (
        np.uint64(x & _M64),
        np.uint64((x >> 64) & _M64),
        np.uint64((x >> 128) & _M64),
        np.uint64((x >> 192) & _M64),
    )


def _params(p: int) -> tuple[tuple, np.uint64, tuple, tuple, tuple]:
    """(p limbs, -p^-1 mod 2^64, R^2 mod p, R mod p, p - 2) for Montgomery arithmetic, R = 2^256."""
    return (
        limbs(p),
        np.uint64((-pow(p, -1, 1 << 64)) % (1 << 64)),
        limbs((1 << 512) % p),
        limbs((1 << 256) % p),
        limbs(p - 2),
    )


FQ_P, FQ_PINV, FQ_R2, FQ_ONE, FQ_PM2 = _params(Q)
FR_P, FR_PINV, FR_R2, FR_ONE, FR_PM2 = _params(R)
#: The zero element (the same in every field and in Montgomery form).
ZERO = limbs(0)

# --- 64-bit primitives -----------------------------------------------------------------------

if DISABLE_JIT:

    def mac(a, b, c, d):  # type: ignore[no-redef]
        """(lo, hi) of a*b + c + d (never overflows 128 bits)."""
        t = int(a) * int(b) + int(c) + int(d)
        return (t & _M64, t >> 64)

    def adc(a, b, carry):  # type: ignore[no-redef]
        """(sum mod 2^64, carry out) of a + b + carry."""
        t = int(a) + int(b) + int(carry)
        return (t & _M64, t >> 64)

    def sbb(a, b, borrow):  # type: ignore[no-redef]
        """(difference mod 2^64, borrow out in {0, 1}) of a - b - borrow."""
        t = int(a) - int(b) - int(borrow)
        return (t & _M64, 1 if t < 0 else 0)

    def sel(cond, a, b):  # type: ignore[no-redef]
        """a if cond != 0 else b."""
        return a if cond else b

else:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    _I64 = ir.IntType(64)
    _I128 = ir.IntType(128)
    _PAIR = types.UniTuple(types.uint64, 2)

    def _lo_hi(context, builder, sig, t):
        lo = builder.trunc(t, _I64)
        hi = builder.trunc(builder.lshr(t, ir.Constant(_I128, 64)), _I64)
        return context.make_tuple(builder, sig.return_type, [lo, hi])

    @intrinsic
    def mac(typingctx, a, b, c, d):
        """(lo, hi) of a*b + c + d as uint64, via LLVM i128 (mulx + add/adc)."""
        sig = _PAIR(types.uint64, types.uint64, types.uint64, types.uint64)

        def codegen(context, builder, signature, args):
            x, y, u, v = (builder.zext(arg, _I128) for arg in args)
            t = builder.add(builder.add(builder.mul(x, y), u), v)
            return _lo_hi(context, builder, signature, t)

        return sig, codegen

    @intrinsic
    def adc(typingctx, a, b, carry):
        """(sum mod 2^64, carry out) of a + b + carry."""
        sig = _PAIR(types.uint64, types.uint64, types.uint64)

        def codegen(context, builder, signature, args):
            x, y, c = (builder.zext(arg, _I128) for arg in args)
            return _lo_hi(context, builder, signature, builder.add(builder.add(x, y), c))

        return sig, codegen

    @intrinsic
    def sbb(typingctx, a, b, borrow):
        """(difference mod 2^64, borrow out in {0, 1}) of a - b - borrow."""
        sig = _PAIR(types.uint64, types.uint64, types.uint64)

        def codegen(context, builder, signature, args):
            x, y, c = (builder.zext(arg, _I128) for arg in args)
            t = builder.sub(builder.sub(x, y), c)
            lo = builder.trunc(t, _I64)
            out = builder.trunc(builder.lshr(t, ir.Constant(_I128, 127)), _I64)
            return context.make_tuple(builder, signature.return_type, [lo, out])

        return sig, codegen

    @intrinsic
    def sel(typingctx, cond, a, b):
        """a if cond != 0 else b, branch-free (LLVM select)."""
        sig = types.uint64(types.uint64, types.uint64, types.uint64)

        def codegen(context, builder, signature, args):
            c, x, y = args
            return builder.select(builder.icmp_unsigned("!=", c, ir.Constant(_I64, 0)), x, y)

        return sig, codegen


# --- generic Montgomery arithmetic over a 4-limb modulus -------------------------------------

@njit(cache=True)
def _cios_round(t0, t1, t2, t3, a0, a1, a2, a3, bi, p0, p1, p2, p3, pinv):
    """One outer round of no-carry CIOS: t = (t + a*bi + m*p) / 2^64."""
    t0, A = mac(a0, bi, t0, 0)
    m, _ = mac(t0, pinv, 0, 0)
    _, C = mac(m, p0, t0, 0)
    t1, A = mac(a1, bi, t1, A)
    t0, C = mac(m, p1, t1, C)
    t2, A = mac(a2, bi, t2, A)
    t1, C = mac(m, p2, t2, C)
    t3, A = mac(a3, bi, t3, A)
    t2, C = mac(m, p3, t3, C)
    t3, _ = adc(C, A, 0)
    return t0, t1, t2, t3


@njit(cache=True)
def _reduce_once(t0, t1, t2, t3, p):
    """t - p if t >= p else t, for t < 2p."""
    d0, b = sbb(t0, p[0], 0)
    d1, b = sbb(t1, p[1], b)
    d2, b = sbb(t2, p[2], b)
    d3, b = sbb(t3, p[3], b)
    return (sel(b, t0, d0), sel(b, t1, d1), sel(b, t2, d2), sel(b, t3, d3))


@njit(cache=True)
def mont_mul(a, b, p, pinv):
    """Montgomery product a*b/2^256 mod p of reduced inputs; output reduced."""
    a0, a1, a2, a3 = a
    p0, p1, p2, p3 = p
    t0, t1, t2, t3 = _cios_round(0, 0, 0, 0, a0, a1, a2, a3, b[0], p0, p1, p2, p3, pinv)
    t0, t1, t2, t3 = _cios_round(t0, t1, t2, t3, a0, a1, a2, a3, b[1], p0, p1, p2, p3, pinv)
    t0, t1, t2, t3 = _cios_round(t0, t1, t2, t3, a0, a1, a2, a3, b[2], p0, p1, p2, p3, pinv)
    t0, t1, t2, t3 = _cios_round(t0, t1, t2, t3, a0, a1, a2, a3, b[3], p0, p1, p2, p3, pinv)
    return _reduce_once(t0, t1, t2, t3, p)


@njit(cache=True)
def mod_add(a, b, p):
    """a + b mod p (inputs reduced; p < 2^255 so the sum fits in 256 bits)."""
    s0, c = adc(a[0], b[0], 0)
    s1, c = adc(a[1], b[1], c)
    s2, c = adc(a[2], b[2], c)
    s3, c = adc(a[3], b[3], c)
    return _reduce_once(s0, s1, s2, s3, p)


@njit(cache=True)
def mod_sub(a, b, p):
    """a - b mod p (inputs reduced)."""
    d0, br = sbb(a[0], b[0], 0)
    d1, br = sbb(a[1], b[1], br)
    d2, br = sbb(a[2], b[2], br)
    d3, br = sbb(a[3], b[3], br)
    e0, c = adc(d0, p[0], 0)
    e1, c = adc(d1, p[1], c)
    e2, c = adc(d2, p[2], c)
    e3, c = adc(d3, p[3], c)
    return (sel(br, e0, d0), sel(br, e1, d1), sel(br, e2, d2), sel(br, e3, d3))


@njit(cache=True)
def is_zero4(a):
    """True for the all-zero element."""
    return (a[0] | a[1] | a[2] | a[3]) == 0


@njit(cache=True)
def eq4(a, b):
    """Limb-wise equality."""
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0


@njit(cache=True)
def mod_neg(a, p):
    """-a mod p (0 stays 0)."""
    if is_zero4(a):
        return a
    return mod_sub(p, a, p)


@njit(cache=True)
def mont_pow(a, e, p, pinv, one):
    """a^e in Montgomery form; e is a 4-limb exponent in normal form (left-to-right binary)."""
    r = one
    for li in range(3, -1, -1):
        w = e[li]
        for bit in range(63, -1, -1):
            r = mont_mul(r, r, p, pinv)
            if (w >> bit) & 1:
                r = mont_mul(r, a, p, pinv)
    return r


# --- mulx/adcx/adox Montgomery products (x86-64 with BMI2 and ADX) -------------------------------


def _asm_wanted() -> bool:
    if DISABLE_JIT or os.environ.get("ZKMARGIN_NO_ASM", "") not in ("", "0"):
        return False
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        import llvmlite.binding as llvm

        feats = llvm.get_host_cpu_features()
        return bool(feats.get("adx")) and bool(feats.get("bmi2"))
    except Exception:  # an unusual llvmlite: keep the portable code
        return False


#: True when ``fr_mul``/``fq_mul`` (and the squarings) run the inline-assembly Montgomery product:
#: x86-64 with BMI2 and ADX, the JIT on, and ``ZKMARGIN_NO_ASM`` unset. Otherwise ``mont_mul``.
ASM_MUL = _asm_wanted()


def _mont_mul_asm_text() -> tuple[str, tuple[int, int, int, int]]:
    """AT&T text of the 4-limb CIOS Montgomery product with two carry chains, and the operand
    numbers of the result limbs.

    Operands: $0..$4 accumulator registers, $5 lo, $6 hi (scratch), $7 rdx (all outputs,
    early-clobber); inputs $8..$11 the limbs of a, $12 a pointer to b's limbs, $13 a pointer to
    (p0, p1, p2, p3, -p^-1 mod 2^64, 0). Each of the four rounds adds a * b_i to the accumulator
    (``mulx`` leaves the flags alone, so the low halves ride the CF chain with ``adcx`` while the
    high halves ride the OF chain with ``adox``), then adds m * p with m = t0 * (-p^-1) and drops
    the zero low word by renaming registers instead of moving them. Inputs reduced (< p) give an
    accumulator below 2p in five words; a final subtraction of p with ``cmovc`` reduces it.
    Carries into the fifth word never overflow it, so both flags are clear when a chain ends.
    """
    acc = [f"${i}" for i in range(5)]
    lo, hi = "$5", "$6"
    a = [f"${8 + j}" for j in range(4)]
    b = [f"{8 * j}($12)" for j in range(4)]
    p = [f"{8 * j}($13)" for j in range(4)]
    pinv, zero = "32($13)", "40($13)"
    out: list[str] = []

    def reduce(t: list[str]) -> tuple[list[str], str]:
        out.append(f"movq {t[0]}, %rdx")
        out.append(f"imulq {pinv}, %rdx")  # m = t0 * (-p^-1) mod 2^64
        out.append(f"xorq {lo}, {lo}")  # clear CF and OF (imul sets them)
        for j in range(4):
            out.append(f"mulxq {p[j]}, {lo}, {hi}")
            out.append(f"adcxq {lo}, {t[j]}")
            out.append(f"adoxq {hi}, {t[j + 1]}")
        out.append(f"adcxq {zero}, {t[4]}")
        return t[1:], t[0]  # t0 is now 0: the next word becomes the lowest

    t = acc[:]
    out.append(f"movq {b[0]}, %rdx")  # round 0: the accumulator starts as a * b0
    out.append(f"mulxq {a[0]}, {t[0]}, {t[1]}")
    out.append(f"xorq {t[4]}, {t[4]}")
    for j in range(1, 4):
        out.append(f"mulxq {a[j]}, {lo}, {t[j + 1]}")
        out.append(f"adcxq {lo}, {t[j]}")
    out.append(f"adcxq {zero}, {t[4]}")
    words, free = reduce(t)
    for i in range(1, 4):
        t = [*words, free]
        out.append(f"movq {b[i]}, %rdx")
        out.append(f"xorq {t[4]}, {t[4]}")  # fifth word 0, flags clear
        for j in range(4):
            out.append(f"mulxq {a[j]}, {lo}, {hi}")
            out.append(f"adcxq {lo}, {t[j]}")
            out.append(f"adoxq {hi}, {t[j + 1]}")
        out.append(f"adcxq {zero}, {t[4]}")
        words, free = reduce(t)
    res = [lo, hi, free, "%rdx"]
    for j in range(4):
        out.append(f"movq {words[j]}, {res[j]}")
        out.append(f"{'subq' if j == 0 else 'sbbq'} {p[j]}, {res[j]}")
    for j in range(4):
        out.append(f"cmovcq {words[j]}, {res[j]}")  # borrow: the accumulator was already < p
    return "\n\t".join(out), (5, 6, int(free[1:]), 7)


if ASM_MUL:
    import llvmlite.binding as _llvm
    from llvmlite import ir as _ir
    from numba import types as _types
    from numba.core import cgutils as _cgutils
    from numba.extending import intrinsic as _intrinsic

    _llvm.initialize_native_asmparser()  # numba does not: inline assembly needs it
    _ASM_TEXT, _ASM_RESULT = _mont_mul_asm_text()
    _ASM_CONSTRAINTS = ",".join(
        ["=&r"] * 7 + ["=&{rdx}"] + ["r"] * 6 + ["~{memory}", "~{dirflag}", "~{fpsr}", "~{flags}"]
    )

    def _mont_mul_asm(p: int) -> Any:
        """An intrinsic ``(a, b) -> a*b/2^256 mod p`` for 4-tuples of uint64 (reduced inputs)."""
        consts = [int(x) for x in limbs(p)] + [(-pow(p, -1, 1 << 64)) % (1 << 64), 0]
        i64 = _ir.IntType(64)
        i32 = _ir.IntType(32)

        @_intrinsic
        def mul(typingctx, a, b):
            sig = _types.UniTuple(_types.uint64, 4)(a, b)

            def codegen(context, builder, signature, args):
                av, bv = args
                bmem = _cgutils.alloca_once(builder, _ir.ArrayType(i64, 4))
                for j in range(4):
                    slot = builder.gep(bmem, [_ir.Constant(i32, 0), _ir.Constant(i32, j)])
                    builder.store(builder.extract_value(bv, j), slot)
                table = _ir.Constant(_ir.ArrayType(i64, 6), [_ir.Constant(i64, c) for c in consts])
                cmem = _cgutils.global_constant(builder, f"zkmargin_mont_{p % (1 << 32):08x}", table)
                fty = _ir.FunctionType(_ir.LiteralStructType([i64] * 8), [i64] * 4 + [bmem.type, cmem.type])
                asm = _ir.InlineAsm(fty, _ASM_TEXT, _ASM_CONSTRAINTS, side_effect=False)
                res = builder.call(asm, [builder.extract_value(av, j) for j in range(4)] + [bmem, cmem])
                vals = [builder.extract_value(res, k) for k in _ASM_RESULT]
                return context.make_tuple(builder, signature.return_type, vals)

            return sig, codegen

        return mul

    _fr_mul_asm = _mont_mul_asm(R)
    _fq_mul_asm = _mont_mul_asm(Q)


# --- Fr --------------------------------------------------------------------------------------

if ASM_MUL:

    @njit(cache=True)
    def fr_mul(a, b):
        return _fr_mul_asm(a, b)

    @njit(cache=True)
    def fr_sqr(a):
        return _fr_mul_asm(a, a)

else:

    @njit(cache=True)
    def fr_mul(a, b):
        return mont_mul(a, b, FR_P, FR_PINV)

    @njit(cache=True)
    def fr_sqr(a):
        return mont_mul(a, a, FR_P, FR_PINV)


@njit(cache=True)
def fr_add(a, b):
    return mod_add(a, b, FR_P)


@njit(cache=True)
def fr_sub(a, b):
    return mod_sub(a, b, FR_P)


@njit(cache=True)
def fr_neg(a):
    return mod_neg(a, FR_P)


@njit(cache=True)
def fr_inv(a):
    """Inverse by Fermat (a^(r-2)); maps 0 to 0."""
    return mont_pow(a, FR_PM2, FR_P, FR_PINV, FR_ONE)


@njit(cache=True)
def fr_pow_small(a, e):
    """a^e for a non-negative int64 exponent e (square-and-multiply, right to left)."""
    r = FR_ONE
    base = a
    while e > 0:
        if e & 1:
            r = fr_mul(r, base)
        base = fr_sqr(base)
        e >>= 1
    return r


# --- Fq --------------------------------------------------------------------------------------

if ASM_MUL:

    @njit(cache=True)
    def fq_mul(a, b):
        return _fq_mul_asm(a, b)

    @njit(cache=True)
    def fq_sqr(a):
        return _fq_mul_asm(a, a)

else:

    @njit(cache=True)
    def fq_mul(a, b):
        return mont_mul(a, b, FQ_P, FQ_PINV)

    @njit(cache=True)
    def fq_sqr(a):
        return mont_mul(a, a, FQ_P, FQ_PINV)


@njit(cache=True)
def fq_add(a, b):
    return mod_add(a, b, FQ_P)


@njit(cache=True)
def fq_sub(a, b):
    return mod_sub(a, b, FQ_P)


@njit(cache=True)
def fq_neg(a):
    return mod_neg(a, FQ_P)


@njit(cache=True)
def fq_inv(a):
    """Inverse by Fermat (a^(q-2)); maps 0 to 0."""
    return mont_pow(a, FQ_PM2, FQ_P, FQ_PINV, FQ_ONE)


# --- Fq2 = Fq[u]/(u^2 + 1) -------------------------------------------------------------------

@njit(cache=True)
def fq2_add(a, b):
    return (fq_add(a[0], b[0]), fq_add(a[1], b[1]))


@njit(cache=True)
def fq2_sub(a, b):
    return (fq_sub(a[0], b[0]), fq_sub(a[1], b[1]))


@njit(cache=True)
def fq2_neg(a):
    return (fq_neg(a[0]), fq_neg(a[1]))


@njit(cache=True)
def fq2_mul(a, b):
    """Karatsuba: 3 Fq products."""
    v0 = fq_mul(a[0], b[0])
    v1 = fq_mul(a[1], b[1])
    s = fq_mul(fq_add(a[0], a[1]), fq_add(b[0], b[1]))
    return (fq_sub(v0, v1), fq_sub(fq_sub(s, v0), v1))


@njit(cache=True)
def fq2_sqr(a):
    """(a0 + a1)(a0 - a1) + 2*a0*a1*u: 2 Fq products."""
    c0 = fq_mul(fq_add(a[0], a[1]), fq_sub(a[0], a[1]))
    t = fq_mul(a[0], a[1])
    return (c0, fq_add(t, t))


@njit(cache=True)
def fq2_inv(a):
    """1 / (a0 + a1 u) = (a0 - a1 u) / (a0^2 + a1^2); maps 0 to 0."""
    t = fq_inv(fq_add(fq_sqr(a[0]), fq_sqr(a[1])))
    return (fq_mul(a[0], t), fq_neg(fq_mul(a[1], t)))


# --- generic Fq / Fq2 layer for the curve code -----------------------------------------------
# The Python bodies below serve NUMBA_DISABLE_JIT; with the JIT each name is overloaded so the
# choice between Fq and Fq2 happens at compile time on the argument types.

def _is2(a) -> bool:
    return isinstance(a[0], tuple)


def fe_add(a, b):
    return fq2_add(a, b) if _is2(a) else fq_add(a, b)


def fe_sub(a, b):
    return fq2_sub(a, b) if _is2(a) else fq_sub(a, b)


def fe_neg(a):
    return fq2_neg(a) if _is2(a) else fq_neg(a)


def fe_dbl(a):
    return fq2_add(a, a) if _is2(a) else fq_add(a, a)


def fe_mul(a, b):
    return fq2_mul(a, b) if _is2(a) else fq_mul(a, b)


def fe_sqr(a):
    return fq2_sqr(a) if _is2(a) else fq_sqr(a)


def fe_inv(a):
    return fq2_inv(a) if _is2(a) else fq_inv(a)


def fe_is_zero(a):
    return (is_zero4(a[0]) and is_zero4(a[1])) if _is2(a) else is_zero4(a)


def fe_eq(a, b):
    return (eq4(a[0], b[0]) and eq4(a[1], b[1])) if _is2(a) else eq4(a, b)


def fe_zero(a):
    """The zero of a's field."""
    return (ZERO, ZERO) if _is2(a) else ZERO


def fe_one(a):
    """The one of a's field (Montgomery form)."""
    return (FQ_ONE, ZERO) if _is2(a) else FQ_ONE


def fe_load(arr, i, j):
    """Element ``arr[i, j]`` of an array of Fq (ndim 3, ``(.., .., 4)``) or Fq2 (ndim 4)."""
    if arr.ndim == 4:
        return (
            (arr[i, j, 0, 0], arr[i, j, 0, 1], arr[i, j, 0, 2], arr[i, j, 0, 3]),
            (arr[i, j, 1, 0], arr[i, j, 1, 1], arr[i, j, 1, 2], arr[i, j, 1, 3]),
        )
    return (arr[i, j, 0], arr[i, j, 1], arr[i, j, 2], arr[i, j, 3])


def fe_store(arr, i, j, v):
    """``arr[i, j] = v`` for the layouts of :func:`fe_load`."""
    if arr.ndim == 4:
        for c in range(2):
            for k in range(4):
                arr[i, j, c, k] = v[c][k]
    else:
        for k in range(4):
            arr[i, j, k] = v[k]


if not DISABLE_JIT:
    from numba.extending import overload

    def _t_is2(a) -> bool:
        return isinstance(a, types.BaseTuple) and isinstance(a.types[0], types.BaseTuple)  # type: ignore[attr-defined]

    def _overload2(py_fn, fq_impl, fq2_impl) -> None:
        """Register the Fq and Fq2 implementations of a unary or binary ``fe_*`` function."""
        if fq_impl.__code__.co_argcount == 1:

            @overload(py_fn)
            def _ov1(a):
                return fq2_impl if _t_is2(a) else fq_impl

        else:

            @overload(py_fn)
            def _ov2(a, b):
                return fq2_impl if _t_is2(a) else fq_impl

    _overload2(fe_add, lambda a, b: fq_add(a, b), lambda a, b: fq2_add(a, b))
    _overload2(fe_sub, lambda a, b: fq_sub(a, b), lambda a, b: fq2_sub(a, b))
    _overload2(fe_neg, lambda a: fq_neg(a), lambda a: fq2_neg(a))
    _overload2(fe_dbl, lambda a: fq_add(a, a), lambda a: fq2_add(a, a))
    _overload2(fe_mul, lambda a, b: fq_mul(a, b), lambda a, b: fq2_mul(a, b))
    _overload2(fe_sqr, lambda a: fq_sqr(a), lambda a: fq2_sqr(a))
    _overload2(fe_inv, lambda a: fq_inv(a), lambda a: fq2_inv(a))
    _overload2(fe_is_zero, lambda a: is_zero4(a), lambda a: is_zero4(a[0]) and is_zero4(a[1]))
    _overload2(fe_eq, lambda a, b: eq4(a, b), lambda a, b: eq4(a[0], b[0]) and eq4(a[1], b[1]))
    _overload2(fe_zero, lambda a: ZERO, lambda a: (ZERO, ZERO))
    _overload2(fe_one, lambda a: FQ_ONE, lambda a: (FQ_ONE, ZERO))

    @overload(fe_load)
    def _ov_load(arr, i, j):
        if arr.ndim == 4:

            def load2(arr, i, j):
                return (
                    (arr[i, j, 0, 0], arr[i, j, 0, 1], arr[i, j, 0, 2], arr[i, j, 0, 3]),
                    (arr[i, j, 1, 0], arr[i, j, 1, 1], arr[i, j, 1, 2], arr[i, j, 1, 3]),
                )

            return load2

        def load1(arr, i, j):
            return (arr[i, j, 0], arr[i, j, 1], arr[i, j, 2], arr[i, j, 3])

        return load1

    @overload(fe_store)
    def _ov_store(arr, i, j, v):
        if arr.ndim == 4:

            def store2(arr, i, j, v):
                a, b = v
                arr[i, j, 0, 0] = a[0]
                arr[i, j, 0, 1] = a[1]
                arr[i, j, 0, 2] = a[2]
                arr[i, j, 0, 3] = a[3]
                arr[i, j, 1, 0] = b[0]
                arr[i, j, 1, 1] = b[1]
                arr[i, j, 1, 2] = b[2]
                arr[i, j, 1, 3] = b[3]

            return store2

        def store1(arr, i, j, v):
            arr[i, j, 0] = v[0]
            arr[i, j, 1] = v[1]
            arr[i, j, 2] = v[2]
            arr[i, j, 3] = v[3]

        return store1


# --- vector kernels (arrays of shape (n, 4); p, pinv passed so one kernel serves Fr and Fq) --

@njit(cache=True, inline="always")
def _ld(a, i):
    return (a[i, 0], a[i, 1], a[i, 2], a[i, 3])


@njit(cache=True, inline="always")
def _st(a, i, v):
    a[i, 0] = v[0]
    a[i, 1] = v[1]
    a[i, 2] = v[2]
    a[i, 3] = v[3]


@njit(cache=True, parallel=True)
def vec_to_mont(a, out, p, pinv, r2):
    """out[i] = a[i] * 2^256 mod p for a[i] < p in normal form."""
    for i in prange(a.shape[0]):
        _st(out, i, mont_mul(_ld(a, i), r2, p, pinv))


@njit(cache=True, parallel=True)
def vec_from_mont(a, out, p, pinv):
    """out[i] = a[i] / 2^256 mod p (back to normal form)."""
    one = (np.uint64(1), np.uint64(0), np.uint64(0), np.uint64(0))
    for i in prange(a.shape[0]):
        _st(out, i, mont_mul(_ld(a, i), one, p, pinv))


@njit(cache=True, parallel=True)
def vec_mul(a, b, out, p, pinv):
    """Pointwise Montgomery product."""
    for i in prange(a.shape[0]):
        _st(out, i, mont_mul(_ld(a, i), _ld(b, i), p, pinv))


@njit(cache=True, parallel=True)
def vec_add(a, b, out, p):
    for i in prange(a.shape[0]):
        _st(out, i, mod_add(_ld(a, i), _ld(b, i), p))


@njit(cache=True, parallel=True)
def vec_sub(a, b, out, p):
    for i in prange(a.shape[0]):
        _st(out, i, mod_sub(_ld(a, i), _ld(b, i), p))


@njit(cache=True)
def _batch_inv_range(a, out, lo, hi, p, pinv, one, pm2):
    """Montgomery's trick on a[lo:hi]: one inversion, 3 products per element; zeros map to zero.

    ``out[lo:hi]`` first holds the prefix products, then the inverses.
    """
    acc = one
    for i in range(lo, hi):
        v = _ld(a, i)
        _st(out, i, acc)
        if not is_zero4(v):
            acc = mont_mul(acc, v, p, pinv)
    inv = mont_pow(acc, pm2, p, pinv, one)
    for i in range(hi - 1, lo - 1, -1):
        v = _ld(a, i)
        if is_zero4(v):
            _st(out, i, (np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)))
        else:
            _st(out, i, mont_mul(inv, _ld(out, i), p, pinv))
            inv = mont_mul(inv, v, p, pinv)


@njit(cache=True, parallel=True)
def vec_batch_inv(a, out, p, pinv, one, pm2, n_chunks):
    """out[i] = 1/a[i] (0 for a[i] = 0), Montgomery form, in ``n_chunks`` independent chunks.

    ``a`` and ``out`` must not alias.
    """
    n = a.shape[0]
    for c in prange(n_chunks):
        lo = c * n // n_chunks
        hi = (c + 1) * n // n_chunks
        if hi > lo:
            _batch_inv_range(a, out, lo, hi, p, pinv, one, pm2)


@njit(cache=True)
def vec_all_below(a, p):
    """True when every row of ``a`` (shape (n, 4), normal form) is < p."""
    for i in range(a.shape[0]):
        for k in range(3, -1, -1):
            if a[i, k] < p[k]:
                break
            if a[i, k] > p[k]:
                return False
            if k == 0:
                return False  # equal to p
    return True


@njit(cache=True)
def sparse_matvec(rows, cols, coeffs, vec, out):
    """out[rows[k]] += coeffs[k] * vec[cols[k]] over all entries k (Fr, Montgomery).

    Coefficients equal to one and zero vector entries skip the product (witnesses are mostly
    bits, matrices mostly ones). Serial: rows may repeat in any order.
    """
    for k in range(rows.shape[0]):
        v = _ld(vec, cols[k])
        if is_zero4(v):
            continue
        c = _ld(coeffs, k)
        if not eq4(c, FR_ONE):
            v = mont_mul(c, v, FR_P, FR_PINV)
        r = rows[k]
        _st(out, r, mod_add(_ld(out, r), v, FR_P))


def refresh_stale_caches(mods: tuple[Any, ...], deps: tuple[Any, ...] = ()) -> None:
    """Drop the on-disk numba cache of each module of ``mods`` whose kernels are stale.

    numba invalidates a cached function only when *its own* source file changes, but kernels
    compile the functions of other modules into themselves (``_msm`` and the verifier's pairing
    inline this module's arithmetic): after an edit of this file alone, cached kernels elsewhere
    would silently keep the old arithmetic. So each module of ``mods`` gets its own marker next
    to its own cache, ``zkmargin-<module>.stamp``: a hash of the multiplication mode, its source
    and the sources of ``deps`` (the modules its kernels inline). A missing or different marker
    flushes *that module's* dispatchers only, never those of ``deps``: a module shared by several
    consumers (this one) is checked by its own call (at the end of this module), so a consumer
    seen for the first time cannot drop what another consumer compiled. Call it at the
    consumer's import, with the same ``deps`` for a module wherever it is named.
    """
    if DISABLE_JIT:
        return
    base = hashlib.sha256(b"asm-mul" if ASM_MUL else b"portable-mul")  # ZKMARGIN_NO_ASM changes code too
    for d in deps:
        base.update(Path(d.__file__ or "").read_bytes())
    for m in mods:
        digest = base.copy()
        digest.update(Path(m.__file__ or "").read_bytes())
        stamp = digest.hexdigest()
        dispatchers: list[Any] = [obj for obj in vars(m).values()
                       if isinstance(obj, numba.core.registry.CPUDispatcher) and obj.py_func.__module__ == m.__name__]
        try:
            marker = Path(dispatchers[0]._cache.cache_path) / f"zkmargin-{m.__name__}.stamp"
            if marker.is_file() and marker.read_text() == stamp:
                continue
            for disp in dispatchers:
                disp._cache.flush()
            tmp = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
            tmp.write_text(stamp)
            os.replace(tmp, marker)  # atomic: a concurrent reader sees the old marker or the new one
        except (OSError, AttributeError, IndexError):  # read-only or unusual cache: numba copes
            pass


# this module's own marker (its kernels depend on ZKMARGIN_NO_ASM, which numba does not see)
refresh_stale_caches((sys.modules[__name__],))
