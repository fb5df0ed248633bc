"""Structure-aware chunking with exact character offsets.

An article is read line by line: each non-blank line is a heading, a paragraph, a
list item, or web-page cruft. Paragraphs are split into sentences (a run-in
heading glued to its first sentence, ``Reduces Acne ScarsMicro needling…``, is
split off as a label). Sentences are then packed into passages within their
section, never across a heading and never inside a sentence.

Invariant, tested on every article: ``text[chunk.start:chunk.end] == chunk.text``
and the same for every sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .config import ChunkerSettings

BULLETS = "•◦▪‣·-*"
# Lone lines that are page furniture, not article content.
_CRUFT = re.compile(r"^(blog|author-avatar|leave a reply|share( this)?|related posts?|comments?)$", re.I)
_BYLINE_HEADING = re.compile(r"^About\s+\S+(\s+\S+){0,3}$")
_DISCLAIMER = re.compile(r"^disclaimer\s*:", re.I)
# A publisher's call to action ("Contact … today to schedule an appointment", "Visit our
# homepage for a consultation"): article text, kept in passages, never quoted as an answer.
_PROMO = re.compile(r"^(contact|visit|call|book|schedule|click|subscribe)\b.{0,120}\b(today|now|"
                    r"homepage|website|appointment|consultation)\b", re.I)
# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = {"vs", "e.g", "i.e", "eg", "ie", "dr", "mr", "mrs", "ms", "etc", "approx", "no",
                  "st", "fig", "inc", "ltd", "co"}
_MINOR_WORDS = {"a", "an", "and", "or", "of", "the", "to", "for", "in", "on", "with", "vs", "vs.",
                "by", "at", "from", "your", "their", "its"}
_CLOSERS = "\"'’”)]»"


@dataclass(frozen=True)
class Sentence:
    """A sentence (or a run-in label) with its exact span in the article."""

    doc_id: str
    start: int
    end: int
    text: str
    heading: str
    kind: str  # "body" | "label" | "promo" | "byline" | "disclaimer"
    block: int  # index of the paragraph / line it sits in


@dataclass(frozen=True)
class Chunk:
    """A passage: a contiguous, verbatim span of one article."""

    chunk_id: int
    doc_id: str
    start: int
    end: int
    text: str
    heading: str
    kind: str  # "body" | "byline" | "disclaimer"


@dataclass
class Layout:
    """Everything the chunker found in one article."""

    doc_id: str
    headings: list[tuple[int, int]] = field(default_factory=list)
    boilerplate: list[tuple[int, int]] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)


def _lines(text: str) -> Iterable[tuple[int, int]]:
    """(start, end) of each non-blank line, stripped of surrounding whitespace."""
    pos = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if stripped:
            lead = len(body) - len(body.lstrip())
            yield pos + lead, pos + lead + len(stripped)
        pos += len(raw)


def is_heading(line: str) -> bool:
    """A short line without sentence punctuation (or a short question) that starts capitalised."""
    words = line.split()
    if not words or line[0] in BULLETS or not line[0].isupper():
        return False
    if len(line) > 90 or len(words) > 12:
        return False
    return line[-1] not in ".!,;:…"


def _runin_heading_end(line: str) -> int:
    """Length of a Title Case heading glued to the next sentence (``ScarsMicro``), else 0."""
    for i in range(2, min(len(line) - 1, 80)):
        if line[i - 1].islower() and line[i].isupper() and line[i + 1].islower():
            prefix = line[:i]
            words = prefix.split()
            if not 1 <= len(words) <= 7 or any(c in prefix for c in ".,;:!?"):
                return 0
            if all(w[0].isupper() or w.lower() in _MINOR_WORDS for w in words):
                return i
            return 0
    return 0


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans within ``text[start:end]``.

    Ends at ``.``/``!``/``?`` (plus closing quotes) followed by a space and a
    capital, digit or quote, or glued straight onto a capitalised word
    (``treatments.These``). Abbreviations and decimals (``2.5mm``) do not end one.
    """
    spans: list[tuple[int, int]] = []
    s = start
    i = start
    while i < end:
        ch = text[i]
        if ch in ".!?":
            j = i + 1
            while j < end and (text[j] in ".!?" or text[j] in _CLOSERS):
                j += 1
            boundary = False
            if j >= end:
                boundary = True
            elif text[j].isspace():
                k = j
                while k < end and text[k].isspace():
                    k += 1
                boundary = k >= end or text[k].isupper() or text[k].isdigit() or text[k] in "\"'‘“(•"
            elif ch == "." and text[j].isupper() and j + 1 < end and text[j + 1].islower():
                boundary = True  # glued: "treatments.These include"
            if boundary and ch == ".":
                m = re.search(r"([A-Za-z.]+)$", text[s:i])
                word = m.group(1).lower() if m else ""
                if word.rstrip(".") in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                    boundary = False
            if boundary:
                spans.append((s, j))
                s = j
                while s < end and text[s].isspace():
                    s += 1
                i = s
                continue
            i = j
            continue
        i += 1
    if s < end:
        spans.append((s, end))
    return [(a, _rstrip_end(text, a, b)) for a, b in spans if text[a:b].strip()]


