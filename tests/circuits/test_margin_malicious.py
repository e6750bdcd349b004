"""Malicious provers against the margin circuits: every forged witness violates a constraint.

Each attack starts from an honest witness of a published example (or of a small model built for
the attack) and changes what a cheating trader controls: account values (wrapped around the
field, or outside their range), hint outputs (the worst-scenario selector, the bracket selector,
the health quotients), the secret market vector, the salt. The forged witness is built with
``check=False``; the test asserts which constraints it violates. Where the attack is crafted to
satisfy everything else (``D`` exactly 0 after a field division, a lie that lowers the
requirement enough to pass), the test asserts that the ONLY violated constraints are the ones
that stop it, so each range check / binding is shown to be load-bearing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkmargin.circuits.margin import assign_vectors
from zkmargin.circuits.margin._testing import (
    build_unchecked,
    replace_instrument,
    revalidate,
    small_model,
)
from zkmargin.circuits.std._testing import violated
from zkmargin.encoding import commitment, market_digest
from zkmargin.field import R
from zkmargin.margin import (
    AssetData,
    Holding,
    InstrumentData,
    Market,
    Portfolio,
    Position,
    RateBracket,
    TierBracket,
    account_layout,
    evaluate,
    load_market,
    load_model,
    load_portfolio,
    market_layout,
    model_digest,
    parse_threshold,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MANIFEST = {e["name"]: e for e in json.loads((EXAMPLES / "manifest.json").read_text())["examples"]}
SALT, CONTEXT = 0xABCDEF0123, 0x77
NAME = {"cross": "cross", "isolated": "isolated", "scenario": "span_covered_write", "health": "lending",
        "tiered": "tiered"}
KINDS = list(NAME)


def _example(kind: str, case: int):
    """(model, market, portfolio, threshold int) of a manifest case."""
    ex = MANIFEST[NAME[kind]]
    c = ex["cases"][case]
    model = load_model(EXAMPLES / ex["model"])
    market = load_market(EXAMPLES / ex["market"], model)
    return model, market, load_portfolio(EXAMPLES / c["portfolio"], model), parse_threshold(model, c["threshold"])


def _offset(layout, segment: str, index: int = 0) -> int:
    pos = 0
    for name, shape in layout:
        if name == segment:
            return pos + index
        n = 1
        for d in shape:
            n *= d
        pos += n
    raise KeyError(segment)


def _run(model, account, market_vec, t, *, salt=SALT, hints=None, **public):
    cs, w = build_unchecked(assign_vectors(model, account, salt, market_vec, t, CONTEXT, **public), hints)
    return violated(cs, w)


def _vectors(model, market, portfolio):
    return portfolio.to_field_elements(model), market.to_field_elements(model)


@pytest.mark.parametrize("kind", KINDS)
def test_honest_examples_pass_and_fail_as_published(kind):
    model, market, pf, t = _example(kind, 0)
    acc, mkt = _vectors(model, market, pf)
    assert _run(model, acc, mkt, t) == []
    model, market, pf, t = _example(kind, len(MANIFEST[NAME[kind]]["cases"]) - 1)
    acc, mkt = _vectors(model, market, pf)
    assert _run(model, acc, mkt, t) != []


# --- account values wrapped around the field -----------------------------------------------------

def test_wrapped_collateral_amount_makes_d_zero_only_the_range_check_stops_it():
    """cross and scenario: a' = a + (D' - D) / (p * (RS - h)) mod r makes the field arithmetic give
    D' (0, or 1 where an honest amount would reach 0) on a failing portfolio; only the amount's
    range check is violated."""
    for kind in ("cross", "scenario"):
        model, market, pf, t = _example(kind, 1)
        report = evaluate(model, market, pf, t)
        d = report.surplus - report.threshold
        assert d < 0
        acc, mkt = _vectors(model, market, pf)
        j = 0
        asset = market.assets[j]
        weight = asset.price * (model.rate_scale - asset.haircut)
        k = _offset(account_layout(model), "amounts", j)
        target = 0 if d % weight else 1  # a non-integral amount: no honest collateral gives D'
        acc[k] = (acc[k] + (target - d) * pow(weight, -1, R)) % R
        assert acc[k] >= 1 << 64
        assert _run(model, acc, mkt, t) == [f"asset[{j}]/amount/assert_bits/recompose"], kind


def test_wrapped_amount_with_a_legitimate_value_tiered_and_health():
    """a' = V / p mod r, so a' * p is a legitimate (huge) value V: the tiers / the health division
    compute honestly on it and the check passes; only the amount's range check fails."""
    for kind, segment, scope in (("tiered", "amounts", "asset[0]/amount"),
                                 ("health", "collateral", "asset[0]/collateral/amount")):
        model, market, pf, t = _example(kind, len(MANIFEST[NAME[kind]]["cases"]) - 1)
        acc, mkt = _vectors(model, market, pf)
        assert _run(model, acc, mkt, t) != []
        value = (1 << 127) + 1
        k = _offset(account_layout(model), segment, 0)
        acc[k] = value * pow(market.assets[0].price, -1, R) % R
        assert acc[k] >= 1 << 64
        assert _run(model, acc, mkt, t) == [f"{scope}/assert_bits/recompose"], kind


