"""The resident prover (``zkmargin prover start|stop|status``, zkmargin.resident, zkmargin.prover.resident).

A real server over its Unix socket, in a private runtime folder per test module (ZKMARGIN_RUNTIME_DIR;
ZKMARGIN_RESIDENT=1 because the client stays away from servers inside pytest otherwise); every
command runs in a subprocess with a timeout and every server is stopped (or killed) at the end.
Checked: a proof made by the server verifies and has the in-process path's public inputs and
messages; the server really served it (its request count); a changed .zkey is re-read; a bad
witness or a truncated file gives the in-process message and exit status; a client of another
environment is refused and proves in-process; the client imports neither numba nor numpy; a
second start is refused; folder, socket and pid file are private; a server killed with -9 makes
the client fall back and ``start`` clean the stale socket; an idle server exits by itself.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from zkmargin import resident as rs

CLI = "from zkmargin.resident import console_main; console_main()"  # the console script
INPUT = {"threshold": 1000, "asset_prices": [2000], "haircuts": [500], "marks": [100], "rates": [1000],
         "amounts": [50], "sizes": [-3], "entries": [90]}
CIRCUIT = ["cross-simple", "-p", "n_positions=1", "-p", "n_assets=1"]


def _env(rt: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONSAFEPATH="1", ZKMARGIN_RUNTIME_DIR=str(rt), ZKMARGIN_RESIDENT="1", **extra)
    return env


def _zk(rt: Path, *args: str, cwd: Path | None = None, timeout: float = 300,
        **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-P", "-c", CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env=_env(rt, **extra), cwd=cwd)


def _status(rt: Path) -> dict[str, Any]:
    with rs.connect(rt / "prover.sock", timeout=10) as s:
        rs.send_msg(s, {"op": "status"})
        ans = rs.recv_msg(s)
    assert isinstance(ans, dict)
    return ans


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of ours counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    """c.zkey / vk.json and a second key for the same circuit (other.zkey / other_vk.json), w.wtns."""
    import warnings

    from zkmargin.circuits import build
    from zkmargin.circuits.margin.cross_simple import CrossMarginSimple
    from zkmargin.prover import setup
    from zkmargin.serialize import write_verifying_key, write_wtns, write_zkey

    d = tmp_path_factory.mktemp("resident")
    cs, w = build(CrossMarginSimple(n_positions=1, n_assets=1, **INPUT))  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("c", "other"):
            pk, vk = setup(cs)
            write_zkey(pk, d / f"{name}.zkey")
            write_verifying_key(vk, d / ("vk.json" if name == "c" else "other_vk.json"))
    write_wtns(w, d / "w.wtns")
    (d / "input.json").write_text(json.dumps(INPUT))
    return d


def _start(rt: Path, *extra: str) -> tuple[subprocess.CompletedProcess, int]:
    p = _zk(rt, "prover", "start", *extra, timeout=600)
    assert p.returncode == 0, p.stderr + p.stdout
    return p, int(json.loads((rt / "prover.json").read_text())["pid"])


def _shutdown(rt: Path) -> None:
    info = rt / "prover.json"
    pid = int(json.loads(info.read_text())["pid"]) if info.is_file() else None
    try:
        _zk(rt, "prover", "stop", timeout=60)
    finally:
        if pid is not None and not _wait_gone(pid, 10):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(rt, ignore_errors=True)


@pytest.fixture(scope="module")
def module_server(keys) -> Iterator[Path]:
    """A resident prover in its own runtime folder (short: a socket path has at most 107 bytes)."""
    rt = Path(tempfile.mkdtemp(prefix="zkr-"))
    _start(rt, "--idle-timeout", "300")
    try:
        yield rt
    finally:
        _shutdown(rt)


@pytest.fixture
def server(module_server) -> Path:
    """The module's server, started again if the sources changed since it started (another build: the
    client would not use it; this happens when the checkout is edited while the tests run)."""
    if _status(module_server)["build"] != rs.build_id():
        assert _zk(module_server, "prover", "stop", timeout=60).returncode == 0
        _start(module_server, "--idle-timeout", "300")
    return module_server


def _verify(vk: Path, public: Path, proof: Path) -> bool:
    from zkmargin.serialize import load_proof, load_public_inputs, load_verifying_key
    from zkmargin.verifier import verify

    return verify(load_verifying_key(vk), load_public_inputs(public), load_proof(proof))


def _lines_without_timing(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if not ln.startswith("proved in ")]


def test_a_proof_from_the_server_verifies_and_matches_the_in_process_path(server, keys, tmp_path):
    before = _status(server)["requests"]
    runs = {}
    for mode in ("resident", "inproc"):
        out = tmp_path / mode
        out.mkdir()
        extra = ["--no-resident"] if mode == "inproc" else []
        p = _zk(server, "prove", "--witness", str(keys / "w.wtns"), "--zkey", str(keys / "c.zkey"),
                "--proof", "proof.json", "--public", "public.json", *extra, cwd=out)
        assert p.returncode == 0, p.stderr
        assert "proving in-process" not in p.stderr
        assert _verify(keys / "vk.json", out / "public.json", out / "proof.json")
        runs[mode] = p
    assert _status(server)["requests"] == before + 1  # the first run was the server's, the second not
    assert json.loads((tmp_path / "resident" / "public.json").read_text()) == \
        json.loads((tmp_path / "inproc" / "public.json").read_text())
    assert (tmp_path / "resident" / "proof.json").read_text() != (tmp_path / "inproc" / "proof.json").read_text()
    assert _lines_without_timing(runs["resident"].stdout) == _lines_without_timing(runs["inproc"].stdout)
    assert runs["resident"].stdout.startswith("proved in ")
    # a relative --proof lands in the client's folder, never the server's
    assert not (server / "proof.json").exists()


def test_the_circuit_flow_runs_in_the_server_with_the_same_files(server, keys, tmp_path):
    before = _status(server)["requests"]
    for mode, extra in (("resident", []), ("inproc", ["--no-resident"])):
        out = tmp_path / mode
        out.mkdir()
        p = _zk(server, "prove", *CIRCUIT, "--input", str(keys / "input.json"), "--zkey", str(keys / "c.zkey"),
                "--save-witness", "saved.wtns", *extra, cwd=out)
        assert p.returncode == 0, p.stderr
        assert _verify(keys / "vk.json", out / "public.json", out / "proof.json")
    assert _status(server)["requests"] == before + 1
    assert (tmp_path / "resident" / "saved.wtns").read_bytes() == (tmp_path / "inproc" / "saved.wtns").read_bytes()
    assert (tmp_path / "resident" / "public.json").read_text() == (tmp_path / "inproc" / "public.json").read_text()


def test_a_changed_zkey_is_read_again(server, keys, tmp_path):
    zkey = tmp_path / "k.zkey"
    shutil.copyfile(keys / "c.zkey", zkey)
    args = ["prove", "--witness", str(keys / "w.wtns"), "--zkey", str(zkey), "--proof", "p.json", "--public", "q.json"]
    assert _zk(server, *args, cwd=tmp_path).returncode == 0
    loads = _status(server)["key_loads"]
    assert _zk(server, *args, cwd=tmp_path).returncode == 0
    st = _status(server)
    assert st["key_loads"] == loads  # unchanged: kept
    assert any(k["path"] == str(zkey) and k["hits"] >= 1 for k in st["keys"])
    assert _verify(keys / "vk.json", tmp_path / "q.json", tmp_path / "p.json")
    # the other key of the same circuit, written in place (same size, same inode): a proof for it
    os.chmod(zkey, 0o644)
    data = (keys / "other.zkey").read_bytes()
    assert len(data) == zkey.stat().st_size
    with open(zkey, "r+b") as fh:
        fh.write(data)
    p = _zk(server, *args, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert _status(server)["key_loads"] == loads + 1
    assert _verify(keys / "other_vk.json", tmp_path / "q.json", tmp_path / "p.json")
    assert not _verify(keys / "vk.json", tmp_path / "q.json", tmp_path / "p.json")


@pytest.mark.parametrize("damage", ["flipped", "truncated"])
def test_a_bad_witness_gives_the_in_process_message_and_status(server, keys, tmp_path, damage):
    data = bytearray((keys / "w.wtns").read_bytes())
    if damage == "flipped":
        data[-5] ^= 1  # a witness value: the self-check refuses the proof (exit 1)
    else:
        data = data[:100]  # the reader refuses the file (exit 2)
    (tmp_path / "bad.wtns").write_bytes(bytes(data))
    before = _status(server)["requests"]
    res = {}
    for extra in ([], ["--no-resident"]):
        res[bool(extra)] = _zk(server, "prove", "--witness", "bad.wtns", "--zkey", str(keys / "c.zkey"), *extra,
                               cwd=tmp_path)
    assert _status(server)["requests"] == before + 1
    assert res[False].returncode == res[True].returncode == (1 if damage == "flipped" else 2)
    assert res[False].stderr == res[True].stderr
    assert res[False].stdout == res[True].stdout == ""
    assert not (tmp_path / "proof.json").exists()


def test_a_client_with_another_environment_proves_in_process(server, keys, tmp_path):
    before = _status(server)["requests"]
    p = _zk(server, "prove", "--witness", str(keys / "w.wtns"), "--zkey", str(keys / "c.zkey"), cwd=tmp_path,
            ZKMARGIN_TEST_OTHER_SETTING="1")
    assert p.returncode == 0, p.stderr
    assert "resident prover not used: it was started with other ZKMARGIN_/NUMBA_ variables" in p.stderr
    assert _status(server)["requests"] == before
    assert _verify(keys / "vk.json", tmp_path / "public.json", tmp_path / "proof.json")


_IMPORTS = """
import sys
from zkmargin.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {"numba", "numpy", "galois", "llvmlite", "py_ecc"})
    print("LOADED", heavy, "EXIT", e.code)
