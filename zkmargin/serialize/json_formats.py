"""snarkjs's JSON files: ``verification_key.json``, ``proof.json`` and ``public.json``.

Points are lists of decimal strings in projective form, as snarkjs writes them:

- G1: ``[x, y, "1"]``; the point at infinity is ``["0", "1", "0"]``;
- G2: ``[[x0, x1], [y0, y1], ["1", "0"]]`` (real part first, ``x = x0 + x1*u``); infinity is
  ``[["0", "0"], ["1", "0"], ["0", "0"]]``.

Reading follows snarkjs's ``fromObject``: a third coordinate ``z`` of 0 means infinity (x and y are
ignored), 1 means affine, and any other z is read as Jacobian coordinates (x/z^2, y/z^3), the
representation of snarkjs's WebAssembly curves; a point with only two coordinates means z = 1.
snarkjs itself always writes z = 1 or the infinity form.

Parsing validates structure only: JSON syntax, fields, types, decimal strings, list lengths,
protocol and curve names. Errors are ``MalformedJSONError`` naming the file (when there is one),
the JSON path and the bad value, e.g. ``proof.json: pi_b[1][0]: expected a decimal string, got
12.5``; a coordinate not below q raises ``PointNotOnCurveError`` naming the same. Whether points
lie on the curve and in the subgroup, and whether public inputs are below r, is the verifier's
job. Only ASCII decimal strings are numbers: snarkjs also accepts ``0x`` hex strings, zkmargin
does not.

``vk_alphabeta_12`` (the pairing e(alpha, beta), which snarkjs adds to exported verification
keys) is ignored when reading and not written: ``snarkjs groth16 verify`` does not read it, and
computing it needs a pairing value that ``zkmargin.curve`` does not expose. ``nPublic`` is
checked against the number of IC points.
"""

from __future__ import annotations

import json
import operator
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from zkmargin.curve import G1Point, G2Point
from zkmargin.errors import MalformedJSONError, PointNotOnCurveError, show_value
from zkmargin.field import Q, R
from zkmargin.groth16 import Proof, VerifyingKey
from zkmargin.serialize._io import PathLike, atomic_write_text

__all__ = [
    "load_verifying_key",
    "loads_verifying_key",
    "dump_verifying_key",
    "write_verifying_key",
    "load_proof",
    "loads_proof",
    "dump_proof",
    "write_proof",
    "load_public_inputs",
    "loads_public_inputs",
    "dump_public_inputs",
    "write_public_inputs",
]

_T = TypeVar("_T")
_DECIMAL = re.compile(r"[0-9]+")
#: Digits beyond which a decimal string is certainly >= q and >= r (both have 77 digits).
_MAX_DIGITS = 80
#: snarkjs's documents nest at most 4 levels (vk_alphabeta_12); anything far deeper is hostile.
_MAX_DEPTH = 64
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_CURVE_NAMES = {"BN128", "BN254", "ALTBN128"}  # snarkjs's getCurveFromName, normalised
_CURVE = "bn128"
_PROTOCOL = "groth16"


class _Ctx:
    """Where a value came from, for error messages: the source name (file) if any."""

    def __init__(self, source: str | None) -> None:
        self.source = source

    def fail(self, path: str, what: str) -> MalformedJSONError:
        return MalformedJSONError(self.msg(path, what))

    def msg(self, path: str, what: str) -> str:
        parts = [p for p in (self.source, path) if p]
        return ": ".join([*parts, what])


def _show(v: Any) -> str:
    try:
        s = json.dumps(v)
    except (TypeError, ValueError):  # not JSON, or an int too long to print
        return show_value(v)
    return s if len(s) <= 80 else s[:77] + "..."


# --- scalars and points ------------------------------------------------------------------------

def _digits(ctx: _Ctx, v: Any, path: str) -> str:
    if not isinstance(v, str) or not _DECIMAL.fullmatch(v):
        raise ctx.fail(path, f"expected a decimal string, got {_show(v)}")
    return v.lstrip("0") or "0"


