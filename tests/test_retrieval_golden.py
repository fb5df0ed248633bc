"""Golden retrieval: realistic patient questions whose top 3 passages must hold an answering sentence.

Each line of ``tests/data/golden_retrieval.jsonl`` has a question and the article sentence(s) that
answer it, copied verbatim from corpus/. A case passes when at least one of its gold sentences lies
wholly inside one of the first three passages ``qa.ask(question).retrieved`` returns, from the
article the sentence belongs to (several articles often say the same thing in different words, and
any one of them answers the patient).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from qa import QA
from qa.chunking import chunk_document
from qa.config import Settings
from qa.corpus import Corpus
from qa.retrieval import RANK_FEATURES, Retriever

GOLDEN = Path(__file__).parent / "data" / "golden_retrieval.jsonl"
TOP = 3


def _load() -> list[dict[str, Any]]:
    with GOLDEN.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


CASES = _load()

# Cases that fail today (rank when last run in brackets); kept, not weakened, while retrieval is tuned.
RETRIEVAL_XFAIL: set[str] = set()  # ids of cases allowed to fail while retrieval is tuned


def _params() -> list[Any]:
    xfail = pytest.mark.xfail(strict=False, reason="retrieval tuning in progress")
    return [pytest.param(c, id=f"{c['id']}-{c['topic'].replace(' ', '_')}",
                         marks=[xfail] if c["id"] in RETRIEVAL_XFAIL else [])
            for c in CASES]


def _rank(qa: QA, case: dict[str, Any]) -> int | None:
    """1-based rank of the first retrieved passage holding a gold sentence, or None."""
    for rank, p in enumerate(qa.ask(case["question"]).retrieved, start=1):
        if any(g["doc"] == p.doc_id and g["quote"] in p.text for g in case["gold"]):
            return rank
    return None


def test_golden_file_is_well_formed(corpus: Corpus) -> None:
    assert len(CASES) == 14
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert len({c["question"].lower() for c in CASES}) == len(CASES)
    docs = corpus.by_id()
    settings = Settings().chunker
    for case in CASES:
        assert set(case) == {"id", "topic", "question", "gold"}
        assert case["question"].strip() and case["gold"]
        for g in case["gold"]:
            text = docs[g["doc"]].text
            assert text.count(g["quote"]) == 1, f"{case['id']}: quote not verbatim in {g['doc']}"
            # A gold quote is (part of) one sentence, so a passage can hold it whole.
            layout = chunk_document(g["doc"], text, docs[g["doc"]].title, settings)
            assert any(g["quote"] in s.text for s in layout.sentences), f"{case['id']}: {g['quote']!r}"


def test_golden_questions_are_not_copied_from_the_evaluation_sets() -> None:
    data = Path(__file__).parent / "data"
    theirs = set()
    for path in sorted(data.glob("*.jsonl")):
        if path.name not in ("golden_retrieval.jsonl", "triage_test.jsonl"):
            theirs |= {" ".join(json.loads(line)["question"].lower().split())
                       for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    ours = {" ".join(c["question"].lower().split()) for c in CASES}
    assert not ours & theirs


@pytest.mark.parametrize("case", _params())
def test_answering_sentence_is_in_the_top_3(qa: QA, case: dict[str, Any]) -> None:
    rank = _rank(qa, case)
    where = "not in the top 10" if rank is None else f"at rank {rank}"
    assert rank is not None and rank <= TOP, (
        f"{case['question']!r}: the first passage with a gold sentence is {where}")


@pytest.mark.parametrize(("question", "doc", "sentence"), [
    ("should i stop retinol before", "say-goodbye", "Before undergoing micro needling"),
    ("why would pricking my face make the dents better", "say-goodbye", "natural healing process"),
])
def test_written_questions_lift_the_sentence_that_answers(qa: QA, question: str, doc: str,
                                                          sentence: str) -> None:
    """Chat that shares few words with the article finds it through the questions written for
    its sentences (corpus/questions/); without them the passage ranks lower. (Since the model is
    adapted to the same questions, most such chat ranks first either way: since session 17 the
    final ranking weighs the passage's and its sentences' cosines too, and "how long till i see
    results" ranks first without the written questions.)"""
    def first_rank(retriever: Retriever) -> int:
        hits = retriever.search(retriever.analyse(question), k=10)
        return next((r for r, h in enumerate(hits, 1) if h.chunk.doc_id == doc and sentence in h.chunk.text),
                    11)

    ours = first_rank(qa.retriever)
    w = qa.retriever.weights
    # The ranking features that read the written questions weigh nothing without them.
    reads_them = {"asked_rank", "clause_asked"}
    ranking = tuple(0.0 if f in reads_them else x for f, x in zip(RANK_FEATURES, w.ranking, strict=True))
    without = Retriever(qa.data, replace(w, asked=0.0, asked_sentence=0.0, ranking=ranking))
    assert ours <= 3 and first_rank(without) > ours
