"""`make bench` on a tiny scale: the code runs and the report has every row. Timings are never asserted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from qa import vectors
from qa.config import ROOT

if str(ROOT) not in sys.path:  # `bench` is a folder of the repo, not an installed package
    sys.path.insert(0, str(ROOT))

from bench import api, synthetic
from bench.run import Options, format_table, imported_modules, run, targets


@pytest.fixture(scope="module")
def results(built_index: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench")
    opts = Options(index_dir=built_index, reps=1, questions=4, cold_runs=1, app=False,
                   scale_sizes=[150], pool_size=40, exact_max=100, scale_reps=1, scale_cache=False,
                   out_dir=out)
    res = run(opts, log=lambda _: None)
    res["_out"] = out
    return res


def test_report_has_every_part(results: dict) -> None:
    assert results["build"]["skipped"]
    cold = results["cold_start"]
    assert cold["seconds"] > 0 and cold["peak_rss_mb"] > 0
    assert cold["imports"]["heavy"] == []  # the lean query path, seen from the benchmark too
    assert "skipped" in results["app"]
    lat = results["latency"]
    for part in ("retrieve", "compose", "total", "cached", "naive", "floor", "floor_onnx"):
        assert set(lat["ms"][part]) >= {"p50", "p95", "p99"}
    assert set(lat["ratios"]) >= {"ours_over_floor", "ours_over_naive"}
    row = results["scale"]["rows"][0]
    assert row["n"] == 150 and row["chosen"] == "hnsw"
    for kind in ("flat", "hnsw"):
        assert 0.0 <= row["indexes"][kind]["recall@10"] <= 1.0
    assert row["indexes"]["flat"]["recall@10"] == 1.0
    assert 0.0 <= row["top10_vs_exact"] <= 1.0
    assert row["bytes_per_chunk"]["total"] > 0
    assert "hnsw_sweep" in row
    assert [t["name"].split(" ")[0] for t in results["targets"]] == ["total", "qa", "web", "16", "100k"]


def test_table_and_json(results: dict) -> None:
    table = format_table(results)
    for needle in ("qa ask cold start", "ours: total", "naive dense", "floor: bare sentence-transformers",
                   "ratios (p50)", "Scale: vector search", "150", "Targets (issue 5)", "web app"):
        assert needle in table, needle
    saved = json.loads((results["_out"] / "latest.json").read_text())
    assert saved["latency"]["ratios"] == results["latency"]["ratios"]
    assert saved["targets"] == results["targets"]


def test_targets_without_measurements() -> None:
    rows = targets({"app": {"skipped": "no app"}})
    assert len(rows) == 5 and all(r["met"] is None for r in rows)


def test_importtime_parser() -> None:
    text = ("import time: self [us] | cumulative | imported package\n"
            "import time:       120 |        120 |   numpy.core\n"
            "import time:       300 |        420 | numpy\n")
    assert imported_modules(text) == [("numpy.core", 120, 1), ("numpy", 420, 0)]


def test_load_questions_are_distinct() -> None:
    items = [{"question": f"q{i}"} for i in range(5)]
    bodies = api.distinct_items(items, 200)
    assert len({b["question"] for b in bodies}) == 200


def test_synthetic_chunks_are_made_of_real_sentences() -> None:
    sentences = synthetic.real_sentences()
    texts = synthetic.make_texts(sentences, 30, seed=3)
    assert all(synthetic.MIN_CHARS // 2 <= len(t) <= synthetic.MAX_CHARS for t in texts)
    for t in texts:
        assert all(s in sentences for s in synthetic.split_sentences(t, sentences))


def test_vector_index_kind_by_size() -> None:
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(300, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    assert vectors.choose(vectors.EXACT_MAX).kind == "flat"
    assert vectors.choose(vectors.EXACT_MAX + 1).kind == "hnsw"
    flat = vectors.build_dense(vecs)
    assert vectors.kind_of(flat) == "flat"
    assert vectors.recall_at_k(flat, vecs, vecs[:20]) == 1.0
    assert vectors.dense_candidates(flat, 300) == 300
    hnsw, report = vectors.build_with_report(vecs, vecs[:20], vectors.choose(300, exact_max=100))
    assert vectors.kind_of(hnsw) == "hnsw" and report["kind"] == "hnsw"
    assert 0.0 <= report["recall@10"] <= 1.0
    assert vectors.dense_candidates(hnsw, 300) == vectors.DENSE_CANDIDATES
