"""Decimal strings <-> integers with declared decimals, exactly.

Every amount, price and rate in a zkmargin document is a JSON string holding a decimal number;
with ``decimals = d`` the string ``"1234.5"`` stands for the integer ``1234.5 * 10**d`` (123450
for d = 2). The conversion is exact or it fails:

* grammar: ``-?(0|[1-9][0-9]*)(\\.[0-9]+)?`` and nothing else: no ``+`` sign, no exponent
  (``"1e5"``), no whitespace, no leading zeros (``"01"``), no bare dot (``".5"``, ``"5."``), no
  digit-group separators; at most ``MAX_DECIMAL_STRING`` characters;
* the fraction may be longer than ``decimals`` only by trailing zeros (``"1.50"`` with d = 1
  is 15; ``"1.55"`` with d = 1 is refused: it has 2 decimals, the model allows 1);
* a minus sign only where the field is signed (``"-0"`` reads as 0);
* bounds: ``bits`` (unsigned: ``0 <= x < 2**bits``; signed: ``|x| < 2**bits``) and an inclusive
  ``maximum`` (rates: at most 1, i.e. ``10**rate_decimals``).

JSON numbers are refused (they go through binary floating point in most JSON tools); so are
booleans and null. Errors are ``SchemaError`` naming the source, the field path and the value.
``format_decimal`` writes the canonical string back (trailing zeros removed), so
``parse_decimal(format_decimal(x, d), d) == x``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import SchemaError
from .limits import MAX_DECIMAL_STRING, MAX_DECIMALS

__all__ = ["parse_decimal", "format_decimal", "format_amount", "show_value"]

_GRAMMAR = re.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?")


def show_value(v: Any) -> str:
    """A JSON rendering of ``v`` for error messages (strings quoted), cut to 80 characters."""
    try:
        s = json.dumps(v)
    except (TypeError, ValueError):
        s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


def _check_decimals(decimals: int) -> None:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 2 * MAX_DECIMALS:
        raise ValueError(f"decimals must be an int in [0, {2 * MAX_DECIMALS}], got {decimals!r}")


def parse_decimal(
    value: Any,
    decimals: int,
    *,
    path: str,
    source: str = "",
    signed: bool = False,
    bits: int | None = None,
    maximum: int | None = None,
) -> int:
    """Convert a decimal string to the integer ``value * 10**decimals``, exactly.

    Args:
        value: the JSON value read from the document (must be a str).
        decimals: the declared decimals of the field (0..36).
        path: the field's JSON path, for error messages (``positions[2].size``).
        source: the file or document name, for error messages.
        signed: whether a minus sign is allowed.
        bits: if given, unsigned fields need ``0 <= x < 2**bits``, signed ``|x| < 2**bits``.
        maximum: if given, an inclusive upper bound on the integer (e.g. ``10**rate_decimals``).
    Returns:
        The integer.
    Raises:
        SchemaError: not a string, not in the grammar, more significant decimals than declared,
            negative for an unsigned field, or out of bounds. The message names source, path and
            value.
        ValueError: ``decimals`` is not an int in [0, 36] (a programming error, not bad input).
    """
    _check_decimals(decimals)
    shown = show_value(value)
    if not isinstance(value, str):
        kind = "a JSON number" if isinstance(value, int | float) and not isinstance(value, bool) else "not a string"
        raise SchemaError(source, path, f"expected a decimal string such as \"1234.5\", got {shown} ({kind})")
    if len(value) > MAX_DECIMAL_STRING:
        raise SchemaError(source, path, f"{shown} is longer than {MAX_DECIMAL_STRING} characters")
    m = _GRAMMAR.fullmatch(value)
    if m is None:
        raise SchemaError(
            source, path,
            f"{shown} is not a decimal number (digits, an optional '-' and '.fraction'; "
            "no '+', exponent, spaces or leading zeros)",
        )
    minus, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    significant = frac.rstrip("0")
    if len(significant) > decimals:
        raise SchemaError(source, path, f"{shown} has {len(significant)} decimals, the model allows {decimals}")
    x = int(whole + significant.ljust(decimals, "0"))
    if minus:
        if not signed and x != 0:
            raise SchemaError(source, path, f"{shown} is negative; the field is unsigned")
        x = -x
    if bits is not None:
        limit = 1 << bits
        if signed and not -limit < x < limit:
            raise SchemaError(
                source, path,
                f"{shown} is out of range: |value| must be below 2^{bits} units of 10^-{decimals} "
                f"(at most {format_decimal(limit - 1, decimals)} in magnitude)",
            )
        if not signed and x >= limit:
            raise SchemaError(
                source, path,
                f"{shown} is out of range: the value must be below 2^{bits} units of 10^-{decimals} "
                f"(at most {format_decimal(limit - 1, decimals)})",
            )
    if maximum is not None and x > maximum:
        raise SchemaError(source, path, f"{shown} exceeds the maximum {format_decimal(maximum, decimals)}")
    return x


def format_decimal(value: int, decimals: int) -> str:
    """The canonical decimal string of ``value / 10**decimals`` (no trailing zeros, no '+').

    Args:
        value: an int (negative allowed).
        decimals: the declared decimals (0..36).
    Returns:
        e.g. ``format_decimal(123450, 2) == "1234.5"``, ``format_decimal(-5, 0) == "-5"``.
    Raises:
        TypeError: ``value`` is not an int. ValueError: bad ``decimals``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"format_decimal needs an int, got {type(value).__name__}")
    _check_decimals(decimals)
    sign = "-" if value < 0 else ""
    digits = str(abs(value)).rjust(decimals + 1, "0")
    whole, frac = digits[: len(digits) - decimals], digits[len(digits) - decimals :].rstrip("0")
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def format_amount(value: int, decimals: int, min_decimals: int = 2) -> str:
    """A human rendering of ``value / 10**decimals``: thousands separators, exact digits.

    At least ``min_decimals`` fraction digits are shown (fewer if ``decimals`` is smaller); further
    digits only when they are not zero, so nothing is rounded: ``format_amount(6620 * 10**12, 12)``
    is ``"6,620.00"``, ``format_amount(12345, 4)`` is ``"1.2345"``.

    Args:
        value: the integer; decimals: its declared decimals; min_decimals: digits always shown.
    Returns:
        The string.
    Raises:
        TypeError, ValueError: as ``format_decimal``.
    """
    text = format_decimal(value, decimals)
    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = body.partition(".")
    frac = frac.ljust(min(min_decimals, decimals), "0")
    grouped = f"{int(whole):,}"
    return f"{sign}{grouped}.{frac}" if frac else f"{sign}{grouped}"
