"""The jarvis library: keys, registry, selection and runs, without typer or rich.

Packages form layers that import only downward (docs/architecture.md draws them;
`scripts/check_layers.py` enforces them):

    doctor                      a report over everything below
    runs                        orchestrator, plan, retry, budgets, attempts, usage
    selection                   types, qualify, scoring, ranking, reasoning, engine
    vault   |   registry        keys and master keys | models, catalog, sync
    providers                   adapter protocol, openai-compatible adapter, presets
    context                     paths + config + store for one process
    store                       SQLite, migrations, config.toml, private files
    errors, redact              the error hierarchy and secret scrubbing

`vault` and `registry` sit side by side and never import each other. Nothing here
imports `jarvis_cli.cli`.
"""
