"""Streamed answers (SSE) and what every answer carries: headers, error mapping.

The orchestrator runs in a worker thread and hands text deltas to the event loop
through a queue. Nothing is sent before the first delta, so a model that fails
before it is replaced invisibly (the orchestrator falls back) and a request that
fails entirely gets a plain JSON error with its status. After text has been sent,
a failure ends the stream with an `error` event (the SDK raises it) and no other
model's text. A client that goes away sets the request's CancelToken: the open
upstream stream is closed at once and the attempt recorded as `interrupted`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import threading
import time
from typing import TYPE_CHECKING, Any

from jarvis_cli.core.errors import JarvisError
from jarvis_cli.core.runs.attempts import new_request_id
from jarvis_cli.core.runs.cancel import CancelToken, RequestCancelled
from jarvis_cli.core.runs.requests import CompletionRequest, Outcome
from jarvis_cli.serve import asgi, wire
from jarvis_cli.serve.asgi import Disconnected, EventStream, Receive, Scope, Send
from jarvis_cli.serve.errors import ApiError, from_jarvis
from jarvis_cli.serve.requests import Ran, run_completion
from jarvis_cli.serve.stops import StopFilter
from jarvis_cli.serve.tokens import ClientToken

BUFFERED_DELTAS = 64  # text deltas waiting for the client before upstream is held back

if TYPE_CHECKING:
    from jarvis_cli.serve.gateway import Gateway
    from jarvis_cli.serve.metrics import Metrics


def with_headers(req: CompletionRequest, scope: Scope) -> CompletionRequest:
    """Request headers that steer jarvis: max cost, total timeout (s) and task."""
    changes: dict[str, Any] = {}
    timeout = asgi.header(scope, b"x-jarvis-timeout")
    if timeout is not None:
        seconds = _number(timeout, "x-jarvis-timeout", "seconds")
        changes["timeout_s"] = max(0.1, min(seconds, 3600.0))
    cost = asgi.header(scope, b"x-jarvis-max-cost")
    if cost is not None:
        changes["max_cost_usd"] = _number(cost, "x-jarvis-max-cost", "USD")
    task = asgi.header(scope, b"x-jarvis-task")
    if task:
        changes["task"] = task
    return dataclasses.replace(req, **changes) if changes else req


def _number(text: str, name: str, unit: str) -> float:
    """A header's finite number: 'nan' would turn every comparison with it off."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ApiError(400, f"{name} must be a number ({unit})", param=name)
    return value


def api_error(exc: BaseException | None, timed_out: bool = False) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, JarvisError):
        return from_jarvis(exc, deadline_passed=timed_out)
    return ApiError(
        500, "internal error (see the server's log)", type="server_error", code="internal_error"
    )


def id_headers(request_id: str | None) -> list[tuple[str, str]]:
    """The request's id, as jarvis records it and as OpenAI's SDKs read it (x-request-id)."""
    if request_id is None:
        return []
    return [("x-jarvis-request-id", request_id), ("x-request-id", request_id)]


def result_headers(ran: Ran, t0: float) -> list[tuple[str, str]]:
    """x-jarvis-*: who answered, how many attempts, the cost, jarvis's own time."""
    elapsed_ms = (time.perf_counter() - t0) * 1000
    out = [("x-jarvis-attempts", str(ran.attempts))]
    o = ran.outcome
    out += id_headers(o.request_id if o is not None else ran.request_id)
    if o is not None:
        upstream = sum(a.latency_ms or 0.0 for a in o.attempts)
        out += [
            ("x-jarvis-model", o.model_id),
            ("x-jarvis-cost-usd", "unknown" if o.cost_usd is None else f"{o.cost_usd:.8f}"),
            ("x-jarvis-overhead-ms", f"{max(0.0, elapsed_ms - upstream):.2f}"),
        ]
    return out


