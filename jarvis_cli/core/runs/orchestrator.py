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
- `--schema`: the answer is never streamed; one that is not JSON or does not match the
  schema is a failed attempt (`bad_output`), recorded, and the next model is tried
  (the same model is not asked again). `--tools`: calls come back in the Outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from jarvis_cli.core.errors import (
    AuthError,
    BadOutputError,
    BudgetExceededError,
    ContextTooLongError,
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
    RequestOptions,
)
from jarvis_cli.core.registry.records import ModelRecord, split_model_id
from jarvis_cli.core.runs.attachments import attachment_tokens
from jarvis_cli.core.runs.attempts import Attempt, measured_attempt, record_attempt
from jarvis_cli.core.runs.bounds import price_turn, request_shape, sent_limit, settle_facts
from jarvis_cli.core.runs.budget import Reservation, release, reserve
from jarvis_cli.core.runs.cancel import RequestCancelled, relay
from jarvis_cli.core.runs.model_ids import note_suggestions
from jarvis_cli.core.runs.plan import plan_models, plan_request
from jarvis_cli.core.runs.requests import CompletionRequest, Outcome
from jarvis_cli.core.runs.retry import backoff_seconds, final_error
from jarvis_cli.core.runs.run_state import RunState
from jarvis_cli.core.runs.structured_request import (
    attempt_options,
    check_explicit_models,
    checked_data,
)
from jarvis_cli.core.selection.bound import InputShape
from jarvis_cli.core.selection.cost import ExpectedOutput, estimate_tokens

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.runs.ledger import RunLedger  # a batch's
    from jarvis_cli.core.runs.limiter import ProviderLimiter  # a batch's

EventSink = Callable[[str], None]
# Stores one attempt (request id, attempt, reservation to settle); returns once stored.
Recorder = Callable[[str, Attempt, Reservation | None], None]

__all__ = ["CompletionRequest", "Orchestrator", "Outcome"]


