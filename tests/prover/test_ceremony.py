"""The trusted-setup ceremony (prover/ceremony.py) without node: kernels against their py_ecc twins,
the ceremony against the development setup with the same secrets, contributions, beacons, and
every way a tampered key must fail verification.

The ptau files here are made from known secrets (``_toy_ptau_sections``): the group points are
then predictable, so the Lagrange basis and the initial key have a third implementation
(``setup._scalars`` + fixed-base tables) besides the kernels and py_ecc.
"""

from __future__ import annotations

import hashlib
import random
import struct

import numpy as np
import pytest

from zkmargin import curve
from zkmargin.circuits import Circuit, build, compile, param, public, secret
from zkmargin.field import Q, R
from zkmargin.prover import backend, prove
from zkmargin.serialize import read_zkey, read_zkey_mpc_params, write_zkey
from zkmargin.serialize.ptau_file import read_ptau, write_ptau
from zkmargin.serialize.zkey_file import CONTRIBUTE_SECTION_ORDER, decode_contribution
from zkmargin.verifier import verify

if not backend.fast_available():
    pytest.skip("the numba kernels are not active", allow_module_level=True)

from zkmargin.circuits.std._testing import ChainCircuit as Chain  # noqa: E402
from zkmargin.circuits.std._testing import chain_values as _chain
from zkmargin.prover import _group_naive, ceremony, kernels  # noqa: E402
from zkmargin.prover.fast import setup_fast  # noqa: E402
from zkmargin.prover.qap import root_of_unity  # noqa: E402
from zkmargin.prover.setup import Toxic, lagrange_at  # noqa: E402

TAU, ALPHA, BETA = 0x1234567 * 7919, 0xABCDEF * 104729, 0x55AA55 * 1299709


