"""Answer composition: short Markdown answers made only of verbatim, cited sentences.

Sentences of the retrieved passages are scored against the question (dense
similarity from vectors precomputed at build time, plus idf-weighted keyword
coverage). The best few become the answer, each followed by the ``[n]`` of the
passage it comes from. Statements that two articles both make are said once and
cited to both; statements that differ (numbers, or "may benefit" against "should
avoid") are listed per article under a line saying that the articles differ.
Nothing is paraphrased, so the answer never states a fact no citation contains.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from itertools import pairwise

from .chunking import Chunk, Sentence
from .index import IndexData
from .query import Query
from .retrieval import Hit, SentenceScorer
from .textnorm import normalize

MAX_ANSWER_CHARS = 1000
MAX_SENTENCES = 5
# Personal decisions quote one of the articles' own pointers to a professional: the sentence,
# among the few nearest to this description, that best fits the question.
POINTER_QUERY = ("consult a dermatologist or qualified professional to decide whether the treatment "
                 "is right for you")
POINTERS = 2  # the third nearest ("Some conditions like acne may warrant …") is about acne, not you


@dataclass(frozen=True)
class ComposeWeights:
    """How sentence evidence is selected (chosen on the dev set; docs/decisions.md)."""

    # Bonus for sentences in higher-ranked passages: 0.30 until session 17; with the fitted
    # passage ranking, 0.4-0.6 is a plateau on fourteen tuning splits (answer-hit 0.952 ->
    # 0.957, follow-ups 0.916 -> 0.928; 0.2 -> 0.949).
    chunk_prior: float = 0.50
    # The nearest written question's similarity, on top of the share the sentence scorer gives
    # it: a softmax fit of the gold sentence over the candidates of 32 tuning splits weighed it
    # most of all (docs/decisions.md, session 20). With 0.65 below: cite-hit 0.961 -> 0.968,
    # answer-hit 0.937 -> 0.947, answers no longer (0 and 0.60 before).
    asked_bonus: float = 1.2
    keep_ratio: float = 0.65  # further sentences must score this fraction of the best
    same_doc_ratio: float = 0.80  # ... and this much when their article is already quoted
    same_statement: float = 0.90  # sentence cosine above which two sentences say the same
    topic_overlap: float = 0.45  # sentence cosine above which two sentences are on one topic
    # A follow-up's sentences that restate the previous answer (cosine with it above
    # repeat_from) lose up to repeat_penalty, in proportion to how close they are. On the 83
    # follow-ups of fourteen splits, cite-hit / answer-hit: 0.30 -> 0.952 / 0.904, 0.50 ->
    # 0.964 / 0.928, 0.55-0.60 -> 0.964 / 0.940, 0.70 -> 0.940 / 0.904 (docs/decisions.md).
    repeat_from: float = 0.50
    repeat_penalty: float = 0.55


@dataclass
class Evidence:
    """A candidate sentence with its scores and the retrieved passage it is cited from."""

    idx: int
    sentence: Sentence
    chunk: Chunk
    hit_rank: int
    dense: float
    lexical: float
    score: float


@dataclass
class Composition:
    """The answer's lines and the passages they cite, in ``[n]`` order."""

    markdown: str
    cited: list[Hit] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    differ: bool = False


_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                 "seven": "7", "eight": "8", "nine": "9", "ten": "10", "twelve": "12",
                 "few": "few", "couple": "2", "several": "several"}
# What an amount measures: two statements differ only on amounts of one kind. Needle
# millimetres against minutes, or "SPF 30 for two weeks" against "SPF 30", is no disagreement.
_DIMENSIONS = {"session": "count", "treatment": "count", "time": "count",  # "three times"
               "minute": "time", "hour": "time", "day": "time", "week": "time", "month": "time",
               "year": "time", "mm": "length", "percent": "percent", "%": "percent"}
