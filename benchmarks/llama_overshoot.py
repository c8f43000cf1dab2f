"""How far past `max_tokens` a real llama.cpp server bills (issue 23, output bound).

llama-cpp-python 0.3.x does not check `max_tokens` while an answer ends mid UTF-8
character (`multibyte_fix` in llama.py): it generates on until the character is
complete, and bills those tokens. This sends the requests jarvis sends (model,
messages, max_tokens; no temperature, no seed) to the test server
(tests/llama_server.py: SmolLM2-135M) for English, Chinese, code, three-turn,
system-prompt and emoji requests over max_tokens 1..64, and prints the distribution
of completion_tokens - max_tokens per kind.

    .venv/bin/python -m benchmarks.llama_overshoot [--requests 300] [--seed 23]
"""

from __future__ import annotations

import argparse
import collections
import random
import time
from typing import Any

from tests.llama_server import MODEL_ALIAS, start_server

SYSTEM = "You are a terse assistant. Answer in one short sentence."
CHINESE = [
    "请用一句话介绍一下北京这座城市的历史。",
    "写一首关于秋天的短诗。",
    "解释一下什么是机器学习。",
    "上海和广州有什么不同?",
    "给我讲一个关于猫的故事。",
    "中国有哪些传统节日?请详细介绍。",
    "如何学习编程?请给出建议。",
    "长城是什么时候建造的?",
]
ENGLISH = [
    "Name three colours of the rainbow.",
    "Write a short poem about the sea.",
    "Explain photosynthesis to a child.",
    "What is the capital of France and why is it famous?",
]
CODE = [
    "def add(a, b):\n    return a + b\n\n# What does this function return for add(2, 3)?",
    "Write a Python function that reverses a string.",
    "for i in range(3):\n    print(i)\n# Explain this loop.",
]
EMOJI = ["Reply only with emoji: how do you feel today? 😀🎉", "用表情符号描述天气 ☀️🌧️"]
TURNS = [
    ["Tell me a fruit.", "And a vegetable?", "Which one is sweeter?"],
    ["你好", "你喜欢什么颜色?", "为什么?"],
]


def _messages(kind: str, rng: random.Random) -> list[dict[str, str]]:
    if kind == "english":
        return [{"role": "user", "content": rng.choice(ENGLISH)}]
    if kind == "chinese":
        return [{"role": "user", "content": rng.choice(CHINESE)}]
    if kind == "code":
        return [{"role": "user", "content": rng.choice(CODE)}]
    if kind == "emoji":
        return [{"role": "user", "content": rng.choice(EMOJI)}]
    if kind == "system":
        text = rng.choice([*ENGLISH, *CHINESE, *CODE])
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]
    turns = rng.choice(TURNS)  # three turns: earlier answers are short fixed texts
    out: list[dict[str, str]] = []
    for i, turn in enumerate(turns):
        out.append({"role": "user", "content": turn})
        if i < len(turns) - 1:
            out.append({"role": "assistant", "content": "苹果。" if "你" in turn else "An apple."})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args()
    import openai

    rng = random.Random(args.seed)
    kinds = ["chinese"] * 4 + ["english", "code", "three-turn", "system", "emoji"]
    server = start_server()
    over: dict[str, list[int]] = collections.defaultdict(list)
    worst: list[tuple[int, str, int, Any]] = []
    started = time.monotonic()
    try:
        client = openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0)
        for _ in range(args.requests):
            kind = rng.choice(kinds)
            limit = rng.randint(1, 64)
            r = client.chat.completions.create(
                model=MODEL_ALIAS, messages=_messages(kind, rng), max_tokens=limit
            )  # type: ignore[call-overload]
            assert r.usage is not None
            d = r.usage.completion_tokens - limit
            over[kind].append(d)
            if d > 0:
                worst.append((d, kind, limit, r.choices[0].message.content))
    finally:
        server.stop()
    took = time.monotonic() - started
    print(f"{args.requests} requests in {took:.0f} s; completion_tokens - max_tokens:")
    print(f"{'kind':<11} {'n':>4} {'past limit':>10} {'max':>4}  overshoot counts")
    everything = [d for ds in over.values() for d in ds]
    for kind, ds in [*sorted(over.items()), ("all", everything)]:
        past = [d for d in ds if d > 0]
        counts = dict(sorted(collections.Counter(past).items()))
        print(f"{kind:<11} {len(ds):>4} {len(past):>10} {max(ds):>4}  {counts}")
    for d, kind, limit, text in sorted(worst, reverse=True)[:5]:
        print(f"  +{d} {kind} max_tokens={limit}: {text!r}")


if __name__ == "__main__":
    main()
