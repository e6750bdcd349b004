"""Native encodings of the public statement: the account commitment, the market digest, the context.

docs/design.md's statement has three hashed public inputs: ``commitment = Commit(model, A, salt)``,
``market_digest = Digest(M)`` and ``context``. Each is one field element computed by
:func:`hash_vector` with its own domain tag. ``zkmargin.circuits.std.encoding`` computes the same
functions in-circuit, from the constants and :func:`sponge_iv` defined here.

Specification (version 1)
-------------------------

Field: BN254's scalar field, r = ``zkmargin.field.R``. Every value hashed is an integer in
[0, r); a signed quantity v is encoded by the caller as ``v mod r`` (``zkmargin.field.from_signed``),
amounts and prices as the integers of their declared decimals. Out-of-range values are refused,
never reduced, so that two different integer vectors never silently share a hash.

Permutation: Poseidon of width 17 (``zkmargin.poseidon.poseidon_permutation``, circomlib's
constants: R_F = 8, R_P = 68, x^5), used as a sponge with capacity 1 (element 0) and rate 16
(elements 1..16).

``hash_vector(tag, values)`` for a vector of length L:

1. ``iv = poseidon([tag, L])`` (circomlib ``Poseidon(2)``): the domain tag and the length.
2. ``state = [iv, 0, ..., 0]`` (17 elements).
3. The values are cut into blocks of 16, in order; the last block is padded with zeros to 16;
   an empty vector is one all-zero block. So there are ``max(1, ceil(L / 16))`` blocks.
4. For each block b: ``state[1 + i] += b[i]`` (mod r) for i in 0..15, then
   ``state = poseidon_permutation(state)``.
5. The digest is ``state[1]`` (the first rate element).

This is the SAFE sponge discipline (Aumasson, Khovratovich, Mennink, Quine, "SAFE: Sponge API for
Field Elements", https://eprint.iacr.org/2023/522): the capacity starts at a tag that fixes the
domain and the exact input length, values are absorbed by addition into the rate, and no padding
rule is needed because the length is bound in the capacity: zero-padding the last block is
injective once L is fixed, and vectors of different length, or of different purpose (tag), start
from different capacities, so ``[x]`` and ``[x, 0]`` hash differently. Collision resistance is
that of a Poseidon sponge with a 254-bit capacity (~127 bits, like circomlib's ``Poseidon(n)``,
which is the one-block case of a capacity-1 sponge).

Why this construction: it absorbs 16 elements per width-17 permutation, the most Poseidon's
circomlib parameters allow, at 612 constraints per block in-circuit (38.25 per element; the IV is
a constant there, free). The alternative chain ``h_{i+1} = Poseidon(h_i, 15 values)`` with
circomlib's ``Poseidon(16)`` absorbs only 15 per permutation (609 constraints, 40.6 per element,
6 % more). In-circuit cost of
``hash_vector`` with L >= 1 non-constant values: ``612 * blocks - 3 * (1 + max(0, 16 - L))``
(the constant IV and the zero padding of a single block save their round-0 S-boxes).

Domain tags: ``domain_tag(name, v) = short_string("zkmargin." + name + ".v" + v)``, the
big-endian integer of the ASCII bytes (at most 31 bytes, so it is below 2^248 < r):
``TAG_COMMITMENT`` ("zkmargin.commitment.v2"), ``TAG_MARKET_DIGEST``
("zkmargin.market_digest.v1"), ``TAG_CONTEXT`` ("zkmargin.context.v1"), ``TAG_MODEL``
("zkmargin.model.v1"), ``TAG_ACCOUNT_LEAF`` ("zkmargin.account_leaf.v1"), ``TAG_KEY``
("zkmargin.key.v1"), ``TAG_NULLIFIER`` ("zkmargin.nullifier.v1").

The encodings:

* ``commitment(model_digest, account_values, salt) = hash_vector(TAG_COMMITMENT, [model_digest,
  salt, *account_values])``; the salt is uniform in [0, r) (``random_salt``), which makes the
  commitment hiding; the model digest (``zkmargin.margin.model_digest``: model id, kind, sizes,
  layout, decimals, symbols) domain-separates accounts of different models, so an account
  committed under one model can never be opened under another, even one of equal length
  (version 2; version 1 had no model digest and let an isolated account be read as a cross one);
* ``account_leaf(model_digest, account_values, salt, key_commitment) = hash_vector(
  TAG_ACCOUNT_LEAF, [model_digest, salt, key_commitment, *account_values])``: a leaf of a venue's
  account tree, the commitment extended by its owner's registered key commitment;
* ``key_commitment(secret_key) = hash_vector(TAG_KEY, [secret_key])``: what a trader registers
  with the venue (the key itself never leaves the trader);
* ``nullifier(secret_key, context) = hash_vector(TAG_NULLIFIER, [secret_key, context])``: one per
  account key and context; without the key it can be neither computed nor linked to an account;
* ``market_digest(market_values) = hash_vector(TAG_MARKET_DIGEST, market_values)``;
* ``context_hash(venue_id, epoch, nonce, chain_id) = hash_vector(TAG_CONTEXT, [venue_id, epoch,
  nonce, chain_id])``; a venue name can be turned into ``venue_id`` with ``short_string``;
* ``string_elements(text)``: a string of any length as field elements, ``[byte length, chunk_0,
  chunk_1, ...]`` with 31-byte big-endian chunks (the last one shorter): injective, used where a
  document's identifiers (model id, symbols) enter a hash.

How an account or the market data is flattened into a vector (field order, sizes, zero padding of
fixed-size circuits) is the margin model's business; this module only fixes how a vector hashes.

Pure Python ints (base install: no numpy, numba or galois).
"""

