"""zkmargin: zero-knowledge margin proofs (Groth16 over BN254, snarkjs-compatible formats).

The import root of one distribution. Subpackages:

- ``zkmargin.circuits``  circuit-writing API, compiler to R1CS, gadgets, margin models
- ``zkmargin.prover``    setup, QAP (snarkjs convention), Groth16 prover
- ``zkmargin.verifier``  verification with py_ecc only, Solidity export
- ``zkmargin.serialize`` snarkjs JSON and iden3 binary formats

Importing ``zkmargin`` itself loads nothing heavy (no numba, numpy or galois).
"""

__version__ = "0.1.0"
