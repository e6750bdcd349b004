"""verifier/attested.py: the attested statement from the venue's files, on the base install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from zkmargin.accounts import ATTESTED_PUBLIC_INPUTS, RootDocument
from zkmargin.margin import load_market, load_model, market_digest_of, model_digest, parse_threshold
from zkmargin.margin.documents import new_context
from zkmargin.margin.errors import SchemaError
from zkmargin.verifier.attested import expected_attested_statement
from zkmargin.verifier.venue import statement_mismatches

EX = Path(__file__).resolve().parents[2] / "examples" / "cross"
MODEL = load_model(EX / "model.json")
MARKET = load_market(EX / "market.json", MODEL)
ROOT = RootDocument(MODEL.model_id, model_digest(MODEL), MARKET.epoch, 20, 3, 12345)
CTX = new_context(MARKET.venue, MARKET.epoch, nonce=9)


def test_statement_names_values_and_a_free_nullifier() -> None:
    st = expected_attested_statement(MODEL, MARKET, ROOT, "1000", CTX, label="alice")
    assert st.names == ATTESTED_PUBLIC_INPUTS and st.kind == "attested" and st.label == "alice"
    assert st.values == (12345, market_digest_of(MODEL, MARKET), parse_threshold(MODEL, "1000"), CTX.field_value(),
                         None)
    good = [12345, st.values[1], st.values[2], st.values[3], 777]
    assert statement_mismatches(good, st) == []  # any nullifier: the ledger records it
    assert st.bind(good)[4] == 777
    for i, name in enumerate(ATTESTED_PUBLIC_INPUTS[:4]):
        bad = list(good)
        bad[i] += 1
        assert [m[0] for m in statement_mismatches(bad, st)] == [name]


@pytest.mark.parametrize("field,value", [("model_id", "other"), ("model_digest", 5), ("epoch", MARKET.epoch + 1)])
def test_a_root_of_another_model_or_epoch_is_refused(field: str, value: object) -> None:
    with pytest.raises(SchemaError) as exc:
        expected_attested_statement(MODEL, MARKET, replace(ROOT, **{field: value}), "1000", CTX)
    assert exc.value.path == field


def test_context_of_another_epoch_is_refused() -> None:
    with pytest.raises(SchemaError, match="epoch"):
        expected_attested_statement(MODEL, MARKET, ROOT, "1000", new_context(MARKET.venue, MARKET.epoch + 1))


def test_attested_verification_modules_are_light(tmp_path: Path) -> None:
    heavy = ("numpy", "numba", "galois", "zkmargin.prover", "zkmargin.circuits", "zkmargin._numba_poseidon")
    snippet = "\n".join([
        "import json, sys",
        "import zkmargin.verifier.attested, zkmargin.verifier.gate, zkmargin.accounts, zkmargin.merkle",
        f"heavy = {heavy!r}",
        "print(json.dumps(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in heavy))))",
    ])
    env = dict(os.environ, PYTHONSAFEPATH="1")
    env.pop("PYTHONPATH", None)
    p = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, cwd=tmp_path, env=env,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1]) == []
