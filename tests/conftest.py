"""Shared fixtures: the real model and a real index, built once per test session."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from qa import QA
from qa.config import ROOT, Settings
from qa.corpus import Corpus, load_corpus
from qa.index import build

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at a fresh index folder under the session's temp dir."""
    return replace(Settings(), corpus_dir=ROOT / "corpus",
                   index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def built_index(settings: Settings) -> Path:
    """A real index (sentence-transformers + FAISS + BM25 + ONNX), built once."""
    build(settings, progress=False)
    return settings.index_dir


@pytest.fixture(scope="session")
def qa(built_index: Path, settings: Settings) -> QA:
    """The one QA object every test shares, as the CLI and the app do."""
    return QA.load(settings=settings)


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(ROOT / "corpus")


@pytest.fixture()
def cli_env(built_index: Path) -> dict[str, str]:
    """Environment for running the `qa` command against the session's index."""
    return {**os.environ, "QA_INDEX_DIR": str(built_index)}
