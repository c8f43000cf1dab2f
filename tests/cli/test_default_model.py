"""`[defaults] model` and `jarvis config get/set/unset` (issue 24).

Two loopback fake providers, alpha and beta: the default model routes `complete` and
`chat` to beta although selection alone would pick otherwise, like --model does.
"""

from __future__ import annotations

import json
import os
import tomllib

import pytest

from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.fake_provider import Behavior
from tests.terminal import terminal

DEFAULT = "beta/big"


def _chat_requests(fake: object) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/chat/completions"))  # type: ignore[attr-defined]


def test_config_set_get_unset_defaults_model(pair: Pair) -> None:  # noqa: F811
    assert pair.run("config", "get", "defaults.model").returncode == 1  # unset: quiet exit 1
    done = pair.run("config", "set", "defaults.model", DEFAULT)
    assert done.returncode == 0, done.stderr
    assert f"set defaults.model = '{DEFAULT}'" in done.stderr
    raw = tomllib.loads((pair.home / "config.toml").read_text())
    assert raw["defaults"]["model"] == DEFAULT
    assert raw["providers"]["alpha"]  # the rest of the file is kept
    got = pair.run("config", "get", "defaults.model")
    assert (got.returncode, got.stdout) == (0, f"{DEFAULT}\n")
    as_json = json.loads(pair.run("config", "get", "defaults.model", "--json").stdout)
    assert as_json == {"key": "defaults.model", "value": DEFAULT, "set": True}
    retries = pair.run("config", "set", "defaults.retries", "1")
    assert retries.returncode == 0, retries.stderr
    assert pair.run("config", "get", "defaults.retries").stdout == "1\n"
    gone = pair.run("config", "unset", "defaults.model")
    assert gone.returncode == 0 and "removed defaults.model" in gone.stderr
    assert pair.run("config", "get", "defaults.model").returncode == 1


def test_config_set_refuses_bad_values_and_keys_and_leaves_the_file(pair: Pair) -> None:  # noqa: F811
    before = (pair.home / "config.toml").read_text()
    bad_id = pair.run("config", "set", "defaults.model", "no-slash")
    assert bad_id.returncode == 2, bad_id.stderr
    assert "error:" in bad_id.stderr and "no-slash" in bad_id.stderr
    bad_value = pair.run("config", "set", "defaults.retries", "three")
    assert bad_value.returncode == 3, bad_value.stderr
    assert "defaults.retries: expected a whole number from 0 to 10, got 'three'" in bad_value.stderr
    unknown = pair.run("config", "set", "defaults.colour", "blue")
    assert unknown.returncode == 2
    assert "unknown or not settable config key 'defaults.colour'" in unknown.stderr
    assert "defaults.model" in unknown.stderr  # the hint lists the settable keys
    table = pair.run("config", "set", "providers", "x")
    assert table.returncode == 2
    assert (pair.home / "config.toml").read_text() == before
    assert "Traceback" not in bad_id.stderr + bad_value.stderr + unknown.stderr


@pytest.mark.slow(16)
def test_defaults_model_routes_complete_and_chat_and_select_says_so(pair: Pair) -> None:  # noqa: F811
    for name in ("alpha", "beta"):
        assert pair.run("models", "sync", name).returncode == 0
    pair.beta.always("big", Behavior(text="from the default"))
    chosen = json.loads(pair.run("select", "hi", "--json").stdout)
    assert chosen["model_id"] != DEFAULT  # selection alone picks another model
    assert pair.run("config", "set", "defaults.model", DEFAULT).returncode == 0

    done = pair.run("complete", "hi", "--no-stream")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "from the default\n"
    assert f"answered by {DEFAULT}" in done.stderr
    assert _chat_requests(pair.alpha) == 0

    # same rules as --model: an explicit --model wins, and no other fallbacks
    explicit = pair.run("complete", "hi", "--no-stream", "--model", "alpha/fake-chat")
    assert "answered by alpha/fake-chat" in explicit.stderr
    pair.beta.always("big", Behavior(status=503))
    down = pair.run("complete", "hi", "--no-stream", "--retries", "0")
    assert down.returncode == 8, down.stderr
    assert _chat_requests(pair.alpha) == 1  # only the explicit run above: no fallback
    auto = pair.run("complete", "hi", "--no-stream", "--retries", "0", "--fallback", "auto")
    assert auto.returncode == 0, auto.stderr  # opting in to selection's fallbacks works
    pair.beta.always("big", Behavior(text="from the default"))

    shown = pair.run("select", "hi", "--json")
    data = json.loads(shown.stdout)
    assert data["model_id"] == DEFAULT
    assert data["preferred_model"] == {"model_id": DEFAULT, "used": True, "reason": None}
    assert any(f"[defaults] model {DEFAULT} is in force" in n for n in data["notes"])
    human = pair.run("select", "hi")
    assert f"note: [defaults] model {DEFAULT} is in force" in human.stderr

    env = {**os.environ, **pair.env}
    with terminal("chat", env=env) as term:
        assert f"chatting with {DEFAULT}".encode() in term.read_until(b"you> ")
        term.type("hello")
        assert b"from the default" in term.read_until(b"you> ")
        term.type("/exit")
        assert term.wait() == 0
