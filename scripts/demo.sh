#!/usr/bin/env bash
# End-to-end demo on the cross-margin example (examples/cross):
#   venue:  development setup from its model file, publishes the market digest, issues a context
#   trader: commits to a hidden portfolio, proves it meets the rule (a failing one is refused)
#   venue:  verifies the proof against its own market file, commitment, threshold and context
#   chain:  the verifier exported to Solidity, the proof as calldata, and (when node and the
#           test tools are installed) the contract run in py-evm
# Installs zkmargin[prover,dev] into .venv on first use. Output goes to demo-out/ (or $DEMO_OUT).
source "$(dirname "$0")/_env.sh"
OUT="${DEMO_OUT:-demo-out}"
EX=examples/cross
rm -rf "$OUT"; mkdir -p "$OUT/venue" "$OUT/trader"
step() { printf '\n== %s\n' "$*"; }
EPOCH=$(python -c "import json,sys; print(json.load(open(sys.argv[1]))['epoch'])" "$EX/market.json")

step "once per machine: compile numba's kernels (prover and pairing; instant when already done)"
zkmargin warmup

step "venue: development setup for its margin model (cross margin, 4 instruments, 3 assets)"
zkmargin setup "$EX/model.json" --zkey "$OUT/venue/cross.zkey" --vk "$OUT/venue/verification_key.json"

step "venue: publish the market data digest for epoch $EPOCH and issue a context (nonce) for this check"
zkmargin digest "$EX/model.json" "$EX/market.json"
zkmargin context --venue zkmargin-demo --epoch "$EPOCH" -o "$OUT/venue/context.json"

step "trader: commit to the portfolio (the venue gets the commitment; the salt stays private)"
zkmargin commit "$EX/model.json" "$EX/portfolio_pass.json" --salt "$OUT/trader/salt.json" \
  -o "$OUT/trader/commitment.json"

step "trader: prove the hidden portfolio keeps a surplus of at least 1,000 over the initial margin"
zkmargin prove --model "$EX/model.json" --market "$EX/market.json" --portfolio "$EX/portfolio_pass.json" \
  --salt "$OUT/trader/salt.json" --threshold 1000 --context "$OUT/venue/context.json" \
  --zkey "$OUT/venue/cross.zkey" --proof "$OUT/trader/proof.json" --public "$OUT/trader/public.json"

step "venue: verify the proof against its own market file, the commitment it holds, its threshold and context"
zkmargin verify "$OUT/venue/verification_key.json" "$OUT/trader/public.json" "$OUT/trader/proof.json" \
  --model "$EX/model.json" --market "$EX/market.json" --commitment "$OUT/trader/commitment.json" \
  --threshold 1000 --context "$OUT/venue/context.json"

step "venue: the same check from its Python backend (examples/venue_api.py: one proof, then a batch)"
python examples/venue_api.py "$OUT"

step "a portfolio that fails the rule is refused before any proving, and no proof is written"
if zkmargin prove --model "$EX/model.json" --market "$EX/market.json" --portfolio "$EX/portfolio_fail.json" \
     --salt "$OUT/trader/salt.json" --threshold 1000 --context "$OUT/venue/context.json" \
     --zkey "$OUT/venue/cross.zkey" --proof "$OUT/trader/failing_proof.json" --public "$OUT/trader/failing_public.json"
then echo "demo error: a failing portfolio was proved" >&2; exit 1; fi
test ! -e "$OUT/trader/failing_proof.json" && echo "(refused as expected; no proof file)"

step "on-chain: export the Solidity verifier and the proof's calldata"
zkmargin export solidity "$OUT/venue/verification_key.json" -o "$OUT/venue/Verifier.sol"
zkmargin export calldata "$OUT/trader/proof.json" "$OUT/trader/public.json" > "$OUT/trader/calldata.txt"
echo "calldata: $OUT/trader/calldata.txt"
if [ -d tests/node/node_modules/solc ] && command -v node >/dev/null; then
  python scripts/evm_check.py "$OUT/venue/Verifier.sol" "$OUT/trader/proof.json" "$OUT/trader/public.json"
else
  echo "(skipping the EVM run: install the test tools with bash scripts/test.sh to compile with solc)"
fi
printf '\ndemo complete: artifacts in %s/\n' "$OUT"
