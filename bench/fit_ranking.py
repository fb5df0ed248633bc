"""Fit the final ranking's weights (``FusionWeights.ranking``) on the tuning splits.

    python -m bench.fit_ranking              # the tuning splits of qa.evaluate.DEFAULT_FILES
    python -m bench.fit_ranking FILE ...     # other question files (never the held-out test)

For every question with gold quotes, each chunk gets its ``RANK_FEATURES`` exactly as
``Retriever.search`` computes them, and a label: whether it holds a gold quote. The weights
maximise the likelihood of the gold chunks under a softmax over each question's chunks
(with a little L2). Each split is then ranked by weights fitted on the *other* splits, so
the printed MRR is an honest estimate for questions nobody tuned on, beside the current
weights (which saw every split). Nothing is written: paste the weights into
``qa/retrieval.py`` if they are better, and record the table in docs/decisions.md.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import QA
from qa.evaluate import DEFAULT_FILES, holds_gold, load_items
from qa.query import Query
from qa.retrieval import RANK_FEATURES, FusionWeights, Hit

L2 = 1e-5


@dataclass
class Example:
    """One question: its chunks' features (chunks x features) and gold labels."""

    split: str
    features: np.ndarray
    gold: np.ndarray


def collect(qa: QA, paths: list[Path]) -> list[Example]:
    """Run every question with gold quotes through ``qa`` and keep its ranking inputs."""
    retriever = qa.retriever
    seen: list[Query] = []
    search = retriever.search

    def spy(q: Query, k: int = 10) -> list[Hit]:
        seen.append(q)  # the query exactly as the service prepared it (follow-up context too)
        return search(q, k)

    retriever.search = spy  # type: ignore[method-assign]
    try:
        chunks = retriever.data.chunks
        out = []
        for path in paths:
            for item in load_items(path):
                if not item.get("gold"):
                    continue
                seen.clear()
                qa.ask(item["question"], item.get("history") or [])
                if not seen:  # rejected before retrieval (invalid input)
                    continue
                q = seen[-1]
                dense, bm25, asked_rank, cand = retriever.candidates(q, k=len(chunks))
                quotes = [g["quote"] for g in item["gold"]]
                gold = np.array([holds_gold(chunks[c].text, quotes) for c in cand.tolist()])
                out.append(Example(path.stem, retriever.features(q, cand, dense, bm25, asked_rank), gold))
        return out
    finally:
        del retriever.search  # back to the class's method


def _loss_grad(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    s = x @ w
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    z, g = e.sum(axis=1), (e * y).sum(axis=1)
    loss = float(-np.log(g / z).mean() + L2 * w @ w)
    p, q = e / z[:, None], e * y / g[:, None]
    return loss, np.einsum("qc,qcf->f", p - q, x) / len(x) + 2 * L2 * w


def fit(examples: list[Example], steps: int = 4000, lr: float = 0.05) -> np.ndarray:
    """Weights (one per RANK_FEATURES) maximising the gold chunks' softmax likelihood (Adam)."""
    x = np.stack([e.features for e in examples])
    y = np.stack([e.gold for e in examples]).astype(np.float64)
    w, m, v = np.zeros(x.shape[2]), np.zeros(x.shape[2]), np.zeros(x.shape[2])
    for t in range(1, steps + 1):
        _, g = _loss_grad(w, x, y)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        w -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return w


def mrr(examples: list[Example], w: np.ndarray, depth: int = 10) -> float:
    """Mean reciprocal rank of the first gold chunk within ``depth`` (ties by chunk order)."""
    total = 0.0
    for e in examples:
        order = np.argsort(-(e.features @ w), kind="stable")[:depth]
        hits = np.nonzero(e.gold[order])[0]
        total += 1.0 / (hits[0] + 1) if len(hits) else 0.0
    return total / len(examples)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="question files (default: the tuning splits)")
    args = ap.parse_args(argv)
    paths = args.files or [p for p in DEFAULT_FILES if p.parent.name == "data" and p.stem.startswith("dev")]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    current = np.asarray(FusionWeights().ranking)
    examples = [e for e in collect(QA.load(), paths) if e.gold.any()]
    splits = list(dict.fromkeys(e.split for e in examples))
    print(f"{len(examples)} questions with a gold chunk in {len(splits)} splits\n")
    print(f"{'split':8s} {'current':>8s} {'held out':>9s}")
    rows = []
    for split in splits:
        test = [e for e in examples if e.split == split]
        w = fit([e for e in examples if e.split != split])
        rows.append((mrr(test, current), mrr(test, w)))
        print(f"{split:8s} {rows[-1][0]:8.3f} {rows[-1][1]:9.3f}")
    cur, held = (float(np.mean(c)) for c in zip(*rows, strict=True))
    print(f"{'mean':8s} {cur:8.3f} {held:9.3f}   (held out: ranked by weights fitted on the other splits)")
    w = fit(examples)
    print("\nfitted on all:", ", ".join(f"{n} {v:.2f}" for n, v in zip(RANK_FEATURES, w, strict=True)))
    print("current:      ", ", ".join(f"{n} {v:.2f}" for n, v in zip(RANK_FEATURES, current, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