_INTERVAL = re.compile(r"\b(?:every|apart|interval|spaced|between (?:each|sessions|treatments))\b")
_AMOUNT_TOKEN = r"(\d+(?:\.\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
_QUANTITY = re.compile(r"\b" + _AMOUNT_TOKEN + r"(?:\s*(?:to|or|-|–)\s*" + _AMOUNT_TOKEN + r")?"
                       r"\s*(sessions?|treatments?|times(?:\s+(?:a|per|each)\s+(?:day|week|month|year))?|minutes?|hours?|"
                       r"days?|weeks?|months?|years?|mm|"
                       r"percent|%)?(?!\w|\.\d)")
_NEGATIVE = re.compile(
    r"\b(avoid|not (be )?(suitable|good candidates?|recommended|for everyone)|can'?t be done|"
    r"cannot be done|should not|shouldn'?t|not suitable|worsen|do not|don'?t)\b")
_POSITIVE = re.compile(r"\b(may (also )?benefit|suitable for|safe for|can be performed|"
                       r"regardless of|works? (well|efficiently)|effective)\b")


def numbers(text: str) -> dict[str, frozenset[str]]:
    """Amounts in a sentence by kind (count, time, interval, length, percent; "" for a bare number),
    digits and number words alike: ``three to six sessions spaced four to six weeks apart`` →
    {count: {3, 6}, interval: {4, 6}}. A number word counts only before a unit, so "one" the
    pronoun ("one of the benefits") is no amount."""
    found: dict[str, set[str]] = {}
    norm = normalize(text)
    for first, second, unit in _QUANTITY.findall(norm):
        if not unit and not first[0].isdigit():
            continue
        # "1-2 times a year" is how often, like "every few months" or "spaced four to six weeks
        # apart": intervals, never compared with how long something takes or lasts.
        kind = "interval" if unit.startswith("times ") else _DIMENSIONS[unit.rstrip("s")] if unit else ""
        if kind == "time" and _INTERVAL.search(norm):
            kind = "interval"
        found.setdefault(kind, set()).update(_NUMBER_WORDS.get(v, v) for v in (first, second) if v)
    return {k: frozenset(v) for k, v in found.items()}


def disagree(a: str, b: str) -> str | None:
    """Why two statements on one topic disagree, or None: different amounts of one kind, or
    opposite guidance (one advises against, the other for: "should avoid" / "may benefit")."""
    na, nb = numbers(a), numbers(b)
    kind = next((k for k in na.keys() & nb.keys() if na[k] != nb[k]), None)
    if kind is not None:
        return f"amounts ({kind or 'number'})"
    ta, tb = normalize(a), normalize(b)
    neg_a, neg_b = bool(_NEGATIVE.search(ta)), bool(_NEGATIVE.search(tb))
    if (neg_a and not neg_b and _POSITIVE.search(tb)) or (neg_b and not neg_a and _POSITIVE.search(ta)):
        return "guidance"
    return None


def _quote_text(text: str) -> str:
    """A sentence as shown in an answer: verbatim, minus a leading list bullet."""
    return text.lstrip("•").strip()


def _quote(e: Evidence) -> str:
    """An evidence sentence as shown in an answer."""
    return _quote_text(e.sentence.text)


# A sentence that only announces what follows ("… goes by several different names.") or whose
# next sentence spells it out ("These include …", "This includes …", "Sometimes …") is no answer
# on its own, nor is that next sentence: whichever is chosen, the two are quoted together.
_ANNOUNCES = re.compile(
    r"\b(?:several|various|a number of|a few|many|different|following|some)\s+(?:\w+\s+){0,2}"
    r"(?:names|ways|benefits|types|options|steps|factors|reasons|things|tips|instructions|kinds|forms|"
    r"methods|advantages|techniques|guidelines|precautions|effects|risks)\W*$", re.IGNORECASE)
_SPELLS_OUT = re.compile(r"^(?:(?:this|these|they)\s+includes?|for example|for instance|sometimes|namely)\b",
                         re.IGNORECASE)
