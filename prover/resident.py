"""The resident prover's server: ``python -m zkmargin.prover.resident [--idle-timeout S]``.

Started in the background by ``zkmargin prover start`` (:mod:`zkmargin.cli_prover`); the client side
and the wire format are in :mod:`zkmargin.resident`. The process

1. takes an exclusive ``flock`` on ``prover.lock`` in the user's runtime folder (a second server
   exits with status 3; the lock dies with the process, so a server killed with -9 leaves a
   socket that the next server, or ``zkmargin prover start``, knows to be stale and removes);
2. imports the prover and loads numba's cached kernels by running the CLI's own ``prove`` (and
   the numba pairing of its self-check) on a tiny circuit;
3. binds ``prover.sock`` (0600 in a 0700 folder), writes ``prover.json`` (pid, build, start time),
   and serves one connection at a time until it has been idle ``--idle-timeout`` seconds, a
   ``stop`` request or SIGTERM; then removes the socket and ``prover.json``.

A ``prove`` request carries the client's argv, working folder, umask, zkmargin build and
``ZKMARGIN_*``/``NUMBA_*`` variables. A request of another build or environment is refused (the
client proves in-process); otherwise the server runs ``zkmargin prove ARGV --no-resident``
through :data:`zkmargin.cli.main` in the client's folder, with stdout and stderr streamed back
as they are written, and answers the exit status. Parsed ``.zkey`` files are kept
(:class:`KeyCache`, keyed by path, device, inode, size, mtime and ctime: a changed key is re-read).
The self-check runs with the numba pairing (its kernels are loaded here; the CLI process picks
the pure-Python pairing for one proof only because loading numba costs more than the check),
unless the client set ``ZKMARGIN_VERIFY_BACKEND``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from zkmargin import resident as rs

__all__ = ["KeyCache", "Server", "DEFAULT_IDLE_TIMEOUT_S", "main"]

logger = logging.getLogger(__name__)

#: Exit after this long without a request (seconds; ``zkmargin prover start --idle-timeout``).
DEFAULT_IDLE_TIMEOUT_S = 1800.0

#: Parsed keys kept (least recently used dropped first).
MAX_KEYS = 4

#: Exit status of a server that finds another one holding the lock.
ALREADY_RUNNING = 3


class KeyCache:
    """Parsed proving keys by (absolute path, device, inode, size, mtime_ns, ctime_ns).

    The stat is taken before the key is read, so a key changed while it is read is re-read the next
    time. Installed as :data:`zkmargin.cli_perf.zkey_cache`.
    """

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._keys: OrderedDict[str, tuple[tuple[int, ...], Any, dict[str, Any]]] = OrderedDict()
        self.loads = 0
        self.hits = 0

    def __call__(self, path: Path, load: Callable[[Path], Any]) -> Any:
        ap = os.path.abspath(path)
        st = os.stat(ap)
        stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        hit = self._keys.get(ap)
        if hit is not None and hit[0] == stamp:
            self._keys.move_to_end(ap)
            hit[2]["hits"] += 1
            self.hits += 1
            return hit[1]
        self._keys.pop(ap, None)
        pk = load(path)
        self.loads += 1
        self._keys[ap] = (stamp, pk, {"path": ap, "size": st.st_size, "loaded": time.time(), "hits": 0})
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return pk

    def describe(self) -> list[dict[str, Any]]:
        return [dict(meta) for _s, _pk, meta in self._keys.values()]


class _Frames(io.TextIOBase):
    """A text stream whose writes go to the client as ``{"out"|"err": text}`` messages."""

    def __init__(self, conn: socket.socket, key: str, lock: threading.Lock) -> None:
        self._conn, self._key, self._lock = conn, key, lock
        self.dead = False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, s: str) -> int:
        if not isinstance(s, str):  # click probes streams with write(b""): this one is text only
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if s and not self.dead:
            try:
                with self._lock:
                    rs.send_msg(self._conn, {self._key: s})
            except OSError:
                self.dead = True  # the client went away: finish the command quietly
        return len(s)


@contextlib.contextmanager
def _request_context(cwd: str, umask: int, conn: socket.socket, verify_backend: str | None) -> Iterator[None]:
    """The client's folder and umask, stdout/stderr to the client, a fresh logging setup; all restored after."""
    from zkmargin.verifier import groth16_verify

    lock = threading.Lock()
    saved_cwd, saved_streams = os.getcwd(), (sys.stdout, sys.stderr)
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_vb = os.environ.get("ZKMARGIN_VERIFY_BACKEND")
    os.chdir(cwd)
    saved_umask = os.umask(umask)
    root.handlers.clear()  # the command's logging.basicConfig binds to the client's stderr
    if verify_backend is not None:
        os.environ["ZKMARGIN_VERIFY_BACKEND"] = verify_backend
    groth16_verify.fast_backend.cache_clear()
    sys.stdout, sys.stderr = _Frames(conn, "out", lock), _Frames(conn, "err", lock)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved_streams
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        os.umask(saved_umask)
        os.chdir(saved_cwd)
        if saved_vb is None:
            os.environ.pop("ZKMARGIN_VERIFY_BACKEND", None)
        else:
            os.environ["ZKMARGIN_VERIFY_BACKEND"] = saved_vb
        groth16_verify.fast_backend.cache_clear()


