"""The evaluation question sets in tests/data/ are well-formed and their gold quotes are real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.corpus import Corpus

DATA = Path(__file__).parent / "data"
SETS = ["dev.jsonl", "dev2.jsonl", "dev3.jsonl", "dev4.jsonl", "dev5.jsonl", "dev6.jsonl", "dev7.jsonl",
        "dev8.jsonl", "dev9.jsonl", "dev10.jsonl", "dev11.jsonl", "dev12.jsonl", "dev13.jsonl",
        "dev14.jsonl", "dev15.jsonl", "dev16.jsonl", "dev17.jsonl", "dev18.jsonl", "dev19.jsonl",
        "dev20.jsonl", "dev21.jsonl", "dev22.jsonl",
        "dev23.jsonl", "dev24.jsonl", "dev25.jsonl", "dev26.jsonl", "dev27.jsonl", "dev28.jsonl",
        "dev29.jsonl", "dev30.jsonl", "dev31.jsonl", "dev32.jsonl", "dev33.jsonl", "dev34.jsonl",
        "dev35.jsonl", "dev36.jsonl", "dev37.jsonl", "dev38.jsonl", "test.jsonl"]
KINDS = {"factual", "paraphrase", "typo", "multi_doc", "disagreement", "followup", "personal",
         "out_of_scope", "adversarial", "urgent", "no_false_alarm"}


def items(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()
            if line.strip()]


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
