"""Poseidon in-circuit: the permutation and circomlib's ``Poseidon(n)`` as gadgets.

``poseidon(api, inputs)`` computes exactly :func:`zkmargin.poseidon.poseidon` (circomlib's
``Poseidon(n)``, n = 1..16) and ``poseidon_permutation(api, state)`` exactly
:func:`zkmargin.poseidon.poseidon_permutation` (width t = 2..17), with the same constants
(:func:`zkmargin.poseidon.poseidon_params`).

Shape. Each S-box x^5 costs 3 constraints (``x2 = x*x``, ``x4 = x2*x2``, ``x5 = x4*x``); the
round constants (ARK) and the MDS matrix (MIX) are linear and free. A permutation of width t
therefore costs ``3 * (R_F * t + R_P) = 24 t + 3 R_P`` constraints, less 3 for every S-box
whose input is a constant (the API folds constant products): circomlib's ``Poseidon(n)`` feeds
a constant 0 into state[0], so ``poseidon`` costs 3 less than the permutation, e.g. 240 for
n = 2 (circomlib's count) and 609 for n = 16.

Partial rounds without blow-up. In a partial round only state[0] goes through the S-box; the
other t - 1 elements stay linear combinations (LCs), so after k partial rounds every element is
a combination of the t S-box outputs of the last full round and the k partial S-box outputs: at
most t + R_P + 1 terms (86 for t = 17), never hundreds, because terms over the same wire merge.
Built with plain ``Var`` arithmetic this still costs O(t^2 (t + k)) dictionary operations per
round although the coefficients never depend on the inputs, so they are computed once per width
(:func:`_partial_schedule`, cached; 3 ms for t = 3, 0.14 s for t = 17) and each partial S-box
input is built from its precomputed row in O(t + k). No LC is materialised, so the constraint
count is minimal. Measured for a width-17 permutation (witness mode, one CPU core): plain ``Var``
arithmetic 612 constraints, 22,049 nonzero coefficients, 1.2 s; materialising the t - 1 linear
elements whenever an LC exceeds 2t terms: 660 constraints (+8 %), 15,887 nonzeros, 0.54 s; this
module: 612 constraints, 22,049 nonzeros, 0.02 s. For t = 3: 243 constraints and 6,756
nonzeros here, 271 and 1,968 with the cap. A constraint costs the prover far more (an MSM term
per wire, an NTT row) than a nonzero coefficient does (one multiply-add when evaluating A.w,
B.w, C.w), so no cap is applied.

The returned state elements are linear combinations of t wires (the last round's S-box
outputs), not single wires; ``api.materialize`` one if a single wire is needed (1 constraint).

Soundness. Every S-box output is a product wire constrained by its multiplication, and every
other value is a linear function of those and of the inputs, so the outputs are uniquely
determined by the inputs: no hint, no precondition.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import cache

from zkmargin.errors import CircuitError
from zkmargin.field import R
from zkmargin.poseidon import MAX_INPUTS, MAX_WIDTH, MIN_WIDTH, PoseidonParams, poseidon_params

from ..api import API, Var, VarLike
from ._common import as_var

__all__ = ["poseidon", "poseidon_permutation", "permutation_cost", "poseidon_cost"]

# A coefficient row: (constant term, coefficients over the basis of the partial phase).
_Row = tuple[int, tuple[int, ...]]


def permutation_cost(t: int) -> int:
    """Constraints of ``poseidon_permutation`` on a width-t state of non-constant wires: 24 t + 3 R_P.

    Raises:
        CircuitError: t outside 2..17.
    """
    p = _params(t)
    return 3 * (p.n_rounds_f * t + p.n_rounds_p)


def poseidon_cost(n: int) -> int:
    """Constraints of ``poseidon`` on n non-constant inputs: ``permutation_cost(n + 1) - 3``.

    Raises:
        CircuitError: n outside 1..16.
    """
    if not isinstance(n, int) or not 1 <= n <= MAX_INPUTS:
        raise CircuitError(f"poseidon takes 1..{MAX_INPUTS} inputs, got {n!r}")
    return permutation_cost(n + 1) - 3


def poseidon_permutation(api: API, state: Sequence[VarLike]) -> list[Var]:
    """The Poseidon permutation of width ``t = len(state)`` (2..17) on wires.

    Args:
        api: the circuit builder.
        state: t wires or int constants (ints are reduced mod r).
    Returns:
        The permuted state: t linear combinations (each of t wires; constants where the whole
        computation is constant).
    Cost: ``24 t + 3 R_P`` constraints (:func:`permutation_cost`), less 3 per S-box whose input
        is a constant (a constant state element in round 0, for instance).
    Soundness: none needed; the outputs are fully determined by the inputs.
    Raises:
        CircuitError: t outside 2..17, or a wire of another circuit.
    """
    t = len(state)
    params = _params(t)
    xs = [as_var(api, x) for x in state]
    with api.scope(f"poseidon_t{t}"):
        return _permute(api, xs, params)


def poseidon(api: API, inputs: Sequence[VarLike]) -> Var:
    """circomlib's ``Poseidon(n)`` of ``n = len(inputs)`` wires (1..16): the permutation of
    ``[0, *inputs]`` (width n + 1), element 0.

    Args:
        api: the circuit builder.
        inputs: n wires or int constants (ints are reduced mod r).
    Returns:
        The hash as a linear combination of n + 1 wires (a constant if every input is constant).
    Cost: ``24 (n + 1) + 3 R_P - 3`` constraints (:func:`poseidon_cost`): 213, 240, 297 and 609
        for n = 1, 2, 4 and 16; 3 less per further constant input.
    Soundness: none needed; the output is fully determined by the inputs.
    Raises:
        CircuitError: n outside 1..16, or a wire of another circuit.
    """
    n = len(inputs)
    if not 1 <= n <= MAX_INPUTS:
        raise CircuitError(f"poseidon takes 1..{MAX_INPUTS} inputs, got {n}")
    xs = [api.const(0), *(as_var(api, x) for x in inputs)]
    with api.scope(f"poseidon{n}"):
        return _permute(api, xs, _params(n + 1))[0]


# --- internals -------------------------------------------------------------------------------


def _params(t: int) -> PoseidonParams:
    if isinstance(t, bool) or not isinstance(t, int) or not MIN_WIDTH <= t <= MAX_WIDTH:
        raise CircuitError(f"Poseidon width t={t!r} is not supported: t must be in {MIN_WIDTH}..{MAX_WIDTH}")
    return poseidon_params(t)


def _combine(api: API, const: int, coeffs: Sequence[int], atoms: Sequence[Var]) -> Var:
    """``const + sum(coeffs[j] * atoms[j])`` as one Var, built in a single pass (free)."""
    lc: dict[int, int] = {0: const} if const else {}
    get = lc.get
    for a, v in zip(coeffs, atoms, strict=True):
        if a:
            for w, c in v.lc.items():
                lc[w] = get(w, 0) + a * c
    lc = {w: c % R for w, c in lc.items() if c % R}
    value = None
    if api.compute:  # witness mode: every atom has a value
        acc = const
        for a, v in zip(coeffs, atoms, strict=True):
            if a:
                acc += a * v.value  # type: ignore[operator]
        value = acc % R
    return Var(api, lc, value)


def _sbox(api: API, x: Var, tag: str) -> Var:
    """x^5 with 3 constraints (free when x is constant)."""
    x2 = api.mul(x, x, label=f"x2{tag}")
    x4 = api.mul(x2, x2, label=f"x4{tag}")
    return api.mul(x4, x, label=f"x5{tag}")


def _mix(api: API, mds: tuple[tuple[int, ...], ...], xs: Sequence[Var]) -> list[Var]:
    return [_combine(api, 0, row, xs) for row in mds]


def _permute(api: API, state: list[Var], p: PoseidonParams) -> list[Var]:
    t, half = p.t, p.n_rounds_f // 2
    first_last_full = half + p.n_rounds_p
    rc = p.round_constants
    # First half of the full rounds; the MIX of the last one is folded into the partial schedule.
    sboxed: list[Var] = []
    for r in range(half):
        if r:
            state = _mix(api, p.mds, sboxed)
        with api.scope(f"r{r}"):
            sboxed = [_sbox(api, x + c, f"[{i}]") for i, (x, c) in enumerate(zip(state, rc[r], strict=True))]
    # Partial rounds: basis = the t S-box outputs above, then one S-box output per round.
    sched_in, sched_out = _partial_schedule(t)
    basis = list(sboxed)
    for k, (const, coeffs) in enumerate(sched_in):
        with api.scope(f"r{half + k}"):
            basis.append(_sbox(api, _combine(api, const, coeffs, basis), "[0]"))
    state = [_combine(api, const, coeffs, basis) for const, coeffs in sched_out]
    # Second half of the full rounds.
    for r in range(first_last_full, p.n_rounds):
        if r > first_last_full:
            state = _mix(api, p.mds, sboxed)
        with api.scope(f"r{r}"):
            sboxed = [_sbox(api, x + c, f"[{i}]") for i, (x, c) in enumerate(zip(state, rc[r], strict=True))]
    return _mix(api, p.mds, sboxed)


@cache
def _partial_schedule(t: int) -> tuple[tuple[_Row, ...], tuple[_Row, ...]]:
    """The partial rounds of width t as affine maps over a basis (input-independent, cached).

    The basis is ``b_0..b_{t-1}`` = the S-box outputs of the last leading full round (before its
    MIX), then ``b_{t+k}`` = the S-box output of partial round k. Returns ``(inputs, outputs)``:
    ``inputs[k] = (c, a)`` with the S-box input of partial round k equal to
    ``c + sum_j a[j] b_j`` (``len(a) == t + k``), and ``outputs[i]`` the state element i after
    the last partial round (coefficients over all ``t + R_P`` basis elements).
    """
    p = poseidon_params(t)
    mds, half, n_p = p.mds, p.n_rounds_f // 2, p.n_rounds_p
    mul = operator.mul
    # rows[i] = [constant, coefficient of b_0, b_1, ...]; start: MIX of the basis.
    rows = [[0, *row] for row in mds]
    inputs: list[_Row] = []
    for k in range(n_p):
        width = 1 + t + k  # active columns
        for i, c in enumerate(p.round_constants[half + k]):
            rows[i][0] = (rows[i][0] + c) % R
        inputs.append((rows[0][0], tuple(rows[0][1:width])))
        rows[0] = [0] * width + [1]  # element 0 becomes the new S-box output b_{t+k}
        cols = [tuple(r[j] if j < len(r) else 0 for r in rows) for j in range(width + 1)]
        rows = [[sum(map(mul, m, col)) % R for col in cols] for m in mds]
    outputs = tuple((r[0], tuple(r[1:])) for r in rows)
    return tuple(inputs), outputs