def _rstrip_end(text: str, a: int, b: int) -> int:
    while b > a and text[b - 1].isspace():
        b -= 1
    return b


def analyse(doc_id: str, text: str, title: str) -> Layout:
    """Find headings, cruft and sentences of one article (no packing yet)."""
    layout = Layout(doc_id=doc_id)
    heading = title
    section_kind = "body"
    block = 0
    for a, b in _lines(text):
        line = text[a:b]
        if _CRUFT.match(line):
            layout.boilerplate.append((a, b))
            continue
        if is_heading(line):
            layout.headings.append((a, b))
            heading = line
            section_kind = "byline" if _BYLINE_HEADING.match(line) else "body"
            continue
        block += 1
        kind = "disclaimer" if _DISCLAIMER.match(line) else section_kind
        body_start = a
        label_len = _runin_heading_end(line) if kind == "body" else 0
        if label_len:
            layout.sentences.append(
                Sentence(doc_id, a, a + label_len, line[:label_len], heading, "label", block)
            )
            body_start = a + label_len
        for s, e in split_sentences(text, body_start, b):
            sent_kind = "promo" if kind == "body" and _PROMO.match(text[s:e]) else kind
            layout.sentences.append(Sentence(doc_id, s, e, text[s:e], heading, sent_kind, block))
    return layout


def _section_kind(s: Sentence) -> str:
    """Run-in labels and calls to action belong with the body text around them."""
    return "body" if s.kind in ("label", "promo") else s.kind


def _hard_split(sent: Sentence, text: str, max_chars: int) -> list[Sentence]:
    """Split a sentence longer than a passage may be, at spaces (never happens in this corpus)."""
    parts: list[Sentence] = []
    a = sent.start
    while sent.end - a > max_chars:
        cut = text.rfind(" ", a, a + max_chars)
        cut = cut if cut > a else a + max_chars
        parts.append(Sentence(sent.doc_id, a, cut, text[a:cut], sent.heading, sent.kind, sent.block))
        a = cut
        while a < sent.end and text[a].isspace():
            a += 1
    parts.append(Sentence(sent.doc_id, a, sent.end, text[a:sent.end], sent.heading, sent.kind,
                          sent.block))
    return parts


def pack(layout: Layout, text: str, settings: ChunkerSettings, first_id: int = 0) -> list[Chunk]:
    """Pack sentences into passages of about ``target_chars``, never over ``max_chars``.

    A passage stays inside one section (same heading, same kind). Whole paragraphs
    are kept together when they fit; a long paragraph is split between sentences,
    and the next passage repeats the last ``overlap_sentences`` sentences so an
    answer that spans the cut is still found whole in one passage.
    """
    sents: list[Sentence] = []
    for s in layout.sentences:
        sents.extend(_hard_split(s, text, settings.max_chars) if s.end - s.start > settings.max_chars
                     else [s])

    chunks: list[Chunk] = []

    def emit(group: list[Sentence]) -> None:
        a, b = group[0].start, group[-1].end
        chunks.append(Chunk(first_id + len(chunks), layout.doc_id, a, b, text[a:b],
                            group[0].heading, _section_kind(group[-1])))

    def span(group: list[Sentence]) -> int:
        return group[-1].end - group[0].start

    cur: list[Sentence] = []
    for s in sents:
        if not cur:
            cur = [s]
            continue
        same_section = (s.heading, _section_kind(s)) == (cur[-1].heading, _section_kind(cur[-1]))
        if same_section and span([*cur, s]) <= settings.target_chars:
            cur.append(s)
            continue
        if not same_section or s.block != cur[-1].block:
            emit(cur)
            cur = [s]
            continue
        # Over target in the middle of a paragraph. If that paragraph began inside
        # `cur` and fits on its own, move it whole to the next passage.
        par_start = next(k for k, c in enumerate(cur) if c.block == s.block)
        if par_start > 0 and span([*cur[par_start:], s]) <= settings.target_chars:
            emit(cur[:par_start])
            cur = [*cur[par_start:], s]
            continue
        emit(cur)
        overlap = cur[-settings.overlap_sentences:] if settings.overlap_sentences else []
        cur = [*overlap, s] if overlap and span([*overlap, s]) <= settings.max_chars else [s]
    if cur:
        emit(cur)
    return chunks


def chunk_document(doc_id: str, text: str, title: str, settings: ChunkerSettings,
                   first_id: int = 0) -> Layout:
    """Analyse and pack one article; returns its layout with ``chunks`` filled in."""
    layout = analyse(doc_id, text, title)
    layout.chunks = pack(layout, text, settings, first_id)
    return layout