def test_wrapped_isolated_margin_only_the_margin_range_check_stops_it():
    model, market, pf, t = _example("isolated", 1)
    report = evaluate(model, market, pf, t)
    acc, mkt = _vectors(model, market, pf)
    rs = model.rate_scale
    forged = []
    for line in report.positions:
        d = line.surplus - report.threshold
        if d < 0:
            k = _offset(account_layout(model), "margins", line.index)
            target = 0 if d % rs else 1  # a non-integral margin: no honest margin gives D'
            acc[k] = (acc[k] + (target - d) * pow(rs, -1, R)) % R
            assert acc[k] >= 1 << 128
            forged.append(f"position[{line.index}]/margin/assert_bits/recompose")
    assert forged
    assert _run(model, acc, mkt, t) == forged


@pytest.mark.parametrize("kind,segment,index,scope", [
    ("cross", "amounts", 0, "asset[0]/amount"),
    ("isolated", "margins", 0, "position[0]/margin"),
    ("scenario", "amounts", 0, "asset[0]/amount"),
    ("health", "debts", 1, "asset[1]/debt/amount"),  # a "negative debt" would lower the requirement
    ("tiered", "amounts", 0, "asset[0]/amount"),
])
@pytest.mark.parametrize("k", [1, 10**6])
def test_negative_amount_r_minus_k_is_rejected(kind, segment, index, scope, k):
    """Rejection at several values; the forgeries that isolate the range check as the ONLY violated
    constraint (everything else holding) are in test_margin_integrity.py."""
    model, market, pf, t = _example(kind, 0)
    acc, mkt = _vectors(model, market, pf)
    acc[_offset(account_layout(model), segment, index)] = R - k
    bad = _run(model, acc, mkt, t)
    assert any(label.startswith(f"{scope}/assert_bits/") for label in bad), bad


@pytest.mark.parametrize("kind", ["cross", "isolated", "scenario", "tiered"])
@pytest.mark.parametrize("size", [1 << 63, R - (1 << 63), 1 << 64, R - (1 << 64)])
def test_size_outside_its_range_is_rejected(kind, size):
    model, market, pf, t = _example(kind, 0)
    acc, mkt = _vectors(model, market, pf)
    acc[_offset(account_layout(model), "sizes", 0)] = size
    bad = _run(model, acc, mkt, t)
    assert any(label.startswith("position[0]/size/split_signed/") for label in bad), bad


@pytest.mark.parametrize("amount", [1 << 64, (1 << 64) + 5])
def test_health_collateral_outside_its_range_is_rejected(amount):
    model, market, pf, t = _example("health", 0)
    acc, mkt = _vectors(model, market, pf)
    acc[_offset(account_layout(model), "collateral", 0)] = amount
    bad = _run(model, acc, mkt, t)
    assert any(label.startswith("asset[0]/collateral/amount/assert_bits/") for label in bad), bad


# --- lying hints --------------------------------------------------------------------------------

def _one_hot(n: int, i: int) -> list[int]:
    return [int(k == i) for k in range(n)]


def _lie_when_positive(b: int):
    """A bracket hint that lies (bracket b) for x > 0 and is honest for x = 0 (bracket 0)."""
    return lambda ins: _one_hot(len(ins), b if ins[0] else 0)


