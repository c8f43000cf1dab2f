"""The task classifier: a linear model over `task_features`, its weights in
`jarvis_cli/data/task_model.json` (derived by `scripts/derive_task_model.py` from
real, labelled prompts; sources and licences in jarvis_cli/data/NOTICE).

The weight table is read on the first classification only (about 2 ms), so importing
this module costs nothing. A prompt's score for a category is the bias plus the sum
of its known features' weights, divided by sqrt(number of features) as in fitting;
the evidence is the features that most separate the winner from the runner-up.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jarvis_cli.core.selection.task_features import describe, features

MODEL_FILE = Path(__file__).resolve().parents[2] / "data" / "task_model.json"
EVIDENCE = 3


@dataclass(frozen=True)
class Guess:
    """A classification: the category, its probability and the strongest evidence."""

    category: str
    probability: float
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class TaskModel:
    classes: tuple[str, ...]
    scale: float
    bias: tuple[int, ...]
    weights: dict[str, list[int]]
    priors: dict[str, tuple[int, float]]

    @classmethod
    def from_json(cls, text: str) -> TaskModel:
        doc = json.loads(text)
        return cls(
            classes=tuple(doc["classes"]),
            scale=float(doc["scale"]),
            bias=tuple(doc["bias"]),
            weights=doc["weights"],
            priors={f: (doc["classes"].index(c), float(v)) for f, (c, v) in doc["priors"].items()},
        )

    def classify(self, prompt: str) -> Guess:
        """The most probable category of `prompt`, with its evidence."""
        feats = features(prompt)
        k = len(self.classes)
        norm = 1.0 / math.sqrt(len(feats) or 1)
        # Each known feature's contribution to each class's score (in weight units).
        parts: list[tuple[str, list[float]]] = []
        for f in feats:
            ws = self.weights.get(f)
            part = [w * norm for w in ws] if ws is not None else None
            if f in self.priors:
                c, value = self.priors[f]
                part = part or [0.0] * k
                part[c] += value * self.scale
            if part is not None:
                parts.append((f, part))
        scores = [float(b) for b in self.bias]
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


@lru_cache(maxsize=1)
def shipped_model() -> TaskModel:
    """The bundled weight table, read once per process."""
    return TaskModel.from_json(MODEL_FILE.read_text(encoding="utf-8"))
