"""Typed records that cross module seams; serialised with ``dataclasses.asdict``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["answered", "not_found", "urgent", "invalid"]
STATUSES: tuple[str, ...] = ("answered", "not_found", "urgent", "invalid")


@dataclass(frozen=True)
class Turn:
    """One message of the conversation history."""

    role: Literal["user", "assistant"]
    content: str


@dataclass
class Passage:
    """A verbatim span of one article: ``article_text[start:end] == text``."""

    doc_id: str
    title: str
    text: str
    start: int
    end: int
    score: float


@dataclass
class Citation:
    """A cited span, numbered as its ``[n]`` marker in the answer."""

    n: int
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    score: float


@dataclass
class ArticleView:
    """One article's best evidence for a question (the staff comparison view).

    ``passage`` is None when the article does not cover the question;
    ``highlight_start``/``highlight_end`` mark its best sentence in the article.
    """

    doc_id: str
    title: str
    publisher: str | None
    covered: bool
    passage: Passage | None = None
    highlight_start: int | None = None
    highlight_end: int | None = None


@dataclass
class Answer:
    """What ``QA.ask`` returns and ``qa ask --json`` prints."""

    question: str
    status: Status
    answer: str
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)
    disclaimer: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract object."""
        return asdict(self)
