#!/usr/bin/env bash
# End-to-end demo: the venue compiles its margin circuit and runs the (development) setup, the
# trader proves that a hidden portfolio meets the rule, the venue verifies the proof, and the
# verifier is exported to Solidity together with the proof's calldata.
# Installs zkmargin[prover,dev] into .venv on first use. Output goes to demo-out/ (or $DEMO_OUT).
source "$(dirname "$0")/_env.sh"
OUT="${DEMO_OUT:-demo-out}"
rm -rf "$OUT"; mkdir -p "$OUT"
P=(-p n_positions=2 -p n_assets=2)
step() { printf '\n== %s\n' "$*"; }

step "venue: compile the cross-margin circuit (2 positions, 2 collateral assets)"
zkmargin compile cross-simple "${P[@]}" -o "$OUT/cross.r1cs"

step "venue: development setup (production keys come from a ceremony)"
zkmargin setup "$OUT/cross.r1cs" --zkey "$OUT/cross.zkey" --vk "$OUT/verification_key.json"

step "trader: prove the hidden portfolio meets the rule (positions and collateral stay secret)"
zkmargin prove cross-simple "${P[@]}" --input examples/demo/cross_simple_input.json \
  --zkey "$OUT/cross.zkey" --proof "$OUT/proof.json" --public "$OUT/public.json"

step "venue: verify (public inputs: threshold, prices, haircuts, marks, rates)"
zkmargin verify "$OUT/verification_key.json" "$OUT/public.json" "$OUT/proof.json"

step "venue: export the verifier to Solidity, and the proof as calldata"
zkmargin export solidity "$OUT/verification_key.json" -o "$OUT/Verifier.sol"
zkmargin export calldata "$OUT/proof.json" "$OUT/public.json" > "$OUT/calldata.txt"
echo "calldata: $OUT/calldata.txt ($(wc -c < "$OUT/calldata.txt") bytes)"

step "a portfolio that fails the rule is refused, and no proof is written"
sed 's/"threshold": "10000"/"threshold": "90000"/' examples/demo/cross_simple_input.json > "$OUT/failing_input.json"
if zkmargin prove cross-simple "${P[@]}" --input "$OUT/failing_input.json" --zkey "$OUT/cross.zkey" \
     --proof "$OUT/failing_proof.json" --public "$OUT/failing_public.json"; then
  echo "demo error: a failing portfolio was proved" >&2; exit 1
fi
test ! -e "$OUT/failing_proof.json" && echo "refused as expected; no proof file"
printf '\ndemo complete: artifacts in %s/\n' "$OUT"
