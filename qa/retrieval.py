"""Hybrid retrieval: keyword (BM25) and dense (FAISS inner product) candidates, fused.

Every article is about the same topic, so the small dense model alone ranks
poorly here; keywords carry most of the signal and the dense side breaks ties
and catches paraphrases. Fusion is weighted reciprocal rank, with weights chosen
on the dev set (docs/decisions.md records the measurements).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .chunking import Chunk
from .index import IndexData
from .lexicon import build_expansions
from .textnorm import STOPWORDS, SpellCorrector, content_words, join_compounds, normalize, stem


@dataclass(frozen=True)
class FusionWeights:
    """Weighted reciprocal-rank fusion: ``w / (k + rank)`` summed over the two rankings."""

    bm25: float = 1.0
    dense: float = 0.7
    k: float = 10.0
    expansion: float = 0.35  # weight of lexicon words added to the keyword query


@dataclass
class Query:
    """A question as the retriever sees it."""

    raw: str
    text: str  # normalised, misspellings corrected: what the dense encoder sees
    terms: list[str]  # content words after spelling correction
    stems: list[str]
    expansions: list[str] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # content words the corpus never uses
    vector: np.ndarray | None = None  # the dense query vector, once encoded


@dataclass
class Hit:
    """A ranked chunk with its component scores."""

    chunk: Chunk
    score: float
    dense: float
    bm25: float


class Retriever:
    """Ranks chunks for a query; one instance per loaded index."""

    def __init__(self, data: IndexData, weights: FusionWeights | None = None):
        self.data = data
        self.weights = weights or FusionWeights()
        self.speller = SpellCorrector(data.vocabulary)
        self.expansions = build_expansions()
        self.known_stems = {stem(w) for w in data.vocabulary}

    def analyse(self, text: str) -> Query:
        """Normalise, correct misspellings and expand a question."""
        norm = join_compounds(normalize(text))
        corrections: dict[str, str] = {}
        terms: list[str] = []
        unknown: list[str] = []
        for w in content_words(norm):
            fixed = self.speller.correct(w)
            if fixed and fixed not in STOPWORDS:
                corrections[w] = fixed
                w = fixed
            terms.append(w)
            if stem(w) not in self.known_stems and not w.isdigit():
                unknown.append(w)
        for bad, good in corrections.items():
            norm = norm.replace(bad, good)
        stems = [stem(w) for w in terms]
        extra: list[str] = []
        for s in stems:
            for e in sorted(self.expansions.get(s, ())):
                if e not in stems and e not in extra:
                    extra.append(e)
        return Query(raw=text, text=norm, terms=terms, stems=stems, expansions=extra,
                     corrections=corrections, unknown=unknown)

    def bm25_scores(self, q: Query) -> np.ndarray:
        bm = self.data.bm25
        scores = bm.get_scores(q.stems) if q.stems else np.zeros(len(self.data.chunks), np.float32)
        if q.expansions and self.weights.expansion:
            scores = scores + self.weights.expansion * bm.get_scores(q.expansions)
        return np.asarray(scores, dtype=np.float32)

    def dense_scores(self, q: Query) -> np.ndarray:
        if q.vector is None:
            q.vector = self.data.encoder.encode_query(q.text or q.raw)
        vec = q.vector
        n = len(self.data.chunks)
        sims, ids = self.data.dense.search(vec[None, :], n)
        out = np.full(n, -1.0, dtype=np.float32)
        out[ids[0]] = sims[0]
        return out

    def search(self, q: Query, k: int = 10) -> list[Hit]:
        """The top ``k`` chunks, best first."""
        dense = self.dense_scores(q)
        bm25 = self.bm25_scores(q)
        fused = self.fuse(dense, bm25)
        order = np.argsort(-fused, kind="stable")[:k]
        return [Hit(self.data.chunks[i], float(fused[i]), float(dense[i]), float(bm25[i]))
                for i in order]

    def fuse(self, dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
        w = self.weights
        fused = w.dense / (w.k + _ranks(dense))
        if bm25.max() > 0:
            # Chunks with no keyword match get no keyword credit at all.
            fused = fused + np.where(bm25 > 0, w.bm25 / (w.k + _ranks(bm25)), 0.0)
        return fused.astype(np.float32)


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each score (ties share the better rank)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float32)
    ranks[order] = np.arange(1, len(scores) + 1, dtype=np.float32)
    return ranks
