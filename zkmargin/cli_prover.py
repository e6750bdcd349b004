"""``zkmargin prover start|stop|status``: a resident prover that keeps numba's kernels and parsed keys warm.

Registered on :data:`zkmargin.cli.main` by one import line at the bottom of ``zkmargin/cli.py``. The
server is :mod:`zkmargin.prover.resident`, the client and the socket's place :mod:`zkmargin.resident`;
``zkmargin prove`` uses a server of the same build through :func:`prove_in_resident`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from typing import Any

import click

from zkmargin import resident as rs
from zkmargin.cli import CliError, _echo_kv, _friendly, main

__all__ = ["prover_group", "prove_in_resident", "command_argv"]


def command_argv(ctx: click.Context, skip: tuple[str, ...] = ("no_resident",)) -> list[str]:
    """The argv that runs ``ctx``'s command again with the same values (``-v`` of the group included)."""
    root = ctx.find_root()
    argv = ["-v"] * int(root.params.get("verbose") or 0) + [str(ctx.info_name)]
    opts: list[str] = []
    for p in ctx.command.params:
        v = ctx.params.get(p.name or "")
        if p.name in skip or v is None:
            continue
        if isinstance(p, click.Argument):
            argv.append(str(v))
        elif isinstance(p, click.Option):
            flag = p.opts[0]
            if p.is_flag:
                if v:
                    opts.append(flag)
            elif p.multiple:
                for x in v:
                    opts += [flag, str(x)]
            else:
                opts += [flag, str(v)]
    return argv + opts


def prove_in_resident(ctx: click.Context) -> int | None:
    """Run this ``zkmargin prove`` in the user's resident prover; its exit status, or None: prove in-process
    (also when the console script already tried: :func:`zkmargin.resident.console_main`)."""
    if rs.console_tried:
        return None
    return rs.try_prove(command_argv(ctx), str(ctx.find_root().info_name or "zkmargin"))


# --- the commands ----------------------------------------------------------------------------------


@main.group("prover")
def prover_group() -> None:
    """A resident prover: one background process that keeps the prover warm for zkmargin prove.

    \b
    The command line pays, on every zkmargin prove, for starting Python, importing numba and
    loading its cached kernels (about 1.5 s). A resident prover pays once: `start` launches it
    (a Unix socket in a private folder of this user: $ZKMARGIN_RUNTIME_DIR, $XDG_RUNTIME_DIR/zkmargin
    or ~/.cache/zkmargin/run), and every zkmargin prove of the same zkmargin build and environment
    then runs in it, with the same files, messages and exit status; parsed .zkey files stay loaded
    until they change. Without a server, or with --no-resident, zkmargin prove works as before.

    \b
      zkmargin prover start --idle-timeout 3600
      zkmargin prover status
      zkmargin prover stop
    """