class Chain2(Circuit):
    """Chain's shape with another constant: x_{i+1} = x_i^2 + 2k."""

    n = param()
    out = public()
    k = public()
    x0 = secret()

    def define(self, api):
        x = self.x0
        for _ in range(self.n):
            x = x * x + self.k * 2
        api.assert_equal(x, self.out)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A power-4 ptau from known secrets, its prepared twin, and a circuit that fits it."""
    d = tmp_path_factory.mktemp("ceremony")
    write_ptau(d / "p.ptau", 4, ceremony._toy_ptau_sections(4, TAU, ALPHA, BETA))
    ceremony.prepare_phase2(d / "p.ptau", d / "pp.ptau")
    cs = compile(Chain(n=9))  # 10 constraints + 3 public rows: a 16-point domain
    _, w = build(Chain(n=9, **_chain(9)))
    return d, cs, w


# --- kernels against their twins ------------------------------------------------------------------

@pytest.mark.parametrize("group,n", [(1, 1), (1, 2), (1, 8), (2, 4)])
def test_lagrange_points_match_py_ecc_twin(group, n):
    rng = random.Random(n * group)
    gen = curve.G1_GENERATOR if group == 1 else curve.G2_GENERATOR
    mul = curve.g1_mul if group == 1 else curve.g2_mul
    pts = [mul(gen, rng.randrange(1, R)) for _ in range(n)]
    if n >= 8:
        pts[-1] = None  # infinity inside the input, as in section 12's last block
    to_arr = kernels.g1_points_to_array if group == 1 else kernels.g2_points_to_array
    from_arr = kernels.g1_points_from_array if group == 1 else kernels.g2_points_from_array
    got = from_arr(ceremony.lagrange_points(to_arr(pts)))
    assert got == _group_naive.lagrange_points_reference(pts, group)


def test_lagrange_points_are_the_lagrange_basis_at_tau():
    n = 16
    pw = [pow(TAU, j, R) for j in range(n)]
    got = ceremony.lagrange_points(kernels.fixed_base_g1_array(curve.G1_GENERATOR, pw))
    want = kernels.fixed_base_g1_array(curve.G1_GENERATOR, lagrange_at(n, TAU))
    assert np.array_equal(got, want)


def test_group_dft_reference_is_a_dft():
    # the twin itself against the scalar DFT (a fourth implementation, on known logs)
    n = 4
    w = root_of_unity(n)
    xs = [5, 7, 11, 13]
    got = _group_naive.group_dft_reference([curve.g1_mul(curve.G1_GENERATOR, x) for x in xs], w)
    want = [curve.g1_mul(curve.G1_GENERATOR, sum(x * pow(w, j * k, R) for j, x in enumerate(xs))) for k in range(n)]
    assert got == want


@pytest.mark.parametrize("group", [1, 2])
def test_sparse_combine_matches_twin(group):
    rng = random.Random(group)
    gen = curve.G1_GENERATOR if group == 1 else curve.G2_GENERATOR
    mul = curve.g1_mul if group == 1 else curve.g2_mul
    to_arr = kernels.g1_points_to_array if group == 1 else kernels.g2_points_to_array
    from_arr = kernels.g1_points_from_array if group == 1 else kernels.g2_points_from_array
    bases = [mul(gen, rng.randrange(1, R)) for _ in range(6)] + [None]
    m = 5
    out_idx = [rng.randrange(m - 1) for _ in range(14)]  # output m-1 gets no entry: infinity
    base_idx = [rng.randrange(len(bases)) for _ in range(14)]
    coefs = [1, R - 1, 2, R - 2, 0, 15, 16, (1 << 200) + 3, R - (1 << 130)] + [rng.randrange(R) for _ in range(5)]
    got = from_arr(ceremony._combine(to_arr(bases), np.array(out_idx), np.array(base_idx), coefs, m))
    order = sorted(range(len(out_idx)), key=lambda e: out_idx[e])
    ptr = [0] * (m + 1)
    for k in range(m):
        ptr[k + 1] = ptr[k] + out_idx.count(k)
    want = _group_naive.sparse_combine_reference(bases, ptr, [base_idx[e] for e in order],
                                                 [coefs[e] for e in order], group)
    assert got == want
    assert got[-1] is None


def test_scale_points_matches_py_ecc():
    pts = [curve.g1_mul(curve.G1_GENERATOR, k) for k in (3, 5, 1 << 100)] + [None]
    k = R - 12345
    got = kernels.g1_points_from_array(ceremony.scale_points(kernels.g1_points_to_array(pts), k))
    assert got == [curve.g1_mul(p, k) for p in pts]


# --- transcript primitives ----------------------------------------------------------------------

def test_chacha_block_matches_rfc8439_vector():
    # RFC 8439 2.3.2: key 00..1f, counter 1, nonce 000000090000004a00000000. Our stream has a
    # 128-bit counter in words 12..15 and no nonce, so those words are set directly.
    key = list(struct.unpack("<8I", bytes(range(32))))
    c = ceremony.ChaCha(key)
    c.state[12:16] = [1, 0x09000000, 0x4A000000, 0]
    words = [c.next_u32() for _ in range(16)]
    want = bytes.fromhex(
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
        "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e")
    assert struct.pack("<16I", *words) == want


def test_hash_to_g2_gives_points_of_g2():
    for i in range(3):
        p = ceremony.hash_to_g2(hashlib.blake2b(bytes([i]), digest_size=64).digest())
        assert curve.g2_is_on_curve(p) and curve.g2_in_subgroup(p)


def test_uncompressed_encodings_agree():
    pts = [curve.g1_mul(curve.G1_GENERATOR, 77), None]
    assert ceremony.to_uncompressed_g1(kernels.g1_points_to_array(pts)) == b"".join(ceremony._u_g1(p) for p in pts)
    q = [curve.g2_mul(curve.G2_GENERATOR, 99)]
    assert ceremony.to_uncompressed_g2(kernels.g2_points_to_array(q)) == ceremony._u_g2(q[0])


def test_fq2_sqrt():
    rng = random.Random(5)
    for _ in range(20):
        a = (rng.randrange(Q), rng.randrange(Q))
        sq = ceremony._fq2_mul(a, a)
        s = ceremony._fq2_sqrt(sq)
        assert s is not None and ceremony._fq2_mul(s, s) == sq


# --- prepare and setup from ptau ------------------------------------------------------------------

def test_prepared_sections_are_the_lagrange_basis(toy):
    d, *_ = toy
    pp = read_ptau(d / "pp.ptau")
    assert pp.prepared and pp.power == 4
    for n in (1, 2, 8, 16):
        lag = lagrange_at(n, TAU) if n > 1 else [1]
        g1 = kernels.fixed_base_g1_array(curve.G1_GENERATOR, lag)
        assert bytes(pp.lagrange(12, n)) == g1.tobytes()
        assert bytes(pp.lagrange(14, n)) == kernels.fixed_base_g1_array(
            curve.G1_GENERATOR, [ALPHA * x % R for x in lag]).tobytes()
        assert bytes(pp.lagrange(13, n)) == kernels.fixed_base_g2_array(curve.G2_GENERATOR, lag).tobytes()


def test_setup_from_ptau_equals_development_setup_with_the_same_secrets(toy):
    """Below the ptau's full size the key is the development setup's with gamma = delta = 1. (At
    domain = 2^power, H comes from 2n - 1 powers and infinity, as in snarkjs; see the chain tests.)"""
    d, _, _ = toy
    cs = compile(Chain(n=4))  # 5 constraints + 3 public rows: domain 8 < 2^4
    t = Toxic(random.Random(1))
    t.tau, t.alpha, t.beta, t.gamma, t.delta = TAU, ALPHA, BETA, 1, 1
    dev_pk, dev_vk = setup_fast(cs, t)
    for src in ("p.ptau", "pp.ptau"):  # Lagrange points computed here, or read from the file
        key = ceremony.setup_from_ptau(cs, d / src)
        for sid in (4, 5, 6, 7, 8, 9):
            assert key.pk.encoded[sid] == dev_pk.encoded[sid], sid
        assert key.vk == dev_vk
        assert key.pk.beta_g1 == dev_pk.beta_g1 and key.pk.delta_g1 == curve.G1_GENERATOR


def test_cs_hash_is_snarkjs_recipe(toy):
    """csHash recomputed in pure Python (py_ecc points, hashlib) from the key and the known tau."""
    d, cs, _ = toy
    key = ceremony.setup_from_ptau(cs, d / "p.ptau")
    pk = read_zkey(ceremony_bytes(key))
    g1, g2 = curve.G1_GENERATOR, curve.G2_GENERATOR
    h = hashlib.blake2b(digest_size=64)
    u1, u2 = ceremony._u_g1, ceremony._u_g2
    h.update(u1(pk.vk.alpha_g1) + u1(pk.beta_g1) + u2(pk.vk.beta_g2) + u2(g2) + u1(g1) + u2(g2))

    def sec(pts, enc):
        h.update(struct.pack(">I", len(pts)) + b"".join(enc(p) for p in pts))

    sec(list(pk.vk.gamma_abc_g1), u1)
    n = pk.domain_size
    h.update(struct.pack(">I", n - 1))
    h.update(b"".join(u1(curve.g1_mul(g1, (pow(TAU, n + i, R) - pow(TAU, i, R)) % R)) for i in range(n - 1)))
    for pts, enc in ((pk.l_query, u1), (pk.a_query, u1), (pk.b_g1_query, u1), (pk.b_g2_query, u2)):
        sec(pts, enc)
    assert h.digest() == key.cs_hash


def ceremony_bytes(key):
    from zkmargin.serialize import zkey_to_bytes
    from zkmargin.serialize.zkey_file import ZkeyMpcParams

    return zkey_to_bytes(key.pk, mpc=ZkeyMpcParams(cs_hash=key.cs_hash))


def test_circuit_too_big_for_ptau(toy):
    d, *_ = toy
    with pytest.raises(ceremony.CeremonyError, match="power 4"):
        ceremony.setup_from_ptau(compile(Chain(n=30)), d / "p.ptau")


def test_bad_ptau_point_is_named(toy, tmp_path):
    d, cs, _ = toy
    secs = ceremony._toy_ptau_sections(4, TAU, ALPHA, BETA)
    b = bytearray(secs[2])
    b[64 * 3 + 5] ^= 1  # point 3 of tauG1 off the curve
    secs[2] = bytes(b)
    write_ptau(tmp_path / "bad.ptau", 4, secs)
    with pytest.raises(Exception, match=r"section 2 \(tauG1\).*point 3 is not on"):
        ceremony.prepare_phase2(tmp_path / "bad.ptau", tmp_path / "out.ptau")
    assert not (tmp_path / "out.ptau").exists()
    # a G2 point on the twist but outside G2
    secs = ceremony._toy_ptau_sections(4, TAU, ALPHA, BETA)
    bad = _twist_point_outside_g2()
    b = bytearray(secs[3])
    b[128:256] = kernels.g2_points_to_array([bad]).tobytes()
    secs[3] = bytes(b)
    write_ptau(tmp_path / "bad2.ptau", 4, secs)
    with pytest.raises(Exception, match=r"section 3 \(tauG2\).*point 1 is on the twist but not in G2"):
        ceremony.setup_from_ptau(cs, tmp_path / "bad2.ptau")


def _twist_point_outside_g2():
    rng = random.Random(9)
    while True:
        x = (rng.randrange(Q), rng.randrange(Q))
        x3b = ceremony._fq2_mul(ceremony._fq2_mul(x, x), x)
        y = ceremony._fq2_sqrt(((x3b[0] + curve.TWIST_B[0]) % Q, (x3b[1] + curve.TWIST_B[1]) % Q))
        if y is not None and not curve.g2_in_subgroup((x, y)):
            return (x, y)


# --- contributions, beacon, verification ---------------------------------------------------------

@pytest.fixture(scope="module")
def chain(toy):
    """initial key -> contribution -> contribution -> beacon, all ours."""
    d, cs, w = toy
    key = ceremony.setup_from_ptau(cs, d / "pp.ptau")
    ceremony.write_initial_zkey(key, d / "k0.zkey")
    i1 = ceremony.contribute(d / "k0.zkey", d / "k1.zkey", name="alice", entropy="a")
    i2 = ceremony.contribute(d / "k1.zkey", d / "k2.zkey", name="bob")
    i3 = ceremony.beacon(d / "k2.zkey", d / "k3.zkey", "00" * 31 + "2a", 10, name="beacon")
    return d, cs, w, [i1, i2, i3]


def test_transcript_verifies_and_lists_contributions(chain):
    d, cs, _, infos = chain
    res = ceremony.verify_zkey(cs, d / "pp.ptau", d / "k3.zkey")
    assert res.ok, res.reason
    assert [(c.index, c.name, c.type, c.hash) for c in res.contributions] == [
        (i.index, i.name, i.type, i.hash) for i in infos]
    assert res.contributions[2].beacon_hash == bytes(31) + b"\x2a"
    # an unprepared ptau gives the same verdict
    assert ceremony.verify_zkey(cs, d / "p.ptau", d / "k1.zkey").ok


def test_beacon_is_reproducible(chain):
    d, *_ = chain
    ceremony.beacon(d / "k2.zkey", d / "k3b.zkey", "00" * 31 + "2a", 10, name="beacon")
    assert (d / "k3b.zkey").read_bytes() == (d / "k3.zkey").read_bytes()


def test_contributions_differ_and_change_delta(chain):
    d, *_ = chain
    keys = [read_zkey(d / f"k{i}.zkey", keep_encoded=True) for i in range(4)]
    assert len({k.delta_g1 for k in keys}) == 4
    assert len({k.encoded[9] for k in keys}) == 4
    assert all(k.encoded[5] == keys[0].encoded[5] for k in keys)


def test_proof_under_ceremony_key_verifies(chain):
    d, cs, w, _ = chain
    pk = read_zkey(d / "k3.zkey", keep_encoded=True)
    proof, public = prove(pk, w, cs, rng=random.Random(2))
    assert verify(pk.vk, public, proof)
    assert not verify(pk.vk, [public[0] + 1, public[1]], proof)
    # and the same proof fails under the initial key (delta changed)
    assert not verify(read_zkey(d / "k0.zkey").vk, public, proof)


def test_secret_is_never_written(chain, monkeypatch):
    d, *_ = chain
    seen = []
    real = ceremony._field_from_rng

    def spy(rng, p):
        v = real(rng, p)
        if p == R:
            seen.append(v)
        return v

    monkeypatch.setattr(ceremony, "_field_from_rng", spy)
    ceremony.contribute(d / "k1.zkey", d / "spy.zkey", name="spy")
    (x,) = seen
    data = (d / "spy.zkey").read_bytes()
    for form in (x, x * (1 << 256) % R, pow(x, -1, R), pow(x, -1, R) * (1 << 256) % R):
        for order in ("little", "big"):
            assert form.to_bytes(32, order) not in data


def _rewrite(src, dst, **changes):
    pk = read_zkey(src, keep_encoded=True)
    mpc = read_zkey_mpc_params(src)
    mpc = changes.pop("mpc", mpc)
    vk_changes = {k: changes.pop(k) for k in list(changes) if k in ("delta_g2",)}
    from dataclasses import replace

    pk = replace(pk, vk=replace(pk.vk, **vk_changes), **changes)
    write_zkey(pk, dst, mpc=mpc, section_order=CONTRIBUTE_SECTION_ORDER)


def test_replaced_delta_fails(chain):
    d, cs, *_ = chain
    k = 424242  # a delta the forger knows
    _rewrite(d / "k3.zkey", d / "bad_delta.zkey", delta_g1=curve.g1_mul(curve.G1_GENERATOR, k),
             delta_g2=curve.g2_mul(curve.G2_GENERATOR, k))
    res = ceremony.verify_zkey(cs, d / "pp.ptau", d / "bad_delta.zkey")
    assert not res.ok and "delta_g1" in res.reason
    # delta_g2 alone replaced
    _rewrite(d / "k3.zkey", d / "bad_delta2.zkey", delta_g2=curve.g2_mul(curve.G2_GENERATOR, k))
    res = ceremony.verify_zkey(cs, d / "pp.ptau", d / "bad_delta2.zkey")
    assert not res.ok and "delta_g2" in res.reason


def test_forged_contribution_fails(chain):
    """A forger replaces the last contribution's deltaAfter (and the key's delta) by a delta it
    knows, keeping the proof of knowledge: the chaining check catches it."""
    d, cs, *_ = chain
    from dataclasses import replace

    from zkmargin.serialize.zkey_file import ZkeyMpcParams

    mpc = read_zkey_mpc_params(d / "k2.zkey")
    last = decode_contribution(mpc.contributions[-1])
    k = 777
    forged = replace(last, delta_after=curve.g1_mul(curve.G1_GENERATOR, k))
    new = ZkeyMpcParams(mpc.cs_hash, (*mpc.contributions[:-1], forged.encode()))
    _rewrite(d / "k2.zkey", d / "forged.zkey", mpc=new, delta_g1=forged.delta_after,
             delta_g2=curve.g2_mul(curve.G2_GENERATOR, k))
    res = ceremony.verify_zkey(cs, d / "pp.ptau", d / "forged.zkey")
    assert not res.ok and "contribution #2" in res.reason and "deltaAfter" in res.reason
    # a contribution whose proof of knowledge is broken
    bad_pok = replace(last, g1_sx=curve.g1_mul(last.g1_sx, 2))
    new = ZkeyMpcParams(mpc.cs_hash, (*mpc.contributions[:-1], bad_pok.encode()))
    _rewrite(d / "k2.zkey", d / "forged2.zkey", mpc=new)
    res = ceremony.verify_zkey(cs, d / "pp.ptau", d / "forged2.zkey")
    assert not res.ok and "contribution #2" in res.reason and "transcript" in res.reason


def test_wrong_circuit_fails(chain):
    d, cs, *_ = chain
    other = compile(Chain2(n=9))  # same shape, other coefficients
    assert (other.n_wires, other.n_constraints) == (cs.n_wires, cs.n_constraints)
    res = ceremony.verify_zkey(other, d / "pp.ptau", d / "k3.zkey")
    assert not res.ok and "circuit hash mismatch" in res.reason
    res = ceremony.verify_zkey(compile(Chain(n=3)), d / "pp.ptau", d / "k3.zkey")
    assert not res.ok and "different circuit parameters" in res.reason


def test_tampered_h_and_l_fail(chain):
    d, cs, *_ = chain
    pk = read_zkey(d / "k3.zkey", keep_encoded=True)
    for sid, nm in ((9, "H"), (8, "L")):
        arr = ceremony._arr_g1(pk.encoded[sid])
        arr[0] = kernels.g1_points_to_array([curve.g1_mul(curve.G1_GENERATOR, 5)])[0]
        _rewrite(d / "k3.zkey", d / f"bad{sid}.zkey", encoded={**pk.encoded, sid: arr.tobytes()})
        res = ceremony.verify_zkey(cs, d / "pp.ptau", d / f"bad{sid}.zkey")
        assert not res.ok and f"section {sid} ({nm})" in res.reason


def test_tampered_a_section_fails(chain):
    d, cs, *_ = chain
    pk = read_zkey(d / "k3.zkey", keep_encoded=True)
    arr = ceremony._arr_g1(pk.encoded[5])
    arr[[1, 2]] = arr[[2, 1]]
    _rewrite(d / "k3.zkey", d / "bad5.zkey", encoded={**pk.encoded, 5: arr.tobytes()})
    res = ceremony.verify_zkey(cs, d / "pp.ptau", d / "bad5.zkey")
    assert not res.ok and "section 5 (A)" in res.reason


@pytest.mark.parametrize("group", [1, 2])
def test_glv_split_and_endomorphism(group):
    """The endomorphism's eigenvalue (checked on the generator inside _endo) holds for other points,
    G2's psi agrees with zkmargin.curve.g2_psi, and split() gives short halves of every scalar."""
    e = ceremony._endo(group)
    assert e is not None
    rng = random.Random(group)
    for k in [1, R - 1, (1 << 253) + 5, *(rng.randrange(R) for _ in range(200))]:
        k1, k2 = e.split(k)
        assert (k1 + k2 * e.lam - k) % R == 0 and abs(k1) < 1 << 128 and abs(k2) < 1 << 128
    if group == 2:
        p = curve.g2_mul(curve.G2_GENERATOR, 987654321)
        assert curve.g2_psi(p) == curve.g2_mul(p, e.lam)
    else:
        p = curve.g1_mul(curve.G1_GENERATOR, 987654321)
        beta = kernels._limbs_to_ints(kernels._from_mont(e.consts.reshape(-1, 4)[:1], Q))[0]
        assert curve.g1_mul(p, e.lam) == (beta * p[0] % Q, p[1])
    # every GLV entry kind through the kernel: signs of k1, k2 and a negated base
    gen = curve.G1_GENERATOR if group == 1 else curve.G2_GENERATOR
    mul = curve.g1_mul if group == 1 else curve.g2_mul
    to_arr = kernels.g1_points_to_array if group == 1 else kernels.g2_points_to_array
    from_arr = kernels.g1_points_from_array if group == 1 else kernels.g2_points_from_array
    pts = [mul(gen, rng.randrange(1, R)) for _ in range(40)]
    ks = [rng.randrange(R) for _ in range(40)]
    scal, flags = ceremony._encode_scalars(ks, group)
    assert {int(f) & 0b0110 for f in flags} >= {2, 6}  # GLV entries with both signs of k1
    got = from_arr(ceremony._combine(to_arr(pts), np.arange(40), np.arange(40), ks, 40))
    assert got == [mul(p, k) for p, k in zip(pts, ks, strict=True)]


def test_forged_lagrange_section_is_rejected(toy, tmp_path):
    """A prepared ptau whose Lagrange points are valid curve points but not the inverse DFT of its
    powers (two points swapped) is refused by setup, naming the section and block."""
    d, cs, _ = toy
    pp = read_ptau(d / "pp.ptau")
    secs = {sid: bytes(pp.section(sid)) for sid in (2, 3, 4, 5, 6, 7, 12, 13, 14, 15)}
    for sid in (12, 14, 13):
        size = 128 if sid == 13 else 64
        b = bytearray(secs[sid])
        off = (16 - 1) * size  # the 16-point block
        b[off : off + size], b[off + size : off + 2 * size] = b[off + size : off + 2 * size], b[off : off + size]
        bad = {**secs, sid: bytes(b)}
        write_ptau(tmp_path / f"forged{sid}.ptau", 4, bad)
        with pytest.raises(Exception, match=rf"section {sid} .*block of 16 points is not the Lagrange basis"):
            ceremony.setup_from_ptau(cs, tmp_path / f"forged{sid}.ptau")
