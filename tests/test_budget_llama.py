"""Budgets on a real inference server (issue 23): llama.cpp + SmolLM2 (tests/llama_server.py).

SmolLM2's chat template adds a default system prompt and role markers, and its
tokenizer bills Chinese at ~2 bytes a token: exactly what made the old estimate
(ceil(chars / 4)) reserve less than the bill. Prices are $10,000 per million tokens
in and out, as in the issue, so that cents show. Figures are printed (`pytest -s`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jarvis_cli.core.errors import ExitCode
from tests.conftest import run_jarvis
from tests.llama_server import LlamaServer
from tests.store_access import query

PRICE = "10000"  # USD per million tokens, in and out
PROMPTS = {
    "english": "Name three colours of the rainbow.",
    "chinese": "请用一句话介绍一下北京这座城市的历史。",
    "code": "def add(a, b):\n    return a + b\n\n# What does this function return for add(2, 3)?",
}
THREE_TURNS = ["Tell me a fruit.", "And a vegetable?", "Which one is sweeter?"]
SYSTEM = "You are a terse assistant. Answer in one short sentence."


def _setup(llama_server: LlamaServer, home: Path, budget: str) -> None:
    llama_server.configure(home, f"[budgets]\n{budget}\n")
    priced = run_jarvis(
        "models", "set", llama_server.model_id, "--input-price", PRICE, "--output-price", PRICE
    )
    assert priced.returncode == 0, priced.stderr


def _complete(model: str, *args: str, max_tokens: int = 12) -> dict[str, Any]:
    done = run_jarvis(
        "complete", *args, "--model", model, "--max-tokens", str(max_tokens), "--no-stream",
        "--json", timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    assert ("overrun" in done.stderr) == (data["attempts"][0]["overrun_usd"] is not None)
    return data


def _round(model: str) -> list[tuple[str, dict[str, Any]]]:
    """One of each prompt kind: English, Chinese and code (the last two with a system
    prompt), and a three-turn conversation."""
    out = [
        ("english", _complete(model, PROMPTS["english"])),
        ("chinese", _complete(model, PROMPTS["chinese"], "--system", SYSTEM)),
        ("code", _complete(model, PROMPTS["code"], "--system", SYSTEM)),
    ]
    out.append(("3-turn 1", _complete(model, THREE_TURNS[0], "--system", SYSTEM)))
    for turn in THREE_TURNS[1:]:
        out.append((f"3-turn {len(out) - 2}", _complete(model, turn, "-c")))
    return out


def _check_bounded(kind: str, data: dict[str, Any], max_tokens: int = 12) -> None:
    """The bill is within the reservation: input within its bound, output within the
    limit sent + the allowance. llama-cpp-python does not stop at max_tokens while an
    answer ends mid UTF-8 character (`multibyte_fix` in llama.py); the allowance (16 by
    rule, or what the model was seen to run past, + margin) covers it."""
    (attempt,) = data["attempts"]
    est = data["cost_estimate"]
    assert data["usage"]["prompt_tokens"] <= est["input_tokens_bound"], (kind, data)
    assert est["output_tokens_limit"] == max_tokens  # the limit sent: --max-tokens, unchanged
    assert data["usage"]["completion_tokens"] <= est["output_tokens_bound"], (kind, data)
    assert data["cost_usd"] <= data["max_cost_usd"] + 1e-12, (kind, data)
    assert attempt["reserved_usd"] == pytest.approx(data["max_cost_usd"])
    assert attempt["overrun_usd"] is None
    past = data["usage"]["completion_tokens"] - est["output_tokens_limit"]
    if past > 0:
        OVERSHOOTS.append((kind, past))


OVERSHOOTS: list[tuple[str, int]] = []  # tokens billed past max_tokens, printed

# Chinese answers end mid character at their limit about a third of the time
# (benchmarks/llama_overshoot.py), so these are where the allowance is needed.
CHINESE = [
    "写一首关于秋天的短诗。",
    "解释一下什么是机器学习。",
    "给我讲一个关于猫的故事。",
    "长城是什么时候建造的?",
]


def test_chinese_answers_run_past_max_tokens_and_stay_within_the_reservation(
    llama_server: LlamaServer, home: Path
) -> None:
    _setup(llama_server, home, "daily_usd = 1000.0")
    past: list[tuple[int, int]] = []
    for i in range(16):
        limit = 5 + 7 * (i % 8)  # 5 .. 54
        data = _complete(llama_server.model_id, CHINESE[i % 4], max_tokens=limit)
        _check_bounded("chinese", data, max_tokens=limit)
        past.append((limit, data["usage"]["completion_tokens"]))
    over = [(limit, billed) for limit, billed in past if billed > limit]
    print(f"\nmax_tokens -> completion tokens billed, past the limit: {over}")
    # The bug the allowance covers (llama-cpp-python's multibyte_fix) shows here; were
    # it fixed, this would fail and the rule could be revisited.
    assert over, past


@pytest.mark.slow(260)
def test_every_bill_is_within_its_reservation_and_calibration_brings_the_bound_within_2x(
    llama_server: LlamaServer, home: Path
) -> None:
    _setup(llama_server, home, "daily_usd = 1000.0")
    model = llama_server.model_id
    first = _round(model)
    for kind, data in first:  # before calibration: the rule
        _check_bounded(kind, data)
    assert first[0][1]["cost_estimate"]["source"] == "rule"
    assert first[0][1]["cost_estimate"]["output_source"] == "rule"
    calls = len(first)
    while calls < 20:
        for kind, data in _round(model):
            _check_bounded(kind, data)
            calls += 1
    final = _round(model)
    print(f"\nkind        billed_in  round-1 bound  bound after {calls} calls  ratio")
    for (kind, before), (_, after) in zip(first, final, strict=True):
        _check_bounded(kind, after)
        assert after["cost_estimate"]["source"] == "calibration"
        assert after["cost_estimate"]["samples"] >= 20
        billed = after["usage"]["prompt_tokens"]
        bound = after["cost_estimate"]["input_tokens_bound"]
        rule = before["cost_estimate"]["input_tokens_bound"]
        print(f"{kind:<11} {billed:>9}  {rule:>13}  {bound:>22}  {bound / billed:5.2f}")
        assert bound <= 2 * billed, (kind, billed, bound)
    ((n,),) = query(home, "SELECT n FROM token_calibration")
    assert n == calls + len(final)
    print(f"answers the server ran past max_tokens 12, within the allowance: {OVERSHOOTS}")


@pytest.mark.slow(90)
def test_four_processes_of_eight_concurrent_completes_never_pass_the_daily_limit(
    llama_server: LlamaServer, home: Path, tmp_path: Path
) -> None:
    # A few answers calibrate the model first (the bound then is ~1.2x the bill, see the
    # test above), then the limit is set to what was spent + about 16 more answers:
    # half of the 32 requests. Were the bound below the bill, spend would pass it.
    _setup(llama_server, home, "daily_usd = 1000.0")
    warm = [_complete(llama_server.model_id, PROMPTS["chinese"]) for _ in range(3)]
    for data in warm:
        _check_bounded("warm-up", data)
    one = max(d["cost_usd"] for d in warm)
    limit = round(sum(d["cost_usd"] for d in warm) + 16 * one, 4)
    _setup(llama_server, home, f"daily_usd = {limit}")
    argv = [sys.executable, "-m", "jarvis_cli", "complete", PROMPTS["chinese"]]
    argv += ["--model", llama_server.model_id, "--max-tokens", "12", "--no-stream", "--json"]
    # 4 x 8 = 32 `jarvis complete` processes started at once, as four CI jobs of eight
    # parallel steps would: every one reserves through the same store.
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    procs = [
        subprocess.Popen(argv, env=dict(os.environ), stdin=subprocess.DEVNULL, **pipes)  # type: ignore[call-overload]
        for _ in range(4 * 8)
    ]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    answered = [json.loads(out) for code, out, _ in results if code == 0]
    refused = [err for code, _, err in results if code != 0]
    for code, _, err in results:
        assert code in (0, ExitCode.BUDGET), err
    for err in refused:
        assert "daily total budget exceeded" in err and f"limit ${limit:.4f}" in err
        assert "for llama/smollm2" in err and "Traceback" not in err
    ((spent,),) = query(home, "SELECT COALESCE(SUM(cost_usd), 0) FROM calls")
    print(f"\nanswered {len(answered)} (+3 warm-up), refused {len(refused)}, spent ${spent:.4f}")
    print(f"limit ${limit:.4f}; bound reserved per request ${answered[0]['max_cost_usd']:.4f}")
    assert answered and refused
    # The guarantee (README, Budget): the server bills within the reserved tokens (the
    # output allowance covers llama.cpp's runs past max_tokens), so no limit is passed.
    ((overruns,),) = query(home, "SELECT COALESCE(SUM(overrun_usd), 0) FROM calls")
    assert overruns == 0
    assert spent <= limit + 1e-9
    assert spent == pytest.approx(sum(a["cost_usd"] for a in [*warm, *answered]))
    for data in answered:
        assert data["attempts"][0]["overrun_usd"] is None
        assert data["cost_usd"] <= data["max_cost_usd"] + 1e-9
        assert data["usage"]["completion_tokens"] <= data["cost_estimate"]["output_tokens_bound"]
    assert query(home, "SELECT COUNT(*) FROM budget_reservations") == [(0,)]
