"""Groth16 verification over BN254, validating every untrusted value before any pairing.

The check is the Groth16 equation ``e(A, B) == e(alpha, beta) * e(vk_x, gamma) * e(C, delta)``
with ``vk_x = gamma_abc[0] + sum_i x_i * gamma_abc[i + 1]``. It runs as one product of four
Miller loops and one final exponentiation::

    e(A, B) * e(alpha, -beta) * e(vk_x, -gamma) * e(C, -delta) == 1

so the prepared key stores ``-beta``, ``-gamma`` and ``-delta`` once and the proof's points enter
the product unchanged.

Validation (STYLE rule 2), in this order, each failure raising its named
:class:`~zkmargin.errors.MalformedInputError` subclass:

1. the verifying key (once, in :func:`prepare_verifying_key`): every point well typed, with
   coordinates in ``[0, q)`` and on its curve, the G2 points in the prime-order subgroup, no point
   at infinity, at least one ``gamma_abc_g1`` point;
2. the public inputs: their count equals the key's, each is an ``int`` (not ``bool``) in
   ``[0, r)``. Accepting ``x + r`` for ``x`` would make every proof malleable in its public inputs;
3. the proof: ``A`` and ``C`` on G1, ``B`` on the twist, none at infinity, then ``B`` in G2.

G1 needs no subgroup check: BN254's G1 has cofactor 1, so every point on ``y^2 = x^3 + 3`` is in
the group of order r. The twist E'(Fq2) has order ``r * c`` with a 254-bit cofactor ``c``, so a
point on the twist is almost never in G2; py_ecc does not check it, this module does.

Affine ``(0, 0)`` (the EVM's and snarkjs calldata's encoding of infinity) is not a curve point;
it is reported as :class:`~zkmargin.errors.IdentityPointError` so that the message points at the
likely cause.

Costs with py_ecc on one core (order of magnitude): the pairing product ~0.5-0.7 s; a G2 subgroup
check ~6 ms (one per proof, three per key preparation); ``vk_x`` one G1 scalar multiplication per
non-zero public input, a few ms each; curve-equation and range checks are negligible.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from collections.abc import Sequence
from typing import Any

from zkmargin.curve import (
    G1Point,
    G2Point,
    g1_is_on_curve,
    g1_lincomb,
    g2_in_subgroup,
    g2_is_on_curve,
    g2_neg,
    pairing_product_is_one,
)
from zkmargin.errors import (
    IdentityPointError,
    MalformedInputError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
    PublicInputCountError,
    PublicInputOutOfRangeError,
    show_value,
)
from zkmargin.field import Q, R
from zkmargin.groth16 import Proof, VerifyingKey

__all__ = [
    "PreparedVerifyingKey",
    "prepare_verifying_key",
    "verify",
    "validate_public_inputs",
    "validate_proof",
]

logger = logging.getLogger(__name__)

_G1Affine = tuple[int, int]
_G2Affine = tuple[tuple[int, int], tuple[int, int]]


# --- small validation helpers ----------------------------------------------------------------

def _short(value: Any, limit: int = 100) -> str:
    """repr() of an untrusted value, truncated so that a huge input cannot flood a message."""
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not replace the error being reported
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _coordinate(value: Any, name: str) -> int:
    """One base-field coordinate: an int (not bool) in [0, q); raises PointNotOnCurveError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PointNotOnCurveError(f"{name} must be an int, got {type(value).__name__} {_short(value)}")
    v = int(value)  # drop int subclasses, whose arithmetic could be overridden
    if not 0 <= v < Q:
        raise PointNotOnCurveError(f"{name} = {show_value(v)} is outside [0, q) (q = {Q})")
    return v


def _pair(value: Any, name: str, what: str) -> tuple[Any, Any]:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    raise PointNotOnCurveError(f"{name} must be {what}, got {type(value).__name__} {_short(value)}")


def _check_g1(p: Any, name: str) -> _G1Affine:
    """Validate an untrusted G1 point that must not be infinity; returns it as an int tuple.

    Raises:
        IdentityPointError: ``p`` is None (infinity) or the affine pair (0, 0).
        PointNotOnCurveError: wrong structure or types, a coordinate outside [0, q), or
            ``y^2 != x^3 + 3``.
    """
    if p is None:
        raise IdentityPointError(f"{name} is the point at infinity")
    x_raw, y_raw = _pair(p, name, "a G1 point (x, y) of ints")
    x = _coordinate(x_raw, f"{name}.x")
    y = _coordinate(y_raw, f"{name}.y")
    if x == 0 and y == 0:
        raise IdentityPointError(f"{name} is (0, 0), the affine encoding of the point at infinity")
    point = (x, y)
    if not g1_is_on_curve(point):
        raise PointNotOnCurveError(f"{name} = {point} is not on G1: y^2 != x^3 + 3 mod q")
    return point