def test_lying_worst_scenario_selector():
    """SPAN covered write with $5,000 fails (scenario 13). A selector pointing at scenario 1 would
    lower the requirement to the floor ($500) and pass: only the argmax bounds stop it."""
    model, market, pf, t = _example("scenario", 1)
    acc, mkt = _vectors(model, market, pf)
    honest = _run(model, acc, mkt, t)
    assert honest == ["surplus/assert_bits/recompose"]
    bad = _run(model, acc, mkt, t, hints={"minmax.argmax": lambda ins: _one_hot(len(ins), 0)})
    assert bad and all(label.startswith("worst/argmax_of/bound[") for label in bad), bad
    # a non-boolean selector that sums to 1 (2 * worst - scenario 1): booleanity fails
    lie = [0] * 16
    lie[12], lie[0] = 2, R - 1
    bad = _run(model, acc, mkt, t, hints={"minmax.argmax": lambda ins: lie})
    assert any("argmax_of/selector/boolean" in label for label in bad), bad


def test_lying_selector_on_a_tie_cannot_move_the_binding_scenario():
    """Scenarios 13 and 16 tie (same risk entries): the selector must name the FIRST (wire 12);
    pointing at 16 changes no amount, and only the strict bound before it fails."""
    model, market, pf, t = _example("scenario", 0)
    for i, x in enumerate(market.instruments):
        risk = list(x.risk_array)
        risk[15] = risk[12]
        market = replace_instrument(market, i, risk_array=tuple(risk))
    market, pf = revalidate(model, market, pf)
    acc, mkt = _vectors(model, market, pf)
    assert _run(model, acc, mkt, t) == []
    bad = _run(model, acc, mkt, t, hints={"minmax.argmax": lambda ins: _one_hot(len(ins), 15)})
    assert bad == ["worst/argmax_of/bound[12]/recompose"], bad


def _bracket_case():
    """Small isolated model (4 brackets: the selection form). Bounds 100, 1,000, 10,000 (value
    units), maintenance rates 1 %, 2 %, 5 %, 10 %; one position of notional 5,000 (the third
    bracket), entry at the mark, margin 100: P = 100 * 100 + 200 * 900 + 500 * 4,000 = 2,190,000
    exceeds RS * margin = 1,000,000 and fails; the first bracket's line (500,000) or the second's
    (990,000) would pass."""
    model = small_model("isolated")  # QD 4, PD 2, RD 4
    rates = [(100, 100), (200, 200), (500, 500), (1000, 1000)]
    bounds = [100, 1000, 10000, None]
    brackets = tuple(RateBracket(u, i, m) for u, (i, m) in zip(bounds, rates, strict=True))
    market = Market(model.venue, model.model_id, 1,
                    tuple(InstrumentData(s, 50 if s == "I0" else 7, brackets) for s in model.instruments), ())
    pf = Portfolio(model.model_id, (Position("I0", 100, 50, 100),))  # notional 100 * 50 = 5,000
    market, pf = revalidate(model, market, pf)
    return model, market, pf


def test_lying_bracket_selector():
    model, market, pf = _bracket_case()
    assert not evaluate(model, market, pf, 0).passes
    acc, mkt = _vectors(model, market, pf)
    assert _run(model, acc, mkt, 0) == ["position[0]/surplus/assert_bits/recompose"]
    # a lower bracket's line lowers the requirement: only "x <= upper bound" fails
    for lie in (0, 1):
        bad = _run(model, acc, mkt, 0, hints={"margin.bracket": _lie_when_positive(lie)})
        assert bad == ["position[0]/progressive/in_bracket/assert_bits/recompose"], (lie, bad)
    # a higher bracket: "x >= lower bound" fails (the other slots, x = 0, fail it too)
    bad = _run(model, acc, mkt, 0, hints={"margin.bracket": _lie_when_positive(3)})
    assert bad == ["position[0]/progressive/in_bracket/assert_bits/recompose"], bad
    # not one-hot
    bad = _run(model, acc, mkt, 0, hints={"margin.bracket": lambda ins: [1, 1, 0, 0]})
    assert "position[0]/progressive/selector/one_hot" in bad


