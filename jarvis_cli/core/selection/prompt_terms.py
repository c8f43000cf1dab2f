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
from array import array
from bisect import bisect_left
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
    """An inverted index of unit TF-IDF vectors as flat arrays (cheap to store and load):
    term `terms[j]` (sorted) has weight idf[j] and postings offsets[j]:offsets[j+1] of
    (docs, weights).

    A query ignores terms found in more than a quarter of the documents (and at least
    COMMON_MIN of them): like stop words they say little about similarity and have the
    longest postings."""

    COMMON_MIN = 50

    def __init__(self, terms: array[int], idf: array[float], offsets: array[int],
                 docs: array[int], weights: array[float], n_docs: int) -> None:  # fmt: skip
        self.terms, self.idf, self.offsets = terms, idf, offsets
        self.docs, self.weights, self.n_docs = docs, weights, n_docs

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
        terms = array("q", sorted(postings))
        # 4-byte doc ids and weights: half the bytes to store and load at 5,000 prompts
        offsets, flat_docs, weights = array("q", [0]), array("i"), array("f")
        for t in terms:
            for doc, w in postings[t]:
                flat_docs.append(doc)
                weights.append(w)
            offsets.append(len(flat_docs))
        return cls(terms, array("d", [idf[t] for t in terms]), offsets, flat_docs, weights, n)

    def nearest(
        self, terms: Mapping[int, int], k: int, min_similarity: float
    ) -> list[tuple[int, float]]:
        """The k most similar documents (index, cosine), most similar first."""
        found: dict[int, tuple[int, float]] = {}
        for t in terms:
            j = bisect_left(self.terms, t)
            if j < len(self.terms) and self.terms[j] == t:
                found[t] = (j, self.idf[j])
        query = _unit(terms, {t: idf for t, (_, idf) in found.items()})
        common = max(self.COMMON_MIN, self.n_docs // 4)
        offsets, docs, weights = self.offsets, self.docs, self.weights
        sims: dict[int, float] = {}
        get = sims.get
        for t, w in query.items():
            j = found[t][0]
            lo, hi = offsets[j], offsets[j + 1]
            if hi - lo > common:
                continue
            for i in range(lo, hi):
                doc = docs[i]
                sims[doc] = get(doc, 0.0) + w * weights[i]
        best = sorted(sims.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [(doc, s) for doc, s in best if s >= min_similarity]

    def to_data(self) -> tuple[bytes, bytes, bytes, bytes, bytes, int]:
        return (
            self.terms.tobytes(), self.idf.tobytes(), self.offsets.tobytes(),
            self.docs.tobytes(), self.weights.tobytes(), self.n_docs,
        )  # fmt: skip

    @classmethod
    def from_data(cls, data: Any) -> TermIndex:
        def arr(code: str, raw: bytes) -> Any:
            out = array(code)
            out.frombytes(raw)
            return out

        terms, idf, offsets, docs, weights, n = data
        return cls(arr("q", terms), arr("d", idf), arr("q", offsets), arr("i", docs),
                   arr("f", weights), n)  # fmt: skip


def _unit(terms: Mapping[int, int], idf: Mapping[int, float]) -> dict[int, float]:
    v = {t: (1.0 + math.log(c)) * idf[t] for t, c in terms.items() if t in idf}
    norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
    return {t: x / norm for t, x in v.items()}
