"""The ASGI application: routes, client tokens, and the responses of each endpoint.

Raw ASGI on uvicorn (no framework): a request costs a dict lookup for its route, a
bounded body read and one hop to a worker thread, where the orchestrator runs.
The event loop never touches the store or a provider, so `/healthz` and `/metrics`
answer at once however many requests are waiting on providers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import time
from typing import Any

from jarvis_cli.core.errors import JarvisError
from jarvis_cli.core.runs.attempts import new_request_id
from jarvis_cli.core.runs.cancel import CancelToken, RequestCancelled
from jarvis_cli.core.runs.requests import CompletionRequest
from jarvis_cli.serve import asgi, streams
from jarvis_cli.serve.asgi import Disconnected, Receive, Scope, Send
from jarvis_cli.serve.errors import ApiError, from_jarvis, safe_text
from jarvis_cli.serve.gateway import Gateway
from jarvis_cli.serve.metrics import Metrics
from jarvis_cli.serve.requests import Ran, run_completion, run_embedding
from jarvis_cli.serve.stops import StopFilter
from jarvis_cli.serve.stops import parse as parse_stops
from jarvis_cli.serve.tokens import ClientToken, active_by_hash, token_hash
from jarvis_cli.serve.wire import Route

TOKENS_TTL_S = 2.0  # a token added or revoked elsewhere counts here within this
MODEL_PATH = "/v1/models/"
NO_PREFIX = ("/healthz", "/metrics")
OPEN_ENV = "JARVIS_SERVE_OPEN"  # set by `jarvis serve` when it may serve without tokens


class App:
    def __init__(self, gateway: Gateway, *, open_without_tokens: bool) -> None:
        self.gw = gateway
        self.metrics = Metrics()
        self.open = open_without_tokens
        self._tokens: dict[str, ClientToken] = {}
        self._tokens_at = -1e9
        self._loading: asyncio.Future[None] | None = None
        self._routes = {
            ("GET", "/healthz"): self.healthz,
            ("GET", "/metrics"): self.prometheus,
            ("GET", "/v1/models"): self.models,
            ("POST", "/v1/chat/completions"): self.chat,
            ("POST", "/v1/completions"): self.completions,
            ("POST", "/v1/embeddings"): self.embeddings,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = _route_path(scope)
        handler = self._routes.get((scope["method"], path))
        if handler is None and scope["method"] == "GET" and path.startswith(MODEL_PATH):
            handler = self.model  # the SDK's models.retrieve(ID); an ID has a '/' in it
        started = False

        async def tracked(message: asgi.Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            if handler is None:
                allowed = [m for m, p in self._routes if p == path]
                raise ApiError(
                    405 if allowed else 404,
                    f"no route {scope['method']} {path}",
                    code="method_not_allowed" if allowed else "not_found",
                    headers={"allow": ", ".join(allowed)} if allowed else None,
                )
            await handler(scope, receive, tracked)
        except ApiError as exc:
            await asgi.send_error(send, exc)
        except Disconnected:
            pass
        except JarvisError as exc:  # e.g. a UsageError from core on the event loop
            if not started:
                await asgi.send_error(send, from_jarvis(exc))
        except Exception as exc:  # an OpenAI-shaped 500, never uvicorn's plain text
            if started:
                raise
            print(
                f"jarvis serve: internal error on {scope['method']} {path}: "
                f"{type(exc).__name__}: {safe_text(str(exc))}",
                file=sys.stderr,
                flush=True,
            )
            await asgi.send_error(send, streams.api_error(exc))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self._thread(self.gw.models)  # open the store, read the registry now
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, self.gw.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _thread(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.gw.pool, fn, *args)

    # --- auth ------------------------------------------------------------------------

    async def authenticate(self, scope: Scope) -> ClientToken | None:
        """The request's token; None when serving open (no tokens exist, loopback only)."""
        now = time.monotonic()
        if now - self._tokens_at > TOKENS_TTL_S:
            self._tokens_at = now  # one reload at a time, which every request waits for
            self._loading = asyncio.ensure_future(self._load_tokens())
        if self._loading is not None and not self._loading.done():
            await asyncio.shield(self._loading)  # a revoked token must not slip through
        auth = asgi.header(scope, b"authorization") or ""
        scheme, _, value = auth.partition(" ")
        if not self._tokens and self.open:
            return None
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(
                401,
                "missing bearer token: send 'Authorization: Bearer <token>' "
                "(`jarvis serve tokens add NAME` makes one)",
                type="authentication_error",
                code="invalid_api_key",
            )
        found = self._tokens.get(token_hash(value.strip()))
        if found is None:
            raise ApiError(
                401, "invalid or revoked token", type="authentication_error", code="invalid_api_key"
            )
        return found

    async def _load_tokens(self) -> None:
        self._tokens = await self._thread(lambda: active_by_hash(self.gw.thread_context().store))

    async def _body(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        return asgi.parse_json(await asgi.read_body(scope, receive))

    async def _route(self, body: dict[str, Any], token: ClientToken | None) -> Route:
        route: Route = await self._thread(self.gw.route, body.get("model"))
        if token is not None and not token.allows(body["model"]):
            raise ApiError(
                403,
                f"token {token.name!r} may not use model {body['model']!r}",
                type="permission_error",
                code="model_not_allowed",
            )
        return route

    # --- endpoints -------------------------------------------------------------------

    async def healthz(self, scope: Scope, receive: Receive, send: Send) -> None:
        await asgi.send_json(
            send, 200, {"status": "ok", "in_flight": self.metrics.in_flight, "pid": os.getpid()}
        )

    async def prometheus(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.authenticate(scope)
        text = self.metrics.render().encode()
        await asgi.send_bytes(send, 200, text, b"text/plain; version=0.0.4; charset=utf-8")

    async def models(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = await self.authenticate(scope)
        listed = await self._thread(self.gw.models)
        created = int(time.time())
        data = [
            _model_json(name, created)
            for name in [*listed.routed, *sorted(listed.models)]
            if token is None or token.allows(name)
        ]
        await asgi.send_json(send, 200, {"object": "list", "data": data})

    async def model(self, scope: Scope, receive: Receive, send: Send) -> None:
        from jarvis_cli.serve.wire import unknown_model

        token = await self.authenticate(scope)
        listed = await self._thread(self.gw.models)
        name = _route_path(scope)[len(MODEL_PATH) :]
        known = name in listed.models or name in listed.routed
        if not known or (token is not None and not token.allows(name)):
            raise unknown_model(name)
        await asgi.send_json(send, 200, _model_json(name, int(time.time())))

    async def chat(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._completion(scope, receive, send, chat=True)

    async def completions(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._completion(scope, receive, send, chat=False)

    async def _completion(self, scope: Scope, receive: Receive, send: Send, *, chat: bool) -> None:
        from jarvis_cli.serve import wire

        t0 = time.perf_counter()
        token = await self.authenticate(scope)
        body = await self._body(scope, receive)
        route = await self._route(body, token)
        route = route._replace(strategy=asgi.header(scope, b"x-jarvis-strategy") or route.strategy)
        req = (wire.chat_request if chat else wire.completion_request)(body, route)
        # Chosen here, so a stream's chunks, its headers and the recorded attempts share it.
        req = dataclasses.replace(streams.with_headers(req, scope), request_id=new_request_id())
        stop = StopFilter(parse_stops(body))
        self.metrics.in_flight += 1
        try:
            if req.stream:
                options = body.get("stream_options")
                usage = isinstance(options, dict) and options.get("include_usage") is True
                await streams.stream(
                    self.gw, self.metrics, scope, receive, send, req, token, t0, usage, stop
                )
                return
            ran, gone = await self._run_watched(receive, req, token)
            if gone and self._client_gone(ran, req.kind, t0):
                return
            outcome = self._answer(ran, req.kind, t0)
            if stop.stops:
                text, finish = stop.cut(outcome.text), stop.finish_reason(outcome.finish_reason)
                outcome = dataclasses.replace(outcome, text=text, finish_reason=finish)
            data = wire.chat_response(outcome) if chat else wire.completion_response(outcome)
            await asgi.send_json(send, 200, data, streams.result_headers(ran, t0))
        finally:
            self.metrics.in_flight -= 1

    async def _run_watched(
        self, receive: Receive, req: CompletionRequest, token: ClientToken | None
    ) -> tuple[Ran, bool]:
        """`run_completion`, and whether the client went away meanwhile: then no new
        attempt (retry or fallback) is started for it; the one in flight ends as it will
        and is recorded (an answer the provider gave is paid for, read or not)."""
        cancel = CancelToken()
        watcher = asyncio.create_task(streams.watch(receive, cancel))
        try:
            req = dataclasses.replace(req, cancel=cancel)
            ran: Ran = await self._thread(run_completion, self.gw, req, token)
        finally:
            watcher.cancel()
        return ran, cancel.is_set

    def _client_gone(self, ran: Ran, endpoint: str, t0: float) -> bool:
        """Count and log a request whose client left; False if it failed otherwise."""
        elapsed, rid = time.perf_counter() - t0, ran.request_id
        o = ran.outcome
        if o is not None:
            self.metrics.observe_answer(endpoint, o, "client_gone", elapsed)
            cost = "" if o.cost_usd is None else f", ${o.cost_usd:.6f}"
            said = f"its answer ({safe_text(o.model_id)}{cost}) is recorded, unread"
        elif isinstance(ran.error, RequestCancelled):
            self.metrics.observe(endpoint, "-", "interrupted", elapsed)
            said = "no retry or fallback was started for it"
        else:
            return False
        print(
            f"jarvis serve: request {rid}: the client went away before its answer; {said}",
            file=sys.stderr,
            flush=True,
        )
        return True

    def _answer(self, ran: Ran, endpoint: str, t0: float) -> Any:
        """The outcome of `ran`, or the ApiError to answer with (metrics counted)."""
        elapsed = time.perf_counter() - t0
        if ran.outcome is None:
            error = streams.api_error(ran.error, ran.timed_out)
            self.metrics.observe(endpoint, "-", error.code or "error", elapsed)
            error.headers.update(dict(streams.result_headers(ran, t0)))
            raise error
        o = ran.outcome
        self.metrics.observe_answer(endpoint, o, "ok", elapsed)
        return o

    async def embeddings(self, scope: Scope, receive: Receive, send: Send) -> None:
        from jarvis_cli.serve import wire

        t0 = time.perf_counter()
        token = await self.authenticate(scope)
        body = await self._body(scope, receive)
        route = await self._route(body, token)
        texts = wire.embedding_inputs(body)
        self.metrics.in_flight += 1
        try:
            ran: Ran = await self._thread(run_embedding, self.gw, texts, route.model, token)
            outcome = self._answer(ran, "embedding", t0)
            data = wire.embedding_response(outcome, body.get("encoding_format") or "float")
            await asgi.send_json(send, 200, data, streams.result_headers(ran, t0))
        finally:
            self.metrics.in_flight -= 1


def _route_path(scope: Scope) -> str:
    path: str = scope["path"].rstrip("/") or "/"
    if not path.startswith("/v1/") and path.startswith("/") and path not in NO_PREFIX:
        path = "/v1" + path  # clients configured without /v1 in the base URL
    return path


def _model_json(name: str, created: int) -> dict[str, Any]:
    owner = "jarvis" if name.startswith("jarvis/") else name.split("/")[0]
    return {"id": name, "object": "model", "created": created, "owned_by": owner}


def create_app() -> App:
    """The app `uvicorn` builds in each worker process (factory=True)."""
    from jarvis_cli.core.context import Context

    ctx = Context()
    return App(Gateway(ctx), open_without_tokens=os.environ.get(OPEN_ENV) == "1")


__all__ = ["App", "create_app", "from_jarvis"]
