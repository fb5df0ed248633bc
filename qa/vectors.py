"""The dense FAISS index, chosen by corpus size.

Below ``EXACT_MAX`` chunks an exact inner-product scan (``IndexFlatIP``) costs a
few milliseconds and is always right, so that is what we use. Above it, an HNSW
graph answers in well under a millisecond at recall@10 ≥ 0.95 against the exact
scan. The thresholds and HNSW parameters were measured on synthetic corpora of
1k-100k chunks built from the articles' sentences (``bench/synthetic.py``; figures
in docs/benchmarks.md).

Vectors are L2-normalised, so inner product is cosine similarity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits


# Per-question products are small (a few vectors against ~1,000), but OpenBLAS spreads them
# over every core and its idle threads then spin: +4 ms of CPU a question (docs/benchmarks.md).
# A per-call limit is process-wide and toggles under concurrent requests, so the serving process
# sets it once.
def one_blas_thread() -> None:
    """Make numpy's matrix products run on one BLAS thread, for the rest of the process."""
    threadpool_limits(limits=1, user_api="blas")


# A single-query flat scan took ~0.02 ms at 1k chunks, ~0.6 ms at 10k and ~8 ms at 100k
# (30-50 ms on a loaded machine); up to 5k chunks exact search is nearly free.
EXACT_MAX = 5_000
# HNSW: 32 links per node. At 100k chunks efSearch 64 gave recall@10 0.94, 128 gave 0.98
# for about 0.5 ms a query (docs/benchmarks.md).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# How many chunks get a real dense score when the index is too large to score them all;
# the rest share a floor below every candidate (keywords can still bring them in).
DENSE_CANDIDATES = 200
FULL_SCORE_MAX = EXACT_MAX


@dataclass(frozen=True)
class VectorParams:
    """Which index to build; ``kind`` is ``"flat"`` or ``"hnsw"``."""

    kind: str
    m: int = HNSW_M
    ef_construction: int = HNSW_EF_CONSTRUCTION
    ef_search: int = HNSW_EF_SEARCH


def choose(n: int, exact_max: int = EXACT_MAX) -> VectorParams:
    """The index type for ``n`` vectors: exact up to ``exact_max``, HNSW above."""
    return VectorParams("flat" if n <= exact_max else "hnsw")


def build_dense(vectors: np.ndarray, params: VectorParams | None = None) -> Any:
    """A FAISS inner-product index over L2-normalised ``vectors`` (rows), type chosen by size."""
    import faiss

    vecs = np.ascontiguousarray(vectors, dtype=np.float32)
    if vecs.ndim != 2:
        raise ValueError("vectors must be a 2-D array")
    params = params or choose(len(vecs))
    dim = vecs.shape[1]
    if params.kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif params.kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, params.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.ef_construction
        index.hnsw.efSearch = params.ef_search  # stored with the index by write_index
    else:
        raise ValueError(f"unknown index kind {params.kind!r}")
    if len(vecs):
        index.add(vecs)
    return index


def kind_of(index: Any) -> str:
    """``"flat"``, ``"hnsw"`` or the FAISS class name."""
    import faiss

    if isinstance(index, faiss.IndexFlat):
        return "flat"
    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    return type(index).__name__


def dense_candidates(index: Any, n: int) -> int:
    """How many neighbours ``Retriever.dense_scores`` asks for: all of a small exact index."""
    if kind_of(index) == "flat" and n <= FULL_SCORE_MAX:
        return n
    return min(n, DENSE_CANDIDATES)


def recall_at_k(index: Any, vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    """Mean fraction of the exact top-``k`` (flat inner-product scan) that ``index`` returns."""
    import faiss

    if len(vectors) == 0 or len(queries) == 0:
        return 1.0
    k = min(k, len(vectors))
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(np.ascontiguousarray(vectors, dtype=np.float32))
    q = np.ascontiguousarray(queries, dtype=np.float32)
    _, truth = exact.search(q, k)
    _, got = index.search(q, k)
    hits = [len(set(t.tolist()) & set(g.tolist())) / k for t, g in zip(truth, got, strict=True)]
    return float(np.mean(hits))


def index_bytes(index: Any) -> int:
    """Serialized size of ``index`` (what it occupies on disk and, roughly, in memory)."""
    import faiss

    return int(faiss.serialize_index(index).nbytes)


def build_with_report(vectors: np.ndarray, queries: np.ndarray, params: VectorParams | None = None,
                      k: int = 10) -> tuple[Any, dict[str, Any]]:
    """Build the index for ``vectors`` and report its kind, size and recall@``k`` vs exact search."""
    import time

    params = params or choose(len(vectors))
    t0 = time.perf_counter()
    index = build_dense(vectors, params)
    seconds = time.perf_counter() - t0
    report = {"kind": params.kind, "n": len(vectors), "build_s": round(seconds, 3),
              "bytes": index_bytes(index), f"recall@{k}": round(recall_at_k(index, vectors, queries, k), 4)}
    if params.kind == "hnsw":
        report |= {"m": params.m, "ef_construction": params.ef_construction, "ef_search": params.ef_search}
    return index, report
