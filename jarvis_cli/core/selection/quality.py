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

**Uncertainty.** Each source carries a margin (`SOURCE_MARGINS`): how far the true
quality for the task may be from the stated value. Selection ranks on the lower bound
(value - margin), so an inferred score never outranks an equal measured one, and a
guess must be clearly better to win; `select` shows the margin (`0.85±.10 prior`).
`estimate` is the one place that turns a source into (value, margin): whatever else
learns about a model's quality (outcomes, issue 25) plugs in there.
"""

# No `from __future__ import annotations`: typing.NamedTuple compiles each string
# annotation at import (a ForwardRef per field), ~40 % of its classes' cost.

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
    margin: float = 0.0  # the true value may be this much lower (see SOURCE_MARGINS)

    @property
    def known(self) -> bool:
        return self.source != UNSCORED

    @property
    def lower(self) -> float:
        """What selection ranks on: the value less its margin."""
        return self.value - self.margin


# How far a source's score may be from the model's true quality for the task:
# - user, config: the user's own judgment stands as given;
# - livebench: measured on the task's category (LiveBench reports per-category
#   scores over a few hundred questions; run-to-run spread ~0.02);
# - aider polyglot: measured, but on coding only (other tasks take its overall score);
# - family prior: inferred from a sibling model (build_quality.py); siblings differ by
#   0.05-0.15 on LiveBench, so 0.10;
# - none: the low default is a guess about a model nobody scored.
SOURCE_MARGINS: tuple[tuple[str, float], ...] = (
    (USER, 0.0),
    (CONFIG, 0.0),
    ("livebench", 0.02),
    ("aider", 0.05),
    ("family prior", 0.10),
    (UNSCORED, 0.15),
)
OTHER_SOURCE_MARGIN = 0.10


def source_margin(source: str) -> float:
    """The margin of a quality source (SOURCE_MARGINS; unknown sources 0.10)."""
    for prefix, margin in SOURCE_MARGINS:
        if source == prefix or source.startswith(prefix):
            return margin
    return OTHER_SOURCE_MARGIN


def estimate(value: float, source: str, model_id: str | None = None) -> Quality:
    """A model's quality for a task from one source, with that source's margin.

    The single place where evidence becomes (value, margin); a caller with more
    evidence about a model (e.g. its recorded outcomes) combines it here."""
    return Quality(value, source, model_id, source_margin(source))


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
    unscored = estimate(facts.default, UNSCORED)
    user_margin, config_margin = source_margin(USER), source_margin(CONFIG)
    details: list[Quality] = []
    append = details.append
    for model_id, q, source_id in zip(ids, stored, scored_ids, strict=True):
        if q == q:
            append(Quality(q, USER, None, user_margin))
            continue
        if config:
            c = config.get(model_id)
            if c is not None:
                append(Quality(c, CONFIG, None, config_margin))
                continue
        if source_id is None:
            append(unscored)
            continue
        found = cache.get(source_id)
        if found is None:
            entry = entries[source_id]
            found = cache[source_id] = estimate(
                entry.for_task(task), source_label(entry), source_id
            )
        append(found)
    return details
