"""zkmargin.encoding: the spec restated, pinned answers, domain separation, validation.

The known answers below were computed by zkmargin.encoding and are confirmed independently with
circomlibjs's Poseidon in tests/crosscheck/test_poseidon_circuit_snarkjs.py; they change only if
the encoding changes, which must then bump the version in the affected domain tag (the
commitment is at v2 since it hashes the model digest first).
"""

from __future__ import annotations

import random

import pytest

from zkmargin import encoding as E
from zkmargin.errors import MalformedInputError
from zkmargin.field import R
from zkmargin.poseidon import poseidon, poseidon_permutation

SEED = 20240613
LENGTHS = [0, 1, 15, 16, 17, 100]

KNOWN_ANSWERS = {
    "market_digest([])": 0x1492FA4F58993584D6230D38386FE375DFD4698593E56BF0F64C89B8C3231EBD,
    "market_digest(1..17)": 0x5FE44907D6855FC16D0A746C9E2E0C715FB2BC9BCD735B20F6BF381387CDD4A,
    "commitment(7, [1, 2, 3], 42)": 0x1974FD0584E474A10E88C41E07BE1F54FAF8ED18A492C54B9E8DB930F65D225A,
    "account_leaf(7, [1, 2, 3], 42, 9)": 0x302A905BF2BF8B2FA9A3FDA01F277BABAC86C0E4752856830482378294B414E1,
    "key_commitment(5)": 0x2F8C2E9553C94F9EBEC7CBA8005D7FAB5B94AABBF120182B33386563FE5A8CFD,
    "nullifier(5, 6)": 0x144049C861433810CED6DF222990E89CC87FF9E3F069A447C4AFF43ADCD97A83,
    "context_hash(demo, 1, 2, 31337)": 0x209564700717BA9F38D2E629361C45DAC8FD6524798AB10D2E77628913067740,
}


def reference_hash_vector(tag: int, values: list[int]) -> int:
    """The spec, written again from the docstring: pad to a positive multiple of 16, absorb, squeeze."""
    padded = values + [0] * (-len(values) % 16)
    if not padded:
        padded = [0] * 16
    state = [poseidon([tag, len(values)])] + [0] * 16
    for start in range(0, len(padded), 16):
        rate = [(s + v) % R for s, v in zip(state[1:], padded[start : start + 16], strict=True)]
        state = poseidon_permutation([state[0], *rate])
    return state[1]


def test_domain_tags() -> None:
    assert E.TAG_COMMITMENT == int.from_bytes(b"zkmargin.commitment.v2", "big")
    assert E.TAG_MODEL == int.from_bytes(b"zkmargin.model.v1", "big")
    assert E.TAG_ACCOUNT_LEAF == int.from_bytes(b"zkmargin.account_leaf.v1", "big")
    assert E.TAG_KEY == int.from_bytes(b"zkmargin.key.v1", "big")
    assert E.TAG_NULLIFIER == int.from_bytes(b"zkmargin.nullifier.v1", "big")
    assert E.TAG_MARKET_DIGEST == int.from_bytes(b"zkmargin.market_digest.v1", "big")
    assert E.TAG_CONTEXT == int.from_bytes(b"zkmargin.context.v1", "big")
    tags = {E.TAG_COMMITMENT, E.TAG_MARKET_DIGEST, E.TAG_CONTEXT, E.domain_tag("commitment", 1), E.TAG_MODEL,
            E.TAG_ACCOUNT_LEAF, E.TAG_KEY, E.TAG_NULLIFIER}
    assert len(tags) == 8 and all(0 < t < R for t in tags)
    assert E.ENCODING_VERSION == 1 and (E.SPONGE_WIDTH, E.SPONGE_RATE) == (17, 16)


def test_short_string() -> None:
    assert E.short_string("A") == 65
    assert E.short_string("x" * 31) < 2**248
    for bad in ("", "x" * 32, "é", "tab\t"):
        with pytest.raises(ValueError):
            E.short_string(bad)
    with pytest.raises(ValueError):
        E.domain_tag("a_name_long_enough_to_overflow")


