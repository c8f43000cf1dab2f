"""Standard streams that fail: a reader gone (EPIPE), a full device, a descriptor closed
at start (`>&-`, `2>&-`). Each is a clear message (when stderr is there to take it) and
the documented exit code, never an internal error or a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jarvis_cli.core.errors import ExitCode


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "jarvis_cli", *args],
        stdin=subprocess.DEVNULL,
        timeout=60,
        **kwargs,
    )


def _close_fd(fd: int) -> None:
    os.close(fd)


@pytest.mark.parametrize(
    "args", [["--help"], ["complete", "--help"], ["models", "list", "--all-versions"]]
)
def test_a_reader_that_went_away_is_exit_0_without_a_traceback(args: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to the pipe now fails with EPIPE
    try:
        result = _run(args, stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    assert b"error" not in result.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("args", [["models", "list"], ["models", "list", "--json"], ["--help"]])
def test_a_full_device_on_stdout_is_a_clear_write_error_not_a_bug(args: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        result = _run(args, stdout=full, stderr=subprocess.PIPE)
    err = result.stderr.decode()
    assert result.returncode == ExitCode.INTERNAL
    assert "error: cannot write the output: No space left on device" in err
    assert "hint: check where the output goes (stdout, -o FILE)" in err
    assert "internal error" not in err
    assert "bug" not in err
    assert "Traceback" not in err


def test_closed_stdout_is_refused_as_a_usage_error_before_any_work(home: Path) -> None:
    result = _run(
        ["providers", "add", "local", "--base-url", "http://127.0.0.1:9/v1"],
        stderr=subprocess.PIPE,
        preexec_fn=lambda: _close_fd(1),
    )
    err = result.stderr.decode()
    assert result.returncode == ExitCode.USAGE
    assert "error: standard output is closed" in err
    assert "hint: redirect it instead (`> FILE` or `> /dev/null`)" in err
    assert "Traceback" not in err
    assert not (home / "config.toml").exists()  # refused before doing anything


def test_closed_stderr_keeps_the_error_exit_code() -> None:
    result = _run(
        ["keys", "add", "no-such-provider", "--stdin"],
        stdout=subprocess.PIPE,
        preexec_fn=lambda: _close_fd(2),
    )
    assert result.returncode == ExitCode.USAGE
    assert result.stdout == b""


def test_closed_stderr_still_runs_a_command_that_succeeds(home: Path) -> None:
    result = _run(
        ["providers", "add", "local", "--base-url", "http://127.0.0.1:9/v1"],
        stdout=subprocess.PIPE,
        preexec_fn=lambda: _close_fd(2),
    )
    assert result.returncode == 0
    assert "local" in (home / "config.toml").read_text()
