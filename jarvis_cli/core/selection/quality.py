"""The quality of each candidate for the request's task: an absolute 0..1 score and
where it came from.

First that knows the model wins:

1. `user`: `jarvis models set ID --quality Q` (the registry's quality column);
2. `config`: `[quality]` in config.toml (model id -> 0..1);
3. the bundled quality table (core/registry/quality.py): the model's score for the
   task (its overall score for `general` or a category it was not tested on),
   sourced and dated (`livebench 2026-06-25`, `aider polyglot`, `family prior: M`);
   a model the table does not list under its own provider gets the score of the
   same model under another provider, matched by name as at sync
   (registry/matching.py: `box/gpt-4o-mini` -> `openai/gpt-4o-mini`), and a dated
   version that is not listed the score of its model (variants.NameFacts);
4. `none`: the table's low default.

Quality is never normalised over the candidate set: an unknown model does not get
1.0 because every other candidate is unknown too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

USER = "user"
CONFIG = "config"
UNSCORED = "none"
# The default of QualityFacts() (tests, callers without the bundled table); the
# engine passes core/registry/quality.DEFAULT_QUALITY.
FALLBACK_DEFAULT = 0.3


class ScoredModel(Protocol):
    """What selection needs of a bundled quality entry (registry.quality.QualityEntry)."""

    @property
    def source(self) -> str: ...

    @property
    def date(self) -> str | None: ...

    def for_task(self, task: str | None) -> float: ...


class QualityFacts(NamedTuple):
    """The bundled quality table and its default, as selection takes them."""

    entries: Mapping[str, ScoredModel] = {}
    default: float = FALLBACK_DEFAULT


class Quality(NamedTuple):
    """One model's quality for a task."""

    value: float
    source: str  # user | config | livebench 2026-06-25 | aider polyglot | family prior: M | none
    model_id: str | None = None  # the catalog model the score belongs to, if bundled

    @property
    def known(self) -> bool:
        return self.source != UNSCORED


def source_label(entry: ScoredModel) -> str:
    """`livebench 2026-06-25`, `aider polyglot`, `family prior: openai/gpt-5`, ...: the
    entry's source, with its date when the source does not already carry it."""
    if entry.date and entry.date not in entry.source and not entry.source.startswith("family"):
        return f"{entry.source} {entry.date}"
    return entry.source


def short_mark(source: str) -> str:
    """The tag a table shows after the score: lb, aider, prior, cfg, user, ?."""
    if source == UNSCORED:
        return "?"
    if source == CONFIG:
        return "cfg"
    if source == USER:
        return "user"
    if source.startswith("livebench"):
        return "lb"
    if source.startswith("aider"):
        return "aider"
    if "prior" in source:
        return "prior"
    return source.split()[0][:6]


LEGEND = "quality sources: lb = LiveBench, aider = Aider polyglot, prior = family prior, " + (
    "cfg = [quality] in config.toml, user = models set --quality, ? = unscored (default)"
)


def resolve_qualities(
    ids: Sequence[str],
    stored: Sequence[float],
    config: Mapping[str, float],
    facts: QualityFacts,
    task: str | None,
    scored_ids: Sequence[str | None],
) -> list[Quality]:
    """The Quality of each of `ids` for `task` (None = overall). Aligned with `ids`:
    `stored` is the registry's quality column (NaN = no user override), `scored_ids`
    the bundled entry each model takes, matched by id or name (variants.NameFacts)."""
    entries = facts.entries
    cache: dict[str, Quality] = {}
    unscored = Quality(facts.default, UNSCORED)
    details: list[Quality] = []
    append = details.append
    for model_id, q, source_id in zip(ids, stored, scored_ids, strict=True):
        if q == q:
            append(Quality(q, USER))
            continue
        if config:
            c = config.get(model_id)
            if c is not None:
                append(Quality(c, CONFIG))
                continue
        if source_id is None:
            append(unscored)
            continue
        found = cache.get(source_id)
        if found is None:
            entry = entries[source_id]
            found = cache[source_id] = Quality(entry.for_task(task), source_label(entry), source_id)
        append(found)
    return details