def test_lying_tier_selector_tiered_collateral():
    """Tier selector pointing at the first tier (highest weight) for a value deep in the last
    tier inflates the collateral value; the bracket range check stops it."""
    # the example has 3 tiers (the marginal form, no selector): a 4-tier model instead
    m, mk, p = _tiered4_case()
    acc, mkt = _vectors(m, mk, p)
    assert _run(m, acc, mkt, 0) == ["surplus/assert_bits/recompose"]
    for lie in (0, 1):
        bad = _run(m, acc, mkt, 0, hints={"margin.bracket": _lie_when_positive(lie)})
        # position[0]'s rate brackets (3: the marginal form) ask no selector
        assert bad == ["asset[0]/tiers/progressive/in_bracket/assert_bits/recompose"], (lie, bad)


def _tiered4_case():
    model = small_model("tiered")  # QD 4, PD 2, RD 4: values at 6 decimals
    rs = model.rate_scale
    tiers = tuple(TierBracket(u, h) for u, h in ((10**9, 0), (10**10, 2000), (10**11, 5000), (None, 9000)))
    brackets = (RateBracket(10**9, 1000, 500), RateBracket(10**10, 1000, 1000), RateBracket(None, 2000, 2000))
    market = Market(model.venue, model.model_id, 1,
                    tuple(InstrumentData(s, 100, brackets) for s in model.instruments),
                    tuple(AssetData(s, 100, 0, 0, tiers) for s in model.assets))
    # collateral value 10**12 value units, mostly in the last tier (weight 10 %), against a position
    # of notional 10**12 (bracket rates 5 %, 10 %, 20 %)
    pf = Portfolio(model.model_id, (Position("I0", 10**10, 100),), (Holding("A0", 10**10),))
    market, pf = revalidate(model, market, pf)
    assert not evaluate(model, market, pf, 0).passes and rs == 10**4
    return model, market, pf


