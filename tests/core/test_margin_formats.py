"""The margin file formats (zkmargin.margin.decimal, .schema, .model): exact decimal conversion,
validation errors that name the field and the value, field-element vectors, round trips."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from zkmargin.encoding import commitment, market_digest, short_string
from zkmargin.errors import MalformedInputError, MalformedJSONError
from zkmargin.field import R
from zkmargin.margin import (
    SchemaError,
    account_layout,
    format_amount,
    format_decimal,
    layout_length,
    load_market,
    load_model,
    load_portfolio,
    market_layout,
    parse_decimal,
    write_document,
)
from zkmargin.margin.model import HEADER_LENGTH, MODEL_CODES, model_digest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FOLDERS = ["cross", "isolated", "span_covered_write", "lending", "tiered"]


def _doc(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def _model(folder: str):
    return load_model(EXAMPLES / folder / "model.json")


# --- decimal strings -----------------------------------------------------------------------------

@pytest.mark.parametrize("text,decimals,signed,expected", [
    ("1234.5", 2, False, 123450),
    ("0", 0, False, 0),
    ("0.000001", 6, False, 1),
    ("1.50", 1, False, 15),  # trailing zeros beyond the declared decimals are exact
    ("7.000000000", 0, False, 7),
    ("-12.25", 2, True, -1225),
    ("-0", 3, False, 0),  # negative zero is zero, even for an unsigned field
    ("18446744073709551615", 0, False, 2**64 - 1),
])
def test_parse_decimal_valid(text, decimals, signed, expected):
    assert parse_decimal(text, decimals, path="x", signed=signed) == expected


@pytest.mark.parametrize("value", [
    "", "+1", "-", ".5", "5.", "1e5", "1E-2", " 1", "1 ", "1 000", "1,000", "01", "00.5", "0x10", "1.2.3",
    "١٢", "NaN", "inf", "--1", "1_000",
])
def test_parse_decimal_rejects_malformed_strings(value):
    with pytest.raises(SchemaError, match="is not a decimal number") as e:
        parse_decimal(value, 6, path="positions[0].size", source="p.json", signed=True)
    assert e.value.path == "positions[0].size" and e.value.source == "p.json"
    assert json.dumps(value) in str(e.value)


@pytest.mark.parametrize("value,kind", [(12, "a JSON number"), (1.5, "a JSON number"), (True, "not a string"),
                                        (None, "not a string"), (["1"], "not a string")])
def test_parse_decimal_rejects_non_strings(value, kind):
    with pytest.raises(SchemaError, match=kind):
        parse_decimal(value, 2, path="mark")


def test_parse_decimal_too_many_decimals_message():
    with pytest.raises(SchemaError) as e:
        parse_decimal("12.3456789", 6, path="positions[2].size", source="portfolio.json", signed=True)
    assert str(e.value) == 'portfolio.json: positions[2].size: "12.3456789" has 7 decimals, the model allows 6'


def test_parse_decimal_sign_and_bounds():
    with pytest.raises(SchemaError, match='"-5" is negative; the field is unsigned'):
        parse_decimal("-5", 0, path="amount")
    assert parse_decimal(str(2**63 - 1), 0, path="s", signed=True, bits=63) == 2**63 - 1
    assert parse_decimal(str(-(2**63) + 1), 0, path="s", signed=True, bits=63) == -(2**63) + 1
    for bad in (str(2**63), str(-(2**63))):
        with pytest.raises(SchemaError, match=r"\|value\| must be below 2\^63"):
            parse_decimal(bad, 0, path="s", signed=True, bits=63)
    with pytest.raises(SchemaError, match=r"price: \"184467440737095516.16\" is out of range: .* below 2\^64"):
        parse_decimal("184467440737095516.16", 2, path="price", bits=64)
    assert parse_decimal("1", 4, path="rate", maximum=10**4) == 10**4
    with pytest.raises(SchemaError, match='"1.0001" exceeds the maximum 1'):
        parse_decimal("1.0001", 4, path="rate", maximum=10**4)
    with pytest.raises(SchemaError, match="longer than 100"):
        parse_decimal("1" * 101, 0, path="x")
    with pytest.raises(ValueError):
        parse_decimal("1", 37, path="x")


def test_format_decimal_round_trip_and_amounts():
    rng = random.Random(7)
    for _ in range(500):
        d = rng.randint(0, 20)
        x = rng.randint(-(10**30), 10**30)
        text = format_decimal(x, d)
        assert parse_decimal(text, d, path="x", signed=True) == x
        assert text == format_decimal(parse_decimal(text, d, path="x", signed=True), d)
    assert format_decimal(123450, 2) == "1234.5" and format_decimal(-5, 3) == "-0.005" and format_decimal(0, 4) == "0"
    assert format_amount(6620 * 10**12, 12) == "6,620.00"
    assert format_amount(-1_234_567_891, 4) == "-123,456.7891"
    assert format_amount(5, 0) == "5"
    with pytest.raises(TypeError):
        format_decimal(1.5, 2)  # type: ignore[arg-type]


# --- schema errors: one test per kind ------------------------------------------------------------

def _model_error(mutate, folder: str = "cross") -> SchemaError:
    d = _doc(f"{folder}/model.json")
    mutate(d)
    with pytest.raises(SchemaError) as e:
        load_model(d)
    return e.value


def _market_error(mutate, folder: str = "cross") -> SchemaError:
    m = _model(folder)
    d = _doc(f"{folder}/market.json")
    mutate(d)
    with pytest.raises(SchemaError) as e:
        load_market(d, m)
    return e.value


def _portfolio_error(mutate, folder: str = "cross") -> SchemaError:
    m = _model(folder)
    d = _doc(f"{folder}/portfolio_pass.json")
    mutate(d)
    with pytest.raises(SchemaError) as e:
        load_portfolio(d, m)
    return e.value


def _set(path: list, value):
    def f(d):
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
    return f


def _delete(path: list):
    def f(d):
        for k in path[:-1]:
            d = d[k]
        del d[path[-1]]
    return f


def test_model_missing_field():
    e = _model_error(_delete(["sizes"]))
    assert e.path == "sizes" and "missing" in e.reason


def test_model_unknown_field():
    e = _model_error(_set(["decimal"], {}))
    assert e.path == "decimal" and "unknown field" in e.reason


def test_model_wrong_version_and_kind():
    assert _model_error(_set(["version"], 2)).path == "version"
    e = _model_error(_set(["kind"], "market"))
    assert e.path == "kind" and '"venue_model"' in e.reason and '"market"' in e.reason


def test_documents_swapped_are_named_by_kind():
    m = _model("cross")
    with pytest.raises(SchemaError) as e:
        load_model(_doc("cross/market.json"))
    assert e.value.path == "kind" and '"venue_model"' in e.value.reason
    with pytest.raises(SchemaError) as e:
        load_market(_doc("cross/portfolio_pass.json"), m)
    assert e.value.path == "kind" and '"portfolio"' in e.value.reason
    with pytest.raises(SchemaError) as e:
        load_portfolio(_doc("cross/market.json"), m)
    assert e.value.path == "kind"


def test_model_unknown_margin_model():
    e = _model_error(_set(["margin_model"], "portfolio-var"))
    assert e.path == "margin_model" and '"portfolio-var"' in e.reason


def test_model_mistyped_size():
    e = _model_error(_set(["sizes", "n_assets"], "3"))
    assert e.path == "sizes.n_assets" and "expected an integer" in e.reason


def test_model_size_out_of_range():
    e = _model_error(_set(["sizes", "n_rate_brackets"], 17))
    assert e.path == "sizes.n_rate_brackets" and "[1, 16]" in e.reason
    assert _model_error(_set(["sizes", "n_instruments"], 1024)).path == "sizes"  # with n_assets, over 2^10


def test_model_size_not_of_this_model():
    e = _model_error(_set(["sizes", "n_scenarios"], 16))
    assert e.path == "sizes.n_scenarios" and "not a size of the cross model" in e.reason


def test_model_more_symbols_than_slots():
    e = _model_error(_set(["sizes", "n_instruments"], 2))
    assert e.path == "instruments" and "3 symbols exceed sizes.n_instruments = 2" in e.reason


def test_model_duplicate_symbol():
    e = _model_error(_set(["assets"], ["USDC", "BTC", "USDC"]))
    assert e.path == "assets[2]" and 'duplicate symbol "USDC"' in e.reason


def test_model_malformed_symbol_and_venue():
    assert _model_error(_set(["instruments"], ["BTC PERP"])).path == "instruments[0]"
    assert _model_error(_set(["venue"], "v" * 32)).path == "venue"


def test_model_list_the_model_does_not_have():
    e = _model_error(_set(["instruments"], ["X"]), "lending")
    assert e.path == "instruments" and "the health model has no instruments" in e.reason


def test_model_bad_decimals_and_parameters():
    assert _model_error(_set(["decimals", "price"], 19)).path == "decimals.price"
    assert _model_error(_set(["decimals", "base"], 17), "lending").path == "decimals.base"  # > quantity + price
    e = _model_error(_set(["parameters", "requirement"], "both"))
    assert e.path == "parameters.requirement" and '"both"' in e.reason
    e = _model_error(_set(["parameters", "short_option_floor"], "yes"), "span_covered_write")
    assert e.path == "parameters.short_option_floor"


def test_market_other_venue_or_model():
    e = _market_error(_set(["venue"], "elsewhere"))
    assert e.path == "venue" and '"elsewhere"' in e.reason
    assert _market_error(_set(["model_id"], "demo-tiered")).path == "model_id"


def test_market_unknown_symbol():
    e = _market_error(_set(["assets", 1, "symbol"], "DOGE"))
    assert e.path == "assets[1].symbol" and 'unknown symbol "DOGE"' in e.reason


def test_market_duplicate_and_missing_symbol():
    def dup(d):
        d["instruments"][2] = copy.deepcopy(d["instruments"][0])
    e = _market_error(dup)
    assert e.path == "instruments[2].symbol" and "duplicate" in e.reason
    e = _market_error(lambda d: d["assets"].pop(1))
    assert e.path == "assets" and "no entry for BTC" in e.reason


def test_market_value_does_not_fit():
    e = _market_error(_set(["instruments", 0, "mark"], "65000.001"))
    assert str(e) == 'market: instruments[0].mark: "65000.001" has 3 decimals, the model allows 2'
    e = _market_error(_set(["assets", 2, "haircut"], "1.5"))
    assert e.path == "assets[2].haircut" and "exceeds the maximum 1" in e.reason
    e = _market_error(_set(["epoch"], -1))
    assert e.path == "epoch"


def test_market_bracket_count():
    e = _market_error(lambda d: d["instruments"][1]["rate_brackets"].pop(0))
    assert e.path == "instruments[1].rate_brackets" and "expected 2 brackets (sizes.n_rate_brackets), got 1" in e.reason


def test_market_bracket_bounds():
    e = _market_error(_set(["instruments", 0, "rate_brackets", 1, "up_to"], "300000"))
    assert e.path == "instruments[0].rate_brackets[1].up_to" and "expected null" in e.reason
    e = _market_error(_set(["instruments", 0, "rate_brackets", 0, "up_to"], None))
    assert e.path == "instruments[0].rate_brackets[0].up_to" and "only the last" in e.reason
    e = _market_error(_set(["assets", 1, "tiers", 1, "up_to"], "1000"), "tiered")
    assert e.path == "assets[1].tiers[1].up_to" and "must exceed the previous bound" in e.reason


def test_market_rates_must_not_decrease():
    e = _market_error(_set(["instruments", 2, "rate_brackets", 1], {"up_to": None, "initial": "0.04",
                                                                    "maintenance": "0.03"}))
    assert e.path == "instruments[2].rate_brackets[1].initial" and "must not decrease" in e.reason
    e = _market_error(_set(["instruments", 0, "rate_brackets", 0, "maintenance"], "0.03"))
    assert e.path == "instruments[0].rate_brackets[0].maintenance" and "exceeds the initial rate" in e.reason
    e = _market_error(_set(["assets", 1, "tiers", 2, "haircut"], "0.05"), "tiered")
    assert e.path == "assets[1].tiers[2].haircut"


def test_market_risk_array_length_and_sign():
    e = _market_error(lambda d: d["instruments"][0]["risk_array"].pop(), "span_covered_write")
    assert e.path == "instruments[0].risk_array" and "expected 16 scenarios" in e.reason
    m = _model("span_covered_write")
    assert load_market(_doc("span_covered_write/market.json"), m).instruments[1].risk_array[12] == -338000


def test_market_field_the_model_does_not_use():
    e = _market_error(_set(["assets", 0, "haircut"], "0"), "lending")
    assert e.path == "assets[0].haircut" and "not used by the health model" in e.reason
    model = _doc("span_covered_write/model.json")
    model["parameters"]["short_option_floor"] = False
    with pytest.raises(SchemaError, match="without the short option floor") as e:
        load_market(_doc("span_covered_write/market.json"), load_model(model))
    assert e.value.path == "instruments[0].short_option_minimum"


def test_portfolio_unknown_instrument_and_asset():
    e = _portfolio_error(_set(["positions", 1, "instrument"], "XRP-PERP"))
    assert e.path == "positions[1].instrument" and '"XRP-PERP"' in e.reason
    e = _portfolio_error(_set(["collateral", 0, "asset"], "DAI"))
    assert e.path == "collateral[0].asset" and 'unknown asset "DAI"' in e.reason


def test_portfolio_duplicates():
    e = _portfolio_error(_set(["positions", 2, "instrument"], "BTC-PERP"))
    assert e.path == "positions[2].instrument" and "at most one position per instrument" in e.reason
    e = _portfolio_error(_set(["collateral", 2, "asset"], "BTC"))
    assert e.path == "collateral[2].asset" and "at most one per asset" in e.reason


def test_portfolio_list_or_field_the_model_does_not_have():
    e = _portfolio_error(_set(["debts"], []))
    assert e.path == "debts" and "the cross model has no debts" in e.reason
    e = _portfolio_error(_set(["positions", 0, "margin"], "1"))
    assert e.path == "positions[0].margin" and "not used by the cross model" in e.reason
    e = _portfolio_error(_delete(["positions", 0, "margin"]), "isolated")
    assert e.path == "positions[0].margin" and "missing" in e.reason


def test_portfolio_size_out_of_range_and_model_mismatch():
    e = _portfolio_error(_set(["positions", 0, "size"], "9223372036854.775808"))  # 2^63 base units
    assert e.path == "positions[0].size" and "2^63" in e.reason
    e = _portfolio_error(_set(["model_id"], "demo-tiered"))
    assert e.path == "model_id"


def test_errors_name_the_file(tmp_path):
    d = _doc("cross/portfolio_pass.json")
    d["positions"][2]["size"] = "12.3456789"
    path = tmp_path / "portfolio.json"
    path.write_text(json.dumps(d))
    with pytest.raises(SchemaError) as e:
        load_portfolio(path, _model("cross"))
    assert str(e.value) == f'{path}: positions[2].size: "12.3456789" has 7 decimals, the model allows 6'
    assert isinstance(e.value, MalformedInputError)


def test_not_json_and_not_an_object(tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text('{"version": 1,')
    with pytest.raises(MalformedJSONError, match="model.json"):
        load_model(bad)
    with pytest.raises(SchemaError, match="expected a JSON object"):
        load_model([1, 2])  # type: ignore[arg-type]


# --- field-element vectors -----------------------------------------------------------------------

def _expected_lengths(m) -> tuple[int, int]:
    """The documented vector lengths, written out per model (model.py's docstring)."""
    n_i, n_a, k, t, s = m.n_instruments, m.n_assets, m.n_rate_brackets, m.n_tiers, m.n_scenarios
    rates = n_i * (1 + (k - 1) + 2 * k)
    market = {
        "cross": 16 + rates + 2 * n_a,
        "isolated": 16 + rates,
        "scenario": 16 + n_i * (1 + s + (1 if m.short_option_floor else 0)) + 2 * n_a,
        "health": 16 + 2 * n_a,
        "tiered": 16 + rates + n_a * (1 + (t - 1) + t),
    }[m.margin_model]
    account = {"cross": 2 * n_i + n_a, "isolated": 3 * n_i, "scenario": 2 * n_i + n_a, "health": 2 * n_a,
               "tiered": 2 * n_i + n_a}[m.margin_model]
    return market, account


@pytest.mark.parametrize("folder", FOLDERS)
def test_vectors_length_determinism_and_range(folder):
    m = _model(folder)
    mk = load_market(EXAMPLES / folder / "market.json", m)
    pf = load_portfolio(EXAMPLES / folder / "portfolio_pass.json", m)
    mv, av = mk.to_field_elements(m), pf.to_field_elements(m)
    assert (len(mv), len(av)) == _expected_lengths(m)
    assert len(mv) == layout_length(market_layout(m)) and len(av) == layout_length(account_layout(m))
    assert all(isinstance(x, int) and 0 <= x < R for x in mv + av)
    # deterministic: the same documents loaded again give the same vectors
    m2 = _model(folder)
    assert load_market(EXAMPLES / folder / "market.json", m2).to_field_elements(m2) == mv
    assert load_portfolio(EXAMPLES / folder / "portfolio_pass.json", m2).to_field_elements(m2) == av
    assert 0 <= market_digest(mv) < R and 0 <= commitment(model_digest(m2), av, 12345) < R


@pytest.mark.parametrize("folder", FOLDERS)
def test_vector_lengths_follow_the_sizes(folder):
    d = _doc(f"{folder}/model.json")
    for key in ("n_instruments", "n_assets"):  # more padding slots: the same documents still load
        if key in d["sizes"]:
            d["sizes"][key] += 3
    m = load_model(d)
    mv = load_market(EXAMPLES / folder / "market.json", m).to_field_elements(m)
    av = load_portfolio(EXAMPLES / folder / "portfolio_pass.json", m).to_field_elements(m)
    assert (len(mv), len(av)) == _expected_lengths(m)
    assert mv[-1] == 0 and av[-1] == 0  # padding slots are zero
    for key in ("n_rate_brackets", "n_tiers", "n_scenarios"):  # the layout follows every size
        if key in d["sizes"]:
            d["sizes"][key] += 2
    m = load_model(d)
    assert (layout_length(market_layout(m)), layout_length(account_layout(m))) == _expected_lengths(m)


def test_market_header_and_padding():
    m = _model("cross")
    mv = load_market(EXAMPLES / "cross/market.json", m).to_field_elements(m)
    assert mv[:HEADER_LENGTH] == [1, MODEL_CODES["cross"], short_string("zkmargin-demo"), 1, 6, 2, 4, 4, 3, 2, 1,
                                  0, 0, 0, 0, 0]
    marks = mv[16:20]
    assert marks == [6500000, 350000, 15000, 0]  # the fourth instrument slot is padding
    bounds = mv[20:24]  # one finite bound per instrument, value decimals 8
    assert bounds == [250000 * 10**8, 100000 * 10**8, 50000 * 10**8, 0]
    h = _model("lending")
    hv = load_market(EXAMPLES / "lending/market.json", h).to_field_elements(h)
    assert hv[:16] == [1, 4, short_string("zkmargin-lend"), 1, 8, 8, 4, 0, 4, 0, 0, 0, 0, 0, 8, 18]
    assert hv[16:] == [2000 * 10**8, 10**8, 60000 * 10**8, 0, 8000, 7800, 7500, 0]


def test_signed_values_are_encoded_mod_r():
    m = _model("span_covered_write")
    pv = load_portfolio(EXAMPLES / "span_covered_write/portfolio_pass.json", m).to_field_elements(m)
    assert pv == [1, R - 1, 20250000, 125000, 7000]  # sizes (1, -1), entries, USD amount (0 decimals)
    mv = load_market(EXAMPLES / "span_covered_write/market.json", m).to_field_elements(m)
    risk = mv[16 + 2 : 16 + 2 + 32]
    assert risk[4] == R - 333000 and risk[16 + 12] == R - 338000 and risk[2] == 333000


def test_vectors_change_with_every_value():
    m = _model("tiered")
    base = load_market(EXAMPLES / "tiered/market.json", m).to_field_elements(m)
    d = _doc("tiered/market.json")
    seen = {tuple(base)}
    for mutate in (_set(["epoch"], 2), _set(["instruments", 1, "mark"], "3500.01"),
                   _set(["assets", 1, "tiers", 0, "up_to"], "1000.01"),
                   _set(["assets", 0, "tiers", 2, "haircut"], "0.03")):
        dd = copy.deepcopy(d)
        mutate(dd)
        v = tuple(load_market(dd, m).to_field_elements(m))
        assert v not in seen
        seen.add(v)
    pf = _doc("tiered/portfolio_pass.json")
    a = load_portfolio(pf, m).to_field_elements(m)
    pf["positions"][1]["size"] = "100"
    assert load_portfolio(pf, m).to_field_elements(m) != a


def test_vectors_refuse_documents_of_another_model():
    m, other = _model("cross"), _model("tiered")
    mk = load_market(EXAMPLES / "cross/market.json", m)
    with pytest.raises(SchemaError, match="model_id"):
        mk.to_field_elements(other)


# --- round trips ---------------------------------------------------------------------------------

@pytest.mark.parametrize("folder", FOLDERS)
def test_round_trip_load_dump_load(folder, tmp_path):
    m = _model(folder)
    assert load_model(m.to_dict()) == m and load_model(_doc(f"{folder}/model.json")) == m
    docs = [("market.json", load_market), ("portfolio_pass.json", load_portfolio),
            ("portfolio_fail.json", load_portfolio)]
    for name, loader in docs:
        obj = loader(EXAMPLES / folder / name, m)
        dumped = obj.to_dict(m)
        again = loader(dumped, m)
        assert again == obj and again.to_dict(m) == dumped
        assert loader(_doc(f"{folder}/{name}"), m) == obj  # a dict loads like its file
        out = tmp_path / name
        write_document(out, dumped)
        assert loader(out, m) == obj
    write_document(tmp_path / "model.json", m.to_dict())
    assert load_model(tmp_path / "model.json") == m


def test_margin_package_loads_no_prover_dependencies():
    code = ("import sys, zkmargin.margin; "
            "print(','.join(m for m in ('numpy', 'numba', 'galois') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_model_digest_is_computed_once_per_instance_and_follows_replace():
    """model_digest caches its value on the (frozen) model; a replaced model gets its own, freshly
    computed, so a digest can never outlive the fields it was computed from."""
    import dataclasses

    from zkmargin.margin.model import _model_digest

    model = load_model(EXAMPLES / "cross" / "model.json")
    first = model_digest(model)
    assert first == _model_digest(model) and model_digest(model) is first
    for change in ({"model_id": "another-id"}, {"statement": "ratio"}, {"requirement": "maintenance"},
                   {"instruments": (*model.instruments[:-1], "RENAMED-PERP")}):
        other = dataclasses.replace(model, **change)
        assert model_digest(other) == _model_digest(other) != first, change
    assert model_digest(dataclasses.replace(model)) == first
