"""`jarvis templates edit` with an editor that cannot run, or that leaves no readable
text: a clear error naming the editor or the file, the template unchanged; never an
internal error."""

from __future__ import annotations

from pathlib import Path

import pytest

from jarvis_cli.core.errors import ExitCode
from tests.conftest import JarvisRunner


@pytest.fixture
def saved(jarvis: JarvisRunner, home: Path) -> Path:
    result = jarvis("templates", "save", "t", "--prompt", "hello")
    assert result.returncode == 0, result.stderr
    return home / "templates" / "t.toml"


@pytest.mark.parametrize(
    ("editor", "why"),
    [
        ("/nonexistent/editor", "cannot run the editor '/nonexistent/editor': No such file"),
        ("vi 'unbalanced", 'cannot run the editor "vi \'unbalanced": No closing quotation'),
    ],
)
def test_an_editor_that_cannot_run_is_a_usage_error(
    jarvis: JarvisRunner, saved: Path, editor: str, why: str
) -> None:
    before = saved.read_bytes()
    result = jarvis("templates", "edit", "t", env={"EDITOR": editor, "VISUAL": None})
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert f"error: {why}" in result.stderr
    assert "hint: set $EDITOR (or $VISUAL) to an editor command" in result.stderr
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == ["t.toml"]  # no stray edit file


@pytest.mark.parametrize(
    ("script", "why"),
    [
        ('rm "$1"', "No such file or directory"),
        ("printf '\\377' > \"$1\"", "'utf-8' codec can't decode byte 0xff"),
    ],
    ids=["removed", "not-utf8"],
)
def test_an_edit_that_cannot_be_read_back_leaves_the_template_unchanged(
    jarvis: JarvisRunner, saved: Path, tmp_path: Path, script: str, why: str
) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text(f"#!/bin/sh\n{script}\n")
    editor.chmod(0o700)
    before = saved.read_bytes()
    result = jarvis("templates", "edit", "t", env={"EDITOR": str(editor), "VISUAL": None})
    assert result.returncode == ExitCode.CONFIG, result.stderr
    assert f"error: cannot read the edited text ({why}" in result.stderr
    assert f"{saved} is unchanged" in result.stderr
    assert "internal error" not in result.stderr
    assert saved.read_bytes() == before
