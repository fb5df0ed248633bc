"""Build and query figures on synthetic corpora of growing size.

For each size: the exact flat index and an HNSW graph (build time, search p50/p95
for top-10, recall@10 against the exact scan, bytes per chunk); then the real
retrieval stage (``Retriever.analyse`` + ``Retriever.search``: query encoding
with the cache cleared, BM25, dense candidates, fusion) over the synthetic chunks
with the index ``qa/vectors.py`` chooses, and how often its fused top-10 equals the
fused top-10 computed with exact dense scores.
"""

from __future__ import annotations

import time
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from qa import vectors
from qa.chunking import Chunk
from qa.textnorm import keyword_tokens

from . import synthetic
from .latency import _clear_cache
from .measure import current_rss_mb, median_of, summary

CHUNKS_PER_DOC = 50


def _search_ms(index: Any, queries: np.ndarray, k: int, reps: int) -> dict[str, float]:
    runs = []
    for _ in range(reps):
        ms = []
        for row in queries:
            t = time.perf_counter()
            index.search(row[None, :], k)
            ms.append((time.perf_counter() - t) * 1000)
        runs.append(summary(ms))
    return median_of(runs)


def _chunks(texts: list[str]) -> list[Chunk]:
    out = []
    for i, t in enumerate(texts):
        # Offsets into a synthetic document of CHUNKS_PER_DOC passages joined by blank lines.
        start = sum(len(x) + 2 for x in texts[i - i % CHUNKS_PER_DOC:i])
        out.append(Chunk(chunk_id=i, doc_id=f"syn-{i // CHUNKS_PER_DOC}", start=start,
                         end=start + len(t), text=t, heading="", kind="body"))
    return out


def retrieval_data(qa: Any, texts: list[str], dense: Any) -> Any:
    """The loaded index's data with the chunks, BM25 and dense index swapped for synthetic ones."""
    import bm25s

    bm = bm25s.BM25()
    bm.index([keyword_tokens(t) or ["_empty_"] for t in texts], show_progress=False)
    data = SimpleNamespace(**vars(qa.data))
    data.chunks = _chunks(texts)
    data.bm25 = bm
    data.dense = dense
    return data


def _retrieve(qa: Any, data: Any, flat: Any, questions: list[str], reps: int
              ) -> tuple[dict[str, float], float]:
    """Retrieval-stage latency (ms) and the share of exact fused top-10 it returns.

    The exact reference scores every chunk with the flat index (the same float
    arithmetic as the product's exact path, so rounding cannot flip near-ties).
    """
    from qa.retrieval import Retriever

    retr = Retriever(data, qa.retriever.weights)
    runs = []
    overlap = []
    for rep in range(reps):
        ms = []
        for q in questions:
            _clear_cache(data.encoder)
            t = time.perf_counter()
            query = retr.analyse(q)
            hits = retr.search(query, k=10)
            ms.append((time.perf_counter() - t) * 1000)
            if rep == 0:
                n = len(data.chunks)
                sims, ids = flat.search(query.vector[None, :], n)
                exact = np.full(n, -1.0, dtype=np.float32)
                exact[ids[0]] = sims[0]
                fused = retr.fuse(exact, retr.bm25_scores(query))
                ref = set(np.argsort(-fused, kind="stable")[:10].tolist())
                overlap.append(len(ref & {h.chunk.chunk_id for h in hits}) / 10)
        runs.append(summary(ms))
    return median_of(runs), float(np.mean(overlap))


def candidate_top_k(dense: np.ndarray, bm25: np.ndarray, weights: Any, k: int = 10, depth: int = 200
                    ) -> list[int]:
    """A proposal for ``Retriever.search`` on large corpora: fuse only each ranking's top ``depth``.

    ``Retriever.fuse`` ranks every chunk twice and sorts them all a third time; at
    100k chunks those full sorts are most of the query time. A chunk outside both
    top-``depth`` lists scores below w/(k+depth) on each side and cannot reach the
    top ``k``, so only the candidates need ranks (chunks missing from one list get
    rank ``depth + 1`` on that side). ``bench`` measures how often this returns the
    exact fused top ``k``.
    """
    n = len(dense)
    depth = min(depth, n)

    def ranked(scores: np.ndarray) -> np.ndarray:
        idx = np.argpartition(-scores, depth - 1)[:depth] if depth < n else np.arange(n)
        return idx[np.lexsort((idx, -scores[idx]))]  # best first, ties by chunk id (as a stable sort)

    rank_d = {int(c): r for r, c in enumerate(ranked(dense), 1)}
    rank_b = {}
    if bm25.max() > 0:
        rank_b = {int(c): r for r, c in enumerate(ranked(bm25), 1) if bm25[c] > 0}
    floor = depth + 1
    scored = []
    for c in rank_d.keys() | rank_b.keys():
        s = weights.dense / (weights.k + rank_d.get(c, floor))
        if c in rank_b:
            s += weights.bm25 / (weights.k + rank_b[c])
        scored.append((-np.float32(s), c))
    return [c for _, c in sorted(scored)[:k]]


