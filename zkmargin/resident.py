"""The resident prover's client side: where its socket lives, how to talk to it, and ``zkmargin prove``'s fast path.

A resident prover (``zkmargin prover start``; the server is :mod:`zkmargin.prover.resident`) is one
long-lived process of the same user that has imported the prover, loaded numba's cached kernels and
keeps parsed ``.zkey`` files, so a ``zkmargin prove`` does not pay for them on every run (the way
Gradle's and Bazel's daemons keep a warm JVM). It listens on a Unix domain socket in a private
per-user folder: ``$ZKMARGIN_RUNTIME_DIR``, else ``$XDG_RUNTIME_DIR/zkmargin``, else
``~/.cache/zkmargin/run`` (mode 0700, owned by the user; the socket 0600; both ends check the
peer's uid with ``SO_PEERCRED``).

This module is what ``zkmargin prove`` imports before it knows whether a server is there, so it
imports only the standard library (no numba, no numpy, no prover). The server runs the very same
``prove`` command (``--no-resident``) in its own process, in the client's working folder and under
its umask, and streams back what the command prints and its exit status: files, messages, exit
codes and the self-check are those of the in-process path. A server of another zkmargin build
(:func:`build_id`: version and a stamp of the installed sources) or environment (``ZKMARGIN_*``,
``NUMBA_*``) is not used; a dead one (a stale socket) or one that dies mid-request makes the
client prove in-process and say so on stderr.

Wire format: each message is a 4-byte big-endian length and that many bytes of UTF-8 JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["ResidentError", "runtime_dir", "socket_path", "lock_path", "info_path", "log_path", "build_id",
           "env_fingerprint", "send_msg", "recv_msg", "connect", "request", "try_prove", "console_main",
           "forwardable", "PROTOCOL", "BUILTIN_CIRCUIT_NAMES"]

#: Bumped when the messages change (part of :func:`build_id`).
PROTOCOL = 1

#: Environment variables that change what ``prove`` does: a server started under other values is not used.
_ENV_PREFIXES = ("ZKMARGIN_", "NUMBA_")
#: ...except these, which only say where the server is or whether to use it.
_ENV_IGNORED = frozenset({"ZKMARGIN_RUNTIME_DIR", "ZKMARGIN_RESIDENT"})
#: ...and these too: where a ``module:Class`` circuit is imported from.
_ENV_EXTRA = frozenset({"PYTHONPATH"})

#: The names of zkmargin.cli.BUILTIN_CIRCUITS (a test holds the two equal): a ``prove`` naming any other
#: circuit (``package.module:ClassName``) is proved in-process, with the client's own import path.
BUILTIN_CIRCUIT_NAMES = frozenset({"cross-simple"})

_MAX_MSG = 64 << 20


class ResidentError(Exception):
    """The runtime folder is unsafe, or the server answered something unexpected."""


# --- where ---------------------------------------------------------------------------------------------

def runtime_dir(create: bool = True) -> Path:
    """The private folder of this user's resident prover (created mode 0700 when ``create``).

    Raises:
        ResidentError: the folder exists but is not a folder owned by this user, or others can read or
            enter it (mode & 0o077): a socket there could be another user's.
    """
    explicit = os.environ.get("ZKMARGIN_RUNTIME_DIR")
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if explicit:
        d = Path(explicit)
    elif xdg and os.path.isdir(xdg):
        d = Path(xdg) / "zkmargin"
    else:
        d = Path.home() / ".cache" / "zkmargin" / "run"
    if create and not d.exists():
        d.parent.mkdir(parents=True, exist_ok=True)
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            pass
    if d.exists() or create:
        st = os.lstat(d)
        if not stat.S_ISDIR(st.st_mode):
            raise ResidentError(f"{d}: not a folder (the resident prover's runtime folder)")
        if st.st_uid != os.getuid():
            raise ResidentError(f"{d}: owned by uid {st.st_uid}, not by this user ({os.getuid()})")
        if st.st_mode & 0o077:
            raise ResidentError(f"{d}: mode {stat.S_IMODE(st.st_mode):o}, expected 700 (others could reach "
                                "the socket)")
    return d


def socket_path(d: Path | None = None) -> Path:
    return (d or runtime_dir(create=False)) / "prover.sock"


def lock_path(d: Path | None = None) -> Path:
    return (d or runtime_dir(create=False)) / "prover.lock"


def info_path(d: Path | None = None) -> Path:
    return (d or runtime_dir(create=False)) / "prover.json"


def log_path(d: Path | None = None) -> Path:
    return (d or runtime_dir(create=False)) / "prover.log"


# --- which build ------------------------------------------------------------------------------------

def _source_roots() -> list[str]:
    """The folders of zkmargin's import root and its mapped subpackages (found without importing them)."""
    import importlib.util

    import zkmargin

    roots = [os.path.dirname(zkmargin.__file__ or "")]
    for sub in ("prover", "circuits", "verifier"):
        spec = importlib.util.find_spec(f"zkmargin.{sub}")
        for loc in (spec.submodule_search_locations or []) if spec is not None else []:
            if not any(loc == r or loc.startswith(r + os.sep) for r in roots):  # an installed copy nests them
                roots.append(loc)
    return roots


