"""`jarvis models`: the model registry — sync, list, show, set, import-prices."""

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jarvis_cli.cli import render, tables
from jarvis_cli.cli.common import JsonOption, WideOption, get_context
from jarvis_cli.core.errors import ExitCode, JarvisError, PartialSuccessError, UsageError

if TYPE_CHECKING:
    from jarvis_cli.core.registry.model_registry import ModelRegistry
    from jarvis_cli.core.registry.records import ModelRecord
    from jarvis_cli.core.registry.sync import SyncReport

app = typer.Typer(
    add_completion=False,
    name="models",
    help="The model registry: models synced from providers plus bundled price/context facts.",
    no_args_is_help=True,
)

ModelIdArg = Annotated[str, typer.Argument(help="Model id PROVIDER/NAME, e.g. openai/gpt-4o-mini.")]


class Kind(StrEnum):
    chat = "chat"
    completion = "completion"
    embedding = "embedding"


def _registry() -> "ModelRegistry":
    from jarvis_cli.core.registry.model_registry import ModelRegistry

    return ModelRegistry(get_context())


def model_json(m: "ModelRecord") -> dict[str, Any]:
    """The stable JSON shape of one model."""
    from jarvis_cli.core.providers.base import Capabilities

    return {
        "id": m.id,
        "provider": m.provider,
        "name": m.name,
        "type": m.type,
        "context_length": m.context_length,
        "max_output_tokens": m.max_output_tokens,
        "input_cost_per_mtok": m.input_cost_per_mtok,
        "output_cost_per_mtok": m.output_cost_per_mtok,
        "capabilities": {n: getattr(m.capabilities, n) for n in Capabilities._fields},
        "quality": m.quality,
        "status": m.status,
        "source": m.source,
        "synced_at": render.iso(m.synced_at),
    }


# --- sync ---------------------------------------------------------------------------


def _sync_with_progress(names: list[str]) -> "SyncReport":
    from jarvis_cli.core.providers.manager import ProviderManager
    from jarvis_cli.core.registry.sync import sync_models
    from jarvis_cli.core.vault.keys import KeyManager

    ctx = get_context()
    manager = ProviderManager(ctx, KeyManager(ctx))
    targets = manager.sync_targets(names)
    if len(targets) < 2 or not render.is_tty(sys.stderr):
        return sync_models(manager, names)
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=render.console(stderr=True)
    ) as progress:
        task = progress.add_task("syncing", total=len(targets))
        finished: list[str] = []

        def on_progress(name: str, event: str) -> None:
            if event in ("done", "failed"):
                finished.append(f"{name} {'ok' if event == 'done' else 'FAILED'}")
                progress.advance(task)
            shown = render.visible(", ".join(finished) or "…")
            progress.update(task, description=f"syncing models: {escape(shown)}")

        return sync_models(manager, names, on_progress=on_progress)