class Orchestrator:
    """Runs requests for one process; selection learns from what it records."""

    def __init__(
        self,
        ctx: Context,
        *,
        on_event: EventSink | None = None,
        sleep: Callable[[float], None] = time.sleep,
        limiter: ProviderLimiter | None = None,
        ledger: RunLedger | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        from jarvis_cli.core.providers.manager import ProviderManager
        from jarvis_cli.core.registry.model_registry import ModelRegistry
        from jarvis_cli.core.vault.keys import KeyManager

        self.ctx = ctx
        self.registry = ModelRegistry(ctx)
        self.providers = ProviderManager(ctx, KeyManager(ctx))
        self._on_event = on_event or (lambda _msg: None)
        self._sleep = sleep
        self._limiter = limiter  # a batch's per-provider concurrency (AIMD)
        self._ledger = ledger  # a batch's --max-total-cost
        self._recorder = recorder  # a batch's group commit; else a transaction per attempt
        self.attempts_recorded = 0  # by this orchestrator, over all its requests
        self.trying: str | None = None  # the model being tried now (a stream names it)
        self._learned: dict[str, ExpectedOutput] = {}  # selection's expected outputs (plan)

    # --- running --------------------------------------------------------------

    def plan(self, req: CompletionRequest) -> list[str]:
        """The ordered model ids `req` would try (see runs/plan.py `plan_request`)."""
        return plan_request(self.ctx, self.registry, req, self._on_event, self._learned)

    def complete(
        self,
        req: CompletionRequest,
        on_text: Callable[[str], None] | None = None,
        *,
        chain: Sequence[str] | None = None,
        records: Mapping[str, ModelRecord] | None = None,
    ) -> Outcome:
        """Run a chat/completion request; stream text to `on_text` when `req.stream`.

        `chain` is a plan made earlier by `plan()` (a batch reuses one for similar
        lines), `records` its models as `records()` read them then; by default the
        request is planned now and the models are read as they are tried.
        """
        defaults = self.ctx.config.defaults
        chain = self.plan(req) if chain is None else list(chain)
        explicit = [m for m in (req.model, *req.fallbacks) if m and m in chain]
        check_explicit_models(self.registry, self.providers, req, explicit, self._on_event)

        def call(
            adapter: ProviderAdapter, record: ModelRecord, opts: RequestOptions
        ) -> CompletionResult:
            if req.kind == "completion":
                return adapter.complete(req.prompt_text, record.name, opts)
            if not req.stream or on_text is None or req.schema is not None:
                return adapter.chat(req.messages, record.name, opts)
            stream = adapter.stream_chat(req.messages, record.name, opts)
            result = relay(stream, on_text, lambda: setattr(run, "emitted", True), req.cancel)
            if result is None:  # pragma: no cover - the adapter sets it or raises
                raise UnavailableError(f"{record.provider}: stream ended without a result")
            return result

        timeout = req.timeout_s if req.timeout_s is not None else defaults.timeout_s
        extra = attachment_tokens(req.attachments)
        run = RunState(
            kind=req.kind,
            prompt=req.prompt_text,
            options=RequestOptions(
                req.max_tokens or defaults.max_tokens, req.temperature, sampling=req.sampling
            ),
            retries=req.retries if req.retries is not None else defaults.retries,
            max_cost_usd=req.max_cost_usd,
            timeout_s=timeout,
            call=call,
            request=req,
            extra_input_tokens=extra,
            shape=request_shape(req, extra),
            heuristic_input=estimate_tokens(req.prompt_text) + extra,
        )
        return self._run_chain(run, chain, records or {})

    def records(self, chain: Sequence[str]) -> dict[str, ModelRecord]:
        """The models of a plan, as `complete(records=)` takes them."""
        return {model_id: self._record_for(model_id) for model_id in chain}

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

        run = RunState(
            kind="embedding",
            prompt=prompt,
            options=RequestOptions(),
            retries=defaults.retries if retries is None else retries,
            max_cost_usd=None,
            timeout_s=timeout_s or defaults.timeout_s,
            call=call,
            shape=InputShape.of(texts),
            heuristic_input=estimate_tokens(prompt),
        )
        return self._run_chain(run, chain)

    def _record_for(self, model_id: str) -> ModelRecord:
        found = self.registry.get(model_id)
        if found is not None:
            return found
        provider, name = split_model_id(model_id)
        return ModelRecord(id=model_id, provider=provider, name=name, source="user")

    def _run_chain(
        self, run: RunState, chain: Sequence[str], records: Mapping[str, ModelRecord] | None = None
    ) -> Outcome:
        too_small: int | None = None  # a context window that proved too small
        for index, model_id in enumerate(chain):
            record = (records or {}).get(model_id) or self._record_for(model_id)
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
                run.errors.append(note_suggestions(self.ctx, model_id, exc))
                self._on_event(f"skipping {model_id}: {exc.message}")
            except ProviderError as exc:
                if not exc.retryable:
                    raise
                run.errors.append(exc)
                if run.deadline is not None and time.monotonic() >= run.deadline:
                    break
        raise final_error(run.errors, len(run.attempts), chain)

    def _try_model(self, run: RunState, record: ModelRecord) -> Outcome:
        """Reserve the cost bound against the budgets, then try `record`."""
        self.trying = record.id
        learned, batch = self._learned.get(record.id), bool(self._ledger)
        run.cost, run.budgeted = price_turn(self.ctx, run, record, run_limit=batch, learned=learned)
        estimate = run.cost.max_cost_usd  # the bound (runs/bounds.py), not a guess
        held, warnings = reserve(
            self.ctx.store,
            self.ctx.config.budgets,
            provider=record.provider,
            model_id=record.id,
            estimated_cost_usd=estimate,
            max_cost_usd=run.max_cost_usd,
            ttl_s=run.timeout_s + self.ctx.config.budgets.reservation_grace_s,
        )
        run.warnings.extend(warnings)
        run.reservation = held
        paid_before = len(run.attempts)
        try:
            local = self._ledger.reserve(estimate, record.id) if self._ledger else 0.0
            try:
                return self._attempts(run, record)
            finally:
                if self._ledger is not None:
                    turn = run.attempts[paid_before:]
                    self._ledger.settle(local, sum(a.cost_usd or 0.0 for a in turn))
        finally:
            if run.reservation is not None:  # not settled by a successful attempt
                release(self.ctx.store, run.reservation)
                run.reservation = None

    def _attempts(self, run: RunState, record: ModelRecord) -> Outcome:
        """Call `record` up to `run.retries + 1` times within the deadline."""
        adapter = self.providers.adapter(record.provider)  # NoKeyError (exit 5) if no key
        adapter.prepare()  # set-up (~0.8 s for the SDK import here) is not provider latency
        if run.deadline is None:  # the request is built: the total deadline starts now
            run.deadline = time.monotonic() + run.timeout_s
        attempt_no = 0
        while True:
            if run.request is not None and run.request.cancel and run.request.cancel.is_set:
                raise RequestCancelled  # the caller went away: no new attempt for it
            remaining = run.deadline - time.monotonic()
            if remaining <= 0:
                raise UnavailableError(
                    f"the total deadline ({run.timeout_s:g} s) passed before {record.id} "
                    "could be tried; nothing was sent to it",
                    hint="raise --timeout (or [defaults] timeout_s)",
                )
            opts = self._options(run, record, remaining)
            started_at = time.time()
            t0 = time.monotonic()
            try:
                if self._limiter is None:
                    result = run.call(adapter, record, opts)
                else:
                    result = self._limited_call(run, adapter, record, opts)
            except (KeyboardInterrupt, RequestCancelled):
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
            data = None
            if run.request is not None and isinstance(result, CompletionResult):
                try:
                    data = checked_data(run.request, result.text, record.id)
                except BadOutputError as exc:  # falls back; the same model is not asked again
                    exc.provider = record.provider
                    self._record(run, record, started_at, t0, result=result, error=exc)
                    raise
            attempt = self._record(run, record, started_at, t0, result=result)
            return run.outcome(record, result, attempt, data)

    def _limited_call(
        self, run: RunState, adapter: ProviderAdapter, record: ModelRecord, opts: RequestOptions
    ) -> CompletionResult | EmbeddingResult:
        """`run.call` inside the provider's concurrency slot; 429s slow the provider down."""
        assert self._limiter is not None
        with self._limiter.slot(record.provider):
            try:
                result = run.call(adapter, record, opts)
            except ProviderError as exc:
                if exc.status_code == 429:
                    self._limiter.throttled(record.provider)
                raise
        self._limiter.succeeded(record.provider)
        return result

    def _options(self, run: RunState, record: ModelRecord, remaining: float) -> RequestOptions:
        """This attempt's options: the deadline left, and --schema / --tools for `record`."""
        # what was reserved, when budgeted; the deadline left; sampling as asked
        opts = run.options._replace(max_tokens=sent_limit(run), timeout_s=remaining)
        if run.request is None:
            return opts
        strict = (
            run.request.schema is not None and self.providers.spec(record.provider).strict_schema
        )
        return attempt_options(run.request, opts, strict_provider=strict)

    def _record(
        self,
        run: RunState,
        record: ModelRecord,
        started_at: float,
        t0: float,
        *,
        result: CompletionResult | EmbeddingResult | None = None,
        error: ProviderError | None = None,
        cls: str | None = None,
    ) -> Attempt:
        """Store one attempt (its own short transaction) and remember it in `run`.

        An attempt that got an answer (even one that failed a check) settles the
        budget reservation with its actual cost.
        """
        attempt = measured_attempt(
            record,
            run.kind,
            len(run.attempts) + 1,
            started_at,
            t0,
            run.prompt,
            result=result,
            error=error,
            cls=cls,
        )
        attempt, overrun = settle_facts(run, attempt, result is not None)
        if overrun is not None:
            self._on_event(overrun)
        settle = run.reservation if result is not None else None
        if self._recorder is None:
            record_attempt(self.ctx.store, run.request_id, attempt, settle=settle)
        else:
            self._recorder(run.request_id, attempt, settle)
        if settle is not None:
            run.reservation = None
        run.attempts.append(attempt)
        self.attempts_recorded += 1
        return attempt
