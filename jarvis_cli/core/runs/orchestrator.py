"""Run one request: plan models -> call -> retry / fall back -> record every attempt.

Policy (numbers from `[retry]` and `[defaults] retries` in config.toml):

- 429: wait Retry-After (if it is at most `max_retry_after_s`; a longer wait moves
  on at once) or exponential backoff with jitter, up to `retries` retries, then the
  next model. 5xx / timeout / connection error / malformed response: the same.
- 401/403: the provider's key is bad — every model of that provider is skipped.
- context too long: the next model whose context window is larger (or unknown).
- 404: this provider does not serve the model; the next model is tried.
- other 400/422: stop; the request itself is wrong (exit 9).
- `timeout_s` is a total deadline across all attempts and waits, measured from the
  moment the request is built (the first adapter set up, just before the first
  call is sent), so process start-up and selection do not eat it. A stream is
  stopped at the deadline too (checked between chunks).
- Ctrl-C during a call records that attempt as `interrupted`, then propagates.
- A provider that reports no token usage gets an estimate, marked `tokens_estimated`.
- Streaming: a failure before the first token falls back invisibly; after text has
  been shown, stop (exit 8) and keep what was shown — output from another model is
  never appended to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jarvis_cli.core.errors import (
    AuthError,
    BudgetExceededError,
    ContextTooLongError,
    JarvisError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    StreamInterruptedError,
    UnavailableError,
)
from jarvis_cli.core.providers.base import (
    CompletionResult,
    EmbeddingResult,
    ProviderAdapter,
    RequestKind,
    RequestOptions,
    Usage,
)
from jarvis_cli.core.providers.presets import attachment_limit
from jarvis_cli.core.registry.records import ModelRecord, split_model_id
from jarvis_cli.core.runs.attachments import (
    attachment_tokens,
    check_models_accept,
    check_size_limits,
    required_capabilities,
)
from jarvis_cli.core.runs.attempts import Attempt, new_request_id, record_attempt
from jarvis_cli.core.runs.budget import check_budget
from jarvis_cli.core.runs.plan import plan_models
from jarvis_cli.core.runs.requests import CompletionRequest, Outcome
from jarvis_cli.core.runs.retry import backoff_seconds, final_error
from jarvis_cli.core.selection.cost import cost_usd, estimate_request_tokens, estimate_tokens

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context

EventSink = Callable[[str], None]
Call = Callable[[ProviderAdapter, ModelRecord, RequestOptions], CompletionResult | EmbeddingResult]

__all__ = ["CompletionRequest", "Orchestrator", "Outcome"]


@dataclass
class _Run:
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
    extra_input_tokens: int = 0  # attachments' estimate (runs/attachments.py)


class Orchestrator:
    """Runs requests for one process; selection learns from what it records."""

    def __init__(
        self,
        ctx: Context,
        *,
        on_event: EventSink | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from jarvis_cli.core.providers.manager import ProviderManager
        from jarvis_cli.core.registry.model_registry import ModelRegistry
        from jarvis_cli.core.vault.keys import KeyManager

        self.ctx = ctx
        self.registry = ModelRegistry(ctx)
        self.providers = ProviderManager(ctx, KeyManager(ctx))
        self._on_event = on_event or (lambda _msg: None)
        self._sleep = sleep

    # --- running --------------------------------------------------------------

    def complete(
        self, req: CompletionRequest, on_text: Callable[[str], None] | None = None
    ) -> Outcome:
        """Run a chat/completion request; stream text to `on_text` when `req.stream`."""
        defaults = self.ctx.config.defaults
        extra = attachment_tokens(req.attachments)
        chain = plan_models(
            self.ctx,
            req.kind,
            model=req.model,
            fallbacks=req.fallbacks,
            no_fallback=req.no_fallback,
            prompt=req.prompt_text,
            strategy=req.strategy,
            provider=req.provider,
            capabilities=(*req.capabilities, *required_capabilities(req.attachments)),
            max_tokens=req.max_tokens,
            max_cost_usd=req.max_cost_usd,
            task=req.task,
            min_quality=req.min_quality,
            input_tokens=estimate_tokens(req.prompt_text) + extra if extra else None,
        )
        if req.attachments:  # before anything is sent: exit 6 / exit 2
            check_models_accept(self.registry, chain, req.attachments)
            chain = check_size_limits(chain, req.attachments, attachment_limit)

        def call(
            adapter: ProviderAdapter, record: ModelRecord, opts: RequestOptions
        ) -> CompletionResult:
            if req.kind == "completion":
                return adapter.complete(req.prompt_text, record.name, opts)
            if not req.stream or on_text is None:
                return adapter.chat(req.messages, record.name, opts)
            stream = adapter.stream_chat(req.messages, record.name, opts)
            try:
                for delta in stream:
                    run.emitted = True
                    on_text(delta)
            finally:
                stream.close()
            if stream.result is None:  # pragma: no cover - the adapter sets it or raises
                raise UnavailableError(f"{record.provider}: stream ended without a result")
            return stream.result

        timeout = req.timeout_s if req.timeout_s is not None else defaults.timeout_s
        run = _Run(
            kind=req.kind,
            prompt=req.prompt_text,
            options=RequestOptions(
                max_tokens=req.max_tokens or defaults.max_tokens, temperature=req.temperature
            ),
            retries=req.retries if req.retries is not None else defaults.retries,
            max_cost_usd=req.max_cost_usd,
            timeout_s=timeout,
            call=call,
            extra_input_tokens=extra,
        )
        return self._run_chain(run, chain)

    def embed(
        self,
        texts: Sequence[str],
        *,
        model: str | None = None,
        timeout_s: float | None = None,
        retries: int | None = None,
    ) -> Outcome:
        """Embed `texts` with `model` or the selected embedding model (with fallbacks)."""
        defaults = self.ctx.config.defaults
        prompt = "\n".join(texts)
        chain = plan_models(
            self.ctx, "embedding", model=model, fallbacks=(), no_fallback=False, prompt=prompt
        )

        def call(
            adapter: ProviderAdapter, record: ModelRecord, opts: RequestOptions
        ) -> EmbeddingResult:
            return adapter.embed(list(texts), record.name, opts)

        run = _Run(
            kind="embedding",
            prompt=prompt,
            options=RequestOptions(),
            retries=defaults.retries if retries is None else retries,
            max_cost_usd=None,
            timeout_s=timeout_s or defaults.timeout_s,
            call=call,
        )
        return self._run_chain(run, chain)

    def _record_for(self, model_id: str) -> ModelRecord:
        found = self.registry.get(model_id)
        if found is not None:
            return found
        provider, name = split_model_id(model_id)
        return ModelRecord(id=model_id, provider=provider, name=name, source="user")

    def _run_chain(self, run: _Run, chain: Sequence[str]) -> Outcome:
        too_small: int | None = None  # a context window that proved too small
        for index, model_id in enumerate(chain):
            record = self._record_for(model_id)
            if record.provider in run.bad_providers:
                continue
            known = record.context_length
            if too_small is not None and known is not None and known <= too_small:
                continue  # no larger than a window that was already too small
            if index > 0 and run.attempts:
                self._on_event(f"falling back to {model_id}")
            try:
                return self._try_model(run, record)
            except ContextTooLongError as exc:
                run.errors.append(exc)
                too_small = record.context_length or 0
            except (ProviderAuthError, AuthError) as exc:
                run.errors.append(exc)
                run.bad_providers.add(record.provider)
                self._on_event(f"skipping provider {record.provider}: {exc.message}")
            except (BudgetExceededError, ModelNotFoundError) as exc:
                # Too expensive, or not served by this provider: another model may do.
                run.errors.append(exc)
                self._on_event(f"skipping {model_id}: {exc.message}")
            except ProviderError as exc:
                if not exc.retryable:
                    raise
                run.errors.append(exc)
                if run.deadline is not None and time.monotonic() >= run.deadline:
                    break
        raise final_error(run.errors, len(run.attempts), chain)

    def _try_model(self, run: _Run, record: ModelRecord) -> Outcome:
        """Check the budget, then call `record` up to `run.retries + 1` times."""
        tokens = estimate_request_tokens(
            run.kind,
            prompt=run.prompt,
            input_tokens=estimate_tokens(run.prompt) + run.extra_input_tokens
            if run.extra_input_tokens
            else None,
            max_tokens=run.options.max_tokens,
        )
        run.warnings.extend(
            check_budget(
                self.ctx.store.conn,
                self.ctx.config.budgets,
                provider=record.provider,
                model_id=record.id,
                estimated_cost_usd=cost_usd(record, tokens.input_tokens, tokens.output_tokens),
                max_cost_usd=run.max_cost_usd,
            )
        )
        adapter = self.providers.adapter(record.provider)  # NoKeyError (exit 5) if no key
        adapter.prepare()  # set-up (~0.8 s for the SDK import here) is not provider latency
        if run.deadline is None:  # the request is built: the total deadline starts now
            run.deadline = time.monotonic() + run.timeout_s
        attempt_no = 0
        while True:
            remaining = run.deadline - time.monotonic()
            if remaining <= 0:
                raise UnavailableError(
                    f"the total deadline ({run.timeout_s:g} s) passed before {record.id} "
                    "could be tried; nothing was sent to it",
                    hint="raise --timeout (or [defaults] timeout_s)",
                )
            opts = RequestOptions(
                max_tokens=run.options.max_tokens,
                temperature=run.options.temperature,
                timeout_s=remaining,
            )
            started_at = time.time()
            t0 = time.monotonic()
            try:
                result = run.call(adapter, record, opts)
            except KeyboardInterrupt:
                stopped = ProviderError("interrupted by the user", provider=record.provider)
                self._record(run, record, started_at, t0, error=stopped, cls="interrupted")
                raise
            except ProviderError as exc:
                self._record(run, record, started_at, t0, error=exc)
                if run.emitted:
                    raise StreamInterruptedError(
                        f"{record.id}: the stream broke after text was shown ({exc.message}); "
                        "the partial answer above is all there is",
                        provider=record.provider,
                        status_code=exc.status_code,
                    ) from None
                if not exc.retryable or attempt_no >= run.retries:
                    raise
                wait = backoff_seconds(exc, attempt_no, self.ctx.config.retry)
                if wait is None or time.monotonic() + wait >= run.deadline:
                    raise
                self._on_event(f"{record.id}: {exc.message}; retrying in {wait:.1f} s")
                self._sleep(wait)
                attempt_no += 1
                continue
            attempt = self._record(run, record, started_at, t0, result=result)
            return self._outcome(run, record, result, attempt)

    @staticmethod
    def _outcome(
        run: _Run, record: ModelRecord, result: CompletionResult | EmbeddingResult, a: Attempt
    ) -> Outcome:
        completion = result if isinstance(result, CompletionResult) else None
        return Outcome(
            request_id=run.request_id,
            model_id=record.id,
            provider=record.provider,
            text=completion.text if completion else "",
            usage=result.usage,
            cost_usd=a.cost_usd,
            latency_ms=result.latency_ms,
            ttft_ms=completion.ttft_ms if completion else None,
            finish_reason=completion.finish_reason if completion else None,
            attempts=tuple(run.attempts),
            embeddings=result.embeddings if isinstance(result, EmbeddingResult) else None,
            warnings=tuple(run.warnings),
        )

    def _record(
        self,
        run: _Run,
        record: ModelRecord,
        started_at: float,
        t0: float,
        *,
        result: CompletionResult | EmbeddingResult | None = None,
        error: ProviderError | None = None,
        cls: str | None = None,
    ) -> Attempt:
        """Store one attempt (its own short transaction) and remember it in `run`."""
        usage = result.usage if result is not None else Usage()
        estimated = False
        if isinstance(result, CompletionResult) and usage.completion_tokens is None:
            # No usage from the provider (a stream without a usage chunk): estimate.
            estimated = True
            sent = usage.prompt_tokens
            sent = estimate_tokens(run.prompt) if sent is None else sent
            answer = estimate_tokens(result.text)
            usage = Usage(sent, answer, sent + answer)
        cost = None
        if result is not None:
            cost = cost_usd(record, usage.prompt_tokens or 0, usage.completion_tokens or 0)
        attempt = Attempt(
            model_id=record.id,
            provider=record.provider,
            kind=run.kind,
            attempt=len(run.attempts) + 1,
            ok=error is None,
            at=started_at,
            latency_ms=result.latency_ms if result else (time.monotonic() - t0) * 1000,
            ttft_ms=result.ttft_ms if isinstance(result, CompletionResult) else None,
            error_class=cls or (None if error is None else error.error_class),
            status_code=None if error is None else error.status_code,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=cost,
            message=None if error is None else error.message,
            tokens_estimated=estimated,
        )
        record_attempt(self.ctx.store, run.request_id, attempt)
        run.attempts.append(attempt)
        return attempt