@app.command("sync")
def sync(
    providers: Annotated[
        list[str] | None,
        typer.Argument(
            help="Providers to sync (default: every configured provider with a key, or that "
            "needs none).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Fetch each provider's model list and merge it into the registry.

    Models a provider no longer lists become `unavailable` (kept); values set with
    `models set` survive. If some providers fail, the others are still synced and the
    exit code is 10.
    """
    report = _sync_with_progress(list(providers or []))
    rows = []
    for p in report.providers:
        r = p.result
        rows.append(
            {
                "provider": p.provider,
                "ok": p.ok,
                "listed": r.listed if r else None,
                "added": r.added if r else None,
                "reactivated": r.reactivated if r else None,
                "unavailable": r.unavailable if r else None,
                "error": p.error,
                "exit_code": p.exit_code,
            }
        )
    if json_output:
        render.emit_json({"ok": not report.failed, "providers": rows})
    else:
        from jarvis_cli.cli.tables import ID, NUM, TEXT, Column

        tables.table(
            [Column("provider", ID)]
            + [Column(h, NUM) for h in ("models", "new", "back", "unavailable")]
            + [Column("result", TEXT, min_width=20)],
            [
                (
                    d["provider"],
                    d["listed"],
                    d["added"],
                    d["reactivated"],
                    d["unavailable"],
                    "ok" if d["ok"] else f"failed: {d['error']}",
                )
                for d in rows
            ],
        )
    failed = report.failed
    if not failed:
        return
    summary = "; ".join(f"{p.error}" for p in failed)
    hints = "; ".join(dict.fromkeys(p.hint for p in failed if p.hint)) or None
    if len(failed) < len(report.providers):
        raise PartialSuccessError(
            f"{len(failed)} of {len(report.providers)} providers failed to sync: {summary}",
            hint=hints,
        )
    raise SyncFailedError(f"sync failed: {summary}", ExitCode(failed[0].exit_code or 1), hint=hints)


class SyncFailedError(JarvisError):
    """Every provider failed: exit with the first failure's own code (5 auth, 8 provider)."""

    def __init__(self, message: str, exit_code: ExitCode, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


# --- list / show ----------------------------------------------------------------------


@app.command("list")
def list_models(
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Only this provider's models.")
    ] = None,
    kind: Annotated[
        Kind | None, typer.Option("--type", "-t", help="Only models known to serve this type.")
    ] = None,
    capability: Annotated[
        str | None,
        typer.Option(
            "--capability",
            "-c",
            help="Only models known to have it: chat, completion, embeddings, "
            "function_calling (tools), vision, audio, structured_output, reasoning, pdf_input.",
        ),
    ] = None,
    active: Annotated[
        bool, typer.Option("--active", help="Hide models marked unavailable.")
    ] = False,
    all_versions: Annotated[
        bool,
        typer.Option(
            "--all-versions",
            help="One row per dated snapshot and -latest alias too (by default a model's "
            "versions share its row).",
        ),
    ] = False,
    wide: WideOption = False,
    json_output: JsonOption = False,
) -> None:
    """List registered models with context window, $ per million tokens, capabilities.

    The table shows one row per model: dated snapshots and -latest aliases are counted
    in the row of the model they are versions of. --json lists every model, each with
    `version_of`.
    """
    from jarvis_cli.core.selection.variants import version_groups

    if provider is not None:
        from jarvis_cli.core.providers.presets import get_provider

        get_provider(get_context().config, provider)
    models = _registry().list_models(
        provider=provider,
        kind=kind.value if kind else None,
        capability=capability,
        include_unavailable=not active,
    )
    rep_of = version_groups([(m.id, m.provider, m.name) for m in models])
    if json_output:
        render.emit_json(
            {"models": [{**model_json(m), "version_of": rep_of.get(m.id)} for m in models]}
        )
        return
    if not models:
        render.message("no models match (try `jarvis models sync`)")
        return
    from jarvis_cli.cli.models_table import draw_models

    draw_models(models, rep_of, all_versions=all_versions, wide=wide)
    if rep_of and not all_versions:
        render.message(f"{len(rep_of)} dated versions shown in their model's row (--all-versions)")


@app.command("show")
def show(model_id: ModelIdArg, json_output: JsonOption = False) -> None:
    """Show everything the registry knows about one model (and what you overrode)."""
    from jarvis_cli.cli.model_versions import matched_from
    from jarvis_cli.cli.models_table import caps_text, quality_rows
    from jarvis_cli.core.registry.model_registry import overrides_of
    from jarvis_cli.core.selection.model_quality import qualities_by_task

    model = _registry().require(model_id)
    data = model_json(model)
    data["matched_from"] = matched_from(model)
    data["overrides"] = overrides_of(get_context(), model.id)
    by_task = qualities_by_task(get_context(), model.id)
    data["quality_by_task"] = {
        task: {"value": round(q.value, 4), "source": q.source, "margin": round(q.margin, 4)}
        for task, q in by_task.items()
    }
    if json_output:
        render.emit_json(data)
        return
    caps = data["capabilities"]
    rows = [
        (k, "?" if v is None else v)
        for k, v in data.items()
        if k not in ("capabilities", "overrides", "matched_from", "quality", "quality_by_task")
    ]
    rows[8:8] = quality_rows(by_task)
    if data["matched_from"]:
        rows.append(("facts from", f"{data['matched_from']} (matched by name; not its price)"))
    rows.append(("capabilities", caps_text(model) or "none known"))
    unknown = [n for n, v in caps.items() if v is None]
    if unknown:
        rows.append(("unknown", ", ".join(unknown)))
    if data["overrides"]:
        rows.append(("set by you", ", ".join(sorted(data["overrides"]))))
    tables.table(["", ""], rows, title=model.id)


# --- set / import-prices ----------------------------------------------------------------


@app.command("set")
def set_model(
    model_id: ModelIdArg,
    input_price: Annotated[
        float | None,
        typer.Option("--input-price", help="USD per million input tokens.", min=0),
    ] = None,
    output_price: Annotated[
        float | None,
        typer.Option("--output-price", help="USD per million output tokens.", min=0),
    ] = None,
    context: Annotated[
        int | None, typer.Option("--context", help="Context window in tokens.", min=1)
    ] = None,
    quality: Annotated[
        float | None,
        typer.Option(
            "--quality", help="Quality score from 0 to 1 (used by selection).", min=0, max=1
        ),
    ] = None,
    kind: Annotated[
        Kind | None, typer.Option("--type", help="The request type the model serves.")
    ] = None,
    capability: Annotated[
        list[str] | None,
        typer.Option("--capability", help="Mark a capability as supported (repeatable)."),
    ] = None,
    no_capability: Annotated[
        list[str] | None,
        typer.Option("--no-capability", help="Mark a capability as unsupported (repeatable)."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Set facts for a model yourself; they win over the catalog and survive syncs."""
    from jarvis_cli.core.registry.model_registry import normalize_capability

    values: dict[str, Any] = {}
    for key, value in (
        ("input_cost_per_mtok", input_price),
        ("output_cost_per_mtok", output_price),
        ("context_length", context),
        ("quality", quality),
        ("type", kind.value if kind else None),
    ):
        if value is not None:
            values[key] = value
    caps: dict[str, bool] = {}
    for name in capability or []:
        caps[normalize_capability(name)] = True
    for name in no_capability or []:
        caps[normalize_capability(name)] = False
    if not values and not caps:
        raise UsageError(
            "nothing to set",
            hint="give at least one of --input-price, --output-price, --context, --quality, "
            "--type, --capability, --no-capability",
        )
    model = _registry().set_overrides(model_id, values, caps)
    if json_output:
        render.emit_json(model_json(model))
    else:
        render.message(f"updated {model.id}: {', '.join(sorted([*values, *caps]))}")


@app.command("import-prices")
def import_prices(
    file: Annotated[
        Path, typer.Argument(help="A LiteLLM model_prices_and_context_window.json file.")
    ],
    json_output: JsonOption = False,
) -> None:
    """Import prices, context windows and capabilities from a LiteLLM-format price map."""
    from jarvis_cli.core.providers.presets import all_providers
    from jarvis_cli.core.registry.catalog import parse_litellm, provider_names, read_price_file

    specs = all_providers(get_context().config).values()
    parsed = parse_litellm(
        read_price_file(file),
        provider_names(specs),
        source=str(file),
        hosted={s.name for s in specs if s.needs_key},
    )
    updated, added = _registry().import_entries(parsed.entries)
    counts = {
        "updated": updated,
        "added": added,
        "skipped_unknown_provider": parsed.skipped_provider,
        "skipped_unsupported_mode": parsed.skipped_mode,
    }
    if json_output:
        render.emit_json(counts)
    else:
        render.message(
            f"imported {file}: {updated} models updated, {added} added; skipped "
            f"{parsed.skipped_provider} of providers jarvis does not know and "
            f"{parsed.skipped_mode} that are not chat, completion or embedding models"
        )


def _register_probe() -> None:
    from jarvis_cli.cli.model_probe import probe

    app.command("probe")(probe)


_register_probe()
