"""Adapting the embedding model to the articles, at build time.

The written questions (``corpus/questions/``) pair a way people ask with the verbatim
sentence that answers it. ``qa build`` fine-tunes the configured sentence-transformers
model on those pairs (in-batch negatives, both directions), so a chatty question lands
near its answer, not only near other questions. A last epoch also trains each question
against every passage the index will hold, with the passages that contain its answer as
positives: retrieval ranks passages, and the passage side has to move too. Measured on the
six tuning splits, MRR 0.82 -> 0.89 -> 0.91 (docs/decisions.md). The articles and the
written questions are the only training data; no question set of the evaluation is used.

The adapted model is cached by a key over the base model, the settings and the training
pairs, so a forced rebuild, a second index or an edit elsewhere in an article reuses it.
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .chunking import Chunk
from .config import ROOT, AdaptSettings, model_id
from .corpus import Corpus, WrittenQuestion
from .errors import QAError
from .textnorm import question_text

if TYPE_CHECKING:
    import torch

DONE_FILE = "adapted.json"  # written last: a cached folder without it is unfinished
Pair = tuple[str, str]  # (question as embedded, verbatim answering span)
MAX_PASSAGES_PER_STEP = 256  # above this, each step scores its positives and a random sample
SUB_BATCH = 16  # texts encoded together: sorted by length, so little of a batch is padding


@dataclass(frozen=True)
class Passages:
    """The passages the index embeds, and for each training pair the ones holding its span."""

    texts: list[str]
    owners: list[tuple[int, ...]]  # aligned with the pairs; empty where no passage overlaps the span


def cache_dir() -> Path:
    """Where adapted models are kept between builds (``QA_CACHE_DIR`` overrides)."""
    return Path(os.environ.get("QA_CACHE_DIR", ROOT / ".cache")) / "adapted"


def training_questions(questions: list[WrittenQuestion]) -> list[WrittenQuestion]:
    """The written questions the model is adapted on: all but those marked ``"adapt": false``,
    which serve only as neighbours at question time. Training on the 748 indirect-wording
    questions of session 19 too gained little over using them as neighbours (MRR 0.933 against
    0.925 on the tuning splits), for 1.5 more minutes of training and more false alarms."""
    return [q for q in questions if q.adapt]


def training_pairs(questions: list[WrittenQuestion], corpus: Corpus) -> list[Pair]:
    """(question as embedded, verbatim answering span) for every written question."""
    docs = corpus.by_id()
    return [(question_text(q.question), docs[q.doc_id].text[q.start:q.end]) for q in questions]


def passage_owners(questions: list[WrittenQuestion], chunks: list[Chunk], texts: list[str]) -> Passages:
    """Which passages hold each written question's answer: the ones containing the whole span,
    else (a span across a passage break) every one it overlaps."""
    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(chunks):
        by_doc.setdefault(c.doc_id, []).append(i)
    owners = []
    for q in questions:
        near = [i for i in by_doc.get(q.doc_id, []) if chunks[i].start < q.end and q.start < chunks[i].end]
        whole = [i for i in near if chunks[i].start <= q.start and q.end <= chunks[i].end]
        owners.append(tuple(whole or near))
    return Passages(texts, owners)


def adaptation_key(model: str, settings: AdaptSettings, pairs: list[Pair]) -> str:
    """A checksum of the base model, the settings and the training pairs.

    The passages are left out on purpose: an edit to an article outside every answering span
    (or a new article) reuses the model adapted to the passages as they were, instead of
    training again for minutes. Clearing ``cache_dir()`` trains on the current passages.
    """
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


def _train(model: str, pairs: list[Pair], settings: AdaptSettings, out: Path, progress: bool,
           passages: Passages | None = None) -> None:
    import torch
    from tqdm import tqdm

    from .embedding import SentenceTransformerEncoder

    functional = torch.nn.functional
    rng = random.Random(settings.seed)
    torch.manual_seed(settings.seed)
    net = SentenceTransformerEncoder(model).model  # a model that will not load is one clear sentence
    opt = torch.optim.AdamW(net.parameters(), lr=settings.learning_rate)

    def encode(texts: list[str]) -> torch.Tensor:
        # Length-sorted sub-batches: the same vectors as one padded batch, at about half the
        # cost for passages of mixed lengths.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts = [net(net.tokenize([texts[i] for i in order[j:j + SUB_BATCH]]))["sentence_embedding"]
                 for j in range(0, len(order), SUB_BATCH)]
        back = torch.empty(len(order), dtype=torch.long)
        back[torch.tensor(order)] = torch.arange(len(order))
        return functional.normalize(torch.cat(parts)[back], dim=-1)

    def step(loss: torch.Tensor) -> None:
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps.update(1)
        steps.set_postfix(loss=f"{loss.item():.2f}")

    epochs = [_batches(pairs, settings.batch_size, rng) for _ in range(settings.epochs)]
    owned = [(p, o) for p, o in zip(pairs, passages.owners, strict=True) if o] if passages else []
    texts = passages.texts if passages else []
    rounds = settings.passage_epochs if owned else 0
    passage_steps = rounds * -(-len(owned) // settings.passage_batch)
    net.train()
    steps = tqdm(total=sum(map(len, epochs)) + passage_steps, desc="Adapting", unit="batch",
                 disable=not progress, file=sys.stderr)
    for batches in epochs:
        for batch in batches:
            sim = encode([b[0] for b in batch]) @ encode([b[1] for b in batch]).T * settings.scale
            labels = torch.arange(len(batch))
            step((functional.cross_entropy(sim, labels) + functional.cross_entropy(sim.T, labels)) / 2)
    for _ in range(rounds):
        order = rng.sample(owned, len(owned))
        for i in range(0, len(order), settings.passage_batch):
            batch = order[i:i + settings.passage_batch]
            q = encode([p[0] for p, _ in batch])
            # Question <-> answering span, as above; a batch may now hold one span twice.
            spans = list(dict.fromkeys(p[1] for p, _ in batch))
            same = torch.tensor([[p[1] == s for s in spans] for p, _ in batch])
            sim = q @ encode(spans).T * settings.scale
            loss = (_multi_positive(sim, same) + _multi_positive(sim.T, same.T)) / 2
            # Question -> every passage, the ones holding its answer as positives.
            cand = _candidates([o for _, o in batch], len(texts), rng)
            held = torch.tensor([[c in o for c in cand] for _, o in batch])
            sim = q @ encode([texts[c] for c in cand]).T * settings.scale
            step(loss + _multi_positive(sim, held))
    steps.close()
    net.eval()
    net.save(str(out))


def _multi_positive(sim: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each row against all its positive columns (log-sum-exp over them)."""
    import torch

    return (torch.logsumexp(sim, 1) - torch.logsumexp(sim.masked_fill(~positive, -1e4), 1)).mean()


