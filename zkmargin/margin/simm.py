"""Sensitivity-based margin (ISDA SIMM delta and vega, one risk class) in exact integer arithmetic.

The ``simm`` margin model (``MODEL_KINDS`` code 6). The account holds, per risk-factor slot k, a
signed delta sensitivity s_k and a signed vega risk v_k (value units 10**-VD quote, VD = QD + PD),
and collateral amounts a_j. The model (``SimmParameters``, bound by the model digest and constant
in the circuit) gives each factor its bucket b(k) and each bucket its delta risk weight w_b, vega
risk weight vw_b (both at RD decimals, RS = 10**RD), delta and vega concentration thresholds T_b,
VT_b (value units), intra-bucket correlation rho_b and the inter-bucket correlations gamma_bc
(both at CD decimals, C = 10**CD). The market gives each collateral asset's price and haircut.

Semantics (ISDA SIMM Methodology, delta and vega margin of one risk class, e.g. equity: paras on
Delta Margin, Vega Margin and Concentration Risk; the risk class's margin is their sum). With
``csqrt(N, D)`` the least integer r >= 0 with ``r*r*D >= N`` (0 for N <= 0; i.e. ceil(sqrt(N/D)):
every square root is rounded UP, against the trader), computed for x = s (delta: w, T) and for
x = v (vega: vw, VT) alike, for each bucket b with factors k, l:

    a_k  = |x_k|,   M_k = max(T_b, a_k)              (CR_k**2 = M_k / T_b: concentration)
    WS_k = sign(x_k) * csqrt(w_b**2 * a_k**2 * M_k, T_b)          (= RW * x_k * CR_k, rounded out)
    Y_b  = C * sum_k a_k**2 * M_k + rho_b * sum_{k != l} x_k * x_l * min(M_k, M_l)
    K_b  = csqrt(w_b**2 * Y_b, C * T_b)
    S_b  = max(min(sum_k WS_k, K_b), -K_b)
    Z    = C * sum_b K_b**2 + sum_{b != c} gamma_bc * S_b * S_c           (regular buckets only)
    margin = csqrt(Z, C) + sum_{residual b} K_b

K_b is SIMM's sqrt(sum_k WS_k**2 + sum_{k != l} rho_kl f_kl WS_k WS_l) with f_kl = min(CR_k,
CR_l) / max(CR_k, CR_l): since WS_k = RW x_k CR_k, f_kl WS_k WS_l = RW**2 x_k x_l min(CR_k,
CR_l)**2 = RW**2 x_k x_l min(M_k, M_l) / T_b, which is rational, so the whole of K_b**2 is one
exact fraction and K_b one rounded square root. Scale: w_b * x_k is at 10**-(VD + RD) quote (the
report decimals); WS_k, K_b, S_b and margin are integers at those decimals, each rounded once
upward from its exact value given the rounded values it is built from (K_b and S_b enter Z
rounded). Requirement Q = delta margin + vega margin. Equity E = sum_j a_j * p_j * (RS - h_j)
(as the cross model, report decimals). Check: ``E - Q >= RS * T`` (T the public threshold, value
units), surplus = E - Q; with ``parameters.statement`` "ratio" ("ratio-above") the collateral
coverage ``E / Q >= t`` (``> t``), t at 4 decimals, as for the other value models
(``engine._as_ratio``; header index 15).

Vega input: the slot's vega is SIMM's vega risk summed over the factor's option tenors,
``sum_j HVR * sigma_kj * dV/dsigma_kj`` with ``sigma_kj = RW_k * sqrt(365/14) / Phi^-1(0.99)``
for equity (the trader computes it: sigma is irrational, so it cannot be a model constant at
finite decimals), vw_b is VRW and VT_b the vega threshold; concentration compares that vega risk
with VT_b, as the methodology does.

Bounds (``simm_params``): |x| < 2**48, 1 <= T < 2**48 so M < 2**48 and M / T < 2**48; w < 2**32;
C < 2**14, 0 <= rho <= C, |gamma| <= C; at most 32 factors, 16 buckets. Signs: Y_b >= 0 because
rho_b is in [0, 1] and the matrix [min(M_k, M_l)] is positive semidefinite (a min kernel); Z >= 0
because the loader checks the inter-bucket matrix (diagonal C) to be positive semidefinite, exactly,
and |S_b| <= K_b: Z = S' Gamma S + C * sum_b (K_b**2 - S_b**2). So no root ever sees a negative
radicand (``csqrt``'s 0 for N <= 0 is never used by a loaded model). Then w**2 a**2 M < 2**208 and
|WS_k| < 2**105; |Y_b| < 2**(14 + 144 + 11) = 2**169 and w**2 Y_b < 2**233; K_b**2 <= w**2 Y_b /
(C T) + 2 K_b so K_b < 2**111 (Y_b / (C T) <= 2 * 32**2 * 2**144); |sum WS| < 2**110; |Z| <
2**14 * 2**4 * 2**222 + 2**14 * 2**8 * 2**222 < 2**245; margin < 2**116 (delta) and Q < 2**117;
|E| < 2**198 as in the cross model (collateral only, no uPnL); |E - Q - RS * T| < 2**199.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import isqrt
from typing import TYPE_CHECKING, Any

from zkmargin.field import from_signed

from .decimal import format_amount, format_decimal, show_value
from .errors import SchemaError
from .simm_params import (
    SIMM_MAX_BUCKETS,
    SIMM_MAX_CORRELATION_DECIMALS,
    SIMM_MAX_FACTORS,
    SIMM_MAX_RATE_DECIMALS,
    SIMM_SENS_BITS,
    SIMM_WEIGHT_BITS,
    Sensitivity,
    SimmBucket,
    SimmParameters,
)

if TYPE_CHECKING:  # pragma: no cover
    from .engine import MarginReport
    from .model import Market, Portfolio, VenueModel

__all__ = ["csqrt", "MarginParts", "margin_parts", "evaluate_simm", "parse_simm_model", "parse_simm_portfolio",
           "simm_model_dict", "simm_portfolio_dict", "psd_problem"]


def csqrt(n: int, d: int) -> int:
    """The least integer r >= 0 with ``r * r * d >= n`` (ceil(sqrt(n / d)); 0 for n <= 0). d >= 1."""
    if d < 1:
        raise ValueError(f"csqrt: divisor must be >= 1, got {d}")
    if n <= 0:
        return 0
    q = -(-n // d)
    r = isqrt(q)
    return r if r * r >= q else r + 1


def psd_problem(matrix: Sequence[Sequence[int]]) -> str:
    """"" when the symmetric integer matrix is positive semidefinite, else why not (exact, Fractions).

    Symmetric Gaussian elimination: a negative pivot, or a zero pivot with a non-zero rest of its
    row, means not PSD.
    """
    from fractions import Fraction

    a = [[Fraction(x) for x in row] for row in matrix]
    n = len(a)
    for i in range(n):
        if a[i][i] < 0:
            return f"not positive semidefinite (pivot {i} is negative)"
        if a[i][i] == 0:
            if any(a[i][j] != 0 for j in range(i + 1, n)):
                return f"not positive semidefinite (pivot {i} is zero, its row is not)"
            continue
        for j in range(i + 1, n):
            f = a[j][i] / a[i][i]
            for k in range(i, n):
                a[j][k] -= f * a[i][k]
    return ""


@dataclass(frozen=True)
class MarginParts:
    """One margin type's (delta or vega) intermediate integers (report decimals), for tests and reports.

    Attributes:
        ws: WS_k per factor slot. y: Y_b per bucket. k: K_b per bucket. s: S_b per bucket (0 for a
        residual bucket). z: Z. margin: the margin of this type.
    """

    ws: tuple[int, ...]
    y: tuple[int, ...]
    k: tuple[int, ...]
    s: tuple[int, ...]
    z: int
    margin: int


def margin_parts(params: SimmParameters, x: Sequence[int], vega: bool) -> MarginParts:
    """The delta (vega=False) or vega margin of the sensitivities ``x`` (one per factor slot; slots
    beyond the listed factors must be 0), by the module docstring's formulas."""
    c = params.correlation_scale
    ws = [0] * len(x)
    ys, ks, ss = [], [], []
    residual = 0
    for b, bucket in enumerate(params.buckets):
        w = bucket.vega_weight if vega else bucket.delta_weight
        t = bucket.vega_threshold if vega else bucket.delta_threshold
        members = params.members(b)
        m = {k: max(t, abs(x[k])) for k in members}
        for k in members:
            r = csqrt(w * w * x[k] * x[k] * m[k], t)
            ws[k] = r if x[k] >= 0 else -r
        y = c * sum(x[k] * x[k] * m[k] for k in members)
        y += bucket.correlation * sum(x[k] * x[el] * min(m[k], m[el]) for k in members for el in members if k != el)
        kb = csqrt(w * w * y, c * t)
        ys.append(y)
        ks.append(kb)
        if bucket.residual:
            residual += kb
            ss.append(0)
        else:
            ss.append(max(min(sum(ws[k] for k in members), kb), -kb))
    regular = params.regular()
    z = c * sum(ks[b] * ks[b] for b in regular)
    for i, b in enumerate(regular):
        for j, e in enumerate(regular):
            if i != j:
                z += params.inter_bucket[i][j] * ss[b] * ss[e]
    return MarginParts(tuple(ws), tuple(ys), tuple(ks), tuple(ss), z, csqrt(z, c) + residual)


