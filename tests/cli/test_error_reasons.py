"""Errors say the provider's reason and the fix (issue 27, items 2, 4 and 5).

Real CLI subprocesses against loopback fake providers (tests/fake_provider.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_jarvis
from tests.fake_provider import LLAMA_JSON_SCHEMA_REFUSAL as LLAMA_500
from tests.fake_provider import Behavior, FakeProvider
from tests.llama_server import LlamaServer

KEY = "sk-errs-CANARY-0123456789abcdef"


@pytest.fixture
def box(home: Path) -> Iterator[FakeProvider]:
    with FakeProvider(api_key=KEY, models=["fake-chat", "smollm2"]) as fake:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        (home / "config.toml").write_text(
            f'[providers.box]\nbase_url = "{fake.base_url}"\n'
            "[retry]\nbackoff_base_s = 0.05\nbackoff_max_s = 0.1\n"
        )
        (home / "config.toml").chmod(0o600)
        yield fake


def _run(*args: str, key: bool = True):  # type: ignore[no-untyped-def]
    return run_jarvis(*args, env={"JARVIS_BOX_API_KEY": KEY if key else None})


def test_server_500_for_an_unsupported_schema_says_why_once_and_keeps_it_whole(
    box: FakeProvider,
) -> None:
    # a llama.cpp server that refuses the json_object dialect too
    box.always(
        "smollm2",
        Behavior(status=500, error_message=LLAMA_500, echo_auth=True, json_object_only=True),
    )
    result = _run(
        "complete", "Who wrote Dune?", "--schema", "title, author, year int", "-m", "box/smollm2"
    )
    assert result.returncode == 9, result.stderr
    assert "box: HTTP 500 request rejected: 1 validation error" in result.stderr
    assert "Input should be 'text' or 'json_object'" in result.stderr
    assert "retrying will not help" in result.stderr
    assert "retrying in" not in result.stderr
    # not retried: sent once more only in the json_object dialect the refusal names
    # (providers/response_format.py), which this server refuses too
    sent = [r.body["response_format"] for r in box.requests if r.model == "smollm2"]
    assert [f["type"] for f in sent] == ["json_schema", "json_object"]
    assert sent[1]["schema"] == sent[0]["json_schema"]["schema"]
    assert KEY not in result.stderr + result.stdout

    listed = _run("log", "--json")
    row = json.loads(listed.stdout)[0]
    assert row["error_class"] == "bad_request" and row["status_code"] == 500
    assert (
        'app.py", line 376, in create_chat_completion POST /v1/chat/completions'
        in (row["error_message"])
    )
    assert KEY not in listed.stdout and "Authorization: [REDACTED]" in row["error_message"]

    shown = _run("log", "show", row["request_id"])
    assert shown.returncode == 0, shown.stderr
    assert "--- attempt 1 (box/smollm2) failed: 1 validation error" in shown.stdout
    assert "in create_chat_completion POST /v1/chat/completions" in shown.stdout
    shown_json = json.loads(_run("log", "show", row["request_id"], "--json").stdout)
    assert shown_json["attempts"][0]["error_message"] == row["error_message"]

    # Not rested: cooldowns count rate_limited/unavailable/bad_response attempts only.
    assert row["error_class"] not in ("rate_limited", "unavailable", "bad_response")


def test_server_500_reason_is_shown_when_every_retry_fails(box: FakeProvider) -> None:
    box.always("fake-chat", Behavior(status=503, error_message="model is loading"))
    result = _run("complete", "hi", "-m", "box/fake-chat", "--no-stream", "--retries", "1")
    assert result.returncode == 8, result.stderr
    assert "box: HTTP 503 provider unavailable: model is loading" in result.stderr


def test_missing_key_for_an_explicit_model_names_keys_add(box: FakeProvider) -> None:
    result = _run("complete", "hi", "-m", "openai/gpt-4o-mini", "--no-stream")
    assert result.returncode == 5, result.stderr
    assert "error: no key for provider 'openai'" in result.stderr
    assert "hint: run `jarvis keys add openai` or set" in result.stderr
    assert "keys validate" not in result.stderr


def test_missing_key_for_provider_option_is_said_first(box: FakeProvider) -> None:
    result = _run("complete", "hi", "--provider", "openai", "--no-stream")
    assert result.returncode == 5, result.stderr
    assert result.stderr.startswith("error: no key for provider 'openai'")
    assert "models excluded" not in result.stderr
    assert "jarvis keys add openai" in result.stderr


def test_rejected_key_says_so_with_the_provider_reason_and_keys_add(box: FakeProvider) -> None:
    result = run_jarvis(
        "complete", "hi", "-m", "box/fake-chat", "--no-stream",
        env={"JARVIS_BOX_API_KEY": "sk-wrong-CANARY-99999999999"},
    )  # fmt: skip
    assert result.returncode == 5, result.stderr
    assert "box: HTTP 401 authentication failed (the key was rejected)" in result.stderr
    assert "Incorrect API key provided" in result.stderr
    assert "jarvis keys add box" in result.stderr
    assert "sk-wrong-CANARY" not in result.stderr


def test_proxy_that_cannot_check_the_key_is_an_auth_failure(box: FakeProvider) -> None:
    # LiteLLM's proxy without its database answers a key it does not know with 400.
    box.always(
        "fake-chat",
        Behavior(status=400, error_message="Authentication Error, No connected db."),
    )
    result = _run("complete", "hi", "-m", "box/fake-chat", "--no-stream")
    assert result.returncode == 5, result.stderr
    assert "box: HTTP 400 the proxy refused the key: Authentication Error, No connected db." in (
        result.stderr
    )
    assert "hint: add the proxy's key: `jarvis keys add box`" in result.stderr


def test_providers_add_on_loopback_points_at_keys_add(jarvis: object, home: Path) -> None:
    added = run_jarvis("providers", "add", "proxy", "--base-url", "http://127.0.0.1:4011")
    assert added.returncode == 0, added.stderr
    assert "if it does need one, store it with `jarvis keys add proxy`" in added.stderr
    assert "--api-key-env" not in added.stderr


def test_real_llama_server_answers_a_schema_in_its_json_object_dialect(
    llama_server: LlamaServer, home: Path
) -> None:
    # llama-cpp-python's server refuses --schema's json_schema response_format with a
    # 500 naming json_object; the schema goes again as {"type": "json_object",
    # "schema": ...} (providers/response_format.py), which its grammar enforces.
    llama_server.configure(home)
    result = run_jarvis(
        "complete", "Is Paris the capital of France?", "--schema", "answer bool",
        "-m", llama_server.model_id, "--max-tokens", "40", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert isinstance(answer["data"]["answer"], bool)
    assert answer["finish_reason"] == "stop"
    rows = json.loads(run_jarvis("log", "--json").stdout)
    assert [r["ok"] for r in rows] == [True]  # one attempt: the refusal is inside it
