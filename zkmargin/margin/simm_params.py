"""The parameters of the sensitivity-based (ISDA SIMM) margin model, as data, and their bounds.

Kept apart from ``zkmargin.margin.simm`` (the engine and the loaders) so that ``model`` can hold
them without an import cycle. Every number here is a compile-time constant of the circuit and is
bound by the model digest (``elements``), never by the market digest.

Units (see ``zkmargin.margin.simm`` for the semantics): risk weights at rate decimals RD (26 is
``26 * 10**RD``); concentration thresholds in value units 10**-(QD+PD) quote (sensitivities are
amounts of quote: USD per 1 % for equity delta); correlations at ``correlation_decimals`` CD
(0.18 is 18 with CD = 2).

Bounds (the no-wrap arguments of the engine's docstring rely on them; the loader enforces them):
|sensitivity| < 2**48, thresholds in [1, 2**48), risk weights < 2**32, CD <= 4, at most 32 factor
slots and 16 buckets, RD <= 12.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkmargin.field import from_signed

__all__ = [
    "SIMM_SENS_BITS",
    "SIMM_WEIGHT_BITS",
    "SIMM_MAX_CORRELATION_DECIMALS",
    "SIMM_MAX_FACTORS",
    "SIMM_MAX_BUCKETS",
    "SIMM_MAX_RATE_DECIMALS",
    "SimmBucket",
    "SimmParameters",
    "Sensitivity",
]

#: |delta|, |vega| < 2**SIMM_SENS_BITS (value units); thresholds in [1, 2**SIMM_SENS_BITS).
SIMM_SENS_BITS = 48
#: Risk weights (RW * 10**RD) in [0, 2**SIMM_WEIGHT_BITS).
SIMM_WEIGHT_BITS = 32
#: Correlation decimals CD <= 4, so 10**CD < 2**14 and |rho|, |gamma| <= 10**CD.
SIMM_MAX_CORRELATION_DECIMALS = 4
#: At most 32 risk-factor slots (the intra-bucket sums have n**2 terms).
SIMM_MAX_FACTORS = 32
#: At most 16 buckets (the inter-bucket sum has n**2 terms).
SIMM_MAX_BUCKETS = 16
#: Rate decimals RD <= 12 (collateral haircuts and risk weights; RS < 2**40).
SIMM_MAX_RATE_DECIMALS = 12


@dataclass(frozen=True)
class SimmBucket:
    """One SIMM bucket of the model's risk class.

    Attributes:
        name: the methodology's bucket name ("1", ..., "12", "Residual").
        delta_weight, vega_weight: RW * 10**RD (delta: per unit of delta sensitivity; vega: VRW,
            per unit of vega risk, the input being the volatility-weighted vega, see the engine).
        delta_threshold, vega_threshold: the concentration thresholds T_b, VT_b (value units, >= 1).
        correlation: rho_b at CD decimals (every pair of distinct factors in the bucket).
        residual: a residual bucket: its K_b is added to the margin outside the square root and
            takes no part in the inter-bucket sum.
    """

    name: str
    delta_weight: int
    vega_weight: int
    delta_threshold: int
    vega_threshold: int
    correlation: int
    residual: bool = False


@dataclass(frozen=True)
class SimmParameters:
    """The model-level SIMM constants: buckets, inter-bucket correlations, each factor's bucket.

    Attributes:
        risk_class: the methodology's risk class, as a label (e.g. "equity").
        calibration: the calibration, as a label (e.g. "ISDA SIMM v2.5, 10-day").
        correlation_decimals: CD.
        buckets: in document order.
        inter_bucket: gamma_bc at CD decimals, a square matrix over the non-residual buckets in
            document order; symmetric; the diagonal is 10**CD (unused).
        factor_buckets: the bucket index (into ``buckets``) of each listed factor, in slot order.
    """

    risk_class: str
    calibration: str
    correlation_decimals: int
    buckets: tuple[SimmBucket, ...]
    inter_bucket: tuple[tuple[int, ...], ...]
    factor_buckets: tuple[int, ...]

    @property
    def correlation_scale(self) -> int:
        """10**CD: the integer that stands for a correlation of 1."""
        return 10**self.correlation_decimals

    def regular(self) -> list[int]:
        """Indices of the non-residual buckets, in order (the rows of ``inter_bucket``)."""
        return [b for b, x in enumerate(self.buckets) if not x.residual]

    def members(self, b: int) -> list[int]:
        """The factor slots of bucket b, in slot order."""
        return [k for k, x in enumerate(self.factor_buckets) if x == b]

    def elements(self) -> list[int]:
        """What the model digest appends for a simm model: every constant, length-prefixed."""
        out = [self.correlation_decimals, len(self.buckets)]
        for x in self.buckets:
            out += [x.delta_weight, x.vega_weight, x.delta_threshold, x.vega_threshold, from_signed(x.correlation),
                    int(x.residual)]
        out.append(len(self.inter_bucket))
        for row in self.inter_bucket:
            out += [from_signed(g) for g in row]
        out.append(len(self.factor_buckets))
        out += list(self.factor_buckets)
        return out


@dataclass(frozen=True)
class Sensitivity:
    """A trader's net sensitivities to one risk factor (value units, signed): delta, and vega risk."""

    factor: str
    delta: int
    vega: int = 0
