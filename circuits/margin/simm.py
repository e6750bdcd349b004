"""Sensitivity-based margin (ISDA SIMM delta and vega of one risk class) as a circuit.

The rule is ``zkmargin.margin.simm`` (its docstring defines every integer; this circuit matches it
bit for bit). The SIMM constants (risk weights, thresholds, correlations, each factor's bucket)
are compile-time constants here, bound by the model digest the commitment hashes; the market
gives only collateral prices and haircuts.

Square roots: ``csqrt(N, D)`` = ceil(sqrt(N / D)) is a hinted r ("margin.csqrt"), constrained in
``assert_csqrt`` by ``r`` in [0, 2**rb), ``r*r*D - N`` in [0, 2**B) and ``N - (r-1)**2 * D - 1 +
[r == 0] * (D + 1)`` in [0, 2**B) with B = rb + 1 + bits(D): for r >= 1 that is (r-1)**2 D < N
<= r**2 D, for r = 0 it is N = 0, so r is unique. Honest differences are below (2r - 1) D <
2**B; r range-checked and 2 rb + bits(D) + 2 <= 252 make every product an integer below r (the
field), so nothing wraps, and a negative difference is a field element above 2**253, which has
no decomposition. N >= 0 always holds: Y_b >= 0 because rho_b is in [0, 1] and the matrix
min(M_k, M_l) is positive semidefinite; Z >= 0 because the inter-bucket matrix is positive
semidefinite (the loader checks it exactly) and |S_b| <= K_b.

Signs: each sensitivity is split by ``std.signed.split_signed`` (width 48: sign bit and |x|), the
lying-sign or wrapped-value prover fails there. M_k = max(T_b, |x_k|) and min(M_k, M_l) are
unchecked comparisons of 48-bit values (both range-checked: |x| by the split, T a constant);
the clamp of S_b compares values shifted into [0, 2**(L+1)) whose parts are range-checked sums.

Cost (``simm_cost``): the shared statement (plus 2 per padding factor slot: its delta and vega
are not read by the rule, so base's unread-value rule pins them again); per collateral asset 65 +
2; per listed factor and margin type (delta, vega) 52 (split) + 51 (max with T) + 2 (squares) +
``csqrt_cost`` + 1 (sign); per pair of factors in one bucket 50 + 3; per non-empty bucket and
margin type ``csqrt_cost`` (K_b) and, regular buckets, 2 * (L + 4) (clamp) + 1 (K_b**2); per pair
of non-empty regular buckets with a non-zero correlation 1; per margin type ``csqrt_cost`` (the
final root); ``check_cost`` (205 for the surplus form; a ratio, ``parameters.statement``, 239:
collateral / (delta + vega margin) >= t through ``MarginCircuit.assert_statement``, with |E| < 2**198
and Q < 2**117 inside the ratio check's bound).
Each csqrt_cost is (rb + 1) + 2 + 1 + 2 (B + 1), with rb and B from the constants' bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from zkmargin.errors import CircuitError
from zkmargin.margin.model import VenueModel
from zkmargin.margin.simm import csqrt, psd_problem
from zkmargin.margin.simm_params import SIMM_SENS_BITS, SimmParameters

from ..api import API, Var, VarLike
from ..hints import register_hint
from ..std import rangecheck, signed
from ..std._common import as_var
from ..std.cmp import is_less_unchecked
from ..std.select import is_zero
from .base import MarginCircuit, Segments, check_cost, statement_cost
from .collateral import collateral_cost, collateral_equity

__all__ = ["SimmMargin", "simm_cost", "assert_csqrt", "csqrt_cost", "MAX_SENS"]

#: The largest |sensitivity| (and threshold) the loaders accept.
MAX_SENS = (1 << SIMM_SENS_BITS) - 1


@register_hint("margin.csqrt")
def _hint_csqrt(ins: Sequence[int]) -> list[int]:
    """Inputs (N, D): ceil(sqrt(N / D)) for N read as an integer in [0, r)."""
    n, d = ins
    return [csqrt(n, d)]


def _widths(d: int, n_max: int) -> tuple[int, int]:
    rb = max(csqrt(n_max, d).bit_length(), 1)
    b = rb + 1 + d.bit_length()
    if 2 * rb + d.bit_length() + 2 > 252:
        raise CircuitError(f"csqrt: r < 2**{rb} with D = {d} could wrap the field")
    return rb, b


def csqrt_cost(d: int, n_max: int) -> int:
    """Constraints of ``assert_csqrt(api, n, d, n_max)``: (rb + 1) + 2 + 1 + 2 * (B + 1)."""
    rb, b = _widths(d, n_max)
    return (rb + 1) + 2 + 1 + 2 * (b + 1)


def assert_csqrt(api: API, n: VarLike, d: int, n_max: int) -> Var:
    """``csqrt(n, d)`` = ceil(sqrt(n / d)) as a hinted, fully constrained wire (module docstring).

    Args:
        n: the radicand wire; d: a constant divisor >= 1; n_max: an inclusive bound on n.
    Cost: ``csqrt_cost(d, n_max)``.
    Soundness precondition (NOT constrained): n is an integer in [0, n_max] (the caller derives
        it from range-checked inputs). Then any r other than the true root fails.
    Raises:
        CircuitError: d < 1, or bounds so large that r*r*d could wrap.
    """
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise CircuitError(f"csqrt needs an int divisor >= 1, got {d!r}")
    rb, b = _widths(d, n_max)
    nv = as_var(api, n)
    with api.scope("csqrt"):
        (r,) = api.hint("margin.csqrt", [nv, d])
        with api.scope("root"):
            rangecheck.assert_bits(api, r, bits=rb)
        z = is_zero(api, r)
        r2 = api.mul(r, r, label="r*r")
        with api.scope("upper"):  # r**2 d >= n
            rangecheck.assert_bits(api, r2.scale(d) - nv, bits=b)
        with api.scope("lower"):  # (r-1)**2 d < n, unless r == 0
            rangecheck.assert_bits(api, nv - (r2 - r.scale(2) + 1).scale(d) - 1 + z.scale(d + 1), bits=b)
    return r


@dataclass(frozen=True)
class _Bucket:
    """The constant plan of one bucket and margin type: its bounds and widths."""

    index: int
    members: tuple[int, ...]
    w: int
    t: int
    rho: int
    residual: bool
    ws_max: tuple[int, ...]  # per member: n_max of the WS radicand
    y_max: int  # bound on w**2 * Y_b
    k_max: int  # bound on K_b
    clamp_bits: int  # L: |sum WS| and K_b below 2**L


def _plan(p: SimmParameters, vega: bool) -> list[_Bucket]:
    c = p.correlation_scale
    a3 = MAX_SENS**3
    out = []
    for b, x in enumerate(p.buckets):
        members = tuple(p.members(b))
        if not members:
            continue
        w = x.vega_weight if vega else x.delta_weight
        t = x.vega_threshold if vega else x.delta_threshold
        n = len(members)
        ws_n = w * w * a3
        ws_r = csqrt(ws_n, t)
        y_max = w * w * (c * n + x.correlation * n * (n - 1)) * a3
        k_max = csqrt(y_max, c * t)
        clamp = max(k_max.bit_length(), (n * ws_r).bit_length()) + 1
        out.append(_Bucket(b, members, w, t, x.correlation, x.residual, (ws_n,) * n, y_max, k_max, clamp))
    return out


def _z_max(p: SimmParameters, plan: list[_Bucket]) -> int:
    c = p.correlation_scale
    regular = [x for x in plan if not x.residual]
    row = {b: i for i, b in enumerate(p.regular())}
    z = c * sum(x.k_max**2 for x in regular)
    for x in regular:
        for y in regular:
            if x.index != y.index:
                z += abs(p.inter_bucket[row[x.index]][row[y.index]]) * x.k_max * y.k_max
    return z


def _check(model: VenueModel) -> SimmParameters:
    p = model.simm
    if p is None:
        raise CircuitError("SimmMargin: the model has no SIMM parameters")
    c = p.correlation_scale
    for x in p.buckets:
        if not 0 <= x.correlation <= c:
            raise CircuitError(f"bucket {x.name}: the intra-bucket correlation must lie in [0, 1]")
        if not (1 <= x.delta_threshold <= MAX_SENS and 1 <= x.vega_threshold <= MAX_SENS):
            raise CircuitError(f"bucket {x.name}: thresholds out of [1, 2**48)")
    problem = psd_problem(p.inter_bucket)
    if problem:
        raise CircuitError(f"inter-bucket correlations: {problem}")
    if len(p.factor_buckets) != len(model.instruments):
        raise CircuitError("one bucket per listed factor")
    return p


def _margin_type_cost(p: SimmParameters, vega: bool) -> int:
    plan = _plan(p, vega)
    c = p.correlation_scale
    total = 0
    for x in plan:
        n = len(x.members)
        total += n * (52 + 51 + 2 + csqrt_cost(x.t, x.ws_max[0]) + 1)
        total += n * (n - 1) // 2 * (SIMM_SENS_BITS + 2 + 3)
        total += csqrt_cost(c * x.t, x.y_max)
        if not x.residual:
            total += 2 * (x.clamp_bits + 1 + 2 + 1) + 1
    row = {b: i for i, b in enumerate(p.regular())}
    used = [x.index for x in plan if not x.residual]
    total += sum(1 for i, b in enumerate(used) for e in used[i + 1:] if p.inter_bucket[row[b]][row[e]])
    return total + csqrt_cost(c, _z_max(p, plan))


def simm_cost(model: VenueModel) -> int:
    """Constraints of ``SimmMargin(model=model)`` (a test pins it against the compiled count)."""
    p = _check(model)
    unread = 2 * (model.n_instruments - len(model.instruments))
    return (statement_cost(model) + unread + collateral_cost(model) + _margin_type_cost(p, False)
            + _margin_type_cost(p, True) + check_cost(model))


def _margin(api: API, p: SimmParameters, xs: list[Var], vega: bool) -> Var:
    """One margin type (delta or vega) at report decimals (``zkmargin.margin.simm.margin_parts``)."""
    c = p.correlation_scale
    plan = _plan(p, vega)
    ks: dict[int, Var] = {}
    ss: dict[int, Var] = {}
    residual = api.const(0)
    for x in plan:
        with api.scope(f"bucket[{x.index}]"):
            mags, ms, ws, a2m = {}, {}, [], []
            for k in x.members:
                with api.scope(f"factor[{k}]"):
                    neg, mag = signed.split_signed(api, xs[k], bits=SIMM_SENS_BITS)
                    lt = is_less_unchecked(api, mag, x.t, bits=SIMM_SENS_BITS)
                    m = mag + api.mul(lt, x.t - mag, label="max(T,|x|)")  # M_k = max(T_b, |x_k|)
                    sq = api.mul(xs[k], xs[k], label="x*x")
                    a2m.append(api.mul(sq, m, label="x*x*M"))
                    r = assert_csqrt(api, a2m[-1].scale(x.w * x.w), x.t, x.ws_max[0])
                    ws.append(r - api.mul(neg, r, label="neg*r").scale(2))  # WS_k = sign(x_k) * r
                    mags[k], ms[k] = mag, m
            cross = api.const(0)
            members = list(x.members)
            for i, k in enumerate(members):
                for el in members[i + 1:]:
                    with api.scope(f"pair[{k},{el}]"):
                        lt = is_less_unchecked(api, ms[k], ms[el], bits=SIMM_SENS_BITS)
                        mn = ms[el] + api.mul(lt, ms[k] - ms[el], label="min(M_k,M_l)")
                        xx = api.mul(xs[k], xs[el], label="x_k*x_l")
                        cross = cross + api.mul(xx, mn, label="x_k*x_l*min")
            y = api.sum(a2m).scale(c) + cross.scale(2 * x.rho)
            with api.scope("K"):
                k_b = assert_csqrt(api, y.scale(x.w * x.w), c * x.t, x.y_max)
            if x.residual:
                residual = residual + k_b
                continue
            with api.scope("S"):  # S_b = max(min(sum WS, K_b), -K_b), on values shifted by 2**L
                sh, bits = 1 << x.clamp_bits, x.clamp_bits + 1
                u = api.sum(ws) + sh
                hi, lo = k_b + sh, sh - k_b
                m1 = u + api.mul(is_less_unchecked(api, hi, u, bits=bits), hi - u, label="min")
                m2 = m1 + api.mul(is_less_unchecked(api, m1, lo, bits=bits), lo - m1, label="max")
                ss[x.index] = m2 - sh
            ks[x.index] = k_b
    row = {b: i for i, b in enumerate(p.regular())}
    z = api.const(0)
    regular = sorted(ks)
    with api.scope("Z"):
        for b in regular:
            z = z + api.mul(ks[b], ks[b], label=f"K[{b}]^2").scale(c)
        for i, b in enumerate(regular):
            for e in regular[i + 1:]:
                g = p.inter_bucket[row[b]][row[e]]
                if g:  # a zero correlation contributes nothing: no product
                    z = z + api.mul(ss[b], ss[e], label=f"S[{b}]*S[{e}]").scale(2 * g)
        root = assert_csqrt(api, z, c, _z_max(p, plan))
    return root + residual


class SimmMargin(MarginCircuit):
    """SIMM delta + vega margin (module docstring). Public: commitment, market_digest, threshold, context."""

    kind: ClassVar[str] = "simm"

    def margin(self, api: API, account: Segments, market: Segments) -> None:
        model = self.model
        p = _check(model)
        equity = collateral_equity(api, model, account, market)  # flat haircuts, as the cross model
        with api.scope("delta"):
            delta = _margin(api, p, account["delta"], vega=False)
        with api.scope("vega"):
            vega = _margin(api, p, account["vega"], vega=True)
        self.assert_statement(api, equity, delta + vega)