def breakdown(qa: Any, data: Any, questions: list[str]) -> dict[str, float]:
    """Median ms of each retrieval step at this size (one pass): where the time goes."""
    from qa.retrieval import Retriever

    retr = Retriever(data, qa.retriever.weights)
    steps: dict[str, list[float]] = {k: [] for k in ("analyse", "encode", "dense", "bm25", "fuse_sort",
                                                     "candidate_fuse_sort")}
    same = []
    for q in questions:
        _clear_cache(data.encoder)
        t0 = time.perf_counter()
        query = retr.analyse(q)
        t1 = time.perf_counter()
        query.vector = data.encoder.encode_query(query.text or query.raw)
        t2 = time.perf_counter()
        dense = retr.dense_scores(query)
        t3 = time.perf_counter()
        bm25 = retr.bm25_scores(query)
        t4 = time.perf_counter()
        fused = retr.fuse(dense, bm25)
        top = np.argsort(-fused, kind="stable")[:10]
        t5 = time.perf_counter()
        cand = candidate_top_k(dense, bm25, retr.weights)
        t6 = time.perf_counter()
        same.append(len(set(top.tolist()) & set(cand)) / 10)
        for k, a, b in (("analyse", t0, t1), ("encode", t1, t2), ("dense", t2, t3), ("bm25", t3, t4),
                        ("fuse_sort", t4, t5), ("candidate_fuse_sort", t5, t6)):
            steps[k].append((b - a) * 1000)
    out = {k: round(float(np.median(v)), 3) for k, v in steps.items()}
    out["candidate_top10_same"] = round(float(np.mean(same)), 4)
    return out


def ef_sweep(index: Any, vecs: np.ndarray, qvecs: np.ndarray, reps: int,
             efs: tuple[int, ...] = (16, 32, 64, 128, 256)) -> list[dict[str, Any]]:
    """Recall@10 and search time of an HNSW index at several ``efSearch`` values."""
    out = []
    keep = index.hnsw.efSearch
    for ef in efs:
        index.hnsw.efSearch = ef
        out.append({"ef_search": ef, "recall@10": round(vectors.recall_at_k(index, vecs, qvecs, 10), 4),
                    "search_ms": _search_ms(index, qvecs, 10, reps)})
    index.hnsw.efSearch = keep
    return out


def measure(qa: Any, questions: list[str], sizes: list[int], encoder: Any, model_id: str,
            pool_size: int = 2000, reps: int = 3, exact_max: int | None = None,
            cache_dir: Any = synthetic.CACHE_DIR, sweep: bool = True, log: Any = print
            ) -> dict[str, Any]:
    """Scale figures for each size in ``sizes`` (chunks)."""
    sentences = synthetic.real_sentences(qa.settings)
    qvecs = encoder.encode(questions)
    exact_max = vectors.EXACT_MAX if exact_max is None else exact_max
    rows = []
    out: dict[str, Any] = {"sizes": sizes, "pool_size": pool_size, "exact_max": exact_max,
                           "queries": len(questions), "rows": rows}
    for n in sizes:
        rss0 = current_rss_mb()
        t0 = time.perf_counter()
        corpus = synthetic.synthetic(n, sentences, encoder, model_id, pool_size, cache_dir=cache_dir)
        gen_s = time.perf_counter() - t0
        vecs = corpus.vectors
        chosen = vectors.choose(n, exact_max)
        row: dict[str, Any] = {"n": n, "real_vectors": corpus.n_real, "generate_s": round(gen_s, 2),
                               "embed_s": round(corpus.embed_s, 2), "chosen": chosen.kind, "indexes": {}}
        built = {}
        for kind in ("flat", "hnsw"):
            params = replace(vectors.choose(10**9), kind=kind)
            index, rep = vectors.build_with_report(vecs, qvecs, params)
            rep["search_ms"] = _search_ms(index, qvecs, 10, reps)
            rep["search200_ms"] = _search_ms(index, qvecs, vectors.DENSE_CANDIDATES, 1)
            rep["bytes_per_chunk"] = round(rep["bytes"] / n, 1)
            row["indexes"][kind] = rep
            built[kind] = index
            log(f"  {n:>7} chunks {kind:>4}: build {rep['build_s']:.2f} s, search p50 "
                f"{rep['search_ms']['p50']:.3f} ms, recall@10 {rep['recall@10']:.3f}")
        if sweep and n == max(sizes):
            row["hnsw_sweep"] = ef_sweep(built["hnsw"], vecs, qvecs, reps)
        data = retrieval_data(qa, corpus.texts, built[chosen.kind])
        # What one chunk costs in memory for retrieval: its share of the chosen vector index,
        # of the BM25 matrix and its text (the app also holds sentence vectors: see docs).
        bm_bytes = sum(v.nbytes for v in data.bm25.scores.values() if isinstance(v, np.ndarray))
        row["bytes_per_chunk"] = {
            "vector_index": round(row["indexes"][chosen.kind]["bytes"] / n, 1),
            "bm25": round(bm_bytes / n, 1),
            "text": round(sum(len(t.encode()) for t in corpus.texts) / n, 1)}
        row["bytes_per_chunk"]["total"] = round(sum(row["bytes_per_chunk"].values()), 1)
        row["rss_growth_mb"] = round(current_rss_mb() - rss0, 1)
        row["retrieve_ms"], row["top10_vs_exact"] = _retrieve(qa, data, built["flat"], questions, reps)
        row["top10_vs_exact"] = round(row["top10_vs_exact"], 4)
        row["retrieve_steps_ms"] = breakdown(qa, data, questions)
        log(f"  {n:>7} chunks retrieval stage ({chosen.kind}): p50 {row['retrieve_ms']['p50']:.2f} ms, "
            f"p95 {row['retrieve_ms']['p95']:.2f} ms, fused top-10 = exact {row['top10_vs_exact']:.3f}")
        rows.append(row)
        if n == max(sizes) and corpus.n_real < n:
            k = corpus.n_real
            base = synthetic.SyntheticCorpus(corpus.texts[:k], vecs[:k], k)
            out["mixture_fidelity_cos"] = round(synthetic.mixture_fidelity(
                base, encoder, sample=min(64, max(8, corpus.n_real // 4))), 4)
        del data, built, corpus
    return out
