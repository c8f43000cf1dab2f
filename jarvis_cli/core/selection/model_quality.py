"""One model's quality per task as selection sees it, for `jarvis models show`: the
same resolution as a selection (quality.resolve_qualities: your `--quality`, then
`[quality]` of config.toml, then the bundled table matched by id or name, then the
default), without outcomes (those are per request: `select --explain`)."""

from __future__ import annotations

from jarvis_cli.core.context import Context
from jarvis_cli.core.registry.model_registry import ModelRegistry
from jarvis_cli.core.registry.quality import CATEGORIES, DEFAULT_QUALITY, bundled_quality
from jarvis_cli.core.selection.quality import Quality, QualityFacts, resolve_qualities
from jarvis_cli.core.selection.variants import name_facts


def qualities_by_task(ctx: Context, model_id: str) -> dict[str, Quality]:
    """`general` and each task category -> the Quality selection starts from for
    `model_id` (empty when the registry does not list it)."""
    table = ModelRegistry(ctx).table()
    try:
        position = table.ids.index(model_id)
    except ValueError:
        return {}
    facts = QualityFacts(bundled_quality(), DEFAULT_QUALITY)
    scored = name_facts(ctx.store.conn, table, facts.entries.keys()).scored.get(position)
    stored = table.columns["quality"][position]
    config = ctx.config.quality
    tasks = ("general", *(c for c in CATEGORIES if c != "general"))
    return {
        task: resolve_qualities(
            [model_id], [stored], config, facts, None if task == "general" else task, [scored]
        )[0]
        for task in tasks
    }
