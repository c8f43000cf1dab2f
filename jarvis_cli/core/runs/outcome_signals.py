"""Automatic outcome signals: what an answered request says about its answers.

Recorded after every answered `complete`/`chat` request (core/runs/outcomes.py has
the weights), only about the answer, never the transport (a 429 or a timeout says
nothing about how good a model's answers are; reliability already counts those):

- `schema` (weight 0.5): with `--schema`, the answering model's answer validated
  (1); every model whose answer did not validate on the way (attempts that ended
  `bad_output`) scores 0;
- `tools` (weight 0.5): the model asked for tool calls whose arguments all parse as
  JSON objects (1) or not (0);
- `truncated` (weight 0.25): the answer stopped at the token limit
  (finish_reason `length`): 0.

Each keeps the completion tokens billed for the answer it judges (`billed_output`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jarvis_cli.core.runs.attempts import Attempt
    from jarvis_cli.core.runs.requests import Outcome
    from jarvis_cli.core.store.connection import StoreHandle


def _arguments_parse(text: str) -> bool:
    try:
        return isinstance(json.loads(text or "{}"), dict)
    except ValueError:
        return False


def billed_output(attempt: Attempt) -> int | None:
    """The completion tokens the provider billed for `attempt` (None: it reported none)."""
    return None if attempt.tokens_estimated else attempt.completion_tokens


def answer_output(outcome: Outcome) -> int | None:
    """The completion tokens billed for `outcome`'s answer (its last answered attempt)."""
    for a in reversed(outcome.attempts):
        if a.ok and a.model_id == outcome.model_id:
            return billed_output(a)
    return None


def signals(outcome: Outcome, *, schema: bool) -> list[tuple[str, str, float, int | None]]:
    """(model, source, score, billed output tokens) of each signal `outcome` gives."""
    found: list[tuple[str, str, float, int | None]] = []
    out = answer_output(outcome)
    if schema:
        found += [
            (a.model_id, "schema", 0.0, billed_output(a))
            for a in outcome.attempts
            if a.error_class == "bad_output"
        ]
        found.append((outcome.model_id, "schema", 1.0, out))
    if outcome.tool_calls:
        ok = all(_arguments_parse(c.arguments) for c in outcome.tool_calls)
        found.append((outcome.model_id, "tools", 1.0 if ok else 0.0, out))
    if outcome.finish_reason == "length":
        found.append((outcome.model_id, "truncated", 0.0, out))
    return found


def record_signals(
    store: StoreHandle, outcome: Outcome, *, schema: bool, prompt: str, keep_prompt: bool
) -> int:
    """Record `outcome`'s signals; how many."""
    found = signals(outcome, schema=schema)
    if not found:
        return 0  # most answers: outcomes (task inference, prompt terms) is never imported
    from jarvis_cli.core.runs.outcomes import record

    for i, (model_id, source, score, output_tokens) in enumerate(found):
        # one row per (request, source): a failed model's signal keys on its own id
        key = outcome.request_id if model_id == outcome.model_id else f"{outcome.request_id}#{i}"
        record(
            store,
            request_id=key,
            model_id=model_id,
            score=score,
            source=source,
            prompt=prompt,
            keep_prompt=keep_prompt,
            output_tokens=output_tokens,
        )
    return len(found)
