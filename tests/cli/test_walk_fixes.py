"""What a newcomer walking the README from the top ran into, each end to end with the
real CLI in a fresh home: an error's next step, a --json field, a help line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import JarvisRunner
from tests.fake_provider import FakeProvider


def test_config_set_of_a_bad_value_says_the_file_is_unchanged(
    home: Path, jarvis: JarvisRunner
) -> None:
    assert jarvis("config", "set", "defaults.retries", "3").returncode == 0
    config = home / "config.toml"
    before = config.read_bytes()
    result = jarvis("config", "set", "defaults.retries", "abc")
    assert result.returncode == 3
    assert "defaults.retries: expected a whole number from 0 to 10, got 'abc'" in result.stderr
    # Not the loader's "fix the file by hand": the file was never touched.
    assert f"hint: nothing was written: {config} is unchanged" in result.stderr
    assert "by hand" not in result.stderr
    assert config.read_bytes() == before


def _import_one(jarvis: JarvisRunner, tmp_path: Path) -> None:
    evals = tmp_path / "evals.jsonl"
    line = {"prompt": "Sum 2+2", "model": "openai/gpt-4o-mini", "score": 1}
    evals.write_text(json.dumps(line) + "\n")
    done = jarvis("outcomes", "import", str(evals))
    assert done.returncode == 0, done.stderr


def test_outcomes_list_json_gives_the_time_as_export_does(
    jarvis: JarvisRunner, tmp_path: Path
) -> None:
    _import_one(jarvis, tmp_path)
    listed = jarvis("outcomes", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    (exported,) = [json.loads(x) for x in jarvis("outcomes", "export").stdout.splitlines()]
    assert row == exported  # the same fields, the same values: `at` is ISO 8601 in both
    assert isinstance(row["at"], str) and row["at"].endswith("+00:00")


def test_outcomes_list_with_none_says_how_to_get_some(jarvis: JarvisRunner) -> None:
    result = jarvis("outcomes", "list")
    assert result.returncode == 0
    assert result.stdout == ""  # no empty table
    assert "no outcomes yet" in result.stderr
    assert "jarvis rate good" in result.stderr and "jarvis outcomes import FILE" in result.stderr
    filtered = jarvis("outcomes", "list", "--source", "rate")
    assert filtered.returncode == 0 and "no outcomes match" in filtered.stderr
    assert jarvis("outcomes", "list", "--json").stdout.strip() == "[]"


def test_rate_names_its_arguments(jarvis: JarvisRunner) -> None:
    shown = jarvis("rate", "--help")
    assert shown.returncode == 0
    assert "jarvis rate [OPTIONS] {RATING|ID} [RATING]" in shown.stdout  # was `{first} []`
    missing = jarvis("rate")
    assert missing.returncode == 2
    assert "Missing argument 'RATING|ID'" in missing.stderr


def test_models_list_help_names_every_capability(jarvis: JarvisRunner) -> None:
    from jarvis_cli.core.registry.records import Capabilities

    shown = jarvis("models", "list", "--help", env={"COLUMNS": "400"})
    assert shown.returncode == 0
    for name in Capabilities._fields:  # pdf_input, structured_output, reasoning were missing
        assert name in shown.stdout, name


def test_probe_with_no_key_says_which_to_add(jarvis: JarvisRunner) -> None:
    for extra in ([], ["--json"]):
        result = jarvis("models", "probe", *extra)
        assert result.returncode == 5
        assert result.stdout == ""
        assert "error: no provider has a key, so there is nothing to probe" in result.stderr
        assert "hint: add a key: jarvis keys add " in result.stderr
        assert "or a local server: jarvis providers add NAME --base-url URL" in result.stderr
    named = jarvis("models", "probe", "openai/gpt-4o-mini")
    assert named.returncode == 5
    assert "openai/gpt-4o-mini: no key for provider 'openai'" in named.stderr
    assert "hint: run `jarvis keys add openai`" in named.stderr


def test_max_cost_refuses_a_named_model_and_narrows_selection(
    fake_provider: FakeProvider, home: Path, jarvis: JarvisRunner
) -> None:
    # What the README's Budget step and `complete --help` now say: exit 7 for --model,
    # exit 6 when selection has no model left under the limit. Nothing is sent either way.
    fake_provider.set_models(["gpt-4o-mini"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[providers.openai]\nbase_url = "{fake_provider.base_url}"\n'
    )
    (home / "config.toml").chmod(0o600)
    env = {"OPENAI_API_KEY": "sk-walk-test-0123456789abc"}
    assert jarvis("models", "sync", "openai", env=env).returncode == 0
    named = jarvis("complete", "hi", "-m", "openai/gpt-4o-mini", "--max-cost", "1e-9", env=env)
    assert named.returncode == 7
    assert "exceeds --max-cost" in named.stderr
    chosen = jarvis("complete", "hi", "--max-cost", "1e-9", env=env)
    assert chosen.returncode == 6
    assert (
        "openai/gpt-4o-mini: estimated $" in chosen.stderr and "raise --max-cost" in chosen.stderr
    )
    assert fake_provider.count("/chat/completions") == 0


def test_empty_log_and_stats_say_what_fills_them(jarvis: JarvisRunner) -> None:
    log = jarvis("log")
    assert log.returncode == 0 and log.stdout == ""
    assert 'no calls recorded yet: each `jarvis complete "…"`' in log.stderr
    stats = jarvis("stats")
    assert stats.returncode == 0 and stats.stdout == ""
    assert "no calls since " in stats.stderr
    assert "records its calls; --since sets the window" in stats.stderr
    assert jarvis("log", "-m", "openai/gpt-4o-mini").stderr.strip() == "no matching calls"


def test_first_request_without_any_key_says_how_to_get_one(jarvis: JarvisRunner) -> None:
    # A fresh home, no key, no local server: the README's Quickstart before `keys add`.
    for command in (["complete", "Explain CRDTs"], ["chat"], ["embed", "hi"]):
        result = jarvis(*command)
        assert result.returncode == 5, command
        assert result.stdout == ""
        assert "error: no provider has a key: the best model would be " in result.stderr
        hint = result.stderr.split("hint: ", 1)[1]
        assert hint.startswith("add a key: jarvis keys add "), hint
        assert (
            "jarvis providers list" in hint and "jarvis providers add NAME --base-url URL" in hint
        )


def test_a_local_server_added_but_not_synced_is_named_with_its_sync(
    fake_provider: FakeProvider, jarvis: JarvisRunner
) -> None:
    added = jarvis("providers", "add", "box", "--base-url", fake_provider.base_url)
    assert added.returncode == 0, added.stderr
    result = jarvis("complete", "hi")
    assert result.returncode == 5
    assert "hint: box has no models yet: jarvis models sync box" in result.stderr
    assert fake_provider.count("/chat/completions") == 0
    assert jarvis("models", "sync", "box").returncode == 0  # the hint's command, then it works
    done = jarvis("complete", "hi", "--no-stream")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello from fake\n"
