"""An address `jarvis serve` cannot listen on is a usage error (exit 2) that names the
address and the option to change, with no traceback and none of uvicorn's own log."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import run_jarvis
from tests.serve.server import serve_env


def _assert_clean(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert "ERROR:" not in stderr  # uvicorn's logger
    assert "Errno" not in stderr


def test_port_in_use_names_the_address_and_port_option(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_jarvis("serve", "--port", str(port), env=serve_env(tmp_path / "home"))
    assert done.returncode == 2, done.stderr
    assert f"error: cannot listen on 127.0.0.1:{port}: the address is already in use" in done.stderr
    assert "hint: choose another port with --port (--port 0 takes any free one)" in done.stderr
    assert "listening on" not in done.stderr
    _assert_clean(done.stderr)


def test_unresolvable_host_is_named_before_the_token_check(tmp_path: Path) -> None:
    done = run_jarvis("serve", "--host", "no-such-host.invalid", env=serve_env(tmp_path / "home"))
    assert done.returncode == 2, done.stderr
    assert "error: cannot listen on no-such-host.invalid:" in done.stderr
    assert "the host 'no-such-host.invalid' does not resolve" in done.stderr
    assert "hint: --host takes an address of this machine" in done.stderr
    assert "client tokens" not in done.stderr  # not the unrelated refusal
    _assert_clean(done.stderr)


def test_address_not_on_this_machine_names_host_option(tmp_path: Path) -> None:
    env = serve_env(tmp_path / "home")
    assert run_jarvis("serve", "tokens", "add", "client", env=env).returncode == 0
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): no interface of this machine has it
    done = run_jarvis("serve", "--host", "192.0.2.1", "--port", "0", env=env)
    assert done.returncode == 2, done.stderr
    assert "error: cannot listen on 192.0.2.1:0: this machine has no such address" in done.stderr
    assert "hint: --host takes an address of this machine" in done.stderr
    _assert_clean(done.stderr)