# A sentence the next one qualifies ("… acne scars tend to fade with time." / "The problem is that
# your body only repairs to a certain point.") would mislead without it, even across a paragraph
# break; and the qualification alone ("However, …") does not say what it qualifies.
_QUALIFIES = re.compile(r"^(?:however|but|the problem is|unfortunately|that said|even so|nevertheless)\b",
                        re.IGNORECASE)
# A sentence whose subject is a bare pronoun ("This should only last 1-3 days.", "It creates
# painful, irritating areas …" after "Acne is …") says nothing checkable alone, or says it of the
# wrong thing: it is quoted with the sentence it refers back to. "It is important to …" is not
# such a pronoun, and "This process …" names its subject.
_REFERS_BACK = re.compile(
    r"^(?:it|this|they|that)\s+(?!(?:is|'s|’s)\s+(?:\w+\s+)?(?:important|essential|vital|crucial|"
    r"recommended|necessary|best|advisable)\b)"
    r"(?:should|can|could|may|might|will|would|must|is|are|was|were|has|have|'s|’s|makes?|creates?|"
    r"allows?|ensures?|means|helps?|causes?|gives?|leads?|results?|lasts?|works?|reduces?|"
    r"improves?|stimulates?|only|also|usually|often|typically|generally)\b", re.IGNORECASE)


def announcements(sentences: list[Sentence]) -> set[int]:
    """Indices of sentences the next sentence completes: in the same paragraph when one
    announces the other, also across a paragraph break when the next one qualifies it."""

    def pair(s: Sentence, n: Sentence) -> bool:
        a, b = s.text.strip(), n.text.strip()
        if s.kind != "body" or n.kind != "body" or n.doc_id != s.doc_id or a.endswith(":"):
            return False
        if n.block == s.block and (_ANNOUNCES.search(a) or _SPELLS_OUT.match(b) or _REFERS_BACK.match(b)):
            return True
        return bool(_QUALIFIES.match(b)) and not b.endswith("?")

    return {i for i, (s, n) in enumerate(pairwise(sentences)) if pair(s, n)}


def _ranks(hits: list[Hit]) -> dict[int, int]:
    """Chunk id -> rank among the retrieved passages."""
    return {h.chunk.chunk_id: r for r, h in enumerate(hits)}


