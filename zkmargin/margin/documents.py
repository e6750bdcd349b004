"""The small documents of the proving flow: context (verifier's challenge), commitment, salt.

    context.json     {"version": 1, "kind": "context", "venue": "zkmargin-demo", "epoch": 42,
                      "nonce": "1234...", "chain_id": 1}
    commitment.json  {"version": 1, "kind": "commitment", "model_id": "demo-cross", "commitment": "..."}
    salt.json        {"version": 1, "kind": "salt", "model_id": "demo-cross", "salt": "..."}  (private)

The context binds a proof to one venue, market epoch, challenge nonce and chain, so a proof cannot be
replayed elsewhere: the verifier chooses the nonce. Its field value is
``zkmargin.encoding.context_hash(short_string(venue), epoch, nonce, chain_id)``.

The salt is the commitment's blinding: whoever holds it (with the portfolio) can open the
commitment, so the trader keeps it private; it is written with owner-only permissions. Losing it
makes the commitment unusable, so writers refuse to overwrite an existing salt file.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any

from zkmargin.encoding import context_hash, random_salt, short_string
from zkmargin.field import R
from zkmargin.serialize import read_json_file
from zkmargin.serialize._io import atomic_write_text

from .errors import SchemaError

__all__ = [
    "Context",
    "load_context",
    "write_context",
    "new_context",
    "load_commitment",
    "write_commitment",
    "load_salt",
    "write_salt",
    "new_salt",
]

_U64 = 1 << 64


def _doc(src: str | os.PathLike[str] | dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    if isinstance(src, dict):
        name, data = kind, src
    else:
        name, data = str(src), read_json_file(src)
    if not isinstance(data, dict):
        raise SchemaError(name, "", f"expected a JSON object (a {kind} document)")
    if data.get("kind") != kind:
        raise SchemaError(name, "kind", f"expected {kind!r}, got {data.get('kind')!r}")
    if data.get("version") != 1:
        raise SchemaError(name, "version", f"expected 1, got {data.get('version')!r}")
    return name, data


def _uint(name: str, data: dict[str, Any], key: str, bound: int, what: str, as_string: bool) -> int:
    if key not in data:
        raise SchemaError(name, key, "missing field")
    v = data[key]
    if as_string:
        if not isinstance(v, str) or not v.isdigit() or not v.isascii():
            raise SchemaError(name, key, f"expected {what} as a decimal string, got {v!r:.60}")
        x = int(v)
    else:
        if isinstance(v, bool) or not isinstance(v, int):
            raise SchemaError(name, key, f"expected {what} as a JSON integer, got {v!r:.60}")
        x = v
    if not 0 <= x < bound:
        raise SchemaError(name, key, f"{x} is out of range for {what} (0 <= value < {bound})")
    return x


@dataclass(frozen=True)
class Context:
    """The verifier's context: venue, market epoch, challenge nonce, chain id."""

    venue: str
    epoch: int
    nonce: int
    chain_id: int

    def field_value(self) -> int:
        """The public ``context`` input of a margin proof."""
        return context_hash(short_string(self.venue), self.epoch, self.nonce, self.chain_id)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "kind": "context", "venue": self.venue, "epoch": self.epoch,
                "nonce": str(self.nonce), "chain_id": self.chain_id}


def load_context(src: str | os.PathLike[str] | dict[str, Any]) -> Context:
    """Load and validate a context document. Raises SchemaError naming the field."""
    name, d = _doc(src, "context")
    venue = d.get("venue")
    if not isinstance(venue, str):
        raise SchemaError(name, "venue", f"expected a string, got {venue!r:.60}")
    try:
        short_string(venue)
    except ValueError as e:
        raise SchemaError(name, "venue", str(e)) from None
    epoch = _uint(name, d, "epoch", _U64, "an epoch", as_string=False)
    nonce = _uint(name, d, "nonce", R, "a nonce (a field element)", as_string=True)
    chain_id = _uint(name, d, "chain_id", _U64, "a chain id", as_string=False)
    return Context(venue, epoch, nonce, chain_id)


def new_context(venue: str, epoch: int, chain_id: int = 1, nonce: int | None = None) -> Context:
    """A fresh context with a random 128-bit nonce unless one is given (validated like a file)."""
    ctx = Context(venue, epoch, secrets.randbits(128) if nonce is None else nonce, chain_id)
    return load_context(ctx.to_dict())


def write_context(ctx: Context, path: str | os.PathLike[str]) -> None:
    atomic_write_text(path, _dumps(ctx.to_dict()))


def load_commitment(src: str | os.PathLike[str] | dict[str, Any]) -> tuple[str, int]:
    """(model_id, commitment) from a commitment document."""
    name, d = _doc(src, "commitment")
    model_id = d.get("model_id")
    if not isinstance(model_id, str):
        raise SchemaError(name, "model_id", f"expected a string, got {model_id!r:.60}")
    return model_id, _uint(name, d, "commitment", R, "a commitment (a field element)", as_string=True)


def write_commitment(model_id: str, commitment: int, path: str | os.PathLike[str]) -> None:
    atomic_write_text(path, _dumps({"version": 1, "kind": "commitment", "model_id": model_id,
                                    "commitment": str(commitment)}))


def load_salt(src: str | os.PathLike[str] | dict[str, Any]) -> tuple[str, int]:
    """(model_id, salt) from a salt document."""
    name, d = _doc(src, "salt")
    model_id = d.get("model_id")
    if not isinstance(model_id, str):
        raise SchemaError(name, "model_id", f"expected a string, got {model_id!r:.60}")
    return model_id, _uint(name, d, "salt", R, "a salt (a field element)", as_string=True)


def new_salt() -> int:
    return random_salt()


def write_salt(model_id: str, salt: int, path: str | os.PathLike[str]) -> None:
    """Write a salt file readable by its owner only; refuses to overwrite an existing one.

    Raises:
        FileExistsError: the file exists (the salt it holds may be the only way to open a commitment).
    """
    from zkmargin.files import write_secret_text

    write_secret_text(path, _dumps({"version": 1, "kind": "salt", "model_id": model_id, "salt": str(salt)}))


def _dumps(d: dict[str, Any]) -> str:
    import json

    return json.dumps(d, indent=2) + "\n"
