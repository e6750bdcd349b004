"""The venue's check from Python: one proof, then a batch of traders, each against its own statement.

Run after the demo (it reads the demo's files): ``python examples/venue_api.py demo-out``.
Base install only (py_ecc + click); with zkmargin[prover] the pairing runs in numba.
"""

import sys
from pathlib import Path

from zkmargin.margin import load_market, load_model
from zkmargin.margin.documents import load_commitment, load_context
from zkmargin.serialize import load_proof, load_public_inputs, load_verifying_key
from zkmargin.verifier import MarginItem, check_margin_proof, check_margin_proofs, expected_statement

out = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-out")
ex = Path(__file__).resolve().parent / "cross"

# The venue's own data: its model and market files, the commitment it holds, its threshold, the
# context it issued. Never the prover's public.json.
model = load_model(ex / "model.json")
market = load_market(ex / "market.json", model)
vk = load_verifying_key(out / "venue" / "verification_key.json")
_, commitment = load_commitment(out / "trader" / "commitment.json")
context = load_context(out / "venue" / "context.json")
expected = expected_statement(model, market, commitment, "1000", context, label="trader-1")

# One proof: every public input compared first (named when it differs), then the pairing.
public = load_public_inputs(out / "trader" / "public.json")
proof = load_proof(out / "trader" / "proof.json")
verdict = check_margin_proof(vk, public, proof, expected)
print("single:", verdict.ok, "-", verdict.explain())

# A batch: each item carries the statement the venue expects of that trader (own commitment,
# own context); the statements are compared first, then one random-linear-combination pairing.
stricter = expected_statement(model, market, commitment, "2000", context, label="trader-1 at 2,000")
result = check_margin_proofs(vk, [MarginItem(public, proof, expected, "trader-1"),
                                  MarginItem(public, proof, stricter, "trader-1 at 2,000")])
print("batch:", result.ok, f"({result.n} items, {result.checks} pairing check(s))")
for line in result.explain_bad():
    print("  not accepted:", line)
sys.exit(0 if verdict.ok and result.bad == [1] else 1)
