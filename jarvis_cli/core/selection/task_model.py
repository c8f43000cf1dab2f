"""The task classifier: a linear model over `task_features`, its weights in
`jarvis_cli/data/task_model.tsv` (derived by `scripts/derive_task_model.py` from
real, labelled prompts; sources and licences in jarvis_cli/data/task_model.NOTICE).

The file is a JSON header line (classes, scale, bias, priors) and one line per
feature, `NAME<TAB>w1,w2,…` (integers, one per class, x scale), sorted by name. It
is read as bytes on the first classification only, neither decoded nor split (which
cost a process ~2 ms): a feature's line is found by bisecting a sparse index of
byte offsets, then one bounded search, and parsed when a prompt has that feature. A
prompt's score for a category is the bias plus its known features' weights divided by
sqrt(number of features), as in fitting, plus the fixed priors of its keyword lists
and tables; the evidence is the features that most separate the winner from the
runner-up.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from functools import lru_cache
from pathlib import Path

from jarvis_cli.core.selection.task_features import describe, features

MODEL_FILE = Path(__file__).resolve().parents[2] / "data" / "task_model.tsv"
EVIDENCE = 3
INDEX_BYTES = 2048


class Guess:
    """A classification: the category, its probability and the strongest evidence."""

    __slots__ = ("category", "evidence", "probability")

    def __init__(self, category: str, probability: float, evidence: tuple[str, ...]) -> None:
        self.category = category
        self.probability = probability
        self.evidence = evidence


class TaskModel:
    """The weight table, parsed lazily per feature."""

    def __init__(self, text: str | bytes) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        header, _, body = data.partition(b"\n")
        meta = json.loads(header)
        self.classes: tuple[str, ...] = tuple(meta["classes"])
        self.scale = float(meta["scale"])
        self.bias = [float(b) for b in meta["bias"]]
        self.priors = {
            f: (self.classes.index(c), float(v) * self.scale)
            for f, (c, v) in meta["priors"].items()
        }
        # The lines are sorted by feature name (a tab sorts before any name character;
        # UTF-8 bytes sort as the code points they encode), so a feature is found by
        # bisection; nothing else is parsed up front but the first line of every
        # INDEX_BYTES, which narrows each bisection to one such stretch.
        self._body = body = body.rstrip(b"\n")
        self._starts = [0]
        for pos in range(INDEX_BYTES, len(body), INDEX_BYTES):
            start = body.find(b"\n", pos) + 1
            if start > self._starts[-1]:
                self._starts.append(start)
        self._firsts = [_line_at(body, i) for i in self._starts]

    def weights(self, feature: str) -> list[int] | None:
        key = (feature + "\t").encode("utf-8")
        body = self._body
        i = bisect_left(self._firsts, key)  # lines before the i-th indexed one are < key
        lo = self._starts[i - 1] if i > 0 else 0
        hi = self._starts[i] if i < len(self._starts) else len(body)
        # Its line, if any, starts in [lo, hi]: it is the only line that starts with the
        # name and a tab, so one bounded search finds it (no bisection over the lines).
        if body.startswith(key, lo):
            start = lo
        else:
            start = body.find(b"\n" + key, lo, hi + len(key)) + 1
            if not start:
                return None
        return [int(w) for w in _line_at(body, start)[len(key) :].split(b",")]

    def classify(self, prompt: str) -> Guess:
        """The most probable category of `prompt`, with its evidence."""
        feats = sorted(features(prompt))
        k = len(self.classes)
        norm = 1.0 / math.sqrt(len(feats) or 1)
        # Each known feature's contribution to each class's score (in weight units).
        parts: list[tuple[str, list[float]]] = []
        for f in feats:
            ws = self.weights(f)
            part = [w * norm for w in ws] if ws is not None else None
            if f in self.priors:
                c, value = self.priors[f]
                part = part or [0.0] * k
                part[c] += value
            if part is not None:
                parts.append((f, part))
        scores = list(self.bias)
        for _, part in parts:
            for c in range(k):
                scores[c] += part[c]
        ranked = sorted(range(k), key=lambda c: (-scores[c], self.classes[c]))
        best, second = ranked[0], ranked[1]
        top = scores[best]
        probability = 1.0 / sum(math.exp((s - top) / self.scale) for s in scores)
        margins = sorted(
            ((p[best] - p[second], f) for f, p in parts if p[best] > p[second]),
            key=lambda m: (-m[0], m[1]),
        )
        evidence = tuple(dict.fromkeys(describe(f, prompt) for _, f in margins[:EVIDENCE]))
        return Guess(self.classes[best], probability, evidence)


def _line_at(body: bytes, start: int) -> bytes:
    """The line of `body` that starts at `start`, without its newline."""
    end = body.find(b"\n", start)
    return body[start : end if end >= 0 else len(body)]


@lru_cache(maxsize=1)
def shipped_model() -> TaskModel:
    """The bundled weight table, read once per process."""
    return TaskModel(MODEL_FILE.read_bytes())
