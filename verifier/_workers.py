"""The pairing work of the verification service, as plain functions a worker process can run.

The service (:mod:`zkmargin.verifier.service`) checks statements and the ledger in its own process
and sends the pairing checks here: to a local process pool, or to Dask workers on other machines.
Everything crossing the process boundary is plain JSON-like data (the verifying key as its snarkjs
JSON object, proofs as snarkjs JSON objects, public inputs as decimal strings), so the same
function runs under ``concurrent.futures`` and ``dask.distributed`` alike, and a worker needs
only ``zkmargin`` (with ``[prover]`` for the numba pairing, else py_ecc).

One call checks one batch with :func:`zkmargin.verifier.verify_batch` (one random linear
combination; failing batches are bisected, so each invalid proof is found and named). Each item is
validated alone first, so one malformed proof (say a ``pi_b`` outside G2) is reported for that
item instead of failing the batch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

from zkmargin.errors import MalformedInputError
from zkmargin.serialize.json_formats import load_proof, load_verifying_key
from zkmargin.verifier.batch import _validate_items, _verify_validated
from zkmargin.verifier.groth16_verify import PreparedVerifyingKey, prepare_verifying_key

__all__ = ["pairing_check", "warm_up", "vk_fingerprint"]

logger = logging.getLogger(__name__)

_KEYS: dict[str, PreparedVerifyingKey] = {}
_LOCK = threading.Lock()


def vk_fingerprint(vk_json: dict[str, Any]) -> str:
    """SHA-256 of the key's canonical JSON: the cache key of the prepared key in each worker."""
    return hashlib.sha256(json.dumps(vk_json, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _prepared(vk_json: dict[str, Any]) -> PreparedVerifyingKey:
    fp = vk_fingerprint(vk_json)
    with _LOCK:
        pvk = _KEYS.get(fp)
        if pvk is None:
            pvk = prepare_verifying_key(load_verifying_key(vk_json))
            _KEYS.clear()  # one service, one key: keep only the latest
            _KEYS[fp] = pvk
    return pvk


def warm_up(vk_json: dict[str, Any]) -> bool:
    """Prepare the key and run one pairing check (on the generators: it fails, as it should).

    A process pool's initializer: the first real batch then pays no import, key preparation or
    loading of numba's compiled kernels. Returns whether the numba pairing is in use.
    """
    from zkmargin.curve import G1_GENERATOR, G2_GENERATOR
    from zkmargin.groth16 import Proof
    from zkmargin.serialize.json_formats import dump_proof
    from zkmargin.verifier.groth16_verify import fast_backend

    pvk = _prepared(vk_json)
    dummy = dump_proof(Proof(a=G1_GENERATOR, b=G2_GENERATOR, c=G1_GENERATOR))
    pairing_check(vk_json, [(["0"] * pvk.n_public, dummy)])
    return fast_backend() is not None


def pairing_check(vk_json: dict[str, Any], items: Sequence[tuple[Sequence[str], dict[str, Any]]]) -> list[Any]:
    """Check a batch of ``(public_inputs, proof_json)`` pairs under one key.

    Args:
        vk_json: the ``verification_key.json`` object.
        items: per proof, its public inputs (decimal strings) and its ``proof.json`` object.

    Returns:
        One entry per item: True (the pairing check passes), False (it fails), or a string: the
        item is malformed and the string says why (naming the point: ``proof.b`` ...).
    """
    pvk = _prepared(vk_json)
    out: list[Any] = [None] * len(items)
    good: list[int] = []
    checked = []
    for i, (public, proof_json) in enumerate(items):
        try:
            proof = load_proof(proof_json)
            checked.extend(_validate_items(pvk, [([int(x) for x in public], proof)], names=["proof"]))
        except MalformedInputError as e:
            out[i] = str(e)
            continue
        good.append(i)
    if good:
        result = _verify_validated(pvk, checked, None)
        bad = set(result.bad)
        for j, i in enumerate(good):
            out[i] = j not in bad
    return out
