"""Is the question covered by the articles? Also: follow-ups and personal decisions.

The decision comes from the evidence and from labelled examples: whether the question
is nearer questions the articles do not answer (qa/data/scope/not_covered.jsonl) or
the questions written for their sentences (corpus/questions/); whether it leans on
words the articles never use that read as topics rather than chat; and whether the
best sentences are close to it at all. Requests that are not questions about the
articles (write code, ignore your instructions, pretend to be a doctor) are out of
scope whatever they mention. Thresholds are calibrated on the tuning splits;
docs/decisions.md has the figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .compose import Composer, Composition, Evidence
from .query import Query
from .retrieval import Retriever
from .schema import Turn
from .scope_data import condition_names, treatment_names
from .textnorm import content_words, normalize, stem, words


@dataclass(frozen=True)
class ScopeThresholds:
    """Calibrated on the dev split (see docs/decisions.md)."""

    # Words the articles never use (and no lexicon entry maps onto article words) are scored
    # for topicality (see ``Scope.topicality``). A question is out of scope when one of them is
    # clearly a topic, or topical ones carry more than max_topical_share of its term weight
    # (idf). On the five tuning splits (321 questions): 94% of out-of-scope questions caught,
    # 1.5% of answerable ones wrongly (docs/decisions.md).
    topical: float = 0.0
    clearly_topical: float = 0.25
    max_topical_share: float = 0.25
    # Nearest examples (``Scope.nearest_margin``): out of scope when the not-covered questions
    # are nearer than the written ones by more than not_covered_margin; the word rules are
    # skipped when the written ones are clearly nearer. Six tuning splits (387 questions):
    # abstention 0.92 -> 0.96, false abstention 0.026 -> 0.022. With the adapted model
    # (session 11) abstention holds from -0.02 to 0.06 and falls from 0.08; 0.04 sits inside
    # that range: false abstention 0.022 -> 0.013. With the passage epoch (session 13) it holds
    # up to 0.10 and false abstention is lowest from 0.08 (docs/decisions.md).
    not_covered_margin: float = 0.08
    covered_margin: float = -0.10
    # Two leanings that agree: the meaning leans towards the not-covered questions (above
    # leaning_margin, short of not_covered_margin) and a word reads as topical (above
    # leaning_topical, short of clearly_topical). Medicine names read 0.19-0.30 on the
    # topicality scale; alone, 0.20 cost real questions (docs/decisions.md, session 16).
    leaning_margin: float = 0.03
    leaning_topical: float = 0.20
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
    # A demand to affirm a claim rather than to hear what the articles say, or to answer
    # without the articles' qualifications.
    r"|\bjust say yes\b|\bsay yes and\b|\bquote (it|this|that) as\b|\b(a |just )?straight yes\b"
    r"|\bjust answer yes\b|\banswer yes so\b"
    r"|\bso (i|we) can (quote|screenshot|cite|show) (you|it|that|this|my|her|him|them)\b"
    r"|\bjust confirm (that|this)\b"
    # ("no caveats:" as an instruction; not "are there really no caveats to it?")
    r"|\b(no|without( any)?) (caveats?|hedging|disclaimers?|qualifications)\s*(please\b|[,:;.!]|$)"
    r"|\b(answer|reply|respond|tell me|give me)\b[^.?!]{0,30}\b(no|without( any)?) (caveats?|hedging|"
    r"disclaimers?|qualifications)\b|\b(skip|drop) the (caveats?|hedging|disclaimers?)\b|\bdon'?t hedge\b"
    # A demand to invent what the articles do not say.
    r"|\bmake (one|it|something|some|them|a (number|figure|stat\w*|percentage)|(a |some )?(numbers?|"
    r"figures?|stat\w*|percentages?)) up\b(?! to\b)|\bmake up (a|an|some|the) (\w+ )?(number|figure|stat\w*|"
    r"percentage|fact|study|source|quote|answer)|\bmade[- ]up (number|figure|stat\w*)"
    r"|\battribute (it|this|that|them) to (the|these|this|those|your) "
    r"(articles?|sources?|stud(y|ies)|research)\b"
    r"|\b(invent|fabricate) (a |an |some |the )?(number|figure|stat\w*|percentage|fact|study|studies|source|"
    r"quote|answer|one|something)|\bplausible (number|figure|stat\w*|percentage)"
    r"|\b(go|answer|reach) (beyond|outside) (the|your) (articles?|sources?|instructions|rules)\b"
    # Invented endorsements, and demands to agree rather than to hear what the articles say.
    r"|\btestimonials?\b"
    r"|\b(?:(?:\d|five|four)[- ]?stars?|glowing|fake|google|yelp|trustpilot)(?: \w+){0,2} reviews?\b"
    r"|\bjust guarantee\b|^\s*guarantee (?:me|that|my|it)\b"
    # A demand for a word rather than for what the articles say ("say the word guaranteed",
    # "tell me it's 100% guaranteed"); "tell me if results are guaranteed" asks.
    r"|\bsay the words?\b|\bsay ['\"‘“]\w|\btell me (?!if\b|whether\b)[^.?!]{0,40}\bguaranteed?\b"
    r"|\byes or no only\b|\b(?:only|just) (?:a )?yes or no\b"
    r"|\b(?:don'?t|dont|do not) (?:tell me to|say) (?:see|ask|consult|talk to|speak to|go to)\b"
    r"|\bagree with me\b|\btell me (?:that )?(?:the articles|they|the research|the studies) (?:say|says|said|"
    r"back) (?:so|that|it)\b|\bjust say\b(?! (?:what|how|whether|if|which|when|why|where|who)\b)"
)
# An order to state an absolute claim ("just confirm that it permanently removes 100% of scars",
# "reply yes: it removes all acne scars"), whatever verb gives the order; "tell me if it is
# guaranteed" asks. No answerable question of the tuning splits or written questions reads so.
_AFFIRM = re.compile(
    # (not after "can you" or "please" mid-sentence: "can you confirm it's totally safe?" asks)
    r"(?:^|[.!?:;,]\s*|\b(?:just|now|so|and|then)\s+)(?:please\s+)?"
    r"(?:say|state|confirm|tell (?:me|us|them|everyone|people|clients|patients|my \w+)|reply|answer|respond|"
    r"write|declare|promise|guarantee|repeat|agree|admit|assure (?:me|us)|put it in writing)\b"
    r"(?!\s+(?:if|whether|how|what|which|when|why|where|who|me if|me whether|me how|me what)\b)"
    r"[^?]{0,100}\b(?:100 ?%|guaranteed?|permanent(?:ly)?|forever|for good|completely|totally|fully|entirely|"
    r"all (?:acne |my |the |of (?:the |my )?)?scars|every (?:single )?scar|zero (?:risk|downtime|side)|"
    r"no risks?|risk[- ]free|cures?|cured)\b"
    r"|\bauthori[sz](?:e|ing|ed) you\b|\byou(?:'re| are) (?:now )?authori[sz]ed\b")
# "it" is not among these: in a chat about one treatment it nearly always means the treatment
# ("does it hurt?"), and reading it as a reference sent self-contained questions to the previous
# topic (docs/decisions.md, *Follow-ups*).
_REFERS_BACK = re.compile(
    r"^(and|but|so|also|what about|how about|why|why not|then|ok|okay)\b"
    # "right, and ...", "yeah but ...": an acknowledgement, then a turn that builds on it; a
    # closing "though?" contrasts with what was just said.
    r"|^(right|yeah|yep|yes|cool|great|thanks|hmm|well|sure|alright|fair enough)\W+(and|but|so|then)\b"
    r"|\bthough\W*$"
    r"|\b(they|them|their|that|this|those|these|ones|both|same|else|other|others)\b"
)
_GENERIC_TERMS = {"microneedling", "treatment", "procedure", "article", "articles", "acne", "scar",
                  "scars", "skin", "question", "answer"}


# A clause asks when it opens with a question word (an auxiliary "do" has a subject after it: "do
# it myself" does not ask) or says "whether"; a sentence ending in "?" with nobody in it ("botox and
# needling same day ok?") asks as a whole. A clause about the asker ("I did accutane years ago",
# "had botox last year") is background, not what is asked.
_CLAUSES = re.compile(r"[,;:]|\b(?:and|but|so|then|because|now)\b")
_ASKS = re.compile(r"^\s*(?:(?:ok|okay|so|and|also|just|exactly|roughly|honestly|seriously|hey|hi|like)\s+)*"
                   r"(?:how|what|whats|what's|when|which|who|why|where|is|are|can|could|would|will|"
                   r"do(?:es)?(?!\s+(?:it|this|that|them|so|myself|yourself)\b)|should|shall|may|any|"
                   # "did" asks with a subject after it ("did it work?"), not "did accutane years ago"
                   r"did(?=\s+(?:i|you|u|it|they|he|she|we|the|my|your|this|that|anyone|people)\b))\b"
                   r"|\b(?:whether|wondering if|wonder if)\b")
_ALTERNATIVE = re.compile(r"\b(?:instead of|rather than)\b.*")
_PAST = r"(?:had|did|got|tried|finished|stopped|quit|took|used to|went|been)\b"
_TOLD = re.compile(r"^\s*" + _PAST)
# A clause that tells the asker's past ("did accutane years ago", "I took doxycycline as a teen").
_HISTORY = re.compile(r"^\s*(?:i\s+|i've\s+|ive\s+)?" + _PAST
                      + r"|\b(?:ago|last year|years back|in the past|as a teen(?:ager)?)\b")
_PERSON = re.compile(r"\b(?:i|i'm|im|i've|ive|i'd|id|my|me|we|our)\b")
# Taking a medicine now makes the question about it ("I'm on Roaccutane at the moment, can I book
# in?"): whether it is safe alongside is what the articles would have to say.
_TAKING_NOW = re.compile(r"\b(?:i'?m|im|i am|currently|still|been|i'?ve been|ive been)\s+"
                         r"(?:on|taking|using)\b|\b(?:i|we)\s+(?:take|use)\b"
                         r"|\b(?:at the moment|right now|currently)\b")


def asked_words(question: str, candidates: set[str], taking_now: bool = False) -> set[str]:
    """The ``candidates`` (words as ``textnorm.words`` reads them) that the question asks about:
    in a clause that asks, or in a "?" sentence with nobody in it; with ``taking_now``, also in a
    clause that says the asker takes it now."""
    asked: set[str] = set()
    for sentence in re.split(r"(?<=[.?!])\s+|\n", normalize(question)):
        found = candidates & set(words(sentence))
        if not found:
            continue
        if sentence.rstrip().endswith("?") and not _PERSON.search(sentence):
            # Except a clause that tells history without its "I": "had botox last year, how long ...?"
            asked |= candidates & set(words(" ".join(c for c in _CLAUSES.split(sentence)
                                                     if not _TOLD.search(c))))
            continue
        for clause in _CLAUSES.split(sentence):
            if _ASKS.search(clause) or (taking_now and _TAKING_NOW.search(clause)):
                # What comes after "instead of" is the alternative, not what is asked about.
                asked |= candidates & set(words(_ALTERNATIVE.sub("", clause)))
    return asked


@lru_cache(maxsize=4)
def _stems(names: frozenset[str]) -> frozenset[str]:
    """The stems of a listed word set, once per set rather than once per question."""
    return frozenset(stem(n) for n in names)


def _listed(unknown: list[str], names: frozenset[str]) -> set[str]:
    """The question's words that are listed names, by stem too ("exosome" is found as "exosomes"
    is listed)."""
    stems = _stems(names)
    return {w for w in unknown if w in names or stem(w) in stems}


def asks_about_a_name(question: str, unknown: list[str], names: frozenset[str]) -> str | None:
    """A listed medicine, procedure or body area (``names``) the articles never use, when the question
    asks about it ("how many sessions of co2 laser", "how is subcision done"); None when no
    such name is asked about, or it only tells the asker's history ("I did accutane years ago,
    would microneedling help?")."""
    return min(asked_words(question, _listed(unknown, names), taking_now=True), default=None)


