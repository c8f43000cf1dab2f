"""The custom-endpoint scenario of issue 11 behind a real LiteLLM proxy (mocked answers).

LiteLLM (pinned 1.106.12) is a test-only dependency in its own venv, `<repo>/.venv-litellm` (.ci/run
creates it: `litellm[proxy]` pins an `openai` other than jarvis's). Without it the test
is skipped with the reason. The proxy binds 127.0.0.1 on a free port, loads the local
cost map, has telemetry off and any outbound proxy traffic pointed at a dead port, so it
makes no network traffic; its answers come from `mock_response`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import JarvisRunner
from tests.litellm_proxy import LITELLM, NOT_INSTALLED, start_litellm

ANSWER = "hello from the litellm mock"
JSON_ANSWER = '{"name": "Ada", "age": 36}'

CONFIG = f"""
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: not-a-real-key
      mock_response: "{ANSWER}"
  - model_name: json-mock
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: not-a-real-key
      mock_response: '{JSON_ANSWER}'
  - model_name: tools-mock
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: not-a-real-key
      mock_response: ""
      mock_tool_calls:
        - id: call_1
          type: function
          function:
            name: get_weather
            arguments: '{{"city": "Oslo"}}'
  - model_name: text-embedding-3-small
    litellm_params:
      model: openai/text-embedding-3-small
      api_key: not-a-real-key
litellm_settings:
  telemetry: false
"""

pytestmark = [
    pytest.mark.skipif(
        not LITELLM.exists(),
        reason=NOT_INSTALLED,
    ),
    # One worker runs this module, so the proxy (slow to start) starts once per run.
    pytest.mark.xdist_group("litellm_proxy"),
]


@pytest.fixture(scope="module")
def litellm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from start_litellm(tmp_path_factory.mktemp("litellm"), CONFIG)


def test_litellm_endpoint_is_usable_after_add_and_sync(
    jarvis: JarvisRunner, home: Path, litellm_url: str
) -> None:
    added = jarvis("providers", "add", "box", "--base-url", litellm_url)
    assert added.returncode == 0, added.stderr
    assert "box needs no API key" in added.stderr
    synced = jarvis("models", "sync", "box", "--json")
    assert synced.returncode == 0, synced.stderr

    answer = jarvis("complete", "hi", "--no-stream")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == ANSWER
    assert "box/gpt-4o-mini" in answer.stderr

    sel = jarvis("select", "hi", "--json")
    assert sel.returncode == 0, sel.stderr
    data = json.loads(sel.stdout)
    assert data["model_id"] == "box/gpt-4o-mini"
    assert data["reasoning"].startswith("box/gpt-4o-mini ")
    assert data["candidates"][0]["task"] == "general"
    excluded = {e["model_id"]: e["code"] for e in data["excluded"]}
    assert excluded["box/text-embedding-3-small"] == "type"


def test_litellm_accepts_schema_and_tools_requests(
    jarvis: JarvisRunner, home: Path, litellm_url: str, tmp_path: Path
) -> None:
    added = jarvis("providers", "add", "box", "--base-url", litellm_url)
    assert added.returncode == 0, added.stderr
    answer = jarvis(
        "complete", "who?", "--schema", "name, age int", "-m", "box/json-mock", "--json"
    )
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["data"] == {"name": "Ada", "age": 36}

    tools = tmp_path / "tools.json"
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    tools.write_text(json.dumps([tool]))
    called = jarvis(
        "complete", "weather?", "--tools", str(tools), "--tool-choice", "get_weather",
        "-m", "box/tools-mock", "--no-stream",
    )  # fmt: skip
    assert called.returncode == 0, called.stderr
    assert called.stdout == '{"name": "get_weather", "arguments": {"city": "Oslo"}}\n'


def test_litellm_accepts_an_image_attachment(
    jarvis: JarvisRunner, home: Path, litellm_url: str, tmp_path: Path
) -> None:
    # issue 14: a content-part message (text + PNG data URL) is a request LiteLLM takes.
    assert jarvis("providers", "add", "box", "--base-url", litellm_url).returncode == 0
    assert jarvis("models", "sync", "box").returncode == 0
    marked = jarvis("models", "set", "box/gpt-4o-mini", "--capability", "vision")
    assert marked.returncode == 0, marked.stderr
    image = tmp_path / "dot.png"
    image.write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000005000157a8e1b60000000049454e44ae426082"
        )
    )
    answer = jarvis("complete", "--no-stream", "-a", str(image), "what is this?")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == ANSWER
    assert "box/gpt-4o-mini" in answer.stderr


# --- issue 27: a proxy with a master key; ids typed wrong --------------------------

MASTER_KEY = "sk-master-CANARY-7f3a9b2c4d"
KEYED_CONFIG = f"""
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: not-a-real-key
      mock_response: "{ANSWER}"
