"""Adapting the embedding model to the written questions at build time (qa/adapt.py)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa import QA, adapt
from qa.baselines import NaiveBaselines
from qa.config import ROOT, AdaptSettings, Settings, default_adapt_settings
from qa.corpus import load_corpus, load_questions
from qa.embedding import SentenceTransformerEncoder
from qa.index import chunk_corpus, index_text


def _pairs(settings: Settings) -> list[tuple[str, str]]:
    corpus = load_corpus(settings.corpus_dir)
    trained = adapt.training_questions(load_questions(settings.corpus_dir, corpus)[0])
    return adapt.training_pairs(trained, corpus)


def _passages(settings: Settings) -> adapt.Passages:
    corpus = load_corpus(settings.corpus_dir)
    chunks, _ = chunk_corpus(corpus, settings)
    trained = adapt.training_questions(load_questions(settings.corpus_dir, corpus)[0])
    return adapt.passage_owners(trained, chunks, [index_text(c) for c in chunks])


def test_training_pairs_are_written_questions_and_verbatim_article_spans(settings: Settings) -> None:
    corpus = load_corpus(settings.corpus_dir)
    pairs = _pairs(settings)
    assert len(pairs) >= 1600
    texts = [d.text for d in corpus.documents]
    assert all(any(span in t for t in texts) for _, span in pairs)
    assert ("is microneedling an option for acne scars",
            "If you're exploring options for reducing acne scars, you've probably come across "
            "microneedling as a potential solution.") in pairs


def test_no_batch_holds_two_questions_with_the_same_answer(settings: Settings) -> None:
    pairs = _pairs(settings)
    batches = adapt._batches(pairs, 32, random.Random(0))
    assert all(2 <= len(b) <= 32 for b in batches)
    assert all(len({s for _, s in b}) == len(b) for b in batches)  # the rest of a batch are negatives
    seen = sorted(p for b in batches for p in b)
    assert len(seen) >= len(pairs) - len(batches) and set(seen) <= set(pairs)


def test_the_cache_key_follows_model_settings_and_pairs(settings: Settings) -> None:
    pairs = _pairs(settings)
    key = adapt.adaptation_key(settings.model, settings.adapt, pairs)
    assert key == adapt.adaptation_key(settings.model, settings.adapt, list(pairs))
    assert key != adapt.adaptation_key(settings.model, AdaptSettings(epochs=9), pairs)
    assert key != adapt.adaptation_key("another/model", settings.adapt, pairs)
    assert key != adapt.adaptation_key(settings.model, settings.adapt, pairs[1:])


def test_each_written_question_is_paired_with_the_passages_that_hold_its_answer(settings: Settings) -> None:
    pairs, passages = _pairs(settings), _passages(settings)
    assert len(passages.owners) == len(pairs)
    whole = [any(span in passages.texts[i] for i in owners)
             for (_, span), owners in zip(pairs, passages.owners, strict=True)]
    assert sum(whole) >= 0.97 * len(pairs)  # the rest span a passage break: each side is a positive
    assert all(passages.owners)


def test_a_step_scores_every_passage_of_a_small_corpus_and_a_sample_of_a_large_one() -> None:
    rng = random.Random(0)
    assert adapt._candidates([(3,), (5, 6)], 63, rng) == list(range(63))
    big = adapt._candidates([(3,), (5, 6), (90_000,)], 100_000, rng)
    assert len(big) == adapt.MAX_PASSAGES_PER_STEP == len(set(big))
    assert big[:4] == [3, 5, 6, 90_000]  # the batch's own answers are always scored


def test_the_build_reuses_the_cached_model(qa: QA, settings: Settings,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained again")

    monkeypatch.setattr(adapt, "_train", no_training)
    path, key = adapt.adapted_model(settings.model, _pairs(settings), settings.adapt, progress=False)
    assert key == qa.data.manifest["model"]["adapted"]["key"]
    assert Path(path) == adapt.cache_dir() / key and (Path(path) / adapt.DONE_FILE).is_file()


def test_an_unfinished_cache_folder_is_trained_again(tmp_path: Path, settings: Settings,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    pairs = [("q one", "answer one"), ("q two", "answer two")]
    key = adapt.adaptation_key(settings.model, settings.adapt, pairs)
    (adapt.cache_dir() / key).mkdir(parents=True)  # a build killed mid-way left this
    trained: list[Path] = []

    def fake_train(model: str, pairs: object, s: object, out: Path, progress: bool, passages: object) -> None:
        (out / "weights").write_text("w")
        trained.append(out)

    monkeypatch.setattr(adapt, "_train", fake_train)
    path, got = adapt.adapted_model(settings.model, pairs, settings.adapt, progress=False)
    assert got == key and len(trained) == 1
    assert (Path(path) / "weights").is_file() and (Path(path) / adapt.DONE_FILE).is_file()
    assert [p.name for p in adapt.cache_dir().iterdir()] == [key]  # no temp folder left behind


def test_a_killed_trainings_old_temporary_folder_is_removed(tmp_path: Path, settings: Settings,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    old, recent = adapt.cache_dir() / ".abc-old", adapt.cache_dir() / ".abc-recent"
    for p in (old, recent):
        p.mkdir(parents=True)
        (p / "model.safetensors").write_text("partial")
    day_ago = time.time() - 86400
    os.utime(old, (day_ago, day_ago))
    monkeypatch.setattr(adapt, "_train", lambda model, pairs, s, out, progress, passages: None)
    adapt.adapted_model(settings.model, [("q one", "a one"), ("q two", "a two")], settings.adapt,
                        progress=False)
    assert not old.exists() and recent.exists()  # a training still running is left alone


def test_qa_adapt_0_keeps_the_configured_model(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_ADAPT", "0")
    off = default_adapt_settings()
    assert off.epochs == 0
    assert adapt.adapted_model(settings.model, _pairs(settings), off) == (settings.model, None)


def test_the_index_embeds_with_the_adapted_model_and_the_baseline_with_the_shipped_one(
        qa: QA, settings: Settings) -> None:
    texts = ["does microneedling hurt", "how many sessions will i need"]
    shipped = SentenceTransformerEncoder(settings.model).encode(texts)
    ours = qa.data.encoder.encode(texts)
    assert float(np.min(np.sum(shipped * ours, axis=1))) < 0.99  # the build changed the weights
    baseline = NaiveBaselines(qa).encoder.encode(texts)
    assert np.allclose(baseline, shipped, atol=1e-5)


def test_a_model_that_will_not_load_is_one_sentence_and_leaves_no_cache(tmp_path: Path) -> None:
    env = {**os.environ, "QA_MODEL": str(tmp_path / "no-such-model"), "QA_INDEX_DIR": str(tmp_path / "index"),
           "QA_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run([sys.executable, "-m", "qa", "build"], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "error: Could not load the embedding model" in run.stderr and "set QA_MODEL" in run.stderr
    assert list((tmp_path / "cache" / "adapted").iterdir()) == []


def test_an_unwritable_cache_is_one_sentence_naming_the_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {**os.environ, "QA_INDEX_DIR": str(tmp_path / "index"), "QA_CACHE_DIR": str(blocker / "cache")}
    run = subprocess.run([sys.executable, "-m", "qa", "build"], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "Cannot write the adapted model" in run.stderr
    assert "QA_CACHE_DIR" in run.stderr and "QA_ADAPT=0" in run.stderr
