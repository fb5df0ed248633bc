"""The evaluation question sets in tests/data/ are well-formed and their gold quotes are real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.asked_data import asked_data
from qa.config import ROOT
from qa.corpus import ASKED_DIR, QUESTIONS_DIR, Corpus
from qa.evaluate import SEARCH_DATA_SPLITS
from qa.scope_data import NOT_COVERED_FILES, SCOPE_DIR

DATA = Path(__file__).parent / "data"
SETS = ["dev.jsonl", "dev2.jsonl", "dev3.jsonl", "dev4.jsonl", "dev5.jsonl", "dev6.jsonl", "dev7.jsonl",
        "dev8.jsonl", "dev9.jsonl", "dev10.jsonl", "dev11.jsonl", "dev12.jsonl", "dev13.jsonl",
        "dev14.jsonl", "dev15.jsonl", "dev16.jsonl", "dev17.jsonl", "dev18.jsonl", "dev19.jsonl",
        "dev20.jsonl", "dev21.jsonl", "dev22.jsonl",
        "dev23.jsonl", "dev24.jsonl", "dev25.jsonl", "dev26.jsonl", "dev27.jsonl", "dev28.jsonl",
        "dev29.jsonl", "dev30.jsonl", "dev31.jsonl", "dev32.jsonl", "dev33.jsonl", "dev34.jsonl",
        "dev35.jsonl", "dev36.jsonl", "dev37.jsonl", "dev38.jsonl", "dev39.jsonl", "dev40.jsonl",
        "dev41.jsonl", "test.jsonl"]
KINDS = {"factual", "paraphrase", "typo", "multi_doc", "disagreement", "followup", "personal",
         "out_of_scope", "adversarial", "urgent", "no_false_alarm"}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def items(name: str) -> list[dict]:
    return _jsonl(DATA / name)


@pytest.mark.parametrize("name", SETS)
def test_every_gold_quote_is_verbatim_in_its_article(name: str, corpus: Corpus) -> None:
    docs = corpus.by_id()
    for it in items(name):
        for g in it["gold"]:
            assert g["quote"] in docs[g["doc"]].text, (it["id"], g["quote"])
            assert "\n" not in g["quote"] and len(g["quote"].split()) >= 6, it["id"]


@pytest.mark.parametrize("name", SETS)
def test_items_have_the_documented_shape(name: str) -> None:
    for it in items(name):
        assert {"id", "kind", "question", "expect", "gold", "answer_any"} <= set(it), it
        assert it["kind"] in KINDS and it["expect"] in {"answer", "abstain", "urgent"}, it["id"]
        if it["expect"] == "abstain":
            assert it["gold"] == [] and it["answer_any"] == [], it["id"]
        for phrase in it["answer_any"]:
            assert any(phrase.lower() in g["quote"].lower() for g in it["gold"]), (it["id"], phrase)
        assert ("history" in it) == (it["kind"] == "followup"), it["id"]


def test_splits_are_disjoint_and_large_enough() -> None:
    seen: dict[str, str] = {}
    for name in SETS:
        for it in items(name):
            assert it["id"] not in seen, it["id"]
            key = it["question"].strip().lower()
            assert key not in seen, (name, it["question"])
            seen[it["id"]] = seen[key] = name
    assert len(items("dev.jsonl")) >= 80
    # The held-out split is about a quarter of the original set.
    assert len(items("test.jsonl")) >= len(items("dev.jsonl")) // 4


def test_make_eval_finds_every_default_set() -> None:
    from qa.evaluate import DEFAULT_FILES

    assert [p for p in DEFAULT_FILES if not p.is_file()] == []
    assert DEFAULT_FILES[-1].name == "triage_test.jsonl"


def test_asked_search_data_is_what_the_generator_writes() -> None:
    lines, not_covered = asked_data()
    folder = ROOT / "corpus" / QUESTIONS_DIR / ASKED_DIR
    assert {p.stem: _jsonl(p) for p in folder.glob("*.jsonl")} == lines, "run: python -m bench.asked_data"
    assert _jsonl(SCOPE_DIR / NOT_COVERED_FILES[1]) == not_covered, "run: python -m bench.asked_data"


def test_held_out_and_clean_splits_are_never_search_data() -> None:
    clean = [n for n in SETS if n.removesuffix(".jsonl") not in SEARCH_DATA_SPLITS]
    assert "test.jsonl" in clean and "dev31.jsonl" in clean and "dev30.jsonl" not in clean
    searched = {q.strip().lower() for p in (ROOT / "corpus" / QUESTIONS_DIR / ASKED_DIR).glob("*.jsonl")
                for line in _jsonl(p) for q in line["questions"]}
    searched |= {x["question"].strip().lower() for x in _jsonl(SCOPE_DIR / NOT_COVERED_FILES[1])}
    assert len(searched) > 1500
    for name in clean:
        assert not {it["question"].strip().lower() for it in items(name)} & searched, name