class Composer:
    """Turns retrieved passages into an extractive, cited answer."""

    def __init__(self, data: IndexData, scorer: SentenceScorer,
                 weights: ComposeWeights | None = None):
        self.data = data
        self.scorer = scorer
        self.w = weights or ComposeWeights()
        self.titles = {d.id: d.title for d in data.documents.values()}
        self.announces = announcements(data.sentences)
        # The sentences nearest in meaning to "ask a professional whether it is right for you".
        vec = data.encoder.encode_query(POINTER_QUERY)
        # "… patients with these types of scarring …" needs what came before it: not a pointer.
        body = [i for i, s in enumerate(data.sentences) if s.kind == "body" and scorer.scorable[i]
                and not re.search(r"\b(?:these|those)\b", s.text, re.IGNORECASE)]
        near = sorted(body, key=lambda i: -float(data.sentence_vectors[i] @ vec))
        self.pointers = near[:POINTERS]

    def term_weight(self, stem: str) -> float:
        return self.scorer.weight(stem)

    def cited_from(self, i: int, rank_of: dict[int, int]) -> tuple[Chunk, int]:
        """The passage sentence ``i`` is cited from, and its rank (``rank_of``: chunk id -> rank
        among the hits): the best-ranked retrieved passage that holds it, else the first that
        does (rank ``len(rank_of)``)."""
        n = len(rank_of)
        chunk_id = min(self.data.sentence_chunks[i], key=lambda c: (rank_of.get(c, n), c))
        return self.data.chunks[chunk_id], rank_of.get(chunk_id, n)

    def evidence(self, q: Query, hits: list[Hit], only_doc: str | None = None) -> list[Evidence]:
        """Score every sentence of the retrieved passages (or of one article), best first."""
        if only_doc is None:
            cand: list[int] = []
            for h in hits:
                cand.extend(i for i in self.scorer.by_chunk.get(h.chunk.chunk_id, []) if i not in cand)
        else:
            cand = [i for i, s in enumerate(self.data.sentences) if s.doc_id == only_doc]
        idxs = [i for i in cand if self.scorer.scorable[i]]
        if not idxs or q.vector is None:
            return []
        rank_of = _ranks(hits)  # once per question: every candidate sentence reads it
        asked = self.scorer.asked(q)
        out = []
        for i in idxs:
            chunk, r = self.cited_from(i, rank_of)
            d, lex, score = self.scorer.parts(q, i)
            score += self.w.chunk_prior / math.sqrt(1 + r)
            if asked is not None and asked[i] > 0.0:
                score += self.w.asked_bonus * asked[i]
            if q.said_vector is not None:
                score -= self.repeats(q, i)
            out.append(Evidence(i, self.data.sentences[i], chunk, r, d, lex, score))
        out.sort(key=lambda e: -e.score)
        return out

    def repeats(self, q: Query, i: int) -> float:
        """How much sentence ``i`` is marked down for restating a follow-up's previous answer:
        fully when that answer quoted it, else in proportion to how close it is in meaning."""
        if _quote_text(self.data.sentences[i].text) in q.said:
            return self.w.repeat_penalty
        assert q.said_vector is not None
        sim = float(self.data.sentence_vectors[i] @ q.said_vector)
        if sim <= self.w.repeat_from:
            return 0.0
        return self.w.repeat_penalty * (sim - self.w.repeat_from) / (1.0 - self.w.repeat_from)

    def sim(self, a: Evidence, b: Evidence) -> float:
        v = self.data.sentence_vectors
        return float(v[a.idx] @ v[b.idx])

    # -- selection -------------------------------------------------------------------
    def select(self, ev: list[Evidence]) -> list[list[Evidence]]:
        """The best sentences, as groups of sentences that make the same statement.

        After the best one, a sentence joins only if it scores close to it and (unless
        nearly as good) comes from an article not yet quoted: answers stay short and show
        each article's view. It need not share the question's words: since the embedding
        model is adapted (qa/adapt.py), meaning alone is reliable enough (docs/decisions.md).
        """
        if not ev:
            return []
        best = ev[0]
        groups: list[list[Evidence]] = [[best]]
        chars = len(best.sentence.text)
        docs = {best.sentence.doc_id}
        for e in ev[1:]:
            if e.score < self.w.keep_ratio * best.score:
                break
            same = next((g for g in groups if self.sim(g[0], e) >= self.w.same_statement), None)
            if same is not None:
                if all(x.sentence.doc_id != e.sentence.doc_id for x in same):
                    same.append(e)  # another article says the same: cite it too
                    docs.add(e.sentence.doc_id)
                continue
            if e.sentence.doc_id in docs and e.score < self.w.same_doc_ratio * best.score:
                continue
            if len(groups) >= MAX_SENTENCES or chars + len(e.sentence.text) > MAX_ANSWER_CHARS - 250:
                continue
            groups.append([e])
            docs.add(e.sentence.doc_id)
            chars += len(e.sentence.text)
        return groups

    def same_topic(self, q: Query, a: Evidence, b: Evidence) -> bool:
        """Two sentences are on one topic if they are close in meaning or share a word of
        the question's own (both about "sessions", say)."""
        if self.sim(a, b) >= self.w.topic_overlap:
            return True
        shared = self.scorer.stems[a.idx] & self.scorer.stems[b.idx] & q.focus
        return any(self.scorer.weight(t) >= 2.0 for t in shared)

    def differ(self, q: Query, groups: list[list[Evidence]]) -> bool:
        """Whether statements of different articles on one topic disagree."""
        heads = [g[0] for g in groups]
        return any(a.sentence.doc_id != b.sentence.doc_id and self.same_topic(q, a, b)
                   and disagree(a.sentence.text, b.sentence.text) is not None
                   for i, a in enumerate(heads) for b in heads[i + 1:])

    # -- writing ---------------------------------------------------------------------
    def compose(self, q: Query, hits: list[Hit], budget: int = MAX_ANSWER_CHARS,
                personal: bool = False) -> Composition:
        """Write the answer from the best evidence, at most ``budget`` characters.

        Empty when there is no evidence. When the sentences do not fit, the weakest
        statements are dropped first (the best one always stays). A ``personal`` decision
        ("should I get it?") also quotes the articles' own advice on who should decide.
        """
        groups = self.select(self.evidence(q, hits))
        if not groups:
            return Composition("")
        for pointer in self.pointers_for(q, hits, groups) if personal else []:
            # Only where it fits: the pointer never displaces evidence on the question.
            comp = self._write(q, hits, [list(g) for g in groups] + [[pointer]])
            if len(comp.markdown) <= budget:
                # Advice, not evidence on the question: scope does not weigh it.
                comp.evidence = [e for e in comp.evidence if e is not pointer]
                return comp
        while True:
            comp = self._write(q, hits, [list(g) for g in groups])
            if len(comp.markdown) <= budget or len(groups) == 1:
                return comp
            weakest = min(range(1, len(groups)), key=lambda i: groups[i][0].score)
            groups.pop(weakest)

    def pointers_for(self, q: Query, hits: list[Hit], groups: list[list[Evidence]]) -> list[Evidence]:
        """The article sentences that send this asker to a professional, best first; none when
        the answer already quotes one. The articles' own words, cited, rather than ours."""
        if any(e.idx in self.pointers for g in groups for e in g):
            return []
        rank_of = _ranks(hits)
        out = []
        for i in self.pointers:
            chunk, r = self.cited_from(i, rank_of)
            d, lex, score = self.scorer.parts(q, i)
            out.append(Evidence(i, self.data.sentences[i], chunk, r, d, lex, score))
        return sorted(out, key=lambda e: -e.score)

    def _write(self, q: Query, hits: list[Hit], groups: list[list[Evidence]]) -> Composition:
        hit_by_chunk = {h.chunk.chunk_id: h for h in hits}
        cited: list[Hit] = []
        number: dict[int, int] = {}

        def marker(chunk: Chunk) -> str:
            if chunk.chunk_id not in number:
                # Score 0: a passage quoted only to complete the answer (a qualifying neighbour,
                # a personal answer's pointer to a professional) that was not retrieved.
                cited.append(hit_by_chunk.get(chunk.chunk_id) or Hit(chunk, 0.0, 0.0, 0.0))
                number[chunk.chunk_id] = len(cited)
            return f"[{number[chunk.chunk_id]}]"

        def line(group: list[Evidence]) -> str:
            # The head's own citation (and those of articles saying the same) follow its own
            # sentence; a partner quoted from a neighbouring passage carries that passage's.
            head = group[0]
            parts = []
            for text, chunk in self.quote(head, chosen, hits):
                marks = "".join(marker(e.chunk) for e in group) if chunk is head.chunk else marker(chunk)
                parts.append(f"{text} {marks}")
            return " ".join(parts)

        # A list item already quoted under the line that introduces it is not quoted again.
        listed = {i for g in groups for i in self.item_ids(g[0])}
        evidence = [e for g in groups for e in g]
        groups = [g for g in groups if g[0].idx not in listed]
        # Keep each article's sentences in reading order, articles in order of relevance.
        order: dict[str, int] = {}
        for g in groups:
            order.setdefault(g[0].sentence.doc_id, len(order))
        groups.sort(key=lambda g: (order[g[0].sentence.doc_id], g[0].sentence.start))
        differ = len(order) > 1 and self.differ(q, groups)
        chosen = {e.idx for g in groups for e in g}
        lines: list[str] = []
        if differ:
            # One bullet per article, its sentences in reading order: each article's view once.
            lines.append("The articles differ on this:")
            per_doc: dict[str, list[Evidence]] = {}
            for e in sorted((e for g in groups for e in g), key=lambda e: e.sentence.start):
                per_doc.setdefault(e.sentence.doc_id, []).append(e)
            for doc_id in sorted(per_doc, key=lambda d: order.get(d, len(order))):
                quotes: list[str] = []
                for e in per_doc[doc_id]:
                    items = self.list_items(e, indent="  ")
                    quotes.append(line([e]) + items)
                    if items:  # a list ends its bullet
                        lines.append(f"- *{self.titles[doc_id]}*: " + " ".join(quotes))
                        quotes = []
                if quotes:
                    lines.append(f"- *{self.titles[doc_id]}*: " + " ".join(quotes))
        else:
            for k, g in enumerate(groups):
                text = line(g) + self.list_items(g[0])
                prev = groups[k - 1][0].idx if k else -2
                if prev in self.announces and g[0].idx == prev + 1 and "\n" not in lines[-1]:
                    # Both halves of a pair chosen on their own: one paragraph, and one citation
                    # when both are cited from the same passages, as when the pair is quoted whole.
                    before = groups[k - 1]
                    marks = " " + "".join(f"[{number[e.chunk.chunk_id]}]" for e in before)
                    if [e.chunk.chunk_id for e in before] == [e.chunk.chunk_id for e in g] \
                            and lines[-1].endswith(marks):
                        lines[-1] = lines[-1][: -len(marks)]
                    lines[-1] += " " + text
                else:
                    lines.append(text)
        text = ("\n" if differ else "\n\n").join(lines)
        return Composition(text, cited, evidence, differ)

    def quote(self, e: Evidence, chosen: set[int], hits: list[Hit]) -> list[tuple[str, Chunk]]:
        """The sentence as quoted, with the passage it is cited from, joined with its partner
        when one only announces or qualifies the other (``announcements``): "goes by several
        names" needs the names, "These include …" needs what "these" are, and "scars tend to
        fade" needs "The problem is …". Each sentence is verbatim; a partner from the same
        passage shares its ``[n]``, one from the neighbouring passage gets that one's (cited
        with score 0 when it was not among the retrieved).
        """
        alone = [(_quote(e), e.chunk)]
        first = e.idx if e.idx in self.announces else e.idx - 1 if e.idx - 1 in self.announces else None
        if first is None or ({first, first + 1} - {e.idx}) & chosen:
            return alone
        a, b = self.data.sentences[first], self.data.sentences[first + 1]
        if self.data.documents[a.doc_id].text[a.end:b.start].strip():
            return alone
        partner = first + 1 if first == e.idx else first
        chunk = e.chunk if e.chunk.chunk_id in self.data.sentence_chunks[partner] \
            else self.cited_from(partner, _ranks(hits))[0]
        if chunk is e.chunk:
            return [(f"{_quote_text(a.text)} {_quote_text(b.text)}", e.chunk)]
        a_chunk, b_chunk = (e.chunk, chunk) if partner == first + 1 else (chunk, e.chunk)
        return [(_quote_text(a.text), a_chunk), (_quote_text(b.text), b_chunk)]

    def list_items(self, e: Evidence, indent: str = "") -> str:
        """The bullet items a sentence ending in ':' introduces, from the same passage.

        "Needle depths … depending on the severity of the scarring:" is only useful
        with the list that follows it; the items are quoted verbatim, bullet dropped.
        """
        sentences = self.data.sentences
        return "".join(f"\n{indent}- {sentences[i].text.lstrip().lstrip('•').strip()}"
                       for i in self.item_ids(e))

    def item_ids(self, e: Evidence) -> list[int]:
        """Indices of the list items ``list_items`` quotes after ``e`` (none unless it ends in ':')."""
        if not e.sentence.text.rstrip().endswith(":"):
            return []
        items = []
        for i in range(e.idx + 1, len(self.data.sentences)):
            s = self.data.sentences[i]
            if s.doc_id != e.sentence.doc_id or s.end > e.chunk.end or not s.text.lstrip().startswith("•"):
                break
            items.append(i)
        return items

    def best_in_article(self, q: Query, doc_id: str) -> Evidence | None:
        """The article's best sentence for the question (staff comparison view)."""
        ev = self.evidence(q, [], only_doc=doc_id)
        return ev[0] if ev else None
