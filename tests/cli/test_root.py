"""The CLI shell: version, help, usage errors, the single catch point, doctor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jarvis_cli import __version__
from jarvis_cli.cli import run
from jarvis_cli.core.errors import ExitCode, VaultError
from jarvis_cli.core.redact import register_secret
from tests.conftest import JarvisRunner

CANARY = "sk-canary-ROOT-0123456789abcdef"


def test_version(jarvis: JarvisRunner) -> None:
    result = jarvis("--version")
    assert result.returncode == 0
    assert result.stdout == f"jarvis {__version__}\n"


def test_help_lists_commands(jarvis: JarvisRunner) -> None:
    result = jarvis("--help")
    assert result.returncode == 0
    assert "doctor" in result.stdout
    assert "Usage: jarvis" in result.stdout


def test_unknown_command_is_usage_error(jarvis: JarvisRunner) -> None:
    result = jarvis("frobnicate")
    assert result.returncode == ExitCode.USAGE
    assert "No such command 'frobnicate'" in result.stderr
    assert result.stdout == ""


def test_unknown_option_is_usage_error(jarvis: JarvisRunner) -> None:
    result = jarvis("doctor", "--bogus")
    assert result.returncode == ExitCode.USAGE
    assert "No such option: --bogus" in result.stderr


def test_doctor_json_on_fresh_home_creates_nothing(home: Path, jarvis: JarvisRunner) -> None:
    result = jarvis("doctor", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["version"] == __version__
    assert data["ok"] is True
    assert data["problems"] == []
    assert data["paths"] == {"config_dir": str(home), "data_dir": str(home)}
    assert data["store"]["exists"] is False
    assert data["master_key"]["source"] == "env"
    assert not (home / "jarvis.db").exists()


def test_doctor_reports_store_schema_and_mode(home: Path, jarvis: JarvisRunner) -> None:
    from jarvis_cli.core.store.database import SCHEMA_VERSION, Store

    Store.open(home / "jarvis.db").close()
    data = json.loads(jarvis("doctor", "--json").stdout)
    assert data["store"]["mode"] == "0600"
    assert data["store"]["schema_version"] == SCHEMA_VERSION
    assert data["store"]["journal_mode"] == "wal"


def test_doctor_human_output_goes_to_stdout(jarvis: JarvisRunner) -> None:
    result = jarvis("doctor")
    assert result.returncode == 0
    assert "jarvis doctor" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour codes when not a terminal


# --- the catch point, in-process ------------------------------------------------


def _fail_doctor_with(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def boom(ctx: object) -> None:
        raise exc

    monkeypatch.setattr("jarvis_cli.core.doctor.run_doctor", boom)


def test_jarvis_error_prints_message_and_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fail_doctor_with(monkeypatch, VaultError("master key is wrong", hint="check it"))
    assert run(["doctor"]) == ExitCode.VAULT
    err = capsys.readouterr().err
    assert err == "error: master key is wrong\nhint: check it\n"


def test_internal_error_is_exit_1_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fail_doctor_with(monkeypatch, RuntimeError("unexpected"))
    assert run(["doctor"]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: unexpected" in err
    assert "JARVIS_DEBUG=1" in err
    assert "Traceback" not in err


def test_debug_shows_traceback_with_secrets_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    register_secret(CANARY)
    monkeypatch.setenv("JARVIS_DEBUG", "1")
    _fail_doctor_with(monkeypatch, RuntimeError(f"upstream said Bearer {CANARY}"))
    assert run(["doctor"]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert CANARY not in err
    assert "[REDACTED]" in err


def test_error_messages_are_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    register_secret(CANARY)
    _fail_doctor_with(monkeypatch, VaultError(f"bad {CANARY}", hint=f"not {CANARY}"))
    assert run(["doctor"]) == ExitCode.VAULT
    captured = capsys.readouterr()
    assert CANARY not in captured.err + captured.out


def test_ctrl_c_exits_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fail_doctor_with(monkeypatch, KeyboardInterrupt())
    assert run(["doctor"]) == ExitCode.INTERRUPTED
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "error" not in captured.err


def test_sigint_to_process_exits_130(tmp_path: Path) -> None:
    """A real SIGINT while a command runs: exit 130, no traceback."""
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import time, jarvis_cli.core.doctor as d\n"
        "def slow(ctx):\n    print('ready', flush=True); time.sleep(30)\n"
        "d.run_doctor = slow\n"
        "from jarvis_cli.cli import main\nimport sys\nsys.argv=['jarvis','doctor']\nmain()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert "Traceback" not in err


def test_doctor_reports_a_malformed_master_key_with_exit_4(jarvis: JarvisRunner) -> None:
    result = jarvis("doctor", "--json", env={"JARVIS_MASTER_KEY": "not-base64!"})
    assert result.returncode == ExitCode.VAULT
    data = json.loads(result.stdout)
    assert data["ok"] is False
    (problem,) = data["problems"]
    assert problem["what"] == "master key" and problem["exit_code"] == 4
    assert "JARVIS_MASTER_KEY" in problem["message"]


def test_command_summaries_match_each_commands_own_help() -> None:
    from jarvis_cli.cli import COMMANDS, build_command

    for name, (_, _, summary) in COMMANDS.items():
        real = build_command(name)
        assert (real.help or "").strip().splitlines()[0] == summary, name


def test_help_and_unknown_commands_import_no_command_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys, io, contextlib\n"
        "from jarvis_cli.cli import run\n"
        "out, err = io.StringIO(), io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n"
        "    run(['--help']); run(['kees'])\n"
        "from jarvis_cli.cli import COMMANDS\n"
        "modules = {module for module, _, _ in COMMANDS.values()}\n"
        "print(sorted(m for m in sys.modules if m in modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_unknown_command_suggests_the_close_one(jarvis: JarvisRunner) -> None:
    result = jarvis("kees")
    assert result.returncode == ExitCode.USAGE
    assert "Did you mean 'keys'?" in result.stderr