def evaluate_simm(model: VenueModel, market: Market, portfolio: Portfolio, t: int) -> MarginReport:
    """The simm model's MarginReport (module docstring); ``t`` the parsed public threshold."""
    from .engine import AssetLine, _report

    params = model.simm
    assert params is not None
    rs = model.rate_scale
    delta, vega = sensitivity_vectors(model, portfolio)
    dm, vm = margin_parts(params, delta, False), margin_parts(params, vega, True)
    amounts = portfolio.collateral_amounts(model)
    equity, lines = 0, []
    for j, asset in enumerate(market.assets):
        value = amounts[j] * asset.price
        weighted = value * (rs - asset.haircut)
        equity += weighted
        if amounts[j]:
            lines.append(AssetLine(j, asset.symbol, amounts[j], value * rs, weighted))
    requirement = dm.margin + vm.margin
    dd = model.report_decimals
    label = f"delta margin {format_amount(dm.margin, dd)} + vega margin {format_amount(vm.margin, dd)}"
    return _report(model, t, equity, requirement, equity - requirement, rs * t, binding_label=label,
                   assets=tuple(lines))


def sensitivity_vectors(model: VenueModel, portfolio: Portfolio) -> tuple[list[int], list[int]]:
    """(delta, vega), dense over the model's factor slots (0 where the portfolio has none)."""
    delta, vega = [0] * model.n_instruments, [0] * model.n_instruments
    for k, x in enumerate(portfolio.sensitivities):
        try:
            i = model.instrument_index(x.factor)
        except KeyError:
            raise SchemaError("portfolio", f"sensitivities[{k}].factor", f"unknown factor {x.factor!r}") from None
        delta[i], vega[i] = x.delta, x.vega
    return delta, vega


