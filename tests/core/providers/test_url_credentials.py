"""Base URLs with user info: split, displayed masked, sent without user info."""

from __future__ import annotations

from pathlib import Path

import pytest

from jarvis_cli.core.providers.presets import (
    PRESETS,
    ProviderSpec,
    UrlPassword,
    all_providers,
    split_url_password,
    url_credential_source,
)
from jarvis_cli.core.store.config import parse_config


def test_split_url_password_keeps_the_user_and_drops_the_password() -> None:
    assert split_url_password("http://bob:p%40ss@box:8/v1") == ("http://bob@box:8/v1", "p@ss")
    assert split_url_password("http://bob@box/v1") == ("http://bob@box/v1", None)
    assert split_url_password("http://box:8080/v1") == ("http://box:8080/v1", None)


def test_spec_urls_for_display_and_for_requests() -> None:
    spec = ProviderSpec("box", "http://bob@box:8/v1")
    assert spec.basic_user == "bob"
    assert spec.display_url == "http://bob:***@box:8/v1"
    assert spec.request_url == "http://box:8/v1"
    plain = ProviderSpec("x", "http://box/v1")
    assert plain.basic_user is None
    assert plain.display_url == plain.request_url == "http://box/v1"
    assert url_credential_source(plain, "env") is None
    assert url_credential_source(spec, "vault") == "vault"
    assert url_credential_source(spec, None) == "missing"


def test_password_in_config_is_kept_out_of_the_spec_repr(tmp_path: Path) -> None:
    raw = {"providers": {"box": {"base_url": "http://bob:hunter2hunter2@box/v1"}}}
    spec = all_providers(parse_config(raw, tmp_path / "config.toml"))["box"]
    assert spec.base_url == "http://bob@box/v1"
    assert spec.url_password == UrlPassword("hunter2hunter2")
    assert "hunter2" not in repr(spec)
    assert url_credential_source(spec, None) == "config.toml"


def test_only_the_openai_preset_sends_openai_org_unless_a_provider_opts_in(
    tmp_path: Path,
) -> None:
    assert [n for n, s in PRESETS.items() if s.send_openai_org] == ["openai"]
    raw = {
        "providers": {
            "box": {"base_url": "http://box/v1", "send_openai_org": True},
            "openai": {"send_openai_org": False},
        }
    }
    specs = all_providers(parse_config(raw, tmp_path / "config.toml"))
    assert specs["box"].send_openai_org is True
    assert specs["openai"].send_openai_org is False
    assert specs["groq"].send_openai_org is False


def test_password_in_config_is_warned_about_once_per_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from jarvis_cli.core.providers import presets

    monkeypatch.setattr(presets, "_warned_url_password", False)
    raw = {"providers": {"box": {"base_url": "http://bob:hunter2hunter2@box/v1"}}}
    config = parse_config(raw, tmp_path / "config.toml")
    for _ in range(3):
        all_providers(config)
    err = capsys.readouterr().err
    assert err.count("warning: config.toml holds the password of the base_url of box") == 1
    assert "`jarvis keys add box`" in err and "hunter2" not in err