def _check_g2_on_twist(p: Any, name: str) -> _G2Affine:
    """Validate an untrusted G2 point up to the curve equation (no subgroup check, see below).

    Raises:
        IdentityPointError: ``p`` is None (infinity) or all four coordinates are 0.
        PointNotOnCurveError: wrong structure or types, a coordinate outside [0, q), or not on the
            twist ``y^2 = x^3 + 3/(9+u)``.
    """
    if p is None:
        raise IdentityPointError(f"{name} is the point at infinity")
    what = "a G2 point ((x0, x1), (y0, y1)) of ints"
    x_raw, y_raw = _pair(p, name, what)
    x0_raw, x1_raw = _pair(x_raw, f"{name}.x", "a pair (x0, x1) of ints")
    y0_raw, y1_raw = _pair(y_raw, f"{name}.y", "a pair (y0, y1) of ints")
    x = (_coordinate(x0_raw, f"{name}.x0"), _coordinate(x1_raw, f"{name}.x1"))
    y = (_coordinate(y0_raw, f"{name}.y0"), _coordinate(y1_raw, f"{name}.y1"))
    if x == (0, 0) and y == (0, 0):
        raise IdentityPointError(f"{name} is all zeros, the affine encoding of the point at infinity")
    point = (x, y)
    if not g2_is_on_curve(point):
        raise PointNotOnCurveError(f"{name} = {point} is not on the twist y^2 = x^3 + 3/(9+u) over Fq2")
    return point


@functools.cache
def fast_backend() -> Any:
    """``zkmargin.verifier.fast`` when the numba pairing can run (``zkmargin[prover]`` installed,
    JIT on), else None. ``ZKMARGIN_VERIFY_BACKEND=python`` forces py_ecc, ``pure`` the pure-Python
    pairing of ``_pure`` (what runs without numba; the CLI picks it for a single proof, where loading
    numba costs more than the check). Imported on first use, so ``import zkmargin.verifier`` never
    loads numba; py_ecc stays the oracle both are tested against (tests/verifier/test_pairing_numba.py,
    tests/verifier/test_verify_backends.py)."""
    if os.environ.get("ZKMARGIN_VERIFY_BACKEND", "auto").lower() in ("python", "pure"):
        return None
    if importlib.util.find_spec("numba") is None:
        return None
    try:
        from zkmargin.verifier import fast
    except ImportError as e:  # pragma: no cover - a broken optional install
        logger.warning("numba pairing unavailable (%s); verifying with py_ecc", e)
        return None
    return fast if fast.fast_pairing_available() else None


def _py_ecc_forced() -> bool:
    """``ZKMARGIN_VERIFY_BACKEND=python``: py_ecc for the pairing and the subgroup checks (the oracle)."""
    return os.environ.get("ZKMARGIN_VERIFY_BACKEND", "auto").lower() == "python"


def _check_g2_subgroup(p: _G2Affine, name: str) -> None:
    """Raises PointNotInSubgroupError when the on-twist point ``p`` has ``r * p != infinity``."""
    fast = fast_backend()
    if fast is not None:
        ok = fast.g2_in_subgroup_fast(p)
    elif _py_ecc_forced():
        ok = g2_in_subgroup(p)
    else:
        from zkmargin.verifier import _pure

        ok = _pure.g2_in_subgroup(p)
    if not ok:
        raise PointNotInSubgroupError(
            f"{name} = {p} is on the twist but not in the order-r subgroup G2 (r * {name} != infinity)"
        )


def _check_g2(p: Any, name: str) -> _G2Affine:
    point = _check_g2_on_twist(p, name)
    _check_g2_subgroup(point, name)
    return point


# --- prepared key ----------------------------------------------------------------------------

