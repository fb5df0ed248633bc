"""Query analysis: what a question asks, in the words the articles use.

Normalises the text (case, curly quotes, dashes, markup, the spellings of
"microneedling"), corrects misspellings against the articles' words without ever
"correcting" a real English word, maps lay words onto article words
(``qa/lexicon.py``), notes the words the articles never use, and reads the
question's shape ("how many", "how long", "who should not") for the scorers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .index import IndexData
from .lexicon import build_expansions
from .textnorm import (
    CHAT_FILLERS,
    COMMON_WORDS,
    META_WORDS,
    STOPWORDS,
    SpellCorrector,
    common_english,
    content_words,
    join_compounds,
    keyword_tokens,
    normalize,
    stem,
    strip_markup,
)


@dataclass
class Query:
    """A question as the retriever sees it."""

    raw: str
    text: str  # normalised, misspellings corrected: what the dense encoder sees
    terms: list[str]  # content words after spelling correction
    stems: list[str]
    expansions: list[str] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # content words the corpus never uses
    vector: np.ndarray | None = None  # the dense query vector, once encoded
    focus: set[str] = field(default_factory=set)  # stems of the question itself (not its context)
    quantity: bool = False  # asks how many / how long / how often / how deep ...
    substitutes: set[str] = field(default_factory=set)  # article words standing for unknown ones
    duration: bool = False  # asks how long / how soon: answered by an amount of time
    asked: list[float] | None = None  # per sentence: nearest written question's similarity
    clause_asked: list[float] | None = None  # the same, for the best clause of a long message
    sentence_dense: list[float] | None = None  # per sentence: cosine with ``vector``
    own_text: str = ""  # the question's own words as ``text`` has them, without a follow-up's context
    said: str = ""  # a follow-up's previous answer: lightly searched (what "that" means), not repeated
    said_vector: np.ndarray | None = None
    # (term -> weight, total weight, expansion -> weight): set once by the sentence scorer.
    term_weights: tuple[dict[str, float], float, dict[str, float]] | None = None


class QueryAnalyzer:
    """Turns question text into a ``Query``; one instance per loaded index."""

    def __init__(self, data: IndexData):
        english = [*(w for w in data.encoder.tokenizer.get_vocab() if w.isalpha()), *common_english()]
        # Stopwords are valid targets too, so "actualy" becomes "actually" and is then dropped.
        self.speller = SpellCorrector([*data.vocabulary, *STOPWORDS], dictionary=english)
        self.expansions = build_expansions()
        self.known_stems = {stem(w) for w in data.vocabulary}

    def analyse(self, text: str, context: str | None = None) -> Query:
        """Normalise, correct misspellings and expand a question.

        ``context`` (the previous question, for follow-ups) joins the search but the
        question's own words stay in focus, and only they can be "unknown".
        """
        own = self._terms(text)
        ctx = self._terms(context) if context else ([], {}, "")
        terms, corrections, norm = own
        stems = [stem(w) for w in terms]
        focus = set(stems)
        all_stems = stems + [t for t in (stem(w) for w in ctx[0]) if t not in focus]
        full_norm = f"{ctx[2]} {norm}".strip()
        extra: list[str] = [e for e in intent_expansions(norm) if e not in all_stems]
        unknown: list[str] = []
        for w, s in zip(terms, stems, strict=True):
            exp = self.expansions.get(s, set())
            # A lay word the lexicon maps onto article words is not unknown.
            if s not in self.known_stems and not w.isdigit() and not exp & self.known_stems \
                    and w not in COMMON_WORDS:
                unknown.append(w)
        for s in all_stems:
            for e in sorted(self.expansions.get(s, ())):
                if e not in all_stems and e not in extra:
                    extra.append(e)
        # A lay word the articles never use stands for its article words: those then
        # count in full, not as a mild expansion ("wreck my face" -> risks, safe).
        substitutes = {e for s in all_stems if s not in self.known_stems
                       for e in self.expansions.get(s, ())}
        # The article words a question's shape implies ("how often" -> interval) count in
        # full too: the words that carried that meaning were dropped as stopwords.
        substitutes |= set(intent_expansions(norm))
        # "how many treatments/visits/rounds": the counted word's article words count in full.
        counted = _HOW_MANY.search(norm)
        if counted:
            for w in content_words(counted.group(1)):
                substitutes |= self.expansions.get(stem(w), set())
        return Query(raw=text, text=full_norm, terms=terms + ctx[0], stems=all_stems,
                     expansions=extra, corrections={**ctx[1], **corrections}, unknown=unknown,
                     focus=focus, quantity=bool(_QUANTITY.search(norm)), substitutes=substitutes,
                     duration=bool(_DURATION.search(norm)), own_text=norm)

    def _terms(self, text: str) -> tuple[list[str], dict[str, str], str]:
        """Content words (spelling corrected), the corrections, and the corrected text."""
        norm = join_compounds(normalize(strip_markup(text)))
        corrections: dict[str, str] = {}
        terms: list[str] = []
        for w in content_words(norm):
            if w in META_WORDS or w in CHAT_FILLERS:
                continue
            fixed = self.speller.correct(w)
            if fixed:
                corrections[w] = fixed
                if fixed in STOPWORDS:
                    continue
                w = fixed
            terms.append(w)
        for bad, good in corrections.items():
            norm = re.sub(rf"\b{re.escape(bad)}\b", good, norm)
        return terms, corrections, norm


# A verdict asked about the asker ("should I get it?", "worth it for someone like me?"): answered
# with the articles' criteria for candidates, never a yes or no (``qa.service``).
_ME = r"(?:me|my skin|skin like mine|my face|my scars|(?:someone|somebody|people|a person) like me)"
_PERSONAL = re.compile(
    r"\b(?:should i (?:still |even |just |really )?(?:get|have|do|try|go|book|start|consider|risk|bother|"
    r"postpone|skip)|shall i (?:get|have|do|try|go|book)|"
    r"(?:right|good|ok|okay|safe|suitable|worth it|worthwhile|a good idea|a bad idea|a good option|"
    r"a good choice|a safe bet|an option|the right choice|the right option|too late|too old) "
    r"for " + _ME + r"|"
    r"(?:good|bad) (?:idea|option|choice|fit|bet|candidate) for " + _ME + r"|"
    r"(?:for|on) (?:someone|somebody|people|a person|a guy|a bloke|a woman|a man) like me|"
    r"am i (?:a )?(?:good |suitable |right |decent )?(?:candidate|fit)|am i too old|"
    r"am i (?:ok|okay|fine|safe|allowed) to|"
    r"would (?:it|microneedling|micro-needling|this|that|needling) (?:work|help|suit|be ok|be safe|"
    r"be worth it) (?:for |on )?" + _ME + r"|"
    r"suits? (?:me|my)\b|is (?:it|microneedling|this) for me|worth it for me|right for my|good for my|"
    r"can i (?:still )?(?:get|have|do|go ahead|book|go for) (?:it|this|microneedling|micro-needling|"
    r"needling|treatment|a session|ahead)\b)"
)


def is_personal_decision(question: str) -> bool:
    """Questions that ask for a verdict about the asker ("should I get it?")."""
    return bool(_PERSONAL.search(normalize(question)))


_HOW_MANY = re.compile(r"\bhow many (\w+)")
_DURATION = re.compile(r"\bhow (long|soon)\b|\bwhen (can|will|should|do)\b")
_QUANTITY = re.compile(r"\bhow (many|much|long|often|soon|deep|far|frequently)\b|\bwhat (depth|size|spf)\b"
                       r"|\bwhen (can|will|should|do)\b")
# Question shapes whose meaning lives in words a keyword index drops ("who should
# not ...", "how often ..."): they add the article words that answer that shape.
_INTENTS: list[tuple[re.Pattern[str], list[str]]] = [
    (re.compile(r"\bwho (should|can|could|is|are|shouldn'?t|can'?t|cannot|isn'?t|must)( not)? "
                r"(get|have|undergo|try|use|avoid|be treated|benefit|a good)\b"
                r"|\bwho (is|isn'?t|are|aren'?t) (it )?(for|suitable|eligible)\b"
                r"|\b(right|suitable|good|safe) for (me|my)\b"
                r"|\b(bad|good) idea\b|\bcandidate|" + _PERSONAL.pattern),
     ["candidates", "suitable", "avoid", "conditions", "consult"]),
    (re.compile(r"\bwho (should|can|will|would|is going to|does|is allowed to) "
                r"(do|perform|carry|be the one|administer|treat|needle)"
                r"|\bwho (does|performs|carries out) (it|the|this|microneedling)\b"),
     ["professional", "trained", "qualified", "provider", "experienced"]),
    (re.compile(r"\bhow (often|frequently)\b|\bhow far apart\b|\bhow (long|much time)\b[^?.]{0,40}"
                r"\bbetween\b|\bwait\w* between\b|\binterval"),
     ["interval", "apart", "weeks", "months", "repeat"]),
    (re.compile(r"\b(better|worse|cheaper|safer|gentler) than\b|\b(vs|versus|compared?|comparison|"
                r"difference between|instead of)\b|\bwhich is (better|best|safer)\b"),
     ["comparing", "advantages", "unlike", "compared"]),
    (re.compile(r"^(what (is|are|'s)|whats) (microneedling|micro needling)\??$"
                r"|\bwhat does (microneedling|it) (do|involve)\b"),
     ["procedure", "involves", "minimally", "invasive"]),
    (re.compile(r"\b(also called|other names?|another name|known as|aka)\b"),
     ["names", "referred", "called"]),
    # Where scars come from: "why do spots leave marks", "what causes ...", "how do they form".
    (re.compile(r"\bwhat (causes|caused|makes)\b|\bin the first place\b|\bwhy do(es)? (\w+ ){1,4}"
                r"(leave|form|cause|get|happen|turn into)\b|\bhow do(es)? (\w+ ){1,3}(form|develop)\b"),
     ["caused", "inflammation", "damage", "forms", "lesions"]),
    # Getting back to ordinary life: "back at work the next day", "time off", "hide at home".
    (re.compile(r"\bback (to|at) (work|my|the|normal|school|uni|college|the office)\b|\btime off\b"
                r"|\b(hide|hiding|stay) (at )?(home|indoors|inside)\b|\bsocial(ise|ize|ly)?\b"),
     ["resume", "regular", "activities", "downtime", "recovery"]),
]


def intent_expansions(norm: str) -> list[str]:
    """Keyword stems implied by the question's shape (see ``_INTENTS``)."""
    out: list[str] = []
    for pattern, words_ in _INTENTS:
        if pattern.search(norm):
            for w in words_:
                out.extend(t for t in keyword_tokens(w) if t not in out)
    return out
