"""One request while the orchestrator runs it: what it asks for, what happened so far."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from jarvis_cli.core.errors import JarvisError
from jarvis_cli.core.providers.base import (
    CompletionResult,
    EmbeddingResult,
    ProviderAdapter,
    RequestKind,
    RequestOptions,
)
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.runs.attempts import Attempt, new_request_id
from jarvis_cli.core.runs.budget import Reservation
from jarvis_cli.core.runs.requests import CompletionRequest, Outcome
from jarvis_cli.core.selection.bound import InputShape
from jarvis_cli.core.selection.cost import RequestCost

Call = Callable[[ProviderAdapter, ModelRecord, RequestOptions], CompletionResult | EmbeddingResult]


@dataclass
class RunState:
    """One request while it runs: what it asks for, and what happened so far."""

    kind: RequestKind
    prompt: str  # for token and cost estimates
    options: RequestOptions
    retries: int  # per model
    max_cost_usd: float | None
    timeout_s: float  # the total deadline, once it starts
    call: Call
    deadline: float | None = None  # time.monotonic(); set when the request is built
    request_id: str = field(default_factory=new_request_id)
    attempts: list[Attempt] = field(default_factory=list)
    errors: list[JarvisError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bad_providers: set[str] = field(default_factory=set)
    emitted: bool = False  # text has been shown to the user
    reservation: Reservation | None = None  # budget held for the model being tried
    request: CompletionRequest | None = None  # chat/completion: for --schema / --tools
    extra_input_tokens: int = 0  # attachments' estimate (runs/attachments.py)
    # Issue 23 (runs/bounds.py): the input's shape for the token bound, the typical
    # input estimate, and the model being tried: its cost bound, whether it is budgeted.
    shape: InputShape | None = None
    heuristic_input: int = 0
    cost: RequestCost | None = None
    budgeted: bool = False

    def __post_init__(self) -> None:
        if self.request is not None and self.request.request_id:
            self.request_id = self.request.request_id  # chosen by the caller

    def outcome(
        self,
        record: ModelRecord,
        result: CompletionResult | EmbeddingResult,
        a: Attempt,
        data: object = None,
    ) -> Outcome:
        """The request's result: `record` answered with `result` in attempt `a`."""
        completion = result if isinstance(result, CompletionResult) else None
        return Outcome(
            request_id=self.request_id,
            model_id=record.id,
            provider=record.provider,
            text=completion.text if completion else "",
            usage=result.usage,
            cost_usd=a.cost_usd,
            latency_ms=result.latency_ms,
            ttft_ms=completion.ttft_ms if completion else None,
            finish_reason=completion.finish_reason if completion else None,
            attempts=tuple(self.attempts),
            embeddings=result.embeddings if isinstance(result, EmbeddingResult) else None,
            warnings=tuple(self.warnings),
            data=data,
            tool_calls=completion.tool_calls if completion else (),
            cost=self.cost,
        )
