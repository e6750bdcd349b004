"""The Poseidon and encoding gadgets against the node tools (tests/node): circomlibjs and snarkjs.

* The encoding spec (zkmargin.encoding) computed in JavaScript with circomlibjs's reference
  Poseidon (``poseidon(inputs, initState, nOut)`` is the bare permutation of
  ``[initState, ...inputs]``) must give our hashes, including the pinned known answers of
  tests/core/test_encoding.py.
* The R1CS and witness of our gadgets, written as iden3 ``.r1cs``/``.wtns``, must pass
  ``snarkjs wtns check``, and a tampered witness must fail it: an independent evaluation of the
  constraint system the gadgets emit. (circom itself is not used: it is not installable here.)
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from zkmargin import encoding as E
from zkmargin.circuits import API, Circuit, build, param, public, secret
from zkmargin.circuits.std import encoding as GE
from zkmargin.circuits.std import poseidon as GP
from zkmargin.field import R
from zkmargin.poseidon import poseidon
from zkmargin.serialize import write_r1cs, write_wtns

pytestmark = pytest.mark.node

SEED = 20240614
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

_JS_HASH_VECTOR = """
const lib = require("circomlibjs");
function emit(obj) { process.stdout.write(JSON.stringify(obj), () => process.exit(0)); }
(async () => {
  const h = await lib.buildPoseidonReference();
  const F = h.F;
  // zkmargin.encoding.hash_vector, written from its docstring
  function hashVector(tag, values) {
    let state = [h([tag, BigInt(values.length)])];
    for (let i = 0; i < 16; i++) state.push(F.zero);
    const blocks = Math.max(1, Math.ceil(values.length / 16));
    for (let b = 0; b < blocks; b++) {
      const rate = state.slice(1).map((s, i) => {
        const k = b * 16 + i;
        return k < values.length ? F.add(s, F.e(values[k])) : s;
      });
      state = h(rate, state[0], 17);
    }
    return F.toString(state[1]);
  }
  emit(CASES.map(([tag, values]) => hashVector(BigInt(tag), values.map(BigInt))));
})().catch(e => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
"""


def test_hash_vector_matches_circomlibjs(node_eval) -> None:
    rng = random.Random(SEED)
    cases: list[tuple[int, list[int]]] = []
    for n in (0, 1, 15, 16, 17, 100):
        cases.append((E.TAG_MARKET_DIGEST, [rng.randrange(R) for _ in range(n)]))
    cases.append((E.TAG_ACCOUNT_LEAF, [7, 42, 9, 1, 2, 3]))  # account_leaf(7, [1, 2, 3], 42, 9)
    cases.append((E.TAG_KEY, [5]))  # key_commitment(5)
    cases.append((E.TAG_NULLIFIER, [5, 6]))  # nullifier(5, 6)
    cases.append((E.TAG_COMMITMENT, [7, 42, 1, 2, 3]))  # commitment(7, [1, 2, 3], 42)
    cases.append((E.TAG_MARKET_DIGEST, list(range(1, 18))))
    cases.append((E.TAG_MARKET_DIGEST, []))
    cases.append((E.TAG_CONTEXT, [E.short_string("zkmargin-demo"), 1, 2, 31337]))
    js = "const CASES = " + json.dumps([[str(t), [str(v) for v in vs]] for t, vs in cases]) + ";\n"
    got = [int(x) for x in node_eval(js + _JS_HASH_VECTOR)]
    assert got == [E.hash_vector(t, vs) for t, vs in cases]
    assert got[-7:] == [  # the known answers of tests/core/test_encoding.py
        0x302A905BF2BF8B2FA9A3FDA01F277BABAC86C0E4752856830482378294B414E1,
        0x2F8C2E9553C94F9EBEC7CBA8005D7FAB5B94AABBF120182B33386563FE5A8CFD,
        0x144049C861433810CED6DF222990E89CC87FF9E3F069A447C4AFF43ADCD97A83,
        0x1974FD0584E474A10E88C41E07BE1F54FAF8ED18A492C54B9E8DB930F65D225A,
        0x5FE44907D6855FC16D0A746C9E2E0C715FB2BC9BCD735B20F6BF381387CDD4A,
        0x1492FA4F58993584D6230D38386FE375DFD4698593E56BF0F64C89B8C3231EBD,
        0x209564700717BA9F38D2E629361C45DAC8FD6524798AB10D2E77628913067740,
    ]


#: Any compile-time model digest (a margin circuit uses zkmargin.margin.model_digest(model)).
MODEL_DIGEST = 0x1234


class HashesAndCommits(Circuit):
    """commitment == Commit(MODEL_DIGEST, values, salt) and digest == Poseidon(values[:2])."""

    n = param(doc="number of account values (>= 2)")
    commitment = public(doc="the account's commitment")
    digest = public(doc="circomlib Poseidon(2) of the first two values")
    values = secret(shape="n", doc="the account values")
    salt = secret(doc="the blinding")

    def define(self, api: API) -> None:
        api.assert_equal(GE.commitment(api, MODEL_DIGEST, self.values, self.salt), self.commitment)
        api.assert_equal(GP.poseidon(api, self.values[:2]), self.digest)


def _ok_text(p) -> str:
    return _ANSI.sub("", p.stdout + p.stderr)


def test_snarkjs_wtns_check(snarkjs, tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    values = [rng.randrange(R) for _ in range(17)]
    salt = E.random_salt()
    circ = HashesAndCommits(n=17, commitment=E.commitment(MODEL_DIGEST, values, salt), digest=poseidon(values[:2]),
                            values=values, salt=salt)
    cs, w = build(circ)
    cs.check(w)
    write_r1cs(cs, tmp_path / "c.r1cs")
    write_wtns(w, tmp_path / "c.wtns")
    p = snarkjs("wtns", "check", tmp_path / "c.r1cs", tmp_path / "c.wtns")
    assert p.returncode == 0 and "WITNESS IS CORRECT" in _ok_text(p), _ok_text(p)[-2000:]
    info = _ok_text(snarkjs("r1cs", "info", tmp_path / "c.r1cs"))
    assert f"# of Constraints: {GE.commitment_cost(17) + GP.poseidon_cost(2) + 2}" in info
    # a lie in the middle of a partial round
    bad = list(w)
    i = cs.wire_index("commitment/hash_vector/block1/poseidon_t17/r40/x4[0]")
    bad[i] = (bad[i] + 1) % R
    write_wtns(bad, tmp_path / "bad.wtns")
    p = snarkjs("wtns", "check", tmp_path / "c.r1cs", tmp_path / "bad.wtns")
    assert p.returncode != 0 and "WITNESS IS NOT CORRECT" in _ok_text(p)
