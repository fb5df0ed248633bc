"""Per-question latency of our pipeline, the naive dense pipeline and the hardware floor.

All three run in this process on the same questions, interleaved question by
question so that load from other processes on the shared machine hits them
alike. Our pipeline runs with the query-embedding cache cleared before every
question (the cached case is measured separately), so every figure includes one
real encoder forward pass.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from qa.config import default_model

from .measure import median_of, summary


def _clear_cache(encoder: Any) -> None:
    # The LRU cache of query vectors would turn repeated runs into cache hits.
    cache = getattr(encoder, "_cache", None)
    if cache is not None:
        with encoder._lock:
            cache.clear()


def load_floor_model(model: str | None = None) -> Any:
    """The bare sentence-transformers model (imports torch: bench process only)."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model or default_model(), device="cpu")


def _floor_ms(model: Any, dense: Any, question: str) -> float:
    """One bare sentence-transformers encode of the question and one FAISS top-10 search, in ms."""
    t = time.perf_counter()
    v = model.encode([question], normalize_embeddings=True, convert_to_numpy=True)
    dense.search(np.ascontiguousarray(v, dtype=np.float32), 10)
    return (time.perf_counter() - t) * 1000


def measure(qa: Any, items: list[dict[str, Any]], reps: int = 3, floor_model: Any = None,
            log: Any = print) -> dict[str, Any]:
    """Latency figures in milliseconds; percentiles per repetition, then the median over repetitions."""
    from qa.baselines import NaiveBaselines

    t0 = time.perf_counter()
    naive = NaiveBaselines(qa, encoder=qa.data.encoder)  # timing only: the adapted weights cost the same
    naive_build_s = time.perf_counter() - t0
    floor = floor_model if floor_model is not None else load_floor_model()
    enc = qa.data.encoder
    dense = qa.data.dense
    import torch

    # sentence-transformers is timed with one torch thread (like our one ONNX Runtime
    # thread) and, in a separate pass, with torch's default; the floor is the faster.
    default_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    # Warm every path once (first calls allocate thread pools and arenas).
    for it in items[:3]:
        qa.ask(it["question"], it.get("history"))
        naive.dense(it["question"])
        floor.encode([it["question"]], normalize_embeddings=True)
    # *_cpu: CPU time of the calling thread (ONNX Runtime and torch with one thread run
    # there), which hardly moves with the load other processes put on the machine.
    names = ("retrieve", "compose", "total", "wall", "naive", "floor_st1", "floor_stn", "floor_onnx",
             "cached", "total_cpu", "floor_st1_cpu")
    runs: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    statuses: dict[str, int] = {}
    for rep in range(reps):
        samples: dict[str, list[float]] = {n: [] for n in names}
        for it in items:
            q, hist = it["question"], it.get("history")
            _clear_cache(enc)
            c = time.thread_time()
            t = time.perf_counter()
            ans = qa.ask(q, hist)
            samples["wall"].append((time.perf_counter() - t) * 1000)
            samples["total_cpu"].append((time.thread_time() - c) * 1000)
            for part in ("retrieve", "compose", "total"):
                samples[part].append(float(ans.timings_ms[part]))
            if rep == 0:
                statuses[ans.status] = statuses.get(ans.status, 0) + 1
            # The same question again: its query vector now comes from the cache.
            samples["cached"].append(float(qa.ask(q, hist).timings_ms["total"]))

            t = time.perf_counter()
            naive.dense(q)
            samples["naive"].append((time.perf_counter() - t) * 1000)

            c = time.thread_time()
            samples["floor_st1"].append(_floor_ms(floor, dense, q))
            samples["floor_st1_cpu"].append((time.thread_time() - c) * 1000)

            # The same floor with our ONNX encoder: what our pipeline adds on top of it.
            _clear_cache(enc)
            t = time.perf_counter()
            v = enc.encode([q])
            dense.search(v, 10)
            samples["floor_onnx"].append((time.perf_counter() - t) * 1000)
        # The floor again with torch's default thread count, in its own pass (changing the
        # count per question would time thread-pool start-ups).
        torch.set_num_threads(default_threads)
        samples["floor_stn"] = [_floor_ms(floor, dense, it["question"]) for it in items]
        torch.set_num_threads(1)
        for n in names:
            runs[n].append(summary(samples[n]))
        log(f"  latency repetition {rep + 1}/{reps}: ours p50 {runs['total'][-1]['p50']:.2f} ms, "
            f"floor p50 {runs['floor_st1'][-1]['p50']:.2f} ms (1 thread) / "
            f"{runs['floor_stn'][-1]['p50']:.2f} ms ({default_threads} threads)")
    torch.set_num_threads(default_threads)

    # Cost of a cache hit alone (a repeated question, e.g. a clicked example).
    text = items[0]["question"]
    enc.encode_query(text)
    hits = []
    for _ in range(200):
        t = time.perf_counter()
        enc.encode_query(text)
        hits.append((time.perf_counter() - t) * 1e6)

    med = {n: median_of(runs[n]) for n in names}
    # The floor is the faster of the two thread settings, so the ratio is the strict one.
    best = min(("floor_st1", "floor_stn"), key=lambda n: med[n]["p50"])
    med["floor"] = {**med[best]}
    ratios = {
        "ours_over_floor": round(med["total"]["p50"] / med["floor"]["p50"], 3),
        "ours_over_naive": round(med["total"]["p50"] / med["naive"]["p50"], 3),
        "ours_over_onnx_floor": round(med["total"]["p50"] / med["floor_onnx"]["p50"], 3),
        "naive_over_floor": round(med["naive"]["p50"] / med["floor"]["p50"], 3),
        "ours_over_floor_cpu": round(med["total_cpu"]["p50"] / med["floor_st1_cpu"]["p50"], 3),
    }
    return {"questions": len(items), "reps": reps, "ms": med, "runs": runs, "ratios": ratios,
            "floor_threads": 1 if best == "floor_st1" else default_threads,
            "cache_hit_us": round(float(np.median(hits)), 2), "statuses": statuses,
            "naive_setup_s": round(naive_build_s, 2)}