def _divmod(lie_floor=None, lie_ceil=None):
    """Hint overrides for the health divisions: honest, then shifted by the lie function."""
    def make(ceil, lie):
        def hint(ins):
            n, d = ins
            q = -(-n // d) if ceil else n // d
            rem = q * d - n if ceil else n - q * d
            return lie(q, rem, d) if lie else (q, rem)
        return hint
    out = {}
    if lie_floor:
        out["margin.divmod_floor"] = make(False, lie_floor)
    if lie_ceil:
        out["margin.divmod_ceil"] = make(True, lie_ceil)
    return out


def test_lying_health_quotients():
    """HF 4/3 at 1.34 fails. Quotients raised (collateral, weighted sum) or lowered (debt) by
    10**12 would pass; the remainders (or quotients) out of range stop each lie."""
    model, market, pf, _ = _example("health", 0)
    t = parse_threshold(model, "1.34")
    acc, mkt = _vectors(model, market, pf)
    assert _run(model, acc, mkt, t) == ["surplus/assert_bits/recompose"]
    k = 10**12
    rs = model.rate_scale
    # collateral value rounded "down" to something much larger: remainder negative
    bad = _run(model, acc, mkt, t, hints=_divmod(lie_floor=lambda q, rem, d: (q + k, (rem - k * d) % R)
                                                 if d != rs else (q, rem)))
    assert bad and all("/collateral/div_floor/remainder/" in label for label in bad), bad
    # the weighted sum's floor raised
    bad = _run(model, acc, mkt, t, hints=_divmod(lie_floor=lambda q, rem, d: (q + k, (rem - k * d) % R)
                                                 if d == rs else (q, rem)))
    assert bad and all(label.startswith("weighted/div_floor/remainder/") for label in bad), bad
    # the debt value rounded "up" to much less: remainder negative
    k = 10**11  # the USDC debt value is 6 * 10**11 base units: 1,000 USD less
    bad = _run(model, acc, mkt, t, hints=_divmod(lie_ceil=lambda q, rem, d: (q - k, (rem - k * d) % R) if q >= k
                                                 else (q, rem)))
    assert bad and all("/debt/div_ceil/remainder/" in label for label in bad), bad
    # a smaller quotient with a remainder >= d (the equation holds; it only hurts the prover here,
    # but the remainder's upper bound must be what rejects it): "rem <= d - 1" fails
    bad = _run(model, acc, mkt, t, hints=_divmod(lie_floor=lambda q, rem, d: (q - 1, rem + d) if q else (q, rem)))
    assert "asset[0]/collateral/div_floor/remainder/assert_in_range/below_hi/recompose" in bad, bad
    assert not any("above_lo" in label or "quotient" in label or "==" in label for label in bad), bad
    # a quotient off by one with the honest remainder: the equation fails
    bad = _run(model, acc, mkt, t, hints=_divmod(lie_floor=lambda q, rem, d: (q + 1, rem)))
    assert any(label.endswith("div_floor/n==q*d+rem") for label in bad), bad
    # a non-integer quotient (n - rem') / d in the field for a remainder off by one
    bad = _run(model, acc, mkt, t, hints=_divmod(
        lie_floor=lambda q, rem, d: ((q * d + rem - (rem + 1)) * pow(d, -1, R) % R, rem + 1) if rem + 1 < d
        else (q, rem)))
    assert any("div_floor/quotient/" in label for label in bad), bad


# --- the secret market vector, the salt, the header, the threshold -------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_changed_market_value_fails_the_digest(kind):
    """The witness's market vector differs from the digested one (a collateral price or a rate
    that would let the failing portfolio pass): only the digest binding is violated."""
    model, market, pf, t = _example(kind, len(MANIFEST[NAME[kind]]["cases"]) - 1)
    acc, mkt = _vectors(model, market, pf)
    digest = market_digest(mkt)
    layout = market_layout(model)
    if kind == "isolated":
        rates = "initial_rates" if model.requirement == "initial" else "maintenance_rates"
        for i in range(model.n_instruments):  # every rate 0: no requirement
            for b in range(model.n_rate_brackets):
                mkt[_offset(layout, rates, i * model.n_rate_brackets + b)] = 0
        # and a mark at the entry of the failing position: no loss
        for line in evaluate(model, market, pf, t).positions:
            mkt[_offset(layout, "marks", line.index)] = pf.entries(model)[line.index]
    else:
        for j in range(1 if kind == "health" else model.n_assets):  # (health: not the debt's price)
            mkt[_offset(layout, "prices", j)] *= 1000
    assert _run(model, acc, mkt, t, market_digest=digest) == ["statement/market_digest/bind"]
    # the same vector with its own digest is a different (unpublished) market: it passes, which is
    # why the verifier must use the digest of the published market file (the precondition)
    assert _run(model, acc, mkt, t) == []


@pytest.mark.parametrize("kind", KINDS)
def test_changed_salt_or_account_fails_the_commitment(kind):
    model, market, pf, t = _example(kind, 0)
    acc, mkt = _vectors(model, market, pf)
    assert _run(model, acc, mkt, t) == []
    committed = commitment(model_digest(model), acc, SALT)
    assert _run(model, acc, mkt, t, salt=SALT + 1, commitment=committed) == ["statement/commitment/bind"]
    more = list(acc)
    k = _offset(account_layout(model), "collateral" if kind == "health" else "amounts" if kind != "isolated"
                else "margins", 0)
    more[k] += 10**6
    assert _run(model, more, mkt, t, commitment=committed) == ["statement/commitment/bind"]


@pytest.mark.parametrize("kind", KINDS)
def test_market_of_another_shape_fails_the_header(kind):
    """A market vector whose header names other rate decimals (digest recomputed, so it binds):
    the header pin rejects it; the epoch (header[3]) is free."""
    model, market, pf, t = _example(kind, 0)
    acc, mkt = _vectors(model, market, pf)
    other = list(mkt)
    other[6] += 1
    assert _run(model, acc, other, t) == ["statement/header/h[6]"]
    other = list(mkt)
    other[3] += 1  # another epoch of the same model
    assert _run(model, acc, other, t) == []


@pytest.mark.parametrize("kind", KINDS)
def test_threshold_outside_its_range_is_rejected(kind):
    """threshold = r - 1 ("-1") would lower the bar below zero; its range check rejects it."""
    model, market, pf, t = _example(kind, len(MANIFEST[NAME[kind]]["cases"]) - 1)
    acc, mkt = _vectors(model, market, pf)
    bad = _run(model, acc, mkt, R - 1)
    assert "statement/threshold/assert_bits/recompose" in bad
    model, market, pf, t = _example(kind, 0)
    acc, mkt = _vectors(model, market, pf)
    top = 1 << (64 if kind == "health" else 128)
    assert "statement/threshold/assert_bits/recompose" in _run(model, acc, mkt, top)
