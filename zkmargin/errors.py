"""The errors zkmargin raises. Every one names what was wrong (file, field, value).

A verifier returns ``False`` only for a well-formed proof that fails the pairing check; malformed
input raises one of the ``MalformedInputError`` subclasses below.
"""

from __future__ import annotations

__all__ = [
    "ZkMarginError",
    "MalformedInputError",
    "MalformedJSONError",
    "FileFormatError",
    "PublicInputOutOfRangeError",
    "PublicInputCountError",
    "PointNotOnCurveError",
    "PointNotInSubgroupError",
    "IdentityPointError",
    "CircuitError",
    "UnsatisfiedConstraintError",
    "HintError",
    "UnsafeOutputError",
    "show_value",
]


def show_value(v: object, limit: int = 80) -> str:
    """A short, always-printable rendering of an untrusted value for an error message.

    Integers too long to print in full (Python refuses int-to-str past 4,300 digits, raising a
    bare ValueError) are described by their bit length; other values are repr()'d and truncated.
    """
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 256:
        return f"<{'-' if v < 0 else ''}{abs(v).bit_length()}-bit integer>"
    try:
        s = repr(v)
    except ValueError:  # e.g. a container holding a huge int
        s = f"<unprintable {type(v).__name__}>"
    return s if len(s) <= limit else s[: limit - 3] + "..."


class ZkMarginError(Exception):
    """Base class of every error zkmargin raises on purpose."""


class MalformedInputError(ZkMarginError, ValueError):
    """Untrusted input (a proof, a key, public inputs, a file) is not well formed."""


class MalformedJSONError(MalformedInputError):
    """A JSON document is not valid JSON or lacks / mistypes a field. Names the file and field."""


class FileFormatError(MalformedInputError):
    """A binary file (.r1cs, .wtns, .zkey, .ptau) is truncated or has a wrong header/section."""


class PublicInputOutOfRangeError(MalformedInputError):
    """A public input is negative or not below the scalar field order r."""


class PublicInputCountError(MalformedInputError):
    """The number of public inputs differs from the verifying key's."""


class PointNotOnCurveError(MalformedInputError):
    """A point's coordinates are out of range or do not satisfy the curve equation."""


class PointNotInSubgroupError(MalformedInputError):
    """A G2 point lies on the twist curve but outside the prime-order subgroup."""


class IdentityPointError(MalformedInputError):
    """A proof element is the point at infinity (never produced by an honest prover)."""


class CircuitError(ZkMarginError):
    """A circuit is defined or assigned inconsistently (missing field, wrong shape, bad value)."""


class HintError(CircuitError):
    """A named hint failed or returned the wrong number of values."""


class UnsatisfiedConstraintError(ZkMarginError):
    """A witness violates a constraint; the message gives its index, scope path and values."""

    def __init__(self, message: str, index: int = -1, label: str = "") -> None:
        super().__init__(message)
        self.index = index
        self.label = label


class UnsafeOutputError(ZkMarginError):
    """An output path would destroy an input of the same command, a secret, or keys (without --force)."""