def _run_cli(argv: list[str], prog: str = "zkmargin") -> int:
    """``PROG ARGV`` through the click group, as the console script runs it; its exit status."""
    from zkmargin.cli import main as cli_main

    try:
        cli_main.main(args=argv, prog_name=prog, standalone_mode=True)
    except SystemExit as e:
        if e.code is None:
            return 0
        if isinstance(e.code, int):
            return e.code
        print(e.code, file=sys.stderr)
        return 1
    except BaseException:  # what the interpreter would print for an uncaught exception
        traceback.print_exc()
        return 1
    return 0


def _prove_argv(argv: Any) -> list[str] | None:
    """The request's argv if it is ``[-v...] prove ...`` of strings; with ``--no-resident`` appended."""
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return None
    i = 0
    while i < len(argv) and argv[i] in ("-v", "-vv", "-vvv", "--verbose"):
        i += 1
    if i >= len(argv) or argv[i] != "prove" or "--" in argv:
        return None
    return [*argv, "--no-resident"]


class Server:
    """One resident prover: the lock, the warm-up, the socket, the request loop."""

    def __init__(self, idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S, warm: bool = True) -> None:
        self.idle_timeout = idle_timeout
        self.warm = warm
        self.dir = rs.runtime_dir(create=True)
        self.sock_path = rs.socket_path(self.dir)
        self.build = rs.build_id()
        self.env = rs.env_fingerprint()
        self.keys = KeyCache()
        self.started = time.time()
        self.requests = 0
        self.last = time.monotonic()
        self._lock_fh: Any = None
        self._stop = False
        self._busy = False

    # --- life cycle ---

    def acquire(self) -> bool:
        """The exclusive lock (False: another server holds it); the pid goes into the lock file."""
        fd = os.open(rs.lock_path(self.dir), os.O_RDWR | os.O_CREAT, 0o600)
        fh = os.fdopen(fd, "r+")
        for attempt in range(20):  # `zkmargin prover status` holds it for an instant to see whether it is free
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == 19:
                    fh.close()
                    return False
                time.sleep(0.05)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._lock_fh = fh
        return True

    def warm_up(self) -> None:
        """Import the prover, load its kernels and the numba pairing's, through the CLI's own prove."""
        t = time.perf_counter()
        import warnings

        from zkmargin import cli_perf
        from zkmargin.circuits import build
        from zkmargin.circuits.margin.cross_simple import CrossMarginSimple
        from zkmargin.prover import setup
        from zkmargin.serialize import write_wtns, write_zkey

        with contextlib.suppress(ImportError):  # the margin and attested flows' modules, ahead of time
            import zkmargin.circuits.margin  # noqa: F401
            import zkmargin.margin  # noqa: F401
        inputs = {"threshold": 1000, "asset_prices": [2000], "haircuts": [500], "marks": [100], "rates": [1000],
                  "amounts": [50], "sizes": [-3], "entries": [90]}
        cs, w = build(CrossMarginSimple(n_positions=1, n_assets=1, **inputs))  # type: ignore[arg-type]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pk, _vk = setup(cs)
        with tempfile.TemporaryDirectory(prefix="zkmargin-resident-warm-") as d:
            write_zkey(pk, Path(d) / "w.zkey")
            write_wtns(w, Path(d) / "w.wtns")
            devnull = open(os.devnull, "w")  # noqa: SIM115
            with devnull, contextlib.redirect_stdout(devnull), contextlib.redirect_stderr(devnull):
                saved = cli_perf.zkey_cache
                cli_perf.zkey_cache = None
                os.environ.setdefault("ZKMARGIN_VERIFY_BACKEND", "numba")
                try:
                    for _ in range(2):
                        rc = _run_cli(["prove", "--witness", f"{d}/w.wtns", "--zkey", f"{d}/w.zkey", "--proof",
                                       f"{d}/p.json", "--public", f"{d}/q.json", "--no-resident"])
                finally:
                    cli_perf.zkey_cache = saved
                    if "ZKMARGIN_VERIFY_BACKEND" not in self.env:
                        os.environ.pop("ZKMARGIN_VERIFY_BACKEND", None)
            if rc != 0:
                raise RuntimeError(f"the warm-up prove exited with status {rc}")
        logger.info("warm in %.2fs", time.perf_counter() - t)

    def bind(self) -> socket.socket:
        with contextlib.suppress(FileNotFoundError):
            self.sock_path.unlink()  # we hold the lock: a socket here is a dead server's
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            srv.bind(str(self.sock_path))
        finally:
            os.umask(old)
        os.chmod(self.sock_path, 0o600)
        srv.listen(16)
        info = self.info()
        tmp = rs.info_path(self.dir).with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=1) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, rs.info_path(self.dir))
        return srv

    def info(self) -> dict[str, Any]:
        import zkmargin

        return {"pid": os.getpid(), "version": zkmargin.__version__, "build": self.build, "started": self.started,
                "uptime_s": time.time() - self.started, "idle_timeout_s": self.idle_timeout,
                "idle_s": time.monotonic() - self.last, "requests": self.requests, "socket": str(self.sock_path),
                "python": sys.executable, "keys": self.keys.describe(), "key_loads": self.keys.loads,
                "key_hits": self.keys.hits, "env": self.env}

    def cleanup(self) -> None:
        for p in (self.sock_path, rs.info_path(self.dir)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def run(self) -> int:
        if not self.acquire():
            print(f"zkmargin: a resident prover already runs (lock {rs.lock_path(self.dir)} is held)", file=sys.stderr)
            return ALREADY_RUNNING
        try:
            if self.warm:
                self.warm_up()
            from zkmargin import cli_perf

            cli_perf.zkey_cache = self.keys
            srv = self.bind()
            print(f"resident prover {os.getpid()} ready on {self.sock_path} (build {self.build})", flush=True)
            with srv:
                self._loop(srv)
            return 0
        finally:
            self.cleanup()
            if self._lock_fh is not None:
                self._lock_fh.close()

    def _loop(self, srv: socket.socket) -> None:
        self.last = time.monotonic()
        while not self._stop:
            left = self.last + self.idle_timeout - time.monotonic()
            if left <= 0:
                print(f"idle for {self.idle_timeout:g}s: exiting", flush=True)
                return
            srv.settimeout(min(left, 60.0))
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            except InterruptedError:  # pragma: no cover - PEP 475 retries; a handler may raise SystemExit
                continue
            with conn:
                self._busy = True
                try:
                    self._handle(conn)
                except (OSError, ValueError, rs.ResidentError) as e:
                    print(f"request failed: {e}", flush=True)
                finally:
                    self._busy = False
            self.last = time.monotonic()

    def _handle(self, conn: socket.socket) -> None:
        uid = rs.peer_uid(conn)
        if uid is not None and uid != os.getuid():
            print(f"refused a connection from uid {uid}", flush=True)
            return
        conn.settimeout(60.0)
        req = rs.recv_msg(conn)
        op = req.get("op") if isinstance(req, dict) else None
        if op in ("ping", "status"):
            rs.send_msg(conn, self.info())
        elif op == "stop":
            self._stop = True
            rs.send_msg(conn, {"stopping": os.getpid()})
        elif op == "prove":
            self._prove(conn, req)
        else:
            rs.send_msg(conn, {"refused": f"unknown request {op!r}"})

    def _prove(self, conn: socket.socket, req: dict[str, Any]) -> None:
        if req.get("build") != self.build:
            rs.send_msg(conn, {"refused": f"it runs zkmargin {self.build}, this command is {req.get('build')} "
                                          "(`zkmargin prover stop` then `start` to replace it)"})
            return
        if req.get("env") != self.env:
            rs.send_msg(conn, {"refused": f"it was started with other ZKMARGIN_/NUMBA_ variables ({self.env} here, "
                                          f"{req.get('env')} in this command)"})
            return
        argv = _prove_argv(req.get("argv"))
        cwd, umask, prog = req.get("cwd"), req.get("umask"), req.get("prog", "zkmargin")
        if (argv is None or not isinstance(cwd, str) or not isinstance(umask, int) or not os.path.isdir(cwd)
                or not isinstance(prog, str) or not 0 < len(prog) < 256):
            rs.send_msg(conn, {"refused": "a malformed prove request"})
            return
        self.requests += 1
        t = time.perf_counter()
        vb = None if "ZKMARGIN_VERIFY_BACKEND" in self.env else "numba"
        with _request_context(cwd, umask & 0o777, conn, vb):
            code = _run_cli(argv, prog)
        print(f"prove #{self.requests} exit {code} in {time.perf_counter() - t:.3f}s: {' '.join(argv)}", flush=True)
        rs.send_msg(conn, {"exit": code})


class _Terminate(BaseException):
    """SIGTERM or SIGINT while the server waits for a connection."""


_SERVER: Server | None = None


def _on_term(_sig: int, _frame: Any) -> None:
    """Stop: at once when idle; after the request in progress otherwise (an exception raised inside the
    command would end it half-way, and the client would be told a status it never had)."""
    if _SERVER is not None and _SERVER._busy:
        _SERVER._stop = True
        return
    raise _Terminate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zkmargin.prover.resident", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT_S,
                    help=f"exit after this many seconds without a request (default {DEFAULT_IDLE_TIMEOUT_S:g})")
    ap.add_argument("--no-warm", action="store_true", help="skip the warm-up prove (tests)")
    a = ap.parse_args(argv)
    global _SERVER
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stdout)
    _SERVER = Server(a.idle_timeout, warm=not a.no_warm)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    try:
        return _SERVER.run()
    except _Terminate:
        print("terminated by a signal", flush=True)
        return 0


if __name__ == "__main__":
    sys.exit(main())