# Asking for a waiting time: "how long do I have to wait", "how long should I leave it before",
# "what's the wait after", "how soon after stopping".
_WAIT = re.compile(
    r"\bhow (?:long|soon|many (?:days|weeks|months))\b[^.?!]{0,50}\b(?:wait|leave it|hold off|pause|gap)\b"
    r"|\b(?:gap|wait|break) after\b"
    r"|\bhow (?:long|soon) after (?:finishing|stopping|coming off|quitting|i (?:finish|stop|come off))\b")
# The wait between sessions, which the articles give.
_BETWEEN_SESSIONS = re.compile(r"\bbetween (?:each |the |my |your |two )?(?:micro-?needling |needling )?"
                               r"(?:sessions?|treatments?|appointments?|ones?|goes)\b")


def asks_a_wait_after_a_name(question: str, unknown: list[str], names: frozenset[str]) -> bool:
    """A waiting time around a listed medicine or procedure the articles never name, even one
    told as the asker's history ("finished roaccutane last month, how long do I have to wait
    before microneedling?"): the wait is about the name, and the articles give none."""
    text = normalize(question)
    return bool(_listed(unknown, names)) and bool(_WAIT.search(text)) and not _BETWEEN_SESSIONS.search(text)


def names_a_condition(unknown: list[str], conditions: frozenset[str]) -> str | None:
    """A listed medical condition the articles never mention (``conditions``), named anywhere in
    the question: whether it changes anything is what the articles would have to say."""
    return min((w for w in unknown if w in conditions), default=None)


