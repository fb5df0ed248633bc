"""Is the question covered by the articles? Also: follow-ups and personal decisions.

The decision comes from the evidence itself: how much of the question's meaning
(its key terms, weighted by rarity) the best sentences contain, how close they
are in meaning, and whether the question leans on words the articles never use.
Requests that are not questions about the articles (write code, ignore your
instructions, pretend to be a doctor) are out of scope whatever they mention.
Thresholds are calibrated on tests/data/dev.jsonl; docs/decisions.md has the figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .compose import Composer, Composition, Evidence
from .retrieval import Query, Retriever
from .schema import Turn
from .textnorm import content_words, normalize, stem


@dataclass(frozen=True)
class ScopeThresholds:
    """Calibrated on the dev split (see docs/decisions.md)."""

    # Share of the question's term weight (idf) carried by words the articles never use
    # and that no lexicon entry maps onto article words. On dev + dev2 (167 questions),
    # above 0.30 catches 84% of out-of-scope questions at 1% false abstentions.
    max_unknown_share: float = 0.30
    # Evidence too weak to be an answer: neither close in meaning nor sharing words.
    min_dense: float = 0.20
    min_lexical: float = 0.30
    # Staff view: an article covers the question when its best sentence shares most of the
    # question's words, or is close in meaning and shares some.
    article_lexical_alone: float = 0.50
    article_dense: float = 0.45
    article_lexical: float = 0.25


@dataclass
class Verdict:
    covered: bool
    reason: str
    features: dict[str, float] = field(default_factory=dict)


# Requests to do something other than answer from the articles.
_TASK_REQUEST = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules|prompt|previous|above|"
    r"articles?|guidelines)\b"
    r"|\b(write|generate|compose|create|give me|tell me|make)\b.{0,30}\b(poem|song|story|essay|"
    r"code|script|program|function|joke|haiku|letter|email|rap)\b"
    r"|\b(pretend|act as|acting as|role ?play|you are now|from now on you|jailbreak|dan mode|"
    r"developer mode)\b"
    r"|\b(prescribe|diagnose me|diagnosis for me)\b"
    r"|\b(python|javascript|sql|html|css|java|c\+\+|regex)\b"
    r"|\bsystem prompt\b"
)
_PERSONAL = re.compile(
    r"\b(should i (get|have|do|try|go|book|start|consider|use)|shall i (get|have|do|try)|"
    r"is it (right|good|ok|okay|worth it|a good idea|a bad idea) for (me|my)|(bad|good) idea for me|"
    r"am i (a )?(good |suitable |right )?(candidate|fit)|would (it|microneedling) (work|help) for me|"
    r"is (it|microneedling) for me|right for my|good for my|worth it for me|"
    r"can i (get|have|do) (it|this|microneedling)\b)"
)
_REFERS_BACK = re.compile(
    r"^(and|but|so|also|what about|how about|why|why not|then|ok|okay)\b"
    r"|\b(it|its|they|them|their|that|this|those|these|one|ones|there|same|more|else|other)\b"
)
_GENERIC_TERMS = {"microneedling", "treatment", "procedure", "article", "articles", "acne", "scar",
                  "scars", "skin", "question", "answer"}


def followup_context(question: str, history: list[Turn]) -> str | None:
    """The earlier question a follow-up leans on, or None for a self-contained question.

    A short question, or one that refers back ("how long do they last?", "and for
    deeper ones?"), is searched together with the previous user turn.
    """
    prev = next((t.content for t in reversed(history) if t.role == "user" and t.content.strip()),
                None)
    if not prev:
        return None
    norm = normalize(question)
    key = [w for w in content_words(norm) if w not in _GENERIC_TERMS]
    if len(key) <= 3 or _REFERS_BACK.search(norm):
        return prev
    return None


def is_personal_decision(question: str) -> bool:
    """Questions that ask for a verdict about the asker ("should I get it?")."""
    return bool(_PERSONAL.search(normalize(question)))


def is_task_request(question: str) -> bool:
    """Instructions, role-play or code requests rather than a question about the articles."""
    return bool(_TASK_REQUEST.search(normalize(question)))


class Scope:
    """Decides whether the retrieved evidence answers the question."""

    def __init__(self, retriever: Retriever, composer: Composer,
                 thresholds: ScopeThresholds | None = None):
        self.retriever = retriever
        self.composer = composer
        self.t = thresholds or ScopeThresholds()

    def features(self, q: Query, best: Evidence | None) -> dict[str, float]:
        terms = set(q.stems)
        weights = {t: self.composer.term_weight(t) for t in terms}
        total = sum(weights.values()) or 1.0
        unknown = {stem(w) for w in q.unknown}
        return {
            "dense": best.dense if best else 0.0,
            "lexical": best.lexical if best else 0.0,
            "unknown_share": sum(weights.get(t, 0.0) for t in unknown) / total,
            "n_terms": float(len(terms)),
            "n_unknown": float(len(unknown)),
        }

    def judge(self, question: str, q: Query, comp: Composition) -> Verdict:
        """Covered, or not, with the reason and the features behind it."""
        best = comp.evidence[0] if comp.evidence else None
        f = self.features(q, best)
        if is_task_request(question):
            return Verdict(False, "not a question about the articles", f)
        if best is None:
            return Verdict(False, "no evidence", f)
        if self.specific_terms(q):
            return Verdict(False, "names something the articles never mention", f)
        if f["unknown_share"] > self.t.max_unknown_share:
            return Verdict(False, "key terms the articles never use", f)
        if f["dense"] < self.t.min_dense and f["lexical"] < self.t.min_lexical:
            return Verdict(False, "weak evidence", f)
        return Verdict(True, "evidence", f)

    def specific_terms(self, q: Query) -> list[str]:
        """Unknown words that are no everyday English word either: a drug, a device brand, a
        condition (``accutane``, ``skinpen``, ``rosacea``). A question naming one asks about
        something the articles never mention, however well the rest of it matches."""
        speller = self.retriever.speller
        return [w for w in q.unknown if len(w) >= 5 and w.isalpha() and not speller.is_english(w)]

    def relevant(self, comp: Composition) -> bool:
        """Evidence good enough to show beside an urgent warning (unknown words allowed)."""
        best = comp.evidence[0] if comp.evidence else None
        return best is not None and best.lexical >= self.t.min_lexical and best.dense >= self.t.min_dense

    def sentence_covers(self, q: Query, ev: Evidence) -> bool:
        """Whether one article's best sentence is on the question's topic (staff view)."""
        if self.specific_terms(q) or self.features(q, ev)["unknown_share"] > self.t.max_unknown_share:
            return False
        return ev.lexical >= self.t.article_lexical_alone or (
            ev.dense >= self.t.article_dense and ev.lexical >= self.t.article_lexical)
