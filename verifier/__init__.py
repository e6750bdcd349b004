"""zkmargin.verifier: Groth16 verification with the base install (py_ecc only).

Importing this package must never load numpy, numba or galois (a test checks it in a subprocess),
so that a venue can verify proofs with ``pip install zkmargin`` alone.
"""

from __future__ import annotations

from zkmargin.verifier.groth16_verify import PreparedVerifyingKey, prepare_verifying_key, verify

# --- solidity exports: added by the Solidity-export helper (verifier/solidity.py) -----------
# from zkmargin.verifier.solidity import ...
# --------------------------------------------------------------------------------------------

__all__ = [
    "PreparedVerifyingKey",
    "prepare_verifying_key",
    "verify",
    # solidity exports go here
]
