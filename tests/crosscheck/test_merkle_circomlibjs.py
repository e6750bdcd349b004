"""The venue's account tree against circomlibjs 0.1.7: leaves and root of an accounts build (numba
backend) recomputed in node from the raw inputs (model digest, salt, key commitment, account
values) with circomlibjs's Poseidon only: the width-17 sponge with its full permutation
(``poseidon(inputs, initState, 17)`` returns the whole state) and Poseidon(2) for the nodes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from zkmargin import accounts as A
from zkmargin import merkle as M
from zkmargin.encoding import TAG_ACCOUNT_LEAF, sponge_iv
from zkmargin.field import R
from zkmargin.margin import load_model, load_portfolio, model_digest

pytestmark = pytest.mark.node

EX = Path(__file__).resolve().parents[2] / "examples" / "cross"
DEPTH = 6


def test_accounts_build_equals_circomlibjs_tree(node_eval, tmp_path: Path) -> None:
    pytest.importorskip("numba")
    model = load_model(EX / "model.json")
    base = json.loads((EX / "portfolio_pass.json").read_text())
    rng = random.Random(20261212)
    entries = []
    for i in range(37):
        e = dict(base, account_id=f"a{i}", key_commitment=str(rng.randrange(R)), salt=str(rng.randrange(R)))
        e["collateral"] = [{"asset": "USDC", "amount": str(rng.randrange(10**9))}]
        entries.append(e)
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    res = A.build_accounts(model, [tmp_path / "s.jsonl"], tmp_path / "out", epoch=1, depth=DEPTH, backend="numba")
    digest = model_digest(model)
    rows = []
    for e in entries:
        pf = load_portfolio({k: v for k, v in e.items() if k not in ("account_id", "key_commitment", "salt")}, model)
        rows.append([digest, int(e["salt"]), int(e["key_commitment"]), *pf.to_field_elements(model)])
    iv = sponge_iv(TAG_ACCOUNT_LEAF, len(rows[0]))
    js = f"""
    const lib = require("circomlibjs");
    const rows = {json.dumps([[str(v) for v in r] for r in rows])};
    (async () => {{
      const h = await lib.buildPoseidonReference();
      const F = h.F;
      const big = x => BigInt(F.toString(x));
      const leaves = rows.map(r => {{
        let st = [BigInt("{iv}")].concat(new Array(16).fill(0n));  // plain BigInts between permutations
        for (let b = 0; b < Math.max(1, Math.ceil(r.length / 16)); b++) {{
          for (let i = 0; i < 16; i++) {{
            const k = b * 16 + i;
            if (k < r.length) st[1 + i] = (st[1 + i] + BigInt(r[k])) % F.p;
          }}
          st = h(st.slice(1), st[0], 17).map(big);
        }}
        return st[1];
      }});
      let z = BigInt("{M.EMPTY_LEAF}");
      let level = leaves;
      for (let d = 0; d < {DEPTH}; d++) {{
        if (level.length % 2) level = level.concat([z]);
        const next = [];
        for (let i = 0; i < level.length; i += 2) next.push(big(h([level[i], level[i + 1]])));
        level = next;
        z = big(h([z, z]));
      }}
      const out = JSON.stringify({{leaves: leaves.map(String), root: String(level[0])}});
      process.stdout.write(out, () => process.exit(0));
    }})().catch(e => {{ process.stderr.write(String(e.stack || e)); process.exit(1); }});
    """
    got = node_eval(js)
    ops = [A.load_opening(tmp_path / "out" / "openings" / f"a{i}.json") for i in range(len(entries))]
    assert [str(op.leaf) for op in ops] == got["leaves"]
    assert str(res.root.root) == got["root"]
