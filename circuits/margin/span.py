"""SPAN spread charges and credits in-circuit: the spread part of the scenario model.

Implements ``zkmargin.margin.span`` (the rule, its units and bounds are in that docstring) for a
scenario model with ``model.spreads``; ``ScenarioMargin`` calls ``spread_requirement`` with each
group's scan risk (``max(0, worst loss)``, from its argmax) and floor.

Constraints, in order (NB = NET_DELTA_BITS = 93):

* tiers: per instrument ``c_i = s_i * d_i`` (1), membership ``in_{i,t} = is_equal(tier_i, t)``
  (2 per tier) with ``sum_t in_{i,t} == 1`` (1: an index naming no tier fails, whatever the market
  vector), ``D_t += in_{i,t} * c_i`` (1 per tier);
* intra spread k (tiers a, b): ``split_signed`` of both remaining deltas at NB bits (NB + 4 each:
  the sign bits and magnitudes are constrained, so a wrapped "negative" magnitude has no
  decomposition), ``opposite = xor(neg_a, neg_b)`` (1), ``m = min(|R_a|, |R_b|)`` by one
  comparison of width NB and a select (NB + 3; inputs are split_signed's range-checked
  magnitudes), ``n = opposite * m`` (1), the two updates ``R -= (1 - 2 neg) * n`` (2) and
  ``charge = n * c_k`` (1): 3 NB + 16;
* the net delta of every group in an inter spread: ``split_signed`` (NB + 4);
* inter spread k (groups g1, g2, ratios r1, r2): ``split_signed`` of both remaining group deltas
  (2 (NB + 4)), ``q_j = floor(|G_j| / r_j)`` (``gadgets.div_floor_const``, free for r = 1),
  ``fits`` (1), ``n = fits * min(q_1, q_2)`` (NB + 2 + 1 + 1), per leg the update (1),
  ``rate * scan`` (1), ``rate * scan * u`` (1) and the credit ``floor(. / |N_g|)`` by
  ``gadgets.div_floor_wire`` with CREDIT_BITS = 152 quotient bits and NB divisor bits (a hinted
  quotient and remainder, range-checked: 152 + 93 + 1 <= 250, no wrap-around);
* per group: ``x = RS * scan + charges - credits`` (linear) and, with the floor on,
  ``max(x, RS * floor)`` by one comparison of width REQUIREMENT_BITS (164) and a select.

No new hint is registered here: the spread counts and minima are computed from constrained
comparisons (``bits.decompose``), the signs from ``split_signed`` and the credits' quotients from
``margin.divmod_wire`` / ``margin.divmod_floor``; every one is tied down in the function that asks
for it, and tests/circuits/test_margin_span_spreads.py lies through each.

Soundness preconditions (market data, bound by the digest to a loaded market): tiers and groups
as the loader checked them, |d_i| < 2**DELTA_BITS, 0 <= c_k < 2**64, 0 <= rate_k <= RS, RD <= 4.
"""

from __future__ import annotations

from zkmargin.margin.model import VenueModel
from zkmargin.margin.span import CREDIT_BITS, NET_DELTA_BITS, REQUIREMENT_BITS

from ..api import API, Var
from ..std.cmp import is_less_unchecked
from ..std.select import is_equal, select_unchecked
from ..std.signed import split_signed
from . import gadgets
from .base import Segments

__all__ = ["spread_requirement", "spread_cost"]

_NB = NET_DELTA_BITS
_NET_MAX = (1 << _NB) - 1


def spread_cost(model: VenueModel) -> int:
    """Constraints of ``spread_requirement`` for ``model`` (module docstring); 0 without spreads."""
    spec = model.spreads
    if spec is None:
        return 0
    t = spec.n_tiers
    per_instrument = 1 + 2 * t + 1 + t
    intra = len(spec.intra) * (3 * _NB + 16)
    groups = {g for e in spec.inter for g in e.groups}
    inter = 0
    for e in spec.inter:
        inter += 2 * (_NB + 4) + sum(gadgets.div_const_cost(r, _NET_MAX) for r in e.ratios) + 1 + (_NB + 2) + 2
        inter += 2 * (3 + gadgets.div_floor_wire_cost(CREDIT_BITS, _NB))
    floors = model.n_groups * (REQUIREMENT_BITS + 3) if model.short_option_floor else 0
    return model.n_instruments * per_instrument + intra + len(groups) * (_NB + 4) + inter + floors


def _sign_times(api: API, neg: Var, n: Var, label: str) -> Var:
    """``(1 - 2 neg) * n``: n with the sign of the remaining delta (1 constraint)."""
    return n - api.mul(neg, n, label=label).scale(2)


