"""Hostile-input fuzzing of the verifier, and the G2 subgroup check against its definition.

The fuzzer starts from one valid statement (trapdoor key with 3 public inputs, a simulated proof)
and mutates it, seeded and reproducibly, at two layers:

- data: the Python values given to ``prepare_verifying_key`` / ``verify``: coordinates (bit flips,
  +-1, q, q-1, negatives, huge numbers, wrong types, int subclasses), points (infinity, (0, 0),
  swapped coordinates, swapped Fq2 halves, negation, other valid points, points off the curve,
  twist points outside G2, wrong arity), public inputs (out of range, wrong types, extra or
  missing ones), containers and whole objects (None, dicts, strings, nested junk);
- json: snarkjs's ``verification_key.json``, ``proof.json`` and ``public.json`` as read by
  ``zkmargin.serialize``: the same in decimal strings (bit flips, digit edits, signs, hex, huge
  strings, leading zeros), JSON types, list lengths, projective z coordinates (0, 2, and a
  consistent rescaling, which encodes the same point), fields, plus raw-text edits (truncation,
  stray bytes, nesting).

Each case must either raise a ``MalformedInputError`` (a ``ZkMarginError``) or return a bool, never
another exception. A case whose statement (verifying key, public inputs, proof: compared as
values after parsing, so that a list for a tuple, an int subclass, leading zeros or a rescaled
projective point count as the same) differs from the original must not verify; one whose
statement is unchanged must verify. Groth16 proofs are malleable (``(-A, -B, C)`` is valid too, as
are ``(-alpha, -beta)`` in the key): the fuzzer applies at most one negation per case, so it never
builds those on purpose.

Cost: most cases are rejected by validation (milliseconds); a case that reaches the pairing costs
~0.5 s with py_ecc (more on a loaded machine). The default test runs 300 cases and evaluates at
most 8 pairings; the others that reach the pairing are stopped there and counted as "pairing not
evaluated". The long run evaluates every pairing::

    ZKMARGIN_FUZZ_CASES=10000 pytest tests/verifier/test_fuzz_hostile.py -m slow -s

Other knobs (long run only): ``ZKMARGIN_FUZZ_SEED`` (a string), ``ZKMARGIN_FUZZ_PAIRINGS`` (a cap,
default unlimited), ``ZKMARGIN_FUZZ_ONLY=17,42`` (replay those case numbers),
``ZKMARGIN_FUZZ_REPORT=path.json`` (write the summary). A failure message names the seed and the
case number, so ``ZKMARGIN_FUZZ_SEED=... ZKMARGIN_FUZZ_ONLY=n`` replays it.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from py_ecc.optimized_bn128 import optimized_curve as pc

import zkmargin.verifier.groth16_verify as gv
from zkmargin.curve import (
    BN_X,
    G1_GENERATOR,
    G2_GENERATOR,
    _g2_in_subgroup_by_order,
    g1_mul,
    g1_neg,
    g2_add,
    g2_in_subgroup,
    g2_is_on_curve,
    g2_mul,
    g2_neg,
    g2_psi,
)
from zkmargin.errors import (
    MalformedInputError,
    PointNotOnCurveError,
    PublicInputOutOfRangeError,
    ZkMarginError,
)
from zkmargin.field import Q, R
from zkmargin.groth16 import Proof, VerifyingKey
from zkmargin.serialize import (
    dump_proof,
    dump_public_inputs,
    dump_verifying_key,
    load_proof,
    load_public_inputs,
    load_verifying_key,
    loads_proof,
    loads_public_inputs,
    loads_verifying_key,
)
from zkmargin.verifier import prepare_verifying_key, verify, verify_batch

DEFAULT_CASES = 300
#: py_ecc: ~0.5 s a pairing, so the default run evaluates 8; the numba pairing (~1 ms) evaluates all.
DEFAULT_PAIRINGS: int | None = 8 if gv.fast_backend() is None else None
DEFAULT_SEED = "zkmargin-fuzz-v1"


# --- the statement as comparable values ---------------------------------------------------------

def _canon(v: Any) -> Any:
    """A value-level fingerprint: equal fingerprints mean the verifier sees the same statement.

    Lists and tuples compare alike, int subclasses by value (the verifier calls int() on them),
    bools apart from ints (the verifier rejects them); anything else is opaque, unequal to all.
    """
    if v is None:
        return None
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, (tuple, list)):
        return tuple(_canon(x) for x in v)
    if isinstance(v, Proof):
        return ("Proof", _canon(v.a), _canon(v.b), _canon(v.c))
    if isinstance(v, VerifyingKey):
        return ("VK", _canon(v.alpha_g1), _canon(v.beta_g2), _canon(v.gamma_g2), _canon(v.delta_g2),
                _canon(v.gamma_abc_g1))
    return ("opaque", type(v).__name__, id(v))


def _canon_statement(vk: Any, public: Any, proof: Any, effective: bool = False) -> Any:
    """The fingerprint of a (vk, public, proof) trio.

    ``effective``: ignore ``gamma_abc_g1[i]`` when public input i-1 is 0 (the base statement has
    one). That point is multiplied by 0 in ``vk_x``, so the Groth16 equation does not see it: a key
    changed only there legitimately verifies the same proofs.
    """
    if isinstance(public, Sequence) and not isinstance(public, (str, bytes, bytearray)):
        pub = ("seq", tuple(_canon(x) for x in public))  # verify() accepts any Sequence here
    else:
        pub = _canon(public)
    key = _canon(vk)
    shaped = (
        isinstance(key, tuple) and key[0] == "VK" and isinstance(key[5], tuple)
        and isinstance(pub, tuple) and pub[0] == "seq" and len(key[5]) == len(pub[1]) + 1
    )
    if effective and shaped:
        ic = list(key[5])
        for i, x in enumerate(pub[1], start=1):
            if x == 0 and type(x) is int:
                ic[i] = "ignored: multiplied by a zero input"
        key = (*key[:5], tuple(ic))
    return (key, pub, _canon(proof))


class _IntSub(int):
    """An int subclass with the same value: the statement does not change."""


class _LyingInt(int):
    """An int subclass whose comparisons lie; the verifier must use its value, not its methods."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __lt__(self, other: object) -> bool:
        return True

    def __ge__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


# --- fixtures: the base statement and pools of points -------------------------------------------

@dataclasses.dataclass
class _Base:
    vk: VerifyingKey
    public: tuple[int, ...]
    proof: Proof
    canon: Any
    canon_effective: Any
    g1_pool: list[tuple[int, int]]
    g2_pool: list[Any]
    outside_g2: list[Any]
    docs: dict[str, Any]  # the three JSON documents


