"""Batch verification of many Groth16 proofs under one verifying key.

For proofs ``(A_i, B_i, C_i)`` with public inputs ``x_i`` (i in a batch S), each proof is valid
when ``T_i = e(A_i, B_i) * e(alpha, -beta) * e(vk_x_i, -gamma) * e(C_i, -delta)`` equals 1 in GT.
The batch draws secret random scalars ``rho_i`` and checks the single product::

    prod_i e(rho_i*A_i, B_i) * e((sum_i rho_i)*alpha, -beta)
        * e(sum_i rho_i*vk_x_i, -gamma) * e(sum_i rho_i*C_i, -delta) == 1

which equals ``prod_i T_i^rho_i`` by bilinearity. It costs ``k + 3`` Miller loops and one final
exponentiation for k proofs, against ``4k`` Miller loops and k final exponentiations one by one.
``sum_i rho_i*vk_x_i`` is computed as one combination of the key's ``gamma_abc_g1`` points with
scalars ``sum_i rho_i*x_ij mod r``, so the public inputs cost ``n_public + 1`` scalar
multiplications per check, not per proof.

Soundness (the small-exponent test of Bellare, Garay and Rabin, Eurocrypt 1998). GT has prime
order r, so write ``T_i = g^(t_i)`` with ``t_i`` in ``Z_r``; proof i is valid iff ``t_i = 0`` and
the batch passes iff ``sum_i rho_i*t_i = 0 (mod r)``. Every ``rho_i`` is drawn independently and
uniformly from ``[1, 2^128)``, after the proofs are fixed and unknown to whoever made them. If some
``t_j != 0``, then for every value of the other scalars exactly one residue of ``rho_j`` mod r makes
the sum vanish, and the ``2^128 - 1`` candidates for ``rho_j`` are distinct mod r (``2^128 < r``).
So a batch containing at least one invalid proof passes with probability at most
``1/(2^128 - 1)``, about ``2^-128``, *whatever k is and however many proofs are invalid*: the
bound is per batch check, not ``k/2^128`` (that weaker bound belongs to the variant that uses the
powers ``rho, rho^2, ..., rho^k`` of one random scalar, via Schwartz-Zippel). It needs:

- the scalars secret and unpredictable until the proofs are fixed (a prover who knows them can
  make two invalid proofs cancel): they come from :mod:`secrets` unless a test passes ``rng``;
- every point validated first, B_i in G2 included, so that bilinearity holds and every ``T_i``
  lies in the order-r group; :func:`verify_batch` validates every item before any pairing.

Honest proofs always pass (``t_i = 0``), so a failing batch always contains an invalid proof.

Finding the invalid proofs: a failing batch is split in two halves, each checked with fresh
scalars, recursing into the halves that fail; a single proof is checked exactly (``rho = 1``, the
plain Groth16 equation). A proof is reported bad only by that exact check, so ``bad`` never names
a valid proof. An invalid proof can escape the report only if a half containing it passes by
chance: probability at most ``2^-128`` per check, at most ``2k - 1`` checks. With d invalid proofs
the search costs about ``2*d*log2(k)`` subset checks on top of the first one.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkmargin.curve import G1Point, G2Point, g1_lincomb, g1_mul, pairing_product_is_one
from zkmargin.errors import MalformedInputError
from zkmargin.field import R
from zkmargin.groth16 import Proof, VerifyingKey
from zkmargin.verifier.groth16_verify import (
    PreparedVerifyingKey,
    _py_ecc_forced,
    fast_backend,
    prepare_verifying_key,
    validate_proof,
    validate_public_inputs,
)

__all__ = ["BatchResult", "RHO_BITS", "verify_batch", "verify_batch_files"]

logger = logging.getLogger(__name__)

#: Bit length of the random scalars: a batch with an invalid proof passes with probability at most
#: 1 / (2^RHO_BITS - 1).
RHO_BITS = 128

_Item = tuple[tuple[int, ...], G1Point, G2Point, G1Point]  # validated (xs, a, b, c)


@dataclass(frozen=True)
class BatchResult:
    """The outcome of :func:`verify_batch`.

    Attributes:
        ok: True when every proof is valid (up to the 2^-128 error of the random check).
        bad: the indices (into the items given) of the proofs found invalid, ascending. Each was
            confirmed by an exact single-proof check; empty when ``ok``.
        n: the number of items checked.
        checks: the number of pairing-product checks done (1 when the batch passes).
        labels: one name per item when the caller has them (file names for
            :func:`verify_batch_files`), else empty.
    """

    ok: bool
    bad: list[int]
    n: int
    checks: int = 1
    labels: tuple[str, ...] = field(default=())

    @property
    def bad_labels(self) -> list[str]:
        """The labels of the bad items (empty when there are no labels)."""
        return [self.labels[i] for i in self.bad] if self.labels else []


def _prefixed(err: MalformedInputError, prefix: str) -> MalformedInputError:
    """An error of the same class as ``err`` whose message starts with ``prefix``."""
    try:
        return type(err)(f"{prefix}: {err}")
    except TypeError:  # a subclass with another constructor signature: fall back to the base class
        return MalformedInputError(f"{prefix}: {err}")


def _validate_items(pvk: PreparedVerifyingKey, items: Any, names: Sequence[str] | None = None) -> list[_Item]:
    """Validate every ``(public_inputs, proof)`` item; errors are prefixed with the item's name.

    ``names[i]`` names item i in messages (default ``batch item i``).
    """
    if isinstance(items, (str, bytes, bytearray)) or not isinstance(items, Sequence):
        raise MalformedInputError(
            f"batch items must be a sequence of (public_inputs, proof) pairs, got {type(items).__name__}"
        )
    out: list[_Item] = []
    for i, item in enumerate(items):
        name = names[i] if names is not None else f"batch item {i}"
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise MalformedInputError(f"{name}: expected a (public_inputs, proof) pair, got {type(item).__name__}")
        public, proof = item
        try:
            xs = validate_public_inputs(public, pvk.n_public)
            a, b, c = validate_proof(proof)
        except MalformedInputError as e:
            raise _prefixed(e, name) from e
        out.append((xs, a, b, c))
    return out


def _draw_rho(rng: random.Random | None) -> int:
    if rng is None:
        return secrets.randbelow((1 << RHO_BITS) - 1) + 1
    return rng.randrange(1, 1 << RHO_BITS)


def _check(pvk: PreparedVerifyingKey, items: list[_Item], idx: Sequence[int], rhos: Sequence[int]) -> bool:
    """One pairing-product check of the items ``idx`` combined with the scalars ``rhos``."""
    fast = fast_backend()
    if fast is not None:
        return bool(fast.groth16_batch_check_fast(fast.prepare_fast(pvk), [items[i] for i in idx], rhos))
    total = sum(rhos) % R
    # Aggregated input scalars: sum_i rho_i * (1, x_i1, ..., x_in) over the batch.
    ic_scalars = [total] + [0] * pvk.n_public
    for i, rho in zip(idx, rhos, strict=True):
        for j, x in enumerate(items[i][0]):
            ic_scalars[j + 1] += rho * x
    vk_x = g1_lincomb(pvk.gamma_abc_g1, [s % R for s in ic_scalars])
    c_sum = g1_lincomb([items[i][3] for i in idx], rhos)
    pairs: list[tuple[G1Point, G2Point]] = [
        (items[i][1] if rho == 1 else g1_mul(items[i][1], rho), items[i][2]) for i, rho in zip(idx, rhos, strict=True)
    ]
    pairs += [
        (pvk.alpha_g1 if total == 1 else g1_mul(pvk.alpha_g1, total), pvk.neg_beta_g2),
        (vk_x, pvk.neg_gamma_g2),
        (c_sum, pvk.neg_delta_g2),
    ]
    if not _py_ecc_forced():  # the pure-Python twin of the numba pairing (about 20x py_ecc's speed)
        from zkmargin.verifier import _pure

        return _pure.pairing_product_is_one(pairs)
    return pairing_product_is_one(pairs)


class _Search:
    """Bisection over a failing batch; counts the checks it makes."""

    def __init__(self, pvk: PreparedVerifyingKey, items: list[_Item], rng: random.Random | None) -> None:
        self.pvk = pvk
        self.items = items
        self.rng = rng
        self.checks = 0

    def check(self, idx: Sequence[int], exact: bool = False) -> bool:
        self.checks += 1
        rhos = [1] * len(idx) if exact else [_draw_rho(self.rng) for _ in idx]
        return _check(self.pvk, self.items, idx, rhos)

    def bad_in(self, idx: list[int], known_failing: bool) -> list[int]:
        """The bad items in ``idx``. ``known_failing``: a check of exactly ``idx`` just failed."""
        if len(idx) == 1:
            # Leaves are decided by the exact Groth16 equation, never by a random combination.
            return [] if self.check(idx, exact=True) else list(idx)
        if not known_failing and self.check(idx):
            return []
        half = len(idx) // 2
        left, right = idx[:half], idx[half:]
        left_bad = self.bad_in(left, known_failing=False)
        # If idx failed and left is clean, right must fail its check: skip it and split right.
        right_bad = self.bad_in(right, known_failing=not left_bad)
        return left_bad + right_bad


def verify_batch(
    vk: VerifyingKey | PreparedVerifyingKey,
    items: Sequence[tuple[Sequence[int], Proof]],
    rng: random.Random | None = None,
) -> BatchResult:
    """Verify k Groth16 proofs under one key with one random linear combination (see the module).

    Args:
        vk: the verifying key, or a :class:`PreparedVerifyingKey` (validated once).
        items: ``(public_inputs, proof)`` pairs, as for :func:`~zkmargin.verifier.verify`.
        rng: a seeded ``random.Random`` for reproducible tests only. By default the scalars come
            from the OS CSPRNG (:mod:`secrets`), which soundness requires: never pass an rng
            whose state a prover could know.

    Returns:
        A :class:`BatchResult`: ``ok`` True when every proof is valid (a batch with an invalid
        proof passes with probability at most 2^-128); otherwise ``bad`` lists the invalid
        proofs' indices, each confirmed by an exact single-proof check. An empty batch is ``ok``.

    Raises:
        MalformedInputError: (or a subclass: ``PublicInputCountError``,
            ``PublicInputOutOfRangeError``, ``PointNotOnCurveError``, ``IdentityPointError``,
            ``PointNotInSubgroupError``) for a malformed key, as :func:`prepare_verifying_key`,
            or a malformed item, with the message starting ``batch item <index>:``. Every item is
            validated before any pairing, so a malformed item never yields a partial result.
    """
    pvk = vk if isinstance(vk, PreparedVerifyingKey) else prepare_verifying_key(vk)
    return _verify_validated(pvk, _validate_items(pvk, items), rng)


def _verify_validated(pvk: PreparedVerifyingKey, checked: list[_Item], rng: random.Random | None) -> BatchResult:
    n = len(checked)
    if n == 0:
        return BatchResult(ok=True, bad=[], n=0, checks=0)
    search = _Search(pvk, checked, rng)
    if n == 1:
        ok = search.check([0], exact=True)
        return BatchResult(ok=ok, bad=[] if ok else [0], n=1, checks=search.checks)
    everything = list(range(n))
    if search.check(everything):
        return BatchResult(ok=True, bad=[], n=n, checks=search.checks)
    bad = search.bad_in(everything, known_failing=True)
    if not bad:
        # The whole batch failed, so some t_i != 0, yet every half that contained it passed by
        # chance (probability <= 2^-128 per check). Fall back to exact checks of every proof.
        logger.warning("batch failed but bisection found no bad proof; checking all %d proofs one by one", n)
        bad = [i for i in everything if not search.check([i], exact=True)]
    logger.debug("batch of %d: bad %s after %d checks", n, bad, search.checks)
    return BatchResult(ok=False, bad=sorted(bad), n=n, checks=search.checks)


# --- files -------------------------------------------------------------------------------------

def _find_pairs(directory: Path) -> list[tuple[str, Path, Path]]:
    """``(label, public_path, proof_path)`` for every proof in ``directory``, sorted by label."""
    pairs: dict[str, tuple[Path, Path]] = {}
    for p in sorted(directory.iterdir()):
        if p.is_file() and p.name.endswith(".proof.json"):
            label = p.name[: -len(".proof.json")]
            proof, public = p, p.with_name(label + ".public.json")
        elif p.is_dir() and (p / "proof.json").is_file():
            label, proof, public = p.name, p / "proof.json", p / "public.json"
        else:
            continue
        if not public.is_file():
            raise MalformedInputError(f"{proof}: no matching public inputs file {public.name}")
        if label in pairs:
            raise MalformedInputError(f"{directory}: proof {label!r} is given both as a file and as a folder")
        pairs[label] = (public, proof)
    return [(label, pub, prf) for label, (pub, prf) in sorted(pairs.items())]


def verify_batch_files(
    vk_path: str | os.PathLike[str], directory: str | os.PathLike[str], rng: random.Random | None = None
) -> BatchResult:
    """Batch-verify every proof in a folder of snarkjs JSON files (``zkmargin verify --batch``).

    The folder holds, for each proof, either ``NAME.proof.json`` with ``NAME.public.json`` beside
    it, or a sub-folder ``NAME/`` with ``proof.json`` and ``public.json`` (the files
    ``zkmargin prove`` writes). Other files are ignored. Items are ordered by NAME.

    Args:
        vk_path: the ``verification_key.json``.
        directory: the folder of proofs.
        rng: as for :func:`verify_batch` (tests only).

    Returns:
        A :class:`BatchResult` whose ``labels`` are the NAMEs (``bad_labels`` names the bad ones).

    Raises:
        MalformedJSONError, PointNotOnCurveError: a file is not valid snarkjs JSON (the message
            names the file and the field).
        MalformedInputError: (or a subclass) the folder has no proofs, a proof lacks its public
            inputs file, or a key or proof is malformed as for :func:`verify_batch`; item errors
            name the proof file.
        OSError: a file or the folder cannot be read.
    """
    from zkmargin.serialize.json_formats import load_proof, load_public_inputs, load_verifying_key

    folder = Path(directory)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    found = _find_pairs(folder)
    if not found:
        raise MalformedInputError(
            f"{folder}: no proofs found (expected NAME.proof.json + NAME.public.json, or NAME/proof.json)"
        )
    pvk = prepare_verifying_key(load_verifying_key(vk_path))
    items = [(load_public_inputs(public_path), load_proof(proof_path)) for _, public_path, proof_path in found]
    checked = _validate_items(pvk, items, names=[str(proof_path) for _, _, proof_path in found])
    result = _verify_validated(pvk, checked, rng)
    return BatchResult(ok=result.ok, bad=result.bad, n=result.n, checks=result.checks,
                       labels=tuple(label for label, _, _ in found))
