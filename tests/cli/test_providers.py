"""`jarvis providers`: list, show, add, remove against config.toml."""

from __future__ import annotations

import json
import tomllib

from tests.conftest import JarvisRunner


def test_list_shows_every_preset_with_key_source(jarvis: JarvisRunner) -> None:
    proc = jarvis("providers", "list", "--json", env={"GROQ_API_KEY": "gsk-abcdefghijkl"})
    assert proc.returncode == 0, proc.stderr
    data = {p["name"]: p for p in json.loads(proc.stdout)["providers"]}
    expected = {
        "openai",
        "anthropic",
        "gemini",
        "groq",
        "mistral",
        "deepseek",
        "together",
        "openrouter",
        "fireworks",
        "ollama",
        "vllm",
        "lmstudio",
    }
    assert expected <= set(data)
    assert data["groq"]["key_source"] == "env"
    assert data["openai"]["key_source"] is None and data["openai"]["needs_key"] is True
    assert data["ollama"]["needs_key"] is False
    assert data["openai"]["key_env_vars"] == ["JARVIS_OPENAI_API_KEY", "OPENAI_API_KEY"]
    assert "gsk-abcdefghijkl" not in proc.stdout


def test_add_show_remove_user_provider(jarvis: JarvisRunner, home) -> None:  # type: ignore[no-untyped-def]
    proc = jarvis(
        "providers",
        "add",
        "my-vllm",
        "--base-url",
        "http://10.0.0.5:8000/v1/",
        "--api-key-env",
        "MY_VLLM_KEY",
        "--header",
        "X-Team: infra",
    )
    assert proc.returncode == 0, proc.stderr
    assert "added provider my-vllm" in proc.stderr
    config = tomllib.loads((home / "config.toml").read_text())
    assert config["providers"]["my-vllm"] == {
        "base_url": "http://10.0.0.5:8000/v1",
        "api_key_env": "MY_VLLM_KEY",
        "headers": {"X-Team": "infra"},
    }
    shown = json.loads(jarvis("providers", "show", "my-vllm", "--json").stdout)
    assert shown["base_url"] == "http://10.0.0.5:8000/v1"
    assert shown["key_env_vars"] == ["JARVIS_MY_VLLM_API_KEY", "MY_VLLM_KEY"]
    assert shown["headers"] == ["X-Team"]  # names only: values may be credentials
    assert shown["builtin"] is False and shown["configured"] is True
    proc = jarvis("providers", "remove", "my-vllm")
    assert proc.returncode == 0 and "removed provider my-vllm" in proc.stderr
    proc = jarvis("providers", "show", "my-vllm")
    assert proc.returncode == 2 and "unknown provider 'my-vllm'" in proc.stderr


def test_override_of_preset_can_be_removed_but_preset_stays(jarvis: JarvisRunner) -> None:
    proc = jarvis("providers", "add", "ollama", "--base-url", "http://gpu-box:11434/v1")
    assert proc.returncode == 0 and "overrode built-in provider ollama" in proc.stderr
    shown = json.loads(jarvis("providers", "show", "ollama", "--json").stdout)
    assert shown["base_url"] == "http://gpu-box:11434/v1" and shown["needs_key"] is False
    assert jarvis("providers", "remove", "ollama").returncode == 0
    shown = json.loads(jarvis("providers", "show", "ollama", "--json").stdout)
    assert shown["base_url"] == "http://localhost:11434/v1"


def test_removing_a_builtin_is_refused(jarvis: JarvisRunner) -> None:
    proc = jarvis("providers", "remove", "openai")
    assert proc.returncode == 2
    assert "'openai' is a built-in provider and cannot be removed" in proc.stderr