def _coord(ctx: _Ctx, v: Any, path: str) -> int:
    d = _digits(ctx, v, path)
    if len(d) > _MAX_DIGITS or int(d) >= Q:
        raise PointNotOnCurveError(ctx.msg(path, f"coordinate is not below the base field q: {_show(v)}"))
    return int(d)


def _list(ctx: _Ctx, v: Any, path: str, lengths: Sequence[int]) -> list[Any]:
    if not isinstance(v, list):
        raise ctx.fail(path, f"expected a list, got {_show(v)}")
    if len(v) not in lengths:
        want = " or ".join(str(n) for n in lengths)
        raise ctx.fail(path, f"expected a list of {want} elements, got {len(v)}: {_show(v)}")
    return v


def _fq2(ctx: _Ctx, v: Any, path: str) -> tuple[int, int]:
    a = _list(ctx, v, path, (2,))
    return _coord(ctx, a[0], f"{path}[0]"), _coord(ctx, a[1], f"{path}[1]")


def _fq2_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    # (a0 + a1 u)(b0 + b1 u) with u^2 = -1
    return (a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q


def _fq2_inv(a: tuple[int, int]) -> tuple[int, int]:
    n = pow((a[0] * a[0] + a[1] * a[1]) % Q, -1, Q)
    return a[0] * n % Q, (-a[1]) * n % Q


def _parse_g1(ctx: _Ctx, v: Any, path: str) -> G1Point:
    a = _list(ctx, v, path, (2, 3))
    x = _coord(ctx, a[0], f"{path}[0]")
    y = _coord(ctx, a[1], f"{path}[1]")
    z = _coord(ctx, a[2], f"{path}[2]") if len(a) == 3 else 1
    if z == 0:
        return None
    if z == 1:
        return (x, y)
    zi = pow(z, -1, Q)
    zi2 = zi * zi % Q
    return (x * zi2 % Q, y * zi2 * zi % Q)


def _parse_g2(ctx: _Ctx, v: Any, path: str) -> G2Point:
    a = _list(ctx, v, path, (2, 3))
    x = _fq2(ctx, a[0], f"{path}[0]")
    y = _fq2(ctx, a[1], f"{path}[1]")
    z = _fq2(ctx, a[2], f"{path}[2]") if len(a) == 3 else (1, 0)
    if z == (0, 0):
        return None
    if z == (1, 0):
        return (x, y)
    zi = _fq2_inv(z)
    zi2 = _fq2_mul(zi, zi)
    return (_fq2_mul(x, zi2), _fq2_mul(y, _fq2_mul(zi2, zi)))


def _dec(v: int, what: str) -> str:
    if not isinstance(v, int) or not 0 <= v < Q:
        raise ValueError(f"{what}: coordinate is not an integer in [0, q): {v!r}")
    return str(v)


def _dump_g1(p: G1Point, what: str) -> list[str]:
    if p is None:
        return ["0", "1", "0"]
    return [_dec(p[0], what), _dec(p[1], what), "1"]


def _dump_g2(p: G2Point, what: str) -> list[list[str]]:
    if p is None:
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    (x0, x1), (y0, y1) = p
    return [[_dec(x0, what), _dec(x1, what)], [_dec(y0, what), _dec(y1, what)], ["1", "0"]]


# --- documents ---------------------------------------------------------------------------------

def _obj(ctx: _Ctx, v: Any, what: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ctx.fail("", f"expected a JSON object ({what}), got {_show(v)}")
    return v


def _field(ctx: _Ctx, d: dict[str, Any], key: str) -> Any:
    if key not in d:
        raise ctx.fail(key, "missing field")
    return d[key]


def _check_protocol(ctx: _Ctx, d: dict[str, Any], required: bool) -> None:
    if required or "protocol" in d:
        p = _field(ctx, d, "protocol")
        if p != _PROTOCOL:
            raise ctx.fail("protocol", f'expected "{_PROTOCOL}", got {_show(p)}')
    if required or "curve" in d:
        c = _field(ctx, d, "curve")
        norm = "".join(re.findall(r"[A-Za-z0-9]+", c)).upper() if isinstance(c, str) else None
        if norm not in _CURVE_NAMES:
            raise ctx.fail("curve", f'expected "{_CURVE}" (BN254), got {_show(c)}')


def _parse_vk(ctx: _Ctx, obj: Any) -> VerifyingKey:
    d = _obj(ctx, obj, "a verification key")
    _check_protocol(ctx, d, required=True)
    alpha = _parse_g1(ctx, _field(ctx, d, "vk_alpha_1"), "vk_alpha_1")
    beta = _parse_g2(ctx, _field(ctx, d, "vk_beta_2"), "vk_beta_2")
    gamma = _parse_g2(ctx, _field(ctx, d, "vk_gamma_2"), "vk_gamma_2")
    delta = _parse_g2(ctx, _field(ctx, d, "vk_delta_2"), "vk_delta_2")
    ic_raw = _field(ctx, d, "IC")
    if not isinstance(ic_raw, list) or not ic_raw:
        raise ctx.fail("IC", f"expected a non-empty list of G1 points, got {_show(ic_raw)}")
    ic = tuple(_parse_g1(ctx, p, f"IC[{i}]") for i, p in enumerate(ic_raw))
    n_pub = _field(ctx, d, "nPublic")
    if isinstance(n_pub, bool) or not isinstance(n_pub, int):
        raise ctx.fail("nPublic", f"expected an integer, got {_show(n_pub)}")
    if n_pub != len(ic) - 1:
        raise ctx.fail("nPublic", f"is {n_pub} but IC has {len(ic)} points (nPublic + 1 expected)")
    return VerifyingKey(alpha_g1=alpha, beta_g2=beta, gamma_g2=gamma, delta_g2=delta, gamma_abc_g1=ic,
                        statement=_parse_statement_info(ctx, d.get(_STATEMENT_FIELD)))


#: The extra field of verification_key.json where zkmargin records what a key is for (snarkjs
#: ignores fields it does not know).
_STATEMENT_FIELD = "zkmargin"
_STATEMENT_KINDS = ("bilateral", "attested")


def _parse_statement_info(ctx: _Ctx, obj: Any) -> dict[str, str] | None:
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise ctx.fail(_STATEMENT_FIELD, f"expected an object, got {_show(obj)}")
    out: dict[str, str] = {}
    for key in ("kind", "model_id", "model_digest"):
        v = obj.get(key)
        if not isinstance(v, str):
            raise ctx.fail(f"{_STATEMENT_FIELD}.{key}", f"expected a string, got {_show(v)}")
        out[key] = v
    if out["kind"] not in _STATEMENT_KINDS:
        raise ctx.fail(f"{_STATEMENT_FIELD}.kind", f"expected one of {_STATEMENT_KINDS}, got {_show(out['kind'])}")
    if not (out["model_digest"].isdigit() and out["model_digest"].isascii() and int(out["model_digest"]) < R):
        raise ctx.fail(f"{_STATEMENT_FIELD}.model_digest",
                       f"expected a field element, got {_show(out['model_digest'])}")
    return out


def _parse_proof(ctx: _Ctx, obj: Any) -> Proof:
    d = _obj(ctx, obj, "a proof")
    # snarkjs's verifier ignores these two fields; present, they must be right.
    _check_protocol(ctx, d, required=False)
    a = _parse_g1(ctx, _field(ctx, d, "pi_a"), "pi_a")
    b = _parse_g2(ctx, _field(ctx, d, "pi_b"), "pi_b")
    c = _parse_g1(ctx, _field(ctx, d, "pi_c"), "pi_c")
    return Proof(a=a, b=b, c=c)


def _parse_public(ctx: _Ctx, obj: Any) -> list[int]:
    if not isinstance(obj, list):
        raise ctx.fail("", f"expected a JSON list of decimal strings, got {_show(obj)}")
    out = []
    for i, v in enumerate(obj):
        d = _digits(ctx, v, f"[{i}]")
        if len(d) > _MAX_DIGITS:
            # Certainly >= r; int() would refuse strings longer than 4300 digits.
            raise ctx.fail(f"[{i}]", f"public input has {len(d)} digits, far above the field order r")
        out.append(int(d))
    return out


# --- loading -----------------------------------------------------------------------------------

def _nesting_depth(text: str) -> int:
    depth = deepest = 0
    for m in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        if m.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _read_json_text(text: str | bytes, ctx: _Ctx) -> Any:
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ctx.fail("", f"not UTF-8 text: {e}") from None
    # py_ecc raises the interpreter's recursion limit to 100000 on import, so json.loads no longer
    # stops a deeply nested document with RecursionError: it overflows the C stack and the process
    # crashes. Untrusted documents are therefore measured before they are parsed.
    if _nesting_depth(text) > _MAX_DEPTH:
        raise ctx.fail("", f"invalid JSON: nested more than {_MAX_DEPTH} levels deep")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ctx.fail("", f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise ctx.fail("", "invalid JSON: nested too deeply") from None
    except ValueError as e:  # a number literal past Python's int-parsing limit (4,300 digits)
        raise ctx.fail("", f"invalid JSON: {e}") from None


def read_json_file(path: PathLike) -> Any:
    """Parse an untrusted JSON file with the same guards as the snarkjs loaders.

    Raises:
        MalformedJSONError: not UTF-8, nested deeper than the limit, or invalid JSON (the message
            names the file, line and column).
        OSError: the file cannot be read.
    """
    ctx = _Ctx(str(path))
    return _read_json_text(Path(path).read_bytes(), ctx)


def _load(src: Any, kind: str, parse: Callable[[_Ctx, Any], _T]) -> _T:
    if isinstance(src, str | os.PathLike):
        ctx = _Ctx(str(src))
        return parse(ctx, _read_json_text(Path(src).read_bytes(), ctx))
    return parse(_Ctx(kind), src)


def load_verifying_key(src: PathLike | dict[str, Any]) -> VerifyingKey:
    """Read a snarkjs ``verification_key.json``.

    Args:
        src: a path (str or PathLike), or the already parsed JSON object.

    Returns:
        The VerifyingKey (points affine, None for infinity; not checked to be on the curve).

    Raises:
        MalformedJSONError: invalid JSON, a missing or mistyped field, a non-decimal string, a
            wrong list length, a protocol other than "groth16", a curve other than bn128, an
            nPublic that disagrees with IC. The message names the file and the field.
        PointNotOnCurveError: a coordinate is not below q.
        OSError: the file cannot be read.
    """
    return _load(src, "verification key", _parse_vk)


def loads_verifying_key(text: str | bytes, *, source: str | None = None) -> VerifyingKey:
    """``load_verifying_key`` from JSON text; ``source`` names it in error messages."""
    ctx = _Ctx(source or "verification key")
    return _parse_vk(ctx, _read_json_text(text, ctx))


def dump_verifying_key(vk: VerifyingKey) -> dict[str, Any]:
    """The JSON object of a snarkjs ``verification_key.json`` (without ``vk_alphabeta_12``).

    Raises:
        ValueError: a coordinate is not an integer in [0, q).
    """
    return {
        "protocol": _PROTOCOL,
        "curve": _CURVE,
        "nPublic": vk.n_public,
        "vk_alpha_1": _dump_g1(vk.alpha_g1, "alpha_g1"),
        "vk_beta_2": _dump_g2(vk.beta_g2, "beta_g2"),
        "vk_gamma_2": _dump_g2(vk.gamma_g2, "gamma_g2"),
        "vk_delta_2": _dump_g2(vk.delta_g2, "delta_g2"),
        "IC": [_dump_g1(p, f"gamma_abc_g1[{i}]") for i, p in enumerate(vk.gamma_abc_g1)],
    } | ({_STATEMENT_FIELD: dict(vk.statement)} if vk.statement else {})


def _write_json(obj: Any, path: PathLike) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1) + "\n")


def write_verifying_key(vk: VerifyingKey, path: PathLike) -> None:
    """Write ``verification_key.json`` atomically.

    Raises:
        ValueError: as ``dump_verifying_key``; nothing is written.
        OSError: the file cannot be written.
    """
    _write_json(dump_verifying_key(vk), path)


def load_proof(src: PathLike | dict[str, Any]) -> Proof:
    """Read a snarkjs ``proof.json`` (path or parsed object).

    ``protocol`` and ``curve`` may be absent (snarkjs's verifier does not read them) but must be
    "groth16" and bn128 when present.

    Raises:
        MalformedJSONError: as ``load_verifying_key``, for pi_a, pi_b, pi_c.
        PointNotOnCurveError: a coordinate is not below q.
        OSError: the file cannot be read.
    """
    return _load(src, "proof", _parse_proof)


def loads_proof(text: str | bytes, *, source: str | None = None) -> Proof:
    """``load_proof`` from JSON text; ``source`` names it in error messages."""
    ctx = _Ctx(source or "proof")
    return _parse_proof(ctx, _read_json_text(text, ctx))


def dump_proof(proof: Proof) -> dict[str, Any]:
    """The JSON object of a snarkjs ``proof.json``.

    Raises:
        ValueError: a coordinate is not an integer in [0, q).
    """
    return {
        "pi_a": _dump_g1(proof.a, "a"),
        "pi_b": _dump_g2(proof.b, "b"),
        "pi_c": _dump_g1(proof.c, "c"),
        "protocol": _PROTOCOL,
        "curve": _CURVE,
    }


def write_proof(proof: Proof, path: PathLike) -> None:
    """Write ``proof.json`` atomically.

    Raises:
        ValueError: as ``dump_proof``; nothing is written.
        OSError: the file cannot be written.
    """
    _write_json(dump_proof(proof), path)


def load_public_inputs(src: PathLike | list[Any]) -> list[int]:
    """Read a snarkjs ``public.json``: a list of decimal strings (path or parsed list).

    Returns:
        The values as ints; they are not checked to be below r (the verifier does that).

    Raises:
        MalformedJSONError: invalid JSON, not a list, an element that is not a decimal string,
            or one with more than 80 digits (certainly not below r).
        OSError: the file cannot be read.
    """
    return _load(src, "public inputs", _parse_public)


def loads_public_inputs(text: str | bytes, *, source: str | None = None) -> list[int]:
    """``load_public_inputs`` from JSON text; ``source`` names it in error messages."""
    ctx = _Ctx(source or "public inputs")
    return _parse_public(ctx, _read_json_text(text, ctx))


def dump_public_inputs(values: Sequence[int]) -> list[str]:
    """The JSON list of a snarkjs ``public.json``.

    Args:
        values: ints, or objects with ``__index__`` (numpy integers); not bools.

    Raises:
        ValueError: a value is not an integer in [0, r).
    """
    out = []
    for i, v in enumerate(values):
        try:
            iv = operator.index(v)
        except TypeError:
            raise ValueError(f"public input [{i}] is not an integer: {v!r}") from None
        if isinstance(v, bool) or not 0 <= iv < R:
            raise ValueError(f"public input [{i}] is not an integer in [0, r): {v!r}")
        out.append(str(iv))
    return out


def write_public_inputs(values: Sequence[int], path: PathLike) -> None:
    """Write ``public.json`` atomically.

    Raises:
        ValueError: as ``dump_public_inputs``; nothing is written.
        OSError: the file cannot be written.
    """
    _write_json(dump_public_inputs(values), path)
