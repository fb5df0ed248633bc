"""Answer composition: a short Markdown answer built only from cited verbatim sentences."""

from __future__ import annotations

from .retrieval import Hit
from .schema import Citation


def cite(n: int, hit: Hit, title: str) -> Citation:
    c = hit.chunk
    return Citation(n=n, doc_id=c.doc_id, title=title, text=c.text, start=c.start, end=c.end,
                    score=round(hit.score, 6))


def compose_simple(hits: list[Hit], titles: dict[str, str]) -> tuple[str, list[Citation]]:
    """Quote the best passage with ``[1]`` (placeholder until sentence-level composition)."""
    if not hits:
        return "", []
    best = hits[0]
    return f"{best.chunk.text} [1]", [cite(1, best, titles[best.chunk.doc_id])]
