"""How `jarvis select` shows a candidate's quality: the value, its margin and its
source (`0.85±.10 prior`, `0.91 you` when learnt from outcomes), and what outcomes
taught selection (`--explain`)."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jarvis_cli.core.selection.types import ScoredCandidate


def margin_text(margin: float) -> str:
    """`±.10` (the quality's uncertainty; nothing when there is none)."""
    return f"±{margin:.2f}".replace("0.", ".", 1) if margin else ""


def quality_cell(c: "ScoredCandidate") -> str:
    from jarvis_cli.core.selection.quality import short_mark

    mark = "you" if c.learned else short_mark(c.quality_source)
    return f"{c.quality:.2f}{margin_text(c.quality_margin)} {mark}"


def learned_lines(candidates: "Iterable[ScoredCandidate]") -> list[str]:
    """`learned: M: you: 0.91, n=23; similar prompts: 0.88, k=10; prior 0.80 (lb)`, and
    `(quality tied with the best: ...)` when outcomes cannot tell it from the best."""
    return [
        f"learned: {c.model.id}: {c.learned.describe()}"
        + "".join(f" ({n})" for n in c.notes if n.startswith("quality tied with the best"))
        for c in candidates
        if c.learned
    ]
