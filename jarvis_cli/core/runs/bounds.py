"""What the orchestrator reserves for a model, and what it learns from the bill.

`price_turn` gives a model's turn its `RequestCost`: the bound (calibrated input
bound + the output limit + the output allowance) that budgets, `--max-cost` and
`batch --max-total-cost` hold, and the typical expectation. When any of those
applies the turn is *budgeted*: the output limit is sent with every attempt, so an
honest provider cannot bill more than was reserved. `settle_facts` adds to an
answered attempt what was reserved, the overrun when the bill went past it (said on
stderr by the caller), and the calibration sample it teaches.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.runs.attempts import Attempt
from jarvis_cli.core.runs.budget import limits_apply
from jarvis_cli.core.runs.requests import CompletionRequest
from jarvis_cli.core.selection.bound import InputShape
from jarvis_cli.core.selection.calibration import load
from jarvis_cli.core.selection.cost import (
    ExpectedOutput,
    RequestCost,
    output_limit,
    request_cost,
)

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.runs.run_state import RunState

# Bills within this of the bound are rounding, not an overrun.
OVERRUN_EPSILON_USD = 1e-9


def price_turn(
    ctx: Context,
    run: RunState,
    record: ModelRecord,
    *,
    run_limit: bool,
    learned: ExpectedOutput | None = None,
) -> tuple[RequestCost, bool]:
    """`record`'s cost bound and expectation for `run`, and whether the turn is budgeted
    (a [budgets] limit covers its provider, --max-cost, or a run limit applies).
    `learned`: the expected output selection priced `record` at, from outcomes
    (selection/learned_output.py), so the turn's expected cost is the one selection
    ranked on; None (an explicit --model, no outcomes) prices the default."""
    budgets = ctx.config.budgets
    budgeted = run_limit or run.max_cost_usd is not None or limits_apply(budgets, record.provider)
    limit = output_limit(
        run.kind, run.options.max_tokens, budgets.max_output_tokens, record.max_output_tokens
    )
    fit = load(ctx.store.conn, (record.id,)).get(record.id) if run.shape else None
    cost = request_cost(
        record,
        run.shape or InputShape(0, 0, 1),
        fit,
        output_tokens=limit,
        heuristic_input=run.heuristic_input,
        learned=learned,
    )
    return cost, budgeted


def sent_limit(run: RunState) -> int | None:
    """The output-token limit every attempt of `run` sends: what was reserved when the
    turn is budgeted, else --max-tokens (None: no limit is sent)."""
    limit = run.cost.output_limit if run.cost is not None and run.budgeted else None
    return limit or run.options.max_tokens


def settle_facts(run: RunState, attempt: Attempt, answered: bool) -> tuple[Attempt, str | None]:
    """`attempt` with its reservation, overrun and calibration sample (input tokens, and
    completion tokens past the limit sent); and the stderr line that reports an overrun
    (None when the bill stayed within the bound)."""
    if not answered:
        return attempt, None
    cost = run.cost
    sample = overshoot = None
    if run.shape is not None and attempt.prompt_tokens is not None and not attempt.tokens_estimated:
        s = run.shape
        billed = max(0, attempt.prompt_tokens - s.extra_tokens)
        sample = (s.ascii_bytes, s.other_bytes, s.messages, billed)
        limit = sent_limit(run)
        if limit and attempt.completion_tokens is not None:
            overshoot = attempt.completion_tokens - limit
    attempt = replace(attempt, sample=sample, overshoot=overshoot)
    if cost is None or not run.budgeted:
        return attempt, None
    reserved = cost.max_cost_usd
    overrun = None
    note = None
    if reserved is not None and attempt.cost_usd is not None:
        over = attempt.cost_usd - reserved
        if over > OVERRUN_EPSILON_USD:
            overrun = over
            note = (
                f"{attempt.model_id} billed ${attempt.cost_usd:.6f}, over the ${reserved:.6f} "
                f"reserved (overrun ${over:.6f}): {attempt.prompt_tokens} prompt + "
                f"{attempt.completion_tokens} completion tokens against a bound of "
                f"{cost.input_bound} + {cost.output_bound}; recorded, and the model's "
                "calibration widens"
            )
    return replace(attempt, reserved_usd=reserved, overrun_usd=overrun), note


def request_shape(req: CompletionRequest, attachment_tokens: int) -> InputShape:
    """The shape of a chat/completion request: its messages, tools, schema, attachments."""
    texts = [m.content for m in req.messages] if req.kind == "chat" else [req.prompt_text]
    return InputShape.of(
        texts, tools=req.tools, schema=req.schema, attachment_tokens=attachment_tokens
    )
