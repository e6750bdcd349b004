"""Pure-Python twins of the ceremony's group kernels (``_group``), on py_ecc through ``zkmargin.curve``.

Slow (milliseconds per scalar multiplication): test oracles for tiny sizes, never a code path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zkmargin import curve
from zkmargin.field import R

__all__ = ["group_dft_reference", "lagrange_points_reference", "sparse_combine_reference"]


def _ops(group: int) -> tuple[Any, Any]:
    return (curve.g1_add, curve.g1_mul) if group == 1 else (curve.g2_add, curve.g2_mul)


def group_dft_reference(points: Sequence[Any], w: int, group: int = 1) -> list[Any]:
    """out[k] = sum_j w^(jk) * points[j], by the definition (n^2 scalar multiplications)."""
    add, mul = _ops(group)
    n = len(points)
    out = []
    for k in range(n):
        acc = None
        for j, p in enumerate(points):
            acc = add(acc, mul(p, pow(w, j * k, R)))
        out.append(acc)
    return out


def lagrange_points_reference(points: Sequence[Any], group: int = 1) -> list[Any]:
    """The inverse DFT (1/n) sum_j w_n^(-jk) points[j]: L_k(tau) * G from tau^j * G."""
    from .qap import root_of_unity

    n = len(points)
    _, mul = _ops(group)
    w_inv = pow(root_of_unity(n), -1, R)
    n_inv = pow(n, -1, R)
    return [mul(p, n_inv) for p in group_dft_reference(points, w_inv, group)]


def sparse_combine_reference(
    bases: Sequence[Any], ptr: Sequence[int], idx: Sequence[int], scalars: Sequence[int], group: int = 1
) -> list[Any]:
    """out[k] = sum over e in [ptr[k], ptr[k+1]) of scalars[e] * bases[idx[e]]."""
    add, mul = _ops(group)
    out = []
    for k in range(len(ptr) - 1):
        acc = None
        for e in range(ptr[k], ptr[k + 1]):
            acc = add(acc, mul(bases[idx[e]], scalars[e]))
        out.append(acc)
    return out
