"""The benchmark's fake upstream: an OpenAI-compatible chat endpoint answering in 20 ms.

Raw ASGI on uvicorn, in its own process (benchmarks/serve.py starts it):
    python benchmarks/serve_upstream.py PORT [DELAY_S]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

DELAY_S = float(sys.argv[2]) if len(sys.argv) > 2 else 0.020


def _answer(model: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "pong"},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
        }
    ).encode()


MODELS = json.dumps(
    {"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "bench"}]}
).encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    raw = b""
    while more:
        message = await receive()
        raw += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["path"].endswith("/models"):
        body = MODELS
    else:
        await asyncio.sleep(DELAY_S)
        model = json.loads(raw or b"{}").get("model", "fake")
        body = _answer(model)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
