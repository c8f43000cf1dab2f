"""`jarvis serve`: an OpenAI-compatible HTTP gateway in front of the orchestrator.

A layer above `core` (beside `cli`): it may import `jarvis_cli.core.*` and never
`jarvis_cli.cli`; `core` never imports it. The ASGI server (uvicorn) is the
`[serve]` extra and is imported only by `server.py`, which only `jarvis serve`
loads. Modules: `errors` (OpenAI-shaped errors and their statuses), `wire`
(request bodies -> CompletionRequest, results -> response objects), `gateway`
(runs requests on the orchestrator in worker threads), `tokens` and `admission`
(client tokens and their limits, in the store), `metrics` (Prometheus text),
`app` (the ASGI application), `server` (uvicorn, signals, drain).
"""
