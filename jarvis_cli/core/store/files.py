"""Private files and directories: 0700 dirs, 0600 files, atomic replacement."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from jarvis_cli.core.errors import StoreError, UnsafePermissionsError, UsageError

DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and parents) as 0700 if missing; never loosen an existing dir."""
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create directory {path}: {exc.strerror}",
            hint="set JARVIS_HOME to a writable directory",
        ) from None
    # mkdir's mode is filtered by the umask; set it explicitly on the leaf we own.
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, DIR_MODE)
    except OSError as exc:  # a directory we may not change (another owner, /proc)
        raise StoreError(
            f"cannot make directory {path} private (0700): {exc.strerror}",
            hint="set JARVIS_HOME to a directory of your own",
        ) from None


def create_private_file(path: Path) -> None:
    """Create an empty 0600 file if it does not exist (umask-independent)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        verb = "open" if path.exists() else "create"  # a store on a read-only file system
        raise StoreError(
            f"cannot {verb} {path} for writing: {exc.strerror}",
            hint="make it (and its directory) writable, or set JARVIS_HOME to a writable directory",
        ) from None
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def check_not_exposed(path: Path, what: str) -> None:
    """Refuse a file that group or others can read or write."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        raise UnsafePermissionsError(
            f"{what} {path} is accessible by group or others (mode {mode:04o})",
            hint=f"run: chmod 600 {path}",
        )


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old or the new file."""
    import tempfile  # with random, ~1 ms: only writers pay for it

    ensure_private_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:  # a read-only or full file system, a directory we cannot write
        raise _cannot_write(path, exc) from None
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from None
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _cannot_write(path: Path, exc: OSError) -> StoreError:
    return StoreError(
        f"cannot write {path}: {exc.strerror or exc}; it was left as it was",
        hint="make its directory writable, or set JARVIS_HOME to a writable directory",
    )


def refuse_device(path: Path, what: str) -> None:
    """UsageError (exit 2) when `path` is a device other than /dev/null: a command that
    reads a whole file would read /dev/zero without end (or wait on a terminal).
    Files and pipes (`<(…)`) pass; a missing path is left for the read to report."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return
    if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) and os.path.realpath(path) != os.devnull:
        raise UsageError(f"{what}: {path} is a device, not a file", hint="give a file or a pipe")
