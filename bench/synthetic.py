"""Synthetic corpora of 1k-100k chunks made from the real articles' sentences.

Method (documented in docs/benchmarks.md):

1. The five articles are cut into sentences by the product's own chunker; only
   body sentences are kept.
2. A *pool* of chunks is made by drawing sentences at random (without regard to
   article or order) and packing them into 300-500 character passages. Every pool
   chunk is embedded for real with the index's ONNX encoder (the same network
   the query path uses), batched by length on both cores.
3. Chunks beyond the pool are *mixtures*: each takes 2 or 3 random pool chunks,
   its vector is the renormalised mean of theirs, and its text is a new packing of
   sentences drawn from those parents. With mean pooling, the embedding of a text
   made of two passages is close to the mean of theirs, so mixtures stay on the
   manifold of real embeddings (``bench.run`` reports the cosine between mixture
   vectors and real embeddings of their texts on a sample) while costing nothing
   to make. Embedding 100k chunks for real would take ~15 minutes on two cores.

Pool vectors are cached under ``bench/results/cache`` keyed by model, corpus and
seed, so repeated runs skip the embedding.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import Settings
from qa.corpus import load_corpus
from qa.index import chunk_corpus

MIN_CHARS = 300
MAX_CHARS = 500
CACHE_DIR = Path(__file__).resolve().parent / "results" / "cache"


@dataclass
class SyntheticCorpus:
    """Chunk texts and their L2-normalised vectors; the first ``n_real`` were embedded for real."""

    texts: list[str]
    vectors: np.ndarray
    n_real: int
    embed_s: float = 0.0  # seconds spent embedding (0 when the pool came from the cache)


def real_sentences(settings: Settings | None = None) -> list[str]:
    """Body sentences of the real articles, in corpus order."""
    settings = settings or Settings()
    corpus = load_corpus(settings.corpus_dir)
    _, sentences = chunk_corpus(corpus, settings)
    return [s.text for s in sentences if s.kind == "body" and len(s.text) >= 20]


def pack(sentences: list[str], rng: random.Random, min_chars: int = MIN_CHARS,
         max_chars: int = MAX_CHARS) -> str:
    """One passage of ``min_chars``-``max_chars`` characters from randomly drawn ``sentences``."""
    parts: list[str] = []
    size = 0
    for _ in range(50):
        s = rng.choice(sentences)
        if s in parts:
            continue
        extra = len(s) + (1 if parts else 0)
        if size + extra > max_chars:
            if size >= min_chars or not parts:
                # A single over-long sentence is cut at a word boundary.
                if not parts:
                    return s[:max_chars].rsplit(" ", 1)[0]
                break
            continue
        parts.append(s)
        size += extra
        if size >= min_chars:
            break
    return " ".join(parts)


def make_texts(sentences: list[str], n: int, seed: int = 0) -> list[str]:
    """``n`` passages recombined from ``sentences``."""
    rng = random.Random(seed)
    return [pack(sentences, rng) for _ in range(n)]


def embed(texts: list[str], encoder: Any, batch_size: int = 8) -> np.ndarray:
    """Embed ``texts`` with ``encoder`` in length-sorted batches (less padding), in input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        out[idx] = encoder.encode([texts[j] for j in idx], batch_size=batch_size)
    return out


def _cache_key(model_id: str, sentences: list[str], size: int, seed: int) -> str:
    h = hashlib.sha256(json.dumps([model_id, size, seed, MIN_CHARS, MAX_CHARS, sentences]).encode())
    return h.hexdigest()[:16]


def pool(sentences: list[str], size: int, encoder: Any, model_id: str, seed: int = 0,
         cache_dir: Path | None = CACHE_DIR) -> SyntheticCorpus:
    """``size`` really embedded chunks (cached on disk when ``cache_dir`` is given)."""
    import time

    texts = make_texts(sentences, size, seed)
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"pool-{_cache_key(model_id, sentences, size, seed)}.npy"
        if path.is_file():
            vecs = np.load(path, allow_pickle=False)
            if vecs.shape == (size, encoder.dim):
                return SyntheticCorpus(texts, vecs, size)
    t0 = time.perf_counter()
    vecs = embed(texts, encoder)
    seconds = time.perf_counter() - t0
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vecs)
        tmp.replace(path)
    return SyntheticCorpus(texts, vecs, size, embed_s=seconds)


def mixtures(base: SyntheticCorpus, sentences_of: list[list[str]], n: int, seed: int = 1
             ) -> tuple[list[str], np.ndarray, list[tuple[int, ...]]]:
    """``n`` mixture chunks of 2-3 parents from ``base``: texts, vectors and parent ids."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    m = len(base.texts)
    texts: list[str] = []
    parents: list[tuple[int, ...]] = []
    vecs = np.zeros((n, base.vectors.shape[1]), dtype=np.float32)
    for i in range(n):
        k = 2 + int(nprng.integers(0, 2))
        ids = tuple(int(x) for x in nprng.choice(m, size=k, replace=False))
        v = base.vectors[list(ids)].mean(axis=0)
        vecs[i] = v / max(float(np.linalg.norm(v)), 1e-12)
        pool_sents = [s for j in ids for s in sentences_of[j]]
        texts.append(pack(pool_sents, rng))
        parents.append(ids)
    return texts, vecs, parents


def split_sentences(text: str, sentences: list[str]) -> list[str]:
    """The known sentences a packed passage is made of (packing joins them with one space)."""
    known = set(sentences)
    out, cur = [], ""
    for piece in text.split(" "):
        cur = f"{cur} {piece}" if cur else piece
        if cur in known:
            out.append(cur)
            cur = ""
    return out or [text]


def synthetic(n: int, sentences: list[str], encoder: Any, model_id: str, pool_size: int = 2000,
              seed: int = 0, cache_dir: Path | None = CACHE_DIR) -> SyntheticCorpus:
    """A corpus of ``n`` chunks: ``min(n, pool_size)`` embedded for real, the rest mixtures."""
    base = pool(sentences, min(n, pool_size), encoder, model_id, seed, cache_dir)
    if n <= len(base.texts):
        return SyntheticCorpus(base.texts[:n], base.vectors[:n], n, base.embed_s)
    sentences_of = [split_sentences(t, sentences) for t in base.texts]
    texts, vecs, _ = mixtures(base, sentences_of, n - len(base.texts), seed=seed + 1)
    return SyntheticCorpus(base.texts + texts, np.vstack([base.vectors, vecs]), len(base.texts),
                           base.embed_s)


def mixture_fidelity(base: SyntheticCorpus, encoder: Any, sample: int = 64, seed: int = 7) -> float:
    """Median cosine between pair-mixture vectors and real embeddings of the two joined texts.

    The parents' texts are joined whole (not re-packed), so this checks the averaging
    itself: how far the mean of two embeddings is from the embedding of the combined
    text. Pairs only: three joined passages would pass the model's 256-token limit.
    """
    rng = random.Random(seed)
    m = len(base.texts)
    cos = []
    groups = [tuple(rng.sample(range(m), 2)) for _ in range(sample)]
    texts = [" ".join(base.texts[j] for j in g) for g in groups]
    real = embed(texts, encoder)
    for g, r in zip(groups, real, strict=True):
        v = base.vectors[list(g)].mean(axis=0)
        v = v / max(float(np.linalg.norm(v)), 1e-12)
        cos.append(float(v @ r))
    return float(np.median(cos))