def followup_context(question: str, history: list[Turn]) -> str | None:
    """The earlier question a follow-up leans on, or None for a self-contained question.

    A short question (at most two words that are not the topic's own), or one that refers
    back ("how long do they last?", "and for deeper ones?"), is searched together with the
    previous user turn.
    """
    prev = next((t.content for t in reversed(history) if t.role == "user" and t.content.strip()),
                None)
    if not prev:
        return None
    norm = normalize(question)
    key = [w for w in content_words(norm) if w not in _GENERIC_TERMS]
    if len(key) <= 2 or _REFERS_BACK.search(norm):
        return prev
    return None


# A price asked without a money word: "how much is one session usually?", "how much are the
# treatments roughly", "how much per session?". Not "how much is the downtime" or "how much does it hurt".
_PRICE = re.compile(
    r"\bhow much (?:is|are|'s|s|would|will) (?:a |one |each |per |the |your |a single )?(?:session|sessions|"
    r"treatment|treatments|appointment|appointments|course|package|microneedling|micro-needling|needling|"
    r"it|this|that|one)(?: (?:usually|roughly|typically|normally|generally|on average|approximately|approx|"
    r"ballpark|then|for (?:one|a|the|my|me|acne|scars|face)\b[^?.!,]*))*\s*(?:[?.!,]|$)"
    # "how much per session?", "how much for one treatment roughly"
    r"|\bhow much (?:per|a|for (?:a|one|each|the|a single)) "
    r"(?:session|treatment|appointment|course|package)s?(?: \w+)?\s*(?:[?.!,]|$)")


