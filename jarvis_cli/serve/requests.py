"""The synchronous half of a request, run in a worker thread: plan, admit, run, settle.

The plan is made once and handed to the orchestrator (`complete(chain=)`), so the
token's model patterns filter exactly the models that will be tried and the
worst-case cost admitted against the token's budget covers each of them: the most
expensive one (only one attempt that gets an answer is paid, except under a
response_format, where a failed validation is paid and falls back: then the sum).
That worst case is issue 23's bound (core/selection/bound.py): each model's input
bound - calibrated from what it billed when it has samples, else the rule of one
token per UTF-8 byte plus the template's allowances - plus the image parts and wire
fields the text does not carry, at the request's output limit. A budgeted token's
request always has that limit ([defaults] max_tokens, else DEFAULT_MAX_TOKENS, when
the client sent none) and it is sent upstream as `max_tokens` (or the preset's
`max_completion_tokens`), so an honest provider cannot bill past what was admitted.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.runs.batch_plans import Plan
from jarvis_cli.core.runs.requests import CompletionRequest, Outcome
from jarvis_cli.serve.admission import Admission, admit, settle
from jarvis_cli.serve.content import log_served
from jarvis_cli.serve.errors import ApiError
from jarvis_cli.serve.gateway import Gateway
from jarvis_cli.serve.tokens import ClientToken

DEFAULT_MAX_TOKENS = 4096
IMAGE_TOKENS = 2000  # an upper bound per image part for the worst case


class Ran(NamedTuple):
    outcome: Outcome | None
    error: BaseException | None
    attempts: int
    spent_usd: float
    timed_out: bool = False  # the request's total deadline had passed when it failed
    request_id: str | None = None  # its attempts' id, when the server chose it


def _extra_tokens(req: CompletionRequest) -> int:
    """Input the messages' text does not carry: image parts (a flat bound each) and wire
    fields such as an assistant turn's tool_calls (JSON: at most a token per byte)."""
    import json

    extra = 0
    for m in req.messages:
        extra += IMAGE_TOKENS * sum(1 for p in m.parts if p.get("type") == "image_url")
        if m.extra:
            extra += len(json.dumps(dict(m.extra), default=str).encode())
    return extra


def _worst_cost(gw: Gateway, req: CompletionRequest, records: Mapping[str, ModelRecord]) -> float:
    """The most `req` can cost on any model of its plan (the sum under a schema)."""
    from jarvis_cli.core.runs.bounds import request_shape
    from jarvis_cli.core.selection.calibration import request_costs
    from jarvis_cli.core.selection.cost import estimate_tokens

    extra = _extra_tokens(req)
    costs = request_costs(
        gw.thread_context().store.conn,
        list(records.values()),
        request_shape(req, extra),
        kind=req.kind,
        output_tokens=req.max_tokens,
        default_output_limit=req.max_tokens or DEFAULT_MAX_TOKENS,
        heuristic_input=estimate_tokens(req.prompt_text) + extra,
    )
    worst = [c.max_cost_usd or 0.0 for c in costs.values()]
    if not worst:
        return 0.0
    return sum(worst) if req.schema is not None else max(worst)


def _plan(gw: Gateway, req: CompletionRequest, token: ClientToken | None) -> Plan:
    chain, records = gw.plan(req)
    if token is not None and token.limits.models:
        chain = [m for m in chain if token.allows(m)]
        records = {m: r for m, r in records.items() if m in chain}
        if not chain:
            raise ApiError(
                403,
                f"token {token.name!r} may not use any model this request could be routed to",
                type="permission_error",
                code="model_not_allowed",
            )
    return chain, records


def run_completion(
    gw: Gateway,
    req: CompletionRequest,
    token: ClientToken | None,
    on_text: Callable[[str], None] | None = None,
) -> Ran:
    """Plan, admit against the token's limits, run on the orchestrator, settle."""
    gw.reset_spend()
    admission: Admission | None = None
    store = gw.thread_context().store
    started = time.monotonic()
    timeout = req.timeout_s or gw.ctx.config.defaults.timeout_s
    try:
        chain, records = _plan(gw, req, token)
        if token is not None and token.limits.admission:
            budgeted = token.limits.daily_usd is not None or token.limits.monthly_usd is not None
            if budgeted and req.max_tokens is None:
                limit = gw.ctx.config.defaults.max_tokens or DEFAULT_MAX_TOKENS
                req = dataclasses.replace(req, max_tokens=limit)
            ttl = timeout + 60
            admission = admit(store, token, _worst_cost(gw, req, records), ttl)
        outcome = gw.orchestrator().complete(req, on_text=on_text, chain=chain, records=records)
        if gw.attempts() > 1:
            gw.plans.invalidate()  # a failed attempt: plan again from what it recorded
        log_served(gw.thread_context(), req, outcome)
        return Ran(outcome, None, gw.attempts(), gw.spent(), request_id=req.request_id)
    except BaseException as exc:  # handed to the event loop, which answers with it
        if gw.attempts():
            gw.plans.invalidate()
        late = time.monotonic() - started >= timeout
        return Ran(None, exc, gw.attempts(), gw.spent(), late, req.request_id)
    finally:
        settle(store, admission, gw.spent())


def run_embedding(
    gw: Gateway, texts: list[str], model: str | None, token: ClientToken | None
) -> Ran:
    """Embed on the orchestrator, admitted against the token's limits like a completion
    (worst case: every input byte a token, at the named model's price)."""
    gw.reset_spend()
    admission: Admission | None = None
    store = gw.thread_context().store
    try:
        if token is not None and token.limits.admission:
            from jarvis_cli.core.selection.cost import cost_usd

            worst = 0.0
            if model is not None:
                record = gw.orchestrator().records([model])[model]
                worst = cost_usd(record, sum(len(t.encode()) for t in texts), 0) or 0.0
            admission = admit(store, token, worst, gw.ctx.config.defaults.timeout_s + 60)
        outcome = gw.orchestrator().embed(texts, model=model)
        return Ran(outcome, None, gw.attempts(), gw.spent())
    except BaseException as exc:
        return Ran(None, exc, gw.attempts(), gw.spent())
    finally:
        settle(store, admission, gw.spent())
