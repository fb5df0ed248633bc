"""The ``QA`` object: model and index loaded once, questions answered many times."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

from .compose import MAX_ANSWER_CHARS, Composer
from .config import DISCLAIMER, RETRIEVED_K, Settings
from .corpus import Document
from .errors import IndexMissingError
from .index import IndexData, build, load
from .query import Query, is_personal_decision
from .retrieval import Hit, Retriever
from .safety import Triage, read, triage, urgent_notice, validate
from .schema import Answer, ArticleView, Citation, Passage, Turn
from .scope import Scope, followup_context, is_task_request
from .symptoms import SymptomModel
from .vectors import one_blas_thread

NOT_FOUND = (
    "The five articles don't cover this, so I can't answer it from them. "
    "Please ask a dermatologist or the clinic treating you."
)
URGENT_RESERVE = 350  # room for the urgent notice above the article quotes
# Short: it comes out of the answer's character budget.
PERSONAL_NOTE = "These are general points; whether it suits you is for a professional who examines your skin."


class QA:
    """Answers questions about the five articles with verbatim, cited passages."""

    def __init__(self, data: IndexData, settings: Settings):
        one_blas_thread()  # every product per question is small (qa/vectors.py)
        self.data = data
        self.settings = settings
        self.retriever = Retriever(data)
        self.composer = Composer(data, self.retriever.sentences)
        self.scope = Scope(self.retriever, self.composer)
        self.symptoms = SymptomModel(data.encoder, data.triage_examples)
        self.titles = {d.id: d.title for d in data.documents.values()}

    @classmethod
    def load(cls, index_dir: str | Path | None = None, *, settings: Settings | None = None,
             build_if_missing: bool = False) -> QA:
        """Load the model and index once.

        A missing index is built first when ``build_if_missing``; a stale or damaged
        one is refused with a ``QAError`` naming the command that fixes it.
        """
        settings = settings or Settings()
        if index_dir is not None:
            settings = replace(settings, index_dir=Path(index_dir))
        try:
            data = load(settings)
        except IndexMissingError:
            if not build_if_missing:
                raise
            print("No index yet; building it once (about 5 minutes the first time: the model is "
                  "adapted to the articles) ...", file=sys.stderr)
            build(settings)
            data = load(settings)
        return cls(data, settings)

    @property
    def documents(self) -> list[Document]:
        """The articles, in corpus order (for the source viewer)."""
        return list(self.data.documents.values())

    def document(self, doc_id: str) -> Document:
        """One article by id (``KeyError`` if unknown)."""
        return self.data.documents[doc_id]

    def ask(self, question: str, history: list[Turn] | list[dict] | None = None) -> Answer:
        """Answer one question; never raises for bad input (status ``invalid`` instead)."""
        t0 = time.perf_counter()
        v = validate(question, history)
        if v.error:
            return Answer(question=v.question, status="invalid", answer=v.error,
                          disclaimer=DISCLAIMER, timings_ms=_timings(t0, t0, t0))
        context = followup_context(v.question, v.history)
        q = self.retriever.analyse(v.question, context)
        said = next((t.content for t in reversed(v.history) if t.role == "assistant"), "")
        if context is not None and said.strip():
            # A follow-up ("why not?") wants something new, not the answer it follows again.
            q.said, q.said_vector = said, self.data.encoder.encode_query(said)
        reading = read(v.question)
        # A request to role-play or prescribe is not a description of symptoms; its words
        # are still read by pattern.
        symptoms = None if is_task_request(v.question) else self.symptoms.concerns
        # One encoder pass for the question and whatever triage will read by meaning: a batch
        # of two costs far less than two passes (docs/benchmarks.md); both then hit the cache.
        meaning = SymptomModel.texts(reading.live) if symptoms is not None else []
        if meaning:
            own = [q.own_text] if context is not None and q.own_text else []
            self.data.encoder.encode_cached([q.text or q.raw, *own, *meaning])
        hits = self.retriever.search(q, k=RETRIEVED_K)
        t1 = time.perf_counter()
        answer = self._answer(v.question, q, hits, triage(v.question, symptoms, reading))
        t2 = time.perf_counter()
        answer.timings_ms = _timings(t0, t1, t2)
        return answer

    def _answer(self, question: str, q: Query, hits: list[Hit], tri: Triage) -> Answer:
        retrieved = [self.passage(h) for h in hits]
        personal = is_personal_decision(question)
        # The answer as a whole stays within MAX_ANSWER_CHARS, notes included.
        budget = MAX_ANSWER_CHARS - (len(PERSONAL_NOTE) + 2 if personal else 0) \
            - (URGENT_RESERVE if tri.urgent else 0)
        comp = self.composer.compose(q, hits, budget=budget, personal=personal)
        verdict = self.scope.judge(question, q, comp)
        text, citations = "", []
        # Symptom words are rarely in the articles; an urgent answer still shows what they say.
        show = comp.markdown and (verdict.covered or (tri.urgent and self.scope.relevant(comp)))
        if show:
            text = comp.markdown
            citations = [self.citation(n, h) for n, h in enumerate(comp.cited, 1)]
            if personal and verdict.covered:
                text = f"{text}\n\n{PERSONAL_NOTE}"
        if tri.urgent:
            notice = urgent_notice(tri, with_passages=bool(citations))
            if citations:
                notice += "\n\nWhat the articles say:\n\n" + text
            return Answer(question=question, status="urgent", answer=notice, citations=citations,
                          retrieved=retrieved, disclaimer=DISCLAIMER)
        if not citations:
            return Answer(question=question, status="not_found", answer=NOT_FOUND,
                          retrieved=retrieved, disclaimer=DISCLAIMER)
        return Answer(question=question, status="answered", answer=text, citations=citations,
                      retrieved=retrieved, disclaimer=DISCLAIMER)

    def compare(self, question: str, history: list[Turn] | list[dict] | None = None
                ) -> list[ArticleView]:
        """What each article says about a question: its best passage, or not covered.

        The passage's score is its best sentence's evidence score (no global ranking is
        needed: each article is searched on its own).
        """
        v = validate(question, history)
        if v.error:
            return []
        q = self.retriever.analyse(v.question, followup_context(v.question, v.history))
        self.retriever.encode(q)
        off_topic = self.scope.off_topic_reason(self.scope.topic_features(q)) is not None
        views = []
        for doc in self.data.documents.values():
            best = None if off_topic else self.composer.best_in_article(q, doc.id)
            if best is None or not self.scope.sentence_covers(best):
                views.append(ArticleView(doc.id, doc.title, doc.publisher, False))
                continue
            c = best.chunk
            passage = Passage(doc.id, doc.title, c.text, c.start, c.end, round(best.score, 6))
            views.append(ArticleView(doc.id, doc.title, doc.publisher, True, passage,
                                     best.sentence.start, best.sentence.end))
        return views

    def passage(self, hit: Hit) -> Passage:
        c = hit.chunk
        return Passage(doc_id=c.doc_id, title=self.titles[c.doc_id], text=c.text, start=c.start,
                       end=c.end, score=round(hit.score, 6))

    def citation(self, n: int, hit: Hit) -> Citation:
        c = hit.chunk
        return Citation(n=n, doc_id=c.doc_id, title=self.titles[c.doc_id], text=c.text,
                        start=c.start, end=c.end, score=round(hit.score, 6))


def _timings(t0: float, t1: float, t2: float) -> dict[str, float]:
    return {"retrieve": round((t1 - t0) * 1000, 2), "compose": round((t2 - t1) * 1000, 2),
            "total": round((time.perf_counter() - t0) * 1000, 2)}