class PreparedVerifyingKey:
    """A verifying key that has been validated once, with the negated G2 points precomputed.

    Build it with :func:`prepare_verifying_key` (or this constructor, which does the same
    validation): there is no way to obtain one from an unvalidated key. Attributes are read-only
    by convention.

    Attributes:
        vk: the original key.
        alpha_g1: ``alpha`` in G1.
        neg_beta_g2, neg_gamma_g2, neg_delta_g2: ``-beta``, ``-gamma``, ``-delta`` in G2.
        gamma_abc_g1: the ``n_public + 1`` input-commitment points, as int tuples.
    """

    __slots__ = ("vk", "alpha_g1", "neg_beta_g2", "neg_gamma_g2", "neg_delta_g2", "gamma_abc_g1")

    vk: VerifyingKey
    alpha_g1: G1Point
    neg_beta_g2: G2Point
    neg_gamma_g2: G2Point
    neg_delta_g2: G2Point
    gamma_abc_g1: tuple[G1Point, ...]

    def __init__(self, vk: VerifyingKey) -> None:
        """Validate ``vk`` and precompute; see :func:`prepare_verifying_key` for what raises."""
        if not isinstance(vk, VerifyingKey):
            raise MalformedInputError(
                f"verifying key must be a zkmargin.groth16.VerifyingKey, got {type(vk).__name__} {_short(vk)}"
            )
        alpha = _check_g1(vk.alpha_g1, "vk.alpha_g1")
        beta = _check_g2_on_twist(vk.beta_g2, "vk.beta_g2")
        gamma = _check_g2_on_twist(vk.gamma_g2, "vk.gamma_g2")
        delta = _check_g2_on_twist(vk.delta_g2, "vk.delta_g2")
        ic_raw = vk.gamma_abc_g1
        if not isinstance(ic_raw, (tuple, list)):
            raise MalformedInputError(
                f"vk.gamma_abc_g1 must be a tuple of G1 points, got {type(ic_raw).__name__} {_short(ic_raw)}"
            )
        if len(ic_raw) == 0:
            raise MalformedInputError(
                "vk.gamma_abc_g1 is empty: it needs gamma_abc_g1[0] plus one point per public input"
            )
        # An infinity here would leave public input i unbound (any value verifies), so reject it.
        ic = tuple(_check_g1(p, f"vk.gamma_abc_g1[{i}]") for i, p in enumerate(ic_raw))
        # Subgroup checks last: they are the expensive part (~25 ms each).
        _check_g2_subgroup(beta, "vk.beta_g2")
        _check_g2_subgroup(gamma, "vk.gamma_g2")
        _check_g2_subgroup(delta, "vk.delta_g2")
        if gamma == delta:
            # snarkjs keys before any phase-2 contribution have gamma = delta = G2 generator; with
            # gamma == delta anyone can move public-input terms into C and forge proofs.
            logger.warning("verifying key has gamma_g2 == delta_g2: its setup had no phase-2 contribution, "
                           "proofs under it are forgeable")
        self.vk = vk
        self.alpha_g1 = alpha
        self.neg_beta_g2 = g2_neg(beta)
        self.neg_gamma_g2 = g2_neg(gamma)
        self.neg_delta_g2 = g2_neg(delta)
        self.gamma_abc_g1 = ic

    @property
    def n_public(self) -> int:
        """Number of public inputs the key expects."""
        return len(self.gamma_abc_g1) - 1

    def __repr__(self) -> str:
        return f"PreparedVerifyingKey(n_public={self.n_public})"


def prepare_verifying_key(vk: VerifyingKey) -> PreparedVerifyingKey:
    """Validate a verifying key once and precompute what does not depend on the proof.

    Args:
        vk: an untrusted verifying key.

    Returns:
        A :class:`PreparedVerifyingKey` for repeated :func:`verify` calls.

    Raises:
        MalformedInputError: ``vk`` is not a VerifyingKey, or ``gamma_abc_g1`` is not a tuple/list
            or is empty.
        PointNotOnCurveError: a point has the wrong structure or types, a coordinate outside
            [0, q), or is not on its curve.
        IdentityPointError: a point is at infinity (including any ``gamma_abc_g1[i]``, which would
            leave public input i unbound).
        PointNotInSubgroupError: ``beta_g2``, ``gamma_g2`` or ``delta_g2`` is on the twist but not
            in G2.
    """
    return PreparedVerifyingKey(vk)


# --- per-proof validation --------------------------------------------------------------------

