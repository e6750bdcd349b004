"""Demo helper: compile an exported verifier with solc (npm) and call verifyProof in py-evm.

Usage: python scripts/evm_check.py Verifier.sol proof.json public.json
Reuses the test-suite's EVM helper (tests/verifier/_evm.py) so the demo and the tests run the
contract the same way. Prints the result and the execution gas; exits 1 if the contract says false.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_evm_helper():
    spec = importlib.util.spec_from_file_location("zkmargin_demo_evm", ROOT / "tests" / "verifier" / "_evm.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _node_eval(js: str, timeout: float = 300):
    env = dict(os.environ, NODE_PATH=str(ROOT / "tests" / "node" / "node_modules"))
    p = subprocess.run(["node", "-e", js], capture_output=True, text=True, timeout=timeout, env=env)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-2000:])
    return json.loads(p.stdout)


def main(sol: str, proof_path: str, public_path: str) -> int:
    from zkmargin.serialize import load_proof, load_public_inputs
    from zkmargin.verifier.solidity import calldata_args

    evm = _load_evm_helper()
    res = evm.compile_solidity({"Verifier.sol": Path(sol).read_text()}, _node_eval)
    (contract,) = [c for (f, _), c in res.contracts.items() if f == "Verifier.sol"]
    chain = evm.EvmChain()
    addr = chain.deploy(contract.bytecode)
    proof, public = load_proof(proof_path), load_public_inputs(public_path)
    a, b, c, pub = calldata_args(proof, public)
    selector = next(v for k, v in contract.method_ids.items() if k.startswith("verifyProof("))
    data = evm.encode_words(selector, a, b, c, list(pub))
    out = chain.call(addr, data)
    ok = out.success and int.from_bytes(out.output[-32:], "big") == 1
    print(f"EVM (py-evm, Prague rules, solc {res.version.split('+')[0]}): verifyProof returned "
          f"{'true' if ok else 'false'}; execution gas {out.gas_used:,}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