# An amount of a kind that only a figure answers: a percentage, a success rate, a concentration, a
# dosage. ("what dose" is left out: it is a common typo of "what does".)
_ASKS_A_RATE = re.compile(
    r"\bwhat (?:\w+ ){0,3}(?:percentage|percent|per cent|proportion|concentration|dosage)\b|\bwhat %"
    r"|\bhow many (?:percent|per cent|mg|milligrams?)\b|\b(?:success|satisfaction|cure) rates?\b")
_STATES_A_RATE = re.compile(r"\d\s*%|\bper ?cent\b|\bpercentage\b|\d\s*(?:mg|ml)\b|\bconcentration\b")


def asks_a_rate(question: str, evidence: list[str]) -> bool:
    """Whether the question asks for a percentage, rate, concentration or dosage and none of the
    ``evidence`` passages states one (these articles never do)."""
    return bool(_ASKS_A_RATE.search(normalize(question))) and not any(
        _STATES_A_RATE.search(text.lower()) for text in evidence)


# An amount (sessions, days, depth, how often ...) asked about another procedure the articles only
# name ("how many days of downtime does fraxel laser have"): they give amounts for microneedling
# alone. Comparing the two ("shorter than laser?") is what they do discuss. Asked of the other
# procedure in so many words ("what strength glycolic peel"), mentioning microneedling too does
# not make it about microneedling.
_AMOUNT = re.compile(r"\bhow (?:many|long|much|often|soon|deep|far apart)\b"
                     r"|\bwhat (?:depth|strength|settings?)\b")