def _lock_holder() -> int | None:
    """The pid in the lock file when a live server holds the lock; None when nobody holds it."""
    try:
        fd = os.open(rs.lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    with os.fdopen(fd, "r+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            text = fh.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


def _clean_stale() -> str | None:
    """Remove the socket and pid file of a server that is gone (no lock holder); what was removed."""
    if _lock_holder() is not None:
        return None
    removed = []
    for p in (rs.socket_path(), rs.info_path()):
        if os.path.lexists(p):
            old = ""
            if p == rs.info_path():
                with contextlib.suppress(OSError, ValueError):
                    old = f" (pid {json.loads(p.read_text())['pid']})"
            p.unlink()
            removed.append(f"{p.name}{old}")
    return ", ".join(removed) or None


def _status() -> dict[str, Any] | None:
    try:
        return rs.request("status", timeout=5.0)
    except (OSError, rs.ResidentError):
        return None


def _dir() -> None:
    try:
        rs.runtime_dir(create=True)
    except rs.ResidentError as e:
        raise CliError(str(e)) from e


@prover_group.command("start")
@click.option("--idle-timeout", type=float, default=1800.0, show_default=True, metavar="SECONDS",
              help="Exit after this many seconds without a request.")
@click.option("--wait", "wait_s", type=float, default=600.0, show_default=True, metavar="SECONDS",
              help="How long to wait for it to be ready (a first run on a machine compiles numba's kernels).")
@_friendly
def start_cmd(idle_timeout: float, wait_s: float) -> None:
    """Start this user's resident prover in the background (refused if one runs).

    It imports the prover and loads its kernels (a warm-up prove of a tiny circuit), then listens;
    it exits after --idle-timeout seconds without a request, on `zkmargin prover stop`, or SIGTERM.
    A socket left by a server that was killed is removed first.
    """
    if idle_timeout <= 0:
        raise CliError("--idle-timeout must be positive")
    _dir()
    holder = _lock_holder()
    if holder is not None:
        st = _status()
        pid = st["pid"] if st else holder
        click.echo(f"zkmargin: error: a resident prover already runs (pid {pid}"
                   f"{', version ' + st['build'] if st else ', starting'}); `zkmargin prover stop` first",
                   err=True)
        sys.exit(1)
    stale = _clean_stale()
    if stale:
        click.echo(f"removed what a stopped server left: {stale}", err=True)
    import subprocess

    log = rs.log_path()
    with open(log, "ab") as fh:
        os.chmod(log, 0o600)
        fh.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} zkmargin prover start\n".encode())
        fh.flush()
        env = dict(os.environ, PYTHONSAFEPATH="1")
        proc = subprocess.Popen([sys.executable, "-m", "zkmargin.prover.resident", "--idle-timeout", str(idle_timeout)],
                                stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT, cwd=str(log.parent),
                                env=env, start_new_session=True, close_fds=True)
    t0 = time.monotonic()
    click.echo(f"  starting the resident prover (pid {proc.pid}; warming its kernels) ...", err=True, nl=False)
    while True:
        rc = proc.poll()
        if rc is not None:
            click.echo(" failed", err=True)
            tail = log.read_text(errors="replace")[-1500:]
            raise CliError(f"the resident prover exited with status {rc}; its log {log} ends:\n{tail}")
        st = _status() if rs.socket_path().exists() else None
        if st is not None and st.get("pid") == proc.pid:
            break
        if time.monotonic() - t0 > wait_s:
            click.echo(" still not ready", err=True)
            raise CliError(f"the resident prover (pid {proc.pid}) is not ready after {wait_s:g}s; see {log}")
        time.sleep(0.1)
    click.echo(f" ready in {time.monotonic() - t0:.1f}s", err=True)
    click.echo(f"resident prover running: pid {st['pid']}, zkmargin {st['build']}")
    _echo_kv([("socket", st["socket"]), ("idle timeout", f"{idle_timeout:g}s"), ("log", log)])


@prover_group.command("status")
@_friendly
def status_cmd() -> None:
    """Whether this user's resident prover runs: pid, version, uptime, keys cached (exit 1 if none runs)."""
    _dir()
    st = _status()
    if st is None:
        holder = _lock_holder()
        if holder is not None:
            click.echo(f"resident prover starting (pid {holder}): not answering yet")
            return
        stale = " (a stale socket remains; `zkmargin prover start` removes it)" if rs.socket_path().exists() else ""
        click.echo(f"no resident prover running{stale}")
        sys.exit(1)
    click.echo(f"resident prover running: pid {st['pid']}, zkmargin {st['build']}")
    pairs: list[tuple[str, Any]] = [
        ("uptime", f"{st['uptime_s']:.0f}s"), ("idle", f"{st['idle_s']:.0f}s of {st['idle_timeout_s']:g}s"),
        ("requests", st["requests"]), ("socket", st["socket"]),
        ("keys cached", f"{len(st['keys'])} (loads {st['key_loads']}, hits {st['key_hits']})")]
    pairs += [(f"  key {i + 1}", f"{k['path']} ({k['size']:,} bytes, {k['hits']} hits)")
              for i, k in enumerate(st["keys"])]
    _echo_kv(pairs)
    if st["build"] != rs.build_id():
        click.echo("note: it runs another zkmargin build than this command's: zkmargin prove will not use it "
                   "(stop and start it again)", err=True)


@prover_group.command("stop")
@click.option("--wait", "wait_s", type=float, default=30.0, show_default=True, metavar="SECONDS",
              help="How long to wait for it to exit.")
@_friendly
def stop_cmd(wait_s: float) -> None:
    """Stop this user's resident prover (nothing to do when none runs)."""
    _dir()
    try:
        ans = rs.request("stop", timeout=5.0)
    except (OSError, rs.ResidentError):
        stale = _clean_stale()
        click.echo("no resident prover running" + (f" (removed {stale})" if stale else ""))
        return
    pid = int(ans["stopping"])
    t0 = time.monotonic()
    while _lock_holder() is not None:
        if time.monotonic() - t0 > wait_s:
            raise CliError(f"the resident prover (pid {pid}) has not exited after {wait_s:g}s")
        time.sleep(0.05)
    click.echo(f"resident prover stopped (pid {pid})")