# --- documents -----------------------------------------------------------------------------------

_BUCKET_KEYS = ("name", "delta_risk_weight", "vega_risk_weight", "delta_threshold", "vega_threshold",
                "correlation")
_PARAM_KEYS = ("risk_class", "calibration", "correlation_decimals", "buckets", "inter_bucket_correlations")


def parse_simm_model(doc: Any, v: Any) -> VenueModel:
    """The ``simm`` venue model document (called by ``schema.load_model``; ``doc`` its reading context).

    Document::

        {"version": 1, "kind": "venue_model", "model_id": ..., "venue": ..., "margin_model": "simm",
         "sizes": {"n_factors": 16, "n_assets": 1},
         "factors": [{"symbol": "ISIN:INE044A01036", "bucket": "1"}, ...],   # at most n_factors
         "assets": ["USD"],
         "decimals": {"quantity": 2, "price": 0, "rate": 4},
         "parameters": {"risk_class": "equity", "calibration": "ISDA SIMM v2.5, 10-day",
                        "correlation_decimals": 2,
                        "buckets": [{"name": "1", "delta_risk_weight": "26", "vega_risk_weight": "0.45",
                                     "delta_threshold": "10000000", "vega_threshold": "210000000",
                                     "correlation": "0.18"}, ...,
                                    {..., "residual": true}],
                        "inter_bucket_correlations": [[1, 0.2, ...], ...]}}   # decimal strings

    Raises:
        SchemaError: any field missing, unknown, mistyped or out of the bounds of ``simm_params``.
    """
    from .model import VenueModel
    from .schema import _ID, _SYMBOL, _VENUE, _statement, _symbols

    top = ("version", "kind", "model_id", "venue", "margin_model", "sizes", "factors", "assets", "decimals",
           "parameters")
    d = doc.as_obj(v, "", top, ("description",))
    model_id = doc.as_str(d["model_id"], "model_id", _ID, "an identifier (letters, digits, ._:-; at most 64)")
    venue = doc.as_str(d["venue"], "venue", _VENUE, "a venue id (letters, digits, ._:-; 1 to 31 characters)")
    sd = doc.as_obj(d["sizes"], "sizes", ("n_factors", "n_assets"), why=lambda k: " (not a size of the simm model)")
    n_f = doc.as_int(sd["n_factors"], "sizes.n_factors", 1, SIMM_MAX_FACTORS)
    n_a = doc.as_int(sd["n_assets"], "sizes.n_assets", 1, SIMM_MAX_FACTORS)
    dd = doc.as_obj(d["decimals"], "decimals", ("quantity", "price", "rate"))
    qd, pd = (doc.as_int(dd[k], f"decimals.{k}", 0, 18) for k in ("quantity", "price"))
    rd = doc.as_int(dd["rate"], "decimals.rate", 0, SIMM_MAX_RATE_DECIMALS)
    vd = qd + pd
    p = doc.as_obj(d["parameters"], "parameters", _PARAM_KEYS, ("statement",),
                   why=lambda k: " (not a parameter of the simm model)")
    statement = _statement(doc, p)
    for k in ("risk_class", "calibration"):
        if not isinstance(p[k], str) or not 0 < len(p[k]) <= 200:
            raise doc.fail(f"parameters.{k}", f"expected a label of 1 to 200 characters, got {show_value(p[k])}")
    cd = doc.as_int(p["correlation_decimals"], "parameters.correlation_decimals", 0, SIMM_MAX_CORRELATION_DECIMALS)
    c = 10**cd
    items = doc.as_list(p["buckets"], "parameters.buckets")
    if not 1 <= len(items) <= SIMM_MAX_BUCKETS:
        raise doc.fail("parameters.buckets", f"expected 1 to {SIMM_MAX_BUCKETS} buckets, got {len(items)}")
    buckets: list[SimmBucket] = []
    names: dict[str, int] = {}
    for b, x in enumerate(items):
        path = f"parameters.buckets[{b}]"
        e = doc.as_obj(x, path, _BUCKET_KEYS, ("residual",))
        name = doc.as_str(e["name"], f"{path}.name", _SYMBOL, "a bucket name")
        if name in names:
            raise doc.fail(f"{path}.name", f"duplicate bucket {show_value(name)}")
        names[name] = b
        residual = e.get("residual", False)
        if not isinstance(residual, bool):
            raise doc.fail(f"{path}.residual", f"expected true or false, got {show_value(residual)}")
        w = doc.dec(e["delta_risk_weight"], f"{path}.delta_risk_weight", rd, bits=SIMM_WEIGHT_BITS)
        vw = doc.dec(e["vega_risk_weight"], f"{path}.vega_risk_weight", rd, bits=SIMM_WEIGHT_BITS)
        t = doc.dec(e["delta_threshold"], f"{path}.delta_threshold", vd, bits=SIMM_SENS_BITS)
        vt = doc.dec(e["vega_threshold"], f"{path}.vega_threshold", vd, bits=SIMM_SENS_BITS)
        for key, val in (("delta_threshold", t), ("vega_threshold", vt)):
            if val < 1:
                raise doc.fail(f"{path}.{key}", "a concentration threshold must be positive")
        rho = doc.dec(e["correlation"], f"{path}.correlation", cd, bits=14)
        if rho > c:  # in [0, 1]: then Y_b >= 0 (engine docstring)
            raise doc.fail(f"{path}.correlation", f"{show_value(e['correlation'])} is outside [0, 1]")
        buckets.append(SimmBucket(name, w, vw, t, vt, rho, residual))
    n_r = sum(1 for x in buckets if not x.residual)
    rows = doc.as_list(p["inter_bucket_correlations"], "parameters.inter_bucket_correlations")
    if len(rows) != n_r:
        raise doc.fail("parameters.inter_bucket_correlations",
                       f"expected {n_r} rows (one per non-residual bucket), got {len(rows)}")
    gamma: list[tuple[int, ...]] = []
    for i, row in enumerate(rows):
        path = f"parameters.inter_bucket_correlations[{i}]"
        cells = doc.as_list(row, path)
        if len(cells) != n_r:
            raise doc.fail(path, f"expected {n_r} entries, got {len(cells)}")
        vals = tuple(doc.dec(g, f"{path}[{j}]", cd, signed=True, bits=14) for j, g in enumerate(cells))
        for j, g in enumerate(vals):
            if abs(g) > c or (i == j and g != c):
                raise doc.fail(f"{path}[{j}]", f"{show_value(cells[j])}: entries lie in [-1, 1], the diagonal is 1")
        gamma.append(vals)
    for i in range(n_r):
        for j in range(i):
            if gamma[i][j] != gamma[j][i]:
                raise doc.fail(f"parameters.inter_bucket_correlations[{i}][{j}]", "the matrix must be symmetric")
    problem = psd_problem(gamma)
    if problem:  # then Z >= 0 (engine docstring)
        raise doc.fail("parameters.inter_bucket_correlations", problem)
    factors = doc.as_list(d["factors"], "factors")
    symbols: list[str] = []
    fb: list[int] = []
    for i, x in enumerate(factors):
        e = doc.as_obj(x, f"factors[{i}]", ("symbol", "bucket"))
        symbols.append(e["symbol"])
        if e["bucket"] not in names:
            raise doc.fail(f"factors[{i}].bucket", f"unknown bucket {show_value(e['bucket'])}")
        fb.append(names[e["bucket"]])
    instruments = _symbols(doc, {"factors": symbols}, "factors", n_f)
    assets = _symbols(doc, d, "assets", n_a)
    params = SimmParameters(p["risk_class"], p["calibration"], cd, tuple(buckets), tuple(gamma), tuple(fb))
    return VenueModel(model_id=model_id, venue=venue, margin_model="simm", instruments=instruments, assets=assets,
                      n_instruments=n_f, n_assets=n_a, n_rate_brackets=0, n_tiers=0, n_scenarios=0,
                      quantity_decimals=qd, price_decimals=pd, rate_decimals=rd, simm=params, statement=statement,
                      description=doc.description(d))


