"""Providers: one adapter protocol, one implementation over the openai SDK.

Owns the protocol and its result types (`base`), the OpenAI-compatible adapter
(`openai_compat`) and its streamed chat (`streaming`), mapping SDK exceptions to
jarvis errors (`errors`), built-in presets merged with config.toml (`presets`) and
`ProviderManager` (`manager`), which builds adapters with keys from a resolver it
is given.

May import `context`, `store`, `errors` and `redact`. Never `vault`, `registry`,
`selection` or `runs`.
"""