def _candidates(owners: list[tuple[int, ...]], n: int, rng: random.Random) -> list[int]:
    """The passages a step scores: all of them when few, else the batch's own and a random sample."""
    if n <= MAX_PASSAGES_PER_STEP:
        return list(range(n))
    mine = sorted({c for o in owners for c in o})
    taken = set(mine)
    others = [c for c in rng.sample(range(n), MAX_PASSAGES_PER_STEP) if c not in taken]
    return mine + others[:max(0, MAX_PASSAGES_PER_STEP - len(mine))]


def _prune_unfinished(folder: Path, older_than_s: float = 6 * 3600) -> None:
    # A build killed while training leaves its temporary folder (~90 MB). One that old is
    # nobody's: training takes minutes.
    cutoff = time.time() - older_than_s
    for p in folder.glob(".*"):
        with contextlib.suppress(OSError):
            if p.is_dir() and p.stat().st_mtime < cutoff:
                shutil.rmtree(p, ignore_errors=True)


def adapted_model(model: str, pairs: list[Pair], settings: AdaptSettings,
                  progress: bool = True, passages: Passages | None = None) -> tuple[str, str | None]:
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
    extra = f" and {len(passages.texts)} passages" if passages and settings.passage_epochs > 0 else ""
    print(f"Adapting the embedding model to {len(pairs)} written questions{extra} "
          f"(a few minutes; once, then cached in {target.parent}) ...", file=sys.stderr)
    try:
        _train(model, pairs, settings, tmp, progress, passages)
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