def parse_simm_portfolio(doc: Any, v: Any, model: VenueModel) -> Portfolio:
    """The ``simm`` portfolio document (called by ``schema.load_portfolio``)::

        {"version": 1, "kind": "portfolio", "model_id": ...,
         "sensitivities": [{"factor": "ISIN:INE044A01036", "delta": "6000000", "vega": "0"}],
         "collateral": [{"asset": "USD", "amount": "200000000"}]}

    delta and vega are signed value amounts (value decimals), |x| < 2**48; "vega" may be omitted
    (0); at most one entry per factor. Both lists are optional.
    """
    from .model import Portfolio
    from .schema import _holdings

    d = doc.as_obj(v, "", ("version", "kind", "model_id"), ("description", "sensitivities", "collateral"),
                   why=lambda k: " (the simm model has no positions or debts)" if k in ("positions", "debts") else "")
    if d["model_id"] != model.model_id:
        raise doc.fail("model_id", f"{show_value(d['model_id'])} is not the venue model {show_value(model.model_id)}")
    vd = model.value_decimals
    seen: set[str] = set()
    out: list[Sensitivity] = []
    for k, x in enumerate(doc.as_list(d.get("sensitivities", []), "sensitivities")):
        path = f"sensitivities[{k}]"
        e = doc.as_obj(x, path, ("factor", "delta"), ("vega",))
        f = e["factor"]
        if f not in model.instruments:
            raise doc.fail(f"{path}.factor", f"unknown factor {show_value(f)} (the model lists "
                                             f"{', '.join(model.instruments)})")
        if f in seen:
            raise doc.fail(f"{path}.factor", f"a second entry for {show_value(f)}: at most one per factor")
        seen.add(f)
        delta = doc.dec(e["delta"], f"{path}.delta", vd, signed=True, bits=SIMM_SENS_BITS)
        vega = doc.dec(e["vega"], f"{path}.vega", vd, signed=True, bits=SIMM_SENS_BITS) if "vega" in e else 0
        out.append(Sensitivity(f, delta, vega))
    return Portfolio(model_id=d["model_id"], collateral=_holdings(doc, d, "collateral", model),
                     sensitivities=tuple(out), description=doc.description(d))


