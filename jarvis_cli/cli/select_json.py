"""`jarvis select --json`: the stable document, and each shown model's cost figures.

Split from select.py (which renders the table): the JSON contract and the issue-23
cost figures (expected cost and bound per shown model, their calibrations read in one
statement) live here.
"""

from typing import TYPE_CHECKING, Any

from jarvis_cli.cli.common import get_context

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from jarvis_cli.core.registry.records import ModelRecord
    from jarvis_cli.core.selection.cost import RequestCost
    from jarvis_cli.core.selection.types import ScoredCandidate, SelectionResult

TOP_ROWS = 10  # candidates in the JSON without --explain, as in the table


def shown_costs(
    result: "SelectionResult", text: str | None, models: "Sequence[ModelRecord]", out: int | None
) -> "dict[str, RequestCost]":
    """Expected cost and bound of the shown models, their calibrations read at once, each
    expecting the output tokens its outcomes taught (else the default)."""
    from jarvis_cli.core.selection.bound import InputShape
    from jarvis_cli.core.selection.calibration import request_costs

    ctx = get_context()
    from_prompt = result.tokens.input_source == "prompt" and text
    return request_costs(
        ctx.store.conn,
        models,
        InputShape.of([text]) if from_prompt and text else None,
        kind="embedding" if result.tokens.output_tokens == 0 and out is None else "chat",
        output_tokens=out,
        default_output_limit=ctx.config.budgets.max_output_tokens,
        heuristic_input=result.tokens.input_tokens,
        learned=result.learned_outputs,
    )


def candidate_json(c: "ScoredCandidate", rank: int, task: str) -> dict[str, Any]:
    m = c.metrics
    return {
        "rank": rank,
        "model_id": c.model.id,
        "provider": c.model.provider,
        "model_name": c.model.name,
        "usable": c.usable,
        "estimated_cost_usd": c.estimated_cost_usd,
        "estimated_latency_ms": c.expected_latency_ms if c.latency_measured else None,
        "latency_measured": c.latency_measured,
        "calls": m.calls,
        "success_rate": m.success_rate,
        "smoothed_success_rate": round(c.smoothed_success_rate, 4),
        "latency_p50_ms": m.latency_p50_ms,
        "latency_p95_ms": m.latency_p95_ms,
        "ttft_p50_ms": m.ttft_p50_ms,
        "quality": round(c.quality, 4),
        "quality_source": c.quality_source,
        "quality_margin": c.quality_margin,
        "quality_lower": round(c.quality - c.quality_margin, 4),
        "latency_source": "measured" if c.latency_measured else "prior",
        "expected_latency_ms": round(c.expected_latency_ms, 1),
        "quality_model": c.quality_model,
        "learned": None if c.learned is None else c.learned.as_dict(),
        "task": task,
        "versions": c.versions,
        "type_assumed": c.type_assumed,
        "context_length": c.model.context_length,
        "scores": c.scores.as_dict(),
        "total": round(c.total, 4),
        "notes": list(c.notes),
    }


def result_json(
    result: "SelectionResult",
    *,
    all_candidates: bool = False,
    costs: "Mapping[str, RequestCost] | None" = None,
) -> dict[str, Any]:
    """The stable `--json` document of `jarvis select` (see README): the top 10
    candidates (all of them with `all_candidates`, i.e. --explain); with `costs`, each
    shown model's expected cost and bound (`max_cost_usd`)."""
    from jarvis_cli.core.selection.cost import cost_json

    pref = result.preferred_model
    shown = result.candidates if all_candidates else result.candidates[:TOP_ROWS]
    chosen = (costs or {}).get(result.model_id)

    def with_cost(c: "ScoredCandidate", rank: int) -> dict[str, Any]:
        data = candidate_json(c, rank, result.task.category)
        cost = (costs or {}).get(c.model.id)
        data["expected_cost_usd"] = cost.expected_cost_usd if cost else None
        data["max_cost_usd"] = cost.max_cost_usd if cost else None
        return data

    return {
        **cost_json(chosen),
        "model_id": result.model_id,
        "provider": result.provider,
        "model_name": result.model_name,
        "usable": result.usable,
        "strategy": result.strategy,
        "task": result.task.category,
        "task_rule": result.task.rule,
        "weights": result.weights.as_dict(),
        "fallbacks": list(result.fallbacks),
        "estimated_cost_usd": result.estimated_cost_usd,
        "estimated_latency_ms": result.estimated_latency_ms,
        "confidence": result.confidence,
        "reasoning": result.reasoning,
        "input_tokens": result.tokens.input_tokens,
        "input_tokens_source": result.tokens.input_source,
        "output_tokens": result.tokens.output_tokens,
        "preferred_model": None
        if pref is None
        else {"model_id": pref.model_id, "used": pref.used, "reason": pref.reason},
        "notes": list(result.notes),
        "candidate_count": len(result.candidates),
        "candidates": [with_cost(c, i + 1) for i, c in enumerate(shown)],
        "excluded": [
            {"model_id": e.model_id, "code": e.code, "reason": e.reason} for e in result.excluded
        ],
    }
