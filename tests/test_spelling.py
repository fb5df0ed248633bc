"""Spelling correction of questions: typos meet the articles' words, real words stay as typed."""

from __future__ import annotations

import re

import pytest

from qa import QA


@pytest.mark.parametrize(("typed", "meant"), [
    ("how many sesions", "sessions"),
    ("can i get an infecton", "infection"),
    ("is microneedeling safe", "microneedling"),
    ("does it boost colagen", "collagen"),
    ("my skin is sensitve", "sensitive"),
])
def test_typos_are_corrected_to_the_articles_words(qa: QA, typed: str, meant: str) -> None:
    assert meant in _words(qa, typed)


@pytest.mark.parametrize(("typed", "word"), [
    # Real words the articles lack are never turned into one they have: a scab is not a scar,
    # and pus is what triage and scope must see.
    ("there's a small scab, can i pick it", "scab"),
    ("a bit of pus on my cheek", "pus"),
    ("does it help oily skin", "oily"),
    ("will it get rid of my zits", "zits"),
    ("what if i get a fever", "fever"),
    ("can it smooth the creases by my eyes", "creases"),
])
def test_real_words_are_never_corrected(qa: QA, typed: str, word: str) -> None:
    assert word in _words(qa, typed)


@pytest.mark.parametrize(("typed", "meant", "not_this"), [
    # Chat shorthand is read as what it stands for, not as the nearest article word.
    ("how many wks between sessions", "weeks", "was"),
    ("how many hrs does the redness last", "hours", "has"),
    ("can i use a vit c serum after", "vitamin", "bit"),
    ("do i need alot of sessions", "lot", "aloe"),
])
def test_chat_shorthand_is_read_as_meant(qa: QA, typed: str, meant: str, not_this: str) -> None:
    words = _words(qa, typed)
    assert meant in words and not_this not in words


def test_shorthand_does_not_send_the_answer_elsewhere(qa: QA) -> None:
    answer = qa.ask("do i need alot of sessions")
    assert answer.status == "answered"
    assert "aloe" not in answer.answer.lower()
    assert "session" in answer.answer.lower()


def _words(qa: QA, typed: str) -> list[str]:
    """The words of the question as retrieval reads it."""
    return re.findall(r"[a-z]+", qa.retriever.analyse(typed).text)
