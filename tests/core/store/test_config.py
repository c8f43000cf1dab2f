"""config.toml: strict validation, clear messages, atomic writes, never rewritten silently."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from jarvis_cli.core.errors import ConfigError, ExitCode, UnsafePermissionsError
from jarvis_cli.core.store.config import Config, load_config, save_raw
from tests.conftest import JarvisRunner


def write_config(home: Path, text: str) -> Path:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_missing_config_gives_defaults(home: Path) -> None:
    config = load_config(home / "config.toml")
    assert config == Config()
    assert config.defaults.strategy == "balanced"
    assert config.defaults.max_fallbacks == 2


def test_valid_config_is_typed(home: Path) -> None:
    path = write_config(
        home,
        """
[defaults]
strategy = "fast"
retries = 3
[providers.local]
base_url = "http://127.0.0.1:9/v1"
headers = { X-Team = "ml" }
[selection.weights.fast]
performance = 1.0
[budgets]
daily_usd = 5
[budgets.providers.openai]
monthly_usd = 20.5
[quality]
"openai/gpt-4o" = 0.9
""",
    )
    config = load_config(path)
    assert config.defaults.strategy == "fast"
    assert config.defaults.retries == 3
    assert config.providers["local"].headers == {"X-Team": "ml"}
    assert config.selection.weights["fast"] == {"performance": 1.0}
    assert config.budgets.daily_usd == 5
    assert config.budgets.providers["openai"].monthly_usd == 20.5
    assert config.quality["openai/gpt-4o"] == 0.9


def test_toml_syntax_error_names_file_and_line(home: Path) -> None:
    path = write_config(home, "[defaults\nstrategy = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in info.value.message
    assert "invalid TOML" in info.value.message
    assert "line 1" in info.value.message
    assert info.value.exit_code == ExitCode.CONFIG


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[defaults]\nretries = 'three'\n",
            "defaults.retries: expected a whole number from 0 to 10, got 'three'",
        ),
        (
            "[defaults]\nretries = 11\n",
            "defaults.retries: expected a whole number from 0 to 10, got 11",
        ),
        ("[defaults]\ncolour = 'red'\n", "unknown key 'defaults.colour'"),
        ("typo = 1\n", "unknown key 'typo'"),
        (
            "[providers.x]\nbase_url = 'ftp://x'\n",
            "providers.x.base_url: expected an http:// or https:// URL",
        ),
        ("[providers.Bad_Name]\nbase_url = 'http://x'\n", "bad name 'Bad_Name'"),
        ("[budgets]\ndaily_usd = -1\n", "budgets.daily_usd: expected a number >= 0, got -1"),
        ("[quality]\n'openai/x' = 2\n", "quality.openai/x: expected a number from 0 to 1, got 2"),
        ("[defaults]\nstrategy = 'fastest'\n", "unknown strategy 'fastest'"),
        ("defaults = 3\n", "defaults: expected a table, got 3"),
    ],
)
def test_schema_errors_name_key_and_expectation(home: Path, text: str, expected: str) -> None:
    path = write_config(home, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert expected in info.value.message
    assert str(path) in info.value.message


def test_bad_config_is_never_rewritten(home: Path, jarvis: JarvisRunner) -> None:
    path = write_config(home, "[defaults]\nretries = 'x'\n")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    result = jarvis("doctor")
    assert result.returncode == ExitCode.CONFIG
    assert "defaults.retries" in result.stderr
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_cli_reports_toml_syntax_error_with_exit_3(home: Path, jarvis: JarvisRunner) -> None:
    write_config(home, "[providers.x\n")
    result = jarvis("doctor", "--json")
    assert result.returncode == 3
    assert "invalid TOML" in result.stderr or "invalid TOML" in result.stdout
    assert "Traceback" not in result.stderr


def test_world_readable_config_is_refused(home: Path) -> None:
    path = write_config(home, "[defaults]\n")
    path.chmod(0o644)
    with pytest.raises(UnsafePermissionsError) as info:
        load_config(path)
    assert "accessible by group or others" in info.value.message
    assert info.value.exit_code == ExitCode.CONFIG


def test_save_raw_writes_atomically_with_private_mode(home: Path) -> None:
    path = home / "config.toml"
    old_umask = os.umask(0o022)
    try:
        config = save_raw(path, {"providers": {"local": {"base_url": "http://127.0.0.1:1/v1"}}})
    finally:
        os.umask(old_umask)
    assert config.providers["local"].base_url == "http://127.0.0.1:1/v1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert load_config(path).providers["local"].base_url == "http://127.0.0.1:1/v1"
    assert [p.name for p in home.iterdir()] == ["config.toml"]  # no temp file left


def test_save_raw_refuses_invalid_document_and_keeps_old_file(home: Path) -> None:
    path = write_config(home, "[defaults]\nretries = 1\n")
    with pytest.raises(ConfigError):
        save_raw(path, {"defaults": {"retries": "many"}})
    assert path.read_text() == "[defaults]\nretries = 1\n"


def test_every_built_in_strategy_is_a_valid_default_strategy(
    home: Path, jarvis: JarvisRunner
) -> None:
    from jarvis_cli.core.selection.scoring import BUILTIN_WEIGHTS
    from jarvis_cli.core.store.config import STRATEGIES

    assert set(STRATEGIES) == set(BUILTIN_WEIGHTS)
    # `quality` is documented for [defaults] strategy and works as --strategy.
    result = jarvis("config", "set", "defaults.strategy", "quality")
    assert result.returncode == 0, result.stderr
    assert load_config(home / "config.toml").defaults.strategy == "quality"
