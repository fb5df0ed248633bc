"""The naive pipelines our evaluation and benchmark compare against.

Fixed 500-character windows (cut at a space), ranked either by the configured
MiniLM model as it ships (FAISS inner product; not the copy ``qa build`` adapts
to the written questions) or by plain BM25 alone — what a first attempt at this
product would do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .embedding import Encoder
    from .service import QA

NAIVE_CHARS = 500


def naive_chunks(text: str, size: int = NAIVE_CHARS) -> list[str]:
    """Consecutive windows of at most ``size`` characters, cut at whitespace."""
    out = []
    i = 0
    while i < len(text):
        j = min(len(text), i + size)
        if j < len(text):
            cut = text.rfind(" ", i + size // 2, j)
            j = cut if cut > i else j
        piece = text[i:j].strip()
        if piece:
            out.append(piece)
        i = j
    return out


class NaiveBaselines:
    """Dense-only and BM25-only rankers over naive chunks of the same corpus."""

    def __init__(self, qa: QA, k: int = 10, encoder: Encoder | None = None):
        """``encoder`` defaults to the configured model as it ships; a benchmark timing the
        pipeline may pass the index's ONNX encoder (same network, same cost)."""
        import bm25s
        import faiss

        self.k = k
        model = qa.data.manifest["model"]
        if encoder is None:
            encoder = qa.data.encoder
            if model.get("adapted", {}).get("key"):
                from .embedding import SentenceTransformerEncoder

                encoder = SentenceTransformerEncoder(model["source"])
        self.encoder: Encoder = encoder
        self.chunks = [c for d in qa.data.documents.values() for c in naive_chunks(d.text)]
        vecs = self.encoder.encode(self.chunks)
        self.index = faiss.IndexFlatIP(vecs.shape[1])
        self.index.add(vecs)
        self.bm = bm25s.BM25()
        self.bm.index(bm25s.tokenize(self.chunks, stopwords="en", show_progress=False),
                      show_progress=False)

    def dense(self, question: str) -> list[str]:
        """Top-k naive chunks by cosine similarity to the bare question."""
        vec = self.encoder.encode([question])
        _, ids = self.index.search(vec, self.k)
        return [self.chunks[i] for i in ids[0] if i >= 0]

    def bm25(self, question: str) -> list[str]:
        """Top-k naive chunks by BM25 with bm25s's default tokenizer."""
        import bm25s

        toks = bm25s.tokenize([question], stopwords="en", show_progress=False)
        if not toks.vocab:
            return []
        docs, _ = self.bm.retrieve(toks, k=self.k, show_progress=False)
        return [self.chunks[int(i)] for i in np.asarray(docs)[0]]
