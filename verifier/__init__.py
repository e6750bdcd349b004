"""zkmargin.verifier: Groth16 verification with the base install (py_ecc only).

Importing this package must never load numpy, numba or galois (a test checks it in a subprocess),
so that a venue can verify proofs with ``pip install zkmargin`` alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, for type checkers; at run time each is imported on first use
    from zkmargin.verifier.batch import BatchResult, verify_batch, verify_batch_files
    from zkmargin.verifier.groth16_verify import PreparedVerifyingKey, prepare_verifying_key, verify
    from zkmargin.verifier.solidity import CalldataArgs, calldata_args, export_calldata, export_solidity
    from zkmargin.verifier.venue import (
        BatchMarginVerdict,
        ExpectedStatement,
        KeyModelMismatchError,
        MarginItem,
        MarginVerdict,
        check_margin_proof,
        check_margin_proofs,
        expected_statement,
        statement_mismatches,
    )

# Imported on first use (PEP 562): ``zkmargin verify`` of one proof needs groth16_verify only, not the
# venue's statement checks (the margin models), the batch verifier or the Solidity export.
_LAZY = {
    'BatchResult': 'zkmargin.verifier.batch',
    'verify_batch': 'zkmargin.verifier.batch',
    'verify_batch_files': 'zkmargin.verifier.batch',
    'PreparedVerifyingKey': 'zkmargin.verifier.groth16_verify',
    'prepare_verifying_key': 'zkmargin.verifier.groth16_verify',
    'verify': 'zkmargin.verifier.groth16_verify',
    'CalldataArgs': 'zkmargin.verifier.solidity',
    'calldata_args': 'zkmargin.verifier.solidity',
    'export_calldata': 'zkmargin.verifier.solidity',
    'export_solidity': 'zkmargin.verifier.solidity',
    'BatchMarginVerdict': 'zkmargin.verifier.venue',
    'ExpectedStatement': 'zkmargin.verifier.venue',
    'KeyModelMismatchError': 'zkmargin.verifier.venue',
    'MarginItem': 'zkmargin.verifier.venue',
    'MarginVerdict': 'zkmargin.verifier.venue',
    'check_margin_proof': 'zkmargin.verifier.venue',
    'check_margin_proofs': 'zkmargin.verifier.venue',
    'expected_statement': 'zkmargin.verifier.venue',
    'statement_mismatches': 'zkmargin.verifier.venue',
}

__all__ = [
    "PreparedVerifyingKey",
    "prepare_verifying_key",
    "verify",
    "BatchResult",
    "verify_batch",
    "verify_batch_files",
    "export_solidity",
    "export_calldata",
    "calldata_args",
    "CalldataArgs",
    "ExpectedStatement",
    "expected_statement",
    "statement_mismatches",
    "check_margin_proof",
    "check_margin_proofs",
    "MarginItem",
    "MarginVerdict",
    "BatchMarginVerdict",
    "KeyModelMismatchError",
]


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
