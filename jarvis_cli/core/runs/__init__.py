"""Running requests: plan, call, retry, fall back, record, report.

Owns the request/outcome types (`requests`), the model chain (`plan`), the retry
policy (`retry`), budgets (`budget`), recording every attempt (`attempts`), the
`Orchestrator` and what `jarvis stats` / `jarvis log` report (`usage`).

May import everything below it: `selection`, `registry`, `vault`, `providers`,
`context`, `store`, `errors`, `redact`.
"""
