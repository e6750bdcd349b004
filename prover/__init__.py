"""Groth16 prover: development setup, QAP in snarkjs's convention, proving.

``setup(cs) -> (pk, vk)``, ``prove(pk, witness, cs) -> (proof, public)``. The numba kernels
(``zkmargin[prover]``) are used automatically when installed; the pure-Python path is the oracle.
"""

from .groth16 import PhaseTimings, prove, prove_reference
from .setup import DevelopmentSetupWarning, setup

__all__ = ["setup", "prove", "prove_reference", "PhaseTimings", "DevelopmentSetupWarning"]