def spread_requirement(api: API, model: VenueModel, market: Segments, sizes: list[Var], scans: list[Var],
                       floors: list[Var] | None) -> Var:
    """``sum_g max(RS * scan_g + charges_g - credits_g, RS * floor_g)`` (report decimals).

    Args:
        model: a scenario model with spreads. market: the market segments (tiers, deltas,
            intra_charges, inter_rates). sizes: the range-checked signed size wire per instrument
            slot. scans: per group ``max(0, worst loss)`` (value units, in [0, 2**138)).
            floors: per group short option floor (value units), or None with the floor off.
    Returns:
        The requirement scaled by RS, a linear combination in [0, 2**(REQUIREMENT_BITS + 6)).
    Cost: ``spread_cost(model)``.
    """
    spec = model.spreads
    assert spec is not None
    rs, n_g, n_t = model.rate_scale, model.n_groups, spec.n_tiers
    tier_delta = [api.const(0) for _ in range(n_t)]
    with api.scope("spreads"):
        for i, size in enumerate(sizes):
            with api.scope(f"position[{i}]"):
                c = api.mul(size, market["deltas"][i], label="size*delta")
                member = [is_equal(api, market["tiers"][i], t) for t in range(n_t)]
                api.assert_equal(api.sum(member), 1, label="one_tier")
                for t in range(n_t):
                    tier_delta[t] = tier_delta[t] + api.mul(member[t], c, label=f"in[{t}]")
        rem = list(tier_delta)
        charges = [api.const(0) for _ in range(n_g)]
        for k, sp in enumerate(spec.intra):
            a, b = sp.tiers
            with api.scope(f"intra[{k}]"):
                with api.scope("a"):
                    neg_a, mag_a = split_signed(api, rem[a], bits=_NB)
                with api.scope("b"):
                    neg_b, mag_b = split_signed(api, rem[b], bits=_NB)
                opposite = neg_a + neg_b - api.mul(neg_a, neg_b, label="both").scale(2)
                # magnitudes in [0, 2**NB): split_signed range-checked them
                smaller = select_unchecked(api, is_less_unchecked(api, mag_a, mag_b, bits=_NB), mag_a, mag_b)
                n = api.mul(opposite, smaller, label="count")
                rem[a] = rem[a] - _sign_times(api, neg_a, n, "consume_a")
                rem[b] = rem[b] - _sign_times(api, neg_b, n, "consume_b")
                g = spec.tier_groups[a]
                charges[g] = charges[g] + api.mul(n, market["intra_charges"][k], label="charge")
        net = [api.sum([tier_delta[t] for t in range(n_t) if spec.tier_groups[t] == g]) for g in range(n_g)]
        abs_net: dict[int, Var] = {}
        for g in sorted({g for e in spec.inter for g in e.groups}):
            with api.scope(f"net[{g}]"):
                abs_net[g] = split_signed(api, net[g], bits=_NB)[1]
        grem = list(net)
        credits = [api.const(0) for _ in range(n_g)]
        for k, e in enumerate(spec.inter):
            with api.scope(f"inter[{k}]"):
                legs = []
                for j, (g, r) in enumerate(zip(e.groups, e.ratios, strict=True)):
                    with api.scope(f"leg[{j}]"):
                        neg, mag = split_signed(api, grem[g], bits=_NB)
                        legs.append((g, r, neg, gadgets.div_floor_const(api, mag, r, _NET_MAX)))
                (_, _, neg1, q1), (_, _, neg2, q2) = legs
                differ = neg1 + neg2 - api.mul(neg1, neg2, label="both").scale(2)
                fits = 1 - differ if e.same_side else differ
                # q_j <= |G_j| < 2**NB (a range-checked quotient of a range-checked magnitude)
                smaller = select_unchecked(api, is_less_unchecked(api, q1, q2, bits=_NB), q1, q2)
                n = api.mul(fits, smaller, label="count")
                for j, (g, r, neg, _) in enumerate(legs):
                    with api.scope(f"leg[{j}]"):
                        used = n.scale(r)
                        grem[g] = grem[g] - _sign_times(api, neg, n, "consume").scale(r)
                        weighted = api.mul(market["inter_rates"][k], scans[g], label="rate*scan")
                        numerator = api.mul(weighted, used, label="rate*scan*used")
                        credits[g] = credits[g] + gadgets.div_floor_wire(api, numerator, abs_net[g],
                                                                         q_bits=CREDIT_BITS, d_bits=_NB)
        total = api.const(0)
        for g in range(n_g):
            with api.scope(f"group[{g}]"):
                x = scans[g].scale(rs) + charges[g] - credits[g]
                if floors is not None:
                    # x in [0, 2**164) and RS * floor < 2**151 (zkmargin.margin.span bounds)
                    f = floors[g].scale(rs)
                    x = select_unchecked(api, is_less_unchecked(api, x, f, bits=REQUIREMENT_BITS), f, x)
                total = total + x
    return total
