"""Atomic file writes shared by every serializer.

A writer never leaves a half-written file behind: the data goes to a fresh temporary file in the
target's folder (same file system, so the final rename is atomic), is flushed to disk, and only
then replaces the target with ``os.replace``. On any failure the temporary file is removed and the
previous target, if any, is untouched.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

__all__ = ["PathLike", "atomic_write_bytes", "atomic_write_text"]

PathLike = str | os.PathLike[str]


def atomic_write_bytes(path: PathLike, data: bytes | bytearray | memoryview | Iterable[bytes],
                       mode: int = 0o666) -> None:
    """Write ``data`` to ``path`` atomically.

    Args:
        path: destination file; its folder must exist.
        data: the bytes to write, or an iterable of byte chunks (written in order).
        mode: permissions of the new file before the umask; ``0o600`` for a secret, which is then
            owner-only from its first byte (the temporary file is created with it, then renamed).

    Raises:
        OSError: the folder does not exist or is not writable, the disk is full, ... The target is
            left as it was before the call.
    """
    target = Path(path)
    folder = target.parent
    tmp = folder / f".{target.name}.{secrets.token_hex(6)}.tmp"
    # O_EXCL: never follow or clobber an existing file; mode 0o666 lets the umask apply, so the
    # result gets the same permissions as a file created with open(path, "wb").
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        f = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    try:
        with f:
            if isinstance(data, bytes | bytearray | memoryview):
                f.write(data)
            else:
                for chunk in data:
                    f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: PathLike, text: str, mode: int = 0o666) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; see ``atomic_write_bytes``."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)