def validate_public_inputs(public_inputs: Sequence[int], n_public: int) -> tuple[int, ...]:
    """Check untrusted public inputs against a key's count and the scalar field.

    Args:
        public_inputs: a list or tuple of ints (a ``str``, ``bytes`` or non-sequence is rejected).
        n_public: the number of public inputs the verifying key expects.

    Returns:
        The inputs as a tuple of plain ints, each in [0, r).

    Raises:
        MalformedInputError: ``public_inputs`` is not a sequence.
        PublicInputCountError: ``len(public_inputs) != n_public``.
        PublicInputOutOfRangeError: an input is not an int (bools are rejected), is negative or is
            ``>= r``; the message names its index and value.
    """
    if isinstance(public_inputs, (str, bytes, bytearray)) or not isinstance(public_inputs, Sequence):
        raise MalformedInputError(
            f"public inputs must be a list or tuple of ints, got {type(public_inputs).__name__} "
            f"{_short(public_inputs)}"
        )
    if len(public_inputs) != n_public:
        raise PublicInputCountError(
            f"got {len(public_inputs)} public inputs, the verifying key expects {n_public}"
        )
    values = []
    for i, v in enumerate(public_inputs):
        if isinstance(v, bool) or not isinstance(v, int):
            raise PublicInputOutOfRangeError(
                f"public input {i} must be an int, got {type(v).__name__} {_short(v)}"
            )
        x = int(v)
        if x < 0:
            raise PublicInputOutOfRangeError(
                f"public input {i} = {show_value(x)} is negative; inputs must lie in [0, r)"
            )
        if x >= R:
            raise PublicInputOutOfRangeError(
                f"public input {i} = {show_value(x)} is not below r = {R}; inputs must be reduced field elements"
            )
        values.append(x)
    return tuple(values)


def validate_proof(proof: Proof) -> tuple[_G1Affine, _G2Affine, _G1Affine]:
    """Check an untrusted proof's points; returns ``(a, b, c)`` as int tuples.

    Raises:
        MalformedInputError: ``proof`` is not a :class:`~zkmargin.groth16.Proof`.
        PointNotOnCurveError: a point (named ``proof.a``/``proof.b``/``proof.c``) has the wrong
            structure or types, a coordinate outside [0, q), or is off its curve.
        IdentityPointError: a point is at infinity.
        PointNotInSubgroupError: ``proof.b`` is on the twist but not in G2.
    """
    if not isinstance(proof, Proof):
        raise MalformedInputError(
            f"proof must be a zkmargin.groth16.Proof, got {type(proof).__name__} {_short(proof)}"
        )
    a = _check_g1(proof.a, "proof.a")
    b = _check_g2_on_twist(proof.b, "proof.b")
    c = _check_g1(proof.c, "proof.c")
    _check_g2_subgroup(b, "proof.b")
    return a, b, c


# --- verification ----------------------------------------------------------------------------

def verify(
    vk: VerifyingKey | PreparedVerifyingKey, public_inputs: Sequence[int], proof: Proof
) -> bool:
    """Verify a Groth16 proof.

    Args:
        vk: a verifying key (validated on every call) or a :class:`PreparedVerifyingKey`
            (validated once; prefer it when verifying many proofs).
        public_inputs: the public inputs, ints in [0, r), as many as the key expects.
        proof: the proof.

    Returns:
        True when the pairing equation holds; False when a well-formed proof fails it. The numba
        pairing runs when installed (about 1 ms), else the pure-Python twin (tens of ms); see
        ``fast_backend``.

    Raises:
        MalformedInputError: (or one of its subclasses, see :func:`prepare_verifying_key`,
            :func:`validate_public_inputs` and :func:`validate_proof`) for any malformed key,
            input or proof. All validation happens before the pairing.
    """
    pvk = vk if isinstance(vk, PreparedVerifyingKey) else prepare_verifying_key(vk)
    xs = validate_public_inputs(public_inputs, pvk.n_public)
    a, b, c = validate_proof(proof)
    fast = fast_backend()
    if fast is not None:
        return bool(fast.groth16_check_fast(fast.prepare_fast(pvk), xs, a, b, c))
    if not _py_ecc_forced():  # the pure-Python twin of the numba pairing (about 20x py_ecc's speed)
        from zkmargin.verifier import _pure

        vk_x = _pure.g1_lincomb(pvk.gamma_abc_g1, (1, *xs))
        return _pure.pairing_product_is_one(
            [(a, b), (pvk.alpha_g1, pvk.neg_beta_g2), (vk_x, pvk.neg_gamma_g2), (c, pvk.neg_delta_g2)]
        )
    vk_x = g1_lincomb(pvk.gamma_abc_g1, (1, *xs))
    return pairing_product_is_one(
        [
            (a, b),
            (pvk.alpha_g1, pvk.neg_beta_g2),
            (vk_x, pvk.neg_gamma_g2),
            (c, pvk.neg_delta_g2),
        ]
    )
