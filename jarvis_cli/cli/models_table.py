"""The `models list` table: its columns (tables.py fits them to the terminal) and cells."""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jarvis_cli.cli import tables

if TYPE_CHECKING:
    from jarvis_cli.core.registry.records import ModelRecord
    from jarvis_cli.core.selection.quality import Quality

CAP_SHORT = {"function_calling": "tools", "embeddings": "embed", "completion": "complete"}


def draw_models(
    models: "Sequence[ModelRecord]", rep_of: Mapping[str, str], *, all_versions: bool, wide: bool
) -> None:
    """One row per model (its dated versions counted in its row unless `all_versions`).
    Prices are always shown; the rest is hidden by priority on a narrow terminal."""
    from jarvis_cli.cli.model_versions import grouped_rows
    from jarvis_cli.cli.tables import ID, NUM, Column

    tables.table(
        [
            Column("id", ID),
            Column("type", priority=1),
            Column("context", NUM, priority=2),
            Column("$/M in", NUM),
            Column("$/M out", NUM),
            Column("capabilities", priority=4),
            Column("status", priority=3),
            Column("source", priority=5),
        ],
        grouped_rows(models, rep_of, [_row(m) for m in models], all_versions),
        wide=wide,
    )


def caps_text(m: "ModelRecord") -> str:
    """The model's known capabilities, short names, comma-separated."""
    from jarvis_cli.core.providers.base import Capabilities

    names = [CAP_SHORT.get(n, n) for n in Capabilities._fields if getattr(m.capabilities, n)]
    return ",".join(names)


def _price(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _row(m: "ModelRecord") -> list[Any]:
    context = "?" if m.context_length is None else f"{m.context_length:,}"
    return [
        m.id,
        m.type or "?",
        context,
        _price(m.input_cost_per_mtok),
        _price(m.output_cost_per_mtok),
        caps_text(m),
        m.status,
        m.source,
    ]


def quality_rows(by_task: "dict[str, Quality]") -> list[tuple[str, str]]:
    """`quality 0.59±.02 (livebench 2026-01-08)` and, where a task's score differs,
    `quality by task  coding 0.76, ...`: what selection starts from, before outcomes."""
    if not by_task:
        return [("quality", "?")]
    general = by_task["general"]
    margin = f"±{general.margin:.2f}".replace("0.", ".", 1) if round(general.margin, 2) else ""
    source = "unscored: the default" if general.source == "none" else general.source
    rows = [("quality", f"{general.value:.2f}{margin} ({source})")]
    differ = [
        f"{task} {q.value:.2f}"
        for task, q in by_task.items()
        if task != "general" and round(q.value, 2) != round(general.value, 2)
    ]
    if differ:
        rest = "" if len(differ) == len(by_task) - 1 else "; other tasks as above"
        rows.append(("quality by task", ", ".join(differ) + rest))
    return rows
