"""Rank-1 constraint systems over the BN254 scalar field.

Wire layout follows the iden3/snarkjs convention: wire 0 is the constant one, wires
``1 .. n_public`` are the public inputs (zkmargin circuits have no separate public outputs), the
rest are private. A constraint is ``<A, w> * <B, w> == <C, w>`` with each side a sparse linear
combination ``{wire: coefficient}`` (coefficients in [0, r)).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from zkmargin.errors import UnsatisfiedConstraintError
from zkmargin.field import R

__all__ = ["LinearCombination", "Constraint", "ConstraintSystem", "eval_lc"]

LinearCombination = dict[int, int]
Constraint = tuple[LinearCombination, LinearCombination, LinearCombination]


def eval_lc(lc: LinearCombination, witness: Sequence[int]) -> int:
    """Evaluate a sparse linear combination on a full witness, mod r."""
    return sum(c * witness[w] for w, c in lc.items()) % R


@dataclass
class ConstraintSystem:
    """An R1CS with named wires and constraint labels (scope paths).

    Attributes:
        n_wires: total wires including wire 0 (the constant one).
        n_public: number of public inputs (wires 1..n_public).
        constraints: list of (A, B, C) sparse linear combinations.
        labels: one scope path per constraint, used in error messages.
        wire_names: one name per wire ("one" for wire 0).
        prime: the field modulus (always BN254's r here).
    """

    n_wires: int
    n_public: int
    constraints: list[Constraint] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    wire_names: list[str] = field(default_factory=list)
    prime: int = R

    @property
    def n_constraints(self) -> int:
        return len(self.constraints)

    @property
    def n_private(self) -> int:
        return self.n_wires - 1 - self.n_public

    def digest(self) -> str:
        """SHA-256 (hex) of the shape: counts and every coefficient, in a canonical order.

        Names and labels are not part of the shape; two circuits with equal digests have the
        same constraint system.
        """
        h = hashlib.sha256()
        h.update(f"zkmargin-r1cs-v1|{self.prime}|{self.n_wires}|{self.n_public}|".encode())
        for a, b, c in self.constraints:
            for lc in (a, b, c):
                h.update(b"[")
                for w in sorted(lc):
                    h.update(f"{w}:{lc[w] % self.prime},".encode())
                h.update(b"]")
        return h.hexdigest()

    def first_unsatisfied(self, witness: Sequence[int]) -> int | None:
        """Index of the first violated constraint, or None if the witness satisfies all."""
        if len(witness) != self.n_wires:
            raise ValueError(f"witness has {len(witness)} values, the system has {self.n_wires} wires")
        p = self.prime
        for i, (a, b, c) in enumerate(self.constraints):
            av = sum(k * witness[w] for w, k in a.items())
            bv = sum(k * witness[w] for w, k in b.items())
            cv = sum(k * witness[w] for w, k in c.items())
            if (av * bv - cv) % p:
                return i
        return None

    def is_satisfied(self, witness: Sequence[int]) -> bool:
        return witness[0] == 1 and self.first_unsatisfied(witness) is None

    def check(self, witness: Sequence[int]) -> None:
        """Raise UnsatisfiedConstraintError naming the first violated constraint's scope path."""
        if len(witness) != self.n_wires:
            raise UnsatisfiedConstraintError(
                f"witness has {len(witness)} values, the system has {self.n_wires} wires"
            )
        if witness[0] != 1:
            raise UnsatisfiedConstraintError(f"witness[0] must be 1 (the constant wire), got {witness[0]}")
        for i, v in enumerate(witness):
            if not 0 <= v < self.prime:
                raise UnsatisfiedConstraintError(f"witness value of wire {self._wname(i)} is not in [0, r): {v}")
        bad = self.first_unsatisfied(witness)
        if bad is None:
            return
        i = bad
        a, b, c = self.constraints[i]
        av, bv, cv = eval_lc(a, witness), eval_lc(b, witness), eval_lc(c, witness)
        label = self.labels[i] if i < len(self.labels) else ""
        raise UnsatisfiedConstraintError(
            f"constraint #{i} '{label}' is not satisfied: A*B != C with A={av}, B={bv}, C={cv} "
            f"({self._describe(a)}) * ({self._describe(b)}) = ({self._describe(c)})",
            index=i,
            label=label,
        )

    def public_inputs(self, witness: Sequence[int]) -> list[int]:
        return list(witness[1 : 1 + self.n_public])

    def wire_index(self, name: str) -> int:
        """The index of the wire with this exact name (KeyError if none)."""
        try:
            return self.wire_names.index(name)
        except ValueError:
            raise KeyError(f"no wire named {name!r}") from None

    def _wname(self, i: int) -> str:
        return self.wire_names[i] if i < len(self.wire_names) else f"w{i}"

    def _describe(self, lc: LinearCombination, limit: int = 4) -> str:
        parts = []
        for w, k in list(lc.items())[:limit]:
            kk = k - self.prime if k > self.prime // 2 else k
            parts.append(f"{kk}*{self._wname(w)}" if kk != 1 else self._wname(w))
        if len(lc) > limit:
            parts.append(f"... {len(lc) - limit} more")
        return " + ".join(parts) if parts else "0"
