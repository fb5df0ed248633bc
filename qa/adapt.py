"""Adapting the embedding model to the articles, at build time.

The written questions (``corpus/questions/``) pair a way people ask with the verbatim
sentence that answers it. ``qa build`` fine-tunes the configured sentence-transformers
model on those pairs for a few epochs (in-batch negatives, both directions), so a
chatty question lands near its answer, not only near other questions. Measured on the
six tuning splits, MRR 0.82 -> 0.88 (docs/decisions.md). The articles and the written
questions are the only training data; no question set of the evaluation is used.

The adapted model is cached by a key over everything that shapes it (base model,
settings, training pairs), so a forced rebuild or a second index reuses it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .config import ROOT, AdaptSettings, model_id
from .corpus import Corpus, WrittenQuestion
from .errors import QAError
from .textnorm import question_text

DONE_FILE = "adapted.json"  # written last: a cached folder without it is unfinished
Pair = tuple[str, str]  # (question as embedded, verbatim answering span)


def cache_dir() -> Path:
    """Where adapted models are kept between builds (``QA_CACHE_DIR`` overrides)."""
    return Path(os.environ.get("QA_CACHE_DIR", ROOT / ".cache")) / "adapted"


def training_pairs(questions: list[WrittenQuestion], corpus: Corpus) -> list[Pair]:
    """(question as embedded, verbatim answering span) for every written question."""
    docs = corpus.by_id()
    return [(question_text(q.question), docs[q.doc_id].text[q.start:q.end]) for q in questions]


def adaptation_key(model: str, settings: AdaptSettings, pairs: list[Pair]) -> str:
    """A checksum of everything the adapted weights depend on."""
    h = hashlib.sha256()
    h.update(json.dumps([model_id(model), settings.to_dict()], sort_keys=True).encode())
    for q, s in pairs:
        h.update(f"{q}\x1f{s}\x1e".encode())
    return h.hexdigest()[:16]


def _batches(pairs: list[Pair], batch_size: int, rng: random.Random) -> list[list[Pair]]:
    # Each round takes one question per answer, so no batch holds two questions with the same
    # answer: the other answers in a batch are then true negatives.
    by_answer: dict[str, list[str]] = {}
    for q, s in pairs:
        by_answer.setdefault(s, []).append(q)
    queues = {s: rng.sample(qs, len(qs)) for s, qs in by_answer.items()}
    batches: list[list[Pair]] = []
    for r in range(max(map(len, queues.values()), default=0)):
        round_ = [(qs[r], s) for s, qs in queues.items() if r < len(qs)]
        rng.shuffle(round_)
        batches.extend(round_[i:i + batch_size] for i in range(0, len(round_), batch_size))
    rng.shuffle(batches)
    return [b for b in batches if len(b) > 1]


def _train(model: str, pairs: list[Pair], settings: AdaptSettings, out: Path,
           progress: bool) -> None:
    import torch
    from tqdm import tqdm

    from .embedding import SentenceTransformerEncoder

    rng = random.Random(settings.seed)
    torch.manual_seed(settings.seed)
    net = SentenceTransformerEncoder(model).model  # a model that will not load is one clear sentence
    opt = torch.optim.AdamW(net.parameters(), lr=settings.learning_rate)
    epochs = [_batches(pairs, settings.batch_size, rng) for _ in range(settings.epochs)]
    net.train()
    steps = tqdm(total=sum(map(len, epochs)), desc="Adapting", unit="batch", disable=not progress,
                 file=sys.stderr)
    for batches in epochs:
        for batch in batches:
            q = net(net.tokenize([b[0] for b in batch]))["sentence_embedding"]
            s = net(net.tokenize([b[1] for b in batch]))["sentence_embedding"]
            sim = torch.nn.functional.normalize(q, dim=-1) @ torch.nn.functional.normalize(s, dim=-1).T
            sim = sim * settings.scale
            labels = torch.arange(len(batch))
            loss = (torch.nn.functional.cross_entropy(sim, labels)
                    + torch.nn.functional.cross_entropy(sim.T, labels)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps.update(1)
            steps.set_postfix(loss=f"{loss.item():.2f}")
    steps.close()
    net.eval()
    net.save(str(out))


def _prune_unfinished(folder: Path, older_than_s: float = 6 * 3600) -> None:
    # A build killed while training leaves its temporary folder (~90 MB). One that old is
    # nobody's: training takes minutes.
    cutoff = time.time() - older_than_s
    for p in folder.glob(".*"):
        with contextlib.suppress(OSError):
            if p.is_dir() and p.stat().st_mtime < cutoff:
                shutil.rmtree(p, ignore_errors=True)


def adapted_model(model: str, pairs: list[Pair], settings: AdaptSettings,
                  progress: bool = True) -> tuple[str, str | None]:
    """The model to embed with, and its adaptation key (None when adaptation is off).

    Trains on first use and caches the result; the cache entry is published by rename, so a
    build killed while training leaves nothing half-written behind.
    """
    if settings.epochs <= 0 or len(pairs) < 2:
        return model, None
    key = adaptation_key(model, settings, pairs)
    target = cache_dir() / key
    if (target / DONE_FILE).is_file():
        return str(target), key
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _prune_unfinished(target.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    except OSError as exc:
        raise QAError(
            f"Cannot write the adapted model to {target.parent} ({exc.strerror or type(exc).__name__}); "
            "set QA_CACHE_DIR to a writable folder, or QA_ADAPT=0 to build with the model as it is."
        ) from None
    steps = settings.epochs * len(pairs) // settings.batch_size
    print(f"Adapting the embedding model to {len(pairs)} written questions ({settings.epochs} epochs, "
          f"about {steps} batches; once, then cached in {target.parent}) ...", file=sys.stderr)
    try:
        _train(model, pairs, settings, tmp, progress)
        (tmp / DONE_FILE).write_text(json.dumps({"base": model_id(model), **settings.to_dict()}),
                                     encoding="utf-8")
        try:
            tmp.rename(target)
        except OSError:
            # Another build published the same key first; its weights are as good as ours.
            if not (target / DONE_FILE).is_file():
                shutil.rmtree(target, ignore_errors=True)
                tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target), key
