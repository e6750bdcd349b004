"""SPAN spreads of the scenario model: intra-commodity spread charges and inter-commodity spread credits.

A scenario model with scenario groups (SPAN's combined commodities, ``model.n_groups``) may declare
``parameters.spreads`` (``SpreadSpec``): delta tiers, intra-commodity (calendar) spreads between two
tiers of one group and inter-commodity spreads between two groups, each list in the venue's
published priority order. The market data then gives every instrument its tier and its composite
delta per unit, and the day's rates: a charge per intra-commodity spread and a credit rate per
inter-commodity spread. This module holds those types, their validation helpers (called by
``zkmargin.margin.schema``) and the integer semantics (``evaluate_spreads``) that the engine and the
circuit (``zkmargin.circuits.margin.span``) implement exactly.

Units: sizes s_i in base units 10**-QD, composite deltas d_i at 10**-RD (a future: 1, i.e. RS), so
a *delta* is an integer of 10**-(QD+RD) (one contract of a future is 10**(QD+RD)); intra charges
are prices (10**-PD) per spread of one delta each side, so count * charge is at the report
decimals QD + PD + RD; credit rates at 10**-RD in [0, 1] (RS is 100 %).

The rule, per group g (SPAN: commodity risk = scan risk + intra-commodity spread charge
- inter-commodity spread credit, then at least the short option minimum)::

    scan_g   = max(0, max_s loss_{g,s})                         (value units, the scenario part)
    D_t      = sum_{i in tier t} s_i * d_i                      (net delta of tier t)
    intra, in priority order, spread k between tiers a, b (1:1, opposite sides):
             n_k = min(|R_a|, |R_b|) when R_a, R_b have opposite signs, else 0     (R = D at first)
             R_a -= sign(R_a) * n_k,  R_b -= sign(R_b) * n_k,   charge_k = n_k * c_k
    N_g      = sum_{t in g} D_t                                  (net delta of the group)
    inter, in priority order, spread k between groups g1, g2, delta ratios r1:r2, sides A/B:
             n_k = min(floor(|G_1| / r1), floor(|G_2| / r2)) when the signs fit the sides (A vs B:
                   opposite, A vs A: equal), else 0              (G = N at first)
             u_j = r_j * n_k consumed from leg j: G_j -= sign(G_j) * u_j
             credit_{k,j} = floor(rate_k * scan_{g_j} * u_j / |N_{g_j}|)
                   (weighted price risk: scan_g / |N_g| per delta, times the deltas the spread
                   uses, times the rate; 0 when u_j = 0)
    req_g    = max(RS * scan_g + sum_{k in g} charge_k - sum_{legs in g} credit, RS * floor_g)
    Q        = sum_g req_g

What is modelled, exactly: futures-style delta spreading with the Normal weighted-price-risk
method; intra-commodity spreads of two tiers at 1:1 (calendar spreads, "A vs B"), formed in the
listed priority, each consuming the remaining tier deltas; inter-commodity spreads of two
groups' overall (all-tier) deltas with any positive integer delta ratios and either side pattern,
formed in the listed priority from the deltas remaining after earlier inter spreads, one credit
rate per spread applied to both legs. Because intra spreads are 1:1 between opposite deltas, they
leave each group's net delta unchanged, so the inter spreads see the same net delta SPAN's
remaining tier deltas add up to. Rounding: spread counts are in deltas (10**-(QD+RD)), an inter
count rounds down to a whole delta per ratio unit, a credit rounds down at the report decimals
(against the trader, never the venue); the published examples are exact.

Not modelled (state them before using this for a venue): the split of the price risk into time
and volatility risk for options (WPR here is the scan risk per net delta, which is SPAN's price
risk for futures-only groups), delivery (spot) month charges, butterflies and other spreads of
three or more legs, intra spreads at ratios other than 1:1, inter spreads between individual
tiers, the scan-range and capped WPR methods, flat and per-month rate types, per-leg credit rates,
inter-exchange spreads, scanning-based (combined scanning) spreads, and SPAN's delta rounding.

Bounds (loader limits): |d_i| < 2**DELTA_BITS (20), RD <= 4 with spreads so RS <= 10**4 <
2**14, |s_i| < 2**63, at most 2**10 instruments: every tier, group and remaining delta is below
2**NET_DELTA_BITS (93) in magnitude; charge_k < 2**93 * 2**64 = 2**157; rate * scan < 2**152 =
2**CREDIT_BITS, rate * scan * u < 2**245 (so one exact division with a range-checked quotient and
remainder never wraps in-circuit); req_g < 2**REQUIREMENT_BITS (164) with at most MAX_SPREADS
spreads of each kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "DELTA_BITS",
    "NET_DELTA_BITS",
    "CREDIT_BITS",
    "REQUIREMENT_BITS",
    "MAX_SPREAD_TIERS",
    "MAX_SPREADS",
    "MAX_RATIO",
    "MAX_SPREAD_RATE_DECIMALS",
    "SPREADS_MARKER_TEXT",
    "IntraSpread",
    "InterSpread",
    "SpreadSpec",
    "SpreadReport",
    "parse_spread_spec",
    "evaluate_spreads",
]

#: |composite delta per unit| < 2**DELTA_BITS, at rate decimals.
DELTA_BITS = 20
#: |any tier, group or remaining net delta| < 2**NET_DELTA_BITS (63 + 20 + 10).
NET_DELTA_BITS = 93
#: rate * scan risk < 2**CREDIT_BITS (14 + 138): the width of a credit quotient.
CREDIT_BITS = 152
#: A group's requirement with spreads is below 2**REQUIREMENT_BITS (report decimals).
REQUIREMENT_BITS = 164
#: Largest number of delta tiers, and of spreads of each kind.
MAX_SPREAD_TIERS = 64
MAX_SPREADS = 64
#: Largest delta ratio of an inter-commodity spread leg.
MAX_RATIO = 255
#: A model with spreads has rate decimals <= 4 (RS <= 10**4; percentages in basis points).
MAX_SPREAD_RATE_DECIMALS = 4
#: Text of the marker before the spread table in the model digest's preimage.
SPREADS_MARKER_TEXT = "span-spreads"


@dataclass(frozen=True)
class IntraSpread:
    """An intra-commodity spread: tier ``tiers[0]`` (side A) against ``tiers[1]`` (side B), 1:1."""

    tiers: tuple[int, int]


@dataclass(frozen=True)
class InterSpread:
    """An inter-commodity spread between two groups' net deltas at ``ratios`` (deltas per spread).

    ``same_side``: False for "A vs B" (one leg long, the other short: positively correlated
    commodities), True for "A vs A" (both long or both short).
    """

    groups: tuple[int, int]
    ratios: tuple[int, int]
    same_side: bool = False


@dataclass(frozen=True)
class SpreadSpec:
    """A scenario model's spread table (module docstring), priority order = list order.

    Attributes:
        tier_groups: the group of each delta tier (T = len).
        intra: intra-commodity spreads; inter: inter-commodity spreads.
    """

    tier_groups: tuple[int, ...]
    intra: tuple[IntraSpread, ...] = ()
    inter: tuple[InterSpread, ...] = ()

    @property
    def n_tiers(self) -> int:
        """T, the number of delta tiers."""
        return len(self.tier_groups)

    def to_dict(self) -> dict[str, Any]:
        """The ``parameters.spreads`` JSON object (canonical)."""
        return {"tier_groups": list(self.tier_groups),
                "intra": [{"tiers": list(s.tiers)} for s in self.intra],
                "inter": [{"groups": list(s.groups), "ratios": list(s.ratios),
                           "sides": ["A", "A"] if s.same_side else ["A", "B"]} for s in self.inter]}

    def digest_elements(self) -> list[int]:
        """The table as ints for the model digest: T, groups, then each list length-prefixed."""
        out = [len(self.tier_groups), *self.tier_groups, len(self.intra)]
        for a in self.intra:
            out += list(a.tiers)
        out.append(len(self.inter))
        for e in self.inter:
            out += [*e.groups, *e.ratios, int(e.same_side)]
        return out


def parse_spread_spec(doc: Any, v: Any, path: str, n_groups: int, rate_decimals: int) -> SpreadSpec:
    """Validate ``parameters.spreads`` (``doc`` is the loader's document helper).

    Rules: rate decimals <= 4; 1 <= T <= MAX_SPREAD_TIERS tiers, each naming a group below
    n_groups; at most MAX_SPREADS spreads of each kind, at least one in all; an intra spread names
    two different tiers of the same group; an inter spread two different groups, ratios in
    [1, MAX_RATIO], sides ["A", "B"] or ["A", "A"].
    Raises:
        SchemaError (through ``doc.fail``): the rule broken, with the field's path.
    """
    if rate_decimals > MAX_SPREAD_RATE_DECIMALS:
        raise doc.fail("decimals.rate", f"a model with spreads needs rate decimals <= {MAX_SPREAD_RATE_DECIMALS} "
                                        f"(credit rates in basis points), got {rate_decimals}")
    d = doc.as_obj(v, path, ("tier_groups",), ("intra", "inter"))
    tiers = doc.as_list(d["tier_groups"], f"{path}.tier_groups")
    if not 1 <= len(tiers) <= MAX_SPREAD_TIERS:
        raise doc.fail(f"{path}.tier_groups", f"expected 1 to {MAX_SPREAD_TIERS} tiers, got {len(tiers)}")
    tier_groups = tuple(doc.as_int(g, f"{path}.tier_groups[{t}]", 0, n_groups - 1) for t, g in enumerate(tiers))
    intra: list[IntraSpread] = []
    for k, x in enumerate(doc.as_list(d.get("intra", []), f"{path}.intra")):
        p = f"{path}.intra[{k}]"
        e = doc.as_obj(x, p, ("tiers",))
        legs = doc.as_list(e["tiers"], f"{p}.tiers")
        if len(legs) != 2:
            raise doc.fail(f"{p}.tiers", f"an intra-commodity spread has two tiers, got {len(legs)}")
        a, b = (doc.as_int(t, f"{p}.tiers[{j}]", 0, len(tier_groups) - 1) for j, t in enumerate(legs))
        if a == b or tier_groups[a] != tier_groups[b]:
            raise doc.fail(f"{p}.tiers", "expected two different tiers of the same group")
        intra.append(IntraSpread((a, b)))
    inter: list[InterSpread] = []
    for k, x in enumerate(doc.as_list(d.get("inter", []), f"{path}.inter")):
        p = f"{path}.inter[{k}]"
        e = doc.as_obj(x, p, ("groups", "ratios", "sides"))
        gs, rs, sides = (doc.as_list(e[key], f"{p}.{key}") for key in ("groups", "ratios", "sides"))
        if len(gs) != 2 or len(rs) != 2:
            raise doc.fail(p, "an inter-commodity spread has two legs (groups and ratios)")
        g1, g2 = (doc.as_int(g, f"{p}.groups[{j}]", 0, n_groups - 1) for j, g in enumerate(gs))
        if g1 == g2:
            raise doc.fail(f"{p}.groups", "expected two different groups")
        r1, r2 = (doc.as_int(r, f"{p}.ratios[{j}]", 1, MAX_RATIO) for j, r in enumerate(rs))
        if sides not in (["A", "B"], ["A", "A"]):
            raise doc.fail(f"{p}.sides", f"expected [\"A\", \"B\"] or [\"A\", \"A\"], got {sides!r}")
        inter.append(InterSpread((g1, g2), (r1, r2), sides == ["A", "A"]))
    if len(intra) > MAX_SPREADS or len(inter) > MAX_SPREADS:
        raise doc.fail(path, f"at most {MAX_SPREADS} spreads of each kind")
    if not intra and not inter:
        raise doc.fail(path, "declares no spread")
    return SpreadSpec(tier_groups, tuple(intra), tuple(inter))


@dataclass(frozen=True)
class SpreadReport:
    """What ``evaluate_spreads`` found (deltas in 10**-(QD+RD), money at the report decimals).

    Attributes:
        tier_deltas: D_t. group_deltas: N_g.
        intra_counts, intra_charges: n_k and n_k * c_k per intra spread.
        inter_counts: n_k per inter spread; inter_credits: (leg 1, leg 2) credit per inter spread.
        group_charges, group_credits: per group sums.
    """

    tier_deltas: tuple[int, ...]
    group_deltas: tuple[int, ...]
    intra_counts: tuple[int, ...]
    intra_charges: tuple[int, ...]
    inter_counts: tuple[int, ...]
    inter_credits: tuple[tuple[int, int], ...]
    group_charges: tuple[int, ...]
    group_credits: tuple[int, ...]


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def evaluate_spreads(spec: SpreadSpec, n_groups: int, sizes: list[int], tiers: list[int], deltas: list[int],
                     scans: list[int], intra_charges: tuple[int, ...], inter_rates: tuple[int, ...]) -> SpreadReport:
    """The spread rule of the module docstring, in integers.

    Args:
        spec: the model's spread table; n_groups: G.
        sizes, tiers, deltas: per instrument (the market's instruments, in slot order).
        scans: scan_g per group (value units, >= 0).
        intra_charges: c_k (price units); inter_rates: rate_k (rate units).
    Returns:
        The SpreadReport.
    """
    d_t = [0] * spec.n_tiers
    for s, t, d in zip(sizes, tiers, deltas, strict=True):
        d_t[t] += s * d
    rem = list(d_t)
    counts, charges = [], []
    group_charges = [0] * n_groups
    for k, sp in enumerate(spec.intra):
        a, b = sp.tiers
        n = min(abs(rem[a]), abs(rem[b])) if _sign(rem[a]) * _sign(rem[b]) < 0 else 0
        rem[a] -= _sign(rem[a]) * n
        rem[b] -= _sign(rem[b]) * n
        counts.append(n)
        charges.append(n * intra_charges[k])
        group_charges[spec.tier_groups[a]] += n * intra_charges[k]
    net = [sum(d_t[t] for t in range(spec.n_tiers) if spec.tier_groups[t] == g) for g in range(n_groups)]
    grem = list(net)
    inter_counts, credits = [], []
    group_credits = [0] * n_groups
    for k, e in enumerate(spec.inter):
        g1, g2 = e.groups
        r1, r2 = e.ratios
        fits = _sign(grem[g1]) * _sign(grem[g2]) == (1 if e.same_side else -1)
        n = min(abs(grem[g1]) // r1, abs(grem[g2]) // r2) if fits else 0
        pair = []
        for g, r in ((g1, r1), (g2, r2)):
            u = r * n
            grem[g] -= _sign(grem[g]) * u
            c = inter_rates[k] * scans[g] * u // abs(net[g]) if u else 0
            group_credits[g] += c
            pair.append(c)
        inter_counts.append(n)
        credits.append((pair[0], pair[1]))
    return SpreadReport(tuple(d_t), tuple(net), tuple(counts), tuple(charges), tuple(inter_counts), tuple(credits),
                        tuple(group_charges), tuple(group_credits))
