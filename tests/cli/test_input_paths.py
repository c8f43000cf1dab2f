"""File arguments that are not plain files: a directory, a name too long for the file
system, a pipe (`<(…)`), and an id or prefix that names nothing or everything. Each is a
usage error that says what is wrong (exit 2), or works; never an internal error and
never a silent 'delete everything'."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jarvis_cli.core.errors import ExitCode
from tests.cli.test_batch import Fleet, fleet, read_output  # noqa: F401 - fixture
from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.conftest import JarvisRunner


def test_batch_input_that_is_a_directory_or_an_impossible_name_is_exit_2(
    jarvis: JarvisRunner, tmp_path: Path
) -> None:
    for path, why in (
        (str(tmp_path), f"error: input file {tmp_path} is a directory"),
        ("/dev/zero", "error: input file /dev/zero is not a file or a pipe"),  # not spooled
        ("x" * 5000, "error: cannot read input file xxx"),
    ):
        result = jarvis("batch", path)
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert result.stderr.startswith(why), result.stderr
        assert "internal error" not in result.stderr


def test_batch_reads_a_pipe_given_as_its_input_file(
    fleet: Fleet,  # noqa: F811
    tmp_path: Path,
) -> None:
    # What `jarvis batch <(grep … all.jsonl)` passes: /dev/fd/N, a pipe read only once.
    lines = "".join(json.dumps({"id": f"p{i}", "prompt": "hi"}) + "\n" for i in range(3))
    out = tmp_path / "out.jsonl"
    result = _run_with_pipe(
        lines.encode(), ["batch", "{fd}", "-o", str(out), "--model", "alpha/fake-chat"],
        fleet.env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(r["id"] for r in read_output(out)) == ["p0", "p1", "p2"]
    assert all(r["ok"] for r in read_output(out))


def test_outcomes_delete_never_takes_a_wildcard_or_huge_id_for_everything(
    pair: Pair,  # noqa: F811
) -> None:
    assert pair.run("complete", "hi", "--model", "alpha/fake-chat").returncode == 0
    assert pair.run("rate", "good").returncode == 0
    for request in ("%", "_", ""):
        result = pair.run("outcomes", "delete", "--request", request)
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert f"error: --request needs a request id or a prefix of one, got {request!r}" in (
            result.stderr
        )
        assert "--all deletes all" in result.stderr
    huge = pair.run("outcomes", "delete", "99999999999999999999", "--json")
    assert huge.returncode == 0, huge.stderr
    assert json.loads(huge.stdout) == {"deleted": 0}
    kept = pair.run("outcomes", "list", "--json")
    assert len(json.loads(kept.stdout)) == 1


def test_attaching_an_endless_device_or_a_malformed_url_is_exit_2(
    jarvis: JarvisRunner,
) -> None:
    for source, why in (
        ("/dev/zero", "cannot attach /dev/zero: it holds more than the "),
        ("http://[::1", "cannot attach http://[::1: not a valid URL (Invalid IPv6 URL)"),
    ):
        result = jarvis("complete", "hi", "--no-stdin", "-a", source, timeout=60)
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert f"error: {why}" in result.stderr
        assert "internal error" not in result.stderr


def test_an_attachment_given_as_a_pipe_is_read_and_sent(
    pair: Pair,  # noqa: F811
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
    result = _run_with_pipe(
        png, ["complete", "what is it", "--model", "alpha/fake-chat", "--no-stdin", "-a", "{fd}"],
        pair.env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"I see an image (image/png, {len(png)} bytes)\n"


def test_a_base_url_with_a_query_or_fragment_or_malformed_is_refused(
    jarvis: JarvisRunner, home: Path
) -> None:
    key = "0123456789abcdef" * 3  # hex: no shape rule would hide it
    for url, why in (
        (f"http://h/v1?key={key}", "bad --base-url http://h/v1?…: a base URL takes no query"),
        ("http://h/v1#frag", "bad --base-url http://h/v1?…: a base URL takes no query"),
        ("http://h/v1?", "bad --base-url http://h/v1?…: a base URL takes no query"),
        ("http://[::1", "bad --base-url 'http://[::1': expected an http:// or https:// URL"),
    ):
        result = jarvis("providers", "add", "pz", "--base-url", url)
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert f"error: {why}" in result.stderr
        assert key not in result.stdout + result.stderr
        assert not (home / "config.toml").exists()  # nothing written, the key least of all


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["outcomes", "import", "/dev/zero"], "outcomes import"),
        (["models", "import-prices", "/dev/zero"], "import-prices"),
        (["complete", "hi", "--no-stdin", "--tools", "/dev/zero"], "--tools"),
        (["complete", "hi", "--no-stdin", "--schema", "@/dev/zero"], "--schema"),
    ],
)
def test_a_device_named_as_an_input_file_is_refused_not_read_without_end(
    jarvis: JarvisRunner, args: list[str], what: str
) -> None:
    result = jarvis(*args, timeout=30)  # it used to read /dev/zero until memory ran out
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert f"error: {what}: /dev/zero is a device, not a file" in result.stderr
    assert "hint: give a file or a pipe" in result.stderr


def test_dev_null_stays_an_empty_input(jarvis: JarvisRunner) -> None:
    result = jarvis("outcomes", "import", "/dev/null")
    assert result.returncode == 0, result.stderr
    assert "imported 0 outcomes from /dev/null" in result.stderr


def test_batch_output_that_is_the_input_is_refused_and_the_input_kept(
    fleet: Fleet,  # noqa: F811
    tmp_path: Path,
) -> None:
    lines = tmp_path / "in.jsonl"
    text = json.dumps({"id": "a", "prompt": "hi"}) + "\n"
    lines.write_text(text)
    for out in (lines, tmp_path / "." / "in.jsonl"):
        result = fleet.run("batch", str(lines), "-o", str(out), "--model", "alpha/fake-chat")
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert f"error: output {out} is the input file" in result.stderr
        assert lines.read_text() == text  # it used to be emptied ("resumed")
    assert fleet.alpha.count("/chat/completions") == 0


def test_batch_output_in_a_missing_directory_or_a_device(
    fleet: Fleet,  # noqa: F811
    tmp_path: Path,
) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"id": "a", "prompt": "hi"}) + "\n")
    missing = tmp_path / "no" / "out.jsonl"
    result = fleet.run("batch", str(lines), "-o", str(missing), "--model", "alpha/fake-chat")
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert f"error: cannot write output {missing}: No such file or directory" in result.stderr
    # A device is written to, never scanned for a resume (/dev/full reads as endless
    # zeros: the scan ran out of memory) nor replaced.
    discarded = fleet.run("batch", str(lines), "-o", "/dev/null", "--model", "alpha/fake-chat")
    assert discarded.returncode == 0, discarded.stderr
    full = fleet.run("batch", str(lines), "-o", "/dev/full", "--model", "alpha/fake-chat")
    assert full.returncode == ExitCode.INTERNAL, full.stderr
    assert "error: cannot write the output: No space left on device" in full.stderr
    assert "bug" not in full.stderr
    assert Path("/dev/full").is_char_device()
    assert not Path("/dev/.full.resume").exists()


def test_batch_output_that_is_not_a_results_file_is_left_alone(
    fleet: Fleet,  # noqa: F811
    tmp_path: Path,
) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"id": "a", "prompt": "hi"}) + "\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    numbers = tmp_path / "numbers.jsonl"
    numbers.write_text("1\n2\n")  # JSON, but no result line (was an internal error)
    store = fleet.home / "jarvis.db"
    assert fleet.run("log").returncode == 0 and store.exists()
    for out in (notes, numbers, store):
        before = out.read_bytes()
        result = fleet.run("batch", str(lines), "-o", str(out), "--model", "alpha/fake-chat")
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert f"error: output {out} is not a batch results file (line 1 is not a result)" in (
            result.stderr
        )
        assert out.read_bytes() == before  # it used to be emptied as 'unparseable lines'
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert fleet.alpha.count("/chat/completions") == 0


def test_ctrl_c_while_batch_reads_stdin_leaves_no_spool_file(tmp_path: Path) -> None:
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jarvis_cli", "batch", "-"],
        stdin=read_end, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(spool_dir)},
    )  # fmt: skip
    os.close(read_end)
    try:
        os.write(write_end, b'{"id": "a", "prompt": "hi"}\n')  # and stdin stays open
        deadline = time.monotonic() + 30
        while not any(spool_dir.iterdir()):  # the spool exists: stdin is being read
            assert time.monotonic() < deadline and proc.poll() is None, "no spool started"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        os.close(write_end)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert list(spool_dir.iterdir()) == []


def _run_with_pipe(
    data: bytes, args: list[str], env: dict[str, str], *, timeout: float
) -> subprocess.CompletedProcess[str]:
    """jarvis ARGS with `{fd}` replaced by /dev/fd/N, a pipe a thread writes DATA into:
    what a shell passes for `<(…)`, readable only once."""
    read_end, write_end = os.pipe()

    def feed() -> None:
        os.write(write_end, data)
        os.close(write_end)

    argv = [a.replace("{fd}", f"/dev/fd/{read_end}") for a in args]
    writer = threading.Thread(target=feed)
    writer.start()
    try:
        return subprocess.run(
            [sys.executable, "-m", "jarvis_cli", *argv],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, **env}, pass_fds=(read_end,),
        )  # fmt: skip
    finally:
        os.close(read_end)
        writer.join()
