"""One adapter for OpenAI and every OpenAI-compatible endpoint, over the `openai` SDK.

The SDK's own retries are off (`max_retries=0`): retries and fallbacks are the
orchestrator's job, and it needs to see each failure. `openai` is imported only
when a client is first needed, so building an adapter costs nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from jarvis_cli.core.errors import BadResponseError, ProviderError
from jarvis_cli.core.providers.base import (
    MAX_TIMEOUT_S,
    CompletionResult,
    EmbeddingResult,
    Message,
    ModelInfo,
    RequestOptions,
    ToolCall,
    wire_message,
)
from jarvis_cli.core.providers.model_info import model_info
from jarvis_cli.core.providers.presets import ProviderSpec
from jarvis_cli.core.providers.response_format import as_json_object, refuses_json_schema
from jarvis_cli.core.providers.sdk_client import context_for, on_fresh_stack, skip_platform_probe
from jarvis_cli.core.providers.streaming import OpenAIChatStream, ms_since, usage_of
from jarvis_cli.core.redact import register_secret, scrub_secrets

if TYPE_CHECKING:
    import openai

DEFAULT_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 5.0  # a provider that does not accept a connection in 5 s is down
VALIDATE_TIMEOUT_S = 15.0
# Sent to keyless local servers: the SDK insists on some key, and an empty
# Authorization header confuses some servers.
KEYLESS_PLACEHOLDER = "not-needed"


T = TypeVar("T")


class OpenAICompatAdapter:
    """ProviderAdapter for an OpenAI-compatible endpoint described by a ProviderSpec."""

    def __init__(
        self,
        spec: ProviderSpec,
        api_key: str | None,
        *,
        timeout_s: float | None = None,
        organization: str | None = None,
        project: str | None = None,
        sealed_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self._sealed_headers = dict(sealed_headers or {})  # from the vault (registered)
        self.name = spec.name
        self._api_key = api_key
        if api_key:
            register_secret(api_key)
        self.timeout_s = timeout_s or spec.timeout_s or DEFAULT_TIMEOUT_S
        # Sent only when given: the manager passes the environment's OpenAI ids to
        # providers with `send_openai_org` (the openai preset) and to no one else.
        self._organization = organization or None
        self._project = project or None
        self._client: openai.OpenAI | None = None
        self._chat: Any = None  # client.chat.completions, once used
        # True once the server refused json_schema for json_object (response_format.py)
        self._json_object_only = False

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatAdapter({self.name!r}, base_url={self.spec.display_url!r})"

    # --- plumbing ---------------------------------------------------------------

    @property
    def client(self) -> Any:  # openai.OpenAI; Any because its overloads fight **kwargs
        if self._client is None:
            # The SDK's import and the client's set-up run on a thread of their own
            # (~40 ms less CPU than deep in a command: see sdk_client's module doc).
            self._client = on_fresh_stack(self._new_client)
        return self._client

    def _new_client(self) -> openai.OpenAI:
        import openai

        client = openai.OpenAI(
            api_key=self._api_key or KEYLESS_PLACEHOLDER,
            base_url=self.spec.request_url,
            timeout=self._timeout(None),
            max_retries=0,
            default_headers=self._headers() or None,
            organization=self._organization,
            project=self._project,
            http_client=openai.DefaultHttpxClient(
                verify=context_for(self.spec.request_url, os.environ)
            ),
        )
        skip_platform_probe(client)
        # The SDK fills a None organization/project from OPENAI_ORG_ID and
        # OPENAI_PROJECT_ID: set what this provider should get, explicitly.
        client.organization = self._organization
        client.project = self._project
        if not self.spec.send_openai_org:
            # Likewise OPENAI_CUSTOM_HEADERS (it may even hold an Authorization):
            # another provider gets only its own headers.
            client._custom_headers = self._headers()
        return client

    def _chat_api(self) -> Any:
        """`client.chat.completions`; its first use imports ~30 ms of the SDK's modules,
        on a fresh stack too."""
        if self._chat is None:
            self._chat = on_fresh_stack(lambda: self.client.chat.completions)
        return self._chat

    def _headers(self) -> dict[str, str]:
        """The spec's headers, plus HTTP Basic auth when the base URL names a user: the
        user from the URL, the password from the key (or, legacy, from config.toml)."""
        headers = {**self.spec.headers, **self._sealed_headers}
        user = self.spec.basic_user
        if user is not None:
            import base64

            password = self._api_key or (
                self.spec.url_password.value if self.spec.url_password else ""
            )
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            register_secret(token)
            headers["Authorization"] = f"Basic {token}"
        return headers

    def _timeout(self, timeout_s: float | None) -> Any:
        import openai

        total = min(timeout_s or self.timeout_s, MAX_TIMEOUT_S)
        return openai.Timeout(total, connect=min(CONNECT_TIMEOUT_S, total))

    def _map(self, exc: BaseException) -> ProviderError:
        # Imported on the first failure: an answered request never needs the mapping.
        from jarvis_cli.core.providers.errors import map_exception

        return map_exception(self.name, exc, self._api_key)

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except ProviderError:
            raise
        except Exception as exc:  # every SDK/transport failure is mapped
            raise self._map(exc) from None

    def _bad_response(self, what: str) -> BadResponseError:
        return BadResponseError(f"{self.name}: malformed response ({what})", provider=self.name)

    def _request_args(self, options: RequestOptions, *, chat: bool = True) -> dict[str, Any]:
        args: dict[str, Any] = dict(options.sampling)
        if options.max_tokens is not None:
            # The legacy completions endpoint only knows max_tokens.
            args[self.spec.max_tokens_param if chat else "max_tokens"] = options.max_tokens
        if options.temperature is not None:
            args["temperature"] = options.temperature
        if options.response_format is not None:
            fmt = dict(options.response_format)
            args["response_format"] = as_json_object(fmt) if self._json_object_only else fmt
        if options.tools:
            args["tools"] = [dict(t) for t in options.tools]
            if options.tool_choice is not None:
                args["tool_choice"] = options.tool_choice
        return args

    def _create(self, create: Callable[[dict[str, Any]], T], args: dict[str, Any]) -> T:
        """`create(args)`, sent once more with the schema as `json_object` when the server
        refuses `json_schema` for it (llama.cpp: response_format.py); the provider keeps
        that dialect for the rest of the process."""
        try:
            return self._call(lambda: create(args))
        except ProviderError as err:
            fmt = args.get("response_format")
            if self._json_object_only or fmt is None or not refuses_json_schema(err):
                raise
            self._json_object_only = True
            return self._call(lambda: create({**args, "response_format": as_json_object(fmt)}))

    # --- ProviderAdapter --------------------------------------------------------

    def prepare(self) -> None:
        """Import the SDK and build the client now, so that calls time the network only."""
        _ = self.client

    def chat(
        self, messages: Sequence[Message], model: str, options: RequestOptions
    ) -> CompletionResult:
        # SDK import, client set-up and the resource's lazy import are not provider latency
        self.prepare()
        api = self._chat_api()
        started = time.monotonic()
        response = self._create(
            lambda args: api.create(
                model=model,
                messages=[wire_message(m) for m in messages],
                timeout=self._timeout(options.timeout_s),
                **args,
            ),
            self._request_args(options),
        )
        latency = ms_since(started)
        choices = getattr(response, "choices", None)
        if not choices:
            raise self._bad_response("no choices")
        message = getattr(choices[0], "message", None)
        if message is None:
            raise self._bad_response("no message")
        return CompletionResult(
            text=scrub_secrets(message.content or ""),  # a key echoed back is not shown
            usage=usage_of(getattr(response, "usage", None)),
            model=getattr(response, "model", None) or model,
            finish_reason=choices[0].finish_reason,
            latency_ms=latency,
            tool_calls=self._tool_calls(getattr(message, "tool_calls", None)),
        )

    def _tool_calls(self, raw: Any) -> tuple[ToolCall, ...]:
        """The message's function calls (untrusted text, kept exactly)."""
        calls: list[ToolCall] = []
        for item in raw or ():
            function = getattr(item, "function", None)
            name = getattr(function, "name", None)
            if not isinstance(name, str) or not name:
                raise self._bad_response("a tool call without a function name")
            arguments = getattr(function, "arguments", None)
            call_id = getattr(item, "id", None)
            calls.append(
                ToolCall(
                    call_id if isinstance(call_id, str) else None,
                    name,
                    scrub_secrets(arguments) if isinstance(arguments, str) else "",
                )
            )
        return tuple(calls)

    def stream_chat(
        self, messages: Sequence[Message], model: str, options: RequestOptions
    ) -> OpenAIChatStream:
        self.prepare()
        api = self._chat_api()
        started = time.monotonic()
        sdk_stream = self._create(
            lambda args: api.create(
                model=model,
                messages=[wire_message(m) for m in messages],
                stream=True,
                stream_options={"include_usage": True},
                timeout=self._timeout(options.timeout_s),
                **args,
            ),
            self._request_args(options),
        )
        if isinstance(sdk_stream, str):  # a non-JSON, non-SSE body
            raise self._bad_response("not an event stream")
        deadline = None if options.timeout_s is None else started + options.timeout_s
        return OpenAIChatStream(self.name, self._map, sdk_stream, model, started, deadline)

    def complete(self, prompt: str, model: str, options: RequestOptions) -> CompletionResult:
        self.prepare()  # SDK import and client set-up are not provider latency
        api = self.client.completions
        started = time.monotonic()
        response = self._call(
            lambda: api.create(
                model=model,
                prompt=prompt,
                timeout=self._timeout(options.timeout_s),
                **self._request_args(options, chat=False),
            )
        )
        latency = ms_since(started)
        choices = getattr(response, "choices", None)
        if not choices:
            raise self._bad_response("no choices")
        return CompletionResult(
            text=scrub_secrets(getattr(choices[0], "text", None) or ""),
            usage=usage_of(getattr(response, "usage", None)),
            model=getattr(response, "model", None) or model,
            finish_reason=choices[0].finish_reason,
            latency_ms=latency,
        )

    def embed(self, texts: Sequence[str], model: str, options: RequestOptions) -> EmbeddingResult:
        self.prepare()  # SDK import and client set-up are not provider latency
        api = self.client.embeddings
        started = time.monotonic()
        response = self._call(
            lambda: api.create(
                model=model,
                input=list(texts),
                encoding_format="float",
                timeout=self._timeout(options.timeout_s),
            )
        )
        latency = ms_since(started)
        data = getattr(response, "data", None)
        if not data or len(data) != len(texts):
            raise self._bad_response("wrong number of embeddings")
        vectors = self._vectors(data)
        return EmbeddingResult(
            embeddings=vectors,
            usage=usage_of(getattr(response, "usage", None)),
            model=getattr(response, "model", None) or model,
            latency_ms=latency,
        )

    def _vectors(self, data: Any) -> list[list[float]]:
        """One flat, non-empty float vector per input, in input order, all of one length;
        anything else (a vector per token, nested lists, strings) is a bad response."""
        try:
            ordered = sorted(data, key=lambda d: d.index)
            vectors = [d.embedding for d in ordered]
        except (AttributeError, TypeError):
            raise self._bad_response("embeddings without index or vector") from None
        for v in vectors:
            if not isinstance(v, list) or not v:
                raise self._bad_response("empty embedding")
            if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in v):
                raise self._bad_response("an embedding that is not one flat list of numbers")
        if len({len(v) for v in vectors}) != 1:
            raise self._bad_response("embeddings of different lengths")
        if [d.index for d in ordered] != list(range(len(vectors))):
            raise self._bad_response("embedding indexes do not match the inputs")
        return [[float(x) for x in v] for v in vectors]

    def list_models(self) -> list[ModelInfo]:
        page = self._call(lambda: self.client.models.list(timeout=self._timeout(None)))
        return self._model_infos(page)

    def validate_key(self) -> None:
        """GET /models: ProviderAuthError if the key is rejected, other ProviderErrors otherwise."""
        page = self._call(
            lambda: self.client.models.list(
                timeout=self._timeout(min(self.timeout_s, VALIDATE_TIMEOUT_S))
            )
        )
        self._model_infos(page)

    def _model_infos(self, page: Any) -> list[ModelInfo]:
        if isinstance(page, str):
            raise self._bad_response("not a model list")
        try:
            items = list(page)
        except Exception as exc:  # pagination may hit the network again
            raise self._map(exc) from None
        infos: list[ModelInfo] = []
        for item in items:
            model_id = getattr(item, "id", None)
            if not isinstance(model_id, str) or not model_id:
                raise self._bad_response("a model without an id")
            extra = getattr(item, "model_extra", None) or {}
            infos.append(model_info(model_id, extra, getattr(item, "owned_by", None)))
        return infos
