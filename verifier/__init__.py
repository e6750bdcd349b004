"""zkmargin.verifier: Groth16 verification with the base install (py_ecc only).

Importing this package must never load numpy, numba or galois (a test checks it in a subprocess),
so that a venue can verify proofs with ``pip install zkmargin`` alone.
"""

from __future__ import annotations

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
