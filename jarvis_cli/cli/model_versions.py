"""What `models list` and `models show` say about versions and name-matched facts."""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jarvis_cli.core.registry.records import ModelRecord


def grouped_rows(
    models: "Sequence[ModelRecord]",
    rep_of: Mapping[str, str],
    rows: list[list[Any]],
    all_versions: bool,
) -> list[list[Any]]:
    """Table rows (aligned with `models`, id first) with each left-out version counted in
    its model's row (`selection.variants.version_groups`), or all rows with --all-versions."""
    if all_versions:
        return rows
    counts: dict[str, int] = {}
    for rep in rep_of.values():
        counts[rep] = counts.get(rep, 0) + 1
    out = []
    for m, row in zip(models, rows, strict=True):
        if m.id in rep_of:
            continue
        n = counts.get(m.id)
        if n:
            row[0] = f"{m.id} (+{n} version{'s' if n > 1 else ''})"
        out.append(row)
    return out


def matched_from(model: "ModelRecord") -> str | None:
    """The catalog model a synced model's facts came from when the catalog does not know
    it under its own provider (core/registry/matching.py)."""
    if model.source != "sync":
        return None
    from jarvis_cli.core.registry.catalog import bundled_catalog
    from jarvis_cli.core.registry.listing import matched_catalog_id

    catalog = {e.model_id: e for e in bundled_catalog().entries()}
    return matched_catalog_id(catalog, model.provider, model.name)
