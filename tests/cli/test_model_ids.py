"""Forgiving model ids (issue 27, item 3): bare names, "did you mean", named fallbacks
after a model the server does not know, and chat's /model checking the id.

Two loopback providers (`alpha`, `beta`; tests/cli/test_complete.py) with their models
synced into the registry; every test runs the real CLI.
"""

from __future__ import annotations

import os

import pytest

from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.fake_provider import Behavior
from tests.terminal import terminal


@pytest.fixture
def synced(pair: Pair) -> Pair:  # noqa: F811
    done = pair.run("models", "sync", "alpha", "beta")
    assert done.returncode == 0, done.stderr
    return pair


def test_bare_name_resolves_to_the_one_provider_that_has_it(synced: Pair) -> None:
    result = synced.run("complete", "hi", "-m", "small", "--no-stream")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from fake\n"
    assert "small: using alpha/small (the one provider with a key that has it)" in result.stderr
    assert "answered by alpha/small" in result.stderr
    assert synced.alpha.count("/chat/completions", model="small") == 1


def test_bare_name_of_several_providers_lists_them(synced: Pair) -> None:
    result = synced.run("complete", "hi", "-m", "fake-chat", "--no-stream")
    assert result.returncode == 2, result.stderr
    assert "'fake-chat' is ambiguous: 2 providers with a key have it: " in result.stderr
    assert "alpha/fake-chat, beta/fake-chat" in result.stderr
    assert "hint: name one, e.g. -m alpha/fake-chat" in result.stderr
    assert synced.alpha.count("/chat/completions") == 0


def test_bare_name_only_on_providers_without_a_key_names_keys_add(synced: Pair) -> None:
    result = synced.run("complete", "hi", "-m", "gpt-4o-mini", "--no-stream")
    assert result.returncode == 5, result.stderr
    assert "gpt-4o-mini is served by " in result.stderr
    assert "openai/gpt-4o-mini" in result.stderr
    assert "none of these providers has a key" in result.stderr
    assert "hint: add a key: `jarvis keys add" in result.stderr


def test_bare_typo_gets_did_you_mean(synced: Pair) -> None:
    result = synced.run("complete", "hi", "-m", "smal", "--no-stream")
    assert result.returncode == 2, result.stderr
    assert "unknown model 'smal'" in result.stderr
    assert "hint: did you mean alpha/small?" in result.stderr


def test_model_the_server_does_not_know_moves_to_the_named_fallback(synced: Pair) -> None:
    synced.alpha.always(
        "smal", Behavior(status=404, error_message="The model `smal` does not exist")
    )
    result = synced.run(
        "complete", "hi", "-m", "alpha/smal", "--fallback", "beta/big", "--no-stream"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from fake\n"
    assert "skipping alpha/smal: alpha: HTTP 404 not found" in result.stderr
    assert "(did you mean alpha/small?)" in result.stderr
    assert "answered by beta/big" in result.stderr


def test_model_the_server_does_not_know_alone_is_exit_9_with_did_you_mean(synced: Pair) -> None:
    synced.alpha.always(
        "smal", Behavior(status=404, error_message="The model `smal` does not exist")
    )
    result = synced.run("complete", "hi", "-m", "alpha/smal", "--no-stream")
    assert result.returncode == 9, result.stderr
    assert "error: alpha: HTTP 404 not found (unknown model or endpoint): The model `smal`" in (
        result.stderr
    )
    assert "did you mean alpha/small?" in result.stderr
    assert "hint: check the model id" in result.stderr


def test_chat_model_command_checks_the_id(synced: Pair) -> None:
    env = {**os.environ, **synced.env}
    with terminal("chat", "--model", "alpha/fake-chat", env=env) as term:
        term.read_until(b"you> ")
        term.type("/model alpha/smal")
        out = term.read_until(b"you> ")
        assert b"error: unknown model 'alpha/smal'" in out
        assert b"hint: did you mean alpha/small?" in out
        term.type("/model tiny")
        out = term.read_until(b"you> ")
        assert b"tiny: using alpha/tiny" in out and b"model is alpha/tiny" in out
        term.type("hello")
        term.read_until(b"you> ")
        term.type("/exit")
        assert term.wait() == 0
    assert synced.alpha.count("/chat/completions", model="smal") == 0
    assert synced.alpha.count("/chat/completions", model="tiny") == 1