def _dec(x: int, decimals: int) -> str:
    return format_decimal(x, decimals)


def simm_model_dict(model: VenueModel) -> dict[str, Any]:
    """The canonical ``simm`` venue model document: ``load_model(simm_model_dict(m)) == m``."""
    p = model.simm
    assert p is not None
    rd, vd, cd = model.rate_decimals, model.value_decimals, p.correlation_decimals
    buckets = []
    for x in p.buckets:
        e: dict[str, Any] = {"name": x.name, "delta_risk_weight": _dec(x.delta_weight, rd),
                             "vega_risk_weight": _dec(x.vega_weight, rd),
                             "delta_threshold": _dec(x.delta_threshold, vd),
                             "vega_threshold": _dec(x.vega_threshold, vd), "correlation": _dec(x.correlation, cd)}
        if x.residual:
            e["residual"] = True
        buckets.append(e)
    doc: dict[str, Any] = {"version": 1, "kind": "venue_model", "model_id": model.model_id, "venue": model.venue,
                           "margin_model": "simm"}
    if model.description:
        doc["description"] = model.description
    doc["sizes"] = {"n_factors": model.n_instruments, "n_assets": model.n_assets}
    doc["factors"] = [{"symbol": s, "bucket": p.buckets[b].name} for s, b in zip(model.instruments, p.factor_buckets,
                                                                                strict=True)]
    doc["assets"] = list(model.assets)
    doc["decimals"] = {"quantity": model.quantity_decimals, "price": model.price_decimals, "rate": rd}
    doc["parameters"] = {"risk_class": p.risk_class, "calibration": p.calibration, "correlation_decimals": cd,
                         "buckets": buckets,
                         "inter_bucket_correlations": [[_dec(g, cd) for g in row] for row in p.inter_bucket]}
    if model.statement != "surplus":
        doc["parameters"]["statement"] = model.statement
    return doc


def simm_portfolio_dict(model: VenueModel, portfolio: Portfolio) -> dict[str, Any]:
    """The canonical ``simm`` portfolio document."""
    vd, qd = model.value_decimals, model.quantity_decimals
    doc: dict[str, Any] = {"version": 1, "kind": "portfolio", "model_id": portfolio.model_id}
    if portfolio.description:
        doc["description"] = portfolio.description
    doc["sensitivities"] = [{"factor": x.factor, "delta": _dec(x.delta, vd), "vega": _dec(x.vega, vd)}
                            for x in portfolio.sensitivities]
    doc["collateral"] = [{"asset": h.asset, "amount": _dec(h.amount, qd)} for h in portfolio.collateral]
    return doc


def account_segments(model: VenueModel, portfolio: Portfolio) -> dict[str, list[int]]:
    """The simm account segments ``delta`` and ``vega`` (signed, mod r), dense over the factor slots."""
    delta, vega = sensitivity_vectors(model, portfolio)
    return {"delta": [from_signed(x) for x in delta], "vega": [from_signed(x) for x in vega]}