general_settings:
  master_key: {MASTER_KEY}
litellm_settings:
  telemetry: false
"""


@pytest.fixture(scope="module")
def keyed_litellm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from start_litellm(tmp_path_factory.mktemp("litellm-keyed"), KEYED_CONFIG)


def test_proxy_with_a_master_key_says_its_auth_failed_and_keys_add_fixes_it(
    jarvis: JarvisRunner, home: Path, keyed_litellm_url: str
) -> None:
    added = jarvis("providers", "add", "litellm", "--base-url", keyed_litellm_url)
    assert added.returncode == 0, added.stderr
    assert "store it with `jarvis keys add litellm`" in added.stderr

    refused = jarvis("complete", "hi", "-m", "litellm/gpt-4o-mini", "--no-stream")
    assert refused.returncode == 5, refused.stderr
    assert "error: litellm: HTTP 400 the proxy refused the key: No connected db." in (
        refused.stderr
    )
    assert "hint: add the proxy's key: `jarvis keys add litellm`" in refused.stderr

    wrong = jarvis("keys", "add", "litellm", "--stdin", input="sk-wrong-0123456789abcdef\n")
    assert wrong.returncode == 5, wrong.stderr
    assert "litellm rejected the key" in wrong.stderr
    assert "--no-validate" not in wrong.stderr

    right = jarvis("keys", "add", "litellm", "--stdin", input=MASTER_KEY + "\n")
    assert right.returncode == 0, right.stderr
    answer = jarvis("complete", "hi", "-m", "litellm/gpt-4o-mini", "--no-stream")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == ANSWER
    for out in (added, refused, wrong, right, answer):
        assert MASTER_KEY not in out.stdout + out.stderr


def test_proxy_typo_moves_to_the_named_fallback_with_did_you_mean(
    jarvis: JarvisRunner, home: Path, litellm_url: str
) -> None:
    assert jarvis("providers", "add", "litellm", "--base-url", litellm_url).returncode == 0
    assert jarvis("models", "sync", "litellm").returncode == 0
    fell_back = jarvis(
        "complete", "hi", "-m", "litellm/gpt4o-mini", "--fallback", "litellm/json-mock",
        "--no-stream",
    )  # fmt: skip
    assert fell_back.returncode == 0, fell_back.stderr
    assert fell_back.stdout.strip() == JSON_ANSWER
    assert "skipping litellm/gpt4o-mini: litellm: HTTP 400 not found" in fell_back.stderr
    assert "Invalid model name passed in model=gpt4o-mini" in fell_back.stderr
    assert "did you mean litellm/gpt-4o-mini?" in fell_back.stderr
    assert "answered by litellm/json-mock" in fell_back.stderr

    alone = jarvis("complete", "hi", "-m", "litellm/gpt4o-mini", "--no-stream")
    assert alone.returncode == 9, alone.stderr
    assert "did you mean litellm/gpt-4o-mini?" in alone.stderr


def test_proxy_bare_name_resolves_to_the_provider_with_a_key(
    jarvis: JarvisRunner, home: Path, litellm_url: str
) -> None:
    # openai has gpt-4o-mini in the catalog but no key; the proxy serves it keyless.
    assert jarvis("providers", "add", "litellm", "--base-url", litellm_url).returncode == 0
    assert jarvis("models", "sync", "litellm").returncode == 0
    answer = jarvis("complete", "hi", "-m", "gpt-4o-mini", "--no-stream")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == ANSWER
    assert "gpt-4o-mini: using litellm/gpt-4o-mini" in answer.stderr
    assert "answered by litellm/gpt-4o-mini" in answer.stderr
