"""Driving jarvis on a real pseudo-terminal, for the code paths that only run on a TTY."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Terminal:
    """A jarvis process whose stdin, stdout and stderr are one pty."""

    proc: subprocess.Popen[bytes]
    fd: int  # the controlling side

    def read_until(self, marker: bytes, timeout: float = 90) -> bytes:
        """Everything shown until `marker` appears (fails the test after `timeout`: generous,
        since a loaded machine can take many seconds to start jarvis)."""
        out = b""
        deadline = time.monotonic() + timeout
        while marker not in out:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out waiting for {marker!r}; got {out!r}"
            if not select.select([self.fd], [], [], remaining)[0]:
                continue
            chunk = self._read()
            if not chunk:
                break  # the process closed the terminal
            out += chunk
        return out

    def drain(self, quiet_s: float = 0.5, timeout: float = 60) -> bytes:
        """What is shown until the terminal has been quiet for `quiet_s` after showing
        something, or after the process ended. While the process runs and has shown
        nothing it is waited for (up to `timeout`): on a loaded machine its start alone
        can take longer than `quiet_s`."""
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not select.select([self.fd], [], [], quiet_s)[0]:
                if out or self.proc.poll() is not None:
                    break
                continue
            chunk = self._read()
            if not chunk:
                break
            out += chunk
        return out

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def wait(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout=timeout)

    def _read(self) -> bytes:
        try:
            return os.read(self.fd, 4096)
        except OSError:  # EIO once the child's side is closed
            return b""


@contextmanager
def terminal(
    *args: str, env: Mapping[str, str] | None = None, columns: int | None = None
) -> Iterator[Terminal]:
    """Run `python -m jarvis_cli ARGS` on a new pty; the process is killed on exit.

    `columns`: the pty is that many columns wide (and COLUMNS is unset, so jarvis
    reads the width from the terminal, as it does for a user)."""
    controller, child = pty.openpty()
    if columns is not None:
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
        env = {k: v for k, v in (os.environ if env is None else env).items() if k != "COLUMNS"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jarvis_cli", *args],
        stdin=child,
        stdout=child,
        stderr=child,
        env=dict(os.environ if env is None else env),
        close_fds=True,
    )
    os.close(child)
    try:
        yield Terminal(proc, controller)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        os.close(controller)