async def watch(receive: Receive, cancel: CancelToken) -> None:
    """Cancel the request when the client disconnects."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            cancel.cancel()
            return


async def stream(
    gw: Gateway,
    metrics: Metrics,
    scope: Scope,
    receive: Receive,
    send: Send,
    req: CompletionRequest,
    token: ClientToken | None,
    t0: float,
    usage: bool,
    stop: StopFilter,
) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    cancel = CancelToken()
    req = dataclasses.replace(req, cancel=cancel)
    chat = req.kind == "chat"

    slots = threading.Semaphore(BUFFERED_DELTAS)

    def on_text(delta: str) -> None:
        # Back-pressure: a client that reads slowly (or not at all) holds the upstream
        # stream back instead of letting its text pile up here.
        while not slots.acquire(timeout=0.25):
            if cancel.is_set:
                raise RequestCancelled
        if cancel.is_set:
            raise RequestCancelled
        loop.call_soon_threadsafe(queue.put_nowait, ("text", (delta, gw.orchestrator().trying)))

    def work() -> Ran:
        ran = run_completion(gw, req, token, on_text)
        loop.call_soon_threadsafe(queue.put_nowait, ("end", ran))
        return ran

    future = loop.run_in_executor(gw.pool, work)
    watcher = asyncio.create_task(watch(receive, cancel))
    out = EventStream(send)
    created = int(time.time())
    rid = req.request_id or new_request_id()
    model = "-"
    ttft: float | None = None
    try:
        while True:
            kind, value = await queue.get()
            if kind == "text":
                delta, model = value[0], value[1] or model
                if not out.started:
                    ttft = time.perf_counter() - t0
                    await out.start([("x-jarvis-model", model), *id_headers(rid)])
                    if chat:
                        await out.event(
                            wire.chunk(rid, model, created, {"role": "assistant", "content": ""})
                        )
                shown = stop.feed(delta) if not out.ended else ""
                if shown:
                    await out.event(_delta(rid, model, created, shown, chat))
                slots.release()
                if stop.hit and not usage and not out.ended:
                    # The client has its whole answer: its response ends now, and the
                    # worker reads the upstream stream to its end (billed, recorded).
                    watcher.cancel()  # uvicorn reports an ended response as a disconnect
                    await out.event(_finish_chunk(rid, model, created, chat, "stop"))
                    await out.event("[DONE]")
                    await out.end()
                continue
            ran: Ran = value
            if out.ended:  # at a stop sequence, above
                if ran.outcome is not None:
                    _observe_ok(metrics, ran.outcome, chat, t0, ttft)
                else:
                    code = api_error(ran.error, ran.timed_out).code or "error"
                    metrics.observe(req.kind, model, code, time.perf_counter() - t0)
                return
            if ran.outcome is None:
                if isinstance(ran.error, RequestCancelled):
                    metrics.observe(req.kind, model, "interrupted", time.perf_counter() - t0)
                    return
                error = api_error(ran.error, ran.timed_out)
                metrics.observe(req.kind, model, error.code or "error", time.perf_counter() - t0)
                if not out.started:
                    await asgi.send_error(send, error, result_headers(ran, t0))
                    return
                await out.event(error.body())  # the SDK raises APIError on this event
                await out.end()
                return
            await _finish(metrics, out, ran, rid, created, chat, usage, t0, ttft, stop)
            return
    except Disconnected:
        cancel.cancel()
    finally:
        watcher.cancel()
        await future  # the attempt is recorded (interrupted, if cancelled) before we return


def _delta(rid: str, model: str, created: int, text: str, chat: bool) -> dict[str, Any]:
    if chat:
        return wire.chunk(rid, model, created, {"content": text})
    return {
        "id": f"cmpl-{rid}",
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": None}],
    }


async def _finish(
    metrics: Metrics,
    out: EventStream,
    ran: Ran,
    rid: str,
    created: int,
    chat: bool,
    usage: bool,
    t0: float,
    ttft: float | None,
    stop: StopFilter,
) -> None:
    o = ran.outcome
    assert o is not None
    model = o.model_id
    if out.started:
        rest = stop.flush()  # held back in case it began a stop sequence
    else:  # not streamed by the orchestrator (response_format, legacy)
        await out.start(result_headers(ran, t0))
        if chat:
            await out.event(wire.chunk(rid, model, created, {"role": "assistant", "content": ""}))
        rest = stop.cut(o.text)
    if rest:
        await out.event(_delta(rid, model, created, rest, chat))
    if chat and o.tool_calls:
        calls = [{"index": i, **c} for i, c in enumerate(wire.tool_calls_json(o))]
        await out.event(wire.chunk(rid, model, created, {"tool_calls": calls}))
    await out.event(_finish_chunk(rid, model, created, chat, stop.finish_reason(o.finish_reason)))
    if usage:
        last = (
            wire.chunk(rid, model, created, {})
            if chat
            else {
                "id": f"cmpl-{rid}",
                "object": "text_completion",
                "created": created,
                "model": model,
            }
        )
        last["choices"] = []
        last["usage"] = wire.usage_json(o)
        await out.event(last)
    await out.event("[DONE]")
    await out.end()
    _observe_ok(metrics, o, chat, t0, ttft)


def _finish_chunk(rid: str, model: str, created: int, chat: bool, finish: str) -> dict[str, Any]:
    if chat:
        return wire.chunk(rid, model, created, {}, finish)
    return {
        "id": f"cmpl-{rid}",
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "text": "", "logprobs": None, "finish_reason": finish}],
    }


def _observe_ok(metrics: Metrics, o: Outcome, chat: bool, t0: float, ttft: float | None) -> None:
    endpoint = "chat" if chat else "completion"  # as a plain answer counts it
    metrics.observe_answer(endpoint, o, "ok", time.perf_counter() - t0, ttft)
