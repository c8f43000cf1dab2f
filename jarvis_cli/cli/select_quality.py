"""How `jarvis select` shows a candidate's quality: the value, its margin and its
source (`0.85±.10 prior`, `0.91 you` when learnt from outcomes), and what outcomes
taught selection (`--explain`)."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jarvis_cli.core.selection.types import ScoredCandidate


# Each mark a quality cell can carry, in the legend's order, with what it means.
MARKS = (
    ("lb", "LiveBench"),
    ("aider", "Aider polyglot"),
    ("prior", "family prior"),
    ("cfg", "[quality] in config.toml"),
    ("user", "models set --quality"),
    ("you", "learnt from your outcomes (rate, outcomes import; --explain)"),
    ("?", "unscored (default)"),
)


def margin_text(margin: float) -> str:
    """`±.10` (the quality's uncertainty; nothing when it rounds to none: a learned
    value's margin shrinks with its outcomes, and "±.00" only adds noise)."""
    return f"±{margin:.2f}".replace("0.", ".", 1) if round(margin, 2) else ""


def quality_mark(c: "ScoredCandidate") -> str:
    from jarvis_cli.core.selection.quality import short_mark

    return "you" if c.learned else short_mark(c.quality_source)


def quality_cell(c: "ScoredCandidate") -> str:
    return f"{c.quality:.2f}{margin_text(c.quality_margin)} {quality_mark(c)}"


def legend(shown: "Iterable[ScoredCandidate]", *, latency: bool) -> str:
    """What the marks of the shown rows mean (only those: a legend of marks that are
    not on screen is noise), the margin if any is shown, and the latency sources when
    the latency column is shown."""
    rows = list(shown)
    marks = {quality_mark(c) for c in rows}
    known = {mark for mark, _ in MARKS}
    parts = [f"{mark} = {text}" for mark, text in MARKS if mark in marks]
    parts += [f"{mark} = other source" for mark in sorted(marks - known)]
    text = "quality sources: " + ", ".join(parts)
    if any(margin_text(c.quality_margin) for c in rows):
        text += "; ±m = uncertainty, ranked on quality-m"
    if latency:
        text += "; latency: prior (size class) or meas(ured)"
    return text


def learned_lines(candidates: "Iterable[ScoredCandidate]", task: str) -> list[str]:
    """`learned: M 0.88: prior 0.65 (livebench ...); your coding outcomes 0.97 (n=40);
    similar prompts 0.86 (k=15)`: the value selection uses first, then what it was
    learnt from, and `(quality tied with the best: ...)` when outcomes cannot tell it
    from the best."""
    from jarvis_cli.core.selection.reasoning import quality_source_text

    lines = []
    for c in candidates:
        got = c.learned
        if got is None:
            continue
        parts = [f"prior {got.prior:.2f} ({quality_source_text(got.prior_source)})"]
        if got.task_score is not None and got.task_own:
            parts.append(f"your {task} outcomes {got.task_score:.2f} (n={got.task_n})")
        elif got.task_score is not None:
            against = (
                "" if got.other_prior is None else f" against their prior {got.other_prior:.2f}"
            )
            parts.append(
                f"no {task} outcomes; your outcomes on other tasks {got.task_score:.2f} "
                f"(n={got.task_n}){against}"
            )
        if got.similar_score is not None:
            parts.append(f"similar prompts {got.similar_score:.2f} (k={got.similar_k})")
        tied = "".join(f" ({n})" for n in c.notes if n.startswith("quality tied with the best"))
        lines.append(f"learned: {c.model.id} {got.value:.2f}: {'; '.join(parts)}{tied}")
    return lines
