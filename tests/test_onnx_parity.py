"""The lean query path: ONNX vectors equal sentence-transformers' and `qa ask` never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from qa import QA
from qa.adapt import cache_dir
from qa.config import ROOT
from qa.index import index_text
from qa.retrieval import Retriever

DATA = ROOT / "tests" / "data"

MIN_COSINE = 0.999
HEAVY = {"torch", "sentence_transformers", "gradio", "transformers"}


@pytest.fixture(scope="module")
def st_model(qa: QA):  # type: ignore[no-untyped-def]
    """The build-time encoder (the model as adapted by the build), loaded once for this module."""
    from sentence_transformers import SentenceTransformer

    key = qa.data.manifest["model"]["adapted"]["key"]
    return SentenceTransformer(str(cache_dir() / key) if key else qa.settings.model, device="cpu")


def _dev_questions() -> list[str]:
    return [json.loads(line)["question"] for line in (DATA / "dev.jsonl").read_text().splitlines()
            if line.strip()]


def _check(texts: list[str], onnx: np.ndarray, st: np.ndarray) -> None:
    assert onnx.shape == st.shape
    cos = np.sum(onnx * st, axis=1) / (np.linalg.norm(onnx, axis=1) * np.linalg.norm(st, axis=1))
    worst = int(np.argmin(cos))
    assert cos[worst] >= MIN_COSINE, f"cosine {cos[worst]:.6f} for {texts[worst][:80]!r}"


def test_chunk_vectors_match_sentence_transformers(qa: QA, st_model) -> None:  # type: ignore[no-untyped-def]
    texts = [index_text(c) for c in qa.data.chunks]
    onnx = qa.data.encoder.encode(texts)
    st = st_model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    _check(texts, onnx, st)


def test_question_vectors_match_sentence_transformers(qa: QA, st_model) -> None:  # type: ignore[no-untyped-def]
    questions = _dev_questions()
    # What the query path really encodes: the analysed text, one at a time, through the cache.
    retriever: Retriever = qa.retriever
    analysed = [retriever.analyse(q).text or q for q in questions]
    for texts in (questions, analysed):
        onnx = np.vstack([qa.data.encoder.encode_query(t) for t in texts])
        st = st_model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        _check(texts, onnx, st)


def test_cached_query_vector_is_the_same(qa: QA) -> None:
    text = "does microneedling hurt a lot"
    first = qa.data.encoder.encode_query(text).copy()
    again = qa.data.encoder.encode_query(text)
    fresh = qa.data.encoder.encode([text])[0]
    assert np.array_equal(first, again)
    assert float(first @ fresh) >= MIN_COSINE


def imported_top_level(importtime_stderr: str) -> set[str]:
    """Top-level package names in ``python -X importtime`` output."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "imported package":
                names.add(name.split(".")[0])
    return names


def test_qa_ask_does_not_import_torch_or_gradio(cli_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "qa", "ask", "--json", "How many sessions are needed?"],
        env=cli_env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert json.loads(proc.stdout)["status"] in {"answered", "not_found", "urgent"}
    names = imported_top_level(proc.stderr)
    assert {"qa", "onnxruntime", "tokenizers", "faiss"} <= names  # the parser sees the imports
    assert not names & HEAVY, f"qa ask imported {sorted(names & HEAVY)}"
