"""The numba prover and setup against the pure-Python reference (same randomness, same bytes)."""

from __future__ import annotations

import random
import warnings

import pytest

from zkmargin.circuits import Circuit, build, compile, param, public, secret
from zkmargin.circuits.std import rangecheck
from zkmargin.errors import FileFormatError, MalformedInputError
from zkmargin.prover import DevelopmentSetupWarning, backend, prove_reference
from zkmargin.prover.setup import Toxic, _scalars, _setup_reference
from zkmargin.serialize import decode_sections, read_zkey, write_zkey
from zkmargin.verifier import verify

if not backend.fast_available():
    pytest.skip("the numba prover is not active (NUMBA_DISABLE_JIT or ZKMARGIN_BACKEND=python)",
                allow_module_level=True)

from zkmargin.prover.fast import key_arrays, prove_fast, setup_fast  # noqa: E402


class Mixed(Circuit):
    """Bits (0/1 scalars), products (big scalars), a repeated wire and two public inputs."""

    n = param(default=6)
    total = public()
    k = public()
    xs = secret(shape="n")

    def define(self, api):
        acc = api.const(0)
        for x in self.xs:
            rangecheck.assert_bits(api, x, bits=12)
            acc = acc + x * x * self.k
        api.assert_equal(acc, self.total)


def _values(rng):
    xs = [rng.randrange(1 << 12) for _ in range(6)]
    k = rng.randrange(1, 1000)
    return dict(total=sum(x * x * k for x in xs), k=k, xs=xs)


@pytest.fixture(scope="module")
def keys():
    cs = compile(Mixed())
    t = Toxic(random.Random(11))
    s = _scalars(cs, t)
    return cs, t, setup_fast(cs, t, s), _setup_reference(cs, t, s)


def test_fast_setup_equals_reference(keys):
    _, _, (pk_fast, vk_fast), (pk_ref, vk_ref) = keys
    assert vk_fast == vk_ref
    assert decode_sections(pk_fast) == pk_ref


def test_fast_proof_equals_reference_with_same_blinding(keys):
    cs, _, (pk_fast, vk), (pk_ref, _) = keys
    for seed in range(3):
        _, w = build(Mixed(**_values(random.Random(seed))))
        fast = prove_fast(pk_fast, w, rng=random.Random(100 + seed))
        ref = prove_reference(pk_ref, w, cs, rng=random.Random(100 + seed))
        assert fast == ref
        assert verify(vk, fast[1], fast[0])


def test_key_from_file_and_lists_agree(keys, tmp_path):
    _, _, (pk_fast, _), (pk_ref, _) = keys
    write_zkey(pk_fast, tmp_path / "k.zkey")
    pk_file = read_zkey(tmp_path / "k.zkey", keep_encoded=True)
    _, w = build(Mixed(**_values(random.Random(9))))
    a = prove_fast(pk_file, w, rng=random.Random(1))
    b = prove_fast(pk_ref, w, rng=random.Random(1))  # lists converted to arrays
    assert a == b
    assert key_arrays(pk_file).h_query.shape == (pk_ref.domain_size, 2, 4)


def test_fast_path_rejects_malformed(keys, tmp_path):
    _, _, (pk_fast, _), _ = keys
    _, w = build(Mixed(**_values(random.Random(3))))
    with pytest.raises(MalformedInputError, match="expects"):
        prove_fast(pk_fast, w[:-1])
    write_zkey(pk_fast, tmp_path / "k.zkey")
    data = bytearray((tmp_path / "k.zkey").read_bytes())
    # corrupt one coefficient record's wire index past nVars (section 4 follows sections 1 and 2)
    pk = read_zkey(bytes(data), keep_encoded=True)
    raw = bytearray(pk.encoded[4])
    raw[4 + 8: 4 + 12] = (pk.n_wires + 5).to_bytes(4, "little")
    pk.encoded[4] = bytes(raw)
    with pytest.raises(FileFormatError, match="coefficient record"):
        prove_fast(pk, w)


def test_public_setup_and_prove_use_the_fast_path(keys):
    cs = keys[0]
    from zkmargin.prover import prove, setup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentSetupWarning)
        pk, vk = setup(cs)
    assert pk.encoded  # the numba setup keeps sections encoded
    _, w = build(Mixed(**_values(random.Random(4))))
    proof, public = prove(pk, w, cs)
    assert verify(vk, public, proof)
    assert not verify(vk, [public[0] + 1, public[1]], proof)
