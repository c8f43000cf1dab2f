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
   (registry/matching.py: `box/gpt-4o-mini` -> `openai/gpt-4o-mini`);
4. `none`: the table's low default.

Quality is never normalised over the candidate set: an unknown model does not get
1.0 because every other candidate is unknown too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

from jarvis_cli.core.registry.matching import NameIndex

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

    def by_name(self) -> NameIndex:
        """The scored catalog ids by name (registry/matching.py)."""
        return NameIndex(self.entries)


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
    keys: Sequence[str | None],
) -> list[Quality]:
    """The Quality of each of `ids` for `task` (None = overall); `stored` is the
    registry's quality column aligned with `ids` (NaN = no user override), `keys` their
    match keys where they differ from the plain last name segment (variants.NameFacts)."""
    entries = facts.entries
    default = facts.default
    cache: dict[str, tuple[float, str]] = {}
    index: NameIndex | None = None
    details: list[Quality] = []
    unscored = Quality(default, UNSCORED)
    for model_id, q, key in zip(ids, stored, keys, strict=True):
        if q == q:
            details.append(Quality(q, USER))
            continue
        c = config.get(model_id)
        if c is not None:
            details.append(Quality(c, CONFIG))
            continue
        source_id: str | None = model_id if model_id in entries else None
        if source_id is None and entries:
            if index is None:
                index = facts.by_name()
            name = model_id.partition("/")[2].lower()
            last = name.rpartition("/")[2]
            source_id = (
                index.by_name.get(name)
                or index.by_last.get(last)
                or index.by_key.get(last if key is None else key)
            )
        if source_id is None:
            details.append(unscored)
            continue
        found = cache.get(source_id)
        if found is None:
            entry = entries[source_id]
            found = cache[source_id] = (entry.for_task(task), source_label(entry))
        details.append(Quality(found[0], found[1], source_id))
    return details
