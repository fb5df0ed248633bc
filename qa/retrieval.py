"""Hybrid retrieval: keyword (BM25), dense (FAISS inner product) and written-question
candidates, fused by weighted reciprocal rank, then ranked by a linear score over a few
evidence features of each candidate, its best sentence among them (``SentenceScorer``,
shared with answer composition).

Every article is about the same topic, so the small dense model alone ranks
poorly here. Reciprocal-rank fusion picks the candidates without any score
calibration; the final order weighs the raw similarities too, because how much
nearer one passage is carries information that ranks throw away. The weights
were fitted on the tuning splits (``bench/fit_ranking.py``; docs/decisions.md
records the measurements). Query analysis lives in ``qa/query.py``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .chunking import Chunk
from .index import IndexData
from .query import Query, QueryAnalyzer
from .textnorm import (
    COMMON_WORDS,
    STOPWORDS,
    join_compounds,
    keyword_tokens,
    normalize,
    stem,
)


@dataclass(frozen=True)
class FusionWeights:
    """Weighted reciprocal-rank fusion: ``w / (k + rank)`` summed over the two rankings."""

    bm25: float = 1.0
    dense: float = 0.8
    # 10 until session 14; the adapted model's rankings are sharper, and 5 (top ranks weigh
    # more) raised MRR on each of the six tuning splits it was chosen on, 0.907 -> 0.918; on
    # the later fresh split dev7, 3 questions ranked better and 3 worse (MRR 0.859 against
    # 0.874 with 10; docs/decisions.md).
    k: float = 5.0
    expansion: float = 0.35  # weight of lexicon words added to the keyword query
    # A follow-up's previous answer, in BM25: "keep that up" refers to what was just said.
    # Session 21, 203 tuning follow-ups: 0 / 0.1 / 0.15 / 0.2 / 0.3 -> MRR 0.881 / 0.885 /
    # 0.891 / 0.890 / 0.890, cite-hit 0.941 -> 0.951 from 0.15; with the system's own answers
    # as the history (as in the web chat) MRR held (0.881 -> 0.880), cite-hit 0.901 -> 0.916.
    said: float = 0.15
    sentence_dense: float = 0.3  # dense share of a sentence score; the rest is keyword coverage
    rerank_depth: int = 50  # fused candidates that get the final ranking
    # Written questions (corpus/questions/): a user's question is often far nearer in meaning
    # to a question someone wrote for a sentence than to the sentence itself. On the tuning
    # splits MRR went 0.76 -> 0.81 and cite-hit 0.84 -> 0.87 (docs/decisions.md). Session 16,
    # fourteen splits: 0.8 -> 0.903, 1.0 -> 0.914, 1.2 -> 0.919, 1.4 -> 0.921, 2.0 -> 0.920.
    asked: float = 1.4  # weight of the ranking by nearest written question, beside bm25/dense
    asked_sentence: float = 0.6  # weight of a sentence's nearest written question in its score
    # The final ranking of the candidates, a linear score over RANK_FEATURES (in that order),
    # fitted by bench/fit_ranking.py on the fourteen tuning splits (session 17). Before, the
    # fused rank plus 0.15 x the best sentence's score ordered them: MRR 0.909, against 0.924
    # for these weights with each split predicted by weights fitted on the other thirteen.
    # Refitted on 29 splits in session 19, after the indirect written questions came in
    # (27.8, 5.2, 7.5, 8.0, 0.88 before): held out 0.916 -> 0.919, better on 17 of 29 splits.
    # Session 20 added clause_asked and refitted on 32 splits: held out 0.915 -> 0.918 (mean
    # MRR through `qa eval` 0.927 -> 0.932, better on 21 splits, worse on 7).
    ranking: tuple[float, ...] = (18.85, 4.42, 6.45, 3.89, 1.08, 8.85)


# What the final ranking weighs, per candidate chunk:
RANK_FEATURES = (
    "asked_rank",  # 1 / (k + rank) by the nearest written question for one of its sentences
    "sentence",  # its best sentence's score (SentenceScorer: meaning, keywords, amounts)
    "dense",  # cosine of the whole chunk with the question
    "sentence_dense",  # cosine of its nearest sentence with the question
    "bm25",  # keyword score, as a share of the best chunk's
    "clause_asked",  # nearest written question to any clause of a long message, or to all of it
)


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
        self.analyzer = QueryAnalyzer(data)
        self.sentences = SentenceScorer(data, dense_share=self.weights.sentence_dense,
                                        asked_weight=self.weights.asked_sentence)
        # (chunk, sentence) pairs, to lift sentence scores to chunks in one vector operation.
        pairs = [(c, i) for i, cs in enumerate(data.sentence_chunks) for c in cs]
        self._pair_chunks = np.array([c for c, _ in pairs], dtype=np.int64)
        self._pair_sentences = np.array([i for _, i in pairs], dtype=np.int64)

    def analyse(self, text: str, context: str | None = None) -> Query:
        """See ``QueryAnalyzer.analyse``."""
        return self.analyzer.analyse(text, context)

    def encode(self, q: Query) -> np.ndarray:
        """The query's dense vector, encoded once and kept on the query.

        A follow-up's vector is the sum of its own text's and the text with its context: the
        context fills in what "they" are, the question's own vector keeps a question that only
        looked like a follow-up on its own topic (docs/decisions.md, *Follow-ups*)."""
        if q.vector is None:
            text = q.text or q.raw
            if q.own_text and q.own_text != text:
                # One encoder pass for both (a cache hit when the service batched them already).
                full, own = self.data.encoder.encode_cached([text, q.own_text])
                v = own + full
                q.vector = (v / max(float(np.linalg.norm(v)), 1e-9)).astype(np.float32)
            else:
                q.vector = self.data.encoder.encode_query(text)
        return q.vector

    def bm25_scores(self, q: Query) -> np.ndarray:
        bm = self.data.bm25
        own = [s for s in q.stems if s in q.focus]
        scores = bm.get_scores(own) if own else np.zeros(len(self.data.chunks), np.float32)
        context = [s for s in q.stems if s not in q.focus]
        if context:  # a follow-up's borrowed words count, at half weight
            scores = scores + CONTEXT_WEIGHT * bm.get_scores(context)
        if q.said and self.weights.said:  # what "that" in "how long do I keep that up?" points to
            said = [t for t in dict.fromkeys(keyword_tokens(q.said)) if t not in q.stems]
            if said:
                scores = scores + self.weights.said * bm.get_scores(said)
        if q.expansions and self.weights.expansion:
            scores = scores + self.weights.expansion * bm.get_scores(q.expansions)
        return np.asarray(scores, dtype=np.float32)

    def dense_scores(self, q: Query) -> np.ndarray:
        vec = self.encode(q)
        n = len(self.data.chunks)
        # A small exact index scores every chunk; a large one (HNSW) scores only the top
        # candidates, and the rest keep the floor score -1 (keywords can still rank them).
        from .vectors import dense_candidates

        sims, ids = self.data.dense.search(vec[None, :], dense_candidates(self.data.dense, n))
        out = np.full(n, -1.0, dtype=np.float32)
        found = ids[0] >= 0
        out[ids[0][found]] = sims[0][found]
        return out

    def search(self, q: Query, k: int = 10) -> list[Hit]:
        """The top ``k`` chunks, best first.

        Keyword, dense and written-question rankings are fused to pick the candidates;
        they are then ordered by a fitted score over their ``RANK_FEATURES``: a passage
        that holds one sentence squarely on the question beats one that is vaguely about
        it throughout, and how much nearer a passage is counts, not only its rank.
        """
        dense, bm25, asked_rank, cand = self.candidates(q, k)
        total = self.features(q, cand, dense, bm25, asked_rank) @ np.asarray(self.weights.ranking)
        order = cand[np.argsort(-total, kind="stable")][:k]
        final = dict(zip(cand.tolist(), total.tolist(), strict=True))
        return [Hit(self.data.chunks[i], float(final[i]), float(dense[i]), float(bm25[i]))
                for i in order]

    def candidates(self, q: Query, k: int = 10
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(dense scores, BM25 scores, written-question reciprocal ranks, candidate chunk ids):
        the fused rankings' best ``max(k, rerank_depth)`` chunks, best first."""
        dense = self.dense_scores(q)
        bm25 = self.bm25_scores(q)
        fused = self.fuse(dense, bm25)
        asked_rank = np.zeros(len(self.data.chunks), dtype=np.float32)
        asked = self.sentences.asked(q)  # also read by every sentence score
        if asked is not None:
            # Chunks ranked by the nearest question written for one of their sentences.
            by_chunk = np.full(len(self.data.chunks), -1.0, dtype=np.float32)
            per_sentence = np.asarray(asked, dtype=np.float32)
            np.maximum.at(by_chunk, self._pair_chunks, per_sentence[self._pair_sentences])
            asked_rank = 1.0 / (self.weights.k + _ranks(by_chunk, by_chunk > -1.0))
            fused = fused + self.weights.asked * asked_rank
        return dense, bm25, asked_rank, top_indices(fused, max(k, self.weights.rerank_depth))

    def features(self, q: Query, cand: np.ndarray, dense: np.ndarray, bm25: np.ndarray,
                 asked_rank: np.ndarray) -> np.ndarray:
        """The RANK_FEATURES of each candidate chunk, one row per chunk of ``cand``."""
        top_bm25 = float(bm25.max())
        by_clause = self.sentences.clause_asked(q)
        rows = []
        for c in cand.tolist():
            best, nearest = self.sentences.in_chunk(q, c)
            clause = 0.0 if by_clause is None else max(
                (by_clause[i] for i in self.sentences.by_chunk.get(c, []) if self.sentences.scorable[i]),
                default=0.0)
            rows.append((asked_rank[c], best, dense[c], nearest, bm25[c] / top_bm25 if top_bm25 > 0 else 0.0,
                         clause))
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(RANK_FEATURES))

    def fuse(self, dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
        """Weighted reciprocal-rank fusion of the two score vectors (one value per chunk)."""
        w = self.weights
        # Chunks a large (HNSW) index did not return (-1) get no dense credit.
        fused = w.dense / (w.k + _ranks(dense, dense > -1.0))
        if bm25.max() > 0:
            # Chunks with no keyword match get no keyword credit at all.
            hit = bm25 > 0
            fused = fused + np.where(hit, w.bm25 / (w.k + _ranks(bm25, hit)), 0.0)
        return fused.astype(np.float32)


# Only this many chunks per ranking get their own rank; the rest share the next one. Ranks
# that deep add almost nothing to a reciprocal-rank sum, and at 100k chunks a full sort of
# every ranking was most of a question's time (bench/scale.py measured 12 ms -> 1.1 ms).
RANK_DEPTH = 1000


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best scores, best first, ties by index; linear time, then k log k."""
    n = len(scores)
    k = min(k, n)
    idx = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
    return idx[np.lexsort((idx, -scores[idx]))]


def _ranks(scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """1-based rank of each valid score among the top ``RANK_DEPTH`` (ties by chunk id);
    every other chunk gets rank ``RANK_DEPTH + 1``."""
    top = top_indices(scores, RANK_DEPTH)
    top = top[valid[top]]
    ranks = np.full(len(scores), RANK_DEPTH + 1, dtype=np.float32)
    ranks[top] = np.arange(1, len(top) + 1, dtype=np.float32)
    return ranks


class SentenceScorer:
    """Scores single sentences against a question: dense cosine plus keyword coverage.

    Sentence vectors are precomputed at build time; keyword stems and their idf
    (over sentences) are computed once at load.
    """

    def __init__(self, data: IndexData, dense_share: float = 0.3, asked_weight: float = 0.6):
        self.data = data
        self.dense_share = dense_share
        self.asked_weight = asked_weight
        self.stems = [frozenset(keyword_tokens(s.text)) for s in data.sentences]
        # A sentence inherits its section heading's words, at a discount: under "What Can
        # You Expect During a Microneedling Session?", "takes about 30 minutes" is a session's.
        self.heading_stems = [frozenset(keyword_tokens(s.heading)) for s in data.sentences]
        df: dict[str, int] = {}
        for st in self.stems:
            for t in st:
                df[t] = df.get(t, 0) + 1
        n = max(1, len(self.stems))
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.max_idf = math.log(1 + n)
        self.by_chunk: dict[int, list[int]] = {}
        for i, chunk_ids in enumerate(data.sentence_chunks):
            for c in chunk_ids:
                self.by_chunk.setdefault(c, []).append(i)
        self.scorable = [s.kind in ("body", "byline", "promo", "disclaimer") for s in data.sentences]
        # A call to action answers only questions squarely about booking or contacting, and an
        # article's disclaimer only questions about what it disclaims ("what does the disclaimer
        # say?"): on the tuning splits no other answer quoted one.
        self._penalty = [PROMO_PENALTY if s.kind in ("promo", "disclaimer") else 0.0 for s in data.sentences]
        self._quantity = [bool(_AMOUNT.search(normalize(s.text))) for s in data.sentences]
        # Stems next to an amount ("four to six sessions", "last 1-3 days"): a "how many
        # sessions" question is answered by a number attached to "sessions".
        self._counted = [_counted_stems(s.text) for s in data.sentences]

    def weight(self, stem_: str) -> float:
        """Idf of a stem; words the articles never use weigh the most."""
        return self.idf.get(stem_, self.max_idf)

    def lexical(self, q: Query, i: int) -> float:
        """Idf-weighted share of the question's terms that sentence ``i`` contains.

        The question's own words count double against words borrowed from earlier
        turns, and the share is taken of at least ``LEXICAL_FLOOR`` so that a question
        made only of the corpus's commonest words ("microneedling") cannot fully match.
        """
        if not q.stems:
            return 0.0
        if q.term_weights is None:
            # Once per query: every candidate sentence (~200) is scored against the same terms.
            weights = {t: self.weight(t) * (FOCUS_WEIGHT if t in q.focus or not q.focus else 1.0)
                       * (COMMON_WEIGHT if t in COMMON_STEMS else 1.0) for t in set(q.stems)}
            extra = {t: self.weight(t) for t in set(q.expansions) - q.substitutes}
            q.term_weights = (weights, max(sum(weights.values()), LEXICAL_FLOOR), extra)
        weights, total, extra_w = q.term_weights
        stems = self.stems[i]
        got = sum(w for t, w in weights.items() if t in stems)
        heading = self.heading_stems[i]
        if heading:
            got += HEADING_WEIGHT * sum(w for t, w in weights.items() if t not in stems and t in heading)
        subs = q.substitutes & stems
        if subs:
            got += max(self.weight(t) for t in subs) * FOCUS_WEIGHT
        extra = 0.3 * sum(w for t, w in extra_w.items() if t in stems)
        return min(1.0, (got + extra) / total)

    def asked(self, q: Query) -> list[float] | None:
        """Per sentence, the similarity of the nearest question written for it (-1 where none
        was), computed once per query; ``None`` when the corpus has no written questions."""
        vecs = self.data.question_vectors
        if not len(vecs) or q.vector is None:
            return None
        if q.asked is None:
            best = np.full(len(self.data.sentences), -1.0, dtype=np.float32)
            np.maximum.at(best, self.data.question_sentences, vecs @ q.vector)
            q.asked = best.tolist()  # read once per scored sentence: plain floats are cheapest
        return q.asked

    def clause_asked(self, q: Query) -> list[float] | None:
        """Like ``asked``, but each written question is matched to the best of the whole
        message and its clauses: a message that tells the asker's story before it asks ("I'm 28,
        olive skin, rolling scars from my teens, no acne now. Would it suit me?") is diluted as
        a whole, while one of its clauses may be close to a question written for the answer."""
        whole = self.asked(q)
        if whole is None:
            return None
        if q.clause_asked is None:
            parts = clauses(q.own_text or q.text)
            if len(parts) < 2:
                q.clause_asked = whole
            else:
                vecs = self.data.question_vectors
                cv = np.asarray(self.data.encoder.encode_cached(parts), dtype=np.float32)
                best = np.array(whole, dtype=np.float32)
                np.maximum.at(best, self.data.question_sentences, (vecs @ cv.T).max(axis=1))
                q.clause_asked = best.tolist()
        return q.clause_asked

    def dense(self, q: Query, i: int) -> float:
        assert q.vector is not None
        if q.sentence_dense is None:  # one product for every sentence, read ~200 times
            q.sentence_dense = (self.data.sentence_vectors @ q.vector).tolist()
        return q.sentence_dense[i]

    def score(self, q: Query, i: int) -> float:
        """The sentence's score for the question (``parts`` gives its ingredients too)."""
        return self.parts(q, i)[2]

    def parts(self, q: Query, i: int) -> tuple[float, float, float]:
        """(dense, lexical, score) of sentence ``i``: each computed once."""
        dense, lexical = self.dense(q, i), self.lexical(q, i)
        return dense, lexical, self._combine(q, i, dense, lexical)

    def _combine(self, q: Query, i: int, dense: float, lexical: float) -> float:
        base = self.dense_share * dense + (1 - self.dense_share) * lexical - self._penalty[i]
        if self.asked_weight:
            asked = q.asked if q.asked is not None else self.asked(q)
            if asked is not None and asked[i] > 0.0:
                base += self.asked_weight * asked[i]
        if not q.quantity or not self._quantity[i]:
            return base
        attached = bool(self._counted[i] & (q.focus | q.substitutes)) or (
            q.duration and bool(self._counted[i] & TIME_UNITS))
        return base + QUANTITY_BONUS + (ATTACHED_BONUS if attached else 0.0)

    def in_chunk(self, q: Query, chunk_id: int) -> tuple[float, float]:
        """(best score, highest cosine) of a chunk's sentences with the question, in one pass;
        (0, 0) when it has none to score."""
        parts = [self.parts(q, i) for i in self.by_chunk.get(chunk_id, []) if self.scorable[i]]
        return max((p[2] for p in parts), default=0.0), max((p[0] for p in parts), default=0.0)


_CLAUSE_SPLIT = re.compile(r"[.!?;]+|,|\s[-–—]\s|\bbut\b")


def clauses(text: str) -> list[str]:
    """The parts of a message between sentence ends, commas, dashes and "but", of three
    words or more."""
    parts = (p.strip() for p in _CLAUSE_SPLIT.split(text))
    return [p for p in parts if len(p.split()) >= 3]


LEXICAL_FLOOR = 8.0
CONTEXT_WEIGHT = 0.5  # BM25 weight of the words a follow-up borrows from the previous question
FOCUS_WEIGHT = 2.0  # the question's own words against words borrowed from earlier turns
PROMO_PENALTY = 0.25
HEADING_WEIGHT = 0.5  # a question word found only in the sentence's section heading
COMMON_WEIGHT = 0.3  # everyday words ("usually", "see", "long") match, but weakly
COMMON_STEMS = frozenset(stem(w) for w in COMMON_WORDS)
QUANTITY_BONUS = 0.1
ATTACHED_BONUS = 0.15
_EXACT_AMOUNT = re.compile(r"\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|once|twice")
TIME_UNITS = frozenset(stem(w) for w in ("minutes", "hours", "days", "weeks", "months", "years"))
# Amounts and durations: digits, number words, "a few", "a day or two".
_AMOUNT = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|few|several|"
                     r"couple|once|twice|minutes?|hours?|days?|weeks?|months?|years?)\b")


def _counted_stems(text: str, window: int = 3) -> frozenset[str]:
    """Stems within ``window`` words of an amount (a digit or a number word)."""
    toks = re.findall(r"[a-z0-9]+", join_compounds(normalize(text)))
    near: set[str] = set()
    for i, t in enumerate(toks):
        if _EXACT_AMOUNT.fullmatch(t):
            for u in toks[max(0, i - window): i + window + 1]:
                if not _EXACT_AMOUNT.fullmatch(u) and u not in STOPWORDS:
                    near.add(stem(u))
    return frozenset(near)