"""


def test_the_command_s_own_path_imports_neither_numba_nor_numpy(server, keys, tmp_path):
    # zkmargin.cli.main (not the console script): prove_cmd asks the server after click parsed the options
    before = _status(server)["requests"]
    p = subprocess.run([sys.executable, "-P", "-c", _IMPORTS, "-v", "prove", "--witness", str(keys / "w.wtns"),
                        "--zkey", str(keys / "c.zkey")], capture_output=True, text=True, timeout=120,
                       env=_env(server), cwd=tmp_path)
    assert p.stdout.strip().endswith("LOADED [] EXIT 0"), p.stdout + p.stderr
    assert _status(server)["requests"] == before + 1
    assert "INFO zkmargin.cli: self-check True" in p.stderr  # -v reached the server's run of the command


_CONSOLE = """
import sys
from zkmargin.resident import console_main
try:
    console_main()
except SystemExit as e:
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {"numba", "numpy", "click", "py_ecc"})
    print("LOADED", heavy, "EXIT", e.code)
"""


def test_the_console_script_forwards_a_prove_before_importing_click(server, keys, tmp_path):
    before = _status(server)["requests"]
    p = subprocess.run([sys.executable, "-P", "-c", _CONSOLE, "prove", "--witness", str(keys / "w.wtns"),
                        "--zkey", str(keys / "c.zkey"), "--proof", "p.json"], capture_output=True, text=True,
                       timeout=120, env=_env(server), cwd=tmp_path)
    assert p.stdout.strip().endswith("LOADED [] EXIT 0"), p.stdout + p.stderr
    assert _status(server)["requests"] == before + 1
    assert _verify(keys / "vk.json", tmp_path / "public.json", tmp_path / "p.json")
    # a usage error comes from the server's click, as it would in-process: same text, same status
    res = [_zk(server, "prove", "--witness", str(keys / "w.wtns"), *extra, cwd=tmp_path)
           for extra in ([], ["--no-resident"])]
    assert res[0].returncode == res[1].returncode == 2
    assert res[0].stderr == res[1].stderr and "Missing option '--zkey'" in res[0].stderr
    assert _status(server)["requests"] == before + 2


def test_only_a_prove_of_a_builtin_circuit_or_a_file_is_forwarded():
    from zkmargin.cli import BUILTIN_CIRCUITS

    assert rs.BUILTIN_CIRCUIT_NAMES == set(BUILTIN_CIRCUITS)
    w = ["--witness", "w.wtns", "--zkey", "c.zkey"]
    assert rs.forwardable(["prove", *w])
    assert rs.forwardable(["-v", "-v", "prove", *w, "--no-self-check", "--proof=p.json"])
    assert rs.forwardable(["prove", "cross-simple", "-p", "n_positions=1", "-pn_assets=1", "--input", "i.json"])
    assert rs.forwardable(["prove", "--model", "m.json", "--threshold", "1.05", "--zkey", "c.zkey"])
    assert not rs.forwardable(["prove", "mypkg.mod:Circuit", "--input", "i.json", "--zkey", "c.zkey"])
    assert not rs.forwardable(["prove", "-p", "n=1", "mypkg.mod:Circuit"])
    for bad in (["prove", *w, "--no-resident"], ["prove", "--help"], ["prove", "-h"], ["verify", "vk.json"],
                ["prover", "status"], [], ["--version"], ["prove", "--", "cross-simple"]):
        assert not rs.forwardable(bad), bad


def test_a_second_start_is_refused(server):
    pid = _status(server)["pid"]
    p = _zk(server, "prover", "start", timeout=60)
    assert p.returncode == 1
    assert f"a resident prover already runs (pid {pid}" in p.stderr
    assert _status(server)["pid"] == pid


def test_status_names_the_server_and_its_keys(server, keys, tmp_path):
    _zk(server, "prove", "--witness", str(keys / "w.wtns"), "--zkey", str(keys / "c.zkey"), cwd=tmp_path)
    p = _zk(server, "prover", "status", timeout=60)
    assert p.returncode == 0, p.stderr
    st = _status(server)
    assert f"resident prover running: pid {st['pid']}, zkmargin {rs.build_id()}" in p.stdout
    assert "keys cached" in p.stdout and str(keys / "c.zkey") in p.stdout


def test_folder_socket_and_files_are_private(server):
    assert stat.S_IMODE(os.stat(server).st_mode) == 0o700
    for name in ("prover.sock", "prover.json", "prover.lock", "prover.log"):
        st = os.stat(server / name)
        assert stat.S_IMODE(st.st_mode) == 0o600, name
        assert st.st_uid == os.getuid()
    assert stat.S_ISSOCK(os.stat(server / "prover.sock").st_mode)


def test_an_open_runtime_folder_is_refused(keys, tmp_path):
    rt = Path(tempfile.mkdtemp(prefix="zkr-"))
    try:
        os.chmod(rt, 0o755)
        p = _zk(rt, "prover", "start", timeout=60)
        assert p.returncode == 2
        assert "mode 755, expected 700" in p.stderr
        (rt / "prover.sock").touch()  # the client does not trust it either: proves in-process, says why
        p = _zk(rt, "prove", "--witness", str(keys / "w.wtns"), "--zkey", str(keys / "c.zkey"), cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert "resident prover not used" in p.stderr and "mode 755" in p.stderr
    finally:
        shutil.rmtree(rt, ignore_errors=True)


def test_without_a_server_prove_runs_in_process_silently(keys, tmp_path):
    rt = Path(tempfile.mkdtemp(prefix="zkr-"))
    try:
        p = _zk(rt, "prove", "--witness", str(keys / "w.wtns"), "--zkey", str(keys / "c.zkey"), cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert "resident" not in p.stderr
        assert _verify(keys / "vk.json", tmp_path / "public.json", tmp_path / "proof.json")
        p = _zk(rt, "prover", "status", timeout=60)
        assert p.returncode == 1 and "no resident prover running" in p.stdout
        p = _zk(rt, "prover", "stop", timeout=60)
        assert p.returncode == 0 and "no resident prover running" in p.stdout
    finally:
        shutil.rmtree(rt, ignore_errors=True)


@pytest.mark.slow
def test_a_killed_server_makes_the_client_fall_back_and_start_cleans_its_socket(keys, tmp_path):
    rt = Path(tempfile.mkdtemp(prefix="zkr-"))
    try:
        _, pid = _start(rt, "--idle-timeout", "120")
        os.kill(pid, signal.SIGKILL)
        assert _wait_gone(pid, 10)
        assert (rt / "prover.sock").exists()  # what kill -9 leaves
        p = _zk(rt, "prove", "--witness", str(keys / "w.wtns"), "--zkey", str(keys / "c.zkey"), cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert "the resident prover is not running (stale socket" in p.stderr and "proving in-process" in p.stderr
        assert _verify(keys / "vk.json", tmp_path / "public.json", tmp_path / "proof.json")
        st = _zk(rt, "prover", "status", timeout=60)
        assert st.returncode == 1 and "stale socket" in st.stdout
        p, pid2 = _start(rt, "--idle-timeout", "120")
        assert "removed what a stopped server left: prover.sock, prover.json (pid " in p.stderr
        assert pid2 != pid and _status(rt)["pid"] == pid2
        p = _zk(rt, "prove", "--witness", str(keys / "w.wtns"), "--zkey", str(keys / "c.zkey"), cwd=tmp_path)
        assert p.returncode == 0 and "proving in-process" not in p.stderr
        assert _status(rt)["requests"] == 1
        stop = _zk(rt, "prover", "stop", timeout=60)
        assert stop.returncode == 0 and f"resident prover stopped (pid {pid2})" in stop.stdout
        assert _wait_gone(pid2, 10)
        assert not (rt / "prover.sock").exists() and not (rt / "prover.json").exists()
    finally:
        _shutdown(rt)


@pytest.mark.slow
def test_an_idle_server_exits_by_itself(tmp_path):
    rt = Path(tempfile.mkdtemp(prefix="zkr-"))
    try:
        _, pid = _start(rt, "--idle-timeout", "3")
        assert _wait_gone(pid, 60), "the server did not exit after its idle timeout"
        assert not (rt / "prover.sock").exists() and not (rt / "prover.json").exists()
        assert "idle for 3s: exiting" in (rt / "prover.log").read_text()
    finally:
        _shutdown(rt)


def test_the_key_cache_reads_a_changed_file_again(tmp_path):
    from zkmargin.prover.resident import KeyCache

    f = tmp_path / "k.zkey"
    f.write_bytes(b"one")
    cache, reads = KeyCache(max_keys=2), []

    def load(p: Path) -> bytes:
        reads.append(p)
        return p.read_bytes()

    assert cache(f, load) == b"one" and cache(f, load) == b"one" and len(reads) == 1
    st = f.stat()
    time.sleep(0.05)  # past the file system's clock tick
    f.write_bytes(b"two")  # same size; mtime put back: the ctime still differs
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cache(f, load) == b"two" and len(reads) == 2
    g = tmp_path / "g.zkey"
    g.write_bytes(b"three")
    os.replace(g, f)  # another inode
    assert cache(f, load) == b"three" and len(reads) == 3
    for name in ("a", "b"):
        (tmp_path / name).write_bytes(name.encode())
        cache(tmp_path / name, load)
    assert [k["path"] for k in cache.describe()] == [str(tmp_path / "a"), str(tmp_path / "b")]  # f dropped (LRU)


@pytest.mark.slow
def test_sigterm_stops_an_idle_server_and_removes_its_socket(tmp_path):
    rt = Path(tempfile.mkdtemp(prefix="zkr-"))
    try:
        _, pid = _start(rt, "--idle-timeout", "120")
        os.kill(pid, signal.SIGTERM)
        assert _wait_gone(pid, 30)
        assert not (rt / "prover.sock").exists() and not (rt / "prover.json").exists()
        assert "terminated by a signal" in (rt / "prover.log").read_text()
        p = _zk(rt, "prover", "status", timeout=60)
        assert p.returncode == 1 and "no resident prover running" in p.stdout and "stale" not in p.stdout
    finally:
        _shutdown(rt)


def _fake_server(rt: Path, answer: list[dict[str, Any]]) -> Any:
    """A socket in ``rt`` that answers one connection with ``answer`` (then closes it): a server that
    dies mid-request, or one that refuses."""
    import socket
    import threading

    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(rt / "prover.sock"))
    srv.listen(1)
    srv.settimeout(60)
    got: list[Any] = []

    def serve() -> None:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            got.append(rs.recv_msg(conn))
            for msg in answer:
                rs.send_msg(conn, msg)
        srv.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t, got


@pytest.mark.parametrize("case", ["dies", "refuses"])
def test_a_server_that_dies_mid_request_or_refuses_leaves_the_prove_to_this_process(keys, tmp_path, case):
    rt = Path(tempfile.mkdtemp(prefix="zkr-"))
    try:
        answer = ([{"err": "  half a line"}] if case == "dies" else [{"refused": "it is busy elsewhere"}])
        t, got = _fake_server(rt, answer)
        p = _zk(rt, "prove", "--witness", str(keys / "w.wtns"), "--zkey", str(keys / "c.zkey"), cwd=tmp_path)
        t.join(30)
        assert p.returncode == 0, p.stderr
        assert got and got[0]["op"] == "prove" and got[0]["cwd"] == str(tmp_path)
        assert got[0]["argv"] == ["prove", "--witness", str(keys / "w.wtns"), "--zkey", str(keys / "c.zkey")]
        if case == "dies":
            assert "the resident prover stopped during the request" in p.stderr
        else:
            assert "resident prover not used: it is busy elsewhere; proving in-process" in p.stderr
        assert p.stdout.startswith("proved in ")
        assert _verify(keys / "vk.json", tmp_path / "public.json", tmp_path / "proof.json")
    finally:
        shutil.rmtree(rt, ignore_errors=True)
