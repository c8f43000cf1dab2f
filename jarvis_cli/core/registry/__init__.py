"""The model registry: what jarvis knows about every model it can pick.

Owns the record type (`records`), the `models` table's rows (`rows`),
`ModelRegistry` (`model_registry`), the bundled catalog (`catalog`), the columnar
`ModelTable` selection scans (`model_table`), merging a provider's `/models`
listing (`listing`) and `jarvis models sync` (`sync`).

May import `providers`, `context`, `store`, `errors`. Never `vault` (sync gets keys
through the ProviderManager it is handed), `selection` or `runs`.
"""
