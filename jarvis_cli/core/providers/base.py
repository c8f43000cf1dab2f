"""The provider adapter protocol (seed §4.1) and its result types.

Results are frozen dataclasses. Latency is measured by the adapter around the
HTTP call (monotonic clock, milliseconds); `ttft_ms` is the time to the first
text delta of a stream (None when not streamed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, NamedTuple, Protocol

# In their own small module so that selection and the registry, which need only
# these two, do not load the adapter protocol and result types.
from jarvis_cli.core.providers.capabilities import Capabilities as Capabilities
from jarvis_cli.core.providers.capabilities import RequestKind as RequestKind


class Message(NamedTuple):
    role: Literal["system", "user", "assistant", "tool"]
    content: str
    # Content parts (text + image/file parts) when the message has attachments; then
    # they are sent instead of `content`, which stays the plain text of the message.
    parts: tuple[dict[str, Any], ...] = ()
    # Wire fields beyond role/content, sent as given: an assistant turn's `tool_calls`,
    # a tool result's `tool_call_id` (a conversation relayed by `jarvis serve`).
    extra: tuple[tuple[str, Any], ...] = ()


def wire_message(message: Message) -> dict[str, Any]:
    """The chat API form of a message: plain text, or content parts when it has any."""
    wire = {"role": message.role, "content": list(message.parts) or message.content}
    if message.extra:
        wire.update(message.extra)
    return wire


class Usage(NamedTuple):
    """Token counts as reported by the provider (None when it did not say)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


# The longest wait jarvis hands a socket or a timer: past ~1e9 s both overflow time_t
# (OverflowError), so a bigger --timeout or timeout_s is taken as a week ("never").
MAX_TIMEOUT_S = 7 * 24 * 3600.0


class RequestOptions(NamedTuple):
    max_tokens: int | None = None
    temperature: float | None = None
    timeout_s: float | None = None  # per HTTP request; None = the provider's default
    # --schema / --tools (issue 14), sent as given (built by core/runs/structured.py, tools.py)
    response_format: Mapping[str, Any] | None = None
    tools: tuple[Mapping[str, Any], ...] = ()
    tool_choice: str | Mapping[str, Any] | None = None
    sampling: tuple[tuple[str, Any], ...] = ()  # e.g. ("top_p", 0.5), ("seed", 7): sent as given


class ToolCall(NamedTuple):
    """A tool call the model asked for; `arguments` is the JSON text exactly as sent."""

    id: str | None
    name: str
    arguments: str


class CompletionResult(NamedTuple):
    text: str
    usage: Usage
    model: str  # the model name the provider says answered
    finish_reason: str | None
    latency_ms: float
    ttft_ms: float | None = None
    tool_calls: tuple[ToolCall, ...] = ()


class EmbeddingResult(NamedTuple):
    embeddings: list[list[float]]
    usage: Usage
    model: str
    latency_ms: float


class ModelInfo(NamedTuple):
    """A model as listed by a provider's /models endpoint."""

    id: str  # the provider's own model name, e.g. gpt-4o-mini
    name: str
    capabilities: Capabilities = Capabilities()
    context_length: int | None = None
    owned_by: str | None = None
    # Metadata some /models endpoints carry (OpenRouter: pricing, architecture).
    input_cost_per_mtok: float | None = None  # USD per million tokens
    output_cost_per_mtok: float | None = None
    max_output_tokens: int | None = None


class ChatStream(Protocol):
    """Iterate to get text deltas as they arrive; `result` is set once exhausted."""

    def __iter__(self) -> Iterator[str]: ...

    @property
    def result(self) -> CompletionResult | None: ...

    def close(self) -> None: ...


class ProviderAdapter(Protocol):
    """What jarvis needs from a provider. Errors are `jarvis_cli.core.errors.ProviderError`s."""

    name: str

    def prepare(self) -> None:
        """One-time set-up (SDK import, client) done before timed calls; idempotent."""
        ...

    def chat(
        self, messages: Sequence[Message], model: str, options: RequestOptions
    ) -> CompletionResult: ...

    def stream_chat(
        self, messages: Sequence[Message], model: str, options: RequestOptions
    ) -> ChatStream: ...

    def complete(self, prompt: str, model: str, options: RequestOptions) -> CompletionResult: ...

    def embed(
        self, texts: Sequence[str], model: str, options: RequestOptions
    ) -> EmbeddingResult: ...

    def list_models(self) -> list[ModelInfo]: ...

    def validate_key(self) -> None:
        """Return if the provider accepts the key; raise ProviderAuthError if it rejects it."""
        ...
