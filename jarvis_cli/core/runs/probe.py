"""`jarvis models probe`: measure models' speed with one tiny streamed request each.

Each probe is an ordinary request run by the Orchestrator with the model given
explicitly (no fallback, no retry): it is budget-checked and recorded in `calls`
like any attempt, with its time to first token and completion tokens, so selection's
speed figures (selection/speed.py: TTFT + tokens / throughput) are measured after
one command. `--max-cost` is checked here first against the probe's worst case
(prompt + PROBE_MAX_TOKENS at the model's prices): a model whose bound exceeds it,
or whose price is unknown, is refused before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import AuthError, BudgetExceededError, ExitCode, JarvisError
from jarvis_cli.core.providers.base import Message
from jarvis_cli.core.registry.records import ModelRecord, split_model_id
from jarvis_cli.core.selection.cost import cost_usd, estimate_tokens

PROBE_PROMPT = "Count from 1 to 20, separated by spaces. Reply with the numbers only."
PROBE_MAX_TOKENS = 48
DEFAULT_PROBED = 3  # models probed when none is named: selection's pick and fallbacks


class ProbeResult(NamedTuple):
    model_id: str
    ok: bool
    ttft_ms: float | None = None
    tokens_per_s: float | None = None  # completion tokens / (latency - TTFT)
    latency_ms: float | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    error: str | None = None
    exit_code: int = 0
    sent: bool = True  # False when refused before sending (--max-cost, no key, ...)
    hint: str | None = None  # the error's next step (`jarvis keys add P`, ...)


def probe_bound_usd(record: ModelRecord) -> float | None:
    """The worst-case cost of a probe on `record` (None = price unknown)."""
    return cost_usd(record, estimate_tokens(PROBE_PROMPT), PROBE_MAX_TOKENS)


def default_models(ctx: Context) -> list[str]:
    """What `models probe` measures when no model is named: the model `select --strategy
    performance` picks for a short prompt and its fallbacks."""
    from jarvis_cli.core.runs.plan import first_key_hint
    from jarvis_cli.core.selection.engine import SelectionEngine
    from jarvis_cli.core.selection.types import SelectionRequest

    result = SelectionEngine(ctx).select(
        SelectionRequest(prompt=PROBE_PROMPT, strategy="performance")
    )
    if not result.usable:  # no key anywhere: selection fell back to showing every provider
        raise AuthError(
            f"no provider has a key, so there is nothing to probe (the fastest model would "
            f"be {result.model_id})",
            hint=first_key_hint(ctx, result.provider),
        )
    return [result.model_id, *result.fallbacks][:DEFAULT_PROBED]


def probe_models(
    ctx: Context,
    model_ids: Sequence[str],
    *,
    max_cost_usd: float | None = None,
    timeout_s: float | None = None,
    on_event: Callable[[str], None] | None = None,
) -> list[ProbeResult]:
    """Probe each of `model_ids` in turn; one result each, failures included."""
    from jarvis_cli.core.registry.model_registry import ModelRegistry
    from jarvis_cli.core.runs.orchestrator import Orchestrator
    from jarvis_cli.core.runs.requests import CompletionRequest

    registry = ModelRegistry(ctx)
    orchestrator = Orchestrator(ctx, on_event=on_event)
    results = []
    for model_id in model_ids:
        provider, name = split_model_id(model_id)  # UsageError on a malformed id
        record = registry.get(model_id) or ModelRecord(model_id, provider, name, source="user")
        bound = probe_bound_usd(record)
        if max_cost_usd is not None and (bound is None or bound > max_cost_usd):
            results.append(_refused(model_id, bound, max_cost_usd))
            continue
        request = CompletionRequest(
            messages=(Message("user", PROBE_PROMPT),),
            model=model_id,
            no_fallback=True,
            stream=True,
            max_tokens=PROBE_MAX_TOKENS,
            temperature=0.0,
            max_cost_usd=max_cost_usd,
            timeout_s=timeout_s,
            retries=0,
        )
        before = orchestrator.attempts_recorded
        try:
            outcome = orchestrator.complete(request, on_text=_discard)
        except JarvisError as exc:
            sent = orchestrator.attempts_recorded > before and not isinstance(
                exc, BudgetExceededError
            )
            results.append(
                ProbeResult(
                    model_id,
                    False,
                    error=exc.message,
                    exit_code=exc.exit_code,
                    sent=sent,
                    hint=exc.hint,
                )
            )
            continue
        # What was recorded (the provider's count, else jarvis's estimate from the text),
        # which is what selection's throughput is computed from.
        answered = outcome.attempts[-1] if outcome.attempts else None
        tokens = answered.completion_tokens if answered else outcome.usage.completion_tokens
        rate = None
        if outcome.ttft_ms is not None and tokens and outcome.latency_ms > outcome.ttft_ms:
            rate = tokens * 1000.0 / (outcome.latency_ms - outcome.ttft_ms)
        results.append(
            ProbeResult(
                model_id,
                True,
                outcome.ttft_ms,
                rate,
                outcome.latency_ms,
                tokens,
                outcome.cost_usd,
            )
        )
    return results


def _discard(_text: str) -> None:
    """The probe's answer is not shown: only its timing matters."""


def _refused(model_id: str, bound: float | None, limit: float) -> ProbeResult:
    if bound is None:
        why = f"price unknown, so a probe cannot be bounded by --max-cost ${limit:g}; not sent"
    else:
        why = f"a probe may cost up to ${bound:.6f} > --max-cost ${limit:g}; not sent"
    return ProbeResult(model_id, False, error=why, exit_code=int(ExitCode.BUDGET), sent=False)


def exit_code(results: Sequence[ProbeResult]) -> int:
    """0 when every probe answered; the failure's own code when all failed (the first);
    PARTIAL (10) when some did."""
    failed = [r for r in results if not r.ok]
    if not failed:
        return 0
    if len(failed) == len(results):
        return failed[0].exit_code
    return int(ExitCode.PARTIAL)
