"""The ``QA`` object: model and index loaded once, questions answered many times."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

from .config import DISCLAIMER, RETRIEVED_K, Settings
from .errors import IndexMissingError
from .index import IndexData, build, load
from .retrieval import Hit, Retriever
from .safety import Triage, triage, urgent_notice, validate
from .schema import Answer, Passage, Turn


class QA:
    """Answers questions about the five articles with verbatim, cited passages."""

    def __init__(self, data: IndexData, settings: Settings):
        self.data = data
        self.settings = settings
        self.retriever = Retriever(data)
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
            print("No index yet; building it once (about a minute) ...", file=sys.stderr)
            build(settings)
            data = load(settings)
        return cls(data, settings)

    def ask(self, question: str, history: list[Turn] | list[dict] | None = None) -> Answer:
        """Answer one question; never raises for bad input (status ``invalid`` instead)."""
        t0 = time.perf_counter()
        v = validate(question, history)
        if v.error:
            return Answer(question=v.question, status="invalid", answer=v.error,
                          disclaimer=DISCLAIMER, timings_ms=_timings(t0, t0, t0))
        tri = triage(v.question)
        q = self.retriever.analyse(v.question)
        hits = self.retriever.search(q, k=RETRIEVED_K)
        t1 = time.perf_counter()
        answer = self._compose(v.question, hits, tri)
        t2 = time.perf_counter()
        answer.timings_ms = _timings(t0, t1, t2)
        return answer

    def _compose(self, question: str, hits: list[Hit], tri: Triage) -> Answer:
        from .compose import compose_simple

        text, citations = compose_simple(hits, self.titles)
        status = "answered"
        if tri.urgent:
            status = "urgent"
            text = urgent_notice(tri) + ("\n\n" + text if text else "")
        return Answer(question=question, status=status, answer=text, citations=citations,
                      retrieved=[self.passage(h) for h in hits], disclaimer=DISCLAIMER)

    def passage(self, hit: Hit) -> Passage:
        c = hit.chunk
        return Passage(doc_id=c.doc_id, title=self.titles[c.doc_id], text=c.text, start=c.start,
                       end=c.end, score=round(hit.score, 6))


def _timings(t0: float, t1: float, t2: float) -> dict[str, float]:
    return {"retrieve": round((t1 - t0) * 1000, 2), "compose": round((t2 - t1) * 1000, 2),
            "total": round((time.perf_counter() - t0) * 1000, 2)}