@pytest.mark.parametrize("n", LENGTHS)
def test_hash_vector_matches_reference(n: int) -> None:
    rng = random.Random(SEED + n)
    for tag in (E.TAG_COMMITMENT, E.TAG_MARKET_DIGEST, 0, R - 1):
        xs = [rng.randrange(R) for _ in range(n)]
        assert E.hash_vector(tag, xs) == reference_hash_vector(tag, xs)
    assert E.n_blocks(n) == max(1, -(-n // 16))
    assert E.sponge_iv(E.TAG_CONTEXT, n) == poseidon([E.TAG_CONTEXT, n])


def test_named_encodings() -> None:
    rng = random.Random(SEED)
    vals = [rng.randrange(R) for _ in range(20)]
    salt = rng.randrange(R)
    assert E.commitment(11, vals, salt) == reference_hash_vector(E.TAG_COMMITMENT, [11, salt, *vals])
    assert E.account_leaf(11, vals, salt, 12) == reference_hash_vector(E.TAG_ACCOUNT_LEAF, [11, salt, 12, *vals])
    assert E.key_commitment(salt) == reference_hash_vector(E.TAG_KEY, [salt])
    assert E.nullifier(salt, 13) == reference_hash_vector(E.TAG_NULLIFIER, [salt, 13])
    assert E.market_digest(vals) == reference_hash_vector(E.TAG_MARKET_DIGEST, vals)
    assert E.context_hash(*vals[:4]) == reference_hash_vector(E.TAG_CONTEXT, vals[:4])


def test_known_answers() -> None:
    demo = E.short_string("zkmargin-demo")
    got = {
        "market_digest([])": E.market_digest([]),
        "market_digest(1..17)": E.market_digest(list(range(1, 18))),
        "commitment(7, [1, 2, 3], 42)": E.commitment(7, [1, 2, 3], 42),
        "account_leaf(7, [1, 2, 3], 42, 9)": E.account_leaf(7, [1, 2, 3], 42, 9),
        "key_commitment(5)": E.key_commitment(5),
        "nullifier(5, 6)": E.nullifier(5, 6),
        "context_hash(demo, 1, 2, 31337)": E.context_hash(demo, 1, 2, 31337),
    }
    assert got == KNOWN_ANSWERS


def test_domain_separation() -> None:
    vals = [5, 6, 7, 8]
    salt = 99
    as_commit = E.commitment(0, vals, salt)
    assert as_commit != E.market_digest([0, salt, *vals])
    assert as_commit != E.commitment(1, vals, salt)  # the model digest separates models
    assert E.account_leaf(0, vals, salt, 0) != E.commitment(0, [0, *vals], salt)
    assert E.key_commitment(salt) != E.nullifier(salt, 0)
    assert as_commit != E.hash_vector(E.TAG_CONTEXT, [salt, *vals])
    assert E.market_digest(vals) != E.context_hash(*vals)
    assert E.market_digest(vals) != E.hash_vector(E.TAG_COMMITMENT, vals)


@pytest.mark.parametrize("base", [[], [1], [1, 2], [3] * 15, [3] * 16, [3] * 17, [0] * 32])
def test_trailing_zeros_change_the_hash(base: list[int]) -> None:
    seen = {E.market_digest(base + [0] * k) for k in range(0, 18)}
    assert len(seen) == 18


def test_salt_and_order_matter() -> None:
    vals = [10, 20, 30]
    c = E.commitment(5, vals, 1)
    assert c != E.commitment(5, vals, 2)
    assert c != E.commitment(5, vals[::-1], 1)
    assert c != E.commitment(5, [*vals, 0], 1)
    assert E.commitment(5, [], 1) != E.commitment(5, [], 2)


def test_random_salt() -> None:
    salts = [E.random_salt() for _ in range(64)]
    assert all(isinstance(s, int) and 0 <= s < R for s in salts)
    assert len(set(salts)) == 64
    assert max(salts) > R // 4  # uniform over [0, r): 64 draws all below r/4 has probability 2^-128


def test_validation() -> None:
    for bad in (R, R + 5, -1):
        with pytest.raises(MalformedInputError, match="index 1"):
            E.market_digest([0, bad])
    with pytest.raises(MalformedInputError, match="index 1"):
        E.commitment(0, [1], -1)  # the model digest comes first, then the salt
    with pytest.raises(MalformedInputError, match="index 0"):
        E.commitment(R, [1], 1)
    with pytest.raises(TypeError):
        E.market_digest([1, "2"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        E.market_digest([True])
    with pytest.raises(TypeError):
        E.market_digest([1.0])  # type: ignore[list-item]
    for tag in (R, -1):
        with pytest.raises(MalformedInputError, match="domain tag"):
            E.hash_vector(tag, [1])
    with pytest.raises(ValueError):
        E.n_blocks(-1)
    # the largest field element is accepted, and signed values are the caller's v mod r
    assert E.market_digest([R - 1]) == E.market_digest([-1 % R])


def test_string_elements_are_injective() -> None:
    texts = ["a", "b", "ab", "a" * 31, "a" * 32, "a" * 62, "a" * 63, "A" * 31 + "B", "x" * 64]
    encoded = [tuple(E.string_elements(t)) for t in texts]
    assert len(set(encoded)) == len(texts)
    assert E.string_elements("ab") == [2, int.from_bytes(b"ab", "big")]
    assert E.string_elements("a" * 32) == [32, int.from_bytes(b"a" * 31, "big"), ord("a")]
    for bad in ("", "é", "tab\t"):
        with pytest.raises(ValueError):
            E.string_elements(bad)