from __future__ import annotations

import operator
import secrets
from collections.abc import Sequence
from functools import lru_cache

from zkmargin.errors import MalformedInputError
from zkmargin.field import R
from zkmargin.poseidon import poseidon, poseidon_permutation

__all__ = [
    "ENCODING_VERSION",
    "SPONGE_WIDTH",
    "SPONGE_RATE",
    "TAG_COMMITMENT",
    "TAG_MARKET_DIGEST",
    "TAG_CONTEXT",
    "TAG_MODEL",
    "TAG_ACCOUNT_LEAF",
    "TAG_KEY",
    "TAG_NULLIFIER",
    "short_string",
    "string_elements",
    "domain_tag",
    "sponge_iv",
    "n_blocks",
    "hash_vector",
    "commitment",
    "market_digest",
    "context_hash",
    "account_leaf",
    "key_commitment",
    "nullifier",
    "random_salt",
]

#: Version of this specification; part of every domain tag.
ENCODING_VERSION = 1
#: Poseidon width of the sponge: capacity 1 + rate 16.
SPONGE_WIDTH = 17
#: Field elements absorbed per permutation.
SPONGE_RATE = SPONGE_WIDTH - 1


def short_string(text: str) -> int:
    """The big-endian integer of the ASCII bytes of ``text`` (1..31 characters): a field element.

    Raises:
        ValueError: ``text`` is empty, longer than 31 characters, or not printable ASCII.
    """
    if not isinstance(text, str) or not 1 <= len(text) <= 31 or not (text.isascii() and text.isprintable()):
        raise ValueError(f"a short string has 1..31 printable ASCII characters, got {text!r}")
    return int.from_bytes(text.encode("ascii"), "big")


def domain_tag(name: str, version: int = ENCODING_VERSION) -> int:
    """``short_string(f"zkmargin.{name}.v{version}")``: the domain tag of one kind of hash.

    Raises:
        ValueError: the resulting string is longer than 31 characters or not ASCII.
    """
    return short_string(f"zkmargin.{name}.v{version}")


#: Domain tag of account commitments: short_string("zkmargin.commitment.v2") (v2: with the model digest).
TAG_COMMITMENT = domain_tag("commitment", 2)
#: Domain tag of market-data digests: short_string("zkmargin.market_digest.v1").
TAG_MARKET_DIGEST = domain_tag("market_digest")
#: Domain tag of proof contexts: short_string("zkmargin.context.v1").
TAG_CONTEXT = domain_tag("context")
#: Domain tag of venue-model digests: short_string("zkmargin.model.v1").
TAG_MODEL = domain_tag("model")
#: Domain tag of account-tree leaves: short_string("zkmargin.account_leaf.v1").
TAG_ACCOUNT_LEAF = domain_tag("account_leaf")
#: Domain tag of trader key commitments: short_string("zkmargin.key.v1").
TAG_KEY = domain_tag("key")
#: Domain tag of nullifiers: short_string("zkmargin.nullifier.v1").
TAG_NULLIFIER = domain_tag("nullifier")


def string_elements(text: str) -> list[int]:
    """``[byte length, chunk_0, ...]``: a printable ASCII string as field elements (module docstring).

    Raises:
        ValueError: not printable ASCII, or empty.
    """
    if not isinstance(text, str) or not text or not (text.isascii() and text.isprintable()):
        raise ValueError(f"expected a non-empty printable ASCII string, got {text!r:.80}")
    raw = text.encode("ascii")
    return [len(raw)] + [int.from_bytes(raw[i : i + 31], "big") for i in range(0, len(raw), 31)]