_OTHER_PROCEDURE = re.compile(r"\b(?:lasers?|fraxel|ipl|(?:chemical )?peels?|prp|resurfacing)\b")
_AMOUNT_OF_OTHER = re.compile(r"\bwhat (?:depth|strength|settings?|concentration)(?: \w+){0,2} "
                              r"(?:lasers?|fraxel|ipl|peels?|prp)\b")
_OURS = re.compile(r"\b(?:microneedl\w*|needl\w*|alongside|with (?:it|this|microneedling))\b")
_COMPARED = re.compile(r"\b(?:than|compared?|comparison|vs|versus|instead|unlike|difference|better|worse)\b")


def asks_another_procedures_amount(question: str) -> bool:
    """Whether a clause asks an amount about another procedure and not about microneedling."""
    for clause in _CLAUSES.split(normalize(question)):
        if _AMOUNT.search(clause) and _OTHER_PROCEDURE.search(clause) \
                and not _OURS.search(clause) and not _COMPARED.search(clause):
            return True
        if _AMOUNT_OF_OTHER.search(clause) and not _COMPARED.search(clause):
            return True
    return False


def asks_a_price(question: str) -> bool:
    """Whether the question asks what the treatment costs (the articles never give prices)."""
    return bool(_PRICE.search(normalize(question)))


def is_task_request(question: str) -> bool:
    """Instructions, role-play or code requests rather than a question about the articles."""
    norm = normalize(question)
    return bool(_TASK_REQUEST.search(norm) or _AFFIRM.search(norm))


# What a question can be about that the articles never discuss (the issue's own list: other
# medicines, conditions, body areas, pregnancy, costs, products, places) against what the
# everyday words of a chatty question are. An unknown word is "topical" when the embedding
# model places it nearer the first list than the second: zero-shot, no list of questions.
MONEY = "money, price, cost or insurance"
TOPICAL = ("a medicine or drug", "a prescription medication", "a disease or medical condition",
           "a skin disease", "a part of the human body", "a cosmetic procedure",
           "pregnancy or breastfeeding", MONEY, "a brand or product name",
           "a city or place", "food or drink", "a supplement or vitamin", "a device or machine")
EVERYDAY = ("an ordinary everyday word", "a feeling or emotion", "a day of the week or a time",
            "an action verb", "an adjective describing something", "casual slang",
            "a misspelled word", "a person or relative", "a work or office word")
NAMES_UNCOVERED = "names something the articles never mention"  # a Verdict reason, reached two ways
MAX_SCORED_WORDS = 24  # unknown words classified per question (an essay has many)
NEIGHBOURS = 3  # nearest listed words averaged per list (one near-duplicate is not enough)


