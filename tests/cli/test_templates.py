"""`jarvis templates` and `-t NAME` / `-p KEY VALUE` on complete, end to end."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.conftest import JarvisRunner


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_list_show_delete(home: Path, jarvis: JarvisRunner) -> None:
    saved = jarvis(
        "templates", "save", "sum", "-s", "Be brief.", "--prompt", "Summarize: $input",
        "--max-tokens", "200", "--temperature", "0.2", "--task", "summarization",
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    path = home / "templates" / "sum.toml"
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    listed = json.loads(jarvis("templates", "list", "--json").stdout)
    assert listed == [
        {
            "name": "sum",
            "system": "Be brief.",
            "prompt": "Summarize: $input",
            "task": "summarization",
            "max_tokens": 200,
            "temperature": 0.2,
        }
    ]
    shown = jarvis("templates", "show", "sum")
    assert shown.returncode == 0 and 'prompt = "Summarize: $input"' in shown.stdout
    assert jarvis("templates", "delete", "sum").returncode == 0
    assert not path.exists()
    gone = jarvis("templates", "show", "sum")
    assert gone.returncode == 2 and "no template 'sum'" in gone.stderr and "hint:" in gone.stderr
    again = jarvis("templates", "delete", "sum")
    assert again.returncode == 2 and "no template 'sum'" in again.stderr


def test_save_needs_something_to_save(jarvis: JarvisRunner) -> None:
    result = jarvis("templates", "save", "empty")
    assert result.returncode == 2 and "at least one of --prompt" in result.stderr


def test_names_with_slash_or_dotdot_are_usage_errors(home: Path, jarvis: JarvisRunner) -> None:
    for name in ("../evil", "a/b", "..", "x..y"):
        result = jarvis("templates", "save", name, "--prompt", "hi")
        assert result.returncode == 2, name
        assert "bad template name" in result.stderr
        shown = jarvis("templates", "show", name)
        assert shown.returncode == 2 and "bad template name" in shown.stderr
    used = jarvis("complete", "-t", "../evil", "hi", "--no-stdin")
    assert used.returncode == 2 and "bad template name" in used.stderr
    assert not (home / "evil.toml").exists() and not (home.parent / "evil.toml").exists()


def test_template_with_a_variable_and_input(pair: Pair) -> None:  # noqa: F811
    saved = pair.run(
        "templates", "save", "tr", "-s", "You translate into $lang.",
        "--prompt", "Translate to $lang: $input", "--model", "alpha/fake-chat",
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    result = pair.run("complete", "-t", "tr", "-p", "lang", "French", "good morning")
    assert result.returncode == 0, result.stderr
    (request,) = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")]
    assert request.body["messages"] == [
        {"role": "system", "content": "You translate into French."},
        {"role": "user", "content": "Translate to French: good morning"},
    ]
    piped = pair.run("complete", "-t", "tr", "-p", "lang", "German", input="guten tag\n")
    assert piped.returncode == 0, piped.stderr
    assert pair.alpha.requests[-1].body["messages"][-1] == {
        "role": "user",
        "content": "Translate to German: guten tag",
    }


def test_missing_variable_is_exit_2_naming_it(pair: Pair) -> None:  # noqa: F811
    pair.run("templates", "save", "tr", "--prompt", "To $lang: $input", "-m", "alpha/fake-chat")
    result = pair.run("complete", "-t", "tr", "hello")
    assert result.returncode == 2
    assert "uses $lang, which was not given" in result.stderr and "-p lang VALUE" in result.stderr
    assert pair.alpha.count("/chat/completions") == 0


def test_param_without_template_is_a_usage_error(pair: Pair) -> None:  # noqa: F811
    result = pair.run("complete", "-p", "lang", "fr", "hi", "-m", "alpha/fake-chat")
    assert result.returncode == 2 and "use it with -t TEMPLATE" in result.stderr


def test_command_line_options_win_over_the_template(pair: Pair) -> None:  # noqa: F811
    pair.run(
        "templates", "save", "t", "--prompt", "Q: $input", "-s", "from template",
        "--model", "alpha/fake-chat", "--max-tokens", "50", "--temperature", "0.5",
    )  # fmt: skip
    result = pair.run(
        "complete", "-t", "t", "x", "--model", "beta/fake-chat", "-s", "from cli",
        "--max-tokens", "70", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model_id"] == "beta/fake-chat"
    body = pair.beta.requests[-1].body
    assert body["messages"][0] == {"role": "system", "content": "from cli"}
    assert body["messages"][1] == {"role": "user", "content": "Q: x"}
    assert body["max_tokens"] == 70 and body["temperature"] == 0.5  # unset on the CLI


def test_input_is_appended_when_the_prompt_does_not_place_it(pair: Pair) -> None:  # noqa: F811
    pair.run("templates", "save", "t", "--prompt", "Fix the grammar.", "-m", "alpha/fake-chat")
    assert pair.run("complete", "-t", "t", "me and him goes").returncode == 0
    assert pair.alpha.requests[-1].body["messages"][-1]["content"] == (
        "Fix the grammar.\n\nme and him goes"
    )


def test_malformed_template_is_exit_3_and_the_file_is_untouched(
    home: Path, jarvis: JarvisRunner
) -> None:
    folder = home / "templates"
    folder.mkdir(mode=0o700, parents=True)
    cases = {
        "broken": 'prompt = "unterminated\n',
        "unknown": 'prompt = "hi"\ncolour = "red"\n',
        "wrongtype": 'max_tokens = "many"\n',
        "dollar": 'prompt = "costs $ 5"\n',
    }
    expected = {
        "broken": "invalid TOML",
        "unknown": "unknown key 'colour'",
        "wrongtype": "max_tokens: expected a whole number",
        "dollar": "prompt: a '$' at character 7",
    }
    for name, text in cases.items():
        path = folder / f"{name}.toml"
        path.write_text(text)
        path.chmod(0o600)
        result = jarvis("complete", "-t", name, "hi", "--no-stdin")
        assert result.returncode == 3, (name, result.stderr)
        assert str(path) in result.stderr and expected[name] in result.stderr
        assert path.read_text() == text
        assert "Traceback" not in result.stderr


def _editor(tmp_path: Path, new_text: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\nopen(sys.argv[1], 'w').write({new_text!r})\n")
    return f"{sys.executable} {script}"


def test_edit_saves_a_valid_template(home: Path, jarvis: JarvisRunner, tmp_path: Path) -> None:
    assert jarvis("templates", "save", "t", "--prompt", "old").returncode == 0
    editor = _editor(tmp_path, 'prompt = "new $input"\n')
    result = jarvis("templates", "edit", "t", env={"EDITOR": editor})
    assert result.returncode == 0, result.stderr
    path = home / "templates" / "t.toml"
    assert path.read_text() == 'prompt = "new $input"\n' and _mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["t.toml"]


def test_edit_refuses_an_invalid_template_and_keeps_the_old_file(
    home: Path, jarvis: JarvisRunner, tmp_path: Path
) -> None:
    assert jarvis("templates", "save", "t", "--prompt", "old").returncode == 0
    path = home / "templates" / "t.toml"
    before = path.read_text()
    result = jarvis("templates", "edit", "t", env={"EDITOR": _editor(tmp_path, "prompt = [")})
    assert result.returncode == 3
    assert "invalid TOML" in result.stderr and "is unchanged" in result.stderr
    assert "your edited text is in" in result.stderr
    assert path.read_text() == before
    assert json.loads(jarvis("templates", "list", "--json").stdout)[0]["prompt"] == "old"


def test_edit_without_an_editor_is_a_usage_error(jarvis: JarvisRunner) -> None:
    result = jarvis("templates", "edit", "t", env={"EDITOR": None, "VISUAL": None})
    assert result.returncode == 2 and "set $EDITOR" in result.stderr


def test_list_reports_a_broken_template_without_failing(home: Path, jarvis: JarvisRunner) -> None:
    jarvis("templates", "save", "good", "--prompt", "hi")
    bad = home / "templates" / "bad.toml"
    bad.write_text("prompt = 1\n")
    os.chmod(bad, 0o600)
    result = jarvis("templates", "list", "--json")
    assert result.returncode == 0
    entries = {e["name"]: e for e in json.loads(result.stdout)}
    assert entries["good"]["prompt"] == "hi" and "expected a string" in entries["bad"]["error"]


def test_save_refuses_a_stray_dollar_as_a_usage_error(home: Path, jarvis: JarvisRunner) -> None:
    result = jarvis("templates", "save", "t", "--prompt", "costs $ 5")
    assert result.returncode == 2
    assert "a '$' at character 7" in result.stderr and "write $$" in result.stderr
    assert not (home / "templates" / "t.toml").exists()
