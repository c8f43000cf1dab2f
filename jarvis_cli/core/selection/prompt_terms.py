"""A local text representation of prompts for the nearest-neighbour quality estimate.

A prompt becomes hashed word counts: lower-cased words (runs of letters or digits)
and single punctuation/math symbols, each hashed with CRC-32 into 2^20 buckets
(stable across processes and machines, unlike `hash()`). Only the first 20,000
characters are read. Stored as text ("term:count term:count", sorted) in
`outcomes.terms`; similarity is the cosine of TF-IDF weights (sublinear tf,
smoothed idf over the stored prompts). Pure Python, no network.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

SCAN_CHARS = 20_000
BUCKETS = 1 << 20
_WORD = re.compile(r"[^\W_]+|[^\w\s]")


def prompt_terms(text: str) -> dict[int, int]:
    """Hashed word counts of `text`."""
    counts = Counter(_WORD.findall(text[:SCAN_CHARS].lower()))
    out: dict[int, int] = {}
    for word, n in counts.items():
        h = zlib.crc32(word.encode()) & (BUCKETS - 1)
        out[h] = out.get(h, 0) + n
    return out


def encode_terms(terms: Mapping[int, int]) -> str:
    return " ".join(f"{t}:{c}" for t, c in sorted(terms.items()))


def decode_terms(text: str) -> dict[int, int]:
    out: dict[int, int] = {}
    for part in text.split():
        t, _, c = part.partition(":")
        out[int(t)] = int(c)
    return out


class TermIndex:
    """An inverted index of unit TF-IDF vectors: postings[term] = [(doc, weight), ...]."""

    def __init__(self, idf: dict[int, float], postings: dict[int, list[tuple[int, float]]]):
        self.idf = idf
        self.postings = postings

    @classmethod
    def build(cls, docs: Sequence[Mapping[int, int]]) -> TermIndex:
        df: Counter[int] = Counter()
        for d in docs:
            df.update(d.keys())
        n = len(docs)
        idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        postings: dict[int, list[tuple[int, float]]] = {}
        for i, d in enumerate(docs):
            for t, w in _unit(d, idf).items():
                postings.setdefault(t, []).append((i, w))
        return cls(idf, postings)

    def nearest(
        self, terms: Mapping[int, int], k: int, min_similarity: float
    ) -> list[tuple[int, float]]:
        """The k most similar documents (index, cosine), most similar first."""
        sims: dict[int, float] = {}
        get = sims.get
        for t, w in _unit(terms, self.idf).items():
            for doc, x in self.postings.get(t, ()):
                sims[doc] = get(doc, 0.0) + w * x
        best = sorted(sims.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [(doc, s) for doc, s in best if s >= min_similarity]

    def to_data(self) -> tuple[list[tuple[int, float]], list[tuple[int, list[tuple[int, float]]]]]:
        return list(self.idf.items()), list(self.postings.items())

    @classmethod
    def from_data(cls, data: Any) -> TermIndex:
        idf, postings = data
        return cls(dict(idf), {t: list(p) for t, p in postings})


def _unit(terms: Mapping[int, int], idf: Mapping[int, float]) -> dict[int, float]:
    v = {t: (1.0 + math.log(c)) * idf[t] for t, c in terms.items() if t in idf}
    norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
    return {t: x / norm for t, x in v.items()}
