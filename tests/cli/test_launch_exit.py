"""The process leaves without the interpreter's teardown, but as an ordinary exit would:
exit handlers run, output is flushed, the exit code is kept, and running threads are
waited for (jarvis_cli/launch.py `_leave`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import atexit, sys
atexit.register(lambda: print("handler ran"))
sys.stdout.write("buffered, not yet flushed")
sys.argv = ["jarvis", *sys.argv[1:]]
from jarvis_cli.launch import main
main()
"""


def _probe(*args: str, code: str = PROBE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_exit_handlers_run_and_output_is_flushed() -> None:
    proc = _probe("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("handler ran\n")
    assert "buffered, not yet flushed" in proc.stdout


def test_the_exit_code_is_kept() -> None:
    proc = _probe("no-such-command")
    assert proc.returncode == 2
    assert "No such command" in proc.stderr
    assert proc.stdout.endswith("handler ran\n")


def test_a_running_thread_is_waited_for(tmp_path: Path) -> None:
    done = tmp_path / "done"
    code = (
        "import threading, time\n"
        "def work():\n"
        "    time.sleep(0.3)\n"
        f"    open({str(done)!r}, 'w').write('ok')\n"
        "threading.Thread(target=work).start()\n" + PROBE
    )
    proc = _probe("--version", code=code)
    assert proc.returncode == 0, proc.stderr
    assert done.read_text() == "ok"
    assert proc.stdout.endswith("handler ran\n")
