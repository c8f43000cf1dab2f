"""Run one request: plan models -> call -> retry / fall back -> record every attempt.

Policy (retry numbers from `[retry]` and `[defaults] retries` in config.toml):

- 429: wait Retry-After (if it is at most `max_retry_after_s`; a longer wait moves
  on at once) or exponential backoff with jitter, up to `retries` retries, then the
  next model. 5xx / timeout / connection error / malformed response: the same.
- 401/403: the provider's key is bad — every model of that provider is skipped.
- context too long: the next model whose context window is larger (or unknown).
- other 400/422: stop; the request itself is wrong (exit 9).
- `timeout_s` is a total deadline across all attempts and waits.
- Streaming: a failure before the first token falls back invisibly; after text has
  been shown, stop (exit 8) and keep what was shown — output from another model is
  never appended to it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jarvis_cli.core.budget import check_budget
from jarvis_cli.core.calls import Attempt, new_request_id, record_attempt
from jarvis_cli.core.cost import cost_usd, estimate_request_tokens
from jarvis_cli.core.errors import (
    AuthError,
    BudgetExceededError,
    ContextTooLongError,
    JarvisError,
    ModelNotFoundError,
    NoSuitableModelError,
    ProviderAuthError,
    ProviderError,
    RateLimitedError,
    StreamInterruptedError,
    UnavailableError,
)
from jarvis_cli.core.providers.base import (
    CompletionResult,
    EmbeddingResult,
    Message,
    ProviderAdapter,
    RequestKind,
    RequestOptions,
    Usage,
)
from jarvis_cli.core.records import ModelRecord, split_model_id

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.manager import ProviderManager
    from jarvis_cli.core.ranking import SelectionResult
    from jarvis_cli.core.registry import ModelRegistry

EventSink = Callable[[str], None]


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
    stream: bool = False
    max_cost_usd: float | None = None
    timeout_s: float | None = None  # total deadline; None = [defaults] timeout_s
    retries: int | None = None  # per model; None = [defaults] retries

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


@dataclass
class _Run:
    """Mutable state of one request while it runs."""

    request_id: str
    deadline: float
    attempts: list[Attempt] = field(default_factory=list)
    errors: list[JarvisError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bad_providers: set[str] = field(default_factory=set)
    emitted: bool = False


class Orchestrator:
    """Runs requests for one process; selection learns from what it records."""

    def __init__(
        self,
        ctx: Context,
        *,
        on_event: EventSink | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from jarvis_cli.core.manager import ProviderManager
        from jarvis_cli.core.registry import ModelRegistry

        self.ctx = ctx
        self.registry: ModelRegistry = ModelRegistry(ctx)
        self.providers: ProviderManager = ProviderManager(ctx)
        self._on_event = on_event or (lambda _msg: None)
        self._sleep = sleep

    # --- planning -------------------------------------------------------------

    def plan(
        self,
        kind: RequestKind,
        *,
        model: str | None,
        fallbacks: Sequence[str],
        no_fallback: bool,
        prompt: str,
        strategy: str | None = None,
        provider: str | None = None,
        capabilities: Sequence[str] = (),
        max_tokens: int | None = None,
        max_cost_usd: float | None = None,
    ) -> list[str]:
        """The ordered model ids to try: --model, --fallback…, then selection's choice."""
        chain: list[str] = []
        for model_id in (model, *fallbacks):
            if model_id:
                split_model_id(model_id)  # a usage error for a malformed id
                if model_id not in chain:
                    chain.append(model_id)
        if chain and (no_fallback or fallbacks):
            return chain[:1] if no_fallback else chain
        selection = self._select(
            kind,
            prompt=prompt,
            preferred_model=model,
            strategy=strategy,
            provider=provider,
            capabilities=capabilities,
            max_tokens=max_tokens,
            max_cost_usd=max_cost_usd,
            required=not chain,
        )
        if selection is not None:
            for model_id in (selection.model_id, *selection.fallbacks):
                if model_id not in chain:
                    chain.append(model_id)
        return chain[:1] if no_fallback else chain

    def _select(
        self,
        kind: RequestKind,
        *,
        prompt: str,
        preferred_model: str | None,
        strategy: str | None,
        provider: str | None,
        capabilities: Sequence[str],
        max_tokens: int | None,
        max_cost_usd: float | None,
        required: bool,
    ) -> SelectionResult | None:
        from jarvis_cli.core.ranking import SelectionRequest
        from jarvis_cli.core.selection import SelectionEngine

        request = SelectionRequest(
            kind=kind,
            prompt=prompt,
            output_tokens=None if max_tokens is None else max_tokens,
            capabilities=tuple(capabilities),
            preferred_model=preferred_model,
            preferred_provider=provider,
            strategy=strategy,
            max_cost_usd=max_cost_usd,
        )
        try:
            result = SelectionEngine(self.ctx).select(request)
        except NoSuitableModelError:
            if required:
                raise
            return None
        if not result.usable:
            if required:
                raise AuthError(
                    f"no provider has a key: the best model would be {result.model_id}",
                    hint=f"add a key: jarvis keys add {result.provider}",
                )
            return None
        return result

    # --- running --------------------------------------------------------------

    def complete(
        self, req: CompletionRequest, on_text: Callable[[str], None] | None = None
    ) -> Outcome:
        """Run a chat/completion request; stream text to `on_text` when `req.stream`."""
        defaults = self.ctx.config.defaults
        chain = self.plan(
            req.kind,
            model=req.model,
            fallbacks=req.fallbacks,
            no_fallback=req.no_fallback,
            prompt=req.prompt_text,
            strategy=req.strategy,
            provider=req.provider,
            capabilities=req.capabilities,
            max_tokens=req.max_tokens,
            max_cost_usd=req.max_cost_usd,
        )
        options = RequestOptions(
            max_tokens=req.max_tokens or defaults.max_tokens, temperature=req.temperature
        )

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
        run = _Run(request_id=new_request_id(), deadline=time.monotonic() + timeout)
        retries = req.retries if req.retries is not None else defaults.retries
        return self._run_chain(
            run, chain, req.kind, req.prompt_text, options, retries, req.max_cost_usd, call
        )

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
        chain = self.plan("embedding", model=model, fallbacks=(), no_fallback=False, prompt=prompt)
        run = _Run(
            request_id=new_request_id(),
            deadline=time.monotonic() + (timeout_s or defaults.timeout_s),
        )

        def call(
            adapter: ProviderAdapter, record: ModelRecord, opts: RequestOptions
        ) -> EmbeddingResult:
            return adapter.embed(list(texts), record.name, opts)

        return self._run_chain(
            run,
            chain,
            "embedding",
            prompt,
            RequestOptions(),
            defaults.retries if retries is None else retries,
            None,
            call,
        )

    def _record_for(self, model_id: str) -> ModelRecord:
        found = self.registry.get(model_id)
        if found is not None:
            return found
        provider, name = split_model_id(model_id)
        return ModelRecord(id=model_id, provider=provider, name=name, source="user")

    def _run_chain(
        self,
        run: _Run,
        chain: Sequence[str],
        kind: RequestKind,
        prompt: str,
        options: RequestOptions,
        retries: int,
        max_cost_usd: float | None,
        call: Callable[
            [ProviderAdapter, ModelRecord, RequestOptions], CompletionResult | EmbeddingResult
        ],
    ) -> Outcome:
        too_long_at: int | None = None  # context length that was too small, if any
        for index, model_id in enumerate(chain):
            record = self._record_for(model_id)
            if record.provider in run.bad_providers:
                continue
            if (
                too_long_at is not None
                and (record.context_length or 0) <= too_long_at
                and (record.context_length is not None)
            ):
                continue
            if index > 0 and run.attempts:
                self._on_event(f"falling back to {model_id}")
            try:
                outcome = self._try_model(
                    run, record, kind, prompt, options, retries, max_cost_usd, call
                )
            except ContextTooLongError as exc:
                run.errors.append(exc)
                too_long_at = record.context_length or 0
                continue
            except (ProviderAuthError, AuthError) as exc:
                run.errors.append(exc)
                run.bad_providers.add(record.provider)
                self._on_event(f"skipping provider {record.provider}: {exc.message}")
                continue
            except BudgetExceededError as exc:
                run.errors.append(exc)
                self._on_event(f"skipping {model_id}: {exc.message}")
                continue
            except ModelNotFoundError as exc:
                # This provider does not serve the model; another model may still answer.
                run.errors.append(exc)
                self._on_event(f"skipping {model_id}: {exc.message}")
                continue
            except ProviderError as exc:
                if not exc.retryable:
                    raise
                run.errors.append(exc)
                if self._past_deadline(run):
                    break
                continue
            if outcome is not None:
                return outcome
        raise self._final_error(run, chain)

    def _try_model(
        self,
        run: _Run,
        record: ModelRecord,
        kind: RequestKind,
        prompt: str,
        options: RequestOptions,
        retries: int,
        max_cost_usd: float | None,
        call: Callable[
            [ProviderAdapter, ModelRecord, RequestOptions], CompletionResult | EmbeddingResult
        ],
    ) -> Outcome | None:
        tokens = estimate_request_tokens(kind, prompt=prompt, max_tokens=options.max_tokens)
        estimate = cost_usd(record, tokens.input_tokens, tokens.output_tokens)
        run.warnings.extend(
            check_budget(
                self.ctx.store.conn,
                self.ctx.config.budgets,
                provider=record.provider,
                model_id=record.id,
                estimated_cost_usd=estimate,
                max_cost_usd=max_cost_usd,
            )
        )
        adapter = self.providers.adapter(record.provider)  # NoKeyError (exit 5) if no key
        retry_policy = self.ctx.config.retry
        for attempt_no in range(retries + 1):
            remaining = run.deadline - time.monotonic()
            if remaining <= 0:
                raise UnavailableError(f"deadline reached before trying {record.id}")
            opts = RequestOptions(
                max_tokens=options.max_tokens,
                temperature=options.temperature,
                timeout_s=remaining,
            )
            started_at = time.time()
            t0 = time.monotonic()
            try:
                result = call(adapter, record, opts)
            except ProviderError as exc:
                self._record(run, record, kind, started_at, t0, error=exc)
                if run.emitted:
                    raise StreamInterruptedError(
                        f"{record.id}: the stream broke after text was shown ({exc.message}); "
                        "the partial answer above is all there is",
                        provider=record.provider,
                        status_code=exc.status_code,
                    ) from None
                if not exc.retryable or attempt_no == retries:
                    raise
                wait = self._backoff(
                    exc,
                    attempt_no,
                    retry_policy.backoff_base_s,
                    retry_policy.backoff_max_s,
                    retry_policy.max_retry_after_s,
                )
                if wait is None or time.monotonic() + wait >= run.deadline:
                    raise
                self._on_event(f"{record.id}: {exc.message}; retrying in {wait:.1f} s")
                self._sleep(wait)
                continue
            attempt = self._record(run, record, kind, started_at, t0, result=result)
            text = result.text if isinstance(result, CompletionResult) else ""
            return Outcome(
                request_id=run.request_id,
                model_id=record.id,
                provider=record.provider,
                text=text,
                usage=result.usage,
                cost_usd=attempt.cost_usd,
                latency_ms=result.latency_ms,
                ttft_ms=result.ttft_ms if isinstance(result, CompletionResult) else None,
                finish_reason=(
                    result.finish_reason if isinstance(result, CompletionResult) else None
                ),
                attempts=tuple(run.attempts),
                embeddings=result.embeddings if isinstance(result, EmbeddingResult) else None,
                warnings=tuple(run.warnings),
            )
        return None  # pragma: no cover - the loop returns or raises

    @staticmethod
    def _backoff(
        exc: ProviderError, attempt_no: int, base: float, cap: float, max_retry_after: float
    ) -> float | None:
        """Seconds to wait before retrying the same model, or None to move on now."""
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= max_retry_after else None
        # Full jitter: spreads retries of concurrent jarvis processes apart.
        return random.uniform(0, min(cap, base * (2**attempt_no)))

    def _record(
        self,
        run: _Run,
        record: ModelRecord,
        kind: RequestKind,
        started_at: float,
        t0: float,
        *,
        result: CompletionResult | EmbeddingResult | None = None,
        error: ProviderError | None = None,
    ) -> Attempt:
        latency = (time.monotonic() - t0) * 1000
        usage = result.usage if result is not None else Usage()
        cost = None
        if result is not None:
            cost = cost_usd(record, usage.prompt_tokens or 0, usage.completion_tokens or 0)
        attempt = Attempt(
            model_id=record.id,
            provider=record.provider,
            kind=kind,
            attempt=len(run.attempts) + 1,
            ok=error is None,
            at=started_at,
            latency_ms=result.latency_ms if result is not None else latency,
            ttft_ms=result.ttft_ms if isinstance(result, CompletionResult) else None,
            error_class=None if error is None else error.error_class,
            status_code=None if error is None else error.status_code,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=cost,
            message=None if error is None else error.message,
        )
        record_attempt(self.ctx.store, run.request_id, attempt)
        run.attempts.append(attempt)
        return attempt

    @staticmethod
    def _past_deadline(run: _Run) -> bool:
        return time.monotonic() >= run.deadline

    @staticmethod
    def _final_error(run: _Run, chain: Sequence[str]) -> JarvisError:
        """The error to report when every model failed or was skipped."""
        if not run.errors:
            return NoSuitableModelError(
                f"no model could be tried (candidates: {', '.join(chain) or 'none'})"
            )
        kinds = {type(e) for e in run.errors}
        last = run.errors[-1]
        tried = f"{len(run.attempts)} attempt(s) on {len(chain)} model(s)"
        if all(issubclass(k, BudgetExceededError) for k in kinds):
            return last
        if all(issubclass(k, ProviderAuthError | AuthError) for k in kinds):
            return AuthError(
                "every provider tried rejected its key or has none: "
                + "; ".join(e.message for e in run.errors),
                hint="check `jarvis keys list` and `jarvis keys validate`",
            )
        if isinstance(last, ContextTooLongError):
            return ContextTooLongError(
                f"the input is too long for every model tried ({tried}): {last.message}",
                provider=last.provider,
                status_code=last.status_code,
            )
        summary = "; ".join(e.message for e in run.errors[-3:])
        return UnavailableError(
            f"all providers failed after {tried}: {summary}",
            hint="see `jarvis log` for every attempt",
        )