@pytest.fixture(scope="module")
def base(sim: Any, trapdoor3: Any, public3: tuple[int, ...], proof3: Proof) -> _Base:
    rng = random.Random(0xF022)
    outside = [sim.twist_point_outside_g2(rng) for _ in range(4)]
    # G2 generator plus a torsion point of small order: on the twist, outside G2, and a natural
    # hostile choice (it passes a check that only looks at the "large" part of the order).
    cof = 2 * Q - R
    small = _mul_any(_mul_any(outside[0], R), cof // 10069)
    outside.append(g2_add(G2_GENERATOR, small) if small is not None else outside[0])
    return _Base(
        vk=trapdoor3.vk,
        public=tuple(public3),
        proof=proof3,
        canon=_canon_statement(trapdoor3.vk, public3, proof3),
        canon_effective=_canon_statement(trapdoor3.vk, public3, proof3, effective=True),
        g1_pool=[g1_mul(G1_GENERATOR, rng.randrange(1, R)) for _ in range(3)] + [G1_GENERATOR],
        g2_pool=[g2_mul(G2_GENERATOR, rng.randrange(1, R)) for _ in range(2)] + [G2_GENERATOR],
        outside_g2=outside,
        docs={
            "vk": dump_verifying_key(trapdoor3.vk),
            "public": dump_public_inputs(public3),
            "proof": dump_proof(proof3),
        },
    )


def _mul_any(p: Any, k: int) -> Any:
    """k * P on the twist for any point (not only G2: no reduction of k mod r)."""
    if p is None:
        return None
    (x0, x1), (y0, y1) = p
    pt = pc.multiply((pc.FQ2([x0, x1]), pc.FQ2([y0, y1]), pc.FQ2.one()), k)
    if pc.is_inf(pt):
        return None
    x, y = pc.normalize(pt)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


# --- known bugs in code outside this test's reach ---------------------------------------------------
# Each probe says whether a bug is still there. While it is, the fuzzer does not generate the
# mutation that triggers it (so that the fuzz stays green and finds the next bug), and a strict
# xfail test at the end of this file documents it; once fixed, that test XPASSes and fails, which
# says: remove the xfail, and the fuzzer already generates the mutation again.

def _escapes_as_bare_value_error(f: Callable[[], object]) -> bool:
    try:
        f()
    except ZkMarginError:
        return False
    except ValueError:
        return True
    return False


#: zkmargin.verifier formats an out-of-range int into its message with str(); past 4300 digits
#: (sys.get_int_max_str_digits) that raises a bare ValueError instead of the named error.
_BUG_VERIFY_HUGE_INT = _escapes_as_bare_value_error(lambda: gv.validate_public_inputs([1 << 20000], 1))
#: zkmargin.serialize: json.loads raises a bare ValueError for a JSON number over 4300 digits.
_BUG_JSON_HUGE_LITERAL = _escapes_as_bare_value_error(lambda: loads_public_inputs("[" + "1" * 5000 + "]"))
#: zkmargin.serialize: load_*(parsed object) builds its message with repr() of a huge Python int.
_BUG_LOADER_HUGE_PYINT = _escapes_as_bare_value_error(lambda: load_public_inputs([1 << 20000]))

_HUGE_BITS = [254, 255, 256, 512, 4096] + ([] if _BUG_VERIFY_HUGE_INT else [20000, 100_000])


# --- the data layer: slots and mutations ------------------------------------------------------------

_VK_FIELDS = {"alpha_g1": "g1", "beta_g2": "g2", "gamma_g2": "g2", "delta_g2": "g2", "gamma_abc_g1": "g1list"}
_PROOF_FIELDS = {"a": "g1", "b": "g2", "c": "g1"}


def _is_pair(v: Any) -> bool:
    return isinstance(v, (tuple, list)) and len(v) == 2


def _slots(root: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """Every mutable place in the current statement, with its kind (walks only well-shaped parts)."""
    out: list[tuple[tuple[Any, ...], str]] = [(("vk",), "vk"), (("public",), "publist"), (("proof",), "proof")]

    def point(path: tuple[Any, ...], v: Any, kind: str) -> None:
        out.append((path, kind))
        if kind == "g1" and _is_pair(v):
            out.extend(((*path, i), "coord") for i in range(2))
        if kind == "g2" and _is_pair(v):
            for i in range(2):
                if _is_pair(v[i]):
                    out.append(((*path, i), "fq2"))
                    out.extend(((*path, i, j), "coord") for j in range(2))

    vk = root["vk"]
    if isinstance(vk, VerifyingKey):
        for name, kind in _VK_FIELDS.items():
            value = getattr(vk, name)
            if kind == "g1list":
                out.append((("vk", name), kind))
                if isinstance(value, (tuple, list)):
                    for i, p in enumerate(value):
                        point(("vk", name, i), p, "g1")
            else:
                point(("vk", name), value, kind)
    public = root["public"]
    if isinstance(public, (tuple, list)):
        out.extend((("public", i), "scalar") for i in range(len(public)))
    proof = root["proof"]
    if isinstance(proof, Proof):
        for name, kind in _PROOF_FIELDS.items():
            point(("proof", name), getattr(proof, name), kind)
    return out


def _get(root: Any, path: Sequence[Any]) -> Any:
    v = root
    for k in path:
        v = getattr(v, k) if isinstance(k, str) and not isinstance(v, dict) else v[k]
    return v


def _set(container: Any, path: Sequence[Any], value: Any) -> Any:
    """A copy of ``container`` with ``path`` replaced, keeping every container's type."""
    if not path:
        return value
    k, rest = path[0], path[1:]
    if isinstance(container, dict):
        new = dict(container)
        new[k] = _set(container[k], rest, value)
        return new
    if dataclasses.is_dataclass(container) and isinstance(k, str):
        return dataclasses.replace(container, **{k: _set(getattr(container, k), rest, value)})
    items = list(container)
    items[k] = _set(items[k], rest, value)
    return tuple(items) if isinstance(container, tuple) else items


_JUNK: list[Callable[[Any], Any]] = [
    lambda v: str(v),
    lambda v: float(v) if isinstance(v, int) and not isinstance(v, bool) else 1.5,
    lambda v: True,
    lambda v: None,
    lambda v: [v],
    lambda v: {"value": v},
    lambda v: b"\x00\x01",
    lambda v: [[[[[]]]]],
    lambda v: {"a": [None, {"b": ()}]},
    lambda v: object(),
    lambda v: range(3),
    lambda v: {1, 2},
    lambda v: complex(1, 2),
    lambda v: "",
]


def _mutate_int(v: Any, rng: random.Random, modulus: int) -> tuple[Any, str]:
    """Mutations of one integer (a coordinate, modulus q, or a public input, modulus r)."""
    iv = int(v) if isinstance(v, int) and not isinstance(v, bool) else 0
    choice = rng.randrange(16)
    if choice == 0:
        bit = rng.randrange(260)
        return iv ^ (1 << bit), f"flip bit {bit}"
    if choice == 1:
        return iv + 1, "+1"
    if choice == 2:
        return iv - 1, "-1"
    if choice == 3:
        return iv + modulus, "+modulus"
    if choice == 4:
        return -iv if iv else -1, "negate (integer)"
    if choice == 5:
        return modulus, "= modulus"
    if choice == 6:
        return rng.choice([0, 1, modulus - 1, Q - 1, R - 1, Q, R]), "edge value"
    if choice == 7:
        return 1 << rng.choice(_HUGE_BITS), "huge power of two"
    if choice == 8:
        return -(1 << rng.randrange(1, 300)), "huge negative"
    if choice == 9:
        return _IntSub(iv), "int subclass, same value"
    if choice == 10:
        return _LyingInt(iv), "int subclass with lying comparisons"
    if choice == 11:
        return rng.randrange(modulus), "random value in range"
    j = rng.randrange(len(_JUNK))
    return _JUNK[j](v), f"junk type #{j}"


def _mutate_scalar(v: Any, rng: random.Random, base: _Base) -> tuple[Any, str]:
    return _mutate_int(v, rng, R)


def _mutate_coord(v: Any, rng: random.Random, base: _Base) -> tuple[Any, str]:
    return _mutate_int(v, rng, Q)


def _off_curve_g1(rng: random.Random) -> tuple[int, int]:
    return (rng.randrange(Q), rng.randrange(Q))


def _mutate_g1(v: Any, rng: random.Random, base: _Base) -> tuple[Any, str]:
    choice = rng.randrange(14)
    if choice == 0:
        return None, "infinity"
    if choice == 1:
        return (0, 0), "(0, 0)"
    if choice == 2 and _is_pair(v):
        return (v[1], v[0]), "swap x, y"
    if choice == 3 and _is_pair(v):
        return g1_neg(v) if isinstance(v[0], int) and isinstance(v[1], int) else v, "NEGATE point"
    if choice == 4:
        return rng.choice(base.g1_pool), "another valid G1 point"
    if choice == 5:
        return _off_curve_g1(rng), "random point off the curve"
    if choice == 6 and _is_pair(v):
        return (*v, 1), "projective triple (x, y, 1)"
    if choice == 7 and _is_pair(v):
        return (v[0],), "one coordinate"
    if choice == 8 and _is_pair(v):
        return list(v), "list instead of tuple"
    if choice == 9:
        return rng.choice(base.g2_pool), "a G2 point in a G1 slot"
    if choice == 10 and _is_pair(v):
        return (v[0], (v[1] + Q) if isinstance(v[1], int) else v[1]), "y + q"
    if choice == 11:
        return (1, 2 + rng.randrange(1, 5)), "generator x, wrong y"
    j = rng.randrange(len(_JUNK))
    return _JUNK[j](v), f"junk type #{j}"


def _mutate_g2(v: Any, rng: random.Random, base: _Base) -> tuple[Any, str]:
    choice = rng.randrange(15)
    if choice == 0:
        return None, "infinity"
    if choice == 1:
        return ((0, 0), (0, 0)), "all zeros"
    if choice == 2 and _is_pair(v):
        return (v[1], v[0]), "swap x, y"
    if choice == 3 and _is_pair(v) and all(_is_pair(c) for c in v):
        return ((v[0][1], v[0][0]), (v[1][1], v[1][0])), "swap Fq2 halves of x and y"
    if choice == 4 and _is_pair(v) and _is_pair(v[0]):
        return ((v[0][1], v[0][0]), v[1]), "swap Fq2 halves of x"
    if choice == 5 and _is_pair(v):
        try:
            return g2_neg(v), "NEGATE point"
        except Exception:
            return v, "no-op (cannot negate)"
    if choice == 6:
        return rng.choice(base.g2_pool), "another valid G2 point"
    if choice == 7:
        return rng.choice(base.outside_g2), "twist point outside G2"
    if choice == 8:
        return ((rng.randrange(Q), rng.randrange(Q)), (rng.randrange(Q), rng.randrange(Q))), "random off-twist"
    if choice == 9:
        return rng.choice(base.g1_pool), "a G1 point in a G2 slot"
    if choice == 10 and _is_pair(v):
        return [list(c) if isinstance(c, tuple) else c for c in v], "lists instead of tuples"
    if choice == 11 and _is_pair(v):
        return (*v, (1, 0)), "projective triple"
    if choice == 12 and _is_pair(v) and _is_pair(v[0]):
        return ((v[0][0], v[0][1], 0), v[1]), "Fq2 with three parts"
    j = rng.randrange(len(_JUNK))
    return _JUNK[j](v), f"junk type #{j}"


def _mutate_fq2(v: Any, rng: random.Random, base: _Base) -> tuple[Any, str]:
    choice = rng.randrange(4)
    if choice == 0 and _is_pair(v):
        return (v[1], v[0]), "swap Fq2 halves"
    if choice == 1 and _is_pair(v):
        return (v[0],), "one Fq2 half"
    if choice == 2 and _is_pair(v):
        return (v[0], 0), "zero imaginary part"
    j = rng.randrange(len(_JUNK))
    return _JUNK[j](v), f"junk type #{j}"


def _mutate_g1list(v: Any, rng: random.Random, base: _Base) -> tuple[Any, str]:
    seq = list(v) if isinstance(v, (tuple, list)) else []
    choice = rng.randrange(9)
    if choice == 0:
        return tuple(seq[:-1]), "drop the last IC point"
    if choice == 1:
        return (*seq, rng.choice(base.g1_pool)), "extra IC point"
    if choice == 2:
        return (), "empty IC"
    if choice == 3:
        return list(seq), "list instead of tuple"
    if choice == 4 and seq:
        i = rng.randrange(len(seq))
        return tuple(seq[:i] + [None] + seq[i + 1:]), f"IC[{i}] = infinity"
    if choice == 5 and len(seq) > 1:
        i, j = rng.sample(range(len(seq)), 2)
        seq[i], seq[j] = seq[j], seq[i]
        return tuple(seq), f"swap IC[{i}], IC[{j}]"
    if choice == 6:
        return tuple(reversed(seq)), "reversed IC"
    j = rng.randrange(len(_JUNK))
    return _JUNK[j](v), f"junk type #{j}"


def _mutate_publist(v: Any, rng: random.Random, base: _Base) -> tuple[Any, str]:
    seq = list(v) if isinstance(v, (tuple, list)) else []
    choice = rng.randrange(12)
    if choice == 0:
        return (*seq, rng.randrange(R)), "extra public input"
    if choice == 1:
        return tuple(seq[:-1]), "missing public input"
    if choice == 2:
        return (), "no public inputs"
    if choice == 3:
        return list(seq), "list instead of tuple"
    if choice == 4 and len(seq) > 1:
        i, j = rng.sample(range(len(seq)), 2)
        seq[i], seq[j] = seq[j], seq[i]
        return tuple(seq), f"swap inputs {i}, {j}"
    if choice == 5:
        return tuple(x + R if isinstance(x, int) else x for x in seq), "every input + r"
    if choice == 6:
        return ",".join(str(x) for x in seq), "a string"
    if choice == 7:
        return json.dumps([str(x) for x in seq]).encode(), "JSON bytes"
    if choice == 8:
        return {str(i): x for i, x in enumerate(seq)}, "a dict"
    if choice == 9:
        return iter(seq), "an iterator"
    if choice == 10:
        return range(len(seq)), "range(n)"
    j = rng.randrange(len(_JUNK))
    return _JUNK[j](v), f"junk type #{j}"


def _mutate_vk(v: Any, rng: random.Random, base: _Base) -> tuple[Any, str]:
    choice = rng.randrange(6)
    if isinstance(v, VerifyingKey):
        if choice == 0:
            return dataclasses.replace(v, beta_g2=v.gamma_g2, gamma_g2=v.beta_g2), "swap beta, gamma"
        if choice == 1:
            return dataclasses.replace(v, gamma_g2=v.delta_g2), "gamma = delta"
        if choice == 2:
            return dump_verifying_key(base.vk), "the JSON dict instead of the key"
    if choice == 3:
        return base.proof, "a Proof instead of the key"
    j = rng.randrange(len(_JUNK))
    return _JUNK[j](v), f"junk type #{j}"


def _mutate_proof(v: Any, rng: random.Random, base: _Base) -> tuple[Any, str]:
    choice = rng.randrange(6)
    if isinstance(v, Proof):
        if choice == 0:
            return dataclasses.replace(v, a=v.c, c=v.a), "swap A, C"
        if choice == 1:
            return (v.a, v.b, v.c), "a tuple (A, B, C)"
        if choice == 2:
            return dump_proof(base.proof), "the JSON dict instead of the proof"
    if choice == 3:
        return base.vk, "a VerifyingKey instead of the proof"
    j = rng.randrange(len(_JUNK))
    return _JUNK[j](v), f"junk type #{j}"


_MUTATORS: dict[str, Callable[[Any, random.Random, _Base], tuple[Any, str]]] = {
    "coord": _mutate_coord,
    "scalar": _mutate_scalar,
    "g1": _mutate_g1,
    "g2": _mutate_g2,
    "fq2": _mutate_fq2,
    "g1list": _mutate_g1list,
    "publist": _mutate_publist,
    "vk": _mutate_vk,
    "proof": _mutate_proof,
}


_TARGET_WEIGHTS = {"vk": 0.35, "public": 0.25, "proof": 0.4}


def _pick_slot(slots: list[tuple[tuple[Any, ...], str]], rng: random.Random) -> tuple[tuple[Any, ...], str]:
    """A target object (key, inputs, proof) by weight, then a kind of slot, then a slot of that kind,
    so that the many coordinates of a key do not crowd out everything else."""
    target = rng.choices(list(_TARGET_WEIGHTS), weights=list(_TARGET_WEIGHTS.values()))[0]
    mine = [s for s in slots if s[0][0] == target]
    kind = rng.choice(sorted({k for _, k in mine}))
    return rng.choice([s for s in mine if s[1] == kind])


def _data_case(rng: random.Random, base: _Base) -> tuple[tuple[Any, Any, Any], list[str]]:
    root: dict[str, Any] = {"vk": base.vk, "public": base.public, "proof": base.proof}
    ops: list[str] = []
    negated = False
    for _ in range(rng.choice([1, 1, 1, 1, 1, 1, 2, 2, 3])):
        path, kind = _pick_slot(_slots(root), rng)
        for _attempt in range(10):
            value, what = _MUTATORS[kind](_get(root, path), rng, base)
            if not (negated and "NEGATE" in what):  # at most one negation: see the module docstring
                break
        else:
            continue
        negated = negated or "NEGATE" in what
        root = _set(root, path, value)
        ops.append(f"{'.'.join(map(str, path))}: {what}")
    return (root["vk"], root["public"], root["proof"]), ops


# --- the json layer ---------------------------------------------------------------------------------

_G1_NODES = {"vk": ["vk_alpha_1", "IC"], "proof": ["pi_a", "pi_c"]}
_G2_NODES = {"vk": ["vk_beta_2", "vk_gamma_2", "vk_delta_2"], "proof": ["pi_b"]}
_DIGITS = "0123456789"


def _json_nodes(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    out = [(path, tree)]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.extend(_json_nodes(v, (*path, k)))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out.extend(_json_nodes(v, (*path, i)))
    return out


def _mutate_decimal(s: str, rng: random.Random) -> tuple[Any, str]:
    v = int(s)
    choice = rng.randrange(18)
    if choice == 0:
        bit = rng.randrange(256)
        return str(v ^ (1 << bit)), f"flip bit {bit}"
    if choice == 1 and s:
        i = rng.randrange(len(s))
        return s[:i] + rng.choice(_DIGITS) + s[i + 1:], f"digit {i} replaced"
    if choice == 2:
        return "0" * rng.randrange(1, 5) + s, "leading zeros (same value)"
    if choice == 3:
        return s + rng.choice(_DIGITS), "digit appended"
    if choice == 4:
        return s[:-1] or "", "last digit removed"
    if choice == 5:
        return "-" + s, "minus sign"
    if choice == 6:
        return rng.choice(["+" + s, " " + s, s + " ", s + "\n", "\t" + s]), "sign or whitespace"
    if choice == 7:
        return hex(v), "hex"
    if choice == 8:
        return rng.choice(["1e5", "1.0", "0.5", "NaN", "Infinity", "1_000"]), "float-like string"
    if choice == 9:
        return "", "empty string"
    if choice == 10:
        return "\u0661\u0662\u0663", "non-ASCII digits"
    if choice == 11:
        return "9" * rng.choice([77, 78, 80, 81, 400, 5000]), "huge decimal string"
    if choice == 12:
        return str(rng.choice([Q, R, Q - 1, R - 1, Q + v, R + v])), "edge value"
    if choice == 13:
        return v, "JSON number instead of string"
    if choice == 14:
        junk: list[Any] = [None, True, False, 1.5, [], {}, [s], {"v": s}, -v, float("nan")]
        if not _BUG_LOADER_HUGE_PYINT:
            junk.append(1 << 20000)  # only load_*(object) sees it: json.dumps cannot write it
        return rng.choice(junk), "wrong JSON type"
    if choice == 15:
        return str(rng.randrange(R)), "random value below r"
    return s[: rng.randrange(len(s) + 1)], "truncated string"


def _fq2_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return ((a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q)


def _rescale_point(node: Any, g2: bool, rng: random.Random) -> Any:
    """The same point in other projective (Jacobian) coordinates: (x z^2, y z^3, z)."""
    if g2:
        x, y = (int(node[0][0]), int(node[0][1])), (int(node[1][0]), int(node[1][1]))
        z = (rng.randrange(1, Q), rng.randrange(Q))
        z2 = _fq2_mul(z, z)
        x2, y2 = _fq2_mul(x, z2), _fq2_mul(y, _fq2_mul(z2, z))
        return [[str(x2[0]), str(x2[1])], [str(y2[0]), str(y2[1])], [str(z[0]), str(z[1])]]
    x, y = int(node[0]), int(node[1])
    z = rng.randrange(2, Q)
    return [str(x * z * z % Q), str(y * z * z * z % Q), str(z)]


def _point_paths(doc_name: str, tree: Any) -> list[tuple[tuple[Any, ...], bool]]:
    out: list[tuple[tuple[Any, ...], bool]] = []
    if not isinstance(tree, dict):
        return out
    for key in _G1_NODES.get(doc_name, []):
        node = tree.get(key)
        if key == "IC" and isinstance(node, list):
            out.extend(((key, i), False) for i in range(len(node)))
        elif node is not None:
            out.append(((key,), False))
    out.extend(((key,), True) for key in _G2_NODES.get(doc_name, []) if key in tree)
    return out


def _mutate_tree(doc_name: str, tree: Any, rng: random.Random) -> tuple[Any, str]:
    """One mutation of a parsed JSON document; returns the new tree (a deep copy)."""
    tree = copy.deepcopy(tree)
    choice = rng.randrange(10)
    if choice <= 4:  # a decimal string leaf
        leaves = [(p, v) for p, v in _json_nodes(tree) if isinstance(v, str) and v.isdigit() and v.isascii()]
        if leaves:
            path, s = rng.choice(leaves)
            value, what = _mutate_decimal(s, rng)
            return _set(tree, path, value), f"{doc_name}{list(path)}: {what}"
    if choice == 5:  # a point: rescale, z = 0 / 2, two coordinates, swaps
        points = _point_paths(doc_name, tree)
        if points:
            path, g2 = rng.choice(points)
            node = _get(tree, path)
            sub = rng.randrange(6)
            try:
                if sub == 0:
                    return _set(tree, path, _rescale_point(node, g2, rng)), f"{doc_name}{list(path)}: rescaled z"
                if sub == 1:
                    node[2] = ["0", "0"] if g2 else "0"
                    return _set(tree, path, node), f"{doc_name}{list(path)}: z = 0 (infinity)"
                if sub == 2:
                    node[2] = ["2", "0"] if g2 else "2"
                    return _set(tree, path, node), f"{doc_name}{list(path)}: z = 2"
                if sub == 3:
                    return _set(tree, path, node[:2]), f"{doc_name}{list(path)}: two coordinates"
                if sub == 4:
                    node[0], node[1] = node[1], node[0]
                    return _set(tree, path, node), f"{doc_name}{list(path)}: swap x, y"
                if g2:
                    node[0] = node[0][::-1]
                    node[1] = node[1][::-1]
                    return _set(tree, path, node), f"{doc_name}{list(path)}: swap Fq2 halves"
                node[1] = str((Q - int(node[1])) % Q)
                return _set(tree, path, node), f"{doc_name}{list(path)}: NEGATE point"
            except (IndexError, TypeError, ValueError, KeyError):
                pass  # an earlier mutation already broke this point's shape
    if choice == 6:  # a list node
        lists = [(p, v) for p, v in _json_nodes(tree) if isinstance(v, list)]
        if lists:
            path, node = rng.choice(lists)
            sub = rng.randrange(6)
            if sub == 0:
                return _set(tree, path, node[:-1]), f"{doc_name}{list(path)}: last element dropped"
            if sub == 1:
                extra = rng.choice(["0", "1", None, [], "7"])
                return _set(tree, path, [*node, extra]), f"{doc_name}{list(path)}: extra element"
            if sub == 2:
                return _set(tree, path, node[::-1]), f"{doc_name}{list(path)}: reversed"
            if sub == 3:
                return _set(tree, path, []), f"{doc_name}{list(path)}: emptied"
            if sub == 4:
                return _set(tree, path, [node]), f"{doc_name}{list(path)}: nested once more"
            return _set(tree, path, {"0": node}), f"{doc_name}{list(path)}: dict instead of list"
    if choice == 7 and isinstance(tree, dict) and tree:  # a field
        key = rng.choice(sorted(tree))
        sub = rng.randrange(5)
        if sub == 0:
            del tree[key]
            return tree, f"{doc_name}: field {key} removed"
        if sub == 1:
            tree["x_unknown_" + key] = tree[key]
            return tree, f"{doc_name}: unknown field added (ignored)"
        if sub == 2:
            tree[key] = rng.choice([None, 0, "", [], {}, True, "groth16", "bn128"])
            return tree, f"{doc_name}: field {key} replaced by a wrong value"
        if sub == 3 and key in ("protocol", "curve"):
            tree[key] = rng.choice(["plonk", "fflonk", "BN254", "bn-128", "bls12381", "GROTH16", "alt_bn128"])
            return tree, f"{doc_name}: {key} = {tree[key]}"
        if sub == 4 and key == "nPublic":
            tree[key] = rng.choice([tree[key] + 1, tree[key] - 1, str(tree[key]), 3.0, True, -1])
            return tree, f"{doc_name}: nPublic = {tree[key]!r}"
    if choice == 8 and doc_name == "public" and isinstance(tree, list):
        sub = rng.randrange(4)
        if sub == 0:
            return [*tree, str(rng.randrange(R))], "public: extra input"
        if sub == 1:
            return tree[:-1], "public: missing input"
        if sub == 2 and len(tree) > 1:
            i, j = rng.sample(range(len(tree)), 2)
            tree[i], tree[j] = tree[j], tree[i]
            return tree, f"public: swap {i}, {j}"
        return [int(x) if isinstance(x, str) and x.isdigit() else x for x in tree], "public: JSON numbers"
    whole = rng.choice([None, [], {}, "text", 0, [[[[[[]]]]]], {"a": {"b": {"c": None}}}, [tree], {"doc": tree}])
    return whole, f"{doc_name}: whole document replaced by {type(whole).__name__}"


def _mutate_text(text: str, rng: random.Random) -> tuple[str | bytes, str]:
    choice = rng.randrange(10)
    if choice == 0:
        n = rng.randrange(len(text))
        return text[:n], f"truncated at {n}"
    if choice == 1:
        i = rng.randrange(len(text))
        return text[:i] + text[i + 1:], f"character {i} deleted"
    if choice == 2:
        i = rng.randrange(len(text) + 1)
        return text[:i] + rng.choice('{}[]",:0-.eE \x00\u00e9\ud800') + text[i:], f"character inserted at {i}"
    if choice == 3:
        raw = bytearray(text.encode())
        i = rng.randrange(len(raw))
        raw[i] = rng.randrange(256)
        return bytes(raw), f"byte {i} replaced"
    if choice == 4:
        return "[" * 100_000 + "]" * 100_000, "deep nesting"
    if choice == 5:
        return rng.choice(["", "null", "true", "0", '""', "[]", "{}", "\ufeff{}"]), "minimal document"
    if choice == 6:
        return text + text, "document twice"
    if choice == 7 and not _BUG_JSON_HUGE_LITERAL:
        return text.replace('"1"', "1" * 5000, 1), "huge JSON number literal"
    if choice == 8:
        return text.replace(":", ": 1e999, \"dup\":", 1), "extra infinite number"
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    i = rng.choice(digits) if digits else 0
    return text[:i] + rng.choice(_DIGITS) + text[i + 1:], f"digit at {i} replaced"


def _dumps_or_none(tree: Any) -> str | None:
    try:
        return json.dumps(tree)
    except ValueError:  # a Python int too long for str(): only load_*(object) can take it
        return None


_LOADERS = {
    "vk": (load_verifying_key, loads_verifying_key),
    "public": (load_public_inputs, loads_public_inputs),
    "proof": (load_proof, loads_proof),
}


def _json_case(rng: random.Random, base: _Base) -> tuple[Callable[[], tuple[Any, Any, Any]], list[str]]:
    """A mutated trio of documents, and the function that parses them (raising as the loaders do)."""
    trees = {k: copy.deepcopy(v) for k, v in base.docs.items()}
    texts: dict[str, Any] = {}
    ops: list[str] = []
    for _ in range(rng.choice([1, 1, 1, 2])):
        name = rng.choice(["vk", "public", "proof"])
        if name in texts or rng.random() < 0.2:
            text = texts.get(name) or _dumps_or_none(trees[name])
            if not isinstance(text, str):
                continue
            texts[name], what = _mutate_text(text, rng)
            ops.append(f"{name} text: {what}")
        else:
            trees[name], what = _mutate_tree(name, trees[name], rng)
            ops.append(what)
    as_objects = rng.random() < 0.3  # hand the parsed tree to load_*(dict) instead of text

    def parse() -> tuple[Any, Any, Any]:
        out = []
        for name in ("vk", "public", "proof"):
            load, loads = _LOADERS[name]
            tree = trees[name]
            if name in texts:
                out.append(loads(texts[name], source=f"{name}.json"))
                continue
            text = _dumps_or_none(tree)
            if isinstance(tree, (dict, list)) and (as_objects or text is None):
                out.append(load(tree))  # (a str would be read as a path: those go through loads)
            else:
                out.append(loads(text if text is not None else "null", source=f"{name}.json"))
        return out[0], out[1], out[2]

    return parse, ops


# --- running the cases --------------------------------------------------------------------------------

class _PairingSkipped(Exception):
    """Raised in place of a pairing once the case's pairing budget is spent."""


@dataclasses.dataclass
class _Stats:
    cases: int = 0
    outcomes: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    by_layer: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    pairings: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "pairings_evaluated": self.pairings,
            "outcomes": dict(sorted(self.outcomes.items())),
            "by_layer": dict(sorted(self.by_layer.items())),
            "failures": self.failures[:50],
            "seconds": round(self.seconds, 1),
        }


def _pairing_hooks() -> list[tuple[Any, str]]:
    """Where verify() runs its pairing check, on every backend: py_ecc's product (forced), the
    pure-Python twin (the default without numba), and the numba check when active. A backend
    missing here would make the pairing budget and the false-accept control below see nothing."""
    from zkmargin.verifier import _pure

    hooks: list[tuple[Any, str]] = [(gv, "pairing_product_is_one"), (_pure, "pairing_product_is_one")]
    fast = gv.fast_backend()
    if fast is not None:
        hooks.append((fast, "groth16_check_fast"))
    return hooks


def _run(base: _Base, seed: str, cases: Sequence[int], max_pairings: int | None) -> _Stats:
    stats = _Stats()
    t0 = time.perf_counter()
    base_pvk = prepare_verifying_key(base.vk)
    saved = [(obj, name, getattr(obj, name)) for obj, name in _pairing_hooks()]

    def budgeted(real: Callable[..., bool]) -> Callable[..., bool]:
        def check(*args: Any) -> bool:
            if max_pairings is not None and stats.pairings >= max_pairings:
                raise _PairingSkipped
            stats.pairings += 1
            return real(*args)

        return check

    for obj, name, real in saved:  # restored below; verify() looks the names up per call
        setattr(obj, name, budgeted(real))
    try:
        for index in cases:
            rng = random.Random(f"{seed}:{index}")
            layer = "json" if rng.random() < 0.4 else "data"
            stats.cases += 1
            stats.by_layer[layer] += 1
            if layer == "data":
                trio, ops = _data_case(rng, base)

                def parse(trio: tuple[Any, Any, Any] = trio) -> tuple[Any, Any, Any]:
                    return trio
            else:
                parse, ops = _json_case(rng, base)
            where = f"seed {seed!r} case {index} ({layer}: {'; '.join(ops)})"
            outcome = _one_case(parse, base, base_pvk, where, stats)
            stats.outcomes[outcome] += 1
    finally:
        for obj, name, real in saved:
            setattr(obj, name, real)
    stats.seconds = time.perf_counter() - t0
    return stats


def _one_case(
    parse: Callable[[], tuple[Any, Any, Any]], base: _Base, base_pvk: Any, where: str, stats: _Stats
) -> str:
    changed: bool | None = None
    effective_change: bool | None = None
    stage = "parse"
    try:
        vk, public, proof = parse()
        stage = "harness"
        changed = _canon_statement(vk, public, proof) != base.canon
        effective_change = _canon_statement(vk, public, proof, effective=True) != base.canon_effective
        stage = "key"
        pvk = prepare_verifying_key(vk)
        stage = "verify"
        result = verify(pvk, public, proof)
    except _PairingSkipped:
        return "pairing not evaluated (changed)" if changed else "pairing not evaluated (unchanged)"
    except MalformedInputError as e:
        if changed is False:
            stats.failures.append(f"unchanged statement rejected with {type(e).__name__}: {e} -- {where}")
        if stage == "verify" and _canon(vk) == _canon(base.vk):
            _check_batch_agrees(base_pvk, public, proof, e, where, stats)
        return f"rejected at {stage}: {type(e).__name__}"
    except ZkMarginError as e:
        stats.failures.append(f"{type(e).__name__} outside the MalformedInputError family: {e} -- {where}")
        return "error: wrong ZkMarginError"
    except Exception as e:  # the bug this fuzzer looks for (or, at stage "harness", a bug of the fuzzer)
        stats.failures.append(f"unexpected {type(e).__name__} at {stage}: {str(e)[:200]} -- {where}")
        return f"error: {type(e).__name__}"
    if not isinstance(result, bool):
        stats.failures.append(f"verify returned {type(result).__name__}, not bool -- {where}")
        return "error: not a bool"
    if result and effective_change:
        stats.failures.append(f"FALSE ACCEPT of a changed statement -- {where}")
        return "error: false accept"
    if not result and not effective_change:
        # Everything validated and the equation's inputs are the original ones: it must hold.
        stats.failures.append(f"unchanged statement not accepted -- {where}")
        return "error: false reject"
    if result:
        return "accepted (unchanged)" if not changed else "accepted (key changed only where an input is 0)"
    return "returned False (changed)"


def _check_batch_agrees(pvk: Any, public: Any, proof: Any, err: Exception, where: str, stats: _Stats) -> None:
    """verify_batch rejects the same item with the same error class, naming its index."""
    try:
        verify_batch(pvk, [(public, proof)])
    except MalformedInputError as e:
        if type(e) is not type(err) or not str(e).startswith("batch item 0: "):
            stats.failures.append(
                f"verify_batch raised {type(e).__name__}: {e}, verify {type(err).__name__} -- {where}"
            )
        return
    except Exception as e:
        stats.failures.append(f"verify_batch raised unexpected {type(e).__name__}: {e} -- {where}")
        return
    stats.failures.append(f"verify_batch accepted an item verify rejected ({type(err).__name__}) -- {where}")


def _assert_clean(stats: _Stats, label: str) -> None:
    summary = stats.summary()
    print(f"\n[{label}] " + json.dumps(summary, indent=1))
    report = os.environ.get("ZKMARGIN_FUZZ_REPORT")
    if report:
        with open(report, "w") as fh:
            json.dump(summary, fh, indent=1)
    assert not stats.failures, f"{len(stats.failures)} failing cases, first: " + "\n".join(stats.failures[:5])


def test_fuzz_hostile_default(base: _Base, report_figure: Any) -> None:
    """300 seeded cases (a few seconds); with py_ecc at most 8 of them through the pairing."""
    stats = _run(base, DEFAULT_SEED, range(DEFAULT_CASES), DEFAULT_PAIRINGS)
    report_figure(_summary_line("fuzz default", stats))
    _assert_clean(stats, "fuzz default")
    # The fuzzer is not vacuous: it rejects in every stage, reaches the pairing, and makes changed
    # statements that validate (so "never accepts a changed statement" was actually exercised).
    outcomes = stats.outcomes
    assert stats.cases == DEFAULT_CASES
    assert sum(n for k, n in outcomes.items() if k.startswith("rejected at parse")) > 20
    assert sum(n for k, n in outcomes.items() if k.startswith("rejected at key")) > 20
    assert sum(n for k, n in outcomes.items() if k.startswith("rejected at verify")) > 20
    assert outcomes["returned False (changed)"] >= 1
    assert stats.pairings == DEFAULT_PAIRINGS if DEFAULT_PAIRINGS is not None else stats.pairings >= 8
    assert len({k for k in outcomes if k.startswith("rejected")}) >= 8  # many distinct error classes


def _summary_line(name: str, stats: _Stats) -> str:
    falses = stats.outcomes.get("returned False (changed)", 0)
    rejected = sum(n for k, n in stats.outcomes.items() if k.startswith("rejected"))
    return (f"{name}: {stats.cases:,} cases, {rejected:,} rejected with a named error, {falses:,} changed statements "
            f"returned False, {stats.pairings:,} pairings, {len(stats.failures)} failures, {stats.seconds:.1f}s")


@pytest.mark.slow
def test_fuzz_hostile_long(base: _Base, report_figure: Any) -> None:
    """The long run: ZKMARGIN_FUZZ_CASES (default 10,000) cases, every pairing evaluated."""
    seed = os.environ.get("ZKMARGIN_FUZZ_SEED", DEFAULT_SEED + "-long")
    only = os.environ.get("ZKMARGIN_FUZZ_ONLY")
    cases: Sequence[int] = (
        [int(x) for x in only.split(",")] if only else range(int(os.environ.get("ZKMARGIN_FUZZ_CASES", "10000")))
    )
    cap = os.environ.get("ZKMARGIN_FUZZ_PAIRINGS")
    stats = _run(base, seed, cases, int(cap) if cap else None)
    report_figure(_summary_line("fuzz long", stats))
    _assert_clean(stats, "fuzz long")


@pytest.mark.parametrize("backend", ["auto", "pure", "python"])
def test_fuzzer_catches_a_false_accept(base: _Base, monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    """Positive control, on every verifier backend (auto is numba where installed): with a pairing
    check that accepts everything, the harness reports failures and counts the pairings."""
    monkeypatch.setenv("ZKMARGIN_VERIFY_BACKEND", backend)
    gv.fast_backend.cache_clear()
    try:
        for obj, name in _pairing_hooks():
            monkeypatch.setattr(obj, name, lambda *args: True)
        stats = _run(base, DEFAULT_SEED, range(60), None)
    finally:
        monkeypatch.undo()
        gv.fast_backend.cache_clear()
    assert any("FALSE ACCEPT" in f for f in stats.failures)
    assert stats.pairings > 0


def test_fuzzer_detects_no_op_mutations(base: _Base) -> None:
    """A mutation that changes only the representation leaves the statement unchanged."""
    same = (
        dataclasses.replace(base.vk, gamma_abc_g1=list(base.vk.gamma_abc_g1)),
        [_IntSub(x) for x in base.public],
        dataclasses.replace(base.proof, a=list(base.proof.a)),
    )
    assert _canon_statement(*same) == base.canon
    swapped = (base.vk, (base.public[1], base.public[0], base.public[2]), base.proof)
    assert _canon_statement(*swapped) != base.canon
    flagged = (base.vk, (True, *base.public[1:]), base.proof)  # bool is not an int input
    assert _canon_statement(*flagged) != base.canon
    rescaled = load_proof(dict(base.docs["proof"], pi_a=_rescale_point(base.docs["proof"]["pi_a"], False,
                                                                        random.Random(1))))
    assert rescaled == base.proof


@pytest.mark.xfail(
    _BUG_VERIFY_HUGE_INT, strict=True, raises=ValueError,
    reason="zkmargin.verifier.groth16_verify puts the out-of-range int itself into the error message; "
    "past 4300 digits str() raises a bare ValueError (int max_str_digits) instead of the named error",
)
@pytest.mark.parametrize("where", ["public", "coordinate"])
def test_verify_huge_int_is_a_named_error(base: _Base, where: str) -> None:
    huge = 1 << 20000
    if where == "public":
        with pytest.raises(PublicInputOutOfRangeError):
            verify(base.vk, [huge, 0, 0], base.proof)
    else:
        with pytest.raises(PointNotOnCurveError):
            verify(base.vk, base.public, dataclasses.replace(base.proof, a=(huge, 2)))


@pytest.mark.xfail(
    _BUG_JSON_HUGE_LITERAL, strict=True, raises=ValueError,
    reason="zkmargin.serialize: a JSON number literal over 4300 digits escapes json.loads as a bare "
    "ValueError (int max_str_digits), not MalformedJSONError",
)
def test_json_huge_number_literal_is_a_named_error() -> None:
    with pytest.raises(MalformedInputError):
        loads_public_inputs("[" + "1" * 5000 + "]")
    with pytest.raises(MalformedInputError):
        loads_proof('{"pi_a": ' + "7" * 5000 + "}")


@pytest.mark.xfail(
    _BUG_LOADER_HUGE_PYINT, strict=True, raises=ValueError,
    reason="zkmargin.serialize: load_*(parsed object) with a huge Python int builds its message with "
    "repr(), which raises a bare ValueError past 4300 digits",
)
def test_loader_huge_python_int_is_a_named_error() -> None:
    with pytest.raises(MalformedInputError):
        load_public_inputs([1 << 20000])


# --- the G2 subgroup check: endomorphism test vs the definition r*P == 0 -------------------------------

_T = 6 * BN_X**2 + 1  # trace of Frobenius of E/Fq
_N_TWIST = R * (2 * Q - R)  # #E'(Fq2)
_COFACTOR_PRIMES = (10069, 5864401, 1875725156269, 197620364512881247228717050342013327560683201906968909)


def _is_probable_prime(n: int) -> bool:
    if n < 2:
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41):
        if a % n == 0:
            continue
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def test_bn_parameters() -> None:
    x = BN_X
    assert Q == 36 * x**4 + 36 * x**3 + 24 * x**2 + 6 * x + 1
    assert R == 36 * x**4 + 36 * x**3 + 18 * x**2 + 6 * x + 1
    assert R == Q + 1 - _T
    assert math.prod(_COFACTOR_PRIMES) == 2 * Q - R
    assert all(_is_probable_prime(p) for p in _COFACTOR_PRIMES)
    assert _N_TWIST % (R * R) != 0  # so the r-torsion of E'(Fq2) is the single cyclic group G2


def test_endomorphism_test_is_exact_by_its_norm() -> None:
    """The soundness argument in zkmargin.curve.g2_in_subgroup, recomputed.

    (x+1) + x*X + x*X^2 - 2x*X^3 reduced modulo X^2 - t*X + q is a + b*X; a point passing the test
    is killed by N = a^2 + a*b*t + b^2*q, and gcd(N, #E'(Fq2)) = r.
    """
    coeffs = [BN_X + 1, BN_X, BN_X, -2 * BN_X]
    while len(coeffs) > 2:
        top = coeffs.pop()
        coeffs[-1] += top * _T
        coeffs[-2] -= top * Q
    a, b = coeffs
    norm = a * a + a * b * _T + b * b * Q
    assert math.gcd(norm, _N_TWIST) == R
    # The 6x^2 variant (psi(P) == [6x^2]P) has norm exactly r.
    assert (6 * BN_X**2) ** 2 - 6 * BN_X**2 * _T + Q == R


@pytest.fixture(scope="module")
def twist_points(sim: Any) -> list[Any]:
    rng = random.Random(0x62)
    return [sim.twist_point_outside_g2(rng) for _ in range(4)]


def test_psi_is_the_twisted_frobenius(twist_points: list[Any]) -> None:
    """psi maps the twist to itself, psi^2 - t*psi + q = 0 on it, and psi = [q] on G2."""
    for p in twist_points:
        psi_p = g2_psi(p)
        assert g2_is_on_curve(psi_p) and psi_p != p
        lhs = g2_add(g2_add(g2_psi(psi_p), _mul_any(psi_p, _N_TWIST - _T)), _mul_any(p, Q))
        assert lhs is None
        assert _mul_any(p, _N_TWIST) is None  # #E'(Fq2) = r * (2q - r) kills every point
    g = g2_mul(G2_GENERATOR, 12345)
    assert g2_psi(g) == g2_mul(g, Q % R) == g2_mul(g, 6 * BN_X**2)


def _subgroup_cases(twist_points: list[Any], rng: random.Random, n_random: int) -> list[tuple[Any, bool, str]]:
    cases: list[tuple[Any, bool, str]] = [
        (None, True, "infinity"),
        (G2_GENERATOR, True, "generator"),
        (g2_neg(G2_GENERATOR), True, "-generator"),
        (g2_psi(G2_GENERATOR), True, "psi(generator)"),
    ]
    cases += [(g2_mul(G2_GENERATOR, rng.randrange(1, R)), True, "random multiple") for _ in range(n_random)]
    for i, p in enumerate(twist_points):
        cases.append((p, False, f"random twist point {i}"))
        cofactor_part = _mul_any(p, R)  # order divides 2q - r: no G2 component at all
        cases.append((cofactor_part, False, f"r * twist point {i}"))
        cases.append((g2_add(G2_GENERATOR, cofactor_part), False, f"generator + r * twist point {i}"))
    for ell in _COFACTOR_PRIMES:
        small = _mul_any(twist_points[0], _N_TWIST // ell)  # order exactly ell
        assert small is not None and _mul_any(small, ell) is None
        cases.append((small, False, f"order {ell}"))
        cases.append((g2_add(g2_mul(G2_GENERATOR, rng.randrange(1, R)), small), False, f"G2 + order {ell}"))
    return cases


def test_g2_subgroup_check_agrees_with_the_definition(twist_points: list[Any]) -> None:
    for p, expected, what in _subgroup_cases(twist_points, random.Random(5), n_random=6):
        assert g2_is_on_curve(p), what
        assert _g2_in_subgroup_by_order(p) is expected, what
        assert g2_in_subgroup(p) is expected, what


@pytest.mark.slow
def test_g2_subgroup_check_agrees_on_many_points(sim: Any) -> None:
    rng = random.Random(6)
    points = [sim.twist_point_outside_g2(rng) for _ in range(40)]
    for p, expected, what in _subgroup_cases(points, rng, n_random=200):
        assert _g2_in_subgroup_by_order(p) is expected, what
        assert g2_in_subgroup(p) is expected, what