def _nearest_mean(vecs: np.ndarray, listed: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Each vector's mean similarity to its ``k`` nearest listed vectors."""
    sims = vecs @ listed.T
    k = min(k, sims.shape[1])
    return np.partition(sims, -k, axis=1)[:, -k:].mean(1)


class Scope:
    """Decides whether the retrieved evidence answers the question."""

    def __init__(self, retriever: Retriever, composer: Composer,
                 thresholds: ScopeThresholds | None = None):
        self.retriever = retriever
        self.composer = composer
        self.t = thresholds or ScopeThresholds()
        encoder = retriever.data.encoder
        self._topical = encoder.encode(list(TOPICAL))
        self._everyday = encoder.encode(list(EVERYDAY))
        ref = retriever.data.scope_vectors
        self._topical_words = ref.get("topical")
        self._everyday_words = ref.get("everyday")
        # Questions the articles do not answer, against the questions written for their
        # sentences: the nearer side says whether the question is one the articles answer.
        self._not_covered = ref.get("not_covered")
        # Each question once: one asked about a quote of two sentences (or asked in two tuning
        # splits' gold) has a row per sentence, and three copies of one near question are not
        # three neighbours.
        written = retriever.data.question_vectors
        self._written = np.unique(written, axis=0) if len(written) else written
        self.names = treatment_names()
        self.conditions = condition_names()

    def topicality(self, q: Query) -> dict[str, float]:
        """For each unknown word: how much nearer topics the articles never cover it is than
        everyday words (above 0: topical).

        Two readings are averaged: against the category descriptions above (zero-shot, so
        any word has a reading) and against the nearest words of the labelled lists
        (qa/data/scope/, sharper for the many words near a listed one). On the tuning splits
        the average caught more out-of-scope questions, with fewer false abstentions, than
        either alone (docs/decisions.md).
        """
        return self._read(q)[0]

    def _read(self, q: Query) -> tuple[dict[str, float], set[str]]:
        """``topicality``, and the unknown words whose nearest topic is money."""
        words = list(dict.fromkeys(q.unknown))[:MAX_SCORED_WORDS]
        if not words:
            return {}, set()
        encoder = self.retriever.data.encoder
        # Through the query cache: the same chat words ("honestly", "desk") recur across questions.
        vecs = getattr(encoder, "encode_cached", encoder.encode)(words)
        topical = vecs @ self._topical.T
        scores = topical.max(1) - (vecs @ self._everyday.T).max(1)
        if self._topical_words is not None and self._everyday_words is not None:
            scores = (scores + _nearest_mean(vecs, self._topical_words)
                      - _nearest_mean(vecs, self._everyday_words)) / 2
        money = {w for w, i in zip(words, topical.argmax(1), strict=True) if TOPICAL[i] == MONEY}
        return {w: float(x) for w, x in zip(words, scores, strict=True)}, money

    def topic_features(self, q: Query) -> dict[str, float]:
        """How much of the question leans on topics the articles never use (once per question).

        A money word counts only when the question asks about it ("is there a payment plan?"):
        told as the asker's situation ("paid a fortune for laser", "am I wasting my money") it
        is background, and price questions are read by their meaning (``nearest_margin``) and
        shape (``asks_a_price``) too (docs/decisions.md)."""
        weights = {t: self.composer.term_weight(t) for t in set(q.stems)}
        total = sum(weights.values()) or 1.0
        scores, money = self._read(q)
        background = money - asked_words(q.raw, money)
        scores = {w: x for w, x in scores.items() if w not in background}
        return {
            "topical_share": sum(weights.get(stem(w), 0.0) for w, x in scores.items()
                                 if x > self.t.topical) / total,
            "strongest_topic": max(scores.values(), default=-1.0),
        }

    def nearest_margin(self, q: Query, background: set[str] | frozenset[str] = frozenset()) -> float | None:
        """How much nearer the question is to questions the articles do not answer than to
        questions written for their sentences (mean of the 3 nearest of each); ``None`` without
        both kinds of example. Only the question's own words count, not a follow-up's context,
        and not the clauses that tell the past with a ``background`` word ("did accutane years
        ago. how long between sessions?" is compared as its question)."""
        if self._not_covered is None or not len(self._not_covered) or not len(self._written):
            return None
        text = q.own_text or q.text or q.raw
        if background:
            kept = [c for c in re.split(r"(?<=[.?!])\s+|\n|[,;:]", normalize(text))
                    if c.strip() and not (background & set(words(c)) and _HISTORY.search(c))]
            text = " ".join(kept) or text
        # Usually the vector retrieval already encoded (same text, through the query cache).
        encoder = self.retriever.data.encoder
        vec = getattr(encoder, "encode_cached", encoder.encode)([text])[0]
        return float(_nearest_mean(vec[None, :], self._not_covered)[0]
                     - _nearest_mean(vec[None, :], self._written)[0])

    def off_topic_reason(self, topic: dict[str, float]) -> str | None:
        """Why the question is about something the articles never discuss, or None."""
        if topic["strongest_topic"] > self.t.clearly_topical:
            return NAMES_UNCOVERED
        if topic["topical_share"] > self.t.max_topical_share:
            return "key terms the articles never use"
        return None

    def judge(self, question: str, q: Query, comp: Composition) -> Verdict:
        """Covered, or not, with the reason and the features behind it."""
        best = comp.evidence[0] if comp.evidence else None
        topic = self.topic_features(q)
        # The answer's strongest sentence on each measure: the top-scored one can win on a
        # prior or a stray shared word while the next one is the real match.
        f = {**topic, "dense": max((e.dense for e in comp.evidence), default=0.0),
             "lexical": max((e.lexical for e in comp.evidence), default=0.0)}
        if is_task_request(question):
            return Verdict(False, "not a question about the articles", f)
        if best is None:
            return Verdict(False, "no evidence", f)
        if asks_about_a_name(question, q.unknown, self.names) \
                or names_a_condition(q.unknown, self.conditions) \
                or asks_a_wait_after_a_name(question, q.unknown, self.names):
            return Verdict(False, NAMES_UNCOVERED, f)
        if asks_a_price(question):
            return Verdict(False, "asks a price", f)
        if asks_another_procedures_amount(question):
            return Verdict(False, "asks about another procedure", f)
        if asks_a_rate(question, [e.chunk.text for e in comp.evidence]):
            return Verdict(False, "asks a figure the articles never give", f)
        # A listed name left here is background (asked about, it was out of scope above).
        margin = self.nearest_margin(q, _listed(q.unknown, self.names))
        if margin is not None:
            f["nearest_margin"] = margin
            if margin > self.t.not_covered_margin:
                return Verdict(False, "like questions the articles do not answer", f)
            if margin > self.t.leaning_margin and topic["strongest_topic"] > self.t.leaning_topical:
                return Verdict(False, NAMES_UNCOVERED, f)
        # Clearly like the questions the articles answer: a word the articles never use is
        # then a detail of the asker's situation, not the topic.
        reason = None if margin is not None and margin < self.t.covered_margin \
            else self.off_topic_reason(topic)
        if reason:
            return Verdict(False, reason, f)
        if f["dense"] < self.t.min_dense and f["lexical"] < self.t.min_lexical:
            return Verdict(False, "weak evidence", f)
        return Verdict(True, "evidence", f)

    def relevant(self, comp: Composition) -> bool:
        """Evidence good enough to show beside an urgent warning (unknown words allowed)."""
        best = comp.evidence[0] if comp.evidence else None
        return best is not None and best.lexical >= self.t.min_lexical and best.dense >= self.t.min_dense

    def sentence_covers(self, ev: Evidence) -> bool:
        """Whether one article's best sentence is on an in-scope question's topic (staff view)."""
        return ev.lexical >= self.t.article_lexical_alone or (
            ev.dense >= self.t.article_dense and ev.lexical >= self.t.article_lexical)