def test_remove_names_the_vault_keys_it_leaves(jarvis: JarvisRunner) -> None:
    added = jarvis("providers", "add", "my-gw", "--base-url", "http://127.0.0.1:9/v1")
    assert added.returncode == 0, added.stderr
    stored = jarvis("keys", "add", "my-gw", "--stdin", "--no-validate", input="sk-gw-0123456789\n")
    assert stored.returncode == 0, stored.stderr
    proc = jarvis("providers", "remove", "my-gw")
    assert proc.returncode == 0, proc.stderr
    assert "its vault keys stay, in case you add it again: default" in proc.stderr
    assert "`jarvis keys delete my-gw --label LABEL --yes`" in proc.stderr
    assert "sk-gw-0123456789" not in proc.stdout + proc.stderr
    deleted = jarvis("keys", "delete", "my-gw", "--yes")  # the hint works
    assert deleted.returncode == 0 and "deleted my-gw/default" in deleted.stderr
    again = jarvis("providers", "add", "my-gw", "--base-url", "http://127.0.0.1:9/v1")
    assert again.returncode == 0
    quiet = jarvis("providers", "remove", "my-gw")
    assert quiet.returncode == 0 and "vault keys" not in quiet.stderr


def test_remove_unknown_exits_2(jarvis: JarvisRunner) -> None:
    proc = jarvis("providers", "remove", "ghost")
    assert proc.returncode == 2 and "unknown provider 'ghost'" in proc.stderr


def test_bad_name_url_env_and_header_exit_2(jarvis: JarvisRunner) -> None:
    cases = [
        (("Bad Name", "--base-url", "http://x"), "bad provider name 'Bad Name'"),
        (("ok", "--base-url", "ftp://x"), "bad --base-url 'ftp://x'"),
        (("ok", "--base-url", "not a url"), "bad --base-url"),
        (("ok", "--base-url", "http://x", "--api-key-env", "1BAD"), "bad --api-key-env '1BAD'"),
        (("ok", "--base-url", "http://x", "--header", "nocolon"), "bad --header"),
    ]
    for args, message in cases:
        proc = jarvis("providers", "add", *args)
        assert proc.returncode == 2, args
        assert message in proc.stderr, (args, proc.stderr)


def test_add_with_broken_config_exits_3(jarvis: JarvisRunner, home) -> None:  # type: ignore[no-untyped-def]
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[providers\n")
    (home / "config.toml").chmod(0o600)
    proc = jarvis("providers", "add", "x", "--base-url", "http://x")
    assert proc.returncode == 3 and "invalid TOML" in proc.stderr
    assert (home / "config.toml").read_text() == "[providers\n"  # left untouched


def test_doctor_lists_configured_providers_with_key_source(jarvis: JarvisRunner) -> None:
    assert (
        jarvis(
            "providers", "add", "mine", "--base-url", "http://127.0.0.1:9/v1", "--no-key"
        ).returncode
        == 0
    )
    proc = jarvis("doctor", "--json", env={"GROQ_API_KEY": "gsk-doctor-123456"})
    providers = {p["name"]: p for p in json.loads(proc.stdout)["providers"]}
    assert providers["groq"]["key_source"] == "env" and providers["groq"]["needs_key"] is True
    assert providers["mine"] == {
        "name": "mine",
        "base_url": "http://127.0.0.1:9/v1",
        "url_credential": None,
        "needs_key": False,
        "key_source": None,
        "configured": True,
    }
    assert "openai" not in providers  # neither configured nor keyed
    human = jarvis("doctor", env={"GROQ_API_KEY": "gsk-doctor-123456"})
    assert "groq https://api.groq.com/openai/v1 (key: env)" in human.stdout
    assert "mine http://127.0.0.1:9/v1 (key: not needed)" in human.stdout


def test_add_names_the_next_step(jarvis: JarvisRunner) -> None:
    local = jarvis("providers", "add", "box", "--base-url", "http://127.0.0.1:9/v1")
    assert local.returncode == 0, local.stderr
    assert "next: `jarvis models sync box` to list its models" in local.stderr
    remote = jarvis("providers", "add", "far", "--base-url", "https://llm.example.com/v1")
    assert remote.returncode == 0, remote.stderr
    assert "next: `jarvis keys add far`, then `jarvis models sync far`" in remote.stderr
    env = jarvis(
        "providers", "add", "envd", "--base-url", "https://e.example.com/v1",
        "--api-key-env", "ENVD_KEY",
    )  # fmt: skip
    assert "next: `jarvis models sync envd`" in env.stderr and "keys add" not in env.stderr
    again = jarvis("providers", "add", "box", "--base-url", "http://127.0.0.1:9/v1")
    assert again.returncode == 0 and "next:" not in again.stderr  # updated, not new