def _field_element(v: object, what: str) -> int:
    try:
        x = operator.index(v)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} is {type(v).__name__}, not an integer") from None
    if isinstance(v, bool):
        raise TypeError(f"{what} is a bool, not an integer field element")
    if not 0 <= x < R:
        raise MalformedInputError(
            f"{what} is not a field element: {x} is outside [0, r) (encode a signed value v as v mod r)"
        )
    return x


def n_blocks(length: int) -> int:
    """Permutations that ``hash_vector`` runs for a vector of ``length`` values: max(1, ceil(L / 16))."""
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError(f"a vector length is a non-negative int, got {length!r}")
    return max(1, -(-length // SPONGE_RATE))


@lru_cache(maxsize=256)
def sponge_iv(tag: int, length: int) -> int:
    """The initial capacity of ``hash_vector``: ``poseidon([tag, length])``.

    Raises:
        ValueError: ``tag`` not in [0, r) or ``length`` negative (MalformedInputError for a tag
            out of range).
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError(f"a vector length is a non-negative int, got {length!r}")
    return poseidon([_field_element(tag, "domain tag"), length])


def hash_vector(tag: int, values: Sequence[int]) -> int:
    """Hash a vector of field elements under a domain tag (the module docstring has the spec).

    Args:
        tag: the domain tag, an int in [0, r): use ``TAG_*`` or ``domain_tag``.
        values: any number of field elements, each an int in [0, r).
    Returns:
        The digest, an int in [0, r).
    Raises:
        ValueError: the tag or a value is outside [0, r) (MalformedInputError, naming the index).
        TypeError: a value is not an int.
    """
    xs = [_field_element(v, f"value at index {i}") for i, v in enumerate(values)]
    state = [sponge_iv(tag, len(xs))] + [0] * SPONGE_RATE
    for b in range(n_blocks(len(xs))):
        block = xs[b * SPONGE_RATE : (b + 1) * SPONGE_RATE]
        for i, v in enumerate(block):
            state[1 + i] = (state[1 + i] + v) % R
        state = poseidon_permutation(state)
    return state[1]


def commitment(model_digest: int, account_values: Sequence[int], salt: int) -> int:
    """``Commit(model, A, salt) = hash_vector(TAG_COMMITMENT, [model_digest, salt, *account_values])``.

    Args:
        model_digest: ``zkmargin.margin.model_digest(model)``: which model reads the account.
        account_values: the flattened account state, field elements (signed values as v mod r).
        salt: the blinding, uniform in [0, r) (``random_salt()``); keep it secret.
    Raises:
        ValueError, TypeError: as ``hash_vector`` (the model digest is index 0, the salt index 1).
    """
    return hash_vector(TAG_COMMITMENT, [model_digest, salt, *account_values])


def account_leaf(model_digest: int, account_values: Sequence[int], salt: int, key_commitment: int) -> int:
    """A leaf of the venue's account tree: ``hash_vector(TAG_ACCOUNT_LEAF, [model_digest, salt,
    key_commitment, *account_values])``.

    Raises:
        ValueError, TypeError: as ``hash_vector``.
    """
    return hash_vector(TAG_ACCOUNT_LEAF, [model_digest, salt, key_commitment, *account_values])


def key_commitment(secret_key: int) -> int:
    """``hash_vector(TAG_KEY, [secret_key])``: the public commitment a trader registers with the venue.

    Raises:
        ValueError, TypeError: as ``hash_vector``.
    """
    return hash_vector(TAG_KEY, [secret_key])


def nullifier(secret_key: int, context: int) -> int:
    """``hash_vector(TAG_NULLIFIER, [secret_key, context])``: one account key answers one context once.

    Raises:
        ValueError, TypeError: as ``hash_vector``.
    """
    return hash_vector(TAG_NULLIFIER, [secret_key, context])


def market_digest(market_values: Sequence[int]) -> int:
    """``Digest(M) = hash_vector(TAG_MARKET_DIGEST, market_values)``.

    Raises:
        ValueError, TypeError: as ``hash_vector``.
    """
    return hash_vector(TAG_MARKET_DIGEST, market_values)


def context_hash(venue_id: int, epoch: int, nonce: int, chain_id: int) -> int:
    """``hash_vector(TAG_CONTEXT, [venue_id, epoch, nonce, chain_id])``: the public ``context``.

    Args:
        venue_id: the venue, a field element (e.g. ``short_string("my-venue")``).
        epoch: the market-data epoch; nonce: the verifier's challenge; chain_id: the EVM chain
            id (0 off-chain). All field elements.
    Raises:
        ValueError, TypeError: as ``hash_vector``.
    """
    return hash_vector(TAG_CONTEXT, [venue_id, epoch, nonce, chain_id])


def random_salt() -> int:
    """A fresh blinding for ``commitment``: uniform in [0, r), from the OS CSPRNG (``secrets``)."""
    return secrets.randbelow(R)
