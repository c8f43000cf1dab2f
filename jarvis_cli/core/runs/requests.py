"""What a request asks for and what it produced: the orchestrator's input and output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jarvis_cli.core.providers.base import Message, RequestKind, ToolCall, Usage
from jarvis_cli.core.runs.attachments import Attachment
from jarvis_cli.core.runs.attempts import Attempt
from jarvis_cli.core.runs.cancel import CancelToken
from jarvis_cli.core.selection.cost import RequestCost


@dataclass(frozen=True)
class CompletionRequest:
    """A chat or completion request as `jarvis complete` / `jarvis chat` build it."""

    messages: tuple[Message, ...]
    kind: RequestKind = "chat"  # chat | completion
    model: str | None = None  # --model: tried first
    fallbacks: tuple[str, ...] = ()  # --fallback: tried next, in order
    no_fallback: bool = False
    strategy: str | None = None
    provider: str | None = None
    capabilities: tuple[str, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    # Other sampling fields sent to the provider as given (`jarvis serve`: top_p, seed,
    # presence/frequency_penalty, logit_bias), as (name, value) pairs.
    sampling: tuple[tuple[str, Any], ...] = ()
    stream: bool = False
    max_cost_usd: float | None = None
    timeout_s: float | None = None  # total deadline; None = [defaults] timeout_s
    retries: int | None = None  # per model; None = [defaults] retries
    task: str | None = None  # --task: quality category for selection; None = inferred
    min_quality: float | None = None  # --min-quality for selection
    # Issue 14: --schema (a JSON Schema, see runs/structured.py), --tools, --tool-choice
    schema: Mapping[str, Any] | None = None
    tools: tuple[Mapping[str, Any], ...] = ()
    tool_choice: str | Mapping[str, Any] | None = None
    # -a: every attachment the messages carry (as parts); they add required
    # capabilities, input tokens and size checks (runs/attachments.py).
    attachments: tuple[Attachment, ...] = ()
    # Set from another thread to stop the request (`jarvis serve`: the client went away).
    cancel: CancelToken | None = field(default=None, compare=False)
    # The id its attempts are recorded under; the caller may choose it, so a request
    # that fails can still be logged with its prompt (issue 27). None: a new one.
    request_id: str | None = None

    @property
    def prompt_text(self) -> str:
        return "\n".join(m.content for m in self.messages)


@dataclass(frozen=True)
class Outcome:
    """What a successful request produced, and every attempt it took."""

    request_id: str
    model_id: str
    provider: str
    text: str
    usage: Usage
    cost_usd: float | None
    latency_ms: float
    ttft_ms: float | None
    finish_reason: str | None
    attempts: tuple[Attempt, ...]
    embeddings: list[list[float]] | None = None
    warnings: tuple[str, ...] = ()
    data: Any = None  # --schema: the parsed, validated answer
    tool_calls: tuple[ToolCall, ...] = ()
    cost: RequestCost | None = None  # the answering model's bound and expectation
