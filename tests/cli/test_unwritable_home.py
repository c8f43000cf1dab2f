"""A JARVIS_HOME that jarvis cannot use: a file where the directory goes, a directory it
may not change, one it may not write. Each is a store error (exit 3) that names the
path and says what to do; never an internal error, and nothing is half-written."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from jarvis_cli.core.errors import ExitCode
from tests.conftest import JarvisRunner


def test_doctor_on_a_home_that_is_a_file_is_a_store_error(
    jarvis: JarvisRunner, tmp_path: Path
) -> None:
    not_a_dir = tmp_path / "home-file"
    not_a_dir.write_text("")
    for args in (["doctor"], ["doctor", "--json"]):
        result = jarvis(*args, env={"JARVIS_HOME": str(not_a_dir)})
        assert result.returncode == ExitCode.CONFIG, result.stderr
        assert f"{not_a_dir}/config.toml: cannot read: Not a directory" in result.stderr
        assert "internal error" not in result.stderr


def test_a_home_whose_mode_cannot_be_made_private_is_a_store_error(
    jarvis: JarvisRunner,
) -> None:
    # /proc/self is 0555 and nobody, root included, may chmod it.
    result = jarvis(
        "providers", "add", "local", "--base-url", "http://127.0.0.1:9/v1",
        env={"JARVIS_HOME": "/proc/self"},
    )  # fmt: skip
    assert result.returncode == ExitCode.CONFIG, result.stderr
    assert "error: cannot make directory /proc/self private (0700)" in result.stderr
    assert "hint: set JARVIS_HOME to a directory of your own" in result.stderr
    assert "internal error" not in result.stderr


@pytest.fixture
def immutable_home(tmp_path: Path) -> Iterator[Path]:
    """A 0700 directory with a config.toml that no one, root included, may write in."""
    home = tmp_path / "frozen"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text('[defaults]\nstrategy = "cost"\n')
    (home / "config.toml").chmod(0o600)
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(home)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available on this file system")
    try:
        yield home
    finally:
        subprocess.run([chattr, "-i", str(home)], check=True)


@pytest.mark.parametrize(
    "args",
    [
        ["providers", "add", "local", "--base-url", "http://127.0.0.1:9/v1"],
        ["config", "set", "defaults.strategy", "performance"],
    ],
)
def test_a_config_write_in_a_directory_that_cannot_be_written_leaves_the_file_alone(
    jarvis: JarvisRunner, immutable_home: Path, args: list[str]
) -> None:
    before = (immutable_home / "config.toml").read_bytes()
    result = jarvis(*args, env={"JARVIS_HOME": str(immutable_home)})
    assert result.returncode == ExitCode.CONFIG, result.stderr
    assert f"error: cannot write {immutable_home}/config.toml: " in result.stderr
    assert "it was left as it was" in result.stderr
    assert "hint: make its directory writable, or set JARVIS_HOME" in result.stderr
    assert "internal error" not in result.stderr
    assert (immutable_home / "config.toml").read_bytes() == before
    assert sorted(p.name for p in immutable_home.iterdir()) == ["config.toml"]


def test_a_store_that_cannot_be_opened_for_writing_says_so_with_a_hint(
    jarvis: JarvisRunner, home: Path
) -> None:
    assert (
        jarvis("providers", "add", "local", "--base-url", "http://127.0.0.1:9/v1").returncode == 0
    )
    assert jarvis("log").returncode == 0  # creates the store
    store = home / "jarvis.db"
    assert store.exists()
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(store)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available on this file system")
    try:
        result = jarvis("keys", "list")
    finally:
        subprocess.run([chattr, "-i", str(store)], check=True)
    assert result.returncode == ExitCode.CONFIG, result.stderr
    assert f"error: cannot open {store} for writing: Operation not permitted" in result.stderr
    assert "hint: make it (and its directory) writable" in result.stderr
