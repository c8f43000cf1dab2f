"""The custom-endpoint scenario of issue 11 behind a real LiteLLM proxy (mocked answers).

LiteLLM (pinned 1.106.12) is a test-only dependency in its own venv, `<repo>/.venv-litellm` (.ci/run
creates it: `litellm[proxy]` pins an `openai` other than jarvis's). Without it the test
is skipped with the reason. The proxy binds 127.0.0.1 on a free port, loads the local
cost map, has telemetry off and any outbound proxy traffic pointed at a dead port, so it
makes no network traffic; its answers come from `mock_response`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import JarvisRunner

REPO = Path(__file__).resolve().parents[2]
LITELLM = REPO / ".venv-litellm" / "bin" / "litellm"
START_TIMEOUT_S = 120.0  # litellm imports a lot; the machine may be loaded
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
        reason=f"LiteLLM proxy not installed at {LITELLM} (.ci/run creates .venv-litellm)",
    ),
    # One worker runs this module, so the proxy (slow to start) starts once per run.
    pytest.mark.xdist_group("litellm_proxy"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def litellm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("litellm")
    config = work / "config.yaml"
    config.write_text(CONFIG)
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(work),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "LITELLM_DONT_SHOW_FEEDBACK_BOX": "True",
        "DISABLE_SCHEMA_UPDATE": "True",
        "PYTHONDONTWRITEBYTECODE": "1",  # the venv may be shared: write nothing into it
        # The scenario is an endpoint without a key; it listens on 127.0.0.1 only.
        "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
        # Anything that tries to leave the machine fails fast instead.
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    log = (work / "litellm.log").open("wb")
    proc = subprocess.Popen(
        [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"litellm exited {proc.returncode}: {(work / 'litellm.log').read_text()}"
                )
            try:
                with urllib.request.urlopen(f"{base}/v1/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"litellm not up after {START_TIMEOUT_S:.0f} s")
            time.sleep(0.5)
        yield f"{base}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


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
