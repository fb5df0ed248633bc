"""Build and query figures on synthetic corpora of growing size.

For each size: the exact flat index and an HNSW graph (build time, search p50/p95
for top-10, recall@10 against the exact scan, bytes per chunk); then the real
retrieval stage (``Retriever.analyse`` + ``Retriever.search``: query encoding
with the cache cleared, BM25, dense candidates, fusion, sentence re-ranking) over
the synthetic chunks with the index ``qa/vectors.py`` chooses, and how much of its
top-10 equals the top-10 of the same search with exact dense scores.
"""

from __future__ import annotations

import time
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from qa import vectors
from qa.chunking import Chunk
from qa.retrieval import top_indices
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
    """The loaded index's data with the chunks, BM25 and dense index swapped for synthetic ones.

    Synthetic chunks are made of the real sentences, so each real sentence keeps its
    precomputed vector and simply lists every synthetic chunk that contains it (as a
    sentence shared by overlapping chunks does): the sentence re-ranking then does the
    same work per candidate as on the real index.
    """
    import bm25s

    bm = bm25s.BM25()
    bm.index([keyword_tokens(t) or ["_empty_"] for t in texts], show_progress=False)
    data = SimpleNamespace(**vars(qa.data))
    data.chunks = _chunks(texts)
    data.bm25 = bm
    data.dense = dense
    by_text = {s.text: i for i, s in enumerate(qa.data.sentences)}
    known = list(by_text)
    sentence_chunks: list[list[int]] = [[] for _ in qa.data.sentences]
    per_chunk = []
    for c, t in enumerate(texts):
        parts = [by_text[x] for x in synthetic.split_sentences(t, known) if x in by_text]
        per_chunk.append(len(parts))
        for i in parts:
            sentence_chunks[i].append(c)
    data.sentence_chunks = sentence_chunks
    data.sentences_per_chunk = float(np.mean(per_chunk)) if per_chunk else 0.0
    return data


def _exact_retriever(retr: Any, flat: Any) -> Any:
    """A copy of ``retr`` whose dense side scores every chunk exactly (the reference)."""
    import copy

    ref = copy.copy(retr)
    n = flat.ntotal

    def exact(q: Any) -> np.ndarray:
        if q.vector is None:
            q.vector = retr.data.encoder.encode_query(q.text or q.raw)
        sims, ids = flat.search(q.vector[None, :], n)
        out = np.full(n, -1.0, dtype=np.float32)
        out[ids[0]] = sims[0]
        return out

    ref.dense_scores = exact  # instance attribute: search() calls self.dense_scores
    return ref


def _retrieve(qa: Any, data: Any, flat: Any, questions: list[str], reps: int
              ) -> tuple[dict[str, float], float, Any]:
    """Retrieval-stage latency (ms), the share of the exact top-10 it returns, and the retriever.

    The reference is the same ``Retriever.search`` with exact dense scores for every chunk.
    """
    from qa.retrieval import Retriever

    retr = Retriever(data, qa.retriever.weights)
    ref = _exact_retriever(retr, flat)
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
                truth = {h.chunk.chunk_id for h in ref.search(ref.analyse(q), k=10)}
                overlap.append(len(truth & {h.chunk.chunk_id for h in hits}) / 10)
        runs.append(summary(ms))
    return median_of(runs), float(np.mean(overlap)), retr


def breakdown(retr: Any, flat: Any, questions: list[str]) -> dict[str, float]:
    """Median ms of each retrieval step at this size (one pass): where the time goes.

    ``fuse_top`` is ``Retriever.fuse`` plus picking the ``rerank_depth`` fused chunks that
    ``search`` re-ranks (depth-limited ranks and ``argpartition``: linear time);
    ``rerank_set_kept`` is how much of the re-rank set computed with exact dense scores it
    reproduces. ``search`` is the whole ``Retriever.search``.
    """
    data = retr.data
    depth = retr.weights.rerank_depth
    exact_retr = _exact_retriever(retr, flat)
    steps: dict[str, list[float]] = {k: [] for k in ("analyse", "encode", "dense", "bm25", "fuse_top",
                                                     "search")}
    kept = []
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
        top = top_indices(retr.fuse(dense, bm25), depth)
        t5 = time.perf_counter()
        retr.search(query, k=10)
        t6 = time.perf_counter()
        truth = set(top_indices(retr.fuse(exact_retr.dense_scores(query), bm25), depth).tolist())
        kept.append(len(truth & set(top.tolist())) / max(1, len(truth)))
        for k, a, b in (("analyse", t0, t1), ("encode", t1, t2), ("dense", t2, t3), ("bm25", t3, t4),
                        ("fuse_top", t4, t5), ("search", t5, t6)):
            steps[k].append((b - a) * 1000)
    out = {k: round(float(np.median(v)), 3) for k, v in steps.items()}
    out["rerank_set_kept"] = round(float(np.mean(kept)), 4)
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
        # What one chunk costs in memory: its share of the chosen vector index, of the BM25
        # matrix, its text, and the vectors of its sentences (the sentence re-ranking keeps
        # one per sentence; estimated from the real index's sentences per chunk, because
        # synthetic chunks share the real sentences' vectors).
        bm_bytes = sum(v.nbytes for v in data.bm25.scores.values() if isinstance(v, np.ndarray))
        sent_per_chunk = len(qa.data.sentences) / max(1, len(qa.data.chunks))
        row["bytes_per_chunk"] = {
            "vector_index": round(row["indexes"][chosen.kind]["bytes"] / n, 1),
            "bm25": round(bm_bytes / n, 1),
            "text": round(sum(len(t.encode()) for t in corpus.texts) / n, 1),
            "sentence_vectors_est": round(sent_per_chunk * vecs.shape[1] * 4, 1)}
        row["bytes_per_chunk"]["total"] = round(sum(row["bytes_per_chunk"].values()), 1)
        row["rss_growth_mb"] = round(current_rss_mb() - rss0, 1)  # both indexes + the data: rough
        row["retrieve_ms"], overlap, retr = _retrieve(qa, data, built["flat"], questions, reps)
        row["top10_vs_exact"] = round(overlap, 4)
        row["retrieve_steps_ms"] = breakdown(retr, built["flat"], questions)
        log(f"  {n:>7} chunks retrieval stage ({chosen.kind}): p50 {row['retrieve_ms']['p50']:.2f} ms, "
            f"p95 {row['retrieve_ms']['p95']:.2f} ms, top-10 = exact {row['top10_vs_exact']:.3f}")
        rows.append(row)
        if n == max(sizes) and corpus.n_real < n:
            k = corpus.n_real
            base = synthetic.SyntheticCorpus(corpus.texts[:k], vecs[:k], k)
            out["mixture_fidelity_cos"] = round(synthetic.mixture_fidelity(
                base, encoder, sample=min(64, max(8, corpus.n_real // 4))), 4)
        del data, built, corpus
    return out