def _walk_py(root: str) -> Iterator[os.DirEntry[str]]:
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            if e.name != "__pycache__" and not e.name.startswith("."):
                yield from _walk_py(e.path)
        elif e.name.endswith(".py"):
            yield e


def build_id() -> str:
    """``VERSION+STAMP``: zkmargin's version and a hash of every installed source file's path, size and
    mtime (a checkout edited after the server started is another build); a few milliseconds."""
    import zkmargin

    h = hashlib.blake2b(digest_size=8)
    h.update(f"{PROTOCOL}\0{sys.version}\0{sys.executable}\0".encode())
    for root in _source_roots():
        for e in sorted(_walk_py(root), key=lambda e: e.path):
            st = e.stat()
            h.update(f"{e.path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return f"{zkmargin.__version__}+{h.hexdigest()}"


def env_fingerprint(env: dict[str, str] | None = None) -> dict[str, str]:
    """The ``ZKMARGIN_*`` and ``NUMBA_*`` variables that change what a prove does."""
    env = dict(os.environ) if env is None else env
    return {k: v for k, v in sorted(env.items())
            if (k.startswith(_ENV_PREFIXES) and k not in _ENV_IGNORED) or k in _ENV_EXTRA}


# --- messages ----------------------------------------------------------------------------------------

def send_msg(sock: socket.socket, obj: Any) -> None:
    data = json.dumps(obj).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionResetError("the resident prover closed the connection")
        buf += chunk
    return bytes(buf)


def recv_msg(sock: socket.socket) -> Any:
    """One message. Raises ConnectionError when the peer closes the connection, ResidentError on a bad frame."""
    (n,) = struct.unpack(">I", _recv_exact(sock, 4))
    if n > _MAX_MSG:
        raise ResidentError(f"a message of {n} bytes from the resident prover")
    return json.loads(_recv_exact(sock, n))


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (Linux ``SO_PEERCRED``; None elsewhere)."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:
        return None
    _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i")))
    return int(uid)


def connect(path: Path | None = None, timeout: float = 2.0) -> socket.socket:
    """A connection to the resident prover of this user.

    Raises:
        FileNotFoundError: no socket (no server was started).
        ConnectionRefusedError: a socket file but no server behind it (stale: a server killed with -9).
        ResidentError: the process behind the socket is another user's.
    """
    path = path or socket_path()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(str(path))
        uid = peer_uid(s)
        if uid is not None and uid != os.getuid():
            raise ResidentError(f"{path}: the server runs as uid {uid}, not as this user")
    except BaseException:
        s.close()
        raise
    return s


def request(op: str, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
    """Send ``{"op": op, ...}`` and return the one answer (status, stop, ping).

    Raises:
        OSError, ResidentError: as :func:`connect`, or the server closed the connection.
    """
    with connect(timeout=timeout) as s:
        send_msg(s, {"op": op, **fields})
        ans = recv_msg(s)
    if not isinstance(ans, dict):
        raise ResidentError(f"unexpected answer {ans!r}")
    return ans


# --- zkmargin prove's fast path --------------------------------------------------------------------------

def _note(msg: str) -> None:
    sys.stderr.write(f"zkmargin: {msg}\n")
    sys.stderr.flush()


def _enabled() -> bool:
    """Off with ZKMARGIN_RESIDENT=0; off inside a pytest run unless ZKMARGIN_RESIDENT=1, so that the
    suite's in-process tests of ``prove`` never reach a developer's server."""
    v = os.environ.get("ZKMARGIN_RESIDENT", "").strip().lower()
    if v in ("0", "off", "no", "false"):
        return False
    if v in ("1", "on", "yes", "true"):
        return True
    return "PYTEST_CURRENT_TEST" not in os.environ


def try_prove(argv: list[str], prog: str = "zkmargin") -> int | None:
    """Run ``zkmargin ARGV`` (a ``prove``) in this user's resident prover, if one of this build runs.

    ``prog``: the program name the usage lines show (click's: the basename of ``sys.argv[0]``).

    What the command prints comes back as it is printed (stdout and stderr), the files are written
    by the server in this process's working folder. Returns the command's exit status, or None when
    the caller must prove in-process: no server (silently), a stale socket, a server of another
    build or environment, or a server that died mid-request (each said on stderr).
    """
    if not _enabled():
        return None
    try:
        path = socket_path()
    except ResidentError as e:
        _note(f"resident prover not used: {e}")
        return None
    if not os.path.exists(path):
        return None
    try:
        s = connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        _note(f"the resident prover is not running (stale socket {path}; `zkmargin prover start` cleans it); "
              "proving in-process")
        return None
    except (OSError, ResidentError) as e:
        _note(f"cannot reach the resident prover at {path} ({e}); proving in-process")
        return None
    started = False
    try:
        with s:
            s.settimeout(None)  # a prove at 2^20 takes a while; a dead server closes the socket
            send_msg(s, {"op": "prove", "build": build_id(), "env": env_fingerprint(), "cwd": os.getcwd(),
                         "umask": _umask(), "argv": argv, "prog": prog})
            while True:
                msg = recv_msg(s)
                if "out" in msg:
                    started = True
                    sys.stdout.write(msg["out"])
                    sys.stdout.flush()
                elif "err" in msg:
                    started = True
                    sys.stderr.write(msg["err"])
                    sys.stderr.flush()
                elif "exit" in msg:
                    return int(msg["exit"])
                elif "refused" in msg:
                    _note(f"resident prover not used: {msg['refused']}; proving in-process")
                    return None
                else:
                    raise ResidentError(f"unexpected message {msg!r}")
    except (OSError, ResidentError, ValueError) as e:
        what = "stopped during the request" if started else "did not answer"
        _note(f"the resident prover {what} ({e}); proving in-process")
        return None


def _umask() -> int:
    m = os.umask(0o022)
    os.umask(m)
    return m


# --- the console script ----------------------------------------------------------------------------

#: Set by :func:`console_main` once it has asked the server: the prove command does not ask again.
console_tried = False

_PROVE_FLAGS = frozenset({"--no-self-check"})
_VERBOSE = ("-v", "-vv", "-vvv", "--verbose")


def forwardable(argv: list[str]) -> bool:
    """Whether ``zkmargin ARGV`` is a ``prove`` that a resident prover may run as it stands: ``[-v...] prove``
    with no ``--help``, ``--no-resident`` or ``--`` and no circuit other than a built-in one.

    Option values are skipped by shape (every option of ``prove`` but the flags takes one value); the
    server parses the command with click itself, so a mistake here changes who reports it, not what.
    """
    i = 0
    while i < len(argv) and argv[i] in _VERBOSE:
        i += 1
    if i >= len(argv) or argv[i] != "prove":
        return False
    rest, j = argv[i + 1:], 0
    while j < len(rest):
        tok = rest[j]
        if tok in ("-h", "--help", "--no-resident", "--"):
            return False
        if tok in _PROVE_FLAGS or (tok.startswith("--") and "=" in tok):
            j += 1
        elif tok.startswith("-") and len(tok) > 1:
            j += 1 if (not tok.startswith("--") and len(tok) > 2) else 2  # -pNAME=V, or -p NAME=V / --opt VALUE
        elif tok in BUILTIN_CIRCUIT_NAMES:
            j += 1
        else:
            return False  # a module:Class circuit (or a stray word: the in-process parser says what is wrong)
    return True


def console_main() -> None:
    """The ``zkmargin`` console script. A ``prove`` (:func:`forwardable`) goes to this user's resident
    prover before click and the command line are imported (about 0.1 s of a new process on a quiet
    machine); anything else, and a prove no server takes, runs :data:`zkmargin.cli.main` as before."""
    global console_tried
    argv = sys.argv[1:]
    if forwardable(argv):
        console_tried = True
        rc = try_prove(argv, os.path.basename(sys.argv[0]) or "zkmargin")
        if rc is not None:
            sys.exit(rc)
    from zkmargin.cli import main

    sys.exit(main())
